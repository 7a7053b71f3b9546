/* certificate.c (cli) — detrain key and detrain certificate (cli/commands.h), and the
 * certificates a re-run makes (cli/certificate.h). */
#include "cli/certificate.h"

#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/mlflow.h"
#include "cli/registry.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "records/runrec.h"
#include "registry/certificate.h"

const char dt_cli_key_help[] =
    "usage: detrain key COMMAND [arguments] [--registry PATH]\n"
    "\n"
    "The Ed25519 keys that sign reproducibility certificates ('detrain help certificate'). A\n"
    "private key stays with its owner; the registry (the project store's detrain.sqlite, or\n"
    "--registry, or $DETRAIN_REGISTRY) keeps the public keys whose certificates it trusts.\n"
    "\n"
    "commands:\n"
    "  generate [--out PATH] [--note TEXT]  a new key: the private key in PEM at PATH (mode 0600;\n"
    "                                       default $XDG_CONFIG_HOME/detrain/signing-key.pem, else\n"
    "                                       ~/.config/detrain/signing-key.pem; never overwritten),\n"
    "                                       the public key at PATH.pub, added to the registry\n"
    "  list [--json]                        the registry's public keys: id, who added it, when\n"
    "  add PUB.pem [--note TEXT]            trust a colleague's public key (PEM)\n"
    "\n"
    "A key's id is the SHA-256 of its raw 32-byte public key. Sign with a key: set\n"
    "DETRAIN_SIGNING_KEY=PATH (registry reproduce and verify also take the path as an option).\n"
    "\n"
    "Exit codes: 0 done, 1 writing failed, 2 bad input (not an Ed25519 PEM key, a key file that\n"
    "exists already, a database that cannot be used).\n";

const char dt_cli_certificate_help[] =
    "usage: detrain certificate verify FILE [--key PUB.pem]... [--registry PATH]\n"
    "\n"
    "Checks reproducibility certificates anywhere: FILE holds one certificate or an array of\n"
    "them (certificates.json, which 'detrain export' of a model version writes beside the\n"
    "model). Each must be of format detrain-certificate/1, complete, and signed by one of the\n"
    "public keys given with --key (PEM, repeatable), or without --key by one of the\n"
    "registry's keys. One line per certificate on stdout.\n"
    "\n"
    "A certificate says that a registered version was re-run ('registry reproduce', or\n"
    "'verify' of a registered run) and reached its parameter digest bit for bit, or not: the\n"
    "version, run id, steps, the digest reached, the machine (CPU architecture, SIMD path and\n"
    "model, or the GPU with its driver, CUDA and cuBLAS versions), detrain's version and\n"
    "commit, the date and who, signed with Ed25519 over its canonical form: the members in\n"
    "their fixed order as compact JSON (README.md, 'Reproducibility certificates').\n"
    "\n"
    "Exit codes: 0 all valid, 2 one is not (one line on stderr naming the file, the\n"
    "certificate's number, counted from 1, and what is wrong), or FILE is not readable JSON.\n";

/* ---- making certificates after a re-run ------------------------------------------------------ */

/* Loads the signing key of key_flag, else $DETRAIN_SIGNING_KEY, into plan->key (none given:
 * NULL) and checks that the registry trusts it. -1, or the exit code of the printed error. */
static int load_key(dt_cli_certify_plan *plan, const char *key_flag) {
    const char *env = getenv("DETRAIN_SIGNING_KEY");
    const char *path = key_flag ? key_flag : env && *env ? env : NULL;
    dt_error err = {{0}};
    cJSON *keys = NULL, *key;
    if (!path) return -1;
    dt_status status = dt_signing_key_load(path, &plan->key, &err);
    if (status == DT_OK && dt_file_exists(plan->db)) status = dt_keys_list(plan->db, &keys, &err);
    int known = 0;
    cJSON_ArrayForEach(key, keys) known |= !strcmp(dt_json_string_or(key, "key_id", ""), dt_signing_key_id(plan->key));
    cJSON_Delete(keys);
    if (status == DT_OK && !known)
        status = dt_fail(&err, DT_USAGE, "%s: its public key (id %.12s...) is not among the keys of %s: add it with "
                         "'detrain key add %s.pub'", path, dt_signing_key_id(plan->key), plan->db, path);
    return status == DT_OK ? -1 : dt_cli_fail(status, err.message);
}

