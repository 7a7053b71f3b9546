/* certificate.c — reproducibility certificates: made, signed, checked, stored (certificate.h). */
#include "registry/certificate.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "core/fsutil.h"
#include "core/json.h"
#include "core/progress.h"
#include "records/sysinfo.h"
#include "registry/db.h"
#include "version.h"

/* The body's members in canonical order and their JSON types (certificate.h). */
enum { T_STRING, T_INTEGER, T_BOOL, T_STRING_OR_NULL };
static const struct {
    const char *key;
    int type;
} body_members[] = {
    {"format", T_STRING},          {"model", T_STRING},         {"version", T_INTEGER},
    {"run_id", T_STRING},          {"artifact_sha256", T_STRING}, {"params_sha256", T_STRING_OR_NULL},
    {"bit_identical", T_BOOL},     {"steps", T_INTEGER},        {"from_step", T_INTEGER},
    {"mode", T_STRING},            {"device", T_STRING},        {"machine", T_STRING},
    {"machine_from", T_STRING},    {"detrain_version", T_STRING}, {"detrain_commit", T_STRING},
    {"date", T_STRING},            {"who", T_STRING},           {"key_id", T_STRING},
};
#define N_BODY ((int)(sizeof body_members / sizeof body_members[0]))
#define VERSIONS_OF_RUN_MAX 64 /* versions of one run that dt_registry_versions_of_run finds */

void dt_machine_describe(const char *simd, const char *gpu, char *out, size_t size, const char **from) {
    const char *test = getenv("DETRAIN_TEST_MACHINE");
    *from = "detected";
    if (test && *test) {
        *from = "DETRAIN_TEST_MACHINE";
        snprintf(out, size, "%s", test);
    } else if (gpu && *gpu) {
        snprintf(out, size, "%s", gpu);
    } else {
        dt_sysinfo info;
        struct utsname u;
        char arch[80] = "unknown", path[32];
        dt_sysinfo_read(&info);
        if (uname(&u) == 0) snprintf(arch, sizeof arch, "%s", strcmp(u.machine, "x86_64") ? u.machine : "x86-64");
        size_t i = 0;
        for (; simd && simd[i] && i < sizeof path - 1; i++) path[i] = (char)toupper((unsigned char)simd[i]);
        path[i] = '\0';
        snprintf(out, size, "%.63s %.31s (%.255s)", arch, i ? path : "SCALAR", info.cpu_model);
    }
}

/* Whether item is a JSON integer detrain writes exactly (0 <= value < 2^53). */
static int is_count(const cJSON *item) {
    return cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble < 9007199254740992.0 &&
           floor(item->valuedouble) == item->valuedouble;
}

/* Whether item has the member type `type`. */
static int has_type(const cJSON *item, int type) {
    switch (type) {
    case T_STRING: return cJSON_IsString(item);
    case T_INTEGER: return is_count(item);
    case T_BOOL: return cJSON_IsBool(item);
    default: return cJSON_IsString(item) || cJSON_IsNull(item);
    }
}

/* A fresh copy of a member's value (numbers rebuilt from their value, not their text). */
static cJSON *copy_member(const cJSON *item) {
    if (cJSON_IsString(item)) return cJSON_CreateString(item->valuestring);
    if (cJSON_IsNumber(item)) return cJSON_CreateNumber(item->valuedouble);
    if (cJSON_IsBool(item)) return cJSON_CreateBool(cJSON_IsTrue(item));
    return cJSON_CreateNull();
}

/* The canonical body of a certificate (certificate.h) into *text (malloc'ed). DT_CHECKPOINT
 * naming a member missing, unknown or of the wrong type. */
static dt_status canonical_body(const cJSON *cert, char **text, dt_error *err) {
    *text = NULL;
    if (!cJSON_IsObject(cert)) return dt_fail(err, DT_CHECKPOINT, "not a JSON object");
    const cJSON *member;
    cJSON_ArrayForEach(member, cert) {
        int known = member->string && !strcmp(member->string, "signature");
        for (int i = 0; i < N_BODY && !known; i++) known = member->string && !strcmp(member->string, body_members[i].key);
        if (!known) return dt_fail(err, DT_CHECKPOINT, "unknown member '%.64s'", member->string ? member->string : "");
    }
    cJSON *body = cJSON_CreateObject();
    dt_status status = body ? DT_OK : dt_fail(err, DT_NOMEM, "out of memory");
    for (int i = 0; i < N_BODY && status == DT_OK; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(cert, body_members[i].key);
        if (!item) status = dt_fail(err, DT_CHECKPOINT, "member '%s' is missing", body_members[i].key);
        else if (!has_type(item, body_members[i].type))
            status = dt_fail(err, DT_CHECKPOINT, "member '%s' has the wrong type", body_members[i].key);
        else if (!cJSON_AddItemToObject(body, body_members[i].key, copy_member(item)))
            status = dt_fail(err, DT_NOMEM, "out of memory");
    }
    if (status == DT_OK && !(*text = cJSON_PrintUnformatted(body))) status = dt_fail(err, DT_NOMEM, "out of memory");
    cJSON_Delete(body);
    return status;
}

