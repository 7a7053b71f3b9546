/* bench_shape.c — bench shape files (bench/configs/<name>.json) and the training config of
 * a benchmark row.
 *
 * A shape file holds: "name", "about", "model" (the config schema's model object),
 * optionally "optimizer" and "loss" (the schema's objects), and "batches": an array of batch
 * sizes, or an object {"cpu": [...], "cuda": [...]} per device. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_parts.h"
#include "data/data.h"

static const char *const known_keys[] = {"name", "about", "model", "optimizer", "loss", "batches"};

/* Reads the batch list of `device` from "batches". */
static dt_status read_batches(dt_bench_shape *shape, const cJSON *batches, dt_device_kind device, dt_error *err) {
    const char *device_name = device == DT_DEVICE_CUDA ? "cuda" : "cpu";
    const cJSON *list = batches;
    if (cJSON_IsObject(batches)) list = cJSON_GetObjectItemCaseSensitive(batches, device_name);
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > DT_BENCH_MAX_BATCHES)
        return dt_fail(err, DT_CONFIG, "%s: batches%s%s: must be an array of 1 to %d batch sizes", shape->path,
                       cJSON_IsObject(batches) ? "." : "", cJSON_IsObject(batches) ? device_name : "",
                       DT_BENCH_MAX_BATCHES);
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const double v = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
        if (v < 1 || v > 1048576 || v != (double)(int64_t)v)
            return dt_fail(err, DT_CONFIG, "%s: batches: each must be an integer from 1 to 1048576", shape->path);
        shape->batches[shape->n_batches++] = (int64_t)v;
    }
    return DT_OK;
}

dt_status dt_bench_shape_load(dt_bench_shape *shape, const char *name, const char *bench_dir, dt_device_kind device,
                              dt_error *err) {
    dt_status status = DT_OK;
    memset(shape, 0, sizeof *shape);
    const size_t len = strlen(name);
    if (len > 5 && !strcmp(name + len - 5, ".json")) snprintf(shape->path, sizeof shape->path, "%s", name);
    else snprintf(shape->path, sizeof shape->path, "%s/configs/%s.json", bench_dir, name);
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    dt_file_record rec;
    DT_TRY(dt_read_file(shape->path, &bytes, &n_bytes, &rec, err));
    const char *end = NULL;
    shape->root = cJSON_ParseWithLengthOpts((const char *)bytes, n_bytes + 1, &end, 1); /* + its NUL */
    if (!shape->root || !cJSON_IsObject(shape->root)) {
        status = dt_fail(err, DT_CONFIG, "%s: not a JSON object (syntax error near byte %ld)", shape->path,
                         end ? (long)(end - (const char *)bytes) : 0L);
        goto cleanup;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, shape->root) {
        int known = 0;
        for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++) known |= !strcmp(item->string, known_keys[k]);
        if (!known) {
            status = dt_fail(err, DT_CONFIG, "%s: %s: unknown key (known keys: name, about, model, optimizer, loss, batches)",
                             shape->path, item->string);
            goto cleanup;
        }
    }
    const cJSON *name_item = cJSON_GetObjectItemCaseSensitive(shape->root, "name");
    const cJSON *about = cJSON_GetObjectItemCaseSensitive(shape->root, "about");
    if (!cJSON_IsString(name_item) || !name_item->valuestring[0] || strlen(name_item->valuestring) >= sizeof shape->name) {
        status = dt_fail(err, DT_CONFIG, "%s: name: required, a string of 1 to %zu characters", shape->path,
                         sizeof shape->name - 1);
        goto cleanup;
    }
    snprintf(shape->name, sizeof shape->name, "%s", name_item->valuestring);
    snprintf(shape->about, sizeof shape->about, "%s", cJSON_IsString(about) ? about->valuestring : "");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(shape->root, "model"))) {
        status = dt_fail(err, DT_CONFIG, "%s: model: required, an object like a config's model", shape->path);
        goto cleanup;
    }
    DT_TRY(read_batches(shape, cJSON_GetObjectItemCaseSensitive(shape->root, "batches"), device, err));
cleanup:
    free(bytes);
    if (status != DT_OK) dt_bench_shape_free(shape);
    return status;
}

void dt_bench_shape_free(dt_bench_shape *shape) {
    cJSON_Delete(shape->root);
    shape->root = NULL;
}

dt_status dt_bench_shape_config(const dt_bench_shape *shape, const dt_bench_opts *opts, int64_t batch, dt_mode mode,
                                dt_config *cfg, dt_error *err) {
    cJSON *root = cJSON_CreateObject(), *data = NULL, *train = NULL, *runtime = NULL;
    char *text = NULL;
    dt_status status = DT_OK;
    if (!root) return dt_fail(err, DT_NOMEM, "out of memory");
    cJSON_AddNumberToObject(root, "seed", (double)opts->seed);
    data = cJSON_AddObjectToObject(root, "data");
    for (int d = 0; d < 2 && data; d++) {
        /* never read: the backend gets synthetic data (synthetic.h) */
        cJSON *source = cJSON_AddObjectToObject(data, d ? "test" : "train");
        if (source) {
            cJSON_AddStringToObject(source, "format", "csv");
            cJSON_AddStringToObject(source, "path", "(synthetic)");
        }
    }
    static const char *const copied[] = {"model", "optimizer", "loss"};
    for (int k = 0; k < 3; k++) {
        const cJSON *object = cJSON_GetObjectItemCaseSensitive(shape->root, copied[k]);
        if (object) cJSON_AddItemToObject(root, copied[k], cJSON_Duplicate(object, 1));
    }
    train = cJSON_AddObjectToObject(root, "train");
    if (train) {
        cJSON_AddNumberToObject(train, "epochs", 1);
        cJSON_AddNumberToObject(train, "batch_size", (double)batch);
        cJSON_AddNumberToObject(train, "eval_batch_size", (double)batch);
        cJSON_AddBoolToObject(train, "shuffle", 0);
    }
    runtime = cJSON_AddObjectToObject(root, "runtime");
    if (runtime) {
        cJSON_AddStringToObject(runtime, "device", dt_device_name(opts->device));
        cJSON_AddStringToObject(runtime, "mode", dt_mode_name(mode));
        cJSON_AddNumberToObject(runtime, "threads", opts->threads);
    }
    text = cJSON_PrintUnformatted(root);
    if (!data || !train || !runtime || !text) {
        status = dt_fail(err, DT_NOMEM, "out of memory");
        goto cleanup;
    }
    DT_TRY(dt_config_parse(cfg, text, shape->path, ".", 0, NULL, err));
    if (cfg->loss.kind != DT_LOSS_SOFTMAX_CE)
        status = dt_fail(err, DT_CONFIG, "%s: loss.kind: the benchmark's synthetic data has class labels: "
                                         "softmax_cross_entropy only", shape->path);
cleanup:
    free(text);
    cJSON_Delete(root);
    return status;
}
