/* cpu_fast.c — the `fast` route's products and completion-order reductions (cpu_fast.h). */
#include "cpu_fast.h"

#include <stdatomic.h>
#include <string.h>

#include "activation.h"
#include "blas.h"

/* target += value as one atomic read-modify-write (a compare-and-swap loop on the bits). */
static void atomic_add_float(float *target, float value) {
    uint32_t *bits = (uint32_t *)target;
    uint32_t old = __atomic_load_n(bits, __ATOMIC_RELAXED), new_bits;
    do {
        float sum;
        memcpy(&sum, &old, sizeof sum);
        sum += value;
        memcpy(&new_bits, &sum, sizeof new_bits);
    } while (!__atomic_compare_exchange_n(bits, &old, new_bits, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* ---- products ----------------------------------------------------------------------- */

typedef struct {
    const dt_gemm_args *g;
    int64_t slices;
    int by_rows;              /* slices cut rows (else columns) */
    int failed;
} blas_task;

/* The epilogue of rows [i0, i1) x columns [j0, j1): C += bias; Y = act(C). */
static void epilogue(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    if (!g->bias && !g->Y) return;
    for (int64_t i = i0; i < i1; i++) {
        float *c = g->C + i * g->ldc;
        if (g->bias)
            for (int64_t j = j0; j < j1; j++) c[j] = c[j] + g->bias[j];
        if (g->Y) {
            float *y = g->Y + i * g->ldy;
            if (g->act == DT_ACT_CODE_RELU)
                for (int64_t j = j0; j < j1; j++) y[j] = c[j] > 0.0f ? c[j] : 0.0f;
            else
                for (int64_t j = j0; j < j1; j++) y[j] = dt_act_forward(g->act, c[j]);
        }
    }
}

static void blas_slices(void *ctx, int64_t s0, int64_t s1, int thread) {
    blas_task *t = ctx;
    const dt_gemm_args *g = t->g;
    const int64_t extent = t->by_rows ? g->M : g->N;
    for (int64_t s = s0; s < s1; s++) {
        /* slice bounds on multiples of 16 (whole vectors for the BLAS kernels) */
        int64_t lo = (extent * s / t->slices) / 16 * 16, hi = (extent * (s + 1) / t->slices) / 16 * 16;
        if (s + 1 == t->slices) hi = extent;
        if (lo >= hi) continue;
        const int64_t i0 = t->by_rows ? lo : 0, i1 = t->by_rows ? hi : g->M;
        const int64_t j0 = t->by_rows ? 0 : lo, j1 = t->by_rows ? g->N : hi;
        if (dt_blas_gemm_block(g, i0, i1, j0, j1) != 0) t->failed = 1;
        else epilogue(g, i0, i1, j0, j1);
    }
}

int dt_fast_gemm_blas(dt_pool *pool, const dt_gemm_args *g, float *gather) {
    if (!dt_blas_available()) return -1;
    dt_gemm_args args = *g;
    if (g->a_index) {
        /* BLAS reads A through one leading dimension: copy the batch's rows together. */
        if (g->a_col != 1 || !gather) return -1;
        for (int64_t i = 0; i < g->M; i++)
            memcpy(gather + i * g->P, g->A + g->a_index[i] * g->a_row, (size_t)g->P * sizeof(float));
        args.A = gather;
        args.a_row = g->P;
        args.a_index = NULL;
    }
    /* BLAS runs single-threaded inside each pool thread: no second pool on the same cores. */
    dt_blas_set_threads(1);
    const int threads = dt_pool_threads(pool);
    blas_task t = {&args, threads, g->M >= g->N, 0};
    dt_pool_run(pool, threads, 1, blas_slices, &t);
    return t.failed ? -1 : 0;
}

/* ---- completion-order reductions ---------------------------------------------------- */

/* Rows per chunk: small enough that a batch makes several chunks per thread. */
#define FAST_CHUNK_ROWS 8
#define FAST_CHUNK_VALUES 4096

typedef struct {
    _Atomic int64_t next;     /* the next chunk to take */
    int64_t n_chunks;
    const float *x;
    int64_t rows, n;          /* bias gradient: x (rows, n); sums: n values */
    float *partial;           /* bias gradient: (threads, n) */
    float *result;
    int squares;
} reduce_task;

static void bias_grad_worker(void *ctx, int64_t b, int64_t e, int thread) {
    reduce_task *t = ctx;
    float *mine = t->partial + (size_t)thread * (size_t)t->n;
    memset(mine, 0, (size_t)t->n * sizeof(float));
    int64_t chunk;
    while ((chunk = atomic_fetch_add(&t->next, 1)) < t->n_chunks) {
        const int64_t r0 = chunk * FAST_CHUNK_ROWS;
        const int64_t r1 = r0 + FAST_CHUNK_ROWS < t->rows ? r0 + FAST_CHUNK_ROWS : t->rows;
        for (int64_t r = r0; r < r1; r++) {
            const float *restrict row = t->x + r * t->n;
            float *restrict acc = mine;
            for (int64_t j = 0; j < t->n; j++) acc[j] += row[j];
        }
    }
    for (int64_t j = 0; j < t->n; j++) atomic_add_float(&t->result[j], mine[j]);
}

void dt_fast_bias_grad(dt_pool *pool, const float *dz, int64_t batch, int64_t n, float *db, float *partial) {
    memset(db, 0, (size_t)n * sizeof(float));
    reduce_task t = {.n_chunks = (batch + FAST_CHUNK_ROWS - 1) / FAST_CHUNK_ROWS, .x = dz, .rows = batch, .n = n,
                     .partial = partial, .result = db};
    atomic_init(&t.next, 0);
    dt_pool_run(pool, dt_pool_threads(pool), 1, bias_grad_worker, &t);
}

static void sum_worker(void *ctx, int64_t b, int64_t e, int thread) {
    reduce_task *t = ctx;
    float mine = 0.0f;
    int64_t chunk;
    while ((chunk = atomic_fetch_add(&t->next, 1)) < t->n_chunks) {
        const int64_t e0 = chunk * FAST_CHUNK_VALUES;
        const int64_t e1 = e0 + FAST_CHUNK_VALUES < t->n ? e0 + FAST_CHUNK_VALUES : t->n;
        if (t->squares)
            for (int64_t k = e0; k < e1; k++) mine += t->x[k] * t->x[k];
        else
            for (int64_t k = e0; k < e1; k++) mine += t->x[k];
    }
    atomic_add_float(t->result, mine);
}

static float fast_reduce(dt_pool *pool, const float *x, int64_t n, int squares) {
    float total = 0.0f;
    reduce_task t = {.n_chunks = (n + FAST_CHUNK_VALUES - 1) / FAST_CHUNK_VALUES, .x = x, .n = n, .result = &total,
                     .squares = squares};
    atomic_init(&t.next, 0);
    dt_pool_run(pool, dt_pool_threads(pool), 1, sum_worker, &t);
    return total;
}

float dt_fast_sum(dt_pool *pool, const float *x, int64_t n) { return fast_reduce(pool, x, n, 0); }

float dt_fast_sumsq(dt_pool *pool, const float *x, int64_t n) { return fast_reduce(pool, x, n, 1); }
