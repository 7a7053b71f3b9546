/* fuzz_idx.c — IDX images and labels files, raw or gzip, through dt_dataset_load.
 *
 * Input: a selector byte, then the bytes of one file; the other file is a fixed valid one
 * (3 samples of 2x2 pixels, labels 0 2 1). Selector bits: 0 — the bytes are the labels file
 * (else the images file); 1 — regression targets (else 10 classes); 2 — features only: no
 * labels file, labels optional (the bytes are the images file); 3..4 — data limit 0..3. */
#include "data/data.h"
#include "fuzz_util.h"

static char images_path[600], labels_path[600], input_path[600];

/* The fixed files: IDX big-endian headers, magic 0 0 type dims, then the sizes. */
static const uint8_t valid_images[] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
                                       0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 7};
static const uint8_t valid_labels[] = {0, 0, 0x08, 1, 0, 0, 0, 3, 0, 2, 1};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_write_file(fuzz_path(images_path, sizeof images_path, "images.idx"), valid_images, sizeof valid_images);
    fuzz_write_file(fuzz_path(labels_path, sizeof labels_path, "labels.idx"), valid_labels, sizeof valid_labels);
    fuzz_path(input_path, sizeof input_path, "input.idx");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > FUZZ_MAX_INPUT) return 0;
    const uint8_t selector = data[0];
    const int is_labels = selector & 1, regression = selector & 2, features_only = selector & 4;
    fuzz_write_file(input_path, data + 1, size - 1);
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_IDX;
    snprintf(src.path, sizeof src.path, "%s", is_labels && !features_only ? images_path : input_path);
    if (!features_only) snprintf(src.labels_path, sizeof src.labels_path, "%s", is_labels ? input_path : labels_path);
    src.limit = (selector >> 3) & 3;
    dt_data_expect expect = {4, regression ? 0 : 10, features_only != 0};
    dt_dataset ds;
    dt_error err = {""};
    dt_status status = dt_dataset_load(&ds, &src, &expect, &err);
    fuzz_check_error(status, &err);
    dt_dataset_free(&ds);
    return 0;
}
