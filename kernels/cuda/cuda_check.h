/* cuda_check.h — the cudaError_t form of DT_TRY, for the CUDA code below status.h
 * (kernels/cuda): a failed call stores its error in the function's `error` and jumps to the
 * function's cleanup label, which returns it. Naming the call, file, line and device is the
 * caller's part (host/core/cuda_status.h), which turns the error into a dt_status. */
#ifndef DT_CUDA_CHECK_H
#define DT_CUDA_CHECK_H

#include <cuda_runtime.h>

/* Evaluates a CUDA call into `error` (a cudaError_t in scope); on failure jumps to cleanup. */
#define DT_CUDA_CHECK(call)                     \
    do {                                        \
        error = (call);                         \
        if (error != cudaSuccess) goto cleanup; \
    } while (0)

#endif
