/* pool.c — workers sleep on a condition variable between tasks; a generation counter
 * tells them a new task is posted. The caller runs range 0 itself. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

struct dt_pool {
    int n_threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    uint64_t generation;     /* bumped for every posted task */
    int pending;             /* workers still running the current task */
    int stopping;
    /* the current task */
    dt_task_fn fn;
    void *ctx;
    int64_t n_items, grain;
};

typedef struct {
    dt_pool *pool;
    int index;
} worker_arg;

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
    if (begin < end) pool->fn(pool->ctx, begin, end);
}

static void *worker_main(void *arg_ptr) {
    worker_arg *arg = arg_ptr;
    dt_pool *pool = arg->pool;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        while (pool->generation == seen && !pool->stopping) pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stopping) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        seen = pool->generation;
        pthread_mutex_unlock(&pool->lock);

        run_share(pool, arg->index);

        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0) pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->lock);
    }
    free(arg);
    return NULL;
}

dt_pool *dt_pool_create(int n_threads) {
    if (n_threads <= 0) n_threads = dt_available_cores();
    dt_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
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
        pool->n_threads = i + 1; /* workers started so far, for cleanup */
    }
    pool->n_threads = n_threads;
    return pool;
fail:
    dt_pool_destroy(pool);
    return NULL;
}

int dt_pool_threads(const dt_pool *pool) { return pool->n_threads; }

void dt_pool_run(dt_pool *pool, int64_t n_items, int64_t grain, dt_task_fn fn, void *ctx) {
    if (n_items <= 0) return;
    if (grain < 1) grain = 1;
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_items = n_items;
    pool->grain = grain;
    if (pool->n_threads == 1 || n_items <= grain) {
        fn(ctx, 0, n_items);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->pending = pool->n_threads - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    run_share(pool, 0);

    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0) pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

void dt_pool_destroy(dt_pool *pool) {
    if (!pool) return;
    if (pool->workers) {
        pthread_mutex_lock(&pool->lock);
        pool->stopping = 1;
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
        for (int i = 1; i < pool->n_threads; i++)
            if (pool->workers[i]) pthread_join(pool->workers[i], NULL);
        free(pool->workers);
    }
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
