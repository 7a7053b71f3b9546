/* bench_report.c — what `detrain bench` shows: the table on stdout, the JSON record and the
 * SVG chart, and the goals each run is measured against. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_gate.h"
#include "bench_parts.h"
#include "bench_stats.h"
#include "core/fsutil.h"
#include "records/manifest.h"
#include "records/sysinfo.h"

#define FLOP_RULE                                                                                             \
    "6 x batch x MACs per step (MACs: multiply-adds of one sample's forward pass): forward 2, backward 4 "     \
    "(input and weight gradients); the first layer's input gradient is counted though no engine computes it"

/* ---- verdicts and goals ------------------------------------------------------------------ */

/* The verdict of a row in a few words. */
static const char *verdict(const dt_bench_row *row) {
    if (row->skipped) return "skipped";
    if (row->cross_checked && !row->cross_equal) return "BROKEN: differs from the CPU";
    if (row->promise) {
        if (row->n_digests != 1) return "BROKEN: digests differ";
        return row->cross_checked ? "holds, = CPU" : "holds";
    }
    return row->n_digests > 1 ? "varies (no promise)" : "same bits (no promise)";
}

typedef struct {
    char goal[160];
    char device[8];
    int state;                /* 1 met, 0 not met, -1 not measured */
    char detail[768];
} goal;

/* Appends "text" to a detail line. */
static void detail_add(goal *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void detail_add(goal *g, const char *fmt, ...) {
    const size_t used = strlen(g->detail);
    if (used + 4 >= sizeof g->detail) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->detail + used, sizeof g->detail - used, fmt, ap);
    va_end(ap);
}

static const dt_bench_row *find_row(const dt_bench_report *r, const dt_bench_row *like, const char *engine,
                                    const char *mode) {
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (!x->skipped && !strcmp(x->shape, like->shape) && x->batch == like->batch && !strcmp(x->engine, engine) &&
            !strcmp(x->mode, mode))
            return x;
    }
    return NULL;
}

/* Starts goal g on `device`: its text from fmt, not measured yet. */
static void goal_start(goal *g, const char *device, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void goal_start(goal *g, const char *device, const char *fmt, ...) {
    memset(g, 0, sizeof *g);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->goal, sizeof g->goal, fmt, ap);
    va_end(ap);
    snprintf(g->device, sizeof g->device, "%s", device);
    g->state = -1;
}

/* Deterministic against fast on the medium and large shapes: at most 5% slower. */
static void overhead_goal(const dt_bench_report *r, int gpu, goal *g) {
    goal_start(g, gpu ? "cuda" : "cpu", "deterministic step time <= 1.05 x fast%s, medium and large shapes",
               gpu ? " (TF32 off)" : "");
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (strcmp(x->engine, "detrain") || strcmp(x->mode, "deterministic") || x->skipped || isnan(x->overhead)) continue;
        if (strcmp(x->shape, "medium") && strcmp(x->shape, "large")) continue;
        const double ratio = 1.0 + x->overhead;
        detail_add(g, "%s%s b%lld %.2fx", g->detail[0] ? ", " : "", x->shape, (long long)x->batch, ratio);
        g->state = (g->state != 0 && ratio <= 1.05) ? 1 : 0;
    }
    if (g->state == -1) snprintf(g->detail, sizeof g->detail, "no medium or large rows with fast and deterministic");
}

/* The portable product against cuBLAS FP32 at 4096^3 (on a CPU run: against the CPU's library). */
static void matmul_goal(const dt_bench_report *r, goal *g) {
    goal_start(g, "cuda", "portable matrix product >= 70%% of cuBLAS FP32 at 4096^3");
    snprintf(g->detail, sizeof g->detail, "not measured: no GPU in this run");
    for (int i = 0; i < r->n_gemm; i++) {
        const dt_gemm_row *m = &r->gemm[i];
        if (m->skipped || strcmp(m->shape.name, "square 4096")) continue;
        if (!strcmp(m->device, "cuda") && !strcmp(m->variant, "cuBLAS FP32")) {
            g->state = m->portable_ratio >= 0.70;
            snprintf(g->detail, sizeof g->detail, "portable = %.0f%% of cuBLAS FP32", 100.0 * m->portable_ratio);
        } else if (!strcmp(m->device, "cpu") && strcmp(m->variant, "detrain portable") && g->state == -1) {
            snprintf(g->detail, sizeof g->detail, "not measured: no GPU in this run; on the CPU portable = %.0f%% of %s",
                     100.0 * m->portable_ratio, m->variant);
        }
    }
}

