/* test_cudaemu.cpp — the CPU emulator of CUDA can fail: each check below gives it a program
 * that is wrong on real hardware (an unordered access between streams, a race between threads,
 * a bad launch, memory of the wrong device, a cuBLAS call real cuBLAS rejects, a graph capture
 * of what a capture cannot hold) and asserts that
 * the emulator says so, beside the corrected program that it must accept. Run with
 * DTEMU_DEVICES=2 (CTest sets it). */
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cublas_v2.h"
#include "cuda/launch.h"
#include "dtemu.h"
#include "../test.h"

/* ---- kernels ------------------------------------------------------------------------------- */

__global__ void fill_kernel(float *out, float value, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = value;
}

__global__ void copy_kernel(const float *in, float *out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[i];
}

/* A race: every thread writes the same element; the last one to run wins. */
__global__ void last_writer_kernel(int *out) { out[0] = (int)(blockIdx.x * blockDim.x + threadIdx.x); }

/* A block sum through shared memory, with the barrier it needs between the writes and the
 * reads, and without it: a race between the block's threads. */
__global__ void block_sum_kernel(const float *in, float *out) {
    __shared__ float values[64];
    const int t = threadIdx.x;
    values[t] = in[blockIdx.x * 64 + t];
    __syncthreads();
    if (t == 0) {
        float sum = 0.0f;
        for (int k = 0; k < 64; k++) sum += values[k];
        out[blockIdx.x] = sum;
    }
}

__global__ void block_sum_racy_kernel(const float *in, float *out) {
    __shared__ float values[64];
    const int t = threadIdx.x;
    values[t] = in[blockIdx.x * 64 + t];
    if (t == 0) {
        float sum = 0.0f;
        for (int k = 0; k < 64; k++) sum += values[k];
        out[blockIdx.x] = sum;
    }
}

