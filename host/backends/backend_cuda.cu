/* backend_cuda.cu — the CUDA backend: the same interface as the CPU backend, three modes.
 *
 *   portable       detrain's kernels (kernels/cuda): the CPU's bits on any GPU
 *   deterministic  cuBLAS (TF32 off unless runtime.tf32, atomics off, fixed workspace, one
 *                  stream) for the products, detrain's fixed-order kernels for the rest
 *   fast           cuBLAS with TF32 tensor ops and atomics, tree sums for bias gradients
 *                  and losses (no more launches than deterministic)
 *
 * The datasets live on the GPU when they fit (else batches are gathered on the host into
 * pinned memory); the epoch's order is uploaded once per epoch. A step of one microbatch
 * on one rank (train_step) is one CUDA graph launch and copies nothing: the values that
 * change from step to step (the rows' place in the order, the dropout counter, the
 * optimizer's scalars) are read by its kernels from a table in mapped pinned memory that
 * the host fills (dt_cuda_step), so its launches are the same every step and are captured
 * once per batch shape and replayed; its result scalars stay in a device ring (step_out)
 * until collect_results brings the steps it asks for to the host in one or two copies (a
 * step that returns its result copies its own slot). Every CUDA and cuBLAS call, and every
 * launcher of kernels/cuda, is checked where it is made (DT_CUDA_TRY, DT_CUBLAS_TRY:
 * cuda_status.h) and reported with the call, file, line and device. All buffers are allocated at creation or set_data.
 *
 * Every operation — memsets, uploads, kernels, cuBLAS, downloads — goes on the backend's one
 * stream. It is a non-blocking stream, which the legacy default stream (cudaMemset,
 * cudaMemcpy) does not order against: a mix of the two is a race. The CPU emulator's ordering
 * check (tests/cudaemu) fails any such mix. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "backend.h"
#include "cuda/counts.h"
#include "cuda/cuda_info.h"
#include "core/optim.h"
#include "rng.h"
}
#include "comm/comm_nccl.h"
#include "cuda/kernels.h"
#include "core/cuda_status.h"

#define DT_CUBLAS_WORKSPACE (32u << 20)

/* The result slot of the synchronous calls (gradients, apply_update, evaluate): after the
 * DT_RESULT_LOG slots of deferred train_step results, which it must not overwrite. */
#define SYNC_SLOT DT_RESULT_LOG
/* Where a train_step's kernels write its result, which its last kernel copies to the
 * step's slot of the ring (the slot changes every step; this address does not). */
#define NOW_SLOT (DT_RESULT_LOG + 1)

/* Batch shapes (batch size, loss divisor) whose steps run as a captured graph: the config's
 * batch and an epoch's smaller last batch, with room; more shapes run launch by launch. */
#define STEP_GRAPHS 4

/* A training step's launches for one batch shape, captured as a CUDA graph. */
typedef struct {
    int32_t batch;
    float divisor;
    int64_t steps;              /* steps of this shape so far: the first runs eagerly (a warm-up) */
    cudaGraphExec_t exec;       /* captured and instantiated at the second */
    uint64_t counts[DT_CUDA_N_COUNTS]; /* what it submits at each launch (counts.h) */
} step_graph;


struct dt_backend {
    dt_net net;
    dt_backend_settings set;     /* the config's scalars it reads (dt_backend_settings_of) */
    dt_mode mode;
    int device;
    char device_text[256];
    cudaStream_t stream;
    cublasHandle_t cublas;
    void *cublas_workspace;
    dt_net_layout layout;       /* max_batch rows; each layer's z and y in acts */

    /* state, (n_params) each */
    float *params, *grads, *opt_m, *opt_v;
    float *acts;                /* (layout.act_floats) z and y of every layer */
    float *input;               /* (max_batch, input_size) gathered batch */
    float *delta_a, *delta_b;   /* (max_batch, max_width) */
    float *row_loss;            /* (max_batch) */
    int32_t *row_correct;       /* (max_batch) */
    float *norm_partial;        /* (n_params / DT_REDUCE_BLOCK + 1) */
    float *scale;               /* device scalar: the clipping factor */
    dt_cuda_step_result *step_out; /* (DT_RESULT_LOG + 2) device step results, then SYNC_SLOT, NOW_SLOT */
    float *eval_loss;           /* (max samples) */
    int32_t *eval_correct;      /* (max samples) */
    int64_t *order;             /* (n_train) the epoch's order */
    int order_set;              /* set_order was called */
    int64_t *index_scratch;     /* (max_batch) a train_step's rows (step_begin copies them from
                                   the order), or those of a step given without set_order */
    dt_cuda_step *step_table;   /* mapped pinned (DT_RESULT_LOG): train_step k's values at k % DT_RESULT_LOG */
    const dt_cuda_step *step_table_device; /* the same memory as the device addresses it */
    dt_cuda_step *step_now;     /* device: the running train_step's values (step_begin) */
    unsigned long long *step_counter; /* device: train_steps begun; its ring slot is this % DT_RESULT_LOG */

    /* data: features on the device when resident, else staged from host copies */
    int resident;
    float *features[DT_N_SETS]; /* by DT_SET_*; a validation set's stay NULL without one */
    int32_t *labels[DT_N_SETS];
    float *targets[DT_N_SETS];
    int64_t n_samples[DT_N_SETS];
    int32_t n_features, n_targets;
    float *host_features[DT_N_SETS]; /* host copies when not resident */
    float *staging;             /* pinned (max_batch, input_size) when not resident */

    dt_cuda_step_result *ring; /* pinned (DT_RESULT_LOG + 1): step_out's slots as last copied */
    int64_t steps_done;         /* train_steps submitted */
    int64_t steps_waited;       /* train_steps the host has waited for (their table entries are free) */
    int use_graphs;             /* DETRAIN_CUDA_GRAPHS is not 0 */
    step_graph graphs[STEP_GRAPHS];
    int n_graphs;

    float *tree_sum[DT_GRAD_TREE_MAX]; /* (layout.tree_depth) device buffers of n_params: the
                                          microbatch tree's partial sums, by slot */
    cudaEvent_t timing_start, timing_stop; /* benchmarks: the device's own clock */
    float slot_divisor[DT_RESULT_LOG + 1]; /* each ring slot's loss divisor (host side) */
    float *host_grads;          /* pinned (n_params): the rank exchange over MPI */
    int nccl_joined;            /* this backend made the NCCL communicator: destroy releases it */
    dt_op_trace *trace;         /* set_trace: the steps' operations are reported to it (no graphs), or NULL */
    float *trace_host;          /* (trace_floats) host copy of a traced output, made at its first use */
    size_t trace_floats;
};

/* ---- helpers -------------------------------------------------------------------------- */

/* Whether cuBLAS may use TF32 tensor ops: always in fast mode, in deterministic mode only
 * with runtime.tf32, never in portable mode (which does not use cuBLAS). */
