/* sweep.c (cli) — detrain sweep (cli/commands.h); the plan, the children and the table are
 * sweep/sweep.h's, the registration registry/registry.h's. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/mlflow.h"
#include "cli/registry.h"
#include "core/fsutil.h"
#include "core/pool.h"
#include "registry/db.h"
#include "registry/registry.h"
#include "registry/store.h"
#include "sweep/sweep.h"

const char dt_cli_sweep_help[] =
    "usage: detrain sweep CONFIG --grid KEY=V1,V2,... [--grid ...] [options]\n"
    "       detrain sweep CONFIG --random KEY=LO:HI[:log] [--random ...] --trials N [options]\n"
    "\n"
    "Trains CONFIG once per trial: every combination of the --grid values, or N random draws\n"
    "of the --random keys (with both, every combination for each draw). Each trial is a normal\n"
    "run, 'detrain train CONFIG --set KEY=VALUE ...' in a child process, in DIR/<trial name>,\n"
    "named by its overrides (optimizer.lr=0.001,model.layers[0].units=128); all of them belong\n"
    "to one experiment. A draw is Philox4x32-10 of (--sweep-seed, trial, key), recorded as the\n"
    "text given to --set: the same plan on any machine. The end is a table of the trials sorted\n"
    "by the runs' selection metric (validation), else by final test_loss, and the winner.\n"
    "\n"
    "DIR/sweep.json records the plan and every trial's state. The same command again with\n"
    "--out DIR continues the sweep: completed trials are kept, interrupted ones resumed, failed\n"
    "ones run afresh (the failed folder kept as <name>.failed-<n>); another plan is refused.\n"
    "SIGINT or SIGTERM stops every running trial at a checkpoint (exit 130).\n"
    "\n"
    "options:\n"
    "  --grid KEY=V1,V2,...      a key and its values (repeatable; commas inside [] {} \"\" stay)\n"
    "  --random KEY=LO:HI[:log]  a key drawn uniformly from [LO, HI], log-uniformly with :log;\n"
    "                            integers when LO and HI are integers (repeatable)\n"
    "  --trials N                random draws (with --random)\n"
    "  --sweep-seed S            the draws' seed (default 0)\n"
    "  --set KEY=VALUE           an override of every trial (repeatable)\n"
    "  -j N                      trials at once (default 1), each with cores / N threads\n"
    "  --out DIR                 the sweep folder (default STORE/sweep-<config name>-<UTC time>,\n"
    "                            in the project's store: see 'help runs')\n"
    "  --experiment NAME         the trials' experiment (default <config name>-sweep)\n"
    "  --md                      the table in Markdown\n"
    "  --json FILE               the sorted results and the winner as JSON\n"
    "  --register NAME           register the winner as the next version of NAME (its best.h5\n"
    "                            when it kept one, else final.h5; as 'registry add')\n"
    "  --registry PATH           the registry database (default $DETRAIN_REGISTRY, else the\n"
    "                            store's)\n"
    "  --quiet                   no progress lines\n"
    "\n"
    "runtime.*, tracking.* and experiment cannot vary. Each trial's output goes to\n"
    "DIR/logs/<name>.log; 'detrain runs --root DIR' lists the trials' runs.\n"
    "\n"
    "Exit codes: 0 every trial completed, 1 a trial failed (named; the others ran), 2 bad input\n"
    "(usage, a key or value the config refuses, another plan in DIR), 130 interrupted.\n";

enum { O_GRID, O_RANDOM, O_SET, O_TRIALS, O_SEED, O_JOBS, O_OUT, O_MD, O_JSON, O_REGISTER, O_REGISTRY,
       O_EXPERIMENT, O_QUIET };

static const option_spec specs[] = {
    [O_GRID] = {"--grid", 2},         [O_RANDOM] = {"--random", 2},         [O_SET] = {"--set", 2},
    [O_TRIALS] = {"--trials", 1},     [O_SEED] = {"--sweep-seed", 1},       [O_JOBS] = {"-j", 1},
    [O_OUT] = {"--out", 1},           [O_MD] = {"--md", 0},                 [O_JSON] = {"--json", 1},
    [O_REGISTER] = {"--register", 1}, [O_REGISTRY] = {"--registry", 1},     [O_EXPERIMENT] = {"--experiment", 1},
    [O_QUIET] = {"--quiet", 0}};

/* Prints a library failure on one line. Returns the exit code. */
static int report(dt_status status, const dt_error *err) { return dt_cli_fail(status, err->message); }

