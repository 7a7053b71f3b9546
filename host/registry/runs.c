/* runs.c — the runs index: one row per run folder, refreshed from the folders, queried with
 * SQLite (filters and sorts on any manifest key through json_extract). */
#include "registry/runs.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fsutil.h"
#include "records/runrec.h"
#include "registry/store.h"

/* ---- one run's row ----------------------------------------------------------------------- */

/* The string at key of obj, or NULL. */
static const char *string_at(const cJSON *obj, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Binds text or NULL. */
/* Binds a JSON number or NULL. */
/* Seconds between two "2026-11-29T09:43:01Z" stamps; -1 when either is missing. */
static double seconds_between(const char *from, const char *to) {
    struct tm a = {0}, b = {0};
    if (!from || !to || !strptime(from, "%Y-%m-%dT%H:%M:%SZ", &a) || !strptime(to, "%Y-%m-%dT%H:%M:%SZ", &b)) return -1;
    return difftime(timegm(&b), timegm(&a));
}

/* The device column: "cpu", "cuda" — the first word of the manifest's device description. */
static void device_word(const char *device, char *out, size_t size) {
    snprintf(out, size, "%s", device ? device : "");
    out[strcspn(out, " (")] = '\0';
}

/* Writes the row of run folder `folder` (manifest m, its file's mtime and size) and its data
 * files, replacing what the index held for it. */
static dt_status store_run(dt_db *db, const char *folder, cJSON *m, int64_t mtime_ns, int64_t size, dt_error *err) {
    dt_status status = DT_OK;
    sqlite3_stmt *run = NULL, *data = NULL, *clear = NULL;
    const cJSON *final = cJSON_GetObjectItemCaseSensitive(m, "final"), *code = cJSON_GetObjectItemCaseSensitive(m, "code");
    const cJSON *epochs = cJSON_GetObjectItemCaseSensitive(m, "epochs");
    const cJSON *last = cJSON_IsArray(epochs) ? cJSON_GetArrayItem(epochs, cJSON_GetArraySize(epochs) - 1) : NULL;
    const cJSON *metrics = cJSON_IsObject(final) ? final : last;
    const char *experiment = string_at(m, "experiment");
    char stem[256] = "", device[64];
    if (!experiment && string_at(m, "config_file")) { /* a manifest from before experiments: the config's stem */
        snprintf(stem, sizeof stem, "%s", string_at(m, "config_file"));
        /* Not basename(3): POSIX's may return a read-only "." for an empty path (found by fuzz_runs). */
        char *base = strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem, *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        memmove(stem, base, strlen(base) + 1);
        experiment = stem;
    }
    device_word(string_at(m, "device"), device, sizeof device);
    const char *finished = string_at(m, "finished_at") ? string_at(m, "finished_at") : string_at(m, "updated_at");
    /* What --where and --sort look into: the manifest without its per-epoch and per-checkpoint
     * lists, which only make it longer to scan. */
    cJSON *slim = cJSON_Duplicate(m, 1);
    if (slim) {
        cJSON_DeleteItemFromObjectCaseSensitive(slim, "epochs");
        cJSON_DeleteItemFromObjectCaseSensitive(slim, "checkpoints");
    }
    char *text = slim ? cJSON_PrintUnformatted(slim) : NULL;
    cJSON_Delete(slim);
    if (!text) return dt_fail(err, DT_NOMEM, "out of memory indexing %s", folder);
    DT_TRY(dt_db_prepare(db,
                         "INSERT OR REPLACE INTO runs VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15, ?16, ?17, ?18)",
                         &run, err));
    dt_db_bind_text(run, 1, folder);
    dt_db_bind_text(run, 2, string_at(m, "run_id"));
    dt_db_bind_text(run, 3, experiment);
    dt_db_bind_text(run, 4, string_at(m, "status"));
    dt_db_bind_text(run, 5, string_at(m, "started_at"));
    dt_db_bind_text(run, 6, finished);
    const double seconds = seconds_between(string_at(m, "started_at"), finished);
    if (seconds >= 0) sqlite3_bind_double(run, 7, seconds);
    sqlite3_bind_int64(run, 8, cJSON_IsArray(epochs) ? cJSON_GetArraySize(epochs) : 0);
    dt_db_bind_number(run, 9, cJSON_GetObjectItemCaseSensitive(metrics, "test_accuracy"));
    dt_db_bind_number(run, 10, cJSON_GetObjectItemCaseSensitive(metrics, "test_loss"));
    dt_db_bind_text(run, 11, string_at(final, "params_sha256"));
    dt_db_bind_text(run, 12, string_at(code, "git_commit"));
    sqlite3_bind_int(run, 13, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(code, "git_dirty")));
    dt_db_bind_text(run, 14, string_at(m, "mode"));
    dt_db_bind_text(run, 15, device);
    dt_db_bind_text(run, 16, text);
    sqlite3_bind_int64(run, 17, mtime_ns);
    sqlite3_bind_int64(run, 18, size);
    int rc = sqlite3_step(run);
    if (rc != SQLITE_DONE) {
        status = dt_db_fail(db, rc, "indexing a run", err);
        goto cleanup;
    }
    DT_TRY(dt_db_prepare(db, "DELETE FROM run_data WHERE folder = ?1", &clear, err));
    dt_db_bind_text(clear, 1, folder);
    if ((rc = sqlite3_step(clear)) != SQLITE_DONE) {
        status = dt_db_fail(db, rc, "indexing a run's data", err);
        goto cleanup;
    }
    DT_TRY(dt_db_prepare(db, "INSERT INTO run_data VALUES(?1, ?2, ?3, ?4)", &data, err));
    const char *files_key[2] = {"data.train.files", "data.test.files"};
    for (int s = 0; s < 2; s++) {
        const cJSON *file;
        cJSON_ArrayForEach(file, dt_run_record_item(m, files_key[s])) {
            if (!string_at(file, "sha256")) continue;
            sqlite3_reset(data);
            dt_db_bind_text(data, 1, folder);
            dt_db_bind_text(data, 2, string_at(file, "sha256"));
            dt_db_bind_text(data, 3, string_at(file, "path"));
            dt_db_bind_number(data, 4, cJSON_GetObjectItemCaseSensitive(file, "size"));
            if ((rc = sqlite3_step(data)) != SQLITE_DONE) {
                status = dt_db_fail(db, rc, "indexing a run's data", err);
                goto cleanup;
            }
        }
    }
cleanup:
    sqlite3_finalize(run);
    sqlite3_finalize(clear);
    sqlite3_finalize(data);
    free(text);
    return status;
}

