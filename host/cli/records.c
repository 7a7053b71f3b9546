/* records.c (cli) — detrain verify, diff and inspect (cli/commands.h). */
#include "cli/commands.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/certificate.h"
#include "cli/registry.h"
#include "cli/verify_report.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "records/diff.h"
#include "records/inspect.h"
#include "records/manifest.h"
#include "run/verify.h"

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
    "  --key PATH         the Ed25519 private key (PEM) that signs the certificates (default:\n"
    "                     $DETRAIN_SIGNING_KEY)\n"
    "\n"
    "When the run is a registered model version's (its run id, and the version's digest among\n"
    "its checkpoints), each such version gets a reproducibility certificate, identical or not,\n"
    "signed with the key ('detrain help certificate'); without a key, a note says none was made.\n"
    "\n"
    "Exit codes: 0 identical, 1 different (a report of the first divergence and its likely\n"
    "cause on stdout), 2 cannot run (a data file missing or changed, a bad record, a signing\n"
    "key that is not an Ed25519 key of the registry).\n";

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
    enum { V_QUIET, V_FROM, V_THREADS, V_TOLERANCE, V_KEEP, V_KEY };
    static const option_spec specs[] = {[V_QUIET] = {"--quiet", 0}, [V_FROM] = {"--from", 1},
                                        [V_THREADS] = {"--threads", 1}, [V_TOLERANCE] = {"--tolerance", 1},
                                        [V_KEEP] = {"--keep", 0}, [V_KEY] = {"--key", 1}};
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
    dt_cli_certify_plan plan; /* the certificates of the registered versions of the run */
    if ((rc = dt_cli_certify_run(args.positional[0], args.values[V_KEY], &plan)) >= 0)
        return dt_cli_certify_free(&plan), rc;
    dt_verify_report *report = calloc(1, sizeof *report);
    if (!report) return dt_cli_certify_free(&plan), dt_cli_fail(DT_NOMEM, "out of memory");
    dt_status status = dt_verify(args.positional[0], &opts, report, &err);
    dt_cli_print_verify_report(args.positional[0], report);
    rc = dt_cli_certify_finish(&plan, args.positional[0], report, status, from);
    dt_cli_certify_free(&plan);
    free(report);
    if (rc >= 0 && status != DT_MISMATCH) return rc;
    if (status == DT_OK) return 0;
    if (status == DT_INTERRUPTED) return fprintf(stderr, "detrain: %s\n", err.message), dt_status_exit_code(status);
    return dt_cli_fail(status, err.message);
}

/* ---- diff ----------------------------------------------------------------------------------- */

/* One section of diff's report: "same", or its count and its first differences. */
static void print_section(const cJSON *section) {
    const long long n = (long long)dt_json_number_or(section, "count", 0);
    const cJSON *line;
    if (n == 0) {
        printf("%s: same\n", dt_json_string_or(section, "heading", ""));
        return;
    }
    printf("%s: %lld difference%s\n", dt_json_string_or(section, "heading", ""), n, n == 1 ? "" : "s");
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(section, "differences"))
        printf("  %s: %s  vs  %s\n", dt_json_string_or(line, "path", ""), dt_json_string_or(line, "a", ""),
               dt_json_string_or(line, "b", ""));
    if (n > DT_DIFF_MAX_LINES) printf("  ... and %lld more\n", n - DT_DIFF_MAX_LINES);
}

/* The loss traces: identical, or where they first diverge, and their lengths. */
static void print_trace(const cJSON *trace) {
    const long long common = (long long)dt_json_number_or(trace, "common", 0);
    const long long differing = (long long)dt_json_number_or(trace, "differing", 0);
    const long long steps_a = (long long)dt_json_number_or(trace, "steps_a", 0);
    const long long steps_b = (long long)dt_json_number_or(trace, "steps_b", 0);
    if (!differing && steps_a == steps_b) {
        printf("loss trace: identical, all %lld steps\n", common);
        return;
    }
    if (differing)
        printf("loss trace: the losses first diverge at step %lld: %s  vs  %s; %lld of %lld common steps differ\n",
               (long long)dt_json_number_or(trace, "first", 0), dt_json_string_or(trace, "a", ""),
               dt_json_string_or(trace, "b", ""), differing, common);
    else
        printf("loss trace: identical for the %lld common steps\n", common);
    if (steps_a != steps_b) printf("  length: %lld  vs  %lld steps\n", steps_a, steps_b);
}

