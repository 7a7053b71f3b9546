/* cuda_info.h — the small C interface of the CUDA part (a C header: host code includes it). */
#ifndef DT_CUDA_INFO_H
#define DT_CUDA_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "math_codes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of CUDA devices; 0 with the reason in `why` (the CUDA error) when none. */
int dt_cuda_device_count(char *why, size_t why_size);

/* Whether `device` can run this build: DT_CUDA_USABLE; DT_CUDA_NO_DEVICE when there is no such
 * device (or CUDA fails), DT_CUDA_NO_IMAGE when the build holds no kernel image for its
 * compute capability; the reason in `why`. Leaves the current device as it was. */
enum { DT_CUDA_USABLE = 0, DT_CUDA_NO_DEVICE = 1, DT_CUDA_NO_IMAGE = 2 };
int dt_cuda_device_check(int device, char *why, size_t why_size);

/* One line describing a device: index, name, compute capability, SMs, driver and runtime
 * versions. 0, or -1 with the CUDA error in `out`. */
int dt_cuda_describe(int device, char *out, size_t size);

/* Functions of kernels/dt_math.h and philox.h evaluated on the GPU, for bitwise comparison
 * with the host. */

/* out[i] = fn(in[i]) computed on device 0. 0 on success; -1 with the failing call in `why`. */
int dt_cuda_math_eval(int fn, const float *in, float *out, int64_t n, char *why, size_t why_size);

/* out[4i..4i+3] = Philox4x32-10(ctr = {i, 0, 0, 0}, key) on device 0; n = 0 does nothing. 0 on
 * success, -1 otherwise. */
int dt_cuda_philox_eval(uint32_t key0, uint32_t key1, uint32_t *out, int64_t n, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif

#endif
