/* gemm.cu — the portable matrix product on the GPU and the epilogue kernel.
 *
 * The contract (docs/numerics.md): each C[i][j] is ONE fmaf chain over p = 0..P-1 in
 * ascending order from +0, then + bias, then the activation. Blocks own 128 x 128 output
 * tiles and march over p in steps of 8 through shared memory; each thread owns 8 x 8
 * outputs in registers and runs their chains. No split-K, no atomics: the bits equal the
 * CPU's. The inner loop stops at the real P (no padded steps: fmaf(0, 0, -0) would turn a
 * -0 sum into +0). Compiled with --fmad=false, so only the written fmaf fuses. */
#include "activation.h"
#include "kernels.h"
#include "launch.h"

#define TILE_M 128
#define TILE_N 128
#define TILE_K 8
#define THREAD_M 8
#define THREAD_N 8
#define GEMM_THREADS 256 /* (TILE_M / THREAD_M) * (TILE_N / THREAD_N) */

/* ---- device helpers ------------------------------------------------------------------- */

__device__ __forceinline__ float a_at(const dt_gemm_args &g, int64_t i, int64_t p) {
    return g.A[i * g.a_row + p * g.a_col];
}

__device__ __forceinline__ float b_at(const dt_gemm_args &g, int64_t p, int64_t j) {
    return g.B[p * g.b_row + j * g.b_col];
}

/* ---- kernels -------------------------------------------------------------------------- */

__global__ void __launch_bounds__(GEMM_THREADS) gemm_portable_kernel(dt_gemm_args g) {
    __shared__ float a_tile[TILE_K][TILE_M];
    __shared__ float b_tile[TILE_K][TILE_N];
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;         /* thread column and row within the tile */
    const int64_t i0 = (int64_t)blockIdx.y * TILE_M, j0 = (int64_t)blockIdx.x * TILE_N;
    float acc[THREAD_M][THREAD_N];
#pragma unroll
    for (int r = 0; r < THREAD_M; r++)
#pragma unroll
        for (int c = 0; c < THREAD_N; c++) acc[r][c] = 0.0f;

    /* Coalesce the loads along whichever index is contiguous in memory. */
    const bool a_k_fast = g.a_col == 1, b_j_fast = g.b_col == 1;
    for (int64_t p0 = 0; p0 < g.P; p0 += TILE_K) {
        const int kc = (int)(g.P - p0 < TILE_K ? g.P - p0 : TILE_K);
        for (int e = tid; e < TILE_K * TILE_M; e += GEMM_THREADS) {
            const int k = a_k_fast ? e % TILE_K : e / TILE_M, i = a_k_fast ? e / TILE_K : e % TILE_M;
            a_tile[k][i] = (k < kc && i0 + i < g.M) ? a_at(g, i0 + i, p0 + k) : 0.0f;
        }
        for (int e = tid; e < TILE_K * TILE_N; e += GEMM_THREADS) {
            const int k = b_j_fast ? e / TILE_N : e % TILE_K, j = b_j_fast ? e % TILE_N : e / TILE_K;
            b_tile[k][j] = (k < kc && j0 + j < g.N) ? b_at(g, p0 + k, j0 + j) : 0.0f;
        }
        __syncthreads();
        for (int k = 0; k < kc; k++) {
            float a[THREAD_M], b[THREAD_N];
#pragma unroll
            for (int r = 0; r < THREAD_M; r++) a[r] = a_tile[k][ty + 16 * r];
#pragma unroll
            for (int c = 0; c < THREAD_N; c++) b[c] = b_tile[k][tx + 16 * c];
#pragma unroll
            for (int r = 0; r < THREAD_M; r++)
#pragma unroll
                for (int c = 0; c < THREAD_N; c++) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int r = 0; r < THREAD_M; r++) {
        const int64_t i = i0 + ty + 16 * r;
        if (i >= g.M) continue;
#pragma unroll
        for (int c = 0; c < THREAD_N; c++) {
            const int64_t j = j0 + tx + 16 * c;
            if (j >= g.N) continue;
            const float z = g.bias ? acc[r][c] + g.bias[j] : acc[r][c];
            g.C[i * g.ldc + j] = z;
            if (g.Y) g.Y[i * g.ldy + j] = dt_act_forward(g.act, z);
        }
    }
}

__global__ void bias_act_kernel(dt_gemm_args g) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= g.M * g.N) return;
    const int64_t i = e / g.N, j = e % g.N;
    const float z = g.bias ? g.C[i * g.ldc + j] + g.bias[j] : g.C[i * g.ldc + j];
    g.C[i * g.ldc + j] = z;
    if (g.Y) g.Y[i * g.ldy + j] = dt_act_forward(g.act, z);
}

/* ---- launchers ------------------------------------------------------------------------ */

extern "C" cudaError_t dt_cuda_gemm_portable(cudaStream_t stream, const dt_gemm_args *g) {
    if (g->a_index) return cudaErrorInvalidValue; /* gathered A rows: the backend gathers first */
    if (g->M == 0 || g->N == 0) return cudaSuccess;
    const dim3 grid((unsigned)((g->N + TILE_N - 1) / TILE_N), (unsigned)((g->M + TILE_M - 1) / TILE_M));
    DT_CUDA_LAUNCH(gemm_portable_kernel, grid, GEMM_THREADS, 0, stream)(*g);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_bias_act(cudaStream_t stream, const dt_gemm_args *g) {
    if (g->M == 0 || g->N == 0 || (!g->bias && !g->Y)) return cudaSuccess;
    const int threads = 256;
    const unsigned blocks = (unsigned)((g->M * g->N + threads - 1) / threads);
    DT_CUDA_LAUNCH(bias_act_kernel, blocks, threads, 0, stream)(*g);
    return cudaGetLastError();
}
