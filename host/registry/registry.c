/* registry.c — model versions, aliases and lineage (registry.h). */
#include "registry/registry.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "core/progress.h"
#include "records/checkpoint.h"
#include "records/runrec.h"
#include "registry/db.h"
#include "registry/runs.h"
#include "registry/store.h"

/* ---- small helpers ---------------------------------------------------------------------------- */

/* Column col of the current row as a JSON number, or null. */
static cJSON *column_number(sqlite3_stmt *stmt, int col) {
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? cJSON_CreateNull()
                                                         : cJSON_CreateNumber((double)sqlite3_column_int64(stmt, col));
}

/* Column col of the current row as a JSON string, or null. */
static cJSON *column_string(sqlite3_stmt *stmt, int col) {
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? cJSON_CreateNull() : cJSON_CreateString(dt_db_column_text(stmt, col));
}

/* "user@host", who did it. */
static void who_text(char *out, size_t size) {
    const char *user = getenv("USER");
    const struct passwd *pw = user ? NULL : getpwuid(getuid());
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(out, size, "%s@%s", user ? user : pw ? pw->pw_name : "unknown", host);
}

/* Names of models and aliases: letters, digits, '.', '_', '-', at most 100 bytes; an alias
 * not all digits (that would read as a version). DT_USAGE naming what is wrong. */
static dt_status check_name(const char *what, const char *name, dt_error *err) {
    const size_t len = strlen(name);
    if (len == 0 || len > 100 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len)
        return dt_fail(err, DT_USAGE, "%s '%s': use letters, digits, '.', '_' and '-' (at most 100)", what, name);
    if (!strcmp(what, "alias") && strspn(name, "0123456789") == len)
        return dt_fail(err, DT_USAGE, "alias '%s': an alias cannot be a number (that is a version)", name);
    return DT_OK;
}

/* A stored file's path is its folder (objects_dir), '/' and its SHA-256: it fits a version's
 * paths (registry.h: DT_PATH_MAX bytes) when the folder fits OBJECTS_DIR_MAX. */
#define OBJECTS_DIR_MAX (DT_PATH_MAX - 65)

/* The registry's file store: <database>.objects, beside the database and named after it, so no
 * database name can collide with it (DETRAIN_REGISTRY=/x/registry). A store made before that
 * rule, <folder of the database>/registry/objects, is used while it is the only one. DT_USAGE
 * for a database path too long for its files' paths: refused, never cut. */
static dt_status objects_dir(const char *db_path, char out[OBJECTS_DIR_MAX], dt_error *err) {
    const size_t len = strlen(db_path), most = OBJECTS_DIR_MAX - 1 - strlen(".objects");
    if (len > most)
        return dt_fail(err, DT_USAGE, "%.200s%s: the registry's path is too long for the paths of its stored files "
                       "(%zu bytes, at most %zu)", db_path, len > 200 ? "..." : "", len, most);
    char copy[DT_PATH_MAX], old[OBJECTS_DIR_MAX];
    struct stat info;
    snprintf(copy, sizeof copy, "%s", db_path);
    snprintf(out, OBJECTS_DIR_MAX, "%s.objects", db_path);
    if (dt_path_join(old, sizeof old, dirname(copy), "registry/objects", NULL) == DT_OK && stat(out, &info) != 0 &&
        stat(old, &info) == 0 && S_ISDIR(info.st_mode))
        snprintf(out, OBJECTS_DIR_MAX, "%s", old);
    return DT_OK;
}

/* The path of the stored file `sha256` into out (DT_PATH_MAX bytes). */
static dt_status object_path(const char *db_path, const char *sha256, char out[DT_PATH_MAX], dt_error *err) {
    char dir[OBJECTS_DIR_MAX];
    const dt_status status = objects_dir(db_path, dir, err);
    if (status == DT_OK) snprintf(out, DT_PATH_MAX, "%s/%.64s", dir, sha256);
    return status;
}

/* Stores bytes under their SHA-256 (kept when an identical file is already there). */
static dt_status store_object(const char *db_path, const unsigned char *bytes, size_t n, char sha256[65],
                              dt_error *err) {
    char dir[OBJECTS_DIR_MAX], path[DT_PATH_MAX];
    dt_sha256_hex(bytes, n, sha256);
    dt_status status = objects_dir(db_path, dir, err);
    if (status == DT_OK) status = dt_mkdirs(dir, err);
    if (status != DT_OK) return status;
    snprintf(path, sizeof path, "%s/%s", dir, sha256);
    char existing[65];
    dt_error ignored;
    if (dt_file_exists(path) && dt_file_sha256(path, existing, &ignored) == DT_OK && !strcmp(existing, sha256))
        return DT_OK;
    return dt_write_file_atomic(path, bytes, n, err);
}

/* Reads a whole file (NUL-terminated). */
static dt_status read_bytes(const char *path, char **bytes, size_t *n, dt_error *err) {
    return dt_read_text(path, bytes, n, err);
}

/* ---- references ------------------------------------------------------------------------------- */

int dt_model_ref_shape(const char *text) {
    const char *at = strchr(text, '@'), *slash = strchr(text, '/');
    if (at && !slash) return at != text && at[1] != '\0';
    if (slash && !at) return slash != text && slash[1] != '\0' && strspn(slash + 1, "0123456789") == strlen(slash + 1);
    return 0;
}

