/* fsutil.h — files written so that a crash never leaves a half-written one in place, and
 * the few directory operations a run folder needs. */
#ifndef DT_FSUTIL_H
#define DT_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

/* Writes data to "<path>.<pid>.tmp", fsyncs and closes it, renames it over path and fsyncs the
 * directory: the one way detrain writes a file (checkpoints, manifest, trace, predictions,
 * bench output). On any failed write, fsync, close or rename: the temporary file is removed,
 * the previous file at path is untouched, and DT_WRITE names the file, the operation and the
 * OS's reason ("No space left on device"). DT_USAGE (dt_path_check) for a path longer than a
 * folder of DT_PATH_MAX bytes and a file name. */
dt_status dt_write_file_atomic(const char *path, const void *data, size_t size, dt_error *err);

/* dt_write_file_atomic with the file created with `mode` (0644 there); a mode without group
 * or other bits (0600: a private key) is set on the temporary file before any byte is written. */
dt_status dt_write_file_atomic_mode(const char *path, const void *data, size_t size, unsigned mode, dt_error *err);

/* The temporary file dt_write_file_atomic is writing at this instant, or NULL: what a signal
 * handler that ends the process at once (a second Ctrl-C) removes. Async-signal-safe. */
const char *dt_write_in_progress(void);

/* Whether `output` can be written as a file: DT_USAGE for an empty name or one too long;
 * DT_IO "<output>: cannot write: folder <dir>: <why>" when its folder is missing, not a folder
 * or not writable, or "<output>: is a folder, not a file". Checked before the work, so a bad
 * --output costs nothing and gives exit 2 rather than a failed write's 1. */
dt_status dt_check_output_file(const char *output, dt_error *err);

/* "<dir>/<name>" into out (size bytes). A path is refused, never cut (a cut name would read,
 * write or remove another file): DT_USAGE "<dir>/<name>: the path is too long (N bytes, at most
 * M)" when it does not fit, the path shortened in the message. */
dt_status dt_path_join(char *out, size_t size, const char *dir, const char *name, dt_error *err);

/* DT_OK when path fits a buffer of `size` bytes (with its NUL), else DT_USAGE as dt_path_join. */
dt_status dt_path_check(const char *path, size_t size, dt_error *err);

/* Whether a process holds dir's run lock (dt_lock_dir) now: 1, else 0 (also without a lock
 * file). The probe takes a shared lock for an instant and gives it back. */
int dt_dir_locked(const char *dir);

/* Creates a directory and its parents (mkdir -p). DT_WRITE naming the path when one cannot be
 * made, DT_IO when the path exists and is not a directory, DT_USAGE when it is too long. */
dt_status dt_mkdirs(const char *path, dt_error *err);

/* Whether a regular file exists at path. */
int dt_file_exists(const char *path);

/* Size in bytes of the regular file at path, or -1 when it cannot be read. */
int64_t dt_file_size(const char *path);

/* SHA-256 of a file's bytes as 64 hex chars into hex. DT_IO naming the file on failure. */
dt_status dt_file_sha256(const char *path, char hex[65], dt_error *err);

/* Reads the rest of an open file (named `path` in messages) into a malloc'ed buffer with a NUL
 * after its last byte: the one way detrain reads a whole file. *bytes (caller frees; NULL on
 * failure) gets the bytes, *size their count without the NUL (size may be NULL). A regular
 * file is sized first, so its buffer is allocated once. max_bytes > 0 refuses more than that
 * (also from a pipe or a device that never ends): DT_IO "<path>: cannot read: larger than 64
 * MiB". DT_IO "<path>: cannot read: <why>" on a read error, DT_NOMEM. The file stays open. */
dt_status dt_read_stream(FILE *file, const char *path, size_t max_bytes, char **bytes, size_t *size, dt_error *err);

/* Reads a whole file with dt_read_stream, no size limit; DT_IO "<path>: cannot read: <why>"
 * also when it cannot be opened. */
dt_status dt_read_text(const char *path, char **text, size_t *size, dt_error *err);

/* Creates a fresh private directory "$TMPDIR/<prefix>XXXXXX" (TMPDIR defaults to /tmp) and
 * writes its path into out; it stays known to dt_remove_temp_dirs_now until dt_remove_run_dir
 * removes it. DT_IO on failure. */
dt_status dt_make_temp_dir(const char *prefix, char *out, size_t size, dt_error *err);

/* Removes the regular files directly inside dir, then dir itself (no recursion: a run
 * folder has no subfolders). Best effort; returns 0 when dir is gone. */
int dt_remove_run_dir(const char *dir);

/* Removes every temporary folder dt_make_temp_dir made and nothing removed yet, with their
 * files: what a signal that ends the process does first. Async-signal-safe. */
void dt_remove_temp_dirs_now(void);

/* Takes an exclusive advisory lock on "<dir>/.lock" so two processes never write one run
 * folder, then removes the temporary files ("*.tmp") a killed writer left there. *fd receives
 * the lock's descriptor (release with dt_unlock_dir). DT_USAGE when another process holds
 * it (or dir is too long for its lock file's path), DT_WRITE when the lock file cannot be made. */
dt_status dt_lock_dir(const char *dir, int *fd, dt_error *err);

/* Releases a lock taken by dt_lock_dir; fd < 0 is ignored. */
void dt_unlock_dir(int fd);

#endif