/* Float atomics add in whatever order the threads run. */
__global__ void atomic_sum_kernel(const float *in, float *out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(out, in[i]);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static float *device_floats(int n) {
    float *p = nullptr;
    CHECK(cudaMalloc(&p, (size_t)n * sizeof(float)) == cudaSuccess);
    return p;
}

static std::vector<float> download(const float *dev, int n) {
    std::vector<float> host((size_t)n);
    CHECK(cudaMemcpy(host.data(), dev, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
}

/* The launch's error, expected to be `want`; an unordered access must also say what it raced. */
static void expect_launch(cudaError_t want, const char *mentions) {
    const cudaError_t got = cudaGetLastError();
    CHECK_EQ_INT(got, want);
    if (mentions) CHECK_STR_CONTAINS(cudaGetErrorString(got), mentions);
}

/* ---- stream ordering ------------------------------------------------------------------------ */

static void test_stream_order(void) {
    const int n = 1000;
    float *buf = device_floats(n), *out = device_floats(n);
    cudaStream_t nonblocking, blocking, other;
    CHECK(cudaStreamCreateWithFlags(&nonblocking, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaStreamCreate(&blocking) == cudaSuccess);
    CHECK(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking) == cudaSuccess);
    cudaDeviceSynchronize();

    /* The bug of issue 11: a legacy-stream memset, then a kernel on a non-blocking stream. */
    CHECK(cudaMemset(buf, 0, n * sizeof(float)) == cudaSuccess);
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, nonblocking)(buf, out, n);
    expect_launch(cudaErrorEmulatorUnorderedAccess, "legacy default stream");
    /* A blocking stream is ordered after the legacy stream: accepted. */
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, blocking)(buf, out, n);
    expect_launch(cudaSuccess, nullptr);
    cudaDeviceSynchronize();

    /* The fix: the memset on the kernel's own stream. */
    CHECK(cudaMemsetAsync(buf, 0, n * sizeof(float), nonblocking) == cudaSuccess);
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, nonblocking)(buf, out, n);
    expect_launch(cudaSuccess, nullptr);
    /* ... or the host waits in between (for the kernel's reads too, before the memset writes). */
    CHECK(cudaStreamSynchronize(nonblocking) == cudaSuccess);
    CHECK(cudaMemset(buf, 0, n * sizeof(float)) == cudaSuccess);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, nonblocking)(buf, out, n);
    expect_launch(cudaSuccess, nullptr);

    /* A pageable cudaMemcpy may return before its data lands: not ordered for a non-blocking
     * stream. From pinned memory it is synchronous. */
    std::vector<float> pageable((size_t)n, 1.0f);
    CHECK(cudaStreamSynchronize(nonblocking) == cudaSuccess);
    CHECK(cudaMemcpy(buf, pageable.data(), n * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, nonblocking)(buf, out, n);
    expect_launch(cudaErrorEmulatorUnorderedAccess, "cudaMemcpy");
    float *pinned = nullptr;
    CHECK(cudaMallocHost(&pinned, n * sizeof(float)) == cudaSuccess);
    for (int i = 0; i < n; i++) pinned[i] = 2.0f;
    CHECK(cudaMemcpy(buf, pinned, n * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, nonblocking)(buf, out, n);
    expect_launch(cudaSuccess, nullptr);

    /* A synchronous download of what a non-blocking stream still writes: a race. */
    DT_CUDA_LAUNCH(fill_kernel, 4, 256, 0, nonblocking)(out, 3.0f, n);
    expect_launch(cudaSuccess, nullptr);
    std::vector<float> host((size_t)n);
    CHECK_EQ_INT(cudaMemcpy(host.data(), out, n * sizeof(float), cudaMemcpyDeviceToHost),
                 cudaErrorEmulatorUnorderedAccess);
    CHECK(cudaStreamSynchronize(nonblocking) == cudaSuccess);
    CHECK(cudaMemcpy(host.data(), out, n * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
    CHECK(host[0] == 3.0f && host[n - 1] == 3.0f);

    /* Two non-blocking streams: a write after a read needs an event between them. */
    DT_CUDA_LAUNCH(copy_kernel, 4, 256, 0, nonblocking)(buf, out, n);
    expect_launch(cudaSuccess, nullptr);
    CHECK_EQ_INT(cudaMemsetAsync(buf, 0, n * sizeof(float), other), cudaErrorEmulatorUnorderedAccess);
    cudaEvent_t done;
    CHECK(cudaEventCreate(&done) == cudaSuccess);
    CHECK(cudaEventRecord(done, nonblocking) == cudaSuccess);
    CHECK(cudaStreamWaitEvent(other, done, 0) == cudaSuccess);
    CHECK(cudaMemsetAsync(buf, 0, n * sizeof(float), other) == cudaSuccess);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    CHECK(dtemu_get_stats().unordered >= 4);

    cudaEventDestroy(done);
    cudaFreeHost(pinned);
    cudaStreamDestroy(nonblocking);
    cudaStreamDestroy(blocking);
    cudaStreamDestroy(other);
    cudaFree(buf);
    cudaFree(out);
}

/* Streams are queues that run when the host waits: a result read without waiting is not
 * there yet, as it may not be on hardware. Events are timed when they run. */
static void test_queues_and_events(void) {
    float *buf = device_floats(256), *pinned = nullptr;
    cudaStream_t s;
    cudaEvent_t start, stop;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaMallocHost(&pinned, 256 * sizeof(float)) == cudaSuccess);
    CHECK(cudaEventCreate(&start) == cudaSuccess && cudaEventCreate(&stop) == cudaSuccess);
    pinned[0] = -1.0f;
    CHECK(cudaEventRecord(start, s) == cudaSuccess);
    DT_CUDA_LAUNCH(fill_kernel, 1, 256, 0, s)(buf, 5.0f, 256);
    expect_launch(cudaSuccess, nullptr);
    CHECK(cudaMemcpyAsync(pinned, buf, 256 * sizeof(float), cudaMemcpyDeviceToHost, s) == cudaSuccess);
    CHECK(cudaEventRecord(stop, s) == cudaSuccess);
    CHECK(pinned[0] == -1.0f); /* not waited for: not there */
    float ms = -1.0f;
    CHECK_EQ_INT(cudaEventElapsedTime(&ms, start, stop), cudaErrorNotReady);
    CHECK(cudaEventSynchronize(stop) == cudaSuccess);
    CHECK(pinned[0] == 5.0f && pinned[255] == 5.0f);
    CHECK(cudaEventElapsedTime(&ms, start, stop) == cudaSuccess && ms >= 0.0f);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaStreamDestroy(s);
    cudaFreeHost(pinned);
    cudaFree(buf);
}

/* ---- graphs ------------------------------------------------------------------------------- */

__global__ void add_one_kernel(float *x) { x[0] += 1.0f; }

/* A capture records without running; a launch runs what was recorded with the values it had
 * (a by-value argument changed later is not seen); what a capture cannot hold invalidates it;
 * a launch is checked for ordering like any work. */
static void test_graphs(void) {
    float *x = device_floats(4), *y = device_floats(4);
    cudaStream_t s, other;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaMemsetAsync(x, 0, 4 * sizeof(float), s) == cudaSuccess);
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    const dtemu_stats before = dtemu_get_stats();

    float value = 5.0f;
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    DT_CUDA_LAUNCH(fill_kernel, 1, 32, 0, s)(y, value, 4);
    DT_CUDA_LAUNCH(add_one_kernel, 1, 1, 0, s)(x);
    expect_launch(cudaSuccess, nullptr);
    CHECK(cudaStreamEndCapture(s, &graph) == cudaSuccess && graph != nullptr);
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    CHECK(dtemu_get_stats().launches == before.launches); /* recorded, not run */
    CHECK(cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess);
    value = 7.0f; /* the graph keeps 5 */
    CHECK(cudaGraphLaunch(exec, s) == cudaSuccess);
    CHECK(cudaGraphLaunch(exec, s) == cudaSuccess);
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    CHECK(download(x, 1)[0] == 2.0f && download(y, 4)[3] == 5.0f);
    CHECK(dtemu_get_stats().launches == before.launches + 4 && dtemu_get_stats().graph_launches == before.graph_launches + 2);

    /* a launch of a graph that reads what another stream writes, unordered: caught */
    DT_CUDA_LAUNCH(fill_kernel, 1, 32, 0, other)(x, 1.0f, 4);
    CHECK_EQ_INT(cudaGraphLaunch(exec, s), cudaErrorEmulatorUnorderedAccess);
    CHECK(cudaStreamSynchronize(other) == cudaSuccess);
    CHECK(cudaGraphLaunch(exec, s) == cudaSuccess);
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);

    /* waiting for the capturing stream, a pageable upload into it, an allocation: refused,
     * and the capture is invalid at its end; the stream works again after */
    std::vector<float> pageable(4, 1.0f);
    float *extra = nullptr;
    for (int what = 0; what < 3; what++) {
        CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
        DT_CUDA_LAUNCH(add_one_kernel, 1, 1, 0, s)(x);
        if (what == 0) CHECK_EQ_INT(cudaStreamSynchronize(s), cudaErrorStreamCaptureUnsupported);
        if (what == 1)
            CHECK_EQ_INT(cudaMemcpyAsync(x, pageable.data(), 4 * sizeof(float), cudaMemcpyHostToDevice, s),
                         cudaErrorStreamCaptureUnsupported);
        if (what == 2) CHECK_EQ_INT(cudaMalloc((void **)&extra, 64), cudaErrorStreamCaptureUnsupported);
        cudaGraph_t broken = nullptr;
        CHECK_EQ_INT(cudaStreamEndCapture(s, &broken), cudaErrorStreamCaptureInvalidated);
        CHECK(broken == nullptr);
    }
    /* Relaxed mode allows the allocation */
    CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed) == cudaSuccess);
    CHECK(cudaMalloc((void **)&extra, 64) == cudaSuccess);
    cudaGraph_t relaxed = nullptr;
    CHECK(cudaStreamEndCapture(s, &relaxed) == cudaSuccess);
    CHECK_EQ_INT(cudaStreamEndCapture(s, &relaxed), cudaErrorIllegalState); /* not capturing */
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    CHECK(download(x, 1)[0] == 2.0f); /* 1 from the other stream, + 1; none of the invalid captures ran */

    cudaGraphDestroy(relaxed);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaFree(extra);
    cudaStreamDestroy(s);
    cudaStreamDestroy(other);
    cudaFree(x);
    cudaFree(y);
}

