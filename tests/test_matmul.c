/* test_matmul.c — the matrix products: every SIMD path and every split into tasks equals
 * the scalar reference bit for bit on random shapes (1, primes, sizes that are not
 * multiples of the vector width, P across several p-blocks), for the three layouts of a
 * dense layer (X·Wᵀ with gathered rows, dZ·W, dZᵀ·X) and the bias + activation epilogue;
 * the reference is close to a double-precision product; k runs ascending and fused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "cpu/matmul.h"
#include "test.h"

static uint32_t rng_state = 12345;
/* A test-local xorshift: these are inputs, not training randomness. */
static uint32_t next_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
static float next_float(void) { return (float)(next_u32() >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f; }

enum { LAYOUT_FORWARD, LAYOUT_INPUT_GRAD, LAYOUT_WEIGHT_GRAD };

static float pack_scratch[DT_GEMM_PACK_FLOATS];

/* Runs g with `path`, split as for `threads` threads, tasks executed in random chunks. */
static void run_split(const dt_gemm_args *g, dt_simd_path path, int threads) {
    dt_gemm_plan plan = dt_gemm_plan_for(g, path, threads);
    int64_t n = dt_gemm_plan_tasks(&plan), t0 = 0;
    while (t0 < n) {
        int64_t t1 = t0 + 1 + (int64_t)(next_u32() % 3);
        if (t1 > n) t1 = n;
        dt_gemm_tasks(g, &plan, t0, t1, path, pack_scratch);
        t0 = t1;
    }
}

static void check_shape(int64_t M, int64_t N, int64_t P, int layout, int with_epilogue) {
    const int64_t rows_src = M + 7; /* gathered layouts pick M of these rows */
    float *A = malloc(sizeof(float) * (size_t)(rows_src * P + M * P + 1));
    float *B = malloc(sizeof(float) * (size_t)(P * N + 1));
    float *bias = malloc(sizeof(float) * (size_t)(N + 1));
    float *ref = malloc(sizeof(float) * (size_t)(M * N + 1)), *ref_y = malloc(sizeof(float) * (size_t)(M * N + 1));
    float *out = malloc(sizeof(float) * (size_t)(M * N + 1)), *out_y = malloc(sizeof(float) * (size_t)(M * N + 1));
    int64_t *index = malloc(sizeof(int64_t) * (size_t)(M + 1));
    for (int64_t i = 0; i < rows_src * P + M * P; i++) A[i] = next_float();
    for (int64_t i = 0; i < P * N; i++) B[i] = next_float();
    for (int64_t j = 0; j < N; j++) bias[j] = next_float();
    for (int64_t i = 0; i < M; i++) index[i] = (int64_t)(next_u32() % (uint32_t)rows_src);

    dt_gemm_args g = {.M = M, .N = N, .P = P, .A = A, .B = B, .C = ref, .ldc = N};
    switch (layout) {
    case LAYOUT_FORWARD: /* X (gathered rows) · Wᵀ, W (N, P) */
        g.a_row = P, g.a_col = 1, g.a_index = index, g.b_row = 1, g.b_col = P;
        break;
    case LAYOUT_INPUT_GRAD: /* dZ (M, P) · W (P, N) */
        g.a_row = P, g.a_col = 1, g.b_row = N, g.b_col = 1;
        break;
    default: /* dZᵀ: A(i, p) = dZ[p][i], X (P, N) */
        g.a_row = 1, g.a_col = M, g.b_row = N, g.b_col = 1;
        break;
    }
    const int act = (int)(next_u32() % 5);
    if (with_epilogue) {
        g.bias = bias;
        g.Y = ref_y;
        g.ldy = N;
        g.act = act;
    }
    dt_gemm_reference(&g);

    /* Close to the exact product: |error| <= P * 2^-24 * sum |a b|. */
    int64_t far = 0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double exact = 0.0, magnitude = 0.0;
            for (int64_t p = 0; p < P; p++) {
                const int64_t row = g.a_index ? g.a_index[i] : i;
                double a = g.A[row * g.a_row + p * g.a_col], b = B[p * g.b_row + j * g.b_col];
                exact += a * b;
                magnitude += fabs(a * b);
            }
            double got = ref[i * N + j];
            if (with_epilogue) got -= bias[j];
            if (fabs(got - exact) > (double)(P + 2) * ldexp(1.0, -24) * (magnitude + (with_epilogue ? 2.0 : 0.0)) + 1e-30)
                far++;
        }
    CHECK_EQ_INT(far, 0);

    for (dt_simd_path path = DT_SIMD_SCALAR; path <= DT_SIMD_AVX512; path++) {
        if (!dt_simd_supported(path)) continue;
        for (int threads = 1; threads <= 4; threads++) {
            g.C = out;
            if (with_epilogue) g.Y = out_y;
            memset(out, 0xff, sizeof(float) * (size_t)(M * N)); /* NaN garbage: all must be written */
            memset(out_y, 0xff, sizeof(float) * (size_t)(M * N));
            run_split(&g, path, threads);
            int same = memcmp(out, ref, sizeof(float) * (size_t)(M * N)) == 0 &&
                       (!with_epilogue || memcmp(out_y, ref_y, sizeof(float) * (size_t)(M * N)) == 0);
            if (!same)
                fprintf(stderr, "path %s, %d threads differs: M=%lld N=%lld P=%lld layout %d epilogue %d act %d\n",
                        dt_simd_name(path), threads, (long long)M, (long long)N, (long long)P, layout, with_epilogue,
                        act);
            CHECK(same);
        }
        g.C = ref;
        g.Y = with_epilogue ? ref_y : NULL;
    }
    free(A);
    free(B);
    free(bias);
    free(ref);
    free(ref_y);
    free(out);
    free(out_y);
    free(index);
}

