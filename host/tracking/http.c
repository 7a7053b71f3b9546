/* http.c — JSON requests and uploads over libcurl (http.h). */
#include "tracking/http.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json.h"
#include "core/text.h"

#define REPLY_MAX (64u << 20) /* an answer larger than this is not MLflow's */

void dt_http_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* Where the authority (user-info, host, port) of uri starts and ends; 0, or -1 if no "://". */
static int authority(const char *uri, const char **start, const char **end) {
    const char *scheme_end = strstr(uri, "://");
    if (!scheme_end) return -1;
    *start = scheme_end + 3;
    *end = *start + strcspn(*start, "/?#");
    return 0;
}

/* The '@' that ends the user-info inside [start, end), or NULL. */
static const char *userinfo_end(const char *start, const char *end) {
    const char *at = NULL;
    for (const char *p = start; p < end; p++)
        if (*p == '@') at = p;
    return at;
}

void dt_http_redact_all(const char *text, char *out, size_t cap) {
    size_t n = 0;
    const char *p = text;
    while (*p && n + 1 < cap) {
        const char *scheme_end = strstr(p, "://");
        const char *end = scheme_end ? scheme_end + 3 + strcspn(scheme_end + 3, "/?# \t\"'") : NULL;
        const char *at = scheme_end ? userinfo_end(scheme_end + 3, end) : NULL;
        const char *copy_to = at ? scheme_end + 3 : p + strlen(p);
        while (p < copy_to && n + 1 < cap) out[n++] = *p++;
        if (!at) continue;
        for (const char *stars = "***"; *stars && n + 1 < cap; stars++) out[n++] = *stars;
        p = at; /* from the '@' on */
    }
    out[n] = '\0';
}

long long dt_http_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dt_http_redact(const char *uri, char *out, size_t cap) {
    const char *start, *end, *at;
    if (authority(uri, &start, &end) != 0 || !(at = userinfo_end(start, end))) {
        snprintf(out, cap, "%s", uri);
        return;
    }
    snprintf(out, cap, "%.*s***%s", (int)(start - uri), uri, at);
}

