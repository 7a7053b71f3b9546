/* test_grad.c — every layer, activation and loss against finite differences: the
 * backend's gradients of the batch loss match central differences of the same loss
 * (dropout masks are fixed by (seed, step, sample), so the loss is a function of the
 * parameters alone). Also: bias gradients are column sums, and an SGD step with lr
 * moves the parameters by exactly -lr * grad when nothing else is on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/model.h"
#include "test.h"

static uint32_t rng_state = 777;
static float next_float(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
}

/* A config for a tiny net: 5 inputs -> 7 (act, dropout) -> 6 (tanh) -> 3 outputs. */
static void make_config(dt_config *cfg, int act, float dropout, dt_loss_kind loss) {
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 99;
    cfg->model.input_size = 5;
    cfg->model.n_layers = 3;
    cfg->model.layers[0] = (dt_layer_config){7, (dt_activation)act, dropout};
    cfg->model.layers[1] = (dt_layer_config){6, DT_ACT_TANH, 0.0f};
    cfg->model.layers[2] = (dt_layer_config){3, DT_ACT_IDENTITY, 0.0f};
    cfg->model.init = DT_INIT_GLOROT_UNIFORM;
    cfg->loss.kind = loss;
    cfg->optimizer.kind = DT_OPT_SGD;
    cfg->optimizer.lr = 0.1f;
    cfg->optimizer.beta1 = 0.9f;
    cfg->optimizer.beta2 = 0.999f;
    cfg->optimizer.eps = 1e-8f;
    cfg->train.batch_size = 4;
    cfg->train.eval_batch_size = 4;
    cfg->train.epochs = 1;
    cfg->runtime.threads = 2;
}

static void make_data(dt_dataset *ds, int n, dt_loss_kind loss) {
    memset(ds, 0, sizeof *ds);
    ds->n_samples = n;
    ds->n_features = 5;
    ds->features = malloc(sizeof(float) * (size_t)n * 5);
    for (int i = 0; i < n * 5; i++) ds->features[i] = 2.0f * next_float();
    if (loss == DT_LOSS_SOFTMAX_CE) {
        ds->labels = malloc(sizeof(int32_t) * (size_t)n);
        for (int i = 0; i < n; i++) ds->labels[i] = i % 3;
    } else {
        ds->n_targets = 3;
        ds->targets = malloc(sizeof(float) * (size_t)n * 3);
        for (int i = 0; i < n * 3; i++) ds->targets[i] = next_float();
    }
}

static float batch_loss(const dt_backend_ops *ops, dt_backend *be, dt_host_state *st, const dt_step_desc *step) {
    dt_error err;
    dt_step_result res;
    ops->set_state(be, st, &err);
    ops->gradients(be, step, &res, &err);
    return res.loss;
}

static void check_case(int act, float dropout, dt_loss_kind loss) {
    dt_config cfg;
    make_config(&cfg, act, dropout, loss);
    dt_net net;
    dt_error err = {{0}};
    CHECK(dt_net_build(&net, &cfg, &err) == DT_OK);
    dt_dataset data;
    make_data(&data, 4, loss);
    const dt_backend_ops *ops = &dt_cpu_backend;
    dt_backend *be = NULL;
    CHECK(ops->create(&be, &net, &cfg, &err) == DT_OK);
    CHECK(ops->set_data(be, &data, &data, NULL, &err) == DT_OK);
    dt_host_state st;
    CHECK(dt_host_state_alloc(&st, &net, &err) == DT_OK);
    dt_net_init_params(&net, st.params, cfg.seed, cfg.model.init);
    for (int64_t e = 0; e < net.n_params; e++) st.params[e] += 0.1f * next_float(); /* nonzero biases */

    int64_t index[4] = {0, 1, 2, 3};
    dt_step_desc step = {.sample_index = index, .batch = 4, .step = 5};
    dt_step_result res;
    CHECK(ops->set_state(be, &st, &err) == DT_OK);
    CHECK(ops->gradients(be, &step, &res, &err) == DT_OK);
    float *grads = malloc(sizeof(float) * (size_t)net.n_params);
    CHECK(ops->get_grads(be, grads, &err) == DT_OK);

    int64_t bad = 0, checked = 0;
    for (int64_t e = 0; e < net.n_params; e++) {
        const float saved = st.params[e], h = 1e-3f;
        st.params[e] = saved + h;
        const double up = batch_loss(ops, be, &st, &step);
        st.params[e] = saved - h;
        const double down = batch_loss(ops, be, &st, &step);
        st.params[e] = saved;
        const double fd = (up - down) / (2.0 * (double)h);
        const double g = grads[e];
        /* relu kinks can make a difference quotient straddle a corner: allow a few. */
        if (fabs(fd - g) > 2e-2 * fmax(fabs(fd), fabs(g)) + 2e-3) {
            if (bad < 3)
                fprintf(stderr, "act %d dropout %.1f loss %d: param %lld grad %.6g fd %.6g\n", act, dropout, loss,
                        (long long)e, g, fd);
            bad++;
        }
        checked++;
    }
    const int64_t allowed = act == DT_ACT_RELU ? checked / 50 : 0;
    if (bad > allowed) fprintf(stderr, "act %d dropout %.1f loss %d: %lld of %lld differ\n", act, dropout, loss,
                               (long long)bad, (long long)checked);
    CHECK(bad <= allowed);

    /* Plain SGD (momentum 0, no decay): params move by exactly fmaf(-lr, g, p). */
    dt_host_state before;
    CHECK(dt_host_state_alloc(&before, &net, &err) == DT_OK);
    memcpy(before.params, st.params, sizeof(float) * (size_t)net.n_params);
    ops->set_state(be, &st, &err);
    step.scalars = (dt_optim_scalars){0.1f, 0.0f, 0.0f, 0, 0.9f, 0.999f, 1e-8f, 1.0f, 1.0f, 1.0f};
    CHECK(ops->train_step(be, &step, &res, &err) == DT_OK);
    CHECK(ops->get_state(be, &st, &err) == DT_OK);
    int64_t moved_wrong = 0;
    for (int64_t e = 0; e < net.n_params; e++)
        if (st.params[e] != fmaf(-0.1f, grads[e], before.params[e])) moved_wrong++;
    CHECK_EQ_INT(moved_wrong, 0);

    dt_host_state_free(&before);
    free(grads);
    dt_host_state_free(&st);
    ops->destroy(be);
    dt_dataset_free(&data);
}

int main(void) {
    const int acts[] = {DT_ACT_IDENTITY, DT_ACT_RELU, DT_ACT_TANH, DT_ACT_SIGMOID, DT_ACT_GELU};
    for (int a = 0; a < 5; a++)
        for (int l = 0; l < 2; l++) {
            check_case(acts[a], 0.0f, l ? DT_LOSS_MSE : DT_LOSS_SOFTMAX_CE);
            check_case(acts[a], 0.3f, l ? DT_LOSS_MSE : DT_LOSS_SOFTMAX_CE);
        }
    return TEST_EXIT();
}
