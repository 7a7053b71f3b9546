/* test_bench.c — the pieces of `detrain bench` that decide verdicts, and the CPU fast route.
 *
 * No timings are checked (speed belongs to benchmarks); what is checked: ULP distances and
 * buffer comparisons, the synthetic data (known answers, shared with the PyTorch peer), the
 * fast route (close to portable, fixed order with one thread, both product routes), the
 * matrix-product microbenchmark's checks, option and shape-file errors, and that a backend
 * whose repeats differ makes `bench` fail with DT_MISMATCH while the real one passes; the
 * headline ratios and the --max-ratio gate on rows with made-up repeat times. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/blas.h"
#include "bench.h"
#include "bench_gate.h"
#include "bench_stats.h"
#include "core/digest.h"
#include "gemm_bench.h"
#include "core/model.h"
#include "core/optim.h"
#include "synthetic.h"
#include "test.h"

static uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static void test_stats(void) {
    CHECK_EQ_INT(dt_ulp_distance(1.0f, 1.0f), 0);
    CHECK_EQ_INT(dt_ulp_distance(1.0f, nextafterf(1.0f, 2.0f)), 1);
    CHECK_EQ_INT(dt_ulp_distance(nextafterf(1.0f, 0.0f), nextafterf(1.0f, 2.0f)), 2);
    CHECK_EQ_INT(dt_ulp_distance(0.0f, -0.0f), 1);
    CHECK_EQ_INT(dt_ulp_distance(-0x1p-149f, 0x1p-149f), 3); /* -min, -0, +0, +min */
    CHECK_EQ_INT(dt_ulp_distance(-1.0f, 1.0f), 2LL * bits_of(1.0f) + 1);
    CHECK(dt_ulp_distance(NAN, 1.0f) == INT64_MAX);
    CHECK_EQ_INT(dt_ulp_distance(NAN, NAN), 0); /* the same bits */

    const float a[4] = {1.0f, 2.0f, -3.0f, 0.0f}, b[4] = {1.0f, nextafterf(2.0f, 3.0f), -3.5f, 0.0f};
    dt_float_diff d = dt_compare_floats(a, b, 4);
    CHECK_EQ_INT(d.n_differ, 2);
    CHECK_NEAR(d.max_abs_diff, 0.5, 0);
    CHECK_EQ_INT(d.max_ulp, dt_ulp_distance(-3.0f, -3.5f));
    d = dt_compare_floats(a, a, 4);
    CHECK_EQ_INT(d.n_differ, 0);
    CHECK(d.max_abs_diff == 0.0 && d.max_ulp == 0);

    /* The envelope's spread is the largest difference between any two buffers. */
    const float r0[3] = {1.0f, -1.0f, 5.0f}, r1[3] = {1.5f, -1.0f, 4.0f}, r2[3] = {0.5f, -2.0f, 5.0f};
    float lo[3], hi[3];
    dt_envelope_start(lo, hi, r0, 3);
    dt_envelope_add(lo, hi, r1, 3);
    dt_envelope_add(lo, hi, r2, 3);
    d = dt_compare_floats(lo, hi, 3);
    CHECK_NEAR(d.max_abs_diff, 1.0, 0); /* 1.5 - 0.5, and 5 - 4, and -1 - -2 */
    CHECK_EQ_INT(d.n_differ, 3);
    CHECK(lo[0] == 0.5f && hi[0] == 1.5f && lo[1] == -2.0f && hi[1] == -1.0f);

    double odd[3] = {3.0, 1.0, 2.0}, even[4] = {4.0, 1.0, 3.0, 2.0};
    CHECK_NEAR(dt_median(odd, 3), 2.0, 0);
    CHECK_NEAR(dt_median(even, 4), 2.5, 0);
    CHECK(odd[0] == 1.0 && odd[2] == 3.0); /* sorted in place */
}

