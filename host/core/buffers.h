/* buffers.h — the buffers of a run in the flat layout of model.h, as every part derives them
 * from the net and the config, written once: the training state's host copy (which backends
 * upload and download and checkpoints hold), the shapes of a backend's activation buffers, and
 * the microbatch tree's order of additions.
 *
 * A backend allocates its buffers (host or device memory) and does the arithmetic; the
 * offsets, the row count and the tree's bookkeeping are the same for all of them, so they live
 * here and the backends agree by construction. */
#ifndef DT_BUFFERS_H
#define DT_BUFFERS_H

#include <stdint.h>

#include "config.h"
#include "model.h"
#include "status.h"

/* The training state in host memory. */
typedef struct {
    float *params;              /* (n_params) */
    float *opt_m;               /* (n_params) sgd momentum buffer / adam first moment */
    float *opt_v;               /* (n_params) adam second moment (zeros for sgd) */
} dt_host_state;

/* Allocates a zeroed host state for the net; DT_NOMEM on failure (nothing left allocated). */
dt_status dt_host_state_alloc(dt_host_state *state, const dt_net *net, dt_error *err);
/* Frees and NULLs the three buffers; a zeroed state is fine. */
void dt_host_state_free(dt_host_state *state);

/* The activation buffers of a net for a config. */
typedef struct {
    int32_t max_batch;                 /* rows they hold: the larger of train.batch_size and
                                          train.eval_batch_size */
    int64_t z_offset[DT_MAX_LAYERS];   /* layer l's z (max_batch, n_out) before its activation */
    int64_t y_offset[DT_MAX_LAYERS];   /* layer l's y (max_batch, n_out) after it (and dropout) */
    int64_t act_floats;                /* every layer's z and y: floats of the one buffer */
    int tree_depth;                    /* the microbatch tree's partial sums (n_params floats
                                          each); 0 without microbatches */
} dt_net_layout;

/* The layout of net's buffers for cfg's batch sizes and microbatches. */
void dt_net_layout_of(const dt_net *net, const dt_config *cfg, dt_net_layout *layout);

/* What a backend keeps of the config: the scalars its step and evaluation read. The config
 * itself (~73 KB with its --set texts) stays with the caller and is never copied by a backend. */
typedef struct {
    uint64_t seed;                     /* the key of the dropout masks */
    dt_optimizer_kind optimizer;
    float clip_norm;                   /* clip by the global gradient norm; 0 = off */
    int32_t eval_batch;                /* rows per evaluation batch */
    bool tf32;                         /* runtime.tf32: cuBLAS may use TF32 in deterministic mode */
} dt_backend_settings;

/* The settings a backend keeps of cfg. */
dt_backend_settings dt_backend_settings_of(const dt_config *cfg);

/* Partial sums the microbatch tree needs for `microbatches` leaves (a power of two, <= 2^16:
 * config.c): a binary counter over 2^k leaves stacks at most k + 1; 0 for one microbatch. */
int dt_grad_tree_depth(int32_t microbatches);

/* The microbatch tree (docs/numerics.md, "Microbatches and ranks"): the gradients of a step's
 * microbatches added as a balanced pairwise tree over microbatch index, kept as a binary
 * counter of partial sums. Equal-sized subtrees are added left + right as soon as both exist,
 * so the order of additions is fixed by the count alone. */
#define DT_GRAD_TREE_MAX 24
typedef struct {
    int32_t microbatches;              /* leaves per step (train.microbatches) */
    int depth;                         /* partial sums there is room for */
    int top;                           /* partial sums stacked: slots 0 .. top-1 */
    int64_t leaves[DT_GRAD_TREE_MAX];  /* leaves under each stacked partial sum */
} dt_grad_tree;

/* An empty tree for `microbatches` leaves per step. */
void dt_grad_tree_init(dt_grad_tree *tree, int32_t microbatches);

/* Takes one more leaf: the caller copies the microbatch's gradient into partial sum *slot,
 * then adds as dt_grad_tree_merge says. DT_INTERNAL when the tree is full (more leaves than
 * train.microbatches). */
dt_status dt_grad_tree_push(dt_grad_tree *tree, int *slot, dt_error *err);

/* After a push: 1 when the two newest partial sums are equal subtrees, which the caller must
 * add as dst = dst + src (one rounding per element); call again until it returns 0. */
int dt_grad_tree_merge(dt_grad_tree *tree, int *dst, int *src);

/* Ends a step's tree: partial sum 0 is its gradient (the caller copies it); the tree is empty
 * again. DT_INTERNAL unless exactly one partial sum is left (the count pushed was not a power
 * of two). */
dt_status dt_grad_tree_pop(dt_grad_tree *tree, dt_error *err);

#endif
