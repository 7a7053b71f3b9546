/* launch.h — the one way a kernel is launched: DT_CUDA_LAUNCH(kernel, grid, block, shared,
 * stream)(arguments). Under nvcc it is CUDA's kernel<<<grid, block, shared, stream>>>; when
 * the host compiler builds the same sources against the CPU emulator of tests/cudaemu (a
 * test instrument: -DDETRAIN_CUDA=EMULATE), it is the emulator's launcher, since a C++
 * compiler cannot parse <<<>>>. Nothing else in a .cu file differs between the two builds. */
#ifndef DT_CUDA_LAUNCH_H
#define DT_CUDA_LAUNCH_H

#include <cuda_runtime.h>

#include "counts.h"

/* Each launch is counted (counts.h) by the header of a one-pass for loop, which keeps the
 * macro one statement that takes the arguments after it, also after an unbraced if/else. */
#define DT_CUDA_COUNTED_ for (int dt_launch_once_ = dt_cuda_counted(DT_CUDA_KERNELS); dt_launch_once_; dt_launch_once_ = 0)
#if defined(__CUDACC__)
#define DT_CUDA_LAUNCH(kernel, grid, block, shared, stream) DT_CUDA_COUNTED_ kernel<<<grid, block, shared, stream>>>
#elif defined(DTEMU_LAUNCH)
#define DT_CUDA_LAUNCH(kernel, grid, block, shared, stream)                                                          \
    DT_CUDA_COUNTED_ DTEMU_LAUNCH(kernel, grid, block, shared, stream)
#else
#error "CUDA sources are built by nvcc, or by the host compiler against tests/cudaemu (DETRAIN_CUDA=EMULATE)"
#endif

#endif
