/* matmul_avx512.c — the generic product with AVX-512F: 6 rows x 32 columns per tile. */

#include <immintrin.h>

#define VEC __m512
#define VW 16
#define MASK __mmask16
#define MASK_FIRST(n) ((n) <= 0 ? (__mmask16)0 : (n) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n)) - 1u))
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_LOADM(m, p) _mm512_maskz_loadu_ps(m, p)
#define V_STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define BLOCK_FN dt_gemm_block_avx512

#include "matmul_simd.h"
