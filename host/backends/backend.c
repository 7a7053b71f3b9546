/* backend.c — the one registration point (which backends this build has), and what the host
 * drives the same way on every backend: the microbatch tree's order of additions. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DT_HAVE_CUDA
#include "cuda/cuda_info.h"

/* Whether GPU `gpu_index` can run this build: DT_OK, else DT_DEVICE saying why (no device, no
 * such device, no kernel image for it, or the CUDA error). *n_gpus: the machine's GPUs. */
static dt_status gpu_check(int gpu_index, int *n_gpus, dt_error *err) {
    dt_cuda_device found;
    const cudaError_t checked = dt_cuda_device_check(gpu_index, &found);
    *n_gpus = found.count;
    if (checked == cudaSuccess) return DT_OK;
    if (checked == cudaErrorInvalidDevice && found.count == 0) return dt_fail(err, DT_DEVICE, "no CUDA device found");
    if (checked == cudaErrorInvalidDevice)
        return dt_fail(err, DT_DEVICE, "GPU %d does not exist: this machine has %d", gpu_index, found.count);
    if (checked == cudaErrorNoKernelImageForDevice)
        return dt_fail(err, DT_DEVICE,
                       "GPU %d (%s, compute capability %d.%d) has no kernel image in this build (CUDA architectures "
                       "%s); rebuild with -DCMAKE_CUDA_ARCHITECTURES=%d%d",
                       gpu_index, found.name, found.cc_major, found.cc_minor, found.archs, found.cc_major,
                       found.cc_minor);
    return dt_fail(err, DT_DEVICE, "dt_cuda_device_check(%d) failed: %s (%s)", gpu_index, cudaGetErrorString(checked),
                   cudaGetErrorName(checked));
}
#endif

int dt_backend_default_gpu(int local_rank) {
    const char *visible = getenv("CUDA_VISIBLE_DEVICES");
    return visible && visible[0] && !strchr(visible, ',') ? 0 : local_rank;
}

dt_status dt_backend_select(dt_device_kind device, int gpu_index, const dt_backend_ops **ops, char *note,
                            size_t note_size, dt_error *err) {
    dt_error reason = {"this build has no CUDA backend (nvcc was not found when it was built)"};
    int n_gpus = 0;
#ifdef DT_HAVE_CUDA
    const dt_status check = device == DT_DEVICE_CPU ? DT_DEVICE : gpu_check(gpu_index, &n_gpus, &reason);
    const dt_backend_ops *gpu = &dt_cuda_backend;
#else
    const dt_status check = DT_DEVICE;
    const dt_backend_ops *gpu = NULL;
#endif
    snprintf(note, note_size, "%s", "");
    if (device == DT_DEVICE_CUDA) {
        if (check != DT_OK) return dt_fail(err, DT_DEVICE, "--device cuda: no usable GPU: %s", reason.message);
        *ops = gpu;
        return DT_OK;
    }
    if (device == DT_DEVICE_AUTO) {
        if (check == DT_OK) {
            snprintf(note, note_size, "device auto: using GPU %d", gpu_index);
            *ops = gpu;
            return DT_OK;
        }
        /* GPUs, but none for this process: more ranks on this machine than GPUs. Training the
         * others' share on the CPU would hide the mistake; say it instead. */
        if (n_gpus > 0 && gpu_index >= n_gpus)
            return dt_fail(err, DT_DEVICE,
                           "--device auto: %s; run at most %d ranks per machine, bind one GPU to each rank "
                           "(CUDA_VISIBLE_DEVICES), choose one with runtime.gpu, or use --device cpu",
                           reason.message, n_gpus);
        snprintf(note, note_size, "device auto: using the CPU (%s)", reason.message);
    }
    *ops = &dt_cpu_backend;
    return DT_OK;
}

dt_status dt_backend_grads_push(const dt_backend_ops *ops, dt_backend *be, dt_grad_tree *tree, dt_error *err) {
    dt_status status = DT_OK;
    int slot, dst, src;
    DT_TRY(dt_grad_tree_push(tree, &slot, err));
    DT_TRY(ops->grads_save(be, slot, err));
    while (dt_grad_tree_merge(tree, &dst, &src)) DT_TRY(ops->grads_add(be, dst, src, err));
cleanup:
    return status;
}

dt_status dt_backend_grads_pop(const dt_backend_ops *ops, dt_backend *be, dt_grad_tree *tree, dt_error *err) {
    const dt_status status = dt_grad_tree_pop(tree, err);
    return status == DT_OK ? ops->grads_load(be, 0, err) : status;
}
