/* gemm.cu — the portable matrix product on the GPU and the epilogue kernel.
 *
 * The contract (docs/numerics.md): each C[i][j] is ONE fmaf chain over p = 0..P-1 in
 * ascending order from +0, then + bias, then the activation. A block owns one output tile
 * and marches over p in steps of TK through shared memory; each thread owns RM x RN outputs
 * in registers and runs their chains. No split-K, no atomics: the bits equal the CPU's.
 * Compiled with --fmad=false, so only the written fmaf fuses.
 *
 * What makes it fast without touching the order:
 * - the last k-tile is padded with A = +0 and B = -0: fmaf(+0, -0, acc) adds an exact -0,
 *   which leaves every acc unchanged (also a -0 sum, which +0 * +0 would turn into +0), so
 *   the inner loop has a fixed trip count and is unrolled;
 * - the next k-tile is loaded from global memory into registers while this one is
 *   computed, and stored into the second of two shared buffers: one barrier a tile;
 * - a product whose tiles all lie inside C, with P a multiple of TK and aligned operands,
 *   loads each thread's share of a k-tile as one 128-bit load without edge tests;
 * - the shared tiles' rows are padded by 4 floats, so the transposing stores of a
 *   k-contiguous operand hit 32 different banks, and each thread's rows and columns come
 *   in groups of 4 contiguous floats read with one 128-bit shared load;
 * - two tile shapes: 128 x 128 (256 threads, 8 x 8 each) for large products, 32 x 32
 *   (64 threads, 4 x 4 each) when the large tiles would leave most of the GPU idle (a
 *   batch of 128: 1 to 14 large tiles on a GPU of 132 SMs). */
#include "activation.h"
#include "kernels.h"
#include "launch.h"

/* One tile shape: TM x TN outputs a block, k-steps of TK, RM x RN outputs a thread in
 * groups of 4 contiguous rows (columns) that lie TM / (RM / 4) apart, and BLOCKS_PER_SM
 * resident blocks asked of ptxas (it caps the registers: 65536 / (THREADS * BLOCKS_PER_SM)). */
template <int TM_, int TN_, int RM_, int RN_, int BLOCKS_PER_SM_> struct gemm_tiles {
    static constexpr int TM = TM_, TN = TN_, TK = 8, RM = RM_, RN = RN_, BLOCKS_PER_SM = BLOCKS_PER_SM_;
    static constexpr int THREADS = (TM / RM) * (TN / RN);
    static constexpr int PAD = 4;                           /* floats after each shared row */
    static constexpr int A_LOADS = TK * TM / THREADS, B_LOADS = TK * TN / THREADS;
    static constexpr int GM = RM / 4, GN = RN / 4;          /* groups of 4 per thread */
};
typedef gemm_tiles<128, 128, 8, 8, 2> gemm_large;
typedef gemm_tiles<32, 32, 4, 4, 12> gemm_small;

/* Below this many large tiles the small ones are used: about one block per SM of a
 * current data-centre GPU (132 on an H100), so that a batch-sized product still fills it. */
#define GEMM_FILL_BLOCKS 128

/* ---- device helpers ------------------------------------------------------------------- */

/* The loaders: each thread's share of an operand's k-tiles, read from global memory into
 * registers (load, for p0 = 0, TK, 2 TK, ... in this order) and then stored into the shared
 * tile TK x X (X = TM for A, TN for B; x: the row i of A or the column j of B). */

/* Any operand, any product: element l of the share sits at (k0 + l * dk, x0 + l * dx) of the
 * tile, so that consecutive threads walk along whichever index is contiguous in memory and
 * the loads coalesce; `pad` past P (+0 for A, -0 for B), 0 past the operand's rows or
 * columns (x_end: how many the tile has left; never stored). An arithmetic progression
 * because THREADS is a multiple of TK, TM and TN. */
