/* cuda_info.h — the small C interface of the CUDA part (a C header: host code includes it).
 *
 * Like the launchers (kernels.h), these return cudaSuccess or the error of the CUDA call that
 * failed; a precondition failure returns cudaErrorInvalidValue. The caller turns an error into
 * a message (host/core/cuda_status.h). */
#ifndef DT_CUDA_INFO_H
#define DT_CUDA_INFO_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "math_codes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What dt_cuda_device_check learnt of a device, for the messages of device selection. */
typedef struct {
    int count;                /* CUDA devices on this machine (0 when CUDA fails) */
    char name[256];           /* the device's name; "" when it was not reached */
    int cc_major, cc_minor;   /* its compute capability */
    const char *archs;        /* the CUDA architectures this build holds images for ("90") */
} dt_cuda_device;

/* Whether `device` can run this build: cudaSuccess; cudaErrorInvalidDevice when there is no
 * such device (found->count says how many there are, maybe 0); cudaErrorNoKernelImageForDevice
 * when the build holds no kernel image for its compute capability (found names it); else the
 * error of the CUDA call that failed. Leaves the current device as it was. */
cudaError_t dt_cuda_device_check(int device, dt_cuda_device *found);

/* One line describing a device into out: index, name, compute capability, SMs, driver and
 * runtime versions. cudaSuccess, or the CUDA error with out "". */
cudaError_t dt_cuda_describe(int device, char *out, size_t size);

/* The FP32 FMA peak of `device` in GFLOP/s into *gflops: SMs x FP32 lanes an SM (by compute
 * capability, CUDA C++ Programming Guide, "Arithmetic Instructions") x 2 FLOP x its clock;
 * 0 for a compute capability the table does not know. cudaSuccess, or the CUDA error. */
cudaError_t dt_cuda_fp32_peak(int device, double *gflops);

/* Functions of kernels/dt_math.h and philox.h evaluated on the GPU, for bitwise comparison
 * with the host. */

/* out[i] = fn(in[i]) computed on the current device. cudaErrorInvalidValue when fn is not a
 * DT_CUDA_FN_ code or n <= 0. */
cudaError_t dt_cuda_math_eval(int fn, const float *in, float *out, int64_t n);

/* out[4i..4i+3] = Philox4x32-10(ctr = {i, 0, 0, 0}, key) on the current device; n = 0 does
 * nothing, n < 0 is cudaErrorInvalidValue. */
cudaError_t dt_cuda_philox_eval(uint32_t key0, uint32_t key1, uint32_t *out, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
