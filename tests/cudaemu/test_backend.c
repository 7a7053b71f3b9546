/* test_backend.c — the CUDA backend on the CPU emulator, call by call, where whole training
 * runs cannot reach (tests/cudaemu_train.sh runs those):
 *   - deferred train_step results survive the synchronous calls that follow them (gradients,
 *     apply_update, evaluate write their own result slot);
 *   - results collected in bulk, a collection wrapping around the device ring, equal the
 *     results each step returns itself (loss, correct count, gradient norm, bit for bit);
 *   - a second set_data replaces the data and forgets the order that indexed the first;
 *   - what a training step submits in each mode (kernels, cuBLAS calls, memsets, copies):
 *     fast no more than deterministic, portable no cuBLAS, no copy in a step, with CUDA
 *     graphs one graph launch and nothing else, and the backend's own counters
 *     (kernels/cuda/counts.h) equal what the emulator ran;
 *   - steps replayed as CUDA graphs give the bits of steps launched one by one, in every
 *     mode, over two batch shapes and a step table reused without a wait, and after a
 *     second set_data (which forgets the graphs captured with the old data);
 *   - each call of cudaMalloc, cudaMemsetAsync, cudaMemcpyAsync, cudaHostAlloc,
 *     cudaStreamCreate, a kernel launch, cublasCreate, cublasSgemm and the graph calls
 *     (capture, instantiate, launch) made over a backend's
 *     life fails in turn: every failure is a DT_DEVICE naming the call, and the backend is
 *     destroyed cleanly (the ASan build checks that nothing leaks).
 * The emulator's ordering check is on throughout. Needs DTEMU_DEVICES >= 1 (CTest sets it). */
#include <stdlib.h>
#include <string.h>

#include "../small_net.h"
#include "../test.h"
#include "backends/backend.h"
#include "cuda_runtime_api.h"
#include "dtemu.h"
#include "core/model.h"
#include "core/optim.h"

/* The small net (small_net.h) in batches of 16 on the emulated GPU. */
static void make_config(dt_config *cfg, dt_mode mode) {
    small_net_config(cfg);
    cfg->train.batch_size = 16;
    cfg->train.eval_batch_size = 50;
    cfg->runtime.device = DT_DEVICE_CUDA;
    cfg->runtime.mode = mode;
    cfg->runtime.gpu = 0;
}

typedef struct {
    dt_config cfg;
    dt_net net;
    dt_dataset data, other;
    dt_host_state state;
    int64_t order[256];
} fixture;

static void fixture_init(fixture *f, dt_mode mode) {
    dt_error err = {{0}};
    make_config(&f->cfg, mode);
    CHECK(dt_net_build(&f->net, &f->cfg, &err) == DT_OK);
    small_net_data(&f->data, 0);
    small_net_data(&f->other, 1);
    CHECK(dt_host_state_alloc(&f->state, &f->net, &err) == DT_OK);
    dt_net_init_params(&f->net, f->state.params, f->cfg.seed, DT_INIT_HE_NORMAL);
    for (int i = 0; i < 256; i++) f->order[i] = (i * 97) % 256;
}

static void fixture_free(fixture *f) {
    dt_host_state_free(&f->state);
    dt_dataset_free(&f->data);
    dt_dataset_free(&f->other);
}

/* Step s of an epoch in f->order. */
static dt_step_desc step_at(fixture *f, int64_t s, dt_optim_counters *counters) {
    const int64_t start = (s * 16) % 256;
    dt_step_desc step = {.sample_index = f->order + start, .order_offset = start, .batch = 16, .step = (uint64_t)s};
    dt_optim_next(&f->cfg, 0.01f, counters, &step.scalars);
    return step;
}

/* A backend with f's data, state and order. */
static dt_backend *started(fixture *f, dt_error *err) {
    dt_backend *be = NULL;
    if (dt_cuda_backend.create(&be, &f->net, &f->cfg, err) != DT_OK) return NULL;
    if (dt_cuda_backend.set_data(be, &f->data, &f->data, NULL, err) != DT_OK ||
        dt_cuda_backend.set_state(be, &f->state, err) != DT_OK ||
        dt_cuda_backend.set_order(be, f->order, 256, err) != DT_OK) {
        dt_cuda_backend.destroy(be);
        return NULL;
    }
    return be;
}