template <class T, int X> struct edge_loader {
    static constexpr int N = T::TK * X / T::THREADS;
    static_assert(T::THREADS % T::TK == 0 && T::THREADS % X == 0, "loads must be a progression");
    const float *base;
    int64_t l_stride, p_stride, P, x_end;
    int k0, dk, x0, dx;
    float pad, next[N];

    /* x_stride and p_stride: the operand's strides along x and p; x_first: the tile's first x. */
    __device__ __forceinline__ edge_loader(const float *m, int64_t x_first, int64_t x_stride, int64_t p_stride_,
                                           int64_t P_, int64_t x_end_, float pad_, int tid)
        : p_stride(p_stride_), P(P_), x_end(x_end_), pad(pad_) {
        if (p_stride == 1) k0 = tid % T::TK, dk = 0, x0 = tid / T::TK, dx = T::THREADS / T::TK;
        else k0 = tid / X, dk = T::THREADS / X, x0 = tid % X, dx = 0;
        base = m + (x_first + x0) * x_stride + k0 * p_stride;
        l_stride = dx * x_stride + dk * p_stride;
    }
    __device__ __forceinline__ void load(int64_t p0) {
        const float *at = base + p0 * p_stride;
#pragma unroll
        for (int l = 0; l < N; l++)
            next[l] = p0 + k0 + l * dk >= P ? pad : x0 + l * dx < x_end ? at[l * l_stride] : 0.0f;
    }
    __device__ __forceinline__ void store(float (*tile)[X + T::PAD]) const {
#pragma unroll
        for (int l = 0; l < N; l++) tile[k0 + l * dk][x0 + l * dx] = next[l];
    }
};

/* Products whose every tile lies inside C, with P a multiple of TK, and 16-byte aligned
 * operands with a unit stride and the other a multiple of 4 (vec_ready): no edges, so each
 * thread reads its share as one 128-bit load, 4 consecutive p of one row x (a k-contiguous
 * operand, stored transposed) or 4 consecutive x at one p (stored as one 128-bit store). */
template <class T, int X> struct vec_loader {
    static_assert(T::THREADS * 4 == T::TK * X, "one float4 a thread a k-tile");
    const float *at;
    int64_t step;
    int k0, x0;
    bool k_contiguous;
    float4 next;

    __device__ __forceinline__ vec_loader(const float *m, int64_t x_first, int64_t x_stride, int64_t p_stride,
                                          int64_t, int64_t, float, int tid)
        : step(T::TK * p_stride), k_contiguous(p_stride == 1) {
        if (k_contiguous) k0 = tid % (T::TK / 4) * 4, x0 = tid / (T::TK / 4);
        else k0 = tid / (X / 4), x0 = tid % (X / 4) * 4;
        at = m + (x_first + x0) * x_stride + k0 * p_stride;
    }
    __device__ __forceinline__ void load(int64_t) {
        next = *reinterpret_cast<const float4 *>(at);
        at += step;
    }
    __device__ __forceinline__ void store(float (*tile)[X + T::PAD]) const {
        if (k_contiguous) {
            tile[k0][x0] = next.x, tile[k0 + 1][x0] = next.y, tile[k0 + 2][x0] = next.z, tile[k0 + 3][x0] = next.w;
        } else {
            *reinterpret_cast<float4 *>(&tile[k0][x0]) = next;
        }
    }
};

/* The tile row of a thread's output row r (of RM): groups of 4 contiguous rows, TM / GM apart. */
template <class T> __device__ __forceinline__ int out_row(int ty, int r) {
    return (r / 4) * (T::TM / T::GM) + ty * 4 + r % 4;
}

/* The tile column of a thread's output column c (of RN), likewise. */
template <class T> __device__ __forceinline__ int out_col(int tx, int c) {
    return (c / 4) * (T::TN / T::GN) + tx * 4 + c % 4;
}

/* ---- kernels -------------------------------------------------------------------------- */

