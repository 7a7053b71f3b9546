/* fuzz_opdump.c — an op dump (bisect, --dump-ops; records/optrace.h) read back.
 *
 * Input: the dump's text. When dt_op_trace_read accepts it: the trace compares equal to
 * itself, and written out and read again it compares equal to what was read (the same steps,
 * names, digests and values). */
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "records/optrace.h"

static char dump_path[600], again_path[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_path(dump_path, sizeof dump_path, "ops.json");
    fuzz_path(again_path, sizeof again_path, "ops-again.json");
    return 0;
}

/* The trace read from again_path must equal t, op for op. */
static void check_round_trip(const dt_op_trace *t, const cJSON *meta) {
    dt_op_trace again;
    dt_op_divergence d;
    cJSON *meta_again = NULL;
    dt_error err = {""};
    dt_op_trace_init(&again, 0, -1, 0, -1);
    dt_status status = dt_op_trace_write(t, meta, again_path, &err);
    if (status != DT_OK) fuzz_fail("an accepted dump could not be written back", err.message);
    status = dt_op_trace_read(again_path, &again, &meta_again, &err);
    if (status != DT_OK) fuzz_fail("a dump written back is refused", err.message);
    dt_op_trace_compare(t, &again, &d);
    if (d.found || again.n_steps != t->n_steps) fuzz_fail("a dump written back differs", again_path);
    cJSON_Delete(meta_again);
    dt_op_trace_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT) return 0;
    fuzz_write_file(dump_path, data, size);
    dt_op_trace t;
    dt_op_divergence d;
    cJSON *meta = NULL;
    dt_error err = {""};
    dt_op_trace_init(&t, 0, -1, 0, -1);
    dt_status status = dt_op_trace_read(dump_path, &t, &meta, &err);
    fuzz_check_error(status, &err);
    if (status == DT_OK) {
        dt_op_trace_compare(&t, &t, &d);
        if (d.found) fuzz_fail("a dump differs from itself at", d.a->name);
        check_round_trip(&t, meta);
    }
    cJSON_Delete(meta);
    dt_op_trace_free(&t);
    return 0;
}
