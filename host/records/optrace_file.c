/* optrace_file.c — the op dump file (optrace.h): JSON, one object per traced step, each
 * operation's name, kind, count and SHA-256, and its kept values as little-endian float32 in
 * base64 (OpenSSL's encoder). A dump made on one machine is compared on another. */
#include "optrace.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/fsutil.h"
#include "core/json.h"

#define DUMP_FORMAT "detrain-opdump/1"
#define DUMP_MAX_BYTES ((size_t)4 << 30)

/* ---- writing --------------------------------------------------------------------------------- */

/* One op as JSON; NULL when out of memory. */
static cJSON *op_json(const dt_op_record *r) {
    cJSON *op = cJSON_CreateObject();
    if (!op) return NULL;
    cJSON_AddStringToObject(op, "name", r->name);
    cJSON_AddStringToObject(op, "kind", dt_op_kind_name(r->kind));
    cJSON_AddNumberToObject(op, "count", (double)r->count);
    cJSON_AddStringToObject(op, "sha256", r->sha256);
    if (r->values) {
        const size_t bytes = (size_t)r->count * sizeof(float);
        char *text = malloc(4 * ((bytes + 2) / 3) + 1);
        if (!text) {
            cJSON_Delete(op);
            return NULL;
        }
        EVP_EncodeBlock((unsigned char *)text, (const unsigned char *)r->values, (int)bytes);
        cJSON_AddStringToObject(op, "values_base64", text);
        free(text);
    }
    return op;
}

/* The whole dump as JSON; NULL when out of memory. */
static cJSON *dump_json(const dt_op_trace *t, const cJSON *meta) {
    cJSON *root = cJSON_CreateObject(), *steps = cJSON_CreateArray();
    if (!root || !steps) goto fail;
    cJSON_AddStringToObject(root, "format", DUMP_FORMAT);
    cJSON_AddItemToObject(root, "meta", meta ? cJSON_Duplicate(meta, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(root, "steps", steps);
    for (int s = 0; s < t->n_steps; s++) {
        cJSON *step = cJSON_CreateObject(), *ops = cJSON_CreateArray();
        if (!step || !ops || !cJSON_AddItemToArray(steps, step)) {
            cJSON_Delete(step);
            cJSON_Delete(ops);
            return cJSON_Delete(root), NULL;
        }
        cJSON_AddNumberToObject(step, "step", (double)t->steps[s].step);
        cJSON_AddItemToObject(step, "ops", ops);
        for (int i = 0; i < t->steps[s].n_ops; i++) {
            cJSON *op = op_json(&t->steps[s].ops[i]);
            if (!op || !cJSON_AddItemToArray(ops, op)) return cJSON_Delete(op), cJSON_Delete(root), NULL;
        }
    }
    return root;
fail:
    cJSON_Delete(root);
    cJSON_Delete(steps);
    return NULL;
}

dt_status dt_op_trace_write(const dt_op_trace *t, const cJSON *meta, const char *path, dt_error *err) {
    cJSON *root = dump_json(t, meta);
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return dt_fail(err, DT_NOMEM, "%s: out of memory writing the op dump", path);
    const size_t size = strlen(text);
    text[size] = '\n'; /* replaces the terminator: the file ends with a line break */
    const dt_status status = dt_write_file_atomic(path, text, size + 1, err);
    free(text);
    return status;
}

/* ---- reading --------------------------------------------------------------------------------- */

/* A dump being read: its file for messages. */
typedef struct {
    const char *path;
    dt_error *err;
} reader;

static dt_status bad(reader *r, const char *where, const char *what) {
    return dt_fail(r->err, DT_CHECKPOINT, "%s: %s: %s", r->path, where, what);
}

/* The kind named `name`, or DT_OP_N_KINDS. */
static dt_op_kind kind_of(const char *name) {
    for (int k = 0; k < DT_OP_N_KINDS; k++)
        if (name && !strcmp(name, dt_op_kind_name((dt_op_kind)k))) return (dt_op_kind)k;
    return DT_OP_N_KINDS;
}

static int is_sha256(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", s[i])) return 0;
    return 1;
}

/* Decodes an op's values and checks them against its count and digest. */
static dt_status read_values(reader *r, const char *where, const char *text, dt_op_record *op) {
    const size_t bytes = (size_t)op->count * sizeof(float), len = strlen(text);
    if (len != 4 * ((bytes + 2) / 3)) return bad(r, where, "values_base64 does not hold `count` float32 values");
    unsigned char *raw = malloc(len / 4 * 3 + 1);
    if (!raw) return dt_fail(r->err, DT_NOMEM, "%s: out of memory reading the op dump", r->path);
    if (EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len) < 0) {
        free(raw);
        return bad(r, where, "values_base64 is not base64");
    }
    op->values = (float *)raw;
    char sha[65];
    dt_sha256_hex(op->values, bytes, sha);
    if (strcmp(sha, op->sha256) != 0) return bad(r, where, "the values do not have the recorded sha256");
    return DT_OK;
}

/* One op of a step; its path "steps[S].ops[I]" for messages. */
static dt_status read_op(reader *r, const cJSON *item, const char *where, dt_op_record *op) {
    const char *name = dt_json_string(item, "name"), *sha = dt_json_string(item, "sha256");
    const double count = dt_json_number(item, "count");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(item, "values_base64");
    memset(op, 0, sizeof *op);
    if (!name || strlen(name) >= sizeof op->name) return bad(r, where, "name: missing, not a string or too long");
    if ((op->kind = kind_of(dt_json_string(item, "kind"))) == DT_OP_N_KINDS) return bad(r, where, "kind: not an operation kind");
    if (!(count >= 0 && count <= (double)(DUMP_MAX_BYTES / sizeof(float)) && count == floor(count)))
        return bad(r, where, "count: not a whole number of floats");
    if (!is_sha256(sha)) return bad(r, where, "sha256: not a SHA-256 (64 lowercase hex digits)");
    snprintf(op->name, sizeof op->name, "%s", name);
    snprintf(op->sha256, sizeof op->sha256, "%s", sha);
    op->count = (int64_t)count;
    if (values && !cJSON_IsString(values)) return bad(r, where, "values_base64: not a string");
    return values ? read_values(r, where, values->valuestring, op) : DT_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const dt_op_record *)a)->name, ((const dt_op_record *)b)->name);
}

