/* train.c (cli) — detrain train and resume (cli/commands.h); the run is train.h's. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/bisect.h"
#include "comm/comm.h"
#include "core/config.h"
#include "run/train.h"

const char dt_cli_train_help[] =
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
    "  --dump-ops STEP    write every operation's output of step STEP (1 = the first), with its\n"
    "                     SHA-256, to RUN_DIR/ops-STEP.json, for 'detrain bisect' on another\n"
    "                     machine; one process only\n"
    "  --ops-out FILE     where --dump-ops writes\n"
    "\n"
    "Exit codes: 0 done, 1 failure during training, 2 bad input (usage, config, data),\n"
    "130 interrupted.\n"
    "\n"
    "Environment: DETRAIN_CUDA_GRAPHS=0 launches a GPU step's kernels one by one from the host\n"
    "instead of as one CUDA graph (a profiler's per-launch view; the same bits).\n"
    "DETRAIN_TEST_PERTURB=OP@STEP[:BACKEND] (tests only) moves element 0 of one operation's\n"
    "output (an op name of --dump-ops, e.g. layer1.state.bias@5:cuda) up by one ULP, standing\n"
    "for an altered kernel; the run's manifest records it as test_perturb.\n";

const char dt_cli_resume_help[] =
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
    "  --stop-after-steps N   testing aid: behave as if SIGINT arrived during global step N\n"
    "  --dump-ops STEP    write every operation's output of step STEP to RUN_DIR/ops-STEP.json\n"
    "                     (as 'detrain help train' says); STEP must come after the checkpoint\n"
    "  --ops-out FILE     where --dump-ops writes\n";

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

enum { T_QUIET, T_SET, T_OUT, T_THREADS, T_DEVICE, T_MODE, T_EXPERIMENT, T_STOP, T_MLFLOW, T_DUMP, T_OPS_OUT };
static const option_spec train_specs[] = {
    [T_QUIET] = {"--quiet", 0},           [T_SET] = {"--set", 1},       [T_OUT] = {"--out", 1},
    [T_THREADS] = {"--threads", 1},       [T_DEVICE] = {"--device", 1}, [T_MODE] = {"--mode", 1},
    [T_EXPERIMENT] = {"--experiment", 1}, [T_STOP] = {"--stop-after-steps", 1}, [T_MLFLOW] = {"--mlflow", 1},
    [T_DUMP] = {"--dump-ops", 1},         [T_OPS_OUT] = {"--ops-out", 1}};

/* The options that stand for a config key (--threads N is --set runtime.threads=N), in the
 * order of their indices from T_THREADS. */
static const char *const shorthand_keys[] = {"runtime.threads", "runtime.device", "runtime.mode", "experiment"};
#define N_SHORTHANDS ((int)(sizeof shorthand_keys / sizeof shorthand_keys[0]))

/* Appends "KEY=VALUE" to overrides for each shorthand option given, after the --set ones (so
 * they win); each string is also kept in owned[] to be freed. -1, else the exit code. */
static int add_shorthands(const parsed_args *args, char **overrides, int *n_overrides, char *owned[N_SHORTHANDS]) {
    for (int k = 0; k < N_SHORTHANDS; k++) {
        const char *value = args->values[T_THREADS + k];
        if (!value) continue;
        size_t len = strlen(shorthand_keys[k]) + strlen(value) + 2;
        if (!(owned[k] = malloc(len))) return dt_cli_fail(DT_NOMEM, "out of memory");
        snprintf(owned[k], len, "%s=%s", shorthand_keys[k], value);
        overrides[(*n_overrides)++] = owned[k];
    }
    return -1;
}

