/* verify.c — detrain verify: re-execute a recorded run in a temporary folder and compare the
 * new record with the old one, bit for bit (fast mode: metrics within a tolerance).
 *
 * Before running, every recorded data file must be found with its recorded digest (else
 * exit 2). After running, the records are compared step by step; the earliest divergence
 * is reported with its quantity, both values and the likely cause, found by comparing what
 * the record says about config, code and environment with what holds now. */
#include "verify.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "progress.h"
#include "records/checkpoint.h"
#include "records/jsondiff.h"
#include "records/manifest.h"
#include "records/runrec.h"
#include "train.h"
#include "version.h"

/* The earliest difference found so far. */
typedef struct {
    int64_t step;                  /* 0: none yet */
    int rank;                      /* breaks ties within a step: loss, lr, epoch, checkpoint, final */
    char quantity[96];
    char recorded[160], rerun[160];
} divergence;

/* What the comparison found. */
typedef struct {
    divergence first;
    int64_t steps_compared, steps_differing;
    int epochs_compared, epochs_differing;
    int checkpoints_compared, checkpoints_differing;
    int final_compared, final_differing;
} comparison;

/* Keeps d as the first divergence when it comes earlier than the one kept. */
static void note(comparison *c, int64_t step, int rank, const char *quantity, const char *recorded, const char *rerun) {
    divergence *f = &c->first;
    if (f->step && (f->step < step || (f->step == step && f->rank <= rank))) return;
    f->step = step;
    f->rank = rank;
    snprintf(f->quantity, sizeof f->quantity, "%s", quantity);
    snprintf(f->recorded, sizeof f->recorded, "%s", recorded);
    snprintf(f->rerun, sizeof f->rerun, "%s", rerun);
}

/* The step losses and learning rates, bit for bit. */
static void compare_steps(const dt_run_record *rec, const dt_run_record *rerun, int64_t first_step, comparison *c) {
    const int64_t n = rec->n_steps < rerun->n_steps ? rec->n_steps : rerun->n_steps;
    char a[64], b[64];
    for (int64_t i = first_step; i < n; i++) {
        const int loss_differs = rec->loss_bits[i] != rerun->loss_bits[i], lr_differs = rec->lr_bits[i] != rerun->lr_bits[i];
        c->steps_compared++;
        if (!loss_differs && !lr_differs) continue;
        c->steps_differing++;
        const uint32_t *x = loss_differs ? rec->loss_bits : rec->lr_bits, *y = loss_differs ? rerun->loss_bits : rerun->lr_bits;
        dt_run_bits_text(x[i], a, sizeof a);
        dt_run_bits_text(y[i], b, sizeof b);
        note(c, i + 1, loss_differs ? 0 : 1, loss_differs ? "loss" : "learning rate", a, b);
    }
    if (rec->n_steps != rerun->n_steps) {
        snprintf(a, sizeof a, "%lld steps", (long long)rec->n_steps);
        snprintf(b, sizeof b, "%lld steps", (long long)rerun->n_steps);
        note(c, n + 1, 0, "length of the loss trace", a, b);
    }
    if (rec->inconsistent_step > first_step) {
        char text[96];
        snprintf(text, sizeof text, "loss bits %08x", rec->loss_bits[rec->inconsistent_step - 1]);
        note(c, rec->inconsistent_step, 0, "recorded decimal loss (trace.jsonl) disagrees with its bits", text, "-");
    }
}

/* An array's element whose key `field` equals value, or NULL. */
static const cJSON *find_by(const cJSON *array, const char *field, double value) {
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, field);
        if (cJSON_IsNumber(v) && v->valuedouble == value) return item;
    }
    return NULL;
}

