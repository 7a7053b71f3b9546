/* test_optim.c — optimizer steps and schedules against values computed by hand (in double,
 * from the textbook formulas), and the exact float sequences the contract prescribes. */
#include <math.h>
#include <string.h>

#include "core/config.h"
#include "core/optim.h"
#include "optim_rules.h"
#include "test.h"

static dt_optim_scalars base_scalars(void) {
    dt_optim_scalars s = {0.1f, 0.0f, 0.0f, 0, 0.9f, 0.999f, 1e-8f, 1.0f, 1.0f, 1.0f};
    return s;
}

static void test_sgd(void) {
    dt_optim_scalars s = base_scalars();
    float p = 1.0f, buf = 0.0f;
    dt_sgd_update(&p, 0.5f, &buf, &s); /* p = 1 - 0.1 * 0.5 */
    CHECK_NEAR(p, 0.95, 1e-7);

    /* Momentum 0.9, two steps with g = 1: buf = 1, then 1.9; p = 1 - 0.1 - 0.19 = 0.71 */
    s.momentum = 0.9f;
    p = 1.0f;
    buf = 0.0f;
    dt_sgd_update(&p, 1.0f, &buf, &s);
    CHECK_NEAR(buf, 1.0, 1e-7);
    dt_sgd_update(&p, 1.0f, &buf, &s);
    CHECK_NEAR(buf, 1.9, 1e-6);
    CHECK_NEAR(p, 0.71, 1e-6);

    /* Nesterov: d = g + m * buf. Step 1: buf = 1, d = 1.9, p = 1 - 0.19 = 0.81 */
    s.nesterov = 1;
    p = 1.0f;
    buf = 0.0f;
    dt_sgd_update(&p, 1.0f, &buf, &s);
    CHECK_NEAR(p, 0.81, 1e-6);

    /* Weight decay 0.01 as L2: g = 0.5 + 0.01 * 2 = 0.52; p = 2 - 0.1 * 0.52 = 1.948 */
    s = base_scalars();
    s.weight_decay = 0.01f;
    p = 2.0f;
    buf = 0.0f;
    dt_sgd_update(&p, 0.5f, &buf, &s);
    CHECK_NEAR(p, 1.948, 1e-6);

    /* Clipping scale halves the gradient. */
    s = base_scalars();
    s.grad_scale = 0.5f;
    p = 1.0f;
    buf = 0.0f;
    dt_sgd_update(&p, 1.0f, &buf, &s);
    CHECK_NEAR(p, 0.95, 1e-7);
}

static void test_adam(void) {
    /* Step 1 of Adam with g: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2,
     * update = g / (|g| + eps) ~ sign(g): p = p - lr * sign(g). */
    dt_optim_scalars s = base_scalars();
    s.lr = 0.001f;
    s.bias_correction1 = 1.0f - 0.9f;
    s.bias_correction2 = 1.0f - 0.999f;
    float p = 0.5f, m = 0.0f, v = 0.0f;
    dt_adam_update(&p, 0.2f, &m, &v, &s, 0);
    CHECK_NEAR(m, 0.02, 1e-8);
    CHECK_NEAR(v, 0.00004, 1e-9); /* (1 - 0.999f) is 0.00099998713 in float */
    CHECK_NEAR(p, 0.5 - 0.001 * 0.2 / (0.2 + 1e-8), 1e-7);

    /* Step 2 with g = -0.1 (hand computation in double). */
    double md = 0.9 * 0.02 + 0.1 * -0.1, vd = 0.999 * 0.00004 + 0.001 * 0.01;
    double mh = md / (1 - 0.81), vh = vd / (1 - 0.999 * 0.999);
    double expect = (0.5 - 0.001 * 0.2 / (0.2 + 1e-8)) - 0.001 * mh / (sqrt(vh) + 1e-8);
    s.bias_correction1 = 1.0f - 0.9f * 0.9f;
    s.bias_correction2 = 1.0f - 0.999f * 0.999f;
    dt_adam_update(&p, -0.1f, &m, &v, &s, 0);
    CHECK_NEAR(m, md, 1e-8);
    CHECK_NEAR(v, vd, 1e-9);
    CHECK_NEAR(p, expect, 2e-7);

    /* AdamW: decoupled decay p *= 1 - lr * wd before the update. */
    s = base_scalars();
    s.lr = 0.01f;
    s.weight_decay = 0.1f;
    s.bias_correction1 = 0.1f;
    s.bias_correction2 = 1.0f - 0.999f;
    p = 1.0f;
    m = v = 0.0f;
    dt_adam_update(&p, 0.3f, &m, &v, &s, 1);
    CHECK_NEAR(p, 1.0 * (1 - 0.01 * 0.1) - 0.01 * 0.3 / (0.3 + 1e-8), 2e-7);
    /* Adam with L2: the gradient grows by wd * p = 0.1 and the update stays ~ -lr */
    p = 1.0f;
    m = v = 0.0f;
    dt_adam_update(&p, 0.3f, &m, &v, &s, 0);
    CHECK_NEAR(p, 1.0 - 0.01 * 0.4 / (0.4 + 1e-8), 2e-7);
}

