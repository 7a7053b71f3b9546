/* ops.cu — the elementwise and reduction kernels of the CUDA backend.
 *
 * Formulas come from the shared headers (activation.h, loss.h, optim_rules.h, rng.h), the
 * same code the CPU runs. Reductions in the portable and deterministic modes follow the
 * contract's orders (docs/numerics.md): the whole block loads the values into shared memory,
 * coalesced, and one thread runs each ordered chain from there (chains over independent
 * outputs run side by side), so the bits equal the CPU's. The `fast` variants sum in
 * parallel trees whose shape follows the launch, and promise nothing. Every reduction is
 * one launch in every mode, with nothing to zero first. */
#include "activation.h"
#include "cuda_check.h"
#include "kernels.h"
#include "launch.h"
#include "loss.h"
#include "optim_rules.h"
#include "reduce.h"
#include "rng.h"

#define THREADS 256
#define BIAS_COLS 32 /* columns of a bias-gradient block: one warp's 128-byte row segment */
#define BIAS_ROWS 64 /* rows of dz staged at a time */

static unsigned blocks_for(int64_t n) { return (unsigned)((n + THREADS - 1) / THREADS); }

/* ---- device helpers ------------------------------------------------------------------- */

/* The whole block copies x[0..n) (n <= DT_REDUCE_BLOCK) into stage, coalesced, and waits. */
__device__ void stage_in(const float *x, int64_t n, float *stage) {
    for (int64_t e = threadIdx.x; e < n; e += blockDim.x) stage[e] = x[e];
    __syncthreads();
}

/* The sum of part[0..blockDim.x) left in part[0]: a tree over a power-of-two block, exact
 * for integers (any order gives the same), any order for floats (the fast mode). */
template <class V> __device__ void tree_sum(V *part) {
    for (unsigned width = blockDim.x / 2; width > 0; width /= 2) {
        __syncthreads();
        if (threadIdx.x < width) part[threadIdx.x] = part[threadIdx.x] + part[threadIdx.x + width];
    }
    __syncthreads();
}

/* ---- kernels -------------------------------------------------------------------------- */

__global__ void gather_rows_kernel(const float *features, int64_t n_features, const int64_t *index, int64_t first,
                                   int32_t batch, float *rows) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (int64_t)batch * n_features) return;
    const int64_t b = e / n_features, f = e % n_features;
    const int64_t src = index ? index[b] : first + b;
    rows[e] = features[src * n_features + f];
}

/* A step's first kernel: its entry of the host's table, and its rows of the epoch's order. */
__global__ void step_begin_kernel(const dt_cuda_step *table, int n_table, const unsigned long long *counter,
                                  const int64_t *order, int32_t batch, int64_t *ids, dt_cuda_step *now) {
    const int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const dt_cuda_step *entry = &table[*counter % (unsigned long long)n_table];
    if (entry->order_offset >= 0 && b < batch) ids[b] = order[entry->order_offset + b];
    if (b == 0) *now = *entry;
}

/* A step's last kernel (one thread): its result into the ring, the step counted. */
__global__ void step_end_kernel(const dt_cuda_step_result *result, dt_cuda_step_result *ring, int n_ring,
                                unsigned long long *counter) {
    ring[*counter % (unsigned long long)n_ring] = *result;
    *counter += 1;
}

__global__ void dropout_kernel(float *y, int64_t batch, int64_t n, dt_dropout drop, const dt_cuda_step *now) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= batch * n) return;
    const int64_t r = e / n, j = e % n;
    const float scale = 1.0f / (1.0f - drop.p);
    const uint64_t step = now ? now->step : drop.step;
    y[e] = dt_rng_dropout_keep(drop.key, step, (uint32_t)drop.sample_id[r], (uint32_t)j, drop.p) ? y[e] * scale : 0.0f;
}

__global__ void act_backward_kernel(float *dy, const float *z, const float *y, int64_t batch, int64_t n, int act,
                                    dt_dropout drop, const dt_cuda_step *now, int use_dropout) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= batch * n) return;
    if (use_dropout) {
        const int64_t r = e / n, j = e % n;
        const float scale = 1.0f / (1.0f - drop.p);
        const uint64_t step = now ? now->step : drop.step;
        const int keep = dt_rng_dropout_keep(drop.key, step, (uint32_t)drop.sample_id[r], (uint32_t)j, drop.p);
        const float g = keep ? dy[e] * scale : 0.0f;
        dy[e] = g * dt_act_derivative(act, z[e], dt_act_forward(act, z[e]));
    } else {
        dy[e] = dy[e] * dt_act_derivative(act, z[e], y[e]);
    }
}

