/* comm_nccl_none.c — builds without NCCL: GPU ranks exchange gradients through host
 * memory and MPI (backend_cuda.cu), in the same fixed tree. */
#include "comm_nccl.h"

int dt_cuda_nccl_available(void) { return 0; }

dt_status dt_cuda_nccl_tree_sum(struct dt_comm *comm, float *dev, int64_t n, cudaStream_t stream, dt_error *err) {
    (void)comm, (void)dev, (void)n, (void)stream;
    return dt_fail(err, DT_DEVICE, "this build has no NCCL");
}

dt_status dt_cuda_nccl_prepare(struct dt_comm *comm, int64_t n, dt_error *err) {
    (void)comm, (void)n, (void)err;
    return DT_OK;
}

void dt_cuda_nccl_release(void) {}

const char *dt_cuda_nccl_version(void) { return ""; }
