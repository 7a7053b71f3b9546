/* sweep_table.c — a sweep's results: each completed trial's manifest read back (its
 * selection, else its final test loss), the trials sorted best first, as a text or Markdown
 * table and as JSON. */
#include "sweep/sweep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/runrec.h"
#include "core/text.h"

#define CELL_MAX 256

/* ---- reading the results ---- */

/* A number from the manifest, or NaN. */
static double number_at(const cJSON *manifest, const char *key) {
    const cJSON *item = dt_run_record_item(manifest, key);
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

/* Fills row from the trial's manifest; *selection gets "metric/mode" when it records a
 * selection with a best value, else "". */
static void read_row(const dt_sweep_plan *plan, dt_sweep_row *row, char *selection, size_t size) {
    char dir[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 2];
    dt_sweep_trial_dir(plan, row->trial, dir, sizeof dir);
    cJSON *manifest = NULL;
    dt_error ignored;
    selection[0] = '\0';
    if (dt_run_manifest_load(dir, &manifest, &ignored) != DT_OK) return;
    row->test_loss = number_at(manifest, "final.test_loss");
    row->test_accuracy = number_at(manifest, "final.test_accuracy");
    const double best = number_at(manifest, "selection.best_value"),
                 best_epoch = number_at(manifest, "selection.best_epoch");
    const char *metric = dt_run_record_string(manifest, "selection.metric");
    if (metric[0] && !isnan(best)) {
        snprintf(selection, size, "%s/%s", metric, dt_run_record_string(manifest, "selection.mode"));
        row->metric = best;
        row->epoch = isnan(best_epoch) ? -1 : (int64_t)best_epoch;
    } else {
        const double epoch = number_at(manifest, "final.epoch");
        row->metric = row->test_loss;
        row->epoch = isnan(epoch) ? -1 : (int64_t)epoch;
    }
    cJSON_Delete(manifest);
}

/* Where a row sorts: 0 completed with a metric, 1 completed without, 2 unfinished, 3 failed. */
static int row_class(const dt_sweep_plan *plan, const dt_sweep_row *row) {
    const dt_trial_status status = plan->trials[row->trial].status;
    if (status == DT_TRIAL_COMPLETED) return isnan(row->metric) ? 1 : 0;
    return status == DT_TRIAL_FAILED ? 3 : 2;
}

typedef struct {
    const dt_sweep_plan *plan;
    int maximize;
} sort_ctx;

/* Best first: by class, then by the metric in its direction, then in plan order. */
static int compare_rows(const void *pa, const void *pb, void *arg) {
    const sort_ctx *ctx = arg;
    const dt_sweep_row *a = pa, *b = pb;
    const int ca = row_class(ctx->plan, a), cb = row_class(ctx->plan, b);
    if (ca != cb) return ca < cb ? -1 : 1;
    if (ca == 0 && a->metric != b->metric) return (a->metric < b->metric) != ctx->maximize ? -1 : 1;
    return a->trial < b->trial ? -1 : a->trial > b->trial;
}

dt_status dt_sweep_results_load(const dt_sweep_plan *plan, dt_sweep_results *results, dt_error *err) {
    memset(results, 0, sizeof *results);
    results->winner = -1;
    if (!(results->rows = calloc((size_t)plan->n_trials + 1, sizeof *results->rows)))
        return dt_fail(err, DT_NOMEM, "out of memory");
    results->n_rows = plan->n_trials;
    char first[64] = "", selection[64];
    int n_completed = 0, agree = 1;
    for (int t = 0; t < plan->n_trials; t++) {
        dt_sweep_row *row = &results->rows[t];
        *row = (dt_sweep_row){.trial = t, .metric = NAN, .epoch = -1, .test_loss = NAN, .test_accuracy = NAN};
        if (plan->trials[t].status != DT_TRIAL_COMPLETED) continue;
        read_row(plan, row, selection, sizeof selection);
        if (n_completed++ == 0) snprintf(first, sizeof first, "%s", selection);
        agree &= selection[0] && !strcmp(selection, first);
    }
    results->by_selection = n_completed > 0 && agree;
    if (results->by_selection) {
        const char *slash = strchr(first, '/');
        snprintf(results->metric, sizeof results->metric, "%.*s", (int)(slash - first), first);
        results->maximize = !strcmp(slash + 1, "max");
    } else {
        snprintf(results->metric, sizeof results->metric, "test_loss");
        for (int t = 0; t < plan->n_trials; t++) results->rows[t].metric = results->rows[t].test_loss;
    }
    sort_ctx ctx = {plan, results->maximize};
    qsort_r(results->rows, (size_t)results->n_rows, sizeof *results->rows, compare_rows, &ctx);
    if (results->n_rows > 0 && row_class(plan, &results->rows[0]) == 0) results->winner = 0;
    return DT_OK;
}

void dt_sweep_results_free(dt_sweep_results *results) {
    free(results->rows);
    memset(results, 0, sizeof *results);
}

/* ---- the table ---- */

enum { COL_METRIC, COL_EPOCH, COL_TEST_LOSS, COL_TEST_ACCURACY, COL_SECONDS, COL_PARAMS, COL_STATUS, N_FIXED };

/* Formats a number, or "-" for NaN. */
static void number_cell(double value, const char *fmt, char *out, size_t size) {
    if (isnan(value))
        snprintf(out, size, "-");
    else
        snprintf(out, size, fmt, value);
}

/* The cell of row r (-1: the header) and column c (the keys first, then the fixed columns;
 * without a selection the metric is test_loss's own column, so COL_METRIC is left out). */
static void cell(const dt_sweep_plan *plan, const dt_sweep_results *res, int r, int c, char *out, size_t size) {
    static const char *const headers[N_FIXED] = {"",        "epoch",  "test_loss", "test_accuracy",
                                                 "seconds", "params", "status"};
    if (c < plan->n_keys) {
        snprintf(out, size, "%s", r < 0 ? plan->keys[c].key : plan->trials[res->rows[r].trial].values[c]);
        return;
    }
    const int f = c - plan->n_keys + !res->by_selection;
    if (r < 0) {
        snprintf(out, size, "%s", f == COL_METRIC ? res->metric : headers[f]);
        return;
    }
    const dt_sweep_row *row = &res->rows[r];
    const dt_sweep_trial *trial = &plan->trials[row->trial];
    switch (f) {
    case COL_METRIC: number_cell(row->metric, "%.6g", out, size); break;
    case COL_EPOCH: number_cell(row->epoch < 0 ? NAN : (double)row->epoch, "%.0f", out, size); break;
    case COL_TEST_LOSS: number_cell(row->test_loss, "%.6f", out, size); break;
    case COL_TEST_ACCURACY: number_cell(row->test_accuracy, "%.4f", out, size); break;
    case COL_SECONDS: snprintf(out, size, "%.1f", trial->seconds); break;
    case COL_PARAMS: snprintf(out, size, "%.12s", trial->params_sha256[0] ? trial->params_sha256 : "-"); break;
    default:
        if (trial->status == DT_TRIAL_FAILED && trial->exit_code >= 0)
            snprintf(out, size, "failed (exit %d)", trial->exit_code);
        else
            snprintf(out, size, "%s", dt_sweep_status_name(trial->status));
    }
}

/* One table line: cells padded to their widths (text), or between bars (Markdown). */
static void table_line(dt_text *b, const dt_sweep_plan *plan, const dt_sweep_results *res, int r, const int *widths,
                       int n_cols, int markdown) {
    char text[CELL_MAX];
    for (int c = 0; c < n_cols; c++) {
        cell(plan, res, r, c, text, sizeof text);
        if (markdown) {
            dt_text_printf(b, "| ");
            for (const char *p = text; *p; p++) {
                if (*p == '|')
                    dt_text_printf(b, "\\|");
                else
                    dt_text_printf(b, "%c", *p);
            }
            dt_text_printf(b, " ");
        } else {
            if (c + 1 < n_cols)
                dt_text_printf(b, "%-*s  ", widths[c], text);
            else
                dt_text_printf(b, "%s", text);
        }
    }
    dt_text_printf(b, markdown ? "|\n" : "\n");
}

/* The line above the table: how many trials, how it is sorted. */
static void header_line(dt_text *b, const dt_sweep_plan *plan, const dt_sweep_results *res) {
    int counts[DT_TRIAL_INTERRUPTED + 1] = {0};
    for (int t = 0; t < plan->n_trials; t++) counts[plan->trials[t].status]++;
    dt_text_printf(b, "sweep %s: %d trials, %d completed", plan->experiment, plan->n_trials, counts[DT_TRIAL_COMPLETED]);
    if (counts[DT_TRIAL_FAILED]) dt_text_printf(b, ", %d failed", counts[DT_TRIAL_FAILED]);
    const int unfinished = plan->n_trials - counts[DT_TRIAL_COMPLETED] - counts[DT_TRIAL_FAILED];
    if (unfinished) dt_text_printf(b, ", %d unfinished", unfinished);
    if (res->by_selection)
        dt_text_printf(b, "; sorted by %s (%s)\n", res->metric, res->maximize ? "max" : "min");
    else
        dt_text_printf(b, "; sorted by test_loss (no validation set)\n");
}

char *dt_sweep_table_text(const dt_sweep_plan *plan, const dt_sweep_results *res, int markdown) {
    const int n_cols = plan->n_keys + N_FIXED - !res->by_selection;
    int widths[DT_SWEEP_MAX_KEYS + N_FIXED] = {0};
    char text[CELL_MAX];
    for (int r = -1; r < res->n_rows; r++)
        for (int c = 0; c < n_cols; c++) {
            cell(plan, res, r, c, text, sizeof text);
            const int len = (int)strlen(text);
            if (len > widths[c]) widths[c] = len;
        }
    dt_text b = {0};
    header_line(&b, plan, res);
    if (markdown) dt_text_printf(&b, "\n");
    table_line(&b, plan, res, -1, widths, n_cols, markdown);
    for (int c = 0; markdown && c < n_cols; c++) dt_text_printf(&b, c + 1 < n_cols ? "|---" : "|---|\n");
    for (int r = 0; r < res->n_rows; r++) table_line(&b, plan, res, r, widths, n_cols, markdown);
    if (markdown) dt_text_printf(&b, "\n");
    if (res->winner >= 0) {
        const dt_sweep_row *best = &res->rows[res->winner];
        dt_text_printf(&b, "winner: %s (%s %.6g", plan->trials[best->trial].name, res->metric, best->metric);
        if (best->epoch >= 0) dt_text_printf(&b, " at epoch %lld", (long long)best->epoch);
        dt_text_printf(&b, "): %s/%s\n", plan->dir, plan->trials[best->trial].name);
    } else {
        dt_text_printf(&b, "winner: none (no trial completed)\n");
    }
    return dt_text_take(&b);
}

/* ---- JSON ---- */

/* A number, or null for NaN. */
static cJSON *number_or_null(double value) { return isnan(value) ? cJSON_CreateNull() : cJSON_CreateNumber(value); }

/* Row r as JSON. */
static cJSON *row_json(const dt_sweep_plan *plan, const dt_sweep_row *row) {
    const dt_sweep_trial *trial = &plan->trials[row->trial];
    cJSON *obj = cJSON_CreateObject(), *values = cJSON_AddObjectToObject(obj, "values");
    char dir[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 2];
    dt_sweep_trial_dir(plan, row->trial, dir, sizeof dir);
    cJSON_AddStringToObject(obj, "name", trial->name);
    for (int k = 0; values && k < plan->n_keys; k++)
        cJSON_AddStringToObject(values, plan->keys[k].key, trial->values[k]);
    cJSON_AddStringToObject(obj, "status", dt_sweep_status_name(trial->status));
    cJSON_AddItemToObject(obj, "exit_code",
                          trial->exit_code >= 0 ? cJSON_CreateNumber(trial->exit_code) : cJSON_CreateNull());
    cJSON_AddItemToObject(obj, "metric", number_or_null(row->metric));
    cJSON_AddItemToObject(obj, "epoch", row->epoch >= 0 ? cJSON_CreateNumber((double)row->epoch) : cJSON_CreateNull());
    cJSON_AddItemToObject(obj, "test_loss", number_or_null(row->test_loss));
    cJSON_AddItemToObject(obj, "test_accuracy", number_or_null(row->test_accuracy));
    cJSON_AddNumberToObject(obj, "seconds", trial->seconds);
    cJSON_AddItemToObject(obj, "params_sha256",
                          trial->params_sha256[0] ? cJSON_CreateString(trial->params_sha256) : cJSON_CreateNull());
    cJSON_AddStringToObject(obj, "run_dir", dir);
    cJSON_AddItemToObject(obj, "message", trial->message[0] ? cJSON_CreateString(trial->message) : cJSON_CreateNull());
    return obj;
}

char *dt_sweep_table_json(const dt_sweep_plan *plan, const dt_sweep_results *res) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "sweep", plan->dir);
    cJSON_AddStringToObject(root, "experiment", plan->experiment);
    cJSON_AddStringToObject(root, "config_file", plan->config_path);
    cJSON *sorted = cJSON_AddObjectToObject(root, "sorted_by");
    cJSON_AddStringToObject(sorted, "metric", res->metric);
    cJSON_AddStringToObject(sorted, "mode", res->maximize ? "max" : "min");
    cJSON_AddBoolToObject(sorted, "selection", res->by_selection);
    cJSON *keys = cJSON_AddArrayToObject(root, "keys");
    for (int k = 0; keys && k < plan->n_keys; k++) cJSON_AddItemToArray(keys, cJSON_CreateString(plan->keys[k].key));
    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (int r = 0; trials && r < res->n_rows; r++) cJSON_AddItemToArray(trials, row_json(plan, &res->rows[r]));
    cJSON_AddItemToObject(root, "winner",
                          res->winner >= 0 ? cJSON_CreateString(plan->trials[res->rows[res->winner].trial].name)
                                           : cJSON_CreateNull());
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
