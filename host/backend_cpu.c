/* backend_cpu.c — the CPU backend: fixed-order kernels split over outputs by a thread pool.
 *
 * All state lives in flat buffers allocated at creation; a training step allocates
 * nothing. Activations: for layer l, z_l (batch, n_out) before and y_l after the
 * activation (and dropout), views into one buffer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "loss.h"
#include "matmul.h"
#include "ops.h"
#include "pool.h"
#include "rng.h"

struct dt_backend {
    dt_net net;
    dt_config cfg;
    dt_pool *pool;
    dt_simd_path simd;
    int32_t max_batch;          /* rows the activation buffers hold */

    float *params, *grads, *opt_m, *opt_v;   /* (n_params) each */
    float *acts;                /* z and y of every layer for max_batch rows */
    int64_t *z_offset, *y_offset;/* per layer, into acts */
    float *input;               /* (max_batch, input_size) gathered batch */
    float *delta_a, *delta_b;   /* (max_batch, max_width) backprop ping-pong */
    float *weight_t;            /* (max layer n_in * n_out) transposed weight */
    float *row_loss;            /* (max_batch) */
    float *norm_partial;        /* (n_params / DT_REDUCE_BLOCK + 1) */
    float *eval_loss;           /* (max(n_train, n_test)) per-sample losses */
    int64_t *eval_index;        /* (max_batch) */

    dt_dataset data[2];         /* 0 train, 1 test: resident copies */
};

/* ---- parallel helpers: each splits over outputs only ---------------------------------- */

typedef struct {
    const dt_gemm_args *g;
    dt_simd_path simd;
} gemm_task;

static void gemm_task_run(void *ctx, int64_t r0, int64_t r1) {
    gemm_task *t = ctx;
    dt_gemm_rows(t->g, r0, r1, t->simd);
}

/* C = A·B per dt_gemm_args, rows of C split over the pool (6 = the kernels' row block). */
static void parallel_gemm(dt_backend *be, const dt_gemm_args *g) {
    gemm_task t = {g, be->simd};
    dt_pool_run(be->pool, g->M, 6, gemm_task_run, &t);
}

typedef struct {
    float *z, *y, *dy;
    const float *bias;
    int64_t n;
    int act;
    const dt_dropout *drop;
} rows_task;

static void bias_act_task(void *ctx, int64_t r0, int64_t r1) {
    rows_task *t = ctx;
    dt_cpu_bias_act_rows(t->z, t->bias, t->y, t->n, t->act, t->drop, r0, r1);
}

static void act_backward_task(void *ctx, int64_t r0, int64_t r1) {
    rows_task *t = ctx;
    dt_cpu_act_backward_rows(t->dy, t->z, t->y, t->n, t->act, t->drop, r0, r1);
}

typedef struct {
    const float *dz;
    int64_t batch, n;
    float *db;
} bias_grad_task;

static void bias_grad_run(void *ctx, int64_t c0, int64_t c1) {
    bias_grad_task *t = ctx;
    dt_cpu_bias_grad_cols(t->dz, t->batch, t->n, t->db, c0, c1);
}

typedef struct {
    const float *g;
    int64_t n;
    float *partial;
} sumsq_task;

static void sumsq_run(void *ctx, int64_t k0, int64_t k1) {
    sumsq_task *t = ctx;
    dt_cpu_sumsq_blocks(t->g, t->n, t->partial, k0, k1);
}

typedef struct {
    dt_backend *be;
    dt_update_kind kind;
    const dt_optim_scalars *s;
} optim_task;

static void optim_run(void *ctx, int64_t e0, int64_t e1) {
    optim_task *t = ctx;
    dt_cpu_optimizer_range(t->kind, t->be->params, t->be->grads, t->be->opt_m, t->be->opt_v, t->s, e0, e1);
}

/* ---- creation ------------------------------------------------------------------------- */

static void cpu_destroy(dt_backend *be) {
    if (!be) return;
    dt_pool_destroy(be->pool);
    free(be->params);
    free(be->grads);
    free(be->opt_m);
    free(be->opt_v);
    free(be->acts);
    free(be->z_offset);
    free(be->y_offset);
    free(be->input);
    free(be->delta_a);
    free(be->delta_b);
    free(be->weight_t);
    free(be->row_loss);
    free(be->norm_partial);
    free(be->eval_loss);
    free(be->eval_index);
    for (int d = 0; d < 2; d++) dt_dataset_free(&be->data[d]);
    free(be);
}

