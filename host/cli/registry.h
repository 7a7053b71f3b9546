/* registry.h (cli) — the model references (NAME@ALIAS, NAME/VERSION) that eval, predict,
 * inspect, diff and export accept wherever they take a checkpoint or a run folder. The
 * registry and lineage commands themselves are in cli/commands.h. */
#ifndef DT_CLI_REGISTRY_H
#define DT_CLI_REGISTRY_H

#include <stddef.h>

#include "registry/registry.h"

/* The checkpoint a command was given: a file as it is, a run folder's selected checkpoint
 * (best.h5, else final.h5, else the newest; named on stderr), or a model reference resolved in
 * the registry ($DETRAIN_REGISTRY, else the project store's, registry/store.h) with its
 * artifact checked against its digest. path: DT_PATH_MAX + 32 bytes (a run folder's file).
 * -1 when *path is set, else the exit code of the printed error (also for a path too long). */
int dt_cli_checkpoint(const char *arg, char *path, size_t size);

/* The run folder a command was given: a folder as it is, or a model version's stored record
 * made into a temporary folder (*temp set: dt_remove_run_dir it afterwards). path and temp:
 * DT_PATH_MAX bytes. -1 when *path is set, else the exit code of the printed error. */
int dt_cli_run_folder(const char *arg, char *path, size_t size, char *temp, size_t temp_size);

/* Says what `registry add` (or sweep --register) registered, on stdout: "registered NAME/N: run
 * RUN_ID, FILE, params_sha256 S", or "NAME/N: already registered (...)". */
void dt_cli_say_added(const char *name, const dt_registry_added *added);

/* The registry database a command uses (given: --registry, or NULL; else $DETRAIN_REGISTRY,
 * else the project store's) into out. -1, or the exit code of the usage error (printed unless
 * `quiet`). */
int dt_cli_registry_db(const char *given, int quiet, char *out, size_t size);

#endif
