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

/* The leaf's text for the table: a string as it is, anything else as JSON, "-" when absent. */
static void leaf_text(const cJSON *leaf, char *out, size_t size) {
    if (!leaf) snprintf(out, size, "-");
    else if (cJSON_IsString(leaf)) snprintf(out, size, "%s", leaf->valuestring);
    else {
        char *text = cJSON_PrintUnformatted(leaf);
        snprintf(out, size, "%s", text ? text : "?");
        free(text);
    }
}

/* Whether key has the same value in every map. */
static int same_everywhere(cJSON *const *maps, int n, const char *key) {
    char first[512], other[512];
    leaf_text(cJSON_GetObjectItemCaseSensitive(maps[0], key), first, sizeof first);
    for (int r = 1; r < n; r++) {
        leaf_text(cJSON_GetObjectItemCaseSensitive(maps[r], key), other, sizeof other);
        if (strcmp(first, other) != 0) return 0;
    }
    return 1;
}

void dt_runs_compare(const char *const *folders, const cJSON *const *manifests, int n, int json) {
    cJSON **maps = calloc((size_t)n + 1, sizeof *maps), *keys = cJSON_CreateObject(), *all = cJSON_CreateObject();
    for (int r = 0; r < n && maps; r++) {
        maps[r] = cJSON_CreateObject();
        for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++)
            flatten(cJSON_GetObjectItemCaseSensitive(manifests[r], sections[s]), sections[s], maps[r]);
        for (const cJSON *leaf = maps[r]->child; leaf; leaf = leaf->next)
            if (!cJSON_GetObjectItemCaseSensitive(all, leaf->string)) cJSON_AddNullToObject(all, leaf->string);
    }
    int differing = 0;
    for (const cJSON *key = all->child; maps && key; key = key->next) {
        if (same_everywhere(maps, n, key->string)) continue;
        cJSON *values = cJSON_AddArrayToObject(keys, key->string);
        for (int r = 0; r < n; r++) {
            const cJSON *leaf = cJSON_GetObjectItemCaseSensitive(maps[r], key->string);
            cJSON_AddItemToArray(values, leaf ? cJSON_Duplicate(leaf, 1) : cJSON_CreateNull());
        }
        differing++;
    }
    if (json) {
        cJSON *out = cJSON_CreateObject(), *runs = cJSON_AddArrayToObject(out, "runs");
        for (int r = 0; r < n; r++) cJSON_AddItemToArray(runs, cJSON_CreateString(folders[r]));
        cJSON_AddItemToObject(out, "keys", keys);
        keys = NULL;
        char *text = cJSON_Print(out);
        if (text) printf("%s\n", text);
        free(text);
        cJSON_Delete(out);
    } else {
        printf("%-40s", "KEY");
        for (int r = 0; r < n; r++) printf(" %-24.24s", folders[r]);
        printf("\n");
        for (const cJSON *key = keys->child; key; key = key->next) {
            printf("%-40s", key->string);
            for (int r = 0; r < n; r++) {
                char text[512];
                leaf_text(cJSON_GetObjectItemCaseSensitive(maps[r], key->string), text, sizeof text);
                printf(" %-24.24s", text);
            }
            printf("\n");
        }
        printf("%d key%s differ%s between %d runs\n", differing, differing == 1 ? "" : "s", differing == 1 ? "s" : "",
               n);
    }
    for (int r = 0; r < n && maps; r++) cJSON_Delete(maps[r]);
    free(maps);
    cJSON_Delete(keys);
    cJSON_Delete(all);
}
