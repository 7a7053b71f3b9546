/* gemm_bench.c — the device-independent half of the matrix-product microbenchmark:
 * operands, checks, timing repeats and statistics (gemm_bench.h). */
#include "gemm_bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "synthetic.h"

/* Products up to this many multiply-adds are checked against the reference on every row;
 * larger ones on their first, middle and last rows (the scalar reference is slow). */
#define FULL_CHECK_MACS ((int64_t)64 * 1024 * 1024)
/* Each timing lasts about this long: enough calls of a small product to be measurable. */
#define TIMING_TARGET_S 0.05

const dt_gemm_bench_ops *dt_gemm_bench_for(const char *backend) {
    static const dt_gemm_bench_ops *const devices[] = {
        &dt_cpu_gemm_bench,
#ifdef DT_HAVE_CUDA
        &dt_cuda_gemm_bench,
#endif
    };
    for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++)
        if (!strcmp(devices[d]->device, backend)) return devices[d];
    return NULL;
}

dt_gemm_args dt_gemm_shape_args(const dt_gemm_shape *shape, const float *A, const float *B, float *C) {
    dt_gemm_args g = {.M = shape->M, .N = shape->N, .P = shape->P, .A = A, .B = B, .C = C, .ldc = shape->N};
    switch (shape->layout) {
    case DT_GEMM_FORWARD: g.a_row = shape->P, g.a_col = 1, g.b_row = 1, g.b_col = shape->P; break;
    case DT_GEMM_INPUT_GRAD: g.a_row = shape->P, g.a_col = 1, g.b_row = shape->N, g.b_col = 1; break;
    default: g.a_row = 1, g.a_col = shape->M, g.b_row = shape->N, g.b_col = 1; break;
    }
    return g;
}

/* The rows compared with the reference: all, or the first, middle and last. Returns how many. */
static int64_t reference_rows(const dt_gemm_shape *shape, int64_t *rows, int64_t max_rows) {
    if (shape->M * shape->N * shape->P <= FULL_CHECK_MACS && shape->M <= max_rows) {
        for (int64_t i = 0; i < shape->M; i++) rows[i] = i;
        return shape->M;
    }
    rows[0] = 0;
    rows[1] = shape->M / 2;
    rows[2] = shape->M - 1;
    return shape->M >= 3 ? 3 : shape->M;
}

/* ref (n_rows, N) = the scalar reference's rows `rows` of the product. */
static void reference(const dt_gemm_shape *shape, const float *A, const float *B, const int64_t *rows, int64_t n_rows,
                      float *ref) {
    for (int64_t r = 0; r < n_rows; r++) {
        dt_gemm_args g = dt_gemm_shape_args(shape, A, B, ref + r * shape->N);
        g.A = A + rows[r] * g.a_row; /* row rows[r] of A becomes row 0 */
        g.M = 1;
        dt_gemm_reference(&g);
    }
}

/* Rows `rows` of C (M, N) gathered into out (n_rows, N). */
static void gather_rows(const float *C, int64_t N, const int64_t *rows, int64_t n_rows, float *out) {
    for (int64_t r = 0; r < n_rows; r++) memcpy(out + r * N, C + rows[r] * N, (size_t)N * sizeof(float));
}

static void skip(dt_gemm_row *row, const char *why) {
    row->skipped = 1;
    snprintf(row->note, sizeof row->note, "%.159s", why);
}

