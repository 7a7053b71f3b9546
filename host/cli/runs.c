/* runs.c (cli) — detrain init and detrain runs (cli/commands.h); the store is registry/store.h's,
 * the index registry/runs.h's. */
#include "cli/commands.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "core/fsutil.h"
#include "registry/runs.h"
#include "registry/store.h"

const char dt_cli_runs_help[] =
    "usage: detrain runs [options]\n"
    "\n"
    "Lists the runs of the project's store, one line each: run folder, run id, experiment,\n"
    "status, start time, duration, epochs done, test accuracy and loss, parameter digest, code\n"
    "commit (+dirty), mode/device. The store is $DETRAIN_HOME, else the nearest .detrain/\n"
    "upward (detrain init makes one), else ./checkpoints; the first line names it. Every run\n"
    "is recorded in it wherever --out put its folder; its index (STORE/detrain.sqlite) is\n"
    "brought up to date from the folders first: they are the source of truth.\n"
    "\n"
    "options:\n"
    "  --root DIR          this store (or any folder of run folders) instead\n"
    "  --experiment NAME   only this experiment's runs\n"
    "  --status S          only runs in this state: running, completed, failed, interrupted, or\n"
    "                      died (recorded running, but no process holds its folder: resume it)\n"
    "  --where PATH=VALUE  only runs whose manifest key PATH has VALUE (also !=, <, <=, >, >=);\n"
    "                      repeatable: config.optimizer.lr=0.001, final.test_accuracy>0.88\n"
    "  --sort PATH         order by a manifest key, ascending; -PATH descending\n"
    "                      (default: newest first)\n"
    "  --limit N           at most N runs\n"
    "  --columns K1,K2     also show these manifest keys (up to 8): config.optimizer.lr,\n"
    "                      final.val_loss, selection.best_epoch, ...\n"
    "  --compare           instead of the table, only the keys (config, overrides, seeds, code,\n"
    "                      data, mode, device, status, final, selection) whose values differ\n"
    "                      between the runs selected, one row per key, one column per run\n"
    "  --json              a JSON array instead of the table\n"
    "  --rescan            rebuild the index from every folder\n"
    "  --adopt DIR         record the run folder DIR, or the run folders in DIR, made elsewhere\n"
    "                      (before stores, or with another store) in this store first\n";

const char dt_cli_init_help[] =
    "usage: detrain init [DIR]\n"
    "\n"
    "Makes DIR (default: the current folder) the home of a project: DIR/.detrain, the store\n"
    "that train, sweep, runs, lineage and registry find from DIR and every folder below it\n"
    "(unless $DETRAIN_HOME names another). It holds the runs index and the model registry\n"
    "(detrain.sqlite) and the run folders that --out does not place elsewhere; runs placed\n"
    "elsewhere are recorded in it too. Run folders made before: 'detrain runs --adopt DIR'.\n"
    "Running it again changes nothing.\n";

/* ---- runs: the table, JSON, --compare ------------------------------------------------------- */

/* The text of a value, or fallback for NULL. */
static const char *text_or(const dt_runs_value *value, const char *fallback) {
    return value->text ? value->text : fallback;
}

/* "12 s", "4 min", "2.1 h"; "-" when unknown. */
static void duration_text(const dt_runs_value *seconds, char *out, size_t size) {
    const double s = seconds->number;
    if (seconds->type == DT_RUNS_NULL) snprintf(out, size, "-");
    else if (s < 100) snprintf(out, size, "%.0f s", s);
    else if (s < 6000) snprintf(out, size, "%.0f min", s / 60);
    else snprintf(out, size, "%.1f h", s / 3600);
}

/* The table's header line, with the --columns keys last. */
static void print_header(const dt_runs_query *q) {
    printf("%-32s %-26s %-16s %-11s %-20s %7s %7s %8s %9s %-12s %-14s %-22s %-22s", "RUN FOLDER", "RUN ID", "EXPERIMENT",
           "STATUS", "STARTED", "TIME", "EPOCHS", "ACCURACY", "LOSS", "PARAMS", "COMMIT", "MODE/DEVICE",
           "BEST (SELECTION)");
    for (int i = 0; i < q->n_columns; i++) printf(" %-20s", q->columns[i]);
    printf("\n");
}