/* Fills v from a models row selected as: name, version, artifact, manifest, trace, params_sha256, run_id. */
static dt_status version_from_row(const char *db_path, sqlite3_stmt *stmt, dt_model_version *v, dt_error *err) {
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", dt_db_column_text(stmt, 0));
    v->version = sqlite3_column_int64(stmt, 1);
    snprintf(v->artifact_sha256, sizeof v->artifact_sha256, "%s", dt_db_column_text(stmt, 2));
    snprintf(v->manifest_sha256, sizeof v->manifest_sha256, "%s", dt_db_column_text(stmt, 3));
    snprintf(v->trace_sha256, sizeof v->trace_sha256, "%s", dt_db_column_text(stmt, 4));
    snprintf(v->params_sha256, sizeof v->params_sha256, "%s", dt_db_column_text(stmt, 5));
    snprintf(v->run_id, sizeof v->run_id, "%s", dt_db_column_text(stmt, 6));
    dt_status status = object_path(db_path, v->artifact_sha256, v->artifact, err);
    if (status == DT_OK) status = object_path(db_path, v->manifest_sha256, v->manifest, err);
    if (status == DT_OK) status = object_path(db_path, v->trace_sha256, v->trace, err);
    return status;
}

#define VERSION_COLUMNS "name, version, artifact, manifest, trace, params_sha256, run_id"

/* Whether text holds a control character (a newline would split the one-line error that
 * echoes it). */
static int has_control(const char *text) {
    for (; *text; text++)
        if ((unsigned char)*text < 0x20 || *text == 0x7f) return 1;
    return 0;
}

/* Looks the reference up in an open database (no digest check). */
static dt_status find_version(dt_db *db, const char *ref, dt_model_version *v, dt_error *err) {
    char name[DT_NAME_MAX] = "", second[DT_NAME_MAX] = "";
    const int by_alias = strchr(ref, '@') != NULL;
    if (has_control(ref)) return dt_fail(err, DT_USAGE, "a model reference cannot contain control characters");
    if (!dt_model_ref_shape(ref))
        return dt_fail(err, DT_USAGE, "'%s': not a model reference (NAME@ALIAS or NAME/VERSION)", ref);
    const char *sep = by_alias ? strchr(ref, '@') : strchr(ref, '/');
    snprintf(name, sizeof name, "%.*s", (int)(sep - ref), ref);
    snprintf(second, sizeof second, "%s", sep + 1);
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_prepare(db,
                                     by_alias ? "SELECT " VERSION_COLUMNS " FROM models JOIN aliases USING(name, version)"
                                                " WHERE name = ?1 AND alias = ?2"
                                              : "SELECT " VERSION_COLUMNS " FROM models WHERE name = ?1 AND version = ?2",
                                     &stmt, err);
    if (status != DT_OK) return status;
    dt_db_bind_text(stmt, 1, name);
    if (by_alias) dt_db_bind_text(stmt, 2, second);
    else sqlite3_bind_int64(stmt, 2, strtoll(second, NULL, 10));
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) status = version_from_row(db->path, stmt, v, err);
    else if (rc == SQLITE_DONE) {
        sqlite3_stmt *known = NULL;
        int exists = 0;
        if (sqlite3_prepare_v2(db->handle, "SELECT count(*) FROM models WHERE name = ?1", -1, &known, NULL) == SQLITE_OK) {
            dt_db_bind_text(known, 1, name);
            exists = sqlite3_step(known) == SQLITE_ROW && sqlite3_column_int64(known, 0) > 0;
        }
        sqlite3_finalize(known);
        if (!exists) status = dt_fail(err, DT_CHECKPOINT, "%s: no model named '%s' in %s", ref, name, db->path);
        else if (by_alias) status = dt_fail(err, DT_CHECKPOINT, "%s: model '%s' has no alias '%s'", ref, name, second);
        else status = dt_fail(err, DT_CHECKPOINT, "%s: model '%s' has no version %s", ref, name, second);
    } else {
        status = dt_db_fail(db, rc, "looking up a model", err);
    }
    sqlite3_finalize(stmt);
    return status;
}

/* DT_CHECKPOINT naming the version when a stored file is missing or not its digest. */
static dt_status check_object(const dt_model_version *v, const char *what, const char *path, const char *sha256,
                              dt_error *err) {
    char got[65];
    dt_error ignored;
    if (!dt_file_exists(path)) return dt_fail(err, DT_CHECKPOINT, "%s/%lld: its %s is missing from the registry (%s)",
                                              v->name, (long long)v->version, what, path);
    if (dt_file_sha256(path, got, &ignored) != DT_OK || strcmp(got, sha256) != 0)
        return dt_fail(err, DT_CHECKPOINT, "%s/%lld: its %s is damaged: SHA-256 %.16s..., registered %.16s... (%s)",
                       v->name, (long long)v->version, what, got, sha256, path);
    return DT_OK;
}

