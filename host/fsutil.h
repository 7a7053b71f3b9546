/* fsutil.h — files written so that a crash never leaves a half-written one in place. */
#ifndef DT_FSUTIL_H
#define DT_FSUTIL_H

#include <stddef.h>

#include "status.h"

/* Writes data to "<path>.tmp", flushes and fsyncs it, renames it over path and fsyncs the
 * directory. On failure the previous file at path is untouched. DT_IO with the path. */
dt_status dt_write_file_atomic(const char *path, const void *data, size_t size, dt_error *err);

/* Creates a directory and its parents (mkdir -p). DT_IO naming the path on failure. */
dt_status dt_mkdirs(const char *path, dt_error *err);

/* Whether a regular file exists at path. */
int dt_file_exists(const char *path);

#endif
