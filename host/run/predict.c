/* predict.c — detrain eval and predict: a checkpoint's parameters applied to data.
 *
 * Both read the checkpoint (every digest checked), turn SOURCE into a data source (a JSON
 * object validated by the config schema, or a file whose format follows from its name),
 * load and normalise it as training did. eval drives the backend's evaluation, so its loss
 * and accuracy are the ones training reports; predict runs the forward pass with the
 * portable product (one fmaf chain per output, bias, activation), the same bits. */
#include "predict.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cpu/matmul.h"
#include "dt_math.h"
#include "core/fsutil.h"
#include "core/text.h"
#include "records/checkpoint.h"
#include "records/manifest.h"
#include "records/runrec.h"

/* Whether text ends with suffix. */
static int ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

/* SOURCE as a data source. A JSON object goes through the config schema (as --set
 * data.test=...), so it is validated like a config; a file name picks the format by its
 * extension. `labels` is the labels file of IDX images or NumPy features (may be NULL). */
static dt_status make_source(const dt_checkpoint *ck, const char *spec, const char *labels, const char *option,
                             dt_data_source *src, dt_error *err) {
    memset(src, 0, sizeof *src);
    if (spec[0] == '{') {
        if (labels) return dt_fail(err, DT_USAGE, "--labels goes with a file name, not a JSON source (use its \"labels\" key)");
        size_t len = strlen(spec) + 16;
        char *override = malloc(len);
        dt_config *cfg = malloc(sizeof *cfg);
        dt_status status = DT_OK;
        if (!override || !cfg) status = dt_fail(err, DT_NOMEM, "out of memory");
        else {
            snprintf(override, len, "data.test=%s", spec);
            status = dt_config_parse(cfg, ck->config_json, "checkpoint config", NULL, 1, &override, err);
            if (status == DT_OK) *src = cfg->data.test;
            else {
                /* "--set data.test={...}: config.data.test.x: ..." reads better as the option it came from. */
                const char *rest = strstr(err->message, ": config.data.test");
                char message[DT_ERROR_MAX];
                if (rest) snprintf(message, sizeof message, "%s SOURCE%s", option, rest), memcpy(err->message, message, sizeof message);
            }
        }
        free(override);
        free(cfg);
        return status;
    }
    if (strlen(spec) >= sizeof src->path) return dt_fail(err, DT_USAGE, "%s: path too long", spec);
    snprintf(src->path, sizeof src->path, "%s", spec);
    if (ends_with(spec, ".csv") || ends_with(spec, ".csv.gz")) {
        src->format = DT_FORMAT_CSV;
        src->header = true;
        snprintf(src->label_column, sizeof src->label_column, "label");
    } else if (ends_with(spec, ".h5") || ends_with(spec, ".hdf5")) {
        src->format = DT_FORMAT_HDF5;
        snprintf(src->features_dataset, sizeof src->features_dataset, "features");
        snprintf(src->labels_dataset, sizeof src->labels_dataset, "labels");
    } else if (ends_with(spec, ".npy") || ends_with(spec, ".npy.gz") || ends_with(spec, ".npz")) {
        src->format = DT_FORMAT_NPY; /* a .npz's arrays: features and labels, as np.savez(f, features=, labels=) */
        snprintf(src->features_array, sizeof src->features_array, "features");
        snprintf(src->labels_array, sizeof src->labels_array, "labels");
    } else {
        src->format = DT_FORMAT_IDX;
    }
    if (labels && src->format != DT_FORMAT_IDX && src->format != DT_FORMAT_NPY)
        return dt_fail(err, DT_USAGE, "--labels is for IDX images and NumPy features; %s is %s (its labels are inside it)",
                       spec, dt_format_name(src->format));
    if (labels && strlen(labels) >= sizeof src->labels_path) return dt_fail(err, DT_USAGE, "%s: path too long", labels);
    if (labels) snprintf(src->labels_path, sizeof src->labels_path, "%s", labels);
    return DT_OK;
}

