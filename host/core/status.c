/* status.c — names, texts and exit codes generated from DT_STATUS_MAP. */
#include "status.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *text;
    int exit_code;
} status_table[DT_STATUS_COUNT] = {
#define DT_STATUS_ROW(name, code, text) {#name, text, code},
    DT_STATUS_MAP(DT_STATUS_ROW)
#undef DT_STATUS_ROW
};

const char *dt_status_name(dt_status status) {
    return (unsigned)status < DT_STATUS_COUNT ? status_table[status].name : "UNKNOWN";
}

const char *dt_status_text(dt_status status) {
    return (unsigned)status < DT_STATUS_COUNT ? status_table[status].text : "unknown status";
}

int dt_status_exit_code(dt_status status) {
    return (unsigned)status < DT_STATUS_COUNT ? status_table[status].exit_code : 1;
}

/* Control characters (a line break in a value quoted from a damaged file) become spaces:
 * a message is one line. */
static void one_line(dt_error *err) {
    for (char *c = err->message; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
}

dt_status dt_fail(dt_error *err, dt_status status, const char *fmt, ...) {
    if (err) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, args);
        va_end(args);
        one_line(err);
    }
    return status;
}

dt_status dt_fail_prefix(dt_error *err, dt_status status, const char *prefix) {
    if (err) {
        char old[DT_ERROR_MAX];
        memcpy(old, err->message, sizeof old);
        int n = snprintf(err->message, sizeof err->message, "%s: ", prefix);
        if (n > 0 && (size_t)n < sizeof err->message - 1) {
            size_t len = strnlen(old, sizeof err->message - (size_t)n - 1);
            memcpy(err->message + n, old, len);
            err->message[(size_t)n + len] = '\0';
        }
        one_line(err);
    }
    return status;
}