dt_status dt_registry_resolve(const char *db_path, const char *ref, dt_model_version *v, dt_error *err) {
    if (has_control(ref)) return dt_fail(err, DT_USAGE, "a model reference cannot contain control characters");
    if (!dt_model_ref_shape(ref))
        return dt_fail(err, DT_USAGE, "'%s': not a file, and not a model reference (NAME@ALIAS or NAME/VERSION)", ref);
    if (!dt_file_exists(db_path))
        return dt_fail(err, DT_CHECKPOINT, "%s: there is no model registry at %s (set DETRAIN_REGISTRY, or --registry)",
                       ref, db_path);
    dt_db db;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK) status = find_version(&db, ref, v, err);
    dt_db_close(&db);
    if (status == DT_OK) status = check_object(v, "artifact (final.h5)", v->artifact, v->artifact_sha256, err);
    return status;
}

dt_status dt_registry_materialize(const dt_model_version *v, const char *dir, dt_error *err) {
    const char *from[3] = {v->manifest, v->trace, v->artifact}, *to[3] = {"manifest.json", "trace.jsonl", "final.h5"};
    const char *sha[3] = {v->manifest_sha256, v->trace_sha256, v->artifact_sha256};
    for (int i = 0; i < 3; i++) {
        dt_status status = check_object(v, to[i], from[i], sha[i], err);
        if (status != DT_OK) return status;
        char path[DT_PATH_MAX + 32], target[PATH_MAX];
        status = dt_path_join(path, sizeof path, dir, to[i], err);
        if (status != DT_OK) return status;
        if (!realpath(from[i], target)) snprintf(target, sizeof target, "%s", from[i]);
        if (symlink(target, path) != 0 && errno != EEXIST)
            return dt_fail(err, DT_WRITE, "%s: linking the stored %s failed: %s", path, to[i], strerror(errno));
    }
    return DT_OK;
}

/* ---- add -------------------------------------------------------------------------------------- */

/* The lineage of a version: its run, config, code, data, environment, metrics, who and when. */
static cJSON *lineage_json(const cJSON *m, const char *run_dir, const char *who, const char *when, const char *note) {
    cJSON *lineage = cJSON_CreateObject();
    char absolute[PATH_MAX];
    cJSON_AddStringToObject(lineage, "run_id", dt_json_string_or(m, "run_id", ""));
    cJSON_AddStringToObject(lineage, "run_folder", realpath(run_dir, absolute) ? absolute : run_dir);
    const char *keys[] = {"experiment", "config_file", "config_sha256", "config", "overrides", "code", "data", "seeds",
                          "mode",       "device",      "final"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(m, keys[k]);
        if (item) cJSON_AddItemToObject(lineage, keys[k], cJSON_Duplicate(item, 1));
    }
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(m, "environment");
    cJSON *summary = cJSON_AddObjectToObject(lineage, "environment");
    const char *env_keys[] = {"os", "distribution", "hostname", "cpu", "simd", "threads", "gpu", "libraries"};
    for (size_t k = 0; k < sizeof env_keys / sizeof env_keys[0]; k++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(env, env_keys[k]);
        if (item) cJSON_AddItemToObject(summary, env_keys[k], cJSON_Duplicate(item, 1));
    }
    cJSON_AddStringToObject(lineage, "registered_by", who);
    cJSON_AddStringToObject(lineage, "registered_at", when);
    if (note) cJSON_AddStringToObject(lineage, "note", note);
    return lineage;
}

/* Inserts the version row and its data rows (inside the caller's transaction). */
static dt_status insert_version(dt_db *db, const char *name, int64_t version, const char shas[3][65],
                                const char *params, const cJSON *m, const char *lineage, const char *note,
                                const char *who, const char *when, dt_error *err) {
    sqlite3_stmt *row = NULL, *data = NULL;
    dt_status status = DT_OK;
    int rc;
    DT_TRY(dt_db_prepare(db, "INSERT INTO models VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &row, err));
    dt_db_bind_text(row, 1, name);
    sqlite3_bind_int64(row, 2, version);
    dt_db_bind_text(row, 3, shas[0]);
    dt_db_bind_text(row, 4, shas[1]);
    dt_db_bind_text(row, 5, shas[2]);
    dt_db_bind_text(row, 6, params);
    dt_db_bind_text(row, 7, dt_json_string(m, "run_id"));
    dt_db_bind_text(row, 8, lineage);
    dt_db_bind_text(row, 9, note);
    dt_db_bind_text(row, 10, who);
    dt_db_bind_text(row, 11, when);
    if ((rc = sqlite3_step(row)) != SQLITE_DONE) {
        status = dt_db_fail(db, rc, "registering the version", err);
        goto cleanup;
    }
    DT_TRY(dt_db_prepare(db, "INSERT INTO model_data VALUES(?1, ?2, ?3, ?4, ?5)", &data, err));
    const char *files_key[2] = {"data.train.files", "data.test.files"};
    for (int s = 0; s < 2; s++) {
        const cJSON *file;
        cJSON_ArrayForEach(file, dt_run_record_item(m, files_key[s])) {
            sqlite3_reset(data);
            dt_db_bind_text(data, 1, name);
            sqlite3_bind_int64(data, 2, version);
            dt_db_bind_text(data, 3, dt_json_string(file, "sha256"));
            dt_db_bind_text(data, 4, dt_json_string(file, "path"));
            dt_db_bind_number(data, 5, cJSON_GetObjectItemCaseSensitive(file, "size"));
            if ((rc = sqlite3_step(data)) != SQLITE_DONE) {
                status = dt_db_fail(db, rc, "registering the version's data", err);
                goto cleanup;
            }
        }
    }
cleanup:
    sqlite3_finalize(row);
    sqlite3_finalize(data);
    return status;
}

/* The manifest's entry for checkpoint `file` (not removed), or NULL. */
static const cJSON *listed_checkpoint(const cJSON *m, const char *file) {
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(m, "checkpoints")) {
        const char *name = dt_json_string(entry, "file");
        if (name && !strcmp(name, file) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "removed")))
            return entry;
    }
    return NULL;
}

