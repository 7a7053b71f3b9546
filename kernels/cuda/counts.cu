/* counts.cu — the counters of counts.h. */
#include <cuda_runtime.h>
#include <string.h>

#include "counts.h"

static uint64_t counts[DT_CUDA_N_COUNTS];
static uint64_t *capture_into; /* during a capture: the graph's counts */

extern "C" int dt_cuda_counted(dt_cuda_count which) {
    if (capture_into) capture_into[which]++;
    else counts[which]++;
    return 1;
}

extern "C" void dt_cuda_capture_begin(uint64_t *graph_counts) {
    memset(graph_counts, 0, sizeof(uint64_t) * DT_CUDA_N_COUNTS);
    capture_into = graph_counts;
}

extern "C" void dt_cuda_capture_end(void) { capture_into = NULL; }

extern "C" cudaError_t dt_cuda_graph_launch(cudaGraphExec_t exec, const uint64_t *graph_counts, cudaStream_t stream) {
    counts[DT_CUDA_GRAPHS]++;
    const dt_cuda_count submitted[] = {DT_CUDA_KERNELS, DT_CUDA_LIBRARY_CALLS, DT_CUDA_COPIES};
    for (int i = 0; i < 3; i++) {
        counts[submitted[i]] += graph_counts[submitted[i]];
        counts[DT_CUDA_GRAPH_NODES] += graph_counts[submitted[i]];
    }
    return cudaGraphLaunch(exec, stream);
}

extern "C" uint64_t dt_cuda_count_of(dt_cuda_count which) { return counts[which]; }

extern "C" cudaError_t dt_cuda_copy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
                                    cudaStream_t stream) {
    dt_cuda_counted(DT_CUDA_COPIES);
    return cudaMemcpyAsync(dst, src, bytes, kind, stream);
}

extern "C" cudaError_t dt_cuda_fill(void *dst, int value, size_t bytes, cudaStream_t stream) {
    dt_cuda_counted(DT_CUDA_COPIES);
    return cudaMemsetAsync(dst, value, bytes, stream);
}

extern "C" cudaError_t dt_cuda_wait(cudaStream_t stream) {
    dt_cuda_counted(DT_CUDA_SYNCS);
    return cudaStreamSynchronize(stream);
}

extern "C" cudaError_t dt_cuda_wait_event(cudaEvent_t event) {
    dt_cuda_counted(DT_CUDA_SYNCS);
    return cudaEventSynchronize(event);
}
