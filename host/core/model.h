/* model.h — a feed-forward network: layer shapes and views into one flat parameter buffer.
 *
 * Parameters are one float buffer, layer by layer, each layer's weights (out, in)
 * row-major then its bias (out). Gradients and optimizer moments use the same layout,
 * so zeroing, the optimizer step, checkpoints and the digest each touch one buffer. */
#ifndef DT_MODEL_H
#define DT_MODEL_H

#include <stdint.h>

#include "config.h"
#include "status.h"

typedef struct {
    char name[16];            /* "dense0", "dense1", ... */
    int32_t n_in, n_out;
    int activation;           /* dt_activation */
    float dropout;
    int64_t weight_offset;    /* weight (n_out, n_in) at params + weight_offset */
    int64_t bias_offset;      /* bias (n_out) at params + bias_offset */
} dt_layer;

typedef struct {
    int32_t input_size;
    int32_t n_layers;
    dt_layer layers[DT_MAX_LAYERS];
    int64_t n_params;
    int32_t n_outputs;
    int32_t max_width;        /* widest layer, input included */
    dt_loss_kind loss;
} dt_net;

/* The most parameters a model may have: 2^40 (4 TiB as float32).
 * A sanity bound chosen so that every count derived from it — the state's bytes times the
 * buffers a run keeps (check_memory in train.c), offsets into the flat buffers — stays far
 * inside int64 and size_t, where the config's own ranges (input_size <= 2^24, units <= 2^20,
 * 32 layers) would allow about 2^49. */
#define DT_MAX_PARAMS ((int64_t)1 << 40)

/* Builds the layer table from a validated config. DT_CONFIG naming the layer where the count
 * passes DT_MAX_PARAMS, with the model's whole count and the limit. */
dt_status dt_net_build(dt_net *net, const dt_config *cfg, dt_error *err);

/* Fills params (n_params floats): weights from Philox keyed (seed, init, tensor index),
 * element-indexed, scaled per `init`; biases zero. Same bits on every machine. */
void dt_net_init_params(const dt_net *net, float *params, uint64_t seed, dt_init_kind init);

/* SHA-256 of the parameters as little-endian float32, layer by layer, weights then bias. */
void dt_params_sha256(const dt_net *net, const float *params, char hex[65]);

/* Number of multiply-adds of one sample's forward pass (for FLOP counts). */
int64_t dt_net_macs_per_sample(const dt_net *net);

#endif
