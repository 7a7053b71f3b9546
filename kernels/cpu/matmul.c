/* matmul.c — the scalar reference product, the scalar path, task planning and run-time
 * SIMD dispatch. */
#include "matmul.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"

/* A(i, p) */
static inline float a_at(const dt_gemm_args *g, int64_t i, int64_t p) {
    const int64_t row = g->a_index ? g->a_index[i] : i;
    return g->A[row * g->a_row + p * g->a_col];
}

/* The epilogue of one element: C = acc (+ bias), Y = act(C). */
static inline void epilogue(const dt_gemm_args *g, int64_t i, int64_t j, float acc) {
    const float z = g->bias ? acc + g->bias[j] : acc;
    g->C[i * g->ldc + j] = z;
    if (g->Y) g->Y[i * g->ldy + j] = dt_act_forward(g->act, z);
}

void dt_gemm_reference(const dt_gemm_args *g) {
    for (int64_t i = 0; i < g->M; i++)
        for (int64_t j = 0; j < g->N; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < g->P; p++) acc = fmaf(a_at(g, i, p), g->B[p * g->b_row + j * g->b_col], acc);
            epilogue(g, i, j, acc);
        }
}

/* The scalar path: the reference's loops, p outermost per row so B rows stream. */
void dt_gemm_block_scalar(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1, float *pack) {
    (void)pack;
    for (int64_t i = i0; i < i1; i++) {
        float *c = g->C + i * g->ldc;
        for (int64_t j = j0; j < j1; j++) c[j] = 0.0f;
        for (int64_t p = 0; p < g->P; p++) {
            const float a = a_at(g, i, p);
            const float *b = g->B + p * g->b_row;
            for (int64_t j = j0; j < j1; j++) c[j] = fmaf(a, b[j * g->b_col], c[j]);
        }
        for (int64_t j = j0; j < j1; j++) epilogue(g, i, j, c[j]);
    }
}

static int64_t path_panel_cols(dt_simd_path path) {
    return path == DT_SIMD_AVX512 ? 32 : path == DT_SIMD_AVX2 ? 16 : 32;
}

dt_gemm_plan dt_gemm_plan_for(const dt_gemm_args *g, dt_simd_path path, int threads) {
    dt_gemm_plan plan;
    plan.panel_cols = path_panel_cols(path);
    plan.n_panels = (g->N + plan.panel_cols - 1) / plan.panel_cols;
    if (plan.n_panels < 1) plan.n_panels = 1;
    /* Split rows too when there are fewer than two panels per thread, in chunks of
     * whole 6-row tiles of at least 24 rows (so packing a panel pays off). */
    int64_t chunks = 1;
    if (threads > 1 && plan.n_panels < 2 * threads) chunks = (2 * threads + plan.n_panels - 1) / plan.n_panels;
    int64_t rows = (g->M + chunks - 1) / chunks;
    rows = (rows + 5) / 6 * 6;
    if (rows < 24) rows = 24;
    plan.rows_per_chunk = rows;
    plan.n_row_chunks = g->M > 0 ? (g->M + rows - 1) / rows : 1;
    return plan;
}

int64_t dt_gemm_plan_tasks(const dt_gemm_plan *plan) { return plan->n_panels * plan->n_row_chunks; }

void dt_gemm_tasks(const dt_gemm_args *g, const dt_gemm_plan *plan, int64_t t0, int64_t t1, dt_simd_path path,
                   float *pack) {
    for (int64_t t = t0; t < t1; t++) {
        const int64_t panel = t / plan->n_row_chunks, chunk = t % plan->n_row_chunks;
        const int64_t j0 = panel * plan->panel_cols;
        const int64_t j1 = j0 + plan->panel_cols < g->N ? j0 + plan->panel_cols : g->N;
        const int64_t i0 = chunk * plan->rows_per_chunk;
        const int64_t i1 = i0 + plan->rows_per_chunk < g->M ? i0 + plan->rows_per_chunk : g->M;
        if (i0 >= i1 || j0 >= j1) continue;
        switch (path) {
        case DT_SIMD_AVX512: dt_gemm_block_avx512(g, i0, i1, j0, j1, pack); break;
        case DT_SIMD_AVX2: dt_gemm_block_avx2(g, i0, i1, j0, j1, pack); break;
        default: dt_gemm_block_scalar(g, i0, i1, j0, j1, pack); break;
        }
    }
}

void dt_gemm(const dt_gemm_args *g, dt_simd_path path, float *pack) {
    dt_gemm_plan plan = dt_gemm_plan_for(g, path, 1);
    dt_gemm_tasks(g, &plan, 0, dt_gemm_plan_tasks(&plan), path, pack);
}

int dt_simd_supported(dt_simd_path path) {
    __builtin_cpu_init();
    switch (path) {
    case DT_SIMD_AVX512: return __builtin_cpu_supports("avx512f");
    case DT_SIMD_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 1;
    }
}

const char *dt_simd_name(dt_simd_path path) {
    switch (path) {
    case DT_SIMD_AVX512: return "avx512";
    case DT_SIMD_AVX2: return "avx2";
    default: return "scalar";
    }
}

dt_simd_path dt_simd_detect(void) {
    dt_simd_path best = DT_SIMD_SCALAR;
    if (dt_simd_supported(DT_SIMD_AVX512)) best = DT_SIMD_AVX512;
    else if (dt_simd_supported(DT_SIMD_AVX2)) best = DT_SIMD_AVX2;
    const char *cap = getenv("DT_SIMD");
    if (cap) {
        dt_simd_path want = !strcmp(cap, "avx512") ? DT_SIMD_AVX512 : !strcmp(cap, "avx2") ? DT_SIMD_AVX2 : DT_SIMD_SCALAR;
        if (want < best) best = want;
    }
    return best;
}