static dt_status cpu_create(dt_backend **out, const dt_net *net, const dt_config *cfg, dt_error *err) {
    dt_backend *be = calloc(1, sizeof *be);
    if (!be) return dt_fail(err, DT_NOMEM, "out of memory creating the CPU backend");
    be->net = *net;
    be->cfg = *cfg;
    be->simd = dt_simd_detect();
    be->pool = dt_pool_create(cfg->runtime.threads);
    if (!be->pool) {
        cpu_destroy(be);
        return dt_fail(err, DT_INTERNAL, "cannot start %d threads", cfg->runtime.threads);
    }
    be->max_batch = cfg->train.batch_size > cfg->train.eval_batch_size ? cfg->train.batch_size
                                                                       : cfg->train.eval_batch_size;
    const size_t n_params = (size_t)net->n_params, rows = (size_t)be->max_batch;
    int64_t act_total = 0, max_weight = 0;
    be->z_offset = calloc((size_t)net->n_layers, sizeof(int64_t));
    be->y_offset = calloc((size_t)net->n_layers, sizeof(int64_t));
    if (!be->z_offset || !be->y_offset) goto oom;
    for (int l = 0; l < net->n_layers; l++) {
        const dt_layer *layer = &net->layers[l];
        be->z_offset[l] = act_total;
        act_total += (int64_t)rows * layer->n_out;
        be->y_offset[l] = act_total;
        act_total += (int64_t)rows * layer->n_out;
        if ((int64_t)layer->n_in * layer->n_out > max_weight) max_weight = (int64_t)layer->n_in * layer->n_out;
    }
    be->params = calloc(n_params, sizeof(float));
    be->grads = calloc(n_params, sizeof(float));
    be->opt_m = calloc(n_params, sizeof(float));
    be->opt_v = calloc(n_params, sizeof(float));
    be->acts = calloc((size_t)act_total, sizeof(float));
    be->input = calloc(rows * (size_t)net->input_size, sizeof(float));
    be->delta_a = calloc(rows * (size_t)net->max_width, sizeof(float));
    be->delta_b = calloc(rows * (size_t)net->max_width, sizeof(float));
    be->weight_t = calloc((size_t)max_weight, sizeof(float));
    be->row_loss = calloc(rows, sizeof(float));
    be->norm_partial = calloc(n_params / DT_REDUCE_BLOCK + 1, sizeof(float));
    be->eval_index = calloc(rows, sizeof(int64_t));
    if (!be->params || !be->grads || !be->opt_m || !be->opt_v || !be->acts || !be->input || !be->delta_a ||
        !be->delta_b || !be->weight_t || !be->row_loss || !be->norm_partial || !be->eval_index)
        goto oom;
    *out = be;
    return DT_OK;
oom:
    cpu_destroy(be);
    return dt_fail(err, DT_NOMEM, "out of memory allocating CPU buffers for %zu parameters, batch %zu", n_params, rows);
}

/* Deep copy of a dataset (features, labels/targets, file records). */
static dt_status copy_dataset(dt_dataset *dst, const dt_dataset *src, dt_error *err) {
    *dst = *src;
    dst->features = NULL;
    dst->labels = NULL;
    dst->targets = NULL;
    const size_t n_feat = (size_t)src->n_samples * (size_t)src->n_features;
    dst->features = malloc(n_feat * sizeof(float) + 1);
    if (src->labels) dst->labels = malloc((size_t)src->n_samples * sizeof(int32_t) + 1);
    if (src->targets) dst->targets = malloc((size_t)src->n_samples * (size_t)src->n_targets * sizeof(float) + 1);
    if (!dst->features || (src->labels && !dst->labels) || (src->targets && !dst->targets)) {
        dt_dataset_free(dst);
        return dt_fail(err, DT_NOMEM, "out of memory copying a dataset of %lld samples", (long long)src->n_samples);
    }
    memcpy(dst->features, src->features, n_feat * sizeof(float));
    if (src->labels) memcpy(dst->labels, src->labels, (size_t)src->n_samples * sizeof(int32_t));
    if (src->targets)
        memcpy(dst->targets, src->targets, (size_t)src->n_samples * (size_t)src->n_targets * sizeof(float));
    return DT_OK;
}

static dt_status cpu_set_data(dt_backend *be, const dt_dataset *train, const dt_dataset *test, dt_error *err) {
    dt_status status = DT_OK;
    for (int d = 0; d < 2; d++) dt_dataset_free(&be->data[d]);
    DT_TRY(copy_dataset(&be->data[0], train, err));
    DT_TRY(copy_dataset(&be->data[1], test, err));
    int64_t most = train->n_samples > test->n_samples ? train->n_samples : test->n_samples;
    free(be->eval_loss);
    be->eval_loss = calloc((size_t)most + 1, sizeof(float));
    if (!be->eval_loss) return dt_fail(err, DT_NOMEM, "out of memory for per-sample losses");
cleanup:
    return status;
}

