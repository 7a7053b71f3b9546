/* jsondiff.c — leaf-by-leaf comparison of two cJSON trees. */
#include "jsondiff.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* Whether v is an object or an array (walked into, not compared as a whole). */
static int is_container(const cJSON *v) { return v && (cJSON_IsObject(v) || cJSON_IsArray(v)); }

/* Whether two leaves hold the same value. */
static int same_leaf(const cJSON *a, const cJSON *b) {
    if (!a || !b) return a == b;
    if ((a->type & 0xFF) != (b->type & 0xFF)) return 0;
    if (cJSON_IsNumber(a)) return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a)) return strcmp(a->valuestring, b->valuestring) == 0;
    return 1; /* true, false, null */
}

int dt_json_diff(const cJSON *a, const cJSON *b, const char *path, dt_json_diff_fn fn, void *ctx) {
    char child_path[512];
    int count = 0;
    if (a && b && cJSON_IsObject(a) && cJSON_IsObject(b)) {
        for (const cJSON *item = a->child; item; item = item->next) {
            snprintf(child_path, sizeof child_path, "%s%s%s", path, path[0] ? "." : "", item->string);
            count += dt_json_diff(item, cJSON_GetObjectItemCaseSensitive(b, item->string), child_path, fn, ctx);
        }
        for (const cJSON *item = b->child; item; item = item->next) {
            if (cJSON_GetObjectItemCaseSensitive(a, item->string)) continue;
            snprintf(child_path, sizeof child_path, "%s%s%s", path, path[0] ? "." : "", item->string);
            count += dt_json_diff(NULL, item, child_path, fn, ctx);
        }
        return count;
    }
    if (a && b && cJSON_IsArray(a) && cJSON_IsArray(b)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        for (int i = 0; i < (na > nb ? na : nb); i++) {
            snprintf(child_path, sizeof child_path, "%s[%d]", path, i);
            count += dt_json_diff(i < na ? cJSON_GetArrayItem(a, i) : NULL, i < nb ? cJSON_GetArrayItem(b, i) : NULL,
                                  child_path, fn, ctx);
        }
        return count;
    }
    if (!is_container(a) && !is_container(b) && same_leaf(a, b)) return 0;
    if (fn) fn(ctx, path, a, b);
    return 1;
}

void dt_json_brief(const cJSON *v, char *out, size_t size) {
    if (!v) snprintf(out, size, "(absent)");
    else if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        snprintf(out, size, "\"%.*s%s\"", len > 72 ? 69 : (int)len, v->valuestring, len > 72 ? "..." : "");
    } else if (cJSON_IsNumber(v)) {
        const double d = v->valuedouble;
        /* The range first: casting a larger value to long long is undefined. */
        if (d < 1e17 && d > -1e17 && d == (double)(long long)d) snprintf(out, size, "%.0f", d);
        else snprintf(out, size, "%.9g", d);
    }
    else if (cJSON_IsTrue(v)) snprintf(out, size, "true");
    else if (cJSON_IsFalse(v)) snprintf(out, size, "false");
    else if (cJSON_IsNull(v)) snprintf(out, size, "null");
    else if (cJSON_IsArray(v)) snprintf(out, size, "[%d items]", cJSON_GetArraySize(v));
    else snprintf(out, size, "{...}");
}
