/* plot_load.c — the runs detrain plot draws, read from run and sweep folders (plot/plot.h):
 * each manifest's "epochs" (a number or null per metric), "selection" and "experiment". */
#include "plot/plot.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

/* The folder's own name: the last component of path, trailing slashes ignored ("sweeps/a/"
 * gives "a"); for "." and ".." the name of the folder they stand for. */
static void folder_name(const char *path, char *out, size_t size) {
    char resolved[PATH_MAX];
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    snprintf(out, size, "%.*s", (int)(end - start), path + start);
    if ((!strcmp(out, ".") || !strcmp(out, "..")) && realpath(path, resolved)) folder_name(resolved, out, size);
}

/* The value of key in an epoch object: a number, or NaN when it is null or absent. DT_DATA
 * naming the file and JSON path when it is something else. */
static dt_status epoch_value(const cJSON *epoch, const char *key, int index, const char *file, double *out,
                             dt_error *err) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(epoch, key);
    *out = NAN;
    if (cJSON_IsNumber(item)) *out = item->valuedouble;
    else if (item && !cJSON_IsNull(item))
        return dt_fail(err, DT_DATA, "%s: epochs[%d].%s: not a number or null", file, index, key);
    return DT_OK;
}

/* run's epoch numbers and metric values from the manifest's "epochs" array. */
static dt_status read_epochs(const cJSON *manifest, const char *file, dt_plot_run *run, dt_error *err) {
    const cJSON *epochs = cJSON_GetObjectItemCaseSensitive(manifest, "epochs");
    if (!cJSON_IsArray(epochs)) return dt_fail(err, DT_DATA, "%s: no \"epochs\" array (not a run's manifest)", file);
    int n = cJSON_GetArraySize(epochs);
    run->epoch = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1) * (1 + DT_PLOT_N_METRICS));
    if (!run->epoch) return dt_fail(err, DT_NOMEM, "%s: out of memory", file);
    run->n_epochs = n;
    for (int m = 0; m < DT_PLOT_N_METRICS; m++) run->values[m] = run->epoch + (size_t)(m + 1) * (size_t)n;
    int index = 0;
    dt_status status;
    for (const cJSON *epoch = epochs->child; epoch; epoch = epoch->next, index++) {
        if (!cJSON_IsObject(epoch)) return dt_fail(err, DT_DATA, "%s: epochs[%d]: not an object", file, index);
        if ((status = epoch_value(epoch, "epoch", index, file, &run->epoch[index], err)) != DT_OK) return status;
        if (isnan(run->epoch[index])) run->epoch[index] = index + 1;
        for (int m = 0; m < DT_PLOT_N_METRICS; m++) {
            double *value = &run->values[m][index];
            if ((status = epoch_value(epoch, dt_plot_metric_name(m), index, file, value, err)) != DT_OK) return status;
            run->has[m] |= !isnan(*value);
        }
    }
    return DT_OK;
}

/* The best epoch of the manifest's optional "selection" block, when it names a metric a plot
 * draws and a best epoch; otherwise none (best_metric -1). */
static void read_selection(const cJSON *manifest, dt_plot_run *run) {
    const cJSON *selection = cJSON_GetObjectItemCaseSensitive(manifest, "selection");
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(selection, "metric");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(selection, "best_epoch");
    run->best_metric = -1;
    if (!cJSON_IsString(metric) || !cJSON_IsNumber(best)) return;
    for (int m = 0; m < DT_PLOT_N_METRICS; m++)
        if (!strcmp(metric->valuestring, dt_plot_metric_name(m))) run->best_metric = m;
    run->best_epoch = best->valuedouble;
}

/* The line of the byte at `at` in text (1-based). */
static int line_of(const char *text, const char *at) {
    int line = 1;
    for (const char *c = text; c < at && *c; c++) line += *c == '\n';
    return line;
}

