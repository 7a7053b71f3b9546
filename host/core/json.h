/* json.h — reading one member of a parsed JSON object (cJSON): the key looked up case
 * sensitively, a member of another type read as absent. The one place these getters live
 * (tests/layout.py refuses a private copy). */
#ifndef DT_JSON_H
#define DT_JSON_H

#include <cjson/cJSON.h>

/* The string at obj[key], owned by obj; NULL when obj is NULL or the member is absent or not
 * a string. */
const char *dt_json_string(const cJSON *obj, const char *key);

/* The string at obj[key], or `fallback` when dt_json_string finds none. */
const char *dt_json_string_or(const cJSON *obj, const char *key, const char *fallback);

/* The number at obj[key]; NAN when obj is NULL or the member is absent or not a number. */
double dt_json_number(const cJSON *obj, const char *key);

/* The number at obj[key], or `fallback` when it is absent or not a number. */
double dt_json_number_or(const cJSON *obj, const char *key, double fallback);

#endif
