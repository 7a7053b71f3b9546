/* ops_avx512.c — the dt_cpu_ops kernels compiled for AVX-512F (fmaf inline). */
#define OPS_TABLE dt_cpu_ops_avx512
#define OPS_PATH DT_SIMD_AVX512
#include "ops_impl.h"
