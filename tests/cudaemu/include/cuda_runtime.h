/* cuda_runtime.h — the device side of the CPU emulator of CUDA (tests/cudaemu/README.md):
 * what a .cu file compiled by the host C++ compiler needs besides the runtime API.
 *
 * Kernels are plain functions. A launch (DT_CUDA_LAUNCH in kernels/cuda/launch.h, which is
 * <<<...>>> under nvcc) queues the kernel on its stream with its arguments copied, as CUDA
 * does; when the stream runs, the grid's blocks run one after another and the threads of a
 * block run as cooperative fibers that switch at __syncthreads(), each block and each barrier
 * in the order DTEMU_ORDER asks for. __shared__ variables are statics: one copy, which the
 * blocks, run one at a time, share in turn. Atomics are plain read-modify-writes: no fiber
 * runs between the read and the write. */
#ifndef DTEMU_CUDA_RUNTIME_H
#define DTEMU_CUDA_RUNTIME_H

#include "cuda_runtime_api.h"

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

/* CUDA's 128-bit vector; kernels read it from float arrays, which may_alias makes defined. */
struct __attribute__((aligned(16), may_alias)) float4 {
    float x, y, z, w;
};

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};

/* The running thread's coordinates, set by the emulator before it runs (or resumes) a fiber.
 * __thread, not thread_local: an extern thread_local is read through a check of its weak TLS
 * init function, and GCC 12 under -fsanitize=null branched on that check's flags as if they
 * were the null test of the variable's address ("member access within null pointer of type
 * 'struct uint3'" in a kernel); __thread variables are statically initialised, with no check. */
extern __thread uint3 threadIdx, blockIdx;
extern __thread dim3 blockDim, gridDim;

/* Waits until every thread of the block has arrived (or exited): a fiber switch. */
void __syncthreads(void);

inline float atomicAdd(float *address, float value) {
    const float old = *address;
    *address = old + value;
    return old;
}
inline int atomicAdd(int *address, int value) {
    const int old = *address;
    *address = old + value;
    return old;
}
inline unsigned long long atomicAdd(unsigned long long *address, unsigned long long value) {
    const unsigned long long old = *address;
    *address = old + value;
    return old;
}

/* CUDA's C++ overloads: typed pointers, any kernel pointer. */
template <class T> inline cudaError_t cudaMalloc(T **ptr, size_t size) {
    return cudaMalloc(reinterpret_cast<void **>(ptr), size);
}
template <class T> inline cudaError_t cudaHostAlloc(T **ptr, size_t size, unsigned int flags) {
    return cudaHostAlloc(reinterpret_cast<void **>(ptr), size, flags);
}
template <class T> inline cudaError_t cudaMallocHost(T **ptr, size_t size) {
    return cudaMallocHost(reinterpret_cast<void **>(ptr), size);
}
template <class T> inline cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *attr, T *entry) {
    return cudaFuncGetAttributes(attr, reinterpret_cast<const void *>(entry));
}

namespace dtemu {

/* One kernel argument as the ordering check sees it: its bytes (a pointer, or a struct whose
 * pointer-sized words are looked up among the allocations) and whether it can only be read
 * (a pointer to const). */
struct arg_view {
    const void *bytes;
    size_t size;
    bool read_only;
};

/* Queues a kernel: `body` runs one thread (the coordinates already set). Checks the launch
 * configuration, the kernel image, the devices and the ordering of the memory the arguments
 * point to; a failure becomes the error cudaGetLastError returns, and nothing is queued. */
void launch(const void *kernel, const char *name, dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
            std::function<void()> body, const arg_view *args, int n_args);

template <class T> struct launcher;

/* kernel(args...) with the kernel's own parameter types, so arguments convert as in a call. */
template <class... P> struct launcher<void(P...)> {
    void (*kernel)(P...);
    const char *name;
    dim3 grid, block;
    size_t shared_bytes;
    cudaStream_t stream;

    void operator()(P... args) const {
        auto params = std::make_shared<std::tuple<std::decay_t<P>...>>(args...);
        arg_view views[sizeof...(P) + 1];
        describe(*params, views, std::index_sequence_for<P...>{});
        void (*fn)(P...) = kernel;
        launch(reinterpret_cast<const void *>(kernel), name, grid, block, shared_bytes, stream,
               [fn, params]() { std::apply(fn, *params); }, views, (int)sizeof...(P));
    }

  private:
    template <class Tuple, std::size_t... I>
    static void describe(const Tuple &params, arg_view *views, std::index_sequence<I...>) {
        ((views[I] = arg_view{&std::get<I>(params), sizeof(std::get<I>(params)),
                              std::is_pointer<std::tuple_element_t<I, Tuple>>::value &&
                                  std::is_const<std::remove_pointer_t<std::tuple_element_t<I, Tuple>>>::value}),
         ...);
    }
};

} // namespace dtemu

/* kernels/cuda/launch.h maps DT_CUDA_LAUNCH here when the host compiler builds .cu files. */
#define DTEMU_LAUNCH(kernel, grid, block, shared_bytes, stream)                                                  \
    ::dtemu::launcher<std::remove_pointer_t<std::decay_t<decltype(kernel)>>>{kernel, #kernel, dim3(grid), dim3(block), \
                                                                           (size_t)(shared_bytes), (stream)}

#endif /* __cplusplus */

#endif
