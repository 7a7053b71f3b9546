/* test_cuda_kernels.c — each portable CUDA kernel against the CPU kernel, bit for bit, on
 * random shapes (1, primes, sizes off the tile and vector widths, P across many p-tiles):
 * the product in each tile shape, with operands whose sums end as -0 or subnormal,
 * the product with and without epilogue in the three layouts of a dense layer, the activations
 * on signed zeros, infinities, NaN and subnormals, bias gradients, activation backward with
 * dropout, losses, the fixed-order sum over one and several blocks, the gradient norm and the
 * optimizers, the fast mode's tree sums within a rounding bound; a failed
 * precondition is cudaErrorInvalidValue. Skips (77) without a GPU. */
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "cuda/kernels.h"
#include "rng.h"
#include "test_cuda.h"

static uint32_t rng_state = 4242;
static uint32_t next_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
static float next_float(void) { return (float)(next_u32() >> 8) * 0x1p-24f * 2.0f - 1.0f; }

/* A device copy of n floats (or n bytes of anything with the _bytes variant). */
static void *to_device_bytes(const void *host, size_t bytes) {
    void *dev = NULL;
    if (cudaMalloc(&dev, bytes + 16) != cudaSuccess) return NULL;
    if (host) cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice);
    else cudaMemset(dev, 0, bytes + 16);
    return dev;
}
static float *to_device(const float *host, int64_t n) { return to_device_bytes(host, (size_t)n * sizeof(float)); }

static int same_as_device(const float *host, const float *dev, int64_t n) {
    float *copy = malloc((size_t)n * sizeof(float) + 4);
    cudaMemcpy(copy, dev, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost);
    int same = memcmp(copy, host, (size_t)n * sizeof(float)) == 0;
    free(copy);
    return same;
}

static const dt_cuda_tiles all_tiles[] = {DT_CUDA_TILES_AUTO, DT_CUDA_TILES_LARGE, DT_CUDA_TILES_SMALL};

/* The product of A (M, P) and B (P, N) in one of the three layouts of a dense layer, with
 * each tile shape, against the CPU reference; `fill` draws the operands' values. */
static void check_gemm_filled(int64_t M, int64_t N, int64_t P, int layout, int epilogue, float (*fill)(int is_b)) {
    float *A = malloc(sizeof(float) * (size_t)(M * P + 1)), *B = malloc(sizeof(float) * (size_t)(P * N + 1));
    float *bias = malloc(sizeof(float) * (size_t)(N + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * N + 1)), *Y = malloc(sizeof(float) * (size_t)(M * N + 1));
    for (int64_t i = 0; i < M * P; i++) A[i] = fill(0);
    for (int64_t i = 0; i < P * N; i++) B[i] = fill(1);
    for (int64_t j = 0; j < N; j++) bias[j] = next_float();
    dt_gemm_args g = {.M = M, .N = N, .P = P, .A = A, .B = B, .C = C, .ldc = N};
    if (layout == 0) g.a_row = P, g.a_col = 1, g.b_row = 1, g.b_col = P;
    else if (layout == 1) g.a_row = P, g.a_col = 1, g.b_row = N, g.b_col = 1;
    else g.a_row = 1, g.a_col = M, g.b_row = N, g.b_col = 1;
    if (epilogue) g.bias = bias, g.Y = Y, g.ldy = N, g.act = (int)(next_u32() % 5);
    dt_gemm_reference(&g);
    dt_gemm_args d = g;
    d.A = to_device(A, M * P);
    d.B = to_device(B, P * N);
    d.bias = epilogue ? to_device(bias, N) : NULL;
    d.C = to_device(NULL, M * N);
    d.Y = epilogue ? to_device(NULL, M * N) : NULL;
    for (size_t t = 0; t < sizeof all_tiles / sizeof all_tiles[0]; t++) {
        CHECK(cudaMemset(d.C, 0xff, (size_t)(M * N) * sizeof(float)) == cudaSuccess);
        CHECK_CUDA(dt_cuda_gemm_portable_tiles(NULL, &d, all_tiles[t]));
        CHECK(cudaDeviceSynchronize() == cudaSuccess);
        const int same = same_as_device(C, d.C, M * N) && (!epilogue || same_as_device(Y, d.Y, M * N));
        if (!same)
            fprintf(stderr, "gemm differs: M=%lld N=%lld P=%lld layout %d epilogue %d tiles %d\n", (long long)M,
                    (long long)N, (long long)P, layout, epilogue, (int)all_tiles[t]);
        CHECK(same);
    }
    cudaFree((void *)d.A);
    cudaFree((void *)d.B);
    cudaFree((void *)d.bias);
    cudaFree(d.C);
    cudaFree(d.Y);
    free(A);
    free(B);
    free(bias);
    free(C);
    free(Y);
}

