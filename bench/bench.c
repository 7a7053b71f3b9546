/* bench.c — `detrain bench`: options, the training rows and their verdicts, the run as a whole
 * (bench.h). Shape files: bench_shape.c; the peer: bench_peer.c; output: bench_report.c. */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/blas.h"
#include "bench_gate.h"
#include "bench_parts.h"
#include "bench_stats.h"
#include "cpu/matmul.h"
#include "core/digest.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/pool.h"
#include "core/progress.h"
#include "synthetic.h"

#ifndef DT_BENCH_DIR
#define DT_BENCH_DIR "bench"
#endif

const char dt_bench_help_text[] =
    "usage: detrain bench [options]\n"
    "\n"
    "Measures what each numerical guarantee costs and checks, bit for bit, that it held.\n"
    "For every shape x batch size x mode: warm-up steps, then S timed steps, all repeated R\n"
    "times from the same seed on synthetic data made from it, the modes taking turns (one\n"
    "repeat of each per round, each on a fresh backend). Each row gives the median step\n"
    "time and its spread, samples/s, TFLOP/s (6 x batch x MACs per step: forward 2, backward 4),\n"
    "the overhead against fast, and the verdict across the repeats: distinct parameter digests,\n"
    "largest absolute and ULP difference. Then matrix products: detrain's portable kernel\n"
    "against OpenBLAS (CPU) or cuBLAS FP32 and TF32 (GPU). PyTorch runs the same shapes when\n"
    "it is importable.\n"
    "\n"
    "options:\n"
    "  --device D         cpu (default), cuda or auto\n"
    "  --modes LIST       of fast, deterministic, portable (default all three)\n"
    "  --sizes LIST       shapes: names in bench/configs (small, medium, large; default all)\n"
    "                     or paths of shape files (.json)\n"
    "  --batches LIST     batch sizes for every shape (default: each shape's own for the device)\n"
    "  --repeats R        repeats of each row (default 5)\n"
    "  --steps S          timed steps per repeat (default 10)\n"
    "  --warmup W         untimed steps before them (default 2)\n"
    "  --min-time T       more timed steps when S would last less than T seconds (default 1;\n"
    "                     0: exactly S), so that short steps are timed over a long enough span\n"
    "  --threads T        CPU threads (default: every available core)\n"
    "  --seed N           seed of the data and the initial parameters (default 1)\n"
    "  --matmul LIST      square sizes of the matrix-product rows (default 256,512,1024,2048,4096,\n"
    "                     none when --sizes is given: the squares are asked for, not implied);\n"
    "                     'none' skips them\n"
    "  --no-matmul-net    leave out the products of the first shape's layers\n"
    "  --peers P          auto (default: run PyTorch when importable) or none\n"
    "  --python PATH      the peer's interpreter (default /usr/bin/python3)\n"
    "  --cross-check      compare portable digests with a CPU run (default: on for GPU rows)\n"
    "  --no-cross-check   leave the CPU run out (compute-bound GPU shapes take minutes on a CPU)\n"
    "  --bench-dir DIR    where configs/ and peers/ are (default: the installed copy beside the\n"
    "                     program, <bin>/../share/detrain/bench, else the source tree's bench/)\n"
    "  --json FILE        write every figure, the environment and the versions as JSON\n"
    "  --svg FILE         write a chart of step time and overhead per mode and shape\n"
    "  --quiet            no progress lines on stderr\n"
    "  --max-ratio R      a CI gate on what determinism costs: every deterministic / fast and\n"
    "                     portable / deterministic step-time ratio must stay at most R over\n"
    "                     all the repeats (the ratios are printed after the table either way)\n"
    "\n"
    "Exit codes: 0 every promise held (and every ratio within --max-ratio), 1 a deterministic\n"
    "or portable row gave more than one digest (or a GPU portable digest differs from the\n"
    "CPU's), or a ratio is above --max-ratio over every repeat, 2 bad input, no such device,\n"
    "or a ratio whose repeats straddle --max-ratio (inconclusive: more --repeats or\n"
    "--min-time).\n";

/* Whether the backend runs on a GPU: a GPU backend describes its device (backend.h), the
 * CPU's does not; bench never branches on a backend's name. */
static int on_gpu(const dt_backend_ops *ops) {
    return ops->gpu_info != NULL;
}

/* ---- options ------------------------------------------------------------------------- */

/* Splits a comma-separated list of positive integers into values (at most max). -1 on error. */
static int parse_int_list(const char *text, int64_t *values, int max, int64_t limit) {
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        const long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 1 || v > limit || n >= max || (*end && *end != ',')) return -1;
        values[n++] = v;
        p = *end ? end + 1 : end;
    }
    return n;
}

/* A non-negative integer option value; -1 when it is not one. */
static long long parse_count(const char *text, long long limit) {
    char *end;
    errno = 0;
    const long long v = strtoll(text, &end, 10);
    return (end == text || *end || errno || v < 0 || v > limit) ? -1 : v;
}

static dt_status bad_value(dt_error *err, const char *option, const char *value, const char *expected) {
    return dt_fail(err, DT_USAGE, "bench: %s '%s': expected %s", option, value, expected);
}

/* Where configs/ and peers/ are: beside an installed program (<bin>/../share/detrain/bench),
 * else the source tree's bench/ this program was built from. */
static void default_bench_dir(char *out, size_t size) {
    char exe[DT_PATH_MAX] = "", installed[DT_PATH_MAX + 64];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        snprintf(installed, sizeof installed, "%s/../share/detrain/bench", exe);
        struct stat info;
        if (strlen(installed) < size && stat(installed, &info) == 0 && S_ISDIR(info.st_mode)) {
            memcpy(out, installed, strlen(installed) + 1);
            return;
        }
    }
    snprintf(out, size, "%s", DT_BENCH_DIR);
}

