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
    const cJSON *ma = a.manifest, *mb = b.manifest;
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
    dt_run_record_free(&a);
    dt_run_record_free(&b);
    return DT_OK;
}
