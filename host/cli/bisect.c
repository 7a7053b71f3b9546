/* bisect.c (cli) — detrain bisect A B (cli/commands.h), and the op dumps of train and resume
 * (cli/bisect.h). The work is run/bisect.h's. */
#include "cli/bisect.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/registry.h"
#include "core/fsutil.h"
#include "records/runrec.h"
#include "run/bisect.h"

const char dt_cli_bisect_help[] =
    "usage: detrain bisect A B [--json] [--threads N]\n"
    "       detrain bisect A B --dump-only --out FILE\n"
    "\n"
    "Why two runs of one config differ, down to the operation. A and B are run folders,\n"
    "registered versions (NAME/VERSION, NAME@ALIAS) or op dumps (--dump-ops, --dump-only),\n"
    "possibly from different machines, devices, modes, thread or microbatch counts or code\n"
    "versions; their configs may differ only in runtime, train.microbatches, checkpoint and\n"
    "tracking, and their data files must have the same SHA-256.\n"
    "\n"
    "Their records name the first step where they differ (loss and learning-rate bits,\n"
    "checkpoint and final parameter digests) and the last checkpoint both hold with the same\n"
    "parameters. Each side is replayed from there on this machine, on its own device (the\n"
    "CPU when its GPU is not here: said), mode, threads and microbatches, with every\n"
    "operation's output digested (forward, loss, backward, the step's gradient, norm,\n"
    "optimizer state: 'detrain help train', --dump-ops). The report names the first operation\n"
    "whose output differs, its documented order (docs/numerics.md), how many elements differ\n"
    "and by how much (absolute and in ULPs).\n"
    "\n"
    "Across machines: run 'detrain bisect A B --dump-only --out ops-B.json' where B ran (it\n"
    "replays B only and writes its operations' digests, with the values of its last steps up\n"
    "to 256 MiB), then 'detrain bisect A ops-B.json' here.\n"
    "\n"
    "options:\n"
    "  --json             the report as JSON on stdout\n"
    "  --threads N        CPU threads of the replays (default: as recorded)\n"
    "  --dump-only        replay side B only and write its op dump to --out FILE\n"
    "  --out FILE         where --dump-only writes\n"
    "\n"
    "Exit codes: 0 identical, 1 a divergence found (the report on stdout), 2 cannot compare\n"
    "(not runs of one config: the keys are named; different data; unreadable side).\n";

/* ---- the text report ------------------------------------------------------------------------- */

static void print_side(const char *label, const dt_bisect_side *s) {
    printf("  %s  %s (%s): %s, %s mode, microbatches %d%s%s\n", label, s->given, s->kind,
           s->device[0] ? s->device : "?", s->mode, s->microbatches, s->perturb[0] ? ", test fault " : "", s->perturb);
    if (s->replayed_on[0]) printf("     replayed here on %s\n", s->replayed_on);
    if (s->note[0]) printf("     note: %s\n", s->note);
}

static void print_op(const dt_bisect_report *r) {
    const dt_bisect_op *op = &r->op;
    printf("  first differing operation: step %lld, %s\n", (long long)op->step, op->name);
    printf("     operation   %s: %s\n", op->kind, op->order);
    printf("     position    op %d of the step on A, %d on B (%lld compared, %lld named on one side only)\n",
           op->index_a, op->index_b, (long long)r->ops_compared, (long long)r->ops_unmatched);
    if (op->max_ulp >= 0) {
        printf("     elements    %lld of %lld differ, the first at [%lld]: %.9g (A) vs %.9g (B)\n",
               (long long)op->n_differing, (long long)op->count, (long long)op->first_element, op->value_a, op->value_b);
        printf("     difference  max abs %.3g, max %lld ULP\n", op->max_abs, (long long)op->max_ulp);
    } else {
        printf("     elements    %lld; the values are not in the dump: make one of step %lld (--dump-ops %lld)\n",
               (long long)op->count, (long long)op->step, (long long)op->step);
    }
    printf("     sha256      A %.16s...  B %.16s...\n", op->sha_a, op->sha_b);
}

static void print_report(const dt_bisect_report *r) {
    printf("bisect: %s\n", !r->record_step ? "IDENTICAL" : r->localized ? "DIVERGED" : "DIFFERENT (not localized here)");
    print_side("A", &r->a);
    print_side("B", &r->b);
    if (r->steps_compared) printf("  records     %lld steps compared\n", (long long)r->steps_compared);
    if (r->record_step) printf("  first shows at step %lld: %s\n", (long long)r->record_step, r->record_quantity);
    if (r->replayed && r->start_step)
        printf("  replayed    steps %lld..%lld from the checkpoint of step %lld (%.1f s)\n", (long long)r->start_step + 1,
               (long long)r->last_step, (long long)r->start_step, r->seconds);
    else if (r->replayed)
        printf("  replayed    steps 1..%lld from the start (%.1f s)\n", (long long)r->last_step, r->seconds);
    if (r->localized) print_op(r);
    else if (r->record_step)
        printf("  no operation differs when both sides are replayed here (%lld compared): the difference comes from\n"
               "  what this machine does not reproduce (the note above); make an op dump where B ran:\n"
               "  detrain bisect A B --dump-only --out ops-B.json\n", (long long)r->ops_compared);
}

