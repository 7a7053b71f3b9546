/* cuda_info.cu — device discovery for --device auto/cuda and the run record. */
#include <stdio.h>
#include <string.h>

#include "cuda_check.h"
#include "cuda_info.h"

#ifndef DT_CUDA_ARCHS
#define DT_CUDA_ARCHS "?"
#endif

/* Does nothing: whether the build holds an image a device can run is asked of this kernel. */
__global__ void probe_kernel(void) {}

extern "C" cudaError_t dt_cuda_device_check(int device, dt_cuda_device *found) {
    int previous = 0;
    cudaDeviceProp prop;
    cudaFuncAttributes attr;
    cudaError_t error = cudaSuccess, image = cudaSuccess;
    memset(found, 0, sizeof *found);
    found->archs = DT_CUDA_ARCHS;
    DT_CUDA_CHECK(cudaGetDeviceCount(&found->count));
    if (device < 0 || device >= found->count) return cudaErrorInvalidDevice;
    DT_CUDA_CHECK(cudaGetDevice(&previous));
    DT_CUDA_CHECK(cudaSetDevice(device));
    DT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    snprintf(found->name, sizeof found->name, "%s", prop.name);
    found->cc_major = prop.major;
    found->cc_minor = prop.minor;
    image = cudaFuncGetAttributes(&attr, probe_kernel);
    DT_CUDA_CHECK(cudaSetDevice(previous));
    return image;
cleanup:
    return error;
}

/* FP32 add/multiply/FMA results a clock per SM (the guide's throughput table); 0 unknown. */
static int fp32_lanes_per_sm(int major, int minor) {
    switch (major) {
    case 5: return 128;
    case 6: return minor == 0 ? 64 : 128;
    case 7: return 64;
    case 8: return minor == 0 ? 64 : 128;
    case 9: case 10: case 12: return 128;
    default: return 0;
    }
}

extern "C" cudaError_t dt_cuda_fp32_peak(int device, double *gflops) {
    cudaDeviceProp prop;
    int clock_khz = 0, sms = 0;
    cudaError_t error = cudaSuccess;
    *gflops = 0.0;
    DT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DT_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
    DT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    *gflops = (double)sms * fp32_lanes_per_sm(prop.major, prop.minor) * 2.0 * clock_khz * 1e-6;
cleanup:
    return error;
}

extern "C" cudaError_t dt_cuda_describe(int device, char *out, size_t size) {
    cudaDeviceProp prop;
    int driver = 0, runtime = 0;
    cudaError_t error = cudaSuccess;
    snprintf(out, size, "%s", "");
    DT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DT_CUDA_CHECK(cudaDriverGetVersion(&driver));
    DT_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    snprintf(out, size, "GPU %d: %s, compute capability %d.%d, %d SMs, driver %d.%d, runtime %d.%d", device,
             prop.name, prop.major, prop.minor, prop.multiProcessorCount, driver / 1000, (driver % 1000) / 10,
             runtime / 1000, (runtime % 1000) / 10);
cleanup:
    return error;
}