/* Checks and times variant v on prepared operands; fills row (skipped on a device error). */
static void measure(const dt_gemm_bench_ops *ops, dt_gemm_bench *bench, int v, int repeats, const float *C_portable,
                    int have_portable, const float *ref, const int64_t *rows, int64_t n_rows, float *C, float *picked,
                    dt_gemm_row *row) {
    const dt_gemm_shape *shape = &row->shape;
    dt_error err = {{0}};
    double warm_s = 0.0;
    if (ops->run(bench, v, 1, &warm_s, &err) != DT_OK || ops->result(bench, C, &err) != DT_OK) {
        skip(row, err.message);
        return;
    }
    gather_rows(C, shape->N, rows, n_rows, picked);
    if (v == 0 || !have_portable) {
        const dt_float_diff d = dt_compare_floats(picked, ref, n_rows * shape->N);
        row->checked_rows = n_rows;
        row->bitwise = d.n_differ == 0;
        row->max_abs_diff = d.max_abs_diff;
        row->max_ulp = d.max_ulp;
    } else {
        const dt_float_diff d = dt_compare_floats(C, C_portable, shape->M * shape->N);
        row->bitwise = d.n_differ == 0;
        row->max_abs_diff = d.max_abs_diff;
        row->max_ulp = d.max_ulp;
    }
    int iters = warm_s > 0 ? (int)ceil(TIMING_TARGET_S / warm_s) : 1000;
    if (iters < 1) iters = 1;
    if (iters > 1000) iters = 1000;
    double per_call[64];
    if (repeats > 64) repeats = 64;
    for (int r = 0; r < repeats; r++) {
        double seconds = 0.0;
        if (ops->run(bench, v, iters, &seconds, &err) != DT_OK) {
            skip(row, err.message);
            return;
        }
        per_call[r] = seconds / iters;
    }
    row->iters = iters;
    row->repeats = repeats;
    row->median_s = dt_median(per_call, repeats);
    row->best_s = per_call[0]; /* sorted by dt_median */
    row->gflops = row->median_s > 0 ? 2.0 * (double)shape->M * (double)shape->N * (double)shape->P / row->median_s * 1e-9
                                    : 0.0;
}

/* One variant on one shape: operands, (reference), prepare, measure. The portable kernel's C
 * is kept in *portable (owned by the caller) for the other variants to be compared with. */
static dt_status measure_shape(const dt_gemm_bench_ops *ops, int v, int threads, int repeats, uint64_t seed,
                               float **portable, dt_gemm_row *row, dt_error *err) {
    dt_status status = DT_OK;
    const dt_gemm_shape *shape = &row->shape;
    const size_t n_a = (size_t)(shape->M * shape->P), n_b = (size_t)(shape->P * shape->N);
    const size_t n_c = (size_t)(shape->M * shape->N);
    float *A = malloc(n_a * sizeof(float) + 1), *B = malloc(n_b * sizeof(float) + 1);
    float *C = malloc(n_c * sizeof(float) + 1), *ref = malloc(n_c * sizeof(float) + 1);
    float *picked = malloc(n_c * sizeof(float) + 1);
    int64_t *check_rows = malloc((size_t)shape->M * sizeof(int64_t) + 3 * sizeof(int64_t));
    dt_gemm_bench *bench = NULL;
    if (!A || !B || !C || !ref || !picked || !check_rows) {
        status = dt_fail(err, DT_NOMEM, "out of memory for the %s product", shape->name);
        goto cleanup;
    }
    dt_synthetic_fill(A, (int64_t)n_a, seed, DT_SYNTHETIC_GEMM_A);
    dt_synthetic_fill(B, (int64_t)n_b, seed, DT_SYNTHETIC_GEMM_B);
    const int64_t n_rows = reference_rows(shape, check_rows, shape->M);
    if (v == 0 || !*portable) reference(shape, A, B, check_rows, n_rows, ref);
    dt_error device_err = {{0}};
    if (ops->prepare(&bench, shape, A, B, threads, &device_err) != DT_OK) {
        bench = NULL;
        skip(row, device_err.message);
        goto cleanup;
    }
    measure(ops, bench, v, repeats, *portable, *portable != NULL, ref, check_rows, n_rows, C, picked, row);
    if (v == 0 && !row->skipped) {
        *portable = C; /* the caller's now */
        C = NULL;
    }
cleanup:
    if (bench) ops->release(bench);
    free(A);
    free(B);
    free(C);
    free(ref);
    free(picked);
    free(check_rows);
    return status;
}

