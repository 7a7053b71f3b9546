/* registry.c (cli) — detrain registry and lineage (cli/commands.h), and model references (cli/registry.h). */
#include "cli/registry.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/certificate.h"
#include "cli/commands.h"
#include "cli/mlflow.h"
#include "cli/verify_report.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "records/runrec.h"
#include "registry/certificate.h"
#include "registry/registry.h"
#include "registry/store.h"
#include "run/reproduce.h"
#include "run/verify.h"

const char dt_cli_registry_help[] =
    "usage: detrain registry COMMAND [arguments] [--registry PATH]\n"
    "\n"
    "The model registry: a finished run's model registered as version 1, 2, ... of a named\n"
    "model, with copies of its record (manifest.json, trace.jsonl) and its lineage, stored\n"
    "content-addressed next to the database: the project store's detrain.sqlite (see 'help\n"
    "runs'; --registry or $DETRAIN_REGISTRY choose another; the first line of the text output\n"
    "names it). A version is named NAME/VERSION or NAME@ALIAS, here and in eval, predict,\n"
    "inspect, diff and export.\n"
    "\n"
    "commands:\n"
    "  add RUN_DIR --name NAME [--note TEXT] [--checkpoint best|final]\n"
    "      [--alias ALIAS [--require-reproduced N]]\n"
    "                                         register the run's best.h5 (when it selected a best\n"
    "                                         epoch) or final.h5, verified, as the next version; the\n"
    "                                         same file again is the same version; --alias: then\n"
    "                                         point ALIAS at it, as alias does (the CI gate:\n"
    "                                         refused, exit 1, below N certificates)\n"
    "  alias NAME ALIAS VERSION [--note TEXT] [--require-reproduced N]\n"
    "                                         point ALIAS (production, staging, ...) at VERSION,\n"
    "                                         when it meets the alias's policy (and N, once)\n"
    "  policy NAME ALIAS [--require-reproduced N]\n"
    "                                         ALIAS moves only to versions reproduced bit for bit,\n"
    "                                         from the start, on at least N distinct machines (by\n"
    "                                         valid certificates; 0: no requirement); without N:\n"
    "                                         the policy\n"
    "  history NAME                           every alias move: when, from, to, who, note\n"
    "  list [NAME] [--json]                   the models, or one model's versions\n"
    "  show REF [--json]                      one version and its lineage (run, config, code,\n"
    "                                         data files and digests, environment, metrics) and\n"
    "                                         its certificates, each checked\n"
    "  reproduce REF [--threads N] [--keep] [--key PRIVATE.pem]\n"
    "                                         re-run the version's recorded run and check it\n"
    "                                         against the registered digest, bit for bit; then add\n"
    "                                         a certificate signed with the key (--key, else\n"
    "                                         $DETRAIN_SIGNING_KEY; without one, a note says none\n"
    "                                         was made): 'detrain help certificate', 'help key'\n"
    "  verify                                 every stored file against its digest, and every\n"
    "                                         certificate: signed by a key of the registry ('detrain\n"
    "                                         key'), about its version, and when bit-identical, with\n"
    "                                         the version's parameter digest\n"
    "  gc [--min-age SECONDS]                 remove stored files no version names (left by an add\n"
    "                                         that died), at least SECONDS old (default 3600)\n"
    "\n"
    "With MLflow tracking on (--mlflow URI, the run's tracking.uri, $MLFLOW_TRACKING_URI, or the\n"
    "server the run was tracked in), add also makes the MLflow registered model's version of\n"
    "the run's MLflow run, and alias sets the same alias there (a failure there is a warning);\n"
    "a new certificate becomes that version's tag detrain.certificate.N (its JSON).\n"
    "\n"
    "Exit codes: 0 done (reproduce: identical; verify: intact), 1 different or damaged, or an\n"
    "alias refused by its reproduction requirement, 2 bad input (an unknown name, alias or\n"
    "version, a malformed reference, an unfinished run, a damaged artifact, a signing key that\n"
    "is not an Ed25519 key of the registry, a forged or altered certificate, a read-only or\n"
    "newer database).\n";

const char dt_cli_lineage_help[] =
    "usage: detrain lineage FILE|SHA256 [--root DIR] [--registry PATH] [--json]\n"
    "\n"
    "The runs (of the project's store, see 'help runs'; or of --root) and the registered model\n"
    "versions that were trained or tested on a data file, found by the file's SHA-256 wherever\n"
    "it was stored.\n";

/* The registry database a command uses (store.h) into out; *origin (when not NULL) gets where
 * it comes from, "--registry" or "$DETRAIN_REGISTRY", or NULL for the project store's (see
 * print_origin). DT_USAGE for a given path too long for out: refused, never cut. */
