/* keys.h — Ed25519 keys that sign reproducibility certificates (certificate.h), through
 * OpenSSL's libcrypto, and the registry's table of the public keys it trusts.
 *
 * A key is named by its key id: the SHA-256 (64 lowercase hex digits) of its raw 32-byte
 * public key. Private keys stay in PEM files of their owners (PKCS#8, unencrypted, mode
 * 0600); the registry database holds public keys only (SubjectPublicKeyInfo PEM), with who
 * added them and when. */
#ifndef DT_KEYS_H
#define DT_KEYS_H

#include <stddef.h>

#include "core/status.h"

typedef struct cJSON cJSON;

/* An Ed25519 private key loaded for signing; its id beside it. */
typedef struct dt_signing_key dt_signing_key;

/* Makes a new Ed25519 key: the private key in PEM at private_path (mode 0600) and the public
 * key in PEM at "<private_path>.pub", each written atomically, and its id into key_id; the
 * public key's PEM into *public_pem (malloc'ed, the caller frees). DT_USAGE when private_path
 * exists already (a key is never overwritten), DT_INTERNAL naming the OpenSSL call that failed,
 * DT_WRITE when a file cannot be written. */
dt_status dt_key_generate(const char *private_path, char key_id[65], char **public_pem, dt_error *err);

/* Loads the private key in PEM at path (Ed25519, not encrypted) into *key (the caller frees
 * with dt_signing_key_free; NULL on failure). DT_USAGE naming the file when it is missing, not
 * a PEM private key, encrypted or not Ed25519. */
dt_status dt_signing_key_load(const char *path, dt_signing_key **key, dt_error *err);
void dt_signing_key_free(dt_signing_key *key);

/* The key's id (64 hex digits), owned by the key. */
const char *dt_signing_key_id(const dt_signing_key *key);

/* Signs message (n bytes) with the key: the 64-byte Ed25519 signature (EVP_DigestSign, no
 * digest) as 128 lowercase hex digits into hex. DT_INTERNAL naming the OpenSSL call that failed. */
dt_status dt_signing_key_sign(const dt_signing_key *key, const void *message, size_t n, char hex[129], dt_error *err);

/* The id of the Ed25519 public key in PEM `pem` (NUL-terminated) into key_id. DT_USAGE
 * "<origin>: ..." when it is not a PEM public key or not Ed25519. */
dt_status dt_public_key_id(const char *pem, const char *origin, char key_id[65], dt_error *err);

/* Whether `signature_hex` (128 hex digits) is an Ed25519 signature of message by the public key
 * in PEM `pem`: DT_OK; DT_CHECKPOINT "the signature does not verify" (or why it cannot be
 * checked: a malformed signature, an unreadable key). */
dt_status dt_public_key_verify(const char *pem, const void *message, size_t n, const char *signature_hex,
                               dt_error *err);

/* Adds the public key in PEM `pem` (read from `origin`) to the registry at db_path (created
 * when missing), recorded as added by `who` with `note` (NULL: none); its id into key_id and
 * *existed = 1 when it was there already (nothing changed). DT_USAGE for a key that is not an
 * Ed25519 public key; the database's errors as db.h says. */
dt_status dt_keys_add(const char *db_path, const char *pem, const char *origin, const char *who, const char *note,
                      char key_id[65], int *existed, dt_error *err);

/* The registry's public keys into *rows (the caller's; NULL when the database cannot be read),
 * oldest first: [{"key_id", "who", "created", "note" (or null), "public_pem"}]. */
dt_status dt_keys_list(const char *db_path, cJSON **rows, dt_error *err);

/* "user@host", who is doing something, into out. */
void dt_who(char *out, size_t size);

#endif
