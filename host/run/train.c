/* train.c — the training loop: load and check data, build the model, drive the backend
 * one batch at a time, evaluate after each epoch, keep the run record, write checkpoints.
 *
 * One loop serves a fresh run, a resumed run and a replay: each begins as every run does
 * (run_begin), prepares a run_state (setup), fills it either fresh (start_fresh) or from a
 * checkpoint (start_from), hands it to run_loop, which continues from wherever the state says
 * training stands, and ends as every run does (run_end: the record, tracking, release). */
#include "train.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "cpu/ops.h"
#include "data/data.h"
#include "data/split.h"
#include "core/digest.h"
#include "export/export.h"
#include "core/fsutil.h"
#include "core/memory.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/pool.h"
#include "core/progress.h"
#include "records/manifest.h"
#include "records/runrec.h"
#include "registry/runs.h"
#include "rng.h"
#include "select.h"
#include "tracking/tracker.h"

/* ---- stopping on SIGINT / SIGTERM ------------------------------------------------------------ */

/* The signal that asked the run to stop, 0 while none did. */
static volatile sig_atomic_t stop_signal = 0;
/* The run is saving itself to stop (interrupt): a signal now is a second one. */
static volatile sig_atomic_t stopping = 0;

/* Records the signal; the loop stops after the current step. A second one (the user does not
 * want to wait for the checkpoint) ends the process now: the file being written is removed,
 * and the manifest, written "interrupted" before the checkpoint was begun, names the newest
 * checkpoint that exists. Only async-signal-safe calls here. */
static void on_stop_signal(int sig) {
    if (!stop_signal && !stopping) {
        stop_signal = sig;
        return;
    }
    const char *tmp = dt_write_in_progress();
    if (tmp) unlink(tmp);
    dt_remove_temp_dirs_now(); /* verify's replay folder */
    static const char message[] = "detrain: stopped at once by a second signal, without the checkpoint in progress; "
                                  "'detrain resume' continues from the newest one\n";
    if (write(STDERR_FILENO, message, sizeof message - 1) < 0) _exit(130);
    _exit(130);
}

typedef struct {
    struct sigaction old_int, old_term;
    int installed;
} signal_guard;

/* Routes SIGINT and SIGTERM to on_stop_signal for the duration of a run. */
static void signals_install(signal_guard *g) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    stop_signal = 0;
    stopping = 0;
    g->installed = sigaction(SIGINT, &sa, &g->old_int) == 0 && sigaction(SIGTERM, &sa, &g->old_term) == 0;
}

/* Puts the previous handlers back. */
static void signals_restore(signal_guard *g) {
    if (!g->installed) return;
    sigaction(SIGINT, &g->old_int, NULL);
    sigaction(SIGTERM, &g->old_term, NULL);
    g->installed = 0;
}

/* ---- the run's state -------------------------------------------------------------------------- */

/* Everything a run holds, released in one place. */
typedef struct {
    const dt_config *cfg;              /* what the run computes with */
    dt_config *rank_cfg;               /* cfg with this rank's threads and GPU, when they differ */
    dt_comm *comm;                     /* the job's ranks (NULL: one process) */
    int rank, world;                   /* this rank, ranks in the job */
    int writer;                        /* rank 0: writes the run folder */
    const dt_config *record_cfg;       /* what the records say: cfg, or the recorded config when
                                          data paths were re-located or threads changed */
    dt_net net;
    dt_dataset train, test;
    dt_dataset validation;             /* data.validation or the split's held-out part */
    int has_validation;
    char val_indices_sha256[65];       /* a split's held-out indices, "" otherwise */
    dt_selector selector;              /* train.select and early_stopping */
    double *norm_mean, *norm_std;      /* (input_size) with standardize */
    dt_host_state state;
    const dt_backend_ops *ops;
    dt_backend *backend;
    char backend_text[256], device_note[512];
    const char *simd;
    int threads;
    dt_manifest manifest;
    int manifest_open;
    int lock_fd;
    int64_t *perm;                     /* (n_train) this epoch's order */
    float *step_loss, *step_lr;        /* (total_steps) */
    dt_step_result *results;           /* (DT_RESULT_LOG) collected step results */
    int pending;                       /* steps trained whose results are not collected yet */
    float *micro_loss, **micro_parts;  /* (microbatches) this step's microbatch loss sums */
    dt_grad_tree tree;                 /* the order in which the microbatch gradients are added */
    double last_collect;               /* monotonic seconds of the last collection */
    dt_gpu_info gpu;                   /* a GPU backend's device and libraries */
    int has_gpu;
    int64_t *rank_gpus;                /* (world) each rank's CUDA device index, GPU runs only */
    dt_train_progress progress;
    dt_epoch_metrics last;             /* the latest epoch's metrics */
    char run_dir[DT_PATH_MAX];
    char last_checkpoint[DT_PATH_MAX + 64];
    dt_progress ui;
    dt_tracker *tracker;               /* MLflow tracking (rank 0 of a tracked run), or NULL */
    signal_guard signals;              /* SIGINT and SIGTERM stop the run between steps */
    double t_start;                    /* monotonic seconds when the run began */
    dt_config *recorded_cfg, *resume_cfg; /* resume: the recorded config, and the one this
                                          process runs it with (threads, device, data paths) */
    dt_checkpoint start;               /* the checkpoint the run continues from, until the loop */
    char start_path[DT_PATH_MAX + 64]; /* its path, "" when the run starts at step 0 */
    dt_op_trace *trace;                /* opts->trace: operations reported, or NULL */
    char perturb[160];                 /* its test-only fault as text, "" when none */
} run_state;

/* Frees everything a run_state holds and releases the folder lock. */
static void release(run_state *r) {
    dt_tracker_free(r->tracker);
    dt_checkpoint_free(&r->start);
    free(r->recorded_cfg);
    free(r->resume_cfg);
    if (r->backend) r->ops->destroy(r->backend);
    free(r->rank_cfg);
    free(r->rank_gpus);
    dt_dataset_free(&r->train);
    dt_dataset_free(&r->test);
    dt_dataset_free(&r->validation);
    dt_host_state_free(&r->state);
    dt_manifest_free(&r->manifest);
    dt_unlock_dir(r->lock_fd);
    free(r->norm_mean);
    free(r->norm_std);
    free(r->perm);
    free(r->step_loss);
    free(r->step_lr);
    free(r->results);
    free(r->micro_loss);
    free(r->micro_parts);
}

/* The epoch's order of training samples: identity, or the shuffle under the key (seed,
 * shuffle, epoch) (data/split.h); a resumed run recomputes it from (seed, epoch). */
static void epoch_permutation(int64_t *perm, int64_t n, uint64_t seed, int epoch, int shuffle) {
    const dt_philox_key key = dt_rng_key(seed, DT_RNG_SHUFFLE, (uint32_t)epoch);
    dt_permutation(perm, n, shuffle ? &key : NULL);
}

/* The validation set: data.validation loaded, or data.validation_split held out of the
 * training set (before anything is computed from it: the standardize moments). */
static dt_status load_validation(run_state *r, const dt_data_expect *expect, dt_error *err) {
    const dt_config *cfg = r->cfg;
    r->has_validation = dt_config_has_validation(cfg);
    if (cfg->data.has_validation) return dt_dataset_load(&r->validation, &cfg->data.validation, expect, err);
    if (!cfg->data.has_validation_split) return DT_OK;
    dt_dataset all = r->train;
    memset(&r->train, 0, sizeof r->train);
    return dt_dataset_split(&all, cfg->data.validation_split, cfg->seed, &r->train, &r->validation,
                            r->val_indices_sha256, err);
}

