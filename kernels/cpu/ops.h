/* ops.h — the CPU kernels of a dense layer besides the matrix products, as row, column or
 * element ranges so the backend can split them over threads (over outputs only).
 *
 * The bodies live once in ops_impl.h and are compiled three times (ops_scalar.c,
 * ops_avx2.c, ops_avx512.c) with different target options; the table for the CPU's path
 * is picked at run time. They are lane-wise the same IEEE operations (the compiler may
 * vectorise across elements, never within a reduction), so every path gives the same bits
 * — tests/repro.sh checks it end to end. Formulas come from the shared headers
 * (activation.h, loss.h, optim_rules.h, rng.h) that CUDA uses too. */
#ifndef DT_CPU_OPS_H
#define DT_CPU_OPS_H

#include <stdint.h>

#include "matmul.h"
#include "optim_rules.h"
#include "philox.h"
#include "reduce.h"

/* Dropout parameters of a layer for one step; p == 0 disables it. */
typedef struct {
    float p;
    dt_philox_key key;        /* dt_rng_key(seed, DT_RNG_DROPOUT, layer) */
    uint64_t step;
    const int64_t *sample_id; /* (B) dataset index of each row: masks follow samples */
} dt_dropout;

/* The loss of rows [r0, r1) of the output (B, n): row_loss[b], and when grad is not NULL
 * the gradient of (batch loss) into grad (B, n); returns the number of rows whose argmax is
 * the label (classification). labels (softmax CE) or targets (mse, (·, n)) are looked up
 * through index[b]. */
typedef struct {
    const float *out;
    int32_t n;
    int is_mse;
    const int32_t *labels;
    const float *targets;
    const int64_t *index;
    float batch;              /* batch size as float (the gradient's divisor) */
    float *row_loss;
    float *grad;
} dt_loss_args;

typedef struct {
    dt_simd_path path;
    /* Rows [r0, r1) of y (B, n): y = keep ? y * (1 / (1 - p)) : 0. */
    void (*dropout_rows)(float *y, int64_t n, const dt_dropout *drop, int64_t r0, int64_t r1);
    /* Rows [r0, r1) of the activation backward, in place on dy (B, n) -> dz:
     * g = dropout ? (keep ? dy * scale : 0) : dy;  dz = g * act'(z, act(z)). y is the layer output. */
    void (*act_backward_rows)(float *dy, const float *z, const float *y, int64_t n, int act, const dt_dropout *drop,
                              int64_t r0, int64_t r1);
    /* Columns [c0, c1) of the bias gradient: db[j] = sum over b ascending of dz[b][j], from +0. */
    void (*bias_grad_cols)(const float *dz, int64_t batch, int64_t n, float *db, int64_t c0, int64_t c1);
    /* Blocks [k0, k1) of the sum of squares of g (n elements): partial[k] = fmaf chain over
     * block k's elements ascending, from +0. */
    void (*sumsq_blocks)(const float *g, int64_t n, float *partial, int64_t k0, int64_t k1);
    /* Elements [e0, e1) of the optimizer step over the flat buffers. */
    void (*optimizer_range)(dt_update_kind kind, float *params, const float *grads, float *m, float *v,
                            const dt_optim_scalars *s, int64_t e0, int64_t e1);
    /* Rows [r0, r1) of the loss; returns the correct count of those rows. */
    int64_t (*loss_rows)(const dt_loss_args *a, int64_t r0, int64_t r1);
} dt_cpu_ops;

/* The kernels compiled for a path (the caller checks the CPU supports it). */
const dt_cpu_ops *dt_cpu_ops_for(dt_simd_path path);

/* Sum of x[0..n) in the contract's block order (plain adds). */
float dt_cpu_sum_fixed(const float *x, int64_t n);

#endif