static float any_float(int is_b) {
    (void)is_b;
    return next_float();
}

static void check_gemm(int64_t M, int64_t N, int64_t P, int layout, int epilogue) {
    check_gemm_filled(M, N, P, layout, epilogue, any_float);
}

/* Values whose products round to signed zeros and subnormals: sums that end as -0 show
 * a k-tail padded with +0 * +0 (which turns a -0 sum into +0) or a flush to zero. */
static float next_tiny(int is_b) {
    (void)is_b;
    static const float values[] = {-0.0f, 0.0f, 1e-30f, -1e-30f, 0x1p-149f, -0x1p-149f, 0x1p-126f, -0x1p-70f};
    return values[next_u32() % (sizeof values / sizeof values[0])];
}
static float tiny_of_opposite_signs(int is_b) { return is_b ? -1e-30f : 1e-30f; }

/* All-(-0) outputs: A = 1e-30, B = -1e-30, each product rounds to -0 and every chain stays
 * -0 (the reference's bits say so first, so the check can fail), P off the k-tile. */
static void check_gemm_signed_zero(void) {
    const int64_t M = 33, N = 70, P = 13;
    float A[33 * 13], B[13 * 70], C[33 * 70];
    for (int64_t i = 0; i < M * P; i++) A[i] = tiny_of_opposite_signs(0);
    for (int64_t i = 0; i < P * N; i++) B[i] = tiny_of_opposite_signs(1);
    dt_gemm_args g = {.M = M, .N = N, .P = P, .A = A, .B = B, .C = C, .ldc = N, .a_row = P, .a_col = 1, .b_row = N,
                      .b_col = 1};
    dt_gemm_reference(&g);
    int all_minus_zero = 1;
    for (int64_t i = 0; i < M * N; i++) all_minus_zero &= C[i] == 0.0f && signbit(C[i]);
    CHECK(all_minus_zero);
    for (int layout = 0; layout < 3; layout++) check_gemm_filled(M, N, P, layout, 0, tiny_of_opposite_signs);
    for (int t = 0; t < 6; t++) check_gemm_filled(1 + t * 37, 3 + t * 29, 1 + t * 5, t % 3, t & 1, next_tiny);
}

/* The activations where a GPU's code could part from the CPU's: relu's z > 0 ? z : 0 on -0 and
 * NaN (a max instruction would not give +0 for both), infinities, subnormals, exp's edges. */
static void check_special_values(void) {
    const float z[] = {-0.0f,     0.0f,      INFINITY, -INFINITY, NAN,   0x1p-149f, -0x1p-149f, 0x1p-126f,
                       -0x1p-126f, 88.72f,   -88.72f,  103.9f,    -104.0f, 1e-8f,   -3.0f,      3.0f};
    const int64_t n = (int64_t)(sizeof z / sizeof z[0]);
    for (int act = 0; act < 5; act++) {
        float want[sizeof z / sizeof z[0]];
        for (int64_t i = 0; i < n; i++) want[i] = dt_act_forward(act, z[i]);
        dt_gemm_args g = {.M = 1, .N = n, .P = 0, .ldc = n, .ldy = n, .act = act};
        g.C = to_device(z, n);
        g.Y = to_device(NULL, n);
        CHECK_CUDA(dt_cuda_bias_act(NULL, &g));
        const int same = same_as_device(want, g.Y, n);
        if (!same) fprintf(stderr, "activation %d differs on special values\n", act);
        CHECK(same);
        cudaFree(g.C);
        cudaFree(g.Y);
    }
}

