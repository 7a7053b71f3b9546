/* test_data.c — the data loaders on small files written here (IDX raw and gzip, CSV with
 * each delimiter, HDF5, NumPy .npy and .npz), a table of malformed files that must each fail
 * with one precise line, the normalisations, and (when present) the real Fashion-MNIST files.
 * tests/npy.sh checks the NumPy reader against files NumPy itself writes.
 *
 * Everything is written into a fresh mkdtemp directory that is removed at the end. */
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "data/data.h"
#include "core/digest.h"
#include "test.h"

static char tmp_dir[] = "/tmp/dt_test_data_XXXXXX";

/* ---- writing test files -------------------------------------------------------------- */

/* tmp_dir/name in one of a few rotating static buffers (valid for a few calls). */
static const char *tmp_path(const char *name) {
    static char paths[8][DT_PATH_MAX];
    static int next = 0;
    char *path = paths[next++ % 8];
    snprintf(path, DT_PATH_MAX, "%s/%s", tmp_dir, name);
    return path;
}

/* Writes n_bytes to tmp_dir/name; a failure here is a failed check. */
static void write_file(const char *name, const void *bytes, size_t n_bytes) {
    FILE *file = fopen(tmp_path(name), "wb");
    CHECK(file != NULL);
    if (!file) return;
    CHECK(fwrite(bytes, 1, n_bytes, file) == n_bytes);
    CHECK(fclose(file) == 0);
}

static void write_text(const char *name, const char *text) { write_file(name, text, strlen(text)); }

/* Writes bytes as one gzip member (mode "wb") or appends another member (mode "ab"). */
static void write_gz(const char *name, const void *bytes, size_t n_bytes, const char *mode) {
    gzFile file = gzopen(tmp_path(name), mode);
    CHECK(file != NULL);
    if (!file) return;
    CHECK(gzwrite(file, bytes, (unsigned)n_bytes) == (int)n_bytes);
    CHECK(gzclose(file) == Z_OK);
}

/* Reads a whole test file into a malloc'ed buffer; NULL when it cannot. */
static unsigned char *slurp(const char *path, size_t *n_bytes) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)size + 1);
    *n_bytes = bytes ? fread(bytes, 1, (size_t)size, file) : 0;
    fclose(file);
    return bytes;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

/* An IDX file in out: header (type, dims) then `data` copied as given (already big-endian).
 * Returns its size. */
static size_t make_idx(unsigned char *out, int type, int n_dims, const uint32_t *dims, const void *data,
                       size_t data_bytes) {
    out[0] = 0, out[1] = 0, out[2] = (unsigned char)type, out[3] = (unsigned char)n_dims;
    for (int i = 0; i < n_dims; i++) put_be32(out + 4 + 4 * i, dims[i]);
    if (data_bytes) memcpy(out + 4 + 4 * n_dims, data, data_bytes);
    return 4 + 4 * (size_t)n_dims + data_bytes;
}

/* Writes an IDX file to tmp_dir/name (see make_idx). */
static void write_idx(const char *name, int type, int n_dims, const uint32_t *dims, const void *data,
                      size_t data_bytes) {
    unsigned char buffer[512];
    write_file(name, buffer, make_idx(buffer, type, n_dims, dims, data, data_bytes));
}

/* Float32 values as big-endian IDX bytes. out: (4 * n). */
static void floats_be(const float *values, size_t n, unsigned char *out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], 4);
        put_be32(out + 4 * i, bits);
    }
}

/* A .npy file in out: magic, version (1, 2 or 3), the header dict text padded with spaces to
 * a multiple of 64 bytes and ended by '\n', then `data` as given. Returns its size. */
static size_t make_npy(unsigned char *out, int version, const char *dict, const void *data, size_t data_bytes) {
    const size_t prefix = version == 1 ? 10 : 12;
    size_t n = strlen(dict);
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)version, out[7] = 0;
    memcpy(out + prefix, dict, n);
    while ((prefix + n + 1) % 64) out[prefix + n++] = ' ';
    out[prefix + n++] = '\n';
    for (size_t i = 0; i < prefix - 8; i++) out[8 + i] = (unsigned char)(n >> (8 * i));
    memcpy(out + prefix + n, data, data_bytes);
    return prefix + n + data_bytes;
}

/* Writes a .npy file to tmp_dir/name (see make_npy). */
static void write_npy(const char *name, int version, const char *dict, const void *data, size_t data_bytes) {
    unsigned char buffer[1024];
    write_file(name, buffer, make_npy(buffer, version, dict, data, data_bytes));
}