/* Reads the manifest.json (stat'ed as `info`) of the run folder known as `folder` (store.h)
 * into the index; a manifest that cannot be read or parsed is skipped (*read stays 0): the
 * folder is not (yet) a run. */
static dt_status index_folder(dt_db *db, const char *root, const char *folder, const struct stat *info, int *read,
                              dt_error *err) {
    char dir[DT_PATH_MAX * 2], path[DT_PATH_MAX * 2 + 16];
    dt_store_run_path(root, folder, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = NULL;
    size_t size = 0;
    dt_error ignored;
    *read = 0;
    if (dt_read_text(path, &text, &size, &ignored) != DT_OK) return DT_OK;
    cJSON *m = cJSON_ParseWithLength(text, size);
    free(text);
    if (!cJSON_IsObject(m) || !string_at(m, "run_id")) {
        cJSON_Delete(m);
        return DT_OK;
    }
    const int64_t mtime_ns = (int64_t)info->st_mtim.tv_sec * 1000000000 + info->st_mtim.tv_nsec;
    const dt_status status = store_run(db, folder, m, mtime_ns, (int64_t)info->st_size, err);
    cJSON_Delete(m);
    *read = status == DT_OK;
    return status;
}

/* ---- refreshing from the folders ------------------------------------------------------------ */

typedef struct {
    char *folder;
    int64_t mtime_ns, size;
    int seen;
} indexed;

static int by_folder(const void *a, const void *b) { return strcmp(((const indexed *)a)->folder, ((const indexed *)b)->folder); }

/* What the index holds now: folder, manifest mtime and size, sorted by folder. */
static dt_status load_indexed(dt_db *db, indexed **out, int64_t *n_out, dt_error *err) {
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_prepare(db, "SELECT folder, mtime_ns, size FROM runs ORDER BY folder", &stmt, err);
    indexed *list = NULL;
    int64_t n = 0, cap = 0;
    int rc;
    while (status == DT_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            indexed *bigger = realloc(list, (size_t)cap * sizeof *list);
            if (!bigger) {
                status = dt_fail(err, DT_NOMEM, "out of memory reading the runs index");
                break;
            }
            list = bigger;
        }
        list[n] = (indexed){strdup((const char *)sqlite3_column_text(stmt, 0)), sqlite3_column_int64(stmt, 1),
                            sqlite3_column_int64(stmt, 2), 0};
        if (!list[n++].folder) status = dt_fail(err, DT_NOMEM, "out of memory reading the runs index");
    }
    if (status == DT_OK && rc != SQLITE_DONE) status = dt_db_fail(db, rc, "reading the runs index", err);
    sqlite3_finalize(stmt);
    *out = list;
    *n_out = n;
    return status;
}

