/* backend_cpu.c — the CPU backend: fixed-order kernels split over outputs by a thread pool.
 *
 * All state lives in flat buffers allocated at creation; a training step allocates
 * nothing. Activations: for layer l, z_l (batch, n_out) before and y_l after the
 * activation (and dropout), views into one buffer. The first layer reads its input rows
 * straight from the resident dataset through the batch's sample indices.
 *
 * Two routes, chosen once at creation from runtime.mode:
 * - portable and deterministic: the fixed-order kernels (on a CPU the fixed-order kernels
 *   are the deterministic route, so both modes give the same bits);
 * - fast: OpenBLAS products and completion-order reductions (cpu_fast.h), no promise.
 * The switch is confined to product(), bias_grad(), sum_losses() and grad_norm(). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "blas.h"
#include "core/buffers.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "cpu_fast.h"
#include "core/optim.h"
#include "core/pool.h"
#include "rng.h"

struct dt_backend {
    dt_net net;
    dt_backend_settings set;     /* the config's scalars it reads (dt_backend_settings_of) */
    dt_pool *pool;
    dt_simd_path simd;
    const dt_cpu_ops *k;        /* kernels for the SIMD path */
    dt_net_layout layout;       /* max_batch rows; each layer's z and y in acts */

    float *params, *grads, *opt_m, *opt_v;   /* (n_params) each */
    float *acts;                /* (layout.act_floats) z and y of every layer */
    float *delta_a, *delta_b;   /* (max_batch, max_width) backprop ping-pong */
    float *pack;                /* (threads, DT_GEMM_PACK_FLOATS) packing scratch */
    float *row_loss;            /* (max_batch) */
    int64_t *row_correct;       /* (threads) per-thread correct counts */
    float *norm_partial;        /* (n_params / DT_REDUCE_BLOCK + 1) */
    float *eval_loss;           /* (max(n_train, n_test)) per-sample losses */
    int64_t *eval_index;        /* (max_batch) */

    /* The fast route (runtime.mode = fast); zero / NULL on the fixed-order route. */
    int fast;                   /* completion-order reductions */
    int fast_blas;              /* products through OpenBLAS */
    float *fast_gather;         /* (max_batch, input_size) layer-0 rows for BLAS */
    float *fast_partial;        /* (threads, max_width) per-thread bias-gradient partials */

    dt_dataset data[DT_N_SETS]; /* by DT_SET_*: resident copies (validation empty when none) */
    dt_step_result results[DT_RESULT_LOG]; /* ring of step results, for collect_results */
    float **tree_sum;           /* (layout.tree_depth) buffers of n_params: the microbatch
                                   tree's partial sums, by slot (grads_save, grads_add) */
    int64_t steps_done;
    dt_op_trace *trace;         /* set_trace: the steps' operations are reported to it, or NULL */
};

/* ---- parallel helpers: each splits over outputs only ---------------------------------- */

typedef struct {
    dt_backend *be;
    const dt_gemm_args *g;
    const dt_gemm_plan *plan;
} gemm_task;

static void gemm_task_run(void *ctx, int64_t t0, int64_t t1, int thread) {
    gemm_task *t = ctx;
    dt_gemm_tasks(t->g, t->plan, t0, t1, t->be->simd, t->be->pack + (size_t)thread * DT_GEMM_PACK_FLOATS);
}

/* The product (and its epilogue) over the pool, split in row-chunk x panel tasks. */
static void parallel_gemm(dt_backend *be, const dt_gemm_args *g) {
    const dt_gemm_plan plan = dt_gemm_plan_for(g, be->simd, dt_pool_threads(be->pool));
    gemm_task t = {be, g, &plan};
    dt_pool_run(be->pool, dt_gemm_plan_tasks(&plan), 1, gemm_task_run, &t);
}

/* A product of a layer: detrain's kernels, or BLAS on the fast route when it takes it. */
static void product(dt_backend *be, const dt_gemm_args *g) {
    if (be->fast_blas && dt_fast_gemm_blas(be->pool, g, be->fast_gather) == 0) return;
    parallel_gemm(be, g);
}

typedef struct {
    dt_backend *be;
    float *y, *dy;
    const float *z;
    int64_t n;
    int act;
    const dt_dropout *drop;
} rows_task;

static void dropout_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    rows_task *t = ctx;
    t->be->k->dropout_rows(t->y, t->n, t->drop, r0, r1);
}

