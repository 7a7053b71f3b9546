/* matmul.c — the scalar reference product and run-time SIMD dispatch. */
#include "matmul.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows [row_begin, row_end) of C, p ascending, one fmaf chain per element. */
static void gemm_rows_scalar(const dt_gemm_args *g, int64_t row_begin, int64_t row_end) {
    for (int64_t i = row_begin; i < row_end; i++) {
        float *c_row = g->C + i * g->ldc;
        for (int64_t j = 0; j < g->N; j++) c_row[j] = 0.0f;
        for (int64_t p = 0; p < g->P; p++) {
            const float a = g->A[i * g->a_row + p * g->a_col];
            const float *b_row = g->B + p * g->ldb;
            for (int64_t j = 0; j < g->N; j++) c_row[j] = fmaf(a, b_row[j], c_row[j]);
        }
    }
}

void dt_gemm_reference(const dt_gemm_args *g) { gemm_rows_scalar(g, 0, g->M); }

void dt_gemm_rows(const dt_gemm_args *g, int64_t row_begin, int64_t row_end, dt_simd_path path) {
    switch (path) {
    case DT_SIMD_AVX512: dt_gemm_rows_avx512(g, row_begin, row_end); break;
    case DT_SIMD_AVX2: dt_gemm_rows_avx2(g, row_begin, row_end); break;
    default: gemm_rows_scalar(g, row_begin, row_end); break;
    }
}

int dt_simd_supported(dt_simd_path path) {
    __builtin_cpu_init();
    switch (path) {
    case DT_SIMD_AVX512: return __builtin_cpu_supports("avx512f");
    case DT_SIMD_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 1;
    }
}

const char *dt_simd_name(dt_simd_path path) {
    switch (path) {
    case DT_SIMD_AVX512: return "avx512";
    case DT_SIMD_AVX2: return "avx2";
    default: return "scalar";
    }
}

dt_simd_path dt_simd_detect(void) {
    dt_simd_path best = DT_SIMD_SCALAR;
    if (dt_simd_supported(DT_SIMD_AVX512)) best = DT_SIMD_AVX512;
    else if (dt_simd_supported(DT_SIMD_AVX2)) best = DT_SIMD_AVX2;
    const char *cap = getenv("DT_SIMD");
    if (cap) {
        dt_simd_path want = !strcmp(cap, "avx512") ? DT_SIMD_AVX512 : !strcmp(cap, "avx2") ? DT_SIMD_AVX2 : DT_SIMD_SCALAR;
        if (want < best) best = want;
    }
    return best;
}