/* The number in obj[name], or NAN. */
static double number_of(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Whether obj[name] is the same value (leaf) in both objects. */
static int same_field(const cJSON *a, const cJSON *b, const char *name, char *ta, char *tb, size_t size) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, name), *y = cJSON_GetObjectItemCaseSensitive(b, name);
    dt_json_brief(x, ta, size);
    dt_json_brief(y, tb, size);
    return dt_json_diff(x, y, "", NULL, NULL) == 0;
}

/* Epoch metrics: exact fields (bits, counts) or, in fast mode, the metrics within tolerance. */
static void compare_epochs(const cJSON *rec, const cJSON *rerun, int64_t first_step, int fast, double tolerance,
                           comparison *c) {
    static const char *exact[] = {"train_loss_bits", "test_loss_bits", "lr_bits", "train_correct", "test_correct",
                                  "test_samples", "val_loss_bits", "val_correct", "val_samples"};
    static const char *metrics[] = {"train_loss", "test_loss", "test_accuracy", "val_loss", "val_accuracy"};
    const cJSON *epoch, *new_epochs = cJSON_GetObjectItemCaseSensitive(rerun, "epochs");
    cJSON_ArrayForEach(epoch, cJSON_GetObjectItemCaseSensitive(rec, "epochs")) {
        const double number = number_of(epoch, "epoch"), steps = number_of(epoch, "steps");
        if (!(steps > (double)first_step)) continue; /* before --from: not re-run */
        const cJSON *other = find_by(new_epochs, "epoch", number);
        char quantity[96], a[160], b[160];
        if (!other) continue; /* the re-run stopped earlier: the trace length says so */
        c->epochs_compared++;
        int differs = 0;
        for (size_t k = 0; !fast && k < sizeof exact / sizeof exact[0]; k++) {
            if (same_field(epoch, other, exact[k], a, b, sizeof a)) continue;
            snprintf(quantity, sizeof quantity, "epoch %.0f %s", number, exact[k]);
            note(c, (int64_t)steps, 2, quantity, a, b);
            differs = 1;
        }
        for (size_t k = 0; fast && k < sizeof metrics / sizeof metrics[0]; k++) {
            const double x = number_of(epoch, metrics[k]), y = number_of(other, metrics[k]);
            if (isnan(x) && isnan(y)) continue;
            if (fabs(x - y) <= tolerance * fmax(1.0, fabs(x))) continue;
            snprintf(quantity, sizeof quantity, "epoch %.0f %s (beyond tolerance %g)", number, metrics[k], tolerance);
            snprintf(a, sizeof a, "%.9g", x);
            snprintf(b, sizeof b, "%.9g", y);
            note(c, (int64_t)steps, 2, quantity, a, b);
            differs = 1;
        }
        c->epochs_differing += differs;
    }
}

/* Every recorded checkpoint's parameter digest (removed ones included: the manifest keeps them). */
static void compare_checkpoints(const cJSON *rec, const cJSON *rerun, int64_t first_step, comparison *c) {
    const cJSON *entry, *new_list = cJSON_GetObjectItemCaseSensitive(rerun, "checkpoints");
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(rec, "checkpoints")) {
        const double step = number_of(entry, "step");
        if (!(step > (double)first_step)) continue;
        const cJSON *other = find_by(new_list, "step", step);
        if (!other) continue; /* e.g. an interrupt checkpoint: the re-run does not stop there */
        char a[160], b[160], quantity[96];
        c->checkpoints_compared++;
        if (same_field(entry, other, "params_sha256", a, b, sizeof a)) continue;
        c->checkpoints_differing++;
        snprintf(quantity, sizeof quantity, "parameter digest of checkpoint %s", dt_run_record_string(entry, "file"));
        note(c, (int64_t)step, 3, quantity, a, b);
    }
}