/* The shared tiles, two of each: a k-tile is computed from one while the next is stored into
 * the other, so one barrier a k-tile orders both (the stores of tile t + 1 go to the buffer
 * tile t - 1 was read from, and every thread has left that one at the barrier after t - 1). */
template <class T> struct gemm_shared {
    __align__(16) float a[2][T::TK][T::TM + T::PAD];
    __align__(16) float b[2][T::TK][T::TN + T::PAD];
};

/* The main loop: every k-tile into the thread's RM x RN chains, in ascending p. */
template <class T, class LoaderA, class LoaderB>
__device__ __forceinline__ void gemm_main_loop(int64_t P, gemm_shared<T> &sh, LoaderA &a_load, LoaderB &b_load,
                                               int tx, int ty, float (&acc)[T::RM][T::RN]) {
    a_load.load(0);
    b_load.load(0);
    a_load.store(sh.a[0]);
    b_load.store(sh.b[0]);
    __syncthreads();
    int stage = 0;
    for (int64_t p0 = 0; p0 < P; p0 += T::TK, stage ^= 1) {
        const bool more = p0 + T::TK < P;
        if (more) { /* the next tile's global loads fly while this one is computed */
            a_load.load(p0 + T::TK);
            b_load.load(p0 + T::TK);
        }
#pragma unroll
        for (int kk = 0; kk < T::TK; kk++) {
            float a[T::RM], b[T::RN];
#pragma unroll
            for (int q = 0; q < T::GM; q++) {
                const float4 v = *reinterpret_cast<const float4 *>(&sh.a[stage][kk][out_row<T>(ty, 4 * q)]);
                a[4 * q] = v.x, a[4 * q + 1] = v.y, a[4 * q + 2] = v.z, a[4 * q + 3] = v.w;
            }
#pragma unroll
            for (int q = 0; q < T::GN; q++) {
                const float4 v = *reinterpret_cast<const float4 *>(&sh.b[stage][kk][out_col<T>(tx, 4 * q)]);
                b[4 * q] = v.x, b[4 * q + 1] = v.y, b[4 * q + 2] = v.z, b[4 * q + 3] = v.w;
            }
#pragma unroll
            for (int r = 0; r < T::RM; r++)
#pragma unroll
                for (int c = 0; c < T::RN; c++) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
        }
        if (more) {
            a_load.store(sh.a[stage ^ 1]);
            b_load.store(sh.b[stage ^ 1]);
        }
        __syncthreads();
    }
}

