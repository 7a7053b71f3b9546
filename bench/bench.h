/* bench.h — `detrain bench`: what each numerical guarantee costs, and proof that it held.
 *
 * For every shape (bench/configs/<name>.json) x batch size x mode it trains on synthetic
 * data made from the seed: a warm-up, then S timed steps, the whole repeated R times from
 * the same initial state. A row holds the median step time and its spread over the
 * repeats, samples/s, TFLOP/s from counted FLOPs (6·batch·MACs per step: forward 2, backward
 * 4), the overhead against `fast`, and the bit-for-bit verdict across the repeats: distinct
 * parameter digests, largest absolute and ULP difference. Peers (PyTorch) and the
 * matrix-product microbenchmark (gemm_bench.h) join the same report: a table on stdout,
 * JSON with every figure, an SVG chart (bench_report.h). docs: bench/README.md. */
#ifndef DT_BENCH_H
#define DT_BENCH_H

#include <stdint.h>

#include "backends/backend.h"
#include "core/config.h"
#include "gemm_bench.h"
#include "core/status.h"

#define DT_BENCH_MAX_SIZES 16
#define DT_BENCH_MAX_BATCHES 8
#define DT_BENCH_MAX_REPEATS 64
#define DT_BENCH_MAX_SQUARES 8

/* The command line of `detrain bench`. */
typedef struct {
    dt_device_kind device;                    /* cpu or cuda */
    int n_modes;
    dt_mode modes[3];                         /* in the order given */
    int n_sizes;
    char sizes[DT_BENCH_MAX_SIZES][DT_PATH_MAX]; /* names in <bench dir>/configs, or .json paths */
    int n_batches;                            /* 0: each shape's own batch sizes for the device */
    int64_t batches[DT_BENCH_MAX_BATCHES];
    int repeats, steps, warmup;
    double min_time;                          /* seconds a repeat's timed steps last at least
                                                 (more steps than `steps` when needed); 0: off */
    int threads;                              /* CPU threads; 0 = every available core */
    uint64_t seed;
    int n_squares;                            /* square products of the microbenchmark; */
    int64_t squares[DT_BENCH_MAX_SQUARES];    /* n_squares = 0 and matmul_net = 0: none */
    int matmul_net;                           /* also the products of the first shape's net */
    int peers;                                /* run PyTorch when it is importable */
    int cross_check;                          /* compare portable digests with the CPU's (on by default off the CPU) */
    char bench_dir[DT_PATH_MAX];              /* holds configs/ and peers/ */
    char python[DT_PATH_MAX];                 /* the peer's interpreter */
    char json_path[DT_PATH_MAX];              /* "" = no JSON */
    char svg_path[DT_PATH_MAX];               /* "" = no SVG */
    int quiet;                                /* no progress lines on stderr */
    double max_ratio;                         /* --max-ratio: the gate on the headline ratios
                                                 (bench_gate.h); 0 = no gate */
} dt_bench_opts;

/* One training row: a detrain mode or a peer on one shape and batch size. */
typedef struct {
    char shape[64];                           /* "small" */
    char layers[160];                         /* "784-256-128-10" */
    int64_t batch;
    char engine[16];                          /* "detrain", "pytorch" */
    char mode[32];                            /* fast, deterministic, portable; peers: default, deterministic */
    char device[8];
    char route[256];                          /* what ran: the backend's description, the peer's setup */
    int skipped;
    char note[256];                           /* why skipped, or a remark (the OpenMP wait policy used) */
    int repeats, steps, warmup;               /* steps: as run (--steps, or more for --min-time) */
    double step_s[DT_BENCH_MAX_REPEATS];      /* mean step time of each repeat (device_clock) */
    double median_s, min_s, max_s;            /* over the repeats */
    int device_clock;                         /* step_s is the device's own clock (GPU events) */
    double wall_s[DT_BENCH_MAX_REPEATS];      /* mean step time of each repeat by the host's clock */
    double wall_median_s;                     /* over the repeats; 0 when not measured (peers) */
    double samples_per_s, tflops;             /* from the median */
    double flops_per_step;                    /* 6 * batch * MACs per sample */
    int64_t n_params;
    double overhead;                          /* median / the detrain fast row's median - 1; NAN when none */
    int promise;                              /* 1: this row promises one digest across repeats */
    int n_digests;                            /* distinct parameter digests over the repeats */
    char digest[65];                          /* the first repeat's */
    double max_abs_diff;                      /* between any two repeats' parameters */
    int64_t max_ulp;
    int cross_checked;                        /* portable: compared with the CPU's digest */
    int cross_equal;
    char cross_digest[65];                    /* the CPU's digest for the same steps */
    float first_loss, last_loss;              /* first repeat: the first and the last step's loss */
    int has_work;                             /* the backend counts what it submits (a GPU) */
    dt_work_counts work;                      /* submitted by the last repeat's timed steps */
    int work_steps;                           /* ... over this many steps */
} dt_bench_row;

/* Everything one `detrain bench` run measured. */
typedef struct {
    dt_bench_opts opts;
    dt_bench_row *rows;
    int n_rows, rows_cap;
    dt_gemm_row *gemm;                        /* the microbenchmark, device rows */
    int n_gemm;
    char gemm_note[256];                      /* why a device's products were not measured */
    char peer_note[256];                      /* why peers did not run, or "" */
    char peer_version[64];                    /* "PyTorch 1.13.0a0" once a peer ran */
    char device_text[256];                    /* the backend's description */
    char blas[96];
    char simd[16];
    int threads;                              /* CPU threads used */
    double started_unix;                      /* wall-clock start (seconds since 1970) */
    double seconds;                           /* the whole run */
    int n_broken;                             /* rows whose promise failed */
    char first_broken[256];
} dt_bench_report;

/* `detrain bench --help`. */
extern const char dt_bench_help_text[];

/* Parses the arguments after "bench" into opts (defaults first). DT_USAGE with one line naming
 * the bad option. *help is set when --help was given (nothing else is parsed then). */
dt_status dt_bench_parse_args(dt_bench_opts *opts, int argc, char **argv, int *help, dt_error *err);

/* Runs the benchmark, prints the table on stdout, writes the JSON and SVG files when asked.
 * Returns DT_MISMATCH naming the first row whose promise failed (a deterministic or portable
 * row with more than one digest, a GPU portable digest unlike the CPU's); DT_USAGE, DT_CONFIG,
 * DT_DEVICE, DT_IO, DT_NOMEM on the obvious failures. */
dt_status dt_bench_main(const dt_bench_opts *opts, dt_error *err);

/* dt_bench_main with a given backend table instead of the one --device selects (tests:
 * a backend that breaks its promise must make the run fail). */
dt_status dt_bench_main_with(const dt_bench_opts *opts, const dt_backend_ops *ops, dt_error *err);

/* Frees the report's rows. */
void dt_bench_report_free(dt_bench_report *report);

#endif