/* ---- the JSON report ------------------------------------------------------------------------- */

static cJSON *side_json(const dt_bisect_side *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "given", s->given);
    cJSON_AddStringToObject(o, "kind", s->kind);
    cJSON_AddStringToObject(o, "device", s->device);
    cJSON_AddStringToObject(o, "mode", s->mode);
    cJSON_AddNumberToObject(o, "microbatches", s->microbatches);
    cJSON_AddStringToObject(o, "test_perturb", s->perturb);
    cJSON_AddStringToObject(o, "replayed_on", s->replayed_on);
    cJSON_AddStringToObject(o, "note", s->note);
    return o;
}

static cJSON *op_json(const dt_bisect_report *r) {
    const dt_bisect_op *op = &r->op;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "step", (double)op->step);
    cJSON_AddStringToObject(o, "name", op->name);
    cJSON_AddStringToObject(o, "kind", op->kind);
    cJSON_AddStringToObject(o, "order", op->order);
    cJSON_AddNumberToObject(o, "index_a", op->index_a);
    cJSON_AddNumberToObject(o, "index_b", op->index_b);
    cJSON_AddNumberToObject(o, "count", (double)op->count);
    if (op->max_ulp >= 0) {
        cJSON_AddNumberToObject(o, "differing", (double)op->n_differing);
        cJSON_AddNumberToObject(o, "first_element", (double)op->first_element);
        cJSON_AddNumberToObject(o, "max_abs", op->max_abs);
        cJSON_AddNumberToObject(o, "max_ulp", (double)op->max_ulp);
    }
    cJSON_AddStringToObject(o, "sha256_a", op->sha_a);
    cJSON_AddStringToObject(o, "sha256_b", op->sha_b);
    return o;
}

static void print_json(const dt_bisect_report *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", !r->record_step ? "identical" : r->localized ? "diverged" : "different");
    cJSON_AddItemToObject(o, "a", side_json(&r->a));
    cJSON_AddItemToObject(o, "b", side_json(&r->b));
    cJSON_AddNumberToObject(o, "steps_compared", (double)r->steps_compared);
    cJSON_AddNumberToObject(o, "first_step", (double)r->record_step);
    cJSON_AddStringToObject(o, "first_quantity", r->record_quantity);
    if (r->replayed) {
        cJSON_AddNumberToObject(o, "replay_from", (double)r->start_step);
        cJSON_AddNumberToObject(o, "replay_through", (double)r->last_step);
        cJSON_AddNumberToObject(o, "seconds", r->seconds);
    }
    cJSON_AddNumberToObject(o, "ops_compared", (double)r->ops_compared);
    cJSON_AddItemToObject(o, "operation", r->localized ? op_json(r) : cJSON_CreateNull());
    dt_cli_print_json(o);
    cJSON_Delete(o);
}

/* ---- the command ----------------------------------------------------------------------------- */

/* A side as given: an op dump file as it is, else a run folder or model version (resolved). */
static int resolve_side(const char *arg, char *path, size_t size, char *temp, size_t temp_size) {
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
        if (strlen(arg) >= size) return dt_cli_fail(DT_USAGE, "bisect: a path too long");
        snprintf(path, size, "%s", arg);
        return -1;
    }
    return dt_cli_run_folder(arg, path, size, temp, temp_size);
}

/* Names a side in the report as the user gave it (a registered version, not its temporary folder). */
static void name_side(dt_bisect_side *side, const char *given, int registered) {
    snprintf(side->given, sizeof side->given, "%s", given);
    if (registered) snprintf(side->kind, sizeof side->kind, "%s", "registered");
}

/* Bisects the resolved sides (paths; as given: args, registered when a temporary folder holds
 * them); the exit code. */
static int run_bisect(char paths[2][DT_PATH_MAX], const char *const args[2], const int registered[2],
                      const dt_bisect_opts *opts, int json) {
    dt_bisect_report *report = calloc(1, sizeof *report);
    if (!report) return dt_cli_fail(DT_NOMEM, "out of memory");
    dt_error err = {{0}};
    const char *a = paths[0], *b = paths[1];
    const dt_status status = dt_bisect(a, b, opts, report, &err);
    name_side(&report->a, args[0], registered[0]);
    name_side(&report->b, args[1], registered[1]);
    int rc = dt_status_exit_code(status);
    if (status == DT_OK && opts->dump_out)
        fprintf(stderr, "detrain: wrote the op dump of %s, steps %lld..%lld: %s\n", args[1], (long long)report->start_step + 1,
                (long long)report->last_step, opts->dump_out);
    else if (status == DT_OK || status == DT_MISMATCH) json ? print_json(report) : print_report(report);
    else rc = dt_cli_fail(status, err.message);
    free(report);
    return rc;
}