/* Bias gradient, activation backward with dropout, losses and sums against dt_cpu_ops. */
static void check_elementwise(int64_t batch, int64_t n) {
    const dt_cpu_ops *cpu = dt_cpu_ops_for(DT_SIMD_SCALAR);
    const int64_t total = batch * n;
    float *dz = malloc(sizeof(float) * (size_t)total), *z = malloc(sizeof(float) * (size_t)total);
    float *y = malloc(sizeof(float) * (size_t)total), *db = malloc(sizeof(float) * (size_t)n);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)batch);
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)batch);
    for (int64_t e = 0; e < total; e++) dz[e] = next_float(), z[e] = 3.0f * next_float(), y[e] = next_float();
    for (int64_t b = 0; b < batch; b++) ids[b] = b * 7 + 3, labels[b] = (int32_t)(next_u32() % (uint32_t)n);

    float *d_dz = to_device(dz, total), *d_db = to_device(NULL, n);
    cpu->bias_grad_cols(dz, batch, n, db, 0, n);
    CHECK_CUDA(dt_cuda_bias_grad(NULL, d_dz, batch, n, d_db, 0));
    CHECK(same_as_device(db, d_db, n));

    int64_t *d_ids = to_device_bytes(ids, sizeof(int64_t) * (size_t)batch);
    float *d_z = to_device(z, total), *d_y = to_device(y, total);
    /* a training step's form: the counter read from a device step descriptor, the by-value
     * one wrong, so a kernel that read it would differ */
    const dt_cuda_step now = {.order_offset = 0, .step = 77};
    dt_cuda_step *d_now = to_device_bytes(&now, sizeof now);
    for (int act = 0; act < 5; act++) {
        dt_dropout drop = {act % 2 ? 0.25f : 0.0f, dt_rng_key(5, DT_RNG_DROPOUT, 1), 77, ids};
        float *host_dy = malloc(sizeof(float) * (size_t)total);
        memcpy(host_dy, dz, sizeof(float) * (size_t)total);
        cpu->act_backward_rows(host_dy, z, y, n, act, &drop, 0, batch);
        float *d_dy = to_device(dz, total);
        dt_dropout d_drop = drop;
        d_drop.sample_id = d_ids;
        dt_dropout wrong_step = d_drop;
        wrong_step.step = drop.step + 1;
        CHECK_CUDA(dt_cuda_act_backward(NULL, d_dy, d_z, d_y, batch, n, act, &d_drop, NULL));
        CHECK(same_as_device(host_dy, d_dy, total));
        cudaMemcpy(d_dy, dz, sizeof(float) * (size_t)total, cudaMemcpyHostToDevice);
        CHECK_CUDA(dt_cuda_act_backward(NULL, d_dy, d_z, d_y, batch, n, act, &wrong_step, d_now));
        CHECK(same_as_device(host_dy, d_dy, total));
        /* dropout forward */
        memcpy(host_dy, y, sizeof(float) * (size_t)total);
        if (drop.p > 0.0f) cpu->dropout_rows(host_dy, n, &drop, 0, batch);
        cudaMemcpy(d_dy, y, sizeof(float) * (size_t)total, cudaMemcpyHostToDevice);
        CHECK_CUDA(dt_cuda_dropout(NULL, d_dy, batch, n, &d_drop, NULL));
        CHECK(same_as_device(host_dy, d_dy, total));
        cudaMemcpy(d_dy, y, sizeof(float) * (size_t)total, cudaMemcpyHostToDevice);
        CHECK_CUDA(dt_cuda_dropout(NULL, d_dy, batch, n, &wrong_step, d_now));
        CHECK(same_as_device(host_dy, d_dy, total));
        cudaFree(d_dy);
        free(host_dy);
    }

    /* softmax cross-entropy rows, then the fixed-order batch sum */
    if (n >= 2) {
        int64_t seq[4096];
        for (int64_t b = 0; b < batch && b < 4096; b++) seq[b] = b;
        float *row_loss = malloc(sizeof(float) * (size_t)batch), *grad = malloc(sizeof(float) * (size_t)total);
        dt_loss_args a = {z, (int32_t)n, 0, labels, NULL, seq, (float)batch, row_loss, grad};
        cpu->loss_rows(&a, 0, batch);
        int32_t *d_labels = to_device_bytes(labels, sizeof(int32_t) * (size_t)batch);
        float *d_row_loss = to_device(NULL, batch), *d_grad = to_device(NULL, total), *d_sum = to_device(NULL, 1);
        int32_t *d_correct = to_device_bytes(NULL, sizeof(int32_t) * (size_t)batch);
        long long *d_count = to_device_bytes(NULL, sizeof(long long));
        dt_loss_args da = {d_z, (int32_t)n, 0, d_labels, NULL, NULL, (float)batch, d_row_loss, d_grad};
        CHECK_CUDA(dt_cuda_loss_rows(NULL, &da, 0, (int32_t)batch, d_correct));
        CHECK(same_as_device(row_loss, d_row_loss, batch));
        CHECK(same_as_device(grad, d_grad, total));
        const float want = dt_cpu_sum_fixed(row_loss, batch) / (float)batch;
        CHECK_CUDA(dt_cuda_sum_fixed(NULL, d_row_loss, d_correct, batch, (float)batch, d_sum, d_count, 0));
        CHECK(same_as_device(&want, d_sum, 1));
        cudaFree(d_labels), cudaFree(d_row_loss), cudaFree(d_grad), cudaFree(d_sum), cudaFree(d_correct), cudaFree(d_count);
        free(row_loss);
        free(grad);
    }
    cudaFree(d_dz), cudaFree(d_db), cudaFree(d_ids), cudaFree(d_z), cudaFree(d_y), cudaFree(d_now);
    free(dz), free(z), free(y), free(db), free(ids), free(labels);
}

