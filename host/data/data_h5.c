/* data_h5.c — HDF5 files: a features dataset (n_samples, n_features) of any integer or
 * float type, and a labels dataset (n_samples) — or (n_samples, n_targets) for regression.
 *
 * The file is read once with dt_read_file (which records its size and SHA-256) and HDF5
 * opens that image from memory (core driver), so the bytes parsed are the bytes hashed.
 * HDF5's automatic error printing is off while loading; every call is checked. */
#include "data.h"
#include "core/h5util.h"
#include "core/memory.h"

#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One opened dataset with its dataspace, type and shape. */
typedef struct {
    const char *name;
    hid_t dataset, space, type;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
} h5_array;

/* Evaluates an HDF5 call; a negative result reports `...` (printf-style) as DT_DATA about
 * the data file and jumps to cleanup (see h5util.h). */
#define CHECK_H5(expr, ...) DT_CHECK_H5(DT_DATA, path, expr, __VA_ARGS__)

/* Name of an HDF5 type class for messages. */
static const char *class_name(H5T_class_t type_class) {
    switch (type_class) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    default: return "non-numeric";
    }
}

/* Opens dataset a->name of file and reads its shape; checks that it holds integers or
 * floats. The caller closes a with close_array, also on failure. */
/* H5Literate callback: appends a dataset's name to the list in data (512 bytes). */
static herr_t add_dataset_name(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    char *out = data;
    const hid_t object = H5Oopen(group, name, H5P_DEFAULT);
    const int is_dataset = object >= 0 && H5Iget_type(object) == H5I_DATASET;
    if (object >= 0) H5Oclose(object);
    const size_t used = strlen(out), size = 512;
    if (is_dataset && used + strlen(name) + 8 < size) snprintf(out + used, size - used, "%s'%s'", used ? ", " : "", name);
    return 0;
}

/* The root group's datasets as "'x', 'y'", or "no dataset at its root", into out (512 bytes). */
static void list_datasets(hid_t file, char *out, size_t size) {
    char names[512] = "";
    hsize_t index = 0;
    H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, &index, add_dataset_name, names);
    snprintf(out, size, "%s", names[0] ? names : "no dataset at its root");
}

static dt_status open_array(hid_t file, const char *path, h5_array *a, dt_error *err) {
    dt_status status = DT_OK;
    H5T_class_t type_class;
    hid_t dcpl = H5I_INVALID_HID;
    htri_t exists = 0;
    if (a->name[0]) CHECK_H5(exists = H5Lexists(file, a->name, H5P_DEFAULT), "looking for dataset '%s'", a->name);
    if (!exists) {
        char found[512];
        list_datasets(file, found, sizeof found);
        status = dt_fail(err, DT_DATA, "%s: no dataset '%s' (the file holds %s; name yours with the source's "
                         "features_dataset and labels_dataset)", path, a->name, found);
        goto cleanup;
    }
    CHECK_H5(a->dataset = H5Dopen2(file, a->name, H5P_DEFAULT), "no dataset '%s'", a->name);
    CHECK_H5(a->space = H5Dget_space(a->dataset), "dataset '%s': reading its dataspace", a->name);
    CHECK_H5(a->rank = H5Sget_simple_extent_ndims(a->space), "dataset '%s': reading its rank", a->name);
    CHECK_H5(H5Sget_simple_extent_dims(a->space, a->dims, NULL), "dataset '%s': reading its shape", a->name);
    CHECK_H5(a->type = H5Dget_type(a->dataset), "dataset '%s': reading its type", a->name);
    CHECK_H5(type_class = H5Tget_class(a->type), "dataset '%s': reading its type class", a->name);
    if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
        status = dt_fail(err, DT_DATA, "%s: dataset '%s' holds %s values, expected integers or floats", path,
                         a->name, class_name(type_class));
        goto cleanup;
    }
    /* A contiguous dataset stores every value: one that stores fewer bytes than its shape
     * declares is truncated or damaged, and must not size an allocation (a 1.7 KB file may
     * declare gigabytes). Chunked datasets are compressed or sparse and are read as they are. */
    CHECK_H5(dcpl = H5Dget_create_plist(a->dataset), "dataset '%s': reading its layout", a->name);
    if (H5Pget_layout(dcpl) == H5D_CONTIGUOUS) {
        hssize_t points;
        CHECK_H5(points = H5Sget_simple_extent_npoints(a->space), "dataset '%s': reading its size", a->name);
        const size_t elem = H5Tget_size(a->type);
        const hsize_t stored = H5Dget_storage_size(a->dataset);
        if (elem == 0 || (hsize_t)points > stored / elem)
            status = dt_fail(err, DT_DATA, "%s: dataset '%s' declares %lld values of %zu bytes but stores %llu bytes: "
                             "the file is truncated or damaged", path, a->name, (long long)points, elem,
                             (unsigned long long)stored);
    }
