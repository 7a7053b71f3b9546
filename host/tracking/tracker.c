/* tracker.c — the tracking thread (tracker.h). */
#include "tracking/tracker.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"

/* The end of a run waits this long at most for a server that says nothing: its stall limit. */
#define SILENCE_MS 10000

struct dt_tracker {
    dt_tracking_settings settings;
    char run_dir[DT_PATH_MAX];
    dt_http http;                  /* the thread's */
    dt_mlflow_state state;         /* the thread's; copied out under `lock` */
    atomic_int cancel;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    cJSON *pending;                /* the newest manifest not synced yet; owned */
    char model_dir[DT_PATH_MAX];   /* the last sync's exported model, "" = none */
    bool final, stopping, busy, offline;
    cJSON *record;                 /* the state as last recorded (under lock); owned */
    char warning[DT_ERROR_MAX + DT_PATH_MAX];
};

dt_status dt_tracking_resolve(const dt_config *cfg, const char *flag_uri, const cJSON *record, const char *experiment,
                              dt_tracking_settings *s, dt_error *err) {
    memset(s, 0, sizeof *s);
    const char *env_uri = getenv("MLFLOW_TRACKING_URI"), *recorded = dt_json_string(record, "server");
    if (flag_uri) {
        if (strncmp(flag_uri, "http://", 7) != 0 && strncmp(flag_uri, "https://", 8) != 0) {
            char shown[DT_PATH_MAX];
            dt_http_redact(flag_uri, shown, sizeof shown);
            return dt_fail(err, DT_USAGE, "--mlflow %s: not an http:// or https:// URL of an MLflow server", shown);
        }
        snprintf(s->uri, sizeof s->uri, "%s", flag_uri);
        snprintf(s->source, sizeof s->source, "--mlflow");
    } else if (cfg->tracking.uri[0]) {
        snprintf(s->uri, sizeof s->uri, "%s", cfg->tracking.uri);
        snprintf(s->source, sizeof s->source, "config");
    } else if (env_uri && (!strncmp(env_uri, "http://", 7) || !strncmp(env_uri, "https://", 8))) {
        snprintf(s->uri, sizeof s->uri, "%s", env_uri);
        snprintf(s->source, sizeof s->source, "MLFLOW_TRACKING_URI");
    } else if (recorded && recorded[0]) {
        /* The record keeps the server without its user-info: credentials come from the environment. */
        const char *stars = strstr(recorded, "***@");
        if (stars) snprintf(s->uri, sizeof s->uri, "%.*s%s", (int)(stars - recorded), recorded, stars + 4);
        else snprintf(s->uri, sizeof s->uri, "%s", recorded);
        snprintf(s->source, sizeof s->source, "record");
    } else if (env_uri && env_uri[0]) {
        snprintf(s->source, sizeof s->source, "MLFLOW_TRACKING_URI is not http(s)");
    }
    const char *env_experiment = getenv("MLFLOW_EXPERIMENT_NAME");
    const char *recorded_experiment = dt_json_string(record, "experiment");
    const char *name = cfg->tracking.experiment[0] ? cfg->tracking.experiment
                       : env_experiment && env_experiment[0] ? env_experiment
                       : recorded_experiment && recorded_experiment[0] ? recorded_experiment
                                                                       : experiment;
    snprintf(s->experiment, sizeof s->experiment, "%s", name ? name : "");
    const char *insecure = getenv("MLFLOW_TRACKING_INSECURE_TLS");
    s->tls_verify = cfg->tracking.tls_verify && !(insecure && !strcmp(insecure, "true"));
    s->step_loss_every = cfg->tracking.step_loss_every;
    return DT_OK;
}

cJSON *dt_tracking_record(const dt_http *h, const dt_tracking_settings *s, const dt_mlflow_state *st,
                          const char *warning) {
    cJSON *record = cJSON_CreateObject();
    cJSON_AddStringToObject(record, "server", h->shown);
    cJSON_AddStringToObject(record, "source", s->source);
    cJSON_AddBoolToObject(record, "tls_verify", s->tls_verify);
    cJSON *state = dt_mlflow_state_json(st);
    for (cJSON *item = state->child; item; item = state->child) {
        cJSON_DetachItemViaPointer(state, item);
        cJSON_AddItemToObject(record, item->string, item);
    }
    cJSON_Delete(state);
    if (warning && warning[0]) cJSON_AddStringToObject(record, "warning", warning);
    else cJSON_AddNullToObject(record, "warning");
    return record;
}

/* The "tracking" block of the tracker; call with t->lock held or from the thread. */
static cJSON *make_record(const dt_tracker *t) {
    return dt_tracking_record(&t->http, &t->settings, &t->state, t->warning);
}

