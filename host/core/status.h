/* status.h — detrain's one error path: status codes from one X-macro table.
 *
 * Library functions return a dt_status and, on failure, fill a dt_error with
 * one line that names the file / JSON path / line:column and what is wrong.
 * Only main() prints it and exits, with dt_status_exit_code(). */
#ifndef DT_STATUS_H
#define DT_STATUS_H

#include <stdarg.h>

/* X(NAME, exit code, description) */
#define DT_STATUS_MAP(X)                                        \
    X(OK,          0, "success")                                \
    X(USAGE,       2, "usage error")                            \
    X(CONFIG,      2, "invalid config")                         \
    X(DATA,        2, "invalid data")                           \
    X(CHECKPOINT,  2, "invalid checkpoint")                     \
    X(IO,          2, "input/output error")                     \
    X(WRITE,       1, "write failed")                           \
    X(DEVICE,      2, "device unavailable")                     \
    X(NOMEM,       1, "out of memory")                          \
    X(NUMERIC,     1, "numerical failure")                      \
    X(MISMATCH,    1, "results differ")                         \
    X(INCONCLUSIVE, 2, "inconclusive measurement")              \
    X(NETWORK,     1, "server unreachable or refused")          \
    X(INTERRUPTED, 130, "interrupted")                          \
    X(INTERNAL,    1, "internal error")

typedef enum {
#define DT_STATUS_ENUM(name, code, text) DT_##name,
    DT_STATUS_MAP(DT_STATUS_ENUM)
#undef DT_STATUS_ENUM
    DT_STATUS_COUNT
} dt_status;

#define DT_ERROR_MAX 1024

/* The message of the first failure; "" while none happened. */
typedef struct {
    char message[DT_ERROR_MAX];
} dt_error;

/* Name of a status ("CONFIG"); never NULL. */
const char *dt_status_name(dt_status status);
/* Human description of a status ("invalid config"); never NULL. */
const char *dt_status_text(dt_status status);
/* Process exit code for a status: 0 ok, 2 bad input, 130 interrupted, 1 otherwise. */
int dt_status_exit_code(dt_status status);

/* Formats the message into err (printf-style; err may be NULL) and returns status. The
 * message is one line: control characters in it (from a quoted damaged value) become spaces.
 * Usage: return dt_fail(err, DT_CONFIG, "%s: must be > 0, got %g", path, v); */
dt_status dt_fail(dt_error *err, dt_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: " (for adding a file name), one line as
 * dt_fail's. Returns status. */
dt_status dt_fail_prefix(dt_error *err, dt_status status, const char *prefix);

/* Evaluates a dt_status expression; on failure jumps to the function's cleanup label. */
#define DT_TRY(expr)                    \
    do {                                \
        status = (expr);                \
        if (status != DT_OK) goto cleanup; \
    } while (0)

#endif
