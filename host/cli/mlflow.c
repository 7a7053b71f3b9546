/* mlflow.c (cli) — detrain mlflow sync RUN_DIR (cli/commands.h) and the registry bridge (cli/mlflow.h). */
#include "cli/mlflow.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "export/export.h"
#include "core/fsutil.h"
#include "records/manifest.h"
#include "records/runrec.h"
#include "tracking/tracker.h"

const char dt_cli_mlflow_help[] =
    "usage: detrain mlflow sync RUN_DIR [--mlflow URI]\n"
    "\n"
    "Brings the MLflow run of the run in RUN_DIR up to date with its record: creates the run\n"
    "when the server has none (found by its tag detrain.run_id), and sends what the server\n"
    "does not hold yet: params, tags, dataset inputs, every epoch's metrics, and for an ended\n"
    "run its artifacts (manifest.json, trace.jsonl, final.h5, and the model of its selected\n"
    "checkpoint, best.h5 else final.h5: model/model.onnx, model/model.safetensors and the\n"
    "MLflow model files MLmodel, conda.yaml, python_env.yaml, requirements.txt) and status.\n"
    "Safe to repeat: nothing is sent twice. The manifest's \"tracking\" block records what\n"
    "the server holds.\n"
    "\n"
    "The logged model is an MLflow model of the onnx flavour: mlflow.pyfunc.load_model loads\n"
    "'runs:/RUN_ID/model', and 'models:/NAME/VERSION' for a version 'detrain registry add'\n"
    "made, and predicts from the raw features (the ONNX graph normalizes them).\n"
    "\n"
    "The server: --mlflow URI, else the config's tracking.uri, else $MLFLOW_TRACKING_URI, else\n"
    "the one the run was tracked in. Credentials: $MLFLOW_TRACKING_TOKEN, or\n"
    "$MLFLOW_TRACKING_USERNAME and $MLFLOW_TRACKING_PASSWORD (never recorded or printed).\n"
    "\n"
    "Live tracking: 'detrain train CONFIG --mlflow URI' (docs/tracking.md).\n"
    "\n"
    "Exit codes: 0 done, 1 the server failed or refused, 2 bad input (usage, run folder, no server).\n";

/* The MLflow side of a recorded run, as sync and the registry bridge need it: where it is
 * tracked, a client of that server, and the state of the run's MLflow run there. */
typedef struct {
    dt_tracking_settings settings; /* settings.uri "": tracking is off */
    dt_http http;                  /* set up when settings.uri is not "" */
    dt_mlflow_state st;
} mlflow_side;

/* Resolves where the run recorded by `manifest` (read from `origin`) is tracked (flag_uri:
 * --mlflow, NULL: none) and, when it is, sets up the client and loads the state of its MLflow
 * run. Free with close_side, also on failure. */
