/* fsutil.c — atomic writes (temp name, flush, fsync, rename), mkdir -p, file digests,
 * temporary run folders and the run-folder lock. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "digest.h"

/* What fsutil adds to a path it is given: a file's path is a folder of up to DT_PATH_MAX bytes
 * and a name ("/checkpoint-000000038.h5"), and a write in progress adds ".<pid>.tmp". */
#define NAME_MARGIN 64

/* Every failed write, flush, close or rename of a file detrain writes ends here: one line
 * with the file, the operation and the OS's reason, DT_WRITE (exit 1). */
static dt_status write_failed(dt_error *err, const char *path, const char *operation, int error) {
    return dt_fail(err, DT_WRITE, "%s: %s failed: %s", path, operation, strerror(error));
}

dt_status dt_path_check(const char *path, size_t size, dt_error *err) {
    const size_t len = strlen(path);
    if (len < size) return DT_OK;
    return dt_fail(err, DT_USAGE, "%.200s%s: the path is too long (%zu bytes, at most %zu)", path,
                   len > 200 ? "..." : "", len, size - 1);
}

dt_status dt_path_join(char *out, size_t size, const char *dir, const char *name, dt_error *err) {
    const int len = snprintf(out, size, "%s/%s", dir, name);
    if (len >= 0 && (size_t)len < size) return DT_OK;
    out[0] = '\0';
    return dt_fail(err, DT_USAGE, "%.200s%s/%s: the path is too long (%d bytes, at most %zu)", dir,
                   strlen(dir) > 200 ? "..." : "", name, len, size - 1);
}

/* fsyncs the directory holding path, so that the rename itself survives a crash. path fits:
 * dt_write_file_atomic checked it. */
static dt_status sync_parent_dir(const char *path, dt_error *err) {
    char copy[DT_PATH_MAX + NAME_MARGIN];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return write_failed(err, dir, "opening the folder to flush it", errno);
    if (fsync(fd) != 0) {
        const int e = errno;
        close(fd);
        return write_failed(err, dir, "flushing the folder (fsync)", e);
    }
    if (close(fd) != 0) return write_failed(err, dir, "closing the folder", errno);
    return DT_OK;
}

/* Renames a flushed tmp over path and flushes the folder; removes tmp when the rename fails. */
static dt_status rename_into_place(const char *tmp, const char *path, dt_error *err) {
    if (rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return write_failed(err, path, "renaming the temporary file into place", e);
    }
    return sync_parent_dir(path, err);
}

/* The temporary file being written now, for a signal handler that ends the process at once
 * (dt_write_in_progress). The path is complete before the flag says so. */
static char in_progress[DT_PATH_MAX + NAME_MARGIN];
static volatile sig_atomic_t writing = 0;

const char *dt_write_in_progress(void) { return writing ? in_progress : NULL; }

/* The write itself: data into tmp, flushed, renamed over path. */
static dt_status write_atomic(const char *tmp, const char *path, const void *data, size_t size, mode_t mode,
                              dt_error *err) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return write_failed(err, tmp, "creating", errno);
    if ((mode & 077) == 0 && fchmod(fd, mode) != 0) { /* private: also when a stale temporary file was there */
        const int e = errno;
        close(fd);
        unlink(tmp);
        return write_failed(err, tmp, "making it private (fchmod)", e);
    }
    const char *p = data;
    size_t left = size;
    const char *operation = NULL;
    int error = 0;
    while (left > 0 && !operation) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) operation = "writing", error = n < 0 ? errno : EIO;
        else p += n, left -= (size_t)n;
    }
    if (!operation && fsync(fd) != 0) operation = "flushing (fsync)", error = errno;
    /* the descriptor is closed on every path; a failed close can lose written data too */
    if (close(fd) != 0 && !operation) operation = "closing", error = errno;
    if (operation) {
        unlink(tmp);
        return write_failed(err, tmp, operation, error);
    }
    return rename_into_place(tmp, path, err);
}

dt_status dt_write_file_atomic(const char *path, const void *data, size_t size, dt_error *err) {
    return dt_write_file_atomic_mode(path, data, size, 0644, err);
}

dt_status dt_write_file_atomic_mode(const char *path, const void *data, size_t size, unsigned mode, dt_error *err) {
    /* The process id in the temporary name: two processes writing one file (the registry's
     * stored objects) never write into each other's temporary file. */
    char tmp[sizeof in_progress];
    const dt_status fits = dt_path_check(path, sizeof tmp - 24, err); /* room for ".<pid>.tmp": 19 digits at most */
    if (fits != DT_OK) return fits;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    memcpy(in_progress, tmp, sizeof in_progress);
    writing = 1;
    const dt_status status = write_atomic(tmp, path, data, size, (mode_t)mode, err);
    writing = 0;
    return status;
}

