/* manifest.h — the run record: manifest.json in the run folder, rewritten atomically
 * whenever it changes, plus trace.jsonl with every step's loss as decimal and bits.
 *
 * The manifest says which code, data, config, seeds, machine and libraries made the run,
 * its status and times, per-epoch metrics, every checkpoint written (file, step, SHA-256,
 * parameter digest), every resume, and the final block. Exact floats appear twice: a
 * decimal and "<name>_bits", the float32's hex bits. */
#ifndef DT_MANIFEST_H
#define DT_MANIFEST_H

#include <stdint.h>

#include "core/config.h"
#include "data/data.h"
#include "core/model.h"
#include "core/status.h"
#include "sysinfo.h"

typedef struct cJSON cJSON;

typedef struct {
    char run_dir[DT_PATH_MAX];
    char path[DT_PATH_MAX + 32];   /* run_dir/manifest.json */
    cJSON *root;
} dt_manifest;

/* What the run is, known when it starts (or resumes). */
typedef struct {
    const dt_config *cfg;
    const dt_net *net;
    int argc;
    char *const *argv;
    const dt_dataset *train, *test;
    const dt_dataset *validation;  /* NULL: the run has none */
    float validation_split;        /* data.validation_split, 0 for a source of its own */
    const char *validation_indices_sha256; /* a split's held-out indices */
    const char *backend;           /* "cpu (avx512, 2 threads)" */
    const char *device_note;       /* why auto chose the device, or "" */
    const char *simd;              /* SIMD path, or "" off the CPU */
    int threads;
    const dt_gpu_info *gpu;        /* a GPU backend's device and libraries, or NULL (CPU) */
    int world_size;                /* ranks of the job (1 without mpirun) */
    const int64_t *rank_gpus;      /* (world_size) each rank's CUDA device index, or NULL (CPU) */
    const char *transport;         /* how gradients move between ranks: "none", "mpi", "nccl" */
    const char *started_from;      /* a checkpoint this run started from (verify --from), or NULL */
    const char *test_perturb;      /* the test-only fault the run was made with (optrace.h), or NULL */
} dt_run_info;

typedef struct {
    int epoch;
    int64_t steps;                 /* steps completed so far */
    float train_loss;              /* mean of the epoch's step losses, ascending */
    double train_accuracy;         /* NaN for regression */
    int64_t train_correct, train_seen;
    float test_loss;
    double test_accuracy;
    int64_t test_correct, test_samples;
    double seconds, samples_per_s;
    float lr;                      /* learning rate of the epoch's last step */
    int has_validation;            /* the val_ fields hold the validation set's metrics */
    float val_loss;
    double val_accuracy;           /* NaN for regression */
    int64_t val_correct, val_samples;
} dt_epoch_metrics;

/* A checkpoint as the manifest lists it. */
typedef struct {
    const char *file;              /* name inside the run folder: "checkpoint-000000012.h5", "final.h5" */
    const char *reason;            /* "every_steps", "epoch", "interrupt", "final" */
    int64_t step;
    int32_t epoch;                 /* 0-based epoch of the next step */
    int64_t position;              /* samples of that epoch already consumed */
    int64_t size;
    const char *sha256;            /* of the file */
    const char *params_sha256;
} dt_checkpoint_record;

/* Creates the manifest (status "running") and writes it. */
dt_status dt_manifest_begin(dt_manifest *m, const char *run_dir, const dt_run_info *info, dt_error *err);
/* Loads run_dir/manifest.json to continue it. DT_IO / DT_CHECKPOINT naming the file. */
dt_status dt_manifest_open(dt_manifest *m, const char *run_dir, dt_error *err);
/* Marks a reopened run as running again from a checkpoint at `step` (checkpoint_file NULL:
 * from the start): adds a "resumes" entry (time, checkpoint, command line, code, device),
 * keeps only the first epochs_done epochs and the checkpoints up to `step`, and writes. */
dt_status dt_manifest_resume(dt_manifest *m, const dt_run_info *info, const char *checkpoint_file, int64_t step,
                             int epochs_done, dt_error *err);
/* Appends an epoch's metrics and rewrites the manifest. */
dt_status dt_manifest_epoch(dt_manifest *m, const dt_epoch_metrics *e, dt_error *err);
/* Lists a checkpoint (replacing an entry of the same file) and rewrites the manifest. */
dt_status dt_manifest_checkpoint(dt_manifest *m, const dt_checkpoint_record *c, dt_error *err);
/* Deletes the oldest step/epoch/interrupt checkpoint files beyond the newest `keep` (final.h5
 * and best.h5 are never deleted), marks them "removed" and rewrites the manifest. */
dt_status dt_manifest_prune(dt_manifest *m, int keep, dt_error *err);
/* Sets the final block and status ("completed", "failed", "interrupted") and rewrites. */
dt_status dt_manifest_finish(dt_manifest *m, const char *status, const dt_epoch_metrics *last,
                             const char *params_sha256, const char *error_message, dt_error *err);
/* Sets the top-level `key` to value (owned from now on; NULL removes the key), and rewrites
 * the manifest when `write` is non-zero (otherwise the next rewrite carries it). */
dt_status dt_manifest_set(dt_manifest *m, const char *key, cJSON *value, int write, dt_error *err);
/* The recorded metrics of epoch `epoch` (1-based) into out, for the final block of a run
 * resumed after its last epoch. Returns 0, or -1 when the manifest lacks that epoch. */
int dt_manifest_epoch_metrics(const dt_manifest *m, int epoch, dt_epoch_metrics *out);
/* Frees the in-memory record. */
void dt_manifest_free(dt_manifest *m);

/* The "code" object of this build: version, git commit, dirty flag, compiler, flags. Caller
 * owns it (cJSON_Delete). */
cJSON *dt_manifest_code_json(void);
/* The "environment" object of this process (OS, kernel, CPU, SIMD path, threads, the GPU
 * fields — null without a GPU backend — and library versions). Caller owns it. */
cJSON *dt_manifest_environment_json(const char *simd, int threads, const dt_gpu_info *gpu);

/* Writes trace.jsonl (one line per step: step, epoch, lr, loss and its bits) atomically. */
dt_status dt_trace_write(const char *run_dir, const float *losses, const float *lrs, int64_t n_steps,
                         int64_t steps_per_epoch, dt_error *err);

/* "3e9a1f20": the float's bits as 8 lowercase hex digits. */
void dt_float_bits_hex(float value, char out[9]);
/* The bits written by dt_float_bits_hex back into *bits. Returns 0, or -1 when text is not
 * 8 hex digits (or NULL). */
int dt_float_bits_parse(const char *text, uint32_t *bits);

#endif