/* The defaults: every mode, the three shapes, the squares, 5 repeats of 10 steps or 1 s. */
static void set_defaults(dt_bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->device = DT_DEVICE_CPU;
    o->n_modes = 3;
    o->modes[0] = DT_MODE_FAST, o->modes[1] = DT_MODE_DETERMINISTIC, o->modes[2] = DT_MODE_PORTABLE;
    o->n_sizes = 3;
    snprintf(o->sizes[0], sizeof o->sizes[0], "small");
    snprintf(o->sizes[1], sizeof o->sizes[1], "medium");
    snprintf(o->sizes[2], sizeof o->sizes[2], "large");
    o->repeats = 5, o->steps = 10, o->warmup = 2, o->seed = 1, o->min_time = 1.0;
    const int64_t squares[] = {256, 512, 1024, 2048, 4096};
    o->n_squares = 5;
    memcpy(o->squares, squares, sizeof squares);
    o->matmul_net = 1, o->peers = 1, o->cross_check = -1;
    default_bench_dir(o->bench_dir, sizeof o->bench_dir);
    snprintf(o->python, sizeof o->python, "/usr/bin/python3");
}

/* Sets what a flag (an option without a value) asks for; 0 when `arg` is not a flag. */
static int read_flag(dt_bench_opts *o, const char *arg) {
    if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q")) o->quiet = 1;
    else if (!strcmp(arg, "--no-matmul-net")) o->matmul_net = 0;
    else if (!strcmp(arg, "--cross-check")) o->cross_check = 1;
    else if (!strcmp(arg, "--no-cross-check")) o->cross_check = 0;
    else return 0;
    return 1;
}

/* Each reader below stores the value of `option` in o, or returns DT_USAGE naming both. */

static dt_status read_device(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    if (!strcmp(value, "cpu")) o->device = DT_DEVICE_CPU;
    else if (!strcmp(value, "cuda")) o->device = DT_DEVICE_CUDA;
    else if (!strcmp(value, "auto")) o->device = DT_DEVICE_AUTO;
    else return bad_value(err, option, value, "cpu, cuda or auto");
    return DT_OK;
}

/* A list of distinct modes, in the order given. */
static dt_status read_modes(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    o->n_modes = 0;
    char list[128];
    snprintf(list, sizeof list, "%s", value);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        dt_mode m;
        if (!strcmp(tok, "fast")) m = DT_MODE_FAST;
        else if (!strcmp(tok, "deterministic")) m = DT_MODE_DETERMINISTIC;
        else if (!strcmp(tok, "portable")) m = DT_MODE_PORTABLE;
        else return bad_value(err, option, value, "a list of fast, deterministic, portable");
        for (int k = 0; k < o->n_modes; k++)
            if (o->modes[k] == m) return bad_value(err, option, value, "each mode once");
        o->modes[o->n_modes++] = m;
    }
    if (!o->n_modes) return bad_value(err, option, value, "a list of fast, deterministic, portable");
    return DT_OK;
}

/* A list of shape names or paths, none empty. */
static dt_status read_sizes(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    o->n_sizes = 0;
    const char *p = value;
    while (*p) {
        const size_t len = strcspn(p, ",");
        if (!len || len >= sizeof o->sizes[0] || o->n_sizes >= DT_BENCH_MAX_SIZES)
            return bad_value(err, option, value, "a list of shape names or .json paths");
        memcpy(o->sizes[o->n_sizes], p, len);
        o->sizes[o->n_sizes++][len] = '\0';
        p += len + (p[len] == ',');
    }
    if (!o->n_sizes) return bad_value(err, option, value, "a list of shape names or .json paths");
    return DT_OK;
}

static dt_status read_batches(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    if ((o->n_batches = parse_int_list(value, o->batches, DT_BENCH_MAX_BATCHES, 1048576)) <= 0)
        return bad_value(err, option, value, "a list of up to 8 batch sizes from 1 to 1048576");
    return DT_OK;
}

/* 'none' (no products at all) or the sizes of the square products. */
static dt_status read_matmul(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    if (!strcmp(value, "none")) o->n_squares = 0, o->matmul_net = 0;
    else if ((o->n_squares = parse_int_list(value, o->squares, DT_BENCH_MAX_SQUARES, 16384)) <= 0)
        return bad_value(err, option, value, "'none' or a list of up to 8 sizes from 1 to 16384");
    return DT_OK;
}

static dt_status read_repeats(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    const long long count = parse_count(value, DT_BENCH_MAX_REPEATS);
    if (count < 1) return bad_value(err, option, value, "1 to 64");
    o->repeats = (int)count;
    return DT_OK;
}

static dt_status read_steps(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    const long long count = parse_count(value, 1000000);
    if (count < 1) return bad_value(err, option, value, "1 to 1000000");
    o->steps = (int)count;
    return DT_OK;
}

static dt_status read_warmup(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    const long long count = parse_count(value, 1000000);
    if (count < 0) return bad_value(err, option, value, "0 to 1000000");
    o->warmup = (int)count;
    return DT_OK;
}

static dt_status read_min_time(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    char *end;
    const double t = strtod(value, &end);
    if (end == value || *end || !(t >= 0 && t <= 3600)) return bad_value(err, option, value, "0 to 3600 seconds");
    o->min_time = t;
    return DT_OK;
}

static dt_status read_max_ratio(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    char *end;
    const double r = strtod(value, &end);
    if (end == value || *end || !(r > 0 && r <= 1e6)) return bad_value(err, option, value, "a ratio above 0");
    o->max_ratio = r;
    return DT_OK;
}

static dt_status read_threads(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    const long long count = parse_count(value, 1024);
    if (count < 0) return bad_value(err, option, value, "0 to 1024");
    o->threads = (int)count;
    return DT_OK;
}

/* A seed that a double (JSON, the peer) holds exactly. */
static dt_status read_seed(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    const long long count = parse_count(value, 9007199254740991LL);
    if (count < 0) return bad_value(err, option, value, "0 to 2^53 - 1");
    o->seed = (uint64_t)count;
    return DT_OK;
}

