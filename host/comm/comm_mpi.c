/* comm_mpi.c — ranks over MPI. Every MPI call is checked and reported with the call, file,
 * line and rank; errors return (MPI_ERRORS_RETURN) instead of aborting inside MPI, so
 * main prints one line and exits, and the launcher ends the other ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"

struct dt_comm {
    int rank, size;
    int local_rank, local_size; /* among the ranks on this machine */
    int started_mpi;        /* we called MPI_Init (so we call MPI_Finalize) */
    float *scratch;         /* shards received from every rank */
    int64_t scratch_floats;
};

#define DT_MPI_CHECK(call)                                                                          \
    do {                                                                                            \
        int rc_ = (call);                                                                           \
        if (rc_ != MPI_SUCCESS) {                                                                   \
            char text_[MPI_MAX_ERROR_STRING];                                                       \
            int len_ = 0;                                                                           \
            MPI_Error_string(rc_, text_, &len_);                                                    \
            status = dt_fail(err, DT_DEVICE, "%s failed at %s:%d on rank %d: %s", #call, __FILE__, \
                             __LINE__, c ? c->rank : -1, text_);                                    \
            goto cleanup;                                                                           \
        }                                                                                           \
    } while (0)

/* Whether an MPI launcher (mpirun, srun with PMI/PMIx) started this process. A plain
 * `detrain train` does not pay for MPI_Init. */
static int under_launcher(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (getenv(names[i])) return 1;
    return 0;
}

dt_status dt_comm_init(dt_comm **out, int *argc, char ***argv, dt_error *err) {
    dt_status status = DT_OK;
    dt_comm *c = calloc(1, sizeof *c);
    if (!c) return dt_fail(err, DT_NOMEM, "out of memory");
    c->size = c->local_size = 1;
    MPI_Comm node = MPI_COMM_NULL;
    if (!under_launcher()) {
        *out = c;
        return DT_OK;
    }
    int initialized = 0;
    DT_MPI_CHECK(MPI_Initialized(&initialized));
    if (!initialized) {
        DT_MPI_CHECK(MPI_Init(argc, argv));
        c->started_mpi = 1;
    }
    DT_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    DT_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &c->rank));
    DT_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &c->size));
    /* The ranks that share this machine's memory: a rank's place among them picks its GPU. */
    DT_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node));
    DT_MPI_CHECK(MPI_Comm_rank(node, &c->local_rank));
    DT_MPI_CHECK(MPI_Comm_size(node, &c->local_size));
    DT_MPI_CHECK(MPI_Comm_free(&node));
    *out = c;
    return DT_OK;
cleanup:
    if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
    free(c);
    return status;
}

int dt_comm_rank(const dt_comm *c) { return c->rank; }
int dt_comm_size(const dt_comm *c) { return c->size; }
int dt_comm_local_rank(const dt_comm *c) { return c->local_rank; }
int dt_comm_local_size(const dt_comm *c) { return c->local_size; }
const char *dt_comm_transport(const dt_comm *c) { return c->size > 1 ? "mpi" : "none"; }

/* Start of shard s of n elements over `size` ranks. */
static int64_t shard_begin(int64_t n, int size, int s) { return n * s / size; }

