/* data.h — datasets resident in memory: IDX (raw or .gz), CSV, HDF5 and NumPy loaders.
 *
 * A loader reads the whole file, records its path, size and SHA-256, checks it
 * (magic, sizes, counts, numeric cells, finite values, label range) and fills a
 * dt_dataset. Any problem is DT_DATA (DT_IO for a missing/unreadable file) with
 * one line naming the file and, where it applies, the line:column or index. */
#ifndef DT_DATA_H
#define DT_DATA_H

#include <stdint.h>
#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

#define DT_MAX_DATA_FILES 4

typedef struct {
    char path[DT_PATH_MAX];
    int64_t size_bytes;
    char sha256[65];               /* lowercase hex of the file's bytes */
} dt_file_record;

typedef struct {
    int64_t n_samples;
    int32_t n_features;
    float *features;               /* (n_samples, n_features) row-major, owned */
    int32_t *labels;               /* (n_samples) class indices; NULL for regression targets */
    float *targets;                /* (n_samples, n_targets) regression targets; NULL for classes */
    int32_t n_targets;             /* columns of targets; 0 with labels */
    int n_files;
    dt_file_record files[DT_MAX_DATA_FILES];
} dt_dataset;

/* What the loader must know to check the data against the model. */
typedef struct {
    int32_t n_features;            /* expected features per sample (model.input_size) */
    int32_t n_classes;             /* classification: labels must lie in [0, n_classes);
                                      0 = regression: labels are read as float targets */
    int labels_optional;           /* 1 (predict): a source without labels (csv: no label
                                      column; hdf5: no labels dataset; idx: no labels file)
                                      loads its features only: labels, targets NULL */
} dt_data_expect;

/* Loads `src` (all formats; applies src->limit) and checks it against `expect`.
 * Features are raw values converted to float (no normalisation). On failure the
 * dataset is left empty (nothing to free). */
dt_status dt_dataset_load(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect,
                          dt_error *err);

/* Format-specific loaders called by dt_dataset_load (same contract). */
dt_status dt_load_idx(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err);
dt_status dt_load_csv(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err);
dt_status dt_load_hdf5(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err);
dt_status dt_load_npy(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err);

/* For a loader that finds bytes it cannot read: DT_DATA "path: this is a NumPy .npy file, not
 * IDX; use "format": "npy"" when the first bytes show another format (NumPy .npy or .npz,
 * HDF5, IDX, or text for CSV) than `reading`; DT_OK (err untouched) when they show nothing else. */
dt_status dt_data_misformat(const char *path, const unsigned char *bytes, size_t n_bytes, dt_data_format reading,
                            dt_error *err);

/* Normalises train, test and validation features (test, validation may be NULL) in place as
 * the config says. Standardize uses per-feature mean and standard deviation of the training
 * set (computed in double, samples in ascending order; std 0 is treated as 1). */
dt_status dt_dataset_normalize(dt_dataset *train, dt_dataset *test, dt_dataset *validation, const dt_config *cfg,
                               dt_error *err);

/* Per-feature mean and population standard deviation of ds as `standardize` computes them
 * (double, samples ascending; a zero deviation becomes 1). mean, std: (n_features). */
void dt_dataset_feature_moments(const dt_dataset *ds, double *mean, double *std);

/* Standardizes ds in place with given moments, as `standardize` does: x = (float)((x - mean)
 * / std). DT_DATA naming the first feature that becomes non-finite. */
dt_status dt_dataset_standardize(dt_dataset *ds, const double *mean, const double *std, dt_error *err);

/* Frees what the dataset owns and zeroes it. Safe on a zeroed dataset. */
void dt_dataset_free(dt_dataset *ds);

/* Reads a whole file into a malloc'ed buffer (decompressing gzip when the file starts
 * with the gzip magic) and records the ON-DISK bytes' size and SHA-256 in rec.
 * Caller frees *bytes. DT_IO for missing/unreadable, DT_DATA for a corrupt gzip. */
dt_status dt_read_file(const char *path, unsigned char **bytes, size_t *n_bytes, dt_file_record *rec,
                       dt_error *err);

#endif