/* Drops the index rows of one folder (it is gone). */
static dt_status drop_folder(dt_db *db, const char *folder, dt_error *err) {
    const char *sqls[2] = {"DELETE FROM runs WHERE folder = ?1", "DELETE FROM run_data WHERE folder = ?1"};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *stmt = NULL;
        dt_status status = dt_db_prepare(db, sqls[i], &stmt, err);
        if (status != DT_OK) return status;
        dt_db_bind_text(stmt, 1, folder);
        const int rc = sqlite3_step(stmt);
        sqlite3_finalize(stmt);
        if (rc != SQLITE_DONE) return dt_db_fail(db, rc, "dropping a run that is gone", err);
    }
    return DT_OK;
}

/* Re-reads the row of a run folder outside the store (known by its absolute path) when its
 * manifest changed, or always when rescanning; marks it seen unless the folder is gone. */
static dt_status refresh_outside(dt_db *db, indexed *row, int rescan, int64_t *read_count, dt_error *err) {
    char manifest[DT_PATH_MAX * 2];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", row->folder);
    struct stat info;
    if (stat(manifest, &info) != 0 || !S_ISREG(info.st_mode)) return DT_OK;
    row->seen = 1;
    const int64_t mtime_ns = (int64_t)info.st_mtim.tv_sec * 1000000000 + info.st_mtim.tv_nsec;
    if (!rescan && row->mtime_ns == mtime_ns && row->size == (int64_t)info.st_size) return DT_OK;
    int read = 0;
    const dt_status status = index_folder(db, "", row->folder, &info, &read, err);
    *read_count += read;
    return status;
}

dt_status dt_runs_refresh(dt_db *db, const char *root, int rescan, int64_t *n_read, dt_error *err) {
    dt_status status = DT_OK;
    indexed *list = NULL;
    int64_t n = 0, read_count = 0;
    DIR *dir = NULL;
    DT_TRY(dt_db_exec(db, "BEGIN IMMEDIATE", "updating the runs index", err));
    DT_TRY(load_indexed(db, &list, &n, err));
    dir = opendir(root);
    if (!dir) {
        status = dt_fail(err, DT_IO, "%s: cannot read the folder of runs", root);
        goto cleanup;
    }
    for (struct dirent *entry; (entry = readdir(dir));) {
        if (entry->d_name[0] == '.') continue;
        char manifest[4096];
        snprintf(manifest, sizeof manifest, "%s/%s/manifest.json", root, entry->d_name);
        struct stat info;
        if (stat(manifest, &info) != 0 || !S_ISREG(info.st_mode)) continue;
        indexed key = {entry->d_name, 0, 0, 0};
        indexed *known = n ? bsearch(&key, list, (size_t)n, sizeof *list, by_folder) : NULL;
        const int64_t mtime_ns = (int64_t)info.st_mtim.tv_sec * 1000000000 + info.st_mtim.tv_nsec;
        if (known) known->seen = 1;
        if (!rescan && known && known->mtime_ns == mtime_ns && known->size == (int64_t)info.st_size) continue;
        int read = 0;
        DT_TRY(index_folder(db, root, entry->d_name, &info, &read, err));
        read_count += read;
    }
    for (int64_t i = 0; i < n; i++) /* the runs recorded from outside the store */
        if (!list[i].seen && list[i].folder[0] == '/') DT_TRY(refresh_outside(db, &list[i], rescan, &read_count, err));
    for (int64_t i = 0; i < n; i++)
        if (!list[i].seen) DT_TRY(drop_folder(db, list[i].folder, err));
    DT_TRY(dt_db_exec(db, "COMMIT", "updating the runs index", err));
cleanup:
    if (status != DT_OK) sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
    if (dir) closedir(dir);
    for (int64_t i = 0; i < n; i++) free(list[i].folder);
    free(list);
    if (n_read) *n_read = read_count;
    return status;
}

