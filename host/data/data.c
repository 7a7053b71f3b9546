/* data.c — the dataset entry points: load dispatch and limit, whole-file reading with
 * in-memory gzip inflation, normalisation, and freeing.
 *
 * The format loaders live in data_idx.c, data_csv.c, data_h5.c and data_npy.c; each reads its files
 * with dt_read_file so that every byte that is parsed is also the byte that is hashed. */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/digest.h"
#include "core/fsutil.h"
#include "core/memory.h"
#include "npz.h"

/* ---- reading files ----------------------------------------------------------------- */

/* Reads all of the open `file` (dt_read_stream) once dt_memory_check says a regular file's
 * bytes fit: DT_DATA "<path>: needs 3.1 kB for reading the file, 2.0 kB available". */
static dt_status read_stream(FILE *file, const char *path, unsigned char **bytes, size_t *n_bytes,
                             dt_error *err) {
    struct stat info;
    if (fstat(fileno(file), &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
        const dt_status fits = dt_memory_check(info.st_size, DT_DATA, path, "reading the file", err);
        if (fits != DT_OK) return fits;
    }
    char *text = NULL;
    const dt_status status = dt_read_stream(file, path, 0, &text, n_bytes, err);
    if (status == DT_OK) *bytes = (unsigned char *)text;
    return status;
}

/* True when the bytes start with the gzip magic 1f 8b. */
static int is_gzip(const unsigned char *bytes, size_t n_bytes) {
    return n_bytes >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

/* Grows *out (capacity *cap) so at least one byte is free past `used`, keeping one byte
 * spare for a NUL. DT_NOMEM on failure (the old buffer stays owned by the caller). */
static dt_status grow_output(unsigned char **out, size_t *cap, size_t used, const char *path, dt_error *err) {
    if (used + 1 < *cap) return DT_OK;
    size_t grown = *cap * 2;
    const dt_status fits = dt_memory_check((int64_t)grown, DT_DATA, path, "its gzip data inflated", err);
    if (fits != DT_OK) return fits;
    unsigned char *bigger = grown > *cap ? realloc(*out, grown) : NULL;
    if (!bigger) return dt_fail(err, DT_NOMEM, "%s: out of memory inflating gzip data", path);
    *out = bigger;
    *cap = grown;
    return DT_OK;
}

/* First output allocation for inflating `in`: the last member's ISIZE (its size mod
 * 2^32) when plausible, since deflate expands at most ~1032:1; else 4x the input. */
static size_t inflated_size_hint(const unsigned char *in, size_t n_in) {
    size_t isize = n_in >= 18 ? ((size_t)in[n_in - 4] | (size_t)in[n_in - 3] << 8 | (size_t)in[n_in - 2] << 16 |
                                 (size_t)in[n_in - 1] << 24)
                              : 0;
    size_t most = n_in * 1032 + 64;
    return (isize > n_in ? (isize < most ? isize : most) : n_in * 4) + 2;
}

/* The status for an inflate() result that is neither progress nor the end of a member:
 * DT_DATA for a corrupt stream, DT_NOMEM, or DT_DATA when the input ran out (truncated). */
static dt_status inflate_failure(int rc, const z_stream *zs, size_t offset, const char *path, dt_error *err) {
    if (rc == Z_MEM_ERROR) return dt_fail(err, DT_NOMEM, "%s: out of memory inflating gzip data", path);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
        return dt_fail(err, DT_DATA, "%s: corrupt gzip data at compressed byte %zu (%s)", path, offset,
                       zs->msg ? zs->msg : "invalid stream");
    return dt_fail(err, DT_DATA, "%s: truncated gzip data: the file ends inside a compressed stream", path);
}

/* Inflates every gzip member of `in` (concatenated members are joined) into a malloc'ed
 * buffer with a NUL past its end. DT_DATA for corrupt, truncated or trailing data. */
static dt_status gunzip(const unsigned char *in, size_t n_in, const char *path, unsigned char **bytes,
                        size_t *n_bytes, dt_error *err) {
    dt_status status = DT_OK;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    size_t cap = inflated_size_hint(in, n_in), used = 0;
    size_t consumed = 0; /* input bytes of the members before the current one */
    status = dt_memory_check((int64_t)cap, DT_DATA, path, "its gzip data inflated", err);
    if (status != DT_OK) return status;
    unsigned char *out = malloc(cap);
    if (!out) return dt_fail(err, DT_NOMEM, "%s: out of memory inflating gzip data", path);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) { /* 16: expect a gzip wrapper */
        free(out);
        return dt_fail(err, DT_NOMEM, "%s: cannot start zlib inflate", path);
    }
    zs.next_in = (unsigned char *)in;
    for (;;) {
        /* zlib's counts are uInt: feed and drain at most 1 GiB per call. */
        size_t left_in = n_in - consumed - zs.total_in;
        zs.avail_in = left_in > (1u << 30) ? (1u << 30) : (uInt)left_in;
        DT_TRY(grow_output(&out, &cap, used, path, err));
        size_t room = cap - 1 - used;
        zs.next_out = out + used;
        zs.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        uInt before_out = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        used += before_out - zs.avail_out;
        if (rc == Z_STREAM_END) {
            consumed += zs.total_in;
            size_t rest = n_in - consumed;
            if (rest == 0) break;
            if (!is_gzip(in + consumed, rest)) {
                status = dt_fail(err, DT_DATA, "%s: corrupt gzip: %zu bytes of trailing garbage after the compressed data",
                                 path, rest);
                goto cleanup;
            }
            inflateReset(&zs); /* the next member; total_in restarts at 0 */
            zs.next_in = (unsigned char *)in + consumed;
        } else if ((rc != Z_OK && rc != Z_BUF_ERROR) || (consumed + zs.total_in >= n_in && zs.avail_out > 0)) {
            /* an error, or all input used with room left for output and no end in sight */
            status = inflate_failure(rc, &zs, consumed + (size_t)zs.total_in, path, err);
            goto cleanup;
        }
    }
    out[used] = '\0';
    *bytes = out;
    *n_bytes = used;
    out = NULL;
cleanup:
    inflateEnd(&zs);
    free(out);
    return status;
}

/* The buffer returned always has a NUL byte after its *n_bytes bytes (not counted), so
 * text parsers may hand a cell to strtod without copying it. */
dt_status dt_read_file(const char *path, unsigned char **bytes, size_t *n_bytes, dt_file_record *rec,
                       dt_error *err) {
    *bytes = NULL;
    *n_bytes = 0;
    memset(rec, 0, sizeof *rec);
    FILE *file = fopen(path, "rb");
    if (!file) return dt_fail(err, DT_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *raw = NULL;
    size_t n_raw = 0;
    dt_status status = read_stream(file, path, &raw, &n_raw, err);
    fclose(file);
    if (status != DT_OK) return status;

    snprintf(rec->path, sizeof rec->path, "%s", path);
    rec->size_bytes = (int64_t)n_raw;
    if (dt_sha256_hex(raw, n_raw, rec->sha256) != 0) {
        free(raw);
        memset(rec, 0, sizeof *rec);
        return dt_fail(err, DT_NOMEM, "%s: out of memory hashing the file", path);
    }
    if (!is_gzip(raw, n_raw)) {
        *bytes = raw;
        *n_bytes = n_raw;
        return DT_OK;
    }
    status = gunzip(raw, n_raw, path, bytes, n_bytes, err);
    free(raw);
    if (status != DT_OK) memset(rec, 0, sizeof *rec);
    return status;
}

/* ---- telling formats apart ---------------------------------------------------------- */

/* Whether the line [p, end) is a row of numbers: digits among separators (, ; tab space),
 * signs, points and exponents only. */
static int is_number_row(const unsigned char *p, const unsigned char *end) {
    int digits = 0;
    for (; p < end; p++) {
        if (!strchr("0123456789.,;\t -+eE\r", *p) || *p == '\0') return 0;
        digits |= *p >= '0' && *p <= '9';
    }
    return digits;
}

/* Whether the bytes start like CSV text: no control byte but tab, CR, LF in the first 512,
 * and among their lines a row of numbers (a header line of names may come first). */
static int looks_like_csv(const unsigned char *bytes, size_t n_bytes) {
    const size_t n = n_bytes < 512 ? n_bytes : 512;
    for (size_t i = 0; i < n; i++)
        if ((bytes[i] < 0x20 && bytes[i] != '\t' && bytes[i] != '\n' && bytes[i] != '\r') || bytes[i] == 0x7f) return 0;
    for (const unsigned char *line = bytes, *end = bytes + n; line < end;) {
        const unsigned char *newline = memchr(line, '\n', (size_t)(end - line));
        const unsigned char *stop = newline ? newline : end;
        if (is_number_row(line, stop)) return 1;
        line = stop + 1;
    }
    return 0;
}

/* Whether the bytes are a zip whose first member is named *.npy, or an empty zip: what
 * np.savez writes. (A local header is 30 bytes, then the member's name.) */
static int is_npz(const unsigned char *bytes, size_t n_bytes) {
    if (!dt_npz_is_zip(bytes, n_bytes)) return 0;
    if (bytes[2] == 5) return 1; /* "PK\5\6": the end record of an empty archive */
    const size_t name_len = n_bytes >= 30 ? (size_t)bytes[26] | (size_t)bytes[27] << 8 : 0;
    return name_len >= 4 && 30 + name_len <= n_bytes && memcmp(bytes + 30 + name_len - 4, ".npy", 4) == 0;
}

/* What the first bytes show a file to be ("a NumPy .npy file") and the format that reads it;
 * NULL when they show nothing certain. The bytes are as loaded: gzip already inflated. */
static const char *data_kind(const unsigned char *bytes, size_t n_bytes, dt_data_format *format) {
    static const unsigned char hdf5_magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (n_bytes >= 6 && memcmp(bytes, "\x93NUMPY", 6) == 0) return *format = DT_FORMAT_NPY, "a NumPy .npy file";
    if (is_npz(bytes, n_bytes)) return *format = DT_FORMAT_NPY, "a NumPy .npz archive";
    if (n_bytes >= 8 && memcmp(bytes, hdf5_magic, 8) == 0) return *format = DT_FORMAT_HDF5, "an HDF5 file";
    if (n_bytes >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[3] >= 1 &&
        (bytes[2] == 0x08 || bytes[2] == 0x09 || (bytes[2] >= 0x0B && bytes[2] <= 0x0E)))
        return *format = DT_FORMAT_IDX, "an IDX file";
    if (looks_like_csv(bytes, n_bytes)) return *format = DT_FORMAT_CSV, "a CSV text file";
    return NULL;
}

dt_status dt_data_misformat(const char *path, const unsigned char *bytes, size_t n_bytes, dt_data_format reading,
                            dt_error *err) {
    static const char *const format_titles[] = {"IDX", "CSV", "HDF5", "NumPy"}; /* dt_data_format order */
    dt_data_format format = reading;
    const char *kind = data_kind(bytes, n_bytes, &format);
    if (!kind || format == reading) return DT_OK;
    return dt_fail(err, DT_DATA, "%s: this is %s, not %s; use \"format\": \"%s\"", path, kind,
                   (unsigned)reading < 4 ? format_titles[reading] : dt_format_name(reading), dt_format_name(format));
}

/* ---- loading ------------------------------------------------------------------------ */

/* Keeps the first src->limit samples (0 = all). DT_DATA when the limit is negative or
 * exceeds the samples loaded. */
static dt_status apply_limit(dt_dataset *ds, const dt_data_source *src, dt_error *err) {
    if (src->limit < 0)
        return dt_fail(err, DT_DATA, "%s: limit %lld must not be negative", src->path, (long long)src->limit);
    if (src->limit == 0 || src->limit == ds->n_samples) return DT_OK;
    if (src->limit > ds->n_samples)
        return dt_fail(err, DT_DATA, "%s: limit %lld exceeds the %lld samples in the file", src->path,
                       (long long)src->limit, (long long)ds->n_samples);
    /* Shrinking never moves data we keep; a failed shrink keeps the larger block. */
    size_t n_keep = (size_t)src->limit;
    float *features = realloc(ds->features, n_keep * (size_t)ds->n_features * sizeof(float));
    if (features) ds->features = features;
    if (ds->labels) {
        int32_t *labels = realloc(ds->labels, n_keep * sizeof(int32_t));
        if (labels) ds->labels = labels;
    }
    if (ds->targets) {
        float *targets = realloc(ds->targets, n_keep * (size_t)ds->n_targets * sizeof(float));
        if (targets) ds->targets = targets;
    }
    ds->n_samples = src->limit;
    return DT_OK;
}

dt_status dt_dataset_load(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect,
                          dt_error *err) {
    memset(ds, 0, sizeof *ds);
    dt_status status;
    switch (src->format) {
    case DT_FORMAT_IDX: status = dt_load_idx(ds, src, expect, err); break;
    case DT_FORMAT_CSV: status = dt_load_csv(ds, src, expect, err); break;
    case DT_FORMAT_HDF5: status = dt_load_hdf5(ds, src, expect, err); break;
    case DT_FORMAT_NPY: status = dt_load_npy(ds, src, expect, err); break;
    default: return dt_fail(err, DT_INTERNAL, "%s: unknown data format %d", src->path, (int)src->format);
    }
    if (status == DT_OK) status = apply_limit(ds, src, err);
    if (status != DT_OK) dt_dataset_free(ds);
    return status;
}

void dt_dataset_free(dt_dataset *ds) {
    free(ds->features);
    free(ds->labels);
    free(ds->targets);
    memset(ds, 0, sizeof *ds);
}

/* ---- normalisation ------------------------------------------------------------------ */

/* x = x * scale + shift, as two rounded float operations (never fused). */
static void scale_features(dt_dataset *ds, float scale, float shift) {
    size_t n_values = (size_t)ds->n_samples * (size_t)ds->n_features;
    for (size_t i = 0; i < n_values; i++) {
        float scaled = ds->features[i] * scale;
        ds->features[i] = scaled + shift;
    }
}

void dt_dataset_feature_moments(const dt_dataset *ds, double *mean, double *std) {
    size_t n_features = (size_t)ds->n_features;
    for (size_t j = 0; j < n_features; j++) mean[j] = 0.0, std[j] = 0.0;
    for (int64_t i = 0; i < ds->n_samples; i++) {
        const float *row = ds->features + (size_t)i * n_features;
        for (size_t j = 0; j < n_features; j++) mean[j] += row[j];
    }
    for (size_t j = 0; j < n_features; j++) mean[j] /= (double)ds->n_samples;
    for (int64_t i = 0; i < ds->n_samples; i++) {
        const float *row = ds->features + (size_t)i * n_features;
        for (size_t j = 0; j < n_features; j++) {
            double centred = row[j] - mean[j];
            std[j] += centred * centred;
        }
    }
    for (size_t j = 0; j < n_features; j++) {
        std[j] = sqrt(std[j] / (double)ds->n_samples);
        if (std[j] == 0.0) std[j] = 1.0;
    }
}

/* x = (float)((x - mean) / std) per feature, in double. */
static void standardize_features(dt_dataset *ds, const double *mean, const double *std) {
    size_t n_features = (size_t)ds->n_features;
    for (int64_t i = 0; i < ds->n_samples; i++) {
        float *row = ds->features + (size_t)i * n_features;
        for (size_t j = 0; j < n_features; j++) row[j] = (float)((row[j] - mean[j]) / std[j]);
    }
}

/* DT_DATA naming the first non-finite feature of ds after normalising it. */
static dt_status check_normalized(const dt_dataset *ds, const char *how, dt_error *err) {
    size_t n_values = (size_t)ds->n_samples * (size_t)ds->n_features;
    for (size_t i = 0; i < n_values; i++)
        if (!isfinite(ds->features[i]))
            return dt_fail(err, DT_DATA, "%s: %s makes the feature at sample %zu, index %zu not finite (%g)",
                           ds->files[0].path, how, i / (size_t)ds->n_features, i % (size_t)ds->n_features,
                           (double)ds->features[i]);
    return DT_OK;
}

dt_status dt_dataset_standardize(dt_dataset *ds, const double *mean, const double *std, dt_error *err) {
    standardize_features(ds, mean, std);
    return check_normalized(ds, "standardize", err);
}

dt_status dt_dataset_normalize(dt_dataset *train, dt_dataset *test, dt_dataset *validation, const dt_config *cfg,
                               dt_error *err) {
    dt_dataset *others[2] = {test, validation};
    for (int d = 0; d < 2; d++)
        if (others[d] && others[d]->n_samples > 0 && others[d]->n_features != train->n_features)
            return dt_fail(err, DT_DATA, "%s: %s samples have %d features, training samples have %d",
                           others[d]->files[0].path, d ? "validation" : "test", others[d]->n_features, train->n_features);
    if (cfg->data.normalize == DT_NORM_NONE) return DT_OK;
    if (cfg->data.normalize != DT_NORM_SCALE && cfg->data.normalize != DT_NORM_STANDARDIZE)
        return dt_fail(err, DT_INTERNAL, "unknown normalisation %d", (int)cfg->data.normalize);
    const int scale = cfg->data.normalize == DT_NORM_SCALE;
    if (!scale && (train->n_samples <= 0 || train->n_features <= 0))
        return dt_fail(err, DT_DATA, "%s: cannot standardize an empty training set", train->files[0].path);
    double *moments = scale ? NULL : malloc(2 * (size_t)train->n_features * sizeof(double));
    if (!scale && !moments) return dt_fail(err, DT_NOMEM, "out of memory standardizing features");
    double *mean = moments, *std = scale ? NULL : moments + train->n_features;
    if (!scale) dt_dataset_feature_moments(train, mean, std);
    dt_dataset *sets[3] = {train, test, validation};
    dt_status status = DT_OK;
    for (int d = 0; d < 3; d++) {
        if (!sets[d]) continue;
        if (scale) scale_features(sets[d], cfg->data.scale, cfg->data.shift);
        else standardize_features(sets[d], mean, std);
    }
    for (int d = 0; d < 3 && status == DT_OK; d++)
        if (sets[d]) status = check_normalized(sets[d], scale ? "data.scale/data.shift" : "standardize", err);
    free(moments);
    return status;
}