/* The checkpoint a version of run_dir is made of: `choice` "best" or "final", or NULL for
 * best.h5 when the run selected one, else final.h5; read and checked into ck against the
 * file's listed SHA-256 and the parameter digest the manifest records for it. */
static dt_status read_artifact(const cJSON *m, const char *run_dir, const char *choice, dt_checkpoint *ck,
                               char *path, size_t size, dt_error *err) {
    if (choice && strcmp(choice, "best") != 0 && strcmp(choice, "final") != 0)
        return dt_fail(err, DT_USAGE, "registry add --checkpoint: expected best or final, got '%s'", choice);
    const cJSON *best = listed_checkpoint(m, "best.h5");
    if (choice && !strcmp(choice, "best") && !best)
        return dt_fail(err, DT_USAGE, "%s: the run kept no best.h5 (it selects no best epoch: train.select, or a "
                       "validation set)", run_dir);
    const int use_best = best && (!choice || !strcmp(choice, "best"));
    const char *file = use_best ? "best.h5" : "final.h5";
    const cJSON *entry = use_best ? best : listed_checkpoint(m, "final.h5");
    const char *want = use_best ? dt_json_string(entry, "params_sha256")
                                : dt_json_string(cJSON_GetObjectItemCaseSensitive(m, "final"), "params_sha256");
    snprintf(path, size, "%s/%s", run_dir, file);
    dt_status status = dt_checkpoint_read_recorded(path, dt_json_string_or(entry, "sha256", ""), ck, err);
    if (status == DT_OK && (!want || strcmp(want, ck->params_sha256) != 0))
        status = dt_fail(err, DT_CHECKPOINT, "%s: %s's parameter digest is not the one the manifest records for it",
                         run_dir, file);
    return status;
}

/* A run folder's record as a registration reads it: manifest.json and trace.jsonl (text, and
 * the manifest parsed), and the checkpoint chosen, verified (ck) and read whole (artifact). */
typedef struct {
    char *texts[2];
    size_t sizes[2];
    cJSON *manifest;
    dt_checkpoint *ck;
    char path[DT_PATH_MAX + 32]; /* the checkpoint's file; its name after the last '/' */
    char *artifact;
    size_t artifact_size;
} run_files;

static void run_files_free(run_files *rf) {
    if (rf->ck) dt_checkpoint_free(rf->ck);
    free(rf->ck);
    cJSON_Delete(rf->manifest);
    free(rf->texts[0]);
    free(rf->texts[1]);
    free(rf->artifact);
}

/* Reads the record of run_dir and its checkpoint (`checkpoint` as dt_registry_add says) into
 * rf, which the caller frees with run_files_free also on failure. DT_USAGE for a folder that
 * is not a completed run. */
static dt_status read_run(const char *run_dir, const char *checkpoint, run_files *rf, dt_error *err) {
    const char *files[2] = {"manifest.json", "trace.jsonl"};
    const dt_status fits = dt_path_check(run_dir, DT_PATH_MAX, err); /* a run's folder: then its files fit rf->path */
    if (fits != DT_OK) return fits;
    for (int i = 0; i < 2; i++) {
        snprintf(rf->path, sizeof rf->path, "%s/%s", run_dir, files[i]);
        if (dt_read_text(rf->path, &rf->texts[i], &rf->sizes[i], err) != DT_OK)
            return dt_fail(err, DT_USAGE, "%s: not a finished run folder (no %s)", run_dir, files[i]);
    }
    rf->manifest = cJSON_ParseWithLength(rf->texts[0], rf->sizes[0]);
    const char *run_status = dt_json_string(rf->manifest, "status");
    if (!run_status || strcmp(run_status, "completed") != 0)
        return dt_fail(err, DT_USAGE, "%s: the run is %s, not completed: only a finished run's checkpoint is a model%s",
                       run_dir, run_status ? run_status : "unreadable",
                       run_status && strcmp(run_status, "failed") ? " (detrain resume finishes it)" : "");
    /* every tensor's digest and the parameter digest, after the file's recorded bytes */
    dt_status status = read_artifact(rf->manifest, run_dir, checkpoint, rf->ck, rf->path, sizeof rf->path, err);
    if (status != DT_OK) return status;
    return read_bytes(rf->path, &rf->artifact, &rf->artifact_size, err);
}

/* The files first, each under its digest (shas: artifact, manifest, trace), so that a row
 * never names a file that is not there. */
