/* mlflow.c — a run's record synced into MLflow's REST API (mlflow.h; docs/tracking.md). */
#include "tracking/mlflow.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/json.h"

#define API "/api/2.0/mlflow"
#define BATCH_PARAMS 100  /* MLflow's log-batch limits */
#define BATCH_TAGS 100
#define BATCH_METRICS 1000

/* The epoch metrics, manifest key → MLflow key; the last one, step_loss, comes from the trace. */
const char *const dt_mlflow_metric_names[DT_MLFLOW_METRICS] = {
    "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "lr", "samples_per_s",
    "step_loss"};
static const char *const manifest_keys[DT_MLFLOW_METRICS - 1] = {
    "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "lr", "samples_per_s"};
enum { STEP_LOSS = DT_MLFLOW_METRICS - 1 };

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-29T11:45:26Z" as milliseconds since the epoch; now when it does not parse. */
static int64_t iso_ms(const char *text) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!text || !strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm)) return now_ms();
    return (int64_t)timegm(&tm) * 1000;
}

/* Appends {"key": key, "value": value} to array. */
static void add_pair(cJSON *array, const char *key, const char *value) {
    cJSON *pair = cJSON_CreateObject();
    cJSON_AddStringToObject(pair, "key", key);
    cJSON_AddStringToObject(pair, "value", value ? value : "");
    cJSON_AddItemToArray(array, pair);
}

/* Appends the config's leaves to params as "optimizer.lr", "model.layers.0.units" (MLflow's
 * keys allow no brackets): strings as they are, numbers and booleans as JSON writes them. */
static void flatten(const cJSON *node, const char *prefix, cJSON *params) {
    if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
        int index = 0;
        for (const cJSON *child = node->child; child; child = child->next, index++) {
            char key[512];
            if (cJSON_IsArray(node)) snprintf(key, sizeof key, "%s%s%d", prefix, prefix[0] ? "." : "", index);
            else snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", child->string);
            flatten(child, key, params);
        }
        return;
    }
    if (cJSON_IsString(node)) {
        add_pair(params, prefix, node->valuestring);
        return;
    }
    char *text = cJSON_PrintUnformatted(node);
    add_pair(params, prefix, text ? text : "");
    free(text);
}

/* The params of a run: its flattened config, and each --set as set.PATH (brackets as dots). */
static cJSON *run_params(const cJSON *manifest) {
    cJSON *params = cJSON_CreateArray();
    flatten(cJSON_GetObjectItemCaseSensitive(manifest, "config"), "", params);
    const cJSON *override;
    cJSON_ArrayForEach(override, cJSON_GetObjectItemCaseSensitive(manifest, "overrides")) {
        const char *text = cJSON_GetStringValue(override);
        const char *eq = text ? strchr(text, '=') : NULL;
        if (!eq) continue;
        char key[512] = "set.";
        size_t n = 4;
        for (const char *p = text; p < eq && n + 1 < sizeof key; p++) {
            if (*p == ']') continue;
            key[n++] = *p == '[' ? '.' : *p;
        }
        key[n] = '\0';
        add_pair(params, key, eq + 1);
    }
    return params;
}

/* MLflow's name for the user, as its clients set mlflow.user. */
static const char *user_name(void) {
    const char *user = getenv("USER");
    if (user && user[0]) return user;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "unknown";
}