static dt_status registry_path(const char *given, const char **origin, char *out, size_t size, dt_error *err) {
    dt_store store;
    if (dt_store_find(&store, NULL, err) != DT_OK) return DT_USAGE;
    const char *env = getenv("DETRAIN_REGISTRY");
    const char *from = given && *given ? "--registry" : env && *env ? "$DETRAIN_REGISTRY" : NULL;
    if (origin) *origin = from;
    if (from) {
        const dt_status fits = dt_path_check(given && *given ? given : env, size, err);
        if (fits != DT_OK) return fits;
    }
    dt_store_registry(&store, given, out, size);
    return DT_OK;
}

int dt_cli_registry_db(const char *given, int quiet, char *out, size_t size) {
    dt_error err = {{0}};
    if (registry_path(given, NULL, out, size, &err) == DT_OK) return -1;
    return quiet ? dt_status_exit_code(DT_USAGE) : dt_cli_usage_error(err.message, NULL);
}

/* "<prefix><db> (<origin>)": where the registry comes from, as registry_path said, or the store
 * (named with where it was found). */
static void print_origin(const char *prefix, const char *db, const char *origin) {
    if (origin) {
        printf("%s%s (%s)\n", prefix, db, origin);
        return;
    }
    dt_store store;
    dt_error err = {{0}};
    dt_store_find(&store, NULL, &err); /* registry_path found it already: it fits */
    printf("%s%s (the store %s: %s)\n", prefix, db, store.path, dt_store_origin_text(&store));
}

/* ---- registry COMMAND ----------------------------------------------------------------------- */

enum { O_REGISTRY, O_NAME, O_NOTE, O_JSON, O_THREADS, O_QUIET, O_KEEP, O_MIN_AGE, O_MLFLOW, O_CHECKPOINT, O_KEY,
       O_REQUIRE, O_ALIAS };
static const option_spec registry_specs[] = {
    [O_REGISTRY] = {"--registry", 1}, [O_NAME] = {"--name", 1},       [O_NOTE] = {"--note", 1},
    [O_JSON] = {"--json", 0},         [O_THREADS] = {"--threads", 1}, [O_QUIET] = {"--quiet", 0},
    [O_KEEP] = {"--keep", 0},         [O_MIN_AGE] = {"--min-age", 1}, [O_MLFLOW] = {"--mlflow", 1},
    [O_CHECKPOINT] = {"--checkpoint", 1}, [O_KEY] = {"--key", 1},     [O_REQUIRE] = {"--require-reproduced", 1},
    [O_ALIAS] = {"--alias", 1}};

/* One registry subcommand being run: the database, the parsed arguments and the command line. */
typedef struct {
    const char *db;
    const parsed_args *args;
    int argc;
    char **argv;
} registry_call;

/* The exit code of a registry library call: 0, or the error printed (usage errors with the hint). */
static int registry_exit(dt_status status, const dt_error *err) {
    if (status == DT_USAGE) return dt_cli_usage_error(err->message, "registry");
    return status == DT_OK ? 0 : dt_cli_fail(status, err->message);
}

void dt_cli_say_added(const char *name, const dt_registry_added *added) {
    if (added->existing)
        printf("%s/%lld: already registered (the same %s, SHA-256 %.16s...)\n", name, (long long)added->version,
               added->checkpoint, added->artifact_sha256);
    else
        printf("registered %s/%lld: run %s, %s, params_sha256 %s\n", name, (long long)added->version, added->run_id,
               added->checkpoint, added->params_sha256);
}

/* The alias gate (registry/certificate.h): -1 when alias of name may move to version, 1 when
 * too few distinct machines reproduced it (said in one line), else the exit code. */
static int alias_gate(const registry_call *c, const char *name, const char *alias, const char *version) {
    long long now = 0;
    const int rc = parse_count("--require-reproduced", c->args->values[O_REQUIRE], "registry", &now);
    if (rc >= 0) return rc;
    int64_t required = 0, machines = 0;
    int passed = 0;
    dt_error err = {{0}};
    const dt_status status = dt_alias_gate(c->db, name, alias, version, now, &required, &machines, &passed, &err);
    if (status != DT_OK) return registry_exit(status, &err);
    if (passed) return -1;
    char message[512];
    snprintf(message, sizeof message, "refused: %s@%s cannot point at version %s: it must be reproduced bit for bit "
             "on %lld distinct machine%s, it was on %lld ('registry reproduce %s/%s' with a signing key adds a "
             "certificate)", name, alias, version, (long long)required, required == 1 ? "" : "s", (long long)machines,
             name, version);
    return dt_cli_fail(DT_MISMATCH, message);
}

