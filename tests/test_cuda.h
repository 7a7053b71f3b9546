/* test_cuda.h — test.h's CHECK for calls that return cudaError_t (the CUDA runtime, the
 * launchers of kernels/cuda): on failure it prints the call and CUDA's reason. */
#ifndef DT_TEST_CUDA_H
#define DT_TEST_CUDA_H

#include <cuda_runtime_api.h>

#include "test.h"

#define CHECK_CUDA(call)                                                                          \
    do {                                                                                          \
        const cudaError_t cuda_error_ = (call);                                                   \
        dt_test_checks++;                                                                         \
        if (cuda_error_ != cudaSuccess) {                                                         \
            dt_test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,             \
                    cudaGetErrorString(cuda_error_), cudaGetErrorName(cuda_error_));              \
        }                                                                                         \
    } while (0)

#endif
