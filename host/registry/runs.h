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
#include "status.h"

#define DT_RUNS_MAX_WHERE 16
#define DT_RUNS_MAX_COLUMNS 8

typedef struct {
    const char *root;                          /* the store folder (store.h) */
    const char *experiment, *status;           /* only these; NULL = any */
    const char *where[DT_RUNS_MAX_WHERE];      /* "PATH=VALUE" (also !=, <, <=, >, >=) on any manifest key */
    int n_where;
    const char *sort;                          /* "PATH" ascending, "-PATH" descending; NULL: newest first */
    int64_t limit;                             /* at most this many; 0 = all */
    int json;                                  /* a JSON array instead of the table */
    int rescan;                                /* rebuild the index from the folders first */
    const char *columns[DT_RUNS_MAX_COLUMNS];  /* manifest keys shown as extra columns */
    int n_columns;
    int compare;                               /* instead of the table: the keys whose values differ */
} dt_runs_query;

/* Prints, for the manifests of the runs named folders[i], the keys (config, overrides, seeds,
 * code, data, mode, device, status, final, selection) whose values are not the same in all of
 * them: a table with one row per key and one column per run, or JSON {"runs": [...], "keys":
 * {KEY: [values]}}. runs_compare.c. */
void dt_runs_compare(const char *const *folders, const cJSON *const *manifests, int n, int json);

/* Brings the root's index up to date and prints the runs the query selects, one line each
 * (run folder, run id, experiment, status, start, duration, epochs done, test accuracy and
 * loss, parameter digest, code commit, mode and device) or as JSON. DT_USAGE for a malformed
 * --where or --sort, DT_IO / DT_WRITE for the database (named). */
dt_status dt_runs_list(const dt_runs_query *q, dt_error *err);

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