/* The final block: parameter digest and test metrics. */
static void compare_final(const cJSON *rec, const cJSON *rerun, int fast, double tolerance, comparison *c) {
    const cJSON *a_fin = cJSON_GetObjectItemCaseSensitive(rec, "final"), *b_fin = cJSON_GetObjectItemCaseSensitive(rerun, "final");
    if (!a_fin) return;
    const int64_t steps = (int64_t)number_of(a_fin, "steps");
    char a[160], b[160];
    c->final_compared = 1;
    if (!b_fin) {
        note(c, steps, 4, "final block", "present", "missing (the re-run did not complete)");
        c->final_differing = 1;
        return;
    }
    if (fast) {
        const double x = number_of(a_fin, "test_loss"), y = number_of(b_fin, "test_loss");
        if (!(fabs(x - y) <= tolerance * fmax(1.0, fabs(x)))) {
            snprintf(a, sizeof a, "%.9g", x);
            snprintf(b, sizeof b, "%.9g", y);
            note(c, steps, 4, "final test_loss (beyond tolerance)", a, b);
            c->final_differing = 1;
        }
        return;
    }
    static const char *fields[] = {"params_sha256", "test_loss_bits", "test_correct"};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        if (same_field(a_fin, b_fin, fields[k], a, b, sizeof a)) continue;
        char quantity[64];
        snprintf(quantity, sizeof quantity, "final %s", fields[k]);
        note(c, steps, 4, quantity, a, b);
        c->final_differing = 1;
    }
}

/* ---- causes ------------------------------------------------------------------------------------- */

/* Collects the first few differing paths of a JSON comparison as "path: a -> b; ...". */
typedef struct {
    char text[512];
    int n;
} path_list;

/* dt_json_diff callback: appends "path: a recorded, b now" for the first three paths. */
static void list_path(void *ctx, const char *path, const cJSON *a, const cJSON *b) {
    path_list *list = ctx;
    if (list->n++ >= 3) return;
    char va[96], vb[96];
    dt_json_brief(a, va, sizeof va);
    dt_json_brief(b, vb, sizeof vb);
    size_t used = strlen(list->text);
    snprintf(list->text + used, sizeof list->text - used, "%s%s: %s recorded, %s now", list->n > 1 ? "; " : "", path,
             va, vb);
}

/* One possible cause; strong ones can explain a divergence on their own. */
typedef struct {
    char text[1024];
    int strong;
} cause;

/* Prints the likely cause of a divergence and the other differences worth knowing: strong
 * causes first; with none, the record itself is the suspect. */
