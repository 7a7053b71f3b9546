/* blas.h — the optional vendor BLAS (OpenBLAS's cblas_sgemm) behind detrain's product
 * arguments, for the CPU backend's `fast` route and the matrix-product benchmark. The one
 * place that knows whether the build has OpenBLAS (DT_HAVE_OPENBLAS); without it every
 * call says so and the callers use detrain's kernels. BLAS sums in its own order: nothing
 * here is part of the portable contract. */
#ifndef DT_BLAS_H
#define DT_BLAS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/matmul.h"

/* 1 when the build has OpenBLAS, else 0. */
int dt_blas_available(void);

/* One line naming the library and its kernels: "OpenBLAS 0.3.21 (Haswell kernels)", or
 * "none (built without OpenBLAS)". Returns buf. */
const char *dt_blas_describe(char *buf, size_t size);

/* Sets the BLAS's own thread count (its pool, not detrain's) when it differs from the last
 * setting. Call from one thread at a time (the process's main thread). No-op without BLAS. */
void dt_blas_set_threads(int threads);

/* Rows [i0, i1) x columns [j0, j1) of C = A·B as one cblas_sgemm, on the calling thread's
 * share of the BLAS's threads; no epilogue. Returns 0, or -1 (nothing computed) when there is
 * no BLAS, A is gathered (a_index) or a stride does not map on a BLAS leading dimension. */
int dt_blas_gemm_block(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1);

#endif