/* Indexes run folder run_dir in the store's database: under its key (store.h). */
static dt_status note_in(dt_db *db, const dt_store *store, const char *run_dir, int *read, dt_error *err) {
    char key[DT_PATH_MAX], manifest[DT_PATH_MAX * 2 + 32];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", run_dir);
    struct stat info;
    *read = 0;
    if (stat(manifest, &info) != 0 || !S_ISREG(info.st_mode)) return DT_OK;
    const dt_status status = dt_store_run_key(store, run_dir, key, sizeof key, err);
    return status == DT_OK ? index_folder(db, store->path, key, &info, read, err) : status;
}

dt_status dt_runs_note(const char *run_dir, dt_error *err) {
    dt_store store;
    dt_store_find(&store, NULL);
    dt_db db;
    int read = 0;
    dt_status status = dt_db_open(&db, store.db, 1, err);
    if (status == DT_OK) status = note_in(&db, &store, run_dir, &read, err);
    dt_db_close(&db);
    return status;
}

dt_status dt_runs_adopt(const dt_store *store, const char *dir, int64_t *n_adopted, dt_error *err) {
    dt_db db;
    dt_status status = DT_OK;
    DIR *children = NULL;
    int read = 0;
    *n_adopted = 0;
    DT_TRY(dt_db_open(&db, store->db, 1, err));
    DT_TRY(dt_db_exec(&db, "BEGIN IMMEDIATE", "adopting runs", err));
    DT_TRY(note_in(&db, store, dir, &read, err)); /* dir is a run folder */
    *n_adopted += read;
    if (!read && !(children = opendir(dir))) {
        status = dt_fail(err, DT_IO, "%s: not a run folder, and not a folder of runs", dir);
        goto cleanup;
    }
    for (struct dirent *entry; children && (entry = readdir(children));) { /* dir holds run folders */
        if (entry->d_name[0] == '.') continue;
        char run_dir[DT_PATH_MAX * 2];
        snprintf(run_dir, sizeof run_dir, "%s/%s", dir, entry->d_name);
        DT_TRY(note_in(&db, store, run_dir, &read, err));
        *n_adopted += read;
    }
    DT_TRY(dt_db_exec(&db, "COMMIT", "adopting runs", err));
cleanup:
    if (status != DT_OK && db.handle) sqlite3_exec(db.handle, "ROLLBACK", NULL, NULL, NULL);
    if (children) closedir(children);
    dt_db_close(&db);
    return status;
}

/* ---- listing --------------------------------------------------------------------------------- */

/* A manifest key path ("config.optimizer.lr", "final.test_accuracy", "config.model.layers[0].units")
 * as SQLite's JSON path "$.…"; -1 when it holds anything else. */
static int json_path(const char *key, char *out, size_t size) {
    if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]") != strlen(key) ||
        key[0] == '.' || key[0] == '[')
        return -1;
    snprintf(out, size, "$.%s", key);
    return 0;
}

/* Binds a --where value as what it looks like: a number, true/false (JSON booleans are 1/0
 * to json_extract), or text. */
static void bind_value(sqlite3_stmt *stmt, int index, const char *value) {
    char *end = NULL;
    const double number = strtod(value, &end);
    if (*value && end && *end == '\0') sqlite3_bind_double(stmt, index, number);
    else if (!strcmp(value, "true")) sqlite3_bind_int(stmt, index, 1);
    else if (!strcmp(value, "false")) sqlite3_bind_int(stmt, index, 0);
    else sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
}

/* Splits "PATH<op>VALUE" at its operator: path and value into the buffers, the SQL operator
 * out. -1 when there is none or the path is malformed. */
static int split_where(const char *where, char *path, size_t path_size, const char **value, const char **sql_op) {
    static const struct {
        const char *text, *sql;
    } ops[] = {{"!=", "!="}, {"<=", "<="}, {">=", ">="}, {"==", "="}, {"=", "="}, {"<", "<"}, {">", ">"}};
    const char *at = NULL;
    size_t which = 0;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const char *p = strstr(where, ops[k].text);
        if (p && (!at || p < at)) at = p, which = k;
    }
    if (!at) return -1;
    char key[512];
    snprintf(key, sizeof key, "%.*s", (int)(at - where), where);
    *value = at + strlen(ops[which].text);
    *sql_op = ops[which].sql;
    return json_path(key, path, path_size);
}