/* The body of a new certificate (certificate.h's members in order), unsigned. */
static cJSON *new_body(const dt_certificate_facts *f, const char *key_id) {
    const dt_model_version *v = f->version;
    char when[32], who[320], commit[64];
    dt_utc_now(when, sizeof when);
    dt_who(who, sizeof who);
    snprintf(commit, sizeof commit, "%s%s", DT_GIT_COMMIT, DT_GIT_DIRTY ? "+dirty" : "");
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "format", DT_CERTIFICATE_FORMAT);
    cJSON_AddStringToObject(body, "model", v->name);
    cJSON_AddNumberToObject(body, "version", (double)v->version);
    cJSON_AddStringToObject(body, "run_id", v->run_id);
    cJSON_AddStringToObject(body, "artifact_sha256", v->artifact_sha256);
    if (f->params_sha256) cJSON_AddStringToObject(body, "params_sha256", f->params_sha256);
    else cJSON_AddNullToObject(body, "params_sha256");
    cJSON_AddBoolToObject(body, "bit_identical", f->bit_identical);
    cJSON_AddNumberToObject(body, "steps", (double)f->steps);
    cJSON_AddNumberToObject(body, "from_step", (double)(f->from_step > 0 ? f->from_step : 0));
    cJSON_AddStringToObject(body, "mode", f->mode);
    cJSON_AddStringToObject(body, "device", f->device);
    cJSON_AddStringToObject(body, "machine", f->machine);
    cJSON_AddStringToObject(body, "machine_from", f->machine_from);
    cJSON_AddStringToObject(body, "detrain_version", DT_VERSION);
    cJSON_AddStringToObject(body, "detrain_commit", commit);
    cJSON_AddStringToObject(body, "date", when);
    cJSON_AddStringToObject(body, "who", who);
    cJSON_AddStringToObject(body, "key_id", key_id);
    return body;
}

dt_status dt_certificate_make(const dt_certificate_facts *facts, const dt_signing_key *key, char **json, dt_error *err) {
    char *canonical = NULL, signature[129];
    *json = NULL;
    cJSON *cert = new_body(facts, dt_signing_key_id(key));
    dt_status status = cert ? canonical_body(cert, &canonical, err) : dt_fail(err, DT_NOMEM, "out of memory");
    if (status == DT_OK) status = dt_signing_key_sign(key, canonical, strlen(canonical), signature, err);
    if (status == DT_OK && !cJSON_AddStringToObject(cert, "signature", signature))
        status = dt_fail(err, DT_NOMEM, "out of memory");
    if (status == DT_OK && !(*json = cJSON_PrintUnformatted(cert))) status = dt_fail(err, DT_NOMEM, "out of memory");
    free(canonical);
    cJSON_Delete(cert);
    return status;
}

/* The PEM of key_id among keys, or NULL. */
static const char *find_key(const cJSON *keys, const char *key_id) {
    const cJSON *key;
    cJSON_ArrayForEach(key, keys) {
        const char *id = dt_json_string(key, "key_id");
        if (id && !strcmp(id, key_id)) return dt_json_string(key, "public_pem");
    }
    return NULL;
}

dt_status dt_certificate_check(const cJSON *cert, const cJSON *keys, dt_error *err) {
    char *canonical = NULL;
    dt_status status = canonical_body(cert, &canonical, err);
    if (status != DT_OK) return status;
    const char *format = dt_json_string(cert, "format"), *key_id = dt_json_string(cert, "key_id");
    const char *signature = dt_json_string(cert, "signature"), *pem = find_key(keys, key_id);
    if (strcmp(format, DT_CERTIFICATE_FORMAT) != 0)
        status = dt_fail(err, DT_CHECKPOINT, "format '%.64s' (this build reads %s)", format, DT_CERTIFICATE_FORMAT);
    else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")) && !dt_json_string(cert, "params_sha256"))
        status = dt_fail(err, DT_CHECKPOINT, "bit_identical without a params_sha256");
    else if (!signature) status = dt_fail(err, DT_CHECKPOINT, "it is not signed (no member 'signature')");
    else if (!pem)
        status = dt_fail(err, DT_CHECKPOINT, "unknown key %.12s... (not among the trusted public keys: 'detrain key add')",
                         key_id);
    else status = dt_public_key_verify(pem, canonical, strlen(canonical), signature, err);
    free(canonical);
    return status;
}