dt_status dt_gemm_bench_run(const dt_gemm_bench_ops *ops, const dt_gemm_shape *shapes, int n_shapes, int threads,
                            int repeats, uint64_t seed, dt_gemm_row *rows, dt_error *err) {
    dt_status status = DT_OK;
    /* Variant by variant over every shape, the portable kernel first: a vendor library's
     * threads keep spinning for a while after its last call, and would slow a measurement of
     * another variant that followed at once (detrain's pool spins too, and on a small
     * machine the two fight for the cores). */
    float **portable = calloc((size_t)n_shapes + 1, sizeof *portable);
    if (!portable) return dt_fail(err, DT_NOMEM, "out of memory");
    const double peak = ops->fp32_peak_gflops ? ops->fp32_peak_gflops() : 0.0;
    for (int v = 0; v < ops->n_variants && status == DT_OK; v++)
        for (int s = 0; s < n_shapes && status == DT_OK; s++) {
            dt_gemm_row *row = &rows[(size_t)s * (size_t)ops->n_variants + (size_t)v];
            memset(row, 0, sizeof *row);
            row->shape = shapes[s];
            snprintf(row->device, sizeof row->device, "%s", ops->device);
            snprintf(row->variant, sizeof row->variant, "%s", ops->variants[v]);
            ops->describe(v, threads, row->library, sizeof row->library);
            row->peak_gflops = peak;
            char why[160];
            if (!ops->available(v, why, sizeof why)) skip(row, why);
            else status = measure_shape(ops, v, threads, repeats, seed, &portable[s], row, err);
        }
    for (int s = 0; s < n_shapes; s++) {
        dt_gemm_row *shape_rows = rows + (size_t)s * (size_t)ops->n_variants;
        for (int v = 0; v < ops->n_variants; v++)
            shape_rows[v].portable_ratio = !shape_rows[0].skipped && !shape_rows[v].skipped && shape_rows[v].gflops > 0
                                               ? shape_rows[0].gflops / shape_rows[v].gflops
                                               : 0.0;
        free(portable[s]);
    }
    free(portable);
    return status;
}

void dt_gemm_bench_print(const dt_gemm_row *rows, int n_rows, int repeats, FILE *out) {
    fprintf(out, "matrix products: GFLOP/s, median of %d timings; each result checked before it is timed\n", repeats);
    fprintf(out, "%-6s %-26s %6s %6s %6s  %-17s %9s %6s %9s  %s\n", "device", "shape", "M", "N", "P", "variant",
            "GFLOP/s", "%peak", "port/this", "check");
    for (int i = 0; i < n_rows; i++) {
        const dt_gemm_row *m = &rows[i];
        if (m->skipped) {
            fprintf(out, "%-6s %-26s %6lld %6lld %6lld  %-17s skipped: %s\n", m->device, m->shape.name,
                    (long long)m->shape.M, (long long)m->shape.N, (long long)m->shape.P, m->variant, m->note);
            continue;
        }
        char check[160], diff[16];
        dt_format_diff(m->max_abs_diff, diff, sizeof diff);
        if (!strcmp(m->variant, "detrain portable"))
            snprintf(check, sizeof check, "%s the scalar reference on %lld row%s", m->bitwise ? "bit for bit =" : "DIFFERS from",
                     (long long)m->checked_rows, m->checked_rows == 1 ? "" : "s");
        else
            snprintf(check, sizeof check, "max |diff| %s, %lld ULP from portable", diff, (long long)m->max_ulp);
        char peak[16] = "-";
        if (m->peak_gflops > 0) snprintf(peak, sizeof peak, "%.1f%%", 100.0 * m->gflops / m->peak_gflops);
        fprintf(out, "%-6s %-26s %6lld %6lld %6lld  %-17s %9.1f %6s %9.2f  %s\n", m->device, m->shape.name,
                (long long)m->shape.M, (long long)m->shape.N, (long long)m->shape.P, m->variant, m->gflops, peak,
                m->portable_ratio, check);
    }
    fprintf(out, "  %%peak: of the device's FP32 FMA peak (SMs x FP32 lanes x 2 x clock; TF32 may pass it); "
                 "port/this: the portable kernel's GFLOP/s over the variant's\n");
    for (int i = 0; i < n_rows; i++) {
        int first = !rows[i].skipped;
        for (int k = 0; k < i && first; k++) first = strcmp(rows[k].library, rows[i].library) != 0;
        if (first) fprintf(out, "  %s: %s\n", rows[i].variant, rows[i].library);
    }
}
