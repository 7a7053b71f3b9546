/* loss.h — per-sample losses and their gradients, one definition for CPU and CUDA.
 *
 * A row is one sample's outputs. Sums inside a row run j ascending; the batch loss is
 * the sum of the row losses in ascending sample order divided by the batch size (the
 * caller does that part). See docs/numerics.md, "Losses". */
#ifndef DT_LOSS_H
#define DT_LOSS_H

#include <stdint.h>

#include "dt_hd.h"
#include "dt_math.h"

/* Softmax cross-entropy of one row of n logits with class `label`. Writes the gradient of
 * (loss / batch) into grad[0..n) when grad is not NULL and returns the row's loss:
 *   m = max_j x_j;  s = sum_j exp(x_j - m) (j ascending);  loss = log(s) - (x_label - m)
 *   grad_j = (exp(x_j - m) / s - [j == label]) / batch */
DT_HD float dt_softmax_ce_row(const float *logits, int32_t n, int32_t label, float batch, float *grad) {
    float m = logits[0];
    for (int32_t j = 1; j < n; j++) m = logits[j] > m ? logits[j] : m;
    float s = 0.0f;
    if (grad) {
        /* one pass of exps, kept in grad, then normalised: the same values as below */
        for (int32_t j = 0; j < n; j++) {
            grad[j] = dt_expf(logits[j] - m);
            s += grad[j];
        }
        for (int32_t j = 0; j < n; j++) grad[j] = (grad[j] / s - (j == label ? 1.0f : 0.0f)) / batch;
    } else {
        for (int32_t j = 0; j < n; j++) s += dt_expf(logits[j] - m);
    }
    return dt_logf(s) - (logits[label] - m);
}

/* Whether the row's largest logit (the first one on ties) is the label. */
DT_HD int dt_argmax_is(const float *logits, int32_t n, int32_t label) {
    int32_t best = 0;
    for (int32_t j = 1; j < n; j++)
        if (logits[j] > logits[best]) best = j;
    return best == label;
}

/* Mean squared error of one row against targets: (sum_j (y_j - t_j)^2, j ascending) / n.
 * Writes the gradient of (row loss / batch), with count = batch * n:  grad_j = (d_j + d_j) / count. */
DT_HD float dt_mse_row(const float *y, const float *target, int32_t n, float count, float *grad) {
    float sum = 0.0f;
    for (int32_t j = 0; j < n; j++) {
        const float d = y[j] - target[j];
        sum += d * d;
        if (grad) grad[j] = (d + d) / count;
    }
    return sum / (float)n;
}

#endif
