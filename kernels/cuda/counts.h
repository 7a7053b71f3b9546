/* counts.h — what detrain's CUDA code has submitted since the process started, counted where
 * it is submitted: kernels (every DT_CUDA_LAUNCH), cuBLAS calls, copies and memsets, and host
 * waits (stream and event synchronizations); CUDA graphs launched, whose captured work counts
 * as submitted at each launch (and as graph nodes, so that the host's own calls are the rest). Read around a training step they give the work
 * a step submits on real hardware as on the emulator (`detrain bench` reports it). The CUDA
 * backend makes its copies, memsets and waits through the counted forms below. One host
 * thread drives a backend, so the counters are plain integers. */
#ifndef DT_CUDA_COUNTS_H
#define DT_CUDA_COUNTS_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DT_CUDA_KERNELS,
    DT_CUDA_LIBRARY_CALLS,
    DT_CUDA_COPIES,
    DT_CUDA_SYNCS,
    DT_CUDA_GRAPHS,      /* CUDA graphs launched */
    DT_CUDA_GRAPH_NODES, /* of the kernels, library calls and copies, those a graph launch submitted */
    DT_CUDA_N_COUNTS
} dt_cuda_count;

/* Adds one to counter `which` (or to the graph's counts during a capture); returns 1 (so
 * DT_CUDA_LAUNCH can count in a for header). */
int dt_cuda_counted(dt_cuda_count which);

/* Between these two, during a stream capture, what is counted is not submitted but recorded
 * into a graph: it is counted into graph_counts (DT_CUDA_N_COUNTS, zeroed here) instead. */
void dt_cuda_capture_begin(uint64_t *graph_counts);
void dt_cuda_capture_end(void);

/* cudaGraphLaunch, counted as one graph that submits the kernels, library calls and copies
 * of its capture's graph_counts (also counted as graph nodes). */
cudaError_t dt_cuda_graph_launch(cudaGraphExec_t exec, const uint64_t *graph_counts, cudaStream_t stream);

/* The counter's value. */
uint64_t dt_cuda_count_of(dt_cuda_count which);

/* cudaMemcpyAsync, counted as a copy. */
cudaError_t dt_cuda_copy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind, cudaStream_t stream);

/* cudaMemsetAsync, counted as a copy. */
cudaError_t dt_cuda_fill(void *dst, int value, size_t bytes, cudaStream_t stream);

/* cudaStreamSynchronize, counted as a host wait. */
cudaError_t dt_cuda_wait(cudaStream_t stream);

/* cudaEventSynchronize, counted as a host wait. */
cudaError_t dt_cuda_wait_event(cudaEvent_t event);

#ifdef __cplusplus
}
#endif

#endif