static void print_causes(const dt_run_record *rec, const cJSON *rerun, const char *config_sha_now, const char *config_note) {
    const cJSON *m = rec->manifest;
    cause causes[5];
    int n = 0;
    if (rec->inconsistent_step)
        snprintf(causes[n].text, sizeof causes[n].text,
                 "trace.jsonl was edited: the decimal loss of step %lld is not its recorded bits",
                 (long long)rec->inconsistent_step),
            causes[n++].strong = 1;
    const char *config_sha = dt_run_record_string(m, "config_sha256");
    if (strcmp(config_sha, config_sha_now) != 0)
        snprintf(causes[n].text, sizeof causes[n].text,
                 "changed config: the config in manifest.json does not hash to its config_sha256 (recorded %.16s..., "
                 "now %.16s...)%s%.700s",
                 config_sha, config_sha_now, config_note[0] ? "; " : "", config_note),
            causes[n++].strong = 1;
    cJSON *code_now = dt_manifest_code_json();
    const cJSON *code_then = cJSON_GetObjectItemCaseSensitive(m, "code");
    path_list code = {"", 0};
    dt_json_diff(code_then, code_now, "code", list_path, &code);
    if (code.n)
        snprintf(causes[n].text, sizeof causes[n].text, "different code version or build: %s", code.text),
            causes[n++].strong = 1;
    else if (DT_GIT_DIRTY)
        snprintf(causes[n].text, sizeof causes[n].text,
                 "same commit, but both builds come from work trees with uncommitted changes, which may differ"),
            causes[n++].strong = 0;
    cJSON_Delete(code_now);
    /* Thread and core counts never change the bits of a run: leave them out. */
    cJSON *env_now = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rerun, "environment"), 1);
    cJSON *env_then = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "environment"), 1);
    const char *ignored[] = {"threads", "cores"};
    for (int i = 0; i < 2; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(env_now, ignored[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(env_then, ignored[i]);
    }
    path_list env = {"", 0};
    dt_json_diff(env_then, env_now, "environment", list_path, &env);
    cJSON_Delete(env_then);
    cJSON_Delete(env_now);
    const int portable = !strcmp(dt_run_record_string(m, "mode"), "portable");
    if (env.n)
        snprintf(causes[n].text, sizeof causes[n].text, "different environment: %s%s", env.text,
                 portable ? " (portable mode promises the same bits on any machine, so this alone should not change them)"
                          : ""),
            causes[n++].strong = !portable;
    int strong = 0;
    for (int i = 0; i < n; i++) strong += causes[i].strong;
    int printed = 0;
    if (!strong)
        printf("  likely cause: the data, config, code and environment match the record, so the recorded values "
               "themselves were probably changed (manifest.json or trace.jsonl edited or corrupted)\n"),
            printed++;
    for (int pass = 1; pass >= 0; pass--)
        for (int i = 0; i < n; i++)
            if (causes[i].strong == pass) printf("  %s%s\n", printed++ ? "also:         " : "likely cause: ", causes[i].text);
}

/* ---- running ------------------------------------------------------------------------------------ */

/* DT_IO / DT_DATA naming a recorded data file that is missing or whose digest changed. */
static dt_status check_data(const dt_run_record *rec, dt_error *err) {
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(rec->manifest, "data");
    const char *names[2] = {"train", "test"};
    for (int d = 0; d < 2; d++) {
        const cJSON *file;
        cJSON_ArrayForEach(file, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, names[d]), "files")) {
            const char *recorded_path = dt_run_record_string(file, "path"), *recorded = dt_run_record_string(file, "sha256");
            char path[DT_PATH_MAX], sha[65];
            dt_run_locate(rec->manifest, recorded_path, path, sizeof path);
            if (!dt_file_exists(path))
                return dt_fail(err, DT_IO, "%s: the run's %s data file is missing (recorded sha256 %s); verify cannot run",
                               path, names[d], recorded);
            dt_status status = dt_file_sha256(path, sha, err);
            if (status != DT_OK) return status;
            if (strcmp(sha, recorded) != 0)
                return dt_fail(err, DT_DATA, "%s: the %s data file changed since the run: recorded sha256 %s, now %s; verify cannot reproduce it",
                               path, names[d], recorded, sha);
        }
    }
    return DT_OK;
}

/* The recorded checkpoint of `step` (listed, not removed, with its recorded bytes) into path. */
static dt_status find_checkpoint(const dt_run_record *rec, int64_t step, char *path, size_t size, dt_error *err) {
    const cJSON *entry = find_by(cJSON_GetObjectItemCaseSensitive(rec->manifest, "checkpoints"), "step", (double)step);
    const cJSON *e;
    char steps[256] = "";
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rec->manifest, "checkpoints")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "removed"))) continue;
        size_t used = strlen(steps);
        snprintf(steps + used, sizeof steps - used, "%s%.0f", used ? ", " : "", number_of(e, "step"));
    }
    if (!entry || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "removed")))
        return dt_fail(err, DT_USAGE, "%s: no checkpoint of step %lld to start from (available: %s)", rec->dir,
                       (long long)step, steps[0] ? steps : "none");
    snprintf(path, size, "%s/%s", rec->dir, dt_run_record_string(entry, "file"));
    char sha[65];
    dt_status status = dt_file_sha256(path, sha, err);
    if (status == DT_OK && strcmp(sha, dt_run_record_string(entry, "sha256")) != 0)
        status = dt_fail(err, DT_CHECKPOINT, "%s: the file's SHA-256 %.16s... differs from the manifest's record %.16s...",
                         path, sha, dt_run_record_string(entry, "sha256"));
    return status;
}

