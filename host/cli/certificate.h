/* certificate.h (cli) — reproducibility certificates made after a re-run (registry reproduce,
 * verify of a registered run), and what export and registry show take from them. The key and
 * certificate commands themselves are in cli/commands.h. */
#ifndef DT_CLI_CERTIFICATE_H
#define DT_CLI_CERTIFICATE_H

#include <stdint.h>

#include "core/config.h"
#include "registry/keys.h"
#include "registry/registry.h"
#include "run/verify.h"

#define DT_CLI_CERTIFY_MAX 16 /* registered versions of one run that one verify certifies */

/* The certificates a re-run will make: for which versions, in which registry, with which key. */
typedef struct {
    char db[DT_PATH_MAX + 32];
    dt_model_version versions[DT_CLI_CERTIFY_MAX];
    int n_versions;
    dt_signing_key *key;       /* NULL: no key given (the re-run still runs; no certificate) */
    const char *mlflow_uri;    /* --mlflow, or NULL */
} dt_cli_certify_plan;

/* Plans the certificate of version v of the registry db (registry reproduce): the signing key
 * from key_flag (--key; NULL: $DETRAIN_SIGNING_KEY), loaded, and known to the registry. -1 when
 * planned (also without a key), else the exit code of the printed error (2: the key file is not
 * an Ed25519 private key, or its public key is not in the registry). Free with
 * dt_cli_certify_free, also on failure. */
int dt_cli_certify_version(const char *db, const dt_model_version *v, const char *key_flag, const char *mlflow_uri,
                           dt_cli_certify_plan *plan);

/* Plans the certificates of the registered versions whose record is the run in run_dir (detrain
 * verify): same run id, and a checkpoint of the run's record has the version's digest. No
 * registry or no such version: nothing planned, and no key needed. As dt_cli_certify_version. */
int dt_cli_certify_run(const char *run_dir, const char *key_flag, dt_cli_certify_plan *plan);

/* After the re-run of run_dir (its record; `verified`: dt_verify's status, report its report,
 * from_step: where it started, < 0 from the start): appends a signed certificate to each planned
 * version when the re-run was compared (identical or not), says it on stdout, and sends it to
 * MLflow as the version's tag detrain.certificate.N; without a key, one note on stderr that
 * none was made. -1, or the exit code of a certificate that could not be made or stored. */
int dt_cli_certify_finish(const dt_cli_certify_plan *plan, const char *run_dir, const dt_verify_report *report,
                          dt_status verified, int64_t from_step);

void dt_cli_certify_free(dt_cli_certify_plan *plan);

/* "x86-64 AVX2 (...), NVIDIA H200 (...)": the machines that reproduced a version bit for bit,
 * from dt_certificates_of's rows (valid, whole re-runs), into out. */
void dt_cli_reproduced_on(const cJSON *rows, char *out, size_t size);

/* The certificates to export with the model `arg` names: for a model version (NAME@ALIAS,
 * NAME/VERSION), its valid certificates as a compact JSON array text into *json (malloc'ed;
 * each invalid one left out with a warning on stderr); *json NULL for a file or folder, or a
 * version without valid certificates (its export is the checkpoint's, byte for byte). -1, or
 * the exit code of the printed error. */
int dt_cli_export_certificates(const char *arg, char **json);

#endif