/* Edit distance of a and b (at most 127 bytes each are compared). */
static int edit_distance(const char *a, const char *b) {
    int row[128], n = (int)strlen(b) < 127 ? (int)strlen(b) : 127, m = (int)strlen(a) < 127 ? (int)strlen(a) : 127;
    for (int j = 0; j <= n; j++) row[j] = j;
    for (int i = 1; i <= m; i++) {
        int diagonal = row[0];
        row[0] = i;
        for (int j = 1; j <= n; j++) {
            const int up = row[j], cost = a[i - 1] != b[j - 1];
            row[j] = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            if (diagonal + cost < row[j]) row[j] = diagonal + cost;
            diagonal = up;
        }
    }
    return row[n];
}

/* DT_USAGE when no indexed run has manifest key `key` (its JSON path `path`), naming the
 * three closest keys that runs have: a key that ends with ".key" first ("optimizer.lr" is
 * "config.optimizer.lr"), then one that starts with it, then one whose last name is the
 * key's (config.lr: config.optimizer.lr), then by edit distance. DT_OK when some run has it, or none exists. */
static dt_status check_key(dt_db *db, const char *option, const char *key, const char *path, dt_error *err) {
    sqlite3_stmt *stmt = NULL;
    dt_status status = DT_OK;
    DT_TRY(dt_db_prepare(db, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM runs WHERE "
                             "json_type(manifest, ?1) IS NOT NULL)", &stmt, err));
    dt_db_bind_text(stmt, 1, path);
    const int known = sqlite3_step(stmt) == SQLITE_ROW &&
                      (sqlite3_column_int64(stmt, 0) == 0 || sqlite3_column_int64(stmt, 1) > 0);
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (known) goto cleanup;
    DT_TRY(dt_db_prepare(db, "SELECT DISTINCT substr(t.fullkey, 3) FROM runs, json_tree(runs.manifest) AS t "
                             "WHERE t.type NOT IN ('object', 'array')", &stmt, err));
    char best[3][160] = {"", "", ""};
    int scores[3] = {INT32_MAX, INT32_MAX, INT32_MAX};
    char suffix[600];
    snprintf(suffix, sizeof suffix, ".%s", key);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *quoted = (const char *)sqlite3_column_text(stmt, 0);
        char candidate[160];
        size_t used = 0;
        for (; quoted && *quoted && used + 1 < sizeof candidate; quoted++) /* json_tree quotes some labels */
            if (*quoted != '"') candidate[used++] = *quoted;
        candidate[used] = '\0';
        if (!used || (quoted && *quoted)) continue;
        const size_t n = strlen(candidate), k = strlen(suffix);
        const char *key_leaf = strrchr(key, '.') ? strrchr(key, '.') + 1 : key;
        const char *leaf = strrchr(candidate, '.') ? strrchr(candidate, '.') + 1 : candidate;
        const int score = n > k && !strcmp(candidate + n - k, suffix)    ? -3 /* a path left out */
                          : !strncmp(candidate, key, strlen(key)) ? -2 /* cut short */
                          : !strcmp(leaf, key_leaf)               ? -1 /* the same name elsewhere */
                                                                   : edit_distance(key, candidate);
        for (int i = 0; i < 3; i++) {
            if (score >= scores[i]) continue;
            for (int j = 2; j > i; j--) scores[j] = scores[j - 1], memcpy(best[j], best[j - 1], sizeof best[j]);
            scores[i] = score;
            snprintf(best[i], sizeof best[i], "%s", candidate);
            break;
        }
    }
    status = dt_fail(err, DT_USAGE, "%s %s: no run has the manifest key '%s'; closest: %s%s%s%s%s", option, key, key,
                     best[0][0] ? best[0] : "(none)", best[1][0] ? ", " : "", best[1], best[2][0] ? ", " : "", best[2]);
cleanup:
    sqlite3_finalize(stmt);
    return status;
}

/* "12.3 s", "4 min", "2.1 h". */
static void duration_text(sqlite3_stmt *stmt, int col, char *out, size_t size) {
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL) snprintf(out, size, "-");
    else {
        const double s = sqlite3_column_double(stmt, col);
        if (s < 100) snprintf(out, size, "%.0f s", s);
        else if (s < 6000) snprintf(out, size, "%.0f min", s / 60);
        else snprintf(out, size, "%.1f h", s / 3600);
    }
}