static int uses_tf32(dt_mode mode, const dt_backend_settings *set) {
    return mode == DT_MODE_FAST || (mode == DT_MODE_DETERMINISTIC && set->tf32);
}

/* cudaMalloc of n elements of `size` bytes, zeroed on the backend's stream (never the legacy
 * stream: see the top of this file). On failure nothing stays allocated and *ptr is NULL. */
static dt_status alloc_zeroed(dt_backend *be, void **ptr, size_t n, size_t size, dt_error *err) {
    dt_status status = DT_OK;
    *ptr = NULL;
    DT_CUDA_TRY(cudaMalloc(ptr, n * size + 16));
    DT_CUDA_TRY(dt_cuda_fill(*ptr, 0, n * size + 16, be->stream));
    return DT_OK;
cleanup:
    if (*ptr) cudaFree(*ptr);
    *ptr = NULL;
    return status;
}

/* How cuBLAS reads a row-major operand X (rows, cols), element (r, c) at r·row + c·col, as a
 * column-major matrix: untransposed with leading dimension `row` when rows are contiguous
 * (col = 1), else transposed with leading dimension `col` (row = 1). cuBLAS requires a leading
 * dimension of at least the length it strides over, and a stride that a single row (or column)
 * never takes is free: an operand of one row, whose two strides may both be 1, gets its length
 * (the strides alone would make a (1, P) delta a transposed operand with ld 1, which cuBLAS
 * rejects: CUBLAS_STATUS_INVALID_VALUE). -1 when neither stride is 1. */
static int cublas_operand(int64_t rows, int64_t cols, int64_t row, int64_t col, cublasOperation_t *op, int *ld) {
    if (col == 1 && (rows == 1 || row >= cols)) {
        *op = CUBLAS_OP_N;
        *ld = (int)(rows == 1 ? (cols > 1 ? cols : 1) : row);
        return 0;
    }
    if (row == 1) {
        *op = CUBLAS_OP_T;
        *ld = (int)(cols == 1 ? (rows > 1 ? rows : 1) : col);
        return 0;
    }
    return -1;
}

/* C = A·B (+ epilogue) by the mode's route. */
static dt_status gemm(dt_backend *be, const dt_gemm_args *g, dt_error *err) {
    dt_status status = DT_OK;
    if (be->mode == DT_MODE_PORTABLE) {
        DT_CUDA_TRY(dt_cuda_gemm_portable(be->stream, g));
    } else {
        /* Row-major C (M, N) = A·B is column-major Cᵀ (N, M) = Bᵀ·Aᵀ: cuBLAS's first operand is
         * B (P, N), its second A (M, P). */
        const float one = 1.0f, zero = 0.0f;
        cublasOperation_t op_a, op_b;
        int ld_a, ld_b;
        if (cublas_operand(g->P, g->N, g->b_row, g->b_col, &op_b, &ld_b) != 0 ||
            cublas_operand(g->M, g->P, g->a_row, g->a_col, &op_a, &ld_a) != 0)
            return dt_fail(err, DT_DEVICE, "gemm: an operand without a unit stride, which cuBLAS cannot read");
        if (g->M > 0 && g->N > 0) {
            if (g->P == 0) {
                DT_CUDA_TRY(dt_cuda_fill(g->C, 0, (size_t)(g->M * g->ldc) * sizeof(float), be->stream));
            } else {
                dt_cuda_counted(DT_CUDA_LIBRARY_CALLS);
                DT_CUBLAS_TRY(cublasSgemm(be->cublas, op_b, op_a, (int)g->N, (int)g->M, (int)g->P, &one, g->B, ld_b,
                                          g->A, ld_a, &zero, g->C, (int)g->ldc));
            }
        }
        DT_CUDA_TRY(dt_cuda_bias_act(be->stream, g));
    }
cleanup:
    return status;
}

/* Forgets the captured steps: they hold the addresses of the data and the order. */
static void drop_graphs(dt_backend *be) {
    for (int i = 0; i < be->n_graphs; i++)
        if (be->graphs[i].exec) cudaGraphExecDestroy(be->graphs[i].exec);
    be->n_graphs = 0;
}

/* Frees what set_data made (datasets, their staging and evaluation buffers, the order), so a
 * second set_data starts clean and forgets the previous order and the steps captured with
 * them. Release paths ignore errors: nothing more can be done about them. */
static void release_data(dt_backend *be) {
    if (be->stream) dt_cuda_wait(be->stream);
    drop_graphs(be);
    for (int d = 0; d < DT_N_SETS; d++) {
        if (be->features[d]) cudaFree(be->features[d]);
        if (be->labels[d]) cudaFree(be->labels[d]);
        if (be->targets[d]) cudaFree(be->targets[d]);
        free(be->host_features[d]);
        be->features[d] = be->host_features[d] = be->targets[d] = NULL;
        be->labels[d] = NULL;
        be->n_samples[d] = 0;
    }
    void *device_ptrs[] = {be->eval_loss, be->eval_correct, be->order};
    for (size_t i = 0; i < sizeof device_ptrs / sizeof device_ptrs[0]; i++)
        if (device_ptrs[i]) cudaFree(device_ptrs[i]);
    if (be->staging) cudaFreeHost(be->staging);
    be->eval_loss = NULL;
    be->eval_correct = NULL;
    be->order = NULL;
    be->staging = NULL;
    be->order_set = 0;
    be->resident = 0;
}

static void cuda_destroy(dt_backend *be) {
    if (!be) return;
    release_data(be);
    void *device_ptrs[] = {be->params,   be->grads,       be->opt_m,        be->opt_v, be->acts,
                           be->input,    be->delta_a,     be->delta_b,      be->row_loss, be->row_correct,
                           be->norm_partial, be->scale,        be->step_out, be->index_scratch,
                           be->step_now, be->step_counter, be->cublas_workspace};
    for (size_t i = 0; i < sizeof device_ptrs / sizeof device_ptrs[0]; i++)
        if (device_ptrs[i]) cudaFree(device_ptrs[i]);
    for (int i = 0; i < be->layout.tree_depth; i++)
        if (be->tree_sum[i]) cudaFree(be->tree_sum[i]);
    if (be->host_grads) cudaFreeHost(be->host_grads);
    free(be->trace_host);
    if (be->nccl_joined) dt_cuda_nccl_release();
    if (be->ring) cudaFreeHost(be->ring);
    if (be->step_table) cudaFreeHost(be->step_table);
    if (be->timing_start) cudaEventDestroy(be->timing_start);
    if (be->timing_stop) cudaEventDestroy(be->timing_stop);
    if (be->cublas) cublasDestroy(be->cublas);
    if (be->stream) cudaStreamDestroy(be->stream);
    free(be);
}