/* Deterministic detrain's samples/s against the peer's (deterministic on a GPU). */
static void peer_goal(const dt_bench_report *r, int gpu, goal *g) {
    goal_start(g, gpu ? "cuda" : "cpu", "detrain deterministic throughput >= PyTorch%s",
               gpu ? " with deterministic algorithms" : " (CPU: its default route, deterministic in these runs' digests)");
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (strcmp(x->engine, "detrain") || strcmp(x->mode, "deterministic") || x->skipped) continue;
        const dt_bench_row *peer = find_row(r, x, "pytorch", gpu ? "deterministic" : "default");
        if (!peer || peer->samples_per_s <= 0) continue;
        const double ratio = x->samples_per_s / peer->samples_per_s;
        detail_add(g, "%s%s b%lld %.2fx", g->detail[0] ? ", " : "", x->shape, (long long)x->batch, ratio);
        g->state = (g->state != 0 && ratio >= 1.0) ? 1 : 0;
    }
    if (g->state == -1)
        snprintf(g->detail, sizeof g->detail, "not measured: %s", r->peer_note[0] ? r->peer_note : "no peer rows");
}

/* The promise itself: every deterministic and portable row gave one digest (and the CPU's). */
static void verdict_goal(const dt_bench_report *r, int gpu, goal *g) {
    goal_start(g, gpu ? "cuda" : "cpu", "honest verdict: deterministic and portable never give two digests");
    int promised = 0, held = 0, fast = 0, fast_varies = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (x->skipped || strcmp(x->engine, "detrain")) continue;
        if (x->promise) {
            promised++;
            held += x->n_digests == 1 && (!x->cross_checked || x->cross_equal);
        } else {
            fast++;
            fast_varies += x->n_digests > 1;
        }
    }
    g->state = promised ? held == promised : -1;
    snprintf(g->detail, sizeof g->detail,
             "%d of %d deterministic/portable rows held; fast gave more than one digest in %d of %d rows", held, promised,
             fast_varies, fast);
}

/* The goals of the issue, measured where this run can; a CPU run also lists the GPU's goals it
 * cannot measure. Returns how many (at most 6). */
static int compute_goals(const dt_bench_report *r, goal *goals) {
    const int gpu = r->opts.device == DT_DEVICE_CUDA;
    int n = 0;
    overhead_goal(r, gpu, &goals[n++]);
    if (!gpu) {
        goal *g = &goals[n++];
        goal_start(g, "cuda", "deterministic step time <= 1.05 x fast (TF32 off), medium and large shapes");
        snprintf(g->detail, sizeof g->detail, "not measured: no GPU in this run (detrain bench --device cuda)");
    }
    matmul_goal(r, &goals[n++]);
    peer_goal(r, gpu, &goals[n++]);
    if (!gpu) {
        goal *g = &goals[n++];
        goal_start(g, "cuda", "detrain deterministic throughput >= PyTorch with deterministic algorithms");
        snprintf(g->detail, sizeof g->detail, "not measured: no GPU in this run");
    }
    verdict_goal(r, gpu, &goals[n++]);
    return n;
}

static const char *goal_state(int state) { return state == 1 ? "met" : state == 0 ? "NOT MET" : "not measured"; }

/* ---- the table ---------------------------------------------------------------------------- */

/* The heading: the device, the machine and the peer, how the rows were measured, the columns. */
static void print_heading(const dt_bench_report *r, FILE *out) {
    const dt_bench_opts *o = &r->opts;
    dt_sysinfo info;
    dt_sysinfo_read(&info);
    fprintf(out, "detrain bench: %s\n", r->device_text);
    fprintf(out, "  CPU %s, %d core%s; BLAS %s; %s\n", info.cpu_model, info.cores, info.cores == 1 ? "" : "s", r->blas,
            r->peer_version[0] ? r->peer_version : (r->peer_note[0] ? r->peer_note : "no peers"));
    fprintf(out, "  %d repeat%s of %d or more timed steps (at least %.2g s) after %d warm-up step%s, seed %llu, "
                 "synthetic data\n",
            o->repeats, o->repeats == 1 ? "" : "s", o->steps, o->min_time, o->warmup, o->warmup == 1 ? "" : "s",
            (unsigned long long)o->seed);
    int device_clock = 0;
    for (int i = 0; i < r->n_rows; i++) device_clock |= r->rows[i].device_clock;
    fprintf(out, "  repeats interleaved: each round runs one repeat of every mode, each on a fresh backend\n");
    fprintf(out, "  step time: median over the repeats%s; spread: (max - min) / median; TFLOP/s from %s\n\n",
            device_clock ? " (a GPU's own clock: CUDA events; wall time in the work table)" : "",
            "6 x batch x MACs per step (forward 2, backward 4)");
    fprintf(out, "%-7s %-24s %6s %-8s %-18s %6s %10s %7s %11s %8s %8s %7s %10s %7s  %s\n", "shape", "layers", "batch",
            "engine", "mode", "steps", "ms/step", "spread", "samples/s", "TFLOP/s", "vs fast", "digests", "max|diff|", "max ULP",
            "verdict");
}

