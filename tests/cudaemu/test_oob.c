/* test_oob.c — in the sanitized emulated build (-DDETRAIN_SANITIZE=ON -DDETRAIN_CUDA=EMULATE),
 * AddressSanitizer sees device code read out of bounds, as compute-sanitizer memcheck would on
 * a GPU: gather_rows_kernel is given a sample index one past the dataset, and must die with
 * ASan's heap-buffer-overflow report naming the kernel (tests/cudaemu/expect_asan.sh checks
 * the report). Without ASan it says it cannot run here (77). */
#include <stdio.h>
#include <stdlib.h>

#include "../test.h"
#include "cuda/kernels.h"

int main(void) {
#if !defined(__SANITIZE_ADDRESS__)
    printf("SKIP: needs the AddressSanitizer build (-DDETRAIN_SANITIZE=ON)\n");
    return TEST_SKIP;
#else
    enum { SAMPLES = 64, FEATURES = 16, BATCH = 4 };
    float *features = NULL, *rows = NULL;
    int64_t *index = NULL;
    const int64_t host_index[BATCH] = {0, 5, 63, SAMPLES}; /* the last: one past the end */
    if (cudaMalloc((void **)&features, SAMPLES * FEATURES * sizeof(float)) != cudaSuccess ||
        cudaMalloc((void **)&rows, BATCH * FEATURES * sizeof(float)) != cudaSuccess ||
        cudaMalloc((void **)&index, sizeof host_index) != cudaSuccess ||
        cudaMemcpy(index, host_index, sizeof host_index, cudaMemcpyHostToDevice) != cudaSuccess ||
        cudaMemset(features, 0, SAMPLES * FEATURES * sizeof(float)) != cudaSuccess ||
        cudaDeviceSynchronize() != cudaSuccess) {
        fprintf(stderr, "setup failed: %s\n", cudaGetErrorString(cudaGetLastError()));
        return 1;
    }
    const cudaError_t launched = dt_cuda_gather_rows(NULL, features, FEATURES, index, 0, BATCH, rows);
    if (launched != cudaSuccess) {
        fprintf(stderr, "launch failed: %s\n", cudaGetErrorString(launched));
        return 1;
    }
    cudaDeviceSynchronize(); /* the kernel runs here, and reads past `features` */
    fprintf(stderr, "the out-of-bounds read was not reported\n");
    return 1;
#endif
}
