/* ops.h — the CPU kernels of a dense layer besides the matrix products, as row or
 * element ranges so the backend can split them over threads (over outputs only).
 *
 * Shapes: B samples, n outputs per sample, row-major. Every formula comes from the
 * shared headers (activation.h, loss.h, optim_rules.h, rng.h) that CUDA uses too. */
#ifndef DT_CPU_OPS_H
#define DT_CPU_OPS_H

#include <stdint.h>

#include "optim_rules.h"
#include "philox.h"

/* Sums over long vectors run in blocks of this many elements (ascending inside a block,
 * then the block sums ascending): docs/numerics.md, "Reductions". */
#define DT_REDUCE_BLOCK 1024

/* dst (cols, rows) = transpose of src (rows, cols). */
void dt_cpu_transpose(const float *src, int64_t rows, int64_t cols, float *dst);

/* Dropout parameters of a layer for one step; p == 0 disables it. */
typedef struct {
    float p;
    dt_philox_key key;        /* dt_rng_key(seed, DT_RNG_DROPOUT, layer) */
    uint64_t step;
    const int64_t *sample_id; /* (B) dataset index of each row: masks follow samples */
} dt_dropout;

/* Rows [r0, r1) of the epilogue: z (B, n) holds x·Wᵀ; z += bias; y = act(z), then dropout
 * (y = keep ? y * (1 / (1 - p)) : 0). */
void dt_cpu_bias_act_rows(float *z, const float *bias, float *y, int64_t n, int act, const dt_dropout *drop,
                          int64_t r0, int64_t r1);

/* Rows [r0, r1) of the activation backward, in place on dy (B, n) -> dz:
 * g = dropout ? (keep ? dy * scale : 0) : dy;  dz = g * act'(z, act(z)). */
void dt_cpu_act_backward_rows(float *dy, const float *z, const float *y, int64_t n, int act,
                              const dt_dropout *drop, int64_t r0, int64_t r1);

/* Columns [c0, c1) of the bias gradient: db[j] = sum over b ascending of dz[b][j], from +0. */
void dt_cpu_bias_grad_cols(const float *dz, int64_t batch, int64_t n, float *db, int64_t c0, int64_t c1);

/* Blocks [k0, k1) of the sum of squares of g (n elements): partial[k] = fmaf chain over
 * block k's elements ascending, from +0. */
void dt_cpu_sumsq_blocks(const float *g, int64_t n, float *partial, int64_t k0, int64_t k1);

/* Sum of x[0..n) in the contract's block order (plain adds). */
float dt_cpu_sum_fixed(const float *x, int64_t n);

typedef enum { DT_UPDATE_SGD, DT_UPDATE_ADAM, DT_UPDATE_ADAMW } dt_update_kind;

/* Elements [e0, e1) of the optimizer step over the flat buffers. */
void dt_cpu_optimizer_range(dt_update_kind kind, float *params, const float *grads, float *m, float *v,
                            const dt_optim_scalars *s, int64_t e0, int64_t e1);

#endif