/* A block owns BIAS_COLS columns: it stages BIAS_ROWS rows of them at a time (row segments
 * of 128 bytes), and its first BIAS_COLS threads run the columns' chains over b ascending
 * from +0, as the CPU. */
__global__ void bias_grad_kernel(const float *dz, int64_t batch, int64_t n, float *db) {
    __shared__ float stage[BIAS_ROWS][BIAS_COLS];
    const int64_t j0 = (int64_t)blockIdx.x * BIAS_COLS;
    float acc = 0.0f;
    for (int64_t b0 = 0; b0 < batch; b0 += BIAS_ROWS) {
        const int rows = (int)(batch - b0 < BIAS_ROWS ? batch - b0 : BIAS_ROWS);
        for (int e = threadIdx.x; e < BIAS_ROWS * BIAS_COLS; e += blockDim.x) {
            const int r = e / BIAS_COLS, c = e % BIAS_COLS;
            stage[r][c] = (r < rows && j0 + c < n) ? dz[(b0 + r) * n + j0 + c] : 0.0f;
        }
        __syncthreads();
        if (threadIdx.x < BIAS_COLS)
            for (int r = 0; r < rows; r++) acc += stage[r][threadIdx.x];
        __syncthreads();
    }
    if (threadIdx.x < BIAS_COLS && j0 + threadIdx.x < n) db[j0 + threadIdx.x] = acc;
}

/* fast: each of the block's THREADS / BIAS_COLS row groups sums every that-many-th row of
 * its column, then a tree over the groups. */
__global__ void bias_grad_tree_kernel(const float *dz, int64_t batch, int64_t n, float *db) {
    __shared__ float part[THREADS];
    const int c = threadIdx.x % BIAS_COLS, group = threadIdx.x / BIAS_COLS, groups = THREADS / BIAS_COLS;
    const int64_t j = (int64_t)blockIdx.x * BIAS_COLS + c;
    float acc = 0.0f;
    if (j < n)
        for (int64_t b = group; b < batch; b += groups) acc += dz[b * n + j];
    part[threadIdx.x] = acc;
    for (int width = groups / 2; width > 0; width /= 2) {
        __syncthreads();
        if (group < width) part[threadIdx.x] = part[threadIdx.x] + part[threadIdx.x + width * BIAS_COLS];
    }
    if (group == 0 && j < n) db[j] = part[c];
}

__global__ void loss_rows_kernel(dt_loss_args a, int64_t first, int32_t batch, int32_t *row_correct) {
    const int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    const float *row = a.out + b * a.n;
    float *g_row = a.grad ? a.grad + b * a.n : NULL;
    const int64_t sample = a.index ? a.index[b] : first + b;
    if (!a.is_mse) {
        const int32_t label = a.labels[sample];
        a.row_loss[b] = dt_softmax_ce_row(row, a.n, label, a.batch, g_row);
        row_correct[b] = dt_argmax_is(row, a.n, label);
    } else {
        a.row_loss[b] = dt_mse_row(row, a.targets + sample * a.n, a.n, a.batch * (float)a.n, g_row);
        row_correct[b] = 0;
    }
}

/* The contract's block order: each block of DT_REDUCE_BLOCK values staged, summed ascending
 * by thread 0, block sums added ascending; batch losses and test losses (n up to a dataset:
 * blocks one after another). Counts are integers: a tree, exact. One block of THREADS. */
__global__ void sum_fixed_kernel(const float *x, const int32_t *counts, int64_t n, float divisor, float *out,
                                 long long *out_count) {
    __shared__ float stage[DT_REDUCE_BLOCK];
    __shared__ long long count_part[THREADS];
    float total = 0.0f;
    for (int64_t e0 = 0; e0 < n; e0 += DT_REDUCE_BLOCK) {
        const int64_t len = n - e0 < DT_REDUCE_BLOCK ? n - e0 : DT_REDUCE_BLOCK;
        stage_in(x + e0, len, stage);
        if (threadIdx.x == 0) total += dt_add_chain(0.0f, stage, len);
        __syncthreads();
    }
    if (counts) {
        long long c = 0;
        for (int64_t e = threadIdx.x; e < n; e += blockDim.x) c += counts[e];
        count_part[threadIdx.x] = c;
        tree_sum(count_part);
    }
    if (threadIdx.x != 0) return;
    out[0] = total / divisor;
    if (counts) out_count[0] = count_part[0];
}