dt_status dt_check_output_file(const char *output, dt_error *err) {
    if (!output[0]) return dt_fail(err, DT_USAGE, "the output file name is empty");
    struct stat st;
    if (stat(output, &st) == 0 && S_ISDIR(st.st_mode)) return dt_fail(err, DT_IO, "%s: is a folder, not a file", output);
    char copy[DT_PATH_MAX];
    const dt_status fits = dt_path_check(output, sizeof copy, err);
    if (fits != DT_OK) return fits;
    memcpy(copy, output, strlen(output) + 1);
    const char *dir = dirname(copy);
    if (stat(dir, &st) != 0) return dt_fail(err, DT_IO, "%s: cannot write: folder %s: %s", output, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return dt_fail(err, DT_IO, "%s: cannot write: %s is not a folder", output, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return dt_fail(err, DT_IO, "%s: cannot write into folder %s: %s", output, dir, strerror(errno));
    return DT_OK;
}

dt_status dt_mkdirs(const char *path, dt_error *err) {
    char buf[DT_PATH_MAX + NAME_MARGIN];
    const dt_status fits = dt_path_check(path, sizeof buf, err);
    if (fits != DT_OK) return fits;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return write_failed(err, buf, "creating the folder", errno);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return write_failed(err, buf, "creating the folder", errno);
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return dt_fail(err, DT_IO, "%s: not a directory", buf);
    return DT_OK;
}

int dt_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int64_t dt_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

dt_status dt_file_sha256(const char *path, char hex[65], dt_error *err) {
    FILE *file = fopen(path, "rb");
    if (!file) return dt_fail(err, DT_IO, "%s: cannot open: %s", path, strerror(errno));
    dt_sha256 *ctx = dt_sha256_begin();
    if (!ctx) {
        fclose(file);
        return dt_fail(err, DT_NOMEM, "%s: out of memory hashing the file", path);
    }
    unsigned char buffer[1 << 16];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) dt_sha256_update(ctx, buffer, n);
    int failed = ferror(file);
    fclose(file);
    dt_sha256_end(ctx, hex);
    if (failed) return dt_fail(err, DT_IO, "%s: read error while hashing", path);
    return DT_OK;
}

/* DT_IO: path holds more than max_bytes, said in MiB when it is a whole number of them. */
static dt_status too_large(const char *path, size_t max_bytes, dt_error *err) {
    if (max_bytes % (1u << 20) == 0)
        return dt_fail(err, DT_IO, "%s: cannot read: larger than %zu MiB", path, max_bytes >> 20);
    return dt_fail(err, DT_IO, "%s: cannot read: larger than %zu bytes", path, max_bytes);
}

dt_status dt_read_stream(FILE *file, const char *path, size_t max_bytes, char **bytes, size_t *size, dt_error *err) {
    *bytes = NULL;
    struct stat info;
    size_t capacity = 1 << 16, used = 0;
    /* Room for the whole file, its NUL and one more byte, so the read that finds the end is
     * short and the buffer never grows for a regular file. */
    if (fstat(fileno(file), &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
        if (max_bytes && (uint64_t)info.st_size > max_bytes) return too_large(path, max_bytes, err);
        capacity = (size_t)info.st_size + 2;
    }
    char *buffer = malloc(capacity);
    errno = 0; /* what a failed fread leaves here is its reason */
    while (buffer) {
        used += fread(buffer + used, 1, capacity - 1 - used, file);
        if (used + 1 < capacity || (max_bytes && used > max_bytes)) break; /* a short read: the end or an error */
        char *bigger = capacity * 2 > capacity ? realloc(buffer, capacity * 2) : NULL;
        if (!bigger) free(buffer);
        buffer = bigger;
        capacity *= 2;
    }
    if (!buffer) return dt_fail(err, DT_NOMEM, "%s: out of memory reading the file", path);
    if (ferror(file)) {
        const int why = errno ? errno : EIO;
        free(buffer);
        return dt_fail(err, DT_IO, "%s: cannot read: %s", path, strerror(why));
    }
    if (max_bytes && used > max_bytes) {
        free(buffer);
        return too_large(path, max_bytes, err);
    }
    buffer[used] = '\0';
    *bytes = buffer;
    if (size) *size = used;
    return DT_OK;
}

dt_status dt_read_text(const char *path, char **text, size_t *size, dt_error *err) {
    *text = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) return dt_fail(err, DT_IO, "%s: cannot read: %s", path, strerror(errno));
    const dt_status status = dt_read_stream(file, path, 0, text, size, err);
    fclose(file);
    return status;
}

/* The temporary folders this process made and has not removed: what dt_remove_temp_dirs_now
 * removes when a signal ends the process. A slot's path is complete before its flag is set. */
#define MAX_TEMP_DIRS 8
static char temp_dirs[MAX_TEMP_DIRS][DT_PATH_MAX];
static volatile sig_atomic_t temp_dir_live[MAX_TEMP_DIRS];

dt_status dt_make_temp_dir(const char *prefix, char *out, size_t size, dt_error *err) {
    const char *base = getenv("TMPDIR");
    if (!base || !base[0]) base = "/tmp";
    int n = snprintf(out, size, "%s/%sXXXXXX", base, prefix);
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof temp_dirs[0])
        return dt_fail(err, DT_IO, "%s: temporary folder name too long", base);
    int slot = 0;
    while (slot < MAX_TEMP_DIRS && temp_dir_live[slot]) slot++;
    if (slot == MAX_TEMP_DIRS) return dt_fail(err, DT_INTERNAL, "more than %d temporary folders at once", MAX_TEMP_DIRS);
    if (!mkdtemp(out)) return dt_fail(err, DT_IO, "%s: cannot create a temporary folder: %s", base, strerror(errno));
    memcpy(temp_dirs[slot], out, (size_t)n + 1);
    temp_dir_live[slot] = 1;
    return DT_OK;
}

