/* ops.cu — the elementwise and reduction kernels of the CUDA backend.
 *
 * Formulas come from the shared headers (activation.h, loss.h, optim_rules.h, rng.h), the
 * same code the CPU runs. Reductions in the portable and deterministic modes follow the
 * contract's orders (docs/numerics.md): one thread runs each ordered chain, so the bits
 * equal the CPU's. The `fast` variants use atomics and promise nothing. */
#include "activation.h"
#include "cuda_check.h"
#include "kernels.h"
#include "launch.h"
#include "loss.h"
#include "optim_rules.h"
#include "reduce.h"
#include "rng.h"

#define THREADS 256

static unsigned blocks_for(int64_t n) { return (unsigned)((n + THREADS - 1) / THREADS); }

/* ---- kernels -------------------------------------------------------------------------- */

__global__ void gather_rows_kernel(const float *features, int64_t n_features, const int64_t *index, int64_t first,
                                   int32_t batch, float *rows) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (int64_t)batch * n_features) return;
    const int64_t b = e / n_features, f = e % n_features;
    const int64_t src = index ? index[b] : first + b;
    rows[e] = features[src * n_features + f];
}

__global__ void dropout_kernel(float *y, int64_t batch, int64_t n, dt_dropout drop) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= batch * n) return;
    const int64_t r = e / n, j = e % n;
    const float scale = 1.0f / (1.0f - drop.p);
    y[e] = dt_rng_dropout_keep(drop.key, drop.step, (uint32_t)drop.sample_id[r], (uint32_t)j, drop.p) ? y[e] * scale
                                                                                                       : 0.0f;
}

__global__ void act_backward_kernel(float *dy, const float *z, const float *y, int64_t batch, int64_t n, int act,
                                    dt_dropout drop, int use_dropout) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= batch * n) return;
    if (use_dropout) {
        const int64_t r = e / n, j = e % n;
        const float scale = 1.0f / (1.0f - drop.p);
        const int keep = dt_rng_dropout_keep(drop.key, drop.step, (uint32_t)drop.sample_id[r], (uint32_t)j, drop.p);
        const float g = keep ? dy[e] * scale : 0.0f;
        dy[e] = g * dt_act_derivative(act, z[e], dt_act_forward(act, z[e]));
    } else {
        dy[e] = dy[e] * dt_act_derivative(act, z[e], y[e]);
    }
}

/* One thread per column: b ascending from +0, as the CPU. */
__global__ void bias_grad_kernel(const float *dz, int64_t batch, int64_t n, float *db) {
    const int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    float acc = 0.0f;
    for (int64_t b = 0; b < batch; b++) acc += dz[b * n + j];
    db[j] = acc;
}

__global__ void zero_kernel(float *x, int64_t n) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e < n) x[e] = 0.0f;
}

/* fast: any order. */
__global__ void bias_grad_atomic_kernel(const float *dz, int64_t batch, int64_t n, float *db) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= batch * n) return;
    atomicAdd(&db[e % n], dz[e]);
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

/* The contract's block order on one thread: blocks of DT_REDUCE_BLOCK ascending, block sums
 * ascending. Used for batch losses and test losses (n up to a dataset: still cheap). */
__global__ void sum_fixed_kernel(const float *x, const int32_t *counts, int64_t n, float divisor, float *out,
                                 long long *out_count) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    out[0] = dt_sum_blocks(x, n) / divisor;
    if (counts) {
        long long c = 0;
        for (int64_t e = 0; e < n; e++) c += counts[e];
        out_count[0] = c;
    }
}

__global__ void sum_atomic_kernel(const float *x, const int32_t *counts, int64_t n, float divisor, float *out,
                                  long long *out_count) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= n) return;
    atomicAdd(out, x[e] / divisor);
    if (counts) atomicAdd((unsigned long long *)out_count, (unsigned long long)counts[e]);
}

__global__ void sumsq_blocks_kernel(const float *g, int64_t n, float *partial, int64_t blocks) {
    const int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (k < blocks) partial[k] = dt_sumsq_block(g, n, k);
}

__global__ void norm_finish_kernel(const float *partial, int64_t blocks, float clip, float *norm, float *scale) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    float total = 0.0f;
    for (int64_t k = 0; k < blocks; k++) total += partial[k];
    const float value = sqrtf(total);
    norm[0] = value;
    scale[0] = (clip > 0.0f && value > clip) ? clip / value : 1.0f;
}