static dt_status cpu_set_state(dt_backend *be, const dt_host_state *state, dt_error *err) {
    const size_t bytes = (size_t)be->net.n_params * sizeof(float);
    memcpy(be->params, state->params, bytes);
    memcpy(be->opt_m, state->opt_m, bytes);
    memcpy(be->opt_v, state->opt_v, bytes);
    return DT_OK;
}

static dt_status cpu_get_state(dt_backend *be, dt_host_state *state, dt_error *err) {
    const size_t bytes = (size_t)be->net.n_params * sizeof(float);
    memcpy(state->params, be->params, bytes);
    memcpy(state->opt_m, be->opt_m, bytes);
    memcpy(state->opt_v, be->opt_v, bytes);
    return DT_OK;
}

/* ---- forward and backward ------------------------------------------------------------- */

/* Copies the rows `index[0..batch)` of dataset d into the input buffer. */
static void gather_input(dt_backend *be, int d, const int64_t *index, int32_t batch) {
    const dt_dataset *ds = &be->data[d];
    const size_t row_bytes = (size_t)ds->n_features * sizeof(float);
    for (int32_t b = 0; b < batch; b++)
        memcpy(be->input + (size_t)b * ds->n_features, ds->features + (size_t)index[b] * ds->n_features, row_bytes);
}

/* Forward through every layer; dropout only when training. Returns the output (batch, n_outputs). */
static const float *forward(dt_backend *be, int32_t batch, int training, uint64_t step, const int64_t *sample_id) {
    const float *x = be->input;
    for (int l = 0; l < be->net.n_layers; l++) {
        const dt_layer *layer = &be->net.layers[l];
        float *z = be->acts + be->z_offset[l], *y = be->acts + be->y_offset[l];
        const float *weight = be->params + layer->weight_offset, *bias = be->params + layer->bias_offset;
        /* z (batch, n_out) = x (batch, n_in) · Wᵀ: B = Wᵀ (n_in, n_out). */
        dt_cpu_transpose(weight, layer->n_out, layer->n_in, be->weight_t);
        dt_gemm_args g = {batch, layer->n_out, layer->n_in, x, layer->n_in, 1, be->weight_t, layer->n_out, z,
                          layer->n_out};
        parallel_gemm(be, &g);
        dt_dropout drop = {training ? layer->dropout : 0.0f,
                           dt_rng_key(be->cfg.seed, DT_RNG_DROPOUT, (uint32_t)l), step, sample_id};
        rows_task t = {z, y, NULL, bias, layer->n_out, layer->activation, &drop};
        dt_pool_run(be->pool, batch, 8, bias_act_task, &t);
        x = y;
    }
    return x;
}

/* Loss rows: writes row losses and (when grad) the loss gradient into grad (batch, n_out);
 * returns the number of correct rows (classification). */
static int64_t loss_rows(dt_backend *be, int d, const int64_t *index, int32_t batch, const float *out,
                         float *grad, float *row_loss) {
    const dt_dataset *ds = &be->data[d];
    const int32_t n = be->net.n_outputs;
    int64_t correct = 0;
    for (int32_t b = 0; b < batch; b++) {
        const float *row = out + (int64_t)b * n;
        float *g_row = grad ? grad + (int64_t)b * n : NULL;
        if (be->net.loss == DT_LOSS_SOFTMAX_CE) {
            const int32_t label = ds->labels[index[b]];
            row_loss[b] = dt_softmax_ce_row(row, n, label, (float)batch, g_row);
            correct += dt_argmax_is(row, n, label);
        } else {
            /* mse: regression targets, (n_samples, n_outputs) — checked when the run starts */
            const float *target = ds->targets + index[b] * ds->n_targets;
            row_loss[b] = dt_mse_row(row, target, n, (float)batch * (float)n, g_row);
        }
    }
    return correct;
}

static void backward(dt_backend *be, int32_t batch, uint64_t step, const int64_t *sample_id, float *delta) {
    float *other = delta == be->delta_a ? be->delta_b : be->delta_a;
    for (int l = be->net.n_layers - 1; l >= 0; l--) {
        const dt_layer *layer = &be->net.layers[l];
        const float *z = be->acts + be->z_offset[l], *y = be->acts + be->y_offset[l];
        const float *x = l > 0 ? be->acts + be->y_offset[l - 1] : be->input;
        dt_dropout drop = {layer->dropout, dt_rng_key(be->cfg.seed, DT_RNG_DROPOUT, (uint32_t)l), step, sample_id};
        rows_task t = {(float *)z, (float *)y, delta, NULL, layer->n_out, layer->activation, &drop};
        dt_pool_run(be->pool, batch, 8, act_backward_task, &t);
        /* dW (n_out, n_in) = dzᵀ · x: A(i, p) = dz[p][i]. */
        dt_gemm_args gw = {layer->n_out, layer->n_in, batch, delta, 1, layer->n_out, x, layer->n_in,
                           be->grads + layer->weight_offset, layer->n_in};
        parallel_gemm(be, &gw);
        bias_grad_task bt = {delta, batch, layer->n_out, be->grads + layer->bias_offset};
        dt_pool_run(be->pool, layer->n_out, 16, bias_grad_run, &bt);
        if (l > 0) {
            /* dx (batch, n_in) = dz · W. */
            dt_gemm_args gx = {batch, layer->n_in, layer->n_out, delta, layer->n_out, 1,
                               be->params + layer->weight_offset, layer->n_in, other, layer->n_in};
            parallel_gemm(be, &gx);
            float *swap = delta;
            delta = other;
            other = swap;
        }
    }
}