/* Prints a failure of the command line's options: usage errors with the hint to the help. */
static int report_option(dt_status status, const dt_error *err) {
    return status == DT_USAGE ? dt_cli_usage_error(err->message, "sweep") : dt_cli_fail(status, err->message);
}

/* The option a repeated value was given to: the argument before it (parse_args keeps pointers). */
static const char *option_of(int argc, char **argv, const char *value) {
    for (int i = 3; i < argc; i++)
        if (argv[i] == value) return argv[i - 1];
    return "";
}

/* The plan's keys, overrides, draws and trials from the options. -1 when built, else the exit
 * code of the printed error. */
static int plan_from_args(int argc, char **argv, const parsed_args *args, dt_sweep_plan *plan) {
    dt_error err = {{0}};
    dt_status status = DT_OK;
    int n_random = 0;
    for (int i = 0; i < args->n_sets && status == DT_OK; i++) /* the --set first: a key may not be both */
        if (!strcmp(option_of(argc, argv, args->sets[i]), "--set"))
            status = dt_sweep_add_set(plan, args->sets[i], &err);
    for (int i = 0; i < args->n_sets && status == DT_OK; i++) {
        const char *option = option_of(argc, argv, args->sets[i]);
        n_random += !strcmp(option, "--random");
        if (strcmp(option, "--set") != 0)
            status = dt_sweep_add_key(plan, args->sets[i], !strcmp(option, "--random"), &err);
    }
    if (status != DT_OK) return report_option(status, &err);
    long long draws = 0;
    int rc = parse_count("--trials", args->values[O_TRIALS], "sweep", &draws);
    if (rc >= 0) return rc;
    if (args->values[O_TRIALS] && !n_random) return dt_cli_usage_error("--trials goes with --random", "sweep");
    if (args->values[O_SEED] && !n_random) return dt_cli_usage_error("--sweep-seed goes with --random", "sweep");
    if (n_random && !args->values[O_TRIALS]) return dt_cli_usage_error("--random needs --trials N", "sweep");
    if (n_random && draws < 1) return dt_cli_usage_error("--trials must be at least 1", "sweep");
    if (args->values[O_SEED]) {
        char *end = NULL;
        plan->sweep_seed = strtoull(args->values[O_SEED], &end, 10);
        if (end == args->values[O_SEED] || *end || args->values[O_SEED][0] == '-')
            return dt_cli_usage_error("--sweep-seed needs a non-negative integer", "sweep");
    }
    plan->n_draws = draws;
    if (args->values[O_EXPERIMENT])
        snprintf(plan->experiment, sizeof plan->experiment, "%s", args->values[O_EXPERIMENT]);
    status = dt_sweep_plan_build(plan, args->positional[0], &err);
    return status == DT_OK ? -1 : report_option(status, &err);
}

/* -j into *jobs and each child's threads into *threads (the cores split between the trials).
 * -1 when valid, else the exit code of the printed error. */
static int split_cores(const char *value, int *jobs, int *threads) {
    long long n = 1;
    int rc = value ? parse_count("-j", value, "sweep", &n) : -1;
    if (rc >= 0) return rc;
    const int cores = dt_available_cores();
    char message[160];
    if (n < 1) return dt_cli_usage_error("-j must be at least 1", "sweep");
    if (n > cores || n > DT_SWEEP_MAX_JOBS) {
        snprintf(message, sizeof message, "-j %lld: more trials at once than the %d cores this process may use", n,
                 cores);
        return dt_cli_usage_error(message, "sweep");
    }
    *jobs = (int)n;
    *threads = cores / *jobs;
    return -1;
}

/* Prints a trial's start and end on stderr. */
static void print_event(void *ctx, const dt_sweep_plan *plan, int t, const char *event) {
    (void)ctx;
    const dt_sweep_trial *trial = &plan->trials[t];
    fprintf(stderr, "sweep: [%d/%d] %s: ", t + 1, plan->n_trials, trial->name);
    if (!strcmp(event, "train") || !strcmp(event, "resume"))
        fprintf(stderr, "%s\n", !strcmp(event, "train") ? "training" : "resuming");
    else if (!strcmp(event, "skipped"))
        fprintf(stderr, "already completed\n");
    else if (trial->status == DT_TRIAL_COMPLETED)
        fprintf(stderr, "completed in %.1f s, params %.12s\n", trial->seconds, trial->params_sha256);
    else if (trial->status == DT_TRIAL_FAILED)
        fprintf(stderr, "failed (exit %d): %s\n", trial->exit_code, trial->message);
    else
        fprintf(stderr, "%s\n", event);
}

