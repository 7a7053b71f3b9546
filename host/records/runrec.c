/* runrec.c — a run folder's manifest and trace, read back and checked. */
#include "runrec.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/fsutil.h"
#include "manifest.h"

const cJSON *dt_run_record_item(const cJSON *manifest, const char *key) {
    char part[128];
    const cJSON *node = manifest;
    while (node && *key) {
        size_t len = strcspn(key, ".");
        snprintf(part, sizeof part, "%.*s", (int)len, key);
        node = cJSON_GetObjectItemCaseSensitive(node, part);
        key += len + (key[len] == '.');
    }
    return node;
}

const char *dt_run_record_string(const cJSON *manifest, const char *key) {
    const cJSON *node = dt_run_record_item(manifest, key);
    return cJSON_IsString(node) ? node->valuestring : "";
}

void dt_run_bits_text(uint32_t bits, char *out, size_t size) {
    float value;
    memcpy(&value, &bits, sizeof value);
    snprintf(out, size, "%.9g (bits %08x)", (double)value, bits);
}

/* Parses a "…_bits" item (8 hex digits) into bits; -1 when malformed. */
static int parse_bits(const cJSON *item, uint32_t *bits) {
    return cJSON_IsString(item) ? dt_float_bits_parse(item->valuestring, bits) : -1;
}