static void put_le(unsigned char *p, uint64_t v, int n_bytes) {
    for (int i = 0; i < n_bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A zip archive of stored members in out, as NumPy writes it but with the zip64 records a
 * >4 GiB archive needs (sizes and offsets in zip64 extra fields, a zip64 end record and its
 * locator) when `zip64`. Returns its size. */
static size_t make_zip(unsigned char *out, int n_members, const char *const *names, unsigned char *const *data,
                       const size_t *sizes, int zip64) {
    size_t at = 0, offsets[4], directory;
    for (int m = 0; m < n_members; m++) {
        const size_t name_len = strlen(names[m]);
        offsets[m] = at;
        memcpy(out + at, "PK\x03\x04", 4);
        memset(out + at + 4, 0, 26);
        put_le(out + at + 14, crc32(0, data[m], (uInt)sizes[m]), 4);
        put_le(out + at + 18, sizes[m], 4), put_le(out + at + 22, sizes[m], 4), put_le(out + at + 26, name_len, 2);
        memcpy(out + at + 30, names[m], name_len);
        memcpy(out + at + 30 + name_len, data[m], sizes[m]);
        at += 30 + name_len + sizes[m];
    }
    directory = at;
    for (int m = 0; m < n_members; m++) {
        const size_t name_len = strlen(names[m]);
        memcpy(out + at, "PK\x01\x02", 4);
        memset(out + at + 4, 0, 42);
        put_le(out + at + 16, crc32(0, data[m], (uInt)sizes[m]), 4);
        put_le(out + at + 20, zip64 ? 0xFFFFFFFF : sizes[m], 4), put_le(out + at + 24, zip64 ? 0xFFFFFFFF : sizes[m], 4);
        put_le(out + at + 28, name_len, 2), put_le(out + at + 30, zip64 ? 28 : 0, 2);
        put_le(out + at + 42, zip64 ? 0xFFFFFFFF : offsets[m], 4);
        memcpy(out + at + 46, names[m], name_len);
        at += 46 + name_len;
        if (zip64) { /* id 1, 24 bytes: uncompressed size, compressed size, local header offset */
            put_le(out + at, 1, 2), put_le(out + at + 2, 24, 2), put_le(out + at + 4, sizes[m], 8);
            put_le(out + at + 12, sizes[m], 8), put_le(out + at + 20, offsets[m], 8);
            at += 28;
        }
    }
    const size_t directory_size = at - directory, zip64_end = at;
    if (zip64) {
        memcpy(out + at, "PK\x06\x06", 4), memset(out + at + 4, 0, 52), put_le(out + at + 4, 44, 8);
        put_le(out + at + 24, (uint64_t)n_members, 8), put_le(out + at + 32, (uint64_t)n_members, 8);
        put_le(out + at + 40, directory_size, 8), put_le(out + at + 48, directory, 8);
        at += 56;
        memcpy(out + at, "PK\x06\x07", 4), memset(out + at + 4, 0, 16), put_le(out + at + 8, zip64_end, 8);
        put_le(out + at + 16, 1, 4);
        at += 20;
    }
    memcpy(out + at, "PK\x05\x06", 4), memset(out + at + 4, 0, 18);
    put_le(out + at + 8, zip64 ? 0xFFFF : (uint64_t)n_members, 2), put_le(out + at + 10, zip64 ? 0xFFFF : (uint64_t)n_members, 2);
    put_le(out + at + 12, zip64 ? 0xFFFFFFFF : directory_size, 4), put_le(out + at + 16, zip64 ? 0xFFFFFFFF : directory, 4);
    return at + 22;
}

/* Adds dataset `name` of shape dims (rank) to an open HDF5 file. */
static void h5_put(hid_t file, const char *name, hid_t file_type, hid_t mem_type, int rank, const hsize_t *dims,
                   const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dataset = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(space >= 0 && dataset >= 0);
    CHECK(H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(dataset);
    H5Sclose(space);
}

static hid_t h5_create(const char *name) {
    hid_t file = H5Fcreate(tmp_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(file >= 0);
    return file;
}

/* ---- sources and checks -------------------------------------------------------------- */

static dt_data_source idx_source(const char *images, const char *labels) {
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_IDX;
    snprintf(src.path, sizeof src.path, "%s", tmp_path(images));
    snprintf(src.labels_path, sizeof src.labels_path, "%s", tmp_path(labels));
    return src;
}

static dt_data_source csv_source(const char *name, bool header, const char *label_column) {
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_CSV;
    snprintf(src.path, sizeof src.path, "%s", tmp_path(name));
    src.header = header;
    snprintf(src.label_column, sizeof src.label_column, "%s", label_column);
    return src;
}

static dt_data_source h5_source(const char *name, const char *features, const char *labels) {
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_HDF5;
    snprintf(src.path, sizeof src.path, "%s", tmp_path(name));
    snprintf(src.features_dataset, sizeof src.features_dataset, "%s", features);
    snprintf(src.labels_dataset, sizeof src.labels_dataset, "%s", labels);
    return src;
}

static dt_data_source npy_source(const char *name, const char *labels) {
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_NPY;
    snprintf(src.path, sizeof src.path, "%s", tmp_path(name));
    if (labels) snprintf(src.labels_path, sizeof src.labels_path, "%s", tmp_path(labels));
    snprintf(src.features_array, sizeof src.features_array, "features");
    snprintf(src.labels_array, sizeof src.labels_array, "labels");
    return src;
}

/* Loads src; a failure is reported and leaves ds zeroed. */
static dt_status load(dt_dataset *ds, const dt_data_source *src, int32_t n_features, int32_t n_classes) {
    dt_data_expect expect = {n_features, n_classes, 0};
    dt_error err = {""};
    dt_status status = dt_dataset_load(ds, src, &expect, &err);
    if (status != DT_OK) fprintf(stderr, "unexpected failure: %s\n", err.message);
    CHECK_EQ_INT(status, DT_OK);
    return status;
}

/* The record of file i equals the size and SHA-256 of the bytes on disk at path. */
static void check_record(const dt_dataset *ds, int i, const char *path) {
    size_t n_bytes = 0;
    unsigned char *bytes = slurp(path, &n_bytes);
    char hex[65];
    CHECK(bytes != NULL && dt_sha256_hex(bytes, n_bytes, hex) == 0);
    CHECK(i < ds->n_files);
    CHECK(strcmp(ds->files[i].path, path) == 0);
    CHECK_EQ_INT(ds->files[i].size_bytes, n_bytes);
    CHECK(strcmp(ds->files[i].sha256, hex) == 0);
    free(bytes);
}

/* ds holds exactly these features (n_samples, n_features) and labels. */
static void check_values(const dt_dataset *ds, int64_t n_samples, int32_t n_features, const float *features,
                         const int32_t *labels) {
    CHECK_EQ_INT(ds->n_samples, n_samples);
    CHECK_EQ_INT(ds->n_features, n_features);
    if (ds->n_samples != n_samples || ds->n_features != n_features || !ds->features) return;
    CHECK(memcmp(ds->features, features, (size_t)(n_samples * n_features) * sizeof(float)) == 0);
    CHECK(ds->labels != NULL && ds->targets == NULL && ds->n_targets == 0);
    if (ds->labels) CHECK(memcmp(ds->labels, labels, (size_t)n_samples * sizeof(int32_t)) == 0);
}

/* ---- valid files --------------------------------------------------------------------- */

static const uint8_t idx_pixels[12] = {0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 7}; /* (3, 2, 2) */
static const uint8_t idx_labels[3] = {0, 2, 1};

static void write_valid_idx(void) {
    unsigned char buffer[256];
    uint32_t image_dims[3] = {3, 2, 2}, label_dims[1] = {3};
    size_t n_images = make_idx(buffer, 0x08, 3, image_dims, idx_pixels, sizeof idx_pixels);
    write_file("img.idx", buffer, n_images);
    write_gz("img.idx.gz", buffer, n_images, "wb");
    write_gz("img2.idx.gz", buffer, 10, "wb"); /* two gzip members, split mid-header */
    write_gz("img2.idx.gz", buffer + 10, n_images - 10, "ab");
    size_t n_labels = make_idx(buffer, 0x08, 1, label_dims, idx_labels, sizeof idx_labels);
    write_file("lab.idx", buffer, n_labels);
    write_gz("lab.idx.gz", buffer, n_labels, "wb");
}

static void test_idx(void) {
    const float expect_features[12] = {0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 7};
    const int32_t expect_labels[3] = {0, 2, 1};
    dt_dataset raw, gz, two, limited;
    write_valid_idx();

    dt_data_source src = idx_source("img.idx", "lab.idx");
    if (load(&raw, &src, 4, 3) == DT_OK) {
        check_values(&raw, 3, 4, expect_features, expect_labels);
        CHECK_EQ_INT(raw.n_files, 2);
        check_record(&raw, 0, src.path);
        check_record(&raw, 1, src.labels_path);
    }
    src = idx_source("img.idx.gz", "lab.idx.gz");
    if (load(&gz, &src, 4, 3) == DT_OK) {
        check_values(&gz, 3, 4, raw.features, raw.labels);
        check_record(&gz, 0, src.path); /* the hash is of the compressed bytes on disk */
        check_record(&gz, 1, src.labels_path);
        CHECK(strcmp(gz.files[0].sha256, raw.files[0].sha256) != 0);
    }
    src = idx_source("img2.idx.gz", "lab.idx");
    if (load(&two, &src, 4, 3) == DT_OK) check_values(&two, 3, 4, expect_features, expect_labels);
    src = idx_source("img.idx", "lab.idx");
    src.limit = 2;
    if (load(&limited, &src, 4, 3) == DT_OK) check_values(&limited, 2, 4, expect_features, expect_labels);
    src.limit = 3; /* exactly all */
    dt_dataset_free(&limited);
    if (load(&limited, &src, 4, 3) == DT_OK) CHECK_EQ_INT(limited.n_samples, 3);

    /* Float32 images and regression targets from int16 labels. */
    const float values[4] = {1.5f, -2.25f, 3.0e-7f, 65504.0f};
    const unsigned char targets_be[4] = {0xff, 0xfe, 0x01, 0x00}; /* int16 -2, 256 */
    unsigned char values_be[16];
    floats_be(values, 4, values_be);
    write_idx("f32.idx", 0x0D, 2, (uint32_t[]){2, 2}, values_be, sizeof values_be);
    write_idx("i16.idx", 0x0B, 1, (uint32_t[]){2}, targets_be, sizeof targets_be);
    dt_dataset floats;
    src = idx_source("f32.idx", "i16.idx");
    if (load(&floats, &src, 2, 0) == DT_OK) {
        CHECK(memcmp(floats.features, values, sizeof values) == 0);
        CHECK(floats.labels == NULL && floats.targets != NULL && floats.n_targets == 1);
        if (floats.targets) CHECK(floats.targets[0] == -2.0f && floats.targets[1] == 256.0f);
    }
    dt_dataset_free(&raw);
    dt_dataset_free(&gz);
    dt_dataset_free(&two);
    dt_dataset_free(&limited);
    dt_dataset_free(&floats);
    dt_dataset_free(&floats); /* safe twice */
}

static void test_read_file(void) {
    const char text[] = "first member|second member";
    write_gz("two.txt.gz", text, 13, "wb");
    write_gz("two.txt.gz", text + 13, sizeof text - 1 - 13, "ab");
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    dt_file_record rec;
    dt_error err = {""};
    CHECK_EQ_INT(dt_read_file(tmp_path("two.txt.gz"), &bytes, &n_bytes, &rec, &err), DT_OK);
    CHECK_EQ_INT(n_bytes, sizeof text - 1);
    CHECK(bytes != NULL && memcmp(bytes, text, sizeof text - 1) == 0 && bytes[n_bytes] == '\0');
    free(bytes);
    /* 1 MiB then one byte: the last member's size hint is 1, so the output must grow. */
    size_t n_big = 1 << 20;
    unsigned char *big = malloc(n_big + 1);
    CHECK(big != NULL);
    if (big) {
        for (size_t i = 0; i <= n_big; i++) big[i] = (unsigned char)(i % 251);
        write_gz("big.bin.gz", big, n_big, "wb");
        write_gz("big.bin.gz", big + n_big, 1, "ab");
        CHECK_EQ_INT(dt_read_file(tmp_path("big.bin.gz"), &bytes, &n_bytes, &rec, &err), DT_OK);
        CHECK_EQ_INT(n_bytes, n_big + 1);
        CHECK(bytes != NULL && memcmp(bytes, big, n_big + 1) == 0);
        free(bytes);
        free(big);
    }
    write_file("empty.bin", "", 0);
    CHECK_EQ_INT(dt_read_file(tmp_path("empty.bin"), &bytes, &n_bytes, &rec, &err), DT_OK);
    CHECK(bytes != NULL && n_bytes == 0 && rec.size_bytes == 0);
    CHECK_STR_CONTAINS(rec.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(bytes);
    CHECK_EQ_INT(dt_read_file(tmp_dir, &bytes, &n_bytes, &rec, &err), DT_IO); /* a directory */
    CHECK_STR_CONTAINS(err.message, "cannot read");
    CHECK(bytes == NULL);
}

static void test_csv(void) {
    dt_dataset named, indexed, crlf, regression;
    const float named_features[4] = {1.5f, -3.0f, 4.0f, 50.0f};
    const int32_t named_labels[2] = {2, 0};
    write_text("h.csv", "f0,label,f1\n1.5,2,-3\n\n 4 , 0 ,5e1\n\n");
    dt_data_source src = csv_source("h.csv", true, "label");
    if (load(&named, &src, 2, 3) == DT_OK) {
        check_values(&named, 2, 2, named_features, named_labels);
        CHECK_EQ_INT(named.n_files, 1);
        check_record(&named, 0, src.path);
    }
    src = csv_source("h.csv", true, "1"); /* an index works with a header too */
    dt_dataset_free(&named);
    if (load(&named, &src, 2, 3) == DT_OK) check_values(&named, 2, 2, named_features, named_labels);

    const float indexed_features[4] = {1, 2, 3, 0.25f};
    const int32_t indexed_labels[2] = {0, 1};
    write_text("nh.csv", "1,2,0\n3,0.25,1"); /* no final newline */
    src = csv_source("nh.csv", false, "2");
    if (load(&indexed, &src, 2, 2) == DT_OK) check_values(&indexed, 2, 2, indexed_features, indexed_labels);

    write_text("crlf.csv", "\xEF\xBB\xBF" "a,b,y\r\n1,2,1\r\n3,0.25,0\r\n\r\n"); /* with a byte-order mark */
    src = csv_source("crlf.csv", true, "y");
    const int32_t crlf_labels[2] = {1, 0};
    if (load(&crlf, &src, 2, 2) == DT_OK) check_values(&crlf, 2, 2, indexed_features, crlf_labels);

    write_text("reg.csv", "0.5,1,2\n-1.25,3,4\n");
    src = csv_source("reg.csv", false, "0");
    if (load(&regression, &src, 2, 0) == DT_OK) {
        CHECK(regression.labels == NULL && regression.targets != NULL && regression.n_targets == 1);
        if (regression.targets) CHECK(regression.targets[0] == 0.5f && regression.targets[1] == -1.25f);
        CHECK(regression.features[2] == 3.0f && regression.features[3] == 4.0f);
    }
    /* strtof rounds once, correctly: 0.1 is the float nearest 0.1, not a double rounded twice. */
    write_text("round.csv", "0.1,7.038531e-26,1\n");
    dt_dataset rounding;
    src = csv_source("round.csv", false, "2");
    if (load(&rounding, &src, 2, 2) == DT_OK)
        CHECK(rounding.features[0] == 0.1f && rounding.features[1] == strtof("7.038531e-26", NULL));
    dt_dataset_free(&rounding);
    dt_dataset_free(&named);
    dt_dataset_free(&indexed);
    dt_dataset_free(&crlf);
    dt_dataset_free(&regression);
}

/* Each delimiter reads the same samples; ' ' takes runs of spaces as one separator. */
static void test_csv_delimiters(void) {
    const float features[4] = {1.5f, -2, 3, 0.25f};
    const int32_t labels[2] = {0, 1};
    const char *texts[4] = {"a,b,y\n1.5, -2,0\n3,0.25,1\n", "a;b;y\n1.5; -2;0\n3;0.25;1\n",
                            "a\tb\ty\r\n1.5\t -2\t0\r\n3\t0.25\t1\r\n", "  a  b y\n 1.5   -2  0  \n3 0.25 1\n"};
    for (int d = 0; d < 4; d++) {
        char name[32];
        snprintf(name, sizeof name, "delim%d.csv", d);
        write_text(name, texts[d]);
        dt_data_source src = csv_source(name, true, "y");
        src.delimiter = (dt_csv_delimiter)d;
        dt_dataset ds;
        if (load(&ds, &src, 2, 2) == DT_OK) check_values(&ds, 2, 2, features, labels);
        dt_dataset_free(&ds);
    }
    /* Runs of ',' (or ';', tab) are empty cells, an error; the error names the byte column. */
    write_text("empty.csv", "1;;0\n");
    dt_data_source src = csv_source("empty.csv", false, "2");
    src.delimiter = DT_DELIM_SEMICOLON;
    dt_data_expect expect = {2, 2, 0};
    dt_dataset ds;
    dt_error err = {""};
    CHECK_EQ_INT(dt_dataset_load(&ds, &src, &expect, &err), DT_DATA);
    CHECK_STR_CONTAINS(err.message, "empty.csv:1:3: non-numeric cell \"\"");
}

/* A .npy (Fortran order, big-endian int16, version 1.0) and its labels (uint8, version 3.0);
 * the same samples in a .npz, plain and with zip64 records; features only; regression
 * targets (n, 2) in version 2.0. */
static void test_npy(void) {
    const int16_t column_major_be[6] = {0x0100, 0x0300, (int16_t)0xFBFF, (int16_t)0xFEFF, 0x0400, 0x0600}; /* 1 3 -5 -2 4 6 */
    const uint8_t labels[3] = {2, 0, 1};
    const float features[6] = {1, -2, 3, 4, -5, 6};
    const int32_t classes[3] = {2, 0, 1};
    write_npy("fortran.npy", 1, "{'descr': '>i2', 'fortran_order': True, 'shape': (3, 2), }", column_major_be, 12);
    write_npy("y.npy", 3, "{\"descr\": \"|u1\", \"shape\": (3,), \"fortran_order\": False}", labels, 3);
    dt_data_source src = npy_source("fortran.npy", "y.npy");
    dt_dataset ds;
    if (load(&ds, &src, 2, 3) == DT_OK) {
        check_values(&ds, 3, 2, features, classes);
        CHECK_EQ_INT(ds.n_files, 2);
        check_record(&ds, 0, src.path);
        check_record(&ds, 1, src.labels_path);
    }
    dt_dataset_free(&ds);

    unsigned char x[256], y[256], zip[2048], *data[2] = {x, y};
    const float row_major[6] = {1, -2, 3, 4, -5, 6};
    size_t sizes[2] = {make_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", row_major, 24),
                       make_npy(y, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", labels, 3)};
    const char *names[2] = {"features.npy", "labels.npy"};
    for (int zip64 = 0; zip64 < 2; zip64++) {
        const char *name = zip64 ? "zip64.npz" : "plain.npz";
        write_file(name, zip, make_zip(zip, 2, names, data, sizes, zip64));
        src = npy_source(name, NULL);
        if (load(&ds, &src, 2, 3) == DT_OK) {
            check_values(&ds, 3, 2, features, classes);
            CHECK_EQ_INT(ds.n_files, 1);
        }
        dt_dataset_free(&ds);
    }
    write_file("features-only.npz", zip, make_zip(zip, 1, names, data, sizes, 0));
    src = npy_source("features-only.npz", NULL);
    dt_data_expect optional = {2, 3, 1};
    dt_error err = {""};
    CHECK_EQ_INT(dt_dataset_load(&ds, &src, &optional, &err), DT_OK);
    CHECK(ds.features && !ds.labels && !ds.targets && ds.n_samples == 3);
    dt_dataset_free(&ds);

    const double targets[6] = {0.5, -1, 2, 3.25, 1e-3, 7};
    write_npy("targets.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", targets, sizeof targets);
    src = npy_source("fortran.npy", "targets.npy");
    if (load(&ds, &src, 2, 0) == DT_OK) {
        CHECK(ds.targets && !ds.labels && ds.n_targets == 2);
        for (int i = 0; i < 6 && ds.targets; i++) CHECK(ds.targets[i] == (float)targets[i]);
    }
    dt_dataset_free(&ds);
}

/* ok.h5: features float32 (4, 3), labels int32 (4); u8.h5: uint8 features, int64
 * labels; reg.h5: targets (4, 2) float64. */
static void write_valid_h5(void) {
    const float features[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5f, -11};
    const int32_t labels[4] = {1, 0, 4, 2};
    const uint8_t pixels[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255};
    const int64_t labels64[4] = {3, 3, 0, 1};
    const double targets[8] = {0.5, 1, -2, 3, 4, 5, 6, 7};
    hid_t file = h5_create("ok.h5");
    h5_put(file, "features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, (hsize_t[]){4, 3}, features);
    h5_put(file, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, (hsize_t[]){4}, labels);
    h5_put(file, "rank3", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, (hsize_t[]){2, 2, 3}, features);
    h5_put(file, "short", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, (hsize_t[]){3}, labels);
    H5Fclose(file);
    file = h5_create("u8.h5");
    h5_put(file, "x", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, (hsize_t[]){4, 3}, pixels);
    h5_put(file, "y", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, (hsize_t[]){4}, labels64);
    H5Fclose(file);
    file = h5_create("reg.h5");
    h5_put(file, "features", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, (hsize_t[]){4, 3}, features);
    h5_put(file, "targets", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, (hsize_t[]){4, 2}, targets);
    H5Fclose(file);
}

static void test_hdf5(void) {
    const float features[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5f, -11};
    const float pixels[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255};
    const int32_t labels[4] = {1, 0, 4, 2}, labels64[4] = {3, 3, 0, 1};
    dt_dataset ok, u8, reg, limited;
    write_valid_h5();
    dt_data_source src = h5_source("ok.h5", "features", "labels");
    if (load(&ok, &src, 3, 5) == DT_OK) {
        check_values(&ok, 4, 3, features, labels);
        CHECK_EQ_INT(ok.n_files, 1);
        check_record(&ok, 0, src.path);
    }
    src.limit = 1;
    if (load(&limited, &src, 3, 5) == DT_OK) check_values(&limited, 1, 3, features, labels);
    src = h5_source("u8.h5", "x", "y");
    if (load(&u8, &src, 3, 4) == DT_OK) check_values(&u8, 4, 3, pixels, labels64);
    src = h5_source("reg.h5", "features", "targets");
    if (load(&reg, &src, 3, 0) == DT_OK) {
        CHECK(reg.labels == NULL && reg.targets != NULL);
        CHECK_EQ_INT(reg.n_targets, 2);
        if (reg.targets) CHECK(reg.targets[0] == 0.5f && reg.targets[2] == -2.0f && reg.targets[7] == 7.0f);
    }
    dt_dataset_free(&ok);
    dt_dataset_free(&limited);
    dt_dataset_free(&u8);
    dt_dataset_free(&reg);
}

/* ---- normalisation ------------------------------------------------------------------- */

/* A dataset of n_samples rows of n_features owned features (copied from values). */
static dt_dataset make_dataset(int64_t n_samples, int32_t n_features, const float *values) {
    dt_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_samples = n_samples;
    ds.n_features = n_features;
    ds.features = malloc((size_t)(n_samples * n_features) * sizeof(float));
    if (ds.features) memcpy(ds.features, values, (size_t)(n_samples * n_features) * sizeof(float));
    return ds;
}

static void test_normalize(void) {
    static dt_config cfg; /* large: keep it off the stack */
    dt_error err = {""};
    /* train (5, 3): feature 2 is constant (std 0 -> 1). */
    const float train_values[15] = {1, 10, 7, 2, 20, 7, 3, 30, 7, 4, 45, 7, 5, 50, 7};
    const float test_values[3] = {3, 10, 8};
    dt_dataset train = make_dataset(5, 3, train_values), test = make_dataset(1, 3, test_values);
    cfg.data.normalize = DT_NORM_STANDARDIZE;
    CHECK_EQ_INT(dt_dataset_normalize(&train, &test, NULL, &cfg, &err), DT_OK);
    for (int j = 0; j < 3; j++) {
        double sum = 0, sum_sq = 0;
        for (int i = 0; i < 5; i++) sum += train.features[i * 3 + j];
        for (int i = 0; i < 5; i++) sum_sq += (train.features[i * 3 + j] - sum / 5) * (train.features[i * 3 + j] - sum / 5);
        CHECK_NEAR(sum / 5, 0.0, 1e-6);
        CHECK_NEAR(sqrt(sum_sq / 5), j == 2 ? 0.0 : 1.0, 1e-6);
    }
    /* the test set uses the training statistics: mean 3, std sqrt(2) for feature 0 */
    CHECK(test.features[0] == 0.0f);
    CHECK(test.features[2] == 1.0f); /* (8 - 7) / 1 */
    double mean1 = (10 + 20 + 30 + 45 + 50) / 5.0, var1 = 0;
    for (int i = 0; i < 5; i++) var1 += (train_values[i * 3 + 1] - mean1) * (train_values[i * 3 + 1] - mean1);
    CHECK(test.features[1] == (float)((10 - mean1) / sqrt(var1 / 5)));
    dt_dataset_free(&train);
    dt_dataset_free(&test);

    /* scale: x * scale + shift as two float roundings */
    const float values[4] = {0, 255, 0.1f, 3.3333333f};
    train = make_dataset(2, 2, values);
    test = make_dataset(1, 2, values + 2);
    cfg.data.normalize = DT_NORM_SCALE;
    cfg.data.scale = 1.0f / 255.0f;
    cfg.data.shift = -0.5f;
    CHECK_EQ_INT(dt_dataset_normalize(&train, &test, NULL, &cfg, &err), DT_OK);
    for (int i = 0; i < 4; i++) {
        volatile float scaled = values[i] * cfg.data.scale; /* volatile: round here, never fuse */
        float expect = scaled + cfg.data.shift;
        CHECK(memcmp(i < 2 ? &train.features[i] : &test.features[i - 2], &expect, sizeof expect) == 0);
    }
    cfg.data.normalize = DT_NORM_NONE;
    CHECK_EQ_INT(dt_dataset_normalize(&train, NULL, NULL, &cfg, &err), DT_OK);
    dt_dataset_free(&train);
    dt_dataset_free(&test);
}

/* ---- malformed files ----------------------------------------------------------------- */

/* Writes the files of the bad-case table. */
/* The malformed NumPy files of the bad-case table (valid ones: write_npy_files). */
static void write_bad_npy(void) {
    const float values[6] = {0};
    write_npy("noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }", values, 24);
    write_npy("twice.npy", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", values, 24);
    write_npy("oddkey.npy", 1, "{'descr': '<f4', 'order': 'C', 'fortran_order': False, 'shape': (3, 2), }", values, 24);
    unsigned char buffer[256];
    size_t n = make_npy(buffer, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", values, 24);
    buffer[7] = 1;
    write_file("version.npy", buffer, n);
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", values, 24);
    write_file("headercut.npy", buffer, 50);
    write_npy("order.npy", 1, "{'descr': '|f4', 'fortran_order': False, 'shape': (3, 2), }", values, 24);
    write_npy("hugedim.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }", values, 24);
    write_npy("rank3.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 2), }", values, 24);
    const double fraction[3] = {0, 0.5, 1};
    write_npy("frac.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", fraction, sizeof fraction);
    const int64_t min64[3] = {INT64_MIN, 0, 1};
    write_npy("min64.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", min64, sizeof min64);
    /* A zip64 archive whose locator is gone: the end record's saturated fields lead nowhere. */
    unsigned char features[256], *data[1] = {features}, zip[1024];
    size_t sizes[1] = {make_npy(features, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", values, 24)};
    const char *names[1] = {"features.npy"};
    n = make_zip(zip, 1, names, data, sizes, 1);
    memmove(zip + n - 42, zip + n - 22, 22); /* the end record over the locator */
    write_file("nolocator.npz", zip, n - 20);
}

static void write_bad_files(void) {
    const uint8_t pixels[15] = {0}, labels[3] = {0, 1, 2}, big_label[3] = {0, 7, 1};
    uint32_t dims3[3] = {3, 2, 2}, dims1[1] = {3}, dims2[1] = {2}, dims_2d[2] = {3, 1};
    write_file("magic.idx", "\x12\x34\x56\x78\0\0\0\1x", 9);
    write_file("type.idx", "\0\0\x07\x01\0\0\0\1x", 9);
    write_file("short.idx", "\0\0\x08", 3);
    write_idx("nodims.idx", 0x08, 0, NULL, NULL, 0);
    write_idx("trunc.idx", 0x08, 3, dims3, pixels, 10);
    write_idx("trail.idx", 0x08, 3, dims3, pixels, 15);
    write_idx("two.idx", 0x08, 1, dims2, labels, 2);
    write_idx("big.idx", 0x08, 1, dims1, big_label, 3);
    write_idx("lab2d.idx", 0x08, 2, dims_2d, labels, 3);
    const float nan_values[4] = {1, 2, NAN, 4}, inf_values[4] = {1, 2, 3, -INFINITY};
    unsigned char be[16];
    floats_be(nan_values, 4, be);
    write_idx("nan.idx", 0x0D, 2, (uint32_t[]){2, 2}, be, 16);
    write_idx("lab_two.idx", 0x08, 1, dims2, labels, 2);
    floats_be(inf_values, 4, be);
    write_idx("inf.idx", 0x0D, 2, (uint32_t[]){2, 2}, be, 16);

    /* gzip: flip bytes in the deflate data (CRC or data error), and cut the file short. */
    size_t n_bytes = 0;
    unsigned char *gz = slurp(tmp_path("img.idx.gz"), &n_bytes);
    CHECK(gz != NULL && n_bytes > 20);
    if (gz) {
        write_file("cut.idx.gz", gz, n_bytes / 2);
        for (size_t i = 12; i < n_bytes - 8; i++) gz[i] ^= 0x5a;
        write_file("bad.idx.gz", gz, n_bytes);
        free(gz);
    }
    write_file("garbage.idx.gz", "\x1f\x8b\x08\0\0\0\0\0\0\x03" "abcdefgh", 18);

    write_text("nonnum.csv", "1,2,0\n3,abc,1\n");
    write_text("spaced.csv", "a,b,y\n1,2,0\n\n5, 1x ,1\n");
    write_text("ragged.csv", "1,2,0\n3,4\n");
    write_text("long.csv", "1,2,0\n3,4,1,9\n");
    write_text("nancell.csv", "1,nan,0\n");
    write_text("infcell.csv", "1,2,1\r\ninf,1,0\r\n");
    write_text("huge.csv", "1,1e39,0\n");
    write_text("empty_cell.csv", "1,,0\n");
    write_text("range.csv", "a,b,y\n1,2,0\n3,4,5\n");
    write_text("frac.csv", "1,2,1.5\n");
    write_text("nantarget.csv", "1,2,nan\n");
    write_text("empty.csv", "");
    write_text("blank.csv", "\n  \r\n\n");
    write_text("header_only.csv", "a,b,label\n");
    write_text("three.csv", "1,2,3,0\n");
    write_file("nul.csv", "1,2,0\n1,\0002,0\n", 13);

    write_text("notes.h5", "these are not the bytes of an HDF5 file\n");
    hid_t file = h5_create("bad.h5");
    const float nan_features[6] = {1, 2, 3, 4, NAN, 6};
    const double bad_labels[2] = {0, 9}, frac_labels[2] = {0, 0.5};
    const char strings[2][4] = {"abc", "def"};
    hid_t str_type = H5Tcopy(H5T_C_S1);
    H5Tset_size(str_type, 4);
    h5_put(file, "x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, (hsize_t[]){2, 3}, nan_features);
    h5_put(file, "x_ok", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, (hsize_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    h5_put(file, "y_range", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, (hsize_t[]){2}, bad_labels);
    h5_put(file, "y_frac", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, (hsize_t[]){2}, frac_labels);
    h5_put(file, "y_2d", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, (hsize_t[]){2, 1}, bad_labels);
    h5_put(file, "y_str", str_type, str_type, 1, (hsize_t[]){2}, strings);
    H5Tclose(str_type);
    H5Fclose(file);
    n_bytes = 0;
    unsigned char *h5 = slurp(tmp_path("ok.h5"), &n_bytes);
    if (h5) write_file("cut.h5", h5, n_bytes / 2);
    free(h5);
}

typedef struct {
    const char *what;
    dt_data_format format;
    const char *file, *labels_file; /* idx: images, labels; csv, hdf5: file, (unused) */
    bool header;                    /* csv */
    const char *column;             /* csv: label column; hdf5: "features,labels" datasets */
    int64_t limit;
    int32_t n_features, n_classes;
    dt_status status;
    const char *named;              /* the file the message must name, when not .file */
    const char *phrase;
} bad_case;

static const bad_case bad_cases[] = {
    {"bad magic", DT_FORMAT_IDX, "magic.idx", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0,
     "bad IDX magic 0x12345678 (expected 0x00000803-style header: 0, 0, type, dims)"},
    {"unknown type", DT_FORMAT_IDX, "type.idx", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0, "unknown IDX type code 0x07"},
    {"header cut", DT_FORMAT_IDX, "short.idx", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0, "truncated: file has 3 bytes"},
    {"zero dims", DT_FORMAT_IDX, "nodims.idx", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0, "declares 0 dimensions"},
    {"truncated images", DT_FORMAT_IDX, "trunc.idx", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0,
     "truncated: header declares 12 bytes of data, file has 10"},
    {"trailing bytes", DT_FORMAT_IDX, "trail.idx", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0,
     "has 3 bytes beyond the data the header declares"},
    {"count mismatch", DT_FORMAT_IDX, "img.idx", "two.idx", 0, 0, 0, 4, 3, DT_DATA, "two.idx",
     "img.idx: has 3 samples but labels file"},
    {"feature count", DT_FORMAT_IDX, "img.idx", "lab.idx", 0, 0, 0, 100, 3, DT_DATA, 0,
     "samples have 4 features, model.input_size is 100"},
    {"idx label range", DT_FORMAT_IDX, "img.idx", "big.idx", 0, 0, 0, 4, 3, DT_DATA, "big.idx",
     "big.idx: label 7 at index 1 is outside [0, 3)"},
    {"labels 2-D", DT_FORMAT_IDX, "img.idx", "lab2d.idx", 0, 0, 0, 4, 3, DT_DATA, "lab2d.idx",
     "labels file has 2 dimensions, expected 1"},
    {"idx nan", DT_FORMAT_IDX, "nan.idx", "lab_two.idx", 0, 0, 0, 2, 3, DT_DATA, 0,
     "feature at sample 1, index 0 is not finite (nan)"},
    {"idx inf", DT_FORMAT_IDX, "inf.idx", "lab_two.idx", 0, 0, 0, 2, 3, DT_DATA, 0,
     "feature at sample 1, index 1 is not finite (-inf)"},
    {"missing images", DT_FORMAT_IDX, "absent.idx", "lab.idx", 0, 0, 0, 4, 3, DT_IO, 0,
     "absent.idx: cannot open: No such file or directory"},
    {"missing labels", DT_FORMAT_IDX, "img.idx", "absent-labels.idx", 0, 0, 0, 4, 3, DT_IO, "absent-labels.idx",
     "cannot open: No such file or directory"},
    {"corrupt gzip", DT_FORMAT_IDX, "bad.idx.gz", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0, "corrupt gzip"},
    {"truncated gzip", DT_FORMAT_IDX, "cut.idx.gz", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0, "truncated gzip"},
    {"gzip garbage", DT_FORMAT_IDX, "garbage.idx.gz", "lab.idx", 0, 0, 0, 4, 3, DT_DATA, 0, "corrupt gzip"},
    {"idx limit", DT_FORMAT_IDX, "img.idx", "lab.idx", 0, 0, 100000, 4, 3, DT_DATA, 0,
     "limit 100000 exceeds the 3 samples in the file"},
    {"negative limit", DT_FORMAT_IDX, "img.idx", "lab.idx", 0, 0, -1, 4, 3, DT_DATA, 0, "must not be negative"},

    {"non-numeric", DT_FORMAT_CSV, "nonnum.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0,
     "nonnum.csv:2:3: non-numeric cell \"abc\""},
    {"non-numeric spaced", DT_FORMAT_CSV, "spaced.csv", 0, 1, "y", 0, 2, 3, DT_DATA, 0,
     "spaced.csv:4:3: non-numeric cell \"1x\""},
    {"empty cell", DT_FORMAT_CSV, "empty_cell.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0,
     "empty_cell.csv:1:3: non-numeric cell \"\""},
    {"NUL byte", DT_FORMAT_CSV, "nul.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0, "nul.csv:2:3: non-numeric cell \"?2\""},
    {"ragged short", DT_FORMAT_CSV, "ragged.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0, "ragged.csv:2: has 2 fields, expected 3"},
    {"ragged long", DT_FORMAT_CSV, "long.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0, "long.csv:2: has 4 fields, expected 3"},
    {"csv nan", DT_FORMAT_CSV, "nancell.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0,
     "nancell.csv:1:3: feature \"nan\" is not finite"},
    {"csv inf", DT_FORMAT_CSV, "infcell.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0,
     "infcell.csv:2:1: feature \"inf\" is not finite"},
    {"csv float overflow", DT_FORMAT_CSV, "huge.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0,
     "huge.csv:1:3: feature \"1e39\" is outside the float range"},
    {"csv label range", DT_FORMAT_CSV, "range.csv", 0, 1, "y", 0, 2, 3, DT_DATA, 0,
     "range.csv:3:5: label \"5\" is outside [0, 3)"},
    {"csv label fraction", DT_FORMAT_CSV, "frac.csv", 0, 0, "2", 0, 2, 3, DT_DATA, 0,
     "frac.csv:1:5: label \"1.5\" is not an integer"},
    {"csv nan target", DT_FORMAT_CSV, "nantarget.csv", 0, 0, "2", 0, 2, 0, DT_DATA, 0,
     "nantarget.csv:1:5: target \"nan\" is not finite"},
    {"empty csv", DT_FORMAT_CSV, "empty.csv", 0, 0, "0", 0, 2, 3, DT_DATA, 0, "no data rows"},
    {"blank csv", DT_FORMAT_CSV, "blank.csv", 0, 0, "0", 0, 2, 3, DT_DATA, 0, "no data rows"},
    {"header only", DT_FORMAT_CSV, "header_only.csv", 0, 1, "label", 0, 2, 3, DT_DATA, 0, "no data rows"},
    {"unknown column", DT_FORMAT_CSV, "h.csv", 0, 1, "target", 0, 2, 3, DT_DATA, 0,
     "no column named \"target\" in the header"},
    {"name without header", DT_FORMAT_CSV, "nh.csv", 0, 0, "label", 0, 2, 3, DT_DATA, 0, "has no header line"},
    {"column index range", DT_FORMAT_CSV, "nh.csv", 0, 0, "3", 0, 2, 3, DT_DATA, 0, "label column 3 is out of range"},
    {"csv feature count", DT_FORMAT_CSV, "three.csv", 0, 0, "3", 0, 2, 3, DT_DATA, 0,
     "samples have 3 features, model.input_size is 2"},
    {"csv limit", DT_FORMAT_CSV, "nh.csv", 0, 0, "2", 3, 2, 3, DT_DATA, 0, "limit 3 exceeds the 2 samples in the file"},
    {"csv missing", DT_FORMAT_CSV, "absent.csv", 0, 0, "2", 0, 2, 3, DT_IO, 0, "cannot open: No such file"},

    {"not hdf5", DT_FORMAT_HDF5, "notes.h5", 0, 0, "features,labels", 0, 3, 5, DT_DATA, 0,
     "not an HDF5 file (H5Fopen failed"},
    {"empty hdf5", DT_FORMAT_HDF5, "empty.csv", 0, 0, "features,labels", 0, 3, 5, DT_DATA, 0, "not an HDF5 file"},
    {"cut hdf5", DT_FORMAT_HDF5, "cut.h5", 0, 0, "features,labels", 0, 3, 5, DT_DATA, 0, "truncated file"},
    {"missing dataset", DT_FORMAT_HDF5, "ok.h5", 0, 0, "nope,labels", 0, 3, 5, DT_DATA, 0,
     "no dataset 'nope' (the file holds 'features', 'labels'"},
    {"missing labels dataset", DT_FORMAT_HDF5, "ok.h5", 0, 0, "features,", 0, 3, 5, DT_DATA, 0, "no dataset ''"},
    {"wrong rank", DT_FORMAT_HDF5, "ok.h5", 0, 0, "rank3,labels", 0, 3, 5, DT_DATA, 0,
     "dataset 'rank3' has rank 3, expected 2 (samples, features)"},
    {"labels rank", DT_FORMAT_HDF5, "bad.h5", 0, 0, "x_ok,y_2d", 0, 3, 10, DT_DATA, 0,
     "dataset 'y_2d' has rank 2, expected 1 (samples)"},
    {"h5 count mismatch", DT_FORMAT_HDF5, "ok.h5", 0, 0, "features,short", 0, 3, 5, DT_DATA, 0,
     "dataset 'features' has 4 samples but 'short' has 3"},
    {"h5 feature count", DT_FORMAT_HDF5, "ok.h5", 0, 0, "features,labels", 0, 784, 5, DT_DATA, 0,
     "samples have 3 features, model.input_size is 784"},
    {"h5 nan", DT_FORMAT_HDF5, "bad.h5", 0, 0, "x,y_range", 0, 3, 10, DT_DATA, 0,
     "feature at sample 1, index 1 is not finite (nan)"},
    {"h5 label range", DT_FORMAT_HDF5, "bad.h5", 0, 0, "x_ok,y_range", 0, 3, 5, DT_DATA, 0,
     "'y_range' label 9 at index 1 is outside [0, 5)"},
    {"h5 label fraction", DT_FORMAT_HDF5, "bad.h5", 0, 0, "x_ok,y_frac", 0, 3, 5, DT_DATA, 0,
     "'y_frac' label 0.5 at index 1 is not an integer"},
    {"h5 strings", DT_FORMAT_HDF5, "bad.h5", 0, 0, "x_ok,y_str", 0, 3, 5, DT_DATA, 0,
     "dataset 'y_str' holds string values, expected integers or floats"},
    {"h5 limit", DT_FORMAT_HDF5, "ok.h5", 0, 0, "features,labels", 5, 3, 5, DT_DATA, 0,
     "limit 5 exceeds the 4 samples in the file"},
    {"h5 missing", DT_FORMAT_HDF5, "absent.h5", 0, 0, "features,labels", 0, 3, 5, DT_IO, 0, "cannot open"},

    {"npy no shape", DT_FORMAT_NPY, "noshape.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0, ".npy header lacks 'shape'"},
    {"npy key twice", DT_FORMAT_NPY, "twice.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     ".npy header has a second key 'descr'"},
    {"npy odd key", DT_FORMAT_NPY, "oddkey.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     ".npy header has an unexpected key 'order'"},
    {"npy version", DT_FORMAT_NPY, "version.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     ".npy format version 2.1, expected 1.0, 2.0 or 3.0"},
    {"npy header cut", DT_FORMAT_NPY, "headercut.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     "truncated: the .npy header declares 118 bytes, the file has 40 after the magic"},
    {"npy no byte order", DT_FORMAT_NPY, "order.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     "dtype '|f4' has no byte order for a 4-byte type"},
    {"npy huge dim", DT_FORMAT_NPY, "hugedim.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     "malformed .npy header: 'shape' is not a tuple of at most 32 sizes"},
    {"npy 3-D", DT_FORMAT_NPY, "rank3.npy", "y.npy", 0, 0, 0, 2, 3, DT_DATA, 0,
     "rank3.npy: features have shape (3, 1, 2), expected 2 dimensions (samples, features)"},
    {"npy features", DT_FORMAT_NPY, "fortran.npy", "y.npy", 0, 0, 0, 3, 3, DT_DATA, 0,
     "samples have 2 features, model.input_size is 3"},
    {"npy fraction", DT_FORMAT_NPY, "fortran.npy", "frac.npy", 0, 0, 0, 2, 3, DT_DATA, "frac.npy",
     "frac.npy: label 0.5 at index 1 is not an integer"},
    {"npy int64 label", DT_FORMAT_NPY, "fortran.npy", "min64.npy", 0, 0, 0, 2, 3, DT_DATA, "min64.npy",
     "label -9.2233720368547758e+18 at index 0 is outside [0, 3)"},
    {"npz no labels", DT_FORMAT_NPY, "features-only.npz", 0, 0, 0, 0, 2, 3, DT_DATA, 0,
     "features-only.npz: no array 'labels' (the archive holds 'features'; name yours"},
    {"npz no locator", DT_FORMAT_NPY, "nolocator.npz", 0, 0, 0, 0, 2, 3, DT_DATA, 0,
     "damaged zip archive: saturated end record without a zip64 locator"},
    {"npz text", DT_FORMAT_NPY, "notes.h5", 0, 0, 0, 0, 2, 3, DT_DATA, 0,
     "not a .npy file (it does not start with the magic \\x93NUMPY)"},
};

/* The source a bad case describes. */
static dt_data_source bad_source(const bad_case *c) {
    dt_data_source src;
    if (c->format == DT_FORMAT_IDX) {
        src = idx_source(c->file, c->labels_file);
    } else if (c->format == DT_FORMAT_CSV) {
        src = csv_source(c->file, c->header, c->column);
    } else if (c->format == DT_FORMAT_NPY) {
        src = npy_source(c->file, c->labels_file);
    } else {
        char names[2 * DT_NAME_MAX];
        snprintf(names, sizeof names, "%s", c->column);
        char *comma = strchr(names, ',');
        *comma = '\0';
        src = h5_source(c->file, names, comma + 1);
    }
    src.limit = c->limit;
    return src;
}

static void test_bad_files(void) {
    static const dt_dataset zero;
    int n_cases = (int)(sizeof bad_cases / sizeof bad_cases[0]);
    write_bad_files();
    write_bad_npy();
    for (int i = 0; i < n_cases; i++) {
        const bad_case *c = &bad_cases[i];
        dt_data_source src = bad_source(c);
        dt_data_expect expect = {c->n_features, c->n_classes, 0};
        dt_dataset ds;
        dt_error err = {""};
        memset(&ds, 0x5a, sizeof ds); /* the loader must zero it */
        dt_status status = dt_dataset_load(&ds, &src, &expect, &err);
        int failures = dt_test_failures;
        CHECK_EQ_INT(status, c->status);
        CHECK_STR_CONTAINS(err.message, tmp_path(c->named ? c->named : c->file));
        CHECK_STR_CONTAINS(err.message, c->phrase);
        CHECK(strchr(err.message, '\n') == NULL);
        CHECK(memcmp(&ds, &zero, sizeof ds) == 0);
        if (status == DT_OK) dt_dataset_free(&ds);
        printf("  %-24s %s: %s\n", c->what, dt_status_name(status), err.message);
        if (dt_test_failures != failures) fprintf(stderr, "  ^ in bad case \"%s\"\n", c->what);
    }
    printf("%d malformed inputs rejected\n", n_cases);
}

/* ---- Fashion-MNIST ------------------------------------------------------------------- */

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Loads one split of the real dataset; checks its shape and labels. */
static void load_fashion(const char *dir, const char *split, int64_t n_samples) {
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_IDX;
    snprintf(src.path, sizeof src.path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(src.labels_path, sizeof src.labels_path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    dt_dataset ds;
    double start = seconds_now();
    if (load(&ds, &src, 784, 10) != DT_OK) return;
    double elapsed = seconds_now() - start;
    CHECK_EQ_INT(ds.n_samples, n_samples);
    CHECK_EQ_INT(ds.n_features, 784);
    int64_t bad_labels = 0, bad_pixels = 0;
    for (int64_t i = 0; i < ds.n_samples; i++) bad_labels += ds.labels[i] < 0 || ds.labels[i] >= 10;
    for (int64_t i = 0; i < ds.n_samples * 784; i++) bad_pixels += !(ds.features[i] >= 0 && ds.features[i] <= 255);
    CHECK_EQ_INT(bad_labels, 0);
    CHECK_EQ_INT(bad_pixels, 0);
    printf("fashion-mnist %-5s %6lld samples x %d features loaded in %.3f s (images sha256 %.16s...)\n", split,
           (long long)ds.n_samples, ds.n_features, elapsed, ds.files[0].sha256);
    dt_dataset_free(&ds);
}

static void test_fashion_mnist(void) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    char probe[DT_PATH_MAX];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", dir);
    if (access(probe, R_OK) != 0) {
        printf("note: %s not found; skipping the Fashion-MNIST load\n", probe);
        return;
    }
    load_fashion(dir, "train", 60000);
    load_fashion(dir, "t10k", 10000);
}

/* ---- main ---------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw) {
    return remove(path);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep progress lines in order with failures on stderr */
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_read_file();
    test_idx();
    test_csv();
    test_csv_delimiters();
    test_npy();
    test_hdf5();
    test_normalize();
    test_bad_files();
    test_fashion_mnist();
    CHECK(nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
    return TEST_EXIT();
}
