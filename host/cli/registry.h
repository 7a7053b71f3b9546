/* registry.h (cli) — the commands over many runs and models: init, runs, registry, lineage; and the
 * model references (NAME@ALIAS, NAME/VERSION) that eval, predict, inspect and diff accept
 * wherever they take a checkpoint or a run folder. */
#ifndef DT_CLI_REGISTRY_H
#define DT_CLI_REGISTRY_H

#include <stddef.h>

extern const char dt_cli_init_help[], dt_cli_runs_help[], dt_cli_registry_help[], dt_cli_lineage_help[];

/* detrain init | runs | registry SUBCOMMAND | lineage: return the exit code (errors printed). */
int dt_cli_init(int argc, char **argv);
int dt_cli_runs(int argc, char **argv);
int dt_cli_registry(int argc, char **argv);
int dt_cli_lineage(int argc, char **argv);

/* The checkpoint a command was given: a file as it is, a run folder's selected checkpoint
 * (best.h5, else final.h5, else the newest; named on stderr), or a model reference resolved in
 * the registry ($DETRAIN_REGISTRY, else the project store's, registry/store.h) with its
 * artifact checked against its digest. -1 when *path is set, else the exit code of the printed error. */
int dt_cli_checkpoint(const char *arg, char *path, size_t size);

/* The run folder a command was given: a folder as it is, or a model version's stored record
 * made into a temporary folder (*temp set: dt_remove_run_dir it afterwards). -1 when *path is
 * set, else the exit code of the printed error. */
int dt_cli_run_folder(const char *arg, char *path, size_t size, char *temp, size_t temp_size);

#endif
