/* fuzz_runs.c — the runs index reading a run folder's manifest.json: the input is written as
 * <scratch>/runs/r/manifest.json, `detrain runs --rescan` reads it into the index, and a
 * listing filters and sorts on manifest keys (stdout to /dev/null). Neither may hit a memory
 * error; a manifest that cannot be indexed is skipped, and any failure is one line. */
#include "registry/runs.h"
#include "fuzz_util.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char root[4096], manifest[4200];
    if (size > FUZZ_MAX_INPUT) return 0;
    if (!root[0]) {
        if (!freopen("/dev/null", "w", stdout)) fuzz_fail("cannot silence stdout", "/dev/null");
        fuzz_path(root, sizeof root, "runs");
        snprintf(manifest, sizeof manifest, "%s/r", root);
        if (mkdir(root, 0755) != 0 || mkdir(manifest, 0755) != 0) fuzz_fail("cannot make the runs folder", root);
        snprintf(manifest, sizeof manifest, "%s/r/manifest.json", root);
    }
    fuzz_write_file(manifest, data, size);
    dt_runs_query q = {.root = root, .where = {"final.test_accuracy>0.5", "experiment!=x"}, .n_where = 2,
                       .sort = "-config.optimizer.lr", .json = size & 1, .rescan = 1};
    dt_error err = {""};
    const dt_status status = dt_runs_list(&q, &err);
    fuzz_check_error(status, &err);
    return 0;
}