static void test_counters(void) {
    dt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.optimizer.lr = 0.1f;
    cfg.optimizer.beta1 = 0.9f;
    cfg.optimizer.beta2 = 0.999f;
    cfg.optimizer.eps = 1e-8f;
    dt_optim_counters c = dt_optim_counters_start();
    dt_optim_scalars s;
    for (int t = 1; t <= 3; t++) dt_optim_next(&cfg, 0.1f, &c, &s);
    CHECK_EQ_INT(c.step, 3);
    /* beta^3 as the float product ((b * b) * b): exact sequence, not powf. */
    CHECK(c.beta1_pow == (0.9f * 0.9f) * 0.9f);
    CHECK(s.bias_correction1 == 1.0f - (0.9f * 0.9f) * 0.9f);
    CHECK_NEAR(s.bias_correction2, 1 - pow(0.999, 3), 1e-6);
}

static void test_schedules(void) {
    dt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.optimizer.lr = 0.1f;
    cfg.schedule.kind = DT_SCHED_CONSTANT;
    CHECK(dt_schedule_lr(&cfg, 0, 100) == 0.1f);
    CHECK(dt_schedule_lr(&cfg, 99, 100) == 0.1f);

    cfg.schedule.warmup_steps = 10;
    CHECK_NEAR(dt_schedule_lr(&cfg, 0, 100), 0.01, 1e-8);
    CHECK_NEAR(dt_schedule_lr(&cfg, 4, 100), 0.05, 1e-8);
    CHECK(dt_schedule_lr(&cfg, 10, 100) == 0.1f);

    cfg.schedule.warmup_steps = 0;
    cfg.schedule.kind = DT_SCHED_STEP;
    cfg.schedule.step_size = 30;
    cfg.schedule.gamma = 0.5f;
    CHECK(dt_schedule_lr(&cfg, 29, 100) == 0.1f);
    CHECK_NEAR(dt_schedule_lr(&cfg, 30, 100), 0.05, 1e-8);
    CHECK_NEAR(dt_schedule_lr(&cfg, 95, 100), 0.0125, 1e-8);

    cfg.schedule.kind = DT_SCHED_COSINE;
    cfg.schedule.min_lr = 0.001f;
    CHECK_NEAR(dt_schedule_lr(&cfg, 0, 100), 0.1, 1e-7);
    CHECK_NEAR(dt_schedule_lr(&cfg, 50, 100), 0.001 + 0.099 * 0.5, 1e-7);
    CHECK_NEAR(dt_schedule_lr(&cfg, 25, 100), 0.001 + 0.099 * 0.5 * (1 + cos(M_PI * 0.25)), 1e-7);
    CHECK_NEAR(dt_schedule_lr(&cfg, 99, 100), 0.001 + 0.099 * 0.5 * (1 + cos(M_PI * 0.99)), 1e-7);

    /* Cosine after warm-up: progress counts from the end of warm-up. */
    cfg.schedule.warmup_steps = 20;
    CHECK_NEAR(dt_schedule_lr(&cfg, 20, 100), 0.1, 1e-7);
    CHECK_NEAR(dt_schedule_lr(&cfg, 60, 100), 0.001 + 0.099 * 0.5, 1e-7);
}

int main(void) {
    test_sgd();
    test_adam();
    test_counters();
    test_schedules();
    return TEST_EXIT();
}
