/* math_codes.h — the portable math functions by number, so one table serves the GPU
 * kernel that evaluates them and the host test that compares its bits. */
#ifndef DT_MATH_CODES_H
#define DT_MATH_CODES_H

#include "dt_hd.h"
#include "dt_math.h"

enum { DT_CUDA_FN_EXP, DT_CUDA_FN_LOG, DT_CUDA_FN_TANH, DT_CUDA_FN_ERF, DT_CUDA_FN_SIGMOID, DT_CUDA_FN_SINPI,
       DT_CUDA_FN_COSPI, DT_CUDA_FN_COUNT };

/* fn(x) for a DT_CUDA_FN_ code (cospi for anything past the last). */
DT_HD float dt_math_by_code(int fn, float x) {
    switch (fn) {
    case DT_CUDA_FN_EXP: return dt_expf(x);
    case DT_CUDA_FN_LOG: return dt_logf(x);
    case DT_CUDA_FN_TANH: return dt_tanhf(x);
    case DT_CUDA_FN_ERF: return dt_erff(x);
    case DT_CUDA_FN_SIGMOID: return dt_sigmoidf(x);
    case DT_CUDA_FN_SINPI: return dt_sinpif(x);
    default: return dt_cospif(x);
    }
}

#endif
