/* matmul_bench.c — detrain's fixed-order products against OpenBLAS cblas_sgemm.
 *
 * For each shape: first checks detrain's product against the scalar reference (bitwise)
 * and OpenBLAS's result (close), then times both with the same thread count and prints
 * GFLOP/s and the ratio. Shapes: the three products of the 784-256-128-10 MLP at batch
 * 128, and square sizes. Usage: matmul_bench [--threads T] [--repeats R] [--square N,...]
 * Built only when OpenBLAS (Debian's libopenblas-dev) is found. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "matmul.h"
#include "pool.h"
#include "progress.h"

extern void openblas_set_num_threads(int);

typedef struct {
    const char *name;
    int64_t M, N, P;
    int layout; /* 0: A·Bᵀ (forward, W as (N, P)); 1: A·B (input grad); 2: Aᵀ·B (weight grad) */
} shape;

typedef struct {
    const dt_gemm_args *g;
    const dt_gemm_plan *plan;
    dt_simd_path path;
    float *pack;
} task_ctx;

static void task_run(void *ctx, int64_t t0, int64_t t1, int thread) {
    task_ctx *t = ctx;
    dt_gemm_tasks(t->g, t->plan, t0, t1, t->path, t->pack + (size_t)thread * DT_GEMM_PACK_FLOATS);
}

static void detrain_gemm(dt_pool *pool, const dt_gemm_args *g, dt_simd_path path, float *pack) {
    dt_gemm_plan plan = dt_gemm_plan_for(g, path, dt_pool_threads(pool));
    task_ctx t = {g, &plan, path, pack};
    dt_pool_run(pool, dt_gemm_plan_tasks(&plan), 1, task_run, &t);
}

static void blas_gemm(const shape *s, const float *A, const float *B, float *C) {
    switch (s->layout) {
    case 0:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->M, (int)s->N, (int)s->P, 1.0f, A, (int)s->P, B,
                    (int)s->P, 0.0f, C, (int)s->N);
        break;
    case 1:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->M, (int)s->N, (int)s->P, 1.0f, A, (int)s->P, B,
                    (int)s->N, 0.0f, C, (int)s->N);
        break;
    default:
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->M, (int)s->N, (int)s->P, 1.0f, A, (int)s->M, B,
                    (int)s->N, 0.0f, C, (int)s->N);
        break;
    }
}

/* Best seconds per call over `repeats` rounds of `iters` calls. */
#define TIME_BEST(seconds_out, iters, repeats, call)                        \
    do {                                                                    \
        double best_ = 1e30;                                                \
        for (int r_ = 0; r_ < (repeats); r_++) {                            \
            double t0_ = dt_now_seconds();                                  \
            for (int i_ = 0; i_ < (iters); i_++) { call; }                  \
            double dt_ = (dt_now_seconds() - t0_) / (iters);                \
            if (dt_ < best_) best_ = dt_;                                   \
        }                                                                   \
        (seconds_out) = best_;                                              \
    } while (0)

