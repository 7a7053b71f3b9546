/* fuzz_set.c — "--set" overrides on a valid config. The input, split at newlines, is up to 8
 * "path=value" arguments applied to a minimal config (an IDX training set, a CSV test set);
 * the same contracts as fuzz_config: no memory error, one-line rejections, and an accepted
 * result whose canonical text is a fixed point. */
#include "core/config.h"
#include "fuzz_util.h"

#define MAX_SETS 8

static const char base_config[] =
    "{\"seed\": 7,"
    " \"data\": {\"train\": {\"format\": \"idx\", \"path\": \"train-images\", \"labels\": \"train-labels\"},"
    "          \"test\": {\"format\": \"csv\", \"path\": \"test.csv\"}},"
    " \"model\": {\"input_size\": 784, \"layers\": [{\"units\": 64}, {\"units\": 10}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dt_config cfg; /* ~70 KB: off the stack */
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* Each line is one argument (a NUL inside a line ends that argument, as in argv). */
    char *sets[MAX_SETS];
    int n_sets = 0;
    for (char *line = text; n_sets < MAX_SETS;) {
        sets[n_sets++] = line;
        char *newline = memchr(line, '\n', size - (size_t)(line - text));
        if (!newline) break;
        *newline = '\0';
        line = newline + 1;
    }
    dt_error err = {""};
    dt_status status = dt_config_parse(&cfg, base_config, "fuzz.json", "/fuzz/base", n_sets, sets, &err);
    fuzz_check_error(status, &err);
    if (status == DT_OK) fuzz_check_round_trip(&cfg);
    free(text);
    return 0;
}
