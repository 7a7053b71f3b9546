/* main.c — the detrain command line. The only place that prints errors and exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli/args.h"
#include "cli/docs.h"
#include "cli/export.h"
#include "cli/mlflow.h"
#include "cli/plot.h"
#include "cli/registry.h"
#include "cli/sweep.h"
#include "comm/comm.h"
#include "config.h"
#include "fsutil.h"
#include "predict.h"
#include "records/diff.h"
#include "records/inspect.h"
#include "status.h"
#include "train.h"
#include "verify.h"
#include "version.h"

static const char usage_text[] =
    "usage: detrain <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG [options]     train a model from a JSON config (see 'detrain help train')\n"
    "  resume RUN_DIR             continue an interrupted run from its newest checkpoint\n"
    "  verify RUN_DIR             re-run a recorded run and compare it bit for bit with its record\n"
    "  diff RUN_A RUN_B           what differs between two runs: config, code, data, machine, results\n"
    "  inspect FILE.h5            a checkpoint's metadata, tensors and digests (each one verified)\n"
    "  eval CHECKPOINT            loss and accuracy of a checkpoint on the test set or other data\n"
    "  predict CHECKPOINT         predictions for new samples (CSV or JSON lines)\n"
    "  export CHECKPOINT          the model as safetensors (PyTorch) or ONNX (ONNX Runtime)\n"
    "  mlflow sync RUN_DIR        bring a run's MLflow tracking up to date (see 'detrain help mlflow')\n"
    "  bench [options]            measure what each mode costs and check its promise bit for bit\n"
    "  init [DIR]                 make DIR the home of a project: DIR/.detrain holds its runs\n"
    "                             index, registry and run folders (see 'detrain help init')\n"
    "  runs [options]             list, filter and sort the runs of the project's store\n"
    "  registry COMMAND           versions of named models, aliases, lineage, reproduce (see help)\n"
    "  lineage FILE|SHA256        the runs and model versions that used a data file\n"
    "  sweep CONFIG [options]     train a config over a grid or random draws of its keys\n"
    "  plot RUN_OR_SWEEP...       learning curves of runs and sweeps as SVG or PNG\n"
    "  help [COMMAND]             show help for a command (--man: the man page, --completion:\n"
    "                             the bash completion script; the install has both)\n"
    "\n"
    "options:\n"
    "  -h, --help                 show this help\n"
    "  --version                  show version and git commit\n"
    "\n"
    "Where a checkpoint goes (eval, predict, inspect, export), a run folder means its best.h5, else\n"
    "final.h5, else its newest checkpoint. Wherever a checkpoint or run folder goes (eval, predict,\n"
    "inspect, diff, export), a registered model version may go instead: NAME@ALIAS or\n"
    "NAME/VERSION ('detrain help registry').\n"
    "\n"
    "Exit codes: 0 done, 1 failure or difference found, 2 bad input (usage, config, data,\n"
    "checkpoint), 130 interrupted (a checkpoint was written; continue with 'detrain resume').\n";

static const char train_help_text[] =
    "usage: detrain train CONFIG [options]\n"
    "\n"
    "Trains the model described by CONFIG (JSON; every key in docs/config.md) and leaves a\n"
    "run folder with manifest.json (config, seeds, code and data versions, environment,\n"
    "metrics, checkpoints, parameter digest), trace.jsonl (every step's loss, with its exact\n"
    "bits) and HDF5 checkpoints (docs/checkpoint-format.md), final.h5 last.\n"
    "SIGINT or SIGTERM finishes the current step, writes a checkpoint and exits with 130;\n"
    "'detrain resume RUN_DIR' continues exactly where it stopped.\n"
    "\n"
    "options:\n"
    "  --set PATH=VALUE   override a config key (repeatable), e.g. --set optimizer.lr=0.003,\n"
    "                     --set model.layers[0].units=512; validated like the file\n"
    "  --threads N        CPU threads (same as --set runtime.threads=N; 0 = all cores)\n"
    "  --device D         cpu, cuda or auto (same as --set runtime.device=D)\n"
    "  --mode M           portable, deterministic or fast (same as --set runtime.mode=M)\n"
    "  --experiment NAME  the experiment the run belongs to (same as --set experiment=NAME;\n"
    "                     default: the config file's name)\n"
    "  --out DIR          run folder (default STORE/<config name>-<UTC time>, in the project's\n"
    "                     store: $DETRAIN_HOME, else the nearest .detrain/, else ./checkpoints;\n"
    "                     the run is recorded in the store wherever its folder is)\n"
    "  --quiet            no progress output\n"
    "  --mlflow URI       track the run in the MLflow server at URI (http:// or https://;\n"
    "                     default: the config's tracking.uri, else $MLFLOW_TRACKING_URI)\n"
    "  --stop-after-steps N   testing aid: behave as if SIGINT arrived during step N\n"
    "\n"
    "Exit codes: 0 done, 1 failure during training, 2 bad input (usage, config, data),\n"
    "130 interrupted.\n";

static const char resume_help_text[] =
    "usage: detrain resume RUN_DIR [options]\n"
    "\n"
    "Continues the run in RUN_DIR from its newest valid checkpoint (a damaged one is skipped\n"
    "with a note), in the same folder. The result is bit for bit the one the run would have\n"
    "had without the interruption: the same per-step losses (trace.jsonl) and the same\n"
    "parameter digest. Refuses (exit 2) when a data file's digest or the recorded config\n"
    "differs from the checkpoint's. A completed run is left as it is.\n"
    "\n"
    "options:\n"
    "  --threads N        CPU threads for this process (portable mode: same bits on any count)\n"
    "  --device D         cpu, cuda or auto for the rest of a portable run (the same bits on any)\n"
    "  --quiet            no progress output\n"
    "  --mlflow URI       track in this MLflow server (default: as the run was, else the\n"
    "                     config's tracking.uri, else $MLFLOW_TRACKING_URI)\n"
    "  --stop-after-steps N   testing aid: behave as if SIGINT arrived during global step N\n";

static const char verify_help_text[] =
    "usage: detrain verify RUN_DIR [options]\n"
    "\n"
    "Re-executes the recorded run (in a temporary folder, removed afterwards) and compares,\n"
    "bit for bit, every step's loss and learning rate, every epoch's metrics, every\n"
    "checkpoint's parameter digest and the final digest with the record. For a run in fast\n"
    "mode, which promises no bits, it compares the metrics within a tolerance instead.\n"
    "\n"
    "options:\n"
    "  --from STEP        start from the run's checkpoint of that step instead of step 0\n"
    "  --threads N        CPU threads for the re-run (portable mode: same bits on any count)\n"
    "  --tolerance T      fast mode: relative tolerance of the metrics (default 0.01)\n"
    "  --keep             keep the temporary run folder and print where it is\n"
    "  --quiet            no progress output from the re-run\n"
    "\n"
    "Exit codes: 0 identical, 1 different (a report of the first divergence and its likely\n"
    "cause on stdout), 2 cannot run (a data file missing or changed, a bad record).\n";

static const char diff_help_text[] =
    "usage: detrain diff RUN_A RUN_B\n"
    "\n"
    "Says what changed between two runs: config keys (by JSON path), code version, data\n"
    "files and digests, seeds, mode, environment and library versions, final metrics, and\n"
    "the first step at which the loss traces diverge.\n"
    "\n"
    "Exit codes: 0 no differences, 1 differences found, 2 a run folder cannot be read.\n";

static const char inspect_help_text[] =
    "usage: detrain inspect FILE.h5\n"
    "\n"
    "Prints a checkpoint's metadata (format, code version, step, epoch, position, optimizer\n"
    "counters, config digest, data files) and its tensors with their shapes and SHA-256\n"
    "digests, verifying each one and the parameter digest. When the file lies in a run\n"
    "folder, its bytes are also checked against the manifest's record.\n"
    "\n"
    "Exit codes: 0 intact, 2 damaged (the first bad tensor named on stderr) or unreadable.\n";

static const char eval_help_text[] =
    "usage: detrain eval CHECKPOINT [options]\n"
    "\n"
    "Evaluates a checkpoint's parameters: the loss (and accuracy for classifiers) on the\n"
    "config's test set, or on other data. Inputs are normalised as in training.\n"
    "\n"
    "options:\n"
    "  --data SOURCE      the data: a file whose format follows from its name (.csv,\n"
    "                     .h5/.hdf5, IDX images such as *-idx3-ubyte[.gz]), or a data-source\n"
    "                     JSON object as in a config, e.g. '{\"format\": \"csv\", \"path\":\n"
    "                     \"x.csv\", \"label_column\": 0}'\n"
    "  --labels FILE      the labels file of IDX images given with --data\n"
    "  --threads N        CPU threads\n";

static const char predict_help_text[] =
    "usage: detrain predict CHECKPOINT --input SOURCE [options]\n"
    "\n"
    "Writes predictions for the samples of SOURCE (same forms as 'eval --data'; labels are\n"
    "optional: a CSV without the label column, an HDF5 file without a labels dataset, IDX\n"
    "images without --labels). Classifiers give the class index and the softmax\n"
    "probabilities, regression models their outputs.\n"
    "\n"
    "options:\n"
    "  --input SOURCE     the samples (required)\n"
    "  --labels FILE      the labels file of IDX images\n"
    "  --output FILE      where to write: .csv for CSV, .jsonl or .json for JSON lines\n"
    "                     (default: CSV on standard output)\n";

/* Every command's help: 'detrain help COMMAND', the man page and the completion. */
static const dt_cli_help_entry help_table[] = {
    {"train", train_help_text},       {"resume", resume_help_text},     {"verify", verify_help_text},
    {"diff", diff_help_text},         {"inspect", inspect_help_text},   {"eval", eval_help_text},
    {"predict", predict_help_text},   {"export", dt_cli_export_help},   {"bench", dt_bench_help_text},
    {"init", dt_cli_init_help},       {"runs", dt_cli_runs_help},       {"registry", dt_cli_registry_help}, {"lineage", dt_cli_lineage_help},
    {"sweep", dt_cli_sweep_help},     {"plot", dt_cli_plot_help},       {"mlflow", dt_cli_mlflow_help}};