/* Loads, checks and normalises the datasets for the net; keeps the standardize moments. */
static dt_status load_data(run_state *r, dt_error *err) {
    dt_status status = DT_OK;
    const dt_config *cfg = r->cfg;
    const dt_net *net = &r->net;
    dt_data_expect expect = {cfg->model.input_size, cfg->loss.kind == DT_LOSS_SOFTMAX_CE ? net->n_outputs : 0, 0};
    DT_TRY(dt_dataset_load(&r->train, &cfg->data.train, &expect, err));
    DT_TRY(dt_dataset_load(&r->test, &cfg->data.test, &expect, err));
    DT_TRY(load_validation(r, &expect, err));
    if (cfg->loss.kind == DT_LOSS_MSE) {
        const dt_dataset *sets[3] = {&r->train, &r->test, &r->validation};
        for (int d = 0; d < 2 + r->has_validation; d++)
            if (sets[d]->n_targets != net->n_outputs) {
                status = dt_fail(err, DT_DATA, "%s: has %d target column(s), the model has %d output(s)",
                                 sets[d]->files[0].path, sets[d]->n_targets, net->n_outputs);
                goto cleanup;
            }
    }
    if (cfg->train.drop_last && r->train.n_samples < cfg->train.batch_size) {
        status = dt_fail(err, DT_CONFIG, "config.train.batch_size: %d exceeds the %lld training samples with drop_last",
                         cfg->train.batch_size, (long long)r->train.n_samples);
        goto cleanup;
    }
    if (cfg->data.normalize == DT_NORM_STANDARDIZE) {
        /* The moments go into checkpoints so that eval and predict need no training set. */
        r->norm_mean = malloc((size_t)r->train.n_features * sizeof(double) + 1);
        r->norm_std = malloc((size_t)r->train.n_features * sizeof(double) + 1);
        if (!r->norm_mean || !r->norm_std) {
            status = dt_fail(err, DT_NOMEM, "out of memory standardizing features");
            goto cleanup;
        }
        dt_dataset_feature_moments(&r->train, r->norm_mean, r->norm_std);
    }
    DT_TRY(dt_dataset_normalize(&r->train, &r->test, r->has_validation ? &r->validation : NULL, cfg, err));
    /* Records name the files as the recorded config does, wherever they were found now. */
    const dt_data_source *named[3] = {&r->record_cfg->data.train, &r->record_cfg->data.test,
                                      cfg->data.has_validation ? &r->record_cfg->data.validation
                                                               : &r->record_cfg->data.train};
    dt_dataset *sets[3] = {&r->train, &r->test, &r->validation};
    for (int d = 0; d < 2 + r->has_validation && r->record_cfg != cfg; d++) {
        snprintf(sets[d]->files[0].path, sizeof sets[d]->files[0].path, "%s", named[d]->path);
        if (sets[d]->n_files > 1)
            snprintf(sets[d]->files[1].path, sizeof sets[d]->files[1].path, "%s", named[d]->labels_path);
    }
cleanup:
    return status;
}

/* What the run will hold in host memory, refused before any of it is allocated when the
 * machine has less (DT_CONFIG: the config asks for it): the host copy of the state (the
 * parameters and two moments), the per-step trace, and what the backend allocates in host
 * memory (ops->host_bytes). */
static dt_status check_memory(const run_state *r, const dt_config *cfg, int64_t total_steps, dt_error *err) {
    const int64_t n = r->net.n_params, f = (int64_t)sizeof(float);
    int64_t bytes = 3 * n * f + 2 * total_steps * f;
    if (r->ops->host_bytes) bytes += r->ops->host_bytes(&r->net, cfg);
    char what[192];
    snprintf(what, sizeof what, "%.1f %s parameters with their gradients and optimizer state, activations and the "
             "trace of %lld steps", n >= 1000000000 ? (double)n / 1e9 : (double)n / 1e6,
             n >= 1000000000 ? "billion" : "million", (long long)total_steps);
    return dt_memory_check(bytes, DT_CONFIG, "config.model", what, err);
}

/* Threads for runtime.threads 0: the cores, but no more than the work of one (micro)batch
 * keeps busy, one per 4 MFLOP (6 x rows x parameters: forward 2, backward 4), so a small model
 * does not pay for waking threads it cannot use (a 771-parameter net at batch 32 ran 2x slower
 * on 2 threads than on 1, for 3x the CPU time). The bits never depend on the count. */
static int auto_threads(const dt_config *cfg, int64_t params, int cores) {
    const double rows = (double)cfg->train.batch_size / (double)cfg->train.microbatches;
    const double busy = 6.0 * rows * (double)params / 4e6;
    return busy >= (double)cores ? cores : busy < 1.0 ? 1 : (int)busy;
}

/* The ranks of the job must share the microbatches out whole. */
static dt_status check_ranks(const run_state *r, dt_error *err) {
    if (r->world == 1 || r->cfg->train.microbatches % r->world == 0) return DT_OK;
    return dt_fail(err, DT_CONFIG,
                   "config.train.microbatches: %d is not divisible by the %d ranks of this job; use a rank count "
                   "that divides it (or --set train.microbatches=N)",
                   r->cfg->train.microbatches, r->world);
}

/* What this process runs with where the config leaves it to the machine (the bits depend on
 * neither): ranks on one machine share its cores, and each takes the GPU of its local rank,
 * or the one GPU it sees (dt_backend_default_gpu).
 * r->cfg becomes a copy with them when they differ from the config's. After the net is built. */