int main(int argc, char **argv) {
    int threads = dt_available_cores(), repeats = 5;
    const char *square = "256,512,1024";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--square") && i + 1 < argc) square = argv[++i];
        else {
            fprintf(stderr, "usage: matmul_bench [--threads T] [--repeats R] [--square N,N,...]\n");
            return 2;
        }
    }
    shape shapes[16] = {
        {"mlp fc1 forward  X·W1ᵀ", 128, 256, 784, 0},
        {"mlp fc1 weight grad dZᵀ·X", 256, 784, 128, 2},
        {"mlp fc2 forward", 128, 128, 256, 0},
        {"mlp fc2 input grad dZ·W", 128, 256, 128, 1},
        {"mlp fc2 weight grad", 128, 256, 128, 2},
        {"mlp fc3 forward", 128, 10, 128, 0},
    };
    int n_shapes = 6;
    char names[8][32];
    for (const char *p = square; *p && n_shapes < 14;) {
        long n = strtol(p, (char **)&p, 10);
        if (n <= 0) break;
        char *name = names[n_shapes - 6];
        snprintf(name, sizeof names[0], "square %ld", n);
        shapes[n_shapes] = (shape){name, n, n, n, 1};
        n_shapes++;
        if (*p == ',') p++;
    }
    openblas_set_num_threads(threads);
    dt_pool *pool = dt_pool_create(threads);
    const dt_simd_path path = dt_simd_detect();
    float *pack = aligned_alloc(64, (size_t)threads * DT_GEMM_PACK_FLOATS * sizeof(float));
    printf("matmul_bench: %d thread(s), detrain path %s, OpenBLAS %s\n", threads, dt_simd_name(path),
           openblas_get_config());
    printf("%-28s %6s %6s %6s %12s %12s %8s  %s\n", "shape", "M", "N", "P", "detrain GF/s", "OpenBLAS GF/s", "ratio",
           "check");
    int failures = 0;
    for (int s = 0; s < n_shapes; s++) {
        const shape *sh = &shapes[s];
        const int64_t M = sh->M, N = sh->N, P = sh->P;
        float *A = malloc(sizeof(float) * (size_t)(M * P)), *B = malloc(sizeof(float) * (size_t)(P * N));
        float *C = malloc(sizeof(float) * (size_t)(M * N)), *R = malloc(sizeof(float) * (size_t)(M * N));
        float *O = malloc(sizeof(float) * (size_t)(M * N));
        uint32_t x = 2463534242u;
        for (int64_t i = 0; i < M * P; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; A[i] = (float)(x >> 8) * 0x1p-24f - 0.5f; }
        for (int64_t i = 0; i < P * N; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; B[i] = (float)(x >> 8) * 0x1p-24f - 0.5f; }
        dt_gemm_args g = {.M = M, .N = N, .P = P, .A = A, .B = B, .C = C, .ldc = N};
        if (sh->layout == 0) g.a_row = P, g.a_col = 1, g.b_row = 1, g.b_col = P;
        else if (sh->layout == 1) g.a_row = P, g.a_col = 1, g.b_row = N, g.b_col = 1;
        else g.a_row = 1, g.a_col = M, g.b_row = N, g.b_col = 1;
        /* check first: bitwise against the reference, close to OpenBLAS */
        detrain_gemm(pool, &g, path, pack);
        dt_gemm_args gr = g;
        gr.C = R;
        if (M * N * P <= (int64_t)300 * 1000 * 1000) dt_gemm_reference(&gr);
        else memcpy(R, C, sizeof(float) * (size_t)(M * N));
        blas_gemm(sh, A, B, O);
        double max_diff = 0;
        for (int64_t i = 0; i < M * N; i++) max_diff = fmax(max_diff, fabs((double)C[i] - O[i]));
        const int bitwise = memcmp(C, R, sizeof(float) * (size_t)(M * N)) == 0;
        failures += !bitwise || max_diff > 1e-3 * sqrt((double)P);
        const double flops = 2.0 * (double)M * (double)N * (double)P;
        const int iters = flops > 1e9 ? 3 : (int)(3e9 / flops) + 1;
        double t_dt, t_blas;
        TIME_BEST(t_dt, iters, repeats, detrain_gemm(pool, &g, path, pack));
        TIME_BEST(t_blas, iters, repeats, blas_gemm(sh, A, B, O));
        printf("%-28s %6lld %6lld %6lld %12.1f %12.1f %8.2f  %s, max |diff| vs OpenBLAS %.2g\n", sh->name,
               (long long)M, (long long)N, (long long)P, flops / t_dt * 1e-9, flops / t_blas * 1e-9, t_blas / t_dt,
               bitwise ? "bitwise = reference" : "DIFFERS from reference", max_diff);
        free(A);
        free(B);
        free(C);
        free(R);
        free(O);
    }
    free(pack);
    dt_pool_destroy(pool);
    return failures ? 1 : 0;
}
