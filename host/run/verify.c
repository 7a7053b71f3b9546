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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/json.h"
#include "core/progress.h"
#include "records/checkpoint.h"
#include "records/jsondiff.h"
#include "records/manifest.h"
#include "records/runrec.h"
#include "train.h"
#include "version.h"

/* Keeps this difference as the first divergence when it comes earlier than the one kept. */
static void note(dt_verify_report *c, int64_t step, int rank, const char *quantity, const char *recorded,
                 const char *rerun) {
    dt_verify_divergence *f = &c->first;
    if (f->step && (f->step < step || (f->step == step && f->rank <= rank))) return;
    f->step = step;
    f->rank = rank;
    snprintf(f->quantity, sizeof f->quantity, "%s", quantity);
    snprintf(f->recorded, sizeof f->recorded, "%s", recorded);
    snprintf(f->rerun, sizeof f->rerun, "%s", rerun);
}

/* The step losses and learning rates, bit for bit. */
static void compare_steps(const dt_run_record *rec, const dt_run_record *rerun, int64_t first_step, dt_verify_report *c) {
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

/* Whether obj[name] is the same value (leaf) in both objects. */
static int same_field(const cJSON *a, const cJSON *b, const char *name, char *ta, char *tb, size_t size) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, name), *y = cJSON_GetObjectItemCaseSensitive(b, name);
    dt_json_brief(x, ta, size);
    dt_json_brief(y, tb, size);
    return dt_json_diff(x, y, "", NULL, NULL) == 0;
}