static dt_status rank_config(run_state *r, dt_error *err) {
    const dt_config *cfg = r->cfg;
    const int local_rank = r->comm ? dt_comm_local_rank(r->comm) : 0;
    const int local_size = r->comm ? dt_comm_local_size(r->comm) : 1;
    const int cores_each = dt_available_cores() / local_size > 0 ? dt_available_cores() / local_size : 1;
    const int threads = cfg->runtime.threads == 0 ? auto_threads(cfg, r->net.n_params, cores_each)
                                                  : cfg->runtime.threads;
    const int gpu = cfg->runtime.gpu < 0 ? dt_backend_default_gpu(local_rank) : cfg->runtime.gpu;
    if (threads == cfg->runtime.threads && gpu == cfg->runtime.gpu) return DT_OK;
    r->rank_cfg = malloc(sizeof *r->rank_cfg);
    if (!r->rank_cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    *r->rank_cfg = *cfg;
    r->rank_cfg->runtime.threads = threads;
    r->rank_cfg->runtime.gpu = gpu;
    r->cfg = r->rank_cfg;
    return DT_OK;
}

/* The record's list of every rank's GPU: slot k holds rank k's device index + 1, the others
 * 0, summed over the ranks (GPU backends only). */
static dt_status gather_rank_gpus(run_state *r, dt_error *err) {
    r->rank_gpus = calloc((size_t)r->world, sizeof *r->rank_gpus);
    if (!r->rank_gpus) return dt_fail(err, DT_NOMEM, "out of memory");
    r->rank_gpus[r->rank] = r->gpu.index + 1;
    if (r->world > 1) {
        const dt_status status = dt_comm_sum_i64(r->comm, r->rank_gpus, r->world, err);
        if (status != DT_OK) return status;
    }
    for (int k = 0; k < r->world; k++) r->rank_gpus[k]--;
    return DT_OK;
}

/* Hands the trace (opts->trace) to the backend: one process only (by the contract the bits do
 * not depend on the number of ranks, so a trace on one process stands for all). */
static dt_status start_trace(run_state *r, dt_error *err) {
    if (!r->trace) return DT_OK;
    if (r->world > 1)
        return dt_fail(err, DT_USAGE, "tracing operations (--dump-ops, bisect, DETRAIN_TEST_PERTURB) runs in one "
                       "process; the bits do not depend on the number of ranks");
    if (!r->ops->set_trace)
        return dt_fail(err, DT_DEVICE, "the %s backend cannot trace operations", r->ops->name);
    r->trace->backend = r->ops->name;
    r->ops->set_trace(r->backend, r->trace);
    return DT_OK;
}

/* Picks, checks and starts the backend for the config, with the datasets resident; notes what
 * it says about itself for the record. */
static dt_status start_backend(run_state *r, dt_error *err) {
    dt_status status = DT_OK;
    const dt_config *cfg = r->cfg;
    DT_TRY(dt_backend_select(cfg->runtime.device, cfg->runtime.gpu, &r->ops, r->device_note, sizeof r->device_note,
                             err));
    DT_TRY(check_memory(r, cfg, dt_steps_per_epoch(cfg, r->train.n_samples) * cfg->train.epochs, err));
    DT_TRY(r->ops->create(&r->backend, &r->net, cfg, err));
    DT_TRY(start_trace(r, err));
    if (r->world > 1 && r->ops->join_ranks) DT_TRY(r->ops->join_ranks(r->backend, r->comm, err));
    DT_TRY(r->ops->set_data(r->backend, &r->train, &r->test, r->has_validation ? &r->validation : NULL, err));
    r->ops->describe(r->backend, r->backend_text, sizeof r->backend_text);
    r->simd = r->ops->simd ? r->ops->simd(r->backend) : "";
    r->threads = cfg->runtime.threads > 0 ? cfg->runtime.threads : dt_available_cores();
    if (r->ops->gpu_info) {
        r->ops->gpu_info(r->backend, &r->gpu);
        r->has_gpu = 1;
        DT_TRY(gather_rank_gpus(r, err));
    }
cleanup:
    return status;
}

/* The loop's buffers for the run's step counts. */
static dt_status alloc_loop(run_state *r, dt_error *err) {
    const dt_config *cfg = r->cfg;
    const int64_t n_train = r->train.n_samples, spe = dt_steps_per_epoch(cfg, n_train);
    const int64_t total_steps = spe * cfg->train.epochs;
    r->progress.steps_per_epoch = spe;
    r->progress.total_steps = total_steps;
    r->progress.counters = dt_optim_counters_start();
    dt_grad_tree_init(&r->tree, cfg->train.microbatches);
    r->perm = malloc((size_t)n_train * sizeof(int64_t));
    r->step_loss = malloc(((size_t)total_steps + 1) * sizeof(float));
    r->step_lr = malloc(((size_t)total_steps + 1) * sizeof(float));
    r->results = malloc(DT_RESULT_LOG * sizeof *r->results);
    r->micro_loss = malloc((size_t)cfg->train.microbatches * sizeof(float));
    r->micro_parts = malloc((size_t)cfg->train.microbatches * sizeof(float *));
    if (!r->perm || !r->step_loss || !r->step_lr || !r->results || !r->micro_loss || !r->micro_parts)
        return dt_fail(err, DT_NOMEM, "out of memory for %lld steps", (long long)total_steps);
    return DT_OK;
}

/* Builds the net, loads the data, starts the backend and allocates the loop's buffers.
 * record_cfg: what the records say (NULL: cfg). */
static dt_status setup(run_state *r, const dt_config *cfg, const dt_config *record_cfg, dt_error *err) {
    dt_status status = DT_OK;
    r->cfg = cfg;
    r->record_cfg = record_cfg ? record_cfg : cfg;
    DT_TRY(check_ranks(r, err));
    DT_TRY(dt_net_build(&r->net, cfg, err)); /* the net depends on no runtime setting */
    DT_TRY(rank_config(r, err));
    cfg = r->cfg;
    DT_TRY(load_data(r, err));
    if (r->writer && cfg->train.batch_size > r->train.n_samples) {
        char note[160];
        snprintf(note, sizeof note, "detrain: warning: train.batch_size %d exceeds the %lld training samples: every step "
                 "takes the whole set", cfg->train.batch_size, (long long)r->train.n_samples);
        dt_progress_note(&r->ui, note);
    }
    DT_TRY(start_backend(r, err));
    dt_selector_init(&r->selector, cfg);
    DT_TRY(dt_host_state_alloc(&r->state, &r->net, err));
    DT_TRY(alloc_loop(r, err));
cleanup:
    return status;
}

/* The state before the first step: initial parameters, zero moments, step 0. */
static void start_fresh(run_state *r) {
    dt_net_init_params(&r->net, r->state.params, r->cfg->seed, r->cfg->model.init);
    memset(r->state.opt_m, 0, (size_t)r->net.n_params * sizeof(float));
    memset(r->state.opt_v, 0, (size_t)r->net.n_params * sizeof(float));
    r->progress.counters = dt_optim_counters_start();
    r->progress.epoch = 0;
    r->progress.position = r->progress.correct = r->progress.seen = 0;
}

/* DT_DATA naming the first file of ds whose digest is not the recorded one. */
static dt_status check_files(const dt_dataset *ds, int n_files, const dt_file_record *files, const char *what,
                             const char *source, dt_error *err) {
    if (ds->n_files != n_files)
        return dt_fail(err, DT_DATA, "%s: the %s set now has %d file(s), %s recorded %d", ds->files[0].path, what,
                       ds->n_files, source, n_files);
    for (int i = 0; i < n_files; i++)
        if (strcmp(ds->files[i].sha256, files[i].sha256) != 0)
            return dt_fail(err, DT_DATA, "%s: the data file changed since %s: recorded sha256 %s, now %s",
                           ds->files[i].path, source, files[i].sha256, ds->files[i].sha256);
    return DT_OK;
}

/* The loop's state from a checkpoint, after checking it belongs to this run's data. */
static dt_status start_from(run_state *r, const dt_checkpoint *ck, const char *ck_path, dt_error *err) {
    dt_status status = DT_OK;
    char source[DT_PATH_MAX + 32];
    snprintf(source, sizeof source, "checkpoint %s", ck_path);
    DT_TRY(check_files(&r->train, ck->n_train_files, ck->train_files, "training", source, err));
    DT_TRY(check_files(&r->test, ck->n_test_files, ck->test_files, "test", source, err));
    if (r->has_validation) {
        DT_TRY(check_files(&r->validation, ck->n_val_files, ck->val_files, "validation", source, err));
        if (strcmp(ck->val_indices_sha256, r->val_indices_sha256) != 0) {
            status = dt_fail(err, DT_CHECKPOINT, "%s: its validation split held out other samples (indices sha256 %s, now %s)",
                             ck_path, ck->val_indices_sha256, r->val_indices_sha256);
            goto cleanup;
        }
    }
    if (ck->net.n_params != r->net.n_params || ck->progress.steps_per_epoch != r->progress.steps_per_epoch ||
        ck->progress.total_steps != r->progress.total_steps) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: its model or step counts do not match the run's", ck_path);
        goto cleanup;
    }
    const size_t bytes = (size_t)r->net.n_params * sizeof(float), steps = (size_t)ck->progress.counters.step;
    memcpy(r->state.params, ck->state.params, bytes);
    memcpy(r->state.opt_m, ck->state.opt_m, bytes);
    memcpy(r->state.opt_v, ck->state.opt_v, bytes);
    memcpy(r->step_loss, ck->step_loss, steps * sizeof(float));
    memcpy(r->step_lr, ck->step_lr, steps * sizeof(float));
    r->progress = ck->progress;
cleanup:
    return status;
}

/* ---- the run folder --------------------------------------------------------------------------- */

/* Whether a folder entry is ".", "..", or what a run that died before its first manifest
 * leaves: its .lock and temporary files (which the next lock holder removes: dt_lock_dir). */
static int leftover_of_a_run(const char *name) {
    const size_t len = strlen(name);
    return !strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".lock") ||
           (len > 4 && !strcmp(name + len - 4, ".tmp"));
}

/* <store>/<name>-<UTC time> (the project's store, registry/store.h), or the given folder;
 * refuses a folder that holds a run or any other file. */
static dt_status make_run_dir(const dt_config *cfg, const char *out_dir, char *run_dir, size_t size, dt_error *err) {
    if (out_dir) {
        if (dt_path_check(out_dir, size, err) != DT_OK) return DT_USAGE;
        snprintf(run_dir, size, "%s", out_dir);
    } else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        dt_store store;
        if (dt_store_find(&store, NULL, err) != DT_OK) return DT_USAGE;
        if ((size_t)snprintf(run_dir, size, "%s/%s-%s", store.path, cfg->name, stamp) >= size)
            return dt_fail(err, DT_USAGE, "%s: the store's path is too long for a run folder", store.path);
    }
    char manifest[DT_PATH_MAX + 32];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", run_dir);
    if (dt_file_exists(manifest))
        return dt_fail(err, DT_USAGE, "%s: already holds a run (manifest.json); choose another --out, or continue it with 'detrain resume %s'",
                       run_dir, run_dir);
    /* a run folder is the run's alone: --out data or --out . would mix its files with others */
    const char *other = NULL;
    DIR *dir = opendir(run_dir);
    for (struct dirent *entry; dir && !other && (entry = readdir(dir)) != NULL;)
        if (!leftover_of_a_run(entry->d_name)) other = entry->d_name;
    const dt_status status = other ? dt_fail(err, DT_USAGE, "%s: the folder exists and holds other files (%s); --out "
                                             "needs a new or empty folder", run_dir, other)
                                   : DT_OK;
    if (dir) closedir(dir);
    return status == DT_OK ? dt_mkdirs(run_dir, err) : status;
}

/* What the manifest says about this process. */
static dt_run_info run_info(const run_state *r, const dt_train_opts *opts) {
    dt_run_info info = {.cfg = r->record_cfg,
                        .net = &r->net,
                        .argc = opts->argc,
                        .argv = opts->argv,
                        .train = &r->train,
                        .test = &r->test,
                        .validation = r->has_validation ? &r->validation : NULL,
                        .validation_split = r->cfg->data.has_validation_split ? r->cfg->data.validation_split : 0.0f,
                        .validation_indices_sha256 = r->val_indices_sha256,
                        .backend = r->backend_text,
                        .device_note = r->device_note,
                        .simd = r->simd,
                        .threads = r->threads,
                        .gpu = r->has_gpu ? &r->gpu : NULL,
                        .world_size = r->world,
                        .rank_gpus = r->rank_gpus,
                        .transport = r->world == 1 ? "none" : r->has_gpu && r->gpu.nccl[0] ? "nccl" : "mpi",
                        .started_from = opts->start_checkpoint,
                        .test_perturb = r->perturb};
    return info;
}