/* ---- launches and devices ------------------------------------------------------------------ */

static void test_launch_configuration(void) {
    float *buf = device_floats(64);
    DT_CUDA_LAUNCH(fill_kernel, 0, 64, 0, nullptr)(buf, 1.0f, 64); /* a grid of no blocks */
    expect_launch(cudaErrorInvalidConfiguration, "fill_kernel");
    DT_CUDA_LAUNCH(fill_kernel, 1, 1025, 0, nullptr)(buf, 1.0f, 64);
    expect_launch(cudaErrorInvalidConfiguration, nullptr);
    DT_CUDA_LAUNCH(fill_kernel, 1, dim3(1, 1, 65), 0, nullptr)(buf, 1.0f, 64);
    expect_launch(cudaErrorInvalidConfiguration, nullptr);
    DT_CUDA_LAUNCH(fill_kernel, dim3(1, 65536), 64, 0, nullptr)(buf, 1.0f, 64);
    expect_launch(cudaErrorInvalidConfiguration, nullptr);
    DT_CUDA_LAUNCH(fill_kernel, 1, 64, 0, nullptr)(buf, 1.0f, 64);
    expect_launch(cudaSuccess, nullptr);
    CHECK(download(buf, 64)[63] == 1.0f);
    cudaFree(buf);
}