/* DT_RESULT_LOG deferred steps, then (with `interleave`) the synchronous calls, then the
 * collection: the collected results must not depend on the calls in between. */
static void run_deferred(fixture *f, int interleave, dt_step_result *results) {
    dt_error err = {{0}};
    dt_backend *be = started(f, &err);
    CHECK(be != NULL);
    if (!be) return;
    dt_optim_counters counters = dt_optim_counters_start();
    for (int64_t s = 0; s < DT_RESULT_LOG; s++) {
        dt_step_desc step = step_at(f, s, &counters);
        CHECK(dt_cuda_backend.train_step(be, &step, NULL, &err) == DT_OK);
    }
    if (interleave) {
        dt_step_result sync;
        dt_eval_result eval;
        dt_step_desc step = step_at(f, 0, &counters);
        CHECK(dt_cuda_backend.gradients(be, &step, &sync, &err) == DT_OK);
        CHECK(dt_cuda_backend.evaluate(be, 1, &eval, &err) == DT_OK);
    }
    CHECK(dt_cuda_backend.collect_results(be, results, DT_RESULT_LOG, &err) == DT_OK);
    dt_cuda_backend.destroy(be);
}

static void test_deferred_results(void) {
    fixture f;
    fixture_init(&f, DT_MODE_PORTABLE);
    static dt_step_result plain[DT_RESULT_LOG], interleaved[DT_RESULT_LOG];
    run_deferred(&f, 0, plain);
    run_deferred(&f, 1, interleaved);
    int differ = 0;
    for (int i = 0; i < DT_RESULT_LOG; i++)
        differ += memcmp(&plain[i].loss_sum, &interleaved[i].loss_sum, sizeof(float)) != 0 ||
                  plain[i].correct != interleaved[i].correct;
    CHECK_EQ_INT(differ, 0);
    CHECK(plain[0].loss > 0.0f && plain[DT_RESULT_LOG - 1].loss < plain[0].loss); /* it trained */
    fixture_free(&f);
}

/* Steps 0 .. n-1 of f: each returning its result (every = 0), or deferred and collected
 * `every` steps at a time and at the end. */
static void run_collected(fixture *f, int64_t n, int64_t every, dt_step_result *results) {
    dt_error err = {{0}};
    dt_backend *be = started(f, &err);
    CHECK(be != NULL);
    if (!be) return;
    dt_optim_counters counters = dt_optim_counters_start();
    int64_t collected = 0;
    for (int64_t s = 0; s < n; s++) {
        dt_step_desc step = step_at(f, s, &counters);
        CHECK(dt_cuda_backend.train_step(be, &step, every ? NULL : &results[s], &err) == DT_OK);
        if (every && (s + 1 - collected == every || s + 1 == n)) {
            CHECK(dt_cuda_backend.collect_results(be, results + collected, (int)(s + 1 - collected), &err) == DT_OK);
            collected = s + 1;
        }
    }
    dt_cuda_backend.destroy(be);
}

/* 1000 steps collected at once (ring slots 0..999), then 64 more in one collection that
 * wraps (slots 1000..1023 and 0..39): the same bits as the steps' own results. */
static void test_collection_wraps(void) {
    enum { STEPS = DT_RESULT_LOG + 40 };
    fixture f;
    fixture_init(&f, DT_MODE_PORTABLE);
    static dt_step_result own[STEPS], bulk[STEPS];
    run_collected(&f, STEPS, 0, own);
    run_collected(&f, STEPS, 1000, bulk);
    int differ = 0;
    for (int i = 0; i < STEPS; i++)
        differ += memcmp(&own[i].loss_sum, &bulk[i].loss_sum, sizeof(float)) != 0 || own[i].correct != bulk[i].correct ||
                  memcmp(&own[i].grad_norm, &bulk[i].grad_norm, sizeof(float)) != 0;
    CHECK_EQ_INT(differ, 0);
    CHECK(f.cfg.optimizer.clip_norm > 0.0f && own[STEPS - 1].grad_norm > 0.0f); /* the norms were compared */
    fixture_free(&f);
}