/* Writes the current state as `file` in the run folder and lists it in the manifest; prunes
 * old checkpoints unless this is final.h5. */
static dt_status write_checkpoint(run_state *r, const char *file, const char *reason, dt_error *err) {
    dt_status status = DT_OK;
    char params_sha[65], file_sha[65];
    DT_TRY(r->ops->get_state(r->backend, &r->state, err));
    if (r->world > 1) {
        /* Every rank must hold the same parameters; a difference stops the run. */
        char what[96];
        dt_params_sha256(&r->net, r->state.params, params_sha);
        snprintf(what, sizeof what, "the parameter digest at step %lld", (long long)r->progress.counters.step);
        DT_TRY(dt_comm_check_same(r->comm, params_sha, what, err));
    }
    if (!r->writer) goto cleanup;
    const dt_validation_view validation = {&r->validation,
                                           r->cfg->data.has_validation_split ? r->cfg->data.validation_split : 0.0f,
                                           r->val_indices_sha256};
    dt_checkpoint_view view = {r->record_cfg, &r->net,        &r->state, &r->progress, r->step_loss, r->step_lr,
                               &r->train,    &r->test,       r->norm_mean, r->norm_std,
                               r->has_validation ? &validation : NULL, r->selector.active};
    snprintf(r->last_checkpoint, sizeof r->last_checkpoint, "%s/%s", r->run_dir, file);
    DT_TRY(dt_checkpoint_write(r->last_checkpoint, &view, params_sha, file_sha, err));
    dt_checkpoint_record rec = {file,
                                reason,
                                (int64_t)r->progress.counters.step,
                                r->progress.epoch,
                                r->progress.position,
                                dt_file_size(r->last_checkpoint),
                                file_sha,
                                params_sha};
    DT_TRY(dt_manifest_checkpoint(&r->manifest, &rec, err));
    if (strcmp(reason, "final") != 0 && strcmp(reason, "best") != 0)
        DT_TRY(dt_manifest_prune(&r->manifest, r->cfg->checkpoint.keep, err));
cleanup:
    return status;
}

/* "checkpoint-000000012.h5" for step 12. */
static void step_file_name(int64_t step, char *out, size_t size) {
    snprintf(out, size, "checkpoint-%09lld.h5", (long long)step);
}

/* Whether the run must stop now: a signal arrived, or the testing aid's step was reached.
 * With several ranks they agree (any rank's signal stops all at the same step). */
static int stop_requested(run_state *r, const dt_train_opts *opts) {
    int64_t stop = stop_signal != 0 ||
                   (opts->stop_after_steps > 0 && (int64_t)r->progress.counters.step >= opts->stop_after_steps);
    if (r->world > 1) {
        dt_error ignored;
        if (dt_comm_sum_i64(r->comm, &stop, 1, &ignored) != DT_OK) return 1;
    }
    return stop != 0;
}

/* Stops between steps: checkpoint, trace, manifest "interrupted"; returns DT_INTERRUPTED. */
static dt_status interrupt(run_state *r, dt_error *err) {
    dt_status status = DT_OK;
    char file[64];
    const int64_t step = (int64_t)r->progress.counters.step;
    stopping = 1;
    step_file_name(step, file, sizeof file);
    /* the record says "interrupted" before the checkpoint is begun, so a second signal that
     * ends the process during it leaves a record that resume and runs read right */
    if (r->writer) DT_TRY(dt_manifest_finish(&r->manifest, "interrupted", NULL, NULL, NULL, err));
    DT_TRY(write_checkpoint(r, file, "interrupt", err));
    if (r->writer) {
        DT_TRY(dt_trace_write(r->run_dir, r->step_loss, r->step_lr, step, r->progress.steps_per_epoch, err));
        DT_TRY(dt_manifest_finish(&r->manifest, "interrupted", NULL, NULL, NULL, err));
    }
    status = dt_fail(err, DT_INTERRUPTED, "interrupted after step %lld of %lld%s; checkpoint %s; continue with: detrain resume %s",
                     (long long)step, (long long)r->progress.total_steps,
                     stop_signal == SIGINT ? " (SIGINT)" : stop_signal == SIGTERM ? " (SIGTERM)" : "", r->last_checkpoint,
                     r->run_dir);
cleanup:
    return status;
}

/* Evaluates after the epoch that just ended, takes it into the selection (*is_best: it is the
 * best epoch so far) and records its metrics and the trace. */
static dt_status end_epoch(run_state *r, double t_epoch, double train_seconds, int64_t seen_here, int *is_best,
                           dt_error *err) {
    dt_status status = DT_OK;
    const dt_config *cfg = r->cfg;
    const dt_train_progress *p = &r->progress;
    const int64_t spe = p->steps_per_epoch, epoch = p->epoch;
    const int is_classifier = cfg->loss.kind == DT_LOSS_SOFTMAX_CE;
    dt_eval_result eval;
    DT_TRY(r->ops->evaluate(r->backend, DT_SET_TEST, &eval, err));
    dt_epoch_metrics m = {0};
    m.epoch = (int)epoch + 1;
    m.steps = (int64_t)p->counters.step;
    m.train_loss = dt_cpu_sum_fixed(r->step_loss + epoch * spe, spe) / (float)spe;
    m.train_accuracy = is_classifier && p->seen ? (double)p->correct / (double)p->seen : NAN;
    m.train_correct = is_classifier ? p->correct : 0;
    m.train_seen = p->seen;
    m.test_loss = (float)eval.loss;
    m.test_accuracy = is_classifier ? (double)eval.correct / (double)eval.n_samples : NAN;
    m.test_correct = is_classifier ? eval.correct : 0;
    m.test_samples = eval.n_samples;
    m.seconds = dt_now_seconds() - t_epoch;
    m.samples_per_s = train_seconds > 0 ? (double)seen_here / train_seconds : 0.0;
    m.lr = r->step_lr[(epoch + 1) * spe - 1];
    if (r->has_validation) {
        DT_TRY(r->ops->evaluate(r->backend, DT_SET_VALIDATION, &eval, err));
        m.has_validation = 1;
        m.val_loss = (float)eval.loss;
        m.val_accuracy = is_classifier ? (double)eval.correct / (double)eval.n_samples : NAN;
        m.val_correct = is_classifier ? eval.correct : 0;
        m.val_samples = eval.n_samples;
    }
    r->last = m;
    *is_best = dt_selector_update(&r->selector, &m, &r->progress);
    const dt_progress_metrics line = {m.train_loss, m.train_accuracy, m.has_validation ? m.val_loss : NAN,
                                      m.has_validation ? m.val_accuracy : NAN, m.test_loss, m.test_accuracy,
                                      *is_best, m.seconds, m.samples_per_s};
    dt_progress_epoch(&r->ui, m.epoch, cfg->train.epochs, &line);
    if (r->writer) {
        if (r->tracker) dt_manifest_set(&r->manifest, "tracking", dt_tracker_record(r->tracker), 0, err);
        if (r->selector.active)
            DT_TRY(dt_manifest_set(&r->manifest, "selection", dt_selector_json(&r->selector, p), 0, err));
        DT_TRY(dt_manifest_epoch(&r->manifest, &m, err));
        DT_TRY(dt_trace_write(r->run_dir, r->step_loss, r->step_lr, m.steps, spe, err));
        if (r->tracker) dt_tracker_post(r->tracker, r->manifest.root);
    }
cleanup:
    return status;
}

/* The end of the run: final.h5, the parameter digest, the manifest's final block. */
static dt_status finish(run_state *r, dt_train_summary *summary, dt_error *err) {
    dt_status status = DT_OK;
    DT_TRY(write_checkpoint(r, "final.h5", "final", err));
    dt_params_sha256(&r->net, r->state.params, summary->params_sha256);
    summary->test_accuracy = r->last.test_accuracy;
    summary->test_loss = r->last.test_loss;
    summary->steps = (int64_t)r->progress.counters.step;
    if (r->writer) DT_TRY(dt_manifest_finish(&r->manifest, "completed", &r->last, summary->params_sha256, NULL, err));
cleanup:
    return status;
}

