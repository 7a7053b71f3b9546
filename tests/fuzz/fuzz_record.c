/* fuzz_record.c — a run folder read back: manifest.json and trace.jsonl.
 *
 * Input: the manifest's text, a NUL, the trace's text (no NUL: no trace.jsonl). When
 * dt_run_record_load accepts the folder: dt_run_config on its manifest (an accepted config's
 * canonical text must be a fixed point), dt_run_anchor_config, and dt_diff against the golden
 * record tests/golden/runs/tiny (its report, a cJSON document, is made and freed). */
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "records/diff.h"
#include "records/runrec.h"

static char run_dir[600], manifest_path[700], trace_path[700];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_path(run_dir, sizeof run_dir, "run");
    if (mkdir(run_dir, 0700) != 0) fuzz_fail("cannot create", run_dir);
    snprintf(manifest_path, sizeof manifest_path, "%s/manifest.json", run_dir);
    snprintf(trace_path, sizeof trace_path, "%s/trace.jsonl", run_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dt_config cfg; /* ~70 KB: off the stack */
    if (size > FUZZ_MAX_INPUT) return 0;
    const uint8_t *nul = memchr(data, '\0', size);
    const size_t manifest_size = nul ? (size_t)(nul - data) : size;
    fuzz_write_file(manifest_path, data, manifest_size);
    if (nul) fuzz_write_file(trace_path, nul + 1, size - manifest_size - 1);
    else unlink(trace_path);

    dt_run_record rec;
    dt_error err = {""};
    dt_status status = dt_run_record_load(run_dir, &rec, &err);
    fuzz_check_error(status, &err);
    if (status == DT_OK) {
        char canonical_sha256[65];
        status = dt_run_config(rec.manifest, manifest_path, &cfg, canonical_sha256, &err);
        fuzz_check_error(status, &err);
        if (status == DT_OK) {
            fuzz_check_round_trip(&cfg);
            dt_run_anchor_config(rec.manifest, &cfg);
        }
        cJSON *report = NULL;
        status = dt_diff(run_dir, DT_FUZZ_GOLDEN_RUN, &report, &err);
        fuzz_check_error(status, &err);
        cJSON_Delete(report);
    }
    dt_run_record_free(&rec);
    return 0;
}
