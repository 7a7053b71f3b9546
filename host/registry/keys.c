/* keys.c — Ed25519 keys through OpenSSL's libcrypto, and the registry's public keys (keys.h). */
#include "registry/keys.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/fsutil.h"
#include "core/progress.h"
#include "registry/db.h"

struct dt_signing_key {
    EVP_PKEY *pkey;
    char key_id[65];
};

/* DT_INTERNAL naming the OpenSSL call that failed and OpenSSL's reason (its error queue
 * emptied). */
static dt_status openssl_fail(dt_error *err, const char *call, const char *what) {
    char reason[256] = "no reason given";
    const unsigned long code = ERR_get_error();
    if (code) ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    return dt_fail(err, DT_INTERNAL, "%s: %s failed: %s", what, call, reason);
}

void dt_who(char *out, size_t size) {
    const char *user = getenv("USER");
    const struct passwd *pw = user ? NULL : getpwuid(getuid());
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(out, size, "%s@%s", user ? user : pw ? pw->pw_name : "unknown", host);
}

/* The id of an Ed25519 key: the SHA-256 of its raw 32-byte public key. */
static dt_status key_id_of(EVP_PKEY *pkey, const char *what, char key_id[65], dt_error *err) {
    unsigned char raw[32];
    size_t n = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &n) != 1 || n != sizeof raw)
        return openssl_fail(err, "EVP_PKEY_get_raw_public_key", what);
    if (dt_sha256_hex(raw, n, key_id) != 0) return dt_fail(err, DT_NOMEM, "out of memory");
    return DT_OK;
}

/* The key as PEM text (private: PKCS#8, unencrypted; else SubjectPublicKeyInfo) into *pem
 * (malloc'ed). */
static dt_status key_pem(EVP_PKEY *pkey, int private_key, const char *what, char **pem, dt_error *err) {
    *pem = NULL;
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem) return openssl_fail(err, "BIO_new", what);
    const int written = private_key ? PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL)
                                    : PEM_write_bio_PUBKEY(mem, pkey);
    char *data = NULL;
    const long n = written == 1 ? BIO_get_mem_data(mem, &data) : 0;
    dt_status status = DT_OK;
    if (written != 1) status = openssl_fail(err, private_key ? "PEM_write_bio_PrivateKey" : "PEM_write_bio_PUBKEY", what);
    else if (n <= 0) status = openssl_fail(err, "BIO_get_mem_data", what);
    else if (!(*pem = malloc((size_t)n + 1))) status = dt_fail(err, DT_NOMEM, "out of memory");
    else memcpy(*pem, data, (size_t)n), (*pem)[n] = '\0';
    BIO_free(mem);
    return status;
}

/* A new Ed25519 key into *pkey. */
static dt_status new_key(const char *what, EVP_PKEY **pkey, dt_error *err) {
    *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    dt_status status = DT_OK;
    if (!ctx) status = openssl_fail(err, "EVP_PKEY_CTX_new_id(ED25519)", what);
    else if (EVP_PKEY_keygen_init(ctx) != 1) status = openssl_fail(err, "EVP_PKEY_keygen_init", what);
    else if (EVP_PKEY_keygen(ctx, pkey) != 1) status = openssl_fail(err, "EVP_PKEY_keygen", what);
    EVP_PKEY_CTX_free(ctx);
    return status;
}

dt_status dt_key_generate(const char *private_path, char key_id[65], char **public_pem, dt_error *err) {
    char pub_path[DT_PATH_MAX + 32];
    EVP_PKEY *pkey = NULL;
    char *private_pem = NULL;
    dt_status status = DT_OK;
    *public_pem = NULL;
    DT_TRY(dt_path_check(private_path, DT_PATH_MAX, err));
    if (dt_file_exists(private_path))
        return dt_fail(err, DT_USAGE, "%s: exists already; a key is never overwritten (choose another --out)",
                       private_path);
    DT_TRY(dt_check_output_file(private_path, err));
    snprintf(pub_path, sizeof pub_path, "%s.pub", private_path);
    DT_TRY(new_key(private_path, &pkey, err));
    DT_TRY(key_id_of(pkey, private_path, key_id, err));
    DT_TRY(key_pem(pkey, 1, private_path, &private_pem, err));
    DT_TRY(key_pem(pkey, 0, pub_path, public_pem, err));
    DT_TRY(dt_write_file_atomic_mode(private_path, private_pem, strlen(private_pem), 0600, err));
    DT_TRY(dt_write_file_atomic(pub_path, *public_pem, strlen(*public_pem), err));
cleanup:
    if (private_pem) OPENSSL_cleanse(private_pem, strlen(private_pem));
    free(private_pem);
    EVP_PKEY_free(pkey);
    if (status != DT_OK) free(*public_pem), *public_pem = NULL;
    return status;
}

