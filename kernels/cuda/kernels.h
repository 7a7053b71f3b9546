/* kernels.h — launchers of detrain's CUDA kernels, callable from the CUDA backend.
 *
 * Every pointer is a device pointer. Each launcher takes the stream, checks its
 * preconditions, launches and checks the launch. It returns cudaSuccess (also when there is
 * nothing to do), cudaErrorInvalidValue when a precondition stated here fails (nothing is
 * launched), or the error of the launch or of the CUDA call that failed; the caller names
 * the launcher in its message (host/core/cuda_status.h). The portable kernels follow
 * docs/numerics.md exactly like the CPU kernels (same shared headers, same orders), so they
 * give the CPU's bits. */
#ifndef DT_CUDA_KERNELS_H
#define DT_CUDA_KERNELS_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/matmul.h"
#include "cpu/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The portable product: every element one ascending fmaf chain over p from +0 (tiles over
 * outputs only, no split-K), then the epilogue (bias, activation). a_index is not used on
 * the device (the backend gathers the batch first) and must be NULL: else cudaErrorInvalidValue. */
cudaError_t dt_cuda_gemm_portable(cudaStream_t stream, const dt_gemm_args *g);

/* The tile shapes of the portable product (kernels/cuda/gemm.cu). AUTO takes the large
 * tiles when they give the GPU enough blocks, else the small ones; the bits are the same. */
typedef enum { DT_CUDA_TILES_AUTO, DT_CUDA_TILES_LARGE, DT_CUDA_TILES_SMALL } dt_cuda_tiles;

/* dt_cuda_gemm_portable with the tile shape chosen by the caller (tests and bench prove
 * and time each shape); another value is cudaErrorInvalidValue. */
cudaError_t dt_cuda_gemm_portable_tiles(cudaStream_t stream, const dt_gemm_args *g, dt_cuda_tiles tiles);

/* The epilogue alone over C (M, N): C += bias; Y = act(C) (after a cuBLAS product). */
cudaError_t dt_cuda_bias_act(cudaStream_t stream, const dt_gemm_args *g);

/* rows[b][:] = features[(index ? index[b] : first + b)][:] for b < batch. */
cudaError_t dt_cuda_gather_rows(cudaStream_t stream, const float *features, int64_t n_features,
                                const int64_t *index, int64_t first, int32_t batch, float *rows);

/* The values that change from one training step to the next, read by the step's kernels
 * from device memory rather than passed by value, so that a step's launches are the same
 * every step and can be captured once as a CUDA graph and replayed (backend_cuda.cu). The
 * host writes them into a table in mapped pinned memory; dt_cuda_step_begin copies the
 * step's entry to the device. */
typedef struct {
    int64_t order_offset;       /* the batch's rows are order[order_offset ..]; -1: already in ids */
    uint64_t step;              /* 0-based global step: the dropout counter */
    dt_optim_scalars scalars;   /* the optimizer's (grad_scale: 1, or the clipping factor) */
} dt_cuda_step;

/* A training step's result scalars, as the device writes them. */
typedef struct {
    float loss_sum;             /* the rows' losses in block order */
    float grad_norm;
    long long correct;
} dt_cuda_step_result;

/* A step's first launch: *now = table[*counter % n_table] and, when its order_offset is not
 * negative, ids[b] = order[order_offset + b] for b < batch. table may be mapped host memory. */
cudaError_t dt_cuda_step_begin(cudaStream_t stream, const dt_cuda_step *table, int n_table,
                               const unsigned long long *counter, const int64_t *order, int32_t batch, int64_t *ids,
                               dt_cuda_step *now);

/* A step's last launch: ring[*counter % n_ring] = *result, then ++*counter. */
cudaError_t dt_cuda_step_end(cudaStream_t stream, const dt_cuda_step_result *result, dt_cuda_step_result *ring,
                             int n_ring, unsigned long long *counter);

/* y = keep ? y * (1 / (1 - p)) : 0 on (batch, n); sample ids are device pointers. With `now`
 * not NULL the dropout counter is now->step (drop->step is not read). */
cudaError_t dt_cuda_dropout(cudaStream_t stream, float *y, int64_t batch, int64_t n, const dt_dropout *drop,
                            const dt_cuda_step *now);

/* The activation backward in place on dy (batch, n), as dt_cpu_ops.act_backward_rows; the
 * dropout counter from `now` as dt_cuda_dropout. */
cudaError_t dt_cuda_act_backward(cudaStream_t stream, float *dy, const float *z, const float *y, int64_t batch,
                                 int64_t n, int act, const dt_dropout *drop, const dt_cuda_step *now);

/* db[j] = sum over b ascending of dz[b][j] from +0 (rows staged in shared memory, one
 * thread per column), or as a tree over row groups when `fast` (no promise). One launch. */
cudaError_t dt_cuda_bias_grad(cudaStream_t stream, const float *dz, int64_t batch, int64_t n, float *db, int fast);

/* Per-row losses (and gradient when grad is not NULL) into row_loss (batch) and
 * row_correct (batch); labels/targets indexed through index (or first + b when NULL). */
cudaError_t dt_cuda_loss_rows(cudaStream_t stream, const dt_loss_args *a, int64_t first, int32_t batch,
                              int32_t *row_correct);

/* out[0] = sum of x[0..n) in the contract's block order, divided by `divisor`;
 * out_count[0] = sum of counts[0..n) when counts is not NULL. fast: a tree, any order.
 * One launch of one block, nothing to zero first. */
cudaError_t dt_cuda_sum_fixed(cudaStream_t stream, const float *x, const int32_t *counts, int64_t n, float divisor,
                              float *out, long long *out_count, int fast);

/* partial[k] = fmaf(g, g, ·) chain over block k (DT_REDUCE_BLOCK elements) from +0, then
 * norm[0] = sqrtf(sum of partials ascending); scale[0] = clip / norm when norm > clip > 0, else 1. */
cudaError_t dt_cuda_grad_norm(cudaStream_t stream, const float *g, int64_t n, float *partial, float clip,
                              float *norm, float *scale);

/* The optimizer step over the flat buffers; the scalars from now->scalars when `now` is not
 * NULL, else from s; grad_scale then from the device scalar `scale` when it is not NULL. */
cudaError_t dt_cuda_optimizer(cudaStream_t stream, dt_update_kind kind, float *params, const float *grads, float *m,
                              float *v, const dt_optim_scalars *s, const dt_cuda_step *now, const float *scale,
                              int64_t n);

/* dst[e] = dst[e] + src[e] for e < n (one node of the microbatch tree: left + right). */
cudaError_t dt_cuda_add(cudaStream_t stream, float *dst, const float *src, int64_t n);

/* One level of the tree over P shards of `stride` floats laid out one after another: for
 * every s that is a multiple of 2 * width, shard s += shard s + width (first n floats). */
cudaError_t dt_cuda_tree_level(cudaStream_t stream, float *shards, int64_t stride, int64_t n, int n_shards,
                               int width);

#ifdef __cplusplus
}
#endif

#endif