/* Takes the results of the last `count` steps, oldest first, from r->results: their losses
 * into the trace, their correct counts into the epoch's. DT_NUMERIC naming the first step
 * whose loss is not finite. */
static dt_status take_results(run_state *r, int count, dt_error *err) {
    const int64_t first = (int64_t)r->progress.counters.step - count;
    for (int i = 0; i < count; i++) {
        if (!isfinite(r->results[i].loss))
            return dt_fail(err, DT_NUMERIC, "step %lld: the loss is not finite (%g); try a smaller optimizer.lr",
                           (long long)(first + i) + 1, (double)r->results[i].loss);
        r->step_loss[first + i] = r->results[i].loss;
        r->progress.correct += r->results[i].correct;
    }
    r->last_collect = dt_now_seconds();
    return DT_OK;
}

/* Collects the results of the steps the backend has not reported yet (it keeps the last
 * DT_RESULT_LOG; a step does not wait for the device) and takes them. */
static dt_status collect(run_state *r, dt_error *err) {
    if (r->pending == 0) return DT_OK;
    const dt_status status = r->ops->collect_results(r->backend, r->results, r->pending, err);
    if (status != DT_OK) return status;
    const int count = r->pending;
    r->pending = 0;
    return take_results(r, count, err);
}

/* One step as the tree of microbatches and ranks (docs/numerics.md, "Microbatches and
 * ranks"): this rank's microbatches [rank·M/P, (rank+1)·M/P) of the batch, each a gradient
 * of its share of the global batch's loss, added in the tree; then the tree over ranks;
 * then the update. The loss sums take the same tree. Synchronous. */
static dt_status tree_step(run_state *r, const dt_step_desc *step, int64_t start, dt_step_result *result,
                           dt_error *err) {
    dt_status status = DT_OK;
    const int m = r->cfg->train.microbatches, per_rank = m / r->world, k0 = r->rank * per_rank;
    float *loss_parts = r->micro_loss, **parts = r->micro_parts;
    int64_t correct = 0;
    for (int k = 0; k < per_rank; k++) {
        const int64_t lo = (int64_t)(k0 + k) * step->batch / m, hi = (int64_t)(k0 + k + 1) * step->batch / m;
        dt_step_desc micro = *step;
        micro.sample_index = step->sample_index + lo;
        micro.order_offset = step->order_offset >= 0 ? step->order_offset + lo : -1;
        micro.batch = (int32_t)(hi - lo);
        micro.loss_divisor = (float)step->batch;
        dt_op_trace_microbatch(r->trace, k0 + k, m);
        dt_step_result part;
        DT_TRY(r->ops->gradients(r->backend, &micro, &part, err));
        DT_TRY(dt_backend_grads_push(r->ops, r->backend, &r->tree, err));
        loss_parts[k] = part.loss_sum;
        parts[k] = &loss_parts[k];
        correct += part.correct;
    }
    DT_TRY(dt_backend_grads_pop(r->ops, r->backend, &r->tree, err));
    float loss_sum = 0.0f;
    dt_tree_sum(parts, per_rank, 1, &loss_sum);
    if (r->world > 1) {
        DT_TRY(r->ops->reduce_grads(r->backend, r->comm, err));
        DT_TRY(dt_comm_tree_sum(r->comm, &loss_sum, 1, err));
        DT_TRY(dt_comm_sum_i64(r->comm, &correct, 1, err));
    }
    DT_TRY(r->ops->apply_update(r->backend, &step->scalars, result, err));
    result->loss_sum = loss_sum;
    result->loss = loss_sum / (float)step->batch;
    result->correct = correct;
cleanup:
    return status;
}

/* Starts the trace's step (1-based) and reports the state entering it, from the backend: a
 * traced step's first operations. The test-only fault may change it (then uploaded). */
static dt_status trace_state(run_state *r, int64_t step, dt_error *err) {
    dt_status status = DT_OK;
    dt_op_trace_begin_step(r->trace, step);
    if (!dt_op_trace_active(r->trace)) return DT_OK;
    DT_TRY(r->ops->get_state(r->backend, &r->state, err));
    int changed = dt_op_trace_see_layers(r->trace, DT_OP_STATE, "", &r->net, r->state.params);
    changed |= dt_op_trace_see_layers(r->trace, DT_OP_STATE, "m.", &r->net, r->state.opt_m);
    if (r->cfg->optimizer.kind != DT_OPT_SGD)
        changed |= dt_op_trace_see_layers(r->trace, DT_OP_STATE, "v.", &r->net, r->state.opt_v);
    if (changed) DT_TRY(r->ops->set_state(r->backend, &r->state, err));
cleanup:
    return status;
}

/* One optimizer step on rows [start, start + batch) of the epoch's order. The backend is not
 * waited for: its results are collected in batches (collect). With microbatches or ranks the
 * step is the tree, whose result the host has at once. */
static dt_status train_one_step(run_state *r, int64_t start, int32_t this_batch, dt_error *err) {
    const dt_config *cfg = r->cfg;
    dt_train_progress *p = &r->progress;
    const int64_t global = (int64_t)p->counters.step;
    dt_step_desc step = {.sample_index = r->perm + start,
                         .order_offset = r->ops->set_order ? start : -1,
                         .batch = this_batch,
                         .step = (uint64_t)global};
    const float lr = dt_schedule_lr(cfg, (uint64_t)global, (uint64_t)p->total_steps);
    dt_optim_next(cfg, lr, &p->counters, &step.scalars);
    r->step_lr[global] = lr;
    p->seen += this_batch;
    p->position = start + cfg->train.batch_size;
    dt_status status = DT_OK;
    DT_TRY(trace_state(r, global + 1, err));
    if (cfg->train.microbatches > 1 || r->world > 1) {
        DT_TRY(tree_step(r, &step, start, &r->results[0], err));
        DT_TRY(dt_op_trace_status(r->trace, err));
        return take_results(r, 1, err);
    }
    DT_TRY(r->ops->train_step(r->backend, &step, NULL, err));
    DT_TRY(dt_op_trace_status(r->trace, err));
    if (++r->pending == DT_RESULT_LOG) DT_TRY(collect(r, err));
cleanup:
    return status;
}

/* Says why the run ends before its last epoch. */
static void note_stopped_early(run_state *r) {
    char line[256];
    const dt_train_progress *p = &r->progress;
    snprintf(line, sizeof line, "detrain: stopped early after epoch %d of %d: %s has not improved for %d epochs "
             "(best %.6g at epoch %d, best.h5)", p->epoch, r->cfg->train.epochs, dt_metric_name(r->selector.metric),
             p->since_best, p->best_value, p->best_epoch);
    dt_progress_note(&r->ui, line);
}

/* The live line after step s + 1 of spe in the epoch that began at t_epoch. */
static void show_step(run_state *r, int64_t s, double t_epoch, int64_t seen_here, double now) {
    const dt_config *cfg = r->cfg;
    const dt_train_progress *p = &r->progress;
    const int64_t batch = cfg->train.batch_size;
    const double elapsed = now - t_epoch, rate = elapsed > 0 ? (double)seen_here / elapsed : 0.0;
    const double remaining = (double)(p->total_steps - (int64_t)p->counters.step) * batch / (rate > 0 ? rate : 1.0);
    const double accuracy = cfg->loss.kind == DT_LOSS_SOFTMAX_CE ? (double)p->correct / (double)p->seen : NAN;
    dt_progress_step(&r->ui, p->epoch + 1, cfg->train.epochs, s + 1, p->steps_per_epoch,
                     r->step_loss[p->counters.step - 1], accuracy, rate, remaining);
}

/* The steps of the current epoch from r->progress.position to its last (*seen_here: the
 * samples trained here). After each step but the last it may stop (signal: DT_INTERRUPTED)
 * or write a step checkpoint; the epoch's end is run_loop's. */
static dt_status train_epoch(run_state *r, const dt_train_opts *opts, double t_epoch, int64_t *seen_here,
                             dt_error *err) {
    dt_status status = DT_OK;
    dt_train_progress *p = &r->progress;
    const int64_t n_train = r->train.n_samples, batch = r->cfg->train.batch_size;
    const int64_t spe = p->steps_per_epoch, every = r->cfg->checkpoint.every_steps;
    char file[64];
    for (int64_t s = p->position / batch; s < spe; s++) {
        const int64_t start = s * batch;
        const int32_t this_batch = (int32_t)(n_train - start < batch ? n_train - start : batch);
        DT_TRY(train_one_step(r, start, this_batch, err));
        *seen_here += this_batch;
        const int last_of_epoch = s + 1 == spe, stop = !last_of_epoch && stop_requested(r, opts);
        const int checkpoint = !last_of_epoch && every > 0 && (int64_t)p->counters.step % every == 0;
        const double now = dt_now_seconds();
        if (last_of_epoch || stop || checkpoint || (r->ui.live && now - r->last_collect >= 0.1)) {
            DT_TRY(collect(r, err));
            show_step(r, s, t_epoch, *seen_here, now);
        }
        if (stop) return interrupt(r, err);
        if (checkpoint) {
            step_file_name((int64_t)p->counters.step, file, sizeof file);
            DT_TRY(write_checkpoint(r, file, "every_steps", err));
        }
    }
cleanup:
    return status;
}

