/* bisect.c — detrain bisect (bisect.h): the records compared, the common checkpoint, the
 * replays with traced operations, the first differing operation. */
#include "bisect.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/backend.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "core/progress.h"
#include "records/jsondiff.h"
#include "records/runrec.h"
#include "run/train.h"
#include "version.h"

/* Steps whose every output is kept in the first replay; a longer range is replayed again for
 * the values of the one step that differs. */
#define VALUES_AT_ONCE 8

/* The values --dump-only keeps, of the last steps of its range: the steps nearest the one
 * where the records show the difference. */
#define DUMP_VALUES_BYTES ((int64_t)256 << 20)

/* One side while bisect works on it. */
typedef struct {
    dt_bisect_side *info;
    const char *path;
    int is_dump;
    dt_run_record rec;         /* a run's record */
    cJSON *meta;               /* an op dump's meta (config, data, device, mode, ...) */
    const cJSON *about;        /* rec.manifest or meta: what both have */
    dt_config *cfg;            /* the side's recorded config */
    char config_sha[65];
    dt_op_trace trace;         /* the dump's, or the replay's */
    int no_gpu;                /* it ran on a GPU this machine does not have: replayed on the CPU */
} side;

/* ---- the sides ------------------------------------------------------------------------------- */

/* Fills the side's description from its manifest or dump meta. */
static void describe(side *s) {
    dt_bisect_side *i = s->info;
    snprintf(i->kind, sizeof i->kind, "%s", s->is_dump ? "op dump" : "run");
    snprintf(i->device, sizeof i->device, "%s", dt_run_record_string(s->about, "device"));
    snprintf(i->mode, sizeof i->mode, "%s", dt_run_record_string(s->about, "mode"));
    snprintf(i->perturb, sizeof i->perturb, "%s", dt_run_record_string(s->about, "test_perturb"));
    i->microbatches = s->cfg->train.microbatches;
    const double ranks = dt_json_number_or(dt_run_record_item(s->about, "parallel"), "world_size", 1);
    if (ranks > 1)
        snprintf(i->note, sizeof i->note, "it ran on %.0f ranks; replayed in one process (its microbatches over the "
                 "ranks make one tree: the same bits, numerics.md §10)", ranks);
    const char *commit = dt_run_record_string(s->about, "code.git_commit");
    const size_t used = strlen(i->note);
    if (commit[0] && strcmp(commit, DT_GIT_COMMIT) != 0)
        snprintf(i->note + used, sizeof i->note - used, "%sit was made by commit %.12s, replayed by this build's "
                 "%.12s: what the code itself changed shows in the records only", used ? "; " : "", commit,
                 DT_GIT_COMMIT);
}

/* Opens a run folder or an op dump. */
static dt_status open_side(side *s, const char *path, dt_bisect_side *info, dt_error *err) {
    struct stat st;
    s->info = info;
    s->path = path;
    snprintf(info->given, sizeof info->given, "%s", path);
    dt_op_trace_init(&s->trace, 0, -1, 0, -1);
    if (stat(path, &st) != 0) return dt_fail(err, DT_IO, "%s: no such run folder or op dump", path);
    s->is_dump = S_ISREG(st.st_mode);
    dt_status status = s->is_dump ? dt_op_trace_read(path, &s->trace, &s->meta, err)
                                  : dt_run_record_load(path, &s->rec, err);
    if (status != DT_OK) return status;
    s->about = s->is_dump ? s->meta : s->rec.manifest;
    if (!(s->cfg = calloc(1, sizeof *s->cfg))) return dt_fail(err, DT_NOMEM, "out of memory");
    char origin[DT_PATH_MAX + 32];
    snprintf(origin, sizeof origin, s->is_dump ? "%s" : "%s/manifest.json", path);
    if ((status = dt_run_config(s->about, origin, s->cfg, s->config_sha, err)) != DT_OK) return status;
    describe(s);
    return DT_OK;
}

static void close_side(side *s) {
    dt_run_record_free(&s->rec);
    cJSON_Delete(s->meta);
    free(s->cfg);
    dt_op_trace_free(&s->trace);
}

/* ---- one config? ----------------------------------------------------------------------------- */

/* Whether a config key may differ between the sides: how the steps run (runtime, the
 * microbatch split), what is kept (checkpoint, tracking), where the data lies (its digests
 * are compared instead). */