/* One run as a line of the table. */
static void print_line(const dt_runs_row *row, int n_columns) {
    const dt_runs_value *v = row->values;
    char duration[32], epochs[32], accuracy[16] = "-", loss[16] = "-", commit[24], mode_device[48], best[64] = "-";
    duration_text(&v[DT_RUN_SECONDS], duration, sizeof duration);
    snprintf(epochs, sizeof epochs, "%lld/%s", (long long)v[DT_RUN_EPOCHS].number, text_or(&v[DT_RUN_EPOCHS_TOTAL], "?"));
    if (v[DT_RUN_ACCURACY].type != DT_RUNS_NULL) snprintf(accuracy, sizeof accuracy, "%.4f", v[DT_RUN_ACCURACY].number);
    if (v[DT_RUN_LOSS].type != DT_RUNS_NULL) snprintf(loss, sizeof loss, "%.6f", v[DT_RUN_LOSS].number);
    snprintf(commit, sizeof commit, "%.8s%s", text_or(&v[DT_RUN_COMMIT], "-"), (int)v[DT_RUN_DIRTY].number ? "+dirty" : "");
    snprintf(mode_device, sizeof mode_device, "%s/%s", text_or(&v[DT_RUN_MODE], "-"), text_or(&v[DT_RUN_DEVICE], "-"));
    if (v[DT_RUN_BEST_VALUE].type != DT_RUNS_NULL) /* the selection: "val_loss 0.0733 @24" */
        snprintf(best, sizeof best, "%s %.4g @%lld", text_or(&v[DT_RUN_SELECT_METRIC], "?"), v[DT_RUN_BEST_VALUE].number,
                 (long long)v[DT_RUN_BEST_EPOCH].number);
    printf("%-32s %-26s %-16s %-11s %-20s %7s %7s %8s %9s %-12.12s %-14s %-22s %-22s", text_or(&v[DT_RUN_FOLDER], ""),
           text_or(&v[DT_RUN_ID], "-"), text_or(&v[DT_RUN_EXPERIMENT], "-"), text_or(&v[DT_RUN_STATUS], "-"),
           text_or(&v[DT_RUN_STARTED], "-"), duration, epochs, accuracy, loss, text_or(&v[DT_RUN_PARAMS], "-"), commit,
           mode_device, best);
    for (int c = DT_RUN_N_COLUMNS; c < n_columns; c++) printf(" %-20s", text_or(&v[c], "-"));
    printf("\n");
}

/* The listing as a JSON array: a member per column (git_dirty a boolean), then "path". */
static void print_json(const dt_runs_listing *listing, const dt_runs_query *q) {
    static const char *const names[DT_RUN_N_COLUMNS] = {
        "folder",        "run_id",    "experiment",    "status",     "started",   "seconds", "epochs", "epochs_total",
        "test_accuracy", "test_loss", "params_sha256", "git_commit", "git_dirty", "mode",    "device",
        "select_metric", "best_value", "best_epoch"};
    cJSON *array = cJSON_CreateArray();
    for (int r = 0; r < listing->n_rows && array; r++) {
        cJSON *row = cJSON_CreateObject();
        for (int c = 0; c < listing->n_columns && row; c++) {
            const dt_runs_value *v = &listing->rows[r].values[c];
            const char *name = c < DT_RUN_N_COLUMNS ? names[c] : q->columns[c - DT_RUN_N_COLUMNS];
            if (c == DT_RUN_DIRTY) cJSON_AddBoolToObject(row, name, (int)v->number);
            else if (v->type == DT_RUNS_NULL) cJSON_AddNullToObject(row, name);
            else if (v->type == DT_RUNS_TEXT) cJSON_AddStringToObject(row, name, v->text);
            else cJSON_AddNumberToObject(row, name, v->number);
        }
        cJSON_AddStringToObject(row, "path", listing->rows[r].path);
        cJSON_AddItemToArray(array, row);
    }
    dt_cli_print_json(array);
    cJSON_Delete(array);
}

/* runs --compare: the keys whose values differ, one row each and a column per run (or JSON
 * {"runs": [folders], "keys": {KEY: [values, null where a run lacks it]}}). */