/* Moves alias of name to version (a number as text) when its gate lets it; says so; the MLflow
 * bridge sets it there too. 0, or the exit code. */
static int move_alias(const registry_call *c, const char *name, const char *alias, const char *version) {
    const char *const *values = c->args->values;
    int rc = alias_gate(c, name, alias, version);
    if (rc >= 0) return rc;
    dt_error err = {{0}};
    dt_alias_move move;
    dt_status status = dt_registry_alias(c->db, name, alias, version, values[O_NOTE], &move, &err);
    if (status != DT_OK) return registry_exit(status, &err);
    if (move.from_version)
        printf("%s@%s: version %lld -> %lld\n", name, alias, (long long)move.from_version, (long long)move.to_version);
    else
        printf("%s@%s: version %lld\n", name, alias, (long long)move.to_version);
    dt_model_version v;
    char ref[DT_NAME_MAX + 64];
    snprintf(ref, sizeof ref, "%s/%s", name, version);
    if (dt_registry_resolve(c->db, ref, &v, &err) == DT_OK)
        dt_cli_mlflow_bridge(v.manifest, name, alias, values[O_MLFLOW], values[O_NOTE]);
    return 0;
}

/* registry add RUN_DIR --name NAME [--note TEXT] [--checkpoint best|final] [--alias ALIAS
 * [--require-reproduced N]] [--mlflow URI]. */
static int registry_add(const registry_call *c) {
    const char *const *values = c->args->values, *run_dir = c->args->positional[0];
    if (!values[O_NAME]) return dt_cli_usage_error("registry add needs --name NAME", "registry");
    if (values[O_REQUIRE] && !values[O_ALIAS])
        return dt_cli_usage_error("registry add: --require-reproduced goes with --alias ALIAS", "registry");
    dt_error err = {{0}};
    dt_registry_added added;
    const dt_status status = dt_registry_add(c->db, run_dir, values[O_NAME], values[O_NOTE], values[O_CHECKPOINT],
                                             &added, &err);
    if (status != DT_OK) return registry_exit(status, &err);
    dt_cli_say_added(values[O_NAME], &added);
    char manifest[DT_PATH_MAX + 32]; /* run_dir fits DT_PATH_MAX: dt_registry_add took it */
    snprintf(manifest, sizeof manifest, "%s/manifest.json", run_dir);
    dt_cli_mlflow_bridge(manifest, values[O_NAME], NULL, values[O_MLFLOW], values[O_NOTE]);
    if (!values[O_ALIAS]) return 0;
    char version[32];
    snprintf(version, sizeof version, "%lld", (long long)added.version);
    return move_alias(c, values[O_NAME], values[O_ALIAS], version);
}

/* registry alias NAME ALIAS VERSION [--note TEXT] [--require-reproduced N] [--mlflow URI]. */
static int registry_alias(const registry_call *c) {
    const char *const *pos = c->args->positional;
    return move_alias(c, pos[0], pos[1], pos[2]);
}

/* registry policy NAME ALIAS [--require-reproduced N]: sets the alias's requirement, or says it. */
static int registry_policy(const registry_call *c) {
    const char *name = c->args->positional[0], *alias = c->args->positional[1], *given = c->args->values[O_REQUIRE];
    long long required = 0;
    int rc = parse_count("--require-reproduced", given, "registry", &required);
    if (rc >= 0) return rc;
    dt_error err = {{0}};
    int64_t now = required;
    dt_status status = given ? dt_alias_policy_set(c->db, name, alias, required, &err)
                             : dt_alias_policy_get(c->db, name, alias, &now, &err);
    if (status != DT_OK) return registry_exit(status, &err);
    if (now) printf("%s@%s moves only to versions reproduced bit for bit on at least %lld distinct machine%s\n", name,
                    alias, (long long)now, now == 1 ? "" : "s");
    else printf("%s@%s: no reproduction required\n", name, alias);
    return 0;
}

/* registry history NAME: one line per alias move, oldest first. */
static int registry_history(const registry_call *c) {
    const char *name = c->args->positional[0];
    dt_error err = {{0}};
    cJSON *moves = NULL, *move;
    const dt_status status = dt_registry_history(c->db, name, &moves, &err);
    cJSON_ArrayForEach(move, moves) {
        char from[32] = "(none)";
        const double from_version = dt_json_number(move, "from");
        if (!isnan(from_version)) snprintf(from, sizeof from, "%lld", (long long)from_version);
        const char *note = dt_json_string(move, "note");
        printf("%s  %s@%s: %s -> %lld  by %s%s%s\n", dt_json_string(move, "at"), name, dt_json_string(move, "alias"),
               from, (long long)dt_json_number(move, "to"), dt_json_string(move, "who"), note ? "  note: " : "",
               note ? note : "");
    }
    if (status == DT_OK && cJSON_GetArraySize(moves) == 0) printf("%s: no alias has been set\n", name);
    cJSON_Delete(moves);
    return registry_exit(status, &err);
}

