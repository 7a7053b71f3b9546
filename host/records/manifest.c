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

#include "core/json.h"
#include "data/split.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "rng.h"
#include "sysinfo.h"
#include "version.h"

void dt_float_bits_hex(float value, char out[9]) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    snprintf(out, 9, "%08x", bits);
}

int dt_float_bits_parse(const char *text, uint32_t *bits) {
    if (!text || strlen(text) != 8 || strspn(text, "0123456789abcdefABCDEF") != 8) return -1;
    *bits = (uint32_t)strtoul(text, NULL, 16);
    return 0;
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

/* Stamps updated_at and writes the manifest atomically. */
static dt_status manifest_write(dt_manifest *m, dt_error *err) {
    char now[32];
    dt_utc_now(now, sizeof now);
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

/* The record of one dataset: samples, features, and each file's path, size and SHA-256. */
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

cJSON *dt_manifest_code_json(void) {
    cJSON *code = cJSON_CreateObject();
    cJSON_AddStringToObject(code, "version", DT_VERSION);
    cJSON_AddStringToObject(code, "git_commit", DT_GIT_COMMIT);
    cJSON_AddBoolToObject(code, "git_dirty", DT_GIT_DIRTY);
    cJSON_AddStringToObject(code, "compiler", DT_C_COMPILER);
    cJSON_AddStringToObject(code, "flags", DT_C_FLAGS);
    return code;
}

cJSON *dt_manifest_environment_json(const char *simd, int threads, const dt_gpu_info *gpu) {
    dt_sysinfo sys;
    dt_sysinfo_read(&sys);
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "os", sys.os);
    cJSON_AddStringToObject(env, "kernel", sys.kernel);
    cJSON_AddStringToObject(env, "distribution", sys.distribution);
    cJSON_AddStringToObject(env, "hostname", sys.hostname);
    cJSON_AddStringToObject(env, "cpu", sys.cpu_model);
    cJSON_AddNumberToObject(env, "cores", sys.cores);
    cJSON_AddStringToObject(env, "simd", simd);
    cJSON_AddNumberToObject(env, "threads", threads);
    /* Filled from a GPU backend; the CPU backend leaves every field null. */
    cJSON *g = cJSON_AddObjectToObject(env, "gpu");
    const char *gpu_fields[] = {"index", "name", "compute_capability", "sm_count", "driver", "cuda_runtime", "cublas", "nccl"};
    if (gpu) {
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", gpu->cc_major, gpu->cc_minor);
        cJSON_AddNumberToObject(g, "index", gpu->index);
        cJSON_AddStringToObject(g, "name", gpu->name);
        cJSON_AddStringToObject(g, "compute_capability", cc);
        cJSON_AddNumberToObject(g, "sm_count", gpu->sm_count);
        cJSON_AddStringToObject(g, "driver", gpu->driver);
        cJSON_AddStringToObject(g, "cuda_runtime", gpu->runtime);
        cJSON_AddStringToObject(g, "cublas", gpu->cublas);
        if (gpu->nccl[0]) cJSON_AddStringToObject(g, "nccl", gpu->nccl);
        else cJSON_AddNullToObject(g, "nccl");
        cJSON_AddBoolToObject(g, "tf32", gpu->tf32);
    } else {
        for (size_t i = 0; i < sizeof gpu_fields / sizeof gpu_fields[0]; i++) cJSON_AddNullToObject(g, gpu_fields[i]);
    }
    cJSON *libs = cJSON_AddObjectToObject(env, "libraries");
    cJSON_AddStringToObject(libs, "hdf5", sys.hdf5);
    cJSON_AddStringToObject(libs, "cjson", sys.cjson);
    cJSON_AddStringToObject(libs, "openssl", sys.openssl);
    cJSON_AddStringToObject(libs, "zlib", sys.zlib);
    return env;
}

/* How the run is spread: ranks, microbatches (which define the result) and the transport. */
static cJSON *parallel_json(const dt_run_info *info) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "world_size", info->world_size > 0 ? info->world_size : 1);
    cJSON_AddNumberToObject(p, "microbatches", info->cfg->train.microbatches);
    cJSON_AddStringToObject(p, "transport", info->transport ? info->transport : "none");
    /* each rank's CUDA device: null on the CPU */
    if (info->rank_gpus) {
        cJSON *gpus = cJSON_AddArrayToObject(p, "rank_gpus");
        for (int k = 0; k < info->world_size; k++)
            cJSON_AddItemToArray(gpus, cJSON_CreateNumber((double)info->rank_gpus[k]));
    } else {
        cJSON_AddNullToObject(p, "rank_gpus");
    }
    return p;
}