int dt_cli_certify_version(const char *db, const dt_model_version *v, const char *key_flag, const char *mlflow_uri,
                           dt_cli_certify_plan *plan) {
    memset(plan, 0, sizeof *plan);
    snprintf(plan->db, sizeof plan->db, "%s", db);
    plan->versions[0] = *v;
    plan->n_versions = 1;
    plan->mlflow_uri = mlflow_uri;
    return load_key(plan, key_flag);
}

/* Whether the record `manifest` lists a checkpoint with parameter digest sha. */
static int lists_digest(const cJSON *manifest, const char *sha) {
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(manifest, "checkpoints"))
        if (!strcmp(dt_json_string_or(entry, "params_sha256", ""), sha)) return 1;
    return 0;
}

int dt_cli_certify_run(const char *run_dir, const char *key_flag, dt_cli_certify_plan *plan) {
    dt_model_version found[DT_CLI_CERTIFY_MAX];
    int n = 0;
    cJSON *manifest = NULL;
    dt_error err = {{0}};
    memset(plan, 0, sizeof *plan);
    if (dt_cli_registry_db(NULL, 1, plan->db, sizeof plan->db) >= 0) return -1; /* no registry: nothing to certify */
    if (dt_run_manifest_load(run_dir, &manifest, &err) != DT_OK) return -1; /* verify itself says why */
    dt_status status = dt_registry_versions_of_run(plan->db, dt_json_string(manifest, "run_id"), found,
                                                   DT_CLI_CERTIFY_MAX, &n, &err);
    for (int i = 0; i < n && status == DT_OK; i++)
        if (lists_digest(manifest, found[i].params_sha256)) plan->versions[plan->n_versions++] = found[i];
    cJSON_Delete(manifest);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    return plan->n_versions ? load_key(plan, key_flag) : -1;
}

void dt_cli_certify_free(dt_cli_certify_plan *plan) {
    dt_signing_key_free(plan->key);
    plan->key = NULL;
}

/* The parameter digest the re-run reached for v's checkpoint (certificate.h): the re-run's
 * final digest when v is the run's final checkpoint, v's own when everything was identical,
 * else NULL. */
static const char *digest_reached(const dt_model_version *v, const cJSON *manifest, const dt_verify_report *report,
                                  int identical) {
    if (!strcmp(dt_run_record_string(manifest, "final.params_sha256"), v->params_sha256)) return report->params_sha256;
    return identical ? v->params_sha256 : NULL;
}

/* Makes, stores and announces the certificate of plan's version i. -1, or the exit code. */
static int certify_one(const dt_cli_certify_plan *plan, int i, const cJSON *manifest, const dt_verify_report *report,
                       int identical, int64_t from_step) {
    const dt_model_version *v = &plan->versions[i];
    char machine[512], key[64], *json = NULL;
    const char *machine_from = NULL;
    dt_machine_describe(report->simd, report->gpu, machine, sizeof machine, &machine_from);
    const dt_certificate_facts facts = {v, digest_reached(v, manifest, report, identical), identical,
                                        report->steps_compared, from_step, report->mode, report->device,
                                        machine, machine_from};
    dt_error err = {{0}};
    int64_t number = 0;
    dt_status status = dt_certificate_make(&facts, plan->key, &json, &err);
    if (status == DT_OK) status = dt_certificate_add(plan->db, v, json, &number, &err);
    if (status == DT_OK) {
        printf("certificate %lld of %s/%lld: %s on %s, signed with key %.12s\n", (long long)number, v->name,
               (long long)v->version, identical ? "reproduced bit for bit" : "NOT reproduced bit for bit", machine,
               dt_signing_key_id(plan->key));
        fflush(stdout);
        snprintf(key, sizeof key, "detrain.certificate.%lld", (long long)number);
        dt_cli_mlflow_tag(v->manifest, v->name, key, json, plan->mlflow_uri);
    }
    free(json);
    return status == DT_OK ? -1 : dt_cli_fail(status, err.message);
}

int dt_cli_certify_finish(const dt_cli_certify_plan *plan, const char *run_dir, const dt_verify_report *report,
                          dt_status verified, int64_t from_step) {
    if (!plan->n_versions || !report->compared || (verified != DT_OK && verified != DT_MISMATCH)) return -1;
    if (!plan->key) {
        fprintf(stderr, "detrain: note: no certificate made for %s/%lld%s: no signing key (--key or "
                        "$DETRAIN_SIGNING_KEY; 'detrain key generate' makes one)\n", plan->versions[0].name,
                (long long)plan->versions[0].version, plan->n_versions > 1 ? " and the others" : "");
        return -1;
    }
    cJSON *manifest = NULL;
    dt_error ignored;
    if (dt_run_manifest_load(run_dir, &manifest, &ignored) != DT_OK) manifest = NULL;
    const int identical = verified == DT_OK && !report->fast;
    int rc = -1;
    for (int i = 0; i < plan->n_versions && rc < 0; i++) rc = certify_one(plan, i, manifest, report, identical, from_step);
    cJSON_Delete(manifest);
    return rc;
}

