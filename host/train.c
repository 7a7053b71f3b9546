/* train.c — the training loop: load and check data, build the model, drive the backend
 * one batch at a time, evaluate after each epoch, keep the run record. */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "data.h"
#include "fsutil.h"
#include "manifest.h"
#include "matmul.h"
#include "model.h"
#include "ops.h"
#include "optim.h"
#include "pool.h"
#include "progress.h"
#include "rng.h"

/* The epoch's order of training samples: identity, or a Fisher–Yates shuffle whose draw
 * for position i is Philox(ctr = {i lo, i hi, 0, 0}, key = (seed, shuffle, epoch)), j =
 * (64-bit draw * (i + 1)) >> 64. Indexed by position, so it is the same everywhere. */
static void epoch_permutation(int64_t *perm, int64_t n, uint64_t seed, int epoch, int shuffle) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    const dt_philox_key key = dt_rng_key(seed, DT_RNG_SHUFFLE, (uint32_t)epoch);
    for (int64_t i = n - 1; i > 0; i--) {
        dt_philox_ctr ctr = {{(uint32_t)i, (uint32_t)((uint64_t)i >> 32), 0u, 0u}};
        dt_philox_ctr r = dt_philox4x32_10(ctr, key);
        const uint64_t draw = (uint64_t)r.v[0] | ((uint64_t)r.v[1] << 32);
        const int64_t j = (int64_t)(((unsigned __int128)draw * (unsigned __int128)(i + 1)) >> 64);
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* Loads, checks and normalises both datasets for the net. */
static dt_status load_data(const dt_config *cfg, const dt_net *net, dt_dataset *train, dt_dataset *test, dt_error *err) {
    dt_status status = DT_OK;
    dt_data_expect expect = {cfg->model.input_size, cfg->loss.kind == DT_LOSS_SOFTMAX_CE ? net->n_outputs : 0};
    DT_TRY(dt_dataset_load(train, &cfg->data.train, &expect, err));
    DT_TRY(dt_dataset_load(test, &cfg->data.test, &expect, err));
    if (cfg->loss.kind == DT_LOSS_MSE) {
        const dt_dataset *sets[2] = {train, test};
        for (int d = 0; d < 2; d++)
            if (sets[d]->n_targets != net->n_outputs) {
                status = dt_fail(err, DT_DATA, "%s: has %d target column(s), the model has %d output(s)",
                                 sets[d]->files[0].path, sets[d]->n_targets, net->n_outputs);
                goto cleanup;
            }
    }
    if (cfg->train.drop_last && train->n_samples < cfg->train.batch_size) {
        status = dt_fail(err, DT_CONFIG, "config.train.batch_size: %d exceeds the %lld training samples with drop_last",
                         cfg->train.batch_size, (long long)train->n_samples);
        goto cleanup;
    }
    DT_TRY(dt_dataset_normalize(train, test, cfg, err));
cleanup:
    return status;
}

/* checkpoints/<name>-<UTC time>, or the given folder; refuses a folder that holds a run. */
static dt_status make_run_dir(const dt_config *cfg, const char *out_dir, char *run_dir, size_t size, dt_error *err) {
    if (out_dir) snprintf(run_dir, size, "%s", out_dir);
    else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(run_dir, size, "checkpoints/%s-%s", cfg->name, stamp);
    }
    char manifest[DT_PATH_MAX + 32];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", run_dir);
    if (dt_file_exists(manifest))
        return dt_fail(err, DT_USAGE, "%s: already holds a run (manifest.json); choose another --out", run_dir);
    return dt_mkdirs(run_dir, err);
}

/* Everything a run holds, released in one place. */
typedef struct {
    dt_dataset train, test;
    dt_host_state state;
    const dt_backend_ops *ops;
    dt_backend *backend;
    dt_manifest manifest;
    int64_t *perm;
    float *step_loss, *step_lr;
} run_resources;

static void release(run_resources *r) {
    if (r->backend) r->ops->destroy(r->backend);
    dt_dataset_free(&r->train);
    dt_dataset_free(&r->test);
    dt_host_state_free(&r->state);
    dt_manifest_free(&r->manifest);
    free(r->perm);
    free(r->step_loss);
    free(r->step_lr);
}

