/* train.h — a training run from a validated config: data, model, backend, loop, record.
 *
 * A fresh run, a resumed run and a replay (verify) share one loop; the state a checkpoint
 * restores — parameters, optimizer moments and counters, epoch and position in the
 * epoch's permutation, the per-step losses and learning rates, the epoch's accuracy
 * counts — is everything the loop carries from step to step, so a resumed run continues
 * exactly as if it had never stopped. */
#ifndef DT_TRAIN_H
#define DT_TRAIN_H

#include <stdint.h>

#include "comm/comm.h"
#include "core/config.h"
#include "records/checkpoint.h"
#include "records/optrace.h"
#include "core/status.h"

typedef struct {
    int quiet;                 /* no progress output */
    const char *out_dir;       /* train: run folder; NULL = <store>/<config name>-<UTC time> */
    int argc;                  /* the command line, for the record */
    char *const *argv;
    int64_t stop_after_steps;  /* testing aid: behave as if SIGINT arrived during global step N; 0 = off */
    int threads;               /* resume: runtime.threads for this process (> 0), else as recorded */
    const char *device;        /* resume: runtime.device for this process ("cpu", "cuda", "auto"), NULL =
                                  as recorded; a portable run only, whose bits do not depend on it */
    const char *start_checkpoint; /* train: start a new run folder from this checkpoint (verify --from) */
    dt_comm *comm;             /* the job's ranks (mpirun); NULL = one process */
    int unindexed;             /* train: not a run of the runs index (verify's replay in a temporary folder) */
    const dt_config *record_config; /* train: the config to write into the records when cfg is a
                                       recorded config whose data paths were re-located (verify);
                                       NULL = cfg */
    int track;                 /* train, resume: track in MLflow when a server is configured */
    const char *mlflow_uri;    /* --mlflow: the MLflow server (an http(s) URL), NULL = config/env */
    dt_op_trace *trace;        /* the steps' operations are reported to it (records/optrace.h; one
                                  process only), and its test-only fault applied; NULL = off */
} dt_train_opts;

typedef struct {
    char run_dir[DT_PATH_MAX];
    char params_sha256[65];
    double test_accuracy;      /* NaN for regression */
    double test_loss;
    double seconds;
    int64_t steps;             /* steps completed */
    int64_t total_steps;
    int already_completed;     /* resume: the run had already completed; nothing was done */
    char resumed_from[DT_PATH_MAX + 64]; /* resume: the checkpoint continued from, "" = the start */
} dt_train_summary;

/* Trains as the config says and leaves the run folder. On SIGINT/SIGTERM (or after
 * opts->stop_after_steps) it finishes the current step, writes a checkpoint, marks the
 * manifest "interrupted" and returns DT_INTERRUPTED with a one-line message. On other
 * failures after the folder was made, the manifest says "failed" with the error. */
dt_status dt_train(const dt_config *cfg, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err);

/* Continues the run in run_dir from its newest valid checkpoint (from the start when it has
 * none), in the same folder. Refuses (exit 2) when the data files' digests or the config
 * differ from the checkpoint's, or another process holds the folder. Interruption as
 * dt_train. */
dt_status dt_resume(const char *run_dir, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err);

#endif
