/* reproduce.c — a registered model re-proven from its stored record (reproduce.h). */
#include "reproduce.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "registry/registry.h"

/* Whether the record lists a checkpoint (final.h5, best.h5, ...) whose parameter digest is
 * `sha`: the replay checks every listed checkpoint, so it then re-proves the version too. */
static int records_digest(const cJSON *manifest, const char *sha) {
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(manifest, "checkpoints")) {
        const cJSON *digest = cJSON_GetObjectItemCaseSensitive(entry, "params_sha256");
        if (cJSON_IsString(digest) && !strcmp(digest->valuestring, sha)) return 1;
    }
    return 0;
}

dt_status dt_reproduce(const char *db_path, const char *ref, const dt_verify_opts *opts, dt_error *err) {
    dt_model_version v;
    char dir[4096] = "", *text = NULL;
    size_t size = 0;
    cJSON *manifest = NULL;
    dt_status status = DT_OK;
    DT_TRY(dt_registry_resolve(db_path, ref, &v, err));
    DT_TRY(dt_make_temp_dir("detrain-reproduce-", dir, sizeof dir, err));
    DT_TRY(dt_registry_materialize(&v, dir, err));
    /* The stored record must end where the registered model ends, or a match proves nothing. */
    DT_TRY(dt_read_text(v.manifest, &text, &size, err));
    manifest = cJSON_ParseWithLength(text, size);
    if (!records_digest(manifest, v.params_sha256)) {
        status = dt_fail(err, DT_CHECKPOINT, "%s/%lld: the stored record lists no checkpoint with the registered digest",
                         v.name, (long long)v.version);
        goto cleanup;
    }
    printf("reproducing %s/%lld (run %s, params_sha256 %s) from its stored record\n", v.name, (long long)v.version,
           v.run_id, v.params_sha256);
    fflush(stdout);
    status = dt_verify(dir, opts, err);
    if (status == DT_OK) printf("%s/%lld reproduced bit for bit: params_sha256 %s\n", v.name, (long long)v.version,
                                v.params_sha256);
cleanup:
    if (dir[0]) dt_remove_run_dir(dir);
    cJSON_Delete(manifest);
    free(text);
    return status;
}