static void test_synthetic(void) {
    dt_error err = {{0}};
    dt_dataset a, b, c;
    CHECK(dt_synthetic_dataset(&a, 6, 5, 3, 7, &err) == DT_OK);
    CHECK(dt_synthetic_dataset(&b, 6, 5, 3, 7, &err) == DT_OK);
    CHECK(dt_synthetic_dataset(&c, 6, 5, 3, 8, &err) == DT_OK);
    /* Known answers, computed independently by bench/peers/pytorch_mlp.py (numpy Philox). */
    const uint32_t first[6] = {0xbf43c9b4, 0x3f1541d8, 0x3f1bba0e, 0x3e6c8cb8, 0xbf3f928c, 0xbf5d54bc};
    for (int i = 0; i < 6; i++) CHECK_EQ_U32(bits_of(a.features[i]), first[i]);
    const int32_t labels[6] = {2, 2, 2, 1, 0, 1};
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(a.labels[i], labels[i]);
    char hex[65];
    dt_sha256_hex(a.features, 30 * sizeof(float), hex);
    CHECK(!strcmp(hex, "2766a33d985bf8b558880db3ffbe6a38411a9d921681a45183e71dec1cb99280"));
    CHECK(!memcmp(a.features, b.features, 30 * sizeof(float)));
    CHECK(memcmp(a.features, c.features, 30 * sizeof(float)) != 0);
    for (int i = 0; i < 30; i++) CHECK(a.features[i] >= -1.0f && a.features[i] < 1.0f);
    for (int s = 0; s < 6; s++) /* the label is the largest of the first 3 features */
        for (int k = 0; k < 3; k++) CHECK(a.features[s * 5 + a.labels[s]] >= a.features[s * 5 + k]);
    /* Element-indexed: a prefix is the same whatever the length asked for. */
    float longer[40], shorter[12];
    dt_synthetic_fill(longer, 40, 7, DT_SYNTHETIC_FEATURES);
    dt_synthetic_fill(shorter, 12, 7, DT_SYNTHETIC_FEATURES);
    CHECK(!memcmp(longer, shorter, sizeof shorter));
    CHECK(!memcmp(longer, a.features, 30 * sizeof(float)));
    dt_dataset_free(&a);
    dt_dataset_free(&b);
    dt_dataset_free(&c);
}

/* A config for the fast-route tests: 20-48-24-4 with the given mode and threads. */
static dt_status tiny_config(dt_config *cfg, dt_mode mode, int threads, dt_error *err) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"seed\": 3, \"data\": {\"train\": {\"format\": \"csv\", \"path\": \"x\"}, \"test\": {\"format\": "
             "\"csv\", \"path\": \"x\"}}, \"model\": {\"input_size\": 20, \"layers\": [{\"units\": 48}, {\"units\": "
             "24, \"activation\": \"tanh\"}, {\"units\": 4}]}, \"optimizer\": {\"kind\": \"adam\", \"lr\": 0.01, "
             "\"clip_norm\": 0.5}, \"train\": {\"batch_size\": 80, \"eval_batch_size\": 80}, \"runtime\": {\"device\": "
             "\"cpu\", \"mode\": \"%s\", \"threads\": %d}}",
             dt_mode_name(mode), threads);
    return dt_config_parse(cfg, json, "tiny", ".", 0, NULL, err);
}

/* Trains 6 steps of the tiny net from its seed's initial state; params (n_params) out. */
static void train_tiny(dt_mode mode, int threads, float *params, int64_t n_params, char *describe, size_t size) {
    dt_error err = {{0}};
    dt_config cfg;
    dt_net net;
    dt_dataset data;
    dt_backend *be = NULL;
    dt_host_state state = {0};
    CHECK(tiny_config(&cfg, mode, threads, &err) == DT_OK);
    CHECK(dt_net_build(&net, &cfg, &err) == DT_OK);
    CHECK_EQ_INT(net.n_params, n_params);
    CHECK(dt_synthetic_dataset(&data, 160, 20, 4, 3, &err) == DT_OK);
    CHECK(dt_cpu_backend.create(&be, &net, &cfg, &err) == DT_OK);
    CHECK(dt_cpu_backend.set_data(be, &data, &data, NULL, &err) == DT_OK);
    CHECK(dt_host_state_alloc(&state, &net, &err) == DT_OK);
    dt_net_init_params(&net, state.params, cfg.seed, cfg.model.init);
    CHECK(dt_cpu_backend.set_state(be, &state, &err) == DT_OK);
    int64_t index[160];
    for (int i = 0; i < 160; i++) index[i] = i;
    dt_optim_counters counters = dt_optim_counters_start();
    for (int s = 0; s < 6; s++) {
        dt_step_desc step;
        memset(&step, 0, sizeof step);
        step.sample_index = index + (s % 2) * 80;
        step.batch = 80;
        step.step = (uint64_t)s;
        dt_optim_next(&cfg, cfg.optimizer.lr, &counters, &step.scalars);
        dt_step_result result;
        CHECK(dt_cpu_backend.train_step(be, &step, &result, &err) == DT_OK);
        CHECK(isfinite(result.loss));
    }
    CHECK(dt_cpu_backend.get_state(be, &state, &err) == DT_OK);
    memcpy(params, state.params, (size_t)n_params * sizeof(float));
    dt_cpu_backend.describe(be, describe, size);
    dt_cpu_backend.destroy(be);
    dt_host_state_free(&state);
    dt_dataset_free(&data);
}