static dt_status store_run_files(const char *db_path, const run_files *rf, char shas[3][65], dt_error *err) {
    dt_status status = store_object(db_path, (const unsigned char *)rf->artifact, rf->artifact_size, shas[0], err);
    if (status == DT_OK) status = store_object(db_path, (const unsigned char *)rf->texts[0], rf->sizes[0], shas[1], err);
    if (status == DT_OK) status = store_object(db_path, (const unsigned char *)rf->texts[1], rf->sizes[1], shas[2], err);
    return status;
}

/* The version of `name` whose artifact is shas[0], when there is one; else the next version,
 * inserted with its lineage. In one transaction, so concurrent adds get distinct versions. */
static dt_status commit_version(const char *db_path, const char *name, const char shas[3][65], const run_files *rf,
                                const char *lineage_text, const char *note, const char *who, const char *when,
                                dt_registry_added *out, dt_error *err) {
    dt_status status = DT_OK;
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    DT_TRY(dt_db_open(&db, db_path, 1, err));
    DT_TRY(dt_db_exec(&db, "BEGIN IMMEDIATE", "registering a version", err));
    DT_TRY(dt_db_prepare(&db, "SELECT version FROM models WHERE name = ?1 AND artifact = ?2", &stmt, err));
    dt_db_bind_text(stmt, 1, name);
    dt_db_bind_text(stmt, 2, shas[0]);
    out->existing = sqlite3_step(stmt) == SQLITE_ROW;
    if (out->existing) out->version = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!out->existing) {
        DT_TRY(dt_db_prepare(&db, "SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE name = ?1", &stmt, err));
        dt_db_bind_text(stmt, 1, name);
        out->version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 1;
        sqlite3_finalize(stmt);
        stmt = NULL;
        DT_TRY(insert_version(&db, name, out->version, shas, rf->ck->params_sha256, rf->manifest, lineage_text, note,
                              who, when, err));
    }
    DT_TRY(dt_db_exec(&db, "COMMIT", "registering a version", err));
cleanup:
    sqlite3_finalize(stmt);
    if (status != DT_OK && db.handle) sqlite3_exec(db.handle, "ROLLBACK", NULL, NULL, NULL);
    dt_db_close(&db);
    return status;
}

dt_status dt_registry_add(const char *db_path, const char *run_dir, const char *name, const char *note,
                          const char *checkpoint, dt_registry_added *out, dt_error *err) {
    dt_status status = DT_OK;
    char shas[3][65], who[320], when[32], *lineage_text = NULL;
    cJSON *lineage = NULL;
    run_files rf = {.ck = calloc(1, sizeof *rf.ck)};
    memset(out, 0, sizeof *out);
    if (!rf.ck) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_TRY(check_name("model name", name, err));
    DT_TRY(read_run(run_dir, checkpoint, &rf, err));
    const char *artifact_file = strrchr(rf.path, '/') + 1;
    DT_TRY(store_run_files(db_path, &rf, shas, err));
    who_text(who, sizeof who);
    dt_utc_now(when, sizeof when);
    lineage = lineage_json(rf.manifest, run_dir, who, when, note);
    if (lineage) cJSON_AddStringToObject(lineage, "checkpoint", artifact_file);
    if (!(lineage_text = lineage ? cJSON_PrintUnformatted(lineage) : NULL)) {
        status = dt_fail(err, DT_NOMEM, "out of memory");
        goto cleanup;
    }
    DT_TRY(commit_version(db_path, name, (const char(*)[65])shas, &rf, lineage_text, note, who, when, out, err));
    const char *run_id = dt_json_string(rf.manifest, "run_id");
    snprintf(out->checkpoint, sizeof out->checkpoint, "%s", artifact_file);
    snprintf(out->artifact_sha256, sizeof out->artifact_sha256, "%s", shas[0]);
    snprintf(out->params_sha256, sizeof out->params_sha256, "%s", rf.ck->params_sha256);
    snprintf(out->run_id, sizeof out->run_id, "%s", run_id ? run_id : "(null)");
cleanup:
    run_files_free(&rf);
    cJSON_Delete(lineage);
    free(lineage_text);
    return status;
}

/* ---- aliases ---------------------------------------------------------------------------------- */