dt_status dt_certificate_check_for(const cJSON *cert, const cJSON *keys, const dt_model_version *v, dt_error *err) {
    dt_status status = dt_certificate_check(cert, keys, err);
    if (status != DT_OK) return status;
    const char *model = dt_json_string(cert, "model"), *artifact = dt_json_string(cert, "artifact_sha256");
    const char *params = dt_json_string(cert, "params_sha256");
    if (strcmp(model, v->name) != 0 || (int64_t)dt_json_number(cert, "version") != v->version)
        return dt_fail(err, DT_CHECKPOINT, "it certifies %.100s/%lld, not this version", model,
                       (long long)dt_json_number(cert, "version"));
    if (strcmp(artifact, v->artifact_sha256) != 0)
        return dt_fail(err, DT_CHECKPOINT, "its artifact_sha256 %.16s... is not the version's %.16s...", artifact,
                       v->artifact_sha256);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")) && strcmp(params, v->params_sha256) != 0)
        return dt_fail(err, DT_CHECKPOINT, "it says bit-identical with params_sha256 %.16s..., but the version's is %.16s...",
                       params, v->params_sha256);
    return DT_OK;
}

dt_status dt_certificate_add(const char *db_path, const dt_model_version *v, const char *json, int64_t *number,
                             dt_error *err) {
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    char when[32];
    cJSON *cert = cJSON_Parse(json);
    dt_status status = DT_OK;
    dt_utc_now(when, sizeof when);
    if (!cert) return dt_fail(err, DT_INTERNAL, "the certificate to add is not JSON");
    DT_TRY(dt_db_open(&db, db_path, 0, err));
    DT_TRY(dt_db_exec(&db, "BEGIN IMMEDIATE", "adding a certificate", err));
    DT_TRY(dt_db_prepare(&db, "INSERT INTO certificates SELECT ?1, ?2, COALESCE(MAX(number), 0) + 1, ?3, ?4, ?5, ?6, ?7"
                              " FROM certificates WHERE name = ?1 AND version = ?2 RETURNING number", &stmt, err));
    dt_db_bind_text(stmt, 1, v->name);
    sqlite3_bind_int64(stmt, 2, v->version);
    dt_db_bind_text(stmt, 3, json);
    dt_db_bind_text(stmt, 4, dt_json_string(cert, "key_id"));
    dt_db_bind_text(stmt, 5, dt_json_string(cert, "machine"));
    sqlite3_bind_int(stmt, 6, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")));
    dt_db_bind_text(stmt, 7, when);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) *number = sqlite3_column_int64(stmt, 0), rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "adding a certificate", err);
    sqlite3_finalize(stmt);
    stmt = NULL;
    DT_TRY(status);
    DT_TRY(dt_db_exec(&db, "COMMIT", "adding a certificate", err));
cleanup:
    sqlite3_finalize(stmt);
    if (status != DT_OK && db.handle) sqlite3_exec(db.handle, "ROLLBACK", NULL, NULL, NULL);
    dt_db_close(&db);
    cJSON_Delete(cert);
    return status;
}

/* One stored certificate checked: {"number", "valid", "problem", "certificate"}. */
static cJSON *checked_row(int64_t number, const char *text, const cJSON *keys, const dt_model_version *v) {
    cJSON *row = cJSON_CreateObject(), *cert = cJSON_Parse(text);
    dt_error problem = {{0}};
    const dt_status status =
        cert ? dt_certificate_check_for(cert, keys, v, &problem) : dt_fail(&problem, DT_CHECKPOINT, "not JSON");
    cJSON_AddNumberToObject(row, "number", (double)number);
    cJSON_AddBoolToObject(row, "valid", status == DT_OK);
    if (status == DT_OK) cJSON_AddNullToObject(row, "problem");
    else cJSON_AddStringToObject(row, "problem", problem.message);
    if (cert) cJSON_AddItemToObject(row, "certificate", cert);
    else cJSON_AddNullToObject(row, "certificate");
    return row;
}

/* Runs `sql` (name and version bound as ?1 and ?2 when v is not NULL) on the registry at
 * db_path and hands each row to on_row with the registry's public keys. */
