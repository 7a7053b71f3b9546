/* cpu_fast.h — the CPU backend's `fast` route: no promise about the order of any sum, only
 * speed, so that the cost of the other modes can be measured on the CPU too.
 *
 * - Products: OpenBLAS (one single-threaded cblas_sgemm per thread of detrain's pool, on a
 *   slice of the output, so BLAS threads and pool threads never compete for cores) when the
 *   build has it; else the caller uses detrain's kernels.
 * - Reductions over rows (bias gradient, batch loss, gradient norm): the rows are cut into
 *   chunks taken by whichever thread is free next; each thread sums its chunks into its own
 *   partial, and the partials are added into the result by atomic adds in completion order.
 *   Which rows land in which partial depends on timing, so the bits can change from run to
 *   run: the CPU's counterpart of atomics on a GPU. With one thread the order is fixed.
 *
 * Nothing here is used by the portable and deterministic modes. */
#ifndef DT_CPU_FAST_H
#define DT_CPU_FAST_H

#include <stdint.h>

#include "cpu/matmul.h"
#include "core/pool.h"

/* C = A·B (+ bias, Y = act) through BLAS over the pool: the output is cut into one slice per
 * thread. A gathered A (a_index) is first copied row by row into `gather` ((M, P) floats).
 * Returns 0, or -1 (nothing computed) when BLAS cannot take the product. */
int dt_fast_gemm_blas(dt_pool *pool, const dt_gemm_args *g, float *gather);

/* db (n) = column sums of dz (batch, n) in completion order; partial is (threads, n) scratch. */
void dt_fast_bias_grad(dt_pool *pool, const float *dz, int64_t batch, int64_t n, float *db, float *partial);

/* Sum of x[0 .. n) in completion order. */
float dt_fast_sum(dt_pool *pool, const float *x, int64_t n);

/* Sum of squares of x[0 .. n) in completion order. */
float dt_fast_sumsq(dt_pool *pool, const float *x, int64_t n);

#endif
