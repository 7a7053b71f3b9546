/* test_philox.c — Philox4x32-10 against Random123's known-answer vectors, and the exact
 * uniform-float conversion. */
#include <stdint.h>
#include <string.h>

#include "philox.h"
#include "test.h"

/* Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words),
 * key (2 words), expected output (4 words). */
static const struct {
    uint32_t ctr[4], key[2], expected[4];
} kat[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

int main(void) {
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        dt_philox_ctr ctr;
        dt_philox_key key;
        memcpy(ctr.v, kat[i].ctr, sizeof ctr.v);
        memcpy(key.v, kat[i].key, sizeof key.v);
        dt_philox_ctr out = dt_philox4x32_10(ctr, key);
        for (int w = 0; w < 4; w++) CHECK_EQ_U32(out.v[w], kat[i].expected[w]);
    }

    /* Edge values of the uniform conversion, compared bit for bit. */
    CHECK_EQ_U32(float_bits(dt_uniform_from_u32(0)), float_bits(0.0f));
    CHECK_EQ_U32(float_bits(dt_uniform_from_u32(0xffu)), float_bits(0.0f));
    CHECK_EQ_U32(float_bits(dt_uniform_from_u32(0x100u)), float_bits(0x1.0p-24f));
    CHECK_EQ_U32(float_bits(dt_uniform_from_u32(0x80000000u)), float_bits(0.5f));
    CHECK_EQ_U32(float_bits(dt_uniform_from_u32(0xffffffffu)), float_bits(1.0f - 0x1.0p-24f));
    CHECK(dt_uniform_from_u32(0xffffffffu) < 1.0f);

    /* Every value is k * 2^-24 exactly: converting back recovers the top 24 bits. */
    int exact = 1;
    for (uint32_t k = 0; k < (1u << 24); k += 4099) {
        float u = dt_uniform_from_u32((k << 8) | 0xabu);
        if (!(u >= 0.0f && u < 1.0f) || (uint32_t)(u * 0x1.0p24f) != k) exact = 0;
    }
    CHECK(exact);

    return TEST_EXIT();
}