static const char *column_or(sqlite3_stmt *stmt, int col, const char *fallback) {
    const unsigned char *text = sqlite3_column_text(stmt, col);
    return text ? (const char *)text : fallback;
}

/* The columns a listing selects, in this order. */
#define LIST_COLUMNS                                                                                                \
    "folder, run_id, experiment, status, started, seconds, epochs, json_extract(manifest, '$.config.train.epochs'),"  \
    " test_accuracy, test_loss, params_sha256, git_commit, git_dirty, mode, device,"                                   \
    " json_extract(manifest, '$.selection.metric'), json_extract(manifest, '$.selection.best_value'),"                 \
    " json_extract(manifest, '$.selection.best_epoch')"
enum { C_FOLDER, C_RUN_ID, C_EXPERIMENT, C_STATUS, C_STARTED, C_SECONDS, C_EPOCHS, C_EPOCHS_TOTAL, C_ACCURACY,
       C_LOSS, C_PARAMS, C_COMMIT, C_DIRTY, C_MODE, C_DEVICE, C_SELECT_METRIC, C_BEST_VALUE, C_BEST_EPOCH, N_COLUMNS,
       C_MANIFEST = N_COLUMNS, C_EXTRA /* then --columns, in order */ };

/* The row's status as it stands now: a run recorded "running" whose folder lock no process
 * holds has died (kill -9, a crash, the machine) and shows as "died": resume continues it. */
static const char *status_now(const char *root, sqlite3_stmt *stmt) {
    const char *recorded = column_or(stmt, C_STATUS, "-");
    if (strcmp(recorded, "running") != 0) return recorded;
    char dir[DT_PATH_MAX * 2];
    dt_store_run_path(root, column_or(stmt, C_FOLDER, ""), dir, sizeof dir);
    return dt_dir_locked(dir) ? recorded : "died";
}

/* Prints one row as a line of the table. */
static void print_line(sqlite3_stmt *stmt, const char *status, int n_extra) {
    char duration[32], epochs[32], accuracy[16] = "-", loss[16] = "-", commit[24], mode_device[48];
    duration_text(stmt, C_SECONDS, duration, sizeof duration);
    snprintf(epochs, sizeof epochs, "%lld/%s", (long long)sqlite3_column_int64(stmt, C_EPOCHS),
             column_or(stmt, C_EPOCHS_TOTAL, "?"));
    if (sqlite3_column_type(stmt, C_ACCURACY) != SQLITE_NULL)
        snprintf(accuracy, sizeof accuracy, "%.4f", sqlite3_column_double(stmt, C_ACCURACY));
    if (sqlite3_column_type(stmt, C_LOSS) != SQLITE_NULL)
        snprintf(loss, sizeof loss, "%.6f", sqlite3_column_double(stmt, C_LOSS));
    snprintf(commit, sizeof commit, "%.8s%s", column_or(stmt, C_COMMIT, "-"),
             sqlite3_column_int(stmt, C_DIRTY) ? "+dirty" : "");
    snprintf(mode_device, sizeof mode_device, "%s/%s", column_or(stmt, C_MODE, "-"), column_or(stmt, C_DEVICE, "-"));
    char best[64] = "-"; /* the selection: "val_loss 0.0733 @24" */
    if (sqlite3_column_type(stmt, C_BEST_VALUE) != SQLITE_NULL)
        snprintf(best, sizeof best, "%s %.4g @%lld", column_or(stmt, C_SELECT_METRIC, "?"),
                 sqlite3_column_double(stmt, C_BEST_VALUE), (long long)sqlite3_column_int64(stmt, C_BEST_EPOCH));
    printf("%-32s %-26s %-16s %-11s %-20s %7s %7s %8s %9s %-12.12s %-14s %-22s %-22s", column_or(stmt, C_FOLDER, ""),
           column_or(stmt, C_RUN_ID, "-"), column_or(stmt, C_EXPERIMENT, "-"), status,
           column_or(stmt, C_STARTED, "-"), duration, epochs, accuracy, loss, column_or(stmt, C_PARAMS, "-"), commit,
           mode_device, best);
    for (int i = 0; i < n_extra; i++) printf(" %-20s", column_or(stmt, C_EXTRA + i, "-"));
    printf("\n");
}

