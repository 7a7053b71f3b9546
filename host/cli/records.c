/* records.c (cli) — detrain verify, diff and inspect (cli/commands.h). */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/registry.h"
#include "cli/verify_report.h"
#include "fsutil.h"
#include "records/diff.h"
#include "records/inspect.h"
#include "verify.h"

const char dt_cli_verify_help[] =
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

const char dt_cli_diff_help[] =
    "usage: detrain diff RUN_A RUN_B\n"
    "\n"
    "Says what changed between two runs: config keys (by JSON path), code version, data\n"
    "files and digests, seeds, mode, environment and library versions, final metrics, and\n"
    "the first step at which the loss traces diverge.\n"
    "\n"
    "Exit codes: 0 no differences, 1 differences found, 2 a run folder cannot be read.\n";

const char dt_cli_inspect_help[] =
    "usage: detrain inspect FILE.h5\n"
    "\n"
    "Prints a checkpoint's metadata (format, code version, step, epoch, position, optimizer\n"
    "counters, config digest, data files) and its tensors with their shapes and SHA-256\n"
    "digests, verifying each one and the parameter digest. When the file lies in a run\n"
    "folder, its bytes are also checked against the manifest's record.\n"
    "\n"
    "Exit codes: 0 intact, 2 damaged (the first bad tensor named on stderr) or unreadable.\n";

int dt_cli_verify(int argc, char **argv) {
    enum { V_QUIET, V_FROM, V_THREADS, V_TOLERANCE, V_KEEP };
    static const option_spec specs[] = {[V_QUIET] = {"--quiet", 0}, [V_FROM] = {"--from", 1},
                                        [V_THREADS] = {"--threads", 1}, [V_TOLERANCE] = {"--tolerance", 1},
                                        [V_KEEP] = {"--keep", 0}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "verify", specs, DT_CLI_COUNT(specs), 1, "a run folder", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_verify_help, stdout), 0;
    long long from = -1, threads = 0;
    if (args.values[V_FROM] && (rc = parse_count("--from", args.values[V_FROM], "verify", &from)) >= 0) return rc;
    if ((rc = parse_count("--threads", args.values[V_THREADS], "verify", &threads)) >= 0) return rc;
    double tolerance = 0.01;
    if (args.values[V_TOLERANCE]) {
        char *end = NULL;
        tolerance = strtod(args.values[V_TOLERANCE], &end);
        if (end == args.values[V_TOLERANCE] || *end || !(tolerance >= 0))
            return dt_cli_usage_error("option '--tolerance' needs a number >= 0", "verify");
    }
    dt_verify_opts opts = {.quiet = args.values[V_QUIET] != NULL, .from_step = from, .threads = (int)threads,
                           .tolerance = tolerance, .keep = args.values[V_KEEP] != NULL, .argc = argc, .argv = argv};
    dt_error err = {{0}};
    dt_verify_report *report = malloc(sizeof *report);
    if (!report) return dt_cli_fail(DT_NOMEM, "out of memory");
    dt_status status = dt_verify(args.positional[0], &opts, report, &err);
    dt_cli_print_verify_report(args.positional[0], report);
    free(report);
    if (status == DT_OK) return 0;
    if (status == DT_INTERRUPTED) return fprintf(stderr, "detrain: %s\n", err.message), dt_status_exit_code(status);
    return dt_cli_fail(status, err.message);
}

int dt_cli_diff(int argc, char **argv) {
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "diff", NULL, 0, 2, "two run folders", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_diff_help, stdout), 0;
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

int dt_cli_inspect(int argc, char **argv) {
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "inspect", NULL, 0, 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_inspect_help, stdout), 0;
    char path[4096];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_status status = dt_inspect(path, &err);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}