/* A version's aliases ["production", ...] as "@production @canary", a model's {"production": 3}
 * as "production=3 staging=4". */
static void aliases_text(const cJSON *aliases, char *out, size_t size) {
    const cJSON *alias;
    size_t used = 0;
    out[0] = '\0';
    cJSON_ArrayForEach(alias, aliases) {
        if (used >= size) break;
        if (cJSON_IsString(alias)) used += (size_t)snprintf(out + used, size - used, "%s@%s", used ? " " : "", alias->valuestring);
        else used += (size_t)snprintf(out + used, size - used, "%s%s=%.0f", used ? " " : "", alias->string, alias->valuedouble);
    }
}

/* One line of registry list: a version of `name`, or a model (name NULL). */
static void print_list_row(const char *name, const cJSON *row) {
    char aliases[512];
    aliases_text(cJSON_GetObjectItemCaseSensitive(row, "aliases"), aliases, sizeof aliases);
    if (name) {
        char accuracy[16] = "-";
        const double value = dt_json_number(row, "test_accuracy");
        if (!isnan(value)) snprintf(accuracy, sizeof accuracy, "%.4f", value);
        printf("%s/%-4lld %s  run %s  params %.12s  accuracy %s  %s%s%s\n", name,
               (long long)dt_json_number(row, "version"), dt_json_string(row, "created"), dt_json_string(row, "run_id"),
               dt_json_string(row, "params_sha256"), accuracy, aliases, aliases[0] ? "  " : "", dt_json_string(row, "note"));
    } else {
        const long long versions = (long long)dt_json_number(row, "versions");
        printf("%-24s %lld version%s, latest %lld (%s)  %s\n", dt_json_string(row, "name"), versions,
               versions == 1 ? "" : "s", (long long)dt_json_number(row, "latest_version"),
               dt_json_string(row, "latest_created"), aliases);
    }
}

/* registry list --json: the rows with the members --json promises, in its order. */
static void print_list_json(const char *name, const cJSON *rows) {
    static const char *const version_keys[] = {"version", "created", "who", "run_id", "params_sha256", "aliases"};
    static const char *const model_keys[] = {"name", "latest_version", "versions", "aliases"};
    cJSON *out = cJSON_CreateArray();
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        cJSON *shown = cJSON_CreateObject();
        for (int k = 0; k < (name ? DT_CLI_COUNT(version_keys) : DT_CLI_COUNT(model_keys)); k++) {
            const char *key = name ? version_keys[k] : model_keys[k];
            cJSON_AddItemToObject(shown, key, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(row, key), 1));
        }
        cJSON_AddItemToArray(out, shown);
    }
    dt_cli_print_json(out);
    cJSON_Delete(out);
}

/* registry list [NAME] [--json]: the models, or one model's versions. */
static int registry_list(const registry_call *c) {
    const char *name = c->args->n_positional ? c->args->positional[0] : NULL;
    dt_error err = {{0}};
    cJSON *rows = NULL, *row;
    const dt_status status = dt_registry_list(c->db, name, &rows, &err);
    if (c->args->values[O_JSON] && status == DT_OK) print_list_json(name, rows);
    else if (!c->args->values[O_JSON]) cJSON_ArrayForEach(row, rows) print_list_row(name, row);
    cJSON_Delete(rows);
    return registry_exit(status, &err);
}

/* The data files of a version's lineage: "data (train)  PATH, N bytes, SHA-256 S". */
static void print_data_files(const cJSON *lineage) {
    const char *sets[2] = {"train", "test"}, *files_key[2] = {"data.train.files", "data.test.files"};
    for (int s = 0; s < 2; s++) {
        const cJSON *file;
        cJSON_ArrayForEach(file, dt_run_record_item(lineage, files_key[s])) {
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(file, "size");
            const char *file_path = dt_json_string(file, "path"), *file_sha = dt_json_string(file, "sha256");
            char label[16];
            snprintf(label, sizeof label, "data (%s)", sets[s]);
            printf("  %-15s%s, %.0f bytes, SHA-256 %s\n", label, file_path ? file_path : "?",
                   cJSON_IsNumber(size) ? size->valuedouble : 0.0, file_sha ? file_sha : "?");
        }
    }
}

