/* verify.h — detrain verify: re-execute a recorded run and compare it with its record. */
#ifndef DT_VERIFY_H
#define DT_VERIFY_H

#include <stdint.h>

#include "status.h"

typedef struct {
    int quiet;                 /* no progress output from the re-run */
    int64_t from_step;         /* start from the run's checkpoint of this step; < 0: from the start */
    int threads;               /* CPU threads of the re-run; 0: as recorded */
    double tolerance;          /* fast mode: relative tolerance of the metrics */
    int keep;                  /* keep the temporary run folder */
    int argc;                  /* the command line, for the re-run's record */
    char *const *argv;
} dt_verify_opts;

/* Re-runs the run recorded in run_dir into a temporary folder (removed afterwards unless
 * opts->keep) and compares every step's loss and lr bits, every epoch's metrics, every
 * checkpoint's parameter digest and the final digest with the record; prints the outcome
 * on stdout. DT_OK when identical (fast mode: within the tolerance); DT_MISMATCH after
 * printing a report of the first divergence and its likely cause; DT_DATA / DT_IO /
 * DT_CONFIG / DT_CHECKPOINT (exit 2) when it cannot run, naming the file (for a changed
 * data file, both digests). */
dt_status dt_verify(const char *run_dir, const dt_verify_opts *opts, dt_error *err);

#endif
