/* checkpoint.h — HDF5 checkpoints: everything a run needs to continue bit for bit.
 *
 * The layout is documented in docs/checkpoint-format.md and readable with h5py alone:
 * parameters by layer name (weights (out, in), bias (out)), optimizer moments and
 * counters, where training stands (step, epoch, position in the epoch's permutation, the
 * epoch's running accuracy counts), the per-step loss and learning rate so far, RNG keys
 * and counters, the resolved config, the data files' digests, the format version, and a
 * SHA-256 attribute on every tensor. No time stamps: the same state gives the same bytes. */
#ifndef DT_CHECKPOINT_H
#define DT_CHECKPOINT_H

#include <stdint.h>

#include "core/buffers.h"
#include "core/config.h"
#include "data/data.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/status.h"

#define DT_CHECKPOINT_FORMAT "detrain-checkpoint"
#define DT_CHECKPOINT_VERSION 1
/* Tensors a checkpoint can hold: params, m, v (2 per layer each), trace (2), normalization (2). */
#define DT_CHECKPOINT_MAX_TENSORS (6 * DT_MAX_LAYERS + 4)

/* Where training stands. A checkpoint is taken only between steps and after every finished
 * epoch's evaluation, so step = epoch * steps_per_epoch + position / batch_size. */
typedef struct {
    dt_optim_counters counters;    /* counters.step: optimizer steps completed */
    int32_t epoch;                 /* 0-based epoch the next step belongs to (= epochs when done) */
    int64_t position;              /* samples of that epoch's permutation already consumed */
    int64_t steps_per_epoch, total_steps;
    int64_t correct, seen;         /* the current epoch's training accuracy counts so far */
    /* Model selection (config train.select, early_stopping): kept in group selection/ of runs
     * that select, so a resumed run continues the same count. */
    int32_t best_epoch;            /* 1-based epoch whose selection metric is the best so far; 0 = none */
    double best_value;             /* that epoch's metric */
    int32_t since_best;            /* epochs ended since best_epoch: early stopping's patience count */
    int32_t stopped_early;         /* 1: early stopping ended the run after `epoch` epochs */
} dt_train_progress;

/* A validation set as a checkpoint records it. */
typedef struct {
    const dt_dataset *set;         /* its sample count and file records */
    float split;                   /* data.validation_split (0 = a source of its own) */
    const char *indices_sha256;    /* split: SHA-256 of the held-out indices, else "" */
} dt_validation_view;

/* What dt_checkpoint_write stores; nothing is owned. */
typedef struct {
    const dt_config *cfg;
    const dt_net *net;
    const dt_host_state *state;
    const dt_train_progress *progress;
    const float *step_loss, *step_lr;  /* (progress->counters.step) */
    const dt_dataset *train, *test;    /* for their sample counts and file records */
    const double *norm_mean, *norm_std;/* (input_size) standardize moments; NULL otherwise */
    const dt_validation_view *validation; /* NULL: the run has none */
    int selecting;                     /* the run selects a best epoch: write selection/ */
} dt_checkpoint_view;

/* Builds the checkpoint in memory and writes it with dt_write_file_atomic (a temporary name,
 * fsync, rename). Fills params_sha256 (the parameter digest) and file_sha256 (the file's
 * bytes). DT_IO naming the file and the failing HDF5 call, DT_WRITE when writing fails; path
 * is untouched on failure. */
dt_status dt_checkpoint_write(const char *path, const dt_checkpoint_view *view, char params_sha256[65],
                              char file_sha256[65], dt_error *err);

/* One tensor of a checkpoint, as found when reading it. */
typedef struct {
    char name[96];                 /* "params/dense0/weight" */
    int rank;
    uint64_t dims[2];
    const char *dtype;             /* "float32", "float64" */
    char recorded_sha256[65];      /* its sha256 attribute */
    char computed_sha256[65];      /* of its little-endian bytes as read */
    int ok;                        /* the two agree */
} dt_tensor_info;

/* A checkpoint read back; every pointer is owned (dt_checkpoint_free). */
typedef struct {
    int format_version;
    char detrain_version[32], git_commit[64];
    int git_dirty;
    char *config_json;             /* the resolved config as stored */
    char config_sha256[65];        /* as stored (of config_json) */
    dt_config *cfg;                /* config_json parsed */
    dt_net net;
    dt_host_state state;
    dt_train_progress progress;
    float *step_loss, *step_lr;    /* (progress.counters.step) */
    int64_t train_samples, test_samples;
    int n_train_files, n_test_files, n_val_files; /* n_val_files 0: no validation set */
    dt_file_record train_files[DT_MAX_DATA_FILES], test_files[DT_MAX_DATA_FILES], val_files[DT_MAX_DATA_FILES];
    int64_t val_samples;
    char val_indices_sha256[65];   /* a split's held-out indices, "" otherwise */
    double *norm_mean, *norm_std;  /* (net.input_size) when data.normalize is standardize */
    char params_sha256[65];        /* recorded and checked against the parameters */
    int n_tensors;
    dt_tensor_info tensors[DT_CHECKPOINT_MAX_TENSORS];
} dt_checkpoint;

/* Reads and checks a checkpoint: format and version, the config, every tensor's type, shape
 * and SHA-256, the parameter digest, the counters and RNG keys. DT_CHECKPOINT naming the file
 * and what is wrong (the first tensor whose digest differs; ck->tensors still lists every
 * tensor with its status). Call dt_checkpoint_free afterwards, also on failure. */
dt_status dt_checkpoint_read(const char *path, dt_checkpoint *ck, dt_error *err);

/* dt_checkpoint_read of a checkpoint a manifest lists with the file's SHA-256 `recorded` (""
 * when not listed): the bytes are compared with the record before HDF5 parses them, since
 * libhdf5 itself can crash on a damaged file (docs/checkpoint-format.md). DT_CHECKPOINT
 * naming both digests when they differ. */
dt_status dt_checkpoint_read_recorded(const char *path, const char *recorded, dt_checkpoint *ck, dt_error *err);

/* Frees what dt_checkpoint_read allocated and zeroes ck. */
void dt_checkpoint_free(dt_checkpoint *ck);

/* DT_CONFIG naming the first key that differs when cfg and the checkpoint's config are not
 * the same run. Where the data files lie (their digests are checked instead), runtime.threads
 * and runtime.gpu (the bits do not depend on them) are not compared. `origin` names cfg's
 * source. */
dt_status dt_check_same_config(const dt_config *cfg, const char *origin, const dt_checkpoint *ck, const char *ck_path,
                               dt_error *err);

#endif
