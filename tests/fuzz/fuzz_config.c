/* fuzz_config.c — the config parser on arbitrary text. dt_config_parse must accept or reject
 * it without a memory error, a rejection must be one line, and an accepted config's canonical
 * text must be a fixed point (fuzz_check_round_trip). A base_dir makes relative paths join it. */
#include "core/config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dt_config cfg; /* ~70 KB: off the stack */
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    dt_error err = {""};
    dt_status status = dt_config_parse(&cfg, text, "fuzz.json", "/fuzz/base", 0, NULL, &err);
    fuzz_check_error(status, &err);
    if (status == DT_OK) fuzz_check_round_trip(&cfg);
    free(text);
    return 0;
}
