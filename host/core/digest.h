/* digest.h — SHA-256 through OpenSSL's libcrypto (EVP interface). */
#ifndef DT_DIGEST_H
#define DT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct dt_sha256 dt_sha256;

/* Starts an incremental digest; NULL on OOM. */
dt_sha256 *dt_sha256_begin(void);
/* Adds bytes. */
void dt_sha256_update(dt_sha256 *ctx, const void *data, size_t n_bytes);
/* Finishes, writes 64 lowercase hex chars + NUL into hex, frees ctx. */
void dt_sha256_end(dt_sha256 *ctx, char hex[65]);
/* One-shot digest of a buffer into hex (65 bytes). Returns 0, or -1 on OOM. */
int dt_sha256_hex(const void *data, size_t n_bytes, char hex[65]);

#endif