dt_status dt_registry_alias(const char *db_path, const char *name, const char *alias, const char *version,
                            const char *note, dt_alias_move *move, dt_error *err) {
    dt_status status = DT_OK;
    dt_db db = {0};
    dt_model_version v;
    sqlite3_stmt *stmt = NULL;
    char who[320], when[32], ref[DT_NAME_MAX + 40];
    memset(move, 0, sizeof *move);
    DT_TRY(check_name("alias", alias, err));
    if (!*version || strspn(version, "0123456789") != strlen(version))
        return dt_fail(err, DT_USAGE, "registry alias: '%s' is not a version number", version);
    snprintf(ref, sizeof ref, "%s/%s", name, version);
    DT_TRY(dt_db_open(&db, db_path, 0, err));
    DT_TRY(dt_db_exec(&db, "BEGIN IMMEDIATE", "moving an alias", err));
    DT_TRY(find_version(&db, ref, &v, err));
    int64_t from = 0;
    DT_TRY(dt_db_prepare(&db, "SELECT version FROM aliases WHERE name = ?1 AND alias = ?2", &stmt, err));
    dt_db_bind_text(stmt, 1, name);
    dt_db_bind_text(stmt, 2, alias);
    if (sqlite3_step(stmt) == SQLITE_ROW) from = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    stmt = NULL;
    DT_TRY(dt_db_prepare(&db, "INSERT OR REPLACE INTO aliases VALUES(?1, ?2, ?3)", &stmt, err));
    dt_db_bind_text(stmt, 1, name);
    dt_db_bind_text(stmt, 2, alias);
    sqlite3_bind_int64(stmt, 3, v.version);
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (rc != SQLITE_DONE) {
        status = dt_db_fail(&db, rc, "moving an alias", err);
        goto cleanup;
    }
    who_text(who, sizeof who);
    dt_utc_now(when, sizeof when);
    DT_TRY(dt_db_prepare(&db, "INSERT INTO alias_history(name, alias, from_version, to_version, who, at, note)"
                              " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", &stmt, err));
    dt_db_bind_text(stmt, 1, name);
    dt_db_bind_text(stmt, 2, alias);
    if (from) sqlite3_bind_int64(stmt, 3, from);
    sqlite3_bind_int64(stmt, 4, v.version);
    dt_db_bind_text(stmt, 5, who);
    dt_db_bind_text(stmt, 6, when);
    dt_db_bind_text(stmt, 7, note);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
        status = dt_db_fail(&db, rc, "recording the alias move", err);
        goto cleanup;
    }
    DT_TRY(dt_db_exec(&db, "COMMIT", "moving an alias", err));
    *move = (dt_alias_move){from, v.version};
cleanup:
    sqlite3_finalize(stmt);
    if (status != DT_OK && db.handle) sqlite3_exec(db.handle, "ROLLBACK", NULL, NULL, NULL);
    dt_db_close(&db);
    return status;
}

dt_status dt_registry_history(const char *db_path, const char *name, cJSON **moves, dt_error *err) {
    dt_db db;
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT at, alias, from_version, to_version, who, note FROM alias_history"
                                    " WHERE name = ?1 ORDER BY id", &stmt, err);
    *moves = status == DT_OK ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_DONE;
    if (status == DT_OK) {
        dt_db_bind_text(stmt, 1, name);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            cJSON *move = cJSON_CreateObject();
            cJSON_AddStringToObject(move, "at", dt_db_column_text(stmt, 0));
            cJSON_AddStringToObject(move, "alias", dt_db_column_text(stmt, 1));
            cJSON_AddItemToObject(move, "from", column_number(stmt, 2));
            cJSON_AddNumberToObject(move, "to", (double)sqlite3_column_int64(stmt, 3));
            cJSON_AddStringToObject(move, "who", dt_db_column_text(stmt, 4));
            cJSON_AddItemToObject(move, "note", column_string(stmt, 5));
            cJSON_AddItemToArray(*moves, move);
        }
        if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "reading the alias history", err);
    }
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

/* ---- list, show ------------------------------------------------------------------------------- */

/* The aliases of one version (version > 0), as ["production", ...], or of a whole model (version
   0), as {"production": 3, ...}; NULL only when out of memory. */
static cJSON *aliases_json(dt_db *db, const char *name, int64_t version) {
    sqlite3_stmt *stmt = NULL;
    cJSON *aliases = version ? cJSON_CreateArray() : cJSON_CreateObject();
    if (!aliases || sqlite3_prepare_v2(db->handle, "SELECT alias, version FROM aliases WHERE name = ?1 ORDER BY alias",
                                       -1, &stmt, NULL) != SQLITE_OK)
        return aliases;
    dt_db_bind_text(stmt, 1, name);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        if (version && sqlite3_column_int64(stmt, 1) != version) continue;
        if (version) cJSON_AddItemToArray(aliases, cJSON_CreateString(dt_db_column_text(stmt, 0)));
        else cJSON_AddNumberToObject(aliases, dt_db_column_text(stmt, 0), (double)sqlite3_column_int64(stmt, 1));
    }
    sqlite3_finalize(stmt);
    return aliases;
}

/* One row of dt_registry_list from its query: a version (name given) or a model. */
static cJSON *list_row(dt_db *db, sqlite3_stmt *stmt, int versions) {
    cJSON *row = cJSON_CreateObject();
    cJSON *aliases = aliases_json(db, dt_db_column_text(stmt, 0), versions ? sqlite3_column_int64(stmt, 1) : 0);
    if (versions) {
        cJSON_AddNumberToObject(row, "version", (double)sqlite3_column_int64(stmt, 1));
        cJSON_AddStringToObject(row, "created", dt_db_column_text(stmt, 2));
        cJSON_AddStringToObject(row, "who", dt_db_column_text(stmt, 3));
        cJSON_AddStringToObject(row, "run_id", dt_db_column_text(stmt, 4));
        cJSON_AddStringToObject(row, "params_sha256", dt_db_column_text(stmt, 5));
        cJSON_AddItemToObject(row, "aliases", aliases);
        cJSON_AddItemToObject(row, "test_accuracy", sqlite3_column_type(stmt, 6) == SQLITE_NULL
                                                        ? cJSON_CreateNull()
                                                        : cJSON_CreateNumber(sqlite3_column_double(stmt, 6)));
        cJSON_AddStringToObject(row, "note", dt_db_column_text(stmt, 7));
    } else {
        cJSON_AddStringToObject(row, "name", dt_db_column_text(stmt, 0));
        cJSON_AddNumberToObject(row, "latest_version", (double)sqlite3_column_int64(stmt, 1));
        cJSON_AddNumberToObject(row, "versions", (double)sqlite3_column_int64(stmt, 3));
        cJSON_AddItemToObject(row, "aliases", aliases);
        cJSON_AddStringToObject(row, "latest_created", dt_db_column_text(stmt, 2));
    }
    return row;
}

