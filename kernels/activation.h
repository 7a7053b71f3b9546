/* activation.h — activation functions and their derivatives, one definition for CPU and CUDA.
 *
 * Every operation is spelled out (no contraction: builds use -ffp-contract=off and
 * --fmad=false), so host and device give the same bits. No NaN is ever made by arithmetic
 * here: its bits are the machine's (x86 keeps an operand's payload or makes 0xffc00000, CUDA
 * makes 0x7fffffff), so a NaN z gives DT__NAN and an infinite z its limit, before any
 * arithmetic. See docs/numerics.md. */
#ifndef DT_ACTIVATION_H
#define DT_ACTIVATION_H

#include "dt_hd.h"
#include "dt_math.h"

/* Activation codes; the same values as dt_activation in host/core/config.h. */
enum { DT_ACT_CODE_IDENTITY = 0, DT_ACT_CODE_RELU, DT_ACT_CODE_TANH, DT_ACT_CODE_SIGMOID, DT_ACT_CODE_GELU };

/* y = act(z). gelu is the exact form 0.5 * z * (1 + erf(z / sqrt(2))). */
DT_HD float dt_act_forward(int act, float z) {
    switch (act) {
    case DT_ACT_CODE_RELU: return z > 0.0f ? z : 0.0f;
    case DT_ACT_CODE_TANH: return dt_tanhf(z);
    case DT_ACT_CODE_SIGMOID: return dt_sigmoidf(z);
    case DT_ACT_CODE_GELU: {
        if (z != z) return DT__NAN;
        if (z == -DT__INF) return -0.0f; /* the limit: z * Phi(z) -> -0; arithmetic gives -inf * 0 */
        const float half_z = 0.5f * z;
        const float e = dt_erff(z * 0.70710678118654752f);
        return half_z * (1.0f + e);
    }
    default: return z;
    }
}

/* d act / dz at z, given y = act(z) (tanh and sigmoid use y; relu's derivative at 0 is 0). */
DT_HD float dt_act_derivative(int act, float z, float y) {
    switch (act) {
    case DT_ACT_CODE_RELU: return z > 0.0f ? 1.0f : 0.0f;
    case DT_ACT_CODE_TANH: return y != y ? DT__NAN : 1.0f - y * y;
    case DT_ACT_CODE_SIGMOID: return y != y ? DT__NAN : y * (1.0f - y);
    case DT_ACT_CODE_GELU: {
        /* Phi(z) + z * phi(z), phi(z) = exp(-z^2/2) / sqrt(2 pi); at +-inf its limits 1 and 0 */
        if (z != z) return DT__NAN;
        if (z == DT__INF || z == -DT__INF) return z > 0.0f ? 1.0f : 0.0f;
        const float cdf = 0.5f * (1.0f + dt_erff(z * 0.70710678118654752f));
        const float pdf = dt_expf(-0.5f * (z * z)) * 0.39894228040143268f;
        return cdf + z * pdf;
    }
    default: return 1.0f;
    }
}

#endif
