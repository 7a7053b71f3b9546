/* fuzz_checkpoint.c — arbitrary bytes as a checkpoint file: dt_checkpoint_read, then
 * dt_checkpoint_free (also after a failure, as checkpoint.h asks). Most inputs stop in
 * libhdf5's own parser; fuzz_checkpoint_structured reaches detrain's checks with valid files. */
#include "fuzz_util.h"
#include "records/checkpoint.h"

static char input_path[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_path(input_path, sizeof input_path, "input.h5");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dt_checkpoint ck; /* holds the whole tensor table: off the stack */
    if (size > FUZZ_MAX_INPUT) return 0;
    fuzz_write_file(input_path, data, size);
    dt_error err = {""};
    dt_status status = dt_checkpoint_read(input_path, &ck, &err);
    fuzz_check_error(status, &err);
    dt_checkpoint_free(&ck);
    fuzz_h5_check_ids();
    return 0;
}
