/* test_math.c — accuracy and special values of the portable float32 math (dt_math.h).
 *
 * Accuracy: every function is compared with a double-precision reference (libm in double;
 * sinpi/cospi after an exact reduction to |r| <= 1/4) on a strided sweep of all 2^32 float
 * bit patterns, on every subnormal binade, and on dense windows around thresholds and
 * branch points. The error is measured in ulps of the float binade holding the exact value
 * (2^-149 for subnormal values), before rounding the reference, so a correctly rounded result
 * scores <= 0.5. Max error per function goes to stderr; each must be <= 2 ulp.
 * DT_MATH_EXHAUSTIVE=1 checks every float instead (minutes; for measurement, not for CI).
 *
 * Special values are compared bit for bit. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activation.h"
#include "dt_math.h"
#include "test.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define MAX_ULP 2.0
#define SWEEP_STRIDE 509u /* about 8.4 million inputs per function */

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---- double-precision references ---------------------------------------------------------- */

static double ref_exp(float x) { return exp((double)x); }
static double ref_log(float x) { return log((double)x); }
static double ref_tanh(float x) { return tanh((double)x); }
static double ref_erf(float x) { return erf((double)x); }
static double ref_sigmoid(float x) { return 1.0 / (1.0 + exp(-(double)x)); }

/* x = n/2 + r exactly in double (x has 24 bits), |r| <= 1/4; quadrant = n mod 4. */
static int ref_halfturns(float x, double *r) {
    double t = nearbyint(2.0 * (double)x);
    *r = (double)x - 0.5 * t;
    return (int)fmod(fmod(t, 4.0) + 4.0, 4.0);
}

static double ref_sinpi(float x) {
    if (isnan(x) || isinf(x)) return NAN;
    if (fabsf(x) >= 0x1p24f) return 0.0;
    double r;
    int q = ref_halfturns(x, &r);
    double s = sin(M_PI * r), c = cos(M_PI * r);
    double v = (q & 1) ? c : s;
    return (q & 2) ? -v : v;
}

static double ref_cospi(float x) {
    if (isnan(x) || isinf(x)) return NAN;
    if (fabsf(x) >= 0x1p24f) return 1.0;
    double r;
    int q = ref_halfturns(x, &r);
    double s = sin(M_PI * r), c = cos(M_PI * r);
    double v = (q & 1) ? s : c;
    return (q == 1 || q == 2) ? -v : v;
}

/* Thin wrappers: dt_* are static inline; the table wants addresses. */
static float f_exp(float x) { return dt_expf(x); }
static float f_log(float x) { return dt_logf(x); }
static float f_tanh(float x) { return dt_tanhf(x); }
static float f_erf(float x) { return dt_erff(x); }
static float f_sigmoid(float x) { return dt_sigmoidf(x); }
static float f_sinpi(float x) { return dt_sinpif(x); }
static float f_cospi(float x) { return dt_cospif(x); }

enum parity { NEITHER, ODD, EVEN };

typedef struct {
    const char *name;
    float (*fn)(float);
    double (*ref)(float);
    enum parity parity;
    /* results of the sweep */
    double max_ulp;
    float worst_x;
    uint64_t n_inputs;
    uint64_t n_parity_bad;
} math_case;

