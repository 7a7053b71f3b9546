/* matmul_avx2.c — the generic product with AVX2 + FMA, register-blocked 6 rows x 16 columns.
 *
 * Same structure as the AVX-512 path: one lane per output element, p ascending, vfmadd
 * lane by lane = fmaf, so the bits equal dt_gemm_reference. Column tails use maskload. */
#include "matmul.h"

#include <immintrin.h>

#define DT_TARGET __attribute__((target("avx2,fma")))

#define DT_AVX2_TILE(MR)                                                                       \
    DT_TARGET static void tile_##MR(const dt_gemm_args *g, int64_t i0, int64_t j0, __m256i m0,  \
                                    __m256i m1) {                                              \
        __m256 c0[MR], c1[MR];                                                                 \
        _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {                                 \
            c0[r] = _mm256_setzero_ps();                                                       \
            c1[r] = _mm256_setzero_ps();                                                       \
        }                                                                                      \
        const float *a = g->A + i0 * g->a_row;                                                 \
        const float *b = g->B + j0;                                                            \
        for (int64_t p = 0; p < g->P; p++) {                                                   \
            const __m256 b0 = _mm256_maskload_ps(b + p * g->ldb, m0);                          \
            const __m256 b1 = _mm256_maskload_ps(b + p * g->ldb + 8, m1);                      \
            const float *a_p = a + p * g->a_col;                                               \
            _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {                             \
                const __m256 av = _mm256_broadcast_ss(a_p + r * g->a_row);                     \
                c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);                                        \
                c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);                                        \
            }                                                                                  \
        }                                                                                      \
        float *c = g->C + i0 * g->ldc + j0;                                                    \
        _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {                                 \
            _mm256_maskstore_ps(c + r * g->ldc, m0, c0[r]);                                    \
            _mm256_maskstore_ps(c + r * g->ldc + 8, m1, c1[r]);                                \
        }                                                                                      \
    }

DT_AVX2_TILE(1)
DT_AVX2_TILE(2)
DT_AVX2_TILE(3)
DT_AVX2_TILE(4)
DT_AVX2_TILE(5)
DT_AVX2_TILE(6)

/* Lane mask (all bits set in a lane = active) of the first n lanes, n clamped to 0..8. */
DT_TARGET static __m256i lanes(int64_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int count = n <= 0 ? 0 : n >= 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), index);
}

DT_TARGET void dt_gemm_rows_avx2(const dt_gemm_args *g, int64_t row_begin, int64_t row_end) {
    for (int64_t j0 = 0; j0 < g->N; j0 += 16) {
        const __m256i m0 = lanes(g->N - j0), m1 = lanes(g->N - j0 - 8);
        int64_t i0 = row_begin;
        for (; i0 + 6 <= row_end; i0 += 6) tile_6(g, i0, j0, m0, m1);
        switch (row_end - i0) {
        case 5: tile_5(g, i0, j0, m0, m1); break;
        case 4: tile_4(g, i0, j0, m0, m1); break;
        case 3: tile_3(g, i0, j0, m0, m1); break;
        case 2: tile_2(g, i0, j0, m0, m1); break;
        case 1: tile_1(g, i0, j0, m0, m1); break;
        default: break;
        }
    }
}