/* fast: strided partials, then trees (one block of THREADS). */
__global__ void sum_tree_kernel(const float *x, const int32_t *counts, int64_t n, float divisor, float *out,
                                long long *out_count) {
    __shared__ float part[THREADS];
    __shared__ long long count_part[THREADS];
    float acc = 0.0f;
    long long c = 0;
    for (int64_t e = threadIdx.x; e < n; e += blockDim.x) {
        acc += x[e];
        if (counts) c += counts[e];
    }
    part[threadIdx.x] = acc;
    count_part[threadIdx.x] = c;
    tree_sum(part);
    tree_sum(count_part);
    if (threadIdx.x != 0) return;
    out[0] = part[0] / divisor;
    if (counts) out_count[0] = count_part[0];
}

/* Block k of the gradient norm's squares: staged, then one fmaf chain (one CUDA block each). */
__global__ void sumsq_blocks_kernel(const float *g, int64_t n, float *partial) {
    __shared__ float stage[DT_REDUCE_BLOCK];
    const int64_t k = blockIdx.x, e0 = k * DT_REDUCE_BLOCK;
    const int64_t len = n - e0 < DT_REDUCE_BLOCK ? n - e0 : DT_REDUCE_BLOCK;
    stage_in(g + e0, len, stage);
    if (threadIdx.x == 0) partial[k] = dt_sumsq_block(stage, len, 0);
}

/* The block sums ascending from +0 (staged DT_REDUCE_BLOCK at a time), sqrtf, the scale. */
__global__ void norm_finish_kernel(const float *partial, int64_t blocks, float clip, float *norm, float *scale) {
    __shared__ float stage[DT_REDUCE_BLOCK];
    float total = 0.0f;
    for (int64_t k0 = 0; k0 < blocks; k0 += DT_REDUCE_BLOCK) {
        const int64_t len = blocks - k0 < DT_REDUCE_BLOCK ? blocks - k0 : DT_REDUCE_BLOCK;
        stage_in(partial + k0, len, stage);
        if (threadIdx.x == 0) total = dt_add_chain(total, stage, len);
        __syncthreads();
    }
    if (threadIdx.x != 0) return;
    const float value = sqrtf(total);
    norm[0] = value;
    scale[0] = (clip > 0.0f && value > clip) ? clip / value : 1.0f;
}

__global__ void optimizer_kernel(dt_update_kind kind, float *params, const float *grads, float *m, float *v,
                                 dt_optim_scalars s, const dt_cuda_step *now, const float *scale, int64_t n) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= n) return;
    if (now) s = now->scalars;
    if (scale) s.grad_scale = scale[0];
    if (kind == DT_UPDATE_SGD) dt_sgd_update(&params[e], grads[e], &m[e], &s);
    else dt_adam_update(&params[e], grads[e], &m[e], &v[e], &s, kind == DT_UPDATE_ADAMW);
}

__global__ void add_kernel(float *dst, const float *src, int64_t n) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e < n) dst[e] = dst[e] + src[e];
}

__global__ void tree_level_kernel(float *shards, int64_t stride, int64_t n, int n_shards, int width) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int pair = blockIdx.y;
    const int64_t left = (int64_t)pair * 2 * width;
    if (e >= n || left + width >= n_shards) return;
    shards[left * stride + e] = shards[left * stride + e] + shards[(left + width) * stride + e];
}

/* ---- launchers ------------------------------------------------------------------------ */

