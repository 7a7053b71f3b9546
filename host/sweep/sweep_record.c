/* sweep_record.c — <dir>/sweep.json: the plan and every trial's state, written atomically on
 * every change and read back to continue a sweep (only the same plan may continue it). */
#include "sweep/sweep.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/json.h"
#include "core/progress.h"

#define SWEEP_FORMAT "detrain-sweep/1"

const char *dt_sweep_status_name(dt_trial_status status) {
    static const char *const names[] = {"pending", "running", "completed", "failed", "interrupted"};
    return status >= DT_TRIAL_PENDING && status <= DT_TRIAL_INTERRUPTED ? names[status] : "unknown";
}

/* The status a name stands for; -1 when none. */
static int status_from_name(const char *name) {
    for (int s = DT_TRIAL_PENDING; s <= DT_TRIAL_INTERRUPTED; s++)
        if (!strcmp(name, dt_sweep_status_name((dt_trial_status)s))) return s;
    return -1;
}

/* ---- writing ---- */

/* A string, or null for "". */
static cJSON *string_or_null(const char *text) { return text[0] ? cJSON_CreateString(text) : cJSON_CreateNull(); }

/* Trial t as JSON; NULL on OOM. */
static cJSON *trial_json(const dt_sweep_plan *plan, int t) {
    const dt_sweep_trial *trial = &plan->trials[t];
    cJSON *obj = cJSON_CreateObject(), *overrides = cJSON_AddArrayToObject(obj, "overrides");
    for (int k = 0; overrides && k < plan->n_keys; k++) {
        char text[DT_PATH_MAX + DT_NAME_MAX + 2];
        snprintf(text, sizeof text, "%s=%s", plan->keys[k].key, trial->values[k]);
        cJSON_AddItemToArray(overrides, cJSON_CreateString(text));
    }
    char run_dir[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 2];
    dt_sweep_trial_dir(plan, t, run_dir, sizeof run_dir);
    cJSON_AddStringToObject(obj, "name", trial->name);
    cJSON_AddStringToObject(obj, "config_sha256", trial->config_sha256);
    cJSON_AddStringToObject(obj, "status", dt_sweep_status_name(trial->status));
    cJSON_AddItemToObject(obj, "exit_code",
                          trial->exit_code >= 0 ? cJSON_CreateNumber(trial->exit_code) : cJSON_CreateNull());
    cJSON_AddStringToObject(obj, "run_dir", run_dir);
    cJSON_AddItemToObject(obj, "params_sha256", string_or_null(trial->params_sha256));
    cJSON_AddNumberToObject(obj, "seconds", trial->seconds);
    cJSON_AddItemToObject(obj, "message", string_or_null(trial->message));
    cJSON *failed = cJSON_AddArrayToObject(obj, "failed_runs");
    for (int n = 1; failed && n <= trial->n_failed_runs; n++) {
        char moved[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 32];
        snprintf(moved, sizeof moved, "%s.failed-%d", run_dir, n);
        cJSON_AddItemToArray(failed, cJSON_CreateString(moved));
    }
    return obj;
}

/* An array of strings; NULL on OOM. */
static cJSON *string_array(char *const *strings, int n) {
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < n; i++) cJSON_AddItemToArray(array, cJSON_CreateString(strings[i]));
    return array;
}

/* The plan as JSON; NULL on OOM. */
static cJSON *plan_json(const dt_sweep_plan *plan) {
    cJSON *root = cJSON_CreateObject();
    char now[32], cwd[DT_PATH_MAX], seed[32];
    dt_utc_now(now, sizeof now);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)plan->sweep_seed);
    cJSON_AddStringToObject(root, "format", SWEEP_FORMAT);
    cJSON_AddItemToObject(root, "command_line", string_array(plan->argv, plan->argc));
    cJSON_AddStringToObject(root, "working_directory", getcwd(cwd, sizeof cwd) ? cwd : "");
    cJSON_AddStringToObject(root, "started_at", plan->started_at[0] ? plan->started_at : now);
    cJSON_AddStringToObject(root, "updated_at", now);
    cJSON_AddStringToObject(root, "config_file", plan->config_path);
    cJSON_AddStringToObject(root, "config_file_sha256", plan->config_file_sha256);
    cJSON_AddStringToObject(root, "experiment", plan->experiment);
    cJSON_AddItemToObject(root, "sets", string_array(plan->sets, plan->n_sets));
    cJSON *keys = cJSON_AddArrayToObject(root, "keys");
    for (int k = 0; keys && k < plan->n_keys; k++) {
        cJSON *key = cJSON_CreateObject();
        cJSON_AddStringToObject(key, "option", plan->keys[k].is_random ? "--random" : "--grid");
        cJSON_AddStringToObject(key, "spec", plan->keys[k].spec);
        cJSON_AddItemToArray(keys, key);
    }
    cJSON_AddNumberToObject(root, "random_trials", (double)plan->n_draws);
    cJSON_AddStringToObject(root, "sweep_seed", seed);
    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (int t = 0; trials && t < plan->n_trials; t++) cJSON_AddItemToArray(trials, trial_json(plan, t));
    return root;
}

