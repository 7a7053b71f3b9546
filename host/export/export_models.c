/* export_models.c — a checkpoint's model in every format, in a temporary folder (export.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "fsutil.h"

int dt_export_models(const char *checkpoint, dt_export_models_dir *out) {
    typedef dt_status (*serializer)(const dt_checkpoint *, const char *, unsigned char **, size_t *, dt_error *);
    static const char *const names[] = {"model.onnx", "model.safetensors"};
    static const serializer serializers[] = {dt_export_onnx, dt_export_safetensors};
    dt_error ignored;
    memset(out, 0, sizeof *out);
    dt_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    if (dt_checkpoint_read(checkpoint, &ck, &ignored) == DT_OK &&
        dt_make_temp_dir("detrain-model-", out->dir, sizeof out->dir, &ignored) == DT_OK) {
        for (int i = 0; i < 2; i++) {
            unsigned char *data = NULL;
            size_t size = 0;
            char path[DT_PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/%s", out->dir, names[i]);
            if (serializers[i](&ck, checkpoint, &data, &size, &ignored) == DT_OK &&
                dt_write_file_atomic(path, data, size, &ignored) == DT_OK)
                out->n++;
            free(data);
        }
    }
    dt_checkpoint_free(&ck);
    return out->n;
}

void dt_export_models_remove(dt_export_models_dir *d) {
    if (d->dir[0]) dt_remove_run_dir(d->dir);
    memset(d, 0, sizeof *d);
}