/* The buffers of the state, of one batch of layout.max_batch rows and the microbatch tree's
 * partial sums, zeroed, in this order. */
static dt_status alloc_buffers(dt_backend *be, dt_error *err) {
    const dt_net *net = &be->net;
    const size_t n_params = (size_t)net->n_params, rows = (size_t)be->layout.max_batch;
    const struct {
        void **ptr;
        size_t n, size;
    } buffers[] = {
        {(void **)&be->params, n_params, sizeof(float)},
        {(void **)&be->grads, n_params, sizeof(float)},
        {(void **)&be->opt_m, n_params, sizeof(float)},
        {(void **)&be->opt_v, n_params, sizeof(float)},
        {(void **)&be->acts, (size_t)be->layout.act_floats, sizeof(float)},
        {(void **)&be->input, rows * (size_t)net->input_size, sizeof(float)},
        {(void **)&be->delta_a, rows * (size_t)net->max_width, sizeof(float)},
        {(void **)&be->delta_b, rows * (size_t)net->max_width, sizeof(float)},
        {(void **)&be->row_loss, rows, sizeof(float)},
        {(void **)&be->row_correct, rows, sizeof(int32_t)},
        {(void **)&be->norm_partial, n_params / DT_REDUCE_BLOCK + 1, sizeof(float)},
        {(void **)&be->scale, 1, sizeof(float)},
        {(void **)&be->step_out, DT_RESULT_LOG + 2, sizeof(dt_cuda_step_result)},
        {(void **)&be->index_scratch, rows, sizeof(int64_t)},
        {(void **)&be->step_now, 1, sizeof(dt_cuda_step)},
        {(void **)&be->step_counter, 1, sizeof(unsigned long long)},
    };
    dt_status status = DT_OK;
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        DT_TRY(alloc_zeroed(be, buffers[i].ptr, buffers[i].n, buffers[i].size, err));
    for (int i = 0; i < be->layout.tree_depth; i++)
        DT_TRY(alloc_zeroed(be, (void **)&be->tree_sum[i], n_params, sizeof(float), err));
cleanup:
    return status;
}

/* The device, stream and cuBLAS handle, its workspace and math modes for the run's mode. */
static dt_status start_device(dt_backend *be, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(cudaSetDevice(be->device));
    DT_CUDA_TRY(cudaStreamCreateWithFlags(&be->stream, cudaStreamNonBlocking));
    DT_CUBLAS_TRY(cublasCreate(&be->cublas));
    DT_CUBLAS_TRY(cublasSetStream(be->cublas, be->stream));
    DT_CUDA_TRY(cudaMalloc(&be->cublas_workspace, DT_CUBLAS_WORKSPACE));
    DT_CUBLAS_TRY(cublasSetWorkspace(be->cublas, be->cublas_workspace, DT_CUBLAS_WORKSPACE));
    DT_CUBLAS_TRY(cublasSetMathMode(be->cublas, uses_tf32(be->mode, &be->set) ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                             : CUBLAS_DEFAULT_MATH));
    DT_CUBLAS_TRY(cublasSetAtomicsMode(be->cublas, be->mode == DT_MODE_FAST ? CUBLAS_ATOMICS_ALLOWED
                                                                            : CUBLAS_ATOMICS_NOT_ALLOWED));
cleanup:
    return status;
}

static dt_status cuda_create(dt_backend **out, const dt_net *net, const dt_config *cfg, dt_error *err) {
    dt_status status = DT_OK;
    dt_backend *be = (dt_backend *)calloc(1, sizeof *be);
    if (!be) return dt_fail(err, DT_NOMEM, "out of memory creating the CUDA backend");
    be->net = *net;
    be->set = dt_backend_settings_of(cfg);
    be->mode = cfg->runtime.mode;
    be->device = cfg->runtime.gpu > 0 ? cfg->runtime.gpu : 0; /* train resolves -1 to the local rank */
    dt_net_layout_of(net, cfg, &be->layout);
    DT_TRY(start_device(be, err));
    DT_TRY(alloc_buffers(be, err));
    DT_CUDA_TRY(cudaHostAlloc((void **)&be->ring, (DT_RESULT_LOG + 1) * sizeof(dt_cuda_step_result),
                              cudaHostAllocDefault));
    /* mapped: the step kernels read it where it is */
    DT_CUDA_TRY(cudaHostAlloc((void **)&be->step_table, DT_RESULT_LOG * sizeof(dt_cuda_step), cudaHostAllocMapped));
    DT_CUDA_TRY(cudaHostGetDevicePointer((void **)&be->step_table_device, be->step_table, 0));
    {
        const char *graphs = getenv("DETRAIN_CUDA_GRAPHS");
        be->use_graphs = !(graphs && !strcmp(graphs, "0"));
    }
    if (dt_cuda_describe(be->device, be->device_text, sizeof be->device_text) != cudaSuccess)
        snprintf(be->device_text, sizeof be->device_text, "device %d", be->device);
    *out = be;
    return DT_OK;
cleanup:
    cuda_destroy(be);
    return status;
}

/* Uploads one dataset on the backend's stream: labels/targets always, features when resident.
 * The sources are pageable host memory, which CUDA stages before the call returns. */
static dt_status upload_dataset(dt_backend *be, int d, const dt_dataset *ds, dt_error *err) {
    dt_status status = DT_OK;
    const size_t n = (size_t)ds->n_samples, n_feat = n * (size_t)ds->n_features;
    be->n_samples[d] = ds->n_samples;
    if (be->resident) {
        DT_CUDA_TRY(cudaMalloc((void **)&be->features[d], n_feat * sizeof(float) + 16));
        DT_CUDA_TRY(dt_cuda_copy(be->features[d], ds->features, n_feat * sizeof(float), cudaMemcpyHostToDevice,
                                    be->stream));
    } else {
        be->host_features[d] = (float *)malloc(n_feat * sizeof(float) + 16);
        if (!be->host_features[d])
            return dt_fail(err, DT_DEVICE, "out of memory keeping %zu features on the host", n_feat);
        memcpy(be->host_features[d], ds->features, n_feat * sizeof(float));
    }
    if (ds->labels) {
        DT_CUDA_TRY(cudaMalloc((void **)&be->labels[d], n * sizeof(int32_t) + 16));
        DT_CUDA_TRY(dt_cuda_copy(be->labels[d], ds->labels, n * sizeof(int32_t), cudaMemcpyHostToDevice,
                                    be->stream));
    }
    if (ds->targets) {
        DT_CUDA_TRY(cudaMalloc((void **)&be->targets[d], n * (size_t)ds->n_targets * sizeof(float) + 16));
        DT_CUDA_TRY(dt_cuda_copy(be->targets[d], ds->targets, n * (size_t)ds->n_targets * sizeof(float),
                                    cudaMemcpyHostToDevice, be->stream));
    }
cleanup:
    return status;
}