/* "8c1f0a3b0f0e2d41": a Philox key's two words, word 0 first. */
static cJSON *key_json(dt_philox_key key) {
    char text[24];
    snprintf(text, sizeof text, "%08x%08x", key.v[0], key.v[1]);
    return cJSON_CreateString(text);
}

/* The seed and the keys derived from it (docs/numerics.md, "Randomness"). */
static cJSON *seeds_json(const dt_config *cfg, const dt_net *net) {
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)cfg->seed);
    cJSON *seeds = cJSON_CreateObject();
    cJSON_AddNumberToObject(seeds, "seed", (double)cfg->seed);
    cJSON_AddStringToObject(seeds, "seed_text", seed_text);
    cJSON_AddStringToObject(seeds, "generator", "philox4x32-10");
    cJSON *keys = cJSON_AddObjectToObject(seeds, "derived_keys");
    cJSON_AddStringToObject(keys, "rule", "key(purpose, index) = words 0,1 of Philox({purpose, index, 0, 0}, {seed lo, seed hi}); "
                                          "purposes: init 1 (index 2*layer), shuffle 2 (index epoch), dropout 3 (index layer)");
    cJSON *init = cJSON_AddArrayToObject(keys, "init"), *dropout = cJSON_AddArrayToObject(keys, "dropout");
    for (int l = 0; l < net->n_layers; l++) {
        cJSON_AddItemToArray(init, key_json(dt_rng_key(cfg->seed, DT_RNG_INIT, (uint32_t)(2 * l))));
        cJSON_AddItemToArray(dropout, key_json(dt_rng_key(cfg->seed, DT_RNG_DROPOUT, (uint32_t)l)));
    }
    cJSON *shuffle = cJSON_AddArrayToObject(keys, "shuffle");
    const int listed = cfg->train.epochs < 1000 ? cfg->train.epochs : 1000; /* the rule gives the rest */
    for (int e = 0; e < listed && cfg->train.shuffle; e++)
        cJSON_AddItemToArray(shuffle, key_json(dt_rng_key(cfg->seed, DT_RNG_SHUFFLE, (uint32_t)e)));
    return seeds;
}

/* The config file's digest and, when it lives in a git work tree, that tree's commit. */
static void add_config_source(cJSON *root, const dt_config *cfg) {
    char sha[65], dir[DT_PATH_MAX], commit[64];
    dt_error ignored;
    cJSON_AddStringToObject(root, "config_file", cfg->source_path);
    if (dt_file_sha256(cfg->source_path, sha, &ignored) == DT_OK) cJSON_AddStringToObject(root, "config_file_sha256", sha);
    else cJSON_AddNullToObject(root, "config_file_sha256");
    const char *slash = strrchr(cfg->source_path, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - cfg->source_path + (slash == cfg->source_path)), cfg->source_path);
    else snprintf(dir, sizeof dir, ".");
    int dirty = 0;
    if (cfg->source_path[0] && dt_git_describe(dir, commit, sizeof commit, &dirty) == 0) {
        cJSON *repo = cJSON_AddObjectToObject(root, "config_repo");
        cJSON_AddStringToObject(repo, "git_commit", commit);
        cJSON_AddBoolToObject(repo, "git_dirty", dirty);
    } else {
        cJSON_AddNullToObject(root, "config_repo");
    }
}

/* How the run was started: its command line and working directory (null when unknown). */
static void add_invocation(cJSON *root, const dt_run_info *info) {
    char cwd[DT_PATH_MAX];
    cJSON *argv = cJSON_CreateArray();
    for (int i = 0; i < info->argc; i++) cJSON_AddItemToArray(argv, cJSON_CreateString(info->argv[i]));
    cJSON_AddItemToObject(root, "command_line", argv);
    if (getcwd(cwd, sizeof cwd)) cJSON_AddStringToObject(root, "working_directory", cwd);
    else cJSON_AddNullToObject(root, "working_directory");
}

/* The data the run reads: train, test and, when it has one, validation (with its share and
 * the digest of its indices when it is split off the training set). */
