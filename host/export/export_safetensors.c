/* export_safetensors.c — the parameters as a safetensors file (huggingface/safetensors):
 *   u64 little-endian N | N bytes of JSON header, padded with spaces to a multiple of 8 | data
 * The header maps each tensor's name to {"dtype", "shape", "data_offsets": [begin, end)}
 * (offsets relative to the data section, which the tensors cover without holes) and holds the
 * string -> string "__metadata__". Tensors are laid out as the safetensors library orders
 * them: wider dtypes first (so the float64 moments stay 8-byte aligned), then by name. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_parts.h"

/* One tensor of the file: its name, dtype and shape, and where its values are. */
typedef struct {
    char name[64];
    const char *dtype;          /* "F32", "F64" */
    int rank;
    int64_t dims[2];
    const float *f32;           /* (elements) when dtype is F32 */
    const double *f64;          /* (elements) when dtype is F64 */
    size_t elements, bytes, offset;
} st_tensor;

/* qsort order: 8-byte dtypes before 4-byte ones, then by name (strcmp). */
static int tensor_order(const void *a, const void *b) {
    const st_tensor *x = a, *y = b;
    const int wide_x = x->f64 != NULL, wide_y = y->f64 != NULL;
    if (wide_x != wide_y) return wide_y - wide_x;
    return strcmp(x->name, y->name);
}

/* The file's tensors into t (room for 2 per layer + 2); returns their count. PyTorch's
 * nn.Linear names: layers.<l>.weight (out, in), layers.<l>.bias (out). */
static int list_tensors(const dt_checkpoint *ck, st_tensor *t) {
    int n = 0;
    for (int l = 0; l < ck->net.n_layers; l++) {
        const dt_layer *layer = &ck->net.layers[l];
        st_tensor w = {.dtype = "F32", .rank = 2, .dims = {layer->n_out, layer->n_in},
                       .f32 = ck->state.params + layer->weight_offset,
                       .elements = (size_t)layer->n_out * (size_t)layer->n_in};
        snprintf(w.name, sizeof w.name, "layers.%d.weight", l);
        st_tensor b = {.dtype = "F32", .rank = 1, .dims = {layer->n_out}, .f32 = ck->state.params + layer->bias_offset,
                       .elements = (size_t)layer->n_out};
        snprintf(b.name, sizeof b.name, "layers.%d.bias", l);
        t[n++] = w, t[n++] = b;
    }
    if (ck->cfg->data.normalize == DT_NORM_STANDARDIZE) {
        /* The moments stay float64: standardize computes (x - mean) / std in double. */
        st_tensor mean = {.name = "normalize.mean", .dtype = "F64", .rank = 1, .dims = {ck->net.input_size},
                          .f64 = ck->norm_mean, .elements = (size_t)ck->net.input_size};
        st_tensor std = mean;
        snprintf(std.name, sizeof std.name, "normalize.std");
        std.f64 = ck->norm_std;
        t[n++] = mean, t[n++] = std;
    }
    for (int i = 0; i < n; i++) t[i].bytes = t[i].elements * (t[i].f64 ? 8 : 4);
    qsort(t, (size_t)n, sizeof *t, tensor_order);
    size_t offset = 0;
    for (int i = 0; i < n; i++) t[i].offset = offset, offset += t[i].bytes;
    return n;
}

/* A JSON integer printed exactly (cJSON's numbers are doubles); NULL on OOM. */
static cJSON *exact_integer(uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return cJSON_CreateRaw(text);
}

/* Adds *item to obj under key and clears *item (obj owns it now); -1 on OOM (*item still
 * the caller's). */
static int adopt(cJSON *obj, const char *key, cJSON **item) {
    if (!*item || !cJSON_AddItemToObject(obj, key, *item)) return -1;
    *item = NULL;
    return 0;
}

/* The header object: __metadata__ first, then the tensors in data order. NULL on OOM. */
static cJSON *make_header(const dt_checkpoint *ck, const char *certificates, const st_tensor *t, int n) {
    cJSON *header = cJSON_CreateObject(), *meta = dt_export_metadata(ck, certificates);
    int rc = header && meta && cJSON_AddStringToObject(meta, "format", "pt") ? 0 : -1;
    if (!rc) rc = adopt(header, "__metadata__", &meta);
    for (int i = 0; i < n && !rc; i++) {
        cJSON *entry = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offsets = cJSON_CreateArray();
        rc = entry && shape && offsets ? 0 : -1;
        for (int d = 0; d < t[i].rank && !rc; d++)
            rc = cJSON_AddItemToArray(shape, exact_integer((uint64_t)t[i].dims[d])) ? 0 : -1;
        if (!rc) rc = cJSON_AddItemToArray(offsets, exact_integer(t[i].offset)) ? 0 : -1;
        if (!rc) rc = cJSON_AddItemToArray(offsets, exact_integer(t[i].offset + t[i].bytes)) ? 0 : -1;
        if (!rc) rc = cJSON_AddStringToObject(entry, "dtype", t[i].dtype) ? 0 : -1;
        if (!rc) rc = adopt(entry, "shape", &shape);
        if (!rc) rc = adopt(entry, "data_offsets", &offsets);
        if (!rc) rc = adopt(header, t[i].name, &entry);
        cJSON_Delete(entry);
        cJSON_Delete(shape);
        cJSON_Delete(offsets);
    }
    cJSON_Delete(meta);
    if (rc) {
        cJSON_Delete(header);
        return NULL;
    }
    return header;
}

dt_status dt_export_safetensors(const dt_checkpoint *ck, const char *origin, const char *certificates,
                                unsigned char **data, size_t *size, dt_error *err) {
    *data = NULL, *size = 0;
    if (ck->cfg->data.normalize == DT_NORM_STANDARDIZE && (!ck->norm_mean || !ck->norm_std))
        return dt_fail(err, DT_INTERNAL, "%s: standardize without the moments", origin);
    st_tensor tensors[2 * DT_MAX_LAYERS + 2];
    const int n = list_tensors(ck, tensors);
    cJSON *header = make_header(ck, certificates, tensors, n);
    char *json = header ? cJSON_PrintUnformatted(header) : NULL;
    cJSON_Delete(header);
    if (!json) return dt_fail(err, DT_NOMEM, "out of memory writing the safetensors header of %s", origin);
    const size_t json_len = strlen(json), padded = (json_len + 7) / 8 * 8;
    const size_t data_bytes = n ? tensors[n - 1].offset + tensors[n - 1].bytes : 0;
    unsigned char *out = malloc(8 + padded + data_bytes);
    if (!out) {
        free(json);
        return dt_fail(err, DT_NOMEM, "out of memory for the safetensors file of %s", origin);
    }
    for (int b = 0; b < 8; b++) out[b] = (unsigned char)((uint64_t)padded >> (8 * b));
    memcpy(out + 8, json, json_len);
    memset(out + 8 + json_len, ' ', padded - json_len); /* the padding the format allows */
    free(json);
    unsigned char *section = out + 8 + padded;
    for (int i = 0; i < n; i++) {
        if (tensors[i].f64) dt_export_f64_le(tensors[i].f64, tensors[i].elements, section + tensors[i].offset);
        else dt_export_f32_le(tensors[i].f32, tensors[i].elements, section + tensors[i].offset);
    }
    *data = out, *size = 8 + padded + data_bytes;
    return DT_OK;
}
