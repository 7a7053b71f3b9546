/* jsondiff.h — what differs between two JSON trees, by JSON path (config.optimizer.lr,
 * data.train.files[0].sha256): the config check of resume, verify's causes, detrain diff. */
#ifndef DT_JSONDIFF_H
#define DT_JSONDIFF_H

#include <stddef.h>

typedef struct cJSON cJSON;

/* Called for a path whose values differ; a or b is NULL where that side lacks the key. */
typedef void (*dt_json_diff_fn)(void *ctx, const char *path, const cJSON *a, const cJSON *b);

/* Walks a and b together (objects by key, in a's order then b's extra keys; arrays by index)
 * and calls fn (may be NULL) for every leaf that differs. Numbers compare as doubles.
 * Returns the number of differences. */
int dt_json_diff(const cJSON *a, const cJSON *b, const char *path, dt_json_diff_fn fn, void *ctx);

/* A short rendering of a value for messages: 0.01, "relu", true, [3 items], {…}, or
 * "(absent)" for NULL. Long strings are cut. */
void dt_json_brief(const cJSON *v, char *out, size_t size);

#endif