/* The run's tags: MLflow's standard ones and detrain's fields. */
static cJSON *run_tags(const cJSON *manifest, const char *run_dir) {
    cJSON *tags = cJSON_CreateArray();
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(manifest, "code");
    const cJSON *final = cJSON_GetObjectItemCaseSensitive(manifest, "final");
    add_pair(tags, "mlflow.source.git.commit", dt_json_string(code, "git_commit"));
    add_pair(tags, "mlflow.source.name", dt_json_string(manifest, "config_file"));
    add_pair(tags, "mlflow.source.type", "LOCAL");
    add_pair(tags, "mlflow.user", user_name());
    add_pair(tags, "detrain.run_id", dt_json_string(manifest, "run_id"));
    add_pair(tags, "detrain.experiment", dt_json_string(manifest, "experiment"));
    add_pair(tags, "detrain.version", dt_json_string(code, "version"));
    add_pair(tags, "detrain.git_dirty", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(code, "git_dirty")) ? "true" : "false");
    add_pair(tags, "detrain.mode", dt_json_string(manifest, "mode"));
    add_pair(tags, "detrain.device", dt_json_string(manifest, "device"));
    add_pair(tags, "detrain.config_sha256", dt_json_string(manifest, "config_sha256"));
    add_pair(tags, "detrain.run_dir", run_dir);
    add_pair(tags, "detrain.status", dt_json_string(manifest, "status"));
    const char *params_sha256 = dt_json_string(final, "params_sha256");
    if (params_sha256) add_pair(tags, "detrain.params_sha256", params_sha256);
    return tags;
}

/* POSTs `items` (an array of pairs or metrics) under `field` of log-batch, `per` at a time;
 * *done counts the items sent. */
static dt_status log_batch(dt_http *h, const char *run_id, const char *field, const cJSON *items, int per, int *done,
                           dt_error *err) {
    int n = cJSON_GetArraySize(items);
    for (int start = 0; start < n; start += per) {
        cJSON *body = cJSON_CreateObject(), *part = cJSON_AddArrayToObject(body, field);
        cJSON_AddStringToObject(body, "run_id", run_id);
        for (int i = start; i < n && i < start + per; i++)
            cJSON_AddItemToArray(part, cJSON_Duplicate(cJSON_GetArrayItem(items, i), 1));
        dt_status status = dt_http_json(h, "POST", API "/runs/log-batch", body, NULL, NULL, err);
        cJSON_Delete(body);
        if (status != DT_OK) return status;
        if (done) *done = start + per < n ? start + per : n;
    }
    return DT_OK;
}

/* The experiment's id into st, creating the experiment when it is missing. */
static dt_status ensure_experiment(dt_http *h, dt_mlflow_state *st, dt_error *err) {
    if (st->experiment_id[0]) return DT_OK;
    char *name = dt_http_escape(h, st->experiment);
    if (!name) return dt_fail(err, DT_NOMEM, "out of memory");
    char endpoint[1024]; /* the experiment's name (st->experiment: 255 bytes) escaped, at most 3 bytes each */
    snprintf(endpoint, sizeof endpoint, API "/experiments/get-by-name?experiment_name=%s", name);
    free(name);
    dt_status status = DT_OK;
    for (int attempt = 0; attempt < 2 && !st->experiment_id[0]; attempt++) {
        cJSON *reply = NULL;
        long code = 0;
        status = dt_http_json(h, "GET", endpoint, NULL, &reply, &code, err);
        if (status == DT_OK) {
            const char *id = dt_json_string(cJSON_GetObjectItemCaseSensitive(reply, "experiment"), "experiment_id");
            snprintf(st->experiment_id, sizeof st->experiment_id, "%s", id ? id : "");
        }
        cJSON_Delete(reply);
        if (status == DT_OK || code != 404) break;
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "name", st->experiment);
        status = dt_http_json(h, "POST", API "/experiments/create", body, &reply, &code, err);
        cJSON_Delete(body);
        if (status == DT_OK) {
            const char *id = dt_json_string(reply, "experiment_id");
            snprintf(st->experiment_id, sizeof st->experiment_id, "%s", id ? id : "");
        }
        cJSON_Delete(reply);
        if (status != DT_OK && code != 400) break; /* 400: RESOURCE_ALREADY_EXISTS, made meanwhile */
    }
    if (status == DT_OK && !st->experiment_id[0])
        status = dt_fail(err, DT_NETWORK, "%s: no id for experiment %s", h->shown, st->experiment);
    return status;
}