static dt_status each_certificate_row(const char *db_path, const char *sql, const dt_model_version *v,
                                      void (*on_row)(sqlite3_stmt *stmt, const cJSON *keys, void *ctx), void *ctx,
                                      dt_error *err) {
    cJSON *keys = NULL;
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_keys_list(db_path, &keys, err);
    if (status == DT_OK) status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK) status = dt_db_prepare(&db, sql, &stmt, err);
    if (status == DT_OK && v) {
        dt_db_bind_text(stmt, 1, v->name);
        sqlite3_bind_int64(stmt, 2, v->version);
    }
    if (status == DT_OK) {
        int rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) on_row(stmt, keys, ctx);
        if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "reading certificates", err);
    }
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    cJSON_Delete(keys);
    return status;
}

/* A version's certificates, each checked, as rows. */
typedef struct {
    const dt_model_version *v;
    cJSON *rows;
} version_rows;

static void add_version_row(sqlite3_stmt *stmt, const cJSON *keys, void *ctx) {
    version_rows *r = ctx;
    cJSON_AddItemToArray(r->rows, checked_row(sqlite3_column_int64(stmt, 0), dt_db_column_text(stmt, 1), keys, r->v));
}

dt_status dt_certificates_of(const char *db_path, const dt_model_version *v, cJSON **rows, dt_error *err) {
    version_rows r = {v, cJSON_CreateArray()};
    const dt_status status = each_certificate_row(
        db_path, "SELECT number, certificate FROM certificates WHERE name = ?1 AND version = ?2 ORDER BY number", v,
        add_version_row, &r, err);
    *rows = r.rows;
    return status;
}

/* Appends to bad the invalid certificate of the current row (name, version, number, certificate,
 * artifact, params_sha256 of a certificates LEFT JOIN models), when it is. */
static void check_row(sqlite3_stmt *stmt, const cJSON *keys, cJSON *bad) {
    dt_model_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "%s", dt_db_column_text(stmt, 0));
    v.version = sqlite3_column_int64(stmt, 1);
    snprintf(v.artifact_sha256, sizeof v.artifact_sha256, "%s", dt_db_column_text(stmt, 4));
    snprintf(v.params_sha256, sizeof v.params_sha256, "%s", dt_db_column_text(stmt, 5));
    cJSON *row = checked_row(sqlite3_column_int64(stmt, 2), dt_db_column_text(stmt, 3), keys, &v);
    if (sqlite3_column_type(stmt, 4) == SQLITE_NULL)
        cJSON_ReplaceItemInObject(row, "problem", cJSON_CreateString("the version it belongs to is not registered"));
    if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(row, "problem"))) {
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "name", v.name);
        cJSON_AddNumberToObject(entry, "version", (double)v.version);
        cJSON_AddNumberToObject(entry, "number", dt_json_number(row, "number"));
        cJSON_AddStringToObject(entry, "problem", dt_json_string(row, "problem"));
        cJSON_AddItemToArray(bad, entry);
    }
    cJSON_Delete(row);
}

/* check_row over every certificate, counting them. */
typedef struct {
    cJSON *bad;
    int64_t n_checked;
} all_rows;

static void check_any_row(sqlite3_stmt *stmt, const cJSON *keys, void *ctx) {
    all_rows *r = ctx;
    check_row(stmt, keys, r->bad);
    r->n_checked++;
}

dt_status dt_certificates_check_all(const char *db_path, cJSON **bad, int64_t *n_checked, dt_error *err) {
    all_rows r = {cJSON_CreateArray(), 0};
    const dt_status status = each_certificate_row(
        db_path,
        "SELECT c.name, c.version, c.number, c.certificate, m.artifact, m.params_sha256"
        " FROM certificates c LEFT JOIN models m USING(name, version) ORDER BY c.name, c.version, c.number",
        NULL, check_any_row, &r, err);
    *bad = r.bad;
    *n_checked = r.n_checked;
    return status;
}

dt_status dt_certificates_machines(const char *db_path, const dt_model_version *v, int64_t *machines, dt_error *err) {
    cJSON *rows = NULL, *seen = cJSON_CreateObject();
    const cJSON *row;
    *machines = 0;
    const dt_status status = dt_certificates_of(db_path, v, &rows, err);
    cJSON_ArrayForEach(row, rows) {
        const cJSON *cert = cJSON_GetObjectItemCaseSensitive(row, "certificate");
        const char *machine = dt_json_string(cert, "machine");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "valid")) || !machine ||
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")) ||
            dt_json_number(cert, "from_step") != 0 || cJSON_GetObjectItemCaseSensitive(seen, machine))
            continue; /* only whole re-runs, bit for bit, once per machine */
        cJSON_AddTrueToObject(seen, machine);
        (*machines)++;
    }
    cJSON_Delete(rows);
    cJSON_Delete(seen);
    return status;
}

