/* data_npy.c — NumPy arrays: .npy files (np.save) and uncompressed .npz archives (np.savez).
 *
 * A .npy file is the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), a little-endian header
 * length (2 bytes in 1.0, 4 after), a header that is a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), } padded with spaces and ending
 * in '\n', then the elements in the header's byte order, C order (or Fortran order: read
 * transposed). Features are a 2-D array (n_samples, n_features); labels a 1-D array
 * (n_samples), or (n_samples, n_targets) for regression. Element types: float32, float64,
 * signed and unsigned integers of 1 to 8 bytes and bool, either byte order. The format is
 * told by the magic, not the file name; a .npz's arrays are its members named by the
 * source's features_array and labels_array (npz.c). */
#include "data.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"
#include "npz.h"

#define NPY_MAX_DIMS 32

/* A parsed .npy array; `data` points into the file's bytes. */
typedef struct {
    char kind;                  /* 'f' float, 'i' signed, 'u' unsigned integer, 'b' bool */
    int big_endian;
    size_t item_size;
    int fortran_order;
    int n_dims;
    uint64_t dims[NPY_MAX_DIMS];
    uint64_t n_elements;
    const unsigned char *data;
} npy_array;

/* What a message names: the file, or the file and the .npz member ("x.npz: array 'labels'"). */
typedef struct {
    char text[DT_PATH_MAX + DT_NAME_MAX + 16];
} npy_where;

/* Walks the header's dict literal. */
typedef struct {
    const char *at, *end;
} header_cursor;

/* ---- the header ---------------------------------------------------------------------- */

/* Skips spaces (and the final newline) in the header. */
static void skip_space(header_cursor *c) {
    while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\n' || *c->at == '\r')) c->at++;
}

/* Reads a quoted Python string ('x' or "x") of printable ASCII without escapes, as every key
 * and dtype of a .npy header is, into out; -1 when malformed or too long. */
static int read_quoted(header_cursor *c, char *out, size_t cap) {
    skip_space(c);
    if (c->at >= c->end || (*c->at != '\'' && *c->at != '"')) return -1;
    const char quote = *c->at++;
    size_t n = 0;
    while (c->at < c->end && *c->at != quote) {
        if (*c->at == '\\' || *c->at < 0x20 || *c->at > 0x7e || n + 1 >= cap) return -1;
        out[n++] = *c->at++;
    }
    if (c->at >= c->end) return -1;
    c->at++;
    out[n] = '\0';
    return 0;
}

/* Reads the literal `word` (True, False) when it comes next; 1 when it did. */
static int read_word(header_cursor *c, const char *word) {
    skip_space(c);
    const size_t n = strlen(word);
    if ((size_t)(c->end - c->at) < n || memcmp(c->at, word, n) != 0) return 0;
    c->at += n;
    return 1;
}

/* Reads the shape tuple "(3, 4)", "(3,)" or "()" into a; -1 when malformed or too large. */
static int read_shape(header_cursor *c, npy_array *a) {
    if (!read_word(c, "(")) return -1;
    a->n_dims = 0;
    for (;;) {
        if (read_word(c, ")")) return 0;
        if (a->n_dims == NPY_MAX_DIMS || c->at >= c->end || *c->at < '0' || *c->at > '9') return -1;
        uint64_t dim = 0;
        while (c->at < c->end && *c->at >= '0' && *c->at <= '9')
            if (__builtin_mul_overflow(dim, 10, &dim) || __builtin_add_overflow(dim, (uint64_t)(*c->at++ - '0'), &dim))
                return -1;
        a->dims[a->n_dims++] = dim;
        if (read_word(c, ",")) continue;
        return read_word(c, ")") ? 0 : -1;
    }
}