static void test_second_set_data(void) {
    fixture f;
    fixture_init(&f, DT_MODE_PORTABLE);
    dt_error err = {{0}};
    dt_optim_counters counters = dt_optim_counters_start();
    dt_step_desc step = step_at(&f, 3, &counters);
    step.order_offset = -1; /* the rows by index: the new data has no order yet */
    dt_step_result replaced, fresh;
    /* data, order, then other data: the step must train on the other data's rows */
    dt_backend *be = started(&f, &err);
    CHECK(be != NULL);
    if (!be) return;
    CHECK(dt_cuda_backend.set_data(be, &f.other, &f.other, NULL, &err) == DT_OK);
    step.order_offset = 48;
    CHECK(dt_cuda_backend.train_step(be, &step, &replaced, &err) == DT_OK);
    dt_cuda_backend.destroy(be);
    /* the same step on a backend that only ever saw the other data */
    CHECK(dt_cuda_backend.create(&be, &f.net, &f.cfg, &err) == DT_OK);
    CHECK(dt_cuda_backend.set_data(be, &f.other, &f.other, NULL, &err) == DT_OK);
    CHECK(dt_cuda_backend.set_state(be, &f.state, &err) == DT_OK);
    step.order_offset = -1;
    CHECK(dt_cuda_backend.train_step(be, &step, &fresh, &err) == DT_OK);
    dt_cuda_backend.destroy(be);
    CHECK(memcmp(&replaced.loss_sum, &fresh.loss_sum, sizeof(float)) == 0);
    fixture_free(&f);
}

/* CUDA graphs on or off for the backends created from now on (backend_cuda.cu reads
 * DETRAIN_CUDA_GRAPHS at creation). */
static void use_graphs(int on) { setenv("DETRAIN_CUDA_GRAPHS", on ? "1" : "0", 1); }

/* Steps, then a second set_data (other data) and its order, then steps again, graphs on or
 * off: the results of the last 4 steps. */
static void run_across_set_data(fixture *f, int graphs, dt_step_result *results) {
    dt_error err = {{0}};
    use_graphs(graphs);
    dt_backend *be = started(f, &err);
    CHECK(be != NULL);
    if (!be) return;
    dt_optim_counters counters = dt_optim_counters_start();
    for (int64_t s = 0; s < 8; s++) {
        if (s == 4) {
            CHECK(dt_cuda_backend.set_data(be, &f->other, &f->other, NULL, &err) == DT_OK);
            CHECK(dt_cuda_backend.set_order(be, f->order, 256, &err) == DT_OK);
        }
        dt_step_desc step = step_at(f, s, &counters);
        CHECK(dt_cuda_backend.train_step(be, &step, s >= 4 ? &results[s - 4] : NULL, &err) == DT_OK);
    }
    dt_cuda_backend.destroy(be);
    use_graphs(1);
}

/* A second set_data forgets the steps captured before it (they hold the old data's and
 * order's addresses): after it, steps as graphs equal steps launched one by one. */
static void test_graphs_across_set_data(void) {
    fixture f;
    fixture_init(&f, DT_MODE_PORTABLE);
    dt_step_result eager[4], graphed[4];
    run_across_set_data(&f, 0, eager);
    run_across_set_data(&f, 1, graphed);
    int differ = 0;
    for (int i = 0; i < 4; i++) differ += memcmp(&eager[i].loss_sum, &graphed[i].loss_sum, sizeof(float)) != 0;
    CHECK_EQ_INT(differ, 0);
    fixture_free(&f);
}

/* What one training step submits in `mode` (the small net: 3 layers, Adam, clipping), as the
 * emulator counts it over 4 steps after two warm-up steps (with graphs: the eager first step
 * and the one captured), and as the backend counts it (*own, per step). */