cleanup:
    if (dcpl >= 0) H5Pclose(dcpl);
    return status;
}

/* Closes what open_array opened (handles < 0 are skipped). */
static void close_array(h5_array *a) {
    if (a->type >= 0) H5Tclose(a->type);
    if (a->space >= 0) H5Sclose(a->space);
    if (a->dataset >= 0) H5Dclose(a->dataset);
    a->type = a->space = a->dataset = H5I_INVALID_HID;
}

/* Checks the shapes against each other and expect: features (n, d) with d ==
 * expect->n_features and n > 0; labels (n), or (n, t) for regression. */
static dt_status check_shapes(const h5_array *features, const h5_array *labels, const char *path,
                              const dt_data_expect *expect, dt_error *err) {
    if (features->rank != 2)
        return dt_fail(err, DT_DATA, "%s: dataset '%s' has rank %d, expected 2 (samples, features)", path,
                       features->name, features->rank);
    if (features->dims[0] == 0) return dt_fail(err, DT_DATA, "%s: dataset '%s' has no samples", path, features->name);
    if (features->dims[1] != (hsize_t)(expect->n_features > 0 ? expect->n_features : 0) || features->dims[1] == 0)
        return dt_fail(err, DT_DATA, "%s: samples have %llu features, model.input_size is %d", path,
                       (unsigned long long)features->dims[1], expect->n_features);
    int regression = expect->n_classes <= 0;
    if (labels->rank != 1 && !(regression && labels->rank == 2))
        return dt_fail(err, DT_DATA, "%s: dataset '%s' has rank %d, expected %s", path, labels->name, labels->rank,
                       regression ? "1 (samples) or 2 (samples, targets)" : "1 (samples)");
    if (labels->dims[0] != features->dims[0])
        return dt_fail(err, DT_DATA, "%s: dataset '%s' has %llu samples but '%s' has %llu", path, features->name,
                       (unsigned long long)features->dims[0], labels->name, (unsigned long long)labels->dims[0]);
    if (labels->rank == 2 && (labels->dims[1] == 0 || labels->dims[1] > INT32_MAX))
        return dt_fail(err, DT_DATA, "%s: dataset '%s' has %llu targets per sample", path, labels->name,
                       (unsigned long long)labels->dims[1]);
    return DT_OK;
}

/* DT_DATA naming the first feature that is not finite. features: (n_samples, n_features). */
static dt_status check_finite(const float *features, size_t n_samples, size_t n_features, const char *path,
                              dt_error *err) {
    for (size_t i = 0; i < n_samples * n_features; i++)
        if (!isfinite(features[i]))
            return dt_fail(err, DT_DATA, "%s: feature at sample %zu, index %zu is not finite (%g)", path,
                           i / n_features, i % n_features, (double)features[i]);
    return DT_OK;
}

/* Converts labels read as doubles: class indices in [0, n_classes) into ds->labels, or
 * finite float targets into ds->targets. values: (n_samples, n_targets). */
