/* bisect.h — detrain bisect: why two runs of one config differ, down to the operation.
 *
 * The two records name the first step where they differ (loss and learning-rate bits, the
 * checkpoints' parameter digests, the final digest) and the last checkpoint both hold with the
 * same parameters. From there each side is replayed on this machine (its own config: device,
 * mode, threads, microbatches, and the test-only fault its record names) with every operation
 * of the steps up to the difference traced (records/optrace.h); the first operation whose
 * output differs is named with its documented order and the size of the difference. A side may
 * be an op dump made on another machine (--dump-ops, bisect --dump-only). */
#ifndef DT_BISECT_H
#define DT_BISECT_H

#include <stdint.h>

#include "core/status.h"
#include "records/optrace.h"

typedef struct cJSON cJSON;

typedef struct {
    int threads;               /* CPU threads of the replays; 0: as recorded */
    const char *dump_out;      /* --dump-only: replay side B only and write its op dump here */
} dt_bisect_opts;

/* One side as bisect saw it. */
typedef struct {
    char given[1024];          /* as named on the command line */
    char kind[16];             /* "run", "registry", "op dump" */
    char device[256];          /* what it ran on (its record) */
    char mode[16];
    int microbatches;
    char perturb[160];         /* the test-only fault its record names, "" */
    char replayed_on[256];     /* what replayed it here ("" when not replayed) */
    char note[768];            /* what the replay does otherwise than the side did (ranks, no GPU), "" */
} dt_bisect_side;

/* The first differing operation, copied out of the traces. */
typedef struct {
    int64_t step;
    char name[96], kind[32];
    const char *order;         /* its documented order (static) */
    int index_a, index_b;      /* its place among the step's operations on each side */
    int64_t count, first_element, n_differing, max_ulp; /* max_ulp -1: values not at hand */
    double max_abs;
    float value_a, value_b;    /* at first_element (when values are at hand) */
    char sha_a[65], sha_b[65];
} dt_bisect_op;

typedef struct {
    dt_bisect_side a, b;
    int64_t steps_compared;    /* steps whose recorded bits were compared */
    int64_t record_step;       /* the first step the records show differing; 0: identical */
    char record_quantity[160]; /* what differs there: "loss", "checkpoint step 20 params", "final params" */
    int64_t start_step;        /* the replays started after this step (a common checkpoint; 0: the start) */
    int64_t last_step;         /* ... and ran through this one */
    int replayed;              /* the sides were replayed here */
    int localized;             /* an operation was named (op) */
    dt_bisect_op op;
    int64_t ops_compared, ops_unmatched;
    double seconds;            /* the replays' time */
} dt_bisect_report;

/* The "meta" of an op dump of a run: what bisect compares (config, data digests) and what it
 * says (run id, device, mode, code, the test-only fault). NULL on OOM; the caller deletes it. */
cJSON *dt_bisect_dump_meta(const cJSON *manifest);

/* Compares sides a and b (run folders or op dumps) into *report.
 * DT_OK: identical; DT_MISMATCH: they differ (report->localized says whether an operation was
 * named); DT_CONFIG (exit 2) when they are not runs of one config, naming the keys; DT_IO,
 * DT_CHECKPOINT, DT_DATA, DT_USAGE when a side cannot be read or replayed. With
 * opts->dump_out, only side b is replayed and its trace written there (DT_OK). */
dt_status dt_bisect(const char *a, const char *b, const dt_bisect_opts *opts, dt_bisect_report *report, dt_error *err);

#endif