dt_status dt_sweep_record_write(const dt_sweep_plan *plan, dt_error *err) {
    cJSON *root = plan_json(plan);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return dt_fail(err, DT_NOMEM, "out of memory writing sweep.json");
    char path[DT_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sweep.json", plan->dir);
    size_t len = strlen(text);
    text[len] = '\n'; /* cJSON_Print's buffer ends in its NUL: the newline takes its place */
    dt_status status = dt_write_file_atomic(path, text, len + 1, err);
    free(text);
    return status;
}

/* ---- reading back ---- */

/* Writes "a; b; c" of a string array (or of the keys' "option spec") into out. */
static void describe_list(const cJSON *array, int keys, char *out, size_t size) {
    size_t len = 0;
    out[0] = '\0';
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, array) {
        if (len >= size) break;
        if (keys)
            len += (size_t)snprintf(out + len, size - len, "%s%s %s", len ? "; " : "",
                                    dt_json_string_or(item, "option", ""), dt_json_string_or(item, "spec", ""));
        else
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "; " : "",
                                    cJSON_IsString(item) ? item->valuestring : "?");
    }
    if (!out[0]) snprintf(out, size, "none");
}

/* The first difference between the recorded plan (its JSON) and this one, into why; "" when
 * they agree. `now` is this plan's JSON. */
static void first_difference(const cJSON *was, const cJSON *now, char *why, size_t size) {
    static const struct {
        const char *key, *what;
    } fields[] = {{"config_file_sha256", "config file (its SHA-256)"},
                  {"experiment", "experiment"},
                  {"sets", "--set overrides"},
                  {"keys", "swept keys"},
                  {"random_trials", "--trials"},
                  {"sweep_seed", "--sweep-seed"}};
    why[0] = '\0';
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(was, fields[f].key);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(now, fields[f].key);
        if (cJSON_Compare(a, b, 1)) continue;
        char text_a[512], text_b[512];
        if (cJSON_IsArray(b)) {
            describe_list(a, f == 3, text_a, sizeof text_a);
            describe_list(b, f == 3, text_b, sizeof text_b);
        } else {
            char *pa = a && !cJSON_IsString(a) ? cJSON_PrintUnformatted(a) : NULL;
            char *pb = b && !cJSON_IsString(b) ? cJSON_PrintUnformatted(b) : NULL;
            snprintf(text_a, sizeof text_a, "%s", cJSON_IsString(a) ? a->valuestring : pa ? pa : "none");
            snprintf(text_b, sizeof text_b, "%s", cJSON_IsString(b) ? b->valuestring : pb ? pb : "?");
            free(pa);
            free(pb);
        }
        snprintf(why, size, "it differs in its %s (recorded %s; now %s)", fields[f].what, text_a, text_b);
        return;
    }
    const cJSON *ta = cJSON_GetObjectItemCaseSensitive(was, "trials"),
                *tb = cJSON_GetObjectItemCaseSensitive(now, "trials");
    if (cJSON_GetArraySize(ta) != cJSON_GetArraySize(tb)) {
        snprintf(why, size, "it records %d trials, this plan has %d", cJSON_GetArraySize(ta), cJSON_GetArraySize(tb));
        return;
    }
    for (int t = 0; t < cJSON_GetArraySize(tb); t++) {
        const cJSON *a = cJSON_GetArrayItem(ta, t), *b = cJSON_GetArrayItem(tb, t);
        const char *name_a = dt_json_string_or(a, "name", ""), *name_b = dt_json_string_or(b, "name", "");
        const char *sha_a = dt_json_string_or(a, "config_sha256", ""), *sha_b = dt_json_string_or(b, "config_sha256", "");
        if (strcmp(name_a, name_b) != 0)
            snprintf(why, size, "its trial %d is %s, now %s", t + 1, name_a, name_b);
        else if (strcmp(sha_a, sha_b) != 0)
            snprintf(why, size, "its trial %s resolves to another config (SHA-256 %.12s, now %.12s)", name_b, sha_a,
                     sha_b);
        if (why[0]) return;
    }
}