/* After an epoch's steps: evaluate and record it (best.h5 when it is the best), then decide
 * whether the run goes on (*more), stops (a signal: DT_INTERRUPTED) or writes an epoch
 * checkpoint. Checkpoints are only taken after an ended epoch's evaluation, so a
 * checkpoint's state always has every finished epoch recorded. */
static dt_status end_of_epoch(run_state *r, const dt_train_opts *opts, double t_epoch, int64_t seen_here, int *more,
                              dt_error *err) {
    dt_status status = DT_OK;
    const dt_config *cfg = r->cfg;
    dt_train_progress *p = &r->progress;
    const int64_t every = cfg->checkpoint.every_steps;
    char file[64];
    int is_best = 0;
    *more = 0;
    DT_TRY(end_epoch(r, t_epoch, dt_now_seconds() - t_epoch, seen_here, &is_best, err));
    p->epoch++;
    p->position = p->correct = p->seen = 0;
    if (is_best) DT_TRY(write_checkpoint(r, "best.h5", "best", err));
    if (p->stopped_early) {
        note_stopped_early(r);
        return DT_OK; /* final.h5 follows */
    }
    if (p->epoch == cfg->train.epochs) return DT_OK; /* final.h5 follows */
    if (stop_requested(r, opts)) return interrupt(r, err);
    if (cfg->checkpoint.every_epoch || (every > 0 && (int64_t)p->counters.step % every == 0)) {
        step_file_name((int64_t)p->counters.step, file, sizeof file);
        DT_TRY(write_checkpoint(r, file, cfg->checkpoint.every_epoch ? "epoch" : "every_steps", err));
    }
    *more = 1;
cleanup:
    return status;
}

/* The one training loop: from wherever r->progress stands to the end of the run (final.h5),
 * an epoch at a time: its order of samples, its steps, then its evaluation. */
static dt_status run_loop(run_state *r, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err) {
    dt_status status = DT_OK;
    dt_train_progress *p = &r->progress;
    int more = p->epoch < r->cfg->train.epochs;
    r->last_collect = dt_now_seconds();
    while (more) {
        const double t_epoch = dt_now_seconds();
        int64_t seen_here = 0;
        epoch_permutation(r->perm, r->train.n_samples, r->cfg->seed, p->epoch, r->cfg->train.shuffle);
        if (r->ops->set_order) DT_TRY(r->ops->set_order(r->backend, r->perm, r->train.n_samples, err));
        DT_TRY(train_epoch(r, opts, t_epoch, &seen_here, err));
        DT_TRY(end_of_epoch(r, opts, t_epoch, seen_here, &more, err));
    }
    DT_TRY(finish(r, summary, err));
cleanup:
    return status;
}

/* Notes the run in the runs index of the project's store (registry/runs.h), as it starts
 * and as it ends. The index is a cache that the next listing repairs: a failure (a busy or
 * full disk) costs the run nothing and says nothing. */
static void note_run(const run_state *r, const dt_train_opts *opts) {
    if (!r->writer || !r->manifest_open || opts->unindexed) return;
    dt_error ignored;
    dt_runs_note(r->run_dir, &ignored);
}

/* Starts MLflow tracking when a server is configured (tracking/tracker.h): rank 0 of train and
 * resume only (a replay is never tracked). The record's first "tracking" block is written. */
static dt_status start_tracking(run_state *r, const dt_train_opts *opts, dt_error *err) {
    if (!r->writer || !opts->track) return DT_OK;
    dt_status status = DT_OK;
    const cJSON *record = cJSON_GetObjectItemCaseSensitive(r->manifest.root, "tracking");
    dt_tracking_settings settings;
    DT_TRY(dt_tracking_resolve(r->record_cfg, opts->mlflow_uri, record, dt_run_record_string(r->manifest.root, "experiment"),
                               &settings, err));
    if (!settings.uri[0]) return DT_OK;
    dt_http_global_init();
    DT_TRY(dt_tracker_start(&r->tracker, &settings, r->run_dir, record, err));
    DT_TRY(dt_manifest_set(&r->manifest, "tracking", dt_tracker_record(r->tracker), 1, err));
    dt_tracker_post(r->tracker, r->manifest.root);
cleanup:
    return status;
}

/* The last MLflow update of a tracked run, however it ended: a completed run's model (best.h5
 * when it selected one, else final.h5) exported (ONNX, safetensors) and logged with the run folder's files; waits at most 30 s for a server
 * that answers, 10 s for one that does not; the manifest records what was sent. */
static void end_tracking(run_state *r) {
    if (!r->tracker) return;
    dt_error ignored;
    char model[DT_PATH_MAX + 16], which[160];
    dt_export_models_dir models;
    memset(&models, 0, sizeof models);
    /* the model is the run's selected checkpoint, as eval/predict/export RUN take it */
    if (strcmp(dt_run_record_string(r->manifest.root, "status"), "completed") == 0 &&
        dt_run_selected_checkpoint(r->run_dir, model, sizeof model, which, sizeof which, &ignored) == DT_OK)
        dt_export_models(model, &models);
    dt_tracker_finish(r->tracker, r->manifest.root, models.n ? models.dir : NULL, 30.0);
    dt_manifest_set(&r->manifest, "tracking", dt_tracker_record(r->tracker), 1, &ignored);
    dt_export_models_remove(&models);
}

/* Marks the manifest failed (keeping err's message) when a run that has a manifest fails. */
static void record_failure(run_state *r, dt_status status, const dt_error *err) {
    if (status == DT_OK || status == DT_INTERRUPTED || !r->manifest_open) return;
    dt_error ignored;
    dt_manifest_finish(&r->manifest, "failed", NULL, NULL, err->message, &ignored);
}

/* Joins the run to the job's ranks: rank 0 writes the run folder, the others compute the
 * same steps and stay quiet. */
static void join_ranks(run_state *r, const dt_train_opts *opts) {
    r->comm = opts->comm;
    r->rank = r->comm ? dt_comm_rank(r->comm) : 0;
    r->world = r->comm ? dt_comm_size(r->comm) : 1;
    r->writer = r->rank == 0;
}

/* Every rank takes rank 0's run folder name (the default name holds the time). */
static dt_status share_run_dir(run_state *r, dt_error *err) {
    if (r->world == 1) return DT_OK;
    return dt_comm_broadcast(r->comm, r->run_dir, (int)sizeof r->run_dir, err);
}

/* The manifest's "selection" block as the run's progress stands (runs that select). */
static dt_status record_selection(run_state *r, dt_error *err) {
    if (!r->writer || !r->selector.active) return DT_OK;
    return dt_manifest_set(&r->manifest, "selection", dt_selector_json(&r->selector, &r->progress), 1, err);
}

/* Whether the run has nothing left to train: its last step, or early stopping, is behind it. */
static int run_done(const dt_train_progress *p) {
    return (int64_t)p->counters.step == p->total_steps || p->stopped_early;
}

/* The line that says what runs where. */
static void announce(run_state *r, const char *verb) {
    char line[DT_PATH_MAX + 512];
    if (r->device_note[0]) dt_progress_note(&r->ui, r->device_note);
    snprintf(line, sizeof line, "detrain: %s %s on %s, %lld parameters, steps %lld..%lld of %lld, run folder %s", verb,
             r->cfg->name, r->backend_text, (long long)r->net.n_params, (long long)r->progress.counters.step + 1,
             (long long)r->progress.total_steps, (long long)r->progress.total_steps, r->run_dir);
    dt_progress_note(&r->ui, line);
}

/* ---- the begin and end of every run ---------------------------------------------------------- */

/* A run_state for a run of this process: its ranks, its progress output, and SIGINT and SIGTERM
 * routed to it (before anything lasts long: a signal now stops after the first step). Zeroes
 * summary. NULL when out of memory. */
