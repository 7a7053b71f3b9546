/* blas.c — OpenBLAS when the build found it (DT_HAVE_OPENBLAS), else stubs that say so. */
#include "blas.h"

#include <stdio.h>

#ifdef DT_HAVE_OPENBLAS
#include <cblas.h>

int dt_blas_available(void) { return 1; }

const char *dt_blas_describe(char *buf, size_t size) {
    /* openblas_get_config(): "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Haswell MAX_THREADS=64" */
    char version[32] = "?";
    sscanf(openblas_get_config(), "OpenBLAS %31s", version);
    snprintf(buf, size, "OpenBLAS %s (%s kernels)", version, openblas_get_corename());
    return buf;
}

void dt_blas_set_threads(int threads) {
    static int current = -1;
    if (threads < 1) threads = 1;
    if (threads == current) return;
    openblas_set_num_threads(threads);
    current = threads;
}

/* The BLAS view of an operand with strides (row, col): NoTrans with leading dimension
 * `row` when col == 1, Trans with `col` when row == 1; -1 when neither. */
static int operand(int64_t row, int64_t col, int64_t inner, enum CBLAS_TRANSPOSE *trans, int64_t *ld) {
    if (col == 1 && row >= inner && row >= 1) {
        *trans = CblasNoTrans;
        *ld = row;
        return 0;
    }
    if (row == 1 && col >= 1) {
        *trans = CblasTrans;
        *ld = col;
        return 0;
    }
    return -1;
}

int dt_blas_gemm_block(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    enum CBLAS_TRANSPOSE ta, tb;
    int64_t lda, ldb;
    const int64_t rows = i1 - i0, cols = j1 - j0;
    if (g->a_index || rows <= 0 || cols <= 0) return g->a_index ? -1 : 0;
    /* A (rows, P): NoTrans needs lda >= P; Trans reads A as (P, rows) with lda >= rows. */
    if (operand(g->a_row, g->a_col, g->P, &ta, &lda) != 0) return -1;
    if (ta == CblasTrans && lda < rows) return -1;
    /* B (P, cols): NoTrans needs ldb >= cols; Trans reads B as (cols, P) with ldb >= P. */
    if (operand(g->b_row, g->b_col, cols, &tb, &ldb) != 0) return -1;
    if (tb == CblasTrans && ldb < g->P) return -1;
    if (g->ldc < cols || lda > INT32_MAX || ldb > INT32_MAX || g->ldc > INT32_MAX || g->P > INT32_MAX) return -1;
    const float *a = g->A + i0 * g->a_row, *b = g->B + j0 * g->b_col;
    cblas_sgemm(CblasRowMajor, ta, tb, (int)rows, (int)cols, (int)g->P, 1.0f, a, (int)lda, b, (int)ldb, 0.0f,
                g->C + i0 * g->ldc + j0, (int)g->ldc);
    return 0;
}

#else

int dt_blas_available(void) { return 0; }

const char *dt_blas_describe(char *buf, size_t size) {
    snprintf(buf, size, "none (built without OpenBLAS)");
    return buf;
}

void dt_blas_set_threads(int threads) { (void)threads; }

int dt_blas_gemm_block(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    (void)g, (void)i0, (void)i1, (void)j0, (void)j1;
    return -1;
}

#endif