static math_case cases[] = {
    {"expf", f_exp, ref_exp, NEITHER, 0, 0, 0, 0},
    {"logf", f_log, ref_log, NEITHER, 0, 0, 0, 0},
    {"tanhf", f_tanh, ref_tanh, ODD, 0, 0, 0, 0},
    {"erff", f_erf, ref_erf, ODD, 0, 0, 0, 0},
    {"sigmoidf", f_sigmoid, ref_sigmoid, NEITHER, 0, 0, 0, 0},
    {"sinpif", f_sinpi, ref_sinpi, ODD, 0, 0, 0, 0},
    {"cospif", f_cospi, ref_cospi, EVEN, 0, 0, 0, 0},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Error of got against the exact value ref, in ulps of the float binade that holds |ref|
 * (2^-149 below FLT_MIN). NaN must match NaN, and an infinite result or reference must
 * match exactly; otherwise the error is reported as 1e30. */
static double ulp_error(float got, double ref) {
    if (isnan(ref) || isnan(got)) return (isnan(ref) && isnan(got)) ? 0.0 : 1e30;
    float ref_rounded = (float)ref;
    if (isinf(got) || isinf(ref_rounded)) return got == ref_rounded ? 0.0 : 1e30;
    double mag = fabs(ref);
    double ulp = 0x1p-149;
    if (mag >= 0x1p-126) {
        int e;
        frexp(mag, &e); /* mag in [2^(e-1), 2^e) */
        ulp = ldexp(1.0, e - 1 - 23);
    }
    return fabs((double)got - ref) / ulp;
}

static void check_input(math_case *c, float x) {
    float got = c->fn(x);
    double err = ulp_error(got, c->ref(x));
    c->n_inputs++;
    if (err > c->max_ulp || (err == c->max_ulp && c->n_inputs == 1)) {
        c->max_ulp = err;
        c->worst_x = x;
    }
    if (c->parity != NEITHER) {
        float mirrored = c->fn(-x);
        if (c->parity == ODD) mirrored = -mirrored;
        if (to_bits(mirrored) != to_bits(got) && !(isnan(got) && isnan(mirrored)))
            c->n_parity_bad++;
    }
}

/* Every float within +-radius bit patterns of center (same sign). */
static void check_window(math_case *c, float center, uint32_t radius) {
    uint32_t b = to_bits(center), sign = b & 0x80000000u, mag = b & 0x7fffffffu;
    uint32_t lo = mag > radius ? mag - radius : 0;
    uint32_t hi = mag + radius < 0x7f800000u ? mag + radius : 0x7f800000u;
    for (uint32_t m = lo; m <= hi; m++) check_input(c, from_bits(sign | m));
}

static void sweep(math_case *c, int exhaustive) {
    uint64_t stride = exhaustive ? 1 : SWEEP_STRIDE;
    for (uint64_t u = 0; u < (UINT64_C(1) << 32); u += stride) check_input(c, from_bits((uint32_t)u));
    if (exhaustive) return;

    /* Every subnormal binade, both signs: its ends and 62 patterns in between. */
    for (int j = 0; j < 23; j++) {
        uint32_t first = UINT32_C(1) << j, last = (first << 1) - 1;
        for (uint32_t i = 0; i < 64; i++) {
            uint32_t m = first + (uint32_t)(((uint64_t)(last - first) * i) / 63);
            check_input(c, from_bits(m));
            check_input(c, from_bits(m | 0x80000000u));
        }
    }
    /* Thresholds and branch points of all functions, both signs where it matters. */
    static const float centers[] = {
        0.0f, 0x1p-126f, 0x1p-12f, 0.25f, 0.5f, 0.55f, 0.75f, 1.0f, 0x1.6a09e6p0f,
        0x1.6a09e6p-1f, 1.5f, 2.0f, 3.0f, 3.92f, 9.1f, 17.0f, 18.0f, 80.0f, 87.33f,
        88.7228f, 100.0f, 103.97f, 104.0f, 0x1p23f, 0x1p24f,
    };
    for (size_t i = 0; i < sizeof centers / sizeof centers[0]; i++) {
        check_window(c, centers[i], 2048);
        check_window(c, -centers[i], 2048);
    }
}

/* ---- special values, bit for bit ----------------------------------------------------------- */

#define CHECK_BITS(expr, expected) CHECK_EQ_U32(to_bits(expr), to_bits(expected))

static void check_special_values(void) {
    const float inf = INFINITY, nan_in = from_bits(0x7fc00001u), neg_nan = from_bits(0xffc00000u);
    const float canonical_nan = from_bits(0x7fc00000u);

    /* NaN in -> the canonical NaN out, whatever the payload and sign. */
    for (size_t i = 0; i < N_CASES; i++) {
        CHECK_BITS(cases[i].fn(nan_in), canonical_nan);
        CHECK_BITS(cases[i].fn(neg_nan), canonical_nan);
    }

    CHECK_BITS(dt_expf(0.0f), 1.0f);
    CHECK_BITS(dt_expf(-0.0f), 1.0f);
    CHECK_BITS(dt_expf(-inf), 0.0f);
    CHECK_BITS(dt_expf(inf), inf);
    CHECK_BITS(dt_expf(0x1.62e42ep6f), 0x1.ffff08p127f); /* 88.7228317: finite */
    CHECK_BITS(dt_expf(0x1.62e430p6f), inf);             /* next float up overflows */
    CHECK_BITS(dt_expf(1000.0f), inf);
    CHECK_BITS(dt_expf(-1000.0f), 0.0f);
    CHECK_BITS(dt_expf(-104.0f), 0.0f);
    CHECK_BITS(dt_expf(-103.0f), from_bits(0x00000001u)); /* e^-103 = 1.32 * 2^-149 */
    CHECK_BITS(dt_expf(-100.0f), from_bits(0x0000001bu)); /* e^-100 = 26.5 * 2^-149 */
    CHECK_BITS(dt_expf(0x1p-149f), 1.0f);
    CHECK(dt_expf(-87.5f) > 0.0f && dt_expf(-87.5f) < FLT_MIN);
    CHECK_BITS(dt_expf(1.0f), 0x1.5bf0a8p1f);

    CHECK_BITS(dt_logf(1.0f), 0.0f);
    CHECK_BITS(dt_logf(0.0f), -inf);
    CHECK_BITS(dt_logf(-0.0f), -inf);
    CHECK_BITS(dt_logf(inf), inf);
    CHECK_BITS(dt_logf(-1.0f), canonical_nan);
    CHECK_BITS(dt_logf(-inf), canonical_nan);
    CHECK_BITS(dt_logf(-0x1p-149f), canonical_nan);
    CHECK_BITS(dt_logf(2.0f), 0x1.62e43p-1f);
    CHECK_BITS(dt_logf(0x1p-149f), -0x1.9d1da0p6f); /* -149 ln 2 = -103.2789 */
    CHECK_BITS(dt_logf(FLT_MAX), 0x1.62e430p6f);    /* 88.7228391 */

    CHECK_BITS(dt_tanhf(0.0f), 0.0f);
    CHECK_BITS(dt_tanhf(-0.0f), -0.0f);
    CHECK_BITS(dt_tanhf(inf), 1.0f);
    CHECK_BITS(dt_tanhf(-inf), -1.0f);
    CHECK_BITS(dt_tanhf(0x1p-149f), 0x1p-149f);
    CHECK_BITS(dt_tanhf(-0x1p-149f), -0x1p-149f);
    CHECK_BITS(dt_tanhf(20.0f), 1.0f);
    CHECK_BITS(dt_tanhf(-20.0f), -1.0f);

    CHECK_BITS(dt_erff(0.0f), 0.0f);
    CHECK_BITS(dt_erff(-0.0f), -0.0f);
    CHECK_BITS(dt_erff(inf), 1.0f);
    CHECK_BITS(dt_erff(-inf), -1.0f);
    CHECK_BITS(dt_erff(5.0f), 1.0f);
    CHECK_BITS(dt_erff(-5.0f), -1.0f);
    CHECK_BITS(dt_erff(0x1p-149f), from_bits(0x00000001u)); /* 1.128 * 2^-149 rounds down */
    CHECK_BITS(dt_erff(from_bits(0x00000002u)), from_bits(0x00000002u)); /* 2.257 -> 2 */
    CHECK_BITS(dt_erff(from_bits(0x00000004u)), from_bits(0x00000005u)); /* 4.514 -> 5 */

    CHECK_BITS(dt_sigmoidf(0.0f), 0.5f);
    CHECK_BITS(dt_sigmoidf(-0.0f), 0.5f);
    CHECK_BITS(dt_sigmoidf(inf), 1.0f);
    CHECK_BITS(dt_sigmoidf(-inf), 0.0f);
    CHECK_BITS(dt_sigmoidf(100.0f), 1.0f);
    CHECK_BITS(dt_sigmoidf(-100.0f), from_bits(0x0000001bu)); /* = e^-100, subnormal */
    CHECK_BITS(dt_sigmoidf(-200.0f), 0.0f);

    CHECK_BITS(dt_sinpif(0.0f), 0.0f);
    CHECK_BITS(dt_sinpif(-0.0f), -0.0f);
    CHECK_BITS(dt_sinpif(inf), canonical_nan);
    CHECK_BITS(dt_sinpif(-inf), canonical_nan);
    CHECK_BITS(dt_sinpif(0.5f), 1.0f);
    CHECK_BITS(dt_sinpif(-0.5f), -1.0f);
    CHECK_BITS(dt_sinpif(1.5f), -1.0f);
    CHECK_BITS(dt_sinpif(1.0f), 0.0f); /* integers: +0 for n > 0, -0 for n < 0 */
    CHECK_BITS(dt_sinpif(2.0f), 0.0f);
    CHECK_BITS(dt_sinpif(-1.0f), -0.0f);
    CHECK_BITS(dt_sinpif(-2.0f), -0.0f);
    CHECK_BITS(dt_sinpif(0x1p30f), 0.0f);
    CHECK_BITS(dt_sinpif(-0x1p30f), -0.0f);
    CHECK_BITS(dt_sinpif(FLT_MAX), 0.0f);
    CHECK_BITS(dt_sinpif(0x1p-149f), from_bits(0x00000003u)); /* pi * 2^-149 -> 3 */
    CHECK_BITS(dt_sinpif(-0x1p-149f), from_bits(0x80000003u));
    CHECK_BITS(dt_sinpif(0.25f), 0x1.6a09e6p-1f);
    CHECK_BITS(dt_sinpif(8388607.5f), -1.0f); /* 2^23 - 1/2 */

    CHECK_BITS(dt_cospif(0.0f), 1.0f);
    CHECK_BITS(dt_cospif(-0.0f), 1.0f);
    CHECK_BITS(dt_cospif(inf), canonical_nan);
    CHECK_BITS(dt_cospif(-inf), canonical_nan);
    CHECK_BITS(dt_cospif(0.5f), 0.0f); /* n + 1/2: +0 */
    CHECK_BITS(dt_cospif(-0.5f), 0.0f);
    CHECK_BITS(dt_cospif(1.5f), 0.0f);
    CHECK_BITS(dt_cospif(-2.5f), 0.0f);
    CHECK_BITS(dt_cospif(1.0f), -1.0f);
    CHECK_BITS(dt_cospif(-1.0f), -1.0f);
    CHECK_BITS(dt_cospif(2.0f), 1.0f);
    CHECK_BITS(dt_cospif(8388609.0f), -1.0f); /* 2^23 + 1: odd */
    CHECK_BITS(dt_cospif(0x1p24f), 1.0f);
    CHECK_BITS(dt_cospif(FLT_MAX), 1.0f);
    CHECK_BITS(dt_cospif(0x1p-149f), 1.0f);
    CHECK_BITS(dt_cospif(0.25f), 0x1.6a09e6p-1f);
}

/* The activations and their derivatives never make a NaN by arithmetic, whose bits are the
 * machine's (x86 keeps an operand's payload, or makes 0xffc00000; CUDA makes 0x7fffffff, found
 * on an H200): every NaN they give is the canonical one, on every special input. */
static void check_activation_nans(void) {
    const float z[] = {-0.0f, 0.0f, INFINITY, -INFINITY, from_bits(0x7fc00001u), from_bits(0xffc00000u),
                       0x1p-149f, -0x1p-126f, 88.72f, -88.72f, 103.9f, -104.0f, -3.0f, 3.0f};
    for (int act = DT_ACT_CODE_IDENTITY; act <= DT_ACT_CODE_GELU; act++)
        for (size_t i = 0; i < sizeof z / sizeof z[0]; i++) {
            if (act == DT_ACT_CODE_IDENTITY && z[i] != z[i]) continue; /* identity passes z on */
            const float y = dt_act_forward(act, z[i]), d = dt_act_derivative(act, z[i], y);
            if (y != y) CHECK_EQ_U32(to_bits(y), 0x7fc00000u);
            if (d != d) CHECK_EQ_U32(to_bits(d), 0x7fc00000u);
        }
    CHECK_BITS(dt_act_forward(DT_ACT_CODE_GELU, -INFINITY), -0.0f);
    CHECK_BITS(dt_act_forward(DT_ACT_CODE_GELU, INFINITY), INFINITY);
    CHECK_BITS(dt_act_derivative(DT_ACT_CODE_GELU, INFINITY, INFINITY), 1.0f);
    CHECK_BITS(dt_act_derivative(DT_ACT_CODE_GELU, -INFINITY, -0.0f), 0.0f);
}

int main(void) {
    const char *env = getenv("DT_MATH_EXHAUSTIVE");
    int exhaustive = env && strcmp(env, "1") == 0;

    check_special_values();
    check_activation_nans();

    clock_t start = clock();
    for (size_t i = 0; i < N_CASES; i++) {
        math_case *c = &cases[i];
        sweep(c, exhaustive);
        fprintf(stderr, "%-9s max %.3f ulp at %a (%.9g), %llu inputs%s\n", c->name, c->max_ulp,
                c->worst_x, c->worst_x, (unsigned long long)c->n_inputs,
                exhaustive ? " (exhaustive)" : "");
        CHECK(c->max_ulp <= MAX_ULP);
        CHECK_EQ_INT(c->n_parity_bad, 0);
    }
    fprintf(stderr, "sweep: %.1f s\n", (double)(clock() - start) / CLOCKS_PER_SEC);
    return TEST_EXIT();
}
