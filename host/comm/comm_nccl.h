/* comm_nccl.h — the rank exchange between GPUs over NCCL, for the CUDA backend.
 *
 * Built from comm_nccl.cu when the build has NCCL and MPI, else from comm_nccl_none.c,
 * which says 0 to dt_cuda_nccl_available (the backend then exchanges through host memory
 * and dt_comm_tree_sum, in the same tree). */
#ifndef DT_COMM_NCCL_H
#define DT_COMM_NCCL_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/status.h"

struct dt_comm;

/* 1 when this build exchanges over NCCL, else 0 (and dt_cuda_nccl_tree_sum is never called). */
int dt_cuda_nccl_available(void);
/* Replaces dev[0..n) on every rank by the sum over ranks in the balanced pairwise tree
 * (docs/numerics.md). DT_OK, or DT_DEVICE naming the NCCL or CUDA call that failed (a failed
 * broadcast of the communicator's id: that call's status). */
dt_status dt_cuda_nccl_tree_sum(struct dt_comm *comm, float *dev, int64_t n, cudaStream_t stream, dt_error *err);
/* Makes the communicator (rank 0's id over MPI: collective, every rank calls it) and the
 * exchange buffers for n floats, so a run's first step allocates nothing and a rank that
 * cannot join fails before training. DT_OK without NCCL (nothing to make). */
dt_status dt_cuda_nccl_prepare(struct dt_comm *comm, int64_t n, dt_error *err);
/* Destroys the communicator and frees the exchange buffers (after the last exchange). */
void dt_cuda_nccl_release(void);
/* The NCCL version ("2.27.7"), or "" without NCCL. */
const char *dt_cuda_nccl_version(void);

#ifdef __cplusplus
}
#endif

#endif