static void test_fast_route(void) {
    enum { N_PARAMS = 20 * 48 + 48 + 48 * 24 + 24 + 24 * 4 + 4 };
    static float portable[N_PARAMS], deterministic[N_PARAMS], fast[N_PARAMS], fast_again[N_PARAMS];
    static float fast_detrain[N_PARAMS];
    char text[256];
    train_tiny(DT_MODE_PORTABLE, 2, portable, N_PARAMS, text, sizeof text);
    CHECK(!strstr(text, "fast"));
    /* On a CPU the deterministic mode is the fixed-order route: the same bits. */
    train_tiny(DT_MODE_DETERMINISTIC, 3, deterministic, N_PARAMS, text, sizeof text);
    CHECK(!memcmp(portable, deterministic, sizeof portable));
    /* The fast route computes the same function, in another order. */
    train_tiny(DT_MODE_FAST, 2, fast, N_PARAMS, text, sizeof text);
    CHECK_STR_CONTAINS(text, "fast");
    CHECK_STR_CONTAINS(text, dt_blas_available() ? "OpenBLAS" : "built without OpenBLAS");
    dt_float_diff d = dt_compare_floats(portable, fast, N_PARAMS);
    CHECK(d.max_abs_diff < 0.05); /* 6 Adam steps of lr 0.01: a wrong product would be far off */
    fprintf(stderr, "fast vs portable: %lld of %d parameters differ, max |diff| %.3g\n", (long long)d.n_differ,
            N_PARAMS, d.max_abs_diff);
    /* One thread: one completion order, so the fast route repeats itself. */
    train_tiny(DT_MODE_FAST, 1, fast, N_PARAMS, text, sizeof text);
    train_tiny(DT_MODE_FAST, 1, fast_again, N_PARAMS, text, sizeof text);
    CHECK(!memcmp(fast, fast_again, sizeof fast));
    /* DT_FAST_GEMM=detrain: detrain's products with completion-order sums. */
    setenv("DT_FAST_GEMM", "detrain", 1);
    train_tiny(DT_MODE_FAST, 2, fast_detrain, N_PARAMS, text, sizeof text);
    unsetenv("DT_FAST_GEMM");
    CHECK_STR_CONTAINS(text, "fast: detrain");
    d = dt_compare_floats(portable, fast_detrain, N_PARAMS);
    CHECK(d.max_abs_diff < 0.05);
    /* And the portable route is untouched by all this. */
    train_tiny(DT_MODE_PORTABLE, 1, deterministic, N_PARAMS, text, sizeof text);
    CHECK(!memcmp(portable, deterministic, sizeof portable));
}

