/* diff.h — detrain diff: what changed between two runs. */
#ifndef DT_DIFF_H
#define DT_DIFF_H

#include "core/status.h"

typedef struct cJSON cJSON;

/* At most this many differing paths of one section are listed (all are counted). */
#define DT_DIFF_MAX_LINES 12

/* Compares the records of two run folders, section by section: config keys by JSON path, code
 * version, data files and digests, seeds, mode, environment and library versions, final
 * metrics, and the first step at which the loss traces diverge. *report (the caller's) receives
 *   {"a", "b": the folders, "runs": [{"run_id", "status", "started_at"}, ...] (a, then b),
 *    "data_paths": [{"set", "a", "b"}]: data sets with the same files (SHA-256) at other paths,
 *        which are no difference,
 *    "config_files": {"a", "b"}: the config files each run read when they differ but hold the
 *        same settings (data paths aside), which is no difference; {} otherwise,
 *    "sections": [{"heading", "count", "differences": [{"path", "a", "b"}] (the first
 *        DT_DIFF_MAX_LINES, values in brief)}],
 *    "trace": {"steps_a", "steps_b", "common", "differing", "first" (0: none), "a", "b" (the
 *        first differing losses, decimal and bits)},
 *    "differences": the total, the trace counting one when it differs}.
 * DT_IO / DT_CHECKPOINT when a record cannot be read (*report NULL). */
dt_status dt_diff(const char *run_a, const char *run_b, cJSON **report, dt_error *err);

#endif
