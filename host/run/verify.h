/* verify.h — detrain verify: re-execute a recorded run and compare it with its record. */
#ifndef DT_VERIFY_H
#define DT_VERIFY_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    int quiet;                 /* no progress output from the re-run */
    int64_t from_step;         /* start from the run's checkpoint of this step; < 0: from the start */
    int threads;               /* CPU threads of the re-run; 0: as recorded */
    double tolerance;          /* fast mode: relative tolerance of the metrics */
    int keep;                  /* keep the temporary run folder */
    int argc;                  /* the command line, for the re-run's record */
    char *const *argv;
} dt_verify_opts;

/* The earliest difference between the record and the re-run. */
typedef struct {
    int64_t step;              /* the step it shows at; 0: none */
    int rank;                  /* breaks ties within a step: loss, lr, epoch, checkpoint, final */
    char quantity[96];         /* what differs: "loss", "epoch 2 test_loss_bits", ... */
    char recorded[160], rerun[160];
} dt_verify_divergence;

/* A possible cause of a divergence; a strong one can explain it on its own. */
typedef struct {
    char text[1024];
    int strong;
} dt_verify_cause;

/* What verify found. `compared` says whether the records were compared at all (else only
 * rerun_failed and kept may be set). */
typedef struct {
    int compared;
    int fast;                  /* the run is in fast mode: its metrics compared within `tolerance` */
    double tolerance;
    dt_verify_divergence first;
    int64_t steps_compared, steps_differing;
    int epochs_compared, epochs_differing;
    int checkpoints_compared, checkpoints_differing;
    int final_compared, final_differing;
    char params_sha256[65];    /* the re-run's final parameter digest */
    char device[1024], mode[32]; /* the re-run's device, the recorded mode */
    char simd[32];             /* the re-run's SIMD path ("avx2"), as its record says */
    char gpu[256];             /* its GPU: "NAME (driver D, CUDA R, cuBLAS B)"; "" on the CPU */
    double seconds;            /* how long the re-run took */
    dt_verify_cause causes[5]; /* after a divergence: what the record says differs from now */
    int n_causes;
    char rerun_failed[DT_ERROR_MAX]; /* a re-run that failed on a non-finite value: why; "" */
    char kept[1024];           /* opts->keep: the re-run's folder; "" */
} dt_verify_report;

/* Re-runs the run recorded in run_dir into a temporary folder (removed afterwards unless
 * opts->keep) and compares every step's loss and lr bits, every epoch's metrics, every
 * checkpoint's parameter digest and the final digest with the record, into *report (also
 * filled as far as it got on failure). DT_OK when identical (fast mode: within the
 * tolerance); DT_MISMATCH when they differ (report->first, report->causes); DT_INTERRUPTED
 * when a signal stopped the re-run; DT_DATA / DT_IO / DT_CONFIG / DT_CHECKPOINT (exit 2) when
 * it cannot run, naming the file (for a changed data file, both digests). */
dt_status dt_verify(const char *run_dir, const dt_verify_opts *opts, dt_verify_report *report, dt_error *err);

#endif
