/* comm_single.c — the world of one process, for builds without MPI. Refuses to run as one
 * of several ranks (an MPI launcher's environment says so) instead of training alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"

struct dt_comm {
    int unused;
};

/* The world size an MPI launcher announced in the environment, or 1. */
static int launcher_world_size(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && atoi(v) > 1) return atoi(v);
    }
    return 1;
}

dt_status dt_comm_init(dt_comm **out, int *argc, char ***argv, dt_error *err) {
    (void)argc;
    (void)argv;
    const int size = launcher_world_size();
    if (size > 1)
        return dt_fail(err, DT_USAGE,
                       "started as one of %d ranks, but this build of detrain lacks MPI (install libopenmpi-dev and rebuild)",
                       size);
    *out = calloc(1, sizeof **out);
    if (!*out) return dt_fail(err, DT_NOMEM, "out of memory");
    return DT_OK;
}

int dt_comm_rank(const dt_comm *c) { return 0; }
int dt_comm_size(const dt_comm *c) { return 1; }
int dt_comm_local_rank(const dt_comm *c) { return 0; }
int dt_comm_local_size(const dt_comm *c) { return 1; }
const char *dt_comm_transport(const dt_comm *c) { return "none"; }
dt_status dt_comm_tree_sum(dt_comm *c, float *values, int64_t n, dt_error *err) { return DT_OK; }
dt_status dt_comm_sum_i64(dt_comm *c, int64_t *values, int n, dt_error *err) { return DT_OK; }
dt_status dt_comm_check_same(dt_comm *c, const char *text, const char *what, dt_error *err) { return DT_OK; }
dt_status dt_comm_broadcast(dt_comm *c, void *bytes, int n, dt_error *err) { return DT_OK; }
void dt_comm_abort(dt_comm *c, int exit_code) { exit(exit_code); }
void dt_comm_finalize(dt_comm *c) { free(c); }
