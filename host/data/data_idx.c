/* data_idx.c — IDX files (the MNIST format), raw or gzip-compressed.
 *
 * Layout: a big-endian header, magic 0x0000TTDD (TT the element type, DD >= 1 the number
 * of dimensions), DD big-endian uint32 sizes, then the elements, big-endian, row-major.
 * The images file holds (n_samples, d1, d2, ...) and gives n_samples rows of d1*d2*...
 * features (1 for a 1-D file); the labels file holds (n_samples). */
#include "data.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"

enum { IDX_UBYTE = 0x08, IDX_SBYTE = 0x09, IDX_INT16 = 0x0B, IDX_INT32 = 0x0C, IDX_FLOAT32 = 0x0D, IDX_FLOAT64 = 0x0E };

/* A parsed header; `data` points into the file's bytes. */
typedef struct {
    int type;
    int n_dims;
    uint32_t dims[255];
    size_t element_size;
    uint64_t n_elements;
    const unsigned char *data;
} idx_header;

/* Bytes per element of an IDX type code; 0 for an unknown code. */
static size_t idx_element_size(int type) {
    switch (type) {
    case IDX_UBYTE: case IDX_SBYTE: return 1;
    case IDX_INT16: return 2;
    case IDX_INT32: case IDX_FLOAT32: return 4;
    case IDX_FLOAT64: return 8;
    default: return 0;
    }
}

/* The big-endian unsigned integer of `n_bytes` bytes at p. */
static uint64_t read_be(const unsigned char *p, size_t n_bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < n_bytes; i++) value = value << 8 | p[i];
    return value;
}

/* Element `index` of the data as a double (exact for every IDX type). */
static double idx_value(const idx_header *h, uint64_t index) {
    const unsigned char *p = h->data + index * h->element_size;
    switch (h->type) {
    case IDX_UBYTE: return p[0];
    case IDX_SBYTE: return (int8_t)p[0];
    case IDX_INT16: return (int16_t)(uint16_t)read_be(p, 2);
    case IDX_INT32: return (int32_t)(uint32_t)read_be(p, 4);
    case IDX_FLOAT32: {
        uint32_t bits = (uint32_t)read_be(p, 4);
        float value;
        memcpy(&value, &bits, sizeof value);
        return value;
    }
    default: {
        uint64_t bits = read_be(p, 8);
        double value;
        memcpy(&value, &bits, sizeof value);
        return value;
    }
    }
}

/* Checks magic, type, dimensions and size of an IDX file in memory and fills h.
 * DT_DATA naming `path` when anything disagrees with the header. */
static dt_status idx_parse(const unsigned char *bytes, size_t n_bytes, const char *path, idx_header *h,
                           dt_error *err) {
    memset(h, 0, sizeof *h);
    const dt_status other = dt_data_misformat(path, bytes, n_bytes, DT_FORMAT_IDX, err);
    if (other != DT_OK) return other;
    if (n_bytes < 4)
        return dt_fail(err, DT_DATA, "%s: truncated: file has %zu bytes, an IDX header needs at least 4", path,
                       n_bytes);
    if (bytes[0] != 0 || bytes[1] != 0)
        return dt_fail(err, DT_DATA,
                       "%s: bad IDX magic 0x%08x (expected 0x00000803-style header: 0, 0, type, dims)", path,
                       (unsigned)read_be(bytes, 4));
    h->type = bytes[2];
    h->element_size = idx_element_size(h->type);
    if (h->element_size == 0)
        return dt_fail(err, DT_DATA,
                       "%s: unknown IDX type code 0x%02x (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)", path,
                       (unsigned)h->type);
    h->n_dims = bytes[3];
    if (h->n_dims == 0)
        return dt_fail(err, DT_DATA, "%s: IDX header declares 0 dimensions (expected at least 1)", path);
    size_t header_bytes = 4 + 4 * (size_t)h->n_dims;
    if (n_bytes < header_bytes)
        return dt_fail(err, DT_DATA, "%s: truncated: header declares %d dimensions (%zu header bytes), file has %zu bytes",
                       path, h->n_dims, header_bytes, n_bytes);
    h->n_elements = 1;
    uint64_t data_bytes = 0;
    int overflow = 0;
    for (int i = 0; i < h->n_dims; i++) {
        h->dims[i] = (uint32_t)read_be(bytes + 4 + 4 * (size_t)i, 4);
        overflow |= __builtin_mul_overflow(h->n_elements, (uint64_t)h->dims[i], &h->n_elements);
    }
    overflow |= __builtin_mul_overflow(h->n_elements, (uint64_t)h->element_size, &data_bytes);
    size_t have = n_bytes - header_bytes;
    if (overflow)
        return dt_fail(err, DT_DATA, "%s: truncated: header declares more than 2^64 bytes of data, file has %zu",
                       path, have);
    if (data_bytes > have)
        return dt_fail(err, DT_DATA, "%s: truncated: header declares %llu bytes of data, file has %zu", path,
                       (unsigned long long)data_bytes, have);
    if (data_bytes < have)
        return dt_fail(err, DT_DATA, "%s: has %llu bytes beyond the data the header declares", path,
                       (unsigned long long)(have - data_bytes));
    h->data = bytes + header_bytes;
    return DT_OK;
}

/* Converts every image element to float into features (n_elements), rejecting values
 * that are not finite or do not fit a float. */
