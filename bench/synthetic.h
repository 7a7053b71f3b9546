/* synthetic.h — data made from the seed alone (benchmarks, tests): nothing to download.
 *
 * Features: x = 2u - 1 with u the uniform of Philox(ctr = {e lo, e hi, 0, 0}, key =
 * dt_rng_key(seed, DT_RNG_SYNTHETIC, index)) for element e = sample * n_features + f (exact
 * in float: u is k * 2^-24). Label: the index of the largest of the first min(n_classes,
 * n_features) features, the lowest on ties: exact, so any engine that reads the same
 * features computes the same labels, and a network can learn it. docs/numerics.md,
 * "Randomness". */
#ifndef DT_SYNTHETIC_H
#define DT_SYNTHETIC_H

#include <stdint.h>

#include "data/data.h"
#include "core/status.h"

/* Key index of the purpose DT_RNG_SYNTHETIC for the features of a training set and for
 * the operands of the matrix-product benchmark. */
enum { DT_SYNTHETIC_FEATURES = 0, DT_SYNTHETIC_GEMM_A = 1, DT_SYNTHETIC_GEMM_B = 2 };

/* Fills values[0 .. n) with 2u - 1 for elements first .. first + n of the stream
 * (seed, DT_RNG_SYNTHETIC, index). */
void dt_synthetic_fill(float *values, int64_t n, uint64_t seed, uint32_t index);

/* A classification set of n_samples rows (n_features, labels in [0, n_classes)); ds owns
 * its buffers (dt_dataset_free). DT_NOMEM on failure, with ds left empty. Records no file. */
dt_status dt_synthetic_dataset(dt_dataset *ds, int64_t n_samples, int32_t n_features, int32_t n_classes,
                               uint64_t seed, dt_error *err);

#endif