/* One row of the table (a skipped row says why). */
static void print_row(const dt_bench_row *x, FILE *out) {
    if (x->skipped) {
        fprintf(out, "%-7s %-24s %6lld %-8s %-18s skipped: %s\n", x->shape, x->layers, (long long)x->batch, x->engine,
                x->mode, x->note);
        return;
    }
    char overhead[16] = "-", diff[16];
    if (!isnan(x->overhead) && !(strcmp(x->engine, "detrain") == 0 && strcmp(x->mode, "fast") == 0))
        snprintf(overhead, sizeof overhead, "%+.1f%%", 100.0 * x->overhead);
    dt_format_diff(x->max_abs_diff, diff, sizeof diff);
    fprintf(out, "%-7s %-24s %6lld %-8s %-18s %6d %10.3f %6.1f%% %11.0f %8.3f %8s %7d %10s %7lld  %s\n", x->shape,
            x->layers, (long long)x->batch, x->engine, x->mode, x->steps, x->median_s * 1e3,
            x->median_s > 0 ? 100.0 * (x->max_s - x->min_s) / x->median_s : 0.0, x->samples_per_s, x->tflops, overhead,
            x->n_digests, diff, (long long)x->max_ulp, verdict(x));
}

/* What ran for each engine and mode (its first row's route), then the rows' remarks. */
static void print_routes(const dt_bench_report *r, FILE *out) {
    fprintf(out, "\nroutes:\n");
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        int first = 1;
        for (int k = 0; k < i; k++)
            first &= strcmp(r->rows[k].engine, x->engine) || strcmp(r->rows[k].mode, x->mode);
        if (first && !x->skipped) fprintf(out, "  %-8s %-18s %s\n", x->engine, x->mode, x->route);
    }
    if (r->opts.device == DT_DEVICE_CPU)
        fprintf(out, "  (on a CPU the fixed-order kernels are the deterministic route: deterministic = portable)\n");
    for (int i = 0; i < r->n_rows; i++)
        if (r->rows[i].note[0] && !r->rows[i].skipped)
            fprintf(out, "  %s %s b%lld %s: %s\n", r->rows[i].engine, r->rows[i].shape, (long long)r->rows[i].batch,
                    r->rows[i].mode, r->rows[i].note);
    if (r->peer_note[0]) fprintf(out, "  %s\n", r->peer_note);
}

/* The calls the host made for the work counted in w: its own kernels, library calls and
 * copies, and one a graph launched (whose nodes it did not submit one by one). */
static uint64_t host_calls(const dt_work_counts *w) {
    return w->kernels + w->library_calls + w->copies - w->graph_nodes + w->graphs;
}

/* What each GPU row's timed steps submitted, per step (kernels/cuda/counts.h), and its step
 * time by the device's clock and the host's: wall above device is host time not hidden. */
static void print_work(const dt_bench_report *r, FILE *out) {
    int any = 0;
    for (int i = 0; i < r->n_rows; i++) any |= r->rows[i].has_work && !r->rows[i].skipped;
    if (!any) return;
    fprintf(out, "\nwork per step, counted where it is submitted (a graph's nodes at each launch):\n");
    fprintf(out, "  %-7s %6s %-18s %8s %8s %8s %8s %8s %10s %10s %10s\n", "shape", "batch", "mode", "graphs", "kernels",
            "cuBLAS", "copies", "waits", "host calls", "device ms", "wall ms");
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (!x->has_work || x->skipped || x->work_steps <= 0) continue;
        const double n = x->work_steps;
        fprintf(out, "  %-7s %6lld %-18s %8.2f %8.1f %8.1f %8.2f %8.3f %10.2f %10.3f %10.3f\n", x->shape,
                (long long)x->batch, x->mode, (double)x->work.graphs / n, (double)x->work.kernels / n,
                (double)x->work.library_calls / n, (double)x->work.copies / n, (double)x->work.syncs / n,
                (double)host_calls(&x->work) / n, x->median_s * 1e3, x->wall_median_s * 1e3);
    }
}