static int may_differ(const char *path) {
    static const char *const prefixes[] = {"config.runtime", "config.train.microbatches", "config.checkpoint",
                                           "config.tracking", "config.experiment"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(path, prefixes[i], strlen(prefixes[i]))) return 1;
    const char *last = strrchr(path, '.');
    return !strncmp(path, "config.data.", 12) && last && (!strcmp(last, ".path") || !strcmp(last, ".labels"));
}

typedef struct {
    char text[768];
    int n;
} key_list;

static void list_key(void *ctx, const char *path, const cJSON *a, const cJSON *b) {
    key_list *k = ctx;
    if (may_differ(path)) return;
    char va[64], vb[64];
    dt_json_brief(a, va, sizeof va);
    dt_json_brief(b, vb, sizeof vb);
    size_t used = strlen(k->text);
    if (k->n++ < 4) snprintf(k->text + used, sizeof k->text - used, "%s%s (%s vs %s)", used ? ", " : "", path, va, vb);
}

/* Whether two recorded lists of data files hold the same contents (paths may differ). */
static int same_files(const cJSON *fa, const cJSON *fb) {
    if (cJSON_GetArraySize(fa) != cJSON_GetArraySize(fb)) return 0;
    for (int i = 0; i < cJSON_GetArraySize(fa); i++) {
        const char *sa = dt_json_string(cJSON_GetArrayItem(fa, i), "sha256");
        const char *sb = dt_json_string(cJSON_GetArrayItem(fb, i), "sha256");
        if (!sa || !sb || strcmp(sa, sb) != 0) return 0;
    }
    return 1;
}

/* DT_CONFIG naming the keys when the sides are not runs of one config; DT_DATA when their
 * data files differ. */
static dt_status same_config(const side *a, const side *b, dt_error *err) {
    key_list keys = {"", 0};
    dt_json_diff(cJSON_GetObjectItemCaseSensitive(a->about, "config"), cJSON_GetObjectItemCaseSensitive(b->about, "config"),
                 "config", list_key, &keys);
    if (keys.n)
        return dt_fail(err, DT_CONFIG, "%s and %s are not runs of one config: %s%s; bisect compares runs that differ "
                       "only in runtime, train.microbatches, checkpoint or tracking", a->path, b->path, keys.text,
                       keys.n > 4 ? " and more" : "");
    const char *sets[3] = {"train", "test", "validation"};
    for (int d = 0; d < 3; d++) {
        char key[48];
        snprintf(key, sizeof key, "data.%s.files", sets[d]);
        if (!same_files(dt_run_record_item(a->about, key), dt_run_record_item(b->about, key)))
            return dt_fail(err, DT_DATA, "%s and %s were trained on different %s data (the files' SHA-256 differ); "
                           "bisect compares runs of the same data", a->path, b->path, sets[d]);
    }
    return DT_OK;
}

/* ---- the records ----------------------------------------------------------------------------- */

/* A listed, kept checkpoint of `step` in a manifest, or NULL. */
static const cJSON *checkpoint_at(const cJSON *manifest, int64_t step) {
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(manifest, "checkpoints")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "removed"))) continue;
        if (dt_json_number(entry, "step") == (double)step) return entry;
    }
    return NULL;
}

/* The params digest a manifest records after `step` (a checkpoint of that step, kept or
 * removed), or NULL. */
static const char *params_at(const cJSON *manifest, int64_t step) {
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(manifest, "checkpoints"))
        if (dt_json_number(entry, "step") == (double)step) return dt_json_string(entry, "params_sha256");
    return NULL;
}

/* The first step the records show differing (report->record_step, 0 when none): a step's loss
 * or learning-rate bits, a checkpoint's parameters (the steps up to it), the final digest. */
static void compare_records(const side *a, const side *b, dt_bisect_report *report) {
    const int64_t n = a->rec.n_steps < b->rec.n_steps ? a->rec.n_steps : b->rec.n_steps;
    int64_t first = 0;
    for (int64_t s = 0; s < n && !first; s++)
        if (a->rec.loss_bits[s] != b->rec.loss_bits[s] || a->rec.lr_bits[s] != b->rec.lr_bits[s]) {
            first = s + 1;
            snprintf(report->record_quantity, sizeof report->record_quantity, "the loss of step %lld", (long long)first);
        }
    report->steps_compared = first ? first : n;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(a->rec.manifest, "checkpoints")) {
        const int64_t step = (int64_t)dt_json_number(entry, "step");
        const char *pa = dt_json_string(entry, "params_sha256"), *pb = params_at(b->rec.manifest, step);
        if (pa && pb && strcmp(pa, pb) != 0 && (!first || step < first)) {
            first = step;
            snprintf(report->record_quantity, sizeof report->record_quantity,
                     "the parameters of checkpoint step %lld", (long long)step);
        }
    }
    const char *fa = dt_run_record_string(a->rec.manifest, "final.params_sha256");
    const char *fb = dt_run_record_string(b->rec.manifest, "final.params_sha256");
    if (!first && *fa && *fb && strcmp(fa, fb) != 0 && a->rec.n_steps == b->rec.n_steps) {
        first = n;
        snprintf(report->record_quantity, sizeof report->record_quantity, "the final parameters (step %lld)", (long long)n);
    }
    report->record_step = first;
}

