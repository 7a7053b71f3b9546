/* matmul.h — fixed-order matrix products on the CPU (the portable contract, docs/numerics.md).
 *
 * One generic product covers the three products of a dense layer:
 *
 *   C[i][j] = sum over p = 0, 1, ..., P-1 of A(i, p) * B(p, j)
 *
 * computed for every (i, j) as ONE fmaf chain, p ascending, starting from +0.0f:
 *   acc = 0; for p: acc = fmaf(A(i,p), B(p,j), acc); C[i][j] = acc
 * then, optionally, the epilogue: C[i][j] = acc + bias[j] and Y[i][j] = act(C[i][j]).
 *
 * Operands are read through strides, so X, dZ, dZᵀ, W and Wᵀ need no copy:
 *   A(i, p) = A[row(i) * a_row + p * a_col], row(i) = a_index ? a_index[i] : i (a gathered batch)
 *   B(p, j) = B[p * b_row + j * b_col]
 * The SIMD paths pack B into panels of NR columns and block p by DT_GEMM_KC; between
 * p-blocks they store the running sums in C and reload them, which continues the same
 * chain exactly. Work is split over (row chunk, column panel) tasks, never over p: every
 * path and every thread count gives the same bits. */
#ifndef DT_MATMUL_H
#define DT_MATMUL_H

#include <stdint.h>

/* p-block length: one packed panel block (KC x 32 floats = 32 KiB) stays in L1. */
#define DT_GEMM_KC 256
/* Widest panel of any path (AVX-512: 32 columns). */
#define DT_GEMM_NR_MAX 32
/* Floats of packing scratch one thread needs. */
#define DT_GEMM_PACK_FLOATS (DT_GEMM_KC * DT_GEMM_NR_MAX)

typedef struct {
    int64_t M, N, P;          /* C is (M, N); the reduction runs over P */
    const float *A;
    int64_t a_row, a_col;
    const int64_t *a_index;   /* NULL, or (M) source rows of A (a gathered batch) */
    const float *B;
    int64_t b_row, b_col;
    float *C;                 /* (M, N) row-major with leading dimension ldc; overwritten */
    int64_t ldc;
    const float *bias;        /* NULL, or (N): epilogue C = acc + bias[j] */
    float *Y;                 /* NULL, or (M, N) with leading dimension ldy: Y = act(C) */
    int64_t ldy;
    int act;                  /* activation code (activation.h) for Y */
} dt_gemm_args;

typedef enum { DT_SIMD_SCALAR, DT_SIMD_AVX2, DT_SIMD_AVX512 } dt_simd_path;

/* The scalar reference: the specification the other paths are tested against, bit for bit. */
void dt_gemm_reference(const dt_gemm_args *g);

/* Splitting a product into tasks: a grid of row chunks x column panels. */
typedef struct {
    int64_t panel_cols;       /* columns per panel (the path's NR) */
    int64_t n_panels, n_row_chunks, rows_per_chunk;
} dt_gemm_plan;

/* A plan for `threads` threads: enough tasks to keep them busy, panels first. */
dt_gemm_plan dt_gemm_plan_for(const dt_gemm_args *g, dt_simd_path path, int threads);
/* Number of tasks of a plan. */
int64_t dt_gemm_plan_tasks(const dt_gemm_plan *plan);
/* Computes tasks [t0, t1) with the given path; pack is DT_GEMM_PACK_FLOATS of scratch
 * owned by the calling thread. Thread-safe: tasks touch disjoint parts of C and Y. */
void dt_gemm_tasks(const dt_gemm_args *g, const dt_gemm_plan *plan, int64_t t0, int64_t t1, dt_simd_path path,
                   float *pack);
/* The whole product on one thread (tests, benchmarks). */
void dt_gemm(const dt_gemm_args *g, dt_simd_path path, float *pack);

/* The fastest path this CPU supports (AVX-512F > AVX2+FMA > scalar), detected at run time.
 * The environment variable DT_SIMD=scalar|avx2|avx512 caps it (tests and benchmarks). */
dt_simd_path dt_simd_detect(void);
/* Whether this CPU can run the path. */
int dt_simd_supported(dt_simd_path path);
/* "scalar", "avx2", "avx512". */
const char *dt_simd_name(dt_simd_path path);

/* Path-specific block kernels: rows [i0, i1) x columns [j0, j1) (j1 - j0 <= the path's NR)
 * of the product, p ascending in DT_GEMM_KC blocks through `pack`, epilogue included. */
void dt_gemm_block_scalar(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1, float *pack);
void dt_gemm_block_avx2(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1, float *pack);
void dt_gemm_block_avx512(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1, float *pack);

#endif
