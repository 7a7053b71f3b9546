/* registry.c (cli) — detrain runs, registry, lineage, and model references (cli/registry.h). */
#include "cli/registry.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/mlflow.h"
#include "fsutil.h"
#include "records/runrec.h"
#include "registry/db.h"
#include "registry/registry.h"
#include "registry/runs.h"
#include "registry/store.h"
#include "reproduce.h"

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

const char dt_cli_registry_help[] =
    "usage: detrain registry COMMAND [arguments] [--registry PATH]\n"
    "\n"
    "The model registry: a finished run's model registered as version 1, 2, ... of a named\n"
    "model, with copies of its record (manifest.json, trace.jsonl) and its lineage, stored\n"
    "content-addressed next to the database: the project store's detrain.sqlite (see 'help\n"
    "runs'; --registry or $DETRAIN_REGISTRY choose another; the first line of the text output\n"
    "names it). A version is named NAME/VERSION or NAME@ALIAS, here and in eval, predict,\n"
    "inspect, diff and export.\n"
    "\n"
    "commands:\n"
    "  add RUN_DIR --name NAME [--note TEXT] [--checkpoint best|final]\n"
    "                                         register the run's best.h5 (when it selected a best\n"
    "                                         epoch) or final.h5, verified, as the next version; the\n"
    "                                         same file again is the same version\n"
    "  alias NAME ALIAS VERSION [--note TEXT] point ALIAS (production, staging, ...) at VERSION\n"
    "  history NAME                           every alias move: when, from, to, who, note\n"
    "  list [NAME] [--json]                   the models, or one model's versions\n"
    "  show REF [--json]                      one version and its lineage (run, config, code,\n"
    "                                         data files and digests, environment, metrics)\n"
    "  reproduce REF [--threads N] [--keep]   re-run the version's recorded run and check it\n"
    "                                         against the registered digest, bit for bit\n"
    "  verify                                 every stored file against its digest\n"
    "  gc [--min-age SECONDS]                 remove stored files no version names (left by an add\n"
    "                                         that died), at least SECONDS old (default 3600)\n"
    "\n"
    "With MLflow tracking on (--mlflow URI, the run's tracking.uri, $MLFLOW_TRACKING_URI, or the\n"
    "server the run was tracked in), add also makes the MLflow registered model's version of\n"
    "the run's MLflow run, and alias sets the same alias there (a failure there is a warning).\n"
    "\n"
    "Exit codes: 0 done (reproduce: identical; verify: intact), 1 different or damaged,\n"
    "2 bad input (an unknown name, alias or version, a malformed reference, an unfinished run,\n"
    "a damaged artifact, a read-only or newer database).\n";

const char dt_cli_lineage_help[] =
    "usage: detrain lineage FILE|SHA256 [--root DIR] [--registry PATH] [--json]\n"
    "\n"
    "The runs (of the project's store, see 'help runs'; or of --root) and the registered model\n"
    "versions that were trained or tested on a data file, found by the file's SHA-256 wherever\n"
    "it was stored.\n";

