/* reduce.h — the contract's order for sums over long vectors (docs/numerics.md, section 4),
 * one definition for CPU and CUDA: blocks of DT_REDUCE_BLOCK elements, each summed
 * ascending from +0, then the block sums ascending. */
#ifndef DT_REDUCE_H
#define DT_REDUCE_H

#include <math.h>
#include <stdint.h>

#include "dt_hd.h"

#define DT_REDUCE_BLOCK 1024

/* acc + x[0] + x[1] + ... + x[n-1], added in that order: the one chain of plain adds. */
DT_HD float dt_add_chain(float acc, const float *x, int64_t n) {
    for (int64_t e = 0; e < n; e++) acc += x[e];
    return acc;
}

/* Sum of x[0..n) (plain adds) in block order. */
DT_HD float dt_sum_blocks(const float *x, int64_t n) {
    float total = 0.0f;
    for (int64_t e0 = 0; e0 < n; e0 += DT_REDUCE_BLOCK) {
        const int64_t e1 = e0 + DT_REDUCE_BLOCK < n ? e0 + DT_REDUCE_BLOCK : n;
        total += dt_add_chain(0.0f, x + e0, e1 - e0);
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
