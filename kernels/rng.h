/* rng.h — every random number in detrain: Philox4x32-10 keyed from the config's one seed.
 *
 * A key is derived per purpose (and tensor, epoch or layer); counters are indexed by
 * element or sample, never by thread, so any split of the work draws the same numbers.
 * See docs/numerics.md, "Randomness". */
#ifndef DT_RNG_H
#define DT_RNG_H

#include <math.h>
#include <stdint.h>

#include "dt_hd.h"
#include "dt_math.h"
#include "philox.h"

enum {
    DT_RNG_INIT = 1, DT_RNG_SHUFFLE = 2, DT_RNG_DROPOUT = 3, DT_RNG_SYNTHETIC = 4, DT_RNG_VALIDATION = 5,
    DT_RNG_SWEEP = 6 /* keyed from the sweep's --sweep-seed, not the config's seed */
};

/* The key for (purpose, index): the first two words of Philox(ctr = {purpose, index, 0, 0},
 * key = {seed low 32 bits, seed high 32 bits}). */
DT_HD dt_philox_key dt_rng_key(uint64_t seed, uint32_t purpose, uint32_t index) {
    dt_philox_ctr ctr = {{purpose, index, 0u, 0u}};
    dt_philox_key master = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    dt_philox_ctr out = dt_philox4x32_10(ctr, master);
    dt_philox_key key = {{out.v[0], out.v[1]}};
    return key;
}

/* Uniform in [0, 1) for element `element` of a tensor: word 0 of Philox({lo, hi, 0, 0}). */
DT_HD float dt_rng_init_uniform(dt_philox_key key, uint64_t element) {
    dt_philox_ctr ctr = {{(uint32_t)element, (uint32_t)(element >> 32), 0u, 0u}};
    return dt_uniform_from_u32(dt_philox4x32_10(ctr, key).v[0]);
}

/* Standard normal for element `element` by Box-Muller on words 0 and 1:
 * sqrt(-2 log(1 - u0)) * cospi(2 u1). 1 - u0 is in (0, 1], so the log is finite. */
DT_HD float dt_rng_init_normal(dt_philox_key key, uint64_t element) {
    dt_philox_ctr ctr = {{(uint32_t)element, (uint32_t)(element >> 32), 0u, 0u}};
    dt_philox_ctr r = dt_philox4x32_10(ctr, key);
    const float u0 = dt_uniform_from_u32(r.v[0]), u1 = dt_uniform_from_u32(r.v[1]);
    const float radius = sqrtf(-2.0f * dt_logf(1.0f - u0));
    return radius * dt_cospif(2.0f * u1);
}

/* Dropout keep decision for element `element` of sample `sample` at step `step`:
 * u = word (element % 4) of Philox({element / 4, sample, step lo, step hi}); keep when u >= p. */
DT_HD int dt_rng_dropout_keep(dt_philox_key key, uint64_t step, uint32_t sample, uint32_t element, float p) {
    dt_philox_ctr ctr = {{element >> 2, sample, (uint32_t)step, (uint32_t)(step >> 32)}};
    dt_philox_ctr r = dt_philox4x32_10(ctr, key);
    return dt_uniform_from_u32(r.v[element & 3u]) >= p;
}

#endif