/* Copies run.info's id and artifact root into st. */
static void take_info(dt_mlflow_state *st, const cJSON *run) {
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(run, "info");
    const char *id = dt_json_string(info, "run_id"), *uri = dt_json_string(info, "artifact_uri");
    const char *status = dt_json_string(info, "status");
    if (id) snprintf(st->run_id, sizeof st->run_id, "%s", id);
    if (uri) snprintf(st->artifact_uri, sizeof st->artifact_uri, "%s", uri);
    if (status) snprintf(st->status, sizeof st->status, "%s", status);
}

/* The MLflow run of this detrain run: one tagged detrain.run_id = run_id, or a new one. */
static dt_status ensure_run(dt_http *h, dt_mlflow_state *st, const cJSON *manifest, dt_error *err) {
    if (st->run_id[0]) return DT_OK;
    const char *detrain_id = dt_json_string(manifest, "run_id");
    if (!detrain_id) return dt_fail(err, DT_CHECKPOINT, "the manifest has no run_id");
    char filter[256];
    snprintf(filter, sizeof filter, "tags.`detrain.run_id` = '%s'", detrain_id);
    cJSON *body = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(body, "experiment_ids");
    cJSON_AddItemToArray(ids, cJSON_CreateString(st->experiment_id));
    cJSON_AddStringToObject(body, "filter", filter);
    cJSON_AddNumberToObject(body, "max_results", 1);
    cJSON_AddStringToObject(body, "run_view_type", "ALL");
    cJSON *reply = NULL;
    dt_status status = dt_http_json(h, "POST", API "/runs/search", body, &reply, NULL, err);
    cJSON_Delete(body);
    if (status == DT_OK) take_info(st, cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply, "runs"), 0));
    cJSON_Delete(reply);
    if (status != DT_OK || st->run_id[0]) return status; /* found: read it before sending */
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "experiment_id", st->experiment_id);
    cJSON_AddStringToObject(body, "run_name", detrain_id);
    cJSON_AddNumberToObject(body, "start_time", (double)iso_ms(dt_json_string(manifest, "started_at")));
    add_pair(cJSON_AddArrayToObject(body, "tags"), "detrain.run_id", detrain_id);
    status = dt_http_json(h, "POST", API "/runs/create", body, &reply, NULL, err);
    cJSON_Delete(body);
    if (status == DT_OK) take_info(st, cJSON_GetObjectItemCaseSensitive(reply, "run"));
    cJSON_Delete(reply);
    if (status == DT_OK && !st->run_id[0]) status = dt_fail(err, DT_NETWORK, "%s: runs/create gave no run id", h->shown);
    if (status == DT_OK) st->contacted = true; /* a new run holds nothing yet */
    return status;
}

/* The last step of metric `key` the run holds (0: none), from its history. */
static dt_status last_step_of(dt_http *h, const char *run_id, const char *key, int64_t *last, dt_error *err) {
    char path[512];
    snprintf(path, sizeof path, API "/metrics/get-history?run_id=%s&metric_key=%s&max_results=25000", run_id, key);
    cJSON *reply = NULL;
    dt_status status = dt_http_json(h, "GET", path, NULL, &reply, NULL, err);
    *last = 0;
    const cJSON *point;
    cJSON_ArrayForEach(point, cJSON_GetObjectItemCaseSensitive(reply, "metrics")) {
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(point, "step");
        int64_t s = cJSON_IsNumber(step) ? (int64_t)step->valuedouble : (int64_t)strtoll(cJSON_GetStringValue(step) ? step->valuestring : "0", NULL, 10);
        if (s > *last) *last = s;
    }
    cJSON_Delete(reply);
    return status;
}

