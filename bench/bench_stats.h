/* bench_stats.h — the numbers a benchmark row is made of: medians and spreads of timings,
 * and how far apart two float buffers are (largest absolute difference, largest distance
 * in units in the last place). */
#ifndef DT_BENCH_STATS_H
#define DT_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Median of values[0 .. n) (the mean of the middle two for even n); sorts values in place.
 * 0 for n <= 0. */
double dt_median(double *values, int n);

/* Number of floats between a and b (0 when their bits are equal; +0 and -0 are 1 apart);
 * INT64_MAX when either is NaN and the bits differ. */
int64_t dt_ulp_distance(float a, float b);

/* How two buffers of n floats differ. */
typedef struct {
    int64_t n_differ;         /* elements whose bits differ */
    double max_abs_diff;      /* largest |a - b| (inf when a NaN differs) */
    int64_t max_ulp;          /* largest dt_ulp_distance */
} dt_float_diff;

/* Compares a and b element by element. */
dt_float_diff dt_compare_floats(const float *a, const float *b, int64_t n);

/* Per-element envelope of several buffers: lo[e] and hi[e] are the smallest and largest of
 * every buffer added so far in the order of dt_ulp_distance, so the largest difference
 * between any two of them is the largest between lo and hi (dt_compare_floats(lo, hi)). */
void dt_envelope_start(float *lo, float *hi, const float *first, int64_t n);
void dt_envelope_add(float *lo, float *hi, const float *next, int64_t n);

/* How many of digests[0 .. n) are distinct (hex strings of 64 digits). */
int dt_distinct_digests(const char (*digests)[65], int n);

/* A difference for a table: "0" when it is zero, else two significant digits ("1.2e-07"). */
void dt_format_diff(double value, char *buf, size_t size);

#endif
