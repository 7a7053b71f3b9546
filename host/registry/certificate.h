/* certificate.h — reproducibility certificates: a signed statement that a registered model
 * version was re-run (registry reproduce, verify) and reached, or did not reach, its parameter
 * digest bit for bit, on which machine, with which detrain, when and by whom.
 *
 * A certificate is one JSON object, format "detrain-certificate/1", with exactly these members
 * (the body, in this order), then "signature":
 *   format            "detrain-certificate/1"
 *   model, version    the registered version re-run (string, integer)
 *   run_id            its run (the record that was re-run)
 *   artifact_sha256   the SHA-256 of the version's checkpoint file
 *   params_sha256     the parameter digest the re-run reached for that checkpoint (string), or
 *                     null when it is not known (a best.h5 version whose re-run differed)
 *   bit_identical     true: every step, epoch, checkpoint and the final digest were the same bits
 *   steps, from_step  steps compared; the step the re-run started from (0: from the start)
 *   mode, device      the run's mode; the device the re-run used ("cpu", "cuda:0")
 *   machine           "x86-64 AVX2 (Intel(R) Xeon(R) ...)", or "NVIDIA H200 (sm_90, driver ..., CUDA
 *                     ..., cuBLAS ...)" on a GPU
 *   machine_from      "detected", or "DETRAIN_TEST_MACHINE" when that variable (a testing aid)
 *                     replaced the machine's description
 *   detrain_version, detrain_commit   the build that re-ran it ("0.1.0", 40 hex digits and
 *                     "+dirty" when its tree was)
 *   date, who         UTC ISO 8601 ("2026-12-05T10:00:00Z"); "user@host"
 *   key_id            SHA-256 hex of the signer's raw 32-byte Ed25519 public key (keys.h)
 *   signature         128 lowercase hex digits: the Ed25519 signature of the canonical body
 * The canonical body is the body's members, in the order above and no others, as
 * cJSON_PrintUnformatted writes them: no whitespace, strings as UTF-8 with '"', '\' and control
 * characters escaped (\" \\ \b \f \n \r \t \u00XX), integers in decimal, true/false/null. A
 * reader rebuilds it from the members, so a file re-indented or re-ordered still verifies; a
 * member added, missing or changed does not. */
#ifndef DT_CERTIFICATE_H
#define DT_CERTIFICATE_H

#include <stdint.h>

#include "core/status.h"
#include "registry/keys.h"
#include "registry/registry.h"

typedef struct cJSON cJSON;

#define DT_CERTIFICATE_FORMAT "detrain-certificate/1"

/* What a re-run established, for dt_certificate_make. */
typedef struct {
    const dt_model_version *version;
    const char *params_sha256;       /* NULL: not known */
    int bit_identical;
    int64_t steps, from_step;
    const char *mode, *device;
    const char *machine, *machine_from; /* dt_machine_describe's */
} dt_certificate_facts;

/* The machine a re-run ran on, as a certificate names it, into out: on a GPU (gpu not "",
 * "NAME (driver D, CUDA R, cuBLAS B)" as the verify report gives it) the GPU, else the CPU's
 * architecture, SIMD path (simd: "avx2") and model. $DETRAIN_TEST_MACHINE, when set, replaces
 * it (a testing aid: one machine playing two); *from says "detected" or "DETRAIN_TEST_MACHINE". */
void dt_machine_describe(const char *simd, const char *gpu, char *out, size_t size, const char **from);

/* A certificate of the facts, dated now, by dt_who, with this build's version and commit,
 * signed with key, as compact JSON into *json (malloc'ed; the caller frees). DT_INTERNAL naming
 * the OpenSSL call that failed; DT_NOMEM. */
dt_status dt_certificate_make(const dt_certificate_facts *facts, const dt_signing_key *key, char **json, dt_error *err);

/* Checks a certificate against the trusted keys ([{"key_id", "public_pem"}], as dt_keys_list
 * gives): its members and their types, its format, bit_identical with a params_sha256, a known
 * key_id, the signature over the canonical body. DT_OK, or DT_CHECKPOINT saying what is wrong
 * ("unknown key 3fa2c1d09b7e...", "the signature does not verify ..."). */
dt_status dt_certificate_check(const cJSON *certificate, const cJSON *keys, dt_error *err);

/* dt_certificate_check, and that the certificate is about version v: its model, version and
 * artifact_sha256, and when bit_identical, its params_sha256 is v's parameter digest. */
dt_status dt_certificate_check_for(const cJSON *certificate, const cJSON *keys, const dt_model_version *v,
                                   dt_error *err);

/* Appends the certificate `json` (dt_certificate_make's) to version v in the registry at
 * db_path; its number (1, 2, ... per version) into *number. */
dt_status dt_certificate_add(const char *db_path, const dt_model_version *v, const char *json, int64_t *number,
                             dt_error *err);

/* Version v's certificates, each checked (dt_certificate_check_for against the registry's keys),
 * into *rows (the caller's; those read before a failure), oldest first:
 * [{"number", "valid", "problem" (null when valid), "certificate": {...} (null when it is not
 * JSON)}]. */
dt_status dt_certificates_of(const char *db_path, const dt_model_version *v, cJSON **rows, dt_error *err);

/* Checks every certificate of the registry; the invalid ones into *bad (the caller's; those found
 * before a failure): [{"name", "version", "number", "problem"}]; *n_checked counts
 * them all. */
dt_status dt_certificates_check_all(const char *db_path, cJSON **bad, int64_t *n_checked, dt_error *err);

/* How many distinct machines (machine strings) reproduced v bit for bit from the start, by
 * valid certificates, into *machines. */
dt_status dt_certificates_machines(const char *db_path, const dt_model_version *v, int64_t *machines, dt_error *err);

/* The registered versions whose run id is run_id (resolved: dt_registry_resolve), at most max,
 * into out; *n their count. None (also no registry at db_path): *n = 0, DT_OK. */
dt_status dt_registry_versions_of_run(const char *db_path, const char *run_id, dt_model_version *out, int max, int *n,
                                      dt_error *err);

/* Sets how many distinct machines must have reproduced a version bit for bit before `alias` of
 * model `name` may point at it (0: no requirement). DT_CHECKPOINT for an unknown model, DT_USAGE
 * for a malformed alias. */
dt_status dt_alias_policy_set(const char *db_path, const char *name, const char *alias, int64_t required,
                              dt_error *err);

/* The requirement set for alias of name (0 when none) into *required. */
dt_status dt_alias_policy_get(const char *db_path, const char *name, const char *alias, int64_t *required,
                              dt_error *err);

/* Whether alias of `name` may move to `version` (a number as text): the requirement (the larger
 * of the alias's policy and `required_now`, a one-off from the command line) and the machines
 * that reproduced it into *required and *machines; *passed = machines >= required. The version
 * not found: as dt_registry_resolve. */
dt_status dt_alias_gate(const char *db_path, const char *name, const char *alias, const char *version,
                        int64_t required_now, int64_t *required, int64_t *machines, int *passed, dt_error *err);

#endif