static dt_status cuda_set_data(dt_backend *be, const dt_dataset *train, const dt_dataset *test,
                               const dt_dataset *validation, dt_error *err) {
    dt_status status = DT_OK;
    size_t free_bytes = 0, total_bytes = 0, need = 0, most = 0;
    const dt_dataset *sets[DT_N_SETS] = {train, test, validation};
    for (int d = 0; d < DT_N_SETS; d++) {
        if (!sets[d]) continue;
        need += (size_t)sets[d]->n_samples * (size_t)train->n_features * sizeof(float);
        if ((size_t)sets[d]->n_samples > most) most = (size_t)sets[d]->n_samples;
    }
    release_data(be); /* a second call replaces the data, and the order that indexed it */
    DT_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
    /* Keep a quarter of the free memory for everything else. */
    be->resident = need <= free_bytes / 4 * 3;
    be->n_features = train->n_features;
    be->n_targets = train->n_targets;
    for (int d = 0; d < DT_N_SETS; d++)
        if (sets[d]) DT_TRY(upload_dataset(be, d, sets[d], err));
    if (!be->resident)
        DT_CUDA_TRY(cudaHostAlloc((void **)&be->staging,
                                  (size_t)be->layout.max_batch * (size_t)be->n_features * sizeof(float),
                                  cudaHostAllocDefault));
    DT_TRY(alloc_zeroed(be, (void **)&be->eval_loss, most, sizeof(float), err));
    DT_TRY(alloc_zeroed(be, (void **)&be->eval_correct, most, sizeof(int32_t), err));
    DT_TRY(alloc_zeroed(be, (void **)&be->order, (size_t)train->n_samples, sizeof(int64_t), err));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
cleanup:
    return status;
}

/* Copies the three state buffers between host and device, on the backend's stream, and waits:
 * the host's buffers may change as soon as this returns. */
static dt_status copy_state(dt_backend *be, const dt_host_state *state, int to_device, dt_error *err) {
    dt_status status = DT_OK;
    const size_t bytes = (size_t)be->net.n_params * sizeof(float);
    float *dev[3] = {be->params, be->opt_m, be->opt_v};
    float *host[3] = {state->params, state->opt_m, state->opt_v};
    for (int i = 0; i < 3; i++) {
        if (to_device) DT_CUDA_TRY(dt_cuda_copy(dev[i], host[i], bytes, cudaMemcpyHostToDevice, be->stream));
        else DT_CUDA_TRY(dt_cuda_copy(host[i], dev[i], bytes, cudaMemcpyDeviceToHost, be->stream));
    }
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
cleanup:
    return status;
}

static dt_status cuda_set_state(dt_backend *be, const dt_host_state *state, dt_error *err) {
    return copy_state(be, state, 1, err);
}

static dt_status cuda_get_state(dt_backend *be, dt_host_state *state, dt_error *err) {
    return copy_state(be, (dt_host_state *)state, 0, err);
}

static dt_status cuda_set_order(dt_backend *be, const int64_t *order, int64_t n, dt_error *err) {
    dt_status status = DT_OK;
    if (n != be->n_samples[0]) return dt_fail(err, DT_INTERNAL, "set_order: %lld indices for %lld samples", (long long)n,
                                              (long long)be->n_samples[0]);
    DT_CUDA_TRY(dt_cuda_copy(be->order, order, (size_t)n * sizeof(int64_t), cudaMemcpyHostToDevice, be->stream));
    /* the host may change `order` after we return */
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    be->order_set = 1;
cleanup:
    return status;
}

/* Fills be->input with the batch rows (device index array, or first + b when NULL). */
static dt_status gather_batch(dt_backend *be, int d, const int64_t *device_index, const int64_t *host_index,
                              int64_t first, int32_t batch, dt_error *err) {
    dt_status status = DT_OK;
    if (be->resident) {
        DT_CUDA_TRY(dt_cuda_gather_rows(be->stream, be->features[d], be->n_features, device_index, first, batch,
                                        be->input));
    } else {
        /* Not resident: gather on the host into pinned memory (after the last copy from it). */
        DT_CUDA_TRY(dt_cuda_wait(be->stream));
        for (int32_t b = 0; b < batch; b++) {
            const int64_t row = host_index ? host_index[b] : first + b;
            memcpy(be->staging + (size_t)b * be->n_features, be->host_features[d] + (size_t)row * be->n_features,
                   (size_t)be->n_features * sizeof(float));
        }
        DT_CUDA_TRY(dt_cuda_copy(be->input, be->staging, (size_t)batch * be->n_features * sizeof(float),
                                    cudaMemcpyHostToDevice, be->stream));
    }
cleanup:
    return status;
}

/* ---- traced steps (records/optrace.h) ----------------------------------------------------- */

/* The host copy of traced outputs: the largest is the flat state (n_params) or a batch's
 * activations (max_batch, max_width). */
static dt_status trace_buffer(dt_backend *be, dt_error *err) {
    if (be->trace_host) return DT_OK;
    const size_t acts = (size_t)be->layout.max_batch * (size_t)be->net.max_width, params = (size_t)be->net.n_params;
    be->trace_floats = acts > params ? acts : params;
    if (!(be->trace_host = (float *)malloc(be->trace_floats * sizeof(float) + 1)))
        return dt_fail(err, DT_NOMEM, "out of memory for a traced output of %zu floats", be->trace_floats);
    return DT_OK;
}

/* Reports `count` floats at `device` to the trace when its step is traced: waits for the
 * stream, copies them out, and back when the trace changed them (its test-only fault). With
 * `layers`, they are the flat state of the net's layout, reported layer by layer. */
static dt_status trace_device(dt_backend *be, dt_op_kind kind, int layer, const char *tensor, float *device,
                              int64_t count, int layers, dt_error *err) {
    dt_status status = DT_OK;
    if (!dt_op_trace_active(be->trace)) return DT_OK;
    DT_TRY(trace_buffer(be, err));
    DT_CUDA_TRY(dt_cuda_copy(be->trace_host, device, (size_t)count * sizeof(float), cudaMemcpyDeviceToHost, be->stream));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    if (layers ? dt_op_trace_see_layers(be->trace, kind, tensor, &be->net, be->trace_host)
               : dt_op_trace_see(be->trace, kind, layer, tensor, be->trace_host, count)) {
        DT_CUDA_TRY(dt_cuda_copy(device, be->trace_host, (size_t)count * sizeof(float), cudaMemcpyHostToDevice,
                                 be->stream));
        DT_CUDA_TRY(dt_cuda_wait(be->stream));
    }
cleanup:
    return status;
}

static void cuda_set_trace(dt_backend *be, dt_op_trace *trace) { be->trace = trace; }

/* Forward through every layer; dropout only when training, its counter `step` or now->step.
 * *out: the output (batch, n_outputs). */