/* The command that continues this sweep: the same, with --out DIR when it was not given; each
 * argument quoted for a POSIX shell where it needs to be. */
static void continue_command(int argc, char **argv, const char *dir, int has_out, char *out, size_t size) {
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=,/:@%";
    const char *extra[2] = {"--out", dir};
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < argc + (has_out ? 0 : 2) && len + 8 < size; i++) {
        const char *arg = i < argc ? argv[i] : extra[i - argc];
        const int quote = !*arg || strspn(arg, plain) != strlen(arg);
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "", quote ? "'" : "");
        for (const char *c = arg; *c && len + 8 < size; c++) {
            if (*c == '\'')
                len += (size_t)snprintf(out + len, size - len, "'\\''");
            else
                out[len++] = *c, out[len] = '\0';
        }
        if (quote && len + 2 < size) len += (size_t)snprintf(out + len, size - len, "'");
    }
}

/* Registers the winner's run as the next version of `name`, as `registry add` does. -1 when
 * registered, else the exit code of the printed error. */
static int register_winner(const dt_sweep_plan *plan, const dt_sweep_results *results, const parsed_args *args) {
    if (results->winner < 0) return dt_cli_fail(DT_USAGE, "--register: no trial completed, nothing to register");
    char db[DT_PATH_MAX + 32], run_dir[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 2], note[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 64];
    dt_store store;
    dt_error err = {{0}};
    if (dt_store_find(&store, NULL, &err) != DT_OK) return report(DT_USAGE, &err);
    dt_store_registry(&store, args->values[O_REGISTRY], db, sizeof db);
    dt_sweep_trial_dir(plan, results->rows[results->winner].trial, run_dir, sizeof run_dir);
    snprintf(note, sizeof note, "winner of sweep %s (%s)", plan->dir,
             plan->trials[results->rows[results->winner].trial].name);
    dt_registry_added added;
    const dt_status status = dt_registry_add(db, run_dir, args->values[O_REGISTER], note, NULL, &added, &err);
    if (status != DT_OK) return report(status, &err);
    dt_cli_say_added(args->values[O_REGISTER], &added);
    char manifest[sizeof run_dir + 16];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", run_dir);
    dt_cli_mlflow_bridge(manifest, args->values[O_REGISTER], NULL, NULL, note);
    return -1;
}

/* Prints how to continue an unfinished sweep; returns 130. */
static int say_continue(int argc, char **argv, const parsed_args *args, const dt_sweep_plan *plan, const char *what) {
    char command[8192];
    continue_command(argc, argv, plan->dir, args->values[O_OUT] != NULL, command, sizeof command);
    fprintf(stderr, "detrain: sweep %s; continue with: %s\n", what, command);
    return dt_status_exit_code(DT_INTERRUPTED);
}

/* The exit code of a finished sweep: 1 naming the failed trials, 130 when a trial was stopped
 * from outside (said how to continue), else 0. */
static int outcome(int argc, char **argv, const parsed_args *args, const dt_sweep_plan *plan) {
    int n_failed = 0, n_unfinished = 0;
    char names[2048] = "";
    for (int t = 0; t < plan->n_trials; t++) {
        const dt_sweep_trial *trial = &plan->trials[t];
        n_unfinished += trial->status != DT_TRIAL_FAILED && trial->status != DT_TRIAL_COMPLETED;
        if (trial->status != DT_TRIAL_FAILED) continue;
        const size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s (exit %d%s%.160s)", n_failed++ ? ", " : "", trial->name,
                 trial->exit_code, trial->message[0] ? ": " : "", trial->message);
    }
    if (n_failed) {
        char message[sizeof names + DT_PATH_MAX + 80];
        snprintf(message, sizeof message, "%d of %d trials failed: %s; their output is in %s/logs/", n_failed,
                 plan->n_trials, names, plan->dir);
        return dt_cli_fail(DT_NUMERIC, message);
    }
    if (!n_unfinished) return 0;
    char what[64];
    snprintf(what, sizeof what, "has %d unfinished trials (stopped from outside)", n_unfinished);
    return say_continue(argc, argv, args, plan, what);
}

