/* optim_rules.h — the per-element optimizer updates, one definition for CPU and CUDA.
 *
 * Each rule reads one parameter, its gradient and its state and writes them back; the
 * order of every float operation is fixed here. See docs/numerics.md, "Optimizers". */
#ifndef DT_OPTIM_RULES_H
#define DT_OPTIM_RULES_H

#include <math.h>

#include "dt_hd.h"

/* Which rule updates the parameters. */
typedef enum { DT_UPDATE_SGD, DT_UPDATE_ADAM, DT_UPDATE_ADAMW } dt_update_kind;

/* Scalars of one optimizer step, computed once on the host. */
typedef struct {
    float lr;
    float weight_decay;
    float momentum;             /* sgd */
    int nesterov;               /* sgd */
    float beta1, beta2, eps;    /* adam, adamw */
    float bias_correction1;     /* 1 - beta1^t, t = 1-based step (beta^t kept as a float product) */
    float bias_correction2;     /* 1 - beta2^t */
    float grad_scale;           /* gradient clipping factor; 1 when not clipping */
} dt_optim_scalars;

/* SGD: g' = fmaf(wd, p, g*scale); buf = fmaf(momentum, buf, g'); d = nesterov ? fmaf(momentum, buf, g') : buf;
 * p = fmaf(-lr, d, p). With momentum 0 the buffer holds g'. */
DT_HD void dt_sgd_update(float *param, float grad, float *momentum_buf, const dt_optim_scalars *s) {
    const float g = fmaf(s->weight_decay, *param, grad * s->grad_scale);
    const float buf = fmaf(s->momentum, *momentum_buf, g);
    *momentum_buf = buf;
    const float d = s->nesterov ? fmaf(s->momentum, buf, g) : buf;
    *param = fmaf(-s->lr, d, *param);
}

/* Adam (decoupled = 0; L2 weight decay added to the gradient) or AdamW (decoupled = 1:
 * p = p * (1 - lr * wd) before the update):
 *   m = fmaf(b1, m, (1 - b1) * g);  v = fmaf(b2, v, ((1 - b2) * g) * g)
 *   p = fmaf(-lr, (m / bc1) / (sqrt(v / bc2) + eps), p) */
DT_HD void dt_adam_update(float *param, float grad, float *m, float *v, const dt_optim_scalars *s, int decoupled) {
    float p = *param;
    float g = grad * s->grad_scale;
    if (decoupled) p = p * (1.0f - s->lr * s->weight_decay);
    else g = fmaf(s->weight_decay, p, g);
    const float m_new = fmaf(s->beta1, *m, (1.0f - s->beta1) * g);
    const float v_new = fmaf(s->beta2, *v, ((1.0f - s->beta2) * g) * g);
    *m = m_new;
    *v = v_new;
    const float m_hat = m_new / s->bias_correction1;
    const float v_hat = v_new / s->bias_correction2;
    const float update = m_hat / (sqrtf(v_hat) + s->eps);
    *param = fmaf(-s->lr, update, p);
}

#endif