static void test_devices(void) {
    int count = 0;
    CHECK(cudaGetDeviceCount(&count) == cudaSuccess);
    CHECK_EQ_INT(count, 2);
    CHECK_EQ_INT(cudaSetDevice(2), cudaErrorInvalidDevice);
    CHECK(cudaSetDevice(1) == cudaSuccess);
    float *on_one = device_floats(64);
    CHECK(cudaSetDevice(0) == cudaSuccess);
    DT_CUDA_LAUNCH(fill_kernel, 1, 64, 0, nullptr)(on_one, 1.0f, 64);
    expect_launch(cudaErrorIllegalAddress, "device 1");
    cudaStream_t s0;
    CHECK(cudaStreamCreate(&s0) == cudaSuccess);
    CHECK(cudaSetDevice(1) == cudaSuccess);
    DT_CUDA_LAUNCH(fill_kernel, 1, 64, 0, s0)(on_one, 1.0f, 64); /* a stream of device 0 */
    expect_launch(cudaErrorInvalidResourceHandle, nullptr);
    DT_CUDA_LAUNCH(fill_kernel, 1, 64, 0, nullptr)(on_one, 1.0f, 64);
    expect_launch(cudaSuccess, nullptr);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    cudaFree(on_one);
    CHECK(cudaSetDevice(0) == cudaSuccess);
    cudaStreamDestroy(s0);
}

/* ---- races between threads ------------------------------------------------------------------- */

/* Runs fn under four orders and says whether all gave the same bytes as forward. */
template <class F> static bool same_under_orders(F fn, float *out, int n) {
    const char *orders[] = {"forward", "reverse", "shuffle:1", "shuffle:2"};
    std::vector<float> first;
    bool same = true;
    for (const char *o : orders) {
        CHECK(dtemu_set_order(o) == 0);
        fn();
        std::vector<float> got = download(out, n);
        if (first.empty()) first = got;
        else same = same && memcmp(first.data(), got.data(), (size_t)n * sizeof(float)) == 0;
    }
    dtemu_set_order("forward");
    return same;
}

static void test_races(void) {
    CHECK_EQ_INT(dtemu_set_order("sideways"), -1);
    const int blocks = 8, n = blocks * 64;
    std::vector<float> values((size_t)n);
    for (int i = 0; i < n; i++) values[i] = 1.0f / (float)(i + 3);
    float *in = device_floats(n), *out = device_floats(n);
    CHECK(cudaMemcpy(in, values.data(), n * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    cudaDeviceSynchronize();
    int *winner = nullptr;
    CHECK(cudaMalloc(&winner, sizeof(int)) == cudaSuccess);
    /* the last writer differs with the order */
    CHECK(!same_under_orders([&] { DT_CUDA_LAUNCH(last_writer_kernel, 2, 32, 0, nullptr)(winner); },
                             reinterpret_cast<float *>(winner), 1));
    /* a missing barrier is caught, the barrier makes the sum order-independent */
    CHECK(!same_under_orders([&] { DT_CUDA_LAUNCH(block_sum_racy_kernel, blocks, 64, 0, nullptr)(in, out); }, out,
                             blocks));
    CHECK(same_under_orders([&] { DT_CUDA_LAUNCH(block_sum_kernel, blocks, 64, 0, nullptr)(in, out); }, out, blocks));
    CHECK(dtemu_get_stats().barriers > 0);
    /* float atomics: the sum's bits follow the order */
    CHECK(!same_under_orders(
        [&] {
            cudaMemset(out, 0, sizeof(float));
            DT_CUDA_LAUNCH(atomic_sum_kernel, blocks, 64, 0, nullptr)(in, out, n);
        },
        out, 1));
    cudaFree(winner);
    cudaFree(in);
    cudaFree(out);
}

/* ---- the reference cuBLAS ------------------------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C in double, column-major, as the cuBLAS documentation defines it. */
static void gemm_double(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                        const std::vector<float> &A, int lda, const std::vector<float> &B, int ldb, float beta,
                        std::vector<double> &C, int ldc) {
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++)
                acc += (double)(ta == CUBLAS_OP_N ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p]) *
                       (double)(tb == CUBLAS_OP_N ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j]);
            double &c = C[(size_t)j * ldc + i];
            c = alpha * acc + (beta == 0.0f ? 0.0 : beta * c);
        }
}