#define N_HELP ((int)(sizeof help_table / sizeof help_table[0]))

/* The help text of a command, or NULL. */
static const char *help_for(const char *command) {
    for (int i = 0; i < N_HELP; i++)
        if (!strcmp(command, help_table[i].command)) return help_table[i].help;
    return NULL;
}

/* detrain help [COMMAND | --man | --completion]. */
static int cmd_help(int argc, char **argv) {
    if (argc < 3) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(argv[2], "--man")) return dt_cli_write_man(stdout, usage_text, help_table, N_HELP), 0;
    if (!strcmp(argv[2], "--completion")) return dt_cli_write_completion(stdout, help_table, N_HELP), 0;
    const char *text = help_for(argv[2]);
    if (text) {
        fputs(text, stdout);
        return 0;
    }
    char message[256];
    snprintf(message, sizeof message, "no help for unknown command '%s'", argv[2]);
    return dt_cli_usage_error(message, NULL);
}

/* ---- train and resume ------------------------------------------------------------------------ */

/* The MPI job this process belongs to (train and resume under mpirun), or NULL. */
static dt_comm *job = NULL;

/* Joins the job; returns -1 when joined, else the exit code of the failure. */
static int join_job(int *argc, char ***argv) {
    dt_error err = {{0}};
    dt_status status = dt_comm_init(&job, argc, argv, &err);
    return status == DT_OK ? -1 : dt_cli_fail(status, err.message);
}