/* diff's report (records/diff.h) as text, section by section. */
static void print_diff(const cJSON *report) {
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(report, "runs");
    const cJSON *a = cJSON_GetArrayItem(runs, 0), *b = cJSON_GetArrayItem(runs, 1), *item;
    printf("diff %s  vs  %s\n", dt_json_string_or(report, "a", ""), dt_json_string_or(report, "b", ""));
    printf("runs: %s (%s, started %s)  vs  %s (%s, started %s)\n", dt_json_string_or(a, "run_id", ""),
           dt_json_string_or(a, "status", ""), dt_json_string_or(a, "started_at", ""), dt_json_string_or(b, "run_id", ""),
           dt_json_string_or(b, "status", ""), dt_json_string_or(b, "started_at", ""));
    const cJSON *moved = cJSON_GetObjectItemCaseSensitive(report, "data_paths");
    if (cJSON_GetArraySize(moved) > 0) printf("data paths: other paths to the same data (equal SHA-256), not a difference\n");
    cJSON_ArrayForEach(item, moved)
        printf("  %s: %s  vs  %s\n", dt_json_string_or(item, "set", ""), dt_json_string_or(item, "a", ""),
               dt_json_string_or(item, "b", ""));
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(report, "config_files");
    if (dt_json_string(files, "a"))
        printf("config files: other files with the same settings, not a difference\n  %s  vs  %s\n",
               dt_json_string(files, "a"), dt_json_string_or(files, "b", ""));
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(report, "sections")) print_section(item);
    print_trace(cJSON_GetObjectItemCaseSensitive(report, "trace"));
    const long long n = (long long)dt_json_number_or(report, "differences", 0);
    printf("%lld difference%s\n", n, n == 1 ? "" : "s");
    fflush(stdout);
}

int dt_cli_diff(int argc, char **argv) {
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "diff", NULL, 0, 2, "two run folders", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_diff_help, stdout), 0;
    /* either side may be a model version (its stored record, in a temporary folder) */
    char paths[2][DT_PATH_MAX], temps[2][DT_PATH_MAX] = {"", ""};
    for (int i = 0; i < 2 && rc < 0; i++) rc = dt_cli_run_folder(args.positional[i], paths[i], sizeof paths[i], temps[i], sizeof temps[i]);
    if (rc < 0) {
        dt_error err = {{0}};
        cJSON *report = NULL;
        dt_status status = dt_diff(paths[0], paths[1], &report, &err);
        if (status == DT_OK) print_diff(report);
        const long long n_differences = (long long)dt_json_number_or(report, "differences", 0);
        rc = status != DT_OK ? dt_cli_fail(status, err.message) : n_differences > 0 ? 1 : 0;
        cJSON_Delete(report);
    }
    for (int i = 0; i < 2; i++)
        if (temps[i][0]) dt_remove_run_dir(temps[i]);
    return rc;
}

/* ---- inspect -------------------------------------------------------------------------------- */

