/* gemm_bench.h — the matrix-product microbenchmark: detrain's portable kernel against the
 * device's vendor library (CPU: OpenBLAS; CUDA: cuBLAS FP32 and TF32) on the same operands,
 * made from the seed. Every variant's result is checked before it is timed: the portable
 * kernel bit for bit against the scalar reference (dt_gemm_reference) on sampled rows, the
 * others against the portable result (largest absolute and ULP difference).
 *
 * A device takes part by filling dt_gemm_bench_ops (gemm_bench_<device>.c, listed in
 * dt_gemm_bench_for): it uploads the operands, runs a variant a number of times back to back and says
 * how long that took by its own clock (CPU: monotonic; CUDA: events), and hands back C. The
 * harness (dt_gemm_bench_run) does the rest, for every device the same way. */
#ifndef DT_GEMM_BENCH_H
#define DT_GEMM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/matmul.h"
#include "core/status.h"

/* The three products of a dense layer, as operands are stored (row-major):
 * forward X·Wᵀ: A (M, P), B stored (N, P); input gradient dZ·W: A (M, P), B (P, N);
 * weight gradient dZᵀ·X: A stored (P, M), B (P, N). */
enum { DT_GEMM_FORWARD = 0, DT_GEMM_INPUT_GRAD = 1, DT_GEMM_WEIGHT_GRAD = 2 };

typedef struct {
    char name[64];            /* "square 1024", "small fc1 forward" */
    int64_t M, N, P;          /* C (M, N), reduction over P */
    int layout;               /* DT_GEMM_FORWARD, ... */
} dt_gemm_shape;

/* The product's arguments for operands stored as the shape's layout says (no epilogue). */
dt_gemm_args dt_gemm_shape_args(const dt_gemm_shape *shape, const float *A, const float *B, float *C);

typedef struct dt_gemm_bench dt_gemm_bench;   /* a device's operands for one shape */

#define DT_GEMM_MAX_VARIANTS 4

typedef struct dt_gemm_bench_ops {
    const char *device;                        /* "cpu", "cuda" */
    int n_variants;
    const char *variants[DT_GEMM_MAX_VARIANTS]; /* [0]: detrain's portable kernel */
    /* 1 when the variant can run here; else 0 with why not in `why` ("built without OpenBLAS"). */
    int (*available)(int variant, char *why, size_t why_size);
    /* One line on what a variant runs: "OpenBLAS 0.3.21 (Haswell kernels), 2 threads". */
    void (*describe)(int variant, int threads, char *buf, size_t size);
    /* Copies A and B (host memory, the shape's layout) to the device and allocates C. */
    dt_status (*prepare)(dt_gemm_bench **out, const dt_gemm_shape *shape, const float *A, const float *B,
                         int threads, dt_error *err);
    /* Runs the variant `iters` times back to back; *seconds is their total by the device's clock. */
    dt_status (*run)(dt_gemm_bench *b, int variant, int iters, double *seconds, dt_error *err);
    /* Copies C (M * N floats) of the last run to host memory. */
    dt_status (*result)(dt_gemm_bench *b, float *C, dt_error *err);
    void (*release)(dt_gemm_bench *b);
    /* The device's FP32 FMA peak in GFLOP/s, 0 when unknown; NULL: none is claimed (the CPU's
     * clock under load is not knowable from here). */
    double (*fp32_peak_gflops)(void);
} dt_gemm_bench_ops;

/* The CPU's: detrain's kernels over the thread pool, and OpenBLAS with as many threads. */
extern const dt_gemm_bench_ops dt_cpu_gemm_bench;
/* The GPU's (CUDA builds): detrain's portable kernel, cuBLAS FP32 and cuBLAS TF32. */
extern const dt_gemm_bench_ops dt_cuda_gemm_bench;

/* The microbenchmark of the backend named `backend` ("cpu", "cuda"); NULL when this build has
 * none for it. The one place that knows which devices this build can measure. */
const dt_gemm_bench_ops *dt_gemm_bench_for(const char *backend);

/* One variant on one shape. */
typedef struct {
    dt_gemm_shape shape;
    char device[8];
    char variant[32];
    char library[96];         /* what runs (dt_gemm_bench_ops.describe) */
    int skipped;              /* not run; note says why */
    char note[160];
    int iters, repeats;       /* calls per timing, timings */
    double median_s, best_s;  /* seconds per call */
    double gflops;            /* 2·M·N·P / median_s */
    double peak_gflops;       /* the device's FP32 FMA peak; 0 when unknown */
    double portable_ratio;    /* the portable kernel's GFLOP/s over this variant's */
    int bitwise;              /* portable: equals the reference on the checked rows; others: equals portable */
    int64_t checked_rows;     /* rows compared with the reference (portable) */
    double max_abs_diff;      /* against the reference (portable) or the portable result */
    int64_t max_ulp;
} dt_gemm_row;

/* Runs every variant of `ops` on every shape: rows[s * ops->n_variants + v]. Operands come
 * from Philox (seed); repeats timings each, of enough calls to last about 50 ms. A variant
 * that is not available, or a device that fails, gives a skipped row with the reason; an
 * error is returned only for out of memory. */
dt_status dt_gemm_bench_run(const dt_gemm_bench_ops *ops, const dt_gemm_shape *shapes, int n_shapes, int threads,
                            int repeats, uint64_t seed, dt_gemm_row *rows, dt_error *err);

/* Prints rows as a table (GFLOP/s, the portable kernel's speed over each variant's, the
 * check), then what each variant ran. */
void dt_gemm_bench_print(const dt_gemm_row *rows, int n_rows, int repeats, FILE *out);

#endif
