/* diff.h — detrain diff: what changed between two runs. */
#ifndef DT_DIFF_H
#define DT_DIFF_H

#include "status.h"

/* Compares the records of two run folders and prints, section by section, what differs:
 * config keys by JSON path, code version, data files and digests, seeds, mode, environment
 * and library versions, final metrics, and the first step at which the loss traces diverge.
 * *n_differences receives the number of differences found. DT_IO / DT_CHECKPOINT when a
 * record cannot be read. */
dt_status dt_diff(const char *run_a, const char *run_b, int *n_differences, dt_error *err);

#endif
