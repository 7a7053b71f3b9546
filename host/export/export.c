/* export.c — detrain export: the checkpoint read and checked, the output's folder checked, the
 * chosen writer's bytes written atomically; and the metadata both formats carry. */
#include "export.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_parts.h"
#include "core/fsutil.h"
#include "records/manifest.h"
#include "version.h"

static const char *const format_names[] = {[DT_EXPORT_SAFETENSORS] = "safetensors", [DT_EXPORT_ONNX] = "onnx"};

dt_status dt_export_format_parse(const char *name, dt_export_format *format, dt_error *err) {
    for (int f = 0; f < (int)(sizeof format_names / sizeof format_names[0]); f++)
        if (name && !strcmp(name, format_names[f])) {
            *format = (dt_export_format)f;
            return DT_OK;
        }
    return dt_fail(err, DT_USAGE, "unknown export format '%s' (use safetensors or onnx)", name ? name : "");
}

const char *dt_export_format_name(dt_export_format format) {
    return (unsigned)format < sizeof format_names / sizeof format_names[0] ? format_names[format] : "unknown";
}

void dt_export_f32_le(const float *values, size_t n, unsigned char *out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        for (int b = 0; b < 4; b++) out[4 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
    }
}

void dt_export_f64_le(const double *values, size_t n, unsigned char *out) {
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        for (int b = 0; b < 8; b++) out[8 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
    }
}

/* Adds key: the printf-formatted string; 0, or -1 on OOM. */
static int add_text(cJSON *obj, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_text(cJSON *obj, const char *key, const char *fmt, ...) {
    char text[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return cJSON_AddStringToObject(obj, key, text) ? 0 : -1;
}

cJSON *dt_export_metadata(const dt_checkpoint *ck, const char *certificates) {
    const dt_config *cfg = ck->cfg;
    cJSON *meta = cJSON_CreateObject(), *layers = cJSON_CreateArray();
    char *layers_text = NULL;
    int rc = meta && layers ? 0 : -1;
    for (int l = 0; l < ck->net.n_layers && !rc; l++) {
        cJSON *layer = cJSON_CreateObject();
        rc |= layer && cJSON_AddItemToArray(layers, layer) ? 0 : -1;
        rc |= layer && cJSON_AddNumberToObject(layer, "units", ck->net.layers[l].n_out) ? 0 : -1;
        const char *activation = dt_activation_name(ck->net.layers[l].activation);
        rc |= layer && cJSON_AddStringToObject(layer, "activation", activation) ? 0 : -1;
    }
    if (!rc) rc = (layers_text = cJSON_PrintUnformatted(layers)) ? 0 : -1;
    if (!rc) {
        rc |= add_text(meta, "detrain_version", "%s", DT_VERSION);
        rc |= add_text(meta, "git_commit", "%s%s", ck->git_commit, ck->git_dirty ? "+dirty" : "");
        rc |= add_text(meta, "params_sha256", "%s", ck->params_sha256);
        rc |= add_text(meta, "config_sha256", "%s", ck->config_sha256);
        rc |= add_text(meta, "step", "%llu", (unsigned long long)ck->progress.counters.step);
        rc |= add_text(meta, "input_size", "%d", ck->net.input_size);
        rc |= cJSON_AddStringToObject(meta, "layers", layers_text) ? 0 : -1;
        rc |= add_text(meta, "loss", "%s", dt_loss_name(cfg->loss.kind));
        rc |= add_text(meta, "normalize", "%s", dt_norm_name(cfg->data.normalize));
        if (certificates) rc |= cJSON_AddStringToObject(meta, "detrain.certificates", certificates) ? 0 : -1;
    }
    if (!rc && cfg->data.normalize == DT_NORM_SCALE) {
        /* %.9g round-trips a float; the bits say it beyond doubt. */
        char bits[9];
        rc |= add_text(meta, "scale", "%.9g", (double)cfg->data.scale);
        dt_float_bits_hex(cfg->data.scale, bits);
        rc |= add_text(meta, "scale_bits", "%s", bits);
        rc |= add_text(meta, "shift", "%.9g", (double)cfg->data.shift);
        dt_float_bits_hex(cfg->data.shift, bits);
        rc |= add_text(meta, "shift_bits", "%s", bits);
    }
    free(layers_text);
    cJSON_Delete(layers);
    if (rc) {
        cJSON_Delete(meta);
        return NULL;
    }
    return meta;
}

/* dt_check_output_file, and DT_USAGE when output is the checkpoint itself. */
static dt_status check_output(const char *output, const char *checkpoint, dt_error *err) {
    dt_status status = dt_check_output_file(output, err);
    struct stat out_st, ck_st;
    if (status == DT_OK && stat(output, &out_st) == 0 && stat(checkpoint, &ck_st) == 0 &&
        ck_st.st_dev == out_st.st_dev && ck_st.st_ino == out_st.st_ino)
        status = dt_fail(err, DT_USAGE, "%s: the output is the checkpoint itself", output);
    return status;
}

/* certificates.json beside output: the certificates (a JSON array text) indented. */
static dt_status write_certificates(const char *output, const char *certificates, dt_error *err) {
    char folder[DT_PATH_MAX], path[DT_PATH_MAX + 32];
    snprintf(folder, sizeof folder, "%s", output); /* fits: dt_check_output_file took it */
    dt_status status = dt_path_join(path, sizeof path, dirname(folder), "certificates.json", err);
    cJSON *parsed = status == DT_OK ? cJSON_Parse(certificates) : NULL;
    char *text = parsed ? cJSON_Print(parsed) : NULL;
    if (status == DT_OK && !text) status = dt_fail(err, DT_INTERNAL, "%s: the certificates are not JSON", path);
    if (status == DT_OK) {
        const size_t n = strlen(text);
        char *line = realloc(text, n + 2); /* and a newline at the end */
        if (!line) status = dt_fail(err, DT_NOMEM, "out of memory");
        else text = line, memcpy(text + n, "\n", 2), status = dt_write_file_atomic(path, text, n + 1, err);
    }
    free(text);
    cJSON_Delete(parsed);
    return status;
}

dt_status dt_export_checkpoint(const char *checkpoint, dt_export_format format, const char *output,
                               const char *certificates, dt_error *err) {
    if ((unsigned)format > DT_EXPORT_ONNX) return dt_fail(err, DT_INTERNAL, "unknown export format %d", (int)format);
    dt_status status = check_output(output, checkpoint, err);
    if (status != DT_OK) return status;
    dt_checkpoint *ck = calloc(1, sizeof *ck);
    unsigned char *data = NULL;
    size_t size = 0;
    if (!ck) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_TRY(dt_checkpoint_read(checkpoint, ck, err));
    if (format == DT_EXPORT_SAFETENSORS) DT_TRY(dt_export_safetensors(ck, checkpoint, certificates, &data, &size, err));
    else DT_TRY(dt_export_onnx(ck, checkpoint, certificates, &data, &size, err));
    DT_TRY(dt_write_file_atomic(output, data, size, err));
    if (certificates) DT_TRY(write_certificates(output, certificates, err));
cleanup:
    free(data);
    dt_checkpoint_free(ck);
    free(ck);
    return status;
}