/* Loads src for the checkpoint's model and normalises it as training did. */
static dt_status load_source(const dt_checkpoint *ck, const dt_data_source *src, int labels_optional, dt_dataset *ds,
                             dt_error *err) {
    const dt_config *cfg = ck->cfg;
    dt_data_expect expect = {cfg->model.input_size, cfg->loss.kind == DT_LOSS_SOFTMAX_CE ? ck->net.n_outputs : 0,
                             labels_optional};
    dt_status status = dt_dataset_load(ds, src, &expect, err);
    if (status != DT_OK) return status;
    if (cfg->loss.kind == DT_LOSS_MSE && ds->targets && ds->n_targets != ck->net.n_outputs)
        status = dt_fail(err, DT_DATA, "%s: has %d target column(s), the model has %d output(s)", src->path,
                         ds->n_targets, ck->net.n_outputs);
    else if (cfg->data.normalize == DT_NORM_STANDARDIZE)
        status = dt_dataset_standardize(ds, ck->norm_mean, ck->norm_std, err);
    else
        status = dt_dataset_normalize(ds, NULL, NULL, cfg, err);
    if (status != DT_OK) dt_dataset_free(ds);
    return status;
}

/* Reads the checkpoint into a freshly allocated *ck (caller frees with free_checkpoint). */
static dt_status open_checkpoint(const char *path, dt_checkpoint **ck, dt_error *err) {
    *ck = calloc(1, sizeof **ck);
    if (!*ck) return dt_fail(err, DT_NOMEM, "out of memory");
    return dt_checkpoint_read(path, *ck, err);
}

/* Frees a checkpoint from open_checkpoint (NULL is fine). */
static void free_checkpoint(dt_checkpoint *ck) {
    if (ck) dt_checkpoint_free(ck);
    free(ck);
}

/* The config's test source, its paths found where the run folder of the checkpoint says. */
static void recorded_test_source(const dt_checkpoint *ck, const char *checkpoint, dt_data_source *src) {
    dt_config *cfg = malloc(sizeof *cfg);
    *src = ck->cfg->data.test;
    if (!cfg) return;
    *cfg = *ck->cfg;
    char dir_copy[DT_PATH_MAX];
    snprintf(dir_copy, sizeof dir_copy, "%s", checkpoint);
    dt_run_record rec;
    dt_error ignored;
    if (dt_run_record_load(dirname(dir_copy), &rec, &ignored) == DT_OK) {
        dt_run_anchor_config(rec.manifest, cfg);
        *src = cfg->data.test;
    }
    dt_run_record_free(&rec);
    free(cfg);
}

/* The report of an evaluation: the checkpoint's step, the data and its files (each one that
 * changed since training noted, for the config's own test set), the loss and the accuracy. */
static void eval_report(const dt_checkpoint *ck, const dt_data_source *src, const dt_dataset *ds, int own_test_set,
                        const dt_eval_result *eval, dt_eval_report *report) {
    report->step = ck->progress.counters.step;
    snprintf(report->source, sizeof report->source, "%s", src->path);
    report->n_samples = eval->n_samples;
    report->correct = eval->correct;
    report->loss = (float)eval->loss;
    report->loss_kind = ck->cfg->loss.kind;
    report->n_files = ds->n_files;
    for (int i = 0; i < ds->n_files; i++) {
        report->files[i] = ds->files[i];
        if (own_test_set && i < ck->n_test_files && strcmp(ds->files[i].sha256, ck->test_files[i].sha256) != 0)
            snprintf(report->recorded_sha256[i], sizeof report->recorded_sha256[i], "%s", ck->test_files[i].sha256);
    }
}