/* Reads what an existing run holds: status, artifact root, dataset inputs, metric history. */
static dt_status read_run(dt_http *h, dt_mlflow_state *st, int64_t step_loss_every, dt_error *err) {
    if (st->contacted) return DT_OK;
    char path[256];
    snprintf(path, sizeof path, API "/runs/get?run_id=%s", st->run_id);
    cJSON *reply = NULL;
    dt_status status = dt_http_json(h, "GET", path, NULL, &reply, NULL, err);
    if (status == DT_OK) {
        const cJSON *run = cJSON_GetObjectItemCaseSensitive(reply, "run");
        take_info(st, run);
        const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "inputs"),
                                                               "dataset_inputs");
        st->inputs = cJSON_GetArraySize(inputs);
    }
    cJSON_Delete(reply);
    for (int k = 0; k < DT_MLFLOW_METRICS && status == DT_OK; k++)
        if (k != STEP_LOSS || step_loss_every > 0)
            status = last_step_of(h, st->run_id, dt_mlflow_metric_names[k], &st->last_step[k], err);
    if (status == DT_OK) st->contacted = true;
    return status;
}

/* The data files as MLflow dataset inputs: name, digest (the SHA-256's first 32 hex digits:
 * MLflow keeps at most 36), source, and the whole SHA-256, size and samples in the profile. */
static cJSON *run_inputs(const cJSON *manifest) {
    cJSON *datasets = cJSON_CreateArray();
    const char *splits[3] = {"train", "test", "validation"};
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(manifest, "data");
    for (int s = 0; s < 3; s++) {
        const cJSON *split = cJSON_GetObjectItemCaseSensitive(data, splits[s]), *file;
        cJSON_ArrayForEach(file, cJSON_GetObjectItemCaseSensitive(split, "files")) {
            const char *path = dt_json_string(file, "path"), *sha = dt_json_string(file, "sha256");
            if (!path || !sha) continue;
            const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
            cJSON *input = cJSON_CreateObject(), *dataset = cJSON_AddObjectToObject(input, "dataset");
            char name[512], digest[33], *source = NULL, *profile = NULL;
            snprintf(name, sizeof name, "%s:%s", splits[s], base);
            snprintf(digest, sizeof digest, "%.32s", sha);
            cJSON *src = cJSON_CreateObject(), *prof = cJSON_CreateObject();
            cJSON_AddStringToObject(src, "uri", path);
            cJSON_AddStringToObject(prof, "sha256", sha);
            cJSON_AddItemToObject(prof, "size", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(file, "size"), 1));
            cJSON_AddItemToObject(prof, "samples", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(split, "samples"), 1));
            source = cJSON_PrintUnformatted(src), profile = cJSON_PrintUnformatted(prof);
            cJSON_AddStringToObject(dataset, "name", name);
            cJSON_AddStringToObject(dataset, "digest", digest);
            cJSON_AddStringToObject(dataset, "source_type", "local");
            cJSON_AddStringToObject(dataset, "source", source ? source : "");
            cJSON_AddStringToObject(dataset, "profile", profile ? profile : "");
            add_pair(cJSON_AddArrayToObject(input, "tags"), "mlflow.data.context", splits[s]);
            cJSON_AddItemToArray(datasets, input);
            free(source), free(profile);
            cJSON_Delete(src), cJSON_Delete(prof);
        }
    }
    return datasets;
}

/* {"key", "value", "timestamp", "step"} appended to points. */
static void add_point(cJSON *points, const char *key, double value, int64_t step) {
    cJSON *point = cJSON_CreateObject();
    cJSON_AddStringToObject(point, "key", key);
    cJSON_AddNumberToObject(point, "value", value);
    cJSON_AddNumberToObject(point, "timestamp", (double)now_ms());
    cJSON_AddNumberToObject(point, "step", (double)step);
    cJSON_AddItemToArray(points, point);
}

/* The step losses of trace.jsonl at every `every`-th step after `after`, into points. run_dir
 * fits DT_PATH_MAX (dt_mlflow_sync). */
