/* test_noalloc.c — a training step allocates nothing: the CPU backend's train_step, and the
 * microbatch path (gradients, the microbatch tree, apply_update), run many steps after a
 * warm-up without a single call to malloc, calloc, realloc or aligned_alloc from detrain's
 * code (counted through the linker's --wrap; see tests/CMakeLists.txt). */
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/model.h"
#include "core/optim.h"
#include "small_net.h"
#include "test.h"

static long allocations = 0;
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);
void *__wrap_malloc(size_t size) { __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED); return __real_malloc(size); }
void *__wrap_calloc(size_t n, size_t size) { __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED); return __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t size) { __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED); return __real_realloc(p, size); }
void *__wrap_aligned_alloc(size_t alignment, size_t size) {
    __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __real_aligned_alloc(alignment, size);
}

/* The small net (small_net.h) in batches of 64. */
static void make_config(dt_config *cfg, int microbatches) {
    small_net_config(cfg);
    cfg->train.batch_size = 64;
    cfg->train.eval_batch_size = 64;
    cfg->train.microbatches = microbatches;
    cfg->runtime.threads = 2;
}

static void run(int microbatches) {
    dt_config cfg;
    make_config(&cfg, microbatches);
    dt_net net;
    dt_error err = {{0}};
    CHECK(dt_net_build(&net, &cfg, &err) == DT_OK);
    dt_dataset data;
    small_net_data(&data, 0);
    const dt_backend_ops *ops = &dt_cpu_backend;
    dt_backend *be = NULL;
    dt_host_state st;
    const long at_create = __atomic_load_n(&allocations, __ATOMIC_RELAXED);
    CHECK(ops->create(&be, &net, &cfg, &err) == DT_OK);
    /* The counter sees detrain's own allocations (creating a backend makes many). */
    CHECK(__atomic_load_n(&allocations, __ATOMIC_RELAXED) > at_create);
    CHECK(ops->set_data(be, &data, &data, NULL, &err) == DT_OK);
    CHECK(dt_host_state_alloc(&st, &net, &err) == DT_OK);
    dt_net_init_params(&net, st.params, cfg.seed, cfg.model.init);
    CHECK(ops->set_state(be, &st, &err) == DT_OK);
    int64_t index[64];
    dt_optim_counters counters = dt_optim_counters_start();
    dt_grad_tree tree;
    dt_grad_tree_init(&tree, microbatches);
    long before = 0;
    for (int s = 0; s < 30; s++) {
        if (s == 5) before = __atomic_load_n(&allocations, __ATOMIC_RELAXED); /* after the warm-up */
        for (int b = 0; b < 64; b++) index[b] = (s * 64 + b * 5) % 256;
        dt_step_desc step = {.sample_index = index, .order_offset = -1, .batch = 64, .step = (uint64_t)s};
        dt_optim_next(&cfg, 0.01f, &counters, &step.scalars);
        dt_step_result res;
        if (microbatches == 1) {
            CHECK(ops->train_step(be, &step, &res, &err) == DT_OK);
            continue;
        }
        for (int k = 0; k < microbatches; k++) {
            dt_step_desc micro = step;
            micro.sample_index = index + k * 64 / microbatches;
            micro.batch = 64 / microbatches;
            micro.loss_divisor = 64.0f;
            CHECK(ops->gradients(be, &micro, &res, &err) == DT_OK);
            CHECK(dt_backend_grads_push(ops, be, &tree, &err) == DT_OK);
        }
        CHECK(dt_backend_grads_pop(ops, be, &tree, &err) == DT_OK);
        CHECK(ops->apply_update(be, &step.scalars, &res, &err) == DT_OK);
    }
    const long during = __atomic_load_n(&allocations, __ATOMIC_RELAXED) - before;
    fprintf(stderr, "microbatches %d: %ld allocations in 25 steps\n", microbatches, during);
    CHECK_EQ_INT(during, 0);
    dt_host_state_free(&st);
    ops->destroy(be);
    dt_dataset_free(&data);
}

int main(void) {
    run(1);
    run(4);
    return TEST_EXIT();
}
