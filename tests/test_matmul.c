/* test_matmul.c — the matrix products: every SIMD path and every row split equals the
 * scalar reference bit for bit on random shapes (1, primes, non-multiples of the vector
 * width), the reference is close to a double-precision product, and k runs ascending. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matmul.h"
#include "philox.h"
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

/* Random strides: A is used as-is (row-major), or transposed (column access), like dYᵀ. */
static void check_shape(int64_t M, int64_t N, int64_t P, int transposed_a) {
    float *A = malloc(sizeof(float) * (size_t)(M * P + 1));
    float *B = malloc(sizeof(float) * (size_t)(P * N + 1));
    float *ref = malloc(sizeof(float) * (size_t)(M * N + 1));
    float *out = malloc(sizeof(float) * (size_t)(M * N + 1));
    for (int64_t i = 0; i < M * P; i++) A[i] = next_float();
    for (int64_t i = 0; i < P * N; i++) B[i] = next_float();
    dt_gemm_args g = {M, N, P, A, transposed_a ? 1 : P, transposed_a ? M : 1, B, N, ref, N};
    dt_gemm_reference(&g);

    /* Close to the exact product: |error| <= P * 2^-24 * sum |a b| (+ tiny). */
    int64_t far = 0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double exact = 0.0, magnitude = 0.0;
            for (int64_t p = 0; p < P; p++) {
                double a = g.A[i * g.a_row + p * g.a_col], b = B[p * N + j];
                exact += a * b;
                magnitude += fabs(a * b);
            }
            if (fabs((double)ref[i * N + j] - exact) > (double)P * ldexp(1.0, -24) * magnitude + 1e-30) far++;
        }
    CHECK_EQ_INT(far, 0);

    for (dt_simd_path path = DT_SIMD_SCALAR; path <= DT_SIMD_AVX512; path++) {
        if (!dt_simd_supported(path)) {
            fprintf(stderr, "(path %s not supported here)\n", dt_simd_name(path));
            continue;
        }
        g.C = out;
        memset(out, 0xff, sizeof(float) * (size_t)(M * N)); /* NaN garbage: every element must be written */
        /* Split rows at random points, as threads would. */
        int64_t r0 = 0;
        while (r0 < M) {
            int64_t r1 = r0 + 1 + (int64_t)(next_u32() % 13);
            if (r1 > M) r1 = M;
            dt_gemm_rows(&g, r0, r1, path);
            r0 = r1;
        }
        if (memcmp(out, ref, sizeof(float) * (size_t)(M * N)) != 0) {
            fprintf(stderr, "path %s differs from the reference at M=%lld N=%lld P=%lld transposed=%d\n",
                    dt_simd_name(path), (long long)M, (long long)N, (long long)P, transposed_a);
            CHECK(0);
        } else {
            CHECK(1);
        }
        g.C = ref;
    }
    free(A);
    free(B);
    free(ref);
    free(out);
}

/* A case where only ascending k from zero gives 0: 1e8 + 1 rounds back to 1e8. */
static void check_order(void) {
    float A[3] = {1.0f, 1.0f, 1.0f}, B[3] = {1e8f, 1.0f, -1e8f}, C[1] = {42.0f};
    dt_gemm_args g = {1, 1, 3, A, 3, 1, B, 1, C, 1};
    for (dt_simd_path path = DT_SIMD_SCALAR; path <= DT_SIMD_AVX512; path++) {
        if (!dt_simd_supported(path)) continue;
        C[0] = 42.0f;
        dt_gemm_rows(&g, 0, 1, path);
        CHECK(C[0] == 0.0f);
    }
    /* Fused: step 0 gives acc = -(1 + 2^-22); step 1 computes (1 + 2^-23)^2 + acc, whose exact
     * value 2^-46 survives only when the multiply-add rounds once. */
    float a2[2] = {1.0f, 1.0f + 0x1p-23f}, b2[2] = {-(1.0f + 0x1p-22f), 1.0f + 0x1p-23f}, c2[1];
    dt_gemm_args g2 = {1, 1, 2, a2, 2, 1, b2, 1, c2, 1};
    for (dt_simd_path path = DT_SIMD_SCALAR; path <= DT_SIMD_AVX512; path++) {
        if (!dt_simd_supported(path)) continue;
        c2[0] = 42.0f;
        dt_gemm_rows(&g2, 0, 1, path);
        CHECK(c2[0] == 0x1p-46f);
    }
}

int main(void) {
    fprintf(stderr, "best path here: %s\n", dt_simd_name(dt_simd_detect()));
    check_order();
    const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 47, 64, 97, 128, 131};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    for (int t = 0; t < 60; t++) {
        int64_t M = sizes[next_u32() % n_sizes], N = sizes[next_u32() % n_sizes], P = sizes[next_u32() % n_sizes];
        check_shape(M, N, P, (int)(next_u32() & 1));
    }
    check_shape(128, 256, 784, 0); /* the MLP's first layer */
    check_shape(256, 784, 128, 1); /* its weight gradient */
    check_shape(128, 10, 128, 0);
    return TEST_EXIT();
}