dt_status dt_eval(const char *checkpoint, const char *source, const char *labels, int threads, dt_eval_report *report,
                  dt_error *err) {
    dt_status status = DT_OK;
    dt_checkpoint *ck = NULL;
    dt_dataset ds;
    memset(&ds, 0, sizeof ds);
    dt_data_source src;
    const dt_backend_ops *ops = NULL;
    dt_backend *backend = NULL;
    dt_config *cfg = malloc(sizeof *cfg);
    char note[512];
    memset(report, 0, sizeof *report);
    if (!cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_TRY(open_checkpoint(checkpoint, &ck, err));
    if (source) DT_TRY(make_source(ck, source, labels, "--data", &src, err));
    else recorded_test_source(ck, checkpoint, &src);
    DT_TRY(load_source(ck, &src, 0, &ds, err));
    *cfg = *ck->cfg;
    if (threads > 0) cfg->runtime.threads = threads;
    if (cfg->runtime.gpu < 0) cfg->runtime.gpu = 0; /* one process: the first GPU */
    DT_TRY(dt_backend_select(cfg->runtime.device, cfg->runtime.gpu, &ops, note, sizeof note, err));
    DT_TRY(ops->create(&backend, &ck->net, cfg, err));
    DT_TRY(ops->set_data(backend, &ds, &ds, NULL, err));
    DT_TRY(ops->set_state(backend, &ck->state, err));
    dt_eval_result eval;
    DT_TRY(ops->evaluate(backend, DT_SET_TEST, &eval, err));
    eval_report(ck, &src, &ds, source == NULL, &eval, report);
cleanup:
    if (backend) ops->destroy(backend);
    dt_dataset_free(&ds);
    free_checkpoint(ck);
    free(cfg);
    return status;
}

/* ---- predict ---------------------------------------------------------------------------------- */

/* Forward pass of rows [0, batch) of x (batch, input_size) through the net without dropout;
 * the portable product (one ascending fmaf chain per output), then bias and activation.
 * z, y: scratch of (batch, max_width) each; returns the output (batch, n_outputs). */
static const float *forward(const dt_net *net, const float *params, const float *x, int64_t batch, float *z, float *y,
                            float *pack) {
    const float *in = x;
    float *out = y;
    for (int l = 0; l < net->n_layers; l++) {
        const dt_layer *layer = &net->layers[l];
        /* Z (batch, n_out) = X (batch, n_in) · Wᵀ, read through strides: B(p, j) = W[j][p]. */
        dt_gemm_args g;
        memset(&g, 0, sizeof g);
        g.M = batch, g.N = layer->n_out, g.P = layer->n_in;
        g.A = in, g.a_row = layer->n_in, g.a_col = 1;
        g.B = params + layer->weight_offset, g.b_row = 1, g.b_col = layer->n_in;
        g.C = z, g.ldc = layer->n_out;
        g.bias = params + layer->bias_offset;
        g.Y = out, g.ldy = layer->n_out, g.act = layer->activation;
        dt_gemm(&g, dt_simd_detect(), pack);
        in = out;
        out = out == y ? z + (int64_t)batch * net->max_width : y; /* ping-pong: y, then z's second half */
    }
    return in;
}

/* Appends one sample's prediction: class and probabilities, or outputs; CSV or JSON lines. */
static void write_row(dt_text *b, int64_t index, const float *row, int32_t n, int classifier, int json) {
    float probs[4096];
    int32_t best = 0;
    const float *values = row;
    if (classifier && n <= 4096) {
        /* Softmax as the loss computes it: max, then exp(x - max) summed j ascending. */
        float m = row[0], s = 0.0f;
        for (int32_t j = 1; j < n; j++) m = row[j] > m ? row[j] : m;
        for (int32_t j = 0; j < n; j++) s += dt_expf(row[j] - m);
        for (int32_t j = 0; j < n; j++) probs[j] = dt_expf(row[j] - m) / s;
        for (int32_t j = 1; j < n; j++)
            if (row[j] > row[best]) best = j;
        values = probs;
    }
    if (json) dt_text_printf(b, "{\"index\":%lld,", (long long)index);
    else dt_text_printf(b, "%lld,", (long long)index);
    if (classifier && json) dt_text_printf(b, "\"class\":%d,\"probabilities\":[", best);
    else if (classifier) dt_text_printf(b, "%d,", best);
    else if (json) dt_text_printf(b, "\"outputs\":[");
    for (int32_t j = 0; j < n; j++) dt_text_printf(b, "%s%.9g", j ? "," : "", (double)values[j]);
    dt_text_printf(b, json ? "]}\n" : "\n");
}

/* The predictions of the checkpoint's net for every sample of ds into b: a CSV header and one
 * line per sample, or JSON lines. DT_USAGE for a classifier of more than 4096 classes. */
static dt_status predictions(const dt_checkpoint *ck, const dt_dataset *ds, const char *checkpoint, int json, dt_text *b,
                             dt_error *err) {
    const dt_net *net = &ck->net;
    const int classifier = ck->cfg->loss.kind == DT_LOSS_SOFTMAX_CE;
    if (classifier && net->n_outputs > 4096)
        return dt_fail(err, DT_USAGE, "%s: predict supports at most 4096 classes", checkpoint);
    const int64_t chunk = ck->cfg->train.eval_batch_size;
    float *scratch = malloc(((size_t)3 * (size_t)chunk * (size_t)net->max_width + DT_GEMM_PACK_FLOATS) * sizeof(float));
    if (!scratch) return dt_fail(err, DT_NOMEM, "out of memory for the forward pass");
    float *z = scratch, *y = scratch + 2 * chunk * net->max_width, *pack = y + chunk * net->max_width;
    if (!json) {
        dt_text_printf(b, "index");
        for (int32_t j = 0; j < net->n_outputs; j++) {
            if (classifier) dt_text_printf(b, "%s,p%d", j ? "" : ",class", j);
            else dt_text_printf(b, ",y%d", j);
        }
        dt_text_printf(b, "\n");
    }
    for (int64_t start = 0; start < ds->n_samples && !b->failed; start += chunk) {
        const int64_t batch = ds->n_samples - start < chunk ? ds->n_samples - start : chunk;
        const float *out = forward(net, ck->state.params, ds->features + start * ds->n_features, batch, z, y, pack);
        for (int64_t i = 0; i < batch && !b->failed; i++)
            write_row(b, start + i, out + i * net->n_outputs, net->n_outputs, classifier, json);
    }
    free(scratch);
    return b->failed ? dt_fail(err, DT_NOMEM, "out of memory writing the predictions") : DT_OK;
}

dt_status dt_predict(const char *checkpoint, const char *source, const char *labels, const char *output, int threads,
                     dt_predictions *out, dt_error *err) {
    dt_status status = DT_OK;
    dt_checkpoint *ck = NULL;
    dt_dataset ds;
    memset(&ds, 0, sizeof ds);
    memset(out, 0, sizeof *out);
    dt_data_source src;
    dt_text b = {0};
    (void)threads; /* the forward pass runs on one thread; the flag is accepted for symmetry with eval */
    const int json = output && (ends_with(output, ".jsonl") || ends_with(output, ".json"));
    if (output && !json && !ends_with(output, ".csv"))
        return dt_fail(err, DT_USAGE, "--output %s: unknown extension (use .csv, .jsonl or .json)", output);
    if (output) DT_TRY(dt_check_output_file(output, err));
    DT_TRY(open_checkpoint(checkpoint, &ck, err));
    DT_TRY(make_source(ck, source, labels, "--input", &src, err));
    DT_TRY(load_source(ck, &src, 1, &ds, err));
    DT_TRY(predictions(ck, &ds, checkpoint, json, &b, err));
    out->n_samples = ds.n_samples;
    if (output) DT_TRY(dt_write_file_atomic(output, b.data ? b.data : "", b.len, err));
    else out->size = b.len, out->text = dt_text_take(&b);
cleanup:
    free(dt_text_take(&b));
    dt_dataset_free(&ds);
    free_checkpoint(ck);
    return status;
}