/* The thread: syncs the newest pending manifest until told to stop. */
static void *run(void *arg) {
    dt_tracker *t = arg;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        while (!t->pending && !t->stopping) pthread_cond_wait(&t->wake, &t->lock);
        if (!t->pending) break;
        cJSON *manifest = t->pending;
        const bool final = t->final;
        t->pending = NULL;
        t->busy = true;
        pthread_mutex_unlock(&t->lock);
        dt_error err = {""};
        dt_status status = DT_OK;
        const bool cancelled = atomic_load(&t->cancel) != 0;
        if (!t->offline && !cancelled)
            status = dt_mlflow_sync(&t->http, &t->state, manifest, t->run_dir,
                                    final && t->model_dir[0] ? t->model_dir : NULL, t->settings.step_loss_every, &err);
        cJSON_Delete(manifest);
        pthread_mutex_lock(&t->lock);
        /* A sync cut short by the finish's deadline is reported by dt_tracker_finish. */
        if (!t->offline && status != DT_OK && !atomic_load(&t->cancel)) {
            t->offline = true;
            snprintf(t->warning, sizeof t->warning, "%s", err.message);
            fprintf(stderr, "detrain: warning: MLflow tracking stopped: %s; the run goes on, and 'detrain mlflow sync RUN_DIR' sends the rest later\n",
                    err.message);
        }
        cJSON_Delete(t->record);
        t->record = make_record(t);
        t->busy = false;
        pthread_cond_broadcast(&t->idle);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

dt_status dt_tracker_start(dt_tracker **out, const dt_tracking_settings *s, const char *run_dir, const cJSON *record,
                           dt_error *err) {
    *out = NULL;
    dt_tracker *t = calloc(1, sizeof *t);
    if (!t) return dt_fail(err, DT_NOMEM, "out of memory");
    t->settings = *s;
    snprintf(t->run_dir, sizeof t->run_dir, "%s", run_dir);
    dt_status status = dt_http_init(&t->http, s->uri, s->tls_verify, err);
    if (status != DT_OK) {
        free(t);
        return status;
    }
    t->http.cancel = &t->cancel;
    dt_mlflow_state_load(&t->state, record, t->http.shown, s->experiment);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->idle, NULL);
    t->record = make_record(t);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        dt_http_free(&t->http);
        cJSON_Delete(t->record);
        free(t);
        return dt_fail(err, DT_INTERNAL, "cannot start the tracking thread");
    }
    *out = t;
    return DT_OK;
}

void dt_tracker_post(dt_tracker *t, const cJSON *manifest) {
    cJSON *copy = cJSON_Duplicate(manifest, 1);
    if (!copy) return;
    pthread_mutex_lock(&t->lock);
    cJSON_Delete(t->pending);
    t->pending = copy;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

/* now + seconds as an absolute CLOCK_REALTIME time (pthread_cond_timedwait's clock). */
static struct timespec deadline_in(double seconds) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(seconds * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

/* Stops the thread: waits for it up to wait_s, but no longer than SILENCE_MS past the
 * server's last answer (or past the call, when it answered before), then cancels what is in
 * flight and joins it. Returns whether work was cancelled. */
static bool stop(dt_tracker *t, double wait_s) {
    pthread_mutex_lock(&t->lock);
    if (t->stopping) {
        pthread_mutex_unlock(&t->lock);
        return false;
    }
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    const long long start = dt_http_now_ms(), until = start + (long long)(wait_s * 1000);
    for (;;) {
        const long long now = dt_http_now_ms(), answer = atomic_load(&t->http.last_answer_ms);
        const long long heard = answer > start ? answer : start;
        if (!(t->busy || t->pending) || now >= until || now - heard >= SILENCE_MS) break;
        const struct timespec nap = deadline_in(0.05);
        pthread_cond_timedwait(&t->idle, &t->lock, &nap);
    }
    const bool unfinished = (t->busy || t->pending) && !t->offline;
    pthread_mutex_unlock(&t->lock);
    atomic_store(&t->cancel, 1);
    pthread_join(t->thread, NULL);
    return unfinished;
}

void dt_tracker_finish(dt_tracker *t, const cJSON *manifest, const char *model_dir, double wait_s) {
    if (!t) return;
    cJSON *copy = cJSON_Duplicate(manifest, 1);
    pthread_mutex_lock(&t->lock);
    if (copy && !t->stopping) {
        cJSON_Delete(t->pending);
        t->pending = copy;
        copy = NULL;
        snprintf(t->model_dir, sizeof t->model_dir, "%s", model_dir ? model_dir : "");
        t->final = true;
    }
    pthread_mutex_unlock(&t->lock);
    cJSON_Delete(copy);
    if (stop(t, wait_s) && !t->warning[0]) {
        /* Cancelled before the last sync finished: said once, as any failure is. */
        snprintf(t->warning, sizeof t->warning, "%s: the last update did not finish in the time the end of a run waits "
                 "(%.0f s, %d s without an answer)", t->http.shown, wait_s, SILENCE_MS / 1000);
        fprintf(stderr, "detrain: warning: MLflow tracking stopped: %s; 'detrain mlflow sync RUN_DIR' sends the rest later\n",
                t->warning);
    }
    cJSON_Delete(t->record);
    t->record = make_record(t);
}

cJSON *dt_tracker_record(dt_tracker *t) {
    pthread_mutex_lock(&t->lock);
    cJSON *copy = cJSON_Duplicate(t->record, 1);
    pthread_mutex_unlock(&t->lock);
    return copy;
}

void dt_tracker_free(dt_tracker *t) {
    if (!t) return;
    stop(t, 0.0);
    cJSON_Delete(t->pending);
    cJSON_Delete(t->record);
    dt_mlflow_state_free(&t->state);
    dt_http_free(&t->http);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->idle);
    free(t);
}
