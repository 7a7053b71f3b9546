/* fuzz_h5data.c — arbitrary bytes as an HDF5 data file through dt_dataset_load: datasets
 * "features" (samples, 3) and "labels". Each input is loaded twice: with 5 classes and
 * labels required, and as regression with labels optional (predict), so both readers run.
 * Most inputs stop in libhdf5's own parser (README.md, "Limits of libhdf5"). */
#include "data/data.h"
#include "fuzz_util.h"

static char input_path[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_path(input_path, sizeof input_path, "input.h5");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT) return 0;
    fuzz_write_file(input_path, data, size);
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_HDF5;
    snprintf(src.path, sizeof src.path, "%s", input_path);
    snprintf(src.features_dataset, sizeof src.features_dataset, "features");
    snprintf(src.labels_dataset, sizeof src.labels_dataset, "labels");
    const dt_data_expect expects[2] = {{3, 5, 0}, {3, 0, 1}};
    for (int i = 0; i < 2; i++) {
        dt_dataset ds;
        dt_error err = {""};
        dt_status status = dt_dataset_load(&ds, &src, &expects[i], &err);
        fuzz_check_error(status, &err);
        dt_dataset_free(&ds);
    }
    fuzz_h5_check_ids();
    return 0;
}
