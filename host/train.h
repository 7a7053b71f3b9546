/* train.h — a training run from a validated config: data, model, backend, loop, record. */
#ifndef DT_TRAIN_H
#define DT_TRAIN_H

#include "config.h"
#include "status.h"

typedef struct {
    int quiet;                 /* no progress output */
    const char *out_dir;       /* run folder; NULL = checkpoints/<config name>-<UTC time> */
    int argc;                  /* the command line, for the record */
    char *const *argv;
} dt_train_opts;

typedef struct {
    char run_dir[DT_PATH_MAX];
    char params_sha256[65];
    double test_accuracy;      /* NaN for regression */
    double test_loss;
    double seconds;
} dt_train_summary;

/* Trains as the config says and leaves the run folder. On failure after the folder was
 * made, the manifest says "failed" with the error. */
dt_status dt_train(const dt_config *cfg, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err);

#endif