/* The fixed-order sum over n values (several staged blocks when n > DT_REDUCE_BLOCK) with
 * its counts, and the bias gradient of (batch, cols); the fast variants (trees, no promise)
 * within a rounding bound of the ordered results, their counts exact. */
static void check_sums(int64_t n, int64_t batch, int64_t cols) {
    float *x = malloc(sizeof(float) * (size_t)(n + 1));
    int32_t *counts = malloc(sizeof(int32_t) * (size_t)(n + 1));
    double magnitude = 0.0;
    long long want_count = 0;
    for (int64_t e = 0; e < n; e++) {
        x[e] = next_float(), counts[e] = (int32_t)(next_u32() % 2);
        magnitude += fabs(x[e]), want_count += counts[e];
    }
    const float want = dt_cpu_sum_fixed(x, n) / 3.0f;
    float *d_x = to_device(x, n), *d_sum = to_device(NULL, 1);
    int32_t *d_counts = to_device_bytes(counts, sizeof(int32_t) * (size_t)n);
    long long *d_count = to_device_bytes(NULL, sizeof(long long)), count = -1;
    for (int fast = 0; fast < 2; fast++) {
        float got = NAN;
        CHECK_CUDA(dt_cuda_sum_fixed(NULL, d_x, d_counts, n, 3.0f, d_sum, d_count, fast));
        cudaMemcpy(&got, d_sum, sizeof got, cudaMemcpyDeviceToHost);
        cudaMemcpy(&count, d_count, sizeof count, cudaMemcpyDeviceToHost);
        if (!fast) CHECK(memcmp(&got, &want, sizeof got) == 0);
        else CHECK(fabs((double)got - (double)want) <= 1e-6 * magnitude + 1e-30);
        CHECK_EQ_INT(count, want_count);
    }
    cudaFree(d_x), cudaFree(d_sum), cudaFree(d_counts), cudaFree(d_count);
    free(x), free(counts);

    const dt_cpu_ops *cpu = dt_cpu_ops_for(DT_SIMD_SCALAR);
    float *dz = malloc(sizeof(float) * (size_t)(batch * cols + 1)), *db = malloc(sizeof(float) * (size_t)cols);
    float *fast_db = malloc(sizeof(float) * (size_t)cols);
    for (int64_t e = 0; e < batch * cols; e++) dz[e] = next_float();
    cpu->bias_grad_cols(dz, batch, cols, db, 0, cols);
    float *d_dz = to_device(dz, batch * cols), *d_db = to_device(NULL, cols);
    CHECK_CUDA(dt_cuda_bias_grad(NULL, d_dz, batch, cols, d_db, 0));
    CHECK(same_as_device(db, d_db, cols));
    CHECK_CUDA(dt_cuda_bias_grad(NULL, d_dz, batch, cols, d_db, 1));
    cudaMemcpy(fast_db, d_db, sizeof(float) * (size_t)cols, cudaMemcpyDeviceToHost);
    int close = 1;
    for (int64_t j = 0; j < cols; j++) close &= fabsf(fast_db[j] - db[j]) <= 1e-6f * (float)batch;
    CHECK(close);
    cudaFree(d_dz), cudaFree(d_db);
    free(dz), free(db), free(fast_db);
}

