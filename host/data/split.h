/* split.h — orders of samples from the seed: the epoch's shuffle and the validation split.
 *
 * Both are the same Fisher–Yates shuffle whose draw for position i is Philox(ctr = {i lo,
 * i hi, 0, 0}, key), j = (64-bit draw * (i + 1)) >> 64: indexed by position, so it is the
 * same on every machine and a resumed run recomputes it (docs/numerics.md, "Randomness"). */
#ifndef DT_SPLIT_H
#define DT_SPLIT_H

#include <stdint.h>

#include "data/data.h"
#include "philox.h"
#include "core/status.h"

/* perm (n) = the shuffle of 0..n-1 under key, or the identity when key is NULL. */
void dt_permutation(int64_t *perm, int64_t n, const dt_philox_key *key);

/* ceil(share * n) for the share as written: its shortest decimal ("0.2" for 0.2f), in integer
 * arithmetic, so 0.2 of 600 is 120 (0.2f * 600 in float or double is just above 120). */
int64_t dt_split_held_out(float share, int64_t n);

/* That shortest decimal as a double, for the record. */
double dt_split_share(float share);

/* Holds out the last dt_split_held_out(share, n) samples of the permutation of all's samples under
 * (seed, DT_RNG_VALIDATION) as *validation and keeps the rest as *train, each in the file's
 * order, both recording all's files; indices_sha256: SHA-256 of the held-out indices
 * (int64 little-endian, ascending). all is freed. DT_CONFIG naming
 * config.data.validation_split when either side would be empty; DT_NOMEM. */
dt_status dt_dataset_split(dt_dataset *all, float share, uint64_t seed, dt_dataset *train, dt_dataset *validation,
                           char indices_sha256[65], dt_error *err);

#endif