void dt_cli_reproduced_on(const cJSON *rows, char *out, size_t size) {
    cJSON *seen = cJSON_CreateObject();
    const cJSON *row;
    size_t used = 0;
    out[0] = '\0';
    cJSON_ArrayForEach(row, rows) {
        const cJSON *cert = cJSON_GetObjectItemCaseSensitive(row, "certificate");
        const char *machine = dt_json_string(cert, "machine");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "valid")) || !machine || used >= size ||
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")) ||
            dt_json_number(cert, "from_step") != 0 || cJSON_GetObjectItemCaseSensitive(seen, machine))
            continue;
        cJSON_AddTrueToObject(seen, machine);
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", machine);
    }
    cJSON_Delete(seen);
}

int dt_cli_export_certificates(const char *arg, char **json) {
    struct stat info;
    char db[DT_PATH_MAX + 32];
    int rc;
    *json = NULL;
    if (stat(arg, &info) == 0 || !dt_model_ref_shape(arg)) return -1; /* a file: no certificates */
    if ((rc = dt_cli_registry_db(NULL, 0, db, sizeof db)) >= 0) return rc;
    dt_model_version v;
    cJSON *rows = NULL, *certs = cJSON_CreateArray();
    const cJSON *row;
    dt_error err = {{0}};
    dt_status status = dt_registry_resolve(db, arg, &v, &err);
    if (status == DT_OK) status = dt_certificates_of(db, &v, &rows, &err);
    cJSON_ArrayForEach(row, rows) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "valid")))
            cJSON_AddItemToArray(certs, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(row, "certificate"), 1));
        else
            fprintf(stderr, "detrain: warning: %s/%lld: certificate %lld left out: %s\n", v.name, (long long)v.version,
                    (long long)dt_json_number(row, "number"), dt_json_string_or(row, "problem", "?"));
    }
    if (status == DT_OK && cJSON_GetArraySize(certs) > 0 && !(*json = cJSON_PrintUnformatted(certs)))
        status = dt_fail(&err, DT_NOMEM, "out of memory"); /* none: the export is as without the registry */
    cJSON_Delete(rows);
    cJSON_Delete(certs);
    return status == DT_OK ? -1 : dt_cli_fail(status, err.message);
}

/* ---- detrain key ----------------------------------------------------------------------------- */

enum { K_REGISTRY, K_OUT, K_NOTE, K_JSON };
static const option_spec key_specs[] = {[K_REGISTRY] = {"--registry", 1}, [K_OUT] = {"--out", 1},
                                        [K_NOTE] = {"--note", 1}, [K_JSON] = {"--json", 0}};

/* The default private key path: $XDG_CONFIG_HOME/detrain/signing-key.pem, else
 * $HOME/.config/detrain/signing-key.pem, its folder made. -1, or the exit code. */
static int default_key_path(char *out, size_t size) {
    const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (!(config && *config) && !(home && *home))
        return dt_cli_usage_error("key generate: no $HOME nor $XDG_CONFIG_HOME: give --out PATH", "key");
    if (config && *config) snprintf(out, size, "%s/detrain/signing-key.pem", config);
    else snprintf(out, size, "%s/.config/detrain/signing-key.pem", home);
    char folder[DT_PATH_MAX + 32];
    snprintf(folder, sizeof folder, "%s", out);
    dt_error err = {{0}};
    return dt_mkdirs(dirname(folder), &err) == DT_OK ? -1 : dt_cli_fail(DT_WRITE, err.message);
}