void dt_bench_print(const dt_bench_report *r, FILE *out) {
    print_heading(r, out);
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        /* a blank line between shape x batch groups */
        if (i > 0 && (strcmp(x->shape, r->rows[i - 1].shape) || x->batch != r->rows[i - 1].batch)) fputc('\n', out);
        print_row(x, out);
    }
    print_routes(r, out);
    print_work(r, out);
    if (r->n_gemm || r->gemm_note[0]) {
        fputc('\n', out);
        dt_gemm_bench_print(r->gemm, r->n_gemm, r->opts.repeats, out);
        if (r->gemm_note[0]) fprintf(out, "  %s\n", r->gemm_note);
    }
    goal goals[8];
    const int n_goals = compute_goals(r, goals);
    fprintf(out, "\ngoals:\n");
    for (int i = 0; i < n_goals; i++)
        fprintf(out, "  [%-4s] %-13s %s: %s\n", goals[i].device, goal_state(goals[i].state), goals[i].goal,
                goals[i].detail);
    fprintf(out, "\n%d row%s, %.1f s\n", r->n_rows, r->n_rows == 1 ? "" : "s", r->seconds);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static cJSON *json_number_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *options_json(const dt_bench_opts *o) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "device", dt_device_name(o->device));
    cJSON *modes = cJSON_AddArrayToObject(j, "modes");
    for (int i = 0; i < o->n_modes; i++) cJSON_AddItemToArray(modes, cJSON_CreateString(dt_mode_name(o->modes[i])));
    cJSON *sizes = cJSON_AddArrayToObject(j, "sizes");
    for (int i = 0; i < o->n_sizes; i++) cJSON_AddItemToArray(sizes, cJSON_CreateString(o->sizes[i]));
    cJSON *batches = cJSON_AddArrayToObject(j, "batches");
    for (int i = 0; i < o->n_batches; i++) cJSON_AddItemToArray(batches, cJSON_CreateNumber((double)o->batches[i]));
    cJSON_AddNumberToObject(j, "repeats", o->repeats);
    cJSON_AddNumberToObject(j, "steps", o->steps);
    cJSON_AddNumberToObject(j, "warmup", o->warmup);
    cJSON_AddNumberToObject(j, "min_time", o->min_time);
    cJSON_AddNumberToObject(j, "max_ratio", o->max_ratio);
    cJSON_AddNumberToObject(j, "threads", o->threads);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON *squares = cJSON_AddArrayToObject(j, "matmul_squares");
    for (int i = 0; i < o->n_squares; i++) cJSON_AddItemToArray(squares, cJSON_CreateNumber((double)o->squares[i]));
    cJSON_AddBoolToObject(j, "matmul_net", o->matmul_net);
    cJSON_AddBoolToObject(j, "peers", o->peers);
    cJSON_AddStringToObject(j, "python", o->python);
    cJSON_AddStringToObject(j, "bench_dir", o->bench_dir);
    return j;
}

/* The run record's environment object (OS, CPU, libraries, ...) plus what only bench knows. */
static cJSON *environment_json(const dt_bench_report *r) {
    cJSON *j = dt_manifest_environment_json(r->simd, r->threads, NULL);
    cJSON_AddStringToObject(j, "backend", r->device_text);
    cJSON_AddStringToObject(j, "blas", r->blas);
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    if (coretype) cJSON_AddStringToObject(j, "OPENBLAS_CORETYPE", coretype);
    cJSON_AddStringToObject(j, "peer", r->peer_version[0] ? r->peer_version : "");
    if (r->peer_note[0]) cJSON_AddStringToObject(j, "peer_note", r->peer_note);
    return j;
}