/* Leaves the job with exit code rc. A failed rank exits without MPI_Finalize, so the
 * launcher ends the other ranks at once instead of leaving them waiting. */
static int leave_job(int rc) {
    if (job && dt_comm_size(job) > 1 && rc != 0) {
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    dt_comm_finalize(job);
    job = NULL;
    return rc;
}

/* Whether this process prints a run's outcome: one process, or rank 0 of the job (input
 * errors and interruptions are the same on every rank); other failures every rank says, and
 * so does a rank whose device fails (its GPU is its own). */
static int speaks(dt_status status) {
    if (!job || dt_comm_size(job) == 1 || dt_comm_rank(job) == 0) return 1;
    return status != DT_OK && status != DT_INTERRUPTED && (dt_status_exit_code(status) != 2 || status == DT_DEVICE);
}

/* Prints what a finished, interrupted or failed run says and returns the exit code. */
static int report_run(dt_status status, const dt_train_summary *summary, const dt_error *err) {
    if (!speaks(status)) return dt_status_exit_code(status);
    if (status == DT_INTERRUPTED) {
        fprintf(stderr, "detrain: %s\n", err->message);
        return dt_status_exit_code(status);
    }
    if (status != DT_OK && job && dt_comm_size(job) > 1) {
        fprintf(stderr, "detrain: error (rank %d of %d): %s\n", dt_comm_rank(job), dt_comm_size(job), err->message);
        return dt_status_exit_code(status);
    }
    if (status != DT_OK) return dt_cli_fail(status, err->message);
    if (summary->already_completed) printf("run already completed; nothing to resume\n");
    if (summary->test_accuracy == summary->test_accuracy)
        printf("final: test_accuracy %.4f  test_loss %.6f  time %.1f s\n", summary->test_accuracy, summary->test_loss,
               summary->seconds);
    else
        printf("final: test_loss %.6f  time %.1f s\n", summary->test_loss, summary->seconds);
    printf("params_sha256 %s\n", summary->params_sha256);
    printf("run %s\n", summary->run_dir);
    return 0;
}

/* detrain train CONFIG [options]. */
static int cmd_train(int argc, char **argv) {
    static const option_spec specs[] = {{"--quiet", 0},   {"--set", 1},  {"--out", 1},
                                        {"--threads", 1},  {"--device", 1}, {"--mode", 1},
                                        {"--experiment", 1}, {"--stop-after-steps", 1}, {"--mlflow", 1}};
    enum { O_QUIET, O_SET, O_OUT, O_THREADS, O_DEVICE, O_MODE, O_EXPERIMENT, O_STOP, O_MLFLOW, N_SHORTHANDS = 4 };
    parsed_args args;
    char **overrides = calloc((size_t)argc + N_SHORTHANDS + 1, sizeof(char *));
    char *owned[N_SHORTHANDS] = {NULL}; /* overrides made from --threads, --device, --mode, --experiment */
    long long stop_after = 0;
    dt_config *cfg = NULL;
    if (!overrides) return dt_cli_fail(DT_NOMEM, "out of memory");
    char **record_argv = NULL;
    int rc = parse_simple(argc, argv, "train", specs, 9, 1, "a config file", &args, overrides);
    if (rc >= 0) goto done;
    if (args.help) {
        fputs(train_help_text, stdout);
        rc = 0;
        goto done;
    }
    if ((rc = parse_count("--stop-after-steps", args.values[O_STOP], "train", &stop_after)) >= 0) goto done;
    if ((rc = dt_cli_check_mlflow_uri(args.values[O_MLFLOW])) >= 0) goto done;
    const char *shorthand_keys[N_SHORTHANDS] = {"runtime.threads", "runtime.device", "runtime.mode", "experiment"};
    for (int k = 0; k < N_SHORTHANDS; k++) {
        const char *value = args.values[O_THREADS + k];
        if (!value) continue;
        size_t len = strlen(shorthand_keys[k]) + strlen(value) + 2;
        owned[k] = malloc(len);
        if (!owned[k]) {
            rc = dt_cli_fail(DT_NOMEM, "out of memory");
            goto done;
        }
        snprintf(owned[k], len, "%s=%s", shorthand_keys[k], value);
        overrides[args.n_sets++] = owned[k];
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        rc = dt_cli_fail(DT_NOMEM, "out of memory");
        goto done;
    }
    dt_error err = {{0}};
    dt_status status = dt_config_load(cfg, args.positional[0], args.n_sets, overrides, &err);
    if (status != DT_OK) {
        rc = dt_cli_fail(status, err.message);
        goto done;
    }
    if ((rc = join_job(&argc, &argv)) >= 0) goto done;
    if (!(record_argv = dt_cli_redacted_argv(argc, argv))) {
        rc = leave_job(dt_cli_fail(DT_NOMEM, "out of memory"));
        goto done;
    }
    dt_train_opts opts = {.quiet = args.values[O_QUIET] != NULL, .out_dir = args.values[O_OUT], .argc = argc,
                          .argv = record_argv, .stop_after_steps = stop_after, .comm = job, .track = 1,
                          .mlflow_uri = args.values[O_MLFLOW]};
    dt_train_summary summary;
    status = dt_train(cfg, &opts, &summary, &err);
    rc = leave_job(report_run(status, &summary, &err));
done:
    dt_cli_free_argv(record_argv);
    for (int i = 0; i < N_SHORTHANDS; i++) free(owned[i]);
    free(overrides);
    free(cfg);
    return rc;
}

/* detrain resume RUN_DIR [options]. */
static int cmd_resume(int argc, char **argv) {
    static const option_spec specs[] = {{"--quiet", 0}, {"--threads", 1}, {"--stop-after-steps", 1}, {"--device", 1},
                                        {"--mlflow", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "resume", specs, 5, 1, "a run folder", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(resume_help_text, stdout), 0;
    long long threads = 0, stop_after = 0;
    if ((rc = parse_count("--threads", args.values[1], "resume", &threads)) >= 0) return rc;
    if ((rc = parse_count("--stop-after-steps", args.values[2], "resume", &stop_after)) >= 0) return rc;
    if ((rc = dt_cli_check_mlflow_uri(args.values[4])) >= 0) return rc;
    if ((rc = join_job(&argc, &argv)) >= 0) return rc;
    char **record_argv = dt_cli_redacted_argv(argc, argv);
    if (!record_argv) return leave_job(dt_cli_fail(DT_NOMEM, "out of memory"));
    dt_train_opts opts = {.quiet = args.values[0] != NULL, .argc = argc, .argv = record_argv,
                          .stop_after_steps = stop_after, .threads = (int)threads, .device = args.values[3],
                          .comm = job, .track = 1, .mlflow_uri = args.values[4]};
    dt_train_summary summary;
    dt_error err = {{0}};
    dt_status status = dt_resume(args.positional[0], &opts, &summary, &err);
    dt_cli_free_argv(record_argv);
    return leave_job(report_run(status, &summary, &err));
}

/* ---- verify, diff, inspect, eval, predict --------------------------------------------------- */

/* detrain verify RUN_DIR [options]. */
static int cmd_verify(int argc, char **argv) {
    static const option_spec specs[] = {{"--quiet", 0}, {"--from", 1}, {"--threads", 1}, {"--tolerance", 1},
                                        {"--keep", 0}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "verify", specs, 5, 1, "a run folder", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(verify_help_text, stdout), 0;
    long long from = -1, threads = 0;
    if (args.values[1] && (rc = parse_count("--from", args.values[1], "verify", &from)) >= 0) return rc;
    if ((rc = parse_count("--threads", args.values[2], "verify", &threads)) >= 0) return rc;
    double tolerance = 0.01;
    if (args.values[3]) {
        char *end = NULL;
        tolerance = strtod(args.values[3], &end);
        if (end == args.values[3] || *end || !(tolerance >= 0))
            return dt_cli_usage_error("option '--tolerance' needs a number >= 0", "verify");
    }
    dt_verify_opts opts = {.quiet = args.values[0] != NULL, .from_step = from, .threads = (int)threads,
                           .tolerance = tolerance, .keep = args.values[4] != NULL, .argc = argc, .argv = argv};
    dt_error err = {{0}};
    dt_status status = dt_verify(args.positional[0], &opts, &err);
    if (status == DT_OK) return 0;
    if (status == DT_INTERRUPTED) return fprintf(stderr, "detrain: %s\n", err.message), dt_status_exit_code(status);
    return dt_cli_fail(status, err.message);
}

/* detrain diff RUN_A RUN_B: exit 0 without differences, 1 with. */
static int cmd_diff(int argc, char **argv) {
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "diff", NULL, 0, 2, "two run folders", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(diff_help_text, stdout), 0;
    /* either side may be a model version (its stored record, in a temporary folder) */
    char paths[2][4096], temps[2][4096] = {"", ""};
    for (int i = 0; i < 2 && rc < 0; i++) rc = dt_cli_run_folder(args.positional[i], paths[i], sizeof paths[i], temps[i], sizeof temps[i]);
    if (rc < 0) {
        int n_differences = 0;
        dt_error err = {{0}};
        dt_status status = dt_diff(paths[0], paths[1], &n_differences, &err);
        rc = status != DT_OK ? dt_cli_fail(status, err.message) : n_differences > 0 ? 1 : 0;
    }
    for (int i = 0; i < 2; i++)
        if (temps[i][0]) dt_remove_run_dir(temps[i]);
    return rc;
}

/* detrain inspect FILE.h5. */
static int cmd_inspect(int argc, char **argv) {
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "inspect", NULL, 0, 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(inspect_help_text, stdout), 0;
    char path[4096];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_status status = dt_inspect(path, &err);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* detrain eval CHECKPOINT [--data SOURCE] [--labels FILE] [--threads N]. */
static int cmd_eval(int argc, char **argv) {
    static const option_spec specs[] = {{"--data", 1}, {"--labels", 1}, {"--threads", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "eval", specs, 3, 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(eval_help_text, stdout), 0;
    long long threads = 0;
    if ((rc = parse_count("--threads", args.values[2], "eval", &threads)) >= 0) return rc;
    if (args.values[1] && !args.values[0]) return dt_cli_usage_error("--labels goes with --data", "eval");
    char path[4096];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_status status = dt_eval(path, args.values[0], args.values[1], (int)threads, &err);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* detrain predict CHECKPOINT --input SOURCE [--labels FILE] [--output FILE]. */
static int cmd_predict(int argc, char **argv) {
    static const option_spec specs[] = {{"--input", 1}, {"--labels", 1}, {"--output", 1}, {"--threads", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "predict", specs, 4, 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(predict_help_text, stdout), 0;
    if (!args.values[0]) return dt_cli_usage_error("predict needs --input SOURCE", "predict");
    long long threads = 0;
    if ((rc = parse_count("--threads", args.values[3], "predict", &threads)) >= 0) return rc;
    char path[4096];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_status status = dt_predict(path, args.values[0], args.values[1], args.values[2], (int)threads, &err);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* detrain bench: what each guarantee costs, and whether it held (bench.h). */
static int cmd_bench(int argc, char **argv) {
    dt_bench_opts *opts = malloc(sizeof *opts);
    if (!opts) return dt_cli_fail(DT_NOMEM, "out of memory");
    dt_error err = {{0}};
    int help = 0;
    dt_status status = dt_bench_parse_args(opts, argc - 2, argv + 2, &help, &err);
    if (status == DT_OK && help) fputs(dt_bench_help_text, stdout);
    else if (status == DT_OK) status = dt_bench_main(opts, &err);
    free(opts);
    if (status == DT_USAGE) return dt_cli_usage_error(err.message, "bench");
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* SIGHUP, SIGINT or SIGTERM outside a run (a run stops at a checkpoint instead: train.c):
 * the process ends as the signal says, without leaving its temporary folders or a half-written
 * temporary file behind. */
static void on_fatal_signal(int sig) {
    dt_remove_temp_dirs_now();
    const char *tmp = dt_write_in_progress();
    if (tmp) unlink(tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Dispatches to the command; the only place that exits. */
int main(int argc, char **argv) {
    /* A reader that stops early (detrain ... | head) makes writes fail with EPIPE instead of
     * killing the process, so every command still reaches its cleanup (temporary folders,
     * locks); the output it could not write is lost either way. */
    signal(SIGPIPE, SIG_IGN);
    const int fatal[] = {SIGHUP, SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction sa = {.sa_handler = on_fatal_signal}, old;
        sigemptyset(&sa.sa_mask);
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) /* nohup's stays ignored */
            sigaction(fatal[i], &sa, NULL);
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return dt_status_exit_code(DT_USAGE);
    }
    const char *command = argv[1];
    if (!strcmp(command, "-h") || !strcmp(command, "--help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(command, "--version")) {
        printf("detrain %s (commit %s%s)\n", DT_VERSION, DT_GIT_COMMIT, DT_GIT_DIRTY ? ", dirty" : "");
        return 0;
    }
    if (!strcmp(command, "bench")) return cmd_bench(argc, argv);
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"help", cmd_help},       {"train", cmd_train},     {"resume", cmd_resume},
                    {"verify", cmd_verify},   {"diff", cmd_diff},       {"inspect", cmd_inspect},
                    {"eval", cmd_eval},       {"predict", cmd_predict}, {"init", dt_cli_init},
                    {"runs", dt_cli_runs},
                    {"registry", dt_cli_registry}, {"lineage", dt_cli_lineage}, {"export", dt_cli_export},
                    {"sweep", dt_cli_sweep},
                    {"mlflow", dt_cli_mlflow}, {"plot", dt_cli_plot}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(command, commands[i].name)) return commands[i].run(argc, argv);
    char message[256];
    snprintf(message, sizeof message, "unknown command '%s'", command);
    return dt_cli_usage_error(message, NULL);
}