/* The element type of a descr such as "<f4", ">i8", "|u1"; DT_DATA naming what is not read. */
static dt_status read_descr(const char *descr, const npy_where *where, npy_array *a, dt_error *err) {
    const char order = descr[0], kind = descr[0] ? descr[1] : 0;
    char *rest = NULL;
    const long size = kind ? strtol(descr + 2, &rest, 10) : 0;
    const int sized = rest && rest != descr + 2 && *rest == '\0';
    const int known = sized && ((kind == 'f' && (size == 4 || size == 8)) || (kind == 'b' && size == 1) ||
                                ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)));
    if (!strchr("<>|=", order) || !order || !known) {
        const char *what = kind == 'f' && size == 2 ? "float16"
                           : kind == 'c'             ? "complex"
                           : kind == 'O'             ? "Python object"
                           : kind == 'U' || kind == 'S' ? "string"
                           : kind == 'M' || kind == 'm' ? "date/time"
                                                       : "unsupported";
        return dt_fail(err, DT_DATA, "%s: holds %s values (dtype '%s'), expected float32, float64, (unsigned) "
                       "integers or bool; convert with .astype(np.float32)", where->text, what, descr);
    }
    if (order == '|' && size != 1)
        return dt_fail(err, DT_DATA, "%s: dtype '%s' has no byte order for a %ld-byte type", where->text, descr, size);
    a->kind = kind;
    a->item_size = (size_t)size;
    a->big_endian = order == '>';
    return DT_OK;
}

/* Reads one "'key': value" of the dict into a; `seen` collects the keys (bits 0..2). */
static dt_status read_item(header_cursor *c, const npy_where *where, npy_array *a, unsigned *seen, dt_error *err) {
    char key[32], descr[64];
    if (read_quoted(c, key, sizeof key) != 0 || !read_word(c, ":"))
        return dt_fail(err, DT_DATA, "%s: malformed .npy header (expected 'key': value)", where->text);
    const unsigned bit = !strcmp(key, "descr") ? 1u : !strcmp(key, "fortran_order") ? 2u : !strcmp(key, "shape") ? 4u : 0;
    if (!bit || (*seen & bit))
        return dt_fail(err, DT_DATA, "%s: .npy header has %s key '%s'", where->text, bit ? "a second" : "an unexpected",
                       key);
    *seen |= bit;
    if (bit == 1) {
        skip_space(c);
        if (c->at < c->end && *c->at == '[')
            return dt_fail(err, DT_DATA, "%s: holds a structured array (a dtype with fields), expected one numeric "
                           "type; save a plain 2-D array", where->text);
        if (read_quoted(c, descr, sizeof descr) != 0)
            return dt_fail(err, DT_DATA, "%s: malformed .npy header: 'descr' is not a dtype string", where->text);
        return read_descr(descr, where, a, err);
    }
    if (bit == 2) {
        a->fortran_order = read_word(c, "True");
        if (!a->fortran_order && !read_word(c, "False"))
            return dt_fail(err, DT_DATA, "%s: malformed .npy header: 'fortran_order' is not True or False", where->text);
        return DT_OK;
    }
    if (read_shape(c, a) != 0)
        return dt_fail(err, DT_DATA, "%s: malformed .npy header: 'shape' is not a tuple of at most %d sizes",
                       where->text, NPY_MAX_DIMS);
    return DT_OK;
}

/* Parses the header dict text [at, end) into a. */
static dt_status parse_header(const char *at, const char *end, const npy_where *where, npy_array *a, dt_error *err) {
    header_cursor c = {at, end};
    unsigned seen = 0;
    if (!read_word(&c, "{"))
        return dt_fail(err, DT_DATA, "%s: malformed .npy header: not a dict literal", where->text);
    while (!read_word(&c, "}")) {
        const dt_status status = read_item(&c, where, a, &seen, err);
        if (status != DT_OK) return status;
        if (!read_word(&c, ",") && !(skip_space(&c), c.at < c.end && *c.at == '}'))
            return dt_fail(err, DT_DATA, "%s: malformed .npy header (expected ',' or '}')", where->text);
    }
    skip_space(&c);
    if (c.at != c.end) return dt_fail(err, DT_DATA, "%s: malformed .npy header: text after the dict", where->text);
    if (seen != 7)
        return dt_fail(err, DT_DATA, "%s: .npy header lacks '%s'", where->text,
                       !(seen & 1) ? "descr" : !(seen & 2) ? "fortran_order" : "shape");
    return DT_OK;
}