/* registry show as text: the version, then its lineage one line each. */
static void print_version(const cJSON *shown) {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(shown, "code");
    const cJSON *final = cJSON_GetObjectItemCaseSensitive(shown, "final");
    const char *folder = dt_json_string(shown, "run_folder");
    char aliases[512];
    aliases_text(cJSON_GetObjectItemCaseSensitive(shown, "aliases"), aliases, sizeof aliases);
    printf("%s/%lld%s%s\n", dt_json_string(shown, "model"), (long long)dt_json_number(shown, "version"),
           aliases[0] ? "  " : "", aliases);
    printf("  artifact       %s (SHA-256 %s, verified)\n", dt_json_string(shown, "artifact"),
           dt_json_string(shown, "artifact_sha256"));
    printf("  params_sha256  %s\n", dt_json_string(shown, "params_sha256"));
    printf("  run            %s in %s%s\n", dt_json_string(shown, "run_id"), folder ? folder : "?",
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shown, "run_folder_exists"))
               ? ""
               : " (folder gone; the record is kept here)");
    printf("  experiment     %s\n", dt_json_string_or(shown, "experiment", "-"));
    printf("  config         %s (SHA-256 %s)\n", dt_json_string_or(shown, "config_file", "-"),
           dt_json_string_or(shown, "config_sha256", "-"));
    const cJSON *set;
    cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(shown, "overrides"))
        if (cJSON_IsString(set)) printf("  --set          %s\n", set->valuestring);
    const char *checkpoint = dt_json_string(shown, "checkpoint");
    if (checkpoint) printf("  checkpoint     %s of the run\n", checkpoint);
    printf("  code           detrain %s, commit %s%s\n", dt_json_string_or(code, "version", "?"),
           dt_json_string_or(code, "git_commit", "?"),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(code, "git_dirty")) ? " (dirty)" : "");
    print_data_files(shown);
    printf("  metrics        test accuracy %.4f, test loss %.6f\n", dt_json_number(final, "test_accuracy"),
           dt_json_number(final, "test_loss"));
    printf("  device         %s, %s mode\n", dt_json_string_or(shown, "device", "?"),
           dt_json_string_or(shown, "mode", "?"));
    const char *note = dt_json_string(shown, "note");
    printf("  registered     %s by %s%s%s\n", dt_json_string_or(shown, "registered_at", "?"),
           dt_json_string_or(shown, "registered_by", "?"), note ? "; note: " : "", note ? note : "");
}

/* The certificates of registry show as text: the machines that reproduced it, then one line
 * each: what, where, when, who, which key, and whether it checks. */
static void print_certificates(const cJSON *rows) {
    char machines[2048];
    const cJSON *row;
    dt_cli_reproduced_on(rows, machines, sizeof machines);
    if (cJSON_GetArraySize(rows) == 0) printf("  reproduced     no certificates ('registry reproduce' with a signing key)\n");
    else printf("  reproduced     %s%s\n", machines[0] ? "bit for bit on: " : "bit for bit on no machine yet",
                machines);
    cJSON_ArrayForEach(row, rows) {
        const cJSON *cert = cJSON_GetObjectItemCaseSensitive(row, "certificate");
        const int valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "valid"));
        char from[48] = "";
        if (dt_json_number_or(cert, "from_step", 0) > 0)
            snprintf(from, sizeof from, " from step %.0f", dt_json_number(cert, "from_step"));
        printf("  certificate %-3.0f%s%s on %s, %s by %s, key %.12s: %s%s\n", dt_json_number(row, "number"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")) ? "bit for bit" : "DIFFERENT", from,
               dt_json_string_or(cert, "machine", "?"), dt_json_string_or(cert, "date", "?"),
               dt_json_string_or(cert, "who", "?"), dt_json_string_or(cert, "key_id", "?"), valid ? "valid" : "INVALID: ",
               valid ? "" : dt_json_string_or(row, "problem", ""));
    }
}

/* registry show REF [--json]: the version, its lineage and its certificates (each checked). */
static int registry_show(const registry_call *c) {
    dt_error err = {{0}};
    cJSON *shown = NULL, *certs = NULL;
    dt_status status = dt_registry_show(c->db, c->args->positional[0], &shown, &err);
    if (status == DT_OK) {
        dt_model_version v; /* what dt_certificates_of compares with */
        memset(&v, 0, sizeof v);
        snprintf(v.name, sizeof v.name, "%s", dt_json_string_or(shown, "model", ""));
        v.version = (int64_t)dt_json_number(shown, "version");
        snprintf(v.artifact_sha256, sizeof v.artifact_sha256, "%s", dt_json_string_or(shown, "artifact_sha256", ""));
        snprintf(v.params_sha256, sizeof v.params_sha256, "%s", dt_json_string_or(shown, "params_sha256", ""));
        status = dt_certificates_of(c->db, &v, &certs, &err);
    }
    if (status == DT_OK) cJSON_AddItemToObject(shown, "certificates", certs);
    else cJSON_Delete(certs);
    if (status == DT_OK && c->args->values[O_JSON]) dt_cli_print_json(shown);
    else if (status == DT_OK) print_version(shown), print_certificates(certs);
    cJSON_Delete(shown);
    return registry_exit(status, &err);
}