static dt_status read_peers(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    if (!strcmp(value, "auto")) o->peers = 1;
    else if (!strcmp(value, "none")) o->peers = 0;
    else return bad_value(err, option, value, "auto or none");
    return DT_OK;
}

/* A non-empty path that fits DT_PATH_MAX, into target. */
static dt_status copy_path(char *target, const char *option, const char *value, dt_error *err) {
    if (!value[0] || strlen(value) >= DT_PATH_MAX) return bad_value(err, option, value, "a path");
    snprintf(target, DT_PATH_MAX, "%s", value);
    return DT_OK;
}

static dt_status read_python(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    return copy_path(o->python, option, value, err);
}

static dt_status read_bench_dir(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    return copy_path(o->bench_dir, option, value, err);
}

static dt_status read_json(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    return copy_path(o->json_path, option, value, err);
}

static dt_status read_svg(dt_bench_opts *o, const char *option, const char *value, dt_error *err) {
    return copy_path(o->svg_path, option, value, err);
}

/* The options that take a value, and what reads it. */
static const struct {
    const char *name;
    dt_status (*read)(dt_bench_opts *o, const char *option, const char *value, dt_error *err);
} value_options[] = {
    {"--device", read_device},   {"--modes", read_modes},     {"--sizes", read_sizes},
    {"--batches", read_batches}, {"--repeats", read_repeats}, {"--steps", read_steps},
    {"--warmup", read_warmup},   {"--min-time", read_min_time}, {"--max-ratio", read_max_ratio}, {"--threads", read_threads},
    {"--seed", read_seed},       {"--matmul", read_matmul},   {"--peers", read_peers},
    {"--python", read_python},   {"--bench-dir", read_bench_dir}, {"--json", read_json},
    {"--svg", read_svg},
};

dt_status dt_bench_parse_args(dt_bench_opts *o, int argc, char **argv, int *help, dt_error *err) {
    set_defaults(o);
    *help = 0;
    int sizes_given = 0, matmul_given = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            *help = 1;
            return DT_OK;
        }
        if (read_flag(o, arg)) continue;
        size_t k = 0;
        while (k < sizeof value_options / sizeof value_options[0] && strcmp(arg, value_options[k].name)) k++;
        if (k == sizeof value_options / sizeof value_options[0])
            return dt_fail(err, DT_USAGE, "bench: unknown %s '%s'", arg[0] == '-' ? "option" : "argument", arg);
        if (i + 1 >= argc) return dt_fail(err, DT_USAGE, "bench: option '%s' needs a value", arg);
        const dt_status status = value_options[k].read(o, arg, argv[++i], err);
        if (status != DT_OK) return status;
        sizes_given |= !strcmp(arg, "--sizes");
        matmul_given |= !strcmp(arg, "--matmul");
    }
    if (sizes_given && !matmul_given) o->n_squares = 0; /* --sizes small: its rows and its layers' products only */
    return DT_OK;
}

/* ---- one training row ---------------------------------------------------------------- */

/* Starts the timed region: the device's own marks when it has them, else the host clock. */
static dt_status timing_begin(const dt_backend_ops *ops, dt_backend *be, double *t0, dt_error *err) {
    *t0 = dt_now_seconds();
    return ops->timing_begin ? ops->timing_begin(be, err) : DT_OK;
}

/* Ends it and gives the seconds since timing_begin. */
static dt_status timing_end(const dt_backend_ops *ops, dt_backend *be, double t0, double *seconds, dt_error *err) {
    if (ops->timing_end) return ops->timing_end(be, seconds, err);
    *seconds = dt_now_seconds() - t0;
    return DT_OK;
}

/* What one repeat needs. */
typedef struct {
    const dt_backend_ops *ops;
    dt_backend *be;
    const dt_config *cfg;
    const dt_net *net;
    const float *init;        /* (n_params) the initial parameters */
    dt_host_state *state;     /* receives the final state */
    const int64_t *index;     /* (2 * batch) rows of the synthetic set */
    int64_t batch;
    int warmup, steps;
    dt_work_counts *work;     /* receives what the timed steps submitted (backends that count) */
} repeat_ctx;

/* Collects the last `count` deferred step results: the first one's loss into *first (when
 * not NULL), the last one's into *last. */
static dt_status collect(const repeat_ctx *c, int count, float *first, float *last, dt_error *err) {
    dt_step_result *results = malloc((size_t)count * sizeof *results);
    if (!results) return dt_fail(err, DT_NOMEM, "out of memory");
    const dt_status status = c->ops->collect_results(c->be, results, count, err);
    if (status == DT_OK) {
        if (first) *first = results[0].loss;
        *last = results[count - 1].loss;
    }
    free(results);
    return status;
}

/* From the initial state: warmup + steps steps (the last `steps` timed); the final state
 * lands in c->state. Step s trains on the rows [(s mod 2) * batch, + batch), named by their
 * place in the order set once (open_backend) where the backend keeps one, as in training.
 * *step_s is the mean timed step by the backend's clock (a GPU's events), *wall_s by the
 * host's: on a GPU the difference is host time the device did not hide. */
