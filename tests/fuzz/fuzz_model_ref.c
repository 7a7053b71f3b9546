/* fuzz_model_ref.c — model references (NAME/VERSION, NAME@ALIAS) on arbitrary text, resolved
 * against a real registry database made once per process: model 'spiral' with versions 1 and 2
 * (their stored files absent) and the alias 'production'. dt_registry_resolve must accept or
 * reject every text without a memory error, and a rejection must be one line. */
#include "registry/db.h"
#include "registry/registry.h"
#include "fuzz_util.h"

static const char *registry(void) {
    static char path[4096];
    if (path[0]) return path;
    fuzz_path(path, sizeof path, "detrain.sqlite");
    dt_db db;
    dt_error err = {""};
    dt_status status = dt_db_open(&db, path, 1, &err);
    if (status == DT_OK)
        status = dt_db_exec(&db,
                            "INSERT INTO models VALUES('spiral', 1, 'a1', 'm1', 't1', 'p1', 'r1', '{}', NULL, 'f@h', 'now');"
                            "INSERT INTO models VALUES('spiral', 2, 'a2', 'm2', 't2', 'p2', 'r2', '{}', NULL, 'f@h', 'now');"
                            "INSERT INTO aliases VALUES('spiral', 'production', 2);",
                            "making the fuzz registry", &err);
    dt_db_close(&db);
    if (status != DT_OK) fuzz_fail("cannot make the registry", err.message);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 512) return 0;
    char ref[513];
    memcpy(ref, data, size);
    ref[size] = '\0';
    if (strlen(ref) != size) return 0; /* a reference is a C string: no NUL inside */
    dt_model_version v;
    dt_error err = {""};
    const dt_status status = dt_registry_resolve(registry(), ref, &v, &err);
    /* Only unknown or malformed references and missing stored files can be met here. */
    if (status == DT_OK) fuzz_fail("a version resolved although its stored files are absent", ref);
    fuzz_check_error(status, &err);
    return 0;
}