static void act_backward_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    rows_task *t = ctx;
    t->be->k->act_backward_rows(t->dy, t->z, t->y, t->n, t->act, t->drop, r0, r1);
}

typedef struct {
    dt_backend *be;
    const float *dz;
    int64_t batch, n;
    float *db;
} bias_grad_task;

static void bias_grad_run(void *ctx, int64_t c0, int64_t c1, int thread) {
    bias_grad_task *t = ctx;
    t->be->k->bias_grad_cols(t->dz, t->batch, t->n, t->db, c0, c1);
}

/* db (n) = column sums of dz (batch, n): b ascending per column, or completion order (fast). */
static void bias_grad(dt_backend *be, const float *dz, int64_t batch, int64_t n, float *db) {
    if (be->fast) {
        dt_fast_bias_grad(be->pool, dz, batch, n, db, be->fast_partial);
        return;
    }
    bias_grad_task bt = {be, dz, batch, n, db};
    dt_pool_run(be->pool, n, 16, bias_grad_run, &bt);
}

/* Sum of per-sample losses: the contract's block order, or completion order (fast). */
static float sum_losses(dt_backend *be, const float *loss, int64_t n) {
    return be->fast ? dt_fast_sum(be->pool, loss, n) : dt_cpu_sum_fixed(loss, n);
}

static void sumsq_run(void *ctx, int64_t k0, int64_t k1, int thread) {
    dt_backend *be = ctx;
    be->k->sumsq_blocks(be->grads, be->net.n_params, be->norm_partial, k0, k1);
}

typedef struct {
    dt_backend *be;
    dt_update_kind kind;
    const dt_optim_scalars *s;
} optim_task;

static void optim_run(void *ctx, int64_t e0, int64_t e1, int thread) {
    optim_task *t = ctx;
    t->be->k->optimizer_range(t->kind, t->be->params, t->be->grads, t->be->opt_m, t->be->opt_v, t->s, e0, e1);
}

typedef struct {
    dt_backend *be;
    const dt_loss_args *a;
} loss_task;

static void loss_run(void *ctx, int64_t r0, int64_t r1, int thread) {
    loss_task *t = ctx;
    t->be->row_correct[thread] += t->be->k->loss_rows(t->a, r0, r1);
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
    free(be->delta_a);
    free(be->delta_b);
    free(be->pack);
    free(be->row_loss);
    free(be->row_correct);
    free(be->norm_partial);
    free(be->eval_loss);
    free(be->eval_index);
    free(be->fast_gather);
    free(be->fast_partial);
    for (int i = 0; i < be->layout.tree_depth; i++) free(be->tree_sum ? be->tree_sum[i] : NULL);
    free(be->tree_sum);
    for (int d = 0; d < DT_N_SETS; d++) dt_dataset_free(&be->data[d]);
    free(be);
}

/* The state, activation and scratch buffers, and the microbatch tree's partial sums; 0, or
 * -1 when out of memory. */
static int alloc_buffers(dt_backend *be) {
    const dt_net *net = &be->net;
    const size_t n_params = (size_t)net->n_params, rows = (size_t)be->layout.max_batch;
    const size_t threads = (size_t)dt_pool_threads(be->pool);
    be->params = calloc(n_params, sizeof(float));
    be->grads = calloc(n_params, sizeof(float));
    be->opt_m = calloc(n_params, sizeof(float));
    be->opt_v = calloc(n_params, sizeof(float));
    be->acts = calloc((size_t)be->layout.act_floats, sizeof(float));
    be->delta_a = calloc(rows * (size_t)net->max_width, sizeof(float));
    be->delta_b = calloc(rows * (size_t)net->max_width, sizeof(float));
    be->pack = aligned_alloc(64, threads * DT_GEMM_PACK_FLOATS * sizeof(float));
    be->row_loss = calloc(rows, sizeof(float));
    be->row_correct = calloc(threads, sizeof(int64_t));
    be->norm_partial = calloc(n_params / DT_REDUCE_BLOCK + 1, sizeof(float));
    be->eval_index = calloc(rows, sizeof(int64_t));
    if (!be->params || !be->grads || !be->opt_m || !be->opt_v || !be->acts || !be->delta_a || !be->delta_b ||
        !be->pack || !be->row_loss || !be->row_correct || !be->norm_partial || !be->eval_index)
        return -1;
    if (be->layout.tree_depth == 0) return 0;
    be->tree_sum = calloc((size_t)be->layout.tree_depth, sizeof(float *));
    if (!be->tree_sum) return -1;
    for (int i = 0; i < be->layout.tree_depth; i++)
        if (!(be->tree_sum[i] = calloc(n_params, sizeof(float)))) return -1;
    return 0;
}