static dtemu_stats work_per_step(dt_mode mode, int graphs, dt_work_counts *own) {
    fixture f;
    fixture_init(&f, mode);
    use_graphs(graphs);
    dt_error err = {{0}};
    dtemu_stats per_step = {0};
    dt_backend *be = started(&f, &err);
    CHECK(be != NULL);
    if (!be) return per_step;
    dt_optim_counters counters = dt_optim_counters_start();
    for (int64_t s = 0; s < 2; s++) {
        dt_step_desc step = step_at(&f, s, &counters);
        CHECK(dt_cuda_backend.train_step(be, &step, NULL, &err) == DT_OK);
    }
    CHECK(cudaDeviceSynchronize() == cudaSuccess); /* kernels are counted when they run */
    const dtemu_stats before = dtemu_get_stats();
    dt_work_counts own_before, own_after;
    dt_cuda_backend.work_counts(be, &own_before);
    for (int64_t s = 2; s < 6; s++) {
        dt_step_desc step = step_at(&f, s, &counters);
        CHECK(dt_cuda_backend.train_step(be, &step, NULL, &err) == DT_OK);
    }
    dt_cuda_backend.work_counts(be, &own_after);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    const dtemu_stats after = dtemu_get_stats();
    dt_step_result results[6];
    CHECK(dt_cuda_backend.collect_results(be, results, 6, &err) == DT_OK);
    dt_cuda_backend.destroy(be);
    fixture_free(&f);
    per_step.launches = (after.launches - before.launches) / 4;
    per_step.gemms = (after.gemms - before.gemms) / 4;
    per_step.memsets = (after.memsets - before.memsets) / 4;
    per_step.copies = (after.copies - before.copies) / 4;
    per_step.graph_launches = (after.graph_launches - before.graph_launches) / 4;
    *own = (dt_work_counts){(own_after.kernels - own_before.kernels) / 4,
                            (own_after.library_calls - own_before.library_calls) / 4,
                            (own_after.copies - own_before.copies) / 4,
                            (own_after.syncs - own_before.syncs) / 4,
                            (own_after.graphs - own_before.graphs) / 4,
                            (own_after.graph_nodes - own_before.graph_nodes) / 4};
    /* the backend's own counters (kernels/cuda/counts.h, what bench reports on hardware) agree
     * with what ran, launched one by one or by the graphs */
    CHECK_EQ_INT(own->kernels, per_step.launches);
    CHECK_EQ_INT(own->library_calls, per_step.gemms);
    CHECK_EQ_INT(own->graphs, per_step.graph_launches);
    CHECK_EQ_INT(own->graph_nodes, graphs ? per_step.launches + per_step.gemms : 0);
    CHECK_EQ_INT(own->copies, per_step.copies + per_step.memsets);
    CHECK_EQ_INT(own->syncs, 0); /* deferred steps: no host wait */
    return per_step;
}

/* The work a step submits in each mode: the fast mode submits no more than the deterministic
 * one (its reductions are one launch each, nothing to zero first), the portable mode calls
 * no cuBLAS, a step copies nothing (the order is on the GPU, the results stay there until
 * collected), and with graphs a step is one graph launch and no other submission. */
static void test_work_per_step(void) {
    const dt_mode modes[] = {DT_MODE_PORTABLE, DT_MODE_DETERMINISTIC, DT_MODE_FAST};
    const char *names[] = {"portable", "deterministic", "fast"};
    dtemu_stats work[2][3];
    dt_work_counts own[2][3];
    printf("%-14s %-6s %8s %8s %8s %8s %8s  (per training step, small net, Adam, clipping)\n", "mode", "graphs",
           "graphs", "kernels", "cuBLAS", "memsets", "copies");
    for (int graphs = 0; graphs < 2; graphs++)
        for (int m = 0; m < 3; m++) {
            work[graphs][m] = work_per_step(modes[m], graphs, &own[graphs][m]);
            const dt_work_counts *o = &own[graphs][m];
            printf("%-14s %-6s %8llu %8llu %8llu %8llu %8llu  host calls: %llu\n", names[m], graphs ? "on" : "off",
                   (unsigned long long)work[graphs][m].graph_launches, (unsigned long long)work[graphs][m].launches,
                   (unsigned long long)work[graphs][m].gemms, (unsigned long long)work[graphs][m].memsets,
                   (unsigned long long)work[graphs][m].copies,
                   (unsigned long long)(o->kernels + o->library_calls + o->copies - o->graph_nodes + o->graphs));
        }
    for (int graphs = 0; graphs < 2; graphs++) {
        const dtemu_stats *w = work[graphs];
        CHECK(w[0].gemms == 0 && w[1].gemms > 0);
        CHECK(w[2].launches + w[2].memsets <= w[1].launches + w[1].memsets);
        CHECK(w[2].gemms == w[1].gemms);
        for (int m = 0; m < 3; m++) {
            /* nothing copied a step: the results stay on the device until collect_results asks */
            CHECK(w[m].copies == 0 && w[m].memsets == 0);
            /* the graph runs what the launches one by one run */
            CHECK(w[m].launches == work[0][m].launches && w[m].gemms == work[0][m].gemms);
            /* with graphs the host makes one call a step: the graph's launch */
            const dt_work_counts *o = &own[graphs][m];
            CHECK_EQ_INT(o->graphs, graphs);
            CHECK_EQ_INT(o->kernels + o->library_calls + o->copies - o->graph_nodes + o->graphs,
                         graphs ? 1 : w[m].launches + w[m].gemms);
        }
    }
    use_graphs(1);
}

