/* db.c — opening detrain's SQLite database and migrating its schema. */
#include "registry/db.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fsutil.h"

/* Migration k takes the schema from version k to k + 1; applied in order, in one
 * transaction with the new version number. Never edit one that has shipped: add one. */
static const char *const migrations[DT_DB_SCHEMA_VERSION] = {
    /* 0 -> 1: the runs index, the model registry, data lineage. */
    "CREATE TABLE runs(folder TEXT PRIMARY KEY, run_id TEXT, experiment TEXT, status TEXT, started TEXT,"
    " finished TEXT, seconds REAL, epochs INTEGER, test_accuracy REAL, test_loss REAL, params_sha256 TEXT,"
    " git_commit TEXT, git_dirty INTEGER, mode TEXT, device TEXT, manifest TEXT, mtime_ns INTEGER, size INTEGER);"
    "CREATE INDEX runs_experiment ON runs(experiment);"
    "CREATE TABLE run_data(folder TEXT NOT NULL, sha256 TEXT NOT NULL, path TEXT, size INTEGER);"
    "CREATE INDEX run_data_folder ON run_data(folder);"
    "CREATE INDEX run_data_sha256 ON run_data(sha256);"
    "CREATE TABLE models(name TEXT NOT NULL, version INTEGER NOT NULL, artifact TEXT NOT NULL,"
    " manifest TEXT NOT NULL, trace TEXT NOT NULL, params_sha256 TEXT NOT NULL, run_id TEXT,"
    " lineage TEXT NOT NULL, note TEXT, who TEXT, created TEXT,"
    " PRIMARY KEY(name, version), UNIQUE(name, artifact));"
    "CREATE TABLE model_data(name TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, path TEXT,"
    " size INTEGER);"
    "CREATE INDEX model_data_sha256 ON model_data(sha256);"
    "CREATE TABLE aliases(name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,"
    " PRIMARY KEY(name, alias));"
    "CREATE TABLE alias_history(id INTEGER PRIMARY KEY, name TEXT NOT NULL, alias TEXT NOT NULL,"
    " from_version INTEGER, to_version INTEGER NOT NULL, who TEXT, at TEXT, note TEXT);",
    /* 1 -> 2: reproducibility certificates (registry/certificate.h), the public keys that sign
     * them (registry/keys.h), and the per-alias policies that require them. */
    "CREATE TABLE signing_keys(key_id TEXT PRIMARY KEY, public_pem TEXT NOT NULL, who TEXT, created TEXT, note TEXT);"
    "CREATE TABLE certificates(name TEXT NOT NULL, version INTEGER NOT NULL, number INTEGER NOT NULL,"
    " certificate TEXT NOT NULL, key_id TEXT, machine TEXT, bit_identical INTEGER, created TEXT,"
    " PRIMARY KEY(name, version, number));"
    "CREATE TABLE alias_policies(name TEXT NOT NULL, alias TEXT NOT NULL, require_reproduced INTEGER NOT NULL,"
    " who TEXT, at TEXT, PRIMARY KEY(name, alias));",
};

dt_status dt_db_fail(dt_db *db, int rc, const char *doing, dt_error *err) {
    const int primary = rc & 0xff;
    const char *reason = db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc);
    if (primary == SQLITE_FULL || primary == SQLITE_IOERR)
        return dt_fail(err, DT_WRITE, "%s: %s failed: %s", db->path, doing, reason);
    if (primary == SQLITE_READONLY)
        return dt_fail(err, DT_IO, "%s: %s failed: the database is read-only", db->path, doing);
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
        return dt_fail(err, DT_IO, "%s: not a detrain database (%s)", db->path, reason);
    return dt_fail(err, DT_IO, "%s: %s failed: %s", db->path, doing, reason);
}

dt_status dt_db_exec(dt_db *db, const char *sql, const char *doing, dt_error *err) {
    const int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DT_OK : dt_db_fail(db, rc, doing, err);
}

dt_status dt_db_prepare(dt_db *db, const char *sql, sqlite3_stmt **stmt, dt_error *err) {
    const int rc = sqlite3_prepare_v2(db->handle, sql, -1, stmt, NULL);
    return rc == SQLITE_OK ? DT_OK : dt_db_fail(db, rc, "preparing a query", err);
}

/* The schema version stored in the file: 0 for a new, empty database; -1 for a file that
 * holds tables but no detrain meta table (someone else's database). */
