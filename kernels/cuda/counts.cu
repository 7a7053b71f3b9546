/* counts.cu — the counters of counts.h. */
#include <cuda_runtime.h>

#include "counts.h"

static uint64_t counts[DT_CUDA_N_COUNTS];

extern "C" int dt_cuda_counted(dt_cuda_count which) {
    counts[which]++;
    return 1;
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