/* Reads dir/trace.jsonl into rec (absent: no steps). DT_CHECKPOINT naming a malformed line. */
static dt_status load_trace(dt_run_record *rec, dt_error *err) {
    char path[DT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/trace.jsonl", rec->dir);
    if (!dt_file_exists(path)) return DT_OK;
    char *text = NULL;
    size_t size = 0;
    dt_status status = dt_read_text(path, &text, &size, err);
    if (status != DT_OK) return status;
    int64_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
    rec->loss_bits = malloc(((size_t)lines + 1) * sizeof(uint32_t));
    rec->lr_bits = malloc(((size_t)lines + 1) * sizeof(uint32_t));
    if (!rec->loss_bits || !rec->lr_bits) {
        free(text);
        return dt_fail(err, DT_NOMEM, "%s: out of memory", path);
    }
    char *line = text;
    while (*line && status == DT_OK) {
        char *newline = strchr(line, '\n');
        size_t len = newline ? (size_t)(newline - line) : strlen(line);
        cJSON *obj = cJSON_ParseWithLengthOpts(line, len, NULL, 0);
        const int64_t step = rec->n_steps + 1;
        const cJSON *loss = cJSON_GetObjectItemCaseSensitive(obj, "loss");
        uint32_t loss_bits = 0, lr_bits = 0;
        if (!cJSON_IsObject(obj) || cJSON_GetObjectItemCaseSensitive(obj, "step") == NULL ||
            cJSON_GetObjectItemCaseSensitive(obj, "step")->valuedouble != (double)step ||
            parse_bits(cJSON_GetObjectItemCaseSensitive(obj, "loss_bits"), &loss_bits) ||
            parse_bits(cJSON_GetObjectItemCaseSensitive(obj, "lr_bits"), &lr_bits)) {
            status = dt_fail(err, DT_CHECKPOINT, "%s:%lld: not a trace line for step %lld (step, loss_bits, lr_bits)",
                             path, (long long)step, (long long)step);
        } else {
            float from_bits;
            memcpy(&from_bits, &loss_bits, sizeof from_bits);
            /* The decimal is for people; a record whose decimal is not its bits was edited. */
            const int consistent = cJSON_IsNumber(loss) ? (float)loss->valuedouble == from_bits
                                                        : cJSON_IsNull(loss) && !isfinite(from_bits);
            if (!consistent && !rec->inconsistent_step) rec->inconsistent_step = step;
            rec->loss_bits[rec->n_steps] = loss_bits;
            rec->lr_bits[rec->n_steps] = lr_bits;
            rec->n_steps++;
        }
        cJSON_Delete(obj);
        if (!newline) break;
        line = newline + 1;
    }
    free(text);
    return status;
}

dt_status dt_run_manifest_load(const char *dir, cJSON **manifest, dt_error *err) {
    char path[DT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    *manifest = NULL;
    if (!dt_file_exists(path)) return dt_fail(err, DT_IO, "%s: not a run folder (no manifest.json)", dir);
    char *text = NULL;
    size_t size = 0;
    dt_status status = dt_read_text(path, &text, &size, err);
    if (status != DT_OK) return status;
    *manifest = cJSON_ParseWithLengthOpts(text, size + 1, NULL, 1);
    free(text);
    if (cJSON_IsObject(*manifest) && !strcmp(dt_run_record_string(*manifest, "format"), "detrain-manifest/1"))
        return DT_OK;
    cJSON_Delete(*manifest);
    *manifest = NULL;
    return dt_fail(err, DT_CHECKPOINT, "%s: not a detrain manifest (unreadable JSON or no \"format\": \"detrain-manifest/1\")",
                   path);
}

dt_status dt_run_record_load(const char *dir, dt_run_record *rec, dt_error *err) {
    memset(rec, 0, sizeof *rec);
    snprintf(rec->dir, sizeof rec->dir, "%s", dir);
    dt_status status = dt_run_manifest_load(dir, &rec->manifest, err);
    return status == DT_OK ? load_trace(rec, err) : status;
}

void dt_run_record_free(dt_run_record *rec) {
    cJSON_Delete(rec->manifest);
    free(rec->loss_bits);
    free(rec->lr_bits);
    memset(rec, 0, sizeof *rec);
}

dt_status dt_run_config(const cJSON *manifest, const char *origin, dt_config *cfg, char canonical_sha256[65],
                        dt_error *err) {
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(manifest, "config");
    if (!cJSON_IsObject(config)) return dt_fail(err, DT_CONFIG, "%s: no recorded config", origin);
    char *text = cJSON_PrintUnformatted(config);
    if (!text) return dt_fail(err, DT_NOMEM, "%s: out of memory", origin);
    char label[DT_PATH_MAX + 32];
    snprintf(label, sizeof label, "%s (recorded config)", origin);
    dt_status status = dt_config_parse(cfg, text, label, NULL, 0, NULL, err);
    free(text);
    if (status != DT_OK) return status;
    char *canonical = dt_config_to_json(cfg);
    if (!canonical) return dt_fail(err, DT_NOMEM, "%s: out of memory", origin);
    dt_sha256_hex(canonical, strlen(canonical), canonical_sha256);
    free(canonical);
    /* Keep the original name: the default run folder and messages use it. */
    const char *file = dt_run_record_string(manifest, "config_file");
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    size_t len = strlen(base);
    if (len > 5 && !strcmp(base + len - 5, ".json")) len -= 5;
    if (len > 0 && len < sizeof cfg->name) snprintf(cfg->name, sizeof cfg->name, "%.*s", (int)len, base);
    if (file[0]) snprintf(cfg->source_path, sizeof cfg->source_path, "%s", file);
    return DT_OK;
}

void dt_run_locate(const cJSON *manifest, const char *recorded_path, char *out, size_t size) {
    const char *cwd = dt_run_record_string(manifest, "working_directory");
    if (recorded_path[0] != '/' && cwd[0]) {
        int n = snprintf(out, size, "%s/%s", cwd, recorded_path);
        if (n > 0 && (size_t)n < size && dt_file_exists(out)) return;
    }
    snprintf(out, size, "%s", recorded_path);
}

void dt_run_anchor_config(const cJSON *manifest, dt_config *cfg) {
    dt_data_source *sources[2] = {&cfg->data.train, &cfg->data.test};
    char located[DT_PATH_MAX];
    for (int i = 0; i < 2; i++) {
        dt_run_locate(manifest, sources[i]->path, located, sizeof located);
        snprintf(sources[i]->path, sizeof sources[i]->path, "%s", located);
        if (sources[i]->labels_path[0]) {
            dt_run_locate(manifest, sources[i]->labels_path, located, sizeof located);
            snprintf(sources[i]->labels_path, sizeof sources[i]->labels_path, "%s", located);
        }
    }
}

dt_status dt_run_selected_checkpoint(const char *run_dir, char *path, size_t size, char *which, size_t which_size,
                                     dt_error *err) {
    static const char *const named[] = {"best.h5", "final.h5"};
    static const char *const why[] = {"the best epoch by the run's selection", "the end of the run"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, size, "%s/%s", run_dir, named[i]);
        if (dt_file_exists(path)) {
            snprintf(which, which_size, "%s, %s", named[i], why[i]);
            return DT_OK;
        }
    }
    DIR *dir = opendir(run_dir);
    if (!dir) return dt_fail(err, DT_IO, "%s: cannot read the run folder: %s", run_dir, strerror(errno));
    long long newest = -1;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        long long step = -1;
        char tail[8] = "";
        if (sscanf(entry->d_name, "checkpoint-%lld.%7s", &step, tail) == 2 && !strcmp(tail, "h5") && step > newest)
            newest = step;
    }
    closedir(dir);
    if (newest < 0)
        return dt_fail(err, DT_USAGE, "%s: the run folder holds no checkpoint (best.h5, final.h5 or checkpoint-*.h5)",
                       run_dir);
    snprintf(path, size, "%s/checkpoint-%09lld.h5", run_dir, newest);
    snprintf(which, which_size, "checkpoint-%09lld.h5, the newest (the run has not completed)", newest);
    return DT_OK;
}
