/* ops_avx2.c — the dt_cpu_ops kernels compiled for AVX2 + FMA (fmaf inline). */
#define OPS_TABLE dt_cpu_ops_avx2
#define OPS_PATH DT_SIMD_AVX2
#include "ops_impl.h"