static void trace_points(const char *run_dir, int64_t every, int64_t after, cJSON *points) {
    char path[DT_PATH_MAX + 32], line[512];
    snprintf(path, sizeof path, "%s/trace.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        cJSON *entry = cJSON_Parse(line);
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(entry, "step");
        const cJSON *loss = cJSON_GetObjectItemCaseSensitive(entry, "loss");
        if (cJSON_IsNumber(step) && cJSON_IsNumber(loss) && (int64_t)step->valuedouble > after &&
            (int64_t)step->valuedouble % every == 0)
            add_point(points, "step_loss", loss->valuedouble, (int64_t)step->valuedouble);
        cJSON_Delete(entry);
    }
    if (f) fclose(f);
}

/* Sends every metric point the run does not hold yet, in log-batch's portions. */
static dt_status send_metrics(dt_http *h, dt_mlflow_state *st, const cJSON *manifest, const char *run_dir,
                              int64_t step_loss_every, dt_error *err) {
    cJSON *points = cJSON_CreateArray();
    int64_t last[DT_MLFLOW_METRICS];
    memcpy(last, st->last_step, sizeof last);
    const cJSON *epoch;
    cJSON_ArrayForEach(epoch, cJSON_GetObjectItemCaseSensitive(manifest, "epochs")) {
        const cJSON *number = cJSON_GetObjectItemCaseSensitive(epoch, "epoch");
        if (!cJSON_IsNumber(number)) continue;
        const int64_t step = (int64_t)number->valuedouble;
        for (int k = 0; k < STEP_LOSS; k++) {
            const cJSON *value = cJSON_GetObjectItemCaseSensitive(epoch, manifest_keys[k]);
            if (step <= st->last_step[k] || !cJSON_IsNumber(value) || !isfinite(value->valuedouble)) continue;
            add_point(points, dt_mlflow_metric_names[k], value->valuedouble, step);
            if (step > last[k]) last[k] = step;
        }
    }
    if (step_loss_every > 0) {
        int before = cJSON_GetArraySize(points);
        trace_points(run_dir, step_loss_every, st->last_step[STEP_LOSS], points);
        const cJSON *newest = cJSON_GetArrayItem(points, cJSON_GetArraySize(points) - 1);
        if (cJSON_GetArraySize(points) > before)
            last[STEP_LOSS] = (int64_t)cJSON_GetObjectItemCaseSensitive(newest, "step")->valuedouble;
    }
    int sent = 0;
    dt_status status = log_batch(h, st->run_id, "metrics", points, BATCH_METRICS, &sent, err);
    st->points += sent;
    if (status == DT_OK) memcpy(st->last_step, last, sizeof last);
    else st->contacted = false; /* a lost answer may have landed: read the history again */
    cJSON_Delete(points);
    return status;
}

/* PUTs the file `local` as artifact `name` under the run's artifact root `root`; *count + 1. */
static dt_status upload(dt_http *h, const char *root, const char *local, const char *name, int *count, dt_error *err) {
    char endpoint[2 * DT_PATH_MAX]; /* a URL's path: the artifact root (a URI) and the artifact's name */
    const int len = snprintf(endpoint, sizeof endpoint, "/api/2.0/mlflow-artifacts/artifacts/%s/%s", root, name);
    if (len < 0 || (size_t)len >= sizeof endpoint)
        return dt_fail(err, DT_NETWORK, "%s: the run's artifact root %.200s... is too long for artifact %s", h->shown,
                       root, name);
    dt_status status = dt_http_put_file(h, endpoint, local, err);
    if (status == DT_OK) ++*count;
    return status;
}

/* Uploads run_dir's manifest.json, trace.jsonl and final.h5 (those that exist) and the files of
 * model_dir (as model/NAME) under the run's artifact root, through the server's artifact proxy. */
