/* cublas.cpp — the reference cuBLAS of the CPU emulator (include/cublas_v2.h).
 *
 * Argument checks follow the cuBLAS 13 documentation word for word (quoted at each check);
 * where it is silent (m, n or k equal to 0) the reference does what BLAS does. The product is
 * queued on the handle's stream through the emulator, so its reads and writes take part in
 * the ordering check like any kernel's. */
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <string>

#include "cublas_v2.h"
#include "emu.h"

struct cublasContext {
    int device;
    cudaStream_t stream;
    cublasMath_t math;
    cublasAtomicsMode_t atomics;
    void *workspace;          /* NULL: the default pool */
    size_t workspace_bytes;
};

namespace {

/* x rounded to TF32 (10 explicit mantissa bits, round to nearest even), as tensor cores read
 * their FP32 inputs; infinities and NaNs pass unchanged. */
float to_tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) != 0x7f800000u) {
        u += 0xfffu + ((u >> 13) & 1u);
        u &= 0xffffe000u;
    }
    memcpy(&x, &u, sizeof x);
    return x;
}

int at_least_one(int v) { return v > 1 ? v : 1; }

bool valid_op(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

} // namespace

extern "C" cublasStatus_t cublasCreate(cublasHandle_t *handle) {
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE; /* "handle is NULL" */
    int device = 0, count = 0;
    if (dtemu::inject_failure("cublasCreate") || cudaGetDeviceCount(&count) != cudaSuccess || count == 0 ||
        cudaGetDevice(&device) != cudaSuccess)
        return CUBLAS_STATUS_NOT_INITIALIZED; /* "The CUDA Runtime initialization failed" */
    *handle = new cublasContext{device, nullptr, CUBLAS_DEFAULT_MATH, CUBLAS_ATOMICS_NOT_ALLOWED, nullptr, 0};
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasDestroy(cublasHandle_t handle) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    dtemu::synchronize_device(handle->device); /* "will implicitly call cudaDeviceSynchronize()" */
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetVersion(cublasHandle_t handle, int *version) {
    if (!version) return CUBLAS_STATUS_INVALID_VALUE; /* "can be safely called with handle set to NULL" */
    *version = CUBLAS_VERSION;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetProperty(libraryPropertyType type, int *value) {
    if (!value) return CUBLAS_STATUS_INVALID_VALUE;
    switch (type) {
    case MAJOR_VERSION: *value = CUBLAS_VER_MAJOR; return CUBLAS_STATUS_SUCCESS;
    case MINOR_VERSION: *value = CUBLAS_VER_MINOR; return CUBLAS_STATUS_SUCCESS;
    case PATCH_LEVEL: *value = CUBLAS_VER_PATCH; return CUBLAS_STATUS_SUCCESS;
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

extern "C" cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    /* "this function unconditionally resets the cuBLAS library workspace back to the default
     * workspace pool" */
    handle->workspace = nullptr;
    handle->workspace_bytes = 0;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t *stream) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
    *stream = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void *workspace, size_t workspace_bytes) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    /* "The workspace pointer has to be aligned to at least 256 bytes, otherwise
     * CUBLAS_STATUS_INVALID_VALUE error is returned." */
    if ((uintptr_t)workspace % 256 != 0) return CUBLAS_STATUS_INVALID_VALUE;
    handle->workspace = workspace;
    handle->workspace_bytes = workspace_bytes;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    const int base = (int)mode & ~(int)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    const bool flagged = ((int)mode & CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION) != 0;
    /* "a logical combination of them (except the deprecated CUBLAS_TENSOR_OP_MATH)" */
    const bool known = base == CUBLAS_DEFAULT_MATH || base == CUBLAS_PEDANTIC_MATH || base == CUBLAS_TF32_TENSOR_OP_MATH ||
                       base == CUBLAS_FP32_EMULATED_BF16X9_MATH || (base == CUBLAS_TENSOR_OP_MATH && !flagged);
    if (!known) return CUBLAS_STATUS_INVALID_VALUE; /* "An invalid value for mode was specified." */
    handle->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t *mode) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = handle->math;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSetAtomicsMode(cublasHandle_t handle, cublasAtomicsMode_t mode) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED; /* the only documented failure */
    handle->atomics = mode;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasGetAtomicsMode(cublasHandle_t handle, cublasAtomicsMode_t *mode) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!mode) return CUBLAS_STATUS_INVALID_VALUE; /* "The argument mode is a NULL pointer" */
    *mode = handle->atomics;
    return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                      int m, int n, int k, const float *alpha, const float *A, int lda,
                                      const float *B, int ldb, const float *beta, float *C, int ldc) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED; /* "The library was not initialized" */
    /* CUBLAS_STATUS_INVALID_VALUE, as documented: "If m < 0 or n < 0 or k < 0, or if transa and
     * transb are not one of CUBLAS_OP_N, CUBLAS_OP_C, CUBLAS_OP_T, or if lda < max(1, m) when
     * transa == CUBLAS_OP_N and lda < max(1, k) otherwise, or if ldb < max(1, k) when transb ==
     * CUBLAS_OP_N and ldb < max(1, n) otherwise, or if ldc < max(1, m), or if alpha or beta are
     * NULL, or if C is NULL when beta is not zero" */
    if (m < 0 || n < 0 || k < 0 || !valid_op(transa) || !valid_op(transb) ||
        lda < at_least_one(transa == CUBLAS_OP_N ? m : k) || ldb < at_least_one(transb == CUBLAS_OP_N ? k : n) ||
        ldc < at_least_one(m) || !alpha || !beta || (!C && *beta != 0.0f))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (dtemu::inject_failure("cublasSgemm")) return CUBLAS_STATUS_EXECUTION_FAILED;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS; /* nothing to compute (BLAS) */
    /* The elements each operand spans, column-major: A is lda x (k or m), B ldb x (n or k). */
    const int64_t a_cols = transa == CUBLAS_OP_N ? k : m, b_cols = transb == CUBLAS_OP_N ? n : k;
    const int64_t a_rows = transa == CUBLAS_OP_N ? m : k, b_rows = transb == CUBLAS_OP_N ? k : n;
    std::vector<dtemu::mem_access> accesses;
    if (k > 0) {
        accesses.push_back({A, (size_t)((a_cols - 1) * lda + a_rows) * sizeof(float), dtemu::ACCESS_READ, false});
        accesses.push_back({B, (size_t)((b_cols - 1) * ldb + b_rows) * sizeof(float), dtemu::ACCESS_READ, false});
    }
    const float a_scale = *alpha, c_scale = *beta;
    accesses.push_back({C, (size_t)((int64_t)(n - 1) * ldc + m) * sizeof(float),
                        c_scale != 0.0f ? dtemu::ACCESS_READ | dtemu::ACCESS_WRITE : dtemu::ACCESS_WRITE, false});
    const bool tf32 = ((int)handle->math & ~(int)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION) ==
                      CUBLAS_TF32_TENSOR_OP_MATH;
    auto run = [=]() {
        dtemu::stats().gemms++; /* counted when it runs: a graph's run at every launch */
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < m; i++) {
                float acc = 0.0f; /* one ascending fmaf chain from +0, as docs/numerics.md */
                for (int64_t p = 0; p < k; p++) {
                    float a = transa == CUBLAS_OP_N ? A[p * lda + i] : A[i * lda + p];
                    float b = transb == CUBLAS_OP_N ? B[j * ldb + p] : B[p * ldb + j];
                    if (tf32) a = to_tf32(a), b = to_tf32(b);
                    acc = fmaf(a, b, acc);
                }
                float *c = &C[j * ldc + i];
                /* "If beta == 0, C does not have to be a valid input": it is not read. */
                *c = c_scale == 0.0f ? a_scale * acc : fmaf(c_scale, *c, a_scale * acc);
            }
    };
    const cudaError_t status = dtemu::enqueue(handle->stream, "cublasSgemm", accesses, run, false);
    if (status != cudaSuccess) {
        fprintf(stderr, "dtemu: cublasSgemm: %s\n", cudaGetErrorString(status));
        return CUBLAS_STATUS_EXECUTION_FAILED; /* "The function failed to launch on the GPU" */
    }
    return CUBLAS_STATUS_SUCCESS;
}