static int64_t stored_version(dt_db *db) {
    sqlite3_stmt *stmt = NULL;
    int64_t version = 0;
    if (sqlite3_prepare_v2(db->handle, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &stmt, NULL) ==
        SQLITE_OK) {
        version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    } else if (sqlite3_prepare_v2(db->handle, "SELECT count(*) FROM sqlite_master", -1, &stmt, NULL) == SQLITE_OK) {
        version = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) > 0 ? -1 : 0;
    }
    sqlite3_finalize(stmt);
    return version;
}

/* Brings the schema to DT_DB_SCHEMA_VERSION in one write transaction. */
static dt_status migrate(dt_db *db, dt_error *err) {
    dt_status status = dt_db_exec(db, "BEGIN IMMEDIATE", "starting the schema check", err);
    if (status != DT_OK) return status;
    const int64_t version = stored_version(db); /* again, under the write lock */
    if (version < 0) {
        status = dt_fail(err, DT_IO, "%s: not a detrain database (it holds other tables)", db->path);
    } else if (version > DT_DB_SCHEMA_VERSION) {
        status = dt_fail(err, DT_IO, "%s: written by a newer detrain (schema %lld; this build knows %d): upgrade detrain",
                         db->path, (long long)version, DT_DB_SCHEMA_VERSION);
    } else if (version < DT_DB_SCHEMA_VERSION) {
        if (version == 0)
            status = dt_db_exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)", "creating the schema",
                                err);
        for (int64_t v = version; v < DT_DB_SCHEMA_VERSION && status == DT_OK; v++)
            status = dt_db_exec(db, migrations[v], "migrating the schema", err);
        if (status == DT_OK) {
            char sql[128];
            snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES('schema_version', '%d')", DT_DB_SCHEMA_VERSION);
            status = dt_db_exec(db, sql, "recording the schema version", err);
        }
    }
    if (status == DT_OK) return dt_db_exec(db, "COMMIT", "migrating the schema", err);
    sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
    return status;
}

dt_status dt_db_open(dt_db *db, const char *path, int create, dt_error *err) {
    memset(db, 0, sizeof *db);
    const dt_status fits = dt_path_check(path, sizeof db->path, err);
    if (fits != DT_OK) return fits;
    snprintf(db->path, sizeof db->path, "%s", path);
    struct stat info;
    if (stat(path, &info) != 0) {
        if (!create) return dt_fail(err, DT_IO, "%s: no such database", path);
        char folder[sizeof db->path];
        snprintf(folder, sizeof folder, "%s", path);
        const dt_status status = dt_mkdirs(dirname(folder), err);
        if (status != DT_OK) return status;
    }
    int rc = sqlite3_open_v2(path, &db->handle, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), NULL);
    if (rc != SQLITE_OK) return dt_db_fail(db, rc, "opening the database", err);
    sqlite3_busy_timeout(db->handle, 30000);
    sqlite3_extended_result_codes(db->handle, 1);
    /* A crash (kill -9) never leaves a half-made commit: the rollback journal, fully synced. */
    dt_status status = dt_db_exec(db, "PRAGMA synchronous = FULL", "configuring the database", err);
    if (status != DT_OK) return status;
    const int64_t version = stored_version(db);
    if (version == DT_DB_SCHEMA_VERSION) return DT_OK;
    if (version > 0 && version < DT_DB_SCHEMA_VERSION && sqlite3_db_readonly(db->handle, "main") == 1)
        return dt_fail(err, DT_IO, "%s: read-only, and its schema %lld needs upgrading to %d", path, (long long)version,
                       DT_DB_SCHEMA_VERSION);
    return migrate(db, err);
}

void dt_db_close(dt_db *db) {
    if (db->handle) sqlite3_close(db->handle);
    db->handle = NULL;
}

void dt_db_bind_text(sqlite3_stmt *stmt, int index, const char *text) {
    if (text) sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(stmt, index);
}

void dt_db_bind_number(sqlite3_stmt *stmt, int index, const cJSON *item) {
    if (cJSON_IsNumber(item)) sqlite3_bind_double(stmt, index, item->valuedouble);
    else sqlite3_bind_null(stmt, index);
}

const char *dt_db_column_text(sqlite3_stmt *stmt, int col) {
    const unsigned char *text = sqlite3_column_text(stmt, col);
    return text ? (const char *)text : "";
}
