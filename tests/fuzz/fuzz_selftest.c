/* fuzz_selftest.c — the harness can fail: a target that aborts on inputs starting with
 * "crash". Its CTests expect replay and the fuzz runner to report the committed crasher
 * (WILL_FAIL), so a runner that stops noticing crashes fails CI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 5 && memcmp(data, "crash", 5) == 0) abort();
    return 0;
}
