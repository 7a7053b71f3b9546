/* optim.h — the training schedule (steps per epoch, learning rate) and the per-step
 * optimizer scalars, computed on the host in float with the portable math, so every device
 * applies the same numbers. */
#ifndef DT_OPTIM_H
#define DT_OPTIM_H

#include <stdint.h>

#include "config.h"
#include "optim_rules.h"

/* The update rule of the configured optimizer. */
static inline dt_update_kind dt_optim_update_kind(dt_optimizer_kind kind) {
    return kind == DT_OPT_SGD ? DT_UPDATE_SGD : kind == DT_OPT_ADAM ? DT_UPDATE_ADAM : DT_UPDATE_ADAMW;
}

/* Counters carried from step to step (and in checkpoints). */
typedef struct {
    uint64_t step;          /* optimizer steps completed */
    float beta1_pow;        /* beta1^step as a running float product (1 at step 0) */
    float beta2_pow;
} dt_optim_counters;

/* Counters before the first step. */
dt_optim_counters dt_optim_counters_start(void);

/* Steps per epoch for n_train samples under the config's batch size and drop_last. */
int64_t dt_steps_per_epoch(const dt_config *cfg, int64_t n_train);

/* The learning rate of 0-based step `step` of `total_steps`:
 * warm-up: lr * (step + 1) / warmup_steps for step < warmup_steps; after it, with
 * t = step - warmup_steps: constant lr; step: lr * gamma^(t / step_size) (repeated
 * float products); cosine: min_lr + (lr - min_lr) * (0.5 * (1 + cospi(t / (total - warmup)))). */
float dt_schedule_lr(const dt_config *cfg, uint64_t step, uint64_t total_steps);

/* Advances the counters by one step and fills the scalars of that step (grad_scale = 1;
 * the backend sets it when clipping). */
void dt_optim_next(const dt_config *cfg, float lr, dt_optim_counters *counters, dt_optim_scalars *out);

#endif
