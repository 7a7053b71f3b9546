/* optrace.h — per-operation digests of training steps (detrain bisect, train/resume --dump-ops).
 *
 * While a step is traced, the backend hands every operation's output to the trace as it
 * computes it (forward products, activations, dropout, losses, backward products and sums, the
 * step's gradient, the norm, the updated state), in execution order; the host adds the state
 * entering the step. The trace keeps each output's SHA-256, and its values for the steps asked,
 * so two traces of the same step name the first operation whose output differs.
 *
 * An operation is named "[mbK/M.][layerL.]kind.tensor": "mb0/2.layer1.linear.z" is layer 1's
 * forward product of microbatch 0 of 2, "layer0.gradient.bias" the step's gradient of layer 0's
 * bias (after the microbatch tree), "update.grad_norm" the clipping norm. Each kind has one
 * documented order (docs/numerics.md), given by dt_op_kind_order.
 *
 * A trace can also change one output by one ULP (DETRAIN_TEST_PERTURB, a test-only fault that
 * stands for an altered kernel): "OP@STEP" or "OP@STEP:BACKEND". */
#ifndef DT_OPTRACE_H
#define DT_OPTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "core/status.h"

typedef struct cJSON cJSON;

/* X(ID, name, documented order) */
#define DT_OP_KINDS(X)                                                                                          \
    X(STATE, "state", "the parameters and optimizer moments entering the step (numerics.md §6)")                \
    X(LINEAR, "linear", "z = x·Wᵀ, one ascending-k fmaf chain per output from +0, then + bias (numerics.md §2)") \
    X(ACTIVATION, "activation", "y = f(z) per element (numerics.md §3)")                                         \
    X(DROPOUT, "dropout", "Philox4x32-10 mask by (layer, step, sample, unit), inverted scaling (numerics.md §3, §8)") \
    X(LOSS, "loss", "per-row loss and its gradient, j ascending (numerics.md §5)")                               \
    X(LOSS_SUM, "loss_sum", "row losses in blocks of 1024, ascending (numerics.md §4)")                          \
    X(ACT_BACKWARD, "activation_backward", "dz = dy · f'(z), masked and scaled as dropout (numerics.md §3)")      \
    X(WEIGHT_GRAD, "weight_grad", "dW = dzᵀ·x, one ascending-b fmaf chain per element (numerics.md §2)")          \
    X(BIAS_GRAD, "bias_grad", "db[n] = Σ_b dz[b][n], b ascending from +0 (numerics.md §4)")                       \
    X(INPUT_GRAD, "input_grad", "dx = dz·W, one ascending-n fmaf chain per element (numerics.md §2)")             \
    X(GRADIENT, "gradient", "the step's gradient: the microbatch tree, then the ranks' tree (numerics.md §10)")   \
    X(GRAD_NORM, "grad_norm", "blocks of 1024 fmaf chains, block sums ascending, sqrtf (numerics.md §4)")        \
    X(UPDATE, "update", "the optimizer rule per element (numerics.md §6)")

#define DT_OP_ENUM(id, name, order) DT_OP_##id,
typedef enum { DT_OP_KINDS(DT_OP_ENUM) DT_OP_N_KINDS } dt_op_kind;
#undef DT_OP_ENUM

/* The kind's name ("linear") and its documented order. */
const char *dt_op_kind_name(dt_op_kind kind);
const char *dt_op_kind_order(dt_op_kind kind);

/* One operation's output. */
typedef struct {
    char name[96];                /* "mb0/2.layer1.linear.z" */
    dt_op_kind kind;
    int64_t count;                /* floats */
    char sha256[65];              /* of the float32 bytes (little-endian) */
    float *values;                /* (count) kept values, or NULL */
} dt_op_record;

/* One traced step's operations, in execution order. */
typedef struct {
    int64_t step;                 /* 1-based global step */
    int n_ops, cap;
    dt_op_record *ops;
} dt_op_step;

typedef struct {
    int64_t first, last;          /* steps recorded (1-based, inclusive); last < first: none */
    int64_t values_first, values_last; /* of those, the steps whose values are kept ... */
    int64_t values_budget;        /* ... up to this many bytes in all, the newest steps' (0: no limit) */
    int64_t values_bytes;         /* bytes of values kept */
    char perturb_op[96];          /* the test-only fault: this op's element 0 one ULP up ... */
    int64_t perturb_step;         /* ... at this step (0: no fault) ... */
    char perturb_backend[16];     /* ... on this backend ("": any) */
    const char *backend;          /* the backend running the steps (set by the host) */
    int64_t step;                 /* the step running now */
    int recording, perturbing;    /* this step is recorded / may be perturbed */
    int microbatch, microbatches; /* the microbatch running now (of 1 when none) */
    int out_of_memory;            /* a record could not be kept (dt_op_trace_status) */
    int n_steps, cap_steps;
    dt_op_step *steps;
} dt_op_trace;