static dt_status one_repeat(const repeat_ctx *c, double *step_s, double *wall_s, float *first_loss, float *last_loss,
                            dt_error *err) {
    dt_status status = DT_OK;
    const size_t bytes = (size_t)c->net->n_params * sizeof(float);
    memcpy(c->state->params, c->init, bytes);
    memset(c->state->opt_m, 0, bytes);
    memset(c->state->opt_v, 0, bytes);
    DT_TRY(c->ops->set_state(c->be, c->state, err));
    dt_optim_counters counters = dt_optim_counters_start();
    const int total = c->warmup + c->steps;
    /* A backend that can defer results runs the steps without waiting for each one; the
     * results are collected (which waits) before the timed region ends. */
    const int deferred = c->ops->collect_results != NULL;
    double t0 = 0.0, seconds = 0.0;
    dt_work_counts w0 = {0}, w1 = {0};
    for (int s = 0; s < total; s++) {
        if (s == c->warmup) {
            if (c->ops->work_counts) c->ops->work_counts(c->be, &w0);
            DT_TRY(timing_begin(c->ops, c->be, &t0, err));
        }
        dt_step_desc step;
        memset(&step, 0, sizeof step);
        step.sample_index = c->index + (s % 2) * c->batch;
        step.order_offset = c->ops->set_order ? (s % 2) * c->batch : -1; /* as train.c's steps */
        step.batch = (int32_t)c->batch;
        step.step = (uint64_t)s;
        dt_optim_next(c->cfg, dt_schedule_lr(c->cfg, (uint64_t)s, (uint64_t)total), &counters, &step.scalars);
        dt_step_result result;
        DT_TRY(c->ops->train_step(c->be, &step, deferred ? NULL : &result, err));
        if (deferred && (s + 1) % DT_RESULT_LOG == 0) /* keep the first loss before the log wraps */
            DT_TRY(collect(c, DT_RESULT_LOG, s + 1 == DT_RESULT_LOG ? first_loss : NULL, last_loss, err));
        if (!deferred && s == 0) *first_loss = result.loss;
        if (!deferred) *last_loss = result.loss;
    }
    if (deferred && total % DT_RESULT_LOG)
        DT_TRY(collect(c, total % DT_RESULT_LOG, total < DT_RESULT_LOG ? first_loss : NULL, last_loss, err));
    DT_TRY(timing_end(c->ops, c->be, t0, &seconds, err));
    *wall_s = (dt_now_seconds() - t0) / c->steps;
    *step_s = seconds / c->steps;
    if (c->ops->work_counts && c->work) {
        c->ops->work_counts(c->be, &w1);
        *c->work = (dt_work_counts){w1.kernels - w0.kernels, w1.library_calls - w0.library_calls,
                                    w1.copies - w0.copies,   w1.syncs - w0.syncs,
                                    w1.graphs - w0.graphs,   w1.graph_nodes - w0.graph_nodes};
    }
    DT_TRY(c->ops->get_state(c->be, c->state, err));
cleanup:
    return status;
}

/* Everything of one shape x batch that its rows share. */
typedef struct {
    const dt_bench_shape *shape;
    dt_net net;
    dt_dataset data;          /* 2 * batch synthetic samples */
    int64_t *index;           /* 0, 1, ..., 2 * batch - 1 */
    const float *init;
    int64_t batch;
    char layers[160];
    char init_sha256[65], data_sha256[65];  /* what a peer must start from */
    float lr;                 /* the optimizer's */
    int adam;                 /* the optimizer is Adam (the peer knows no other) */
} group_ctx;

/* Creates a backend for cfg with the group's data and its order (*be NULL on failure). */
static dt_status open_backend(const dt_backend_ops *ops, const group_ctx *g, const dt_config *cfg, dt_backend **be,
                              dt_error *err) {
    dt_status status = DT_OK;
    *be = NULL;
    DT_TRY(ops->create(be, &g->net, cfg, err));
    DT_TRY(ops->set_data(*be, &g->data, &g->data, NULL, err));
    /* The order once, as training sets an epoch's: the timed steps take the training path,
     * which sends no indices per step (see one_repeat). */
    if (ops->set_order) DT_TRY(ops->set_order(*be, g->index, 2 * g->batch, err));
cleanup:
    if (status != DT_OK && *be) {
        ops->destroy(*be);
        *be = NULL;
    }
    return status;
}

/* One detrain row of a group while its repeats run. The group's rows take turns, a repeat
 * each per round, so that a drift of the machine's speed (clocks, heat, a neighbour) falls
 * on every mode alike instead of on whichever ran last; each repeat opens its own backend,
 * so no idle backend (a CPU pool's spinning workers) runs beside another's timed steps. */
typedef struct {
    int row;                  /* its index in report->rows */
    dt_config *cfg;           /* the mode's (runtime.tf32 for deterministic+tf32) */
    dt_host_state state;      /* the last repeat's final state */
    float *lo, *hi;           /* the envelope of the repeats' final parameters */
    int steps;                /* timed steps a repeat: --steps, or more for --min-time */
    char digests[DT_BENCH_MAX_REPEATS][65];
} mode_run;

static void mode_run_free(mode_run *m) {
    dt_host_state_free(&m->state);
    free(m->lo);
    free(m->hi);
    free(m->cfg);
}

/* Adds the row of `mode` (with TF32 when `tf32`) to the report and readies *m to run it. */
static dt_status mode_run_start(dt_bench_report *report, const dt_backend_ops *ops, const group_ctx *g, dt_mode mode,
                                int tf32, mode_run *m, dt_error *err) {
    const dt_bench_opts *o = &report->opts;
    const size_t n_params = (size_t)g->net.n_params;
    dt_bench_row *row = dt_bench_row_add(report);
    m->cfg = calloc(1, sizeof *m->cfg);
    m->lo = malloc(n_params * sizeof(float) + 1), m->hi = malloc(n_params * sizeof(float) + 1);
    if (!row || !m->cfg || !m->lo || !m->hi) return dt_fail(err, DT_NOMEM, "out of memory for the %s rows", g->shape->name);
    m->row = report->n_rows - 1, m->steps = o->steps;
    snprintf(row->shape, sizeof row->shape, "%s", g->shape->name);
    snprintf(row->layers, sizeof row->layers, "%s", g->layers);
    snprintf(row->engine, sizeof row->engine, "detrain");
    snprintf(row->mode, sizeof row->mode, "%s%s", dt_mode_name(mode), tf32 ? "+tf32" : "");
    snprintf(row->device, sizeof row->device, "%s", ops->name);
    row->batch = g->batch;
    row->repeats = o->repeats, row->steps = o->steps, row->warmup = o->warmup;
    row->n_params = g->net.n_params;
    row->flops_per_step = 6.0 * (double)g->batch * (double)dt_net_macs_per_sample(&g->net);
    row->promise = mode != DT_MODE_FAST;
    row->has_work = ops->work_counts != NULL;
    row->device_clock = ops->timing_end != NULL;
    dt_status status = dt_bench_shape_config(g->shape, o, g->batch, mode, m->cfg, err);
    if (status == DT_OK) m->cfg->runtime.tf32 = tf32;
    return status == DT_OK ? dt_host_state_alloc(&m->state, &g->net, err) : status;
}

