/* reproduce.h — detrain registry reproduce: re-prove a registered model bit for bit, by
 * verifying (verify.h) the run record the registry stores for it. */
#ifndef DT_REPRODUCE_H
#define DT_REPRODUCE_H

#include "registry/registry.h"
#include "core/status.h"

/* A registered version made ready to re-run: its stored record as a run folder. */
typedef struct {
    dt_model_version version;
    char dir[DT_PATH_MAX]; /* a temporary folder: manifest.json, trace.jsonl, final.h5 of the version */
} dt_reproduction;

/* Finds the version `ref` names (NAME@ALIAS, NAME/VERSION) in the registry at db_path and makes
 * its stored record a run folder in r->dir, for dt_verify. DT_CHECKPOINT when the stored record
 * lists no checkpoint with the registered digest (a match would prove nothing), an unknown or
 * damaged version; DT_USAGE for a malformed reference. Close with dt_reproduce_close, also on
 * failure. */
dt_status dt_reproduce_open(const char *db_path, const char *ref, dt_reproduction *r, dt_error *err);

/* Removes r's folder. */
void dt_reproduce_close(dt_reproduction *r);

#endif
