/* h5util.h — checked HDF5 calls: one message format for every HDF5 failure, and HDF5's
 * own error printing turned off while detrain reports failures itself. */
#ifndef DT_H5UTIL_H
#define DT_H5UTIL_H

#include <hdf5.h>

#include "status.h"

/* Fills err with "<file>: <what> (<H5 call> failed at <source>:<line>: <HDF5's reason>)",
 * the call's name taken from the statement text and the reason from the top of HDF5's
 * error stack, and returns status. */
dt_status dt_h5_fail(dt_error *err, dt_status status, const char *file, const char *statement, const char *source,
                     int line, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Evaluates an HDF5 call; when it returns a negative value, sets `status` to a `kind`
 * failure about `file` describing `...` (printf-style) and jumps to the cleanup label.
 * Expects `status` and `err` in scope. */
#define DT_CHECK_H5(kind, file, expr, ...)                                                     \
    do {                                                                                       \
        if ((expr) < 0) {                                                                      \
            status = dt_h5_fail(err, (kind), (file), #expr, __FILE__, __LINE__, __VA_ARGS__);  \
            goto cleanup;                                                                      \
        }                                                                                      \
    } while (0)

/* HDF5's automatic error printing, saved by dt_h5_quiet_begin and restored by _end. */
typedef struct {
    H5E_auto2_t func;
    void *data;
    int saved;
} dt_h5_quiet;

/* Turns HDF5's error printing off (failures become detrain's one-line messages). */
void dt_h5_quiet_begin(dt_h5_quiet *q);
/* Restores the printing saved by dt_h5_quiet_begin. */
void dt_h5_quiet_end(dt_h5_quiet *q);

#endif