static void test_gemm_bench(void) {
    const dt_gemm_shape shapes[] = {
        {"one", 1, 1, 1, DT_GEMM_FORWARD},          {"forward", 7, 33, 19, DT_GEMM_FORWARD},
        {"input grad", 13, 5, 40, DT_GEMM_INPUT_GRAD}, {"weight grad", 17, 29, 11, DT_GEMM_WEIGHT_GRAD},
        {"square", 64, 64, 64, DT_GEMM_INPUT_GRAD},
    };
    const int n = sizeof shapes / sizeof shapes[0];
    const dt_gemm_bench_ops *ops = dt_gemm_bench_for("cpu");
    CHECK(ops == &dt_cpu_gemm_bench);
    dt_gemm_row rows[5 * DT_GEMM_MAX_VARIANTS];
    dt_error err = {{0}};
    CHECK(dt_gemm_bench_run(ops, shapes, n, 2, 1, 5, rows, &err) == DT_OK);
    for (int s = 0; s < n; s++) {
        const dt_gemm_row *portable = &rows[s * ops->n_variants], *blas = portable + 1;
        CHECK(!portable->skipped);
        CHECK(portable->bitwise);
        CHECK_EQ_INT(portable->checked_rows, shapes[s].M);
        CHECK(portable->gflops > 0 && portable->portable_ratio == 1.0);
        if (dt_blas_available()) {
            CHECK(!blas->skipped);
            CHECK(blas->max_abs_diff < 1e-4 * (double)shapes[s].P);
        } else {
            CHECK(blas->skipped);
            CHECK_STR_CONTAINS(blas->note, "without OpenBLAS");
        }
    }
}

static void test_options(void) {
    dt_bench_opts *o = malloc(sizeof *o);
    dt_error err = {{0}};
    int help = 0;
    char *none[] = {NULL};
    CHECK(dt_bench_parse_args(o, 0, none, &help, &err) == DT_OK);
    CHECK(!help && o->n_modes == 3 && o->n_sizes == 3 && o->repeats == 5 && o->steps == 10 && o->min_time == 1.0 && o->device == DT_DEVICE_CPU);
    char *bad_mode[] = {"--modes", "fast,exact"};
    CHECK(dt_bench_parse_args(o, 2, bad_mode, &help, &err) == DT_USAGE);
    CHECK_STR_CONTAINS(err.message, "--modes 'fast,exact'");
    char *twice[] = {"--modes", "fast,fast"};
    CHECK(dt_bench_parse_args(o, 2, twice, &help, &err) == DT_USAGE);
    char *zero[] = {"--repeats", "0"};
    CHECK(dt_bench_parse_args(o, 2, zero, &help, &err) == DT_USAGE);
    char *negative[] = {"--min-time", "-1"};
    CHECK(dt_bench_parse_args(o, 2, negative, &help, &err) == DT_USAGE);
    char *unknown[] = {"--fastest"};
    CHECK(dt_bench_parse_args(o, 1, unknown, &help, &err) == DT_USAGE);
    CHECK_STR_CONTAINS(err.message, "unknown option '--fastest'");
    char *missing[] = {"--json"};
    CHECK(dt_bench_parse_args(o, 1, missing, &help, &err) == DT_USAGE);
    char *good[] = {"--modes", "portable,fast", "--batches", "4,8", "--matmul", "none", "--device", "cuda", "--help"};
    CHECK(dt_bench_parse_args(o, 8, good, &help, &err) == DT_OK);
    CHECK(o->n_modes == 2 && o->modes[0] == DT_MODE_PORTABLE && o->n_batches == 2 && o->batches[1] == 8);
    CHECK(o->n_squares == 0 && !o->matmul_net && o->device == DT_DEVICE_CUDA);
    CHECK(dt_bench_parse_args(o, 9, good, &help, &err) == DT_OK && help);
    free(o);
}

/* Writes text to path. */
static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* `bench` on a shape file: the status, and err's message. */
static dt_status bench_on(const char *shape_path, const char *modes, const dt_backend_ops *ops, dt_error *err) {
    dt_bench_opts *o = malloc(sizeof *o);
    int help = 0;
    char *args[] = {"--sizes", (char *)shape_path, "--modes", (char *)modes, "--repeats", "3", "--steps", "2",
                    "--warmup", "1", "--matmul", "none", "--peers", "none", "--quiet", "--threads", "2", "--min-time", "0"};
    dt_status status = dt_bench_parse_args(o, 19, args, &help, err);
    if (status == DT_OK) status = ops ? dt_bench_main_with(o, ops, err) : dt_bench_main(o, err);
    free(o);
    return status;
}