static dt_status upload_artifacts(dt_http *h, dt_mlflow_state *st, const char *run_dir, const char *model_dir,
                                  dt_error *err) {
    static const char prefix[] = "mlflow-artifacts:/";
    if (strncmp(st->artifact_uri, prefix, sizeof prefix - 1) != 0)
        return dt_fail(err, DT_NETWORK,
                       "%s: the run's artifact root %s is not served by the tracking server (start it with "
                       "--serve-artifacts)", h->shown, st->artifact_uri);
    const char *root = st->artifact_uri + sizeof prefix - 1;
    while (*root == '/') root++;
    const char *own[3] = {"manifest.json", "trace.jsonl", "final.h5"};
    int count = 0;
    dt_status status = DT_OK;
    char local[DT_PATH_MAX + 32], name[512]; /* name: "model/" and a file name (at most 255 bytes) */
    for (int i = 0; i < 3 && status == DT_OK; i++) {
        struct stat file;
        status = dt_path_join(local, sizeof local, run_dir, own[i], err);
        if (status == DT_OK && stat(local, &file) == 0) status = upload(h, root, local, own[i], &count, err);
    }
    DIR *d = model_dir && status == DT_OK ? opendir(model_dir) : NULL;
    for (struct dirent *entry; status == DT_OK && d && (entry = readdir(d));) {
        if (entry->d_name[0] == '.') continue;
        snprintf(name, sizeof name, "model/%s", entry->d_name);
        status = dt_path_join(local, sizeof local, model_dir, entry->d_name, err);
        if (status == DT_OK) status = upload(h, root, local, name, &count, err);
    }
    if (d) closedir(d);
    if (status == DT_OK) st->artifacts = count;
    return status;
}

/* MLflow's status of a detrain status. */
static const char *mlflow_status(const char *status) {
    if (!status || !strcmp(status, "running")) return "RUNNING";
    if (!strcmp(status, "completed")) return "FINISHED";
    if (!strcmp(status, "interrupted")) return "KILLED";
    return "FAILED";
}

dt_status dt_mlflow_sync(dt_http *h, dt_mlflow_state *st, const cJSON *manifest, const char *run_dir,
                         const char *model_dir, int64_t step_loss_every, dt_error *err) {
    dt_status status = DT_OK;
    cJSON *params = NULL, *tags = NULL, *inputs = NULL;
    char *tag_text = NULL;
    DT_TRY(dt_path_check(run_dir, DT_PATH_MAX, err)); /* a run's folder: then its files' paths fit */
    DT_TRY(ensure_experiment(h, st, err));
    DT_TRY(ensure_run(h, st, manifest, err));
    DT_TRY(read_run(h, st, step_loss_every, err));
    if (!st->params) {
        params = run_params(manifest);
        DT_TRY(log_batch(h, st->run_id, "params", params, BATCH_PARAMS, &st->params, err));
    }
    tags = run_tags(manifest, run_dir);
    tag_text = cJSON_PrintUnformatted(tags);
    if (tag_text && (!st->tags || strcmp(st->tags, tag_text) != 0)) {
        DT_TRY(log_batch(h, st->run_id, "tags", tags, BATCH_TAGS, NULL, err));
        free(st->tags);
        st->tags = tag_text;
        tag_text = NULL;
    }
    if (!st->inputs) {
        inputs = cJSON_CreateObject();
        cJSON_AddStringToObject(inputs, "run_id", st->run_id);
        cJSON *datasets = run_inputs(manifest);
        const int n = cJSON_GetArraySize(datasets);
        cJSON_AddItemToObject(inputs, "datasets", datasets);
        if (n) DT_TRY(dt_http_json(h, "POST", API "/runs/log-inputs", inputs, NULL, NULL, err));
        st->inputs = n;
    }
    DT_TRY(send_metrics(h, st, manifest, run_dir, step_loss_every, err));
    const char *want = mlflow_status(dt_json_string(manifest, "status"));
    if (strcmp(want, "RUNNING") != 0 && !st->artifacts)
        DT_TRY(upload_artifacts(h, st, run_dir, model_dir, err));
    if (strcmp(st->status, want) != 0) {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "run_id", st->run_id);
        cJSON_AddStringToObject(body, "status", want);
        if (strcmp(want, "RUNNING") != 0)
            cJSON_AddNumberToObject(body, "end_time", (double)iso_ms(dt_json_string(manifest, "finished_at")));
        status = dt_http_json(h, "POST", API "/runs/update", body, NULL, NULL, err);
        cJSON_Delete(body);
        if (status == DT_OK) snprintf(st->status, sizeof st->status, "%s", want);
    }
