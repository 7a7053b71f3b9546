/* mlflow.h (cli) — the registry's bridge to MLflow (detrain mlflow sync itself is in
 * cli/commands.h). */
#ifndef DT_CLI_MLFLOW_H
#define DT_CLI_MLFLOW_H

/* The registry bridge, after `registry add` (alias NULL) or `registry alias`: when tracking is
 * on (--mlflow flag_uri, the recorded config's tracking.uri, $MLFLOW_TRACKING_URI or the
 * server the run was tracked in), the MLflow registered model `name` gets a version of the MLflow
 * run recorded in the manifest at manifest_path (source: that run's logged model), or its alias
 * `alias` is pointed at that version. Prints one line of what was done, or one warning: the
 * registry's own operation has already succeeded and stands. */
void dt_cli_mlflow_bridge(const char *manifest_path, const char *name, const char *alias, const char *flag_uri,
                          const char *note);

/* The registry bridge after a certificate was added to a version of `name` whose run's stored
 * manifest is at manifest_path: when tracking is on (as dt_cli_mlflow_bridge finds it), the
 * MLflow version of that run gets the tag key = value. Prints one line, or one warning; the
 * certificate stands either way. */
void dt_cli_mlflow_tag(const char *manifest_path, const char *name, const char *key, const char *value,
                       const char *flag_uri);

#endif
