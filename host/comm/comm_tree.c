/* comm_tree.c — the balanced pairwise tree sum, used for ranks and for microbatches. */
#include "comm.h"

/* out = sum(parts[lo..hi)); consumes the inputs: the right subtree is summed into
 * parts[mid], its own storage. out may alias parts[lo]. */
static void tree(float *const *parts, int lo, int hi, int64_t n, float *out) {
    if (hi - lo == 1) {
        if (out != parts[lo])
            for (int64_t e = 0; e < n; e++) out[e] = parts[lo][e];
        return;
    }
    const int mid = (lo + hi) / 2;
    tree(parts, lo, mid, n, out);
    tree(parts, mid, hi, n, parts[mid]);
    for (int64_t e = 0; e < n; e++) out[e] = out[e] + parts[mid][e];
}

void dt_tree_sum(float *const *parts, int k, int64_t n, float *out) {
    if (k <= 0) {
        for (int64_t e = 0; e < n; e++) out[e] = 0.0f;
        return;
    }
    tree(parts, 0, k, n, out);
}
