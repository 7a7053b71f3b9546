/* runs.h — the runs index: one row per run, in the project store's detrain.sqlite (store.h),
 * so hundreds or thousands of runs can be listed, filtered and sorted fast. A run folder
 * directly in the store is known by its name, one elsewhere (--out) by its absolute path.
 *
 * The folders stay the source of truth: every listing first brings the index up to date
 * (a folder whose manifest.json changed is read again, one that disappeared is dropped, one
 * copied into the store appears), train and resume note their run as it starts and ends,
 * --rescan rebuilds the whole index from the folders, and --adopt records folders made
 * elsewhere before (a run folder, or a folder of them). */
#ifndef DT_RUNS_H
#define DT_RUNS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "registry/db.h"
#include "registry/store.h"
#include "core/status.h"

#define DT_RUNS_MAX_WHERE 16
#define DT_RUNS_MAX_COLUMNS 8

typedef struct {
    const char *root;                          /* the store folder (store.h) */
    const char *experiment, *status;           /* only these; NULL = any */
    const char *where[DT_RUNS_MAX_WHERE];      /* "PATH=VALUE" (also !=, <, <=, >, >=) on any manifest key */
    int n_where;
    const char *sort;                          /* "PATH" ascending, "-PATH" descending; NULL: newest first */
    int64_t limit;                             /* at most this many; 0 = all */
    int rescan;                                /* rebuild the index from the folders first */
    const char *columns[DT_RUNS_MAX_COLUMNS];  /* manifest keys shown as extra columns */
    int n_columns;
    int compare;                               /* keep each row's manifest (runs --compare) */
} dt_runs_query;

/* The columns of a listing, in this order; the query's --columns keys follow. */
typedef enum {
    DT_RUN_FOLDER, DT_RUN_ID, DT_RUN_EXPERIMENT, DT_RUN_STATUS, DT_RUN_STARTED, DT_RUN_SECONDS, DT_RUN_EPOCHS,
    DT_RUN_EPOCHS_TOTAL, DT_RUN_ACCURACY, DT_RUN_LOSS, DT_RUN_PARAMS, DT_RUN_COMMIT, DT_RUN_DIRTY, DT_RUN_MODE,
    DT_RUN_DEVICE, DT_RUN_SELECT_METRIC, DT_RUN_BEST_VALUE, DT_RUN_BEST_EPOCH, DT_RUN_N_COLUMNS
} dt_runs_column;

/* A value of a listing as the index holds it: NULL, a number or text. `text` is the index's
 * own text of it (a number as SQLite writes it: 3, 0.05), NULL for NULL; `number` its value as
 * a number (0 for NULL). */
typedef struct {
    enum { DT_RUNS_NULL, DT_RUNS_NUMBER, DT_RUNS_TEXT } type;
    double number;
    char *text;
} dt_runs_value;

/* One run of a listing. values[DT_RUN_STATUS] is the status as it stands now: "died" for a run
 * recorded running whose folder no process holds. */
typedef struct {
    dt_runs_value values[DT_RUN_N_COLUMNS + DT_RUNS_MAX_COLUMNS];
    char *path;      /* the run folder (store.h) */
    cJSON *manifest; /* with q->compare: the indexed manifest (without its epochs and checkpoints) */
} dt_runs_row;

/* The runs a query selects, in its order; n_columns = DT_RUN_N_COLUMNS + q->n_columns, 0 when
 * the query did not run. */
typedef struct {
    dt_runs_row *rows;
    int n_rows, n_columns;
} dt_runs_listing;

/* Brings the root's index up to date and lists the runs the query selects into *listing (free
 * with dt_runs_listing_free, also on failure: a failure while reading the rows leaves those read
 * before it). DT_USAGE for a malformed --where, --sort or --columns or a key no run has (naming
 * the closest), DT_IO / DT_WRITE for the database (named). */
dt_status dt_runs_list(const dt_runs_query *q, dt_runs_listing *listing, dt_error *err);
void dt_runs_listing_free(dt_runs_listing *listing);

/* What differs between runs (runs --compare, runs_compare.c): for each run, every leaf of the
 * compared sections of its manifest (experiment, config, overrides, seeds, code, data, mode,
 * device, status, final, selection) under its flattened key ("config.optimizer.lr",
 * "overrides[0]"), and the keys whose values are not the same in all runs, in the order first
 * seen. A key a run lacks is absent from its leaves. */
typedef struct {
    cJSON *leaves;    /* [{KEY: value}], one object per run */
    cJSON *differing; /* [KEY] */
} dt_runs_comparison;

/* Compares the n manifests into *out (free with dt_runs_comparison_free); DT_NOMEM. */
dt_status dt_runs_compare(const cJSON *const *manifests, int n, dt_runs_comparison *out, dt_error *err);
void dt_runs_comparison_free(dt_runs_comparison *comparison);

/* A leaf's text, as the comparison compares values: a string as it is, anything else as
 * unformatted JSON, "-" for an absent one (NULL); cut to size. */
void dt_runs_leaf_text(const cJSON *leaf, char *out, size_t size);

/* Reads the run folders under root into the index `db` (rescan: every folder, else only
 * those whose manifest changed) and drops the rows of folders that are gone. *n_read, when
 * not NULL, receives the number of manifests read. Folders whose manifest is unreadable are
 * skipped. */
dt_status dt_runs_refresh(dt_db *db, const char *root, int rescan, int64_t *n_read, dt_error *err);

/* Notes one run folder in the index of the project's store (train and resume, as a run
 * starts and ends), wherever the folder is. The index is a cache: callers ignore a failure,
 * which the next listing repairs. */
dt_status dt_runs_note(const char *run_dir, dt_error *err);

/* Records in store's index the run folder dir, or the run folders directly inside dir;
 * *n_adopted receives their number. DT_IO when dir is neither. */
dt_status dt_runs_adopt(const dt_store *store, const char *dir, int64_t *n_adopted, dt_error *err);

#endif