static cJSON *datasets_json(const dt_run_info *info) {
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(data, "train", data_record(info->train));
    cJSON_AddItemToObject(data, "test", data_record(info->test));
    if (info->validation) {
        cJSON *val = data_record(info->validation);
        if (info->validation_split > 0) {
            cJSON_AddNumberToObject(val, "split", dt_split_share(info->validation_split));
            cJSON_AddStringToObject(val, "indices_sha256", info->validation_indices_sha256);
        }
        cJSON_AddItemToObject(data, "validation", val);
    }
    return data;
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
    char run_id[64], now[32], sha[65];
    make_run_id(run_dir, run_id, sizeof run_id);
    dt_utc_now(now, sizeof now);
    dt_sha256_hex(config_text, strlen(config_text), sha);
    free(config_text);

    cJSON *root = m->root;
    cJSON_AddStringToObject(root, "format", "detrain-manifest/1");
    cJSON_AddStringToObject(root, "run_id", run_id);
    cJSON_AddStringToObject(root, "experiment", dt_config_experiment(info->cfg));
    cJSON_AddStringToObject(root, "status", "running");
    cJSON_AddStringToObject(root, "started_at", now);
    add_invocation(root, info);

    cJSON_AddItemToObject(root, "code", dt_manifest_code_json());
    add_config_source(root, cfg);
    cJSON *overrides = cJSON_CreateArray();
    for (int i = 0; i < cfg->n_overrides; i++) cJSON_AddItemToArray(overrides, cJSON_CreateString(cfg->overrides[i]));
    cJSON_AddItemToObject(root, "overrides", overrides);
    cJSON_AddStringToObject(root, "config_sha256", sha);
    cJSON_AddItemToObject(root, "config", config_json);
    cJSON_AddItemToObject(root, "seeds", seeds_json(cfg, info->net));

    cJSON_AddItemToObject(root, "data", datasets_json(info));
    cJSON_AddItemToObject(root, "environment", dt_manifest_environment_json(info->simd, info->threads, info->gpu));

    cJSON_AddStringToObject(root, "mode", dt_mode_name(cfg->runtime.mode));
    cJSON_AddStringToObject(root, "device", info->backend);
    if (info->device_note && info->device_note[0]) cJSON_AddStringToObject(root, "device_note", info->device_note);
    cJSON_AddNumberToObject(root, "threads", info->threads);
    cJSON_AddItemToObject(root, "parallel", parallel_json(info));
    cJSON_AddNumberToObject(root, "parameters", (double)info->net->n_params);
    if (info->started_from) cJSON_AddStringToObject(root, "started_from", info->started_from);
    /* A run made with DETRAIN_TEST_PERTURB is not a clean run: said, and replayed so (bisect). */
    if (info->test_perturb && info->test_perturb[0]) cJSON_AddStringToObject(root, "test_perturb", info->test_perturb);
    cJSON_AddItemToObject(root, "epochs", cJSON_CreateArray());
    cJSON_AddItemToObject(root, "checkpoints", cJSON_CreateArray());
    cJSON_AddItemToObject(root, "resumes", cJSON_CreateArray());
    return manifest_write(m, err);
}

dt_status dt_manifest_open(dt_manifest *m, const char *run_dir, dt_error *err) {
    memset(m, 0, sizeof *m);
    snprintf(m->run_dir, sizeof m->run_dir, "%s", run_dir);
    snprintf(m->path, sizeof m->path, "%s/manifest.json", run_dir);
    char *text = NULL;
    size_t size = 0;
    if (!dt_file_exists(m->path)) return dt_fail(err, DT_IO, "%s: not a run folder (no manifest.json)", run_dir);
    dt_status status = dt_read_text(m->path, &text, &size, err);
    if (status != DT_OK) return status;
    m->root = cJSON_ParseWithLengthOpts(text, size + 1, NULL, 1);
    free(text);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(m->root, "format");
    if (!m->root || !cJSON_IsObject(m->root) || !cJSON_IsString(format) ||
        strcmp(format->valuestring, "detrain-manifest/1") != 0) {
        dt_manifest_free(m);
        return dt_fail(err, DT_CHECKPOINT, "%s: not a detrain manifest (unreadable JSON or no \"format\": \"detrain-manifest/1\")",
                       m->path);
    }
    /* Older records lack these lists. */
    const char *lists[] = {"epochs", "checkpoints", "resumes"};
    for (int i = 0; i < 3; i++) {
        if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(m->root, lists[i]))) continue;
        cJSON_DeleteItemFromObjectCaseSensitive(m->root, lists[i]);
        cJSON_AddItemToObject(m->root, lists[i], cJSON_CreateArray());
    }
    return DT_OK;
}