/* Loads the config, joins the job and trains; the exit code. */
static int train_config(int argc, char **argv, const parsed_args *args, char **overrides, int n_overrides,
                        long long stop_after) {
    dt_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return dt_cli_fail(DT_NOMEM, "out of memory");
    dt_error err = {{0}};
    char **record_argv = NULL;
    dt_cli_trace trace;
    dt_status status = dt_config_load(cfg, args->positional[0], n_overrides, overrides, &err);
    int rc = status != DT_OK ? dt_cli_fail(status, err.message)
                             : dt_cli_trace_begin(&trace, args->values[T_DUMP], args->values[T_OPS_OUT], "train");
    if (rc < 0) rc = join_job(&argc, &argv);
    if (rc < 0 && !(record_argv = dt_cli_redacted_argv(argc, argv))) rc = leave_job(dt_cli_fail(DT_NOMEM, "out of memory"));
    if (rc < 0) {
        dt_train_opts opts = {.quiet = args->values[T_QUIET] != NULL, .out_dir = args->values[T_OUT], .argc = argc,
                              .argv = record_argv, .stop_after_steps = stop_after, .comm = job, .track = 1,
                              .mlflow_uri = args->values[T_MLFLOW], .trace = trace.on ? &trace.trace : NULL};
        dt_train_summary summary;
        status = dt_train(cfg, &opts, &summary, &err);
        rc = leave_job(dt_cli_trace_end(&trace, report_run(status, &summary, &err), summary.run_dir));
    }
    dt_cli_free_argv(record_argv);
    free(cfg);
    return rc;
}

int dt_cli_train(int argc, char **argv) {
    parsed_args args;
    char **overrides = calloc((size_t)argc + N_SHORTHANDS + 1, sizeof(char *));
    char *owned[N_SHORTHANDS] = {NULL};
    long long stop_after = 0;
    if (!overrides) return dt_cli_fail(DT_NOMEM, "out of memory");
    int rc = parse_simple(argc, argv, "train", train_specs, DT_CLI_COUNT(train_specs), 1, "a config file", &args,
                          overrides);
    if (rc < 0 && args.help) rc = (fputs(dt_cli_train_help, stdout), 0);
    if (rc < 0) rc = parse_count("--stop-after-steps", args.values[T_STOP], "train", &stop_after);
    if (rc < 0) rc = dt_cli_check_mlflow_uri(args.values[T_MLFLOW]);
    if (rc < 0) rc = add_shorthands(&args, overrides, &args.n_sets, owned);
    if (rc < 0) rc = train_config(argc, argv, &args, overrides, args.n_sets, stop_after);
    for (int i = 0; i < N_SHORTHANDS; i++) free(owned[i]);
    free(overrides);
    return rc;
}

int dt_cli_resume(int argc, char **argv) {
    enum { R_QUIET, R_THREADS, R_STOP, R_DEVICE, R_MLFLOW, R_DUMP, R_OPS_OUT };
    static const option_spec specs[] = {[R_QUIET] = {"--quiet", 0}, [R_THREADS] = {"--threads", 1},
                                        [R_STOP] = {"--stop-after-steps", 1}, [R_DEVICE] = {"--device", 1},
                                        [R_MLFLOW] = {"--mlflow", 1}, [R_DUMP] = {"--dump-ops", 1},
                                        [R_OPS_OUT] = {"--ops-out", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "resume", specs, DT_CLI_COUNT(specs), 1, "a run folder", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_resume_help, stdout), 0;
    long long threads = 0, stop_after = 0;
    if ((rc = parse_count("--threads", args.values[R_THREADS], "resume", &threads)) >= 0) return rc;
    if ((rc = parse_count("--stop-after-steps", args.values[R_STOP], "resume", &stop_after)) >= 0) return rc;
    if ((rc = dt_cli_check_mlflow_uri(args.values[R_MLFLOW])) >= 0) return rc;
    dt_cli_trace trace;
    if ((rc = dt_cli_trace_begin(&trace, args.values[R_DUMP], args.values[R_OPS_OUT], "resume")) >= 0) return rc;
    if ((rc = join_job(&argc, &argv)) >= 0) return dt_cli_trace_end(&trace, rc, NULL);
    char **record_argv = dt_cli_redacted_argv(argc, argv);
    if (!record_argv) return leave_job(dt_cli_fail(DT_NOMEM, "out of memory"));
    dt_train_opts opts = {.quiet = args.values[R_QUIET] != NULL, .argc = argc, .argv = record_argv,
                          .stop_after_steps = stop_after, .threads = (int)threads, .device = args.values[R_DEVICE],
                          .comm = job, .track = 1, .mlflow_uri = args.values[R_MLFLOW],
                          .trace = trace.on ? &trace.trace : NULL};
    dt_train_summary summary;
    dt_error err = {{0}};
    dt_status status = dt_resume(args.positional[0], &opts, &summary, &err);
    dt_cli_free_argv(record_argv);
    return leave_job(dt_cli_trace_end(&trace, report_run(status, &summary, &err), args.positional[0]));
}