__global__ void optimizer_kernel(dt_update_kind kind, float *params, const float *grads, float *m, float *v,
                                 dt_optim_scalars s, const float *scale, int64_t n) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= n) return;
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

extern "C" cudaError_t dt_cuda_dropout(cudaStream_t stream, float *y, int64_t batch, int64_t n,
                                       const dt_dropout *drop) {
    if (batch * n == 0 || drop->p <= 0.0f) return cudaSuccess;
    DT_CUDA_LAUNCH(dropout_kernel, blocks_for(batch * n), THREADS, 0, stream)(y, batch, n, *drop);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_act_backward(cudaStream_t stream, float *dy, const float *z, const float *y,
                                            int64_t batch, int64_t n, int act, const dt_dropout *drop) {
    if (batch * n == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(act_backward_kernel, blocks_for(batch * n), THREADS, 0, stream)(dy, z, y, batch, n, act, *drop,
                                                                                   drop->p > 0.0f);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_bias_grad(cudaStream_t stream, const float *dz, int64_t batch, int64_t n, float *db,
                                         int fast) {
    cudaError_t error = cudaSuccess;
    if (n == 0) return cudaSuccess;
    if (!fast) {
        DT_CUDA_LAUNCH(bias_grad_kernel, blocks_for(n), THREADS, 0, stream)(dz, batch, n, db);
        return cudaGetLastError();
    }
    DT_CUDA_LAUNCH(zero_kernel, blocks_for(n), THREADS, 0, stream)(db, n);
    DT_CUDA_CHECK(cudaGetLastError());
    if (batch * n > 0) {
        DT_CUDA_LAUNCH(bias_grad_atomic_kernel, blocks_for(batch * n), THREADS, 0, stream)(dz, batch, n, db);
        DT_CUDA_CHECK(cudaGetLastError());
    }
cleanup:
    return error;
}

extern "C" cudaError_t dt_cuda_loss_rows(cudaStream_t stream, const dt_loss_args *a, int64_t first, int32_t batch,
                                         int32_t *row_correct) {
    if (batch == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(loss_rows_kernel, blocks_for(batch), THREADS, 0, stream)(*a, first, batch, row_correct);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_sum_fixed(cudaStream_t stream, const float *x, const int32_t *counts, int64_t n,
                                         float divisor, float *out, long long *out_count, int fast) {
    cudaError_t error = cudaSuccess;
    if (!fast) {
        DT_CUDA_LAUNCH(sum_fixed_kernel, 1, 1, 0, stream)(x, counts, n, divisor, out, out_count);
        return cudaGetLastError();
    }
    DT_CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float), stream));
    if (counts) DT_CUDA_CHECK(cudaMemsetAsync(out_count, 0, sizeof(long long), stream));
    if (n > 0) {
        DT_CUDA_LAUNCH(sum_atomic_kernel, blocks_for(n), THREADS, 0, stream)(x, counts, n, divisor, out, out_count);
        DT_CUDA_CHECK(cudaGetLastError());
    }
cleanup:
    return error;
}

extern "C" cudaError_t dt_cuda_grad_norm(cudaStream_t stream, const float *g, int64_t n, float *partial, float clip,
                                         float *norm, float *scale) {
    const int64_t blocks = (n + DT_REDUCE_BLOCK - 1) / DT_REDUCE_BLOCK;
    cudaError_t error = cudaSuccess;
    if (blocks > 0) {
        DT_CUDA_LAUNCH(sumsq_blocks_kernel, blocks_for(blocks), THREADS, 0, stream)(g, n, partial, blocks);
        DT_CUDA_CHECK(cudaGetLastError());
    }
    DT_CUDA_LAUNCH(norm_finish_kernel, 1, 1, 0, stream)(partial, blocks, clip, norm, scale);
    DT_CUDA_CHECK(cudaGetLastError());
cleanup:
    return error;
}

extern "C" cudaError_t dt_cuda_optimizer(cudaStream_t stream, dt_update_kind kind, float *params, const float *grads,
                                         float *m, float *v, const dt_optim_scalars *s, const float *scale,
                                         int64_t n) {
    if (n == 0) return cudaSuccess;
    DT_CUDA_LAUNCH(optimizer_kernel, blocks_for(n), THREADS, 0, stream)(kind, params, grads, m, v, *s, scale, n);
    return cudaGetLastError();
}
