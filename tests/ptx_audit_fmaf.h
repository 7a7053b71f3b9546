/* ptx_audit_fmaf.h — forced into each CUDA source (nvcc -include) by tests/ptx_audit.py.
 *
 * Routes every fmaf the source writes through one function the compiler may not inline, so
 * that in the PTX each fma the source asked for sits in that function's body and any other
 * fma was made by the compiler (contraction) or comes from a library routine. The math
 * headers are included first, so their own declaration of fmaf keeps its name; the project
 * headers include <math.h> again later, which the include guards make a no-op. */
#ifndef DT_PTX_AUDIT_FMAF_H
#define DT_PTX_AUDIT_FMAF_H

#include <cuda_runtime.h>
#include <math.h>

/* fmaf(a, b, c) as a call of its own. static: each translation unit keeps its own copy, and
 * the audit recognises it by the name dt_audit_fmaf inside the mangled symbol. */
static __host__ __device__ __noinline__ float dt_audit_fmaf(float a, float b, float c) { return fmaf(a, b, c); }

#define fmaf dt_audit_fmaf

#endif