/* PEM_read_bio_PrivateKey's passphrase callback: none (an encrypted key is refused, never
 * prompted for). */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

/* The key read from PEM text: private or public; DT_USAGE "<origin>: ..." when it is not an
 * Ed25519 key of that kind. */
static dt_status read_pem(const char *pem, int private_key, const char *origin, EVP_PKEY **pkey, dt_error *err) {
    BIO *mem = BIO_new_mem_buf(pem, -1);
    if (!mem) return openssl_fail(err, "BIO_new_mem_buf", origin);
    *pkey = private_key ? PEM_read_bio_PrivateKey(mem, NULL, no_passphrase, NULL) : PEM_read_bio_PUBKEY(mem, NULL, NULL, NULL);
    BIO_free(mem);
    ERR_clear_error();
    if (!*pkey)
        return dt_fail(err, DT_USAGE, "%s: not a PEM %s key (or an encrypted one)", origin, private_key ? "private" : "public");
    if (EVP_PKEY_id(*pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        return dt_fail(err, DT_USAGE, "%s: not an Ed25519 key (detrain signs with Ed25519: 'detrain key generate')", origin);
    }
    return DT_OK;
}

dt_status dt_signing_key_load(const char *path, dt_signing_key **key, dt_error *err) {
    char *text = NULL;
    *key = NULL;
    if (!dt_file_exists(path)) return dt_fail(err, DT_USAGE, "%s: no such signing key", path);
    dt_status status = dt_read_text(path, &text, NULL, err);
    if (status != DT_OK) return status;
    dt_signing_key *loaded = calloc(1, sizeof *loaded);
    if (!loaded) status = dt_fail(err, DT_NOMEM, "out of memory");
    if (status == DT_OK) status = read_pem(text, 1, path, &loaded->pkey, err);
    if (status == DT_OK) status = key_id_of(loaded->pkey, path, loaded->key_id, err);
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    if (status == DT_OK) *key = loaded;
    else dt_signing_key_free(loaded);
    return status;
}

void dt_signing_key_free(dt_signing_key *key) {
    if (!key) return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

const char *dt_signing_key_id(const dt_signing_key *key) { return key->key_id; }

dt_status dt_signing_key_sign(const dt_signing_key *key, const void *message, size_t n, char hex[129], dt_error *err) {
    unsigned char signature[64];
    size_t length = sizeof signature;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    dt_status status = DT_OK;
    if (!ctx) status = openssl_fail(err, "EVP_MD_CTX_new", "signing a certificate");
    else if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1)
        status = openssl_fail(err, "EVP_DigestSignInit", "signing a certificate");
    else if (EVP_DigestSign(ctx, signature, &length, message, n) != 1 || length != sizeof signature)
        status = openssl_fail(err, "EVP_DigestSign", "signing a certificate");
    EVP_MD_CTX_free(ctx);
    for (size_t i = 0; status == DT_OK && i < sizeof signature; i++) snprintf(hex + 2 * i, 3, "%02x", signature[i]);
    return status;
}

dt_status dt_public_key_id(const char *pem, const char *origin, char key_id[65], dt_error *err) {
    EVP_PKEY *pkey = NULL;
    dt_status status = read_pem(pem, 0, origin, &pkey, err);
    if (status == DT_OK) status = key_id_of(pkey, origin, key_id, err);
    EVP_PKEY_free(pkey);
    return status;
}

/* 128 lowercase hex digits into 64 bytes; -1 when text is not that. */
static int signature_bytes(const char *text, unsigned char out[64]) {
    if (strlen(text) != 128 || strspn(text, "0123456789abcdef") != 128) return -1;
    for (int i = 0; i < 64; i++) {
        unsigned value;
        if (sscanf(text + 2 * i, "%2x", &value) != 1) return -1;
        out[i] = (unsigned char)value;
    }
    return 0;
}

dt_status dt_public_key_verify(const char *pem, const void *message, size_t n, const char *signature_hex,
                               dt_error *err) {
    unsigned char signature[64];
    if (signature_bytes(signature_hex, signature) != 0)
        return dt_fail(err, DT_CHECKPOINT, "the signature is not 128 lowercase hex digits");
    EVP_PKEY *pkey = NULL;
    dt_status status = read_pem(pem, 0, "the stored public key", &pkey, err);
    if (status != DT_OK) return dt_fail(err, DT_CHECKPOINT, "%s", err->message);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) status = openssl_fail(err, "EVP_MD_CTX_new", "checking a signature");
    else if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
        status = openssl_fail(err, "EVP_DigestVerifyInit", "checking a signature");
    else if (EVP_DigestVerify(ctx, signature, sizeof signature, message, n) != 1)
        status = dt_fail(err, DT_CHECKPOINT, "the signature does not verify (the certificate was altered, or signed "
                         "by another key)");
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return status;
}