/* Re-runs the stored record of the version r holds into *report and says whether it reproduced. */
static dt_status reproduce(const dt_reproduction *r, const dt_verify_opts *opts, dt_verify_report *report,
                           dt_error *err) {
    const dt_model_version *v = &r->version;
    printf("reproducing %s/%lld (run %s, params_sha256 %s) from its stored record\n", v->name, (long long)v->version,
           v->run_id, v->params_sha256);
    fflush(stdout);
    const dt_status status = dt_verify(r->dir, opts, report, err);
    dt_cli_print_verify_report(r->dir, report);
    if (status == DT_OK)
        printf("%s/%lld reproduced bit for bit: params_sha256 %s\n", v->name, (long long)v->version, v->params_sha256);
    return status;
}

/* registry reproduce REF [--threads N] [--quiet] [--keep] [--key PRIVATE.pem]: 0 identical,
 * 1 different (said); then a certificate, signed with the key, when there is one. */
static int registry_reproduce(const registry_call *c) {
    const char *const *values = c->args->values;
    long long threads = 0;
    int rc = parse_count("--threads", values[O_THREADS], "registry", &threads);
    if (rc >= 0) return rc;
    dt_verify_opts opts = {.quiet = values[O_QUIET] != NULL, .from_step = -1, .threads = (int)threads,
                           .tolerance = 0.01, .keep = values[O_KEEP] != NULL, .argc = c->argc, .argv = c->argv};
    dt_error err = {{0}};
    dt_reproduction r;
    dt_cli_certify_plan plan = {0};
    dt_verify_report *report = calloc(1, sizeof *report);
    dt_status status = report ? dt_reproduce_open(c->db, c->args->positional[0], &r, &err)
                              : dt_fail(&err, DT_NOMEM, "out of memory");
    rc = status == DT_OK ? dt_cli_certify_version(c->db, &r.version, values[O_KEY], values[O_MLFLOW], &plan) : -1;
    if (status == DT_OK && rc < 0) {
        status = reproduce(&r, &opts, report, &err);
        rc = dt_cli_certify_finish(&plan, r.dir, report, status, -1);
    }
    if (report) dt_reproduce_close(&r);
    dt_cli_certify_free(&plan);
    free(report);
    if (rc >= 0 && status != DT_MISMATCH) return rc; /* the key refused, or the certificate not stored */
    return status == DT_MISMATCH ? 1 : registry_exit(status, &err);
}

/* registry verify's certificates: one line per invalid one, then the count; -1 when all are
 * valid, else 2 with one line naming the first invalid one. */
static int verify_certificates(const registry_call *c) {
    dt_error err = {{0}};
    cJSON *bad = NULL, *entry;
    int64_t checked = 0;
    const dt_status status = dt_certificates_check_all(c->db, &bad, &checked, &err);
    cJSON_ArrayForEach(entry, bad)
        printf("INVALID %s/%lld certificate %lld: %s\n", dt_json_string(entry, "name"),
               (long long)dt_json_number(entry, "version"), (long long)dt_json_number(entry, "number"),
               dt_json_string(entry, "problem"));
    const int n_bad = cJSON_GetArraySize(bad);
    if (status == DT_OK) printf("%lld certificate%s checked, %d invalid\n", (long long)checked, checked == 1 ? "" : "s", n_bad);
    char message[DT_ERROR_MAX + 256];
    const cJSON *first = cJSON_GetArrayItem(bad, 0);
    if (first)
        snprintf(message, sizeof message, "%s/%lld: certificate %lld: %s%s", dt_json_string(first, "name"),
                 (long long)dt_json_number(first, "version"), (long long)dt_json_number(first, "number"),
                 dt_json_string(first, "problem"), n_bad > 1 ? " (and others: above)" : "");
    cJSON_Delete(bad);
    if (status != DT_OK) return registry_exit(status, &err);
    return first ? dt_cli_fail(DT_CHECKPOINT, message) : -1;
}

/* registry verify: one line per version, then the count; 1 when one is damaged; then the
 * certificates: 2 when one is forged or altered. */