int dt_cli_bisect(int argc, char **argv) {
    enum { B_JSON, B_THREADS, B_DUMP_ONLY, B_OUT };
    static const option_spec specs[] = {[B_JSON] = {"--json", 0}, [B_THREADS] = {"--threads", 1},
                                        [B_DUMP_ONLY] = {"--dump-only", 0}, [B_OUT] = {"--out", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "bisect", specs, DT_CLI_COUNT(specs), 2, "two runs (or op dumps)", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_bisect_help, stdout), 0;
    long long threads = 0;
    if ((rc = parse_count("--threads", args.values[B_THREADS], "bisect", &threads)) >= 0) return rc;
    if (!args.values[B_DUMP_ONLY] != !args.values[B_OUT])
        return dt_cli_usage_error("bisect: --dump-only and --out go together", "bisect");
    dt_bisect_opts opts = {.threads = (int)threads, .dump_out = args.values[B_OUT]};
    char paths[2][DT_PATH_MAX], temps[2][DT_PATH_MAX] = {"", ""};
    for (int i = 0; i < 2 && rc < 0; i++)
        rc = resolve_side(args.positional[i], paths[i], sizeof paths[i], temps[i], sizeof temps[i]);
    const char *given[2] = {args.positional[0], args.positional[1]};
    const int registered[2] = {temps[0][0] != '\0', temps[1][0] != '\0'};
    if (rc < 0) rc = run_bisect(paths, given, registered, &opts, args.values[B_JSON] != NULL);
    for (int i = 0; i < 2; i++)
        if (temps[i][0]) dt_remove_run_dir(temps[i]);
    return rc;
}

/* ---- train and resume's op dumps ------------------------------------------------------------- */

int dt_cli_trace_begin(dt_cli_trace *t, const char *dump_ops, const char *ops_out, const char *command) {
    memset(t, 0, sizeof *t);
    int rc = parse_count("--dump-ops", dump_ops, command, &t->dump_step);
    if (rc >= 0) return rc;
    if (dump_ops && t->dump_step < 1) return dt_cli_usage_error("--dump-ops: a step number (1 is the first step)", command);
    if (ops_out && !dump_ops) return dt_cli_usage_error("--ops-out goes with --dump-ops STEP", command);
    t->dump_file = ops_out;
    const int64_t step = t->dump_step, last = step ? step : -1; /* none: an empty window */
    dt_op_trace_init(&t->trace, step, last, step, last);
    const char *perturb = getenv("DETRAIN_TEST_PERTURB");
    dt_error err = {{0}};
    if (perturb && *perturb && dt_op_trace_set_perturbation(&t->trace, perturb, &err) != DT_OK)
        return dt_cli_fail(DT_USAGE, err.message);
    t->on = t->dump_step > 0 || (perturb && *perturb);
    return -1;
}

/* Writes the dump of t's step made by the run in run_dir; the exit code, -1 when written. */
static int write_dump(dt_cli_trace *t, const char *run_dir) {
    char path[DT_PATH_MAX + 32];
    if (t->dump_file) snprintf(path, sizeof path, "%s", t->dump_file);
    else snprintf(path, sizeof path, "%s/ops-%lld.json", run_dir, t->dump_step);
    if (!dt_op_trace_find(&t->trace, t->dump_step)) {
        char message[256];
        snprintf(message, sizeof message, "--dump-ops %lld: the run did not run that step (it starts after its "
                 "checkpoint and ends at its last step); nothing written", t->dump_step);
        return dt_cli_fail(DT_USAGE, message);
    }
    dt_error err = {{0}};
    cJSON *manifest = NULL, *meta = NULL;
    dt_status status = dt_run_manifest_load(run_dir, &manifest, &err);
    if (status == DT_OK && !(meta = dt_bisect_dump_meta(manifest)))
        status = dt_fail(&err, DT_NOMEM, "out of memory");
    if (status == DT_OK) status = dt_op_trace_write(&t->trace, meta, path, &err);
    cJSON_Delete(manifest);
    cJSON_Delete(meta);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    fprintf(stderr, "detrain: wrote the operations of step %lld: %s\n", t->dump_step, path);
    return -1;
}

int dt_cli_trace_end(dt_cli_trace *t, int rc, const char *run_dir) {
    if (t->dump_step > 0 && (rc == 0 || rc == 130) && run_dir && run_dir[0]) {
        const int dumped = write_dump(t, run_dir);
        if (dumped >= 0) rc = dumped;
    }
    dt_op_trace_free(&t->trace);
    return rc;
}
