/* ops.c — the CPU kernels besides the matrix products; plain C, the readable reference. */
#include "ops.h"

#include <math.h>

#include "activation.h"
#include "rng.h"

void dt_cpu_transpose(const float *src, int64_t rows, int64_t cols, float *dst) {
    /* Blocked so both sides stay in cache; pure data movement, no arithmetic. */
    const int64_t tile = 32;
    for (int64_t r0 = 0; r0 < rows; r0 += tile)
        for (int64_t c0 = 0; c0 < cols; c0 += tile)
            for (int64_t r = r0; r < r0 + tile && r < rows; r++)
                for (int64_t c = c0; c < c0 + tile && c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}

void dt_cpu_bias_act_rows(float *z, const float *bias, float *y, int64_t n, int act, const dt_dropout *drop,
                          int64_t r0, int64_t r1) {
    const int use_dropout = drop && drop->p > 0.0f;
    const float scale = use_dropout ? 1.0f / (1.0f - drop->p) : 1.0f;
    for (int64_t r = r0; r < r1; r++) {
        float *z_row = z + r * n, *y_row = y + r * n;
        for (int64_t j = 0; j < n; j++) {
            const float zj = z_row[j] + bias[j];
            z_row[j] = zj;
            float yj = dt_act_forward(act, zj);
            if (use_dropout)
                yj = dt_rng_dropout_keep(drop->key, drop->step, (uint32_t)drop->sample_id[r], (uint32_t)j, drop->p)
                         ? yj * scale
                         : 0.0f;
            y_row[j] = yj;
        }
    }
}

void dt_cpu_act_backward_rows(float *dy, const float *z, const float *y, int64_t n, int act,
                              const dt_dropout *drop, int64_t r0, int64_t r1) {
    const int use_dropout = drop && drop->p > 0.0f;
    const float scale = use_dropout ? 1.0f / (1.0f - drop->p) : 1.0f;
    for (int64_t r = r0; r < r1; r++) {
        float *dy_row = dy + r * n;
        const float *z_row = z + r * n, *y_row = y + r * n;
        for (int64_t j = 0; j < n; j++) {
            float g = dy_row[j];
            float y0 = y_row[j];
            if (use_dropout) {
                const int keep =
                    dt_rng_dropout_keep(drop->key, drop->step, (uint32_t)drop->sample_id[r], (uint32_t)j, drop->p);
                g = keep ? g * scale : 0.0f;
                y0 = dt_act_forward(act, z_row[j]); /* y holds the dropped value */
            }
            dy_row[j] = g * dt_act_derivative(act, z_row[j], y0);
        }
    }
}

void dt_cpu_bias_grad_cols(const float *dz, int64_t batch, int64_t n, float *db, int64_t c0, int64_t c1) {
    for (int64_t j = c0; j < c1; j++) db[j] = 0.0f;
    for (int64_t b = 0; b < batch; b++) {
        const float *row = dz + b * n;
        for (int64_t j = c0; j < c1; j++) db[j] += row[j];
    }
}

void dt_cpu_sumsq_blocks(const float *g, int64_t n, float *partial, int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++) {
        const int64_t e0 = k * DT_REDUCE_BLOCK, e1 = e0 + DT_REDUCE_BLOCK < n ? e0 + DT_REDUCE_BLOCK : n;
        float acc = 0.0f;
        for (int64_t e = e0; e < e1; e++) acc = fmaf(g[e], g[e], acc);
        partial[k] = acc;
    }
}

float dt_cpu_sum_fixed(const float *x, int64_t n) {
    float total = 0.0f;
    for (int64_t e0 = 0; e0 < n; e0 += DT_REDUCE_BLOCK) {
        const int64_t e1 = e0 + DT_REDUCE_BLOCK < n ? e0 + DT_REDUCE_BLOCK : n;
        float block = 0.0f;
        for (int64_t e = e0; e < e1; e++) block += x[e];
        total += block;
    }
    return total;
}

void dt_cpu_optimizer_range(dt_update_kind kind, float *params, const float *grads, float *m, float *v,
                            const dt_optim_scalars *s, int64_t e0, int64_t e1) {
    switch (kind) {
    case DT_UPDATE_SGD:
        for (int64_t e = e0; e < e1; e++) dt_sgd_update(&params[e], grads[e], &m[e], s);
        break;
    case DT_UPDATE_ADAM:
    case DT_UPDATE_ADAMW:
        for (int64_t e = e0; e < e1; e++) dt_adam_update(&params[e], grads[e], &m[e], &v[e], s, kind == DT_UPDATE_ADAMW);
        break;
    }
}