/* The table's header line, with the --columns keys last. */
static void print_header(const dt_runs_query *q) {
    printf("%-32s %-26s %-16s %-11s %-20s %7s %7s %8s %9s %-12s %-14s %-22s %-22s", "RUN FOLDER", "RUN ID", "EXPERIMENT",
           "STATUS", "STARTED", "TIME", "EPOCHS", "ACCURACY", "LOSS", "PARAMS", "COMMIT", "MODE/DEVICE",
           "BEST (SELECTION)");
    for (int i = 0; i < q->n_columns; i++) printf(" %-20s", q->columns[i]);
    printf("\n");
}

/* Keeps a row's folder and manifest for --compare: [folder, manifest]. */
static void add_compared(cJSON *rows, sqlite3_stmt *stmt) {
    const char *text = column_or(stmt, C_MANIFEST, "{}");
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(column_or(stmt, C_FOLDER, "")));
    cJSON *manifest = cJSON_Parse(text);
    cJSON_AddItemToArray(pair, manifest ? manifest : cJSON_CreateObject());
    cJSON_AddItemToArray(rows, pair);
}

/* runs --compare over the kept rows (dt_runs_compare). */
static void print_compared(const cJSON *rows, int json) {
    const int n = cJSON_GetArraySize(rows);
    const char **folders = calloc((size_t)n + 1, sizeof *folders);
    const cJSON **manifests = calloc((size_t)n + 1, sizeof *manifests);
    for (int i = 0; i < n && folders && manifests; i++) {
        folders[i] = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, i), 0)->valuestring;
        manifests[i] = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, i), 1);
    }
    if (folders && manifests && n > 0) dt_runs_compare(folders, manifests, n, json);
    free(folders);
    free(manifests);
}

/* Adds one row to the JSON array, a member per column. */
static void add_json(cJSON *array, sqlite3_stmt *stmt, const char *status, const dt_runs_query *q) {
    static const char *const names[N_COLUMNS] = {
        "folder",      "run_id",        "experiment", "status",     "started",   "seconds", "epochs", "epochs_total",
        "test_accuracy", "test_loss", "params_sha256", "git_commit", "git_dirty", "mode",    "device",
        "select_metric", "best_value", "best_epoch"};
    cJSON *row = cJSON_CreateObject();
    for (int c = 0; c < N_COLUMNS + q->n_columns && row; c++) {
        const int col = c < N_COLUMNS ? c : C_EXTRA + c - N_COLUMNS;
        const char *name = c < N_COLUMNS ? names[c] : q->columns[c - N_COLUMNS];
        if (col == C_DIRTY) cJSON_AddBoolToObject(row, name, sqlite3_column_int(stmt, col));
        else if (col == C_STATUS) cJSON_AddStringToObject(row, name, status);
        else if (sqlite3_column_type(stmt, col) == SQLITE_NULL) cJSON_AddNullToObject(row, name);
        else if (sqlite3_column_type(stmt, col) == SQLITE_TEXT) cJSON_AddStringToObject(row, name, column_or(stmt, col, ""));
        else cJSON_AddNumberToObject(row, name, sqlite3_column_double(stmt, col));
    }
    char path[DT_PATH_MAX * 2];
    dt_store_run_path(q->root, column_or(stmt, C_FOLDER, ""), path, sizeof path);
    cJSON_AddStringToObject(row, "path", path);
    cJSON_AddItemToArray(array, row);
}

