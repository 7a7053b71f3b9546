/* matmul.h — fixed-order matrix products on the CPU (the portable contract, docs/numerics.md).
 *
 * One generic product covers the three products of a dense layer:
 *
 *   C[i][j] = sum over p = 0, 1, ..., P-1 of A(i, p) * B[p][j]
 *
 * computed for every (i, j) as ONE fmaf chain, p ascending, starting from +0.0f:
 *   acc = 0; for p: acc = fmaf(A(i,p), B[p][j], acc); C[i][j] = acc
 * A is read through strides, A(i, p) = A[i * a_row + p * a_col], so X, dY and dYᵀ need no copy;
 * B is row-major with leading dimension ldb. Work is split over (i, j) tiles, never over p:
 * every path (scalar, AVX2, AVX-512) and every thread count gives the same bits. */
#ifndef DT_MATMUL_H
#define DT_MATMUL_H

#include <stdint.h>

typedef struct {
    int64_t M, N, P;          /* C is (M, N); the reduction runs over P */
    const float *A;           /* A(i, p) = A[i * a_row + p * a_col] */
    int64_t a_row, a_col;
    const float *B;           /* (P, N) row-major, B[p * ldb + j] */
    int64_t ldb;
    float *C;                 /* (M, N) row-major, C[i * ldc + j]; overwritten */
    int64_t ldc;
} dt_gemm_args;

typedef enum { DT_SIMD_SCALAR, DT_SIMD_AVX2, DT_SIMD_AVX512 } dt_simd_path;

/* Computes the rows [row_begin, row_end) of C with the given path (caller checks the CPU
 * supports it). Thread-safe: touches only those rows of C. */
void dt_gemm_rows(const dt_gemm_args *g, int64_t row_begin, int64_t row_end, dt_simd_path path);

/* The scalar reference: the specification the SIMD paths are tested against, bit for bit. */
void dt_gemm_reference(const dt_gemm_args *g);

/* The fastest path this CPU supports (AVX-512F > AVX2+FMA > scalar), detected at run time.
 * The environment variable DT_SIMD=scalar|avx2|avx512 caps it (for tests and benchmarks). */
dt_simd_path dt_simd_detect(void);
/* Whether this CPU can run the path. */
int dt_simd_supported(dt_simd_path path);
/* "scalar", "avx2", "avx512". */
const char *dt_simd_name(dt_simd_path path);

/* Path-specific row kernels (matmul_avx2.c, matmul_avx512.c compile with target attributes). */
void dt_gemm_rows_avx2(const dt_gemm_args *g, int64_t row_begin, int64_t row_end);
void dt_gemm_rows_avx512(const dt_gemm_args *g, int64_t row_begin, int64_t row_end);

#endif