static cJSON *row_json(const dt_bench_row *x) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "shape", x->shape);
    cJSON_AddStringToObject(j, "layers", x->layers);
    cJSON_AddNumberToObject(j, "batch", (double)x->batch);
    cJSON_AddStringToObject(j, "engine", x->engine);
    cJSON_AddStringToObject(j, "mode", x->mode);
    cJSON_AddStringToObject(j, "device", x->device);
    cJSON_AddStringToObject(j, "route", x->route);
    cJSON_AddBoolToObject(j, "skipped", x->skipped);
    if (x->note[0]) cJSON_AddStringToObject(j, "note", x->note);
    if (x->skipped) return j;
    cJSON_AddNumberToObject(j, "repeats", x->repeats);
    cJSON_AddNumberToObject(j, "steps", x->steps);
    cJSON_AddNumberToObject(j, "warmup", x->warmup);
    cJSON *times = cJSON_AddArrayToObject(j, "step_seconds");
    for (int i = 0; i < x->repeats; i++) cJSON_AddItemToArray(times, cJSON_CreateNumber(x->step_s[i]));
    cJSON_AddNumberToObject(j, "median_step_seconds", x->median_s);
    cJSON_AddNumberToObject(j, "min_step_seconds", x->min_s);
    cJSON_AddNumberToObject(j, "max_step_seconds", x->max_s);
    if (x->wall_median_s > 0) {
        /* step_seconds by the device's clock (GPU events) or the host's; wall: the host's */
        cJSON_AddStringToObject(j, "step_clock", x->device_clock ? "device" : "host");
        cJSON *walls = cJSON_AddArrayToObject(j, "wall_step_seconds");
        for (int i = 0; i < x->repeats; i++) cJSON_AddItemToArray(walls, cJSON_CreateNumber(x->wall_s[i]));
        cJSON_AddNumberToObject(j, "median_wall_step_seconds", x->wall_median_s);
    }
    cJSON_AddItemToObject(j, "spread", json_number_or_null(x->median_s > 0 ? (x->max_s - x->min_s) / x->median_s : NAN));
    cJSON_AddNumberToObject(j, "samples_per_second", x->samples_per_s);
    cJSON_AddNumberToObject(j, "flops_per_step", x->flops_per_step);
    cJSON_AddNumberToObject(j, "tflops", x->tflops);
    if (x->n_params) cJSON_AddNumberToObject(j, "parameters", (double)x->n_params);
    cJSON_AddItemToObject(j, "overhead_vs_fast", json_number_or_null(x->overhead));
    cJSON *v = cJSON_AddObjectToObject(j, "verdict");
    cJSON_AddBoolToObject(v, "promise", x->promise);
    cJSON_AddNumberToObject(v, "distinct_digests", x->n_digests);
    cJSON_AddStringToObject(v, "first_digest", x->digest);
    cJSON_AddItemToObject(v, "max_abs_diff", json_number_or_null(x->max_abs_diff));
    cJSON_AddNumberToObject(v, "max_ulp", (double)x->max_ulp);
    if (x->cross_checked) {
        cJSON_AddStringToObject(v, "cpu_digest", x->cross_digest);
        cJSON_AddBoolToObject(v, "equals_cpu", x->cross_equal);
    }
    cJSON_AddStringToObject(v, "text", verdict(x));
    cJSON_AddNumberToObject(j, "first_loss", x->first_loss);
    cJSON_AddNumberToObject(j, "last_loss", x->last_loss);
    if (x->has_work && x->work_steps > 0) {
        const double n = x->work_steps;
        cJSON *w = cJSON_AddObjectToObject(j, "work_per_step");
        cJSON_AddNumberToObject(w, "kernels", (double)x->work.kernels / n);
        cJSON_AddNumberToObject(w, "library_calls", (double)x->work.library_calls / n);
        cJSON_AddNumberToObject(w, "copies", (double)x->work.copies / n);
        cJSON_AddNumberToObject(w, "host_waits", (double)x->work.syncs / n);
        cJSON_AddNumberToObject(w, "graphs", (double)x->work.graphs / n);
        cJSON_AddNumberToObject(w, "graph_nodes", (double)x->work.graph_nodes / n);
        cJSON_AddNumberToObject(w, "host_calls", (double)host_calls(&x->work) / n);
    }
    return j;
}