static void test_shape_files(void) {
    char dir[] = "/tmp/dt-test-bench-XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    dt_error err = {{0}};
    snprintf(path, sizeof path, "%s/unknown.json", dir);
    write_file(path, "{\"name\": \"u\", \"model\": {\"input_size\": 4, \"layers\": [{\"units\": 2}]}, \"batches\": [4], "
                     "\"epochs\": 3}");
    CHECK(bench_on(path, "portable", NULL, &err) == DT_CONFIG);
    CHECK_STR_CONTAINS(err.message, "epochs: unknown key");
    snprintf(path, sizeof path, "%s/nomodel.json", dir);
    write_file(path, "{\"name\": \"n\", \"batches\": [4]}");
    CHECK(bench_on(path, "portable", NULL, &err) == DT_CONFIG);
    CHECK_STR_CONTAINS(err.message, "model: required");
    snprintf(path, sizeof path, "%s/batches.json", dir);
    write_file(path, "{\"name\": \"b\", \"model\": {\"input_size\": 4, \"layers\": [{\"units\": 2}]}, "
                     "\"batches\": {\"cuda\": [64]}}");
    CHECK(bench_on(path, "portable", NULL, &err) == DT_CONFIG);
    CHECK_STR_CONTAINS(err.message, "batches.cpu");
    snprintf(path, sizeof path, "%s/layer.json", dir);
    write_file(path, "{\"name\": \"l\", \"model\": {\"input_size\": 4, \"layers\": [{\"units\": 0}]}, \"batches\": [4]}");
    CHECK(bench_on(path, "portable", NULL, &err) == DT_CONFIG);
    CHECK_STR_CONTAINS(err.message, "config.model.layers[0].units");
    CHECK(bench_on("/nonexistent/shape.json", "portable", NULL, &err) == DT_IO);
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    CHECK(system(command) == 0);
}

/* A backend that breaks the promise: each repeat's final parameters get a different last bit. */
static dt_status (*cpu_get_state)(dt_backend *, dt_host_state *, dt_error *);
static dt_status drifting_get_state(dt_backend *be, dt_host_state *state, dt_error *err) {
    static uint32_t calls = 0;
    dt_status status = cpu_get_state(be, state, err);
    uint32_t b = bits_of(state->params[0]) ^ (++calls & 1u);
    memcpy(&state->params[0], &b, sizeof b);
    return status;
}

static void test_verdict(void) {
    dt_error err = {{0}};
    const char *tiny = "configs/bench-tiny.json";
    /* The real backend keeps its promise in both fixed-order modes. */
    CHECK(bench_on(tiny, "deterministic,portable", &dt_cpu_backend, &err) == DT_OK);
    /* One that does not must make the run fail, naming the row. */
    dt_backend_ops drifting = dt_cpu_backend;
    cpu_get_state = dt_cpu_backend.get_state;
    drifting.get_state = drifting_get_state;
    CHECK(bench_on(tiny, "portable", &drifting, &err) == DT_MISMATCH);
    CHECK_STR_CONTAINS(err.message, "tiny batch 96 portable: more than one digest");
    /* fast promises nothing: differing digests are reported, not failed. */
    CHECK(bench_on(tiny, "fast", &drifting, &err) == DT_OK);
}

/* A backend that writes each create (the mode's initial) and destroy ('.') into a trace. */
static char trace[64];
static int live_backends, most_live;
static dt_status traced_create(dt_backend **out, const dt_net *net, const dt_config *cfg, dt_error *err) {
    const size_t n = strlen(trace);
    if (n + 1 < sizeof trace) trace[n] = dt_mode_name(cfg->runtime.mode)[0], trace[n + 1] = '\0';
    if (++live_backends > most_live) most_live = live_backends;
    return dt_cpu_backend.create(out, net, cfg, err);
}
static void traced_destroy(dt_backend *be) {
    const size_t n = strlen(trace);
    if (n + 1 < sizeof trace) trace[n] = '.', trace[n + 1] = '\0';
    live_backends--;
    dt_cpu_backend.destroy(be);
}

/* The modes take turns, a repeat each per round, each repeat on its own backend: none idles
 * beside another's timed steps. */
