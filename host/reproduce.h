/* reproduce.h — detrain registry reproduce: re-prove a registered model bit for bit. */
#ifndef DT_REPRODUCE_H
#define DT_REPRODUCE_H

#include "status.h"
#include "verify.h"

/* Re-runs the recorded run of the model version `ref` names (NAME@ALIAS, NAME/VERSION) in the
 * registry at db_path, from the record the registry stores (as verify does with a run folder),
 * and checks the result against the registered parameter digest; prints the outcome. DT_OK
 * identical, DT_MISMATCH different (the first divergence reported), exit-2 statuses when it
 * cannot run (a data file missing or changed, named; an unknown or damaged version). */
dt_status dt_reproduce(const char *db_path, const char *ref, const dt_verify_opts *opts, dt_error *err);

#endif
