/* bench_stats.c — medians, ULP distances and buffer comparisons for benchmark rows. */
#include "bench_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double dt_median(double *values, int n) {
    if (n <= 0) return 0.0;
    qsort(values, (size_t)n, sizeof *values, cmp_double);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/* The float's position on one integer line ordered like the floats: -0 just below +0. */
static int64_t ordered(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits & 0x80000000u ? -(int64_t)(bits & 0x7fffffffu) - 1 : (int64_t)bits;
}

int64_t dt_ulp_distance(float a, float b) {
    uint32_t bits_a, bits_b;
    memcpy(&bits_a, &a, sizeof bits_a);
    memcpy(&bits_b, &b, sizeof bits_b);
    if (bits_a == bits_b) return 0;
    if (isnan(a) || isnan(b)) return INT64_MAX;
    const int64_t d = ordered(a) - ordered(b);
    return d < 0 ? -d : d;
}

dt_float_diff dt_compare_floats(const float *a, const float *b, int64_t n) {
    dt_float_diff d = {0, 0.0, 0};
    for (int64_t e = 0; e < n; e++) {
        const int64_t ulp = dt_ulp_distance(a[e], b[e]);
        if (ulp == 0) continue;
        d.n_differ++;
        if (ulp > d.max_ulp) d.max_ulp = ulp;
        const double abs_diff = ulp == INT64_MAX ? INFINITY : fabs((double)a[e] - (double)b[e]);
        if (abs_diff > d.max_abs_diff) d.max_abs_diff = abs_diff;
    }
    return d;
}

void dt_envelope_start(float *lo, float *hi, const float *first, int64_t n) {
    memcpy(lo, first, (size_t)n * sizeof(float));
    memcpy(hi, first, (size_t)n * sizeof(float));
}

void dt_envelope_add(float *lo, float *hi, const float *next, int64_t n) {
    for (int64_t e = 0; e < n; e++) {
        const int64_t x = ordered(next[e]);
        if (x < ordered(lo[e])) lo[e] = next[e];
        if (x > ordered(hi[e])) hi[e] = next[e];
    }
}

void dt_format_diff(double value, char *buf, size_t size) {
    if (value == 0) snprintf(buf, size, "0");
    else snprintf(buf, size, "%.2g", value);
}

int dt_distinct_digests(const char (*digests)[65], int n) {
    int distinct = 0;
    for (int r = 0; r < n; r++) {
        int seen = 0;
        for (int q = 0; q < r; q++) seen |= !strcmp(digests[q], digests[r]);
        distinct += !seen;
    }
    return distinct;
}