/* Reads dir/manifest.json into run, named `name`. */
static dt_status load_run(const char *dir, const char *name, dt_plot_run *run, dt_error *err) {
    char file[DT_PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/manifest.json", dir);
    snprintf(run->name, sizeof run->name, "%s", name);
    run->best_metric = -1;
    char *text = NULL;
    size_t size = 0;
    dt_status status = dt_read_text(file, &text, &size, err);
    if (status != DT_OK) return status;
    const char *end = NULL;
    cJSON *manifest = cJSON_ParseWithLengthOpts(text, size + 1, &end, 1);
    if (!cJSON_IsObject(manifest)) {
        status = dt_fail(err, DT_DATA, "%s: cannot parse the manifest (%s at line %d)", file,
                         manifest ? "not a JSON object" : "JSON syntax error", line_of(text, end ? end : text));
    } else {
        const cJSON *experiment = cJSON_GetObjectItemCaseSensitive(manifest, "experiment");
        if (cJSON_IsString(experiment)) snprintf(run->experiment, sizeof run->experiment, "%s", experiment->valuestring);
        status = read_epochs(manifest, file, run, err);
        read_selection(manifest, run);
    }
    cJSON_Delete(manifest);
    free(text);
    return status;
}

/* Appends the run in folder dir to runs. */
static dt_status add_run(dt_plot_runs *runs, const char *dir, const char *name, dt_error *err) {
    dt_plot_run *grown = realloc(runs->runs, sizeof *grown * (size_t)(runs->n_runs + 1));
    if (!grown) return dt_fail(err, DT_NOMEM, "%s: out of memory", dir);
    runs->runs = grown;
    dt_plot_run *run = &runs->runs[runs->n_runs++];
    memset(run, 0, sizeof *run);
    return load_run(dir, name, run, err);
}

/* Folder entries by byte order of their names: the same sweep, the same order of curves. */
static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Appends every run folder directly inside the sweep folder dir, by name. */
static dt_status add_sweep(dt_plot_runs *runs, const char *dir, dt_error *err) {
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, NULL, by_name), found = 0;
    if (n < 0) return dt_fail(err, DT_IO, "%s: cannot list the sweep folder", dir);
    dt_status status = DT_OK;
    char run_dir[DT_PATH_MAX + 16], manifest[DT_PATH_MAX + 32];
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        snprintf(run_dir, sizeof run_dir, "%s/%s", dir, name);
        snprintf(manifest, sizeof manifest, "%s/manifest.json", run_dir);
        /* a trial's failed attempt kept aside by the sweep (NAME.failed-N) is not one of its runs */
        if (status == DT_OK && name[0] != '.' && !strstr(name, ".failed-") && dt_file_exists(manifest)) {
            status = add_run(runs, run_dir, name, err);
            found++;
        }
        free(entries[i]);
    }
    free(entries);
    if (status == DT_OK && !found) return dt_fail(err, DT_USAGE, "%s: a sweep folder without run folders", dir);
    return status;
}

dt_status dt_plot_load(const char *const *paths, int n_paths, dt_plot_runs *runs, dt_error *err) {
    memset(runs, 0, sizeof *runs);
    char file[DT_PATH_MAX + 16], name[DT_PATH_MAX];
    dt_status status = DT_OK;
    for (int i = 0; i < n_paths && status == DT_OK; i++) {
        snprintf(file, sizeof file, "%s/manifest.json", paths[i]);
        if (dt_file_exists(file)) {
            folder_name(paths[i], name, sizeof name);
            status = add_run(runs, paths[i], name, err);
            continue;
        }
        snprintf(file, sizeof file, "%s/sweep.json", paths[i]);
        if (dt_file_exists(file)) status = add_sweep(runs, paths[i], err);
        else
            status = dt_fail(err, DT_USAGE, "%s: neither a run folder (manifest.json) nor a sweep folder (sweep.json)",
                             paths[i]);
    }
    return status;
}

void dt_plot_runs_free(dt_plot_runs *runs) {
    for (int r = 0; r < runs->n_runs; r++) free(runs->runs[r].epoch);
    free(runs->runs);
    memset(runs, 0, sizeof *runs);
}
