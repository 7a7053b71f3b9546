/* inspect.c — detrain inspect: what a checkpoint holds, every digest verified (inspect.h). */
#include "inspect.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "runrec.h"

/* When path lies in a run folder whose manifest lists it, checks the file's bytes against the
 * recorded SHA-256 into out->file. DT_CHECKPOINT when they differ. */
static dt_status check_against_manifest(const char *path, dt_inspection *out, dt_error *err) {
    char dir_copy[DT_PATH_MAX], base_copy[DT_PATH_MAX];
    snprintf(dir_copy, sizeof dir_copy, "%s", path);
    snprintf(base_copy, sizeof base_copy, "%s", path);
    const char *dir = dirname(dir_copy), *base = basename(base_copy);
    snprintf(out->run_dir, sizeof out->run_dir, "%s", dir);
    dt_run_record rec;
    dt_error ignored;
    dt_status status = DT_OK;
    if (dt_run_record_load(dir, &rec, &ignored) != DT_OK) {
        dt_run_record_free(&rec);
        out->file = DT_INSPECT_NO_RUN;
        return DT_OK;
    }
    const cJSON *entry, *found = NULL;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(rec.manifest, "checkpoints"))
        if (!strcmp(dt_run_record_string(entry, "file"), base)) found = entry;
    if (!found) {
        out->file = DT_INSPECT_NOT_LISTED;
    } else if ((status = dt_file_sha256(path, out->sha256, err)) == DT_OK) {
        snprintf(out->recorded, sizeof out->recorded, "%s", dt_run_record_string(found, "sha256"));
        out->file = strcmp(out->sha256, out->recorded) ? DT_INSPECT_MISMATCH : DT_INSPECT_MATCH;
        if (out->file == DT_INSPECT_MISMATCH)
            status = dt_fail(err, DT_CHECKPOINT, "%s: the file's SHA-256 %.16s... differs from the one %s/manifest.json "
                             "records (%.16s...)", path, out->sha256, dir, out->recorded);
    }
    dt_run_record_free(&rec);
    return status;
}

dt_status dt_inspect(const char *path, dt_inspection *out, dt_error *err) {
    memset(out, 0, sizeof *out);
    if (!(out->ck = calloc(1, sizeof *out->ck))) return dt_fail(err, DT_NOMEM, "out of memory");
    dt_status status = dt_checkpoint_read(path, out->ck, err);
    if (status == DT_OK && out->ck->cfg && out->ck->n_tensors > 0) status = check_against_manifest(path, out, err);
    return status;
}

void dt_inspection_free(dt_inspection *inspection) {
    if (inspection->ck) dt_checkpoint_free(inspection->ck);
    free(inspection->ck);
    inspection->ck = NULL;
}