/* The fast route's switches and scratch (runtime.mode = fast); 0, or -1 when out of memory. */
static int start_fast(dt_backend *be) {
    /* DT_FAST_GEMM=detrain keeps detrain's kernels for the products in a build with BLAS. */
    const char *gemm = getenv("DT_FAST_GEMM");
    const size_t rows = (size_t)be->layout.max_batch;
    be->fast = 1;
    be->fast_blas = dt_blas_available() && !(gemm && !strcmp(gemm, "detrain"));
    be->fast_partial = calloc((size_t)dt_pool_threads(be->pool) * (size_t)be->net.max_width, sizeof(float));
    be->fast_gather = be->fast_blas ? calloc(rows * (size_t)be->net.input_size, sizeof(float)) : NULL;
    return !be->fast_partial || (be->fast_blas && !be->fast_gather) ? -1 : 0;
}

static dt_status cpu_create(dt_backend **out, const dt_net *net, const dt_config *cfg, dt_error *err) {
    dt_backend *be = calloc(1, sizeof *be);
    if (!be) return dt_fail(err, DT_NOMEM, "out of memory creating the CPU backend");
    be->net = *net;
    be->set = dt_backend_settings_of(cfg);
    be->simd = dt_simd_detect();
    be->k = dt_cpu_ops_for(be->simd);
    dt_net_layout_of(net, cfg, &be->layout);
    be->pool = dt_pool_create(cfg->runtime.threads);
    if (!be->pool) {
        cpu_destroy(be);
        return dt_fail(err, DT_INTERNAL, "cannot start %d threads", cfg->runtime.threads);
    }
    if (alloc_buffers(be) != 0 || (cfg->runtime.mode == DT_MODE_FAST && start_fast(be) != 0)) {
        cpu_destroy(be);
        return dt_fail(err, DT_NOMEM, "out of memory allocating CPU buffers for %zu parameters, batch %zu",
                       (size_t)net->n_params, (size_t)be->layout.max_batch);
    }
    *out = be;
    return DT_OK;
}

/* Host memory cpu_create allocates, within a few rows of scratch: the parameters, gradients
 * and moments, the microbatch tree's partial sums, every layer's z and y for the largest
 * batch, and per row of it the two delta buffers and a gathered input row. */