cleanup:
    cJSON_Delete(params);
    cJSON_Delete(tags);
    cJSON_Delete(inputs);
    free(tag_text);
    return status;
}

cJSON *dt_mlflow_state_json(const dt_mlflow_state *st) {
    cJSON *record = cJSON_CreateObject();
    cJSON_AddStringToObject(record, "experiment", st->experiment);
    cJSON_AddStringToObject(record, "experiment_id", st->experiment_id);
    cJSON_AddStringToObject(record, "run_id", st->run_id);
    cJSON_AddStringToObject(record, "artifact_uri", st->artifact_uri);
    cJSON *sent = cJSON_AddObjectToObject(record, "sent");
    cJSON_AddNumberToObject(sent, "params", st->params);
    cJSON_AddNumberToObject(sent, "inputs", st->inputs);
    cJSON *metrics = cJSON_AddObjectToObject(sent, "metrics");
    for (int k = 0; k < DT_MLFLOW_METRICS; k++)
        cJSON_AddNumberToObject(metrics, dt_mlflow_metric_names[k], (double)st->last_step[k]);
    cJSON_AddNumberToObject(sent, "artifacts", st->artifacts);
    cJSON_AddStringToObject(sent, "status", st->status);
    return record;
}

/* Whether two servers as shown are one, whoever logs in (user-info "***@" aside). A URI longer
 * than a server's (DT_PATH_MAX: config.h, http.h) is no server's: never compared cut. */
static int same_server(const char *a, const char *b) {
    char bare[2][DT_PATH_MAX];
    const char *shown[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const char *stars = strstr(shown[i], "://***@");
        const int len = stars ? snprintf(bare[i], sizeof bare[i], "%.*s://%s", (int)(stars - shown[i]), shown[i], stars + 7)
                              : snprintf(bare[i], sizeof bare[i], "%s", shown[i]);
        if (len < 0 || (size_t)len >= sizeof bare[i]) return 0;
    }
    return strcmp(bare[0], bare[1]) == 0;
}

void dt_mlflow_state_load(dt_mlflow_state *st, const cJSON *record, const char *server, const char *experiment) {
    memset(st, 0, sizeof *st);
    snprintf(st->experiment, sizeof st->experiment, "%s", experiment);
    const char *recorded_server = dt_json_string(record, "server");
    const char *recorded_experiment = dt_json_string(record, "experiment");
    if (!recorded_server || !same_server(recorded_server, server) || !recorded_experiment ||
        strcmp(recorded_experiment, experiment) != 0)
        return;
    const char *id = dt_json_string(record, "experiment_id");
    const char *run_id = dt_json_string(record, "run_id"), *uri = dt_json_string(record, "artifact_uri");
    snprintf(st->experiment_id, sizeof st->experiment_id, "%s", id ? id : "");
    snprintf(st->run_id, sizeof st->run_id, "%s", run_id ? run_id : "");
    snprintf(st->artifact_uri, sizeof st->artifact_uri, "%s", uri ? uri : "");
}

void dt_mlflow_state_free(dt_mlflow_state *st) {
    free(st->tags);
    st->tags = NULL;
}