/* Step s of the graph tests: as step_at, but every fifth batch has 10 rows (a second shape,
 * as an epoch's last batch) and step 7 gives its rows by index (no order offset: launched
 * one by one). */
static dt_step_desc mixed_step_at(fixture *f, int64_t s, dt_optim_counters *counters) {
    dt_step_desc step = step_at(f, s, counters);
    if (s % 5 == 4) step.batch = 10;
    if (s == 7) step.order_offset = -1;
    return step;
}

/* n steps of mixed_step_at on a new backend, graphs on or off: the results of the last
 * `kept` (each step's own without graphs; deferred and collected once at the end with
 * them, so the step table is reused while nothing waits), the state after, and the graphs
 * launched. */
static void run_mixed(fixture *f, int graphs, int64_t n, int kept, dt_step_result *results, dt_host_state *state,
                      uint64_t *graph_launches) {
    dt_error err = {{0}};
    use_graphs(graphs);
    dt_backend *be = started(f, &err);
    CHECK(be != NULL);
    if (!be) return;
    dt_work_counts before, after;
    dt_cuda_backend.work_counts(be, &before);
    dt_optim_counters counters = dt_optim_counters_start();
    for (int64_t s = 0; s < n; s++) {
        dt_step_desc step = mixed_step_at(f, s, &counters);
        dt_step_result own;
        CHECK(dt_cuda_backend.train_step(be, &step, graphs ? NULL : &own, &err) == DT_OK);
        if (!graphs && s >= n - kept) results[s - (n - kept)] = own;
    }
    if (graphs) CHECK(dt_cuda_backend.collect_results(be, results, kept, &err) == DT_OK);
    CHECK(dt_cuda_backend.get_state(be, state, &err) == DT_OK);
    dt_cuda_backend.work_counts(be, &after);
    *graph_launches = after.graphs - before.graphs;
    dt_cuda_backend.destroy(be);
    use_graphs(1);
}

/* The steps as replayed graphs give the bits of the steps launched one by one, in every
 * mode: results (loss sum, correct count, gradient norm) and the state (parameters, both
 * moments), with dropout, clipping, Adam, two batch shapes and a step outside the order.
 * The portable run is long enough (2 DT_RESULT_LOG + 50 steps, never waited for) that the
 * step table's entries are reused: an entry overwritten before its step read it would
 * change the bits. */
static void test_graphs_equal_eager(void) {
    const dt_mode modes[] = {DT_MODE_PORTABLE, DT_MODE_DETERMINISTIC, DT_MODE_FAST};
    static dt_step_result eager[DT_RESULT_LOG], graphed[DT_RESULT_LOG];
    for (int m = 0; m < 3; m++) {
        fixture f;
        fixture_init(&f, modes[m]);
        dt_error err = {{0}};
        dt_host_state a, b;
        CHECK(dt_host_state_alloc(&a, &f.net, &err) == DT_OK && dt_host_state_alloc(&b, &f.net, &err) == DT_OK);
        const int64_t n = m == 0 ? 2 * DT_RESULT_LOG + 50 : 60;
        const int kept = n < DT_RESULT_LOG ? (int)n : DT_RESULT_LOG;
        uint64_t launches_eager = 0, launches_graphed = 0;
        run_mixed(&f, 0, n, kept, eager, &a, &launches_eager);
        run_mixed(&f, 1, n, kept, graphed, &b, &launches_graphed);
        int differ = 0;
        for (int i = 0; i < kept; i++)
            differ += memcmp(&eager[i].loss_sum, &graphed[i].loss_sum, sizeof(float)) != 0 ||
                      eager[i].correct != graphed[i].correct ||
                      memcmp(&eager[i].grad_norm, &graphed[i].grad_norm, sizeof(float)) != 0;
        const size_t bytes = (size_t)f.net.n_params * sizeof(float);
        const int same_state = !memcmp(a.params, b.params, bytes) && !memcmp(a.opt_m, b.opt_m, bytes) &&
                               !memcmp(a.opt_v, b.opt_v, bytes);
        printf("%s: %lld steps, %llu as graph launches: %d of the last %d results differ, state %s\n",
               dt_mode_name(modes[m]), (long long)n, (unsigned long long)launches_graphed, differ, kept,
               same_state ? "identical" : "DIFFERS");
        CHECK_EQ_INT(differ, 0);
        CHECK(same_state);
        CHECK(eager[kept - 1].grad_norm > 0.0f); /* the norms were compared */
        /* every step but each shape's first (a warm-up) and step 7 (rows by index) */
        CHECK_EQ_INT(launches_eager, 0);
        CHECK_EQ_INT(launches_graphed, n - 3);
        dt_host_state_free(&a);
        dt_host_state_free(&b);
        fixture_free(&f);
    }
}