/* Loader: edge_loader (any product) or vec_loader (vec_ready products); the same chains. */
template <class T, template <class, int> class Loader>
__global__ void __launch_bounds__(T::THREADS, T::BLOCKS_PER_SM) gemm_portable_kernel(dt_gemm_args g) {
    __shared__ gemm_shared<T> sh;
    const int tid = threadIdx.x;
    const int tx = tid % (T::TN / T::RN), ty = tid / (T::TN / T::RN);
    const int64_t i0 = (int64_t)blockIdx.y * T::TM, j0 = (int64_t)blockIdx.x * T::TN;
    float acc[T::RM][T::RN];
#pragma unroll
    for (int r = 0; r < T::RM; r++)
#pragma unroll
        for (int c = 0; c < T::RN; c++) acc[r][c] = 0.0f;
    Loader<T, T::TM> a_load(g.A, i0, g.a_row, g.a_col, g.P, g.M - i0, 0.0f, tid);
    Loader<T, T::TN> b_load(g.B, j0, g.b_col, g.b_row, g.P, g.N - j0, -0.0f, tid);
    gemm_main_loop<T>(g.P, sh, a_load, b_load, tx, ty, acc);

    /* C = acc + bias from the registers; then Y = act(C), read back from C in a loop that is
     * not unrolled, so that the activation is inlined once and not RM x RN times. */
#pragma unroll
    for (int r = 0; r < T::RM; r++) {
        const int64_t i = i0 + out_row<T>(ty, r);
#pragma unroll
        for (int c = 0; c < T::RN; c++) {
            const int64_t j = j0 + out_col<T>(tx, c);
            if (i < g.M && j < g.N) g.C[i * g.ldc + j] = g.bias ? acc[r][c] + g.bias[j] : acc[r][c];
        }
    }
    if (!g.Y) return;
#pragma unroll 1
    for (int e = 0; e < T::RM * T::RN; e++) {
        const int64_t i = i0 + out_row<T>(ty, e / T::RN), j = j0 + out_col<T>(tx, e % T::RN);
        if (i < g.M && j < g.N) g.Y[i * g.ldy + j] = dt_act_forward(g.act, g.C[i * g.ldc + j]);
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

/* Whether an operand can be read by vec_loader: 16-byte aligned, one stride 1 and the other
 * a multiple of 4 (so every float4 it reads is aligned). */
static bool vec_operand(const float *m, int64_t x_stride, int64_t p_stride) {
    return (uintptr_t)m % 16 == 0 && ((p_stride == 1 && x_stride % 4 == 0) || (x_stride == 1 && p_stride % 4 == 0));
}

/* Whether a product can run with vec_loader in tile shape T: every tile inside C, P a
 * multiple of TK, both operands vec_operand. */
template <class T> static bool vec_ready(const dt_gemm_args *g) {
    return g->M % T::TM == 0 && g->N % T::TN == 0 && g->P % T::TK == 0 && vec_operand(g->A, g->a_row, g->a_col) &&
           vec_operand(g->B, g->b_col, g->b_row);
}

template <class T> static cudaError_t launch_gemm(cudaStream_t stream, const dt_gemm_args *g) {
    const dim3 grid((unsigned)((g->N + T::TN - 1) / T::TN), (unsigned)((g->M + T::TM - 1) / T::TM));
    if (vec_ready<T>(g)) DT_CUDA_LAUNCH((gemm_portable_kernel<T, vec_loader>), grid, T::THREADS, 0, stream)(*g);
    else DT_CUDA_LAUNCH((gemm_portable_kernel<T, edge_loader>), grid, T::THREADS, 0, stream)(*g);
    return cudaGetLastError();
}

extern "C" cudaError_t dt_cuda_gemm_portable_tiles(cudaStream_t stream, const dt_gemm_args *g, dt_cuda_tiles tiles) {
    if (g->a_index) return cudaErrorInvalidValue; /* gathered A rows: the backend gathers first */
    if (g->M == 0 || g->N == 0) return cudaSuccess;
    if (tiles == DT_CUDA_TILES_AUTO) {
        const int64_t large = ((g->M + gemm_large::TM - 1) / gemm_large::TM) * ((g->N + gemm_large::TN - 1) / gemm_large::TN);
        tiles = large >= GEMM_FILL_BLOCKS ? DT_CUDA_TILES_LARGE : DT_CUDA_TILES_SMALL;
    }
    if (tiles == DT_CUDA_TILES_LARGE) return launch_gemm<gemm_large>(stream, g);
    if (tiles == DT_CUDA_TILES_SMALL) return launch_gemm<gemm_small>(stream, g);
    return cudaErrorInvalidValue;
}

extern "C" cudaError_t dt_cuda_gemm_portable(cudaStream_t stream, const dt_gemm_args *g) {
    return dt_cuda_gemm_portable_tiles(stream, g, DT_CUDA_TILES_AUTO);
}

extern "C" cudaError_t dt_cuda_bias_act(cudaStream_t stream, const dt_gemm_args *g) {
    if (g->M == 0 || g->N == 0 || (!g->bias && !g->Y)) return cudaSuccess;
    const int threads = 256;
    const unsigned blocks = (unsigned)((g->M * g->N + threads - 1) / threads);
    DT_CUDA_LAUNCH(bias_act_kernel, blocks, threads, 0, stream)(*g);
    return cudaGetLastError();
}
