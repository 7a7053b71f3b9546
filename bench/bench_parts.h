/* bench_parts.h — the pieces of `detrain bench` (bench.h) that its files share: shape files,
 * the peer, and the report's three outputs. Not a public interface. */
#ifndef DT_BENCH_PARTS_H
#define DT_BENCH_PARTS_H

#include <stdio.h>

#include "bench.h"
#include "core/config.h"
#include "core/status.h"

typedef struct cJSON cJSON;

/* A bench shape file: bench/configs/<name>.json. */
typedef struct {
    char name[64];
    char about[256];
    char path[DT_PATH_MAX];
    cJSON *root;                              /* the parsed file (model, optimizer, loss objects) */
    int n_batches;
    int64_t batches[DT_BENCH_MAX_BATCHES];    /* for the device asked for */
} dt_bench_shape;

/* Loads and checks a shape file: `name` is a path ending in .json or a name looked up as
 * <bench_dir>/configs/<name>.json. Batch sizes are those listed for `device`. DT_IO, DT_CONFIG
 * naming the file and key. Free with dt_bench_shape_free. */
dt_status dt_bench_shape_load(dt_bench_shape *shape, const char *name, const char *bench_dir, dt_device_kind device,
                              dt_error *err);
void dt_bench_shape_free(dt_bench_shape *shape);

/* The full training config of one row: the shape's model, optimizer and loss, placeholder
 * data sources (the data is synthetic), batch size, mode, device, threads, seed; validated
 * like any config, so errors name the shape file and the JSON path. */
dt_status dt_bench_shape_config(const dt_bench_shape *shape, const dt_bench_opts *opts, int64_t batch, dt_mode mode,
                                dt_config *cfg, dt_error *err);

/* What the peer is asked to train: one shape at one batch size, as detrain's rows. */
typedef struct {
    const char *shape;
    const int32_t *widths;                    /* input, then every layer's units */
    int n_widths;
    int64_t batch;
    int steps;                                /* timed steps per repeat */
    float lr;                                 /* Adam's */
    const char *init_sha256;                  /* detrain's initial parameters and synthetic */
    const char *data_sha256;                  /* features, which the peer must reproduce */
} dt_bench_peer_job;

/* The PyTorch peer of one shape and batch, its repeats run round by round beside detrain's
 * (bench_peer.c). When the peer cannot run, report->peer_note says why, and the calls below
 * do nothing more (no rows). */
typedef struct dt_bench_peer_run dt_bench_peer_run;
/* Readies a run of job (which must outlive it); *run NULL when a peer note stops peers. */
dt_status dt_bench_peer_start(dt_bench_report *report, const dt_bench_peer_job *job, dt_bench_peer_run **run,
                              dt_error *err);
/* Round r: one repeat of each variant (CPU: two OpenMP wait policies; GPU: without and with
 * deterministic algorithms). */
dt_status dt_bench_peer_round(dt_bench_report *report, dt_bench_peer_run *run, int r, dt_error *err);
/* After the last round: appends the rows (CPU: the better variant; GPU: both). */
dt_status dt_bench_peer_finish(dt_bench_report *report, dt_bench_peer_run *run, dt_error *err);
void dt_bench_peer_free(dt_bench_peer_run *run);

/* A new zeroed row at the end of the report; NULL when out of memory. */
dt_bench_row *dt_bench_row_add(dt_bench_report *report);

/* Fills the derived figures of a row from its step times (median, spread, samples/s, TFLOP/s). */
void dt_bench_row_finish(dt_bench_row *row);

/* The readable report: training table, microbenchmark table, goals. */
void dt_bench_print(const dt_bench_report *report, FILE *out);
/* Every figure, the environment and the versions, as JSON. DT_IO naming the file. */
dt_status dt_bench_write_json(const dt_bench_report *report, const char *path, dt_error *err);
/* A chart of step time and overhead against fast per shape, batch and mode. DT_IO. */
dt_status dt_bench_write_svg(const dt_bench_report *report, const char *path, dt_error *err);

#endif
