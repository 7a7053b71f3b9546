/* diff.c — detrain diff: what changed between two runs, section by section (diff.h). */
#include "diff.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "jsondiff.h"
#include "runrec.h"

/* dt_json_diff callback: one {"path", "a", "b"} per differing path, the first DT_DIFF_MAX_LINES. */
static void add_difference(void *ctx, const char *path, const cJSON *a, const cJSON *b) {
    cJSON *differences = ctx;
    if (cJSON_GetArraySize(differences) >= DT_DIFF_MAX_LINES) return;
    char va[160], vb[160];
    dt_json_brief(a, va, sizeof va);
    dt_json_brief(b, vb, sizeof vb);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "path", path);
    cJSON_AddStringToObject(line, "a", va);
    cJSON_AddStringToObject(line, "b", vb);
    cJSON_AddItemToArray(differences, line);
}

/* Compares the keys of both manifests under one heading into `sections`; returns the number
 * of differences. */
static int section(cJSON *sections, const char *heading, const cJSON *a, const cJSON *b, const char *const *keys,
                   int n_keys) {
    cJSON *left = cJSON_CreateObject(), *right = cJSON_CreateObject();
    for (int i = 0; i < n_keys; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[i]), *y = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
        if (x) cJSON_AddItemToObject(left, keys[i], cJSON_Duplicate(x, 1));
        if (y) cJSON_AddItemToObject(right, keys[i], cJSON_Duplicate(y, 1));
    }
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "heading", heading);
    const int n = dt_json_diff(left, right, "", add_difference, cJSON_AddArrayToObject(entry, "differences"));
    cJSON_AddNumberToObject(entry, "count", n);
    cJSON_AddItemToArray(sections, entry);
    cJSON_Delete(left);
    cJSON_Delete(right);
    return n;
}

/* The loss traces: the first step whose bits differ, how many differ, and the lengths, into
 * report's "trace"; returns 1 when they differ. */
static int compare_traces(const dt_run_record *a, const dt_run_record *b, cJSON *report) {
    const int64_t n = a->n_steps < b->n_steps ? a->n_steps : b->n_steps;
    int64_t first = 0, differing = 0;
    for (int64_t i = 0; i < n; i++)
        if (a->loss_bits[i] != b->loss_bits[i] && !differing++) first = i + 1;
    char va[64] = "", vb[64] = "";
    if (differing) {
        dt_run_bits_text(a->loss_bits[first - 1], va, sizeof va);
        dt_run_bits_text(b->loss_bits[first - 1], vb, sizeof vb);
    }
    cJSON *trace = cJSON_AddObjectToObject(report, "trace");
    cJSON_AddNumberToObject(trace, "steps_a", (double)a->n_steps);
    cJSON_AddNumberToObject(trace, "steps_b", (double)b->n_steps);
    cJSON_AddNumberToObject(trace, "common", (double)n);
    cJSON_AddNumberToObject(trace, "differing", (double)differing);
    cJSON_AddNumberToObject(trace, "first", (double)first);
    cJSON_AddStringToObject(trace, "a", va);
    cJSON_AddStringToObject(trace, "b", vb);
    return differing || a->n_steps != b->n_steps;
}

/* Whether data set `set` (train, test, validation) has the same files, by SHA-256, in both. */
static int same_data(const cJSON *a, const cJSON *b, const char *set) {
    char key[64];
    snprintf(key, sizeof key, "data.%s.files", set);
    const cJSON *fa = dt_run_record_item(a, key), *fb = dt_run_record_item(b, key);
    const int n = cJSON_GetArraySize(fa);
    if (!fa || n != cJSON_GetArraySize(fb)) return 0;
    for (int i = 0; i < n; i++) {
        const char *x = dt_run_record_string(cJSON_GetArrayItem(fa, i), "sha256");
        const char *y = dt_run_record_string(cJSON_GetArrayItem(fb, i), "sha256");
        if (!x[0] || strcmp(x, y) != 0) return 0;
    }
    return 1;
}

/* Removes from one manifest (a copy) where data set `set` lies: its files' paths, the source's
 * path and labels, and the --set overrides of them; `first` receives the first file's path. */
static void remove_data_paths(cJSON *m, const char *set, char *first, size_t size) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "data.%s.", set);
    cJSON *entry, *files = cJSON_GetObjectItemCaseSensitive(
                       cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "data"), set), "files");
    cJSON_ArrayForEach(entry, files) {
        if (!first[0]) snprintf(first, size, "%s", dt_run_record_string(entry, "path"));
        cJSON_DeleteItemFromObjectCaseSensitive(entry, "path");
    }
    cJSON *source = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "config"), "data"), set);
    cJSON_DeleteItemFromObjectCaseSensitive(source, "path");
    cJSON_DeleteItemFromObjectCaseSensitive(source, "labels");
    cJSON *overrides = cJSON_GetObjectItemCaseSensitive(m, "overrides");
    for (int i = cJSON_GetArraySize(overrides) - 1; i >= 0; i--) {
        const char *text = cJSON_GetStringValue(cJSON_GetArrayItem(overrides, i));
        if (text && !strncmp(text, prefix, strlen(prefix)) &&
            (!strncmp(text + strlen(prefix), "path=", 5) || !strncmp(text + strlen(prefix), "labels=", 7)))
            cJSON_DeleteItemFromArray(overrides, i);
    }
}