/* The last step before `before` where both records keep a checkpoint with the same parameters
 * (each side starts from its own file: their configs may differ in runtime keys); 0: none. */
static int64_t common_checkpoint(const side *a, const side *b, int64_t before) {
    int64_t best = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(a->rec.manifest, "checkpoints")) {
        const int64_t step = (int64_t)dt_json_number(entry, "step");
        const cJSON *other = checkpoint_at(b->rec.manifest, step);
        if (step <= best || step >= before || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "removed")) || !other)
            continue;
        const char *pa = dt_json_string(entry, "params_sha256"), *pb = dt_json_string(other, "params_sha256");
        if (pa && pb && !strcmp(pa, pb)) best = step;
    }
    return best;
}

/* A side's own kept checkpoint of the latest step before `before`; 0: none. */
static int64_t own_checkpoint(const side *s, int64_t before) {
    return common_checkpoint(s, s, before);
}

/* ---- replays --------------------------------------------------------------------------------- */

/* The backend a side ran on ("cpu", "cuda"), from its recorded device line. */
static dt_device_kind recorded_device(const side *s) {
    return !strncmp(s->info->device, "cuda", 4) ? DT_DEVICE_CUDA : DT_DEVICE_CPU;
}

/* The config a side is replayed with here: its own, its data where it lies now, the device it
 * ran on when that is here (else the CPU, said in its note), --threads. */
static void replay_config(side *s, const dt_bisect_opts *opts, dt_config *work) {
    *work = *s->cfg;
    dt_run_anchor_config(s->about, work);
    if (opts->threads > 0) work->runtime.threads = opts->threads;
    work->runtime.device = recorded_device(s);
    if (work->runtime.device != DT_DEVICE_CUDA) return;
    if (s->no_gpu) {
        work->runtime.device = DT_DEVICE_CPU;
        return;
    }
    const dt_backend_ops *ops;
    char note[512];
    dt_error why;
    const int gpu = work->runtime.gpu >= 0 ? work->runtime.gpu : dt_backend_default_gpu(0);
    if (dt_backend_select(DT_DEVICE_CUDA, gpu, &ops, note, sizeof note, &why) == DT_OK) return;
    work->runtime.device = DT_DEVICE_CPU;
    s->no_gpu = 1;
    const size_t used = strlen(s->info->note);
    snprintf(s->info->note + used, sizeof s->info->note - used, "%sno usable GPU here (%.300s): replayed on the CPU, "
             "which computes a portable run's bits but not another mode's", used ? "; " : "", why.message);
}

/* The checkpoint file of `step` in a side's folder into path ("" for step 0). */
static void checkpoint_path(const side *s, int64_t step, char *path, size_t size) {
    const cJSON *entry = step > 0 ? checkpoint_at(s->rec.manifest, step) : NULL;
    if (entry) snprintf(path, size, "%s/%s", s->rec.dir, dt_json_string_or(entry, "file", ""));
    else path[0] = '\0';
}

/* Replays a run side from its checkpoint of `start` (0: the start) through step `last`, its
 * operations traced into s->trace as set up by the caller. */
