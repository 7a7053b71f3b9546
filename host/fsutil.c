/* fsutil.c — atomic writes (temp name, flush, fsync, rename), mkdir -p, file digests,
 * temporary run folders and the run-folder lock. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"

/* fsyncs the directory holding path so the rename itself is durable. */
static void sync_parent_dir(const char *path) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Renames a flushed tmp over path and fsyncs the directory; removes tmp on failure. */
static dt_status rename_into_place(const char *tmp, const char *path, dt_error *err) {
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return dt_fail(err, DT_IO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    sync_parent_dir(path);
    return DT_OK;
}

dt_status dt_commit_file(const char *tmp_path, const char *path, dt_error *err) {
    int fd = open(tmp_path, O_RDONLY);
    if (fd < 0) {
        int e = errno;
        unlink(tmp_path);
        return dt_fail(err, DT_IO, "%s: cannot open to flush: %s", tmp_path, strerror(e));
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp_path);
        return dt_fail(err, DT_IO, "%s: flush failed: %s", tmp_path, strerror(e));
    }
    close(fd);
    return rename_into_place(tmp_path, path, err);
}

dt_status dt_write_file_atomic(const char *path, const void *data, size_t size, dt_error *err) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return dt_fail(err, DT_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return dt_fail(err, DT_IO, "%s: write failed: %s", tmp, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return dt_fail(err, DT_IO, "%s: flush failed: %s", tmp, strerror(e));
    }
    return rename_into_place(tmp, path, err);
}

dt_status dt_mkdirs(const char *path, dt_error *err) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return dt_fail(err, DT_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return dt_fail(err, DT_IO, "%s: cannot create directory: %s", buf, strerror(errno));
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

dt_status dt_read_text(const char *path, char **text, size_t *size, dt_error *err) {
    *text = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) return dt_fail(err, DT_IO, "%s: cannot read: %s", path, strerror(errno));
    size_t capacity = 1 << 14, used = 0;
    char *buffer = malloc(capacity);
    while (buffer) {
        used += fread(buffer + used, 1, capacity - used - 1, file);
        if (used + 1 < capacity) break; /* a short read: end of file or an error */
        char *bigger = realloc(buffer, capacity * 2);
        if (!bigger) free(buffer);
        buffer = bigger;
        capacity *= 2;
    }
    int failed = ferror(file);
    fclose(file);
    if (!buffer) return dt_fail(err, DT_NOMEM, "%s: out of memory reading the file", path);
    if (failed) {
        free(buffer);
        return dt_fail(err, DT_IO, "%s: cannot read: read error", path);
    }
    buffer[used] = '\0';
    *text = buffer;
    if (size) *size = used;
    return DT_OK;
}

dt_status dt_make_temp_dir(const char *prefix, char *out, size_t size, dt_error *err) {
    const char *base = getenv("TMPDIR");
    if (!base || !base[0]) base = "/tmp";
    int n = snprintf(out, size, "%s/%sXXXXXX", base, prefix);
    if (n < 0 || (size_t)n >= size) return dt_fail(err, DT_IO, "%s: temporary folder name too long", base);
    if (!mkdtemp(out)) return dt_fail(err, DT_IO, "%s: cannot create a temporary folder: %s", base, strerror(errno));
    return DT_OK;
}

int dt_remove_run_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *entry;
        while ((entry = readdir(d)) != NULL) {
            if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
            unlink(path);
        }
        closedir(d);
    }
    return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}

dt_status dt_lock_dir(const char *dir, int *fd, dt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) return dt_fail(err, DT_IO, "%s: cannot create the run lock: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return dt_fail(err, DT_USAGE, "%s: another detrain process is using this run folder", dir);
        return dt_fail(err, DT_IO, "%s: cannot lock: %s", path, strerror(e));
    }
    return DT_OK;
}

void dt_unlock_dir(int fd) {
    if (fd >= 0) close(fd);
}