/* Takes over each trial's recorded state. DT_CHECKPOINT for an unknown status. */
static dt_status take_state(dt_sweep_plan *plan, const cJSON *was, const char *path, dt_error *err) {
    snprintf(plan->started_at, sizeof plan->started_at, "%s", dt_json_string_or(was, "started_at", ""));
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(was, "trials");
    for (int t = 0; t < plan->n_trials; t++) {
        const cJSON *obj = cJSON_GetArrayItem(trials, t);
        dt_sweep_trial *trial = &plan->trials[t];
        const int status = status_from_name(dt_json_string_or(obj, "status", ""));
        if (status < 0)
            return dt_fail(err, DT_CHECKPOINT, "%s: trial %s: unknown status '%s'", path, trial->name,
                           dt_json_string_or(obj, "status", ""));
        trial->status = (dt_trial_status)status;
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "exit_code");
        const cJSON *seconds = cJSON_GetObjectItemCaseSensitive(obj, "seconds");
        trial->exit_code = cJSON_IsNumber(code) ? code->valueint : -1;
        trial->seconds = cJSON_IsNumber(seconds) ? seconds->valuedouble : 0;
        snprintf(trial->params_sha256, sizeof trial->params_sha256, "%s", dt_json_string_or(obj, "params_sha256", ""));
        snprintf(trial->message, sizeof trial->message, "%s", dt_json_string_or(obj, "message", ""));
        trial->n_failed_runs = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(obj, "failed_runs"));
    }
    return DT_OK;
}

/* Checks the recorded plan at path against this one and takes over its state. */
static dt_status continue_record(dt_sweep_plan *plan, const char *path, dt_error *err) {
    char *text = NULL;
    size_t size = 0;
    dt_status status = dt_read_text(path, &text, &size, err);
    if (status != DT_OK) return status;
    cJSON *was = cJSON_ParseWithLengthOpts(text, size + 1, NULL, 1);
    cJSON *now = plan_json(plan);
    free(text);
    char difference[1200];
    if (!now)
        status = dt_fail(err, DT_NOMEM, "out of memory");
    else if (!was || strcmp(dt_json_string_or(was, "format", ""), SWEEP_FORMAT) != 0)
        status = dt_fail(err, DT_CHECKPOINT, "%s: not a detrain sweep record (format %s)", path, SWEEP_FORMAT);
    else if (first_difference(was, now, difference, sizeof difference), difference[0])
        status = dt_fail(err, DT_USAGE, "%s: this folder holds another sweep: %s; give another --out", path,
                         difference);
    else
        status = take_state(plan, was, path, err);
    cJSON_Delete(was);
    cJSON_Delete(now);
    return status;
}

dt_status dt_sweep_record_open(dt_sweep_plan *plan, int *continued, dt_error *err) {
    char path[DT_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/manifest.json", plan->dir);
    dt_status status = dt_mkdirs(plan->dir, err);
    if (status != DT_OK) return status;
    if (dt_file_exists(path))
        return dt_fail(err, DT_USAGE, "%s: holds a run, not a sweep; give another --out", plan->dir);
    if (plan->lock_fd < 0 && (status = dt_lock_dir(plan->dir, &plan->lock_fd, err)) != DT_OK) return status;
    snprintf(path, sizeof path, "%s/sweep.json", plan->dir);
    *continued = dt_file_exists(path);
    if (*continued && (status = continue_record(plan, path, err)) != DT_OK) return status;
    if (!plan->started_at[0]) dt_utc_now(plan->started_at, sizeof plan->started_at);
    return dt_sweep_record_write(plan, err);
}
