/* manifest.c — builds manifest.json with cJSON and writes it atomically. Exact floats are
 * stored twice: a readable decimal and "<name>_bits" with the float32's hex bits, since
 * decimal printing does not round-trip everywhere. */
#include "manifest.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "fsutil.h"
#include "sysinfo.h"
#include "version.h"

void dt_float_bits_hex(float value, char out[9]) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    snprintf(out, 9, "%08x", bits);
}

/* name: decimal (or null when not finite) and name_bits: hex bits. */
static void add_float(cJSON *obj, const char *name, float value) {
    char bits[9], key[96];
    dt_float_bits_hex(value, bits);
    if (isfinite(value)) cJSON_AddNumberToObject(obj, name, (double)value);
    else cJSON_AddNullToObject(obj, name);
    snprintf(key, sizeof key, "%s_bits", name);
    cJSON_AddStringToObject(obj, key, bits);
}

/* A double metric (accuracy) or null when NaN. */
static void add_metric(cJSON *obj, const char *name, double value) {
    if (isnan(value)) cJSON_AddNullToObject(obj, name);
    else cJSON_AddNumberToObject(obj, name, value);
}

/* "2026-11-26T14:15:22Z" */
static void utc_now(char *buf, size_t size) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static dt_status manifest_write(dt_manifest *m, dt_error *err) {
    char now[32];
    utc_now(now, sizeof now);
    cJSON_DeleteItemFromObjectCaseSensitive(m->root, "updated_at");
    cJSON_AddStringToObject(m->root, "updated_at", now);
    char *text = cJSON_Print(m->root);
    if (!text) return dt_fail(err, DT_NOMEM, "out of memory printing %s", m->path);
    size_t len = strlen(text);
    dt_status status = DT_OK;
    char *with_newline = malloc(len + 2);
    if (!with_newline) status = dt_fail(err, DT_NOMEM, "out of memory printing %s", m->path);
    else {
        memcpy(with_newline, text, len);
        with_newline[len] = '\n';
        status = dt_write_file_atomic(m->path, with_newline, len + 1, err);
    }
    free(with_newline);
    free(text);
    return status;
}

static cJSON *data_record(const dt_dataset *ds) {
    cJSON *files = cJSON_CreateArray();
    for (int i = 0; i < ds->n_files; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", ds->files[i].path);
        cJSON_AddNumberToObject(f, "size", (double)ds->files[i].size_bytes);
        cJSON_AddStringToObject(f, "sha256", ds->files[i].sha256);
        cJSON_AddItemToArray(files, f);
    }
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "samples", (double)ds->n_samples);
    cJSON_AddNumberToObject(rec, "features", ds->n_features);
    cJSON_AddItemToObject(rec, "files", files);
    return rec;
}

/* A unique run id: UTC time plus 8 hex digits of a hash of time, pid and directory. */
static void make_run_id(const char *run_dir, char *out, size_t size) {
    char stamp[32], seed_text[DT_PATH_MAX + 64], hex[65];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(seed_text, sizeof seed_text, "%lld.%ld/%ld/%s", (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(),
             run_dir);
    dt_sha256_hex(seed_text, strlen(seed_text), hex);
    snprintf(out, size, "%s-%.8s", stamp, hex);
}

dt_status dt_manifest_begin(dt_manifest *m, const char *run_dir, const dt_run_info *info, dt_error *err) {
    memset(m, 0, sizeof *m);
    snprintf(m->run_dir, sizeof m->run_dir, "%s", run_dir);
    snprintf(m->path, sizeof m->path, "%s/manifest.json", run_dir);
    const dt_config *cfg = info->cfg;
    char *config_text = dt_config_to_json(cfg);
    cJSON *config_json = config_text ? cJSON_Parse(config_text) : NULL;
    m->root = cJSON_CreateObject();
    if (!config_text || !config_json || !m->root) {
        free(config_text);
        cJSON_Delete(config_json);
        return dt_fail(err, DT_NOMEM, "out of memory building %s", m->path);
    }
    char run_id[64], now[32], sha[65], seed_text[32];
    make_run_id(run_dir, run_id, sizeof run_id);
    utc_now(now, sizeof now);
    dt_sha256_hex(config_text, strlen(config_text), sha);
    free(config_text);

    cJSON *root = m->root;
    cJSON_AddStringToObject(root, "format", "detrain-manifest/1");
    cJSON_AddStringToObject(root, "run_id", run_id);
    cJSON_AddStringToObject(root, "status", "running");
    cJSON_AddStringToObject(root, "started_at", now);
    cJSON *argv = cJSON_CreateArray();
    for (int i = 0; i < info->argc; i++) cJSON_AddItemToArray(argv, cJSON_CreateString(info->argv[i]));
    cJSON_AddItemToObject(root, "command_line", argv);

    cJSON *code = cJSON_AddObjectToObject(root, "code");
    cJSON_AddStringToObject(code, "version", DT_VERSION);
    cJSON_AddStringToObject(code, "git_commit", DT_GIT_COMMIT);
    cJSON_AddBoolToObject(code, "git_dirty", DT_GIT_DIRTY);
    cJSON_AddStringToObject(code, "compiler", DT_C_COMPILER);
    cJSON_AddStringToObject(code, "flags", DT_C_FLAGS);

    cJSON_AddStringToObject(root, "config_file", cfg->source_path);
    cJSON *overrides = cJSON_CreateArray();
    for (int i = 0; i < cfg->n_overrides; i++) cJSON_AddItemToArray(overrides, cJSON_CreateString(cfg->overrides[i]));
    cJSON_AddItemToObject(root, "overrides", overrides);
    cJSON_AddStringToObject(root, "config_sha256", sha);
    cJSON_AddItemToObject(root, "config", config_json);

    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)cfg->seed);
    cJSON *seeds = cJSON_AddObjectToObject(root, "seeds");
    cJSON_AddNumberToObject(seeds, "seed", (double)cfg->seed);
    cJSON_AddStringToObject(seeds, "seed_text", seed_text);
    cJSON_AddStringToObject(seeds, "generator", "philox4x32-10");

    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddItemToObject(data, "train", data_record(info->train));
    cJSON_AddItemToObject(data, "test", data_record(info->test));

    dt_sysinfo sys;
    dt_sysinfo_read(&sys);
    cJSON *env = cJSON_AddObjectToObject(root, "environment");
    cJSON_AddStringToObject(env, "os", sys.os);
    cJSON_AddStringToObject(env, "cpu", sys.cpu_model);
    cJSON_AddNumberToObject(env, "cores", sys.cores);
    cJSON_AddStringToObject(env, "simd", info->simd);
    cJSON_AddNumberToObject(env, "threads", info->threads);
    cJSON *libs = cJSON_AddObjectToObject(env, "libraries");
    cJSON_AddStringToObject(libs, "hdf5", sys.hdf5);
    cJSON_AddStringToObject(libs, "cjson", sys.cjson);
    cJSON_AddStringToObject(libs, "openssl", sys.openssl);
    cJSON_AddStringToObject(libs, "zlib", sys.zlib);

    cJSON_AddStringToObject(root, "mode", dt_mode_name(cfg->runtime.mode));
    cJSON_AddStringToObject(root, "device", info->backend);
    if (info->device_note && info->device_note[0]) cJSON_AddStringToObject(root, "device_note", info->device_note);
    cJSON_AddNumberToObject(root, "threads", info->threads);
    cJSON_AddNumberToObject(root, "parameters", (double)info->n_params);
    cJSON_AddItemToObject(root, "epochs", cJSON_CreateArray());
    return manifest_write(m, err);
}