/* Removes from both manifests (copies) where a data set's files lie when their SHA-256 are the
 * same on both sides: the digest is the data's identity, so another path to the same bytes is
 * no difference. Lists the sets whose paths differed in `data_paths`. */
static void set_aside_data_paths(cJSON *a, cJSON *b, cJSON *data_paths) {
    static const char *const sets[] = {"train", "test", "validation"};
    for (int s = 0; s < 3; s++) {
        if (!same_data(a, b, sets[s])) continue;
        char before[2][512] = {"", ""};
        remove_data_paths(a, sets[s], before[0], sizeof before[0]);
        remove_data_paths(b, sets[s], before[1], sizeof before[1]);
        if (strcmp(before[0], before[1]) == 0) continue;
        cJSON *moved = cJSON_CreateObject();
        cJSON_AddStringToObject(moved, "set", sets[s]);
        cJSON_AddStringToObject(moved, "a", before[0]);
        cJSON_AddStringToObject(moved, "b", before[1]);
        cJSON_AddItemToArray(data_paths, moved);
    }
}

/* Removes from both manifests (copies) which config file each run read when the settings are
 * the same (config and overrides, data paths set aside): another file holding the same
 * settings, e.g. one naming another path to the same data, is no difference. Records the two
 * file names in `config_files` (left empty when nothing was set aside). */
static void set_aside_config_files(cJSON *a, cJSON *b, cJSON *config_files) {
    static const char *const settings[] = {"config", "overrides"}, *const file_keys[] = {"config_file", "config_file_sha256"};
    for (int k = 0; k < 2; k++)
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, settings[k]), cJSON_GetObjectItemCaseSensitive(b, settings[k]), 1))
            return;
    if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, file_keys[1]), cJSON_GetObjectItemCaseSensitive(b, file_keys[1]), 1))
        return;
    cJSON_AddStringToObject(config_files, "a", dt_run_record_string(a, file_keys[0]));
    cJSON_AddStringToObject(config_files, "b", dt_run_record_string(b, file_keys[0]));
    for (int k = 0; k < 2; k++) {
        cJSON_DeleteItemFromObjectCaseSensitive(a, file_keys[k]);
        cJSON_DeleteItemFromObjectCaseSensitive(b, file_keys[k]);
    }
}

/* The run's identity for the report's "runs": run_id, status, started_at. */
static cJSON *run_identity(const cJSON *m) {
    cJSON *run = cJSON_CreateObject();
    const char *keys[3] = {"run_id", "status", "started_at"};
    for (int k = 0; k < 3; k++) cJSON_AddStringToObject(run, keys[k], dt_run_record_string(m, keys[k]));
    return run;
}

/* The sections of the report, in order, and the manifest keys each compares. */
static const struct {
    const char *heading;
    const char *keys[4];
    int n_keys;
} sections[] = {{"config", {"config", "overrides"}, 2},
                {"code", {"code", "config_repo", "config_file", "config_file_sha256"}, 4},
                {"data", {"data"}, 1},
                {"seeds", {"seeds"}, 1},
                {"mode and device", {"mode", "device", "threads"}, 3},
                {"environment", {"environment"}, 1},
                {"results", {"status", "final"}, 2}};

/* The report of two records whose manifests (copies) are ma and mb. */
static cJSON *compare(const char *run_a, const char *run_b, const dt_run_record *a, const dt_run_record *b, cJSON *ma,
                      cJSON *mb) {
    cJSON *report = cJSON_CreateObject();
    cJSON_AddStringToObject(report, "a", run_a);
    cJSON_AddStringToObject(report, "b", run_b);
    cJSON *runs = cJSON_AddArrayToObject(report, "runs");
    cJSON_AddItemToArray(runs, run_identity(ma));
    cJSON_AddItemToArray(runs, run_identity(mb));
    set_aside_data_paths(ma, mb, cJSON_AddArrayToObject(report, "data_paths"));
    set_aside_config_files(ma, mb, cJSON_AddObjectToObject(report, "config_files"));
    cJSON *list = cJSON_AddArrayToObject(report, "sections");
    int n = 0;
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++)
        n += section(list, sections[s].heading, ma, mb, sections[s].keys, sections[s].n_keys);
    n += compare_traces(a, b, report);
    cJSON_AddNumberToObject(report, "differences", n);
    return report;
}

dt_status dt_diff(const char *run_a, const char *run_b, cJSON **report, dt_error *err) {
    dt_run_record a, b;
    memset(&b, 0, sizeof b);
    *report = NULL;
    dt_status status = dt_run_record_load(run_a, &a, err);
    if (status == DT_OK) status = dt_run_record_load(run_b, &b, err);
    cJSON *ma = status == DT_OK ? cJSON_Duplicate(a.manifest, 1) : NULL;
    cJSON *mb = status == DT_OK ? cJSON_Duplicate(b.manifest, 1) : NULL;
    if (status == DT_OK && ma && mb) *report = compare(run_a, run_b, &a, &b, ma, mb);
    if (status == DT_OK && !*report) status = dt_fail(err, DT_NOMEM, "out of memory comparing %s and %s", run_a, run_b);
    cJSON_Delete(ma);
    cJSON_Delete(mb);
    dt_run_record_free(&a);
    dt_run_record_free(&b);
    return status;
}
