/* comm.h — the ranks of a data-parallel run and the one fixed-order sum between them.
 *
 * MPI starts and connects the processes (mpirun, srun); partial gradients are summed in
 * ONE order that never depends on the number of ranks or on timing: the balanced
 * pairwise tree over rank index (docs/numerics.md, "Microbatches and ranks"). The bytes
 * on the wire are those of a ring all-reduce (an all-to-all of shards, then an
 * all-gather), but MPI_Allreduce, which picks its own order, is never used for them.
 * Built from comm_mpi.c when the build has MPI, else from comm_single.c. */
#ifndef DT_COMM_H
#define DT_COMM_H

#include <stdint.h>

#include "core/status.h"

typedef struct dt_comm dt_comm;

/* Joins the job when started by an MPI launcher (MPI builds), else a world of one. Started
 * with more than one rank by a build without MPI: DT_USAGE saying so. */
dt_status dt_comm_init(dt_comm **out, int *argc, char ***argv, dt_error *err);
/* This process's rank and the number of ranks. */
int dt_comm_rank(const dt_comm *c);
int dt_comm_size(const dt_comm *c);
/* This rank's index among the ranks on its machine, and their number (MPI's shared-memory
 * split): the local rank picks the rank's GPU. */
int dt_comm_local_rank(const dt_comm *c);
int dt_comm_local_size(const dt_comm *c);
/* "none" (one process) or "mpi". */
const char *dt_comm_transport(const dt_comm *c);

/* Replaces values[0..n) (host memory, same n everywhere) on every rank by their sum over
 * ranks in the balanced pairwise tree over rank index: sum(lo, hi) = sum(lo, mid) +
 * sum(mid, hi), mid = (lo + hi) / 2, each + one float addition per element. */
dt_status dt_comm_tree_sum(dt_comm *c, float *values, int64_t n, dt_error *err);

/* Replaces values[0..n) by their sum over ranks (integers: exact in any order). */
dt_status dt_comm_sum_i64(dt_comm *c, int64_t *values, int n, dt_error *err);

/* DT_OK when every rank passes the same text (e.g. a parameter digest), else DT_MISMATCH
 * naming the first rank that differs from rank 0. Collective. */
dt_status dt_comm_check_same(dt_comm *c, const char *text, const char *what, dt_error *err);

/* Broadcasts n bytes from rank 0 (e.g. an NCCL unique id). Collective. */
dt_status dt_comm_broadcast(dt_comm *c, void *bytes, int n, dt_error *err);

/* Ends the job on every rank at once (a failure seen by this rank only). Does not return. */
void dt_comm_abort(dt_comm *c, int exit_code);

/* Leaves the job (MPI_Finalize) and frees c. NULL is fine. */
void dt_comm_finalize(dt_comm *c);

/* The balanced pairwise tree over k float vectors of n elements: out = sum(parts[0..k)).
 * The inputs are consumed (used as scratch); out may alias parts[0]. The one definition
 * shared by ranks and microbatches. */
void dt_tree_sum(float *const *parts, int k, int64_t n, float *out);

#endif