/* The JSON object of one epoch's metrics. */
static cJSON *epoch_json(const dt_epoch_metrics *e) {
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "epoch", e->epoch);
    cJSON_AddNumberToObject(obj, "steps", (double)e->steps);
    add_float(obj, "train_loss", e->train_loss);
    add_metric(obj, "train_accuracy", e->train_accuracy);
    add_float(obj, "test_loss", e->test_loss);
    add_metric(obj, "test_accuracy", e->test_accuracy);
    add_float(obj, "lr", e->lr);
    cJSON_AddNumberToObject(obj, "seconds", e->seconds);
    cJSON_AddNumberToObject(obj, "samples_per_s", e->samples_per_s);
    return obj;
}

dt_status dt_manifest_epoch(dt_manifest *m, const dt_epoch_metrics *e, dt_error *err) {
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(m->root, "epochs"), epoch_json(e));
    return manifest_write(m, err);
}

dt_status dt_manifest_finish(dt_manifest *m, const char *status, const dt_epoch_metrics *last,
                             const char *params_sha256, const char *error_message, dt_error *err) {
    char now[32];
    utc_now(now, sizeof now);
    cJSON_ReplaceItemInObjectCaseSensitive(m->root, "status", cJSON_CreateString(status));
    cJSON_DeleteItemFromObjectCaseSensitive(m->root, "finished_at");
    cJSON_AddStringToObject(m->root, "finished_at", now);
    if (error_message && error_message[0]) {
        cJSON_DeleteItemFromObjectCaseSensitive(m->root, "error");
        cJSON_AddStringToObject(m->root, "error", error_message);
    }
    if (last && params_sha256) {
        cJSON_DeleteItemFromObjectCaseSensitive(m->root, "final");
        cJSON *fin = cJSON_AddObjectToObject(m->root, "final");
        cJSON_AddNumberToObject(fin, "epoch", last->epoch);
        cJSON_AddNumberToObject(fin, "steps", (double)last->steps);
        add_metric(fin, "test_accuracy", last->test_accuracy);
        add_float(fin, "test_loss", last->test_loss);
        add_float(fin, "train_loss", last->train_loss);
        cJSON_AddStringToObject(fin, "params_sha256", params_sha256);
    }
    return manifest_write(m, err);
}

void dt_manifest_free(dt_manifest *m) {
    cJSON_Delete(m->root);
    m->root = NULL;
}

dt_status dt_trace_write(const char *run_dir, const float *losses, const float *lrs, int64_t n_steps,
                         int64_t steps_per_epoch, dt_error *err) {
    char path[DT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/trace.jsonl", run_dir);
    size_t cap = (size_t)n_steps * 128 + 1, len = 0;
    char *text = malloc(cap);
    if (!text) return dt_fail(err, DT_NOMEM, "out of memory writing %s", path);
    for (int64_t s = 0; s < n_steps; s++) {
        char loss_bits[9], lr_bits[9];
        dt_float_bits_hex(losses[s], loss_bits);
        dt_float_bits_hex(lrs[s], lr_bits);
        char loss_text[32];
        if (isfinite(losses[s])) snprintf(loss_text, sizeof loss_text, "%.9g", (double)losses[s]);
        else snprintf(loss_text, sizeof loss_text, "null");
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"step\":%lld,\"epoch\":%lld,\"loss\":%s,\"loss_bits\":\"%s\",\"lr_bits\":\"%s\"}\n",
                                (long long)s + 1, (long long)(s / steps_per_epoch) + 1, loss_text, loss_bits, lr_bits);
    }
    dt_status status = dt_write_file_atomic(path, text, len, err);
    free(text);
    return status;
}
