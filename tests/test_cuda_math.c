/* test_cuda_math.c — the shared headers give the same bits on the GPU as on the host
 * (dt_math.h functions over many inputs, Philox streams). Skips (77) without a GPU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_info.h"
#include "dt_math.h"
#include "philox.h"
#include "test_cuda.h"

int main(void) {
    int count = 0;
    const cudaError_t found = cudaGetDeviceCount(&count);
    if (found != cudaSuccess || count == 0) {
        printf("SKIP: no usable GPU: %s\n", found != cudaSuccess ? cudaGetErrorString(found) : "no CUDA device found");
        return TEST_SKIP;
    }
    char desc[512];
    if (dt_cuda_describe(0, desc, sizeof desc) == cudaSuccess) printf("GPU: %s\n", desc);
    /* Every 4099th float bit pattern: about a million inputs over the whole range. */
    const int64_t n = (int64_t)(((uint64_t)1 << 32) / 4099) + 1;
    float *in = malloc((size_t)n * sizeof(float)), *dev = malloc((size_t)n * sizeof(float));
    CHECK(in && dev);
    if (!in || !dev) return TEST_EXIT();
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)((uint64_t)i * 4099u);
        memcpy(&in[i], &bits, sizeof bits);
    }
    CHECK_EQ_INT(dt_cuda_math_eval(DT_CUDA_FN_COUNT, in, dev, 1), cudaErrorInvalidValue); /* no such function */
    for (int fn = 0; fn < DT_CUDA_FN_COUNT; fn++) {
        CHECK_CUDA(dt_cuda_math_eval(fn, in, dev, n));
        int64_t differ = 0;
        for (int64_t i = 0; i < n; i++) {
            float h = dt_math_by_code(fn, in[i]);
            if (memcmp(&h, &dev[i], sizeof h) != 0) {
                if (differ < 3) fprintf(stderr, "fn %d x=%a: host %a device %a\n", fn, in[i], h, dev[i]);
                differ++;
            }
        }
        CHECK_EQ_INT(differ, 0);
    }
    const int64_t n_ctr = 100000;
    uint32_t *ph = malloc((size_t)n_ctr * 4 * sizeof(uint32_t));
    CHECK(ph != NULL);
    if (ph) {
        CHECK_CUDA(dt_cuda_philox_eval(0x12345678u, 0x9abcdef0u, ph, n_ctr));
        dt_philox_key key = {{0x12345678u, 0x9abcdef0u}};
        int64_t differ = 0;
        for (int64_t i = 0; i < n_ctr; i++) {
            dt_philox_ctr ctr = {{(uint32_t)i, 0u, 0u, 0u}};
            dt_philox_ctr r = dt_philox4x32_10(ctr, key);
            for (int k = 0; k < 4; k++) differ += r.v[k] != ph[4 * i + k];
        }
        CHECK_EQ_INT(differ, 0);
        /* no counters: nothing to launch (CUDA refuses a grid of no blocks) */
        CHECK_CUDA(dt_cuda_philox_eval(1u, 2u, ph, 0));
        CHECK_EQ_INT(dt_cuda_philox_eval(1u, 2u, ph, -1), cudaErrorInvalidValue);
    }
    free(in);
    free(dev);
    free(ph);
    return TEST_EXIT();
}