/* Global gradient norm in the contract's block order. */
static float grad_norm(dt_backend *be) {
    const int64_t n = be->net.n_params, blocks = (n + DT_REDUCE_BLOCK - 1) / DT_REDUCE_BLOCK;
    sumsq_task t = {be->grads, n, be->norm_partial};
    dt_pool_run(be->pool, blocks, 1, sumsq_run, &t);
    float total = 0.0f;
    for (int64_t k = 0; k < blocks; k++) total += be->norm_partial[k];
    return sqrtf(total);
}

static dt_status cpu_gradients(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err) {
    const int32_t batch = step->batch;
    gather_input(be, 0, step->sample_index, batch);
    const float *out = forward(be, batch, 1, step->step, step->sample_index);
    result->correct = loss_rows(be, 0, step->sample_index, batch, out, be->delta_a, be->row_loss);
    result->loss = dt_cpu_sum_fixed(be->row_loss, batch) / (float)batch;
    backward(be, batch, step->step, step->sample_index, be->delta_a);
    return DT_OK;
}

static dt_status cpu_get_grads(dt_backend *be, float *grads, dt_error *err) {
    memcpy(grads, be->grads, (size_t)be->net.n_params * sizeof(float));
    return DT_OK;
}

static dt_status cpu_train_step(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err) {
    dt_status status = cpu_gradients(be, step, result, err);
    if (status != DT_OK) return status;

    dt_optim_scalars s = step->scalars;
    result->grad_norm = grad_norm(be);
    const float clip = be->cfg.optimizer.clip_norm;
    if (clip > 0.0f && result->grad_norm > clip) s.grad_scale = clip / result->grad_norm;
    const dt_update_kind kind = be->cfg.optimizer.kind == DT_OPT_SGD    ? DT_UPDATE_SGD
                                : be->cfg.optimizer.kind == DT_OPT_ADAM ? DT_UPDATE_ADAM
                                                                        : DT_UPDATE_ADAMW;
    optim_task ot = {be, kind, &s};
    dt_pool_run(be->pool, be->net.n_params, 1024, optim_run, &ot);
    return DT_OK;
}

static dt_status cpu_evaluate(dt_backend *be, int which, dt_eval_result *result, dt_error *err) {
    const dt_dataset *ds = &be->data[which ? 1 : 0];
    const int32_t eval_batch = be->cfg.train.eval_batch_size;
    result->correct = 0;
    result->n_samples = ds->n_samples;
    for (int64_t start = 0; start < ds->n_samples; start += eval_batch) {
        int32_t batch = (int32_t)(ds->n_samples - start < eval_batch ? ds->n_samples - start : eval_batch);
        for (int32_t b = 0; b < batch; b++) be->eval_index[b] = start + b;
        gather_input(be, which ? 1 : 0, be->eval_index, batch);
        const float *out = forward(be, batch, 0, 0, be->eval_index);
        result->correct += loss_rows(be, which ? 1 : 0, be->eval_index, batch, out, NULL, be->eval_loss + start);
    }
    result->loss = (double)(dt_cpu_sum_fixed(be->eval_loss, ds->n_samples) / (float)ds->n_samples);
    return DT_OK;
}

static void cpu_describe(dt_backend *be, char *buf, size_t size) {
    snprintf(buf, size, "cpu (%s, %d thread%s)", dt_simd_name(be->simd), dt_pool_threads(be->pool),
             dt_pool_threads(be->pool) == 1 ? "" : "s");
}

const dt_backend_ops dt_cpu_backend = {
    .name = "cpu",
    .create = cpu_create,
    .set_data = cpu_set_data,
    .set_state = cpu_set_state,
    .get_state = cpu_get_state,
    .gradients = cpu_gradients,
    .get_grads = cpu_get_grads,
    .train_step = cpu_train_step,
    .evaluate = cpu_evaluate,
    .describe = cpu_describe,
    .destroy = cpu_destroy,
};