/* Gradient norm and the three optimizers over a flat buffer. */
static void check_optimizer(int64_t n) {
    const dt_cpu_ops *cpu = dt_cpu_ops_for(DT_SIMD_SCALAR);
    float *p = malloc(sizeof(float) * (size_t)n), *g = malloc(sizeof(float) * (size_t)n);
    float *m = malloc(sizeof(float) * (size_t)n), *v = malloc(sizeof(float) * (size_t)n);
    for (int64_t e = 0; e < n; e++) p[e] = next_float(), g[e] = next_float(), m[e] = 0.1f * next_float(),
                                    v[e] = fabsf(next_float()) * 0.01f;
    const int64_t blocks = (n + DT_REDUCE_BLOCK - 1) / DT_REDUCE_BLOCK;
    float *partial = malloc(sizeof(float) * (size_t)(blocks + 1));
    cpu->sumsq_blocks(g, n, partial, 0, blocks);
    float total = 0.0f;
    for (int64_t k = 0; k < blocks; k++) total += partial[k];
    const float norm = sqrtf(total), clip = 0.5f, scale = norm > clip ? clip / norm : 1.0f;
    float *d_g = to_device(g, n), *d_partial = to_device(NULL, blocks + 1), *d_norm = to_device(NULL, 1),
          *d_scale = to_device(NULL, 1);
    CHECK_CUDA(dt_cuda_grad_norm(NULL, d_g, n, d_partial, clip, d_norm, d_scale));
    CHECK(same_as_device(&norm, d_norm, 1));
    CHECK(same_as_device(&scale, d_scale, 1));
    for (int kind = DT_UPDATE_SGD; kind <= DT_UPDATE_ADAMW; kind++) {
        dt_optim_scalars s = {0.01f, 0.001f, 0.9f, kind == DT_UPDATE_SGD, 0.9f, 0.999f, 1e-8f, 0.1f, 0.01f, scale};
        float *hp = malloc(sizeof(float) * (size_t)n), *hm = malloc(sizeof(float) * (size_t)n),
              *hv = malloc(sizeof(float) * (size_t)n);
        memcpy(hp, p, sizeof(float) * (size_t)n), memcpy(hm, m, sizeof(float) * (size_t)n),
            memcpy(hv, v, sizeof(float) * (size_t)n);
        cpu->optimizer_range((dt_update_kind)kind, hp, g, hm, hv, &s, 0, n);
        float *d_p = to_device(p, n), *d_m = to_device(m, n), *d_v = to_device(v, n);
        CHECK_CUDA(dt_cuda_optimizer(NULL, (dt_update_kind)kind, d_p, d_g, d_m, d_v, &s, NULL, d_scale, n));
        CHECK(same_as_device(hp, d_p, n) && same_as_device(hm, d_m, n) && same_as_device(hv, d_v, n));
        cudaFree(d_p), cudaFree(d_m), cudaFree(d_v);
        /* a training step's form: the scalars from the device descriptor, none by value */
        const dt_cuda_step now = {0, 0, s};
        dt_cuda_step *d_now = to_device_bytes(&now, sizeof now);
        d_p = to_device(p, n), d_m = to_device(m, n), d_v = to_device(v, n);
        CHECK_CUDA(dt_cuda_optimizer(NULL, (dt_update_kind)kind, d_p, d_g, d_m, d_v, NULL, d_now, d_scale, n));
        CHECK(same_as_device(hp, d_p, n) && same_as_device(hm, d_m, n) && same_as_device(hv, d_v, n));
        cudaFree(d_p), cudaFree(d_m), cudaFree(d_v), cudaFree(d_now);
        free(hp), free(hm), free(hv);
    }
    cudaFree(d_g), cudaFree(d_partial), cudaFree(d_norm), cudaFree(d_scale);
    free(p), free(g), free(m), free(v), free(partial);
}

/* A step's first and last kernels: the entry of the table the counter names (table in pinned
 * host memory, as the backend's), its rows of the order, the result into the counter's slot,
 * the counter advanced; an entry without an order offset leaves the rows alone. */
