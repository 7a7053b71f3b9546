/* pool.h — a persistent thread pool that splits work over outputs, never over a reduction.
 *
 * dt_pool_run cuts [0, n_items) into one contiguous range per thread; each item is
 * computed whole by one thread, so results never depend on the thread count. */
#ifndef DT_POOL_H
#define DT_POOL_H

#include <stdint.h>

typedef struct dt_pool dt_pool;

/* Computes items [begin, end) of a task on thread `thread` (0 = the caller), for per-thread scratch. */
typedef void (*dt_task_fn)(void *ctx, int64_t begin, int64_t end, int thread);

/* Starts n_threads - 1 workers (the caller is the n-th). n_threads <= 0 means the number
 * of cores this process may run on. Returns NULL when threads cannot be created. */
dt_pool *dt_pool_create(int n_threads);
/* Number of threads that run tasks (workers + caller). */
int dt_pool_threads(const dt_pool *pool);
/* Runs fn over [0, n_items) split into contiguous ranges whose sizes are multiples of
 * `grain` (except the last); returns when all are done. Not reentrant. */
void dt_pool_run(dt_pool *pool, int64_t n_items, int64_t grain, dt_task_fn fn, void *ctx);
/* Stops and joins the workers and frees the pool. NULL is fine. */
void dt_pool_destroy(dt_pool *pool);
/* Number of cores this process may run on (sched_getaffinity), at least 1. */
int dt_available_cores(void);

#endif
