/* registry.h — the model registry: a run's final.h5 registered as version N of a named model,
 * with the run's record and its lineage (code, config, data, environment, metrics); aliases
 * such as production, with the history of every move; references NAME@ALIAS and NAME/VERSION
 * wherever a checkpoint goes; and lineage by data (which runs and versions used a file).
 *
 * Rows live in the database (db.h). Files live content-addressed beside it, in
 * <database>.objects/<sha256> (a store made before, <folder>/registry/objects, is still read):
 * the checkpoint, manifest.json and trace.jsonl of every version, an identical file stored once. A file is written (temporary
 * name, fsync, rename) before the row that names it commits, so a crash leaves at most an
 * orphan file for `registry gc`, never a row without its file. */
#ifndef DT_REGISTRY_H
#define DT_REGISTRY_H

#include <stdint.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cJSON cJSON;

/* A model version as the registry holds it. */
typedef struct {
    char name[DT_NAME_MAX];
    int64_t version;
    char artifact_sha256[65], manifest_sha256[65], trace_sha256[65], params_sha256[65];
    char artifact[DT_PATH_MAX];                /* the stored final.h5 */
    char manifest[DT_PATH_MAX], trace[DT_PATH_MAX]; /* the stored record of its run */
    char run_id[64];
} dt_model_version;

/* Whether text has the shape of a model reference, NAME@ALIAS or NAME/VERSION (a path that
 * exists is a path first: callers check that). */
int dt_model_ref_shape(const char *text);

/* Finds the version a reference names in the registry at db_path and checks its stored
 * artifact against the digest it was registered with. DT_USAGE for a malformed reference;
 * DT_CHECKPOINT (exit 2) for an unknown name, alias or version, or a damaged artifact, naming
 * the version. */
dt_status dt_registry_resolve(const char *db_path, const char *ref, dt_model_version *v, dt_error *err);

/* Makes `dir` a run folder of v's stored record — manifest.json, trace.jsonl, final.h5 — for
 * diff and reproduce. DT_WRITE when it cannot. */
dt_status dt_registry_materialize(const dt_model_version *v, const char *dir, dt_error *err);

/* What dt_registry_add registered. */
typedef struct {
    int64_t version;            /* the new version, or the one that holds the same artifact */
    int existing;               /* 1: the same artifact was registered before under the name (nothing added) */
    char checkpoint[16];        /* the run's file registered: "best.h5" or "final.h5" */
    char artifact_sha256[65], params_sha256[65];
    char run_id[64];
} dt_registry_added;

/* Registers a checkpoint of run_dir as the next version of `name` after verifying every tensor
 * digest and the file's recorded SHA-256; *added says which version. `checkpoint`: "best"
 * (best.h5), "final" (final.h5) or NULL (best.h5 when the run kept one, else final.h5). The
 * same artifact under the same name again is the existing version (added->existing). DT_USAGE
 * for a run that is not completed, a malformed name or no best.h5 asked for; DT_CHECKPOINT for
 * a damaged checkpoint. */
dt_status dt_registry_add(const char *db_path, const char *run_dir, const char *name, const char *note,
                          const char *checkpoint, dt_registry_added *added, dt_error *err);

/* An alias move: from_version 0 when the alias is new. */
typedef struct {
    int64_t from_version, to_version;
} dt_alias_move;

/* Moves (or sets) alias of `name` to `version`, records the move (from, to, who, when, note)
 * in the alias history and says it in *move. Moving it back is a rollback. */
dt_status dt_registry_alias(const char *db_path, const char *name, const char *alias, const char *version,
                            const char *note, dt_alias_move *move, dt_error *err);

/* Every alias move of `name`, oldest first, into *moves (the caller's; an empty array when
 * none, NULL when the database cannot be read): [{"at", "alias", "from" (null when the alias
 * was new), "to", "who", "note" (or null)}]. On a failure while reading, *moves holds the moves
 * read before it. */
dt_status dt_registry_history(const char *db_path, const char *name, cJSON **moves, dt_error *err);

/* The models (name NULL) or the versions of one model into *rows (the caller's; NULL when the
 * database cannot be read; after a failure while reading, the rows read before it). A model:
 * {"name", "latest_version", "versions", "aliases": {ALIAS: VERSION}, "latest_created"}; a
 * version: {"version", "created", "who", "run_id", "params_sha256", "aliases": [ALIAS],
 * "test_accuracy" (or null), "note" ("" for none)}. DT_CHECKPOINT for an unknown name. */
dt_status dt_registry_list(const char *db_path, const char *name, cJSON **rows, dt_error *err);

/* One version and its whole lineage into *shown (the caller's; NULL on failure): the lineage
 * recorded at registration (run_id, run_folder, experiment, config_file, config_sha256, config,
 * overrides, code, data, seeds, mode, device, final, environment, registered_by/_at, note,
 * checkpoint) with "model", "version", "aliases", "artifact", "artifact_sha256",
 * "params_sha256" and "run_folder_exists" added. */
dt_status dt_registry_show(const char *db_path, const char *ref, cJSON **shown, dt_error *err);

/* Checks every stored file against its digest and every row's files exist, into *checked (the
 * caller's; NULL when the database cannot be read): [{"name", "version", "problems": [message
 * per damaged or missing file]}], by name and version. *n_damaged receives the number of
 * versions with a problem. */
dt_status dt_registry_verify(const char *db_path, cJSON **checked, int64_t *n_damaged, dt_error *err);

/* Removes stored files no version names (those an add left when it died) that are at least
 * min_age seconds old, so that a registration in progress keeps its files; *removed and *kept
 * count the files removed and those still named. */
dt_status dt_registry_gc(const char *db_path, int64_t min_age, int64_t *removed, int64_t *kept, dt_error *err);

/* The runs (in the runs index of runs_root, when that folder exists) and the model versions (in
 * the registry at db_path, when it exists) that used a data file, given as a path or a SHA-256,
 * into *found (the caller's): {"runs": [{"folder", "run_path", "run_id", "experiment", "status",
 * "path"}], "models": [{"name", "version", "path"}], "sha256"}. *found is NULL when the file or
 * digest is refused (DT_USAGE) or unreadable; after a later failure it holds what was found. */
dt_status dt_lineage(const char *runs_root, const char *db_path, const char *file_or_sha256, cJSON **found,
                     dt_error *err);

#endif
