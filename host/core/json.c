/* json.c — the JSON member getters (json.h). */
#include "json.h"

#include <math.h>

const char *dt_json_string(const cJSON *obj, const char *key) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

const char *dt_json_string_or(const cJSON *obj, const char *key, const char *fallback) {
    const char *text = dt_json_string(obj, key);
    return text ? text : fallback;
}

double dt_json_number(const cJSON *obj, const char *key) {
    return dt_json_number_or(obj, key, NAN);
}

double dt_json_number_or(const cJSON *obj, const char *key, double fallback) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}