/* An empty trace recording steps [first, last] with values for [values_first, values_last]. */
void dt_op_trace_init(dt_op_trace *t, int64_t first, int64_t last, int64_t values_first, int64_t values_last);

/* Frees what the trace recorded (it stays usable, empty). */
void dt_op_trace_free(dt_op_trace *t);

/* Sets the test-only fault from "OP@STEP[:BACKEND]" (DETRAIN_TEST_PERTURB); DT_USAGE naming
 * the text when malformed. */
dt_status dt_op_trace_set_perturbation(dt_op_trace *t, const char *spec, dt_error *err);

/* The fault as "OP@STEP[:BACKEND]" into out ("" when none). */
void dt_op_trace_perturbation_text(const dt_op_trace *t, char *out, size_t size);

/* Called by the host before a step (1-based): starts its record when it is traced. */
void dt_op_trace_begin_step(dt_op_trace *t, int64_t step);

/* Called by the host before each microbatch's gradients (k of m). */
void dt_op_trace_microbatch(dt_op_trace *t, int k, int m);

/* Whether the step running now is recorded or may be perturbed: a backend whose tensors are
 * not in host memory copies them out only then. NULL: no. */
int dt_op_trace_active(const dt_op_trace *t);

/* An operation's output (count floats in host memory): recorded when the step is, and changed
 * by one ULP when it is the fault's. Returns 1 when data was changed (a device backend then
 * copies it back), else 0. No-op (0) for a NULL or inactive trace. */
int dt_op_trace_see(dt_op_trace *t, dt_op_kind kind, int layer, const char *tensor, float *data, int64_t count);

/* dt_op_trace_see of every layer's weight and bias in a flat buffer of the net's layout, as
 * "layerL.kind.PREFIXweight" ("m." for the first moment); 1 when one was changed. */
int dt_op_trace_see_layers(dt_op_trace *t, dt_op_kind kind, const char *prefix, const dt_net *net, float *flat);

/* DT_NOMEM when a record could not be kept, else DT_OK. */
dt_status dt_op_trace_status(const dt_op_trace *t, dt_error *err);

/* The recorded step `step`, or NULL. */
const dt_op_step *dt_op_trace_find(const dt_op_trace *t, int64_t step);

/* Writes the trace as an op dump (JSON: "format", "meta" (owned by the caller, copied), the
 * steps' ops with digests and kept values in base64), atomically. DT_WRITE / DT_NOMEM. */
dt_status dt_op_trace_write(const dt_op_trace *t, const cJSON *meta, const char *path, dt_error *err);

/* Reads an op dump into t (freed first) and its "meta" into *meta (caller deletes).
 * DT_IO when unreadable; DT_CHECKPOINT (exit 2) naming the file and the JSON path when it is
 * not an op dump. */
dt_status dt_op_trace_read(const char *path, dt_op_trace *t, cJSON **meta, dt_error *err);

/* Where two traces first differ. */
typedef struct {
    int found;                    /* 0: identical on every step and operation both recorded */
    int64_t step;
    int index_a, index_b;         /* the op's place in each side's step */
    const dt_op_record *a, *b;    /* the differing records (NULL when one side lacks ops) */
    int64_t first_element;        /* with values: the first element that differs ... */
    int64_t n_differing;          /* ... how many differ ... */
    double max_abs;               /* ... the largest absolute difference ... */
    int64_t max_ulp;              /* ... and the largest distance in ULPs; -1 without values */
    int64_t steps_compared, ops_compared, ops_unmatched; /* ops_unmatched: named on one side only */
} dt_op_divergence;

/* A float's bits as an integer ordered like the floats, consecutive floats one apart (-0 one
 * below +0): the distance in ULPs of two floats is the difference of theirs. */
int64_t dt_float_ordered_bits(float x);

/* Compares the steps both traces recorded, in a's order, op by op by name (ops of a
 * microbatch split only one side has are skipped and counted). */
void dt_op_trace_compare(const dt_op_trace *a, const dt_op_trace *b, dt_op_divergence *d);

#endif