static dt_status forward(dt_backend *be, int32_t batch, int training, uint64_t step, const dt_cuda_step *now,
                         const int64_t *sample_id, const float **out, dt_error *err) {
    dt_status status = DT_OK;
    const float *x = be->input;
    for (int l = 0; l < be->net.n_layers; l++) {
        const dt_layer *layer = &be->net.layers[l];
        float *z = be->acts + be->layout.z_offset[l], *y = be->acts + be->layout.y_offset[l];
        dt_gemm_args g;
        memset(&g, 0, sizeof g);
        g.M = batch, g.N = layer->n_out, g.P = layer->n_in;
        g.A = x, g.a_row = layer->n_in, g.a_col = 1;
        g.B = be->params + layer->weight_offset, g.b_row = 1, g.b_col = layer->n_in;
        g.C = z, g.ldc = layer->n_out, g.bias = be->params + layer->bias_offset, g.Y = y, g.ldy = layer->n_out;
        g.act = layer->activation;
        DT_TRY(gemm(be, &g, err));
        const int64_t n = (int64_t)batch * layer->n_out;
        if (training) DT_TRY(trace_device(be, DT_OP_LINEAR, l, "z", z, n, 0, err));
        if (training) DT_TRY(trace_device(be, DT_OP_ACTIVATION, l, "y", y, n, 0, err));
        if (training && layer->dropout > 0.0f) {
            dt_dropout drop = {layer->dropout, dt_rng_key(be->set.seed, DT_RNG_DROPOUT, (uint32_t)l), step, sample_id};
            DT_CUDA_TRY(dt_cuda_dropout(be->stream, y, batch, layer->n_out, &drop, now));
            DT_TRY(trace_device(be, DT_OP_DROPOUT, l, "y", y, n, 0, err));
        }
        x = y;
    }
    *out = x;
cleanup:
    return status;
}

static dt_status backward(dt_backend *be, int32_t batch, uint64_t step, const dt_cuda_step *now,
                          const int64_t *sample_id, dt_error *err) {
    dt_status status = DT_OK;
    float *delta = be->delta_a, *other = be->delta_b;
    const int fast = be->mode == DT_MODE_FAST;
    for (int l = be->net.n_layers - 1; l >= 0; l--) {
        const dt_layer *layer = &be->net.layers[l];
        const float *z = be->acts + be->layout.z_offset[l], *y = be->acts + be->layout.y_offset[l];
        const float *x = l > 0 ? be->acts + be->layout.y_offset[l - 1] : be->input;
        dt_dropout drop = {layer->dropout, dt_rng_key(be->set.seed, DT_RNG_DROPOUT, (uint32_t)l), step, sample_id};
        DT_CUDA_TRY(dt_cuda_act_backward(be->stream, delta, z, y, batch, layer->n_out, layer->activation, &drop, now));
        DT_TRY(trace_device(be, DT_OP_ACT_BACKWARD, l, "dz", delta, (int64_t)batch * layer->n_out, 0, err));
        dt_gemm_args gw;
        memset(&gw, 0, sizeof gw);
        gw.M = layer->n_out, gw.N = layer->n_in, gw.P = batch;
        gw.A = delta, gw.a_row = 1, gw.a_col = layer->n_out;
        gw.B = x, gw.b_row = layer->n_in, gw.b_col = 1;
        gw.C = be->grads + layer->weight_offset, gw.ldc = layer->n_in;
        DT_TRY(gemm(be, &gw, err));
        DT_TRY(trace_device(be, DT_OP_WEIGHT_GRAD, l, "weight", be->grads + layer->weight_offset,
                            (int64_t)layer->n_out * layer->n_in, 0, err));
        DT_CUDA_TRY(dt_cuda_bias_grad(be->stream, delta, batch, layer->n_out, be->grads + layer->bias_offset, fast));
        DT_TRY(trace_device(be, DT_OP_BIAS_GRAD, l, "bias", be->grads + layer->bias_offset, layer->n_out, 0, err));
        if (l > 0) {
            dt_gemm_args gx;
            memset(&gx, 0, sizeof gx);
            gx.M = batch, gx.N = layer->n_in, gx.P = layer->n_out;
            gx.A = delta, gx.a_row = layer->n_out, gx.a_col = 1;
            gx.B = be->params + layer->weight_offset, gx.b_row = layer->n_in, gx.b_col = 1;
            gx.C = other, gx.ldc = layer->n_in;
            DT_TRY(gemm(be, &gx, err));
            DT_TRY(trace_device(be, DT_OP_INPUT_GRAD, l, "dx", other, (int64_t)batch * layer->n_in, 0, err));
            float *swap = delta;
            delta = other;
            other = swap;
        }
    }
cleanup:
    return status;
}

/* Whether a step's rows are a range of the epoch's order on the device (set_order). */
static int rows_in_order(const dt_backend *be, const dt_step_desc *step) {
    return step->order_offset >= 0 && be->order_set && step->order_offset + step->batch <= be->n_samples[0];
}

/* A step's rows given by index (not a range of the order): copied into index_scratch. */
static dt_status upload_rows(dt_backend *be, const dt_step_desc *step, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(dt_cuda_copy(be->index_scratch, step->sample_index, (size_t)step->batch * sizeof(int64_t),
                             cudaMemcpyHostToDevice, be->stream));
cleanup:
    return status;
}

/* The loss divisor of a step: its own, or its batch. */
static float divisor_of(const dt_step_desc *step) {
    return step->loss_divisor > 0.0f ? step->loss_divisor : (float)step->batch;
}

/* Forward, loss (its sum into *result) and backward of `batch` training rows: ids on the
 * device (host_ids the same rows in host memory, for data that is not resident). The
 * dropout counter is `step`, or now->step when now is not NULL (a train_step). */
static dt_status batch_gradients(dt_backend *be, int32_t batch, float divisor, const int64_t *ids,
                                 const int64_t *host_ids, uint64_t step, const dt_cuda_step *now,
                                 dt_cuda_step_result *result, dt_error *err) {
    dt_status status = DT_OK;
    const float *out = NULL;
    DT_TRY(gather_batch(be, 0, ids, host_ids, 0, batch, err));
    DT_TRY(forward(be, batch, 1, step, now, ids, &out, err));
    {
        dt_loss_args a = {out,     be->net.n_outputs, be->net.loss == DT_LOSS_MSE, be->labels[0], be->targets[0], ids,
                          divisor, be->row_loss,      be->delta_a};
        DT_CUDA_TRY(dt_cuda_loss_rows(be->stream, &a, 0, batch, be->row_correct));
        DT_TRY(trace_device(be, DT_OP_LOSS, -1, "rows", be->row_loss, batch, 0, err));
        DT_TRY(trace_device(be, DT_OP_LOSS, -1, "grad", be->delta_a, (int64_t)batch * be->net.n_outputs, 0, err));
        /* the sum in block order (divisor 1), then / divisor on the host (slot_result) */
        DT_CUDA_TRY(dt_cuda_sum_fixed(be->stream, be->row_loss, be->row_correct, batch, 1.0f, &result->loss_sum,
                                      &result->correct, be->mode == DT_MODE_FAST));
        DT_TRY(trace_device(be, DT_OP_LOSS_SUM, -1, "sum", &result->loss_sum, 1, 0, err));
        DT_TRY(backward(be, batch, step, now, ids, err));
    }
cleanup:
    return status;
}