static int64_t cpu_host_bytes(const dt_net *net, const dt_config *cfg) {
    dt_net_layout layout;
    dt_net_layout_of(net, cfg, &layout);
    const int64_t per_row = net->input_size + 2 * (int64_t)net->max_width;
    const int64_t floats = (4 + layout.tree_depth) * net->n_params + layout.act_floats + layout.max_batch * per_row;
    return floats * (int64_t)sizeof(float);
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

static dt_status cpu_set_data(dt_backend *be, const dt_dataset *train, const dt_dataset *test,
                              const dt_dataset *validation, dt_error *err) {
    dt_status status = DT_OK;
    const dt_dataset *sets[DT_N_SETS] = {train, test, validation};
    int64_t most = 0;
    for (int d = 0; d < DT_N_SETS; d++) {
        dt_dataset_free(&be->data[d]);
        if (!sets[d]) continue;
        DT_TRY(copy_dataset(&be->data[d], sets[d], err));
        if (sets[d]->n_samples > most) most = sets[d]->n_samples;
    }
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

/* Forward through every layer for the rows `index` of dataset d; dropout only when training.
 * Returns the output (batch, n_outputs). */
static const float *forward(dt_backend *be, int d, const int64_t *index, int32_t batch, int training, uint64_t step) {
    const dt_dataset *ds = &be->data[d];
    const float *x = ds->features;
    const int64_t *x_index = index; /* layer 0 reads dataset rows directly */
    for (int l = 0; l < be->net.n_layers; l++) {
        const dt_layer *layer = &be->net.layers[l];
        float *z = be->acts + be->layout.z_offset[l], *y = be->acts + be->layout.y_offset[l];
        /* z (batch, n_out) = x (batch, n_in) · Wᵀ + bias; y = act(z): B(p, j) = W[j][p]. */
        dt_gemm_args g = {.M = batch, .N = layer->n_out, .P = layer->n_in, .A = x, .a_row = layer->n_in, .a_col = 1,
                          .a_index = x_index, .B = be->params + layer->weight_offset, .b_row = 1,
                          .b_col = layer->n_in, .C = z, .ldc = layer->n_out,
                          .bias = be->params + layer->bias_offset, .Y = y, .ldy = layer->n_out,
                          .act = layer->activation};
        product(be, &g);
        dt_op_trace *trace = training ? be->trace : NULL;
        dt_op_trace_see(trace, DT_OP_LINEAR, l, "z", z, (int64_t)batch * layer->n_out);
        dt_op_trace_see(trace, DT_OP_ACTIVATION, l, "y", y, (int64_t)batch * layer->n_out);
        if (training && layer->dropout > 0.0f) {
            dt_dropout drop = {layer->dropout, dt_rng_key(be->set.seed, DT_RNG_DROPOUT, (uint32_t)l), step, index};
            rows_task t = {.be = be, .y = y, .n = layer->n_out, .drop = &drop};
            dt_pool_run(be->pool, batch, 8, dropout_task, &t);
            dt_op_trace_see(trace, DT_OP_DROPOUT, l, "y", y, (int64_t)batch * layer->n_out);
        }
        x = y;
        x_index = NULL;
    }
    return x;
}

/* Row losses (and the loss gradient when grad is not NULL); returns the correct count. */
static int64_t compute_loss(dt_backend *be, int d, const int64_t *index, int32_t batch, float divisor,
                            const float *out, float *grad, float *row_loss) {
    const dt_dataset *ds = &be->data[d];
    dt_loss_args a = {out, be->net.n_outputs, be->net.loss == DT_LOSS_MSE, ds->labels, ds->targets, index,
                      divisor, row_loss, grad};
    memset(be->row_correct, 0, (size_t)dt_pool_threads(be->pool) * sizeof(int64_t));
    loss_task t = {be, &a};
    dt_pool_run(be->pool, batch, 16, loss_run, &t);
    int64_t correct = 0;
    for (int i = 0; i < dt_pool_threads(be->pool); i++) correct += be->row_correct[i];
    return correct;
}

static void backward(dt_backend *be, const int64_t *index, int32_t batch, uint64_t step, float *delta) {
    const dt_dataset *train = &be->data[0];
    float *other = delta == be->delta_a ? be->delta_b : be->delta_a;
    for (int l = be->net.n_layers - 1; l >= 0; l--) {
        const dt_layer *layer = &be->net.layers[l];
        const float *z = be->acts + be->layout.z_offset[l], *y = be->acts + be->layout.y_offset[l];
        dt_dropout drop = {layer->dropout, dt_rng_key(be->set.seed, DT_RNG_DROPOUT, (uint32_t)l), step, index};
        rows_task t = {.be = be, .y = (float *)y, .dy = delta, .z = z, .n = layer->n_out, .act = layer->activation,
                       .drop = &drop};
        dt_pool_run(be->pool, batch, 8, act_backward_task, &t);
        dt_op_trace_see(be->trace, DT_OP_ACT_BACKWARD, l, "dz", delta, (int64_t)batch * layer->n_out);
        /* dW (n_out, n_in) = dzᵀ · x: A(i, p) = dz[p][i], B(p, j) = x[row p][j]. */
        dt_gemm_args gw = {.M = layer->n_out, .N = layer->n_in, .P = batch, .A = delta, .a_row = 1,
                           .a_col = layer->n_out, .C = be->grads + layer->weight_offset, .ldc = layer->n_in};
        if (l > 0) {
            gw.B = be->acts + be->layout.y_offset[l - 1];
        } else {
            /* Layer 0's input rows are dataset rows: gather them into the free delta buffer
             * (layer 0 needs no input gradient), so B is a plain row-major matrix. */
            for (int32_t b = 0; b < batch; b++)
                memcpy(other + (size_t)b * layer->n_in, train->features + (size_t)index[b] * layer->n_in,
                       (size_t)layer->n_in * sizeof(float));
            gw.B = other;
        }
        gw.b_row = layer->n_in;
        gw.b_col = 1;
        product(be, &gw);
        dt_op_trace_see(be->trace, DT_OP_WEIGHT_GRAD, l, "weight", be->grads + layer->weight_offset,
                        (int64_t)layer->n_out * layer->n_in);
        bias_grad(be, delta, batch, layer->n_out, be->grads + layer->bias_offset);
        dt_op_trace_see(be->trace, DT_OP_BIAS_GRAD, l, "bias", be->grads + layer->bias_offset, layer->n_out);
        if (l > 0) {
            /* dx (batch, n_in) = dz · W: B(p, j) = W[p][j]. */
            dt_gemm_args gx = {.M = batch, .N = layer->n_in, .P = layer->n_out, .A = delta, .a_row = layer->n_out,
                               .a_col = 1, .B = be->params + layer->weight_offset, .b_row = layer->n_in, .b_col = 1,
                               .C = other, .ldc = layer->n_in};
            product(be, &gx);
            dt_op_trace_see(be->trace, DT_OP_INPUT_GRAD, l, "dx", other, (int64_t)batch * layer->n_in);
            float *swap = delta;
            delta = other;
            other = swap;
        }
    }
}

/* Global gradient norm in the contract's block order. */
static float grad_norm(dt_backend *be) {
    if (be->fast) return sqrtf(dt_fast_sumsq(be->pool, be->grads, be->net.n_params));
    const int64_t n = be->net.n_params, blocks = (n + DT_REDUCE_BLOCK - 1) / DT_REDUCE_BLOCK;
    dt_pool_run(be->pool, blocks, 16, sumsq_run, be);
    return sqrtf(dt_add_chain(0.0f, be->norm_partial, blocks));
}

static dt_status cpu_gradients(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err) {
    const int32_t batch = step->batch;
    const float divisor = step->loss_divisor > 0.0f ? step->loss_divisor : (float)batch;
    const float *out = forward(be, 0, step->sample_index, batch, 1, step->step);
    result->correct = compute_loss(be, 0, step->sample_index, batch, divisor, out, be->delta_a, be->row_loss);
    dt_op_trace_see(be->trace, DT_OP_LOSS, -1, "rows", be->row_loss, batch);
    dt_op_trace_see(be->trace, DT_OP_LOSS, -1, "grad", be->delta_a, (int64_t)batch * be->net.n_outputs);
    result->loss_sum = sum_losses(be, be->row_loss, batch);
    dt_op_trace_see(be->trace, DT_OP_LOSS_SUM, -1, "sum", &result->loss_sum, 1);
    result->loss = result->loss_sum / divisor;
    result->grad_norm = NAN;
    backward(be, step->sample_index, batch, step->step, be->delta_a);
    return DT_OK;
}

static dt_status cpu_get_grads(dt_backend *be, float *grads, dt_error *err) {
    memcpy(grads, be->grads, (size_t)be->net.n_params * sizeof(float));
    return DT_OK;
}

static dt_status cpu_apply_update(dt_backend *be, const dt_optim_scalars *scalars, dt_step_result *result,
                                  dt_error *err) {
    dt_optim_scalars s = *scalars;
    const float clip = be->set.clip_norm;
    result->grad_norm = NAN;
    dt_op_trace_see_layers(be->trace, DT_OP_GRADIENT, "", &be->net, be->grads);
    if (clip > 0.0f) {
        result->grad_norm = grad_norm(be);
        dt_op_trace_see(be->trace, DT_OP_GRAD_NORM, -1, "norm", &result->grad_norm, 1);
        if (result->grad_norm > clip) s.grad_scale = clip / result->grad_norm;
    }
    const dt_update_kind kind = dt_optim_update_kind(be->set.optimizer);
    optim_task ot = {be, kind, &s};
    dt_pool_run(be->pool, be->net.n_params, 1024, optim_run, &ot);
    dt_op_trace_see_layers(be->trace, DT_OP_UPDATE, "", &be->net, be->params);
    dt_op_trace_see_layers(be->trace, DT_OP_UPDATE, "m.", &be->net, be->opt_m);
    if (be->set.optimizer != DT_OPT_SGD) dt_op_trace_see_layers(be->trace, DT_OP_UPDATE, "v.", &be->net, be->opt_v);
    return DT_OK;
}

static dt_status cpu_train_step(dt_backend *be, const dt_step_desc *step, dt_step_result *result_out, dt_error *err) {
    dt_step_result *result = &be->results[be->steps_done % DT_RESULT_LOG];
    dt_status status = cpu_gradients(be, step, result, err);
    if (status == DT_OK) status = cpu_apply_update(be, &step->scalars, result, err);
    if (status != DT_OK) return status;
    be->steps_done++;
    if (result_out) *result_out = *result;
    return DT_OK;
}

/* dst = dst + src over the flat gradient layout (left + right: one rounding per element). */
static void add_into(float *dst, const float *src, int64_t n) {
    for (int64_t e = 0; e < n; e++) dst[e] = dst[e] + src[e];
}

/* The microbatch tree's partial sums; the host says which and when (dt_grad_tree). */
static dt_status cpu_grads_save(dt_backend *be, int slot, dt_error *err) {
    memcpy(be->tree_sum[slot], be->grads, (size_t)be->net.n_params * sizeof(float));
    return DT_OK;
}

static dt_status cpu_grads_add(dt_backend *be, int dst, int src, dt_error *err) {
    add_into(be->tree_sum[dst], be->tree_sum[src], be->net.n_params);
    return DT_OK;
}

static dt_status cpu_grads_load(dt_backend *be, int slot, dt_error *err) {
    memcpy(be->grads, be->tree_sum[slot], (size_t)be->net.n_params * sizeof(float));
    return DT_OK;
}

static dt_status cpu_reduce_grads(dt_backend *be, dt_comm *comm, dt_error *err) {
    return dt_comm_tree_sum(comm, be->grads, be->net.n_params, err);
}

static dt_status cpu_collect_results(dt_backend *be, dt_step_result *results, int count, dt_error *err) {
    if (count < 0 || count > DT_RESULT_LOG || count > be->steps_done)
        return dt_fail(err, DT_INTERNAL, "collect_results: %d steps asked, %lld kept", count, (long long)be->steps_done);
    for (int i = 0; i < count; i++) results[i] = be->results[(be->steps_done - count + i) % DT_RESULT_LOG];
    return DT_OK;
}

static dt_status cpu_evaluate(dt_backend *be, int which, dt_eval_result *result, dt_error *err) {
    const int d = which;
    if (d < 0 || d >= DT_N_SETS || be->data[d].n_samples == 0)
        return dt_fail(err, DT_INTERNAL, "evaluate: no dataset %d", which);
    const dt_dataset *ds = &be->data[d];
    const int32_t eval_batch = be->set.eval_batch;
    result->correct = 0;
    result->n_samples = ds->n_samples;
    for (int64_t start = 0; start < ds->n_samples; start += eval_batch) {
        int32_t batch = (int32_t)(ds->n_samples - start < eval_batch ? ds->n_samples - start : eval_batch);
        for (int32_t b = 0; b < batch; b++) be->eval_index[b] = start + b;
        const float *out = forward(be, d, be->eval_index, batch, 0, 0);
        result->correct += compute_loss(be, d, be->eval_index, batch, (float)batch, out, NULL, be->eval_loss + start);
    }
    result->loss = (double)(sum_losses(be, be->eval_loss, ds->n_samples) / (float)ds->n_samples);
    return DT_OK;
}

static void cpu_set_trace(dt_backend *be, dt_op_trace *trace) { be->trace = trace; }

static const char *cpu_simd(dt_backend *be) { return dt_simd_name(be->simd); }

static void cpu_describe(dt_backend *be, char *buf, size_t size) {
    char route[192] = "", blas[96];
    if (be->fast)
        snprintf(route, sizeof route, ", fast: %s products, completion-order sums",
                 be->fast_blas          ? dt_blas_describe(blas, sizeof blas)
                 : dt_blas_available() ? "detrain (DT_FAST_GEMM=detrain)"
                                        : "detrain (built without OpenBLAS)");
    snprintf(buf, size, "cpu (%s, %d thread%s%s)", dt_simd_name(be->simd), dt_pool_threads(be->pool),
             dt_pool_threads(be->pool) == 1 ? "" : "s", route);
}

const dt_backend_ops dt_cpu_backend = {
    .name = "cpu",
    .host_bytes = cpu_host_bytes,
    .create = cpu_create,
    .set_data = cpu_set_data,
    .set_state = cpu_set_state,
    .get_state = cpu_get_state,
    .gradients = cpu_gradients,
    .get_grads = cpu_get_grads,
    .set_order = NULL, /* steps read sample_index from host memory */
    .train_step = cpu_train_step,
    .grads_save = cpu_grads_save,
    .grads_add = cpu_grads_add,
    .grads_load = cpu_grads_load,
    .reduce_grads = cpu_reduce_grads,
    .join_ranks = NULL, /* the exchange works in place in host memory */
    .apply_update = cpu_apply_update,
    .collect_results = cpu_collect_results,
    .evaluate = cpu_evaluate,
    .gpu_info = NULL,
    .simd = cpu_simd,
    .describe = cpu_describe,
    .destroy = cpu_destroy,
    .set_trace = cpu_set_trace,
};