/* The config note for the cause report: the first key where the manifest's config differs
 * from a checkpoint's (the checkpoint keeps the config the run really used). */
static void config_vs_checkpoint(const dt_run_record *rec, const dt_config *cfg, char *out, size_t size) {
    out[0] = '\0';
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(rec->manifest, "checkpoints")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "removed"))) continue;
        char path[DT_PATH_MAX + 96];
        snprintf(path, sizeof path, "%s/%s", rec->dir, dt_run_record_string(entry, "file"));
        dt_checkpoint *ck = calloc(1, sizeof *ck);
        dt_error why;
        if (ck && dt_checkpoint_read_recorded(path, dt_run_record_string(entry, "sha256"), ck, &why) == DT_OK &&
            dt_check_same_config(cfg, "manifest.json", ck, path, &why) != DT_OK)
            snprintf(out, size, "%s", why.message);
        if (ck) dt_checkpoint_free(ck);
        free(ck);
        if (out[0]) return;
    }
}

/* Prints the verdict and the report; returns DT_OK or DT_MISMATCH. */
static dt_status report(const char *run_dir, const dt_run_record *rec, const cJSON *rerun, const comparison *c, int fast,
                        double tolerance, const char *config_sha_now, const dt_config *cfg,
                        const dt_train_summary *summary, dt_error *err) {
    const char *device = dt_run_record_string(rerun, "device");
    const char *mode = dt_run_record_string(rec->manifest, "mode");
    if (fast)
        printf("verify %s: mode fast promises no bits; comparing the metrics within a relative tolerance of %g "
               "(%lld of %lld steps have bit-identical losses)\n",
               run_dir, tolerance, (long long)(c->steps_compared - c->steps_differing), (long long)c->steps_compared);
    if (!c->first.step) {
        printf("verify %s: %s\n", run_dir, fast ? "the metrics agree within the tolerance" : "identical to the record");
        if (!fast) printf("  steps          %lld: loss and learning-rate bits equal\n", (long long)c->steps_compared);
        printf("  epochs         %d: %s\n", c->epochs_compared, fast ? "metrics within the tolerance" : "metrics equal (bits and counts)");
        if (!fast) printf("  checkpoints    %d parameter digests equal\n", c->checkpoints_compared);
        if (c->final_compared)
            printf("  final          %s%s\n", fast ? "test_loss within the tolerance" : "params_sha256 ",
                   fast ? "" : summary->params_sha256);
        printf("  re-run         %s, %s mode, %.1f s\n", device, mode, summary->seconds);
        return DT_OK;
    }
    printf("verify %s: DIFFERENT\n", run_dir);
    printf("  first divergence at step %lld: %s\n", (long long)c->first.step, c->first.quantity);
    printf("    recorded     %s\n", c->first.recorded);
    printf("    re-run       %s\n", c->first.rerun);
    char config_note[DT_ERROR_MAX] = "";
    if (strcmp(config_sha_now, dt_run_record_string(rec->manifest, "config_sha256")) != 0)
        config_vs_checkpoint(rec, cfg, config_note, sizeof config_note);
    print_causes(rec, rerun, config_sha_now, config_note);
    printf("  in all:        %lld of %lld steps differ, %d of %d epochs, %d of %d checkpoint digests%s\n",
           (long long)c->steps_differing, (long long)c->steps_compared, c->epochs_differing, c->epochs_compared,
           c->checkpoints_differing, c->checkpoints_compared, c->final_differing ? ", the final block" : "");
    fflush(stdout);
    return dt_fail(err, DT_MISMATCH, "%s: the re-run differs from the record at step %lld (%s); report above", run_dir,
                   (long long)c->first.step, c->first.quantity);
}