static cJSON *gemm_json(const dt_gemm_row *m) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "device", m->device);
    cJSON_AddStringToObject(j, "shape", m->shape.name);
    cJSON_AddNumberToObject(j, "M", (double)m->shape.M);
    cJSON_AddNumberToObject(j, "N", (double)m->shape.N);
    cJSON_AddNumberToObject(j, "P", (double)m->shape.P);
    static const char *const layouts[] = {"forward X.W^T", "input grad dZ.W", "weight grad dZ^T.X"};
    cJSON_AddStringToObject(j, "layout", layouts[m->shape.layout % 3]);
    cJSON_AddStringToObject(j, "variant", m->variant);
    cJSON_AddStringToObject(j, "library", m->library);
    cJSON_AddBoolToObject(j, "skipped", m->skipped);
    if (m->skipped) {
        cJSON_AddStringToObject(j, "note", m->note);
        return j;
    }
    cJSON_AddNumberToObject(j, "calls_per_timing", m->iters);
    cJSON_AddNumberToObject(j, "timings", m->repeats);
    cJSON_AddNumberToObject(j, "median_seconds", m->median_s);
    cJSON_AddNumberToObject(j, "best_seconds", m->best_s);
    cJSON_AddNumberToObject(j, "gflops", m->gflops);
    if (m->peak_gflops > 0) {
        cJSON_AddNumberToObject(j, "fp32_peak_gflops", m->peak_gflops);
        cJSON_AddNumberToObject(j, "fp32_peak_percent", 100.0 * m->gflops / m->peak_gflops);
    }
    cJSON_AddNumberToObject(j, "portable_over_this", m->portable_ratio);
    cJSON *c = cJSON_AddObjectToObject(j, "check");
    cJSON_AddStringToObject(c, "against", !strcmp(m->variant, "detrain portable") ? "scalar reference" : "portable");
    if (m->checked_rows) cJSON_AddNumberToObject(c, "rows", (double)m->checked_rows);
    cJSON_AddBoolToObject(c, "bitwise_equal", m->bitwise);
    cJSON_AddItemToObject(c, "max_abs_diff", json_number_or_null(m->max_abs_diff));
    cJSON_AddNumberToObject(c, "max_ulp", (double)m->max_ulp);
    return j;
}

dt_status dt_bench_write_json(const dt_bench_report *r, const char *path, dt_error *err) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return dt_fail(err, DT_NOMEM, "out of memory");
    cJSON_AddStringToObject(root, "format", "detrain-bench-1");
    char started[32];
    const time_t t = (time_t)r->started_unix;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(root, "started", started);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    cJSON_AddItemToObject(root, "code", dt_manifest_code_json());
    cJSON_AddItemToObject(root, "options", options_json(&r->opts));
    cJSON_AddItemToObject(root, "environment", environment_json(r));
    cJSON_AddStringToObject(root, "flop_count", FLOP_RULE);
    cJSON_AddStringToObject(root, "step_time",
                            "per repeat: the timed steps' total / steps (CPU: monotonic clock; GPU: the backend's "
                            "events); median, min and max over the repeats; spread = (max - min) / median");
    cJSON_AddStringToObject(root, "verdict",
                            "distinct parameter digests (SHA-256 of the float32 parameters) over the repeats, and "
                            "the largest absolute and ULP difference between any two repeats' parameters");
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < r->n_rows; i++) cJSON_AddItemToArray(rows, row_json(&r->rows[i]));
    cJSON *gemm = cJSON_AddArrayToObject(root, "matmul");
    for (int i = 0; i < r->n_gemm; i++) cJSON_AddItemToArray(gemm, gemm_json(&r->gemm[i]));
    if (r->gemm_note[0]) cJSON_AddStringToObject(root, "matmul_note", r->gemm_note);
    goal goals[8];
    const int n_goals = compute_goals(r, goals);
    cJSON *gj = cJSON_AddArrayToObject(root, "goals");
    for (int i = 0; i < n_goals; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "goal", goals[i].goal);
        cJSON_AddStringToObject(x, "device", goals[i].device);
        cJSON_AddStringToObject(x, "state", goal_state(goals[i].state));
        cJSON_AddStringToObject(x, "detail", goals[i].detail);
        cJSON_AddItemToArray(gj, x);
    }
    dt_bench_ratio *ratios = malloc((size_t)(r->n_rows > 0 ? r->n_rows : 1) * sizeof *ratios);
    if (ratios) {
        const int n_ratios = dt_bench_ratios(r, r->opts.max_ratio, ratios);
        cJSON_AddItemToObject(root, "ratios", dt_bench_ratios_json(ratios, n_ratios, r->opts.max_ratio));
        free(ratios);
    }
    cJSON_AddNumberToObject(root, "broken_promises", r->n_broken);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return dt_fail(err, DT_NOMEM, "out of memory printing %s", path);
    const size_t len = strlen(text);
    text[len] = '\n'; /* cJSON_Print's buffer ends in NUL: write it as the final newline */
    dt_status status = dt_write_file_atomic(path, text, len + 1, err);
    free(text);
    return status;
}

