/* cuda_info.cu — device discovery for --device auto/cuda and the run record. */
#include "cuda_check.h"
#include "cuda_info.h"

extern "C" int dt_cuda_device_count(char *why, size_t why_size) {
    int count = 0;
    DT_CUDA_CHECK(cudaGetDeviceCount(&count));
    if (count == 0) snprintf(why, why_size, "no CUDA device found");
    return count;
cleanup:
    return 0;
}

extern "C" int dt_cuda_describe(char *out, size_t size) {
    char *why = out;
    size_t why_size = size;
    cudaDeviceProp prop;
    int driver = 0, runtime = 0;
    DT_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    DT_CUDA_CHECK(cudaDriverGetVersion(&driver));
    DT_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    snprintf(out, size, "%s, compute capability %d.%d, %d SMs, driver %d.%d, runtime %d.%d", prop.name, prop.major,
             prop.minor, prop.multiProcessorCount, driver / 1000, (driver % 1000) / 10, runtime / 1000,
             (runtime % 1000) / 10);
    return 0;
cleanup:
    return -1;
}