/* Checks magic, version and header of a .npy file in memory, and that the data after the
 * header is exactly what the shape and type declare; fills a. */
static dt_status npy_parse(const unsigned char *bytes, size_t n_bytes, const npy_where *where, npy_array *a,
                           dt_error *err) {
    memset(a, 0, sizeof *a);
    if (n_bytes < 10 || memcmp(bytes, "\x93NUMPY", 6) != 0)
        return dt_fail(err, DT_DATA, "%s: %s", where->text,
                       n_bytes < 10 && n_bytes > 0 && !memcmp(bytes, "\x93NUMPY", n_bytes < 6 ? n_bytes : 6)
                           ? "truncated: the file ends before the .npy header"
                           : "not a .npy file (it does not start with the magic \\x93NUMPY)");
    const unsigned major = bytes[6], minor = bytes[7];
    if (major < 1 || major > 3 || minor != 0)
        return dt_fail(err, DT_DATA, "%s: .npy format version %u.%u, expected 1.0, 2.0 or 3.0", where->text, major,
                       minor);
    const size_t start = major == 1 ? 10 : 12;
    if (n_bytes < start) return dt_fail(err, DT_DATA, "%s: truncated: the file ends inside the .npy header", where->text);
    const size_t header_len = major == 1 ? (size_t)bytes[8] | (size_t)bytes[9] << 8
                                         : (size_t)bytes[8] | (size_t)bytes[9] << 8 | (size_t)bytes[10] << 16 |
                                               (size_t)bytes[11] << 24;
    if (n_bytes - start < header_len)
        return dt_fail(err, DT_DATA, "%s: truncated: the .npy header declares %zu bytes, the file has %zu after the "
                       "magic", where->text, header_len, n_bytes - start);
    const char *header = (const char *)bytes + start;
    const dt_status status = parse_header(header, header + header_len, where, a, err);
    if (status != DT_OK) return status;
    uint64_t data_bytes = 0;
    int overflow = 0;
    a->n_elements = 1;
    for (int i = 0; i < a->n_dims; i++) overflow |= __builtin_mul_overflow(a->n_elements, a->dims[i], &a->n_elements);
    overflow |= __builtin_mul_overflow(a->n_elements, (uint64_t)a->item_size, &data_bytes);
    const size_t have = n_bytes - start - header_len;
    if (overflow)
        return dt_fail(err, DT_DATA, "%s: truncated: the header declares more than 2^64 bytes of data, the file has "
                       "%zu", where->text, have);
    if (data_bytes > have)
        return dt_fail(err, DT_DATA, "%s: truncated: the header declares %llu bytes of data, the file has %zu",
                       where->text, (unsigned long long)data_bytes, have);
    if (data_bytes < have)
        return dt_fail(err, DT_DATA, "%s: has %llu bytes beyond the data the header declares", where->text,
                       (unsigned long long)(have - data_bytes));
    a->data = bytes + start + header_len;
    return DT_OK;
}

/* ---- the elements -------------------------------------------------------------------- */

/* The file index of logical element (row, col) of a 1-D or 2-D array (col 0 for 1-D). */
static uint64_t element_index(const npy_array *a, uint64_t row, uint64_t col) {
    if (a->n_dims < 2) return row;
    return a->fortran_order ? col * a->dims[0] + row : row * a->dims[1] + col;
}

