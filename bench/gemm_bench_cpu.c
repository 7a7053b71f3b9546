/* gemm_bench_cpu.c — the CPU's side of the matrix-product microbenchmark: detrain's
 * fixed-order kernels over the thread pool (variant 0) and OpenBLAS's cblas_sgemm with its
 * own threads, as many (variant 1). Timed with the monotonic clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/blas.h"
#include "gemm_bench.h"
#include "core/pool.h"
#include "core/progress.h"

struct dt_gemm_bench {
    dt_gemm_args g;
    float *A, *B, *C;
    dt_pool *pool;
    float *pack;              /* (threads, DT_GEMM_PACK_FLOATS) */
    dt_simd_path simd;
    int threads;
};

enum { CPU_PORTABLE = 0, CPU_OPENBLAS = 1 };

static int cpu_available(int variant, char *why, size_t why_size) {
    if (variant == CPU_OPENBLAS && !dt_blas_available()) {
        snprintf(why, why_size, "built without OpenBLAS (apt-get install libopenblas-dev, then rebuild)");
        return 0;
    }
    return 1;
}

static void cpu_describe(int variant, int threads, char *buf, size_t size) {
    char blas[96];
    if (variant == CPU_OPENBLAS)
        snprintf(buf, size, "%s, %d thread%s", dt_blas_describe(blas, sizeof blas), threads, threads == 1 ? "" : "s");
    else
        snprintf(buf, size, "detrain %s, %d thread%s", dt_simd_name(dt_simd_detect()), threads, threads == 1 ? "" : "s");
}

static void cpu_release(dt_gemm_bench *b) {
    if (!b) return;
    dt_pool_destroy(b->pool);
    free(b->pack);
    free(b->A);
    free(b->B);
    free(b->C);
    free(b);
}

static dt_status cpu_prepare(dt_gemm_bench **out, const dt_gemm_shape *shape, const float *A, const float *B,
                             int threads, dt_error *err) {
    dt_gemm_bench *b = calloc(1, sizeof *b);
    if (!b) return dt_fail(err, DT_NOMEM, "out of memory preparing the %s product", shape->name);
    const size_t n_a = (size_t)(shape->M * shape->P), n_b = (size_t)(shape->P * shape->N);
    const size_t n_c = (size_t)(shape->M * shape->N);
    b->pool = dt_pool_create(threads);
    b->threads = b->pool ? dt_pool_threads(b->pool) : 1;
    b->simd = dt_simd_detect();
    b->pack = aligned_alloc(64, (size_t)b->threads * DT_GEMM_PACK_FLOATS * sizeof(float));
    b->A = malloc(n_a * sizeof(float) + 1);
    b->B = malloc(n_b * sizeof(float) + 1);
    b->C = calloc(n_c + 1, sizeof(float));
    if (!b->pool || !b->pack || !b->A || !b->B || !b->C) {
        cpu_release(b);
        return dt_fail(err, DT_NOMEM, "out of memory (or threads) preparing the %s product", shape->name);
    }
    memcpy(b->A, A, n_a * sizeof(float));
    memcpy(b->B, B, n_b * sizeof(float));
    b->g = dt_gemm_shape_args(shape, b->A, b->B, b->C);
    *out = b;
    return DT_OK;
}

typedef struct {
    dt_gemm_bench *b;
    const dt_gemm_plan *plan;
} task_ctx;

static void portable_tasks(void *ctx, int64_t t0, int64_t t1, int thread) {
    task_ctx *t = ctx;
    dt_gemm_tasks(&t->b->g, t->plan, t0, t1, t->b->simd, t->b->pack + (size_t)thread * DT_GEMM_PACK_FLOATS);
}

static dt_status cpu_run(dt_gemm_bench *b, int variant, int iters, double *seconds, dt_error *err) {
    if (variant == CPU_OPENBLAS) {
        dt_blas_set_threads(b->threads);
        const double t0 = dt_now_seconds();
        for (int i = 0; i < iters; i++)
            if (dt_blas_gemm_block(&b->g, 0, b->g.M, 0, b->g.N) != 0)
                return dt_fail(err, DT_INTERNAL, "OpenBLAS cannot take this product");
        *seconds = dt_now_seconds() - t0;
        return DT_OK;
    }
    const dt_gemm_plan plan = dt_gemm_plan_for(&b->g, b->simd, b->threads);
    task_ctx t = {b, &plan};
    const double t0 = dt_now_seconds();
    for (int i = 0; i < iters; i++) dt_pool_run(b->pool, dt_gemm_plan_tasks(&plan), 1, portable_tasks, &t);
    *seconds = dt_now_seconds() - t0;
    return DT_OK;
}

static dt_status cpu_result(dt_gemm_bench *b, float *C, dt_error *err) {
    memcpy(C, b->C, (size_t)(b->g.M * b->g.N) * sizeof(float));
    return DT_OK;
}

const dt_gemm_bench_ops dt_cpu_gemm_bench = {
    .device = "cpu",
    .n_variants = 2,
    .variants = {"detrain portable", "OpenBLAS"},
    .available = cpu_available,
    .describe = cpu_describe,
    .prepare = cpu_prepare,
    .run = cpu_run,
    .result = cpu_result,
    .release = cpu_release,
};
