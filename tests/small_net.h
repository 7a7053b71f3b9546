/* small_net.h — the small classifier that tests of whole backends train: 20 inputs -> 32
 * (relu, dropout 0.2) -> 16 (gelu) -> 4 outputs, softmax cross-entropy, Adam with clipping,
 * and 256 samples for it. Callers set the batch sizes, microbatches and runtime. */
#ifndef DT_TEST_SMALL_NET_H
#define DT_TEST_SMALL_NET_H

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "data/data.h"

static void small_net_config(dt_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 3;
    cfg->model.input_size = 20;
    cfg->model.n_layers = 3;
    cfg->model.layers[0] = (dt_layer_config){32, DT_ACT_RELU, 0.2f};
    cfg->model.layers[1] = (dt_layer_config){16, DT_ACT_GELU, 0.0f};
    cfg->model.layers[2] = (dt_layer_config){4, DT_ACT_IDENTITY, 0.0f};
    cfg->loss.kind = DT_LOSS_SOFTMAX_CE;
    cfg->optimizer.kind = DT_OPT_ADAM;
    cfg->optimizer.lr = 0.01f;
    cfg->optimizer.beta1 = 0.9f;
    cfg->optimizer.beta2 = 0.999f;
    cfg->optimizer.eps = 1e-8f;
    cfg->optimizer.clip_norm = 1.0f;
    cfg->train.epochs = 1;
    cfg->train.microbatches = 1;
}

/* 256 samples of 20 features, labels 0..3; `variant` changes every feature. Free with
 * dt_dataset_free. */
static void small_net_data(dt_dataset *data, int variant) {
    memset(data, 0, sizeof *data);
    data->n_samples = 256;
    data->n_features = 20;
    data->features = malloc(sizeof(float) * 256 * 20);
    data->labels = malloc(sizeof(int32_t) * 256);
    for (int i = 0; i < 256 * 20; i++) data->features[i] = (float)((i * (37 + variant)) % 101) / 101.0f - 0.5f;
    for (int i = 0; i < 256; i++) data->labels[i] = i % 4;
}

#endif
