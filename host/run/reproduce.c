/* reproduce.c — a registered model re-proven from its stored record (reproduce.h). */
#include "reproduce.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

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

dt_status dt_reproduce_open(const char *db_path, const char *ref, dt_reproduction *r, dt_error *err) {
    dt_model_version *v = &r->version;
    char *text = NULL;
    size_t size = 0;
    cJSON *manifest = NULL;
    dt_status status = DT_OK;
    r->dir[0] = '\0';
    DT_TRY(dt_registry_resolve(db_path, ref, v, err));
    DT_TRY(dt_make_temp_dir("detrain-reproduce-", r->dir, sizeof r->dir, err));
    DT_TRY(dt_registry_materialize(v, r->dir, err));
    /* The stored record must end where the registered model ends, or a match proves nothing. */
    DT_TRY(dt_read_text(v->manifest, &text, &size, err));
    manifest = cJSON_ParseWithLength(text, size);
    if (!records_digest(manifest, v->params_sha256))
        status = dt_fail(err, DT_CHECKPOINT, "%s/%lld: the stored record lists no checkpoint with the registered digest",
                         v->name, (long long)v->version);
cleanup:
    cJSON_Delete(manifest);
    free(text);
    return status;
}

void dt_reproduce_close(dt_reproduction *r) {
    if (r->dir[0]) dt_remove_run_dir(r->dir);
    r->dir[0] = '\0';
}