/* The bits of the element at file index i as an unsigned integer, read in its byte order. */
static uint64_t element_bits(const npy_array *a, uint64_t i) {
    const unsigned char *p = a->data + i * a->item_size;
    uint64_t bits = 0;
    for (size_t k = 0; k < a->item_size; k++) bits = bits << 8 | p[a->big_endian ? k : a->item_size - 1 - k];
    return bits;
}

/* The element at file index i as a float, rounded once from its exact value (an int64 goes
 * straight to float, never through double); *wide: the value as a double, for the checks. */
static float element_float(const npy_array *a, uint64_t i, double *wide) {
    const uint64_t bits = element_bits(a, i);
    if (a->kind == 'f' && a->item_size == 4) {
        const uint32_t bits32 = (uint32_t)bits;
        float value;
        memcpy(&value, &bits32, sizeof value);
        *wide = value;
        return value;
    }
    if (a->kind == 'f') {
        double value;
        memcpy(&value, &bits, sizeof value);
        *wide = value;
        return (float)value;
    }
    if (a->kind == 'i') {
        const uint64_t sign = (uint64_t)1 << (8 * a->item_size - 1);
        /* two's complement: bits - 2^(8 size), written so that no step overflows */
        const int64_t value = (bits & sign) ? (int64_t)(bits & (sign - 1)) - (int64_t)(sign - 1) - 1 : (int64_t)bits;
        *wide = (double)value;
        return (float)value;
    }
    *wide = (double)bits; /* 'u', 'b' */
    return (float)bits;
}

/* Converts the features (n_samples, n_features) to float32, row-major; DT_DATA naming the
 * first value that is not finite or lies outside the float range. */
static dt_status convert_features(const npy_array *a, const npy_where *where, float *features, dt_error *err) {
    const uint64_t n_rows = a->dims[0], n_cols = a->dims[1];
    for (uint64_t row = 0; row < n_rows; row++)
        for (uint64_t col = 0; col < n_cols; col++) {
            double wide;
            const float value = element_float(a, element_index(a, row, col), &wide);
            if (!isfinite(wide) || fabs(wide) > FLT_MAX)
                return dt_fail(err, DT_DATA, "%s: feature at sample %llu, index %llu is %s (%g)", where->text,
                               (unsigned long long)row, (unsigned long long)col,
                               isfinite(wide) ? "outside the float range" : "not finite", wide);
            features[row * n_cols + col] = value;
        }
    return DT_OK;
}

/* Converts the labels: class indices in [0, n_classes) into ds->labels, or finite float
 * targets into ds->targets (n_samples, n_targets) when n_classes is 0. */
static dt_status convert_labels(dt_dataset *ds, const npy_array *a, int32_t n_classes, const npy_where *where,
                                dt_error *err) {
    const uint64_t n_cols = a->n_dims == 2 ? a->dims[1] : 1;
    for (uint64_t row = 0; row < (uint64_t)ds->n_samples; row++)
        for (uint64_t col = 0; col < n_cols; col++) {
            const uint64_t i = row * n_cols + col;
            double value;
            const float as_float = element_float(a, element_index(a, row, col), &value);
            if (n_classes <= 0) {
                if (!isfinite(value) || fabs(value) > FLT_MAX)
                    return dt_fail(err, DT_DATA, "%s: target %g at index %llu is not a finite float", where->text,
                                   value, (unsigned long long)i);
                ds->targets[i] = as_float;
            } else if (value != floor(value)) {
                return dt_fail(err, DT_DATA, "%s: label %.17g at index %llu is not an integer", where->text, value,
                               (unsigned long long)i);
            } else if (!(value >= 0 && value < n_classes)) {
                return dt_fail(err, DT_DATA, "%s: label %.17g at index %llu is outside [0, %d), the output layer's "
                               "units (model.layers[-1].units)", where->text, value, (unsigned long long)i, n_classes);
            } else {
                ds->labels[i] = (int32_t)value;
            }
        }
    return DT_OK;
}