dt_status dt_registry_list(const char *db_path, const char *name, cJSON **rows, dt_error *err) {
    dt_db db;
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK && name)
        status = dt_db_prepare(&db, "SELECT name, version, created, who, run_id, params_sha256,"
                                    " json_extract(lineage, '$.final.test_accuracy'), note FROM models WHERE name = ?1"
                                    " ORDER BY version", &stmt, err);
    else if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT name, MAX(version), MAX(created), count(*) FROM models GROUP BY name"
                                    " ORDER BY name", &stmt, err);
    *rows = status == DT_OK ? cJSON_CreateArray() : NULL;
    if (status == DT_OK) {
        int rc;
        if (name) dt_db_bind_text(stmt, 1, name);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) cJSON_AddItemToArray(*rows, list_row(&db, stmt, name != NULL));
        if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "listing models", err);
        else if (name && cJSON_GetArraySize(*rows) == 0)
            status = dt_fail(err, DT_CHECKPOINT, "no model named '%s' in %s", name, db_path);
    }
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

/* The lineage recorded for version v, or NULL (DT_CHECKPOINT) when it is unreadable. */
static dt_status read_lineage(dt_db *db, const dt_model_version *v, cJSON **lineage, dt_error *err) {
    sqlite3_stmt *stmt = NULL;
    *lineage = NULL;
    dt_status status = dt_db_prepare(db, "SELECT lineage FROM models WHERE name = ?1 AND version = ?2", &stmt, err);
    if (status != DT_OK) return status;
    dt_db_bind_text(stmt, 1, v->name);
    sqlite3_bind_int64(stmt, 2, v->version);
    if (sqlite3_step(stmt) == SQLITE_ROW) *lineage = cJSON_Parse(dt_db_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    if (!*lineage)
        return dt_fail(err, DT_CHECKPOINT, "%s/%lld: its lineage record is unreadable", v->name, (long long)v->version);
    return DT_OK;
}

dt_status dt_registry_show(const char *db_path, const char *ref, cJSON **shown, dt_error *err) {
    dt_model_version v;
    *shown = NULL;
    dt_status status = dt_registry_resolve(db_path, ref, &v, err);
    if (status != DT_OK) return status;
    dt_db db;
    cJSON *lineage = NULL;
    status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK) status = read_lineage(&db, &v, &lineage, err);
    if (status == DT_OK) {
        cJSON_AddStringToObject(lineage, "model", v.name);
        cJSON_AddNumberToObject(lineage, "version", (double)v.version);
        cJSON_AddItemToObject(lineage, "aliases", aliases_json(&db, v.name, v.version));
        cJSON_AddStringToObject(lineage, "artifact", v.artifact);
        cJSON_AddStringToObject(lineage, "artifact_sha256", v.artifact_sha256);
        cJSON_AddStringToObject(lineage, "params_sha256", v.params_sha256);
        const char *folder = dt_json_string(lineage, "run_folder");
        struct stat info;
        cJSON_AddBoolToObject(lineage, "run_folder_exists", folder && stat(folder, &info) == 0);
        *shown = lineage;
    }
    dt_db_close(&db);
    return status;
}

/* ---- verify, gc ------------------------------------------------------------------------------- */

/* Version v checked: {"name", "version", "problems": [one message per damaged or missing file]}. */
static cJSON *check_version(const dt_model_version *v) {
    const char *what[3] = {"artifact (final.h5)", "manifest.json", "trace.jsonl"};
    const char *paths[3] = {v->artifact, v->manifest, v->trace};
    const char *shas[3] = {v->artifact_sha256, v->manifest_sha256, v->trace_sha256};
    cJSON *checked = cJSON_CreateObject();
    cJSON_AddStringToObject(checked, "name", v->name);
    cJSON_AddNumberToObject(checked, "version", (double)v->version);
    cJSON *problems = cJSON_AddArrayToObject(checked, "problems");
    for (int i = 0; i < 3; i++) {
        dt_error problem;
        if (check_object(v, what[i], paths[i], shas[i], &problem) != DT_OK)
            cJSON_AddItemToArray(problems, cJSON_CreateString(problem.message));
    }
    return checked;
}

dt_status dt_registry_verify(const char *db_path, cJSON **checked, int64_t *n_damaged, dt_error *err) {
    dt_db db;
    sqlite3_stmt *stmt = NULL;
    *n_damaged = 0;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK) status = dt_db_prepare(&db, "SELECT " VERSION_COLUMNS " FROM models ORDER BY name, version", &stmt, err);
    *checked = status == DT_OK ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_DONE;
    while (status == DT_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        dt_model_version v;
        if ((status = version_from_row(db_path, stmt, &v, err)) != DT_OK) break;
        cJSON *version = check_version(&v);
        *n_damaged += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(version, "problems")) > 0;
        cJSON_AddItemToArray(*checked, version);
    }
    if (status == DT_OK && rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "reading the registry", err);
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

