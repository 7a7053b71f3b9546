/* store.h — a project's store: the one folder that holds its runs index and its model
 * registry (detrain.sqlite, and the registry's files in detrain.sqlite.objects) and, unless
 * --out says otherwise, its run and sweep folders. Every run is recorded in it wherever its
 * folder is, so `runs`, `lineage` and `registry` find them from anywhere in the project.
 *
 * Found as git finds its repository: $DETRAIN_HOME, else the nearest .detrain/ folder upward
 * from the current folder (`detrain init` makes one), else ./checkpoints/ (the layout of a
 * project without a store, and of every detrain before stores). */
#ifndef DT_STORE_H
#define DT_STORE_H

#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

typedef enum {
    DT_STORE_GIVEN,   /* a command's --root */
    DT_STORE_HOME,    /* $DETRAIN_HOME */
    DT_STORE_NEAREST, /* the nearest .detrain/ upward */
    DT_STORE_DEFAULT, /* ./checkpoints */
} dt_store_origin;

typedef struct {
    char path[DT_PATH_MAX];        /* the store folder, as found (relative for ./checkpoints) */
    char db[DT_PATH_MAX + 32];     /* <path>/detrain.sqlite: the runs index and the registry */
    dt_store_origin origin;
} dt_store;

/* The store a command uses: `given` (--root) when not NULL, else as the header says. A folder
 * that does not exist yet is still the answer (a run creates it). DT_USAGE when the path given
 * (--root, $DETRAIN_HOME) is too long for s: refused, never cut. */
dt_status dt_store_find(dt_store *s, const char *given, dt_error *err);

/* How s was found, for "detrain: store PATH (WHY)": "--root", "$DETRAIN_HOME", "the nearest
 * .detrain/", "./checkpoints: no $DETRAIN_HOME and no .detrain/ above". */
const char *dt_store_origin_text(const dt_store *s);

/* Creates DIR/.detrain with an empty detrain.sqlite (dir: the current folder when NULL) and
 * describes it in *s; *existed is 1 when it was there already (then nothing changes).
 * DT_WRITE / DT_IO naming the folder or database when it cannot be made. */
dt_status dt_store_init(const char *dir, dt_store *s, int *existed, dt_error *err);

/* The registry database a command uses: `given` (--registry) when not NULL, else
 * $DETRAIN_REGISTRY, else the store's detrain.sqlite. */
void dt_store_registry(const dt_store *s, const char *given, char *out, size_t size);

/* The name under which the runs index knows run folder run_dir: its folder name when it lies
 * directly in the store, else its absolute path. DT_IO when run_dir cannot be resolved. */
dt_status dt_store_run_key(const dt_store *s, const char *run_dir, char *key, size_t size, dt_error *err);

/* The path of the run folder the index of store folder `root` knows as key: key itself when
 * absolute, else <root>/<key>. */
void dt_store_run_path(const char *root, const char *key, char *out, size_t size);

#endif
