/* http.h — detrain's one HTTP client (libcurl): JSON requests and file uploads to one server,
 * with timeouts, bounded retries, and credentials that never appear in a message.
 *
 * Credentials come from the URI's user-info (taken out of the URL at once), or from the
 * environment as MLflow's clients read it: MLFLOW_TRACKING_TOKEN (a bearer token) before
 * MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (basic auth). Every URL a message or a
 * record shows is `shown`, the URI with its user-info replaced by "***". */
#ifndef DT_HTTP_H
#define DT_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cJSON cJSON;

typedef struct {
    char base[DT_PATH_MAX];        /* scheme://host[:port][/prefix], no user-info, no trailing '/' */
    char shown[DT_PATH_MAX];       /* the URI as messages and records show it */
    char user[256], password[256]; /* basic auth; "" = none */
    char token[2048];              /* bearer token; "" = none */
    bool tls_verify;
    long connect_timeout_ms;       /* to open a connection */
    long stall_timeout_s;          /* a transfer moving no byte for this long fails */
    int attempts;                  /* tries of a request that failed on the network or with 5xx/429 */
    atomic_int *cancel;            /* when set and non-zero, a transfer stops at once; may be NULL */
    _Atomic long long last_answer_ms; /* CLOCK_MONOTONIC ms of the last HTTP answer; 0: none yet */
    void *curl;                    /* the reused libcurl handle (keep-alive) */
} dt_http;

/* Sets up a client of `uri` (http:// or https://). tls_verify false turns certificate checks
 * off. DT_USAGE naming the shown URI when it is not an http(s) URL. Call libcurl's global
 * init (dt_http_global_init) first, once, before any thread starts. */
dt_status dt_http_init(dt_http *h, const char *uri, bool tls_verify, dt_error *err);

/* Frees the client (the credentials are wiped). */
void dt_http_free(dt_http *h);

/* libcurl's process-wide set-up; call once from the main thread before threads start. */
void dt_http_global_init(void);

/* uri with any user-info replaced by "***" (user:pass@host becomes ***@host),
 * into out. */
void dt_http_redact(const char *uri, char *out, size_t cap);

/* Each URL's user-info in text (anywhere in it) as "***", into out: for messages that may
 * quote a command line. */
void dt_http_redact_all(const char *text, char *out, size_t cap);

/* CLOCK_MONOTONIC now, in milliseconds (the clock of last_answer_ms). */
long long dt_http_now_ms(void);

/* A JSON request: METHOD base/path (path starts with '/', query included and escaped by the
 * caller), body (NULL: none). On 2xx, *reply (may be NULL) gets the parsed answer (an empty
 * object for an empty body; caller frees). Any other outcome: DT_NETWORK naming the method,
 * the shown URL and curl's reason or the HTTP status with MLflow's error_code/message, and
 * *http_code (may be NULL) gets the HTTP status (0: no answer). Retries network failures,
 * 429 and 5xx with a short back-off, up to h->attempts tries in all. */
dt_status dt_http_json(dt_http *h, const char *method, const char *path, const cJSON *body, cJSON **reply,
                       long *http_code, dt_error *err);

/* PUT of the file at `file` to base/path (an artifact upload), with the same retries. */
dt_status dt_http_put_file(dt_http *h, const char *path, const char *file, dt_error *err);

/* `text` escaped for a URL's path segment or query value into out (caller frees); NULL on OOM. */
char *dt_http_escape(dt_http *h, const char *text);

#endif