static void test_cublas_arguments(cublasHandle_t h, const float *dA, float *dC) {
    const float one = 1.0f, zero = 0.0f;
    const cublasOperation_t N = CUBLAS_OP_N, T = CUBLAS_OP_T;
    CHECK_EQ_INT(cublasSgemm(nullptr, N, N, 4, 4, 4, &one, dA, 4, dA, 4, &zero, dC, 4), CUBLAS_STATUS_NOT_INITIALIZED);
    /* every condition of the documented CUBLAS_STATUS_INVALID_VALUE list */
    CHECK_EQ_INT(cublasSgemm(h, N, N, -1, 4, 4, &one, dA, 4, dA, 4, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, -1, 4, &one, dA, 4, dA, 4, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, -1, &one, dA, 4, dA, 4, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, (cublasOperation_t)7, N, 4, 4, 4, &one, dA, 4, dA, 4, &zero, dC, 4),
                 CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, CUBLAS_OP_CONJG, 4, 4, 4, &one, dA, 4, dA, 4, &zero, dC, 4),
                 CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, 3, &one, dA, 3, dA, 3, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE); /* lda < m */
    CHECK_EQ_INT(cublasSgemm(h, T, N, 4, 4, 3, &one, dA, 2, dA, 3, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE); /* lda < k */
    CHECK_EQ_INT(cublasSgemm(h, T, N, 4, 4, 3, &one, dA, 3, dA, 3, &zero, dC, 4), CUBLAS_STATUS_SUCCESS);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, 3, &one, dA, 4, dA, 2, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE); /* ldb < k */
    CHECK_EQ_INT(cublasSgemm(h, N, T, 4, 5, 3, &one, dA, 4, dA, 4, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE); /* ldb < n */
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, 4, &one, dA, 4, dA, 4, &zero, dC, 3), CUBLAS_STATUS_INVALID_VALUE); /* ldc < m */
    CHECK_EQ_INT(cublasSgemm(h, N, N, 1, 1, 1, &one, dA, 0, dA, 1, &zero, dC, 1), CUBLAS_STATUS_INVALID_VALUE); /* max(1, m) */
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, 4, nullptr, dA, 4, dA, 4, &zero, dC, 4), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, 4, &one, dA, 4, dA, 4, nullptr, dC, 4), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 4, 4, 4, &one, dA, 4, dA, 4, &one, nullptr, 4), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSgemm(h, N, N, 0, 4, 4, &one, dA, 1, dA, 4, &zero, dC, 1), CUBLAS_STATUS_SUCCESS);
    /* handle and mode calls */
    CHECK_EQ_INT(cublasCreate(nullptr), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSetWorkspace(h, (char *)dC + 4, 1024), CUBLAS_STATUS_INVALID_VALUE); /* not 256-aligned */
    CHECK_EQ_INT(cublasSetWorkspace(h, dC, 1024), CUBLAS_STATUS_SUCCESS);
    CHECK_EQ_INT(cublasSetMathMode(h, (cublasMath_t)7), CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSetMathMode(h, (cublasMath_t)(CUBLAS_TENSOR_OP_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)),
                 CUBLAS_STATUS_INVALID_VALUE);
    CHECK_EQ_INT(cublasSetMathMode(h, (cublasMath_t)(CUBLAS_PEDANTIC_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)),
                 CUBLAS_STATUS_SUCCESS);
    CHECK_EQ_INT(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), CUBLAS_STATUS_SUCCESS);
    CHECK_EQ_INT(cublasSetAtomicsMode(nullptr, CUBLAS_ATOMICS_ALLOWED), CUBLAS_STATUS_NOT_INITIALIZED);
    int version = 0;
    CHECK(cublasGetVersion(nullptr, &version) == CUBLAS_STATUS_SUCCESS && version == CUBLAS_VERSION);
}