dt_status dt_verify(const char *run_dir, const dt_verify_opts *opts, dt_error *err) {
    dt_status status = DT_OK;
    dt_run_record rec, rerun;
    memset(&rerun, 0, sizeof rerun);
    dt_config *cfg = calloc(1, sizeof *cfg), *work = calloc(1, sizeof *work);
    char sha_now[65], tmp[DT_PATH_MAX] = "", start[DT_PATH_MAX + 96] = "";
    dt_train_summary summary;
    memset(&summary, 0, sizeof summary);
    DT_TRY(dt_run_record_load(run_dir, &rec, err));
    if (!cfg || !work) {
        status = dt_fail(err, DT_NOMEM, "out of memory");
        goto cleanup;
    }
    char origin[DT_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s/manifest.json", run_dir);
    DT_TRY(dt_run_config(rec.manifest, origin, cfg, sha_now, err));
    DT_TRY(check_data(&rec, err));
    const int completed = !strcmp(dt_run_record_string(rec.manifest, "status"), "completed");
    if (!completed && rec.n_steps == 0) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: the record has no steps to compare (status %s)", run_dir,
                         dt_run_record_string(rec.manifest, "status"));
        goto cleanup;
    }
    if (opts->from_step >= 0) DT_TRY(find_checkpoint(&rec, opts->from_step, start, sizeof start, err));
    *work = *cfg;
    dt_run_anchor_config(rec.manifest, work);
    if (opts->threads > 0) work->runtime.threads = opts->threads;
    DT_TRY(dt_make_temp_dir("detrain-verify-", tmp, sizeof tmp, err));
    {
        dt_train_opts train_opts = {.quiet = opts->quiet, .out_dir = tmp, .unindexed = 1, .argc = opts->argc,
                                    .argv = opts->argv,
                                    .stop_after_steps = completed ? 0 : rec.n_steps,
                                    .start_checkpoint = start[0] ? start : NULL, .record_config = cfg};
        dt_error run_err;
        dt_status run_status = dt_train(work, &train_opts, &summary, &run_err);
        if (run_status != DT_OK && run_status != DT_INTERRUPTED && run_status != DT_NUMERIC) {
            status = dt_fail(err, run_status, "the re-run could not run: %s", run_err.message);
            goto cleanup;
        }
        if (run_status == DT_INTERRUPTED && (completed || summary.steps < rec.n_steps)) { /* by a signal */
            status = dt_fail(err, DT_INTERRUPTED, "verify %s: interrupted after step %lld of %lld of the re-run; "
                             "nothing was compared", run_dir, (long long)summary.steps, (long long)summary.total_steps);
            goto cleanup;
        }
        if (run_status == DT_NUMERIC) printf("verify %s: the re-run failed: %s\n", run_dir, run_err.message);
    }
    DT_TRY(dt_run_record_load(tmp, &rerun, err));
    {
        const int fast = !strcmp(dt_run_record_string(rec.manifest, "mode"), "fast");
        const int64_t first_step = opts->from_step > 0 ? opts->from_step : 0;
        comparison c;
        memset(&c, 0, sizeof c);
        compare_steps(&rec, &rerun, first_step, &c);
        if (fast) memset(&c.first, 0, sizeof c.first); /* no bits promised: only the metrics count */
        compare_epochs(rec.manifest, rerun.manifest, first_step, fast, opts->tolerance, &c);
        if (!fast) compare_checkpoints(rec.manifest, rerun.manifest, first_step, &c);
        compare_final(rec.manifest, rerun.manifest, fast, opts->tolerance, &c);
        status = report(run_dir, &rec, rerun.manifest, &c, fast, opts->tolerance, sha_now, cfg, &summary, err);
    }
cleanup:
    if (tmp[0] && opts->keep) printf("  kept the re-run in %s\n", tmp);
    else if (tmp[0]) dt_remove_run_dir(tmp);
    dt_run_record_free(&rec);
    dt_run_record_free(&rerun);
    free(cfg);
    free(work);
    return status;
}
