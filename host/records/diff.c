/* diff.c — detrain diff: what changed between two runs, section by section. */
#include "diff.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "jsondiff.h"
#include "runrec.h"

#define MAX_LINES_PER_SECTION 12

/* Counts and prints the differences of one section. */
typedef struct {
    int n;
} section_state;

/* dt_json_diff callback: one line per differing path (the first MAX_LINES_PER_SECTION). */
static void print_difference(void *ctx, const char *path, const cJSON *a, const cJSON *b) {
    section_state *s = ctx;
    if (s->n++ >= MAX_LINES_PER_SECTION) return;
    char va[160], vb[160];
    dt_json_brief(a, va, sizeof va);
    dt_json_brief(b, vb, sizeof vb);
    printf("  %s: %s  vs  %s\n", path, va, vb);
}

/* Compares the keys of both manifests under one heading; prints "same" or the differences.
 * Returns the number of differences. */
static int section(const char *heading, const cJSON *a, const cJSON *b, const char *const *keys, int n_keys) {
    cJSON *left = cJSON_CreateObject(), *right = cJSON_CreateObject();
    for (int i = 0; i < n_keys; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[i]), *y = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
        if (x) cJSON_AddItemToObject(left, keys[i], cJSON_Duplicate(x, 1));
        if (y) cJSON_AddItemToObject(right, keys[i], cJSON_Duplicate(y, 1));
    }
    const int n = dt_json_diff(left, right, "", NULL, NULL);
    if (n == 0) {
        printf("%s: same\n", heading);
    } else {
        printf("%s: %d difference%s\n", heading, n, n == 1 ? "" : "s");
        section_state s = {0};
        dt_json_diff(left, right, "", print_difference, &s);
        if (n > MAX_LINES_PER_SECTION) printf("  ... and %d more\n", n - MAX_LINES_PER_SECTION);
    }
    cJSON_Delete(left);
    cJSON_Delete(right);
    return n;
}

/* The loss traces: the first step whose bits differ, how many differ, and the lengths. */
static int compare_traces(const dt_run_record *a, const dt_run_record *b) {
    const int64_t n = a->n_steps < b->n_steps ? a->n_steps : b->n_steps;
    int64_t first = 0, differing = 0;
    for (int64_t i = 0; i < n; i++)
        if (a->loss_bits[i] != b->loss_bits[i] && !differing++) first = i + 1;
    if (!differing && a->n_steps == b->n_steps) {
        printf("loss trace: identical, all %lld steps\n", (long long)n);
        return 0;
    }
    if (differing) {
        char va[64], vb[64];
        dt_run_bits_text(a->loss_bits[first - 1], va, sizeof va);
        dt_run_bits_text(b->loss_bits[first - 1], vb, sizeof vb);
        printf("loss trace: the losses first diverge at step %lld: %s  vs  %s; %lld of %lld common steps differ\n",
               (long long)first, va, vb, (long long)differing, (long long)n);
    } else {
        printf("loss trace: identical for the %lld common steps\n", (long long)n);
    }
    if (a->n_steps != b->n_steps)
        printf("  length: %lld  vs  %lld steps\n", (long long)a->n_steps, (long long)b->n_steps);
    return 1;
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

/* Removes from both manifests (copies) where a data set's files lie when their SHA-256 are the
 * same on both sides: the digest is the data's identity, so another path to the same bytes is
 * no difference. Says so when the paths differed. */
static void set_aside_data_paths(cJSON *a, cJSON *b) {
    static const char *const sets[] = {"train", "test", "validation"};
    int moved = 0;
    for (int s = 0; s < 3; s++) {
        if (!same_data(a, b, sets[s])) continue;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "data.%s.", sets[s]);
        cJSON *sides[2] = {a, b};
        char before[2][512] = {"", ""};
        for (int k = 0; k < 2; k++) {
            cJSON *data = cJSON_GetObjectItemCaseSensitive(sides[k], "data"), *entry;
            cJSON *files = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, sets[s]), "files");
            cJSON_ArrayForEach(entry, files) {
                if (!before[k][0]) snprintf(before[k], sizeof before[k], "%s", dt_run_record_string(entry, "path"));
                cJSON_DeleteItemFromObjectCaseSensitive(entry, "path");
            }
            cJSON *source = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sides[k], "config"), "data"), sets[s]);
            cJSON_DeleteItemFromObjectCaseSensitive(source, "path");
            cJSON_DeleteItemFromObjectCaseSensitive(source, "labels");
            cJSON *overrides = cJSON_GetObjectItemCaseSensitive(sides[k], "overrides");
            for (int i = cJSON_GetArraySize(overrides) - 1; i >= 0; i--) {
                const char *text = cJSON_GetStringValue(cJSON_GetArrayItem(overrides, i));
                if (text && !strncmp(text, prefix, strlen(prefix)) &&
                    (!strncmp(text + strlen(prefix), "path=", 5) || !strncmp(text + strlen(prefix), "labels=", 7)))
                    cJSON_DeleteItemFromArray(overrides, i);
            }
        }
        if (strcmp(before[0], before[1]) != 0) {
            if (!moved++) printf("data paths: other paths to the same data (equal SHA-256), not a difference\n");
            printf("  %s: %s  vs  %s\n", sets[s], before[0], before[1]);
        }
    }
}

