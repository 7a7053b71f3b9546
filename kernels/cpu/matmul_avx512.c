/* matmul_avx512.c — the generic product with AVX-512F, register-blocked 6 rows x 32 columns.
 *
 * Each vector lane holds one output element's accumulator; the loop over p is the
 * element's ascending fmaf chain (vfmadd = fmaf, lane by lane), so this path gives the
 * same bits as dt_gemm_reference. Column tails use masked loads and stores. */
#include "matmul.h"

#include <immintrin.h>

#define DT_TARGET __attribute__((target("avx512f")))

/* One MR x 32 tile of C at (i0, j0); lanes outside masks m0/m1 are neither read nor written. */
#define DT_AVX512_TILE(MR)                                                                     \
    DT_TARGET static void tile_##MR(const dt_gemm_args *g, int64_t i0, int64_t j0, __mmask16 m0, \
                                    __mmask16 m1) {                                            \
        __m512 c0[MR], c1[MR];                                                                 \
        _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {                                 \
            c0[r] = _mm512_setzero_ps();                                                       \
            c1[r] = _mm512_setzero_ps();                                                       \
        }                                                                                      \
        const float *a = g->A + i0 * g->a_row;                                                 \
        const float *b = g->B + j0;                                                            \
        for (int64_t p = 0; p < g->P; p++) {                                                   \
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + p * g->ldb);                       \
            const __m512 b1 = _mm512_maskz_loadu_ps(m1, b + p * g->ldb + 16);                  \
            const float *a_p = a + p * g->a_col;                                               \
            _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {                             \
                const __m512 av = _mm512_set1_ps(a_p[r * g->a_row]);                           \
                c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);                                        \
                c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);                                        \
            }                                                                                  \
        }                                                                                      \
        float *c = g->C + i0 * g->ldc + j0;                                                    \
        _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {                                 \
            _mm512_mask_storeu_ps(c + r * g->ldc, m0, c0[r]);                                  \
            _mm512_mask_storeu_ps(c + r * g->ldc + 16, m1, c1[r]);                             \
        }                                                                                      \
    }

DT_AVX512_TILE(1)
DT_AVX512_TILE(2)
DT_AVX512_TILE(3)
DT_AVX512_TILE(4)
DT_AVX512_TILE(5)
DT_AVX512_TILE(6)

/* Mask of the first n lanes (n clamped to 0..16). */
static __mmask16 lanes(int64_t n) {
    if (n <= 0) return 0;
    if (n >= 16) return 0xFFFF;
    return (__mmask16)((1u << n) - 1u);
}

DT_TARGET void dt_gemm_rows_avx512(const dt_gemm_args *g, int64_t row_begin, int64_t row_end) {
    for (int64_t j0 = 0; j0 < g->N; j0 += 32) {
        const __mmask16 m0 = lanes(g->N - j0), m1 = lanes(g->N - j0 - 16);
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