static void test_cublas(void) {
    cublasHandle_t h = nullptr;
    CHECK(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
    const int cap = 64 * 64;
    float *dA = device_floats(cap), *dB = device_floats(cap), *dC = device_floats(cap);
    std::vector<float> A((size_t)cap), B((size_t)cap), C((size_t)cap);
    uint32_t state = 99;
    auto next = [&] {
        state = state * 1664525u + 1013904223u;
        return (float)(state >> 8) * 0x1p-24f * 2.0f - 1.0f;
    };
    for (int i = 0; i < cap; i++) A[i] = next(), B[i] = next(), C[i] = next();
    CHECK(cudaMemcpy(dA, A.data(), cap * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    CHECK(cudaMemcpy(dB, B.data(), cap * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    test_cublas_arguments(h, dA, dC);
    /* every transpose, leading dimensions above the minimum, alpha and beta */
    const cublasOperation_t ops[] = {CUBLAS_OP_N, CUBLAS_OP_T};
    for (cublasOperation_t ta : ops)
        for (cublasOperation_t tb : ops)
            for (int trial = 0; trial < 3; trial++) {
                const int m = 3 + 7 * trial, n = 5 + 4 * trial, k = 1 + 9 * trial;
                const int lda = (ta == CUBLAS_OP_N ? m : k) + trial, ldb = (tb == CUBLAS_OP_N ? k : n) + 2 * trial,
                          ldc = m + trial;
                const float alpha = trial == 1 ? -0.5f : 1.0f, beta = trial == 2 ? 0.25f : 0.0f;
                CHECK(cudaMemcpy(dC, C.data(), cap * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
                CHECK_EQ_INT(cublasSgemm(h, ta, tb, m, n, k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc),
                             CUBLAS_STATUS_SUCCESS);
                std::vector<float> got = download(dC, cap);
                std::vector<double> want(C.begin(), C.end());
                gemm_double(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, want, ldc);
                double worst = 0.0;
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < m; i++)
                        worst = std::fmax(worst, std::fabs(got[(size_t)j * ldc + i] - want[(size_t)j * ldc + i]));
                CHECK(worst < 1e-5);
                CHECK(got[(size_t)(n - 1) * ldc + m] == C[(size_t)(n - 1) * ldc + m]); /* outside C: untouched */
            }
    /* beta = 0: C is not read, so NaN in it does not propagate */
    std::vector<float> nan_c((size_t)cap, NAN);
    CHECK(cudaMemcpy(dC, nan_c.data(), cap * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    const float one = 1.0f, zero = 0.0f;
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 8, &one, dA, 8, dB, 8, &zero, dC, 8) == CUBLAS_STATUS_SUCCESS);
    CHECK(!std::isnan(download(dC, 64)[0]));
    /* TF32 math: the inputs rounded to 10 mantissa bits, so other bits than FP32 */
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 64, &one, dA, 8, dB, 64, &zero, dC, 8) == CUBLAS_STATUS_SUCCESS);
    std::vector<float> fp32 = download(dC, 64);
    CHECK(cublasSetMathMode(h, CUBLAS_TF32_TENSOR_OP_MATH) == CUBLAS_STATUS_SUCCESS);
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 64, &one, dA, 8, dB, 64, &zero, dC, 8) == CUBLAS_STATUS_SUCCESS);
    std::vector<float> tf32 = download(dC, 64);
    CHECK(memcmp(fp32.data(), tf32.data(), 64 * sizeof(float)) != 0);
    CHECK(std::fabs(fp32[0] - tf32[0]) < 0.05f);
    /* the product takes part in the ordering check like a kernel */
    cudaStream_t s;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cublasSetStream(h, s) == CUBLAS_STATUS_SUCCESS);
    CHECK(cudaMemset(dA, 0, cap * sizeof(float)) == cudaSuccess);
    CHECK_EQ_INT(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 8, &one, dA, 8, dB, 8, &zero, dC, 8),
                 CUBLAS_STATUS_EXECUTION_FAILED);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 8, &one, dA, 8, dB, 8, &zero, dC, 8) == CUBLAS_STATUS_SUCCESS);
    CHECK(cublasDestroy(h) == CUBLAS_STATUS_SUCCESS);
    cudaStreamDestroy(s);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
}

int main(void) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count < 2) {
        printf("SKIP: needs DTEMU_DEVICES=2: %s\n", cudaGetErrorString(cudaGetLastError()));
        return TEST_SKIP;
    }
    test_stream_order();
    test_queues_and_events();
    test_graphs();
    test_launch_configuration();
    test_devices();
    test_races();
    test_cublas();
    dtemu_stats st = dtemu_get_stats();
    printf("emulator: %llu launches, %llu threads, %llu barriers, %llu fiber switches, %llu unordered accesses caught\n",
           (unsigned long long)st.launches, (unsigned long long)st.threads, (unsigned long long)st.barriers,
           (unsigned long long)st.fiber_switches, (unsigned long long)st.unordered);
    return TEST_EXIT();
}
