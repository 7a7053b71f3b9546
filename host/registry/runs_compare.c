/* runs_compare.c — runs --compare: only what differs between runs (runs.h). */
#include "registry/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sections of a manifest worth comparing; times, ids and paths of the machine are not. */
static const char *const sections[] = {"experiment", "config", "overrides", "seeds", "code",     "data",
                                       "mode",       "device", "status",    "final", "selection"};

/* Adds every leaf under node to map as "prefix.key" / "prefix[i]" -> a copy of the leaf. */
static void flatten(const cJSON *node, const char *prefix, cJSON *map) {
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node)) {
        if (!cJSON_GetObjectItemCaseSensitive(map, prefix)) cJSON_AddItemToObject(map, prefix, cJSON_Duplicate(node, 1));
        return;
    }
    int index = 0;
    for (const cJSON *child = node->child; child; child = child->next, index++) {
        char path[512];
        if (cJSON_IsArray(node)) snprintf(path, sizeof path, "%s[%d]", prefix, index);
        else snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", child->string);
        flatten(child, path, map);
    }
}

void dt_runs_leaf_text(const cJSON *leaf, char *out, size_t size) {
    if (!leaf) snprintf(out, size, "-");
    else if (cJSON_IsString(leaf)) snprintf(out, size, "%s", leaf->valuestring);
    else {
        char *text = cJSON_PrintUnformatted(leaf);
        snprintf(out, size, "%s", text ? text : "?");
        free(text);
    }
}

/* Whether key has the same value (its text, cut at 512 bytes) in every map. */
static int same_everywhere(const cJSON *maps, const char *key) {
    char first[512], other[512];
    dt_runs_leaf_text(cJSON_GetObjectItemCaseSensitive(maps->child, key), first, sizeof first);
    for (const cJSON *map = maps->child->next; map; map = map->next) {
        dt_runs_leaf_text(cJSON_GetObjectItemCaseSensitive(map, key), other, sizeof other);
        if (strcmp(first, other) != 0) return 0;
    }
    return 1;
}

dt_status dt_runs_compare(const cJSON *const *manifests, int n, dt_runs_comparison *out, dt_error *err) {
    out->leaves = cJSON_CreateArray();
    out->differing = cJSON_CreateArray();
    cJSON *all = cJSON_CreateObject(); /* every key of any run, in the order first seen */
    for (int r = 0; r < n && out->leaves && all; r++) {
        cJSON *map = cJSON_CreateObject();
        cJSON_AddItemToArray(out->leaves, map);
        for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++)
            flatten(cJSON_GetObjectItemCaseSensitive(manifests[r], sections[s]), sections[s], map);
        for (const cJSON *leaf = map ? map->child : NULL; leaf; leaf = leaf->next)
            if (!cJSON_GetObjectItemCaseSensitive(all, leaf->string)) cJSON_AddNullToObject(all, leaf->string);
    }
    const int complete = out->leaves && out->differing && all && cJSON_GetArraySize(out->leaves) == n;
    for (const cJSON *key = complete && n > 0 ? all->child : NULL; key; key = key->next)
        if (!same_everywhere(out->leaves, key->string)) cJSON_AddItemToArray(out->differing, cJSON_CreateString(key->string));
    cJSON_Delete(all);
    if (complete) return DT_OK;
    dt_runs_comparison_free(out);
    return dt_fail(err, DT_NOMEM, "out of memory comparing %d runs", n);
}

void dt_runs_comparison_free(dt_runs_comparison *comparison) {
    cJSON_Delete(comparison->leaves);
    cJSON_Delete(comparison->differing);
    comparison->leaves = comparison->differing = NULL;
}
