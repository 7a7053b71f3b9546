/* fuzz_util.h — what the fuzz targets share: a per-process scratch folder for the files that
 * detrain's parsers read, the contracts every target checks, a reader that decodes recipe
 * bytes, and the HDF5 values (type, shape, elements) that the structure-aware targets build.
 *
 * Header-only (static inline): each target is one translation unit, linked either with
 * libFuzzer (fuzz builds) or with replay.c (every other build). */
#ifndef DT_FUZZ_UTIL_H
#define DT_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/status.h"

/* Larger inputs are skipped: every parser reads whole files, and big inputs only slow the search. */
#define FUZZ_MAX_INPUT ((size_t)4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken harness or a broken contract: says what on stderr, then aborts so that the fuzzer
 * (or replay) reports the input as a crash. */
static inline void fuzz_fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* ---- scratch files ------------------------------------------------------------------------- */

static char fuzz_scratch[512];

/* nftw callback: removes one entry of the scratch folder (children first). */
static inline int fuzz_remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw) {
    (void)info, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* atexit: removes the scratch folder and what the target left in it. */
static inline void fuzz_remove_scratch(void) {
    if (fuzz_scratch[0]) nftw(fuzz_scratch, fuzz_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Removes the scratch folders of processes that are gone: a crashed target never runs its
 * atexit, and a long -fork campaign crashes thousands of times (/dev/shm is memory). */
static inline void fuzz_remove_orphans(const char *base) {
    DIR *dir = opendir(base);
    struct dirent *entry;
    while (dir && (entry = readdir(dir))) {
        long pid;
        char path[512];
        if (sscanf(entry->d_name, "detrain-fuzz-%ld-", &pid) != 1 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", base, entry->d_name);
        nftw(path, fuzz_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
    if (dir) closedir(dir);
}

/* This process's scratch folder, made on first use under $TMPDIR, else /dev/shm (memory: the
 * targets rewrite a file per input), else /tmp; removed at exit. Per process, so that
 * libFuzzer's -jobs/-fork workers never share a file. */
static inline const char *fuzz_dir(void) {
    if (fuzz_scratch[0]) return fuzz_scratch;
    const char *base = getenv("TMPDIR");
    struct stat info;
    if (!base || !*base) base = stat("/dev/shm", &info) == 0 && S_ISDIR(info.st_mode) ? "/dev/shm" : "/tmp";
    fuzz_remove_orphans(base);
    snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/detrain-fuzz-%ld-XXXXXX", base, (long)getpid());
    if (!mkdtemp(fuzz_scratch)) fuzz_fail("cannot create a scratch folder", fuzz_scratch);
    atexit(fuzz_remove_scratch);
    return fuzz_scratch;
}

/* out = <scratch folder>/name. */
static inline const char *fuzz_path(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", fuzz_dir(), name);
    return out;
}

/* Writes exactly these bytes to path (replacing the file); aborts when it cannot. */
static inline void fuzz_write_file(const char *path, const void *data, size_t size) {
    FILE *file = fopen(path, "wb");
    if (!file) fuzz_fail("cannot write", path);
    int ok = (size == 0 || fwrite(data, 1, size, file) == size);
    if (fclose(file) != 0 || !ok) fuzz_fail("cannot write", path);
}

/* ---- contracts ----------------------------------------------------------------------------- */

/* status.h: a failure fills err with one non-empty line. Aborts when it does not. */
static inline void fuzz_check_error(dt_status status, const dt_error *err) {
    if (status == DT_OK) return;
    if (!err->message[0]) fuzz_fail("a failure with an empty message, status", dt_status_name(status));
    if (strchr(err->message, '\n')) fuzz_fail("a failure message of more than one line", err->message);
}

/* config.h: the canonical text of an accepted config is a fixed point — it parses again (no
 * base_dir: its paths are resolved) and prints the same text. Aborts on a round-trip bug. */
static inline void fuzz_check_round_trip(const dt_config *cfg) {
    static dt_config again; /* ~70 KB: off the stack */
    dt_error err = {""};
    char *text = dt_config_to_json(cfg);
    if (!text) fuzz_fail("dt_config_to_json returned NULL", NULL);
    dt_status status = dt_config_parse(&again, text, "canonical", NULL, 0, NULL, &err);
    if (status != DT_OK) {
        fprintf(stderr, "%s", text);
        fuzz_fail("the canonical config does not parse again", err.message);
    }
    char *text_again = dt_config_to_json(&again);
    if (!text_again) fuzz_fail("dt_config_to_json returned NULL", NULL);
    if (strcmp(text, text_again) != 0) {
        fprintf(stderr, "first:\n%s\nagain:\n%s", text, text_again);
        fuzz_fail("the canonical config is not a fixed point", NULL);
    }
    free(text_again);
    free(text);
}

/* ---- recipes: bytes decoded into choices ---------------------------------------------------- */

/* Consumes the input front to back; past its end every byte reads as 0. */
typedef struct {
    const uint8_t *data;
    size_t size, pos;
} fuzz_reader;

static inline uint8_t fuzz_u8(fuzz_reader *r) { return r->pos < r->size ? r->data[r->pos++] : 0; }

static inline size_t fuzz_left(const fuzz_reader *r) { return r->size - r->pos; }

/* Copies the next n bytes to out, zero-filled past the end of the input. */
static inline void fuzz_bytes(fuzz_reader *r, void *out, size_t n) {
    size_t have = fuzz_left(r) < n ? fuzz_left(r) : n;
    if (have) memcpy(out, r->data + r->pos, have);
    memset((char *)out + have, 0, n - have);
    r->pos += have;
}

/* A text of up to 255 bytes (a length byte, then the bytes), NUL-terminated: out holds 256. */
static inline const char *fuzz_text(fuzz_reader *r, char out[256]) {
    size_t n = fuzz_u8(r);
    fuzz_bytes(r, out, n);
    out[n] = '\0';
    return out;
}

/* ---- HDF5 values for the structure-aware targets --------------------------------------------- */

/* HDF5's error stack printing off: the structure-aware targets build objects that HDF5 may
 * refuse (a type conversion it lacks), which is expected and checked. */
static inline void fuzz_hdf5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Aborts when HDF5 holds more open identifiers (files, groups, datasets, attributes, types,
 * dataspaces, property lists) than after the first input: a handle left open is a leak that
 * LeakSanitizer cannot see, since the library keeps a pointer to it. Call after each input. */
static inline void fuzz_h5_check_ids(void) {
    static const H5I_type_t kinds[] = {H5I_FILE,     H5I_GROUP,     H5I_DATASET,    H5I_ATTR,
                                       H5I_DATATYPE, H5I_DATASPACE, H5I_GENPROP_LST};
    static long first = -1;
    long open = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        hsize_t n = 0;
        if (H5Inmembers(kinds[i], &n) >= 0) open += (long)n;
    }
    if (first < 0) first = open;
    if (open > first) {
        char detail[64];
        snprintf(detail, sizeof detail, "%ld, after the first input %ld", open, first);
        fuzz_fail("HDF5 identifiers left open", detail);
    }
}

/* A value to store as a dataset or attribute: a type, a dataspace, and n elements in buf
 * (for variable-length strings, n char pointers into texts). */
typedef struct {
    hid_t type, space;
    size_t n;
    unsigned char *buf;
    char (*texts)[256];
} fuzz_h5_value;

/* A new copy of element type `choice`: every native integer and float type, both byte orders
 * of the fixed-size ones, a 16-bit float, a bitfield, fixed and variable-length strings, an
 * enum, a compound, an array and an opaque type. Caller closes. */
static inline hid_t fuzz_h5_type(uint8_t choice) {
    static const hid_t *const fixed[] = {
        &H5T_NATIVE_SCHAR_g, &H5T_NATIVE_UCHAR_g,  &H5T_NATIVE_SHORT_g,  &H5T_NATIVE_USHORT_g, &H5T_NATIVE_INT_g,
        &H5T_NATIVE_UINT_g,  &H5T_NATIVE_LONG_g,   &H5T_NATIVE_ULONG_g,  &H5T_NATIVE_LLONG_g,  &H5T_NATIVE_ULLONG_g,
        &H5T_NATIVE_FLOAT_g, &H5T_NATIVE_DOUBLE_g, &H5T_NATIVE_LDOUBLE_g, &H5T_STD_I16BE_g,    &H5T_STD_U32BE_g,
        &H5T_STD_I64BE_g,    &H5T_IEEE_F32BE_g,    &H5T_IEEE_F64BE_g,    &H5T_NATIVE_B8_g,     &H5T_NATIVE_HBOOL_g};
    const int n_fixed = (int)(sizeof fixed / sizeof fixed[0]);
    H5open(); /* the H5T_* globals are set when the library starts */
    int which = choice % (n_fixed + 7);
    if (which < n_fixed) return H5Tcopy(*fixed[which]);
    hid_t type = H5I_INVALID_HID;
    int value = 0;
    switch (which - n_fixed) {
    case 0: /* IEEE half precision: sign 15, exponent 10..14, mantissa 0..9 */
        type = H5Tcopy(H5T_IEEE_F32LE);
        H5Tset_fields(type, 15, 10, 5, 0, 10);
        H5Tset_size(type, 2);
        H5Tset_precision(type, 16);
        H5Tset_ebias(type, 15);
        return type;
    case 1: type = H5Tcopy(H5T_C_S1); H5Tset_size(type, 1 + choice % 16); return type;
    case 2: type = H5Tcopy(H5T_C_S1); H5Tset_size(type, H5T_VARIABLE); return type;
    case 3:
        type = H5Tenum_create(H5T_NATIVE_INT);
        H5Tenum_insert(type, "zero", &value);
        value = 1;
        H5Tenum_insert(type, "one", &value);
        return type;
    case 4:
        type = H5Tcreate(H5T_COMPOUND, 8);
        H5Tinsert(type, "x", 0, H5T_NATIVE_FLOAT);
        H5Tinsert(type, "y", 4, H5T_NATIVE_INT);
        return type;
    case 5: return H5Tarray_create2(H5T_NATIVE_FLOAT, 1, (hsize_t[]){2});
    default: type = H5Tcreate(H5T_OPAQUE, 4); H5Tset_tag(type, "fuzz"); return type;
    }
}

/* Values worth trying as counts, sizes and labels: the edges of every integer width, and the
 * special floats. */
static const int64_t fuzz_extreme_ints[] = {-1, 2, INT32_MAX, INT32_MIN, (int64_t)1 << 32, (int64_t)1 << 53,
                                            INT64_MAX, INT64_MIN, (int64_t)1 << 62, 255};
static const double fuzz_extreme_floats[] = {NAN, INFINITY, -INFINITY, DBL_MAX, -0.0, 0.5, 1e-310, 1e39};

/* n elements of `type` into out, one byte of the input each: a small integer 0..15, or
 * (extremes) bit 7 set: an entry of fuzz_extreme_floats, clear: one of fuzz_extreme_ints.
 * HDF5 converts them to the type (out-of-range values clip). -1 when it has no conversion. */
static inline int fuzz_h5_elements(fuzz_reader *r, hid_t type, size_t n, int extremes, unsigned char *out) {
    const size_t elem = H5Tget_size(type), wide = elem > 8 ? elem : 8; /* conversions run in place */
    const size_t n_ints = sizeof fuzz_extreme_ints / sizeof fuzz_extreme_ints[0];
    const size_t n_floats = sizeof fuzz_extreme_floats / sizeof fuzz_extreme_floats[0];
    uint8_t *choice = calloc(n + 1, 1);
    int64_t *ints = calloc(n + 1, wide);
    double *floats = calloc(n + 1, wide);
    for (size_t i = 0; i < n; i++) {
        choice[i] = fuzz_u8(r);
        ints[i] = extremes ? fuzz_extreme_ints[choice[i] % n_ints] : choice[i] % 16;
        floats[i] = fuzz_extreme_floats[choice[i] % n_floats];
    }
    int ok = H5Tconvert(H5T_NATIVE_INT64, type, n, ints, NULL, H5P_DEFAULT) >= 0 &&
             (!extremes || H5Tconvert(H5T_NATIVE_DOUBLE, type, n, floats, NULL, H5P_DEFAULT) >= 0);
    for (size_t i = 0; ok && i < n; i++) {
        const void *from = extremes && choice[i] & 0x80 ? (void *)floats : (void *)ints;
        memcpy(out + i * elem, (const unsigned char *)from + i * elem, elem);
    }
    free(floats);
    free(ints);
    free(choice);
    return ok ? 0 : -1;
}

/* Decodes a value: a type byte, a shape byte (rank 0..3, or 4 for a null dataspace), the
 * dims (0..15 each), a mode byte, then the elements: mode % 3 — 0 small integers, 1 the
 * input's raw bytes, 2 extremes (fuzz_h5_elements; raw bytes where HDF5 cannot convert).
 * Variable-length strings take texts (fuzz_text). Returns 0, or -1 when HDF5 refuses the
 * type or shape (nothing to free then). */
static inline int fuzz_h5_value_read(fuzz_reader *r, fuzz_h5_value *v) {
    memset(v, 0, sizeof *v);
    v->type = fuzz_h5_type(fuzz_u8(r));
    const int rank = fuzz_u8(r) % 5;
    hsize_t dims[3] = {0, 0, 0};
    v->n = rank == 4 ? 0 : 1;
    for (int i = 0; i < rank && i < 3; i++) dims[i] = fuzz_u8(r) % 16, v->n *= (size_t)dims[i];
    v->space = rank == 0 ? H5Screate(H5S_SCALAR) : rank == 4 ? H5Screate(H5S_NULL) : H5Screate_simple(rank, dims, NULL);
    if (v->type < 0 || v->space < 0) {
        if (v->type >= 0) H5Tclose(v->type);
        if (v->space >= 0) H5Sclose(v->space);
        memset(v, 0, sizeof *v);
        return -1;
    }
    const int mode = fuzz_u8(r) % 3;
    if (H5Tis_variable_str(v->type) > 0) {
        v->texts = calloc(v->n + 1, sizeof *v->texts);
        v->buf = calloc(v->n + 1, sizeof(char *));
        for (size_t i = 0; i < v->n; i++) ((char **)v->buf)[i] = (char *)fuzz_text(r, v->texts[i]);
        return 0;
    }
    const size_t elem = H5Tget_size(v->type);
    v->buf = calloc(v->n + 1, elem);
    if (mode == 1 || fuzz_h5_elements(r, v->type, v->n, mode == 2, v->buf) != 0) fuzz_bytes(r, v->buf, v->n * elem);
    return 0;
}

static inline void fuzz_h5_value_free(fuzz_h5_value *v) {
    if (v->type > 0) H5Tclose(v->type);
    if (v->space > 0) H5Sclose(v->space);
    free(v->buf);
    free(v->texts);
    memset(v, 0, sizeof *v);
}

/* Creates dataset `name` at loc holding v, without time stamps (like detrain's writer), laid
 * out as `layout` says: 0 contiguous, 1 compact, 2 chunked and deflated (one chunk); a layout
 * HDF5 refuses for this shape falls back to contiguous. Negative when HDF5 refuses. */
static inline herr_t fuzz_h5_put_dataset(hid_t loc, const char *name, const fuzz_h5_value *v, int layout) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    H5Pset_create_intermediate_group(lcpl, 1); /* "g/features" makes g */
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_ndims(v->space);
    if (layout == 1) H5Pset_layout(dcpl, H5D_COMPACT);
    if (layout == 2 && rank > 0 && H5Sget_simple_extent_dims(v->space, dims, NULL) == rank) {
        for (int i = 0; i < rank; i++) dims[i] = dims[i] ? dims[i] : 1;
        H5Pset_chunk(dcpl, rank, dims);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t dataset = H5Dcreate2(loc, name, v->type, v->space, lcpl, dcpl, H5P_DEFAULT);
    if (dataset < 0 && layout != 0) {
        H5Pclose(dcpl);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, 0);
        dataset = H5Dcreate2(loc, name, v->type, v->space, lcpl, dcpl, H5P_DEFAULT);
    }
    herr_t status = dataset < 0 ? -1 : v->n ? H5Dwrite(dataset, v->type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v->buf) : 0;
    if (dataset >= 0) H5Dclose(dataset);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    return status;
}

/* Creates attribute `name` of object `object` (a path from loc) holding v. Negative when
 * HDF5 refuses. */
static inline herr_t fuzz_h5_put_attr(hid_t loc, const char *object, const char *name, const fuzz_h5_value *v) {
    hid_t attr = H5Acreate_by_name(loc, object, name, v->type, v->space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = attr < 0 ? -1 : v->n ? H5Awrite(attr, v->type, v->buf) : 0;
    if (attr >= 0) H5Aclose(attr);
    return status;
}

/* The bytes of an open in-memory file (core driver) after a flush, malloc'ed (*size bytes);
 * NULL when HDF5 fails. */
static inline unsigned char *fuzz_h5_image(hid_t file, size_t *size) {
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) return NULL;
    ssize_t n = H5Fget_file_image(file, NULL, 0);
    unsigned char *image = n > 0 ? malloc((size_t)n) : NULL;
    if (image && H5Fget_file_image(file, image, (size_t)n) != n) {
        free(image);
        image = NULL;
    }
    *size = image ? (size_t)n : 0;
    return image;
}

#endif