dt_status dt_registry_versions_of_run(const char *db_path, const char *run_id, dt_model_version *out, int max, int *n,
                                      dt_error *err) {
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    char refs[VERSIONS_OF_RUN_MAX][DT_NAME_MAX + 32];
    *n = 0;
    if (!dt_file_exists(db_path) || !run_id || !run_id[0]) return DT_OK;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT name, version FROM models WHERE run_id = ?1 ORDER BY name, version", &stmt, err);
    int found = 0;
    if (status == DT_OK) dt_db_bind_text(stmt, 1, run_id);
    while (status == DT_OK && found < max && found < VERSIONS_OF_RUN_MAX && sqlite3_step(stmt) == SQLITE_ROW)
        snprintf(refs[found], sizeof refs[found], "%.*s/%lld", DT_NAME_MAX - 1, dt_db_column_text(stmt, 0),
                 (long long)sqlite3_column_int64(stmt, 1)), found++;
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    for (int i = 0; i < found && status == DT_OK; i++) status = dt_registry_resolve(db_path, refs[i], &out[i], err);
    if (status == DT_OK) *n = found;
    return status;
}

/* DT_CHECKPOINT when the registry has no model `name`. */
static dt_status check_model(dt_db *db, const char *name, dt_error *err) {
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_prepare(db, "SELECT count(*) FROM models WHERE name = ?1", &stmt, err);
    if (status != DT_OK) return status;
    dt_db_bind_text(stmt, 1, name);
    if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int64(stmt, 0) == 0)
        status = dt_fail(err, DT_CHECKPOINT, "no model named '%.100s' in %s", name, db->path);
    sqlite3_finalize(stmt);
    return status;
}

dt_status dt_alias_policy_set(const char *db_path, const char *name, const char *alias, int64_t required,
                              dt_error *err) {
    const size_t len = strlen(alias);
    if (len == 0 || len > 100 || strspn(alias, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len ||
        strspn(alias, "0123456789") == len)
        return dt_fail(err, DT_USAGE, "alias '%.100s': use letters, digits, '.', '_' and '-' (at most 100), not only digits",
                       alias);
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    char who[320], when[32];
    dt_who(who, sizeof who);
    dt_utc_now(when, sizeof when);
    dt_status status = DT_OK;
    DT_TRY(dt_db_open(&db, db_path, 0, err));
    DT_TRY(check_model(&db, name, err));
    DT_TRY(dt_db_prepare(&db, "INSERT OR REPLACE INTO alias_policies VALUES(?1, ?2, ?3, ?4, ?5)", &stmt, err));
    dt_db_bind_text(stmt, 1, name);
    dt_db_bind_text(stmt, 2, alias);
    sqlite3_bind_int64(stmt, 3, required);
    dt_db_bind_text(stmt, 4, who);
    dt_db_bind_text(stmt, 5, when);
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "setting an alias policy", err);
cleanup:
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

dt_status dt_alias_policy_get(const char *db_path, const char *name, const char *alias, int64_t *required,
                              dt_error *err) {
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    *required = 0;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT require_reproduced FROM alias_policies WHERE name = ?1 AND alias = ?2",
                               &stmt, err);
    if (status == DT_OK) {
        dt_db_bind_text(stmt, 1, name);
        dt_db_bind_text(stmt, 2, alias);
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) *required = sqlite3_column_int64(stmt, 0);
        else if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "reading an alias policy", err);
    }
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

dt_status dt_alias_gate(const char *db_path, const char *name, const char *alias, const char *version,
                        int64_t required_now, int64_t *required, int64_t *machines, int *passed, dt_error *err) {
    char ref[DT_NAME_MAX + 64];
    dt_model_version v;
    *machines = 0, *passed = 0;
    if (!*version || strspn(version, "0123456789") != strlen(version))
        return dt_fail(err, DT_USAGE, "registry alias: '%.32s' is not a version number", version);
    snprintf(ref, sizeof ref, "%.*s/%.32s", DT_NAME_MAX - 1, name, version);
    dt_status status = dt_alias_policy_get(db_path, name, alias, required, err);
    if (status == DT_OK && required_now > *required) *required = required_now;
    if (status != DT_OK || *required == 0) return *passed = status == DT_OK, status;
    status = dt_registry_resolve(db_path, ref, &v, err);
    if (status == DT_OK) status = dt_certificates_machines(db_path, &v, machines, err);
    *passed = status == DT_OK && *machines >= *required;
    return status;
}
