/* fuzz_runs.c — the runs index reading a run folder's manifest.json: the input is written as
 * <scratch>/runs/r/manifest.json, `detrain runs --rescan` reads it into the index, and a
 * listing filters and sorts on manifest keys (every other input: with the manifests, compared
 * as runs --compare does). None may hit a memory error; a manifest that cannot be indexed is
 * skipped, and any failure is one line. */
#include "registry/runs.h"
#include "fuzz_util.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char root[4096], manifest[4200];
    if (size > FUZZ_MAX_INPUT) return 0;
    if (!root[0]) {
        fuzz_path(root, sizeof root, "runs");
        snprintf(manifest, sizeof manifest, "%s/r", root);
        if (mkdir(root, 0755) != 0 || mkdir(manifest, 0755) != 0) fuzz_fail("cannot make the runs folder", root);
        snprintf(manifest, sizeof manifest, "%s/r/manifest.json", root);
    }
    fuzz_write_file(manifest, data, size);
    dt_runs_query q = {.root = root, .where = {"final.test_accuracy>0.5", "experiment!=x"}, .n_where = 2,
                       .sort = "-config.optimizer.lr", .compare = size & 1, .rescan = 1};
    dt_error err = {""};
    dt_runs_listing listing;
    dt_status status = dt_runs_list(&q, &listing, &err);
    if (status == DT_OK && q.compare && listing.n_rows == 1) {
        const cJSON *manifests[1] = {listing.rows[0].manifest};
        dt_runs_comparison comparison;
        status = dt_runs_compare(manifests, 1, &comparison, &err);
        if (status == DT_OK) dt_runs_comparison_free(&comparison);
    }
    dt_runs_listing_free(&listing);
    fuzz_check_error(status, &err);
    return 0;
}