extern "C" cudaError_t dt_cuda_add(cudaStream_t stream, float *dst, const float *src, int64_t n) {
    if (n == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(add_kernel, blocks_for(n), THREADS, 0, stream)(dst, src, n);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_tree_level(cudaStream_t stream, float *shards, int64_t stride, int64_t n, int n_shards,
                                          int width) {
    const unsigned pairs = (unsigned)((n_shards + 2 * width - 1) / (2 * width));
    if (n == 0 || pairs == 0) return cudaSuccess;
    const dim3 grid(blocks_for(n), pairs);
    DT_CUDA_LAUNCH(tree_level_kernel, grid, THREADS, 0, stream)(shards, stride, n, n_shards, width);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_gather_rows(cudaStream_t stream, const float *features, int64_t n_features,
                                           const int64_t *index, int64_t first, int32_t batch, float *rows) {
    const int64_t n = (int64_t)batch * n_features;
    if (n == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(gather_rows_kernel, blocks_for(n), THREADS, 0, stream)(features, n_features, index, first, batch,
                                                                          rows);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_step_begin(cudaStream_t stream, const dt_cuda_step *table, int n_table,
                                          const unsigned long long *counter, const int64_t *order, int32_t batch,
                                          int64_t *ids, dt_cuda_step *now) {
    if (n_table <= 0 || batch < 0) return cudaErrorInvalidValue;
    const unsigned blocks = batch > 0 ? blocks_for(batch) : 1;
    DT_CUDA_LAUNCH(step_begin_kernel, blocks, THREADS, 0, stream)(table, n_table, counter, order, batch, ids, now);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_step_end(cudaStream_t stream, const dt_cuda_step_result *result,
                                        dt_cuda_step_result *ring, int n_ring, unsigned long long *counter) {
    if (n_ring <= 0) return cudaErrorInvalidValue;
    DT_CUDA_LAUNCH(step_end_kernel, 1, 1, 0, stream)(result, ring, n_ring, counter);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_dropout(cudaStream_t stream, float *y, int64_t batch, int64_t n,
                                       const dt_dropout *drop, const dt_cuda_step *now) {
    if (batch * n == 0 || drop->p <= 0.0f) return cudaSuccess;
    DT_CUDA_LAUNCH(dropout_kernel, blocks_for(batch * n), THREADS, 0, stream)(y, batch, n, *drop, now);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_act_backward(cudaStream_t stream, float *dy, const float *z, const float *y,
                                            int64_t batch, int64_t n, int act, const dt_dropout *drop,
                                            const dt_cuda_step *now) {
    if (batch * n == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(act_backward_kernel, blocks_for(batch * n), THREADS, 0, stream)(dy, z, y, batch, n, act, *drop,
                                                                                   now, drop->p > 0.0f);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_bias_grad(cudaStream_t stream, const float *dz, int64_t batch, int64_t n, float *db,
                                         int fast) {
    if (n == 0) return cudaSuccess;
    const unsigned blocks = (unsigned)((n + BIAS_COLS - 1) / BIAS_COLS);
    if (fast) DT_CUDA_LAUNCH(bias_grad_tree_kernel, blocks, THREADS, 0, stream)(dz, batch, n, db);
    else DT_CUDA_LAUNCH(bias_grad_kernel, blocks, THREADS, 0, stream)(dz, batch, n, db);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_loss_rows(cudaStream_t stream, const dt_loss_args *a, int64_t first, int32_t batch,
                                         int32_t *row_correct) {
    if (batch == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(loss_rows_kernel, blocks_for(batch), THREADS, 0, stream)(*a, first, batch, row_correct);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_sum_fixed(cudaStream_t stream, const float *x, const int32_t *counts, int64_t n,
                                         float divisor, float *out, long long *out_count, int fast) {
    if (fast) DT_CUDA_LAUNCH(sum_tree_kernel, 1, THREADS, 0, stream)(x, counts, n, divisor, out, out_count);
    else DT_CUDA_LAUNCH(sum_fixed_kernel, 1, THREADS, 0, stream)(x, counts, n, divisor, out, out_count);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_grad_norm(cudaStream_t stream, const float *g, int64_t n, float *partial, float clip,
                                         float *norm, float *scale) {
    const int64_t blocks = (n + DT_REDUCE_BLOCK - 1) / DT_REDUCE_BLOCK;
    cudaError_t error = cudaSuccess;
    if (blocks > 0) {
        DT_CUDA_LAUNCH(sumsq_blocks_kernel, (unsigned)blocks, THREADS, 0, stream)(g, n, partial);
        DT_CUDA_CHECK(cudaGetLastError());
    }
    DT_CUDA_LAUNCH(norm_finish_kernel, 1, THREADS, 0, stream)(partial, blocks, clip, norm, scale);
    DT_CUDA_CHECK(cudaGetLastError());
cleanup:
    return error;
}

extern "C" cudaError_t dt_cuda_optimizer(cudaStream_t stream, dt_update_kind kind, float *params, const float *grads,
                                         float *m, float *v, const dt_optim_scalars *s, const dt_cuda_step *now,
                                         const float *scale, int64_t n) {
    if (n == 0) return cudaSuccess;
    if (!s && !now) return cudaErrorInvalidValue;
    dt_optim_scalars by_value = {}; /* not read when `now` is given */
    if (s) by_value = *s;
    DT_CUDA_LAUNCH(optimizer_kernel, blocks_for(n), THREADS, 0, stream)(kind, params, grads, m, v, by_value, now,
                                                                        scale, n);
    return cudaGetLastError();
}
