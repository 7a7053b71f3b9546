/* cuda_status.h — failed CUDA and cuBLAS calls as a dt_status: the one error convention at the
 * CUDA boundary. Every call is checked where it is made; a failure becomes DT_DEVICE with
 * "<call> failed at <file>:<line> on device <d>: <reason>" and jumps to the function's cleanup
 * label, as DT_TRY does. kernels/cuda, below status.h, returns cudaError_t (a launcher's
 * failed precondition is cudaErrorInvalidValue), which its callers check here. For the CUDA
 * sources of host/ and bench/ (NCCL's sibling lives in comm/comm_nccl.cu, the one file that
 * has NCCL). */
#ifndef DT_CUDA_STATUS_H
#define DT_CUDA_STATUS_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" { /* status.h is a C header: dt_fail has C linkage */
#endif
#include "status.h"
#ifdef __cplusplus
}
#endif

/* Fills err with "<call> failed at <file>:<line> on device <current device>: <reason>", then
 * " (<code>)" when code is not NULL, and returns DT_DEVICE. */
static inline dt_status dt_cuda_fail(dt_error *err, const char *call, const char *file, int line, const char *reason,
                                     const char *code) {
    int device = -1;
    cudaGetDevice(&device);
    if (code)
        return dt_fail(err, DT_DEVICE, "%s failed at %s:%d on device %d: %s (%s)", call, file, line, device, reason,
                       code);
    return dt_fail(err, DT_DEVICE, "%s failed at %s:%d on device %d: %s", call, file, line, device, reason);
}

/* cuBLAS status names for messages. */
static inline const char *dt_cublas_name(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_(unknown)";
    }
}

/* Evaluates a call that returns cudaError_t (the CUDA runtime, a launcher of kernels/cuda);
 * on failure sets `status` and jumps to cleanup. Expects `status` and `err` in scope. */
#define DT_CUDA_TRY(call)                                                                                  \
    do {                                                                                                   \
        const cudaError_t cuda_error_ = (call);                                                            \
        if (cuda_error_ != cudaSuccess) {                                                                  \
            status = dt_cuda_fail(err, #call, __FILE__, __LINE__, cudaGetErrorString(cuda_error_),         \
                                  cudaGetErrorName(cuda_error_));                                          \
            goto cleanup;                                                                                  \
        }                                                                                                  \
    } while (0)

/* The same for a cuBLAS call. */
#define DT_CUBLAS_TRY(call)                                                                                \
    do {                                                                                                   \
        const cublasStatus_t cublas_status_ = (call);                                                      \
        if (cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            status = dt_cuda_fail(err, #call, __FILE__, __LINE__, dt_cublas_name(cublas_status_), NULL);   \
            goto cleanup;                                                                                  \
        }                                                                                                  \
    } while (0)

#endif