/* ---- loading ------------------------------------------------------------------------- */

/* An array's shape as Python prints it: "(10,)", "(10, 4)", "()". */
static void shape_text(const npy_array *a, char *out, size_t cap) {
    size_t used = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < a->n_dims && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%llu", i ? ", " : "", (unsigned long long)a->dims[i]);
    if (used < cap) snprintf(out + used, cap - used, "%s)", a->n_dims == 1 ? "," : "");
}

/* Checks the features' shape against expect: (n_samples, n_features), n_samples > 0. */
static dt_status check_features(const npy_array *a, const npy_where *where, const dt_data_expect *expect,
                                dt_error *err) {
    char shape[160];
    shape_text(a, shape, sizeof shape);
    if (a->n_dims != 2)
        return dt_fail(err, DT_DATA, "%s: features have shape %s, expected 2 dimensions (samples, features)%s",
                       where->text, shape, a->n_dims == 1 ? "; one feature per sample is x.reshape(-1, 1)" : "");
    if (a->dims[0] == 0) return dt_fail(err, DT_DATA, "%s: contains no samples (shape %s)", where->text, shape);
    if (a->dims[1] != (uint64_t)(expect->n_features > 0 ? expect->n_features : 0) || a->dims[1] == 0)
        return dt_fail(err, DT_DATA, "%s: samples have %llu features, model.input_size is %d", where->text,
                       (unsigned long long)a->dims[1], expect->n_features);
    return DT_OK;
}

/* Checks the labels' shape: (n_samples), or (n_samples, n_targets) for regression. */
static dt_status check_labels(const npy_array *a, const npy_where *where, const npy_array *features,
                              const npy_where *features_where, const dt_data_expect *expect, dt_error *err) {
    char shape[160];
    shape_text(a, shape, sizeof shape);
    const int regression = expect->n_classes <= 0;
    if (a->n_dims != 1 && !(regression && a->n_dims == 2))
        return dt_fail(err, DT_DATA, "%s: labels have shape %s, expected %s%s", where->text, shape,
                       regression ? "(samples) or (samples, targets)" : "(samples)",
                       a->n_dims == 2 && a->dims[1] == 1 ? "; save labels.ravel()" : "");
    if (a->dims[0] != features->dims[0])
        return dt_fail(err, DT_DATA, "%s: has %llu samples but %s has %llu labels", features_where->text,
                       (unsigned long long)features->dims[0], where->text, (unsigned long long)a->dims[0]);
    if (a->n_dims == 2 && (a->dims[1] == 0 || a->dims[1] > INT32_MAX))
        return dt_fail(err, DT_DATA, "%s: labels have shape %s: %llu targets per sample", where->text, shape,
                       (unsigned long long)a->dims[1]);
    return DT_OK;
}

/* s for a message, each control byte as '?', so that the message stays one line. */
static void printable(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++) out[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    out[n] = '\0';
}

/* Finds the array to read in a file's bytes: the file itself for a .npy, the member `array`
 * for a .npz. *found 0 (and DT_OK) when the .npz has no such member and it is `optional`. */
static dt_status find_array(const unsigned char *bytes, size_t n_bytes, const char *path, const char *array,
                            int optional, npy_where *where, npy_array *a, int *found, dt_error *err) {
    *found = 0;
    snprintf(where->text, sizeof where->text, "%s", path);
    if (dt_npz_is_zip(bytes, n_bytes)) {
        const unsigned char *member = NULL;
        size_t n_member = 0;
        char names[512], shown[DT_NAME_MAX];
        const dt_status status = dt_npz_find(bytes, n_bytes, path, array, &member, &n_member, names, sizeof names, err);
        if (status != DT_OK) return status;
        if (!member && optional) return DT_OK;
        printable(array, shown, sizeof shown);
        if (!member)
            return dt_fail(err, DT_DATA, "%s: no array '%s' (the archive holds %s; name yours with the source's "
                           "features_array and labels_array)", path, shown, names);
        snprintf(where->text, sizeof where->text, "%s: array '%s'", path, shown);
        *found = 1;
        return npy_parse(member, n_member, where, a, err);
    }
    const dt_status other = dt_data_misformat(path, bytes, n_bytes, DT_FORMAT_NPY, err);
    if (other != DT_OK) return other;
    *found = 1;
    return npy_parse(bytes, n_bytes, where, a, err);
}