/* Repeat r of the row: a fresh backend, warm-up and timed steps from the initial state, the
 * digest and envelope of the final parameters. The first repeat also sets how many steps
 * every repeat times: when --steps last less than --min-time, enough to last that long (and
 * that repeat runs again with them). */
static dt_status mode_repeat(dt_bench_report *report, const dt_backend_ops *ops, const group_ctx *g, mode_run *m,
                             int r, dt_error *err) {
    dt_status status = DT_OK;
    const dt_bench_opts *o = &report->opts;
    dt_backend *be = NULL;
    DT_TRY(open_backend(ops, g, m->cfg, &be, err));
    dt_bench_row *row = &report->rows[m->row];
    if (r == 0) ops->describe(be, row->route, sizeof row->route);
    repeat_ctx c = {ops, be, m->cfg, &g->net, g->init, &m->state, g->index, g->batch, o->warmup, m->steps, &row->work};
    float first = 0.0f, last = 0.0f;
    DT_TRY(one_repeat(&c, &row->step_s[r], &row->wall_s[r], &first, &last, err));
    if (r == 0 && row->step_s[0] * c.steps < o->min_time) {
        const double want = ceil(o->min_time / (row->step_s[0] > 0 ? row->step_s[0] : 1e-9));
        c.steps = m->steps = want > 1000000 ? 1000000 : (int)want;
        DT_TRY(one_repeat(&c, &row->step_s[r], &row->wall_s[r], &first, &last, err));
    }
    const int64_t n = g->net.n_params;
    if (r == 0) {
        row->first_loss = first, row->last_loss = last;
        dt_envelope_start(m->lo, m->hi, m->state.params, n);
    } else {
        dt_envelope_add(m->lo, m->hi, m->state.params, n);
    }
    dt_params_sha256(&g->net, m->state.params, m->digests[r]);
cleanup:
    if (be) ops->destroy(be);
    return status;
}

/* After the last round: the row's verdict over its repeats (distinct digests, envelope). */
static void mode_run_summarize(dt_bench_report *report, const mode_run *m) {
    dt_bench_row *row = &report->rows[m->row];
    row->n_digests = dt_distinct_digests((const char(*)[65])m->digests, report->opts.repeats);
    snprintf(row->digest, sizeof row->digest, "%s", m->digests[0]);
    row->steps = row->work_steps = m->steps;
    const dt_float_diff d = dt_compare_floats(m->lo, m->hi, (int64_t)row->n_params);
    row->max_abs_diff = d.max_abs_diff;
    row->max_ulp = d.max_ulp;
    dt_bench_row_finish(row);
}