dt_status dt_manifest_resume(dt_manifest *m, const dt_run_info *info, const char *checkpoint_file, int64_t step,
                             int epochs_done, dt_error *err) {
    char now[32];
    dt_utc_now(now, sizeof now);
    cJSON *root = m->root;
    cJSON_ReplaceItemInObjectCaseSensitive(root, "status", cJSON_CreateString("running"));
    const char *stale[] = {"finished_at", "error", "final"};
    for (int i = 0; i < 3; i++) cJSON_DeleteItemFromObjectCaseSensitive(root, stale[i]);
    cJSON *epochs = cJSON_GetObjectItemCaseSensitive(root, "epochs");
    while (cJSON_GetArraySize(epochs) > epochs_done) cJSON_DeleteItemFromArray(epochs, cJSON_GetArraySize(epochs) - 1);
    /* Checkpoints after the resume point were made by the interrupted attempt: the resumed
     * run writes them again (the same bytes), so their entries and files go. */
    cJSON *checkpoints = cJSON_GetObjectItemCaseSensitive(root, "checkpoints");
    for (int i = cJSON_GetArraySize(checkpoints) - 1; i >= 0; i--) {
        cJSON *c = cJSON_GetArrayItem(checkpoints, i);
        if (dt_json_number_or(c, "step", 0) <= (double)step) continue;
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(c, "file");
        if (cJSON_IsString(file) && !strchr(file->valuestring, '/')) {
            char path[DT_PATH_MAX + 96];
            snprintf(path, sizeof path, "%s/%s", m->run_dir, file->valuestring);
            unlink(path);
        }
        cJSON_DeleteItemFromArray(checkpoints, i);
    }
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "at", now);
    if (checkpoint_file) cJSON_AddStringToObject(entry, "from_checkpoint", checkpoint_file);
    else cJSON_AddNullToObject(entry, "from_checkpoint");
    cJSON_AddNumberToObject(entry, "step", (double)step);
    cJSON *argv = cJSON_CreateArray();
    for (int i = 0; i < info->argc; i++) cJSON_AddItemToArray(argv, cJSON_CreateString(info->argv[i]));
    cJSON_AddItemToObject(entry, "command_line", argv);
    cJSON_AddItemToObject(entry, "code", dt_manifest_code_json());
    cJSON_AddStringToObject(entry, "device", info->backend);
    cJSON_AddStringToObject(entry, "simd", info->simd);
    cJSON_AddNumberToObject(entry, "threads", info->threads);
    cJSON_AddItemToObject(entry, "parallel", parallel_json(info));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(root, "resumes"), entry);
    return manifest_write(m, err);
}

/* The JSON object of one epoch's metrics. */
static cJSON *epoch_json(const dt_epoch_metrics *e) {
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddNumberToObject(obj, "epoch", e->epoch);
    cJSON_AddNumberToObject(obj, "steps", (double)e->steps);
    add_float(obj, "train_loss", e->train_loss);
    add_metric(obj, "train_accuracy", e->train_accuracy);
    cJSON_AddNumberToObject(obj, "train_correct", (double)e->train_correct);
    cJSON_AddNumberToObject(obj, "train_seen", (double)e->train_seen);
    add_float(obj, "test_loss", e->test_loss);
    add_metric(obj, "test_accuracy", e->test_accuracy);
    cJSON_AddNumberToObject(obj, "test_correct", (double)e->test_correct);
    cJSON_AddNumberToObject(obj, "test_samples", (double)e->test_samples);
    if (e->has_validation) {
        add_float(obj, "val_loss", e->val_loss);
        add_metric(obj, "val_accuracy", e->val_accuracy);
        cJSON_AddNumberToObject(obj, "val_correct", (double)e->val_correct);
        cJSON_AddNumberToObject(obj, "val_samples", (double)e->val_samples);
    }
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
    dt_utc_now(now, sizeof now);
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
        cJSON_AddNumberToObject(fin, "test_correct", (double)last->test_correct);
        cJSON_AddNumberToObject(fin, "test_samples", (double)last->test_samples);
        add_float(fin, "test_loss", last->test_loss);
        add_float(fin, "train_loss", last->train_loss);
        if (last->has_validation) {
            add_float(fin, "val_loss", last->val_loss);
            add_metric(fin, "val_accuracy", last->val_accuracy);
        }
        cJSON_AddStringToObject(fin, "params_sha256", params_sha256);
    }
    return manifest_write(m, err);
}

