/* mlflow.h — a run folder's record brought into an MLflow tracking server over its REST API.
 *
 * One operation does all the work, for live tracking and for `detrain mlflow sync` alike:
 * dt_mlflow_sync compares what the server was sent (the state) with the run's manifest and
 * sends only the difference — the experiment and run (found by the tag detrain.run_id before
 * one is created), params, tags, dataset inputs, the metric points of every finished epoch,
 * and, once the run has ended, its artifacts and status. Whatever it learns the server holds
 * (on first contact it reads the run's metric history), it never sends twice, so repeating it
 * is harmless: no duplicate run, param or metric point. docs/tracking.md has the mapping. */
#ifndef DT_MLFLOW_H
#define DT_MLFLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "tracking/http.h"

typedef struct cJSON cJSON;

/* The metrics: per epoch (step = epoch) from the manifest, and step_loss (step = step) from
 * trace.jsonl when asked for. */
#define DT_MLFLOW_METRICS 9
extern const char *const dt_mlflow_metric_names[DT_MLFLOW_METRICS];

/* What one MLflow run holds of a detrain run, as far as this process knows. */
typedef struct {
    char experiment[256];          /* the MLflow experiment's name */
    char experiment_id[64];        /* "" until known */
    char run_id[64];               /* "" until found or created */
    char artifact_uri[1024];       /* the run's artifact root ("mlflow-artifacts:/1/<run>/artifacts") */
    bool contacted;                /* the run's contents were read in this process */
    int params;                    /* params sent (0: not yet) */
    int inputs;                    /* dataset inputs the run holds (0: not yet) */
    int64_t last_step[DT_MLFLOW_METRICS]; /* per metric (dt_mlflow_metric_names): the last step
                                      whose point the run holds, 0: none (epochs count from 1) */
    char *tags;                    /* the tags last sent, as JSON (to skip resending); owned */
    int artifacts;                 /* artifacts uploaded (0: not yet) */
    char status[16];               /* the status last set: "RUNNING", "FINISHED", ... */
    int64_t points;                /* metric points sent by this process */
} dt_mlflow_state;

/* Brings the MLflow run of the detrain run recorded by `manifest` (a manifest.json tree) in
 * run_dir up to date (see above); once the manifest's status is no longer "running", uploads
 * manifest.json, trace.jsonl, final.h5 and every file of model_dir (NULL: none) as model/NAME. step_loss_every
 * > 0 also sends the step loss of every such step from trace.jsonl. DT_NETWORK naming the
 * request and the server's answer; the state keeps what was done before the failure. */
dt_status dt_mlflow_sync(dt_http *h, dt_mlflow_state *st, const cJSON *manifest, const char *run_dir,
                         const char *model_dir, int64_t step_loss_every, dt_error *err);

/* The state as the manifest's "tracking" block records it (server, experiment, run id, what
 * was sent); caller owns it. */
cJSON *dt_mlflow_state_json(const dt_mlflow_state *st);

/* The state of the MLflow run in `experiment` at `server` (as shown) back from a "tracking"
 * block; a fresh state when the block is NULL or names another server (user-info aside) or
 * experiment (another MLflow run). contacted is false: the next sync reads the server again. */
void dt_mlflow_state_load(dt_mlflow_state *st, const cJSON *record, const char *server, const char *experiment);

/* Frees what the state owns. */
void dt_mlflow_state_free(dt_mlflow_state *st);

/* The registry bridge: registered model `name` (created when missing) gets a version whose
 * source is run_id's logged model (artifact_uri/model) — unless one of that run exists, which
 * is kept. *version gets MLflow's version number. */
dt_status dt_mlflow_register(dt_http *h, const char *name, const char *run_id, const char *artifact_uri,
                             const char *description, char version[32], dt_error *err);

/* Sets tag key = value on the version of registered model `name` made from run_id
 * (model-versions/set-tag). DT_NETWORK when there is no such version or the server refuses. */
dt_status dt_mlflow_version_tag(dt_http *h, const char *name, const char *run_id, const char *key, const char *value,
                                dt_error *err);

/* Points MLflow alias `alias` of registered model `name` at the version made from run_id. */
dt_status dt_mlflow_alias(dt_http *h, const char *name, const char *alias, const char *run_id, dt_error *err);

#endif
