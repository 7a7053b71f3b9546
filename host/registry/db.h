/* db.h — detrain's SQLite database: the runs index and the model registry share one file,
 * the project store's detrain.sqlite by default (store.h). Run folders stay the source of truth for runs; the
 * registry's rows and its content-addressed files are the truth for model versions.
 *
 * The schema is versioned (table meta, key schema_version) and migrated forward in one
 * transaction when a build opens an older file; a file from a newer build is refused. Every
 * connection waits up to 30 s for a busy database, so concurrent writers queue. */
#ifndef DT_DB_H
#define DT_DB_H

#include <sqlite3.h>
#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cJSON cJSON;

/* The schema this build writes. */
#define DT_DB_SCHEMA_VERSION 2 /* 2: certificates, signing keys, alias policies */

typedef struct {
    sqlite3 *handle;
    char path[DT_PATH_MAX + 32]; /* as the store names it: <store>/detrain.sqlite (store.h) */
} dt_db;

/* Opens the database at path (creating it, and its folder, when `create`) and migrates its
 * schema to DT_DB_SCHEMA_VERSION. DT_IO naming the file: not a database, from a newer detrain,
 * read-only, missing (without `create`); DT_WRITE when it cannot be written (a full disk);
 * DT_USAGE for a path longer than dt_db's.
 * Close with dt_db_close, also on failure. */
dt_status dt_db_open(dt_db *db, const char *path, int create, dt_error *err);
void dt_db_close(dt_db *db);

/* Runs SQL without results (BEGIN IMMEDIATE, COMMIT, ...); `doing` names it in messages. */
dt_status dt_db_exec(dt_db *db, const char *sql, const char *doing, dt_error *err);

/* The status of a failed SQLite call rc: DT_WRITE for a full disk or an I/O error (exit 1),
 * DT_IO for the rest (exit 2), naming the file, what was being done and SQLite's reason. */
dt_status dt_db_fail(dt_db *db, int rc, const char *doing, dt_error *err);

/* Prepares sql into *stmt; DT_IO / DT_WRITE as dt_db_fail on failure. */
dt_status dt_db_prepare(dt_db *db, const char *sql, sqlite3_stmt **stmt, dt_error *err);

/* Binds text (NULL: SQL NULL) to parameter `index` of stmt, copied. */
void dt_db_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/* Binds a JSON number as a double (anything else: SQL NULL) to parameter `index` of stmt. */
void dt_db_bind_number(sqlite3_stmt *stmt, int index, const cJSON *item);

/* Column col of the current row as text; "" for NULL. */
const char *dt_db_column_text(sqlite3_stmt *stmt, int col);

#endif
