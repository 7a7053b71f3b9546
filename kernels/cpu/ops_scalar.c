/* ops_scalar.c — the dt_cpu_ops kernels for any x86-64 (fmaf from libm), plus the
 * run-time choice of table and the fixed-order sum. */
#define OPS_TABLE dt_cpu_ops_scalar
#define OPS_PATH DT_SIMD_SCALAR
#include "ops_impl.h"

extern const dt_cpu_ops dt_cpu_ops_avx2, dt_cpu_ops_avx512;

const dt_cpu_ops *dt_cpu_ops_for(dt_simd_path path) {
    switch (path) {
    case DT_SIMD_AVX512: return &dt_cpu_ops_avx512;
    case DT_SIMD_AVX2: return &dt_cpu_ops_avx2;
    default: return &dt_cpu_ops_scalar;
    }
}

float dt_cpu_sum_fixed(const float *x, int64_t n) { return dt_sum_blocks(x, n); }
