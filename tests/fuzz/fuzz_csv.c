/* fuzz_csv.c — CSV files, raw or gzip, through dt_dataset_load.
 *
 * Input: two selector bytes, then the file. First byte: 0 — a header line; 1..2 — the label
 * column: "label", "y" (names), "0", "2" (indices); 3..5 — model.input_size 1..8; 6 —
 * regression targets (else 3 classes); 7 — labels optional (predict). Second byte: 0..1 —
 * the delimiter: ',', ';', tab, space (dt_csv_delimiter). */
#include "data/data.h"
#include "fuzz_util.h"

static char input_path[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_path(input_path, sizeof input_path, "input.csv");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const columns[4] = {"label", "y", "0", "2"};
    if (size < 2 || size > FUZZ_MAX_INPUT) return 0;
    const uint8_t selector = data[0];
    fuzz_write_file(input_path, data + 2, size - 2);
    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_CSV;
    snprintf(src.path, sizeof src.path, "%s", input_path);
    src.header = selector & 1;
    src.delimiter = (dt_csv_delimiter)(data[1] & 3);
    snprintf(src.label_column, sizeof src.label_column, "%s", columns[(selector >> 1) & 3]);
    dt_data_expect expect = {1 + ((selector >> 3) & 7), selector & 0x40 ? 0 : 3, (selector & 0x80) != 0};
    dt_dataset ds;
    dt_error err = {""};
    dt_status status = dt_dataset_load(&ds, &src, &expect, &err);
    fuzz_check_error(status, &err);
    dt_dataset_free(&ds);
    return 0;
}
