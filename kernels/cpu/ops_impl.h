/* ops_impl.h — the bodies of the dt_cpu_ops kernels, the readable reference. Included by
 * ops_scalar.c, ops_avx2.c and ops_avx512.c, each under its own target options, with
 * OPS_TABLE naming the table it defines. Plain loops: the compiler vectorises them across
 * elements where it can; a reduction stays one ascending chain. */
#include <math.h>

#include "activation.h"
#include "loss.h"
#include "ops.h"
#include "rng.h"

static void dropout_rows(float *y, int64_t n, const dt_dropout *drop, int64_t r0, int64_t r1) {
    const float scale = 1.0f / (1.0f - drop->p);
    for (int64_t r = r0; r < r1; r++) {
        float *y_row = y + r * n;
        const uint32_t sample = (uint32_t)drop->sample_id[r];
        for (int64_t j = 0; j < n; j++)
            y_row[j] = dt_rng_dropout_keep(drop->key, drop->step, sample, (uint32_t)j, drop->p) ? y_row[j] * scale
                                                                                                : 0.0f;
    }
}

static void act_backward_rows(float *dy, const float *z, const float *y, int64_t n, int act, const dt_dropout *drop,
                              int64_t r0, int64_t r1) {
    const int use_dropout = drop && drop->p > 0.0f;
    const float scale = use_dropout ? 1.0f / (1.0f - drop->p) : 1.0f;
    for (int64_t r = r0; r < r1; r++) {
        float *restrict dy_row = dy + r * n;
        const float *restrict z_row = z + r * n, *restrict y_row = y + r * n;
        if (use_dropout) {
            const uint32_t sample = (uint32_t)drop->sample_id[r];
            for (int64_t j = 0; j < n; j++) {
                const int keep = dt_rng_dropout_keep(drop->key, drop->step, sample, (uint32_t)j, drop->p);
                const float g = keep ? dy_row[j] * scale : 0.0f;
                /* y holds the dropped value: recompute act(z) for tanh and sigmoid */
                dy_row[j] = g * dt_act_derivative(act, z_row[j], dt_act_forward(act, z_row[j]));
            }
        } else if (act == DT_ACT_CODE_RELU) {
            for (int64_t j = 0; j < n; j++) dy_row[j] = dy_row[j] * (z_row[j] > 0.0f ? 1.0f : 0.0f);
        } else if (act == DT_ACT_CODE_IDENTITY) {
            for (int64_t j = 0; j < n; j++) dy_row[j] = dy_row[j] * 1.0f;
        } else {
            for (int64_t j = 0; j < n; j++) dy_row[j] = dy_row[j] * dt_act_derivative(act, z_row[j], y_row[j]);
        }
    }
}

static void bias_grad_cols(const float *dz, int64_t batch, int64_t n, float *db, int64_t c0, int64_t c1) {
    for (int64_t j = c0; j < c1; j++) db[j] = 0.0f;
    for (int64_t b = 0; b < batch; b++) {
        const float *restrict row = dz + b * n;
        for (int64_t j = c0; j < c1; j++) db[j] += row[j];
    }
}

static void sumsq_blocks(const float *g, int64_t n, float *partial, int64_t k0, int64_t k1) {
    /* Blocks are independent chains: run up to 16 side by side so the fmaf latency overlaps. */
    enum { LANES = 16 };
    int64_t k = k0;
    for (; k + LANES <= k1 && (k + LANES) * DT_REDUCE_BLOCK <= n; k += LANES) {
        float acc[LANES];
        for (int l = 0; l < LANES; l++) acc[l] = 0.0f;
        const float *base = g + k * DT_REDUCE_BLOCK;
        for (int64_t e = 0; e < DT_REDUCE_BLOCK; e++)
            for (int l = 0; l < LANES; l++) {
                const float x = base[l * DT_REDUCE_BLOCK + e];
                acc[l] = fmaf(x, x, acc[l]);
            }
        for (int l = 0; l < LANES; l++) partial[k + l] = acc[l];
    }
    for (; k < k1; k++) partial[k] = dt_sumsq_block(g, n, k);
}

static void optimizer_range(dt_update_kind kind, float *restrict params, const float *restrict grads,
                            float *restrict m, float *restrict v, const dt_optim_scalars *s, int64_t e0, int64_t e1) {
    const dt_optim_scalars sc = *s;
    switch (kind) {
    case DT_UPDATE_SGD:
        for (int64_t e = e0; e < e1; e++) dt_sgd_update(&params[e], grads[e], &m[e], &sc);
        break;
    case DT_UPDATE_ADAM:
        for (int64_t e = e0; e < e1; e++) dt_adam_update(&params[e], grads[e], &m[e], &v[e], &sc, 0);
        break;
    case DT_UPDATE_ADAMW:
        for (int64_t e = e0; e < e1; e++) dt_adam_update(&params[e], grads[e], &m[e], &v[e], &sc, 1);
        break;
    }
}

static int64_t loss_rows(const dt_loss_args *a, int64_t r0, int64_t r1) {
    int64_t correct = 0;
    for (int64_t b = r0; b < r1; b++) {
        const float *row = a->out + b * a->n;
        float *g_row = a->grad ? a->grad + b * a->n : NULL;
        const int64_t sample = a->index[b];
        if (!a->is_mse) {
            const int32_t label = a->labels[sample];
            a->row_loss[b] = dt_softmax_ce_row(row, a->n, label, a->batch, g_row);
            correct += dt_argmax_is(row, a->n, label);
        } else {
            a->row_loss[b] = dt_mse_row(row, a->targets + sample * a->n, a->n, a->batch * (float)a->n, g_row);
        }
    }
    return correct;
}

const dt_cpu_ops OPS_TABLE = {
    .path = OPS_PATH,
    .dropout_rows = dropout_rows,
    .act_backward_rows = act_backward_rows,
    .bias_grad_cols = bias_grad_cols,
    .sumsq_blocks = sumsq_blocks,
    .optimizer_range = optimizer_range,
    .loss_rows = loss_rows,
};