dt_status dt_registry_gc(const char *db_path, int64_t min_age, int64_t *removed, int64_t *kept, dt_error *err) {
    dt_db db;
    char dir[OBJECTS_DIR_MAX];
    dt_status status = objects_dir(db_path, dir, err);
    if (status == DT_OK) status = dt_db_open(&db, db_path, 0, err);
    DIR *d = status == DT_OK ? opendir(dir) : NULL;
    const time_t now = time(NULL);
    sqlite3_stmt *stmt = NULL;
    *removed = *kept = 0;
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT count(*) FROM models WHERE artifact = ?1 OR manifest = ?1 OR trace = ?1",
                               &stmt, err);
    for (struct dirent *entry; status == DT_OK && d && (entry = readdir(d));) {
        if (entry->d_name[0] == '.') continue;
        struct stat info; /* by name inside the folder: no path to build, none cut */
        if (fstatat(dirfd(d), entry->d_name, &info, 0) != 0 || now - info.st_mtime < min_age)
            continue; /* young: maybe an add in progress */
        sqlite3_reset(stmt);
        dt_db_bind_text(stmt, 1, entry->d_name);
        const int named = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) > 0;
        if (named) (*kept)++;
        else if (unlinkat(dirfd(d), entry->d_name, 0) == 0) (*removed)++;
    }
    if (d) closedir(d);
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

/* ---- lineage by data -------------------------------------------------------------------------- */

/* Appends to `runs` the runs of the index of runs_root (brought up to date) that used data sha. */
static dt_status lineage_runs(const char *runs_root, const char *sha, cJSON *runs, dt_error *err) {
    char index_path[DT_PATH_MAX + 32];
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_path_join(index_path, sizeof index_path, runs_root, "detrain.sqlite", err);
    if (status == DT_OK) status = dt_db_open(&db, index_path, 1, err);
    if (status == DT_OK) status = dt_runs_refresh(&db, runs_root, 0, NULL, err);
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT DISTINCT runs.folder, run_id, experiment, status, run_data.path FROM run_data"
                                    " JOIN runs USING(folder) WHERE sha256 = ?1 ORDER BY started", &stmt, err);
    if (status == DT_OK) dt_db_bind_text(stmt, 1, sha);
    while (status == DT_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        char run_path[DT_PATH_MAX]; /* fits: the index keeps no longer folder (runs.c) */
        dt_store_run_path(runs_root, dt_db_column_text(stmt, 0), run_path, sizeof run_path);
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "folder", dt_db_column_text(stmt, 0));
        cJSON_AddStringToObject(row, "run_path", run_path);
        cJSON_AddStringToObject(row, "run_id", dt_db_column_text(stmt, 1));
        cJSON_AddStringToObject(row, "experiment", dt_db_column_text(stmt, 2));
        cJSON_AddStringToObject(row, "status", dt_db_column_text(stmt, 3));
        cJSON_AddStringToObject(row, "path", dt_db_column_text(stmt, 4));
        cJSON_AddItemToArray(runs, row);
    }
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

/* Appends to `models` the versions of the registry at db_path that used data sha. */
static dt_status lineage_models(const char *db_path, const char *sha, cJSON *models, dt_error *err) {
    dt_db db;
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT DISTINCT name, version, path FROM model_data WHERE sha256 = ?1"
                                    " ORDER BY name, version", &stmt, err);
    if (status == DT_OK) dt_db_bind_text(stmt, 1, sha);
    while (status == DT_OK && sqlite3_step(stmt) == SQLITE_ROW) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "name", dt_db_column_text(stmt, 0));
        cJSON_AddNumberToObject(row, "version", (double)sqlite3_column_int64(stmt, 1));
        cJSON_AddStringToObject(row, "path", dt_db_column_text(stmt, 2));
        cJSON_AddItemToArray(models, row);
    }
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}

dt_status dt_lineage(const char *runs_root, const char *db_path, const char *file_or_sha256, cJSON **found,
                     dt_error *err) {
    char sha[65];
    *found = NULL;
    if (dt_file_exists(file_or_sha256)) {
        dt_status status = dt_file_sha256(file_or_sha256, sha, err);
        if (status != DT_OK) return status;
    } else if (strlen(file_or_sha256) == 64 && strspn(file_or_sha256, "0123456789abcdef") == 64) {
        snprintf(sha, sizeof sha, "%s", file_or_sha256);
    } else {
        return dt_fail(err, DT_USAGE, "lineage %s: not a file, and not a SHA-256 (64 lowercase hex digits)", file_or_sha256);
    }
    *found = cJSON_CreateObject();
    cJSON *runs = cJSON_AddArrayToObject(*found, "runs"), *models = cJSON_AddArrayToObject(*found, "models");
    cJSON_AddStringToObject(*found, "sha256", sha);
    struct stat info;
    dt_status status = DT_OK;
    if (stat(runs_root, &info) == 0) status = lineage_runs(runs_root, sha, runs, err);
    if (status == DT_OK && stat(db_path, &info) == 0) status = lineage_models(db_path, sha, models, err);
    return status;
}