/* key generate [--out PATH] [--note TEXT]. */
static int key_generate(const char *db, const parsed_args *args) {
    char path[DT_PATH_MAX + 32], key_id[65], added_id[65], who[320], *pem = NULL;
    int rc = -1, existed = 0;
    if (args->values[K_OUT]) snprintf(path, sizeof path, "%s", args->values[K_OUT]);
    else if ((rc = default_key_path(path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_who(who, sizeof who);
    dt_status status = dt_key_generate(path, key_id, &pem, &err);
    if (status == DT_OK) status = dt_keys_add(db, pem, path, who, args->values[K_NOTE], added_id, &existed, &err);
    free(pem);
    if (status == DT_USAGE) return dt_cli_usage_error(err.message, "key");
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    printf("wrote %s (private, mode 0600) and %s.pub\nkey %s added to %s\n"
           "sign certificates with it: export DETRAIN_SIGNING_KEY=%s\n", path, path, key_id, db, path);
    return 0;
}

/* key add PUB.pem [--note TEXT]. */
static int key_add(const char *db, const parsed_args *args) {
    const char *file = args->positional[0];
    char *pem = NULL, key_id[65], who[320];
    int existed = 0;
    dt_error err = {{0}};
    dt_who(who, sizeof who);
    dt_status status = dt_file_exists(file) ? dt_read_text(file, &pem, NULL, &err)
                                            : dt_fail(&err, DT_USAGE, "%s: no such file", file);
    if (status == DT_OK) status = dt_keys_add(db, pem, file, who, args->values[K_NOTE], key_id, &existed, &err);
    free(pem);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    printf(existed ? "key %s: already in %s\n" : "key %s added to %s\n", key_id, db);
    return 0;
}

/* key list [--json]. */
static int key_list(const char *db, const parsed_args *args) {
    cJSON *rows = NULL, *row;
    dt_error err = {{0}};
    const dt_status status = dt_file_exists(db) ? dt_keys_list(db, &rows, &err) : DT_OK;
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    if (!rows) rows = cJSON_CreateArray();
    if (args->values[K_JSON]) dt_cli_print_json(rows);
    const cJSON *lines = args->values[K_JSON] ? NULL : rows;
    cJSON_ArrayForEach(row, lines) {
        const char *note = dt_json_string(row, "note");
        printf("%s  %s  added by %s%s%s\n", dt_json_string(row, "key_id"), dt_json_string(row, "created"),
               dt_json_string(row, "who"), note ? "  " : "", note ? note : "");
    }
    if (!args->values[K_JSON] && cJSON_GetArraySize(rows) == 0) printf("no keys in %s ('detrain key generate')\n", db);
    cJSON_Delete(rows);
    return 0;
}

int dt_cli_key(int argc, char **argv) {
    static const struct {
        const char *name;
        int positional;
        const char *what;
        int (*run)(const char *, const parsed_args *);
    } subs[] = {{"generate", 0, "no arguments", key_generate}, {"list", 0, "no arguments", key_list},
                {"add", 1, "a public key file (PEM)", key_add}};
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(dt_cli_key_help, argc < 3 ? stderr : stdout);
        return argc < 3 ? dt_status_exit_code(DT_USAGE) : 0;
    }
    int which = -1;
    for (int i = 0; i < DT_CLI_COUNT(subs); i++)
        if (!strcmp(argv[2], subs[i].name)) which = i;
    char command[64], message[160], db[DT_PATH_MAX + 32], *scratch[1];
    snprintf(message, sizeof message, "unknown key command '%.64s' (generate, list, add)", argv[2]);
    if (which < 0) return dt_cli_usage_error(message, "key");
    snprintf(command, sizeof command, "key %s", subs[which].name);
    parsed_args args = {.sets = scratch};
    int rc = parse_args(argc - 1, argv + 1, command, key_specs, DT_CLI_COUNT(key_specs), subs[which].positional,
                        subs[which].positional, subs[which].what, &args);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_key_help, stdout), 0;
    if ((rc = dt_cli_registry_db(args.values[K_REGISTRY], 0, db, sizeof db)) >= 0) return rc;
    return subs[which].run(db, &args);
}

/* ---- detrain certificate verify ----------------------------------------------------------------- */

/* The trusted keys ([{"key_id", "public_pem"}]): the --key files, else the registry's. DT_USAGE
 * naming a key file that is not an Ed25519 public key. */
static dt_status trusted_keys(const parsed_args *args, const char *db, cJSON **keys, dt_error *err) {
    *keys = NULL;
    if (args->n_sets == 0) {
        if (!dt_file_exists(db)) return dt_fail(err, DT_USAGE, "no --key given, and no registry at %s to take keys from", db);
        return dt_keys_list(db, keys, err);
    }
    *keys = cJSON_CreateArray();
    for (int i = 0; i < args->n_sets; i++) {
        char *pem = NULL, key_id[65];
        dt_status status = dt_file_exists(args->sets[i]) ? dt_read_text(args->sets[i], &pem, NULL, err)
                                                         : dt_fail(err, DT_USAGE, "%s: no such key file", args->sets[i]);
        if (status == DT_OK) status = dt_public_key_id(pem, args->sets[i], key_id, err);
        if (status == DT_OK) {
            cJSON *key = cJSON_CreateObject();
            cJSON_AddStringToObject(key, "key_id", key_id);
            cJSON_AddStringToObject(key, "public_pem", pem);
            cJSON_AddItemToArray(*keys, key);
        }
        free(pem);
        if (status != DT_OK) return status;
    }
    return DT_OK;
}

/* Checks each certificate of `certs` (an object, or an array of them) of `file`; one line each
 * on stdout; the first invalid one into err (DT_CHECKPOINT), with how many are. */
static dt_status check_file(const char *file, const cJSON *certs, const cJSON *keys, dt_error *err) {
    const int n = cJSON_IsArray(certs) ? cJSON_GetArraySize(certs) : 1;
    int n_bad = 0;
    dt_error first = {{0}};
    for (int i = 0; i < n; i++) {
        const cJSON *cert = cJSON_IsArray(certs) ? cJSON_GetArrayItem(certs, i) : certs;
        dt_error problem = {{0}};
        if (dt_certificate_check(cert, keys, &problem) == DT_OK) {
            printf("valid    %s: certificate %d: %s/%lld %s on %s (%s, by %s, key %.12s)\n", file, i + 1,
                   dt_json_string(cert, "model"), (long long)dt_json_number(cert, "version"),
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cert, "bit_identical")) ? "reproduced bit for bit"
                                                                                        : "NOT reproduced bit for bit",
                   dt_json_string(cert, "machine"), dt_json_string(cert, "date"), dt_json_string(cert, "who"),
                   dt_json_string(cert, "key_id"));
            continue;
        }
        printf("INVALID  %s: certificate %d: %s\n", file, i + 1, problem.message);
        if (!n_bad++) snprintf(first.message, sizeof first.message, "certificate %d: %.900s", i + 1, problem.message);
    }
    if (n == 0) return dt_fail(err, DT_CHECKPOINT, "%s: holds no certificate", file);
    if (n_bad) return dt_fail(err, DT_CHECKPOINT, "%s: %s (%d of %d invalid)", file, first.message, n_bad, n);
    return DT_OK;
}

