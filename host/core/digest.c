/* digest.c — SHA-256 with OpenSSL's EVP API. */
#include "digest.h"

#include <openssl/evp.h>
#include <stdio.h>

/* dt_sha256 is an opaque name for OpenSSL's EVP_MD_CTX. */

dt_sha256 *dt_sha256_begin(void) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return NULL;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return (dt_sha256 *)md;
}

void dt_sha256_update(dt_sha256 *ctx, const void *data, size_t n_bytes) {
    EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, n_bytes);
}

void dt_sha256_end(dt_sha256 *ctx, char hex[65]) {
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, raw, &n);
    EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
    for (unsigned i = 0; i < n && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[64] = '\0';
}

int dt_sha256_hex(const void *data, size_t n_bytes, char hex[65]) {
    dt_sha256 *ctx = dt_sha256_begin();
    if (!ctx) return -1;
    dt_sha256_update(ctx, data, n_bytes);
    dt_sha256_end(ctx, hex);
    return 0;
}
