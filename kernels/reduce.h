/* reduce.h — the contract's order for sums over long vectors (docs/numerics.md, section 4),
 * one definition for CPU and CUDA: blocks of DT_REDUCE_BLOCK elements, each summed
 * ascending from +0, then the block sums ascending. */
#ifndef DT_REDUCE_H
#define DT_REDUCE_H

#include <math.h>
#include <stdint.h>

#include "dt_hd.h"

#define DT_REDUCE_BLOCK 1024

/* Sum of x[0..n) (plain adds) in block order. */
DT_HD float dt_sum_blocks(const float *x, int64_t n) {
    float total = 0.0f;
    for (int64_t e0 = 0; e0 < n; e0 += DT_REDUCE_BLOCK) {
        const int64_t e1 = e0 + DT_REDUCE_BLOCK < n ? e0 + DT_REDUCE_BLOCK : n;
        float block = 0.0f;
        for (int64_t e = e0; e < e1; e++) block += x[e];
        total += block;
    }
    return total;
}

/* Block k of the sum of squares of g (n elements): one fmaf chain ascending from +0. */
DT_HD float dt_sumsq_block(const float *g, int64_t n, int64_t k) {
    const int64_t e0 = k * DT_REDUCE_BLOCK, e1 = e0 + DT_REDUCE_BLOCK < n ? e0 + DT_REDUCE_BLOCK : n;
    float acc = 0.0f;
    for (int64_t e = e0; e < e1; e++) acc = fmaf(g[e], g[e], acc);
    return acc;
}

#endif
