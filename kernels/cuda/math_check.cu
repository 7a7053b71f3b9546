/* math_check.cu — runs the shared host/device headers (dt_math.h, philox.h) on the GPU so
 * tests can compare their bits with the host's. Compiled with --fmad=false (CMake). */
#include "cuda_check.h"
#include "cuda_info.h"
#include "dt_math.h"
#include "launch.h"
#include "philox.h"

/* Kernels, then launchers. */
__global__ void math_kernel(int fn, const float *in, float *out, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = dt_math_by_code(fn, in[i]);
}

__global__ void philox_kernel(dt_philox_key key, uint32_t *out, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dt_philox_ctr ctr = {{(uint32_t)i, 0u, 0u, 0u}};
    dt_philox_ctr r = dt_philox4x32_10(ctr, key);
    for (int k = 0; k < 4; k++) out[4 * i + k] = r.v[k];
}

extern "C" cudaError_t dt_cuda_math_eval(int fn, const float *in, float *out, int64_t n) {
    float *d_in = NULL, *d_out = NULL;
    cudaError_t error = cudaSuccess;
    const int threads = 256;
    const unsigned blocks = (unsigned)((n + threads - 1) / threads);
    if (fn < 0 || fn >= DT_CUDA_FN_COUNT || n <= 0) return cudaErrorInvalidValue;
    DT_CUDA_CHECK(cudaMalloc(&d_in, (size_t)n * sizeof(float)));
    DT_CUDA_CHECK(cudaMalloc(&d_out, (size_t)n * sizeof(float)));
    DT_CUDA_CHECK(cudaMemcpy(d_in, in, (size_t)n * sizeof(float), cudaMemcpyHostToDevice));
    DT_CUDA_LAUNCH(math_kernel, blocks, threads, 0, NULL)(fn, d_in, d_out, n);
    DT_CUDA_CHECK(cudaGetLastError());
    DT_CUDA_CHECK(cudaMemcpy(out, d_out, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost));
cleanup:
    if (d_in) cudaFree(d_in);
    if (d_out) cudaFree(d_out);
    return error;
}

extern "C" cudaError_t dt_cuda_philox_eval(uint32_t key0, uint32_t key1, uint32_t *out, int64_t n) {
    uint32_t *d_out = NULL;
    cudaError_t error = cudaSuccess;
    const int threads = 256;
    const unsigned blocks = (unsigned)((n + threads - 1) / threads);
    dt_philox_key key = {{key0, key1}};
    if (n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess; /* a grid of no blocks is an invalid launch in CUDA */
    DT_CUDA_CHECK(cudaMalloc(&d_out, (size_t)n * 4 * sizeof(uint32_t)));
    DT_CUDA_LAUNCH(philox_kernel, blocks, threads, 0, NULL)(key, d_out, n);
    DT_CUDA_CHECK(cudaGetLastError());
    DT_CUDA_CHECK(cudaMemcpy(out, d_out, (size_t)n * 4 * sizeof(uint32_t), cudaMemcpyDeviceToHost));
cleanup:
    if (d_out) cudaFree(d_out);
    return error;
}