void dt_remove_temp_dirs_now(void) {
    for (int slot = 0; slot < MAX_TEMP_DIRS; slot++) {
        if (!temp_dir_live[slot]) continue;
        const int dir = open(temp_dirs[slot], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char buffer[4096]; /* getdents64 records, not a path */
        long n;
        /* getdents64 rather than readdir: only system calls are safe in a signal handler */
        while (dir >= 0 && (n = syscall(SYS_getdents64, dir, buffer, sizeof buffer)) > 0)
            for (long at = 0; at < n;) {
                const struct linux_dirent64 {
                    uint64_t ino;
                    int64_t off;
                    unsigned short reclen;
                    unsigned char type;
                    char name[];
                } *entry = (const void *)(buffer + at);
                if (strcmp(entry->name, ".") && strcmp(entry->name, "..")) unlinkat(dir, entry->name, 0);
                at += entry->reclen;
            }
        if (dir >= 0) close(dir);
        rmdir(temp_dirs[slot]);
        temp_dir_live[slot] = 0;
    }
}

int dt_remove_run_dir(const char *dir) {
    for (int slot = 0; slot < MAX_TEMP_DIRS; slot++)
        if (temp_dir_live[slot] && !strcmp(temp_dirs[slot], dir)) temp_dir_live[slot] = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *entry;
        while ((entry = readdir(d)) != NULL) /* by name inside the folder: no path to build, none cut */
            if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")) unlinkat(dirfd(d), entry->d_name, 0);
        closedir(d);
    }
    return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}

int dt_dir_locked(const char *dir) {
    char path[DT_PATH_MAX + NAME_MARGIN];
    if (dt_path_join(path, sizeof path, dir, ".lock", NULL) != DT_OK) return 0; /* no lock file there */
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    const int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* gives back the probe's lock, if it got one */
    return held;
}

dt_status dt_lock_dir(const char *dir, int *fd, dt_error *err) {
    char path[DT_PATH_MAX + NAME_MARGIN];
    *fd = -1;
    const dt_status fits = dt_path_join(path, sizeof path, dir, ".lock", err);
    if (fits != DT_OK) return fits;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) return write_failed(err, path, "creating the run lock", errno);
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return dt_fail(err, DT_USAGE, "%s: another detrain process is using this run folder", dir);
        return dt_fail(err, DT_IO, "%s: cannot lock: %s", path, strerror(e));
    }
    /* The lock holder owns the folder's temporary files: any left are a killed writer's. */
    DIR *d = opendir(dir);
    for (struct dirent *entry; d && (entry = readdir(d));) {
        const size_t len = strlen(entry->d_name);
        if (len > 4 && !strcmp(entry->d_name + len - 4, ".tmp")) unlinkat(dirfd(d), entry->d_name, 0);
    }
    if (d) closedir(d);
    return DT_OK;
}

void dt_unlock_dir(int fd) {
    if (fd >= 0) close(fd);
}