static int registry_verify(const registry_call *c) {
    dt_error err = {{0}};
    cJSON *checked = NULL, *version;
    int64_t damaged = 0;
    const dt_status status = dt_registry_verify(c->db, &checked, &damaged, &err);
    cJSON_ArrayForEach(version, checked) {
        const cJSON *problems = cJSON_GetObjectItemCaseSensitive(version, "problems"), *problem;
        cJSON_ArrayForEach(problem, problems) printf("DAMAGED %s\n", problem->valuestring);
        if (cJSON_GetArraySize(problems) == 0)
            printf("ok      %s/%lld\n", dt_json_string(version, "name"), (long long)dt_json_number(version, "version"));
    }
    const int n = cJSON_GetArraySize(checked);
    if (status == DT_OK) printf("%d version%s checked, %lld damaged\n", n, n == 1 ? "" : "s", (long long)damaged);
    cJSON_Delete(checked);
    if (status != DT_OK) return registry_exit(status, &err);
    const int rc = verify_certificates(c);
    return rc >= 0 ? rc : damaged ? 1 : 0;
}

/* registry gc [--min-age SECONDS]. */
static int registry_gc(const registry_call *c) {
    long long min_age = 3600;
    int rc;
    const char *given = c->args->values[O_MIN_AGE];
    if (given && (rc = parse_count("--min-age", given, "registry", &min_age)) >= 0) return rc;
    dt_error err = {{0}};
    int64_t removed = 0, kept = 0;
    const dt_status status = dt_registry_gc(c->db, min_age, &removed, &kept, &err);
    if (status == DT_OK)
        printf("registry gc: %lld unreferenced file%s removed, %lld kept\n", (long long)removed, removed == 1 ? "" : "s",
               (long long)kept);
    return registry_exit(status, &err);
}

/* The subcommands: name, how many positional arguments (and what they are), the function. */
static const struct {
    const char *name;
    int min, max;
    const char *what;
    int (*run)(const registry_call *);
} subcommands[] = {{"add", 1, 1, "a run folder", registry_add},
                   {"alias", 3, 3, "NAME ALIAS VERSION", registry_alias},
                   {"policy", 2, 2, "NAME ALIAS", registry_policy},
                   {"history", 1, 1, "a model name", registry_history},
                   {"list", 0, 1, "at most a model name", registry_list},
                   {"show", 1, 1, "a model reference", registry_show},
                   {"reproduce", 1, 1, "a model reference", registry_reproduce},
                   {"verify", 0, 0, "no arguments", registry_verify},
                   {"gc", 0, 0, "no arguments", registry_gc}};

int dt_cli_registry(int argc, char **argv) {
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(dt_cli_registry_help, argc < 3 ? stderr : stdout);
        return argc < 3 ? dt_status_exit_code(DT_USAGE) : 0;
    }
    const char *sub = argv[2];
    int which = -1;
    for (int i = 0; i < DT_CLI_COUNT(subcommands); i++)
        if (!strcmp(sub, subcommands[i].name)) which = i;
    char command[64], message[160];
    snprintf(command, sizeof command, "registry %s", sub);
    if (which < 0) {
        snprintf(message, sizeof message, "unknown registry command '%s'", sub);
        return dt_cli_usage_error(message, "registry");
    }
    char *scratch[1];
    parsed_args args = {.sets = scratch};
    int rc = parse_args(argc - 1, argv + 1, command, registry_specs, DT_CLI_COUNT(registry_specs),
                        subcommands[which].min, subcommands[which].max, subcommands[which].what, &args);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_registry_help, stdout), 0;
    if ((rc = dt_cli_check_mlflow_uri(args.values[O_MLFLOW])) >= 0) return rc;
    char db[DT_PATH_MAX + 32];
    const char *origin = NULL;
    dt_error err = {{0}};
    if (registry_path(args.values[O_REGISTRY], &origin, db, sizeof db, &err) != DT_OK)
        return dt_cli_usage_error(err.message, "registry");
    if (!args.values[O_JSON]) print_origin("registry: ", db, origin);
    const registry_call call = {db, &args, argc, argv};
    return subcommands[which].run(&call);
}

/* ---- lineage -------------------------------------------------------------------------------- */

/* lineage as text: the digest, one line per run and per model version, then the counts (only
 * when everything was found: `complete`). */
static void print_lineage(const cJSON *found, int complete) {
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(found, "runs"), *models = cJSON_GetObjectItemCaseSensitive(found, "models");
    const cJSON *row;
    printf("data SHA-256 %s\n", dt_json_string(found, "sha256"));
    cJSON_ArrayForEach(row, runs)
        printf("run    %s  (run %s, experiment %s, %s) as %s\n", dt_json_string(row, "run_path"),
               dt_json_string(row, "run_id"), dt_json_string(row, "experiment"), dt_json_string(row, "status"),
               dt_json_string(row, "path"));
    cJSON_ArrayForEach(row, models)
        printf("model  %s/%lld as %s\n", dt_json_string(row, "name"), (long long)dt_json_number(row, "version"),
               dt_json_string(row, "path"));
    const int n_runs = cJSON_GetArraySize(runs), n_models = cJSON_GetArraySize(models);
    if (complete)
        printf("%d run%s, %d model version%s\n", n_runs, n_runs == 1 ? "" : "s", n_models, n_models == 1 ? "" : "s");
}

