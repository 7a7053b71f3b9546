/* store.c — finding a project's store, making one, and naming its runs (registry/store.h). */
#include "registry/store.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "registry/db.h"

/* Whether path is a directory. */
static int is_dir(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

/* The nearest DIR/.detrain that is a folder, DIR from the current folder up to /; 0 when
 * found (into out), -1 when none is. */
static int nearest_store(char *out, size_t size) {
    char dir[PATH_MAX];
    if (!getcwd(dir, sizeof dir)) return -1;
    for (;;) {
        char candidate[PATH_MAX + 16];
        snprintf(candidate, sizeof candidate, "%s/.detrain", strcmp(dir, "/") ? dir : "");
        if (is_dir(candidate) && strlen(candidate) < size) {
            snprintf(out, size, "%s", candidate);
            return 0;
        }
        if (!strcmp(dir, "/")) return -1;
        char *slash = strrchr(dir, '/');
        if (slash == dir) slash[1] = '\0';
        else *slash = '\0';
    }
}

dt_status dt_store_find(dt_store *s, const char *given, dt_error *err) {
    const char *home = getenv("DETRAIN_HOME");
    if (given && *given) {
        s->origin = DT_STORE_GIVEN;
        if (dt_path_check(given, sizeof s->path, err) != DT_OK) return DT_USAGE;
        snprintf(s->path, sizeof s->path, "%s", given);
    } else if (home && *home) {
        s->origin = DT_STORE_HOME;
        if (dt_path_check(home, sizeof s->path, err) != DT_OK) return DT_USAGE;
        snprintf(s->path, sizeof s->path, "%s", home);
    } else if (nearest_store(s->path, sizeof s->path) == 0) {
        s->origin = DT_STORE_NEAREST;
    } else {
        s->origin = DT_STORE_DEFAULT;
        snprintf(s->path, sizeof s->path, "checkpoints");
    }
    snprintf(s->db, sizeof s->db, "%s/detrain.sqlite", s->path);
    return DT_OK;
}

const char *dt_store_origin_text(const dt_store *s) {
    switch (s->origin) {
    case DT_STORE_GIVEN: return "--root";
    case DT_STORE_HOME: return "$DETRAIN_HOME";
    case DT_STORE_NEAREST: return "the nearest .detrain/";
    default: return "no $DETRAIN_HOME and no .detrain/ above: ./checkpoints";
    }
}

dt_status dt_store_init(const char *dir, dt_store *s, int *existed, dt_error *err) {
    char path[DT_PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/.detrain", dir ? dir : ".") >= sizeof path)
        return dt_fail(err, DT_USAGE, "%s: the path is too long", dir);
    if (dir && !is_dir(dir)) return dt_fail(err, DT_IO, "%s: no such folder", dir);
    char full[PATH_MAX];
    *existed = is_dir(path);
    dt_status status = dt_mkdirs(path, err);
    if (status != DT_OK) return status;
    if (!realpath(path, full) || strlen(full) >= sizeof s->path)
        return dt_fail(err, DT_IO, "%s: cannot resolve the folder: %s", path, strerror(errno));
    s->origin = DT_STORE_GIVEN;
    snprintf(s->path, sizeof s->path, "%s", full);
    snprintf(s->db, sizeof s->db, "%s/detrain.sqlite", s->path);
    dt_db db;
    status = dt_db_open(&db, s->db, 1, err);
    dt_db_close(&db);
    return status;
}

void dt_store_registry(const dt_store *s, const char *given, char *out, size_t size) {
    const char *env = getenv("DETRAIN_REGISTRY");
    snprintf(out, size, "%s", given && *given ? given : env && *env ? env : s->db);
}

dt_status dt_store_run_key(const dt_store *s, const char *run_dir, char *key, size_t size, dt_error *err) {
    char run[PATH_MAX], store[PATH_MAX], parent[PATH_MAX];
    if (!realpath(run_dir, run)) return dt_fail(err, DT_IO, "%s: cannot resolve the folder: %s", run_dir, strerror(errno));
    snprintf(parent, sizeof parent, "%s", run);
    const char *folder = strrchr(run, '/') + 1;
    const int inside = realpath(s->path, store) && !strcmp(dirname(parent), store);
    if ((size_t)snprintf(key, size, "%s", inside ? folder : run) >= size)
        return dt_fail(err, DT_IO, "%s: the path is too long to index", run);
    return DT_OK;
}

void dt_store_run_path(const char *root, const char *key, char *out, size_t size) {
    if (key[0] == '/') snprintf(out, size, "%s", key);
    else snprintf(out, size, "%s/%s", root, key);
}