static dt_status replay(side *s, int64_t start, int64_t last, const dt_bisect_opts *opts, dt_error *err) {
    dt_status status = DT_OK;
    char tmp[DT_PATH_MAX] = "", ckpt[DT_PATH_MAX + 96];
    dt_config *work = malloc(sizeof *work);
    cJSON *manifest = NULL;
    if (!work) return dt_fail(err, DT_NOMEM, "out of memory");
    replay_config(s, opts, work);
    checkpoint_path(s, start, ckpt, sizeof ckpt);
    if (s->info->perturb[0]) DT_TRY(dt_op_trace_set_perturbation(&s->trace, s->info->perturb, err));
    DT_TRY(dt_make_temp_dir("detrain-bisect-", tmp, sizeof tmp, err));
    dt_train_opts train = {.quiet = 1, .out_dir = tmp, .unindexed = 1, .stop_after_steps = last,
                           .start_checkpoint = ckpt[0] ? ckpt : NULL, .record_config = s->cfg, .trace = &s->trace};
    dt_train_summary summary;
    dt_error why;
    const dt_status ran = dt_train(work, &train, &summary, &why);
    if (ran != DT_OK && ran != DT_NUMERIC && !(ran == DT_INTERRUPTED && summary.steps >= last))
        DT_TRY(dt_fail(err, ran, "replaying %s through step %lld: %s", s->path, (long long)last, why.message));
    if (dt_run_manifest_load(tmp, &manifest, err) == DT_OK)
        snprintf(s->info->replayed_on, sizeof s->info->replayed_on, "%s", dt_run_record_string(manifest, "device"));
cleanup:
    if (tmp[0]) dt_remove_run_dir(tmp);
    cJSON_Delete(manifest);
    free(work);
    return status;
}

/* Sets up a side's trace for steps [first, last] with values for [values_first, values_last]
 * (freeing the previous one) and replays it from `start`. */
static dt_status trace_side(side *s, int64_t start, int64_t first, int64_t last, int64_t values_first,
                            int64_t values_last, const dt_bisect_opts *opts, dt_error *err) {
    dt_op_trace_free(&s->trace);
    dt_op_trace_init(&s->trace, first, last, values_first, values_last);
    return replay(s, start, last, opts, err);
}

/* ---- the report ------------------------------------------------------------------------------ */

/* Copies the first differing operation out of the traces into the report. */
static void name_op(const dt_op_divergence *d, dt_bisect_report *report) {
    dt_bisect_op *op = &report->op;
    report->ops_compared = d->ops_compared;
    report->ops_unmatched = d->ops_unmatched;
    report->localized = d->found;
    if (!d->found) return;
    op->step = d->step;
    snprintf(op->name, sizeof op->name, "%s", d->a->name);
    snprintf(op->kind, sizeof op->kind, "%s", dt_op_kind_name(d->a->kind));
    op->order = dt_op_kind_order(d->a->kind);
    op->index_a = d->index_a + 1;
    op->index_b = d->index_b + 1;
    op->count = d->a->count;
    op->first_element = d->first_element;
    op->n_differing = d->n_differing;
    op->max_ulp = d->max_ulp;
    op->max_abs = d->max_abs;
    if (d->first_element >= 0) {
        op->value_a = d->a->values[d->first_element];
        op->value_b = d->b->values[d->first_element];
    }
    snprintf(op->sha_a, sizeof op->sha_a, "%s", d->a->sha256);
    snprintf(op->sha_b, sizeof op->sha_b, "%s", d->b->sha256);
}

/* The steps [first, last] an op dump holds, and [values_first, values_last] those with values. */
static void dump_range(const side *s, int64_t *first, int64_t *last, int64_t *values_first, int64_t *values_last) {
    const dt_op_trace *t = &s->trace;
    *first = t->n_steps ? t->steps[0].step : 0;
    *last = t->n_steps ? t->steps[t->n_steps - 1].step : -1;
    *values_first = 0;
    *values_last = -1;
    for (int i = 0; i < t->n_steps; i++) {
        const dt_op_step *step = &t->steps[i];
        if (step->n_ops == 0 || !step->ops[0].values) continue;
        if (*values_last < 0) *values_first = step->step;
        *values_last = step->step;
    }
}

/* Two runs: the records, then both replayed from their common checkpoint through the first
 * step they show differing; again for that step's values when the range was long. */
static dt_status bisect_runs(side *a, side *b, const dt_bisect_opts *opts, dt_bisect_report *report, dt_error *err) {
    dt_status status = DT_OK;
    compare_records(a, b, report);
    if (!report->record_step) return DT_OK;
    const int64_t last = report->record_step, start = common_checkpoint(a, b, last);
    const int keep = last - start <= VALUES_AT_ONCE;
    report->start_step = start;
    report->last_step = last;
    report->replayed = 1;
    DT_TRY(trace_side(a, start, start + 1, last, keep ? start + 1 : 0, keep ? last : -1, opts, err));
    DT_TRY(trace_side(b, start, start + 1, last, keep ? start + 1 : 0, keep ? last : -1, opts, err));
    dt_op_divergence d;
    dt_op_trace_compare(&a->trace, &b->trace, &d);
    if (d.found && d.max_ulp < 0) { /* the values of the differing step only */
        const int64_t step = d.step;
        DT_TRY(trace_side(a, start, step, step, step, step, opts, err));
        DT_TRY(trace_side(b, start, step, step, step, step, opts, err));
        dt_op_trace_compare(&a->trace, &b->trace, &d);
    }
    name_op(&d, report);
cleanup:
    return status;
}

