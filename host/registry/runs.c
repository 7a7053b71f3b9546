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

#include "core/fsutil.h"
#include "core/json.h"
#include "records/runrec.h"
#include "registry/store.h"

/* ---- one run's row ----------------------------------------------------------------------- */

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

/* The experiment of manifest m: its "experiment", or for a manifest from before experiments the
 * stem of its config file (in stem); NULL when neither is there. */
static const char *experiment_of(const cJSON *m, char *stem, size_t size) {
    const char *experiment = dt_json_string(m, "experiment");
    if (experiment || !dt_json_string(m, "config_file")) return experiment;
    snprintf(stem, size, "%s", dt_json_string(m, "config_file"));
    /* Not basename(3): POSIX's may return a read-only "." for an empty path (found by fuzz_runs). */
    char *base = strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem, *dot = strrchr(base, '.');
    if (dot) *dot = '\0';
    memmove(stem, base, strlen(base) + 1);
    return stem;
}

/* What --where and --sort look into: the manifest without its per-epoch and per-checkpoint
 * lists, which only make it longer to scan; NULL when out of memory. */
static char *slim_manifest(const cJSON *m) {
    cJSON *slim = cJSON_Duplicate(m, 1);
    if (slim) {
        cJSON_DeleteItemFromObjectCaseSensitive(slim, "epochs");
        cJSON_DeleteItemFromObjectCaseSensitive(slim, "checkpoints");
    }
    char *text = slim ? cJSON_PrintUnformatted(slim) : NULL;
    cJSON_Delete(slim);
    return text;
}

/* Binds the runs row of folder `folder` (manifest m, slimmed to `text`; its file's mtime and size). */
static void bind_run(sqlite3_stmt *run, const char *folder, const cJSON *m, const char *text, int64_t mtime_ns,
                     int64_t size) {
    const cJSON *final = cJSON_GetObjectItemCaseSensitive(m, "final"), *code = cJSON_GetObjectItemCaseSensitive(m, "code");
    const cJSON *epochs = cJSON_GetObjectItemCaseSensitive(m, "epochs");
    const cJSON *last = cJSON_IsArray(epochs) ? cJSON_GetArrayItem(epochs, cJSON_GetArraySize(epochs) - 1) : NULL;
    const cJSON *metrics = cJSON_IsObject(final) ? final : last;
    char stem[256] = "", device[64];
    device_word(dt_json_string(m, "device"), device, sizeof device);
    const char *finished = dt_json_string_or(m, "finished_at", dt_json_string(m, "updated_at"));
    dt_db_bind_text(run, 1, folder);
    dt_db_bind_text(run, 2, dt_json_string(m, "run_id"));
    dt_db_bind_text(run, 3, experiment_of(m, stem, sizeof stem));
    dt_db_bind_text(run, 4, dt_json_string(m, "status"));
    dt_db_bind_text(run, 5, dt_json_string(m, "started_at"));
    dt_db_bind_text(run, 6, finished);
    const double seconds = seconds_between(dt_json_string(m, "started_at"), finished);
    if (seconds >= 0) sqlite3_bind_double(run, 7, seconds);
    sqlite3_bind_int64(run, 8, cJSON_IsArray(epochs) ? cJSON_GetArraySize(epochs) : 0);
    dt_db_bind_number(run, 9, cJSON_GetObjectItemCaseSensitive(metrics, "test_accuracy"));
    dt_db_bind_number(run, 10, cJSON_GetObjectItemCaseSensitive(metrics, "test_loss"));
    dt_db_bind_text(run, 11, dt_json_string(final, "params_sha256"));
    dt_db_bind_text(run, 12, dt_json_string(code, "git_commit"));
    sqlite3_bind_int(run, 13, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(code, "git_dirty")));
    dt_db_bind_text(run, 14, dt_json_string(m, "mode"));
    dt_db_bind_text(run, 15, device);
    dt_db_bind_text(run, 16, text);
    sqlite3_bind_int64(run, 17, mtime_ns);
    sqlite3_bind_int64(run, 18, size);
}