dt_status dt_comm_tree_sum(dt_comm *c, float *values, int64_t n, dt_error *err) {
    dt_status status = DT_OK;
    const int size = c->size, rank = c->rank;
    int *send_counts = NULL, *send_displs = NULL, *recv_counts = NULL, *recv_displs = NULL;
    float **parts = NULL;
    if (size == 1) return DT_OK;
    if (n > 0x7fffffff) return dt_fail(err, DT_INTERNAL, "tree sum of %lld floats exceeds MPI's int counts", (long long)n);
    const int64_t my_begin = shard_begin(n, size, rank), my_len = shard_begin(n, size, rank + 1) - my_begin;
    if (c->scratch_floats < my_len * size) {
        free(c->scratch);
        c->scratch = malloc((size_t)(my_len * size + 1) * sizeof(float));
        c->scratch_floats = c->scratch ? my_len * size : 0;
        if (!c->scratch) return dt_fail(err, DT_NOMEM, "out of memory for the gradient exchange");
    }
    send_counts = calloc((size_t)size, sizeof(int));
    send_displs = calloc((size_t)size, sizeof(int));
    recv_counts = calloc((size_t)size, sizeof(int));
    recv_displs = calloc((size_t)size, sizeof(int));
    parts = calloc((size_t)size, sizeof(float *));
    if (!send_counts || !send_displs || !recv_counts || !recv_displs || !parts) {
        status = dt_fail(err, DT_NOMEM, "out of memory for the gradient exchange");
        goto cleanup;
    }
    /* 1. Shard s of every rank goes to rank s (displacements are MPI ints: shards fit). */
    for (int s = 0; s < size; s++) {
        send_counts[s] = (int)(shard_begin(n, size, s + 1) - shard_begin(n, size, s));
        send_displs[s] = (int)shard_begin(n, size, s);
        recv_counts[s] = (int)my_len;
        recv_displs[s] = (int)(my_len * s);
    }
    DT_MPI_CHECK(MPI_Alltoallv(values, send_counts, send_displs, MPI_FLOAT, c->scratch, recv_counts, recv_displs,
                               MPI_FLOAT, MPI_COMM_WORLD));
    /* 2. This rank's shard: the tree over rank index of what each rank sent. */
    for (int s = 0; s < size; s++) parts[s] = c->scratch + my_len * s;
    dt_tree_sum(parts, size, my_len, values + my_begin);
    /* 3. Everyone gets every reduced shard. */
    for (int s = 0; s < size; s++) {
        recv_counts[s] = send_counts[s];
        recv_displs[s] = send_displs[s];
    }
    DT_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, values, recv_counts, recv_displs, MPI_FLOAT,
                                MPI_COMM_WORLD));
cleanup:
    free(send_counts);
    free(send_displs);
    free(recv_counts);
    free(recv_displs);
    free(parts);
    return status;
}

dt_status dt_comm_sum_i64(dt_comm *c, int64_t *values, int n, dt_error *err) {
    dt_status status = DT_OK;
    if (c->size == 1) return DT_OK;
    /* Integers add exactly in any order, so MPI's own reduction is fine here. */
    DT_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD));
cleanup:
    return status;
}

dt_status dt_comm_check_same(dt_comm *c, const char *text, const char *what, dt_error *err) {
    dt_status status = DT_OK;
    enum { WIDTH = 128 };
    char mine[WIDTH];
    char *all = NULL;
    if (c->size == 1) return DT_OK;
    memset(mine, 0, sizeof mine);
    snprintf(mine, sizeof mine, "%s", text);
    all = calloc((size_t)c->size, WIDTH);
    if (!all) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_MPI_CHECK(MPI_Allgather(mine, WIDTH, MPI_CHAR, all, WIDTH, MPI_CHAR, MPI_COMM_WORLD));
    for (int r = 1; r < c->size; r++)
        if (memcmp(all, all + (size_t)r * WIDTH, WIDTH) != 0) {
            status = dt_fail(err, DT_MISMATCH, "%s differs between ranks: rank 0 has %.64s, rank %d has %.64s", what, all,
                             r, all + (size_t)r * WIDTH);
            break;
        }
cleanup:
    free(all);
    return status;
}

dt_status dt_comm_broadcast(dt_comm *c, void *bytes, int n, dt_error *err) {
    dt_status status = DT_OK;
    if (c->size == 1) return DT_OK;
    DT_MPI_CHECK(MPI_Bcast(bytes, n, MPI_BYTE, 0, MPI_COMM_WORLD));
cleanup:
    return status;
}

void dt_comm_abort(dt_comm *c, int exit_code) {
    if (c && c->size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
    exit(exit_code);
}

void dt_comm_finalize(dt_comm *c) {
    if (!c) return;
    if (c->started_mpi) MPI_Finalize();
    free(c->scratch);
    free(c);
}