/* The registry database a command uses (store.h), and in `why` where it comes from. */
static void registry_path(const char *given, char *out, size_t size, char *why, size_t why_size) {
    dt_store store;
    dt_store_find(&store, NULL);
    dt_store_registry(&store, given, out, size);
    const char *env = getenv("DETRAIN_REGISTRY");
    if (given && *given) snprintf(why, why_size, "--registry");
    else if (env && *env) snprintf(why, why_size, "$DETRAIN_REGISTRY");
    else snprintf(why, why_size, "the store %s: %s", store.path, dt_store_origin_text(&store));
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

int dt_cli_registry(int argc, char **argv) {
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(dt_cli_registry_help, argc < 3 ? stderr : stdout);
        return argc < 3 ? dt_status_exit_code(DT_USAGE) : 0;
    }
    const char *sub = argv[2];
    static const option_spec specs[] = {{"--registry", 1}, {"--name", 1}, {"--note", 1}, {"--json", 0},
                                        {"--threads", 1},  {"--quiet", 0}, {"--keep", 0}, {"--min-age", 1},
                                        {"--mlflow", 1},   {"--checkpoint", 1}};
    enum { O_REGISTRY, O_NAME, O_NOTE, O_JSON, O_THREADS, O_QUIET, O_KEEP, O_MIN_AGE, O_MLFLOW, O_CHECKPOINT };
    static const struct {
        const char *name;
        int min, max;
        const char *what;
    } subs[] = {{"add", 1, 1, "a run folder"},       {"alias", 3, 3, "NAME ALIAS VERSION"}, {"history", 1, 1, "a model name"},
                {"list", 0, 1, "at most a model name"}, {"show", 1, 1, "a model reference"},  {"reproduce", 1, 1, "a model reference"},
                {"verify", 0, 0, "no arguments"},     {"gc", 0, 0, "no arguments"}};
    int which = -1;
    for (int i = 0; i < (int)(sizeof subs / sizeof subs[0]); i++)
        if (!strcmp(sub, subs[i].name)) which = i;
    char command[64];
    snprintf(command, sizeof command, "registry %s", sub);
    if (which < 0) {
        char message[160];
        snprintf(message, sizeof message, "unknown registry command '%s'", sub);
        return dt_cli_usage_error(message, "registry");
    }
    char *scratch[1];
    parsed_args args;
    args.sets = scratch;
    int rc = parse_args(argc - 1, argv + 1, command, specs, (int)(sizeof specs / sizeof specs[0]), subs[which].min, subs[which].max, subs[which].what, &args);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_registry_help, stdout), 0;
    if ((rc = dt_cli_check_mlflow_uri(args.values[O_MLFLOW])) >= 0) return rc;
    char db[DT_PATH_MAX + 32], why[DT_PATH_MAX + 128];
    registry_path(args.values[O_REGISTRY], db, sizeof db, why, sizeof why);
    const char **pos = args.positional;
    const int json = args.values[O_JSON] != NULL;
    if (!json) printf("registry: %s (%s)\n", db, why);
    dt_error err = {{0}};
    dt_status status = DT_OK;
    if (!strcmp(sub, "add")) {
        if (!args.values[O_NAME]) return dt_cli_usage_error("registry add needs --name NAME", "registry");
        status = dt_registry_add(db, pos[0], args.values[O_NAME], args.values[O_NOTE], args.values[O_CHECKPOINT], &err);
        if (status == DT_OK) {
            char manifest[4200];
            snprintf(manifest, sizeof manifest, "%s/manifest.json", pos[0]);
            dt_cli_mlflow_bridge(manifest, args.values[O_NAME], NULL, args.values[O_MLFLOW], args.values[O_NOTE]);
        }
    } else if (!strcmp(sub, "alias")) {
        status = dt_registry_alias(db, pos[0], pos[1], pos[2], args.values[O_NOTE], &err);
        dt_model_version v;
        char ref[DT_NAME_MAX + 64];
        snprintf(ref, sizeof ref, "%s/%s", pos[0], pos[2]);
        if (status == DT_OK && dt_registry_resolve(db, ref, &v, &err) == DT_OK)
            dt_cli_mlflow_bridge(v.manifest, pos[0], pos[1], args.values[O_MLFLOW], args.values[O_NOTE]);
    } else if (!strcmp(sub, "history")) {
        status = dt_registry_history(db, pos[0], &err);
    } else if (!strcmp(sub, "list")) {
        status = dt_registry_list(db, args.n_positional ? pos[0] : NULL, json, &err);
    } else if (!strcmp(sub, "show")) {
        status = dt_registry_show(db, pos[0], json, &err);
    } else if (!strcmp(sub, "reproduce")) {
        long long threads = 0;
        if ((rc = parse_count("--threads", args.values[O_THREADS], "registry", &threads)) >= 0) return rc;
        dt_verify_opts opts = {.quiet = args.values[O_QUIET] != NULL, .from_step = -1, .threads = (int)threads,
                               .tolerance = 0.01, .keep = args.values[O_KEEP] != NULL, .argc = argc, .argv = argv};
        status = dt_reproduce(db, pos[0], &opts, &err);
        if (status == DT_MISMATCH) return 1;
    } else if (!strcmp(sub, "verify")) {
        int64_t damaged = 0;
        status = dt_registry_verify(db, &damaged, &err);
        if (status == DT_OK && damaged) return 1;
    } else {
        long long min_age = 3600;
        if (args.values[O_MIN_AGE] && (rc = parse_count("--min-age", args.values[O_MIN_AGE], "registry", &min_age)) >= 0)
            return rc;
        status = dt_registry_gc(db, min_age, &err);
    }
    if (status == DT_USAGE) return dt_cli_usage_error(err.message, "registry");
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

