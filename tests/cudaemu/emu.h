/* emu.h — what the parts of the CPU emulator of CUDA share (runtime.cpp: devices, memory,
 * streams and the ordering check; launch.cpp: kernels; cublas.cpp: the reference cuBLAS).
 * Not a public interface: programs use cuda_runtime.h, cublas_v2.h and dtemu.h. */
#ifndef DTEMU_EMU_H
#define DTEMU_EMU_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cuda_runtime.h"
#include "dtemu.h"

namespace dtemu {

/* What an operation does to device memory. */
enum { ACCESS_READ = 1, ACCESS_WRITE = 2 };

struct mem_access {
    const void *ptr;
    size_t bytes;   /* the range [ptr, ptr + bytes) must lie in one allocation */
    int mode;       /* ACCESS_READ | ACCESS_WRITE */
    bool optional;  /* a word of a kernel argument: ignored unless it points into an allocation */
};

/* Queues `run` on `stream` (NULL: the current device's legacy default stream) after checking
 * that the stream exists and belongs to the current device, that every access lies in device
 * memory of that device (or pinned host memory) and — unless DTEMU_STREAM_CHECK=0 — that it is
 * ordered after every conflicting earlier access (stream order, the legacy stream's implicit
 * synchronization, events and host synchronization; see README.md). On failure nothing is
 * queued and the error is returned, its text kept for cudaGetErrorString. When host_waits, the
 * operation runs before enqueue returns and the host knows it completed. */
cudaError_t enqueue(cudaStream_t stream, const std::string &what, const std::vector<mem_access> &accesses,
                    std::function<void()> run, bool host_waits);

/* The device a stream belongs to; -1 for an unknown handle. */
int stream_device(cudaStream_t stream);

/* Runs every queued operation of `device` and makes the host wait for them. */
void synchronize_device(int device);

/* The current device (cudaSetDevice); -1 when the emulator has no devices. */
int current_device();

/* Returns `error` after keeping `text` as what cudaGetErrorString says of it. */
cudaError_t fail(cudaError_t error, const std::string &text);

/* Kernel launch errors are kept until cudaGetLastError. */
void set_last_error(cudaError_t error);

/* cudaSuccess when the build's architectures (DTEMU_ARCHS) have an image the device can run,
 * else cudaErrorNoKernelImageForDevice with the reason. */
cudaError_t kernel_image(int device);

/* True when DTEMU_FAIL asks this call of `api` to fail (DTEMU_FAIL=api:n,... counts calls). */
bool inject_failure(const char *api);

/* The allocation containing ptr: its start and size; false for memory the emulator did not
 * allocate. */
bool find_allocation(const void *ptr, const void **base, size_t *size);

/* Counters of dtemu_get_stats. */
dtemu_stats &stats();

/* The host's monotonic clock in seconds. */
double now_seconds();

} // namespace dtemu

#endif