dt_status dt_runs_list(const dt_runs_query *q, dt_error *err) {
    dt_status status = DT_OK;
    char path[4096 + 32], sql[8192], sort_path[600] = "";
    char where_paths[DT_RUNS_MAX_WHERE][600];
    const char *where_values[DT_RUNS_MAX_WHERE], *where_ops[DT_RUNS_MAX_WHERE];
    sqlite3_stmt *stmt = NULL;
    cJSON *array = NULL, *compared = NULL;
    const int descending = q->sort && q->sort[0] == '-';
    for (int i = 0; i < q->n_where; i++)
        if (split_where(q->where[i], where_paths[i], sizeof where_paths[i], &where_values[i], &where_ops[i]) != 0)
            return dt_fail(err, DT_USAGE, "--where %s: expected PATH=VALUE (or !=, <, <=, >, >=) with PATH a manifest "
                           "key such as config.optimizer.lr or final.test_accuracy", q->where[i]);
    if (q->sort && json_path(q->sort + descending, sort_path, sizeof sort_path) != 0)
        return dt_fail(err, DT_USAGE, "--sort %s: expected a manifest key such as final.test_accuracy (with - first: "
                       "descending)", q->sort);
    snprintf(path, sizeof path, "%s/detrain.sqlite", q->root);
    dt_db db;
    DT_TRY(dt_db_open(&db, path, 1, err));
    DT_TRY(dt_runs_refresh(&db, q->root, q->rescan, NULL, err));
    for (int i = 0; i < q->n_where; i++) {
        char key[600];
        snprintf(key, sizeof key, "%s", where_paths[i] + 2);
        DT_TRY(check_key(&db, "--where", key, where_paths[i], err));
    }
    if (q->sort) DT_TRY(check_key(&db, "--sort", q->sort + descending, sort_path, err));
    char column_paths[DT_RUNS_MAX_COLUMNS][600];
    for (int i = 0; i < q->n_columns; i++) {
        if (json_path(q->columns[i], column_paths[i], sizeof column_paths[i]) != 0)
            return dt_fail(err, DT_USAGE, "--columns %s: expected manifest keys such as config.optimizer.lr", q->columns[i]);
        DT_TRY(check_key(&db, "--columns", q->columns[i], column_paths[i], err));
    }
    int used = snprintf(sql, sizeof sql, "SELECT " LIST_COLUMNS ", manifest");
    for (int i = 0; i < q->n_columns; i++)
        used += snprintf(sql + used, sizeof sql - (size_t)used, ", json_extract(manifest, ?%d)", 40 + i);
    used += snprintf(sql + used, sizeof sql - (size_t)used, " FROM runs WHERE 1");
    if (q->experiment) used += snprintf(sql + used, sizeof sql - (size_t)used, " AND experiment = ?1");
    if (q->status) used += snprintf(sql + used, sizeof sql - (size_t)used, " AND status = ?2");
    for (int i = 0; i < q->n_where; i++)
        used += snprintf(sql + used, sizeof sql - (size_t)used, " AND json_extract(manifest, ?%d) %s ?%d", 10 + 2 * i,
                         where_ops[i], 11 + 2 * i);
    if (q->sort) used += snprintf(sql + used, sizeof sql - (size_t)used, " ORDER BY json_extract(manifest, ?3) %s NULLS LAST, started DESC",
                                  descending ? "DESC" : "ASC");
    else used += snprintf(sql + used, sizeof sql - (size_t)used, " ORDER BY started DESC");
    if (q->limit > 0) snprintf(sql + used, sizeof sql - (size_t)used, " LIMIT %lld", (long long)q->limit);
    DT_TRY(dt_db_prepare(&db, sql, &stmt, err));
    if (q->experiment) dt_db_bind_text(stmt, 1, q->experiment);
    if (q->status) dt_db_bind_text(stmt, 2, strcmp(q->status, "died") ? q->status : "running");
    if (q->sort) dt_db_bind_text(stmt, 3, sort_path);
    for (int i = 0; i < q->n_where; i++) {
        dt_db_bind_text(stmt, 10 + 2 * i, where_paths[i]);
        bind_value(stmt, 11 + 2 * i, where_values[i]);
    }
    for (int i = 0; i < q->n_columns; i++) dt_db_bind_text(stmt, 40 + i, column_paths[i]);
    if (q->compare) compared = cJSON_CreateArray();
    else if (q->json) array = cJSON_CreateArray();
    else print_header(q);
    int rc, n = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *status_text = status_now(q->root, stmt);
        if (q->status && strcmp(status_text, q->status) != 0) continue; /* running vs died */
        if (compared) add_compared(compared, stmt);
        else if (array) add_json(array, stmt, status_text, q);
        else print_line(stmt, status_text, q->n_columns);
        n++;
    }
    if (compared) print_compared(compared, q->json);
    if (rc != SQLITE_DONE) {
        status = dt_db_fail(&db, rc, "listing the runs", err);
        goto cleanup;
    }
    if (array) {
        char *text = cJSON_Print(array);
        if (text) printf("%s\n", text);
        free(text);
    }
cleanup:
    sqlite3_finalize(stmt);
    cJSON_Delete(array);
    cJSON_Delete(compared);
    dt_db_close(&db);
    return status;
}