dt_status dt_diff(const char *run_a, const char *run_b, int *n_differences, dt_error *err) {
    dt_run_record a, b;
    memset(&b, 0, sizeof b);
    *n_differences = 0;
    dt_status status = dt_run_record_load(run_a, &a, err);
    if (status == DT_OK) status = dt_run_record_load(run_b, &b, err);
    if (status != DT_OK) {
        dt_run_record_free(&a);
        dt_run_record_free(&b);
        return status;
    }
    cJSON *ma = cJSON_Duplicate(a.manifest, 1), *mb = cJSON_Duplicate(b.manifest, 1);
    if (!ma || !mb) {
        cJSON_Delete(ma), cJSON_Delete(mb);
        dt_run_record_free(&a), dt_run_record_free(&b);
        return dt_fail(err, DT_NOMEM, "out of memory comparing %s and %s", run_a, run_b);
    }
    printf("diff %s  vs  %s\n", run_a, run_b);
    printf("runs: %s (%s, started %s)  vs  %s (%s, started %s)\n", dt_run_record_string(ma, "run_id"),
           dt_run_record_string(ma, "status"), dt_run_record_string(ma, "started_at"), dt_run_record_string(mb, "run_id"),
           dt_run_record_string(mb, "status"), dt_run_record_string(mb, "started_at"));
    static const char *const config_keys[] = {"config", "overrides"};
    static const char *const code_keys[] = {"code", "config_repo", "config_file", "config_file_sha256"};
    static const char *const data_keys[] = {"data"};
    static const char *const seed_keys[] = {"seeds"};
    static const char *const mode_keys[] = {"mode", "device", "threads"};
    static const char *const env_keys[] = {"environment"};
    static const char *const final_keys[] = {"status", "final"};
    int n = 0;
    set_aside_data_paths(ma, mb);
    n += section("config", ma, mb, config_keys, 2);
    n += section("code", ma, mb, code_keys, 4);
    n += section("data", ma, mb, data_keys, 1);
    n += section("seeds", ma, mb, seed_keys, 1);
    n += section("mode and device", ma, mb, mode_keys, 3);
    n += section("environment", ma, mb, env_keys, 1);
    n += section("results", ma, mb, final_keys, 2);
    n += compare_traces(&a, &b);
    printf("%d difference%s\n", n, n == 1 ? "" : "s");
    fflush(stdout);
    *n_differences = n;
    cJSON_Delete(ma);
    cJSON_Delete(mb);
    dt_run_record_free(&a);
    dt_run_record_free(&b);
    return DT_OK;
}