int dt_cli_lineage(int argc, char **argv) {
    static const option_spec specs[] = {{"--root", 1}, {"--registry", 1}, {"--json", 0}};
    char *scratch[1];
    parsed_args args;
    int rc = parse_simple(argc, argv, "lineage", specs, 3, 1, "a data file or its SHA-256", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_lineage_help, stdout), 0;
    char db[DT_PATH_MAX + 32], why[DT_PATH_MAX + 128];
    registry_path(args.values[1], db, sizeof db, why, sizeof why);
    dt_store store;
    dt_store_find(&store, args.values[0]);
    if (!args.values[2]) printf("store: %s (%s)\nregistry: %s (%s)\n", store.path, dt_store_origin_text(&store), db, why);
    dt_error err = {{0}};
    const dt_status status = dt_lineage(store.path, db, args.positional[0], args.values[2] != NULL, &err);
    if (status == DT_USAGE) return dt_cli_usage_error(err.message, "lineage");
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* A file or folder that exists, or anything not shaped like a model reference: copied to path,
 * *v untouched, -1. A model reference: resolved into *v, 0. An unknown one: the exit code. */
static int resolve_reference(const char *arg, char *path, size_t size, dt_model_version *v) {
    struct stat info;
    if (stat(arg, &info) == 0 || !dt_model_ref_shape(arg)) {
        snprintf(path, size, "%s", arg);
        return -1;
    }
    char db[DT_PATH_MAX + 32], why[DT_PATH_MAX + 128];
    registry_path(NULL, db, sizeof db, why, sizeof why);
    dt_error err = {{0}};
    const dt_status status = dt_registry_resolve(db, arg, v, &err);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

int dt_cli_checkpoint(const char *arg, char *path, size_t size) {
    dt_model_version v;
    const int rc = resolve_reference(arg, path, size, &v);
    if (rc == 0) snprintf(path, size, "%s", v.artifact);
    struct stat info;
    if (rc < 0 && stat(arg, &info) == 0 && S_ISDIR(info.st_mode)) { /* a run folder: its selected checkpoint */
        char which[160];
        dt_error err = {{0}};
        const dt_status status = dt_run_selected_checkpoint(arg, path, size, which, sizeof which, &err);
        if (status != DT_OK) return dt_cli_fail(status, err.message);
        fprintf(stderr, "detrain: %s: using %s\n", arg, which);
    }
    return rc > 0 ? rc : -1;
}

int dt_cli_run_folder(const char *arg, char *path, size_t size, char *temp, size_t temp_size) {
    dt_model_version v;
    temp[0] = '\0';
    const int rc = resolve_reference(arg, path, size, &v);
    if (rc != 0) return rc > 0 ? rc : -1;
    dt_error err = {{0}};
    dt_status status = dt_make_temp_dir("detrain-version-", temp, temp_size, &err);
    if (status == DT_OK) status = dt_registry_materialize(&v, temp, &err);
    if (status != DT_OK) {
        if (temp[0]) dt_remove_run_dir(temp);
        temp[0] = '\0';
        return dt_cli_fail(status, err.message);
    }
    snprintf(path, size, "%s", temp);
    return -1;
}
