/* pool.c — persistent workers for short, back-to-back tasks.
 *
 * A training step posts a dozen small tasks; waking sleeping threads for each would cost
 * more than the work. So workers spin on an atomic generation counter for a while after
 * each task (a pause per check) and only then sleep on a condition variable; the caller
 * runs range 0 itself and spins until the others are done. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Checks of the generation counter before a worker goes to sleep (~ a few milliseconds). */
#define DT_POOL_SPINS 200000

struct dt_pool {
    int n_threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic uint64_t generation;  /* bumped for every posted task */
    _Atomic int pending;          /* workers still running the current task */
    _Atomic int sleepers;         /* workers waiting on `wake` */
    _Atomic int stopping;
    /* the current task, written before generation is bumped */
    dt_task_fn fn;
    void *ctx;
    int64_t n_items, grain;
};

typedef struct {
    dt_pool *pool;
    int index;
} worker_arg;

/* One wait between checks of a shared counter: a pause at first, then, after many, a
 * yield, so that more busy threads than cores (several ranks on one machine) still move. */
static inline void cpu_relax(long spins) {
#if defined(__x86_64__) || defined(__i386__)
    if (spins < 4096) {
        __builtin_ia32_pause();
        return;
    }
#endif
    (void)spins;
    sched_yield();
}

int dt_available_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    return 1;
}

/* The range of thread `index`: a contiguous share, cut at multiples of grain. */
static void task_range(const dt_pool *pool, int index, int64_t *begin, int64_t *end) {
    int64_t chunks = (pool->n_items + pool->grain - 1) / pool->grain;
    int64_t c0 = chunks * index / pool->n_threads, c1 = chunks * (index + 1) / pool->n_threads;
    *begin = c0 * pool->grain;
    *end = c1 * pool->grain < pool->n_items ? c1 * pool->grain : pool->n_items;
}

static void run_share(dt_pool *pool, int index) {
    int64_t begin, end;
    task_range(pool, index, &begin, &end);
    if (begin < end) pool->fn(pool->ctx, begin, end, index);
}

/* Waits until the generation differs from `seen` (or the pool stops); returns the new one. */
static uint64_t wait_for_task(dt_pool *pool, uint64_t seen) {
    for (long spin = 0; spin < DT_POOL_SPINS; spin++) {
        uint64_t now = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (now != seen || atomic_load(&pool->stopping)) return now;
        cpu_relax(spin);
    }
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->sleepers, 1);
    uint64_t now;
    while ((now = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stopping))
        pthread_cond_wait(&pool->wake, &pool->lock);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->lock);
    return now;
}

static void *worker_main(void *arg_ptr) {
    worker_arg *arg = arg_ptr;
    dt_pool *pool = arg->pool;
    uint64_t seen = 0;
    for (;;) {
        seen = wait_for_task(pool, seen);
        if (atomic_load(&pool->stopping)) break;
        run_share(pool, arg->index);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
    free(arg);
    return NULL;
}

dt_pool *dt_pool_create(int n_threads) {
    if (n_threads <= 0) n_threads = dt_available_cores();
    dt_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = 1; /* threads running so far, for cleanup */
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->workers = calloc((size_t)n_threads, sizeof *pool->workers);
    if (!pool->workers) goto fail;
    for (int i = 1; i < n_threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) goto fail;
        arg->pool = pool;
        arg->index = i;
        if (pthread_create(&pool->workers[i], NULL, worker_main, arg) != 0) {
            free(arg);
            goto fail;
        }
        pool->n_threads = i + 1;
    }
    return pool;
fail:
    dt_pool_destroy(pool);
    return NULL;
}

int dt_pool_threads(const dt_pool *pool) { return pool->n_threads; }

void dt_pool_run(dt_pool *pool, int64_t n_items, int64_t grain, dt_task_fn fn, void *ctx) {
    if (n_items <= 0) return;
    if (grain < 1) grain = 1;
    if (pool->n_threads == 1 || n_items <= grain) {
        fn(ctx, 0, n_items, 0);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_items = n_items;
    pool->grain = grain;
    atomic_store(&pool->pending, pool->n_threads - 1);
    atomic_fetch_add(&pool->generation, 1); /* publishes the task (seq_cst) */
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    run_share(pool, 0);
    for (long spin = 0; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; spin++) cpu_relax(spin);
}

void dt_pool_destroy(dt_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stopping, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->workers[i], NULL);
    free(pool->workers);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
