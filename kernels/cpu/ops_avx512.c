/* ops_avx512.c — the dt_cpu_ops kernels compiled for AVX-512F (fmaf inline). */
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#define OPS_TABLE dt_cpu_ops_avx512
#define OPS_PATH DT_SIMD_AVX512
#include "ops_impl.h"
#pragma GCC pop_options
