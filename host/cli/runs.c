/* runs.c (cli) — detrain init and detrain runs (cli/commands.h); the store is registry/store.h's,
 * the index registry/runs.h's. */
#include "cli/commands.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "fsutil.h"
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

int dt_cli_runs(int argc, char **argv) {
    static const option_spec specs[] = {{"--root", 1},  {"--experiment", 1}, {"--status", 1}, {"--where", 1},
                                        {"--sort", 1},  {"--limit", 1},      {"--json", 0},   {"--rescan", 0},
                                        {"--columns", 1}, {"--compare", 0}, {"--adopt", 1}};
    enum { O_ROOT, O_EXPERIMENT, O_STATUS, O_WHERE, O_SORT, O_LIMIT, O_JSON, O_RESCAN, O_COLUMNS, O_COMPARE, O_ADOPT };
    char **scratch = calloc((size_t)argc + 1, sizeof *scratch);
    if (!scratch) return dt_cli_fail(DT_NOMEM, "out of memory");
    parsed_args args;
    int rc = parse_simple(argc, argv, "runs", specs, (int)(sizeof specs / sizeof specs[0]), 0, "no arguments", &args,
                          scratch);
    long long limit = 0;
    if (rc < 0 && args.help) rc = (fputs(dt_cli_runs_help, stdout), 0);
    if (rc < 0) rc = parse_count("--limit", args.values[O_LIMIT], "runs", &limit);
    if (rc < 0 && args.n_sets > DT_RUNS_MAX_WHERE) rc = dt_cli_usage_error("at most 16 --where", "runs");
    dt_store store;
    dt_store_find(&store, args.values[O_ROOT]);
    if (rc < 0 && args.values[O_ADOPT]) rc = adopt(&store, args.values[O_ADOPT]);
    if (rc < 0) {
        dt_runs_query q = {.root = store.path,
                           .experiment = args.values[O_EXPERIMENT], .status = args.values[O_STATUS],
                           .sort = args.values[O_SORT], .limit = limit, .json = args.values[O_JSON] != NULL,
                           .rescan = args.values[O_RESCAN] != NULL, .compare = args.values[O_COMPARE] != NULL};
        for (int i = 0; i < args.n_sets; i++) q.where[q.n_where++] = scratch[i];
        char columns[1024] = "";
        snprintf(columns, sizeof columns, "%s", args.values[O_COLUMNS] ? args.values[O_COLUMNS] : "");
        for (char *key = strtok(columns, ","); key && rc < 0; key = strtok(NULL, ","))
            if (q.n_columns < DT_RUNS_MAX_COLUMNS) q.columns[q.n_columns++] = key;
            else rc = dt_cli_usage_error("--columns: at most 8 keys", "runs");
        if (rc >= 0) goto done;
        struct stat info;
        dt_error err = {{0}};
        if (stat(q.root, &info) != 0 || !S_ISDIR(info.st_mode)) {
            char message[DT_PATH_MAX + 256];
            snprintf(message, sizeof message, "%s: no folder of runs (%s); 'detrain init' makes a store here, "
                     "or give --root", q.root, dt_store_origin_text(&store));
            rc = dt_cli_fail(DT_USAGE, message);
        } else {
            if (!q.json) printf("store: %s (%s)\n", store.path, dt_store_origin_text(&store));
            const dt_status status = dt_runs_list(&q, &err);
            rc = status == DT_OK ? 0 : status == DT_USAGE ? dt_cli_usage_error(err.message, "runs")
                                                          : dt_cli_fail(status, err.message);
        }
    }
done:
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