static dt_status convert_labels(dt_dataset *ds, const double *values, int32_t n_classes, const char *path,
                                const char *name, dt_error *err) {
    size_t n_values = (size_t)ds->n_samples * (size_t)(ds->n_targets ? ds->n_targets : 1);
    for (size_t i = 0; i < n_values; i++) {
        double value = values[i];
        if (n_classes <= 0) {
            if (!isfinite(value) || fabs(value) > FLT_MAX)
                return dt_fail(err, DT_DATA, "%s: '%s' target %g at index %zu is not a finite float", path, name,
                               value, i);
            ds->targets[i] = (float)value;
        } else if (value != floor(value)) {
            return dt_fail(err, DT_DATA, "%s: '%s' label %.17g at index %zu is not an integer", path, name, value, i);
        } else if (!(value >= 0 && value < n_classes)) {
            return dt_fail(err, DT_DATA, "%s: '%s' label %.17g at index %zu is outside [0, %d), the output layer's "
                           "units (model.layers[-1].units)", path, name, value, i, n_classes);
        } else {
            ds->labels[i] = (int32_t)value;
        }
    }
    return DT_OK;
}

/* Opens an HDF5 file image held in memory (copied by HDF5) read-only; *file < 0 on failure. */
static dt_status open_image(unsigned char *bytes, size_t n_bytes, const char *path, hid_t *file, dt_error *err) {
    dt_status status = DT_OK;
    hid_t fapl = H5I_INVALID_HID;
    /* With no image the core driver would read the path from disk: refuse an empty file here. */
    if (n_bytes == 0) return dt_fail(err, DT_DATA, "%s: not an HDF5 file (it is empty)", path);
    CHECK_H5(fapl = H5Pcreate(H5P_FILE_ACCESS), "creating a file access list");
    CHECK_H5(H5Pset_fapl_core(fapl, 1 << 20, 0), "selecting the in-memory driver");
    CHECK_H5(H5Pset_file_image(fapl, bytes, n_bytes), "handing over the file image");
    /* The core driver refuses an image whose name exists on disk, and HDF5 takes two open
     * files of the same name for one: name the image after the path, under /dev/null/ so
     * that it can never exist. */
    char image_name[DT_PATH_MAX + 32];
    snprintf(image_name, sizeof image_name, "/dev/null/detrain-image:%s", path);
    CHECK_H5(*file = H5Fopen(image_name, H5F_ACC_RDONLY, fapl), "not an HDF5 file");
cleanup:
    if (fapl >= 0) H5Pclose(fapl);
    return status;
}

/* Features only (no labels dataset, and labels are optional): reads `features` (n, d) into
 * ds->features, whose n_samples and n_features are set; ds owns what it holds on failure too. */
static dt_status read_features_only(dt_dataset *ds, const h5_array *features, const char *path, dt_error *err) {
    dt_status status = DT_OK;
    size_t bytes;
    if (__builtin_mul_overflow((size_t)features->dims[0], (size_t)features->dims[1] * sizeof(float), &bytes))
        return dt_fail(err, DT_DATA, "%s: dataset '%s' is too large", path, features->name);
    DT_TRY(dt_memory_check((int64_t)bytes, DT_DATA, path, "its samples as float32", err));
    ds->features = malloc(bytes + 1);
    if (!ds->features)
        return dt_fail(err, DT_NOMEM, "%s: out of memory for %lld samples", path, (long long)ds->n_samples);
    CHECK_H5(H5Dread(features->dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->features),
             "reading dataset '%s'", features->name);
    DT_TRY(check_finite(ds->features, (size_t)ds->n_samples, (size_t)ds->n_features, path, err));
cleanup:
    return status;
}

/* Reads `features` (n, d) and `labels` (n) or (n, t), checked against each other, into ds
 * (whose n_samples and n_features are set): class indices or float targets as expect says;
 * ds owns what it holds on failure too. */