dt_status dt_keys_add(const char *db_path, const char *pem, const char *origin, const char *who, const char *note,
                      char key_id[65], int *existed, dt_error *err) {
    char when[32], *public_pem = NULL;
    dt_db db = {0};
    sqlite3_stmt *stmt = NULL;
    EVP_PKEY *pkey = NULL;
    dt_status status = DT_OK;
    *existed = 0;
    DT_TRY(read_pem(pem, 0, origin, &pkey, err));
    DT_TRY(key_id_of(pkey, origin, key_id, err));
    DT_TRY(key_pem(pkey, 0, origin, &public_pem, err)); /* stored as OpenSSL writes it: one form per key */
    dt_utc_now(when, sizeof when);
    DT_TRY(dt_db_open(&db, db_path, 1, err));
    DT_TRY(dt_db_prepare(&db, "INSERT OR IGNORE INTO signing_keys VALUES(?1, ?2, ?3, ?4, ?5)", &stmt, err));
    dt_db_bind_text(stmt, 1, key_id);
    dt_db_bind_text(stmt, 2, public_pem);
    dt_db_bind_text(stmt, 3, who);
    dt_db_bind_text(stmt, 4, when);
    dt_db_bind_text(stmt, 5, note);
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "adding a public key", err);
    else *existed = sqlite3_changes(db.handle) == 0;
cleanup:
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    EVP_PKEY_free(pkey);
    free(public_pem);
    return status;
}

dt_status dt_keys_list(const char *db_path, cJSON **rows, dt_error *err) {
    dt_db db;
    sqlite3_stmt *stmt = NULL;
    dt_status status = dt_db_open(&db, db_path, 0, err);
    if (status == DT_OK)
        status = dt_db_prepare(&db, "SELECT key_id, who, created, note, public_pem FROM signing_keys ORDER BY created, key_id",
                               &stmt, err);
    *rows = status == DT_OK ? cJSON_CreateArray() : NULL;
    int rc = SQLITE_DONE;
    while (status == DT_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "key_id", dt_db_column_text(stmt, 0));
        cJSON_AddStringToObject(row, "who", dt_db_column_text(stmt, 1));
        cJSON_AddStringToObject(row, "created", dt_db_column_text(stmt, 2));
        if (sqlite3_column_type(stmt, 3) == SQLITE_NULL) cJSON_AddNullToObject(row, "note");
        else cJSON_AddStringToObject(row, "note", dt_db_column_text(stmt, 3));
        cJSON_AddStringToObject(row, "public_pem", dt_db_column_text(stmt, 4));
        cJSON_AddItemToArray(*rows, row);
    }
    if (status == DT_OK && rc != SQLITE_DONE) status = dt_db_fail(&db, rc, "listing the public keys", err);
    sqlite3_finalize(stmt);
    dt_db_close(&db);
    return status;
}