static void test_interleaved(void) {
    dt_error err = {{0}};
    dt_backend_ops traced = dt_cpu_backend;
    traced.create = traced_create, traced.destroy = traced_destroy;
    trace[0] = '\0', live_backends = most_live = 0;
    CHECK(bench_on("configs/bench-tiny.json", "fast,deterministic,portable", &traced, &err) == DT_OK);
    CHECK(strcmp(trace, "f.d.p.f.d.p.f.d.p.") == 0);
    if (strcmp(trace, "f.d.p.f.d.p.f.d.p.")) fprintf(stderr, "trace: %s\n", trace);
    CHECK(most_live == 1 && live_backends == 0);
}

/* A detrain row of `mode` on shape "s", batch 8, whose three repeats took t0, t1, t2 seconds. */
static dt_bench_row timed_row(const char *mode, double t0, double t1, double t2) {
    dt_bench_row x;
    memset(&x, 0, sizeof x);
    snprintf(x.shape, sizeof x.shape, "s");
    snprintf(x.engine, sizeof x.engine, "detrain");
    snprintf(x.mode, sizeof x.mode, "%s", mode);
    x.batch = 8;
    x.repeats = 3;
    x.step_s[0] = t0, x.step_s[1] = t1, x.step_s[2] = t2;
    double sorted[3] = {t0, t1, t2};
    x.median_s = dt_median(sorted, 3);
    return x;
}

/* The ratios pair the modes of one shape and batch; the gate says within, above, or
 * inconclusive from the repeats' extremes; a skipped row or another batch gives no ratio. */
static void test_ratios(void) {
    dt_bench_row rows[5] = {timed_row("fast", 1.0, 1.1, 1.2), timed_row("deterministic", 2.0, 2.2, 2.4),
                            timed_row("portable", 4.0, 4.4, 4.8), timed_row("fast", 1, 1, 1),
                            timed_row("deterministic", 9, 9, 9)};
    rows[3].batch = rows[4].batch = 16;
    rows[3].skipped = 1; /* batch 16: its fast row did not run, so no deterministic / fast there */
    dt_bench_report r;
    memset(&r, 0, sizeof r);
    r.rows = rows, r.n_rows = 5;
    dt_bench_ratio q[5];
    CHECK(dt_bench_ratios(&r, 0, q) == 2);
    CHECK(q[0].num == &rows[1] && q[0].den == &rows[0] && q[1].num == &rows[2] && q[1].den == &rows[1]);
    CHECK(fabs(q[0].median - 2.2 / 1.1) < 1e-12);
    CHECK(fabs(q[0].low - 2.0 / 1.2) < 1e-12 && fabs(q[0].high - 2.4 / 1.0) < 1e-12);
    CHECK(q[0].verdict == DT_RATIO_WITHIN && dt_bench_gate(q, 2) == DT_RATIO_WITHIN); /* no gate */
    CHECK(dt_bench_ratios(&r, 2.5, q) == 2 && dt_bench_gate(q, 2) == DT_RATIO_WITHIN);  /* highs 2.4, 2.4 */
    CHECK(dt_bench_ratios(&r, 2.0, q) == 2 && q[0].verdict == DT_RATIO_INCONCLUSIVE);  /* [1.67, 2.4] */
    CHECK(dt_bench_gate(q, 2) == DT_RATIO_INCONCLUSIVE);
    CHECK(dt_bench_ratios(&r, 1.5, q) == 2 && q[0].verdict == DT_RATIO_ABOVE && dt_bench_gate(q, 2) == DT_RATIO_ABOVE);
    rows[0].step_s[2] = 2.5; /* a slow repeat of fast: deterministic / fast now straddles 1.5 */
    CHECK(dt_bench_ratios(&r, 1.5, q) == 2 && q[0].verdict == DT_RATIO_INCONCLUSIVE);
    cJSON *json = dt_bench_ratios_json(q, 2, 1.5);
    CHECK(json && cJSON_GetArraySize(json) == 2);
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(json, 0), "ratio")), "deterministic/fast"));
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(json, 0), "verdict")), "inconclusive"));
    cJSON_Delete(json);
}

int main(void) {
    test_stats();
    test_synthetic();
    test_fast_route();
    test_gemm_bench();
    test_options();
    test_shape_files();
    test_verdict();
    test_interleaved();
    test_ratios();
    return TEST_EXIT();
}