int dt_cli_certificate(int argc, char **argv) {
    enum { C_KEY, C_REGISTRY };
    static const option_spec specs[] = {[C_KEY] = {"--key", 2}, [C_REGISTRY] = {"--registry", 1}};
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(dt_cli_certificate_help, argc < 3 ? stderr : stdout);
        return argc < 3 ? dt_status_exit_code(DT_USAGE) : 0;
    }
    if (strcmp(argv[2], "verify") != 0)
        return dt_cli_usage_error("unknown certificate command (the one there is: verify)", "certificate");
    char **scratch = calloc((size_t)argc + 1, sizeof *scratch), db[DT_PATH_MAX + 32], *text = NULL;
    parsed_args args = {.sets = scratch};
    int rc = scratch ? parse_args(argc - 1, argv + 1, "certificate verify", specs, DT_CLI_COUNT(specs), 1, 1,
                                  "a certificate file", &args)
                     : dt_cli_fail(DT_NOMEM, "out of memory");
    if (rc < 0 && args.help) {
        fputs(dt_cli_certificate_help, stdout);
        rc = 0;
    }
    if (rc < 0) rc = dt_cli_registry_db(args.values[C_REGISTRY], 0, db, sizeof db);
    cJSON *keys = NULL, *certs = NULL;
    dt_error err = {{0}};
    const char *file = args.positional[0];
    dt_status status = DT_OK;
    if (rc < 0) status = trusted_keys(&args, db, &keys, &err);
    if (rc < 0 && status == DT_OK) status = dt_file_exists(file) ? dt_read_text(file, &text, NULL, &err)
                                                                 : dt_fail(&err, DT_USAGE, "%s: no such file", file);
    if (rc < 0 && status == DT_OK && !(certs = cJSON_Parse(text)))
        status = dt_fail(&err, DT_USAGE, "%s: not JSON", file);
    if (rc < 0 && status == DT_OK) status = check_file(file, certs, keys, &err);
    if (rc < 0) rc = status == DT_OK ? 0 : dt_cli_fail(status, err.message);
    cJSON_Delete(keys);
    cJSON_Delete(certs);
    free(text);
    free(scratch);
    return rc;
}