/* Replaces the run_data rows of folder with the data files manifest m lists. */
static dt_status store_run_data(dt_db *db, const char *folder, const cJSON *m, dt_error *err) {
    dt_status status = DT_OK;
    sqlite3_stmt *data = NULL, *clear = NULL;
    int rc;
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
            if (!dt_json_string(file, "sha256")) continue;
            sqlite3_reset(data);
            dt_db_bind_text(data, 1, folder);
            dt_db_bind_text(data, 2, dt_json_string(file, "sha256"));
            dt_db_bind_text(data, 3, dt_json_string(file, "path"));
            dt_db_bind_number(data, 4, cJSON_GetObjectItemCaseSensitive(file, "size"));
            if ((rc = sqlite3_step(data)) != SQLITE_DONE) {
                status = dt_db_fail(db, rc, "indexing a run's data", err);
                goto cleanup;
            }
        }
    }
cleanup:
    sqlite3_finalize(clear);
    sqlite3_finalize(data);
    return status;
}

/* Writes the row of run folder `folder` (manifest m, its file's mtime and size) and its data
 * files, replacing what the index held for it. */
static dt_status store_run(dt_db *db, const char *folder, cJSON *m, int64_t mtime_ns, int64_t size, dt_error *err) {
    dt_status status = DT_OK;
    sqlite3_stmt *run = NULL;
    char *text = slim_manifest(m);
    if (!text) return dt_fail(err, DT_NOMEM, "out of memory indexing %s", folder);
    DT_TRY(dt_db_prepare(db,
                         "INSERT OR REPLACE INTO runs VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15, ?16, ?17, ?18)",
                         &run, err));
    bind_run(run, folder, m, text, mtime_ns, size);
    const int rc = sqlite3_step(run);
    if (rc != SQLITE_DONE) {
        status = dt_db_fail(db, rc, "indexing a run", err);
        goto cleanup;
    }
    DT_TRY(store_run_data(db, folder, m, err));
cleanup:
    sqlite3_finalize(run);
    free(text);
    return status;
}

/* The manifest.json of the run folder known as `folder` in the index of `root` (store.h) into
 * path; -1 when the folder's path is DT_PATH_MAX or longer: detrain makes no run folder that
 * long (a run's folder holds DT_PATH_MAX bytes), so it is not a run, and it is skipped rather
 * than read at a cut path. Every folder the index keeps thus has a path that fits DT_PATH_MAX. */
static int manifest_path(const char *root, const char *folder, char path[DT_PATH_MAX + 32]) {
    char dir[DT_PATH_MAX];
    if ((folder[0] == '/' ? strlen(folder) : strlen(root) + 1 + strlen(folder)) >= sizeof dir) return -1;
    dt_store_run_path(root, folder, dir, sizeof dir);
    return dt_path_join(path, DT_PATH_MAX + 32, dir, "manifest.json", NULL) == DT_OK ? 0 : -1;
}

/* Reads the manifest.json (stat'ed as `info`) of the run folder known as `folder` (store.h)
 * into the index; a manifest that cannot be read or parsed is skipped (*read stays 0): the
 * folder is not (yet) a run. */