dt_status dt_manifest_set(dt_manifest *m, const char *key, cJSON *value, int write, dt_error *err) {
    cJSON_DeleteItemFromObjectCaseSensitive(m->root, key);
    if (value) cJSON_AddItemToObject(m->root, key, value);
    return write ? manifest_write(m, err) : DT_OK;
}

dt_status dt_manifest_checkpoint(dt_manifest *m, const dt_checkpoint_record *c, dt_error *err) {
    cJSON *list = cJSON_GetObjectItemCaseSensitive(m->root, "checkpoints");
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "file");
        if (cJSON_IsString(file) && strcmp(file->valuestring, c->file) == 0) cJSON_DeleteItemFromArray(list, i);
    }
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "file", c->file);
    cJSON_AddStringToObject(entry, "reason", c->reason);
    cJSON_AddNumberToObject(entry, "step", (double)c->step);
    cJSON_AddNumberToObject(entry, "epoch", c->epoch);
    cJSON_AddNumberToObject(entry, "position", (double)c->position);
    cJSON_AddNumberToObject(entry, "size", (double)c->size);
    cJSON_AddStringToObject(entry, "sha256", c->sha256);
    cJSON_AddStringToObject(entry, "params_sha256", c->params_sha256);
    cJSON_AddBoolToObject(entry, "removed", 0);
    cJSON_AddItemToArray(list, entry);
    return manifest_write(m, err);
}

dt_status dt_manifest_prune(dt_manifest *m, int keep, dt_error *err) {
    cJSON *list = cJSON_GetObjectItemCaseSensitive(m->root, "checkpoints");
    int kept = 0, changed = 0;
    /* Newest first: the list is in step order. */
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        cJSON *entry = cJSON_GetArrayItem(list, i);
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(entry, "reason");
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(entry, "file");
        const int always_kept = cJSON_IsString(reason) && (!strcmp(reason->valuestring, "final") ||
                                                           !strcmp(reason->valuestring, "best"));
        if (!cJSON_IsString(file) || always_kept ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "removed")))
            continue;
        if (++kept <= keep) continue;
        char path[DT_PATH_MAX + 96];
        snprintf(path, sizeof path, "%s/%s", m->run_dir, file->valuestring);
        unlink(path);
        cJSON_ReplaceItemInObjectCaseSensitive(entry, "removed", cJSON_CreateTrue());
        changed = 1;
    }
    return changed ? manifest_write(m, err) : DT_OK;
}

/* The float stored as obj["<name>_bits"] into out; -1 when absent or malformed. */
static int bits_field(const cJSON *obj, const char *name, float *out) {
    char key[96];
    snprintf(key, sizeof key, "%s_bits", name);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    uint32_t bits;
    if (!cJSON_IsString(item) || dt_float_bits_parse(item->valuestring, &bits) != 0) return -1;
    memcpy(out, &bits, sizeof bits);
    return 0;
}

int dt_manifest_epoch_metrics(const dt_manifest *m, int epoch, dt_epoch_metrics *out) {
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m->root, "epochs"), epoch - 1);
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(e) || dt_json_number_or(e, "epoch", -1) != epoch) return -1;
    if (bits_field(e, "train_loss", &out->train_loss) || bits_field(e, "test_loss", &out->test_loss) ||
        bits_field(e, "lr", &out->lr))
        return -1;
    out->epoch = epoch;
    out->steps = (int64_t)dt_json_number_or(e, "steps", 0);
    out->train_accuracy = dt_json_number(e, "train_accuracy");
    out->test_accuracy = dt_json_number(e, "test_accuracy");
    out->train_correct = (int64_t)dt_json_number_or(e, "train_correct", 0);
    out->train_seen = (int64_t)dt_json_number_or(e, "train_seen", 0);
    out->test_correct = (int64_t)dt_json_number_or(e, "test_correct", 0);
    out->test_samples = (int64_t)dt_json_number_or(e, "test_samples", 0);
    out->seconds = dt_json_number_or(e, "seconds", 0);
    out->samples_per_s = dt_json_number_or(e, "samples_per_s", 0);
    out->has_validation = bits_field(e, "val_loss", &out->val_loss) == 0;
    out->val_accuracy = dt_json_number(e, "val_accuracy");
    out->val_correct = (int64_t)dt_json_number_or(e, "val_correct", 0);
    out->val_samples = (int64_t)dt_json_number_or(e, "val_samples", 0);
    return 0;
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
