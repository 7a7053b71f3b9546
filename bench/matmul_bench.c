/* matmul_bench.c — detrain's fixed-order products against OpenBLAS cblas_sgemm on the CPU.
 *
 * A thin front end of the shared microbenchmark (bench/gemm_bench.h), which `detrain bench`
 * runs too: for each shape, detrain's product is first checked bit for bit against the
 * scalar reference and OpenBLAS's result against detrain's, then both are timed with the
 * same thread count. Shapes: the products of the 784-256-128-10 MLP at batch 128, and
 * square sizes. Without OpenBLAS in the build its rows are reported as skipped.
 * Usage: matmul_bench [--threads T] [--repeats R] [--square N,...] [--seed S]
 * Exit status 1 when detrain's product differs from the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_bench.h"
#include "core/pool.h"

int main(int argc, char **argv) {
    int threads = dt_available_cores(), repeats = 5;
    unsigned long long seed = 1;
    const char *square = "256,512,1024";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--square") && i + 1 < argc) square = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: matmul_bench [--threads T] [--repeats R] [--square N,N,...] [--seed S]\n");
            return 2;
        }
    }
    if (threads < 1 || repeats < 1 || repeats > 64) {
        fprintf(stderr, "matmul_bench: --threads must be >= 1 and --repeats 1 to 64\n");
        return 2;
    }
    dt_gemm_shape shapes[16] = {
        {"mlp fc1 forward X.W1^T", 128, 256, 784, DT_GEMM_FORWARD},
        {"mlp fc1 weight grad dZ^T.X", 256, 784, 128, DT_GEMM_WEIGHT_GRAD},
        {"mlp fc2 forward", 128, 128, 256, DT_GEMM_FORWARD},
        {"mlp fc2 input grad dZ.W", 128, 256, 128, DT_GEMM_INPUT_GRAD},
        {"mlp fc2 weight grad", 128, 256, 128, DT_GEMM_WEIGHT_GRAD},
        {"mlp fc3 forward", 128, 10, 128, DT_GEMM_FORWARD},
    };
    int n_shapes = 6;
    for (const char *p = square; *p && n_shapes < 14;) {
        char *end;
        const long n = strtol(p, &end, 10);
        if (n <= 0 || end == p) break;
        shapes[n_shapes] = (dt_gemm_shape){"", n, n, n, DT_GEMM_INPUT_GRAD};
        snprintf(shapes[n_shapes].name, sizeof shapes[n_shapes].name, "square %ld", n);
        n_shapes++;
        p = *end == ',' ? end + 1 : end;
    }
    const dt_gemm_bench_ops *ops = &dt_cpu_gemm_bench;
    dt_gemm_row *rows = calloc((size_t)n_shapes * (size_t)ops->n_variants, sizeof *rows);
    if (!rows) {
        fprintf(stderr, "matmul_bench: out of memory\n");
        return 1;
    }
    dt_error err = {{0}};
    if (dt_gemm_bench_run(ops, shapes, n_shapes, threads, repeats, seed, rows, &err) != DT_OK) {
        fprintf(stderr, "matmul_bench: %s\n", err.message);
        free(rows);
        return 1;
    }
    dt_gemm_bench_print(rows, n_shapes * ops->n_variants, repeats, stdout);
    int failures = 0;
    for (int i = 0; i < n_shapes * ops->n_variants; i++)
        failures += !rows[i].skipped && !strcmp(rows[i].variant, "detrain portable") && !rows[i].bitwise;
    free(rows);
    return failures ? 1 : 0;
}
