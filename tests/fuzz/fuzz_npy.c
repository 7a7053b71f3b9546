/* fuzz_npy.c — NumPy .npy files and .npz archives through dt_dataset_load ("format": "npy").
 *
 * Input: a selector byte, then the bytes of one file (a .npy, a .npz, or anything). Selector
 * bits: 0 — the bytes are the labels file and the features a fixed valid .npy (else the bytes
 * are the features file); 1 — regression targets (else 10 classes); 2 — with the bytes as the
 * features file: no labels file, the labels come from the bytes when they are a .npz (else the
 * fixed labels .npy is the labels file); 3 — labels optional (predict); 4..5 — data limit
 * 0..3; 6 — the .npz array names are "X" and "y" (else "features" and "labels"). The fixed
 * files: features (3, 4) float32 and labels (3) int64, both little-endian, format 1.0. */
#include "data/data.h"
#include "fuzz_util.h"

static char features_path[600], labels_path[600], input_path[600];

/* Writes a version 1.0 .npy file: magic, header dict padded with spaces to a multiple of 64
 * bytes and ended by '\n', then the data. */
static void write_npy(const char *path, const char *descr, const char *shape, const void *data, size_t n_bytes) {
    unsigned char file[256];
    char header[128];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    while ((10 + n + 1) % 64) header[n++] = ' ';
    header[n++] = '\n';
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (unsigned char)(n & 0xff);
    file[9] = (unsigned char)(n >> 8);
    memcpy(file + 10, header, (size_t)n);
    memcpy(file + 10 + n, data, n_bytes);
    fuzz_write_file(path, file, 10 + (size_t)n + n_bytes);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const float features[12] = {0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 7.5f}; /* little-endian host */
    const int64_t labels[3] = {0, 2, 1};
    write_npy(fuzz_path(features_path, sizeof features_path, "features.npy"), "<f4", "(3, 4)", features, sizeof features);
    write_npy(fuzz_path(labels_path, sizeof labels_path, "labels.npy"), "<i8", "(3,)", labels, sizeof labels);
    fuzz_path(input_path, sizeof input_path, "input.npy");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > FUZZ_MAX_INPUT) return 0;
    const uint8_t selector = data[0];
    const int is_labels = selector & 1, regression = selector & 2, from_archive = selector & 4;
    fuzz_write_file(input_path, data + 1, size - 1);
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_NPY;
    snprintf(src.path, sizeof src.path, "%s", is_labels ? features_path : input_path);
    if (is_labels) snprintf(src.labels_path, sizeof src.labels_path, "%s", input_path);
    else if (!from_archive) snprintf(src.labels_path, sizeof src.labels_path, "%s", labels_path);
    snprintf(src.features_array, sizeof src.features_array, "%s", selector & 0x40 ? "X" : "features");
    snprintf(src.labels_array, sizeof src.labels_array, "%s", selector & 0x40 ? "y" : "labels");
    src.limit = (selector >> 4) & 3;
    dt_data_expect expect = {4, regression ? 0 : 10, (selector & 8) != 0};
    dt_dataset ds;
    dt_error err = {""};
    dt_status status = dt_dataset_load(&ds, &src, &expect, &err);
    fuzz_check_error(status, &err);
    dt_dataset_free(&ds);
    return 0;
}
