/* matmul_avx2.c — the generic product with AVX2 + FMA: 6 rows x 16 columns per tile. */

#include <immintrin.h>

/* Lane mask of the first n lanes (all bits set = active), n clamped to 0..8. */
static inline __m256i lanes_first(long n) {
    const int count = n <= 0 ? 0 : n >= 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define VEC __m256
#define VW 8
#define MASK __m256i
#define MASK_FIRST(n) lanes_first((long)(n))
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_LOADM(m, p) _mm256_maskload_ps(p, m)
#define V_STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define V_BCAST(p) _mm256_broadcast_ss(p)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define BLOCK_FN dt_gemm_block_avx2

#include "matmul_simd.h"