/* The CPU's portable digest for the same steps as a row (one repeat). */
static dt_status cpu_digest(dt_bench_report *report, const group_ctx *g, int steps, char digest[65], dt_error *err) {
    dt_status status = DT_OK;
    dt_bench_opts o = report->opts;
    o.device = DT_DEVICE_CPU;
    dt_config *cfg = calloc(1, sizeof *cfg);
    dt_backend *be = NULL;
    dt_host_state state = {0};
    if (!cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_TRY(dt_bench_shape_config(g->shape, &o, g->batch, DT_MODE_PORTABLE, cfg, err));
    DT_TRY(dt_host_state_alloc(&state, &g->net, err));
    DT_TRY(open_backend(&dt_cpu_backend, g, cfg, &be, err));
    repeat_ctx c = {&dt_cpu_backend, be, cfg, &g->net, g->init, &state, g->index, g->batch, o.warmup, steps, NULL};
    double step_s, wall_s;
    float first, last;
    DT_TRY(one_repeat(&c, &step_s, &wall_s, &first, &last, err));
    dt_params_sha256(&g->net, state.params, digest);
cleanup:
    if (be) dt_cpu_backend.destroy(be);
    dt_host_state_free(&state);
    free(cfg);
    return status;
}

/* ---- the run ------------------------------------------------------------------------- */

static void note(const dt_bench_report *report, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const dt_bench_report *report, const char *fmt, ...) {
    if (report->opts.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

dt_bench_row *dt_bench_row_add(dt_bench_report *report) {
    if (report->n_rows == report->rows_cap) {
        const int cap = report->rows_cap ? 2 * report->rows_cap : 32;
        dt_bench_row *grown = realloc(report->rows, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        report->rows = grown;
        report->rows_cap = cap;
    }
    dt_bench_row *row = &report->rows[report->n_rows++];
    memset(row, 0, sizeof *row);
    row->overhead = NAN;
    return row;
}

void dt_bench_row_finish(dt_bench_row *row) {
    double sorted[DT_BENCH_MAX_REPEATS];
    memcpy(sorted, row->step_s, (size_t)row->repeats * sizeof(double));
    row->median_s = dt_median(sorted, row->repeats);
    row->min_s = sorted[0];
    row->max_s = sorted[row->repeats - 1];
    memcpy(sorted, row->wall_s, (size_t)row->repeats * sizeof(double));
    row->wall_median_s = dt_median(sorted, row->repeats);
    row->samples_per_s = row->median_s > 0 ? (double)row->batch / row->median_s : 0.0;
    row->tflops = row->median_s > 0 ? row->flops_per_step / row->median_s * 1e-12 : 0.0;
}

/* The overhead of every row of the group starting at `first` against its detrain fast row. */
static void set_overheads(dt_bench_report *report, int first) {
    const dt_bench_row *fast = NULL;
    for (int r = first; r < report->n_rows; r++)
        if (!strcmp(report->rows[r].engine, "detrain") && !strcmp(report->rows[r].mode, "fast") &&
            !report->rows[r].skipped)
            fast = &report->rows[r];
    if (!fast) return;
    for (int r = first; r < report->n_rows; r++)
        if (!report->rows[r].skipped) report->rows[r].overhead = report->rows[r].median_s / fast->median_s - 1.0;
}

/* Records a broken promise (the first one names the error). */
static void broken(dt_bench_report *report, const dt_bench_row *row, const char *what) {
    if (!report->n_broken++)
        snprintf(report->first_broken, sizeof report->first_broken, "%s batch %lld %s: %s", row->shape,
                 (long long)row->batch, row->mode, what);
}

/* A finished row's promise: the portable digest against the CPU's where asked, one digest
 * across the repeats where one is promised. */
static dt_status check_promise(dt_bench_report *report, const dt_backend_ops *ops, const group_ctx *g, int row_index,
                               dt_error *err) {
    const dt_bench_opts *o = &report->opts;
    dt_bench_row *row = &report->rows[row_index];
    const int cross = o->cross_check == 1 || (o->cross_check == -1 && on_gpu(ops));
    if (!strcmp(row->mode, dt_mode_name(DT_MODE_PORTABLE)) && cross) {
        char digest[65];
        const dt_status checked = cpu_digest(report, g, row->steps, digest, err);
        if (checked != DT_OK) return checked;
        row = &report->rows[row_index];
        snprintf(row->cross_digest, sizeof row->cross_digest, "%s", digest);
        row->cross_checked = 1;
        row->cross_equal = !strcmp(row->cross_digest, row->digest);
        if (!row->cross_equal) broken(report, row, "the portable digest differs from the CPU's");
    }
    if (row->promise && row->n_digests != 1) broken(report, row, "more than one digest across the repeats");
    note(report, "%s batch %lld %-18s %9.3f ms/step  %d digest%s", row->shape, (long long)row->batch, row->mode,
         row->median_s * 1e3, row->n_digests, row->n_digests == 1 ? "" : "s");
    return DT_OK;
}

/* The peer's job for a group, after its rows' first round: as many timed steps as the
 * group's longest row (widths: room for the input and every layer). */
static dt_bench_peer_job peer_job(const group_ctx *g, const mode_run *runs, int n_runs, int32_t *widths) {
    widths[0] = g->net.input_size;
    for (int l = 0; l < g->net.n_layers; l++) widths[l + 1] = g->net.layers[l].n_out;
    int steps = 1;
    for (int k = 0; k < n_runs; k++)
        if (runs[k].steps > steps) steps = runs[k].steps;
    return (dt_bench_peer_job){g->shape->name, widths, g->net.n_layers + 1, g->batch, steps, g->lr,
                               g->init_sha256, g->data_sha256};
}

/* All rows of one shape x batch: every mode (on a GPU also deterministic with TF32, what
 * fast gains from TF32 alone) and the peer's, their repeats interleaved round by round
 * (mode_run, dt_bench_peer_round), the cross-check. */
static dt_status run_group(dt_bench_report *report, const dt_backend_ops *ops, group_ctx *g, dt_error *err) {
    dt_status status = DT_OK;
    const dt_bench_opts *o = &report->opts;
    const int first_row = report->n_rows;
    mode_run runs[sizeof o->modes / sizeof o->modes[0] + 1]; /* + deterministic+tf32 */
    memset(runs, 0, sizeof runs);
    int n_runs = 0;
    int32_t widths[DT_MAX_LAYERS + 1];
    dt_bench_peer_job job;
    dt_bench_peer_run *peer = NULL;
    if (o->peers && !report->peer_note[0] && !g->adam)
        snprintf(report->peer_note, sizeof report->peer_note, "pytorch: skipped: %s: the peer runs plain Adam from he_uniform only",
                 g->shape->name);
    for (int m = 0; m < o->n_modes; m++) {
        DT_TRY(mode_run_start(report, ops, g, o->modes[m], 0, &runs[n_runs++], err));
        if (o->modes[m] == DT_MODE_DETERMINISTIC && on_gpu(ops))
            DT_TRY(mode_run_start(report, ops, g, o->modes[m], 1, &runs[n_runs++], err));
    }
    for (int r = 0; r < o->repeats; r++) {
        for (int k = 0; k < n_runs; k++) DT_TRY(mode_repeat(report, ops, g, &runs[k], r, err));
        if (r == 0 && o->peers) { /* the first round set the steps the peer times */
            job = peer_job(g, runs, n_runs, widths);
            DT_TRY(dt_bench_peer_start(report, &job, &peer, err));
        }
        if (peer) DT_TRY(dt_bench_peer_round(report, peer, r, err));
    }
    for (int k = 0; k < n_runs; k++) {
        mode_run_summarize(report, &runs[k]);
        DT_TRY(check_promise(report, ops, g, runs[k].row, err));
    }
    if (peer) DT_TRY(dt_bench_peer_finish(report, peer, err));
    set_overheads(report, first_row);
cleanup:
    for (int k = 0; k < n_runs; k++) mode_run_free(&runs[k]);
    dt_bench_peer_free(peer);
    return status;
}

/* Appends the product `what` of layer l ("small fc1 forward") to the microbenchmark's list. */
static void add_product(dt_gemm_shape *list, int *n, const char *shape, int l, const char *what, int64_t M, int64_t N,
                        int64_t P, int layout) {
    dt_gemm_shape *s = &list[(*n)++];
    s->M = M, s->N = N, s->P = P, s->layout = layout;
    snprintf(s->name, sizeof s->name, "%.16s fc%d %.11s", shape, l + 1, what);
}

/* At the shape's first batch size (g->net built for it): the initial parameters into *init
 * (malloc'ed, the caller frees them; shared by every batch size) and what the group takes from
 * them: their digest, the learning rate, whether the peer can follow, the layers' widths. */
static dt_status first_group_start(group_ctx *g, const dt_config *cfg, float **init, dt_error *err) {
    *init = malloc((size_t)g->net.n_params * sizeof(float) + 1);
    if (!*init) return dt_fail(err, DT_NOMEM, "out of memory for %lld parameters", (long long)g->net.n_params);
    dt_net_init_params(&g->net, *init, cfg->seed, cfg->model.init);
    dt_params_sha256(&g->net, *init, g->init_sha256);
    g->lr = cfg->optimizer.lr;
    g->adam = cfg->optimizer.kind == DT_OPT_ADAM && cfg->optimizer.weight_decay == 0.0f &&
              cfg->optimizer.clip_norm == 0.0f && cfg->model.init == DT_INIT_HE_UNIFORM;
    int used = snprintf(g->layers, sizeof g->layers, "%d", g->net.input_size);
    for (int l = 0; l < g->net.n_layers && used < (int)sizeof g->layers; l++)
        used += snprintf(g->layers + used, sizeof g->layers - (size_t)used, "-%d", g->net.layers[l].n_out);
    return DT_OK;
}

/* The microbenchmark's layer products of the group's net at its batch size: each layer's
 * forward and weight gradient, and its input gradient but the first layer's. */
static void add_net_products(const group_ctx *g, dt_gemm_shape *products, int *n_products) {
    for (int l = 0; l < g->net.n_layers; l++) {
        const dt_layer *layer = &g->net.layers[l];
        add_product(products, n_products, g->shape->name, l, "forward", g->batch, layer->n_out, layer->n_in,
                    DT_GEMM_FORWARD);
        if (l > 0)
            add_product(products, n_products, g->shape->name, l, "input grad", g->batch, layer->n_in, layer->n_out,
                        DT_GEMM_INPUT_GRAD);
        add_product(products, n_products, g->shape->name, l, "weight grad", layer->n_out, layer->n_in, g->batch,
                    DT_GEMM_WEIGHT_GRAD);
    }
}

/* The group's synthetic data (2 * batch samples from the seed), its digest and the row index
 * 0 .. 2 * batch - 1; g->data and g->index are the caller's to free, also on failure. */
static dt_status make_group_data(group_ctx *g, const dt_config *cfg, dt_error *err) {
    dt_status status = DT_OK;
    DT_TRY(dt_synthetic_dataset(&g->data, 2 * g->batch, g->net.input_size, g->net.n_outputs, cfg->seed, err));
    dt_sha256_hex(g->data.features, (size_t)g->data.n_samples * (size_t)g->data.n_features * sizeof(float),
                  g->data_sha256);
    g->index = malloc((size_t)(2 * g->batch) * sizeof(int64_t));
    if (!g->index) return dt_fail(err, DT_NOMEM, "out of memory");
    for (int64_t i = 0; i < 2 * g->batch; i++) g->index[i] = i;
cleanup:
    return status;
}

/* The rows of one shape file, every batch size. */
static dt_status run_shape(dt_bench_report *report, const dt_backend_ops *ops, const char *size,
                           dt_gemm_shape *net_products, int *n_net_products, dt_error *err) {
    dt_status status = DT_OK;
    const dt_bench_opts *o = &report->opts;
    dt_bench_shape shape;
    group_ctx g;
    memset(&g, 0, sizeof g);
    float *init = NULL;
    dt_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    status = dt_bench_shape_load(&shape, size, o->bench_dir, o->device, err);
    if (status != DT_OK) {
        free(cfg);
        return status;
    }
    g.shape = &shape;
    const int n_batches = o->n_batches ? o->n_batches : shape.n_batches;
    const int64_t *batches = o->n_batches ? o->batches : shape.batches;
    for (int b = 0; b < n_batches; b++) {
        g.batch = batches[b];
        DT_TRY(dt_bench_shape_config(&shape, o, g.batch, o->modes[0], cfg, err));
        DT_TRY(dt_net_build(&g.net, cfg, err));
        if (!init) DT_TRY(first_group_start(&g, cfg, &init, err));
        g.init = init;
        /* The microbenchmark's layer products: this net at its first batch size. */
        if (n_net_products && *n_net_products == 0 && o->matmul_net) add_net_products(&g, net_products, n_net_products);
        DT_TRY(make_group_data(&g, cfg, err));
        DT_TRY(run_group(report, ops, &g, err));
        dt_dataset_free(&g.data);
        free(g.index);
        g.index = NULL;
    }
cleanup:
    dt_dataset_free(&g.data);
    free(g.index);
    free(init);
    free(cfg);
    dt_bench_shape_free(&shape);
    return status;
}

/* The matrix-product rows: the CPU's always, the GPU's with --device cuda. */
static dt_status run_matmul(dt_bench_report *report, const dt_backend_ops *ops, const dt_gemm_shape *net_products,
                            int n_net_products, dt_error *err) {
    const dt_bench_opts *o = &report->opts;
    const int n_shapes = o->n_squares + n_net_products;
    if (n_shapes == 0) return DT_OK;
    dt_gemm_shape *shapes = calloc((size_t)n_shapes, sizeof *shapes);
    if (!shapes) return dt_fail(err, DT_NOMEM, "out of memory");
    for (int s = 0; s < o->n_squares; s++) {
        shapes[s] = (dt_gemm_shape){"", o->squares[s], o->squares[s], o->squares[s], DT_GEMM_INPUT_GRAD};
        snprintf(shapes[s].name, sizeof shapes[s].name, "square %lld", (long long)o->squares[s]);
    }
    memcpy(shapes + o->n_squares, net_products, (size_t)n_net_products * sizeof *shapes);
    const dt_gemm_bench_ops *devices[2] = {&dt_cpu_gemm_bench, NULL};
    int n_devices = 1;
    if (on_gpu(ops)) {
        const dt_gemm_bench_ops *device_bench = dt_gemm_bench_for(ops->name);
        if (device_bench) devices[n_devices++] = device_bench;
        else snprintf(report->gemm_note, sizeof report->gemm_note,
                      "%s: skipped: this build has no matrix-product benchmark for the %s backend", ops->name,
                      ops->name);
    } else {
        const dt_backend_ops *gpu;
        char why[512];
        dt_error gpu_err = {{0}};
        if (dt_backend_select(DT_DEVICE_CUDA, 0, &gpu, why, sizeof why, &gpu_err) != DT_OK)
            snprintf(report->gemm_note, sizeof report->gemm_note,
                     "GPU (portable kernel vs cuBLAS FP32, TF32): skipped: %.190s", gpu_err.message);
        else
            snprintf(report->gemm_note, sizeof report->gemm_note,
                     "GPU (portable kernel vs cuBLAS FP32, TF32): not run: --device cpu (use --device cuda)");
    }
    int total = 0;
    for (int d = 0; d < n_devices; d++) total += n_shapes * devices[d]->n_variants;
    report->gemm = calloc((size_t)total, sizeof *report->gemm);
    dt_status status = DT_OK;
    if (!report->gemm) status = dt_fail(err, DT_NOMEM, "out of memory");
    for (int d = 0; d < n_devices && status == DT_OK; d++) {
        note(report, "matrix products on the %s (%d shapes)", devices[d]->device, n_shapes);
        status = dt_gemm_bench_run(devices[d], shapes, n_shapes, report->threads, o->repeats, o->seed,
                                   report->gemm + report->n_gemm, err);
        if (status == DT_OK) report->n_gemm += n_shapes * devices[d]->n_variants;
    }
    free(shapes);
    return status;
}

void dt_bench_report_free(dt_bench_report *report) {
    free(report->rows);
    free(report->gemm);
    report->rows = NULL;
    report->gemm = NULL;
    report->n_rows = report->rows_cap = report->n_gemm = 0;
}

dt_status dt_bench_main(const dt_bench_opts *opts, dt_error *err) {
    const dt_backend_ops *ops = NULL;
    char device_note[512];
    dt_status status = dt_backend_select(opts->device, 0, &ops, device_note, sizeof device_note, err);
    if (status != DT_OK) return status;
    if (device_note[0] && !opts->quiet) fprintf(stderr, "bench: %s\n", device_note);
    return dt_bench_main_with(opts, ops, err);
}

/* Prints the headline ratios after the table; with --max-ratio, DT_MISMATCH naming the first
 * ratio above the gate, or DT_INCONCLUSIVE the first whose repeats straddle it, else DT_OK. */
static dt_status print_ratios(const dt_bench_report *r, dt_error *err) {
    dt_bench_ratio *ratios = malloc((size_t)(r->n_rows > 0 ? r->n_rows : 1) * sizeof *ratios);
    if (!ratios) return dt_fail(err, DT_NOMEM, "out of memory");
    const double gate = r->opts.max_ratio;
    const int n = dt_bench_ratios(r, gate, ratios);
    dt_bench_print_ratios(ratios, n, gate, stdout);
    const dt_ratio_verdict verdict = dt_bench_gate(ratios, n);
    dt_status status = DT_OK;
    for (int i = 0; i < n && verdict != DT_RATIO_WITHIN; i++) {
        const dt_bench_ratio *q = &ratios[i];
        if (q->verdict != verdict) continue;
        status = dt_fail(err, verdict == DT_RATIO_ABOVE ? DT_MISMATCH : DT_INCONCLUSIVE,
                         "bench: --max-ratio %g: %s / %s on %s, batch %lld is %.3f [%.3f, %.3f] over the repeats: %s",
                         gate, q->num->mode, q->den->mode, q->num->shape, (long long)q->num->batch, q->median, q->low,
                         q->high, verdict == DT_RATIO_ABOVE ? "above the gate"
                                                             : "inconclusive (more --repeats or --min-time)");
        break;
    }
    if (gate > 0 && n == 0)
        status = dt_fail(err, DT_INCONCLUSIVE, "bench: --max-ratio %g: no ratio to judge (it needs two of the modes)", gate);
    free(ratios);
    return status;
}

dt_status dt_bench_main_with(const dt_bench_opts *opts, const dt_backend_ops *ops, dt_error *err) {
    dt_status status = DT_OK;
    dt_bench_report report;
    memset(&report, 0, sizeof report);
    report.opts = *opts;
    report.started_unix = (double)time(NULL);
    const double t_start = dt_now_seconds();
    dt_gemm_shape net_products[3 * DT_MAX_LAYERS];
    int n_net_products = 0;
    report.opts.device = on_gpu(ops) ? DT_DEVICE_CUDA : DT_DEVICE_CPU;
    report.threads = opts->threads > 0 ? opts->threads : dt_available_cores();
    snprintf(report.simd, sizeof report.simd, "%s", dt_simd_name(dt_simd_detect()));
    dt_blas_describe(report.blas, sizeof report.blas);
    for (int s = 0; s < opts->n_sizes; s++)
        DT_TRY(run_shape(&report, ops, opts->sizes[s], net_products, s == 0 ? &n_net_products : NULL, err));
    DT_TRY(run_matmul(&report, ops, net_products, n_net_products, err));
    for (int r = report.n_rows - 1; r >= 0; r--) /* the first detrain row, preferring a fixed-order one */
        if (!strcmp(report.rows[r].engine, "detrain") && (!report.device_text[0] || strcmp(report.rows[r].mode, "fast")))
            snprintf(report.device_text, sizeof report.device_text, "%s", report.rows[r].route);
    report.seconds = dt_now_seconds() - t_start;
    dt_bench_print(&report, stdout);
    dt_error gate_err = {{0}};
    const dt_status gate = print_ratios(&report, &gate_err);
    fflush(stdout);
    if (opts->json_path[0]) DT_TRY(dt_bench_write_json(&report, opts->json_path, err));
    if (opts->svg_path[0]) DT_TRY(dt_bench_write_svg(&report, opts->svg_path, err));
    if (report.n_broken)
        status = dt_fail(err, DT_MISMATCH, "bench: %d promise%s broken; first: %s", report.n_broken,
                         report.n_broken == 1 ? "" : "s", report.first_broken);
    else if (gate != DT_OK)
        status = dt_fail(err, gate, "%s", gate_err.message);
cleanup:
    dt_bench_report_free(&report);
    return status;
}