static dt_status print_compared(const dt_runs_listing *listing, int json, dt_error *err) {
    const int n = listing->n_rows;
    const cJSON **manifests = calloc((size_t)n + 1, sizeof *manifests);
    dt_runs_comparison cmp = {NULL, NULL};
    for (int r = 0; r < n && manifests; r++) manifests[r] = listing->rows[r].manifest;
    dt_status status = manifests ? dt_runs_compare(manifests, n, &cmp, err) : dt_fail(err, DT_NOMEM, "out of memory");
    free(manifests);
    if (status != DT_OK) return status;
    const cJSON *key, *map;
    if (json) {
        cJSON *out = cJSON_CreateObject(), *runs = cJSON_AddArrayToObject(out, "runs"), *keys = cJSON_AddObjectToObject(out, "keys");
        for (int r = 0; r < n; r++) cJSON_AddItemToArray(runs, cJSON_CreateString(text_or(&listing->rows[r].values[DT_RUN_FOLDER], "")));
        cJSON_ArrayForEach(key, cmp.differing) {
            cJSON *values = cJSON_AddArrayToObject(keys, key->valuestring);
            cJSON_ArrayForEach(map, cmp.leaves) {
                const cJSON *leaf = cJSON_GetObjectItemCaseSensitive(map, key->valuestring);
                cJSON_AddItemToArray(values, leaf ? cJSON_Duplicate(leaf, 1) : cJSON_CreateNull());
            }
        }
        dt_cli_print_json(out);
        cJSON_Delete(out);
    } else {
        printf("%-40s", "KEY");
        for (int r = 0; r < n; r++) printf(" %-24.24s", text_or(&listing->rows[r].values[DT_RUN_FOLDER], ""));
        printf("\n");
        cJSON_ArrayForEach(key, cmp.differing) {
            printf("%-40s", key->valuestring);
            cJSON_ArrayForEach(map, cmp.leaves) {
                char text[512];
                dt_runs_leaf_text(cJSON_GetObjectItemCaseSensitive(map, key->valuestring), text, sizeof text);
                printf(" %-24.24s", text);
            }
            printf("\n");
        }
        const int differing = cJSON_GetArraySize(cmp.differing);
        printf("%d key%s differ%s between %d runs\n", differing, differing == 1 ? "" : "s", differing == 1 ? "s" : "", n);
    }
    dt_runs_comparison_free(&cmp);
    return DT_OK;
}

/* Lists the runs of the query: the table (rows read before a failure too), JSON, or --compare. */
static int list_runs(const dt_runs_query *q, int json) {
    dt_error err = {{0}};
    dt_runs_listing listing;
    dt_status status = dt_runs_list(q, &listing, &err);
    if (q->compare && listing.n_columns && listing.n_rows > 0) {
        dt_error compare_err = {{0}};
        const dt_status compared = print_compared(&listing, json, &compare_err);
        if (status == DT_OK && compared != DT_OK) status = compared, err = compare_err;
    } else if (!q->compare && json && status == DT_OK) {
        print_json(&listing, q);
    } else if (!q->compare && !json && listing.n_columns) {
        print_header(q);
        for (int r = 0; r < listing.n_rows; r++) print_line(&listing.rows[r], listing.n_columns);
    }
    dt_runs_listing_free(&listing);
    return status == DT_OK ? 0 : status == DT_USAGE ? dt_cli_usage_error(err.message, "runs") : dt_cli_fail(status, err.message);
}

/* runs --adopt DIR: records DIR's runs in the store; an exit code when it fails, else -1. */
static int adopt(const dt_store *store, const char *dir) {
    dt_error err = {{0}};
    int64_t n = 0;
    const dt_status status = dt_runs_adopt(store, dir, &n, &err);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    fprintf(stderr, "detrain: adopted %lld run%s from %s into the store %s\n", (long long)n, n == 1 ? "" : "s", dir,
            store->path);
    return -1;
}

enum { O_ROOT, O_EXPERIMENT, O_STATUS, O_WHERE, O_SORT, O_LIMIT, O_JSON, O_RESCAN, O_COLUMNS, O_COMPARE, O_ADOPT };
static const option_spec runs_specs[] = {
    [O_ROOT] = {"--root", 1}, [O_EXPERIMENT] = {"--experiment", 1}, [O_STATUS] = {"--status", 1},
    [O_WHERE] = {"--where", 1}, [O_SORT] = {"--sort", 1},           [O_LIMIT] = {"--limit", 1},
    [O_JSON] = {"--json", 0}, [O_RESCAN] = {"--rescan", 0},         [O_COLUMNS] = {"--columns", 1},
    [O_COMPARE] = {"--compare", 0}, [O_ADOPT] = {"--adopt", 1}};

