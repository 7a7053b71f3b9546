/* test_race.cpp — the emulator's order check catches a missing barrier in the real GEMM
 * kernel. Built three times (tests/CMakeLists.txt): from kernels/cuda/gemm.cu itself, and from
 * two copies with its first or its second __syncthreads() removed. Each runs the portable
 * product, in each of its tile shapes, on shapes of several partial tiles under forward,
 * reverse and two shuffled block and fiber orders, and compares with the scalar reference bit
 * for bit. The kernel as written must give the reference under every order; each mutant
 * must differ under some order in each tile shape (DTEMU_EXPECT_RACE), else the harness
 * could not see a race there. */
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" {
#include "cpu/matmul.h" /* the scalar reference: C, and included here before the kernel's C++ view of it */
}
#include DTEMU_GEMM_SOURCE

#include "../test_cuda.h"
#include "dtemu.h"

/* 1 when the portable kernel with `tiles` under `order` gives the reference's bits for this shape. */
static int same_as_reference(const char *order, dt_cuda_tiles tiles, int64_t M, int64_t N, int64_t P) {
    std::vector<float> A((size_t)(M * P)), B((size_t)(P * N)), C((size_t)(M * N)), got((size_t)(M * N));
    for (size_t i = 0; i < A.size(); i++) A[i] = (float)((i * 7919) % 1013) / 1013.0f - 0.5f;
    for (size_t i = 0; i < B.size(); i++) B[i] = (float)((i * 104729) % 997) / 997.0f - 0.5f;
    dt_gemm_args g = {};
    g.M = M, g.N = N, g.P = P, g.A = A.data(), g.B = B.data(), g.C = C.data(), g.ldc = N;
    g.a_row = P, g.a_col = 1, g.b_row = N, g.b_col = 1;
    dt_gemm_reference(&g);
    float *dA = nullptr, *dB = nullptr, *dC = nullptr;
    CHECK(cudaMalloc(&dA, A.size() * sizeof(float)) == cudaSuccess);
    CHECK(cudaMalloc(&dB, B.size() * sizeof(float)) == cudaSuccess);
    CHECK(cudaMalloc(&dC, C.size() * sizeof(float)) == cudaSuccess);
    CHECK(cudaMemcpy(dA, A.data(), A.size() * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    CHECK(cudaMemcpy(dB, B.data(), B.size() * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    dt_gemm_args d = g;
    d.A = dA, d.B = dB, d.C = dC;
    CHECK(dtemu_set_order(order) == 0);
    CHECK_CUDA(dt_cuda_gemm_portable_tiles(nullptr, &d, tiles));
    CHECK(cudaMemcpy(got.data(), dC, got.size() * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
    cudaFree(dA);
    cudaFree(dB);
    cudaFree(dC);
    return memcmp(got.data(), C.data(), C.size() * sizeof(float)) == 0;
}

int main(void) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
        printf("SKIP: needs DTEMU_DEVICES >= 1\n");
        return TEST_SKIP;
    }
    const char *orders[] = {"forward", "reverse", "shuffle:3", "shuffle:4"};
    /* partial tiles (the edge loader), and tiles all inside C (the 128-bit loader) */
    const int64_t shapes[][3] = {{70, 130, 37}, {129, 5, 300}, {1, 257, 17}, {128, 128, 24}};
    const struct {
        dt_cuda_tiles tiles;
        const char *name;
    } shapes_of_tiles[] = {{DT_CUDA_TILES_LARGE, "large"}, {DT_CUDA_TILES_SMALL, "small"}};
    int differing = 0, runs = 0;
    for (const auto &t : shapes_of_tiles) {
        int differing_here = 0;
        for (const auto &shape : shapes)
            for (const char *order : orders) {
                const int same = same_as_reference(order, t.tiles, shape[0], shape[1], shape[2]);
                printf("%-5s tiles %-10s M=%-4lld N=%-4lld P=%-4lld %s\n", t.name, order, (long long)shape[0],
                       (long long)shape[1], (long long)shape[2], same ? "= reference" : "DIFFERS from the reference");
                differing_here += !same;
                runs++;
            }
        if (DTEMU_EXPECT_RACE) CHECK(differing_here > 0);
        differing += differing_here;
    }
    printf("%s: %d of %d runs differ from the reference\n", DTEMU_GEMM_SOURCE, differing, runs);
    if (!DTEMU_EXPECT_RACE) CHECK_EQ_INT(differing, 0);
    return TEST_EXIT();
}