dt_status dt_train(const dt_config *cfg, const dt_train_opts *opts, dt_train_summary *summary, dt_error *err) {
    dt_status status = DT_OK;
    run_resources r;
    memset(&r, 0, sizeof r);
    memset(summary, 0, sizeof *summary);
    dt_progress progress;
    dt_progress_init(&progress, opts->quiet);
    int manifest_open = 0;
    dt_epoch_metrics last = {0};
    const double t_start = dt_now_seconds();

    dt_net net;
    DT_TRY(dt_net_build(&net, cfg, err));
    DT_TRY(load_data(cfg, &net, &r.train, &r.test, err));

    char device_note[512], backend_text[256];
    DT_TRY(dt_backend_select(cfg->runtime.device, &r.ops, device_note, sizeof device_note, err));
    DT_TRY(r.ops->create(&r.backend, &net, cfg, err));
    DT_TRY(r.ops->set_data(r.backend, &r.train, &r.test, err));
    DT_TRY(dt_host_state_alloc(&r.state, &net, err));
    dt_net_init_params(&net, r.state.params, cfg->seed, cfg->model.init);
    DT_TRY(r.ops->set_state(r.backend, &r.state, err));
    r.ops->describe(r.backend, backend_text, sizeof backend_text);
    if (device_note[0]) dt_progress_note(&progress, device_note);

    const int64_t n_train = r.train.n_samples, batch = cfg->train.batch_size;
    const int64_t steps_per_epoch = cfg->train.drop_last ? n_train / batch : (n_train + batch - 1) / batch;
    const int64_t total_steps = steps_per_epoch * cfg->train.epochs;
    r.perm = malloc((size_t)n_train * sizeof(int64_t));
    r.step_loss = malloc((size_t)total_steps * sizeof(float));
    r.step_lr = malloc((size_t)total_steps * sizeof(float));
    if (!r.perm || !r.step_loss || !r.step_lr) {
        status = dt_fail(err, DT_NOMEM, "out of memory for %lld steps", (long long)total_steps);
        goto cleanup;
    }

    DT_TRY(make_run_dir(cfg, opts->out_dir, summary->run_dir, sizeof summary->run_dir, err));
    const char *simd = strcmp(r.ops->name, "cpu") == 0 ? dt_simd_name(dt_simd_detect()) : "";
    const int threads_used = cfg->runtime.threads > 0 ? cfg->runtime.threads : dt_available_cores();
    dt_run_info info = {cfg, opts->argc, opts->argv, &r.train, &r.test, backend_text, device_note, simd,
                        threads_used, net.n_params};
    DT_TRY(dt_manifest_begin(&r.manifest, summary->run_dir, &info, err));
    manifest_open = 1;
    {
        char line[DT_PATH_MAX + 512];
        snprintf(line, sizeof line, "detrain: training %s on %s, %lld parameters, %lld steps, run folder %s", cfg->name,
                 backend_text, (long long)net.n_params, (long long)total_steps, summary->run_dir);
        dt_progress_note(&progress, line);
    }

    dt_optim_counters counters = dt_optim_counters_start();
    const int is_classifier = cfg->loss.kind == DT_LOSS_SOFTMAX_CE;
    for (int epoch = 0; epoch < cfg->train.epochs; epoch++) {
        const double t_epoch = dt_now_seconds();
        epoch_permutation(r.perm, n_train, cfg->seed, epoch, cfg->train.shuffle);
        int64_t correct = 0, seen = 0;
        for (int64_t s = 0; s < steps_per_epoch; s++) {
            const int64_t global = (int64_t)counters.step, start = s * batch;
            const int32_t this_batch = (int32_t)(n_train - start < batch ? n_train - start : batch);
            dt_step_desc step = {.sample_index = r.perm + start, .batch = this_batch, .step = (uint64_t)global};
            const float lr = dt_schedule_lr(cfg, (uint64_t)global, (uint64_t)total_steps);
            dt_optim_next(cfg, lr, &counters, &step.scalars);
            dt_step_result res;
            DT_TRY(r.ops->train_step(r.backend, &step, &res, err));
            if (!isfinite(res.loss)) {
                status = dt_fail(err, DT_NUMERIC, "step %lld: the loss is not finite (%g); try a smaller optimizer.lr",
                                 (long long)global + 1, (double)res.loss);
                goto cleanup;
            }
            r.step_loss[global] = res.loss;
            r.step_lr[global] = lr;
            correct += res.correct;
            seen += this_batch;
            const double elapsed = dt_now_seconds() - t_epoch;
            const double rate = elapsed > 0 ? (double)seen / elapsed : 0.0;
            const double remaining = (double)(total_steps - global - 1) * batch / (rate > 0 ? rate : 1.0);
            dt_progress_step(&progress, epoch + 1, cfg->train.epochs, s + 1, steps_per_epoch, res.loss,
                             is_classifier ? (double)correct / (double)seen : NAN, rate, remaining);
        }
        const double train_seconds = dt_now_seconds() - t_epoch;
        dt_eval_result eval;
        DT_TRY(r.ops->evaluate(r.backend, 1, &eval, err));
        dt_epoch_metrics m = {0};
        m.epoch = epoch + 1;
        m.steps = (int64_t)counters.step;
        m.train_loss = dt_cpu_sum_fixed(r.step_loss + epoch * steps_per_epoch, steps_per_epoch) / (float)steps_per_epoch;
        m.train_accuracy = is_classifier && seen ? (double)correct / (double)seen : NAN;
        m.test_loss = (float)eval.loss;
        m.test_accuracy = is_classifier ? (double)eval.correct / (double)eval.n_samples : NAN;
        m.seconds = dt_now_seconds() - t_epoch;
        m.samples_per_s = train_seconds > 0 ? (double)seen / train_seconds : 0.0;
        m.lr = steps_per_epoch ? r.step_lr[(epoch + 1) * steps_per_epoch - 1] : 0.0f;
        last = m;
        dt_progress_epoch(&progress, m.epoch, cfg->train.epochs, m.train_loss, m.train_accuracy, m.test_loss,
                          m.test_accuracy, m.seconds, m.samples_per_s);
        DT_TRY(dt_manifest_epoch(&r.manifest, &m, err));
        DT_TRY(dt_trace_write(summary->run_dir, r.step_loss, r.step_lr, (int64_t)counters.step, steps_per_epoch, err));
    }

    DT_TRY(r.ops->get_state(r.backend, &r.state, err));
    dt_params_sha256(&net, r.state.params, summary->params_sha256);
    summary->test_accuracy = last.test_accuracy;
    summary->test_loss = last.test_loss;
    summary->seconds = dt_now_seconds() - t_start;
    DT_TRY(dt_manifest_finish(&r.manifest, "completed", &last, summary->params_sha256, NULL, err));

cleanup:
    if (status != DT_OK && manifest_open) {
        dt_error ignored;
        dt_manifest_finish(&r.manifest, "failed", NULL, NULL, err->message, &ignored);
    }
    release(&r);
    return status;
}