/* The query the options ask for, but --columns; -1, else the exit code of the usage error. */
static int runs_query(const parsed_args *args, const char *root, dt_runs_query *q) {
    long long limit = 0;
    int rc = parse_count("--limit", args->values[O_LIMIT], "runs", &limit);
    if (rc >= 0) return rc;
    if (args->n_sets > DT_RUNS_MAX_WHERE) return dt_cli_usage_error("at most 16 --where", "runs");
    *q = (dt_runs_query){.root = root, .experiment = args->values[O_EXPERIMENT], .status = args->values[O_STATUS],
                         .sort = args->values[O_SORT], .limit = limit, .rescan = args->values[O_RESCAN] != NULL,
                         .compare = args->values[O_COMPARE] != NULL};
    for (int i = 0; i < args->n_sets; i++) q->where[q->n_where++] = args->sets[i];
    return -1;
}

/* The --columns keys into the query, pointing into `columns`; -1, else the usage error's exit code. */
static int runs_columns(const parsed_args *args, char *columns, size_t size, dt_runs_query *q) {
    snprintf(columns, size, "%s", args->values[O_COLUMNS] ? args->values[O_COLUMNS] : "");
    for (char *key = strtok(columns, ","); key; key = strtok(NULL, ","))
        if (q->n_columns < DT_RUNS_MAX_COLUMNS) q->columns[q->n_columns++] = key;
        else return dt_cli_usage_error("--columns: at most 8 keys", "runs");
    return -1;
}

int dt_cli_runs(int argc, char **argv) {
    char **scratch = calloc((size_t)argc + 1, sizeof *scratch);
    if (!scratch) return dt_cli_fail(DT_NOMEM, "out of memory");
    parsed_args args;
    int rc = parse_simple(argc, argv, "runs", runs_specs, DT_CLI_COUNT(runs_specs), 0, "no arguments", &args, scratch);
    if (rc < 0 && args.help) rc = (fputs(dt_cli_runs_help, stdout), 0);
    dt_store store;
    dt_error err = {{0}};
    if (rc < 0 && dt_store_find(&store, args.values[O_ROOT], &err) != DT_OK) rc = dt_cli_usage_error(err.message, "runs");
    dt_runs_query q;
    char columns[1024] = "";
    if (rc < 0) rc = runs_query(&args, store.path, &q);
    if (rc < 0 && args.values[O_ADOPT]) rc = adopt(&store, args.values[O_ADOPT]);
    if (rc < 0) rc = runs_columns(&args, columns, sizeof columns, &q);
    struct stat info;
    if (rc < 0 && (stat(q.root, &info) != 0 || !S_ISDIR(info.st_mode))) {
        char message[DT_PATH_MAX + 256];
        snprintf(message, sizeof message, "%s: no folder of runs (%s); 'detrain init' makes a store here, "
                 "or give --root", q.root, dt_store_origin_text(&store));
        rc = dt_cli_fail(DT_USAGE, message);
    }
    if (rc < 0 && !args.values[O_JSON]) printf("store: %s (%s)\n", store.path, dt_store_origin_text(&store));
    if (rc < 0) rc = list_runs(&q, args.values[O_JSON] != NULL);
    free(scratch);
    return rc;
}

/* The number of run folders (with a manifest.json) directly in dir. */
static int count_runs(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *entry; d && (entry = readdir(d));) {
        char manifest[DT_PATH_MAX * 2];
        snprintf(manifest, sizeof manifest, "%s/%s/manifest.json", dir, entry->d_name);
        n += entry->d_name[0] != '.' && dt_file_exists(manifest);
    }
    if (d) closedir(d);
    return n;
}

int dt_cli_init(int argc, char **argv) {
    char *scratch[1];
    parsed_args args;
    args.sets = scratch;
    const int rc = parse_args(argc, argv, "init", NULL, 0, 0, 1, "at most a folder", &args);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_init_help, stdout), 0;
    const char *dir = args.n_positional ? args.positional[0] : NULL;
    dt_store store;
    dt_error err = {{0}};
    int existed = 0;
    const dt_status status = dt_store_init(dir, &store, &existed, &err);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    printf("%s %s\n", existed ? "already a detrain store:" : "made an empty detrain store in", store.path);
    char old[DT_PATH_MAX + 32];
    snprintf(old, sizeof old, "%s/checkpoints", dir ? dir : ".");
    const int n_old = existed ? 0 : count_runs(old);
    if (n_old)
        printf("%d run folder%s in %s %s not in it: detrain runs --adopt %s\n", n_old, n_old == 1 ? "" : "s", old,
               n_old == 1 ? "is" : "are", old);
    return 0;
}
