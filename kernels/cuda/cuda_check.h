/* cuda_check.h — every CUDA runtime call is checked where it is made; a failure records
 * the call text, file, line and device in `why` and jumps to the function's cleanup label. */
#ifndef DT_CUDA_CHECK_H
#define DT_CUDA_CHECK_H

#include <cuda_runtime.h>
#include <stdio.h>

#define DT_CUDA_CHECK(call)                                                                          \
    do {                                                                                             \
        cudaError_t e_ = (call);                                                                     \
        if (e_ != cudaSuccess) {                                                                     \
            int dev_ = -1;                                                                           \
            cudaGetDevice(&dev_);                                                                    \
            snprintf(why, why_size, "%s failed at %s:%d on device %d: %s (%s)", #call, __FILE__, __LINE__, \
                     dev_, cudaGetErrorString(e_), cudaGetErrorName(e_));                            \
            goto cleanup;                                                                            \
        }                                                                                            \
    } while (0)

#endif