static dt_status index_folder(dt_db *db, const char *root, const char *folder, const struct stat *info, int *read,
                              dt_error *err) {
    char path[DT_PATH_MAX + 32];
    *read = 0;
    if (manifest_path(root, folder, path) != 0) return DT_OK;
    char *text = NULL;
    size_t size = 0;
    dt_error ignored;
    if (dt_read_text(path, &text, &size, &ignored) != DT_OK) return DT_OK;
    cJSON *m = cJSON_ParseWithLength(text, size);
    free(text);
    if (!cJSON_IsObject(m) || !dt_json_string(m, "run_id")) {
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
    char manifest[DT_PATH_MAX + 32];
    struct stat info;
    if (manifest_path("", row->folder, manifest) != 0 || stat(manifest, &info) != 0 || !S_ISREG(info.st_mode))
        return DT_OK;
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
        char manifest[DT_PATH_MAX + 32];
        struct stat info;
        if (manifest_path(root, entry->d_name, manifest) != 0 || stat(manifest, &info) != 0 || !S_ISREG(info.st_mode))
            continue;
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
    char key[DT_PATH_MAX], manifest[DT_PATH_MAX + 32];
    struct stat info;
    *read = 0;
    dt_status status = dt_path_join(manifest, sizeof manifest, run_dir, "manifest.json", err);
    if (status != DT_OK) return status;
    if (stat(manifest, &info) != 0 || !S_ISREG(info.st_mode)) return DT_OK;
    status = dt_store_run_key(store, run_dir, key, sizeof key, err);
    return status == DT_OK ? index_folder(db, store->path, key, &info, read, err) : status;
}

dt_status dt_runs_note(const char *run_dir, dt_error *err) {
    dt_store store;
    if (dt_store_find(&store, NULL, err) != DT_OK) return DT_USAGE;
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
        char run_dir[DT_PATH_MAX];
        DT_TRY(dt_path_join(run_dir, sizeof run_dir, dir, entry->d_name, err));
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

/* The columns a listing selects, in the order of dt_runs_column (runs.h), then the manifest. */
#define LIST_COLUMNS                                                                                                \
    "folder, run_id, experiment, status, started, seconds, epochs, json_extract(manifest, '$.config.train.epochs'),"  \
    " test_accuracy, test_loss, params_sha256, git_commit, git_dirty, mode, device,"                                   \
    " json_extract(manifest, '$.selection.metric'), json_extract(manifest, '$.selection.best_value'),"                 \
    " json_extract(manifest, '$.selection.best_epoch')"
enum { C_MANIFEST = DT_RUN_N_COLUMNS, C_EXTRA /* then --columns, in order */ };

/* The row's status as it stands now: a run recorded "running" whose folder lock no process
 * holds has died (kill -9, a crash, the machine) and shows as "died": resume continues it. */
static const char *status_now(const char *root, sqlite3_stmt *stmt) {
    const unsigned char *recorded = sqlite3_column_text(stmt, DT_RUN_STATUS);
    if (!recorded) return "-";
    if (strcmp((const char *)recorded, "running") != 0) return (const char *)recorded;
    char dir[DT_PATH_MAX]; /* fits: the index keeps no longer folder (manifest_path) */
    const unsigned char *folder = sqlite3_column_text(stmt, DT_RUN_FOLDER);
    dt_store_run_path(root, folder ? (const char *)folder : "", dir, sizeof dir);
    return dt_dir_locked(dir) ? "running" : "died";
}

/* Column col of the current row as a value (its text copied). -1 on OOM. */
static int read_value(sqlite3_stmt *stmt, int col, dt_runs_value *value) {
    const int type = sqlite3_column_type(stmt, col);
    value->type = type == SQLITE_NULL ? DT_RUNS_NULL : type == SQLITE_TEXT ? DT_RUNS_TEXT : DT_RUNS_NUMBER;
    value->number = sqlite3_column_double(stmt, col);
    const unsigned char *text = sqlite3_column_text(stmt, col);
    value->text = text ? strdup((const char *)text) : NULL;
    return text && !value->text ? -1 : 0;
}

/* The current row into a new row of the listing; DT_NOMEM when out of memory. */
static dt_status read_row(sqlite3_stmt *stmt, const char *status, const dt_runs_query *q, dt_runs_listing *listing,
                          dt_error *err) {
    if (listing->n_rows % 64 == 0) {
        dt_runs_row *bigger = realloc(listing->rows, (size_t)(listing->n_rows + 64) * sizeof *bigger);
        if (!bigger) return dt_fail(err, DT_NOMEM, "out of memory listing the runs");
        listing->rows = bigger;
    }
    dt_runs_row *row = &listing->rows[listing->n_rows++];
    memset(row, 0, sizeof *row);
    int failed = 0;
    for (int c = 0; c < listing->n_columns; c++)
        failed |= read_value(stmt, c < DT_RUN_N_COLUMNS ? c : C_EXTRA + c - DT_RUN_N_COLUMNS, &row->values[c]);
    free(row->values[DT_RUN_STATUS].text);
    row->values[DT_RUN_STATUS] = (dt_runs_value){DT_RUNS_TEXT, 0, strdup(status)};
    char path[DT_PATH_MAX]; /* fits: the index keeps no longer folder (manifest_path) */
    dt_store_run_path(q->root, row->values[DT_RUN_FOLDER].text ? row->values[DT_RUN_FOLDER].text : "", path, sizeof path);
    row->path = strdup(path);
    if (q->compare) {
        const unsigned char *text = sqlite3_column_text(stmt, C_MANIFEST);
        row->manifest = cJSON_Parse(text ? (const char *)text : "{}");
        if (!row->manifest) row->manifest = cJSON_CreateObject();
        failed |= !row->manifest;
    }
    if (failed || !row->path || !row->values[DT_RUN_STATUS].text)
        return dt_fail(err, DT_NOMEM, "out of memory listing the runs");
    return DT_OK;
}

void dt_runs_listing_free(dt_runs_listing *listing) {
    for (int r = 0; r < listing->n_rows; r++) {
        for (int c = 0; c < listing->n_columns; c++) free(listing->rows[r].values[c].text);
        free(listing->rows[r].path);
        cJSON_Delete(listing->rows[r].manifest);
    }
    free(listing->rows);
    memset(listing, 0, sizeof *listing);
}

/* The query's keys as JSON paths, each checked against the keys runs have (check_key). */
typedef struct {
    char where_paths[DT_RUNS_MAX_WHERE][600];
    const char *where_values[DT_RUNS_MAX_WHERE], *where_ops[DT_RUNS_MAX_WHERE];
    char sort_path[600];
    int descending;
    char column_paths[DT_RUNS_MAX_COLUMNS][600];
} query_paths;

/* The JSON paths of --where and --sort; DT_USAGE for a malformed one. */
static dt_status parse_query(const dt_runs_query *q, query_paths *p, dt_error *err) {
    p->descending = q->sort && q->sort[0] == '-';
    for (int i = 0; i < q->n_where; i++)
        if (split_where(q->where[i], p->where_paths[i], sizeof p->where_paths[i], &p->where_values[i], &p->where_ops[i]) != 0)
            return dt_fail(err, DT_USAGE, "--where %s: expected PATH=VALUE (or !=, <, <=, >, >=) with PATH a manifest "
                           "key such as config.optimizer.lr or final.test_accuracy", q->where[i]);
    if (q->sort && json_path(q->sort + p->descending, p->sort_path, sizeof p->sort_path) != 0)
        return dt_fail(err, DT_USAGE, "--sort %s: expected a manifest key such as final.test_accuracy (with - first: "
                       "descending)", q->sort);
    return DT_OK;
}

/* Every key of the query known to some run of the index (check_key); --columns parsed. */
static dt_status check_query(dt_db *db, const dt_runs_query *q, query_paths *p, dt_error *err) {
    dt_status status = DT_OK;
    for (int i = 0; i < q->n_where && status == DT_OK; i++) {
        char key[600];
        snprintf(key, sizeof key, "%s", p->where_paths[i] + 2);
        status = check_key(db, "--where", key, p->where_paths[i], err);
    }
    if (status == DT_OK && q->sort) status = check_key(db, "--sort", q->sort + p->descending, p->sort_path, err);
    for (int i = 0; i < q->n_columns && status == DT_OK; i++) {
        if (json_path(q->columns[i], p->column_paths[i], sizeof p->column_paths[i]) != 0)
            return dt_fail(err, DT_USAGE, "--columns %s: expected manifest keys such as config.optimizer.lr", q->columns[i]);
        status = check_key(db, "--columns", q->columns[i], p->column_paths[i], err);
    }
    return status;
}

/* The listing's SQL: the columns, the filters, the order and the limit (values bound later). */
static void list_sql(const dt_runs_query *q, const query_paths *p, char *sql, size_t size) {
    int used = snprintf(sql, size, "SELECT " LIST_COLUMNS ", manifest");
    for (int i = 0; i < q->n_columns; i++) used += snprintf(sql + used, size - (size_t)used, ", json_extract(manifest, ?%d)", 40 + i);
    used += snprintf(sql + used, size - (size_t)used, " FROM runs WHERE 1");
    if (q->experiment) used += snprintf(sql + used, size - (size_t)used, " AND experiment = ?1");
    if (q->status) used += snprintf(sql + used, size - (size_t)used, " AND status = ?2");
    for (int i = 0; i < q->n_where; i++)
        used += snprintf(sql + used, size - (size_t)used, " AND json_extract(manifest, ?%d) %s ?%d", 10 + 2 * i,
                         p->where_ops[i], 11 + 2 * i);
    if (q->sort) used += snprintf(sql + used, size - (size_t)used, " ORDER BY json_extract(manifest, ?3) %s NULLS LAST, started DESC",
                                  p->descending ? "DESC" : "ASC");
    else used += snprintf(sql + used, size - (size_t)used, " ORDER BY started DESC");
    if (q->limit > 0) snprintf(sql + used, size - (size_t)used, " LIMIT %lld", (long long)q->limit);
}

/* Binds the query's values to the statement of list_sql. */
static void bind_query(sqlite3_stmt *stmt, const dt_runs_query *q, const query_paths *p) {
    if (q->experiment) dt_db_bind_text(stmt, 1, q->experiment);
    if (q->status) dt_db_bind_text(stmt, 2, strcmp(q->status, "died") ? q->status : "running");
    if (q->sort) dt_db_bind_text(stmt, 3, p->sort_path);
    for (int i = 0; i < q->n_where; i++) {
        dt_db_bind_text(stmt, 10 + 2 * i, p->where_paths[i]);
        bind_value(stmt, 11 + 2 * i, p->where_values[i]);
    }
    for (int i = 0; i < q->n_columns; i++) dt_db_bind_text(stmt, 40 + i, p->column_paths[i]);
}

dt_status dt_runs_list(const dt_runs_query *q, dt_runs_listing *listing, dt_error *err) {
    dt_status status = DT_OK;
    char path[DT_PATH_MAX + 32], sql[8192];
    query_paths *p = calloc(1, sizeof *p);
    sqlite3_stmt *stmt = NULL;
    dt_db db = {0};
    memset(listing, 0, sizeof *listing);
    if (!p) return dt_fail(err, DT_NOMEM, "out of memory");
    DT_TRY(parse_query(q, p, err));
    DT_TRY(dt_path_join(path, sizeof path, q->root, "detrain.sqlite", err));
    DT_TRY(dt_db_open(&db, path, 1, err));
    DT_TRY(dt_runs_refresh(&db, q->root, q->rescan, NULL, err));
    DT_TRY(check_query(&db, q, p, err));
    list_sql(q, p, sql, sizeof sql);
    DT_TRY(dt_db_prepare(&db, sql, &stmt, err));
    bind_query(stmt, q, p);
    listing->n_columns = DT_RUN_N_COLUMNS + q->n_columns;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *status_text = status_now(q->root, stmt);
        if (q->status && strcmp(status_text, q->status) != 0) continue; /* running vs died */
        DT_TRY(read_row(stmt, status_text, q, listing, err));
    }
    if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "listing the runs", err);
cleanup:
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    free(p);
    return status;
}