int dt_cli_lineage(int argc, char **argv) {
    enum { G_ROOT, G_REGISTRY, G_JSON };
    static const option_spec specs[] = {[G_ROOT] = {"--root", 1}, [G_REGISTRY] = {"--registry", 1},
                                        [G_JSON] = {"--json", 0}};
    char *scratch[1];
    parsed_args args;
    int rc = parse_simple(argc, argv, "lineage", specs, DT_CLI_COUNT(specs), 1, "a data file or its SHA-256", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_lineage_help, stdout), 0;
    char db[DT_PATH_MAX + 32];
    const char *origin = NULL;
    dt_error err = {{0}};
    if (registry_path(args.values[G_REGISTRY], &origin, db, sizeof db, &err) != DT_OK)
        return dt_cli_usage_error(err.message, "lineage");
    dt_store store;
    if (dt_store_find(&store, args.values[G_ROOT], &err) != DT_OK) return dt_cli_usage_error(err.message, "lineage");
    const int json = args.values[G_JSON] != NULL;
    if (!json) {
        printf("store: %s (%s)\n", store.path, dt_store_origin_text(&store));
        print_origin("registry: ", db, origin);
    }
    cJSON *found = NULL;
    const dt_status status = dt_lineage(store.path, db, args.positional[0], &found, &err);
    if (json && status == DT_OK) dt_cli_print_json(found);
    else if (!json && found) print_lineage(found, status == DT_OK);
    cJSON_Delete(found);
    if (status == DT_USAGE) return dt_cli_usage_error(err.message, "lineage");
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

/* A file or folder that exists, or anything not shaped like a model reference: copied to path,
 * *v untouched, -1. A model reference: resolved into *v, 0. An unknown one, or a path too long
 * for path (a folder: for a run folder, DT_PATH_MAX): the exit code. */
static int resolve_reference(const char *arg, char *path, size_t size, dt_model_version *v) {
    struct stat info;
    dt_error err = {{0}};
    const int exists = stat(arg, &info) == 0;
    if (exists || !dt_model_ref_shape(arg)) {
        /* a folder is a run's, whose files' paths (<folder>/best.h5) must fit path too */
        const size_t room = exists && S_ISDIR(info.st_mode) && size > DT_PATH_MAX ? DT_PATH_MAX : size;
        if (dt_path_check(arg, room, &err) != DT_OK) return dt_cli_fail(DT_USAGE, err.message);
        snprintf(path, size, "%s", arg);
        return -1;
    }
    char db[DT_PATH_MAX + 32];
    dt_status status = registry_path(NULL, NULL, db, sizeof db, &err);
    if (status == DT_OK) status = dt_registry_resolve(db, arg, v, &err);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

int dt_cli_checkpoint(const char *arg, char *path, size_t size) {
    dt_model_version v;
    const int rc = resolve_reference(arg, path, size, &v);
    if (rc == 0) snprintf(path, size, "%s", v.artifact);
    struct stat info;
    if (rc < 0 && stat(arg, &info) == 0 && S_ISDIR(info.st_mode)) { /* a run folder: its selected checkpoint */
        char which[160];
        dt_error err = {{0}};
        const dt_status status = dt_run_selected_checkpoint(arg, path, size, which, sizeof which, &err);
        if (status != DT_OK) return dt_cli_fail(status, err.message);
        fprintf(stderr, "detrain: %s: using %s\n", arg, which);
    }
    return rc > 0 ? rc : -1;
}

int dt_cli_run_folder(const char *arg, char *path, size_t size, char *temp, size_t temp_size) {
    dt_model_version v;
    temp[0] = '\0';
    const int rc = resolve_reference(arg, path, size, &v);
    if (rc != 0) return rc > 0 ? rc : -1;
    dt_error err = {{0}};
    dt_status status = dt_make_temp_dir("detrain-version-", temp, temp_size, &err);
    if (status == DT_OK) status = dt_registry_materialize(&v, temp, &err);
    if (status != DT_OK) {
        if (temp[0]) dt_remove_run_dir(temp);
        temp[0] = '\0';
        return dt_cli_fail(status, err.message);
    }
    snprintf(path, size, "%s", temp);
    return -1;
}