/* ---- SVG ---------------------------------------------------------------------------------- */

/* Colour of a row's bars by engine and mode. */
static const char *row_colour(const dt_bench_row *x) {
    if (!strcmp(x->engine, "pytorch")) return !strcmp(x->mode, "deterministic") ? "#937860" : "#8172b2";
    if (!strcmp(x->mode, "fast")) return "#dd8452";
    if (!strcmp(x->mode, "deterministic")) return "#4c72b0";
    return "#55a868";
}

/* Writes text with &, < and > escaped. */
static void svg_text(FILE *f, const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '&') fputs("&amp;", f);
        else if (*p == '<') fputs("&lt;", f);
        else if (*p == '>') fputs("&gt;", f);
        else fputc(*p, f);
    }
}

/* The chart's layout: a label column, a step-time panel (log scale), an overhead panel (linear);
 * a row's bars are row_h high, a gap before each shape x batch group. */
static const double time_x = 260, time_w = 380, over_x = 720, over_w = 240, row_h = 16, gap = 10, top = 78;

/* The chart's scales, from the rows it shows (not skipped, with a step time). */
typedef struct {
    double decade_lo, decade_hi, span;        /* the step-time axis: powers of ten of ms */
    double max_over;                          /* the overhead axis runs from -max_over to +max_over */
    double zero_x, per_unit;                  /* the overhead panel: x of 0, pixels per unit */
    double height;
} chart_scale;

/* Whether row i starts a new shape x batch group. */
static int starts_group(const dt_bench_report *r, int i) {
    return i == 0 || strcmp(r->rows[i].shape, r->rows[i - 1].shape) || r->rows[i].batch != r->rows[i - 1].batch;
}

/* The scales of the chart of r: whole decades around the step times, the overhead axis at the
 * smallest round value that holds every overhead (4 at most: longer bars are clipped). */
static chart_scale chart_scales(const dt_bench_report *r) {
    chart_scale c;
    double lo = INFINITY, hi = 0;
    int n_shown = 0, n_groups = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (x->skipped || x->median_s <= 0) continue;
        n_shown++;
        n_groups += starts_group(r, i);
        if (x->median_s < lo) lo = x->median_s;
        if (x->median_s > hi) hi = x->median_s;
    }
    if (!n_shown) lo = 1e-3, hi = 1e-2;
    c.decade_lo = floor(log10(lo * 1e3)), c.decade_hi = ceil(log10(hi * 1e3) + 1e-9);
    c.span = c.decade_hi - c.decade_lo > 0 ? c.decade_hi - c.decade_lo : 1;
    double max_over = 0.25;
    for (int i = 0; i < r->n_rows; i++)
        if (!r->rows[i].skipped && isfinite(r->rows[i].overhead) && fabs(r->rows[i].overhead) > max_over)
            max_over = fabs(r->rows[i].overhead);
    static const double nice[] = {0.25, 0.5, 1, 1.5, 2, 3, 4}; /* the axis ends at a round value */
    double axis = 4;
    for (int k = 6; k >= 0; k--)
        if (nice[k] >= max_over) axis = nice[k];
    c.max_over = axis;
    c.zero_x = over_x + over_w / 2, c.per_unit = over_w / 2 / c.max_over;
    c.height = top + n_shown * row_h + n_groups * gap + 60;
    return c;
}