/* Sets the shape of ds and allocates its features and its labels (classes) or targets. */
static dt_status allocate(dt_dataset *ds, const npy_array *features, const npy_array *labels,
                          const dt_data_expect *expect, const char *path, dt_error *err) {
    ds->n_samples = (int64_t)features->dims[0];
    ds->n_features = (int32_t)features->dims[1];
    const uint64_t n_values = labels ? labels->n_elements : 0; /* both <= the file's bytes: no overflow */
    const dt_status fits = dt_memory_check((int64_t)((features->n_elements + n_values) * sizeof(float)), DT_DATA, path,
                                           "its samples as float32", err);
    if (fits != DT_OK) return fits;
    ds->features = malloc(features->n_elements * sizeof(float));
    if (labels && expect->n_classes > 0) {
        ds->labels = malloc(n_values * sizeof(int32_t));
    } else if (labels) {
        ds->targets = malloc(n_values * sizeof(float));
        ds->n_targets = labels->n_dims == 2 ? (int32_t)labels->dims[1] : 1;
    }
    if (!ds->features || (labels && !ds->labels && !ds->targets))
        return dt_fail(err, DT_NOMEM, "%s: out of memory for %lld samples", path, (long long)ds->n_samples);
    return DT_OK;
}

dt_status dt_load_npy(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err) {
    dt_status status = DT_OK;
    unsigned char *bytes = NULL, *label_bytes = NULL;
    size_t n_bytes = 0, n_label_bytes = 0;
    npy_array features, labels;
    npy_where features_where, labels_where;
    int found = 0, has_labels = 0;
    memset(ds, 0, sizeof *ds);
    DT_TRY(dt_read_file(src->path, &bytes, &n_bytes, &ds->files[0], err));
    ds->n_files = 1;
    DT_TRY(find_array(bytes, n_bytes, src->path, src->features_array, 0, &features_where, &features, &found, err));
    if (src->labels_path[0]) {
        DT_TRY(dt_read_file(src->labels_path, &label_bytes, &n_label_bytes, &ds->files[1], err));
        ds->n_files = 2;
        DT_TRY(find_array(label_bytes, n_label_bytes, src->labels_path, src->labels_array, 0, &labels_where, &labels,
                          &has_labels, err));
    } else if (dt_npz_is_zip(bytes, n_bytes)) {
        DT_TRY(find_array(bytes, n_bytes, src->path, src->labels_array, expect->labels_optional, &labels_where,
                          &labels, &has_labels, err));
    } else if (!expect->labels_optional) {
        status = dt_fail(err, DT_DATA, "%s: no labels for these NumPy features: set the source's labels to a .npy "
                         "file of labels, or save both arrays in one .npz (np.savez)", src->path);
        goto cleanup;
    }
    DT_TRY(check_features(&features, &features_where, expect, err));
    if (has_labels) DT_TRY(check_labels(&labels, &labels_where, &features, &features_where, expect, err));
    DT_TRY(allocate(ds, &features, has_labels ? &labels : NULL, expect, src->path, err));
    DT_TRY(convert_features(&features, &features_where, ds->features, err));
    if (has_labels) DT_TRY(convert_labels(ds, &labels, expect->n_classes, &labels_where, err));
cleanup:
    free(bytes);
    free(label_bytes);
    if (status != DT_OK) dt_dataset_free(ds);
    return status;
}