/* The result of ring slot `slot` (its copy must have completed). */
static void slot_result(const dt_backend *be, int slot, dt_step_result *result) {
    const dt_cuda_step_result *s = &be->ring[slot];
    result->loss_sum = s->loss_sum;
    result->loss = s->loss_sum / be->slot_divisor[slot];
    result->correct = s->correct;
    result->grad_norm = be->set.clip_norm > 0.0f ? s->grad_norm : NAN;
}

/* Queues the copy of slots [first, first + count) of step_out to the pinned ring. */
static dt_status queue_slot_copy(dt_backend *be, int first, int count, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(dt_cuda_copy(&be->ring[first], &be->step_out[first], (size_t)count * sizeof(dt_cuda_step_result),
                             cudaMemcpyDeviceToHost, be->stream));
cleanup:
    return status;
}

static dt_status cuda_gradients(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err) {
    dt_status status = DT_OK;
    const int64_t *ids = be->index_scratch;
    if (rows_in_order(be, step)) ids = be->order + step->order_offset; /* uploaded once per epoch */
    else DT_TRY(upload_rows(be, step, err));
    be->slot_divisor[SYNC_SLOT] = divisor_of(step);
    DT_TRY(batch_gradients(be, step->batch, divisor_of(step), ids, step->sample_index, step->step, NULL,
                           &be->step_out[SYNC_SLOT], err));
    DT_TRY(queue_slot_copy(be, SYNC_SLOT, 1, err));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    slot_result(be, SYNC_SLOT, result);
    result->grad_norm = NAN;
cleanup:
    return status;
}

static dt_status cuda_get_grads(dt_backend *be, float *grads, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(dt_cuda_copy(grads, be->grads, (size_t)be->net.n_params * sizeof(float), cudaMemcpyDeviceToHost,
                                be->stream));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
cleanup:
    return status;
}

/* Clipping (the norm written straight into result->grad_norm) and the optimizer update,
 * queued on the stream; the scalars from `scalars`, or from now->scalars when now is not
 * NULL (a train_step). */
static dt_status queue_update(dt_backend *be, const dt_optim_scalars *scalars, const dt_cuda_step *now,
                              dt_cuda_step_result *result, dt_error *err) {
    dt_status status = DT_OK;
    const float clip = be->set.clip_norm;
    const float *scale = NULL;
    const dt_update_kind kind = dt_optim_update_kind(be->set.optimizer);
    const int64_t n = be->net.n_params;
    DT_TRY(trace_device(be, DT_OP_GRADIENT, -1, "", be->grads, n, 1, err));
    if (clip > 0.0f) {
        DT_CUDA_TRY(dt_cuda_grad_norm(be->stream, be->grads, be->net.n_params, be->norm_partial, clip,
                                      &result->grad_norm, be->scale));
        scale = be->scale;
        DT_TRY(trace_device(be, DT_OP_GRAD_NORM, -1, "norm", &result->grad_norm, 1, 0, err));
    }
    DT_CUDA_TRY(dt_cuda_optimizer(be->stream, kind, be->params, be->grads, be->opt_m, be->opt_v, scalars, now, scale,
                                  be->net.n_params));
    DT_TRY(trace_device(be, DT_OP_UPDATE, -1, "", be->params, n, 1, err));
    DT_TRY(trace_device(be, DT_OP_UPDATE, -1, "m.", be->opt_m, n, 1, err));
    if (be->set.optimizer != DT_OPT_SGD) DT_TRY(trace_device(be, DT_OP_UPDATE, -1, "v.", be->opt_v, n, 1, err));
cleanup:
    return status;
}

static dt_status cuda_apply_update(dt_backend *be, const dt_optim_scalars *scalars, dt_step_result *result,
                                   dt_error *err) {
    dt_status status = DT_OK;
    DT_TRY(queue_update(be, scalars, NULL, &be->step_out[SYNC_SLOT], err));
    DT_CUDA_TRY(dt_cuda_copy(&be->ring[SYNC_SLOT].grad_norm, &be->step_out[SYNC_SLOT].grad_norm, sizeof(float),
                                cudaMemcpyDeviceToHost, be->stream));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    result->grad_norm = be->set.clip_norm > 0.0f ? be->ring[SYNC_SLOT].grad_norm : NAN;
cleanup:
    return status;
}

/* A train_step's launches, the same for every step of a batch shape (batch, divisor): the
 * step's values come from its table entry through step_now (step_begin), its rows from the
 * order into index_scratch, its result goes to step_out[NOW_SLOT] and then to its slot of
 * the ring (step_end). host_ids: the rows in host memory, read only when the data is not
 * resident (then the step is never captured). */
static dt_status queue_step(dt_backend *be, int32_t batch, float divisor, const int64_t *host_ids, dt_error *err) {
    dt_status status = DT_OK;
    dt_cuda_step_result *result = &be->step_out[NOW_SLOT];
    DT_CUDA_TRY(dt_cuda_step_begin(be->stream, be->step_table_device, DT_RESULT_LOG, be->step_counter, be->order,
                                   batch, be->index_scratch, be->step_now));
    DT_TRY(batch_gradients(be, batch, divisor, be->index_scratch, host_ids, 0, be->step_now, result, err));
    DT_TRY(queue_update(be, NULL, be->step_now, result, err));
    DT_CUDA_TRY(dt_cuda_step_end(be->stream, result, be->step_out, DT_RESULT_LOG, be->step_counter));
cleanup:
    return status;
}

/* Captures queue_step for g's shape into a graph and instantiates it. What it launches is
 * counted into the graph's counts, submitted at each launch (counts.h), not now. The capture
 * is ended whatever happens, so the stream takes work again. */
static dt_status capture_step(dt_backend *be, step_graph *g, dt_error *err) {
    dt_status status = DT_OK;
    cudaGraph_t graph = NULL;
    DT_CUDA_TRY(cudaStreamBeginCapture(be->stream, cudaStreamCaptureModeThreadLocal));
    dt_cuda_capture_begin(g->counts);
    status = queue_step(be, g->batch, g->divisor, NULL, err);
    dt_cuda_capture_end();
    if (status != DT_OK) {
        cudaStreamEndCapture(be->stream, &graph);
        goto cleanup;
    }
    DT_CUDA_TRY(cudaStreamEndCapture(be->stream, &graph));
    DT_CUDA_TRY(cudaGraphInstantiate(&g->exec, graph, 0));
cleanup:
    if (graph) cudaGraphDestroy(graph);
    return status;
}