/* The metadata block of a checkpoint that was read. */
static void print_metadata(const char *path, const dt_checkpoint *ck) {
    const dt_train_progress *p = &ck->progress;
    const dt_config *cfg = ck->cfg;
    char bits1[9], bits2[9];
    dt_float_bits_hex(p->counters.beta1_pow, bits1);
    dt_float_bits_hex(p->counters.beta2_pow, bits2);
    printf("checkpoint %s\n", path);
    printf("  format           %s version %d\n", DT_CHECKPOINT_FORMAT, ck->format_version);
    printf("  written by       detrain %s (commit %s%s)\n", ck->detrain_version, ck->git_commit,
           ck->git_dirty ? ", dirty" : "");
    printf("  step             %" PRIu64 " of %lld\n", p->counters.step, (long long)p->total_steps);
    if (p->epoch >= cfg->train.epochs)
        printf("  epoch            all %d epochs done\n", cfg->train.epochs);
    else
        printf("  epoch            %d of %d, position %lld of %lld samples (%lld of %lld steps); accuracy counts %lld/%lld\n",
               p->epoch + 1, cfg->train.epochs, (long long)p->position, (long long)ck->train_samples,
               (long long)(p->position / cfg->train.batch_size), (long long)p->steps_per_epoch, (long long)p->correct,
               (long long)p->seen);
    printf("  optimizer        %s, beta1^t %.9g (bits %s), beta2^t %.9g (bits %s)\n",
           dt_optimizer_name(cfg->optimizer.kind), (double)p->counters.beta1_pow, bits1,
           (double)p->counters.beta2_pow, bits2);
    printf("  model            %d inputs", ck->net.input_size);
    for (int l = 0; l < ck->net.n_layers; l++)
        printf(" -> %d %s", ck->net.layers[l].n_out, dt_activation_name(ck->net.layers[l].activation));
    printf(", %lld parameters, loss %s\n", (long long)ck->net.n_params, dt_loss_name(cfg->loss.kind));
    printf("  seed             %llu (mode %s)\n", (unsigned long long)cfg->seed, dt_mode_name(cfg->runtime.mode));
    printf("  config_sha256    %s\n", ck->config_sha256);
    printf("  params_sha256    %s\n", ck->params_sha256);
    const struct {
        const char *name;
        int64_t samples;
        int n;
        const dt_file_record *files;
    } sets[2] = {{"train", ck->train_samples, ck->n_train_files, ck->train_files},
                 {"test", ck->test_samples, ck->n_test_files, ck->test_files}};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < sets[d].n; i++)
            printf("  data.%-5s       %lld samples: %s (%lld bytes, sha256 %s)\n", sets[d].name,
                   (long long)sets[d].samples, sets[d].files[i].path, (long long)sets[d].files[i].size_bytes,
                   sets[d].files[i].sha256);
}

/* The file against the record of the run folder it lies in. */
static void print_file_check(const dt_inspection *in) {
    switch (in->file) {
    case DT_INSPECT_NO_RUN: printf("  file             not in a run folder (no manifest.json beside it)\n"); break;
    case DT_INSPECT_NOT_LISTED: printf("  file             not listed in %s/manifest.json\n", in->run_dir); break;
    case DT_INSPECT_MISMATCH:
        printf("  file sha256      %s  MISMATCH: the manifest records %s\n", in->sha256, in->recorded);
        break;
    case DT_INSPECT_MATCH: printf("  file sha256      %s (as recorded in the manifest)\n", in->sha256); break;
    case DT_INSPECT_UNCHECKED: break;
    }
}

/* The tensor table: name, shape, dtype, recorded SHA-256, ok (or the computed digest). */
static void print_tensors(const dt_checkpoint *ck) {
    printf("tensors (%d):\n", ck->n_tensors);
    printf("  %-28s %-12s %-8s %-64s %s\n", "name", "shape", "dtype", "sha256", "status");
    for (int i = 0; i < ck->n_tensors; i++) {
        const dt_tensor_info *t = &ck->tensors[i];
        char shape[48];
        if (t->rank == 2) snprintf(shape, sizeof shape, "%llux%llu", (unsigned long long)t->dims[0], (unsigned long long)t->dims[1]);
        else snprintf(shape, sizeof shape, "%llu", (unsigned long long)t->dims[0]);
        printf("  %-28s %-12s %-8s %-64s %s\n", t->name, shape, t->dtype, t->recorded_sha256,
               t->ok ? "ok" : "MISMATCH");
        if (!t->ok) printf("  %-28s %-12s %-8s %-64s %s\n", "", "", "", t->computed_sha256, "(computed)");
    }
}

int dt_cli_inspect(int argc, char **argv) {
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "inspect", NULL, 0, 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_inspect_help, stdout), 0;
    char path[DT_PATH_MAX + 32];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_inspection in;
    dt_status status = dt_inspect(path, &in, &err);
    if (in.ck && in.ck->cfg && in.ck->n_tensors > 0) {
        print_metadata(path, in.ck);
        print_file_check(&in);
        print_tensors(in.ck);
    }
    if (status == DT_OK) printf("all %d tensor digests and the parameter digest verified\n", in.ck->n_tensors);
    fflush(stdout);
    dt_inspection_free(&in);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}