static run_state *run_begin(const dt_train_opts *opts, dt_train_summary *summary) {
    memset(summary, 0, sizeof *summary);
    run_state *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->lock_fd = -1;
    r->t_start = dt_now_seconds();
    r->trace = opts->trace;
    dt_op_trace_perturbation_text(opts->trace, r->perturb, sizeof r->perturb);
    join_ranks(r, opts);
    dt_progress_init(&r->ui, opts->quiet || !r->writer);
    signals_install(&r->signals);
    return r;
}

/* Ends a run however it went (status): a failure goes into the manifest, tracking and the runs
 * index hear of the end, summary gets the time and the step counts, everything r holds is
 * released and the signals are routed back. Returns status. */
static dt_status run_end(run_state *r, const dt_train_opts *opts, dt_train_summary *summary, dt_status status,
                         const dt_error *err) {
    record_failure(r, status, err);
    if (r->manifest_open) end_tracking(r);
    note_run(r, opts);
    summary->seconds = dt_now_seconds() - r->t_start;
    summary->total_steps = r->progress.total_steps;
    if (!summary->steps) summary->steps = (int64_t)r->progress.counters.step;
    signal_guard signals = r->signals;
    release(r);
    free(r);
    signals_restore(&signals);
    return status;
}

/* ---- train ------------------------------------------------------------------------------------ */

/* The state of checkpoint `path` (verify --from), after checking it is cfg's run's. */
static dt_status start_from_file(run_state *r, const dt_config *cfg, const char *path, dt_error *err) {
    dt_status status = DT_OK;
    DT_TRY(dt_checkpoint_read(path, &r->start, err));
    DT_TRY(dt_check_same_config(cfg, cfg->source_path, &r->start, path, err));
    DT_TRY(start_from(r, &r->start, path, err));
    dt_checkpoint_free(&r->start);
cleanup:
    return status;
}

/* A new run folder: the state (fresh, or from opts->start_checkpoint), the folder and its
 * record, then the loop. */
static dt_status train_run(run_state *r, const dt_config *cfg, const dt_train_opts *opts, dt_train_summary *summary,
                           dt_error *err) {
    dt_status status = DT_OK;
    DT_TRY(setup(r, cfg, opts->record_config, err));
    /* The checkpoint must be the recorded run's: checked against the recorded config (the one
     * run here may differ in how it runs: threads, device, data paths). */
    if (opts->start_checkpoint) DT_TRY(start_from_file(r, r->record_cfg, opts->start_checkpoint, err));
    else start_fresh(r);
    DT_TRY(r->ops->set_state(r->backend, &r->state, err));
    if (r->writer) {
        DT_TRY(make_run_dir(cfg, opts->out_dir, r->run_dir, sizeof r->run_dir, err));
        DT_TRY(dt_lock_dir(r->run_dir, &r->lock_fd, err));
    }
    DT_TRY(share_run_dir(r, err));
    snprintf(summary->run_dir, sizeof summary->run_dir, "%s", r->run_dir);
    if (r->writer) {
        dt_run_info info = run_info(r, opts);
        DT_TRY(dt_manifest_begin(&r->manifest, r->run_dir, &info, err));
        r->manifest_open = 1;
        DT_TRY(record_selection(r, err));
        note_run(r, opts);
        DT_TRY(start_tracking(r, opts, err));
    }
    announce(r, "training");
    status = run_loop(r, opts, summary, err);
cleanup:
    return status;
}

dt_status dt_train(const dt_config *cfg, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err) {
    run_state *r = run_begin(opts, summary);
    if (!r) return dt_fail(err, DT_NOMEM, "out of memory");
    return run_end(r, opts, summary, train_run(r, cfg, opts, summary, err), err);
}

/* ---- resume ----------------------------------------------------------------------------------- */

/* A checkpoint file of a run folder and its step. */
typedef struct {
    char file[64];
    int64_t step;
} candidate;

/* Orders candidates newest first (final.h5 is the newest of all). */
static int newest_first(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    return x->step < y->step ? 1 : x->step > y->step ? -1 : 0;
}

/* The checkpoint files in run_dir (checkpoint-<step>.h5 and final.h5), newest first, into a
 * malloc'ed array (*n of them). */
static dt_status list_candidates(const char *run_dir, candidate **out, int *n, dt_error *err) {
    *out = NULL;
    *n = 0;
    DIR *dir = opendir(run_dir);
    if (!dir) return dt_fail(err, DT_IO, "%s: cannot read the run folder: %s", run_dir, strerror(errno));
    int cap = 0;
    struct dirent *entry;
    dt_status status = DT_OK;
    while ((entry = readdir(dir)) != NULL) {
        long long step = 0;
        char tail[8] = "";
        const int is_final = strcmp(entry->d_name, "final.h5") == 0;
        if (!is_final && (sscanf(entry->d_name, "checkpoint-%lld.%7s", &step, tail) != 2 || strcmp(tail, "h5") != 0))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            candidate *bigger = realloc(*out, (size_t)cap * sizeof *bigger);
            if (!bigger) {
                status = dt_fail(err, DT_NOMEM, "out of memory listing %s", run_dir);
                break;
            }
            *out = bigger;
        }
        snprintf((*out)[*n].file, sizeof (*out)[*n].file, "%.63s", entry->d_name);
        (*out)[*n].step = is_final ? INT64_MAX : step;
        (*n)++;
    }
    closedir(dir);
    if (*n > 1) qsort(*out, (size_t)*n, sizeof **out, newest_first);
    return status;
}

/* The manifest's entry for a checkpoint file, or NULL. */
static const cJSON *listed_checkpoint(const dt_manifest *m, const char *file) {
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(m->root, "checkpoints")) {
        const char *name = dt_run_record_string(entry, "file");
        if (!strcmp(name, file)) return entry;
    }
    return NULL;
}

/* Reads and checks one candidate: when the manifest lists it, that its bytes are the ones
 * recorded (before HDF5 parses them), then its tensors. */
static dt_status load_candidate(const dt_manifest *m, const char *file, dt_checkpoint *ck, char *path, size_t size,
                                dt_error *err) {
    snprintf(path, size, "%s/%s", m->run_dir, file);
    const cJSON *entry = listed_checkpoint(m, file);
    return dt_checkpoint_read_recorded(path, entry ? dt_run_record_string(entry, "sha256") : "", ck, err);
}

/* Finds the newest checkpoint of the run that reads back intact into ck (*found = 0 when the
 * folder has none at all). A damaged newer one is skipped with a note; when every one is
 * damaged, the newest one's problem is the error. */
static dt_status newest_valid_checkpoint(run_state *r, dt_checkpoint *ck, char *path, size_t size, int *found,
                                         dt_error *err) {
    candidate *list = NULL;
    int n = 0;
    *found = 0;
    dt_status status = list_candidates(r->manifest.run_dir, &list, &n, err);
    dt_error first_err = {""};
    dt_status first_status = DT_OK;
    for (int i = 0; i < n && status == DT_OK && !*found; i++) {
        dt_error why;
        dt_status s = load_candidate(&r->manifest, list[i].file, ck, path, size, &why);
        if (s == DT_OK) {
            *found = 1;
            break;
        }
        dt_checkpoint_free(ck);
        if (first_status == DT_OK) first_status = s, first_err = why;
        char note[DT_ERROR_MAX + 32];
        snprintf(note, sizeof note, "detrain: skipping %s", why.message);
        dt_progress_note(&r->ui, note);
    }
    free(list);
    if (status == DT_OK && n > 0 && !*found) {
        *err = first_err;
        status = first_status;
    }
    return status;
}

/* Checks the data against the manifest's record (a run resumed from its start has no
 * checkpoint to compare with). */
static dt_status check_recorded_data(run_state *r, dt_error *err) {
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(r->manifest.root, "data");
    const dt_dataset *sets[2] = {&r->train, &r->test};
    const char *names[2] = {"train", "test"};
    for (int d = 0; d < 2; d++) {
        const cJSON *files = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, names[d]), "files");
        dt_file_record recorded[DT_MAX_DATA_FILES];
        int n = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, files) {
            if (n == DT_MAX_DATA_FILES) break;
            snprintf(recorded[n].sha256, sizeof recorded[n].sha256, "%s", dt_run_record_string(f, "sha256"));
            n++;
        }
        dt_status status = check_files(sets[d], n, recorded, names[d], r->manifest.path, err);
        if (status != DT_OK) return status;
    }
    return DT_OK;
}

/* Completes the record of a run whose last step is done (final.h5 exists) but whose
 * manifest does not say "completed" yet. */
