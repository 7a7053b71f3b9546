/* cuda_info.cu — device discovery for --device auto/cuda and the run record. */
#include <stdio.h>

#include "cuda_check.h"
#include "cuda_info.h"

#ifndef DT_CUDA_ARCHS
#define DT_CUDA_ARCHS "?"
#endif

/* Does nothing: whether the build holds an image a device can run is asked of this kernel. */
__global__ void probe_kernel(void) {}

extern "C" int dt_cuda_device_count(char *why, size_t why_size) {
    int count = 0;
    DT_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (count == 0) snprintf(why, why_size, "no CUDA device found");
    return count;
cleanup:
    return 0;
}

extern "C" int dt_cuda_device_check(int device, char *why, size_t why_size) {
    int count = 0, previous = 0;
    cudaDeviceProp prop;
    cudaFuncAttributes attr;
    cudaError_t image = cudaSuccess;
    DT_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (device < 0 || device >= count) {
        snprintf(why, why_size, "GPU %d does not exist: this machine has %d", device, count);
        return DT_CUDA_NO_DEVICE;
    }
    DT_CUDA_CHECK(cudaGetDevice(&previous));
    DT_CUDA_CHECK(cudaSetDevice(device));
    DT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    image = cudaFuncGetAttributes(&attr, probe_kernel);
    DT_CUDA_CHECK(cudaSetDevice(previous));
    if (image == cudaErrorNoKernelImageForDevice) {
        snprintf(why, why_size,
                 "GPU %d (%s, compute capability %d.%d) has no kernel image in this build (CUDA architectures %s); "
                 "rebuild with -DCMAKE_CUDA_ARCHITECTURES=%d%d",
                 device, prop.name, prop.major, prop.minor, DT_CUDA_ARCHS, prop.major, prop.minor);
        return DT_CUDA_NO_IMAGE;
    }
    DT_CUDA_CHECK(image);
    return DT_CUDA_USABLE;
cleanup:
    return DT_CUDA_NO_DEVICE;
}

extern "C" int dt_cuda_describe(int device, char *out, size_t size) {
    char *why = out;
    size_t why_size = size;
    cudaDeviceProp prop;
    int driver = 0, runtime = 0;
    DT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DT_CUDA_CHECK(cudaDriverGetVersion(&driver));
    DT_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    snprintf(out, size, "GPU %d: %s, compute capability %d.%d, %d SMs, driver %d.%d, runtime %d.%d", device,
             prop.name, prop.major, prop.minor, prop.multiProcessorCount, driver / 1000, (driver % 1000) / 10,
             runtime / 1000, (runtime % 1000) / 10);
    return 0;
cleanup:
    return -1;
}
