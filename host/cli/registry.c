/* registry.c (cli) — detrain registry and lineage (cli/commands.h), and model references (cli/registry.h). */
#include "cli/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/mlflow.h"
#include "fsutil.h"
#include "records/runrec.h"
#include "registry/db.h"
#include "registry/registry.h"
#include "registry/runs.h"
#include "registry/store.h"
#include "reproduce.h"

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
    enum { G_ROOT, G_REGISTRY, G_JSON };
    static const option_spec specs[] = {[G_ROOT] = {"--root", 1}, [G_REGISTRY] = {"--registry", 1},
                                        [G_JSON] = {"--json", 0}};
    char *scratch[1];
    parsed_args args;
    int rc = parse_simple(argc, argv, "lineage", specs, DT_CLI_COUNT(specs), 1, "a data file or its SHA-256", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_lineage_help, stdout), 0;
    char db[DT_PATH_MAX + 32], why[DT_PATH_MAX + 128];
    registry_path(args.values[G_REGISTRY], db, sizeof db, why, sizeof why);
    dt_store store;
    dt_store_find(&store, args.values[G_ROOT]);
    if (!args.values[G_JSON]) printf("store: %s (%s)\nregistry: %s (%s)\n", store.path, dt_store_origin_text(&store), db, why);
    dt_error err = {{0}};
    const dt_status status = dt_lineage(store.path, db, args.positional[0], args.values[G_JSON] != NULL, &err);
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