static dt_status read_features_and_labels(dt_dataset *ds, const h5_array *features, const h5_array *labels,
                                          const char *path, const dt_data_expect *expect, dt_error *err) {
    dt_status status = DT_OK;
    double *label_values = NULL;
    ds->n_targets = expect->n_classes > 0 ? 0 : (labels->rank == 2 ? (int32_t)labels->dims[1] : 1);
    size_t n_targets = (size_t)(ds->n_targets ? ds->n_targets : 1), feature_bytes, label_bytes;
    if (__builtin_mul_overflow((size_t)features->dims[0], (size_t)features->dims[1] * sizeof(float), &feature_bytes) ||
        __builtin_mul_overflow((size_t)features->dims[0], n_targets * sizeof(double), &label_bytes))
        return dt_fail(err, DT_DATA, "%s: datasets '%s' and '%s' are too large", path, features->name, labels->name);
    const size_t n_values = (size_t)ds->n_samples * n_targets;
    DT_TRY(dt_memory_check((int64_t)(feature_bytes + label_bytes), DT_DATA, path, "its samples as float32", err));
    ds->features = malloc(feature_bytes);
    label_values = malloc(label_bytes);
    if (expect->n_classes > 0) ds->labels = malloc(n_values * sizeof(int32_t));
    else ds->targets = malloc(n_values * sizeof(float));
    if (!ds->features || !label_values || (!ds->labels && !ds->targets)) {
        status = dt_fail(err, DT_NOMEM, "%s: out of memory for %lld samples", path, (long long)ds->n_samples);
        goto cleanup;
    }
    CHECK_H5(H5Dread(features->dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->features),
             "reading dataset '%s'", features->name);
    CHECK_H5(H5Dread(labels->dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, label_values),
             "reading dataset '%s'", labels->name);
    DT_TRY(check_finite(ds->features, (size_t)ds->n_samples, (size_t)ds->n_features, path, err));
    DT_TRY(convert_labels(ds, label_values, expect->n_classes, path, labels->name, err));
cleanup:
    free(label_values);
    return status;
}

/* Reads both datasets of an open file into ds after checking them (the features alone when
 * the labels are optional and absent). */
static dt_status read_arrays(dt_dataset *ds, hid_t file, const dt_data_source *src, const dt_data_expect *expect,
                             dt_error *err) {
    dt_status status = DT_OK;
    const char *path = src->path;
    h5_array features = {src->features_dataset, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0, {0}};
    h5_array labels = {src->labels_dataset, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0, {0}};
    htri_t has_labels = 1;
    DT_TRY(open_array(file, path, &features, err));
    if (expect->labels_optional)
        CHECK_H5(has_labels = H5Lexists(file, labels.name, H5P_DEFAULT), "looking for dataset '%s'", labels.name);
    if (!has_labels) {
        labels.rank = 1; /* features only: a stand-in with one "label" per sample */
        labels.dims[0] = features.dims[0];
    } else {
        DT_TRY(open_array(file, path, &labels, err));
    }
    DT_TRY(check_shapes(&features, &labels, path, expect, err));
    ds->n_samples = (int64_t)features.dims[0];
    ds->n_features = (int32_t)features.dims[1];
    if (!has_labels) DT_TRY(read_features_only(ds, &features, path, err));
    else DT_TRY(read_features_and_labels(ds, &features, &labels, path, expect, err));
cleanup:
    close_array(&labels);
    close_array(&features);
    return status;
}

dt_status dt_load_hdf5(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err) {
    dt_status status = DT_OK;
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    hid_t file = H5I_INVALID_HID;
    dt_h5_quiet quiet;
    memset(ds, 0, sizeof *ds);
    dt_h5_quiet_begin(&quiet); /* failures become our one-line messages */

    DT_TRY(dt_read_file(src->path, &bytes, &n_bytes, &ds->files[0], err));
    ds->n_files = 1;
    status = open_image(bytes, n_bytes, src->path, &file, err);
    if (status != DT_OK && dt_data_misformat(src->path, bytes, n_bytes, DT_FORMAT_HDF5, err) != DT_OK)
        status = DT_DATA; /* the message says what the file is instead */
    if (status != DT_OK) goto cleanup;
    free(bytes); /* HDF5 holds its own copy */
    bytes = NULL;
    DT_TRY(read_arrays(ds, file, src, expect, err));
cleanup:
    if (file >= 0) H5Fclose(file);
    free(bytes);
    dt_h5_quiet_end(&quiet);
    if (status != DT_OK) dt_dataset_free(ds);
    return status;
}
