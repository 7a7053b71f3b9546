/* comm_nccl.cu — the rank exchange between GPUs over NCCL, in the fixed tree.
 *
 * Gradients stay on the device: every rank sends shard s of its buffer to rank s (grouped
 * ncclSend/ncclRecv: the bytes of a reduce-scatter), rank s adds the P shards level by
 * level in the balanced pairwise tree over rank index (P is a power of two: it divides
 * train.microbatches), and ncclAllGather returns every reduced shard to every rank.
 * ncclAllReduce, which chooses its own order, is not used. The communicator's unique id
 * travels over MPI. Every NCCL and CUDA call is checked where it is made (DT_NCCL_TRY,
 * DT_CUDA_TRY: cuda_status.h) and reported with the call, file, line and device. */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>

extern "C" {
#include "comm.h"
}
#include "comm_nccl.h"
#include "cuda/counts.h"
#include "cuda/kernels.h"
#include "core/cuda_status.h"

/* DT_CUDA_TRY's sibling for NCCL calls (cuda_status.h). */
#define DT_NCCL_TRY(call)                                                                                \
    do {                                                                                                 \
        const ncclResult_t nccl_result_ = (call);                                                        \
        if (nccl_result_ != ncclSuccess) {                                                               \
            status = dt_cuda_fail(err, #call, __FILE__, __LINE__, ncclGetErrorString(nccl_result_), NULL); \
            goto cleanup;                                                                                \
        }                                                                                                \
    } while (0)

/* One communicator per process (one GPU per rank), made before the first step
 * (dt_cuda_nccl_prepare) and destroyed with the backend (dt_cuda_nccl_release). */
static ncclComm_t nccl_comm = NULL;
static float *shards = NULL;      /* (P, stride) received shards; row 0 also gathers */
static float *gathered = NULL;    /* (P * stride) */
static int64_t shards_stride = 0;
static char version_text[16] = "";

extern "C" int dt_cuda_nccl_available(void) { return 1; }

extern "C" const char *dt_cuda_nccl_version(void) {
    int v = 0;
    if (!version_text[0] && ncclGetVersion(&v) == ncclSuccess)
        snprintf(version_text, sizeof version_text, "%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
    return version_text;
}

/* Creates the communicator: rank 0's unique id broadcast over MPI. */
static dt_status ensure_comm(dt_comm *comm, dt_error *err) {
    dt_status status = DT_OK;
    ncclUniqueId id;
    if (nccl_comm) return DT_OK;
    if (dt_comm_rank(comm) == 0) DT_NCCL_TRY(ncclGetUniqueId(&id));
    DT_TRY(dt_comm_broadcast(comm, &id, (int)sizeof id, err));
    DT_NCCL_TRY(ncclCommInitRank(&nccl_comm, dt_comm_size(comm), id, dt_comm_rank(comm)));
cleanup:
    return status;
}

/* Frees the exchange buffers. */
static void free_buffers(void) {
    if (shards) cudaFree(shards);
    if (gathered) cudaFree(gathered);
    shards = gathered = NULL;
    shards_stride = 0;
}

/* The (P, stride) buffers of an exchange of n floats over `size` ranks, grown when needed. */
static dt_status ensure_buffers(int64_t stride, int size, dt_error *err) {
    dt_status status = DT_OK;
    if (stride <= shards_stride) return DT_OK;
    free_buffers();
    DT_CUDA_TRY(cudaMalloc((void **)&shards, (size_t)(stride * size) * sizeof(float)));
    DT_CUDA_TRY(cudaMalloc((void **)&gathered, (size_t)(stride * size) * sizeof(float)));
    shards_stride = stride;
    return DT_OK;
cleanup:
    free_buffers();
    return status;
}

/* An error NCCL met in the background (a peer gone, a network failure) since the last call:
 * the communicator is aborted, so no later call waits on it, and the error is reported. */
static dt_status check_async_error(dt_error *err) {
    dt_status status = DT_OK;
    ncclResult_t async = ncclSuccess;
    DT_NCCL_TRY(ncclCommGetAsyncError(nccl_comm, &async));
    if (async == ncclSuccess || async == ncclInProgress) return DT_OK;
    ncclCommAbort(nccl_comm);
    nccl_comm = NULL;
    return dt_cuda_fail(err, "ncclCommGetAsyncError", __FILE__, __LINE__, ncclGetErrorString(async), NULL);
cleanup:
    return status;
}

extern "C" dt_status dt_cuda_nccl_prepare(dt_comm *comm, int64_t n, dt_error *err) {
    const int size = dt_comm_size(comm);
    if (size == 1) return DT_OK;
    const dt_status status = ensure_comm(comm, err);
    return status == DT_OK ? ensure_buffers((n + size - 1) / size, size, err) : status;
}

extern "C" void dt_cuda_nccl_release(void) {
    if (nccl_comm) ncclCommDestroy(nccl_comm);
    nccl_comm = NULL;
    free_buffers();
}

extern "C" dt_status dt_cuda_nccl_tree_sum(dt_comm *comm, float *dev, int64_t n, cudaStream_t stream, dt_error *err) {
    const int size = dt_comm_size(comm), rank = dt_comm_rank(comm);
    const int64_t stride = (n + size - 1) / size; /* shard s is [s * stride, min((s + 1) * stride, n)) */
    dt_status status = DT_OK;
    int in_group = 0;
    if (size == 1 || n == 0) return DT_OK;
    DT_TRY(ensure_comm(comm, err)); /* made by dt_cuda_nccl_prepare before the first step */
    DT_TRY(check_async_error(err));
    DT_TRY(ensure_buffers(stride, size, err));
    {
        const int64_t my_begin = stride * rank;
        const int64_t my_len = my_begin >= n ? 0 : (my_begin + stride <= n ? stride : n - my_begin);
        /* 1. shard s of every rank to rank s */
        DT_NCCL_TRY(ncclGroupStart());
        in_group = 1;
        for (int s = 0; s < size; s++) {
            const int64_t begin = stride * s;
            const int64_t len = begin >= n ? 0 : (begin + stride <= n ? stride : n - begin);
            DT_NCCL_TRY(ncclSend(dev + begin, (size_t)len, ncclFloat, s, nccl_comm, stream));
            DT_NCCL_TRY(ncclRecv(shards + stride * s, (size_t)my_len, ncclFloat, s, nccl_comm, stream));
        }
        in_group = 0;
        DT_NCCL_TRY(ncclGroupEnd());
        /* 2. the tree over rank index, level by level, into shard 0 */
        for (int width = 1; width < size; width *= 2)
            DT_CUDA_TRY(dt_cuda_tree_level(stream, shards, stride, my_len, size, width));
        /* 3. every reduced shard to every rank (padded to stride), then back into dev */
        DT_NCCL_TRY(ncclAllGather(shards, gathered, (size_t)stride, ncclFloat, nccl_comm, stream));
        DT_CUDA_TRY(dt_cuda_copy(dev, gathered, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, stream));
    }
    return DT_OK;
cleanup:
    /* Close a group a failed call left open (its error is already in err), and let the
     * buffers go: the run ends with this error, and nothing may stay half-made. */
    if (in_group) ncclGroupEnd();
    free_buffers();
    return status;
}
