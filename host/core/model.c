/* model.c — layer table, deterministic initialisation, parameter digest. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "rng.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "parameter digests assume a little-endian host");

/* Parameters of the whole model the config describes (at most ~2^49: no overflow). */
static int64_t count_params(const dt_config *cfg) {
    int64_t count = 0, n_in = cfg->model.input_size;
    for (int l = 0; l < cfg->model.n_layers; l++) {
        count += (n_in + 1) * cfg->model.layers[l].units;
        n_in = cfg->model.layers[l].units;
    }
    return count;
}

dt_status dt_net_build(dt_net *net, const dt_config *cfg, dt_error *err) {
    memset(net, 0, sizeof *net);
    net->input_size = cfg->model.input_size;
    net->n_layers = cfg->model.n_layers;
    net->loss = cfg->loss.kind;
    net->max_width = cfg->model.input_size;
    int64_t offset = 0;
    int32_t n_in = cfg->model.input_size;
    for (int l = 0; l < cfg->model.n_layers; l++) {
        dt_layer *layer = &net->layers[l];
        const dt_layer_config *lc = &cfg->model.layers[l];
        snprintf(layer->name, sizeof layer->name, "dense%d", l);
        layer->n_in = n_in;
        layer->n_out = lc->units;
        layer->activation = (int)lc->activation;
        layer->dropout = lc->dropout;
        layer->weight_offset = offset;
        offset += (int64_t)layer->n_in * layer->n_out;
        layer->bias_offset = offset;
        offset += layer->n_out;
        if (offset > DT_MAX_PARAMS)
            return dt_fail(err, DT_CONFIG, "config.model.layers[%d]: the model has %lld parameters, more than the "
                           "limit of %lld (2^40)", l, (long long)count_params(cfg), (long long)DT_MAX_PARAMS);
        if (lc->units > net->max_width) net->max_width = lc->units;
        n_in = lc->units;
    }
    net->n_params = offset;
    net->n_outputs = n_in;
    return DT_OK;
}

void dt_net_init_params(const dt_net *net, float *params, uint64_t seed, dt_init_kind init) {
    for (int l = 0; l < net->n_layers; l++) {
        const dt_layer *layer = &net->layers[l];
        /* Tensor index 2l: the weight of layer l (2l + 1 is reserved for its bias). */
        const dt_philox_key key = dt_rng_key(seed, DT_RNG_INIT, (uint32_t)(2 * l));
        const float fan_in = (float)layer->n_in, fan_sum = (float)layer->n_in + (float)layer->n_out;
        float *weight = params + layer->weight_offset;
        const int64_t n = (int64_t)layer->n_in * layer->n_out;
        switch (init) {
        case DT_INIT_HE_NORMAL:
        case DT_INIT_GLOROT_NORMAL: {
            const float std = sqrtf(2.0f / (init == DT_INIT_HE_NORMAL ? fan_in : fan_sum));
            for (int64_t e = 0; e < n; e++) weight[e] = dt_rng_init_normal(key, (uint64_t)e) * std;
            break;
        }
        default: {
            const float limit = sqrtf(6.0f / (init == DT_INIT_HE_UNIFORM ? fan_in : fan_sum));
            for (int64_t e = 0; e < n; e++) {
                const float u = dt_rng_init_uniform(key, (uint64_t)e);
                weight[e] = (2.0f * u - 1.0f) * limit;
            }
            break;
        }
        }
        memset(params + layer->bias_offset, 0, (size_t)layer->n_out * sizeof(float));
    }
}

void dt_params_sha256(const dt_net *net, const float *params, char hex[65]) {
    /* The flat buffer is already layer by layer, weights then bias; x86-64 and every
     * supported GPU host are little-endian, so its bytes are the digest's input. */
    dt_sha256_hex(params, (size_t)net->n_params * sizeof(float), hex);
}

int64_t dt_net_macs_per_sample(const dt_net *net) {
    int64_t macs = 0;
    for (int l = 0; l < net->n_layers; l++) macs += (int64_t)net->layers[l].n_in * net->layers[l].n_out;
    return macs;
}