static dt_status complete_record(run_state *r, dt_train_summary *summary, dt_error *err) {
    if (dt_manifest_epoch_metrics(&r->manifest, r->progress.epoch, &r->last) != 0)
        return dt_fail(err, DT_CHECKPOINT, "%s: lists no metrics for the last epoch %d", r->manifest.path,
                       r->progress.epoch);
    dt_params_sha256(&r->net, r->state.params, summary->params_sha256);
    summary->test_accuracy = r->last.test_accuracy;
    summary->test_loss = r->last.test_loss;
    summary->steps = (int64_t)r->progress.counters.step;
    dt_status status = dt_trace_write(r->run_dir, r->step_loss, r->step_lr, summary->steps,
                                      r->progress.steps_per_epoch, err);
    if (status != DT_OK) return status;
    return dt_manifest_finish(&r->manifest, "completed", &r->last, summary->params_sha256, NULL, err);
}

/* resume --device: another device for the rest of a portable run, the one mode whose bits do
 * not depend on it. DT_USAGE for an unknown device or a run in another mode. */
static dt_status resume_device(dt_config *cfg, const char *device, dt_error *err) {
    dt_device_kind kind = DT_DEVICE_AUTO;
    if (!strcmp(device, "cpu")) kind = DT_DEVICE_CPU;
    else if (!strcmp(device, "cuda")) kind = DT_DEVICE_CUDA;
    else if (strcmp(device, "auto") != 0)
        return dt_fail(err, DT_USAGE, "resume --device: expected cpu, cuda or auto, got '%s'", device);
    if (kind != cfg->runtime.device && cfg->runtime.mode != DT_MODE_PORTABLE)
        return dt_fail(err, DT_USAGE,
                       "resume --device %s: this run is in %s mode, whose bits hold only on the device it ran on "
                       "(%s); only portable runs may move",
                       device, dt_mode_name(cfg->runtime.mode), dt_device_name(cfg->runtime.device));
    cfg->runtime.device = kind;
    return DT_OK;
}

/* Opens the run's record and takes its folder; reads the recorded config (its digest into
 * config_sha). */
static dt_status open_record(run_state *r, const char *run_dir, char config_sha[65], dt_error *err) {
    dt_status status = DT_OK;
    r->recorded_cfg = calloc(1, sizeof *r->recorded_cfg);
    r->resume_cfg = calloc(1, sizeof *r->resume_cfg);
    if (!r->recorded_cfg || !r->resume_cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_TRY(dt_manifest_open(&r->manifest, run_dir, err));
    if (r->writer) DT_TRY(dt_lock_dir(run_dir, &r->lock_fd, err));
    DT_TRY(dt_run_config(r->manifest.root, r->manifest.path, r->recorded_cfg, config_sha, err));
cleanup:
    return status;
}

/* The checkpoint to continue from: the newest intact one (r->start, r->start_path), checked
 * against the recorded config; none ("" path) when the folder has none, after checking that
 * the recorded config is the one the run started with. */
static dt_status pick_checkpoint(run_state *r, const char *config_sha, dt_error *err) {
    int found = 0;
    const dt_status status = newest_valid_checkpoint(r, &r->start, r->start_path, sizeof r->start_path, &found, err);
    if (status != DT_OK) return status;
    if (found) return dt_check_same_config(r->recorded_cfg, r->manifest.path, &r->start, r->start_path, err);
    r->start_path[0] = '\0';
    if (strcmp(config_sha, dt_run_record_string(r->manifest.root, "config_sha256")) != 0)
        return dt_fail(err, DT_CONFIG, "%s: the recorded config does not match its config_sha256 (it was changed after "
                       "the run started)", r->manifest.path);
    return DT_OK;
}

/* What this process continues the run with: the recorded config, its data where it is found
 * now, and --threads / --device. */
static dt_status resume_config(run_state *r, const dt_train_opts *opts, dt_error *err) {
    *r->resume_cfg = *r->recorded_cfg;
    dt_run_anchor_config(r->manifest.root, r->resume_cfg);
    if (opts->threads > 0) r->resume_cfg->runtime.threads = opts->threads;
    return opts->device ? resume_device(r->resume_cfg, opts->device, err) : DT_OK;
}

/* The loop's state from the picked checkpoint, or from step 0 when there is none, on the
 * backend. */
static dt_status restore(run_state *r, dt_train_summary *summary, dt_error *err) {
    dt_status status = DT_OK;
    if (r->start_path[0]) {
        DT_TRY(start_from(r, &r->start, r->start_path, err));
        snprintf(summary->resumed_from, sizeof summary->resumed_from, "%s", r->start_path);
    } else {
        DT_TRY(check_recorded_data(r, err));
        start_fresh(r);
        dt_progress_note(&r->ui, "detrain: the run has no checkpoint; starting again from step 0");
    }
    DT_TRY(r->ops->set_state(r->backend, &r->state, err));
cleanup:
    return status;
}

/* When nothing is left to train (*done; the state is final.h5's): a completed record is left as
 * it is and summarised; one that a crash cut short is completed. */
static dt_status finish_if_done(run_state *r, const dt_train_opts *opts, dt_train_summary *summary, int *done,
                                dt_error *err) {
    dt_status status = DT_OK;
    *done = run_done(&r->progress);
    if (!*done) return DT_OK;
    summary->already_completed = strcmp(dt_run_record_string(r->manifest.root, "status"), "completed") == 0;
    if (summary->already_completed) {
        r->manifest_open = 0; /* a completed record is left as it is */
        dt_params_sha256(&r->net, r->state.params, summary->params_sha256);
        if (dt_manifest_epoch_metrics(&r->manifest, r->progress.epoch, &r->last) == 0)
            summary->test_accuracy = r->last.test_accuracy, summary->test_loss = r->last.test_loss;
        summary->steps = (int64_t)r->progress.counters.step;
    } else if (r->writer) {
        DT_TRY(complete_record(r, summary, err));
        DT_TRY(start_tracking(r, opts, err));
    }
cleanup:
    return status;
}

/* The record says the run goes on from the picked checkpoint (its epochs must be listed). */
static dt_status continue_record(run_state *r, const dt_train_opts *opts, dt_error *err) {
    dt_status status = DT_OK;
    const int found = r->start_path[0] != '\0';
    const char *slash = strrchr(r->start_path, '/');
    dt_run_info info = run_info(r, opts);
    if (r->writer)
        DT_TRY(dt_manifest_resume(&r->manifest, &info, found ? (slash ? slash + 1 : r->start_path) : NULL,
                                  (int64_t)r->progress.counters.step, r->progress.epoch, err));
    DT_TRY(record_selection(r, err));
    if (found && r->progress.epoch > 0 && dt_manifest_epoch_metrics(&r->manifest, r->progress.epoch, &r->last) != 0) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: lists fewer epochs than checkpoint %s has finished (%d)",
                         r->manifest.path, r->start_path, r->progress.epoch);
        goto cleanup;
    }
    dt_checkpoint_free(&r->start);
    note_run(r, opts);
    DT_TRY(start_tracking(r, opts, err));
cleanup:
    return status;
}

/* The run in run_dir from its newest intact checkpoint: record, checkpoint, config, state;
 * then either the record's completion or the loop. */
static dt_status resume_run(run_state *r, const char *run_dir, const dt_train_opts *opts, dt_train_summary *summary,
                            dt_error *err) {
    dt_status status = DT_OK;
    char config_sha[65];
    int done = 0;
    DT_TRY(open_record(r, run_dir, config_sha, err));
    DT_TRY(pick_checkpoint(r, config_sha, err));
    DT_TRY(resume_config(r, opts, err));
    DT_TRY(setup(r, r->resume_cfg, r->recorded_cfg, err));
    DT_TRY(restore(r, summary, err));
    r->manifest_open = r->writer;
    DT_TRY(finish_if_done(r, opts, summary, &done, err));
    if (done) goto cleanup;
    DT_TRY(continue_record(r, opts, err));
    announce(r, "resuming");
    status = run_loop(r, opts, summary, err);
cleanup:
    return status;
}

dt_status dt_resume(const char *run_dir, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err) {
    run_state *r = run_begin(opts, summary);
    if (!r) return dt_fail(err, DT_NOMEM, "out of memory");
    snprintf(r->run_dir, sizeof r->run_dir, "%s", run_dir);
    snprintf(summary->run_dir, sizeof summary->run_dir, "%s", run_dir);
    return run_end(r, opts, summary, resume_run(r, run_dir, opts, summary, err), err);
}