/* The graph of a batch shape, made on first sight; NULL when STEP_GRAPHS shapes are taken. */
static step_graph *graph_of(dt_backend *be, int32_t batch, float divisor) {
    for (int i = 0; i < be->n_graphs; i++)
        if (be->graphs[i].batch == batch && be->graphs[i].divisor == divisor) return &be->graphs[i];
    if (be->n_graphs == STEP_GRAPHS) return NULL;
    step_graph *g = &be->graphs[be->n_graphs++];
    memset(g, 0, sizeof *g);
    g->batch = batch;
    g->divisor = divisor;
    return g;
}

/* A train_step whose rows are in the resident order, as a graph: the first step of a shape
 * runs launch by launch (a warm-up: cuBLAS's first call may allocate, which a capture
 * forbids), the second is captured, every step of the shape then launches the graph. */
static dt_status graph_step(dt_backend *be, int32_t batch, float divisor, dt_error *err) {
    dt_status status = DT_OK;
    step_graph *g = graph_of(be, batch, divisor);
    if (!g || g->steps++ == 0) return queue_step(be, batch, divisor, NULL, err);
    if (!g->exec) DT_TRY(capture_step(be, g, err));
    DT_CUDA_TRY(dt_cuda_graph_launch(g->exec, g->counts, be->stream));
cleanup:
    return status;
}

/* Before the host writes train_step k's table entry (k % DT_RESULT_LOG): step k - DT_RESULT_LOG,
 * which used it, must have read it. A host wait since then proves it; else the host waits
 * now (a run collects results every DT_RESULT_LOG steps, so training never waits here). */
static dt_status free_table_entry(dt_backend *be, dt_error *err) {
    dt_status status = DT_OK;
    if (be->steps_done - be->steps_waited < DT_RESULT_LOG) return DT_OK;
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    be->steps_waited = be->steps_done;
cleanup:
    return status;
}

static dt_status cuda_train_step(dt_backend *be, const dt_step_desc *step, dt_step_result *result, dt_error *err) {
    dt_status status = DT_OK;
    const int slot = (int)(be->steps_done % DT_RESULT_LOG);
    const int in_order = rows_in_order(be, step);
    dt_cuda_step *entry = &be->step_table[slot];
    DT_TRY(free_table_entry(be, err));
    entry->order_offset = in_order ? step->order_offset : -1;
    entry->step = step->step;
    entry->scalars = step->scalars;
    be->slot_divisor[slot] = divisor_of(step);
    if (!in_order) DT_TRY(upload_rows(be, step, err));
    if (in_order && be->resident && be->use_graphs && !be->trace) DT_TRY(graph_step(be, step->batch, divisor_of(step), err));
    else DT_TRY(queue_step(be, step->batch, divisor_of(step), step->sample_index, err));
    be->steps_done++;
    if (result) {
        DT_TRY(queue_slot_copy(be, slot, 1, err));
        DT_CUDA_TRY(dt_cuda_wait(be->stream));
        be->steps_waited = be->steps_done;
        slot_result(be, slot, result);
    }
cleanup:
    return status;
}

/* The microbatch tree's partial sums; the host says which and when (dt_grad_tree). */
static dt_status cuda_grads_save(dt_backend *be, int slot, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(dt_cuda_copy(be->tree_sum[slot], be->grads, (size_t)be->net.n_params * sizeof(float),
                                cudaMemcpyDeviceToDevice, be->stream));
cleanup:
    return status;
}

static dt_status cuda_grads_add(dt_backend *be, int dst, int src, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(dt_cuda_add(be->stream, be->tree_sum[dst], be->tree_sum[src], be->net.n_params));
cleanup:
    return status;
}

static dt_status cuda_grads_load(dt_backend *be, int slot, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(dt_cuda_copy(be->grads, be->tree_sum[slot], (size_t)be->net.n_params * sizeof(float),
                                cudaMemcpyDeviceToDevice, be->stream));
cleanup:
    return status;
}

/* What the rank exchange needs, made before the first step: the NCCL communicator and its
 * buffers, or the pinned host copy of the gradient that MPI exchanges. */
static dt_status cuda_join_ranks(dt_backend *be, dt_comm *comm, dt_error *err) {
    dt_status status = DT_OK;
    if (dt_comm_size(comm) == 1) return DT_OK;
    if (dt_cuda_nccl_available()) {
        be->nccl_joined = 1;
        return dt_cuda_nccl_prepare(comm, be->net.n_params, err);
    }
    if (!be->host_grads)
        DT_CUDA_TRY(cudaHostAlloc((void **)&be->host_grads, (size_t)be->net.n_params * sizeof(float), cudaHostAllocDefault));
cleanup:
    return status;
}

/* The rank exchange: NCCL between GPUs when the build has it (comm_nccl.cu), else through
 * host memory and MPI. Either way the fixed tree over ranks. */
static dt_status cuda_reduce_grads(dt_backend *be, dt_comm *comm, dt_error *err) {
    dt_status status = DT_OK;
    const size_t bytes = (size_t)be->net.n_params * sizeof(float);
    if (dt_comm_size(comm) == 1) return DT_OK;
    DT_TRY(cuda_join_ranks(be, comm, err)); /* made already when the host called join_ranks */
    if (dt_cuda_nccl_available()) return dt_cuda_nccl_tree_sum(comm, be->grads, be->net.n_params, be->stream, err);
    DT_CUDA_TRY(dt_cuda_copy(be->host_grads, be->grads, bytes, cudaMemcpyDeviceToHost, be->stream));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    DT_TRY(dt_comm_tree_sum(comm, be->host_grads, be->net.n_params, err));
    DT_CUDA_TRY(dt_cuda_copy(be->grads, be->host_grads, bytes, cudaMemcpyHostToDevice, be->stream));
cleanup:
    return status;
}

static dt_status cuda_collect_results(dt_backend *be, dt_step_result *results, int count, dt_error *err) {
    dt_status status = DT_OK;
    if (count < 0 || count > DT_RESULT_LOG || count > be->steps_done)
        return dt_fail(err, DT_INTERNAL, "collect_results: %d steps asked, %lld kept", count, (long long)be->steps_done);
    /* the asked slots, oldest first, are one range of the ring or two when it wraps */
    const int first = (int)((be->steps_done - count) % DT_RESULT_LOG);
    const int head = count < DT_RESULT_LOG - first ? count : DT_RESULT_LOG - first;
    if (head > 0) DT_TRY(queue_slot_copy(be, first, head, err));
    if (count > head) DT_TRY(queue_slot_copy(be, 0, count - head, err));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    be->steps_waited = be->steps_done;
    for (int i = 0; i < count; i++) slot_result(be, (int)((be->steps_done - count + i) % DT_RESULT_LOG), &results[i]);
cleanup:
    return status;
}

