/* dtemu.h — controls of the CPU emulator of CUDA for tests (tests/cudaemu/README.md): the
 * order blocks and fibers run in, and counts of what ran. C and C++. Programs that only use
 * CUDA's API need none of this: the same settings come from the environment (DTEMU_*). */
#ifndef DTEMU_H
#define DTEMU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The order of the grid's blocks and of a block's fibers at each barrier: "forward",
 * "reverse" or "shuffle[:SEED]" (a new seeded permutation for every launch and barrier).
 * 0, or -1 when `spec` is not one of these (the order is unchanged). */
int dtemu_set_order(const char *spec);

/* Makes the `call`-th call of `api` from now on fail ("cudaMalloc", "cudaMemsetAsync",
 * "cudaMemcpyAsync", "cudaHostAlloc", "cudaStreamCreate", "kernel", "cublasCreate",
 * "cublasSgemm", ...), as DTEMU_FAIL=api:call does from the start; call 0 clears it. */
void dtemu_fail_call(const char *api, long call);

/* What has run since the process started. */
typedef struct {
    uint64_t launches;       /* kernels run */
    uint64_t threads;        /* CUDA threads run */
    uint64_t fiber_switches; /* switches between fibers and the scheduler */
    uint64_t barriers;       /* __syncthreads() rounds completed by whole blocks */
    uint64_t unordered;      /* accesses refused for want of ordering between streams */
    uint64_t copies;         /* cudaMemcpy and cudaMemcpyAsync calls queued */
    uint64_t memsets;        /* cudaMemset and cudaMemsetAsync calls queued */
    uint64_t gemms;          /* cublasSgemm calls run */
    uint64_t graph_launches; /* cudaGraphLaunch calls */
} dtemu_stats;
dtemu_stats dtemu_get_stats(void);

#ifdef __cplusplus
}
#endif

#endif
