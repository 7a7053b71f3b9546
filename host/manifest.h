/* manifest.h — the run record: manifest.json in the run folder, rewritten atomically
 * whenever it changes, plus trace.jsonl with every step's loss as decimal and bits. */
#ifndef DT_MANIFEST_H
#define DT_MANIFEST_H

#include <stdint.h>

#include "config.h"
#include "data.h"
#include "status.h"

typedef struct cJSON cJSON;

typedef struct {
    char run_dir[DT_PATH_MAX];
    char path[DT_PATH_MAX + 32];   /* run_dir/manifest.json */
    cJSON *root;
} dt_manifest;

/* What the run is, known when it starts. */
typedef struct {
    const dt_config *cfg;
    int argc;
    char *const *argv;
    const dt_dataset *train, *test;
    const char *backend;           /* "cpu (avx512, 2 threads)" */
    const char *device_note;       /* why auto chose the device, or "" */
    const char *simd;              /* SIMD path, or "" off the CPU */
    int threads;
    int64_t n_params;
} dt_run_info;

typedef struct {
    int epoch;
    int64_t steps;                 /* steps completed so far */
    float train_loss;              /* mean of the epoch's step losses, ascending */
    double train_accuracy;         /* NaN for regression */
    float test_loss;
    double test_accuracy;
    double seconds, samples_per_s;
    float lr;                      /* learning rate of the epoch's last step */
} dt_epoch_metrics;

/* Creates the manifest (status "running") and writes it. */
dt_status dt_manifest_begin(dt_manifest *m, const char *run_dir, const dt_run_info *info, dt_error *err);
/* Appends an epoch's metrics and rewrites the manifest. */
dt_status dt_manifest_epoch(dt_manifest *m, const dt_epoch_metrics *e, dt_error *err);
/* Sets the final block and status ("completed", "failed", "interrupted") and rewrites. */
dt_status dt_manifest_finish(dt_manifest *m, const char *status, const dt_epoch_metrics *last,
                             const char *params_sha256, const char *error_message, dt_error *err);
/* Frees the in-memory record. */
void dt_manifest_free(dt_manifest *m);

/* Writes trace.jsonl (one line per step: step, epoch, lr, loss and its bits) atomically. */
dt_status dt_trace_write(const char *run_dir, const float *losses, const float *lrs, int64_t n_steps,
                         int64_t steps_per_epoch, dt_error *err);

/* "3e9a1f20": the float's bits as 8 lowercase hex digits. */
void dt_float_bits_hex(float value, char out[9]);

#endif
