/* backend.c — the one registration point: which backends this build has. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef DT_HAVE_CUDA
#include "cuda/cuda_info.h"
#endif

dt_status dt_backend_select(dt_device_kind device, int gpu_index, const dt_backend_ops **ops, char *note,
                            size_t note_size, dt_error *err) {
    char why[512] = "this build has no CUDA backend (nvcc was not found when it was built)";
#ifdef DT_HAVE_CUDA
    const int check = device == DT_DEVICE_CPU              ? DT_CUDA_NO_DEVICE
                      : dt_cuda_device_count(why, sizeof why) > 0 ? dt_cuda_device_check(gpu_index, why, sizeof why)
                                                                 : DT_CUDA_NO_DEVICE;
    const int n_gpus = device == DT_DEVICE_CPU ? 0 : dt_cuda_device_count(why, sizeof why);
    const dt_backend_ops *gpu = &dt_cuda_backend;
#else
    const int check = 1, n_gpus = 0;
    const dt_backend_ops *gpu = NULL;
#endif
    snprintf(note, note_size, "%s", "");
    if (device == DT_DEVICE_CUDA) {
        if (check != 0) return dt_fail(err, DT_DEVICE, "--device cuda: no usable GPU: %s", why);
        *ops = gpu;
        return DT_OK;
    }
    if (device == DT_DEVICE_AUTO) {
        if (check == 0) {
            snprintf(note, note_size, "device auto: using GPU %d", gpu_index);
            *ops = gpu;
            return DT_OK;
        }
        /* GPUs, but none for this process: more ranks on this machine than GPUs. Training the
         * others' share on the CPU would hide the mistake; say it instead. */
        if (n_gpus > 0 && gpu_index >= n_gpus)
            return dt_fail(err, DT_DEVICE,
                           "--device auto: %s; run at most %d ranks per machine, choose one with runtime.gpu, or use "
                           "--device cpu",
                           why, n_gpus);
        snprintf(note, note_size, "device auto: using the CPU (%s)", why);
    }
    *ops = &dt_cpu_backend;
    return DT_OK;
}

dt_status dt_host_state_alloc(dt_host_state *state, const dt_net *net, dt_error *err) {
    size_t n = (size_t)net->n_params;
    state->params = calloc(n, sizeof(float));
    state->opt_m = calloc(n, sizeof(float));
    state->opt_v = calloc(n, sizeof(float));
    if (!state->params || !state->opt_m || !state->opt_v) {
        dt_host_state_free(state);
        return dt_fail(err, DT_NOMEM, "out of memory for %zu parameters", n);
    }
    return DT_OK;
}

void dt_host_state_free(dt_host_state *state) {
    free(state->params);
    free(state->opt_m);
    free(state->opt_v);
    state->params = state->opt_m = state->opt_v = NULL;
}
