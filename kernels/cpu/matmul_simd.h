/* matmul_simd.h — the body of a SIMD path of the generic product, included by
 * matmul_avx2.c and matmul_avx512.c after they define the vector macros:
 *   VEC, VW (lanes), MASK, MASK_FIRST(n), V_ZERO(), V_LOAD(p) (aligned full), V_LOADM(m, p),
 *   V_STOREM(p, m, v), V_BCAST(p), V_FMA(a, b, c), BLOCK_FN (the exported function name).
 *
 * One lane holds one output element's running sum; vfmadd = fmaf lane by lane, so each
 * element is the contract's ascending fmaf chain. The panel is NR = 2 * VW columns of B,
 * packed for DT_GEMM_KC values of p at a time; between p-blocks the sums go to C and come
 * back (exact: they are floats either way). */
#include <math.h>
#include <string.h>

#include "activation.h"
#include "matmul.h"

#define NR (2 * VW)
#define MR 6

/* pack[p * NR + jj] = B(p0 + p, j0 + jj) for p < kc, jj < ncols; zero beyond ncols. */
static void pack_panel(const dt_gemm_args *g, int64_t p0, int64_t kc, int64_t j0, int64_t ncols, float *pack) {
    if (g->b_col == 1) {
        for (int64_t p = 0; p < kc; p++) {
            float *dst = pack + p * NR;
            memcpy(dst, g->B + (p0 + p) * g->b_row + j0, (size_t)ncols * sizeof(float));
            for (int64_t jj = ncols; jj < NR; jj++) dst[jj] = 0.0f;
        }
    } else {
        for (int64_t jj = 0; jj < NR; jj++) {
            if (jj < ncols) {
                const float *src = g->B + p0 * g->b_row + (j0 + jj) * g->b_col;
                for (int64_t p = 0; p < kc; p++) pack[p * NR + jj] = src[p * g->b_row];
            } else {
                for (int64_t p = 0; p < kc; p++) pack[p * NR + jj] = 0.0f;
            }
        }
    }
}

/* Rows [i, i + rows) (rows <= MR) of the panel for one p-block. first: start from +0. */
static inline __attribute__((always_inline)) void tile(const dt_gemm_args *g, int64_t i, int rows, int64_t p0,
                                                       int64_t kc, const float *pack, float *c, MASK m0, MASK m1,
                                                       int first) {
    VEC c0[MR], c1[MR];
    const float *a[MR];
    _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {
        const int rr = r < rows ? r : 0; /* unused rows read row 0 and are never stored */
        const int64_t row = g->a_index ? g->a_index[i + rr] : i + rr;
        a[r] = g->A + row * g->a_row + p0 * g->a_col;
        if (first || r >= rows) {
            c0[r] = V_ZERO();
            c1[r] = V_ZERO();
        } else {
            c0[r] = V_LOADM(m0, c + r * g->ldc);
            c1[r] = V_LOADM(m1, c + r * g->ldc + VW);
        }
    }
    const int64_t a_col = g->a_col;
    for (int64_t p = 0; p < kc; p++) {
        const VEC b0 = V_LOAD(pack + p * NR), b1 = V_LOAD(pack + p * NR + VW);
        _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {
            const VEC av = V_BCAST(a[r] + p * a_col);
            c0[r] = V_FMA(av, b0, c0[r]);
            c1[r] = V_FMA(av, b1, c1[r]);
        }
    }
    _Pragma("GCC unroll 6") for (int r = 0; r < MR; r++) {
        if (r < rows) {
            V_STOREM(c + r * g->ldc, m0, c0[r]);
            V_STOREM(c + r * g->ldc + VW, m1, c1[r]);
        }
    }
}

/* Narrow panels (ncols <= VW, e.g. a 10-class output layer): one vector per row, so no
 * lanes are spent on the empty half; up to MR_NARROW rows per tile. */
#define MR_NARROW 12
static inline __attribute__((always_inline)) void tile_narrow(const dt_gemm_args *g, int64_t i, int rows, int64_t p0,
                                                              int64_t kc, const float *pack, float *c, MASK m0,
                                                              int first) {
    VEC acc[MR_NARROW];
    const float *a[MR_NARROW];
    _Pragma("GCC unroll 12") for (int r = 0; r < MR_NARROW; r++) {
        const int rr = r < rows ? r : 0;
        const int64_t row = g->a_index ? g->a_index[i + rr] : i + rr;
        a[r] = g->A + row * g->a_row + p0 * g->a_col;
        acc[r] = (first || r >= rows) ? V_ZERO() : V_LOADM(m0, c + r * g->ldc);
    }
    const int64_t a_col = g->a_col;
    for (int64_t p = 0; p < kc; p++) {
        const VEC b0 = V_LOAD(pack + p * NR);
        _Pragma("GCC unroll 12") for (int r = 0; r < MR_NARROW; r++) acc[r] = V_FMA(V_BCAST(a[r] + p * a_col), b0, acc[r]);
    }
    _Pragma("GCC unroll 12") for (int r = 0; r < MR_NARROW; r++) if (r < rows) V_STOREM(c + r * g->ldc, m0, acc[r]);
}

/* The epilogue on rows [i0, i1) x columns [j0, j1): C += bias; Y = act(C). */
static void block_epilogue(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    for (int64_t i = i0; i < i1; i++) {
        float *c = g->C + i * g->ldc;
        if (g->bias)
            for (int64_t j = j0; j < j1; j++) c[j] = c[j] + g->bias[j];
        if (!g->Y) continue;
        float *y = g->Y + i * g->ldy;
        switch (g->act) {
        case DT_ACT_CODE_IDENTITY:
            for (int64_t j = j0; j < j1; j++) y[j] = c[j];
            break;
        case DT_ACT_CODE_RELU:
            for (int64_t j = j0; j < j1; j++) y[j] = c[j] > 0.0f ? c[j] : 0.0f;
            break;
        default:
            for (int64_t j = j0; j < j1; j++) y[j] = dt_act_forward(g->act, c[j]);
            break;
        }
    }
}

void BLOCK_FN(const dt_gemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1, float *pack) {
    const int64_t ncols = j1 - j0;
    const MASK m0 = MASK_FIRST(ncols), m1 = MASK_FIRST(ncols - VW);
    float *c_panel = g->C + j0;
    if (g->P == 0)
        for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) g->C[i * g->ldc + j] = 0.0f;
    for (int64_t p0 = 0; p0 < g->P; p0 += DT_GEMM_KC) {
        const int64_t kc = g->P - p0 < DT_GEMM_KC ? g->P - p0 : DT_GEMM_KC;
        pack_panel(g, p0, kc, j0, ncols, pack);
        int64_t i = i0;
        if (ncols <= VW) {
            for (; i + MR_NARROW <= i1; i += MR_NARROW)
                tile_narrow(g, i, MR_NARROW, p0, kc, pack, c_panel + i * g->ldc, m0, p0 == 0);
            if (i < i1) tile_narrow(g, i, (int)(i1 - i), p0, kc, pack, c_panel + i * g->ldc, m0, p0 == 0);
            continue;
        }
        for (; i + MR <= i1; i += MR) tile(g, i, MR, p0, kc, pack, c_panel + i * g->ldc, m0, m1, p0 == 0);
        if (i < i1) tile(g, i, (int)(i1 - i), p0, kc, pack, c_panel + i * g->ldc, m0, m1, p0 == 0);
    }
    if (g->bias || g->Y) block_epilogue(g, i0, i1, j0, j1);
}