/* Copies the percent-decoded [from, to) into out (cap bytes). */
static void decode_into(const char *from, const char *to, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = from; p < to && n + 1 < cap; p++) {
        unsigned value;
        if (*p == '%' && to - p >= 3 && sscanf(p + 1, "%2x", &value) == 1) {
            out[n++] = (char)value;
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

dt_status dt_http_init(dt_http *h, const char *uri, bool tls_verify, dt_error *err) {
    memset(h, 0, sizeof *h);
    dt_http_redact(uri, h->shown, sizeof h->shown);
    for (size_t n = strlen(h->shown); n > 0 && h->shown[n - 1] == '/'; n--) h->shown[n - 1] = '\0';
    const char *start, *end;
    if ((strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0) || authority(uri, &start, &end) != 0 ||
        start == end)
        return dt_fail(err, DT_USAGE, "%s: not an http:// or https:// URL of an MLflow server", h->shown);
    const char *at = userinfo_end(start, end);
    if (at) {
        const char *colon = memchr(start, ':', (size_t)(at - start));
        decode_into(start, colon ? colon : at, h->user, sizeof h->user);
        if (colon) decode_into(colon + 1, at, h->password, sizeof h->password);
    }
    const char *host = at ? at + 1 : start;
    size_t len = (size_t)(start - uri) + strlen(host);
    if (len >= sizeof h->base) return dt_fail(err, DT_USAGE, "%s: URL too long", h->shown);
    snprintf(h->base, sizeof h->base, "%.*s%s", (int)(start - uri), uri, host);
    for (size_t n = strlen(h->base); n > 0 && h->base[n - 1] == '/'; n--) h->base[n - 1] = '\0';
    const char *token = getenv("MLFLOW_TRACKING_TOKEN");
    const char *user = getenv("MLFLOW_TRACKING_USERNAME"), *password = getenv("MLFLOW_TRACKING_PASSWORD");
    if (token && token[0]) snprintf(h->token, sizeof h->token, "%s", token);
    else if (!h->user[0] && user && password) {
        snprintf(h->user, sizeof h->user, "%s", user);
        snprintf(h->password, sizeof h->password, "%s", password);
    }
    h->tls_verify = tls_verify;
    h->connect_timeout_ms = 3000;
    h->stall_timeout_s = 10;
    h->attempts = 3;
    h->curl = curl_easy_init();
    if (!h->curl) return dt_fail(err, DT_NOMEM, "out of memory starting an HTTP client");
    return DT_OK;
}

void dt_http_free(dt_http *h) {
    if (h->curl) curl_easy_cleanup(h->curl);
    memset(h, 0, sizeof *h);
}

char *dt_http_escape(dt_http *h, const char *text) {
    char *escaped = curl_easy_escape(h->curl, text, 0);
    char *copy = escaped ? strdup(escaped) : NULL;
    curl_free(escaped);
    return copy;
}

/* libcurl's write callback: appends to the answer (a dt_text), refusing more than REPLY_MAX;
 * a short count makes libcurl stop with a write error. */
static size_t collect(char *ptr, size_t size, size_t nmemb, void *user) {
    dt_text *answer = user;
    const size_t n = size * nmemb;
    if (answer->len + n + 1 > REPLY_MAX) return 0;
    dt_text_append(answer, ptr, n);
    return answer->failed ? 0 : n;
}

/* libcurl's progress callback: non-zero stops the transfer when the owner cancels. */
static int check_cancel(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    atomic_int *cancel = user;
    return cancel && atomic_load(cancel);
}

/* Sleeps ms milliseconds, in short naps that end early when the owner cancels. */
static void back_off(const dt_http *h, long ms) {
    for (long slept = 0; slept < ms && !(h->cancel && atomic_load(h->cancel)); slept += 50) {
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

/* One request with the client's options; the body is `upload` (a file, size bytes) or
 * `json_body` (NULL: none). Returns the curl code; *code gets the HTTP status. */
static CURLcode perform(dt_http *h, const char *method, const char *url, const char *json_body, FILE *upload,
                        long size, dt_text *reply, long *code, char errbuf[CURL_ERROR_SIZE]) {
    CURL *c = h->curl;
    curl_easy_reset(c);
    struct curl_slist *headers = NULL;
    char auth[sizeof h->token + 32];
    headers = curl_slist_append(headers, "Accept: application/json");
    if (json_body) headers = curl_slist_append(headers, "Content-Type: application/json");
    if (upload) headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    if (h->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", h->token);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* a background thread: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->tls_verify ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, check_cancel);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h->cancel);
    if (h->user[0] || h->password[0]) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    }
    if (upload) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, upload);
        curl_easy_setopt(c, CURLOPT_INFILESIZE, size);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (json_body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
    }
    errbuf[0] = '\0';
    CURLcode rc = curl_easy_perform(c);
    *code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
    if (*code) atomic_store(&h->last_answer_ms, dt_http_now_ms());
    curl_slist_free_all(headers);
    if (!errbuf[0] && rc != CURLE_OK) snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
    return rc;
}

/* Whether a failure may pass when tried again: no answer, 429 or 5xx (not a cancel). */
static int retryable(const dt_http *h, CURLcode rc, long code) {
    if (h->cancel && atomic_load(h->cancel)) return 0;
    if (rc != CURLE_OK) return rc != CURLE_ABORTED_BY_CALLBACK;
    return code == 429 || code >= 500;
}

/* The request with retries; DT_NETWORK on failure (see dt_http_json). */
static dt_status request(dt_http *h, const char *method, const char *path, const char *json_body, const char *file,
                         dt_text *reply, long *http_code, dt_error *err) {
    char url[DT_PATH_MAX * 2], shown_url[DT_PATH_MAX * 2], errbuf[CURL_ERROR_SIZE];
    snprintf(url, sizeof url, "%s%s", h->base, path);
    snprintf(shown_url, sizeof shown_url, "%s%s", h->shown, path);
    CURLcode rc = CURLE_OK;
    long code = 0;
    for (int attempt = 0; attempt < (h->attempts > 0 ? h->attempts : 1); attempt++) {
        if (attempt) back_off(h, 200L << (2 * (attempt - 1))); /* 0.2 s, 0.8 s, ... */
        free(dt_text_take(reply)); /* an earlier attempt's answer */
        FILE *upload = NULL;
        long size = 0;
        if (file) {
            struct stat st;
            upload = fopen(file, "rb");
            if (!upload || fstat(fileno(upload), &st) != 0) {
                if (upload) fclose(upload);
                return dt_fail(err, DT_IO, "%s: cannot read it for upload", file);
            }
            size = (long)st.st_size;
        }
        rc = perform(h, method, url, json_body, upload, size, reply, &code, errbuf);
        if (upload) fclose(upload);
        if (rc == CURLE_OK && code >= 200 && code < 300) {
            if (http_code) *http_code = code;
            return DT_OK;
        }
        if (!retryable(h, rc, code)) break;
    }
    if (http_code) *http_code = rc == CURLE_OK ? code : 0;
    if (rc != CURLE_OK)
        return dt_fail(err, DT_NETWORK, "%s %s: %s", method, shown_url,
                       rc == CURLE_ABORTED_BY_CALLBACK ? "cancelled" : errbuf);
    /* MLflow's errors are {"error_code": ..., "message": ...}. */
    cJSON *answer = reply->data ? cJSON_Parse(reply->data) : NULL;
    const char *error_code = dt_json_string(answer, "error_code"), *message = dt_json_string(answer, "message");
    dt_fail(err, DT_NETWORK, "%s %s: HTTP %ld%s%s%s%.200s", method, shown_url, code, error_code ? " " : "",
            error_code ? error_code : "", message ? ": " : "", message ? message : "");
    cJSON_Delete(answer);
    return DT_NETWORK;
}

dt_status dt_http_json(dt_http *h, const char *method, const char *path, const cJSON *body, cJSON **reply,
                       long *http_code, dt_error *err) {
    if (reply) *reply = NULL;
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    if (body && !text) return dt_fail(err, DT_NOMEM, "out of memory building a request");
    dt_text answer = {0};
    dt_status status = request(h, method, path, text, NULL, &answer, http_code, err);
    free(text);
    if (status == DT_OK && reply) {
        *reply = answer.len ? cJSON_Parse(answer.data) : cJSON_CreateObject();
        if (!*reply) status = dt_fail(err, DT_NETWORK, "%s %s%s: the answer is not JSON", method, h->shown, path);
    }
    free(dt_text_take(&answer));
    return status;
}

dt_status dt_http_put_file(dt_http *h, const char *path, const char *file, dt_error *err) {
    dt_text answer = {0};
    dt_status status = request(h, "PUT", path, NULL, file, &answer, NULL, err);
    free(dt_text_take(&answer));
    return status;
}