static void check_step_kernels(void) {
    enum { ENTRIES = 3, BATCH = 300 };
    dt_cuda_step *table = NULL;
    CHECK_CUDA(cudaHostAlloc((void **)&table, sizeof(dt_cuda_step) * ENTRIES, cudaHostAllocMapped));
    for (int i = 0; i < ENTRIES; i++) table[i] = (dt_cuda_step){.order_offset = i == 2 ? -1 : 10 * i, .step = 100 + (uint64_t)i};
    table[1].scalars.lr = 0.5f;
    int64_t order[BATCH + 10], rows[BATCH];
    for (int i = 0; i < BATCH + 10; i++) order[i] = 1000 + i;
    const unsigned long long start = 4; /* entry 4 % 3 = 1 */
    const dt_cuda_step_result result = {1.5f, 2.5f, 7};
    unsigned long long *d_counter = to_device_bytes(&start, sizeof start);
    int64_t *d_order = to_device_bytes(order, sizeof order), *d_rows = to_device_bytes(NULL, sizeof rows);
    dt_cuda_step *d_now = to_device_bytes(NULL, sizeof(dt_cuda_step));
    dt_cuda_step_result *d_result = to_device_bytes(&result, sizeof result);
    dt_cuda_step_result *d_ring = to_device_bytes(NULL, sizeof(dt_cuda_step_result) * ENTRIES);
    CHECK_CUDA(dt_cuda_step_begin(NULL, table, ENTRIES, d_counter, d_order, BATCH, d_rows, d_now));
    CHECK_CUDA(dt_cuda_step_end(NULL, d_result, d_ring, ENTRIES, d_counter));
    dt_cuda_step now;
    dt_cuda_step_result ring[ENTRIES];
    unsigned long long counter = 0;
    cudaMemcpy(&now, d_now, sizeof now, cudaMemcpyDeviceToHost);
    cudaMemcpy(rows, d_rows, sizeof rows, cudaMemcpyDeviceToHost);
    cudaMemcpy(ring, d_ring, sizeof ring, cudaMemcpyDeviceToHost);
    cudaMemcpy(&counter, d_counter, sizeof counter, cudaMemcpyDeviceToHost);
    CHECK(now.order_offset == 10 && now.step == 101 && now.scalars.lr == 0.5f);
    CHECK(rows[0] == 1010 && rows[BATCH - 1] == 1010 + BATCH - 1);
    CHECK(ring[1].loss_sum == 1.5f && ring[1].grad_norm == 2.5f && ring[1].correct == 7 && counter == 5);
    /* entry 5 % 3 = 2: no order offset, the rows stay as they are */
    CHECK_CUDA(dt_cuda_step_begin(NULL, table, ENTRIES, d_counter, d_order, BATCH, d_rows, d_now));
    cudaMemcpy(&now, d_now, sizeof now, cudaMemcpyDeviceToHost);
    cudaMemcpy(rows, d_rows, sizeof rows, cudaMemcpyDeviceToHost);
    CHECK(now.step == 102 && rows[0] == 1010);
    cudaFree(d_counter), cudaFree(d_order), cudaFree(d_rows), cudaFree(d_now), cudaFree(d_result), cudaFree(d_ring);
    cudaFreeHost(table);
}

/* A launcher whose precondition fails launches nothing and says cudaErrorInvalidValue. */
static void check_preconditions(void) {
    const int64_t index[1] = {0};
    dt_gemm_args g = {.M = 1, .N = 1, .P = 1, .ldc = 1, .a_index = index};
    CHECK_EQ_INT(dt_cuda_gemm_portable(NULL, &g), cudaErrorInvalidValue);
}

int main(void) {
    int count = 0;
    const cudaError_t found = cudaGetDeviceCount(&count);
    if (found != cudaSuccess || count == 0) {
        printf("SKIP: no usable GPU: %s\n", found != cudaSuccess ? cudaGetErrorString(found) : "no CUDA device found");
        return TEST_SKIP;
    }
    const int64_t sizes[] = {1, 2, 3, 7, 8, 13, 31, 64, 127, 128, 129, 257, 784, 1000};
    const int n_sizes = (int)(sizeof sizes / sizeof sizes[0]);
    for (int t = 0; t < 80; t++)
        check_gemm(sizes[next_u32() % n_sizes], sizes[next_u32() % n_sizes], sizes[next_u32() % n_sizes],
                   (int)(next_u32() % 3), (int)(next_u32() & 1));
    check_gemm(128, 256, 784, 0, 1);
    check_gemm(256, 784, 128, 2, 0);
    check_gemm(1024, 1024, 1024, 1, 0);
    /* every tile inside C, P a multiple of 8, aligned operands: the 128-bit loads, each layout */
    for (int layout = 0; layout < 3; layout++) check_gemm(128, 256, 64, layout, layout != 1);
    check_gemm_signed_zero();
    check_special_values();
    check_elementwise(128, 10);
    check_elementwise(37, 257);
    check_elementwise(1000, 3);
    check_sums(1, 1, 1);
    check_sums(1024, 64, 32);
    check_sums(1025, 65, 33);
    check_sums(10000, 1000, 257);
    check_optimizer(235146);
    check_optimizer(1100000); /* 1075 norm blocks: the finish stages them in two rounds */
    check_optimizer(1000);
    check_step_kernels();
    check_preconditions();
    return TEST_EXIT();
}