/* Epoch metrics: exact fields (bits, counts) or, in fast mode, the metrics within tolerance. */
static void compare_epochs(const cJSON *rec, const cJSON *rerun, int64_t first_step, int fast, double tolerance,
                           dt_verify_report *c) {
    static const char *exact[] = {"train_loss_bits", "test_loss_bits", "lr_bits", "train_correct", "test_correct",
                                  "test_samples", "val_loss_bits", "val_correct", "val_samples"};
    static const char *metrics[] = {"train_loss", "test_loss", "test_accuracy", "val_loss", "val_accuracy"};
    const cJSON *epoch, *new_epochs = cJSON_GetObjectItemCaseSensitive(rerun, "epochs");
    cJSON_ArrayForEach(epoch, cJSON_GetObjectItemCaseSensitive(rec, "epochs")) {
        const double number = dt_json_number(epoch, "epoch"), steps = dt_json_number(epoch, "steps");
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
            const double x = dt_json_number(epoch, metrics[k]), y = dt_json_number(other, metrics[k]);
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
static void compare_checkpoints(const cJSON *rec, const cJSON *rerun, int64_t first_step, dt_verify_report *c) {
    const cJSON *entry, *new_list = cJSON_GetObjectItemCaseSensitive(rerun, "checkpoints");
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(rec, "checkpoints")) {
        const double step = dt_json_number(entry, "step");
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
static void compare_final(const cJSON *rec, const cJSON *rerun, int fast, double tolerance, dt_verify_report *c) {
    const cJSON *a_fin = cJSON_GetObjectItemCaseSensitive(rec, "final"), *b_fin = cJSON_GetObjectItemCaseSensitive(rerun, "final");
    if (!a_fin) return;
    const int64_t steps = (int64_t)dt_json_number(a_fin, "steps");
    char a[160], b[160];
    c->final_compared = 1;
    if (!b_fin) {
        note(c, steps, 4, "final block", "present", "missing (the re-run did not complete)");
        c->final_differing = 1;
        return;
    }
    if (fast) {
        const double x = dt_json_number(a_fin, "test_loss"), y = dt_json_number(b_fin, "test_loss");
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

/* Adds a cause to the report (at most five: each kind once). */
static void add_cause(dt_verify_report *report, int strong, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_cause(dt_verify_report *report, int strong, const char *fmt, ...) {
    dt_verify_cause *cause = &report->causes[report->n_causes++];
    va_list args;
    va_start(args, fmt);
    vsnprintf(cause->text, sizeof cause->text, fmt, args);
    va_end(args);
    cause->strong = strong;
}

/* The environment's differences (paths and values) between the record and the re-run; thread
 * and core counts never change the bits of a run, so they are left out. */
static void environment_differences(const cJSON *then, const cJSON *now, path_list *env) {
    cJSON *env_now = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(now, "environment"), 1);
    cJSON *env_then = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(then, "environment"), 1);
    const char *ignored[] = {"threads", "cores"};
    for (int i = 0; i < 2; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(env_now, ignored[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(env_then, ignored[i]);
    }
    dt_json_diff(env_then, env_now, "environment", list_path, env);
    cJSON_Delete(env_then);
    cJSON_Delete(env_now);
}

/* What the record says differs from now, as possible causes of a divergence: an edited trace,
 * a changed config, another code version or build, another environment. */
static void find_causes(const dt_run_record *rec, const cJSON *rerun, const char *config_sha_now,
                        const char *config_note, dt_verify_report *report) {
    const cJSON *m = rec->manifest;
    if (rec->inconsistent_step)
        add_cause(report, 1, "trace.jsonl was edited: the decimal loss of step %lld is not its recorded bits",
                  (long long)rec->inconsistent_step);
    const char *config_sha = dt_run_record_string(m, "config_sha256");
    if (strcmp(config_sha, config_sha_now) != 0)
        add_cause(report, 1,
                  "changed config: the config in manifest.json does not hash to its config_sha256 (recorded %.16s..., "
                  "now %.16s...)%s%.700s",
                  config_sha, config_sha_now, config_note[0] ? "; " : "", config_note);
    cJSON *code_now = dt_manifest_code_json();
    path_list code = {"", 0};
    dt_json_diff(cJSON_GetObjectItemCaseSensitive(m, "code"), code_now, "code", list_path, &code);
    cJSON_Delete(code_now);
    if (code.n) add_cause(report, 1, "different code version or build: %s", code.text);
    else if (DT_GIT_DIRTY)
        add_cause(report, 0, "same commit, but both builds come from work trees with uncommitted changes, which may differ");
    path_list env = {"", 0};
    environment_differences(m, rerun, &env);
    const int portable = !strcmp(dt_run_record_string(m, "mode"), "portable");
    if (env.n)
        add_cause(report, !portable, "different environment: %s%s", env.text,
                  portable ? " (portable mode promises the same bits on any machine, so this alone should not change them)"
                           : "");
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
        snprintf(steps + used, sizeof steps - used, "%s%.0f", used ? ", " : "", dt_json_number(e, "step"));
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

/* A compute capability "9.0" as its architecture's digits "90" (into out, 16 bytes). */
static const char *cc_digits(const char *cc, char *out) {
    size_t n = 0;
    for (; *cc && n < 15; cc++)
        if (*cc >= '0' && *cc <= '9') out[n++] = *cc;
    out[n] = '\0';
    return out;
}

/* The re-run's machine as its record says: SIMD path, and the GPU with its library versions
 * (what a reproducibility certificate names: registry/certificate.h). */
static void rerun_machine(const cJSON *rerun, dt_verify_report *report) {
    snprintf(report->simd, sizeof report->simd, "%s", dt_run_record_string(rerun, "environment.simd"));
    const char *gpu = dt_run_record_string(rerun, "environment.gpu.name");
    char digits[16];
    report->gpu[0] = '\0';
    if (gpu[0])
        snprintf(report->gpu, sizeof report->gpu, "%.100s (sm_%.8s, driver %.24s, CUDA %.24s, cuBLAS %.24s)", gpu,
                 cc_digits(dt_run_record_string(rerun, "environment.gpu.compute_capability"), digits),
                 dt_run_record_string(rerun, "environment.gpu.driver"),
                 dt_run_record_string(rerun, "environment.gpu.cuda_runtime"),
                 dt_run_record_string(rerun, "environment.gpu.cublas"));
}

/* Completes the report of a comparison; DT_OK, or DT_MISMATCH with the causes found. */
static dt_status finish_report(const char *run_dir, const dt_run_record *rec, const cJSON *rerun,
                               const char *config_sha_now, const dt_config *cfg, const dt_train_summary *summary,
                               dt_verify_report *report, dt_error *err) {
    report->compared = 1;
    snprintf(report->device, sizeof report->device, "%s", dt_run_record_string(rerun, "device"));
    rerun_machine(rerun, report);
    snprintf(report->mode, sizeof report->mode, "%s", dt_run_record_string(rec->manifest, "mode"));
    snprintf(report->params_sha256, sizeof report->params_sha256, "%s", summary->params_sha256);
    report->seconds = summary->seconds;
    if (!report->first.step) return DT_OK;
    char config_note[DT_ERROR_MAX] = "";
    if (strcmp(config_sha_now, dt_run_record_string(rec->manifest, "config_sha256")) != 0)
        config_vs_checkpoint(rec, cfg, config_note, sizeof config_note);
    find_causes(rec, rerun, config_sha_now, config_note, report);
    return dt_fail(err, DT_MISMATCH, "%s: the re-run differs from the record at step %lld (%s); report above", run_dir,
                   (long long)report->first.step, report->first.quantity);
}

/* Compares the re-run's record with the run's into the report (fast mode: the metrics only). */
static void compare_records(const dt_run_record *rec, const dt_run_record *rerun, const dt_verify_opts *opts,
                            dt_verify_report *report) {
    const int64_t first_step = opts->from_step > 0 ? opts->from_step : 0;
    report->fast = !strcmp(dt_run_record_string(rec->manifest, "mode"), "fast");
    report->tolerance = opts->tolerance;
    compare_steps(rec, rerun, first_step, report);
    if (report->fast) memset(&report->first, 0, sizeof report->first); /* no bits promised: only the metrics count */
    compare_epochs(rec->manifest, rerun->manifest, first_step, report->fast, opts->tolerance, report);
    if (!report->fast) compare_checkpoints(rec->manifest, rerun->manifest, first_step, report);
    compare_final(rec->manifest, rerun->manifest, report->fast, opts->tolerance, report);
}

/* What a re-run needs: the record, the config it recorded (cfg) and the one to run (work: its
 * paths anchored where the record says, --threads applied), the config's digest now, and the
 * checkpoint to start from ("" for step 0). */
typedef struct {
    dt_run_record rec;
    dt_config *cfg, *work;
    char sha_now[65];
    char start[DT_PATH_MAX + 96];
    int completed;
} replay;

/* Reads the record of run_dir into r and checks that it can be re-run: its data files as
 * recorded, steps to compare, the --from checkpoint. */
static dt_status prepare(const char *run_dir, const dt_verify_opts *opts, replay *r, dt_error *err) {
    dt_status status = dt_run_record_load(run_dir, &r->rec, err);
    if (status != DT_OK) return status;
    if (!(r->cfg = calloc(1, sizeof *r->cfg)) || !(r->work = calloc(1, sizeof *r->work)))
        return dt_fail(err, DT_NOMEM, "out of memory");
    char origin[DT_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s/manifest.json", run_dir);
    if ((status = dt_run_config(r->rec.manifest, origin, r->cfg, r->sha_now, err)) != DT_OK) return status;
    if ((status = check_data(&r->rec, err)) != DT_OK) return status;
    r->completed = !strcmp(dt_run_record_string(r->rec.manifest, "status"), "completed");
    if (!r->completed && r->rec.n_steps == 0)
        return dt_fail(err, DT_CHECKPOINT, "%s: the record has no steps to compare (status %s)", run_dir,
                       dt_run_record_string(r->rec.manifest, "status"));
    if (opts->from_step >= 0 && (status = find_checkpoint(&r->rec, opts->from_step, r->start, sizeof r->start, err)) != DT_OK)
        return status;
    *r->work = *r->cfg;
    dt_run_anchor_config(r->rec.manifest, r->work);
    if (opts->threads > 0) r->work->runtime.threads = opts->threads;
    return DT_OK;
}

/* Re-runs the record into tmp (an unfinished run as far as it went). A re-run that fails on a
 * non-finite value is still compared (report->rerun_failed says why); one a signal stopped is
 * DT_INTERRUPTED. */
static dt_status rerun(const char *run_dir, const replay *r, const dt_verify_opts *opts, const char *tmp,
                       dt_train_summary *summary, dt_verify_report *report, dt_error *err) {
    dt_train_opts train_opts = {.quiet = opts->quiet, .out_dir = tmp, .unindexed = 1, .argc = opts->argc,
                                .argv = opts->argv, .stop_after_steps = r->completed ? 0 : r->rec.n_steps,
                                .start_checkpoint = r->start[0] ? r->start : NULL, .record_config = r->cfg};
    dt_error run_err;
    dt_status run_status = dt_train(r->work, &train_opts, summary, &run_err);
    if (run_status != DT_OK && run_status != DT_INTERRUPTED && run_status != DT_NUMERIC)
        return dt_fail(err, run_status, "the re-run could not run: %s", run_err.message);
    if (run_status == DT_INTERRUPTED && (r->completed || summary->steps < r->rec.n_steps)) /* by a signal */
        return dt_fail(err, DT_INTERRUPTED, "verify %s: interrupted after step %lld of %lld of the re-run; nothing was "
                       "compared", run_dir, (long long)summary->steps, (long long)summary->total_steps);
    if (run_status == DT_NUMERIC) snprintf(report->rerun_failed, sizeof report->rerun_failed, "%s", run_err.message);
    return DT_OK;
}

dt_status dt_verify(const char *run_dir, const dt_verify_opts *opts, dt_verify_report *report, dt_error *err) {
    dt_status status = DT_OK;
    replay r;
    dt_run_record rerun_rec;
    memset(&r, 0, sizeof r);
    memset(&rerun_rec, 0, sizeof rerun_rec);
    memset(report, 0, sizeof *report);
    char tmp[DT_PATH_MAX] = "";
    dt_train_summary summary;
    memset(&summary, 0, sizeof summary);
    DT_TRY(prepare(run_dir, opts, &r, err));
    DT_TRY(dt_make_temp_dir("detrain-verify-", tmp, sizeof tmp, err));
    DT_TRY(rerun(run_dir, &r, opts, tmp, &summary, report, err));
    DT_TRY(dt_run_record_load(tmp, &rerun_rec, err));
    compare_records(&r.rec, &rerun_rec, opts, report);
    status = finish_report(run_dir, &r.rec, rerun_rec.manifest, r.sha_now, r.cfg, &summary, report, err);
cleanup:
    if (tmp[0] && opts->keep) snprintf(report->kept, sizeof report->kept, "%s", tmp);
    else if (tmp[0]) dt_remove_run_dir(tmp);
    dt_run_record_free(&r.rec);
    dt_run_record_free(&rerun_rec);
    free(r.cfg);
    free(r.work);
    return status;
}