/* The table on stdout, --json and --register (when no trial is left unfinished). Returns -1,
 * else the exit code of the printed error. */
static int report_results(const dt_sweep_plan *plan, const parsed_args *args) {
    dt_sweep_results results;
    dt_error err = {{0}};
    dt_status status = dt_sweep_results_load(plan, &results, &err);
    if (status != DT_OK) return report(status, &err);
    int rc = -1, unfinished = 0;
    for (int t = 0; t < plan->n_trials; t++)
        unfinished |= plan->trials[t].status != DT_TRIAL_FAILED && plan->trials[t].status != DT_TRIAL_COMPLETED;
    char *table = dt_sweep_table_text(plan, &results, args->values[O_MD] != NULL);
    char *json = args->values[O_JSON] ? dt_sweep_table_json(plan, &results) : NULL;
    if (!table || (args->values[O_JSON] && !json)) rc = dt_cli_fail(DT_NOMEM, "out of memory");
    if (rc < 0) fputs(table, stdout);
    fflush(stdout);
    if (rc < 0 && json && (status = dt_write_file_atomic(args->values[O_JSON], json, strlen(json), &err)) != DT_OK)
        rc = report(status, &err);
    if (rc < 0 && args->values[O_REGISTER] && !unfinished) rc = register_winner(plan, &results, args);
    free(table);
    free(json);
    dt_sweep_results_free(&results);
    return rc;
}

/* Opens the sweep folder and runs the trials. Returns the exit code. */
static int run_sweep(int argc, char **argv, const parsed_args *args, dt_sweep_plan *plan) {
    int jobs = 1, threads = 1, rc = split_cores(args->values[O_JOBS], &jobs, &threads);
    if (rc >= 0) return rc;
    dt_store store;
    dt_error err = {{0}};
    if (dt_store_find(&store, NULL, &err) != DT_OK ||
        (args->values[O_OUT] && dt_path_check(args->values[O_OUT], sizeof plan->dir, &err) != DT_OK))
        return report(DT_USAGE, &err);
    if (args->values[O_OUT]) snprintf(plan->dir, sizeof plan->dir, "%s", args->values[O_OUT]);
    else dt_sweep_default_dir(plan, store.path, plan->dir, sizeof plan->dir);
    plan->argc = argc;
    plan->argv = argv;
    int continued = 0;
    dt_status status = dt_sweep_record_open(plan, &continued, &err);
    if (status != DT_OK) return report(status, &err);
    const int quiet = args->values[O_QUIET] != NULL;
    if (!quiet)
        fprintf(stderr, "sweep: %s %s: %d trials, %d at once with %d thread%s each\n",
                continued ? "continuing" : "started", plan->dir, plan->n_trials, jobs, threads,
                threads == 1 ? "" : "s");
    const dt_sweep_run_opts opts = {
        .jobs = jobs, .threads = threads, .argv0 = argv[0], .on_event = quiet ? NULL : print_event};
    status = dt_sweep_run(plan, &opts, &err);
    if (status == DT_INTERRUPTED) return say_continue(argc, argv, args, plan, err.message);
    if (status != DT_OK) return report(status, &err);
    if ((rc = report_results(plan, args)) >= 0) return rc;
    return outcome(argc, argv, args, plan);
}

int dt_cli_sweep(int argc, char **argv) {
    char **scratch = calloc((size_t)argc + 1, sizeof *scratch);
    dt_sweep_plan *plan = calloc(1, sizeof *plan);
    if (!scratch || !plan) {
        free(scratch);
        free(plan);
        return dt_cli_fail(DT_NOMEM, "out of memory");
    }
    dt_sweep_plan_init(plan);
    parsed_args args;
    int rc = parse_simple(argc, argv, "sweep", specs, DT_CLI_COUNT(specs), 1, "a config file", &args, scratch);
    if (rc < 0 && args.help) rc = (fputs(dt_cli_sweep_help, stdout), 0);
    if (rc < 0) rc = plan_from_args(argc, argv, &args, plan);
    if (rc < 0) rc = run_sweep(argc, argv, &args, plan);
    dt_sweep_plan_free(plan);
    free(plan);
    free(scratch);
    return rc;
}
