/* h5util.c — the one HDF5 failure message and quiet error handling. */
#include "h5util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* H5Ewalk2 callback: copies the most specific error description (the first, walking
 * upward) into data (256 bytes). */
static herr_t first_error(unsigned n, const H5E_error2_t *error, void *data) {
    if (n == 0 && error->desc) snprintf(data, 256, "%s", error->desc);
    return 0;
}

dt_status dt_h5_fail(dt_error *err, dt_status status, const char *file, const char *statement, const char *source,
                     int line, const char *fmt, ...) {
    char what[DT_ERROR_MAX / 2], reason[256] = "";
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, reason);
    for (char *c = reason; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' '; /* one line */
    const char *call = strstr(statement, "H5");
    if (!call) call = statement;
    int call_len = (int)strcspn(call, "(");
    const char *base = strrchr(source, '/');
    base = base ? base + 1 : source;
    return dt_fail(err, status, "%s: %s (%.*s failed at %s:%d%s%s)", file, what, call_len, call, base, line,
                   *reason ? ": " : "", reason);
}

void dt_h5_quiet_begin(dt_h5_quiet *q) {
    q->saved = H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data) >= 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void dt_h5_quiet_end(dt_h5_quiet *q) {
    if (q->saved) H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
    q->saved = 0;
}
