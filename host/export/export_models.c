/* export_models.c — a checkpoint's model in every format, in a temporary folder, made an MLflow
 * model (export.h). */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "core/fsutil.h"
#include "records/runrec.h"

/* The MLflow model files beside the ONNX file in out->dir (counted in out->n); the time is the
 * end of the run whose folder holds the checkpoint, when its manifest says. */
static void add_mlflow_model(const dt_checkpoint *ck, const char *checkpoint, long long model_bytes,
                             dt_export_models_dir *out) {
    char folder[DT_PATH_MAX];
    snprintf(folder, sizeof folder, "%s", checkpoint);
    cJSON *manifest = NULL;
    dt_error ignored;
    if (dt_run_manifest_load(dirname(folder), &manifest, &ignored) != DT_OK) manifest = NULL;
    if (dt_export_mlflow_model(ck, out->dir, dt_run_record_string(manifest, "finished_at"), model_bytes, &ignored) ==
        DT_OK)
        out->n += 4; /* MLmodel, conda.yaml, python_env.yaml, requirements.txt */
    cJSON_Delete(manifest);
}

int dt_export_models(const char *checkpoint, dt_export_models_dir *out) {
    typedef dt_status (*serializer)(const dt_checkpoint *, const char *, const char *, unsigned char **, size_t *,
                                    dt_error *);
    static const char *const names[] = {"model.onnx", "model.safetensors"};
    static const serializer serializers[] = {dt_export_onnx, dt_export_safetensors};
    dt_error ignored;
    memset(out, 0, sizeof *out);
    dt_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    if (dt_checkpoint_read(checkpoint, &ck, &ignored) == DT_OK &&
        dt_make_temp_dir("detrain-model-", out->dir, sizeof out->dir, &ignored) == DT_OK) {
        int have_onnx = 0;
        long long model_bytes = 0;
        for (int i = 0; i < 2; i++) {
            unsigned char *data = NULL;
            size_t size = 0;
            char path[DT_PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/%s", out->dir, names[i]);
            if (serializers[i](&ck, checkpoint, NULL, &data, &size, &ignored) == DT_OK &&
                dt_write_file_atomic(path, data, size, &ignored) == DT_OK) {
                out->n++;
                have_onnx |= i == 0;
                model_bytes += (long long)size;
            }
            free(data);
        }
        if (have_onnx) add_mlflow_model(&ck, checkpoint, model_bytes, out);
    }
    dt_checkpoint_free(&ck);
    return out->n;
}

void dt_export_models_remove(dt_export_models_dir *d) {
    if (d->dir[0]) dt_remove_run_dir(d->dir);
    memset(d, 0, sizeof *d);
}