/* The MLflow version of registered model `name` made from run_id into version ("": none). */
static dt_status version_of_run(dt_http *h, const char *name, const char *run_id, char version[32], dt_error *err) {
    char filter[512];
    snprintf(filter, sizeof filter, "name='%s' and run_id='%s'", name, run_id);
    char *escaped = dt_http_escape(h, filter);
    if (!escaped) return dt_fail(err, DT_NOMEM, "out of memory");
    char endpoint[1024]; /* the filter escaped (a model's name has at most 100 bytes, a run id 64) */
    snprintf(endpoint, sizeof endpoint, API "/model-versions/search?filter=%s", escaped);
    free(escaped);
    cJSON *reply = NULL;
    dt_status status = dt_http_json(h, "GET", endpoint, NULL, &reply, NULL, err);
    const char *found = dt_json_string(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply, "model_versions"), 0),
                               "version");
    snprintf(version, 32, "%s", found ? found : "");
    cJSON_Delete(reply);
    return status;
}

dt_status dt_mlflow_register(dt_http *h, const char *name, const char *run_id, const char *artifact_uri,
                             const char *description, char version[32], dt_error *err) {
    dt_status status = version_of_run(h, name, run_id, version, err);
    if (status != DT_OK || version[0]) return status;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "name", name);
    long code = 0;
    status = dt_http_json(h, "POST", API "/registered-models/create", body, NULL, &code, err);
    cJSON_Delete(body);
    if (status != DT_OK && code != 400) return status; /* 400: RESOURCE_ALREADY_EXISTS */
    char source[DT_PATH_MAX + 32]; /* artifact_uri: dt_mlflow_state's, 1024 bytes */
    snprintf(source, sizeof source, "%s/model", artifact_uri);
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "name", name);
    cJSON_AddStringToObject(body, "source", source);
    cJSON_AddStringToObject(body, "run_id", run_id);
    if (description && description[0]) cJSON_AddStringToObject(body, "description", description);
    cJSON *reply = NULL;
    status = dt_http_json(h, "POST", API "/model-versions/create", body, &reply, NULL, err);
    cJSON_Delete(body);
    const char *made = dt_json_string(cJSON_GetObjectItemCaseSensitive(reply, "model_version"), "version");
    snprintf(version, 32, "%s", made ? made : "");
    cJSON_Delete(reply);
    return status;
}

/* version_of_run, with DT_NETWORK when the model has no version of the run (alias, tags). */
static dt_status existing_version_of_run(dt_http *h, const char *name, const char *run_id, char version[32],
                                         dt_error *err) {
    dt_status status = version_of_run(h, name, run_id, version, err);
    if (status == DT_OK && !version[0])
        status = dt_fail(err, DT_NETWORK, "%s: registered model %s has no version from MLflow run %s", h->shown, name,
                         run_id);
    return status;
}

dt_status dt_mlflow_alias(dt_http *h, const char *name, const char *alias, const char *run_id, dt_error *err) {
    char version[32];
    dt_status status = existing_version_of_run(h, name, run_id, version, err);
    if (status != DT_OK) return status;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "name", name);
    cJSON_AddStringToObject(body, "alias", alias);
    cJSON_AddStringToObject(body, "version", version);
    status = dt_http_json(h, "POST", API "/registered-models/alias", body, NULL, NULL, err);
    cJSON_Delete(body);
    return status;
}

dt_status dt_mlflow_version_tag(dt_http *h, const char *name, const char *run_id, const char *key, const char *value,
                                dt_error *err) {
    char version[32];
    dt_status status = existing_version_of_run(h, name, run_id, version, err);
    if (status != DT_OK) return status;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "name", name);
    cJSON_AddStringToObject(body, "version", version);
    cJSON_AddStringToObject(body, "key", key);
    cJSON_AddStringToObject(body, "value", value);
    status = dt_http_json(h, "POST", API "/model-versions/set-tag", body, NULL, NULL, err);
    cJSON_Delete(body);
    return status;
}