static dt_status idx_features(const idx_header *h, uint64_t n_features, const char *path, float *features,
                              dt_error *err) {
    if (h->type == IDX_UBYTE) { /* the common case (MNIST), exact and always finite */
        for (uint64_t i = 0; i < h->n_elements; i++) features[i] = h->data[i];
        return DT_OK;
    }
    for (uint64_t i = 0; i < h->n_elements; i++) {
        double value = idx_value(h, i);
        if (!isfinite(value) || fabs(value) > FLT_MAX)
            return dt_fail(err, DT_DATA, "%s: feature at sample %llu, index %llu is %s (%g)", path,
                           (unsigned long long)(i / n_features), (unsigned long long)(i % n_features),
                           isfinite(value) ? "outside the float range" : "not finite", value);
        features[i] = (float)value;
    }
    return DT_OK;
}

/* Converts labels to class indices in [0, n_classes); DT_DATA naming the first that is
 * not an integer or lies outside the range. labels: (n_elements). */
static dt_status idx_classes(const idx_header *h, int32_t n_classes, const char *path, int32_t *labels,
                             dt_error *err) {
    for (uint64_t i = 0; i < h->n_elements; i++) {
        double value = idx_value(h, i);
        if (value != floor(value))
            return dt_fail(err, DT_DATA, "%s: label %.17g at index %llu is not an integer", path, value,
                           (unsigned long long)i);
        if (!(value >= 0 && value < n_classes))
            return dt_fail(err, DT_DATA, "%s: label %.17g at index %llu is outside [0, %d), the output layer's units "
                           "(model.layers[-1].units)", path, value,
                           (unsigned long long)i, n_classes);
        labels[i] = (int32_t)value;
    }
    return DT_OK;
}

/* Converts labels to float regression targets; DT_DATA for one that is not finite.
 * targets: (n_elements). */
static dt_status idx_targets(const idx_header *h, const char *path, float *targets, dt_error *err) {
    for (uint64_t i = 0; i < h->n_elements; i++) {
        double value = idx_value(h, i);
        if (!isfinite(value) || fabs(value) > FLT_MAX)
            return dt_fail(err, DT_DATA, "%s: target %g at index %llu is not a finite float", path, value,
                           (unsigned long long)i);
        targets[i] = (float)value;
    }
    return DT_OK;
}

/* Checks that the images and labels headers agree with each other and with expect;
 * sets *n_features. */
static dt_status idx_check_shapes(const idx_header *images, const idx_header *labels, const dt_data_source *src,
                                  const dt_data_expect *expect, uint64_t *n_features, dt_error *err) {
    if (labels->n_dims != 1)
        return dt_fail(err, DT_DATA, "%s: labels file has %d dimensions, expected 1", src->labels_path,
                       labels->n_dims);
    if (images->dims[0] != labels->dims[0])
        return dt_fail(err, DT_DATA, "%s: has %u samples but labels file %s has %u labels", src->path,
                       (unsigned)images->dims[0], src->labels_path, (unsigned)labels->dims[0]);
    if (images->dims[0] == 0) return dt_fail(err, DT_DATA, "%s: contains no samples", src->path);
    *n_features = 1;
    for (int i = 1; i < images->n_dims; i++) *n_features *= images->dims[i]; /* <= n_elements: no overflow */
    if (*n_features != (uint64_t)(expect->n_features > 0 ? expect->n_features : 0) || *n_features == 0)
        return dt_fail(err, DT_DATA, "%s: samples have %llu features, model.input_size is %d", src->path,
                       (unsigned long long)*n_features, expect->n_features);
    return DT_OK;
}

dt_status dt_load_idx(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err) {
    dt_status status = DT_OK;
    unsigned char *image_bytes = NULL, *label_bytes = NULL;
    size_t n_image_bytes = 0, n_label_bytes = 0;
    idx_header images, labels;
    uint64_t n_features = 0;
    memset(ds, 0, sizeof *ds);
    const int with_labels = src->labels_path[0] != '\0';
    if (!with_labels && !expect->labels_optional)
        return dt_fail(err, DT_DATA, "%s: no labels file given for these IDX images", src->path);

    DT_TRY(dt_read_file(src->path, &image_bytes, &n_image_bytes, &ds->files[0], err));
    ds->n_files = 1;
    DT_TRY(idx_parse(image_bytes, n_image_bytes, src->path, &images, err));
    if (with_labels) {
        DT_TRY(dt_read_file(src->labels_path, &label_bytes, &n_label_bytes, &ds->files[1], err));
        ds->n_files = 2;
        DT_TRY(idx_parse(label_bytes, n_label_bytes, src->labels_path, &labels, err));
    } else {
        labels = images; /* features only: a stand-in with one "label" per sample */
        labels.n_dims = 1;
    }
    DT_TRY(idx_check_shapes(&images, &labels, src, expect, &n_features, err));

    ds->n_samples = images.dims[0];
    ds->n_features = (int32_t)n_features;
    DT_TRY(dt_memory_check((int64_t)(images.n_elements * sizeof(float) + labels.n_elements * sizeof(float)), DT_DATA,
                           src->path, "its samples as float32", err));
    ds->features = malloc(images.n_elements * sizeof(float));
    if (with_labels && expect->n_classes > 0) ds->labels = malloc(labels.n_elements * sizeof(int32_t));
    else if (with_labels) ds->targets = malloc(labels.n_elements * sizeof(float)), ds->n_targets = 1;
    if (!ds->features || (with_labels && !ds->labels && !ds->targets)) {
        status = dt_fail(err, DT_NOMEM, "%s: out of memory for %lld samples", src->path, (long long)ds->n_samples);
        goto cleanup;
    }
    DT_TRY(idx_features(&images, n_features, src->path, ds->features, err));
    if (ds->labels) DT_TRY(idx_classes(&labels, expect->n_classes, src->labels_path, ds->labels, err));
    else if (ds->targets) DT_TRY(idx_targets(&labels, src->labels_path, ds->targets, err));

cleanup:
    free(image_bytes);
    free(label_bytes);
    if (status != DT_OK) dt_dataset_free(ds);
    return status;
}
