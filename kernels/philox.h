/* philox.h — Philox4x32-10 counter-based RNG (Salmon, Moraes, Dror, Shaw, "Parallel Random
 * Numbers: As Easy as 1, 2, 3", SC11; the Random123 library). Header-only; compiles as C11
 * and as CUDA (DT_HD), and gives the same bits on host and device: only 32/64-bit integer
 * arithmetic, and the float conversion is exact. Known-answer tests: tests/test_philox.c. */
#ifndef DT_PHILOX_H
#define DT_PHILOX_H

#include <stdint.h>

#include "dt_hd.h"

typedef struct { uint32_t v[4]; } dt_philox_ctr; /* 128-bit counter, word 0 first */
typedef struct { uint32_t v[2]; } dt_philox_key; /* 64-bit key, word 0 first */

/* Random123's constants: the round multipliers and the Weyl key increments
 * (golden ratio and sqrt(3) - 1, as 32-bit fractions). */
#define DT_PHILOX_M0 UINT32_C(0xD2511F53)
#define DT_PHILOX_M1 UINT32_C(0xCD9E8D57)
#define DT_PHILOX_W0 UINT32_C(0x9E3779B9)
#define DT_PHILOX_W1 UINT32_C(0xBB67AE85)

/* One Philox S-box round on ctr with round key key; a 64-bit product gives hi and lo words
 * (portable in C and CUDA; nvcc lowers it to mul.lo/mul.hi). */
DT_HD dt_philox_ctr dt_philox4x32_round(dt_philox_ctr ctr, dt_philox_key key) {
    uint64_t prod0 = (uint64_t)DT_PHILOX_M0 * ctr.v[0];
    uint64_t prod1 = (uint64_t)DT_PHILOX_M1 * ctr.v[2];
    dt_philox_ctr out;
    out.v[0] = (uint32_t)(prod1 >> 32) ^ ctr.v[1] ^ key.v[0];
    out.v[1] = (uint32_t)prod1;
    out.v[2] = (uint32_t)(prod0 >> 32) ^ ctr.v[3] ^ key.v[1];
    out.v[3] = (uint32_t)prod0;
    return out;
}

/* Philox4x32-10: four pseudo-random 32-bit words, a pure function of (ctr, key);
 * bit-identical to Random123's philox4x32(ctr, key) with 10 rounds. */
DT_HD dt_philox_ctr dt_philox4x32_10(dt_philox_ctr ctr, dt_philox_key key) {
    for (int round = 0; round < 10; round++) {
        if (round > 0) { /* the key schedule bumps the key before rounds 2..10 */
            key.v[0] += DT_PHILOX_W0;
            key.v[1] += DT_PHILOX_W1;
        }
        ctr = dt_philox4x32_round(ctr, key);
    }
    return ctr;
}

/* A uniform float in [0, 1): the top 24 bits of x times 2^-24, exact (every value k * 2^-24,
 * k < 2^24, is a float), so 0 -> 0.0f and 0xffffffff -> 1 - 2^-24; never 1. */
DT_HD float dt_uniform_from_u32(uint32_t x) {
    return (float)(x >> 8) * 0x1.0p-24f;
}

#endif
