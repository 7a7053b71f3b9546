/* backend.h — the one interface the training loop drives, implemented for the CPU
 * (backend_cpu.c) and for CUDA (backend_cuda.cu). The host never branches on the device: it
 * picks a table once (dt_backend_select), and what it needs to know about the device (memory,
 * SIMD path, GPU, a line for the user) the table tells it.
 *
 * The backend owns the parameters, gradients, optimizer state and a resident copy of
 * the data; a step gets only sample indices and the step's scalars, and returns the
 * loss. State moves to and from the host only for checkpoints and digests. */
#ifndef DT_BACKEND_H
#define DT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/buffers.h"
#include "comm/comm.h"
#include "core/config.h"
#include "data/data.h"
#include "core/model.h"
#include "optim_rules.h"
#include "records/optrace.h"
#include "records/sysinfo.h"
#include "core/status.h"

/* One training step. */
typedef struct {
    const int64_t *sample_index; /* (batch) rows of the training set, in batch order (host memory) */
    int64_t order_offset;        /* the same rows as order[order_offset ..] of set_order, or -1 */
    int32_t batch;
    float loss_divisor;          /* the loss gradient's divisor: the global batch (a microbatch's
                                    gradient is its share of the global batch's); 0 = batch */
    uint64_t step;               /* 0-based global step: dropout counters */
    dt_optim_scalars scalars;    /* lr, bias corrections, ...; grad_scale is set by the backend */
} dt_step_desc;

typedef struct {
    float loss_sum;              /* sum of the rows' losses in the contract's block order */
    float loss;                  /* loss_sum / loss_divisor: the batch's mean loss */
    int64_t correct;             /* classification: rows whose argmax is the label */
    float grad_norm;             /* global gradient L2 norm before clipping */
} dt_step_result;

typedef struct {
    double loss;                 /* mean per-sample loss (fixed-order float sum / n) */
    int64_t correct, n_samples;  /* accuracy = correct / n_samples (classification) */
} dt_eval_result;

/* Work a GPU backend submitted (kernels/cuda/counts.h): kernels, library calls (cuBLAS),
 * copies and memsets, host waits; CUDA graphs launched, and graph_nodes: of the kernels,
 * library calls and copies, those the graphs submitted (the host's own calls are the rest,
 * plus one a graph). */
typedef struct {
    uint64_t kernels, library_calls, copies, syncs;
    uint64_t graphs, graph_nodes;
} dt_work_counts;

typedef struct dt_backend dt_backend;

/* The datasets a backend holds, by index (evaluate's `which`). */
enum { DT_SET_TRAIN = 0, DT_SET_TEST = 1, DT_SET_VALIDATION = 2, DT_N_SETS = 3 };

/* Steps whose results a backend keeps until they are collected. */
#define DT_RESULT_LOG 1024