static dt_status open_side(const cJSON *manifest, const char *origin, const char *flag_uri, mlflow_side *side,
                           dt_error *err) {
    memset(side, 0, sizeof *side);
    dt_config *cfg = calloc(1, sizeof *cfg);
    char sha[65];
    if (!cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    const cJSON *record = cJSON_GetObjectItemCaseSensitive(manifest, "tracking");
    dt_status status = dt_run_config(manifest, origin, cfg, sha, err);
    if (status == DT_OK)
        status = dt_tracking_resolve(cfg, flag_uri, record, dt_run_record_string(manifest, "experiment"),
                                     &side->settings, err);
    free(cfg);
    if (status != DT_OK || !side->settings.uri[0]) return status;
    dt_http_global_init();
    status = dt_http_init(&side->http, side->settings.uri, side->settings.tls_verify, err);
    if (status == DT_OK) dt_mlflow_state_load(&side->st, record, side->http.shown, side->settings.experiment);
    return status;
}

static void close_side(mlflow_side *side) {
    dt_mlflow_state_free(&side->st);
    if (side->http.curl) dt_http_free(&side->http);
}

/* Syncs run_dir; returns the exit code (errors printed). */
static int sync_run(const char *run_dir, const char *flag_uri) {
    dt_error err = {""};
    dt_status status = DT_OK;
    dt_manifest m;
    memset(&m, 0, sizeof m);
    mlflow_side side;
    memset(&side, 0, sizeof side);
    dt_export_models_dir models;
    memset(&models, 0, sizeof models);
    int lock_fd = -1;
    DT_TRY(dt_manifest_open(&m, run_dir, &err));
    DT_TRY(dt_lock_dir(run_dir, &lock_fd, &err));
    DT_TRY(open_side(m.root, m.path, flag_uri, &side, &err));
    const dt_tracking_settings *settings = &side.settings;
    if (!settings->uri[0]) {
        status = dt_fail(&err, DT_USAGE, "%s: no MLflow server: give --mlflow URI or set MLFLOW_TRACKING_URI%s%s%s",
                         run_dir, settings->source[0] ? " (" : "", settings->source, settings->source[0] ? ")" : "");
        goto cleanup;
    }
    const int same_server = side.st.run_id[0] != 0; /* the record's MLflow run is on this server */
    char model[DT_PATH_MAX + 16], which[160];
    dt_error ignored;
    if (strcmp(dt_run_record_string(m.root, "status"), "completed") == 0 &&
        dt_run_selected_checkpoint(run_dir, model, sizeof model, which, sizeof which, &ignored) == DT_OK)
        dt_export_models(model, &models); /* the selected checkpoint: best.h5, else final.h5 */
    status = dt_mlflow_sync(&side.http, &side.st, m.root, run_dir, models.n ? models.dir : NULL,
                            settings->step_loss_every, &err);
    /* Recorded when it worked, or as a failure against the run's own server; a failed try of
     * another server leaves the record of the run's MLflow run as it was. */
    if (status == DT_OK || same_server) {
        dt_error write_err = {""};
        dt_status written = dt_manifest_set(
            &m, "tracking", dt_tracking_record(&side.http, settings, &side.st, status == DT_OK ? NULL : err.message), 1,
            &write_err);
        if (status == DT_OK && written != DT_OK) status = written, err = write_err;
    }
    if (status == DT_OK)
        printf("detrain: %s is MLflow run %s (experiment %s) at %s: %d params, %lld metric points sent now, "
               "%d artifacts, status %s\n",
               run_dir, side.st.run_id, side.st.experiment, side.http.shown, side.st.params, (long long)side.st.points,
               side.st.artifacts, side.st.status);
cleanup:
    dt_export_models_remove(&models);
    close_side(&side);
    dt_unlock_dir(lock_fd);
    dt_manifest_free(&m);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* The MLflow side of a registered run from its stored manifest (registry bridge): *manifest
 * parsed (the caller deletes it), side opened as open_side does; side is zeroed first, so
 * close_side is safe whatever this returns. */
static dt_status open_run_side(const char *manifest_path, const char *flag_uri, cJSON **manifest, mlflow_side *side,
                               dt_error *err) {
    char *text = NULL;
    memset(side, 0, sizeof *side);
    dt_status status = dt_read_text(manifest_path, &text, NULL, err);
    if (status == DT_OK && !(*manifest = cJSON_Parse(text)))
        status = dt_fail(err, DT_CHECKPOINT, "%s: not JSON", manifest_path);
    free(text);
    return status == DT_OK ? open_side(*manifest, manifest_path, flag_uri, side, err) : status;
}

void dt_cli_mlflow_bridge(const char *manifest_path, const char *name, const char *alias, const char *flag_uri,
                          const char *note) {
    dt_error err = {""};
    cJSON *manifest = NULL;
    mlflow_side side;
    dt_status status = open_run_side(manifest_path, flag_uri, &manifest, &side, &err);
    if (status != DT_OK || !side.settings.uri[0]) goto cleanup; /* tracking is off */
    if (!side.st.run_id[0]) {
        fprintf(stderr, "detrain: note: run %s has no MLflow run at %s ('detrain mlflow sync RUN_DIR' makes it); no MLflow "
                        "model %s\n", dt_run_record_string(manifest, "run_id"), side.http.shown,
                alias ? "alias set" : "version made");
        goto cleanup;
    }
    char mlflow_version[32] = "";
    if (alias) status = dt_mlflow_alias(&side.http, name, alias, side.st.run_id, &err);
    else status = dt_mlflow_register(&side.http, name, side.st.run_id, side.st.artifact_uri, note, mlflow_version, &err);
    if (status == DT_OK && alias)
        fprintf(stderr, "detrain: MLflow at %s: %s@%s points at the version of run %s\n", side.http.shown, name, alias,
                side.st.run_id);
    else if (status == DT_OK)
        fprintf(stderr, "detrain: MLflow at %s: registered model %s version %s (run %s)\n", side.http.shown, name,
                mlflow_version, side.st.run_id);
cleanup:
    if (status != DT_OK)
        fprintf(stderr, "detrain: warning: MLflow: %s; the registry's %s stands\n", err.message,
                alias ? "alias" : "version");
    close_side(&side);
    cJSON_Delete(manifest);
}

void dt_cli_mlflow_tag(const char *manifest_path, const char *name, const char *key, const char *value,
                       const char *flag_uri) {
    dt_error err = {""};
    cJSON *manifest = NULL;
    mlflow_side side;
    dt_status status = open_run_side(manifest_path, flag_uri, &manifest, &side, &err);
    if (status == DT_OK && side.settings.uri[0] && side.st.run_id[0]) {
        status = dt_mlflow_version_tag(&side.http, name, side.st.run_id, key, value, &err);
        if (status == DT_OK)
            fprintf(stderr, "detrain: MLflow at %s: tag %s set on the version of run %s of %s\n", side.http.shown, key,
                    side.st.run_id, name);
    }
    if (status != DT_OK) fprintf(stderr, "detrain: warning: MLflow: %s; the certificate stands\n", err.message);
    close_side(&side);
    cJSON_Delete(manifest);
}

int dt_cli_mlflow(int argc, char **argv) {
    enum { M_MLFLOW };
    static const option_spec specs[] = {[M_MLFLOW] = {"--mlflow", 1}};
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(dt_cli_mlflow_help, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    if (strcmp(argv[2], "sync") != 0) {
        char message[256];
        snprintf(message, sizeof message, "mlflow: unknown subcommand '%.64s' (the one there is: sync)", argv[2]);
        return dt_cli_usage_error(message, "mlflow");
    }
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc - 1, argv + 1, "mlflow sync", specs, DT_CLI_COUNT(specs), 1, "a run folder", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_mlflow_help, stdout), 0;
    if ((rc = dt_cli_check_mlflow_uri(args.values[M_MLFLOW])) >= 0) return rc;
    return sync_run(args.positional[0], args.values[M_MLFLOW]);
}
