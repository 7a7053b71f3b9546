/* cuda_info.h — the small C interface of the CUDA part (a C header: host code includes it). */
#ifndef DT_CUDA_INFO_H
#define DT_CUDA_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "math_codes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices; 0 with the reason in `why` (the CUDA error) when none. */
int dt_cuda_device_count(char *why, size_t why_size);

/* One line describing device 0: name, compute capability, SMs, driver and runtime versions. */
int dt_cuda_describe(char *out, size_t size);

/* Functions of kernels/dt_math.h and philox.h evaluated on the GPU, for bitwise comparison
 * with the host. */

/* out[i] = fn(in[i]) computed on device 0. 0 on success; -1 with the failing call in `why`. */
int dt_cuda_math_eval(int fn, const float *in, float *out, int64_t n, char *why, size_t why_size);

/* out[4i..4i+3] = Philox4x32-10(ctr = {i, 0, 0, 0}, key) on device 0. 0 on success, -1 otherwise. */
int dt_cuda_philox_eval(uint32_t key0, uint32_t key1, uint32_t *out, int64_t n, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif

#endif
