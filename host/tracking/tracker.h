/* tracker.h — live MLflow tracking of a training run, from a background thread.
 *
 * The training loop only hands over copies of its manifest (dt_tracker_post: a copy and a
 * signal, microseconds); a thread brings the MLflow run up to date with the newest copy
 * (dt_mlflow_sync), so a slow or dead server never waits the loop and never touches its
 * state. The first failure prints one warning and ends tracking for this process; what was
 * sent is recorded in the manifest's "tracking" block, and `detrain mlflow sync` sends the
 * rest later. Where the server is and who we are comes from the command line, the config's
 * tracking section or MLflow's environment variables (dt_tracking_resolve). */
#ifndef DT_TRACKER_H
#define DT_TRACKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"
#include "tracking/mlflow.h"

typedef struct cJSON cJSON;

/* Where and how a run is tracked. */
typedef struct {
    char uri[DT_PATH_MAX];         /* the server as given (may hold user-info); "" = off */
    char experiment[256];          /* the MLflow experiment */
    bool tls_verify;
    int64_t step_loss_every;
    char source[64];               /* where uri came from: "--mlflow", "config", "MLFLOW_TRACKING_URI", "record" */
} dt_tracking_settings;

/* The settings of a run: the server from flag_uri (--mlflow; NULL: none), else the config's
 * tracking.uri, else $MLFLOW_TRACKING_URI, else the server recorded in `record` (a manifest's
 * "tracking" block, NULL: none); the experiment from tracking.experiment, else
 * $MLFLOW_EXPERIMENT_NAME, else the record's, else `experiment`; TLS verification unless the
 * config or $MLFLOW_TRACKING_INSECURE_TLS=true turns it off. DT_USAGE when flag_uri is not
 * an http(s) URL; a non-HTTP $MLFLOW_TRACKING_URI (a local mlruns folder) is left unused
 * with a note in s->source. */
dt_status dt_tracking_resolve(const dt_config *cfg, const char *flag_uri, const cJSON *record, const char *experiment,
                              dt_tracking_settings *s, dt_error *err);

/* The manifest's "tracking" block: server (credentials as ***), where it came from, TLS,
 * experiment, MLflow run id, what was sent, `warning` (NULL or "": none). Caller owns it. */
cJSON *dt_tracking_record(const dt_http *h, const dt_tracking_settings *s, const dt_mlflow_state *st,
                          const char *warning);

typedef struct dt_tracker dt_tracker;

/* Starts the thread that tracks the run in run_dir to s (s->uri not ""), continuing the MLflow
 * run in `record` when it names one. Call dt_http_global_init first, once. */
dt_status dt_tracker_start(dt_tracker **t, const dt_tracking_settings *s, const char *run_dir, const cJSON *record,
                           dt_error *err);

/* Hands the thread a copy of the manifest to sync to (replacing one not taken yet). */
void dt_tracker_post(dt_tracker *t, const cJSON *manifest);

/* The last sync, with the files of model_dir (NULL: none) logged as model/NAME besides the run
 * folder's: posts the manifest and waits until the thread is done, at most wait_s seconds and
 * at most 10 s without an answer from the server, then cancels what is in flight. Stops the
 * thread. */
void dt_tracker_finish(dt_tracker *t, const cJSON *manifest, const char *model_dir, double wait_s);

/* The manifest's "tracking" block as of now: server (credentials as ***), TLS, experiment,
 * MLflow run id, what was sent, the warning if any. Caller owns it. */
cJSON *dt_tracker_record(dt_tracker *t);

/* Stops the thread (cancelling what is in flight) and frees everything. NULL is fine. */
void dt_tracker_free(dt_tracker *t);

#endif
