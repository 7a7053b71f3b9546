/* optim.c — schedules and optimizer scalars. */
#include "optim.h"

#include "dt_math.h"

dt_optim_counters dt_optim_counters_start(void) {
    dt_optim_counters c = {0, 1.0f, 1.0f};
    return c;
}

int64_t dt_steps_per_epoch(const dt_config *cfg, int64_t n_train) {
    const int64_t batch = cfg->train.batch_size;
    /* Not (n + batch - 1) / batch: that overflows for a count near INT64_MAX (a damaged record). */
    return n_train / batch + (!cfg->train.drop_last && n_train % batch != 0);
}

float dt_schedule_lr(const dt_config *cfg, uint64_t step, uint64_t total_steps) {
    const float base = cfg->optimizer.lr;
    const uint64_t warmup = (uint64_t)cfg->schedule.warmup_steps;
    if (step < warmup) return base * (float)(step + 1) / (float)warmup;
    const uint64_t t = step - warmup;
    switch (cfg->schedule.kind) {
    case DT_SCHED_STEP: {
        float factor = 1.0f;
        for (uint64_t k = t / (uint64_t)cfg->schedule.step_size; k > 0; k--) factor *= cfg->schedule.gamma;
        return base * factor;
    }
    case DT_SCHED_COSINE: {
        if (total_steps <= warmup) return base;
        const float progress = (float)t / (float)(total_steps - warmup);
        const float min_lr = cfg->schedule.min_lr;
        return min_lr + (base - min_lr) * (0.5f * (1.0f + dt_cospif(progress)));
    }
    default: return base;
    }
}

void dt_optim_next(const dt_config *cfg, float lr, dt_optim_counters *counters, dt_optim_scalars *out) {
    counters->step++;
    counters->beta1_pow *= cfg->optimizer.beta1;
    counters->beta2_pow *= cfg->optimizer.beta2;
    out->lr = lr;
    out->weight_decay = cfg->optimizer.weight_decay;
    out->momentum = cfg->optimizer.momentum;
    out->nesterov = cfg->optimizer.nesterov;
    out->beta1 = cfg->optimizer.beta1;
    out->beta2 = cfg->optimizer.beta2;
    out->eps = cfg->optimizer.eps;
    out->bias_correction1 = 1.0f - counters->beta1_pow;
    out->bias_correction2 = 1.0f - counters->beta2_pow;
    out->grad_scale = 1.0f;
}
