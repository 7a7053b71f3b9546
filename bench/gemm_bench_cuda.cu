/* gemm_bench_cuda.cu — the GPU's side of the matrix-product microbenchmark: detrain's
 * portable kernel (variant 0), cuBLAS FP32 (1) and cuBLAS with TF32 tensor ops (2) on the
 * same device operands, timed with CUDA events. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "gemm_bench.h"
}
#include "cuda/cuda_info.h"
#include "cuda/kernels.h"
#include "core/cuda_status.h"

struct dt_gemm_bench {
    dt_gemm_args g;           /* device pointers */
    float *A, *B, *C;
    cudaStream_t stream;
    cublasHandle_t cublas;
    cudaEvent_t start, stop;
};

enum { GPU_PORTABLE = 0, GPU_CUBLAS_FP32 = 1, GPU_CUBLAS_TF32 = 2 };

static int gpu_available(int variant, char *why, size_t why_size) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        snprintf(why, why_size, "no usable GPU");
        return 0;
    }
    return 1;
}

static void gpu_describe(int variant, int threads, char *buf, size_t size) {
    cudaDeviceProp prop;
    int cublas = 0;
    const char *name = cudaGetDeviceProperties(&prop, 0) == cudaSuccess ? prop.name : "GPU";
    cublasGetProperty(MAJOR_VERSION, &cublas);
    if (variant == GPU_PORTABLE) snprintf(buf, size, "detrain portable kernel on %s", name);
    else snprintf(buf, size, "cuBLAS %d sgemm%s on %s", cublas, variant == GPU_CUBLAS_TF32 ? " (TF32 tensor ops)" : "", name);
}

/* Device 0's (the one the microbenchmark runs on); 0 when CUDA cannot say. */
static double gpu_fp32_peak(void) {
    double gflops = 0.0;
    return dt_cuda_fp32_peak(0, &gflops) == cudaSuccess ? gflops : 0.0;
}

static void gpu_release(dt_gemm_bench *b) {
    if (!b) return;
    /* release paths ignore errors: nothing more can be done about them */
    if (b->A) cudaFree(b->A);
    if (b->B) cudaFree(b->B);
    if (b->C) cudaFree(b->C);
    if (b->start) cudaEventDestroy(b->start);
    if (b->stop) cudaEventDestroy(b->stop);
    if (b->cublas) cublasDestroy(b->cublas);
    if (b->stream) cudaStreamDestroy(b->stream);
    free(b);
}

static dt_status gpu_prepare(dt_gemm_bench **out, const dt_gemm_shape *shape, const float *A, const float *B,
                             int threads, dt_error *err) {
    dt_status status = DT_OK;
    const size_t n_a = (size_t)(shape->M * shape->P), n_b = (size_t)(shape->P * shape->N);
    const size_t n_c = (size_t)(shape->M * shape->N);
    dt_gemm_bench *b = (dt_gemm_bench *)calloc(1, sizeof *b);
    if (!b) return dt_fail(err, DT_NOMEM, "out of memory preparing the %s product", shape->name);
    DT_CUDA_TRY(cudaStreamCreate(&b->stream));
    DT_CUDA_TRY(cudaEventCreate(&b->start));
    DT_CUDA_TRY(cudaEventCreate(&b->stop));
    DT_CUBLAS_TRY(cublasCreate(&b->cublas));
    DT_CUBLAS_TRY(cublasSetStream(b->cublas, b->stream));
    DT_CUDA_TRY(cudaMalloc((void **)&b->A, n_a * sizeof(float) + 16));
    DT_CUDA_TRY(cudaMalloc((void **)&b->B, n_b * sizeof(float) + 16));
    DT_CUDA_TRY(cudaMalloc((void **)&b->C, n_c * sizeof(float) + 16));
    DT_CUDA_TRY(cudaMemcpy(b->A, A, n_a * sizeof(float), cudaMemcpyHostToDevice));
    DT_CUDA_TRY(cudaMemcpy(b->B, B, n_b * sizeof(float), cudaMemcpyHostToDevice));
    b->g = dt_gemm_shape_args(shape, b->A, b->B, b->C);
    *out = b;
    return DT_OK;
cleanup:
    gpu_release(b);
    return status;
}

/* One product by cuBLAS: row-major C = A·B as column-major Cᵀ = Bᵀ·Aᵀ. */
static cublasStatus_t cublas_product(dt_gemm_bench *b) {
    const dt_gemm_args *g = &b->g;
    const float one = 1.0f, zero = 0.0f;
    const cublasOperation_t op_b = g->b_col == 1 ? CUBLAS_OP_N : CUBLAS_OP_T;
    const cublasOperation_t op_a = g->a_col == 1 ? CUBLAS_OP_N : CUBLAS_OP_T;
    return cublasSgemm(b->cublas, op_b, op_a, (int)g->N, (int)g->M, (int)g->P, &one, g->B,
                       (int)(g->b_col == 1 ? g->b_row : g->b_col), g->A, (int)(g->a_col == 1 ? g->a_row : g->a_col),
                       &zero, g->C, (int)g->ldc);
}

static dt_status gpu_run(dt_gemm_bench *b, int variant, int iters, double *seconds, dt_error *err) {
    dt_status status = DT_OK;
    float ms = 0.0f;
    if (variant != GPU_PORTABLE)
        DT_CUBLAS_TRY(cublasSetMathMode(b->cublas, variant == GPU_CUBLAS_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                             : CUBLAS_DEFAULT_MATH));
    DT_CUDA_TRY(cudaEventRecord(b->start, b->stream));
    for (int i = 0; i < iters; i++) {
        if (variant == GPU_PORTABLE) DT_CUDA_TRY(dt_cuda_gemm_portable(b->stream, &b->g));
        else DT_CUBLAS_TRY(cublas_product(b));
    }
    DT_CUDA_TRY(cudaEventRecord(b->stop, b->stream));
    DT_CUDA_TRY(cudaEventSynchronize(b->stop));
    DT_CUDA_TRY(cudaEventElapsedTime(&ms, b->start, b->stop));
    *seconds = (double)ms * 1e-3;
cleanup:
    return status;
}

static dt_status gpu_result(dt_gemm_bench *b, float *C, dt_error *err) {
    dt_status status = DT_OK;
    DT_CUDA_TRY(cudaStreamSynchronize(b->stream));
    DT_CUDA_TRY(cudaMemcpy(C, b->C, (size_t)(b->g.M * b->g.N) * sizeof(float), cudaMemcpyDeviceToHost));
cleanup:
    return status;
}

extern "C" const dt_gemm_bench_ops dt_cuda_gemm_bench = {
    .device = "cuda",
    .n_variants = 3,
    .variants = {"detrain portable", "cuBLAS FP32", "cuBLAS TF32"},
    .available = gpu_available,
    .describe = gpu_describe,
    .prepare = gpu_prepare,
    .run = gpu_run,
    .result = gpu_result,
    .release = gpu_release,
    .fp32_peak_gflops = gpu_fp32_peak,
};