/* DT_CHECKPOINT when two ops of step s have one name (a trace names each output once). */
static dt_status unique_names(reader *r, const char *where, const dt_op_step *s) {
    if (s->n_ops < 2) return DT_OK;
    dt_op_record *sorted = malloc((size_t)s->n_ops * sizeof *sorted + 1);
    if (!sorted) return dt_fail(r->err, DT_NOMEM, "%s: out of memory reading the op dump", r->path);
    memcpy(sorted, s->ops, (size_t)s->n_ops * sizeof *sorted);
    qsort(sorted, (size_t)s->n_ops, sizeof *sorted, by_name);
    int i = 1;
    while (i < s->n_ops && strcmp(sorted[i - 1].name, sorted[i].name) != 0) i++;
    char what[160];
    snprintf(what, sizeof what, "two operations named '%.96s'", i < s->n_ops ? sorted[i].name : "");
    free(sorted);
    return i < s->n_ops ? bad(r, where, what) : DT_OK;
}

/* One step of the dump into t (steps ascending). */
static dt_status read_step(reader *r, const cJSON *item, int index, dt_op_trace *t) {
    char where[64];
    snprintf(where, sizeof where, "steps[%d]", index);
    const double step = dt_json_number(item, "step");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(item, "ops");
    if (!(step >= 1 && step <= 9007199254740992.0 && step == floor(step)))
        return bad(r, where, "step: not a step number (1 .. 2^53)");
    if (t->n_steps > 0 && (int64_t)step <= t->steps[t->n_steps - 1].step)
        return bad(r, where, "step: not after the step before it (steps ascend, each once)");
    if (!cJSON_IsArray(ops)) return bad(r, where, "ops: missing or not an array");
    dt_op_step *s = &t->steps[t->n_steps++];
    *s = (dt_op_step){.step = (int64_t)step};
    const int n = cJSON_GetArraySize(ops);
    if (n > 0 && !(s->ops = calloc((size_t)n, sizeof *s->ops)))
        return dt_fail(r->err, DT_NOMEM, "%s: out of memory reading the op dump", r->path);
    s->cap = n;
    const cJSON *op;
    cJSON_ArrayForEach(op, ops) {
        snprintf(where, sizeof where, "steps[%d].ops[%d]", index, s->n_ops);
        dt_status status = read_op(r, op, where, &s->ops[s->n_ops]);
        s->n_ops++; /* freed with the trace, also when incomplete */
        if (status != DT_OK) return status;
    }
    snprintf(where, sizeof where, "steps[%d]", index);
    return unique_names(r, where, s);
}

/* The parsed dump's steps into t. */
static dt_status read_steps(reader *r, const cJSON *root, dt_op_trace *t) {
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(root, "steps"), *item;
    if (!cJSON_IsArray(steps)) return bad(r, "steps", "missing or not an array");
    const int n = cJSON_GetArraySize(steps);
    if (n > 0 && !(t->steps = calloc((size_t)n, sizeof *t->steps)))
        return dt_fail(r->err, DT_NOMEM, "%s: out of memory reading the op dump", r->path);
    t->cap_steps = n;
    int index = 0;
    cJSON_ArrayForEach(item, steps) {
        const dt_status status = read_step(r, item, index++, t);
        if (status != DT_OK) return status;
    }
    return DT_OK;
}

dt_status dt_op_trace_read(const char *path, dt_op_trace *t, cJSON **meta, dt_error *err) {
    reader r = {path, err};
    char *text = NULL;
    size_t size = 0;
    cJSON *root = NULL;
    dt_status status = DT_OK;
    *meta = NULL;
    dt_op_trace_free(t);
    dt_op_trace_init(t, 0, -1, 0, -1);
    DT_TRY(dt_read_text(path, &text, &size, err));
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, size, &end, 0);
    if (!root) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: not JSON (byte %ld); not an op dump", path,
                         end ? (long)(end - text) : 0L);
        goto cleanup;
    }
    if (!cJSON_IsObject(root) || !dt_json_string(root, "format") || strcmp(dt_json_string(root, "format"), DUMP_FORMAT)) {
        status = bad(&r, "format", "not \"" DUMP_FORMAT "\"; not an op dump");
        goto cleanup;
    }
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "meta"))) {
        status = bad(&r, "meta", "missing or not an object");
        goto cleanup;
    }
    DT_TRY(read_steps(&r, root, t));
    *meta = cJSON_DetachItemFromObjectCaseSensitive(root, "meta");
cleanup:
    cJSON_Delete(root);
    free(text);
    return status;
}