typedef struct {
    const char *name;            /* "cpu", "cuda" */
    /* Bytes of host memory create allocates for the net and config, so that a run too big for
     * the machine is refused before anything is allocated; NULL when the backend's buffers are
     * not in host memory (a GPU's own memory is its allocator's to refuse). */
    int64_t (*host_bytes)(const dt_net *net, const dt_config *cfg);
    /* Creates a backend for the net and config (threads, mode); buffers sized for the
     * config's batch sizes. */
    dt_status (*create)(dt_backend **out, const dt_net *net, const dt_config *cfg, dt_error *err);
    /* Makes the datasets resident (copies; the host may free its own afterwards); validation
     * may be NULL (no validation set). */
    dt_status (*set_data)(dt_backend *be, const dt_dataset *train, const dt_dataset *test,
                          const dt_dataset *validation, dt_error *err);
    /* Uploads / downloads parameters and optimizer state. */
    dt_status (*set_state)(dt_backend *be, const dt_host_state *state, dt_error *err);
    dt_status (*get_state)(dt_backend *be, dt_host_state *state, dt_error *err);
    /* Forward, loss and backward only; the gradients stay in the backend (tests, and the
     * exchange of gradients between ranks). result->grad_norm is not set. */
    dt_status (*gradients)(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err);
    /* Copies the gradients (n_params floats, flat layout) to host memory. */
    dt_status (*get_grads)(dt_backend *be, float *grads, dt_error *err);
    /* The epoch's order of training samples (n indices), before its first step. Backends
     * whose memory is not the host's keep a copy, so a step sends no indices. */
    dt_status (*set_order)(dt_backend *be, const int64_t *order, int64_t n, dt_error *err);
    /* Forward, loss, backward, clipping, optimizer update for one batch. With result NULL
     * the step does not wait for the device: its result is kept (the last DT_RESULT_LOG
     * steps) until collect_results. */
    dt_status (*train_step)(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err);
    /* The microbatch tree's partial sums (docs/numerics.md, "Microbatches and ranks"): the
     * layout's tree_depth buffers of n_params floats (buffers.h), by slot. grads_save copies
     * the gradient into a slot, grads_add adds slot src into slot dst (dst + src, one rounding
     * per element), grads_load makes a slot the gradient. Which slots, and when, is the host's
     * dt_grad_tree: dt_backend_grads_push and dt_backend_grads_pop below. */
    dt_status (*grads_save)(dt_backend *be, int slot, dt_error *err);
    dt_status (*grads_add)(dt_backend *be, int dst, int src, dt_error *err);
    dt_status (*grads_load)(dt_backend *be, int slot, dt_error *err);
    /* Replaces the gradient on every rank by its sum over ranks in the fixed tree (comm.h). */
    dt_status (*reduce_grads)(dt_backend *be, dt_comm *comm, dt_error *err);
    /* Readies reduce_grads before the first step of a run of several ranks (a communicator,
     * buffers), so no step allocates and a rank that cannot join fails first. Every rank calls
     * it (it may be collective). NULL: reduce_grads needs nothing made in advance. */
    dt_status (*join_ranks)(dt_backend *be, dt_comm *comm, dt_error *err);
    /* Clipping and the optimizer update with the current gradient (after gradients, or the
     * tree of microbatches and ranks); sets result->grad_norm when clipping. */
    dt_status (*apply_update)(dt_backend *be, const dt_optim_scalars *scalars, dt_step_result *result, dt_error *err);
    /* Waits for the device and copies the results of the last `count` steps (count <=
     * DT_RESULT_LOG), oldest first. */
    dt_status (*collect_results)(dt_backend *be, dt_step_result *results, int count, dt_error *err);
    /* Loss and accuracy on one of the sets of set_data (which: DT_SET_TRAIN, DT_SET_TEST,
     * DT_SET_VALIDATION). */
    dt_status (*evaluate)(dt_backend *be, int which, dt_eval_result *result, dt_error *err);
    /* Fills the record's description of a GPU backend's device (records/sysinfo.h); NULL for
     * the CPU backend. */
    void (*gpu_info)(dt_backend *be, dt_gpu_info *info);
    /* The host CPU's SIMD path the kernels take ("avx512"), for the record; NULL for a backend
     * whose kernels do not run on the host's CPU. */
    const char *(*simd)(dt_backend *be);
    /* One line saying what runs: "cpu (avx512, 2 threads)". */
    void (*describe)(dt_backend *be, char *buf, size_t size);
    void (*destroy)(dt_backend *be);
    /* Benchmarks (optional; NULL: the host's monotonic clock around calls that return when
     * their work is done). timing_begin marks the start of a timed region in the device's
     * queue; timing_end marks its end, waits for it and gives the seconds between the two
     * marks as the device measured them (CUDA events). */
    dt_status (*timing_begin)(dt_backend *be, dt_error *err);
    dt_status (*timing_end)(dt_backend *be, double *seconds, dt_error *err);
    /* What the backend has submitted to its device so far (optional; NULL: it submits
     * nothing, the CPU backend): read before and after steps, the work they submitted. */
    void (*work_counts)(dt_backend *be, dt_work_counts *counts);
    /* Hands every operation's output of the steps the trace records (or perturbs) to it
     * (records/optrace.h), in execution order: gradients' forward, loss and backward, and
     * apply_update's gradient, norm and updated state; NULL stops. Traced steps may run slower
     * (a device backend copies each output out, kernel by kernel). The host reports the state
     * entering each step and the microbatch. */
    void (*set_trace)(dt_backend *be, dt_op_trace *trace);
} dt_backend_ops;

/* The CPU implementation. */
extern const dt_backend_ops dt_cpu_backend;
/* The CUDA implementation (builds with DT_HAVE_CUDA only). */
extern const dt_backend_ops dt_cuda_backend;

/* The GPU a rank takes when the config names none (runtime.gpu -1): the one device this
 * process sees when CUDA_VISIBLE_DEVICES lists exactly one (Slurm's --gpus-per-task=1 binds
 * each task to its own GPU, seen as device 0 whatever the task's local rank), else the GPU of
 * its local rank. */
int dt_backend_default_gpu(int local_rank);

/* The backend for a device setting: cpu, cuda, or auto (cuda when GPU `gpu_index` exists and
 * has a kernel image in this build, else cpu, saying why in `note`). DT_DEVICE when cuda is
 * asked for and that GPU is unusable, or when auto finds GPUs but not this process's (more
 * ranks on the machine than GPUs). */
dt_status dt_backend_select(dt_device_kind device, int gpu_index, const dt_backend_ops **ops, char *note,
                            size_t note_size, dt_error *err);

/* After `gradients` for the next microbatch of a step: adds its gradient to the tree (made with
 * the backend's train.microbatches), in dt_grad_tree's order. DT_INTERNAL when the tree is
 * full; a backend's failure as it says. */
dt_status dt_backend_grads_push(const dt_backend_ops *ops, dt_backend *be, dt_grad_tree *tree, dt_error *err);

/* After a step's last microbatch: the finished tree becomes the gradient, and the tree is empty
 * again. DT_INTERNAL unless exactly one partial sum is left (a count that is not a power of
 * two). */
dt_status dt_backend_grads_pop(const dt_backend_ops *ops, dt_backend *be, dt_grad_tree *tree, dt_error *err);

#endif