/* A backend's whole life: every call the backend makes, in deterministic mode (cuBLAS). */
static dt_status lifetime(fixture *f, dt_error *err) {
    dt_status status = DT_OK;
    dt_backend *be = NULL;
    dt_optim_counters counters = dt_optim_counters_start();
    dt_step_result result;
    dt_eval_result eval;
    DT_TRY(dt_cuda_backend.create(&be, &f->net, &f->cfg, err));
    DT_TRY(dt_cuda_backend.set_data(be, &f->data, &f->data, NULL, err));
    DT_TRY(dt_cuda_backend.set_state(be, &f->state, err));
    DT_TRY(dt_cuda_backend.set_order(be, f->order, 256, err));
    for (int64_t s = 0; s < 3; s++) { /* eager (warm-up), captured, replayed */
        dt_step_desc step = step_at(f, s, &counters);
        DT_TRY(dt_cuda_backend.train_step(be, &step, NULL, err));
    }
    dt_step_result results[3];
    DT_TRY(dt_cuda_backend.collect_results(be, results, 3, err));
    dt_step_desc step = step_at(f, 3, &counters);
    DT_TRY(dt_cuda_backend.gradients(be, &step, &result, err));
    DT_TRY(dt_cuda_backend.apply_update(be, &step.scalars, &result, err));
    DT_TRY(dt_cuda_backend.evaluate(be, 1, &eval, err));
    DT_TRY(dt_cuda_backend.get_state(be, &f->state, err));
cleanup:
    dt_cuda_backend.destroy(be);
    return status;
}

static void test_failures(void) {
    fixture f;
    fixture_init(&f, DT_MODE_DETERMINISTIC);
    const char *apis[] = {"cudaMalloc",      "cudaMemsetAsync",      "cudaMemcpyAsync", "cudaHostAlloc",
                          "cudaStreamCreate", "kernel",              "cublasCreate",    "cublasSgemm",
                          "cudaStreamBeginCapture", "cudaGraphInstantiate", "cudaGraphLaunch"};
    int injected = 0;
    for (size_t a = 0; a < sizeof apis / sizeof apis[0]; a++) {
        int calls = 0;
        for (long call = 1; call < 10000; call++) {
            dtemu_fail_call(apis[a], call);
            dt_error err = {{0}};
            const dt_status status = lifetime(&f, &err);
            if (status == DT_OK) break; /* fewer calls than `call`: all of them failed once */
            calls++;
            CHECK_EQ_INT(status, DT_DEVICE);
            if (!strstr(err.message, "failed at")) fprintf(stderr, "%s call %ld: %s\n", apis[a], call, err.message);
            CHECK_STR_CONTAINS(err.message, "failed at");
        }
        dtemu_fail_call(apis[a], 0);
        printf("%-18s %4d calls over a backend's life, each failed once: handled\n", apis[a], calls);
        CHECK(calls > 0);
        injected += calls;
    }
    printf("%d injected failures, each a DT_DEVICE naming the call\n", injected);
    dt_error err = {{0}};
    CHECK(lifetime(&f, &err) == DT_OK); /* and nothing is left broken */
    fixture_free(&f);
}

int main(void) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
        printf("SKIP: needs DTEMU_DEVICES >= 1\n");
        return TEST_SKIP;
    }
    test_deferred_results();
    test_collection_wraps();
    test_second_set_data();
    test_work_per_step();
    test_graphs_equal_eager();
    test_graphs_across_set_data();
    test_failures();
    return TEST_EXIT();
}
