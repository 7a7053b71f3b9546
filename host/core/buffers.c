/* buffers.c — the host state, the buffer layout and the microbatch tree's bookkeeping. */
#include "buffers.h"

#include <stdlib.h>
#include <string.h>

dt_status dt_host_state_alloc(dt_host_state *state, const dt_net *net, dt_error *err) {
    size_t n = (size_t)net->n_params;
    state->params = calloc(n, sizeof(float));
    state->opt_m = calloc(n, sizeof(float));
    state->opt_v = calloc(n, sizeof(float));
    if (!state->params || !state->opt_m || !state->opt_v) {
        dt_host_state_free(state);
        return dt_fail(err, DT_NOMEM, "out of memory for %zu parameters", n);
    }
    return DT_OK;
}

void dt_host_state_free(dt_host_state *state) {
    free(state->params);
    free(state->opt_m);
    free(state->opt_v);
    state->params = state->opt_m = state->opt_v = NULL;
}

void dt_net_layout_of(const dt_net *net, const dt_config *cfg, dt_net_layout *layout) {
    memset(layout, 0, sizeof *layout);
    layout->max_batch = cfg->train.batch_size > cfg->train.eval_batch_size ? cfg->train.batch_size
                                                                           : cfg->train.eval_batch_size;
    const int64_t rows = layout->max_batch;
    int64_t total = 0;
    for (int l = 0; l < net->n_layers; l++) {
        layout->z_offset[l] = total;
        total += rows * net->layers[l].n_out;
        layout->y_offset[l] = total;
        total += rows * net->layers[l].n_out;
    }
    layout->act_floats = total;
    layout->tree_depth = dt_grad_tree_depth(cfg->train.microbatches);
}

dt_backend_settings dt_backend_settings_of(const dt_config *cfg) {
    dt_backend_settings s = {cfg->seed, cfg->optimizer.kind, cfg->optimizer.clip_norm, cfg->train.eval_batch_size,
                             cfg->runtime.tf32};
    return s;
}

int dt_grad_tree_depth(int32_t microbatches) {
    if (microbatches <= 1) return 0;
    int depth = 1;
    while ((1 << (depth - 1)) < microbatches && depth < DT_GRAD_TREE_MAX) depth++;
    return depth;
}

void dt_grad_tree_init(dt_grad_tree *tree, int32_t microbatches) {
    memset(tree, 0, sizeof *tree);
    tree->microbatches = microbatches;
    tree->depth = dt_grad_tree_depth(microbatches);
}

dt_status dt_grad_tree_push(dt_grad_tree *tree, int *slot, dt_error *err) {
    if (tree->top >= tree->depth)
        return dt_fail(err, DT_INTERNAL, "grads_push: more microbatches than train.microbatches = %d",
                       tree->microbatches);
    *slot = tree->top;
    tree->leaves[tree->top++] = 1;
    return DT_OK;
}

int dt_grad_tree_merge(dt_grad_tree *tree, int *dst, int *src) {
    if (tree->top < 2 || tree->leaves[tree->top - 1] != tree->leaves[tree->top - 2]) return 0;
    *dst = tree->top - 2;
    *src = tree->top - 1;
    tree->leaves[tree->top - 2] *= 2;
    tree->top--;
    return 1;
}

dt_status dt_grad_tree_pop(dt_grad_tree *tree, dt_error *err) {
    if (tree->top != 1)
        return dt_fail(err, DT_INTERNAL, "grads_pop: %d partial sums left (the microbatch count is not a power of two)",
                       tree->top);
    tree->top = 0;
    return DT_OK;
}
