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
 *   computed (still two barriers a tile);
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
typedef gemm_tiles<32, 32, 4, 4, 16> gemm_small;

/* Below this many large tiles the small ones are used: about one block per SM of a
 * current data-centre GPU (132 on an H100), so that a batch-sized product still fills it. */
#define GEMM_FILL_BLOCKS 128

/* ---- device helpers ------------------------------------------------------------------- */

/* One operand's share of the k-tiles for one thread. Element l of its share sits at
 * (k0 + l * dk, x0 + l * dx) of the shared tile (x: the row i of A or the column j of B), so
 * that consecutive threads walk along whichever index is contiguous in memory and the
 * global loads coalesce; in memory it is at base + l * l_stride + p0 * p_stride. An
 * arithmetic progression because THREADS is a multiple of TK, TM and TN. */
struct tile_share {
    const float *base;
    int64_t l_stride, p_stride;
    int k0, dk, x0, dx;
};

/* The share of an operand whose tile is TK x X (X = TM for A, TN for B): x_stride and
 * p_stride are the operand's strides along x and p, x_first the tile's first x. */
template <class T, int X>
__device__ __forceinline__ tile_share share_of(const float *m, int64_t x_first, int64_t x_stride, int64_t p_stride,
                                               int tid) {
    static_assert(T::THREADS % T::TK == 0 && T::THREADS % X == 0, "loads must be a progression");
    tile_share s;
    if (p_stride == 1) s.k0 = tid % T::TK, s.dk = 0, s.x0 = tid / T::TK, s.dx = T::THREADS / T::TK;
    else s.k0 = tid / X, s.dk = T::THREADS / X, s.x0 = tid % X, s.dx = 0;
    s.base = m + (x_first + s.x0) * x_stride + s.k0 * p_stride;
    s.l_stride = s.dx * x_stride + s.dk * p_stride;
    s.p_stride = p_stride;
    return s;
}

/* Loads the share of the k-tile at p0 into registers: `pad` past P (+0 for A, -0 for B),
 * 0 past the operand's rows or columns (x_end: how many the tile has left; never stored). */
template <int N>
__device__ __forceinline__ void load_share(const tile_share &s, int64_t p0, int64_t P, int64_t x_end, float pad,
                                           float *next) {
    const float *at = s.base + p0 * s.p_stride;
#pragma unroll
    for (int l = 0; l < N; l++)
        next[l] = p0 + s.k0 + l * s.dk >= P ? pad : s.x0 + l * s.dx < x_end ? at[l * s.l_stride] : 0.0f;
}

/* Stores the registers into the shared tile (row length X + PAD). */
template <int N, int X>
__device__ __forceinline__ void store_share(const tile_share &s, const float *next, float (*tile)[X]) {
#pragma unroll
    for (int l = 0; l < N; l++) tile[s.k0 + l * s.dk][s.x0 + l * s.dx] = next[l];
}

/* The tile row of a thread's output row r (of RM): groups of 4 contiguous rows, TM / GM apart. */
template <class T> __device__ __forceinline__ int out_row(int ty, int r) {
    return (r / 4) * (T::TM / T::GM) + ty * 4 + r % 4;
}

/* The tile column of a thread's output column c (of RN), likewise. */
template <class T> __device__ __forceinline__ int out_col(int tx, int c) {
    return (c / 4) * (T::TN / T::GN) + tx * 4 + c % 4;
}

/* ---- kernels -------------------------------------------------------------------------- */

template <class T> __global__ void __launch_bounds__(T::THREADS, T::BLOCKS_PER_SM) gemm_portable_kernel(dt_gemm_args g) {
    __shared__ __align__(16) float a_tile[T::TK][T::TM + T::PAD];
    __shared__ __align__(16) float b_tile[T::TK][T::TN + T::PAD];
    const int tid = threadIdx.x;
    const int tx = tid % (T::TN / T::RN), ty = tid / (T::TN / T::RN);
    const int64_t i0 = (int64_t)blockIdx.y * T::TM, j0 = (int64_t)blockIdx.x * T::TN;
    float acc[T::RM][T::RN];
#pragma unroll
    for (int r = 0; r < T::RM; r++)
#pragma unroll
        for (int c = 0; c < T::RN; c++) acc[r][c] = 0.0f;

    const tile_share a_share = share_of<T, T::TM>(g.A, i0, g.a_row, g.a_col, tid);
    const tile_share b_share = share_of<T, T::TN>(g.B, j0, g.b_col, g.b_row, tid);
    const int64_t m_end = g.M - i0, n_end = g.N - j0;
    float a_next[T::A_LOADS], b_next[T::B_LOADS];
    load_share<T::A_LOADS>(a_share, 0, g.P, m_end, 0.0f, a_next);
    load_share<T::B_LOADS>(b_share, 0, g.P, n_end, -0.0f, b_next);
    for (int64_t p0 = 0; p0 < g.P; p0 += T::TK) {
        store_share<T::A_LOADS, T::TM + T::PAD>(a_share, a_next, a_tile);
        store_share<T::B_LOADS, T::TN + T::PAD>(b_share, b_next, b_tile);
        __syncthreads();
        if (p0 + T::TK < g.P) { /* the next tile's global loads fly while this one is computed */
            load_share<T::A_LOADS>(a_share, p0 + T::TK, g.P, m_end, 0.0f, a_next);
            load_share<T::B_LOADS>(b_share, p0 + T::TK, g.P, n_end, -0.0f, b_next);
        }
#pragma unroll
        for (int kk = 0; kk < T::TK; kk++) {
            float a[T::RM], b[T::RN];
#pragma unroll
            for (int q = 0; q < T::GM; q++) {
                const float4 v = *reinterpret_cast<const float4 *>(&a_tile[kk][out_row<T>(ty, 4 * q)]);
                a[4 * q] = v.x, a[4 * q + 1] = v.y, a[4 * q + 2] = v.z, a[4 * q + 3] = v.w;
            }
#pragma unroll
            for (int q = 0; q < T::GN; q++) {
                const float4 v = *reinterpret_cast<const float4 *>(&b_tile[kk][out_col<T>(tx, 4 * q)]);
                b[4 * q] = v.x, b[4 * q + 1] = v.y, b[4 * q + 2] = v.z, b[4 * q + 3] = v.w;
            }
#pragma unroll
            for (int r = 0; r < T::RM; r++)
#pragma unroll
                for (int c = 0; c < T::RN; c++) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
        }
        __syncthreads();
    }

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

template <class T> static cudaError_t launch_gemm(cudaStream_t stream, const dt_gemm_args *g) {
    const dim3 grid((unsigned)((g->N + T::TN - 1) / T::TN), (unsigned)((g->M + T::TM - 1) / T::TM));
    DT_CUDA_LAUNCH(gemm_portable_kernel<T>, grid, T::THREADS, 0, stream)(*g);
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
