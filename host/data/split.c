/* split.c — the epoch's shuffle and the validation split (split.h). */
#include "data/split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "rng.h"

void dt_permutation(int64_t *perm, int64_t n, const dt_philox_key *key) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (!key) return;
    for (int64_t i = n - 1; i > 0; i--) {
        dt_philox_ctr ctr = {{(uint32_t)i, (uint32_t)((uint64_t)i >> 32), 0u, 0u}};
        dt_philox_ctr r = dt_philox4x32_10(ctr, *key);
        const uint64_t draw = (uint64_t)r.v[0] | ((uint64_t)r.v[1] << 32);
        const int64_t j = (int64_t)(((unsigned __int128)draw * (unsigned __int128)(i + 1)) >> 64);
        const int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* Copies the rows of src whose flag is `want` into dst, in src's order, with src's files. */
static dt_status take_rows(const dt_dataset *src, const unsigned char *held_out, unsigned char want, int64_t n_rows,
                           dt_dataset *dst, dt_error *err) {
    const size_t n_feat = (size_t)src->n_features, n_targets = (size_t)src->n_targets;
    memset(dst, 0, sizeof *dst);
    dst->n_samples = n_rows;
    dst->n_features = src->n_features;
    dst->n_targets = src->n_targets;
    dst->n_files = src->n_files;
    memcpy(dst->files, src->files, sizeof dst->files);
    dst->features = malloc((size_t)n_rows * n_feat * sizeof(float) + 1);
    if (src->labels) dst->labels = malloc((size_t)n_rows * sizeof(int32_t) + 1);
    if (src->targets) dst->targets = malloc((size_t)n_rows * n_targets * sizeof(float) + 1);
    if (!dst->features || (src->labels && !dst->labels) || (src->targets && !dst->targets)) {
        dt_dataset_free(dst);
        return dt_fail(err, DT_NOMEM, "out of memory splitting %s", src->files[0].path);
    }
    for (int64_t i = 0, k = 0; i < src->n_samples; i++) {
        if (held_out[i] != want) continue;
        memcpy(dst->features + (size_t)k * n_feat, src->features + (size_t)i * n_feat, n_feat * sizeof(float));
        if (src->labels) dst->labels[k] = src->labels[i];
        if (src->targets)
            memcpy(dst->targets + (size_t)k * n_targets, src->targets + (size_t)i * n_targets, n_targets * sizeof(float));
        k++;
    }
    return DT_OK;
}

/* SHA-256 of the indices flagged held out, ascending, as int64 little-endian; -1 on OOM. */
static int held_out_digest(const unsigned char *held_out, int64_t n, char hex[65]) {
    dt_sha256 *ctx = dt_sha256_begin();
    if (!ctx) return -1;
    for (int64_t i = 0; i < n; i++) {
        if (!held_out[i]) continue;
        unsigned char le[8];
        for (int b = 0; b < 8; b++) le[b] = (unsigned char)((uint64_t)i >> (8 * b));
        dt_sha256_update(ctx, le, sizeof le);
    }
    dt_sha256_end(ctx, hex);
    return 0;
}

/* share's shortest decimal that reads back as the same float ("0.2" for 0.2f), as p digits
 * after the point; share in (0, 1). */
static void shortest_decimal(float share, char *text, size_t size, int *p) {
    for (*p = 1; *p < 20; (*p)++) { /* 20 digits: 10^20 * n stays within 128 bits */
        snprintf(text, size, "%.*f", *p, (double)share);
        if ((float)strtod(text, NULL) == share) return;
    }
}

double dt_split_share(float share) {
    char text[48];
    int p;
    shortest_decimal(share, text, sizeof text, &p);
    return strtod(text, NULL);
}

int64_t dt_split_held_out(float share, int64_t n) {
    char text[48];
    int p;
    shortest_decimal(share, text, sizeof text, &p);
    /* ceil(digits / 10^p * n) in integers: the share as written, not its float (0.2f * 600 > 120) */
    const char *point = strchr(text, '.');
    unsigned __int128 digits = 0, scale = 1;
    for (const char *c = point ? point + 1 : text + strlen(text); *c; c++) digits = digits * 10 + (unsigned)(*c - '0');
    for (int i = 0; i < p; i++) scale *= 10;
    return (int64_t)((digits * (unsigned __int128)n + scale - 1) / scale);
}

dt_status dt_dataset_split(dt_dataset *all, float share, uint64_t seed, dt_dataset *train, dt_dataset *validation,
                           char indices_sha256[65], dt_error *err) {
    dt_status status = DT_OK;
    const int64_t n = all->n_samples, held = dt_split_held_out(share, n);
    int64_t *perm = malloc((size_t)n * sizeof(int64_t) + 1);
    unsigned char *held_out = calloc((size_t)n + 1, 1);
    memset(train, 0, sizeof *train);
    memset(validation, 0, sizeof *validation);
    if (!perm || !held_out) {
        status = dt_fail(err, DT_NOMEM, "out of memory splitting %s", all->files[0].path);
        goto cleanup;
    }
    if (held < 1 || held >= n) {
        status = dt_fail(err, DT_CONFIG,
                         "config.data.validation_split: %g of %lld training samples leaves %s; choose a share that "
                         "keeps at least one sample on each side",
                         (double)share, (long long)n, held < 1 ? "no validation sample" : "no training sample");
        goto cleanup;
    }
    const dt_philox_key key = dt_rng_key(seed, DT_RNG_VALIDATION, 0);
    dt_permutation(perm, n, &key);
    for (int64_t i = n - held; i < n; i++) held_out[perm[i]] = 1;
    if (held_out_digest(held_out, n, indices_sha256) != 0) {
        status = dt_fail(err, DT_NOMEM, "out of memory hashing the validation indices");
        goto cleanup;
    }
    DT_TRY(take_rows(all, held_out, 0, n - held, train, err));
    DT_TRY(take_rows(all, held_out, 1, held, validation, err));
cleanup:
    if (status != DT_OK) dt_dataset_free(train), dt_dataset_free(validation);
    dt_dataset_free(all);
    free(perm);
    free(held_out);
    return status;
}