/* A run and an op dump (or two dumps): the run replayed over the dump's steps, from its own
 * checkpoint before them. */
static dt_status bisect_dump(side *a, side *b, const dt_bisect_opts *opts, dt_bisect_report *report, dt_error *err) {
    dt_status status = DT_OK;
    side *dump = b->is_dump ? b : a, *run = b->is_dump ? a : b;
    int64_t first, last, values_first, values_last;
    dump_range(dump, &first, &last, &values_first, &values_last);
    if (last < first) return dt_fail(err, DT_CHECKPOINT, "%s: the op dump holds no step", dump->path);
    report->start_step = first - 1;
    report->last_step = last;
    if (!run->is_dump) {
        report->start_step = own_checkpoint(run, first);
        report->replayed = 1;
        DT_TRY(trace_side(run, report->start_step, first, last, values_first, values_last, opts, err));
    }
    dt_op_divergence d;
    dt_op_trace_compare(&a->trace, &b->trace, &d);
    name_op(&d, report);
    report->record_step = d.found ? d.step : 0;
    snprintf(report->record_quantity, sizeof report->record_quantity, "%s", d.found ? "an operation's output" : "");
cleanup:
    return status;
}

/* ---- dumps ----------------------------------------------------------------------------------- */

cJSON *dt_bisect_dump_meta(const cJSON *manifest) {
    static const char *const keys[] = {"run_id", "config", "config_sha256", "data", "mode", "device", "code",
                                       "test_perturb"};
    cJSON *meta = cJSON_CreateObject();
    if (!meta) return NULL;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(manifest, keys[i]);
        if (item) cJSON_AddItemToObject(meta, keys[i], cJSON_Duplicate(item, 1));
    }
    return meta;
}

/* --dump-only: side b replayed over the steps where the records show the difference, its
 * trace written to opts->dump_out (with values up to DUMP_VALUES_BYTES). */
static dt_status dump_only(side *a, side *b, const dt_bisect_opts *opts, dt_bisect_report *report, dt_error *err) {
    dt_status status = DT_OK;
    cJSON *meta = NULL;
    if (a->is_dump || b->is_dump) return dt_fail(err, DT_USAGE, "bisect --dump-only compares two run records");
    compare_records(a, b, report);
    const int64_t last = report->record_step ? report->record_step : b->rec.n_steps;
    const int64_t start = common_checkpoint(a, b, last);
    report->start_step = start;
    report->last_step = last;
    report->replayed = 1;
    dt_op_trace_free(&b->trace);
    dt_op_trace_init(&b->trace, start + 1, last, start + 1, last);
    b->trace.values_budget = DUMP_VALUES_BYTES;
    DT_TRY(replay(b, start, last, opts, err));
    if (!(meta = dt_bisect_dump_meta(b->rec.manifest))) DT_TRY(dt_fail(err, DT_NOMEM, "out of memory"));
    DT_TRY(dt_op_trace_write(&b->trace, meta, opts->dump_out, err));
cleanup:
    cJSON_Delete(meta);
    return status;
}

dt_status dt_bisect(const char *a_path, const char *b_path, const dt_bisect_opts *opts, dt_bisect_report *report,
                    dt_error *err) {
    dt_status status = DT_OK;
    side a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(report, 0, sizeof *report);
    const double t0 = dt_now_seconds();
    DT_TRY(open_side(&a, a_path, &report->a, err));
    DT_TRY(open_side(&b, b_path, &report->b, err));
    DT_TRY(same_config(&a, &b, err));
    if (opts->dump_out) DT_TRY(dump_only(&a, &b, opts, report, err));
    else if (a.is_dump || b.is_dump) DT_TRY(bisect_dump(&a, &b, opts, report, err));
    else DT_TRY(bisect_runs(&a, &b, opts, report, err));
    report->seconds = dt_now_seconds() - t0;
    if (!opts->dump_out && report->record_step)
        status = dt_fail(err, DT_MISMATCH, "%s and %s differ from step %lld%s", a_path, b_path,
                         (long long)(report->localized ? report->op.step : report->record_step),
                         report->localized ? "" : " (no operation differs when replayed here)");
cleanup:
    close_side(&a);
    close_side(&b);
    return status;
}
