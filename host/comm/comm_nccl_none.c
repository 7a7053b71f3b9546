/* comm_nccl_none.c — builds without NCCL: GPU ranks exchange gradients through host
 * memory and MPI (backend_cuda.cu), in the same fixed tree. */
#include <stdio.h>

#include "comm_nccl.h"

int dt_cuda_nccl_available(void) { return 0; }

int dt_cuda_nccl_tree_sum(struct dt_comm *comm, float *dev, int64_t n, cudaStream_t stream, char *why,
                          size_t why_size) {
    (void)comm, (void)dev, (void)n, (void)stream;
    snprintf(why, why_size, "this build has no NCCL");
    return -1;
}

const char *dt_cuda_nccl_version(void) { return ""; }