/* The chart's title, its panels' headings, and their axes' grid lines and labels. */
static void svg_frame(FILE *f, const dt_bench_report *r, const chart_scale *c) {
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1060\" height=\"%.0f\" viewBox=\"0 0 1060 %.0f\" "
               "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">\n", c->height, c->height);
    fprintf(f, "<rect width=\"1060\" height=\"%.0f\" fill=\"white\"/>\n", c->height);
    fprintf(f, "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">detrain bench: step time and overhead "
               "against fast</text>\n<text x=\"10\" y=\"38\" fill=\"#444\">");
    svg_text(f, r->device_text);
    fprintf(f, "; median of %d repeats of %d or more steps; \xe2\x9c\x93: one digest where one is promised</text>\n",
            r->opts.repeats, r->opts.steps);
    fprintf(f, "<text x=\"%.0f\" y=\"60\" font-weight=\"bold\">step time (ms, log scale)</text>\n", time_x);
    fprintf(f, "<text x=\"%.0f\" y=\"60\" font-weight=\"bold\">overhead against fast</text>\n", over_x);
    const double bottom = c->height - 50;
    for (double d = c->decade_lo; d <= c->decade_hi + 1e-9; d++) {
        const double x = time_x + (d - c->decade_lo) / c->span * time_w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n", x, top - 6, x, bottom);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#444\">%g</text>\n", x, bottom + 14,
                pow(10, d));
    }
    for (int k = -2; k <= 2; k++) {
        const double v = c->max_over * k / 2, x = c->zero_x + v * c->per_unit;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\"/>\n", x, top - 6, x, bottom,
                k == 0 ? "#888" : "#ddd");
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#444\">%+.0f%%</text>\n", x, bottom + 14,
                100 * v);
    }
}

/* One row at height y: its label (with its verdict mark), its step-time bar and, but for
 * detrain fast, its overhead bar (clipped at the axis' end, and saying so). */
static void svg_row(FILE *f, const dt_bench_row *x, const chart_scale *c, double y) {
    const char *colour = row_colour(x);
    fprintf(f, "<text x=\"10\" y=\"%.1f\">", y + 11);
    char label[200];
    snprintf(label, sizeof label, "%s b%lld %s %s%s", x->shape, (long long)x->batch, x->engine, x->mode,
             x->promise ? (x->n_digests == 1 ? " \xe2\x9c\x93" : " \xe2\x9c\x97") : "");
    svg_text(f, label);
    fprintf(f, "</text>\n");
    const double frac = (log10(x->median_s * 1e3) - c->decade_lo) / c->span;
    const double w = frac > 0 ? frac * time_w : 1;
    fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n", time_x, y + 2, w, row_h - 4,
            colour);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">%.3g ms</text>\n", time_x + w + 4, y + 11, x->median_s * 1e3);
    if (!isfinite(x->overhead) || (strcmp(x->engine, "detrain") == 0 && strcmp(x->mode, "fast") == 0)) return;
    double v = x->overhead;
    const int clipped = fabs(v) > c->max_over;
    if (clipped) v = v > 0 ? c->max_over : -c->max_over;
    const double x0 = v >= 0 ? c->zero_x : c->zero_x + v * c->per_unit, bw = fabs(v) * c->per_unit;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n", x0, y + 2, bw < 1 ? 1 : bw,
            row_h - 4, colour);
    const double tx = v >= 0 ? x0 + bw + 4 : x0 - 4;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#222\">%+.1f%%%s</text>\n", tx, y + 11,
            v >= 0 ? "start" : "end", 100 * x->overhead, clipped ? " (clipped)" : "");
}

/* The colours' legend along the bottom edge. */
static void svg_legend(FILE *f, double height) {
    static const char *const names[] = {"detrain fast", "detrain deterministic", "detrain portable", "pytorch",
                                        "pytorch deterministic"};
    static const char *const colours[] = {"#dd8452", "#4c72b0", "#55a868", "#8172b2", "#937860"};
    double lx = 10;
    for (int k = 0; k < 5; k++) {
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>", lx, height - 22, colours[k]);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", lx + 14, height - 13, names[k]);
        lx += 30 + 7.0 * (double)strlen(names[k]);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#444\">\xe2\x9c\x93 one digest over the repeats</text>\n", lx,
            height - 13);
}

dt_status dt_bench_write_svg(const dt_bench_report *r, const char *path, dt_error *err) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return dt_fail(err, DT_NOMEM, "out of memory for %s", path);
    const chart_scale c = chart_scales(r);
    svg_frame(f, r, &c);
    double y = top;
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (x->skipped || x->median_s <= 0) continue;
        if (starts_group(r, i)) {
            y += gap;
            fprintf(f, "<line x1=\"10\" y1=\"%.1f\" x2=\"1050\" y2=\"%.1f\" stroke=\"#eee\"/>\n", y - gap / 2, y - gap / 2);
        }
        svg_row(f, x, &c, y);
        y += row_h;
    }
    svg_legend(f, c.height);
    fputs("</svg>\n", f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return dt_fail(err, DT_NOMEM, "out of memory for %s", path);
    }
    dt_status status = dt_write_file_atomic(path, buf, size, err);
    free(buf);
    return status;
}