/* Order and fusion: only an ascending chain from zero, fused, gives these values. */
static void check_order(void) {
    for (dt_simd_path path = DT_SIMD_SCALAR; path <= DT_SIMD_AVX512; path++) {
        if (!dt_simd_supported(path)) continue;
        /* 1e8 + 1 rounds back to 1e8, so ascending gives 0 (a tree sum would give 1). */
        float A[3] = {1.0f, 1.0f, 1.0f}, B[3] = {1e8f, 1.0f, -1e8f}, C[1] = {42.0f};
        dt_gemm_args g = {.M = 1, .N = 1, .P = 3, .A = A, .a_row = 3, .a_col = 1, .B = B, .b_row = 1, .b_col = 1,
                          .C = C, .ldc = 1};
        dt_gemm(&g, path, pack_scratch);
        CHECK(C[0] == 0.0f);
        /* acc = -(1 + 2^-22), then (1 + 2^-23)^2 + acc = 2^-46 exactly only when fused. */
        float a2[2] = {1.0f, 1.0f + 0x1p-23f}, b2[2] = {-(1.0f + 0x1p-22f), 1.0f + 0x1p-23f}, c2[1] = {42.0f};
        dt_gemm_args g2 = {.M = 1, .N = 1, .P = 2, .A = a2, .a_row = 2, .a_col = 1, .B = b2, .b_row = 1, .b_col = 1,
                           .C = c2, .ldc = 1};
        dt_gemm(&g2, path, pack_scratch);
        CHECK(c2[0] == 0x1p-46f);
    }
}

int main(void) {
    fprintf(stderr, "best path here: %s\n", dt_simd_name(dt_simd_detect()));
    check_order();
    const int64_t sizes[] = {1, 2, 3, 5, 6, 7, 8, 13, 16, 17, 31, 32, 33, 47, 64, 97, 131, 257, 300};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    for (int t = 0; t < 90; t++) {
        int64_t M = sizes[next_u32() % n_sizes], N = sizes[next_u32() % n_sizes], P = sizes[next_u32() % n_sizes];
        check_shape(M, N, P, (int)(next_u32() % 3), (int)(next_u32() & 1));
    }
    check_shape(128, 256, 784, LAYOUT_FORWARD, 1); /* the MLP's first layer */
    check_shape(256, 784, 128, LAYOUT_WEIGHT_GRAD, 0);
    check_shape(128, 128, 256, LAYOUT_INPUT_GRAD, 0);
    check_shape(128, 10, 128, LAYOUT_FORWARD, 1);
    check_shape(0, 5, 3, LAYOUT_INPUT_GRAD, 0);
    check_shape(4, 5, 0, LAYOUT_INPUT_GRAD, 1);
    return TEST_EXIT();
}