static dt_status cuda_evaluate(dt_backend *be, int which, dt_eval_result *result, dt_error *err) {
    dt_status status = DT_OK;
    const int d = which;
    if (d < 0 || d >= DT_N_SETS || be->n_samples[d] == 0)
        return dt_fail(err, DT_INTERNAL, "evaluate: no dataset %d", which);
    const int64_t n = be->n_samples[d];
    const int32_t eval_batch = be->set.eval_batch;
    dt_cuda_step_result *dst = be->step_out + SYNC_SLOT;
    dt_cuda_step_result host;
    for (int64_t start = 0; start < n; start += eval_batch) {
        const int32_t batch = (int32_t)(n - start < eval_batch ? n - start : eval_batch);
        const float *out = NULL;
        DT_TRY(gather_batch(be, d, NULL, NULL, start, batch, err));
        DT_TRY(forward(be, batch, 0, 0, NULL, NULL, &out, err));
        dt_loss_args a = {out,          be->net.n_outputs,   be->net.loss == DT_LOSS_MSE, be->labels[d], be->targets[d],
                          NULL,         (float)batch,        be->eval_loss + start,       NULL};
        DT_CUDA_TRY(dt_cuda_loss_rows(be->stream, &a, start, batch, be->eval_correct + start));
    }
    DT_CUDA_TRY(dt_cuda_sum_fixed(be->stream, be->eval_loss, be->eval_correct, n, (float)n, &dst->loss_sum,
                                  &dst->correct, be->mode == DT_MODE_FAST));
    DT_CUDA_TRY(dt_cuda_copy(&host, dst, sizeof host, cudaMemcpyDeviceToHost, be->stream));
    DT_CUDA_TRY(dt_cuda_wait(be->stream));
    result->loss = (double)host.loss_sum; /* already divided by n on the device, as the CPU does */
    result->correct = be->net.loss == DT_LOSS_MSE ? 0 : host.correct;
    result->n_samples = n;
cleanup:
    return status;
}

/* Benchmarks: an event marks where the timed region starts in the stream. */
static dt_status cuda_timing_begin(dt_backend *be, dt_error *err) {
    dt_status status = DT_OK;
    if (!be->timing_start) DT_CUDA_TRY(cudaEventCreate(&be->timing_start));
    if (!be->timing_stop) DT_CUDA_TRY(cudaEventCreate(&be->timing_stop));
    DT_CUDA_TRY(cudaEventRecord(be->timing_start, be->stream));
cleanup:
    return status;
}

/* ... and where it ends; waits for it and gives the seconds the GPU measured between. */
static dt_status cuda_timing_end(dt_backend *be, double *seconds, dt_error *err) {
    dt_status status = DT_OK;
    float ms = 0.0f;
    DT_CUDA_TRY(cudaEventRecord(be->timing_stop, be->stream));
    DT_CUDA_TRY(dt_cuda_wait_event(be->timing_stop));
    DT_CUDA_TRY(cudaEventElapsedTime(&ms, be->timing_start, be->timing_stop));
    *seconds = (double)ms * 1e-3;
cleanup:
    return status;
}

/* The process's counters (kernels/cuda/counts.h): one backend at a time submits work. */
static void cuda_work_counts(dt_backend *be, dt_work_counts *counts) {
    (void)be;
    counts->kernels = dt_cuda_count_of(DT_CUDA_KERNELS);
    counts->library_calls = dt_cuda_count_of(DT_CUDA_LIBRARY_CALLS);
    counts->copies = dt_cuda_count_of(DT_CUDA_COPIES);
    counts->syncs = dt_cuda_count_of(DT_CUDA_SYNCS);
    counts->graphs = dt_cuda_count_of(DT_CUDA_GRAPHS);
    counts->graph_nodes = dt_cuda_count_of(DT_CUDA_GRAPH_NODES);
}

static void cuda_gpu_info(dt_backend *be, dt_gpu_info *info) {
    memset(info, 0, sizeof *info);
    info->index = be->device;
    cudaDeviceProp prop;
    int driver = 0, runtime = 0, cublas = 0;
    if (cudaGetDeviceProperties(&prop, be->device) == cudaSuccess) {
        snprintf(info->name, sizeof info->name, "%.*s", (int)sizeof info->name - 1, prop.name);
        info->cc_major = prop.major;
        info->cc_minor = prop.minor;
        info->sm_count = prop.multiProcessorCount;
    }
    if (cudaDriverGetVersion(&driver) == cudaSuccess)
        snprintf(info->driver, sizeof info->driver, "%d.%d", driver / 1000, (driver % 1000) / 10);
    if (cudaRuntimeGetVersion(&runtime) == cudaSuccess)
        snprintf(info->runtime, sizeof info->runtime, "%d.%d", runtime / 1000, (runtime % 1000) / 10);
    if (cublasGetVersion(be->cublas, &cublas) == CUBLAS_STATUS_SUCCESS)
        snprintf(info->cublas, sizeof info->cublas, "%d.%d.%d", cublas / 10000, (cublas % 10000) / 100, cublas % 100);
    info->tf32 = uses_tf32(be->mode, &be->set);
    snprintf(info->nccl, sizeof info->nccl, "%s", dt_cuda_nccl_version());
}

static void cuda_describe(dt_backend *be, char *buf, size_t size) {
    snprintf(buf, size, "cuda (%s; %s mode%s%s)", be->device_text, dt_mode_name(be->mode),
             uses_tf32(be->mode, &be->set) ? ", TF32 on" : "",
             be->n_samples[0] > 0 && !be->resident ? "; data staged through host memory" : "");
}

extern "C" const dt_backend_ops dt_cuda_backend = {
    .name = "cuda",
    .host_bytes = NULL, /* its buffers are in the GPU's memory */
    .create = cuda_create,
    .set_data = cuda_set_data,
    .set_state = cuda_set_state,
    .get_state = cuda_get_state,
    .gradients = cuda_gradients,
    .get_grads = cuda_get_grads,
    .set_order = cuda_set_order,
    .train_step = cuda_train_step,
    .grads_save = cuda_grads_save,
    .grads_add = cuda_grads_add,
    .grads_load = cuda_grads_load,
    .reduce_grads = cuda_reduce_grads,
    .join_ranks = cuda_join_ranks,
    .apply_update = cuda_apply_update,
    .collect_results = cuda_collect_results,
    .evaluate = cuda_evaluate,
    .gpu_info = cuda_gpu_info,
    .simd = NULL, /* its kernels run on the GPU */
    .describe = cuda_describe,
    .destroy = cuda_destroy,
    .timing_begin = cuda_timing_begin,
    .timing_end = cuda_timing_end,
    .work_counts = cuda_work_counts,
    .set_trace = cuda_set_trace,
};
