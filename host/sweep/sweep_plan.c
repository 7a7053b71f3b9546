/* sweep_plan.c — a sweep's plan: the swept keys parsed and checked against the config, the
 * trials as grid combinations times seeded random draws, their names and config digests. */
#include "sweep/sweep.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/digest.h"
#include "dt_math.h"
#include "core/fsutil.h"
#include "rng.h"

/* Names longer than this are cut and end in a digest of the whole, so folder names stay short. */
#define NAME_CUT 200

void dt_sweep_plan_init(dt_sweep_plan *plan) {
    memset(plan, 0, sizeof *plan);
    plan->lock_fd = -1;
}

/* Frees an array of n owned strings. */
static void free_strings(char **strings, int n) {
    for (int i = 0; strings && i < n; i++) free(strings[i]);
    free(strings);
}

void dt_sweep_plan_free(dt_sweep_plan *plan) {
    free_strings(plan->sets, plan->n_sets);
    for (int k = 0; k < plan->n_keys; k++) free_strings(plan->keys[k].values, plan->keys[k].n_values);
    for (int t = 0; plan->trials && t < plan->n_trials; t++) free_strings(plan->trials[t].values, plan->n_keys);
    free(plan->trials);
    dt_unlock_dir(plan->lock_fd);
    dt_sweep_plan_init(plan);
}

/* Appends a copy of text to *strings (n entries); -1 on OOM. */
static int push_copy(char ***strings, int *n, const char *text, size_t len) {
    char **grown = realloc(*strings, ((size_t)*n + 1) * sizeof *grown);
    if (!grown) return -1;
    *strings = grown;
    if (!(grown[*n] = malloc(len + 1))) return -1;
    memcpy(grown[*n], text, len);
    grown[*n][len] = '\0';
    (*n)++;
    return 0;
}

dt_status dt_sweep_add_set(dt_sweep_plan *plan, const char *override_text, dt_error *err) {
    if (!strchr(override_text, '=') || override_text[0] == '=')
        return dt_fail(err, DT_USAGE, "--set %s: expected KEY=VALUE", override_text);
    if (push_copy(&plan->sets, &plan->n_sets, override_text, strlen(override_text)) != 0)
        return dt_fail(err, DT_NOMEM, "out of memory");
    return DT_OK;
}

/* Whether `key` names `section` or a key inside it. */
static int in_section(const char *key, const char *section) {
    const size_t len = strlen(section);
    return !strncmp(key, section, len) && (key[len] == '\0' || key[len] == '.' || key[len] == '[');
}

/* DT_USAGE when a key may not vary between the trials of one sweep. */
static dt_status check_may_vary(const char *option, const char *key, dt_error *err) {
    if (in_section(key, "runtime"))
        return dt_fail(err, DT_USAGE,
                       "%s %s: runtime.* cannot vary in a sweep (the sweep gives each trial its threads; "
                       "a device or mode is not a hyperparameter: use --set)",
                       option, key);
    if (in_section(key, "tracking"))
        return dt_fail(err, DT_USAGE, "%s %s: tracking.* cannot vary in a sweep (use --set)", option, key);
    if (in_section(key, "experiment"))
        return dt_fail(err, DT_USAGE, "%s %s: every trial belongs to the sweep's experiment (use --experiment)", option,
                       key);
    return DT_OK;
}

/* Splits a grid's list at the commas outside [], {} and strings into k->values. DT_USAGE for
 * an empty list, an empty value or a value given twice. */
static dt_status split_grid(dt_sweep_key *k, const char *list, dt_error *err) {
    if (!*list) return dt_fail(err, DT_USAGE, "--grid %s: an empty list of values (KEY=V1,V2,...)", k->spec);
    int depth = 0, in_string = 0;
    const char *start = list;
    for (const char *c = list;; c++) {
        if (in_string && *c == '\\' && c[1])
            c++;
        else if (*c == '"')
            in_string = !in_string;
        else if (!in_string && (*c == '[' || *c == '{'))
            depth++;
        else if (!in_string && (*c == ']' || *c == '}'))
            depth--;
        if (*c != '\0' && (*c != ',' || depth > 0 || in_string)) continue;
        const size_t len = (size_t)(c - start);
        if (len == 0) return dt_fail(err, DT_USAGE, "--grid %s: an empty value in the list", k->spec);
        for (int i = 0; i < k->n_values; i++)
            if (strlen(k->values[i]) == len && !strncmp(k->values[i], start, len))
                return dt_fail(err, DT_USAGE, "--grid %s: the value %.*s is given twice", k->spec, (int)len, start);
        if (push_copy(&k->values, &k->n_values, start, len) != 0) return dt_fail(err, DT_NOMEM, "out of memory");
        if (*c == '\0') return DT_OK;
        start = c + 1;
    }
}

/* Whether text is an integer: an optional sign and digits. */
static int is_integer_text(const char *text) {
    if (*text == '-' || *text == '+') text++;
    if (!*text) return 0;
    while (isdigit((unsigned char)*text)) text++;
    return *text == '\0';
}

/* Parses "LO:HI[:log]" into k. DT_USAGE naming what is wrong. */
static dt_status parse_range(dt_sweep_key *k, const char *range, dt_error *err) {
    char lo[64], hi[64], scale[16] = "";
    const char *colon = strchr(range, ':');
    const char *colon2 = colon ? strchr(colon + 1, ':') : NULL;
    const size_t lo_len = colon ? (size_t)(colon - range) : 0;
    const size_t hi_len = colon2 ? (size_t)(colon2 - colon - 1) : colon ? strlen(colon + 1) : 0;
    if (!colon || lo_len == 0 || lo_len >= sizeof lo || hi_len == 0 || hi_len >= sizeof hi ||
        (colon2 && strlen(colon2 + 1) >= sizeof scale))
        return dt_fail(err, DT_USAGE, "--random %s: expected KEY=LO:HI or KEY=LO:HI:log", k->spec);
    snprintf(lo, sizeof lo, "%.*s", (int)lo_len, range);
    snprintf(hi, sizeof hi, "%.*s", (int)hi_len, colon + 1);
    if (colon2) snprintf(scale, sizeof scale, "%s", colon2 + 1);
    char *end_lo = NULL, *end_hi = NULL;
    k->low = strtod(lo, &end_lo);
    k->high = strtod(hi, &end_hi);
    if (*end_lo || *end_hi || !isfinite(k->low) || !isfinite(k->high))
        return dt_fail(err, DT_USAGE, "--random %s: LO and HI must be numbers", k->spec);
    if (colon2 && strcmp(scale, "log") != 0)
        return dt_fail(err, DT_USAGE, "--random %s: unknown scale '%s' (only :log)", k->spec, scale);
    k->log_scale = colon2 != NULL;
    k->integer = is_integer_text(lo) && is_integer_text(hi);
    if (!(k->low < k->high)) return dt_fail(err, DT_USAGE, "--random %s: LO must be less than HI", k->spec);
    if (k->log_scale && !(k->low > 0)) return dt_fail(err, DT_USAGE, "--random %s: :log needs LO > 0", k->spec);
    if (k->integer && (fabs(k->low) > 4e15 || fabs(k->high) > 4e15 || k->high - k->low >= 4294967296.0))
        return dt_fail(err, DT_USAGE, "--random %s: the integer range is too large (at most 2^32 values)", k->spec);
    return DT_OK;
}

dt_status dt_sweep_add_key(dt_sweep_plan *plan, const char *spec, int is_random, dt_error *err) {
    const char *option = is_random ? "--random" : "--grid";
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || (size_t)(eq - spec) >= DT_NAME_MAX)
        return dt_fail(err, DT_USAGE, "%s %s: expected %s", option, spec,
                       is_random ? "KEY=LO:HI[:log]" : "KEY=V1,V2,...");
    if (plan->n_keys == DT_SWEEP_MAX_KEYS)
        return dt_fail(err, DT_USAGE, "%s %s: at most %d keys may be swept", option, spec, DT_SWEEP_MAX_KEYS);
    dt_sweep_key *k = &plan->keys[plan->n_keys];
    memset(k, 0, sizeof *k);
    snprintf(k->key, sizeof k->key, "%.*s", (int)(eq - spec), spec);
    snprintf(k->spec, sizeof k->spec, "%s", spec);
    k->is_random = is_random;
    dt_status status = check_may_vary(option, k->key, err);
    for (int i = 0; status == DT_OK && i < plan->n_keys; i++)
        if (!strcmp(plan->keys[i].key, k->key))
            status = dt_fail(err, DT_USAGE, "%s %s: the key is swept twice", option, k->key);
    for (int i = 0; status == DT_OK && i < plan->n_sets; i++)
        if (!strncmp(plan->sets[i], k->key, strlen(k->key)) && plan->sets[i][strlen(k->key)] == '=')
            status = dt_fail(err, DT_USAGE, "%s %s: the key is also given with --set", option, k->key);
    if (status == DT_OK) status = is_random ? parse_range(k, eq + 1, err) : split_grid(k, eq + 1, err);
    if (status != DT_OK) {
        free_strings(k->values, k->n_values);
        memset(k, 0, sizeof *k);
        return status;
    }
    plan->n_keys++;
    return DT_OK;
}

/* ---- checking values against the config ---- */

/* Loads the config with the --set overrides, then `extra` (NULL: none) after them. */
static dt_status load_config(const dt_sweep_plan *plan, dt_config *cfg, int n_extra, char *const *extra,
                             dt_error *err) {
    char *overrides[DT_MAX_OVERRIDES];
    if (plan->n_sets + n_extra > DT_MAX_OVERRIDES - 2) /* the children add --threads and --experiment */
        return dt_fail(err, DT_USAGE, "too many overrides: %d --set and %d swept keys (at most %d together)",
                       plan->n_sets, n_extra, DT_MAX_OVERRIDES - 2);
    for (int i = 0; i < plan->n_sets; i++) overrides[i] = plan->sets[i];
    for (int i = 0; i < n_extra; i++) overrides[plan->n_sets + i] = extra[i];
    return dt_config_load(cfg, plan->config_path, plan->n_sets + n_extra, overrides, err);
}

/* Checks one value of a key against the config; the config's message, said as the option's. */
static dt_status check_value(const dt_sweep_plan *plan, dt_config *cfg, const dt_sweep_key *k, const char *value,
                             dt_error *err) {
    char override_text[DT_PATH_MAX + DT_NAME_MAX + 2];
    snprintf(override_text, sizeof override_text, "%s=%s", k->key, value);
    char *extra[1] = {override_text};
    dt_status status = load_config(plan, cfg, 1, extra, err);
    if (status == DT_OK || !err) return status;
    char said[DT_ERROR_MAX], prefix[sizeof override_text + 16];
    snprintf(prefix, sizeof prefix, "--set %s: ", override_text);
    const size_t len = strlen(prefix);
    snprintf(said, sizeof said, "%s", !strncmp(err->message, prefix, len) ? err->message + len : err->message);
    return dt_fail(err, status, "%s %s: %s", k->is_random ? "--random" : "--grid", override_text, said);
}

/* Checks every grid value and both ends of every random range. */
static dt_status check_keys(const dt_sweep_plan *plan, dt_config *cfg, dt_error *err) {
    for (int i = 0; i < plan->n_keys; i++) {
        const dt_sweep_key *k = &plan->keys[i];
        char bound[2][64];
        snprintf(bound[0], sizeof bound[0], k->integer ? "%.0f" : "%.9g", k->low);
        snprintf(bound[1], sizeof bound[1], k->integer ? "%.0f" : "%.9g", k->high);
        const int n = k->is_random ? 2 : k->n_values;
        for (int v = 0; v < n; v++) {
            dt_status status = check_value(plan, cfg, k, k->is_random ? bound[v] : k->values[v], err);
            if (status != DT_OK) return status;
        }
    }
    return DT_OK;
}

/* Checks the experiment name as the children will give it (--experiment is --set experiment=). */
static dt_status check_experiment(const dt_sweep_plan *plan, dt_config *cfg, dt_error *err) {
    char override_text[DT_NAME_MAX + 16];
    snprintf(override_text, sizeof override_text, "experiment=%s", plan->experiment);
    char *extra[1] = {override_text};
    dt_status status = load_config(plan, cfg, 1, extra, err);
    if (status == DT_OK) return DT_OK;
    return dt_fail(err, DT_USAGE, "--experiment %s: not an experiment name the config accepts", plan->experiment);
}

/* ---- trials ---- */

/* Draw `draw` of random key `key_index`: word 0 of Philox({draw lo, key index, draw hi, 0})
 * under the key of the sweep seed, made a value in float (portable dt_math: the same bits on
 * every machine) or an integer, as the exact text given to --set. */
static void draw_value(const dt_sweep_plan *plan, int key_index, int64_t draw, char *out, size_t size) {
    const dt_sweep_key *k = &plan->keys[key_index];
    const dt_philox_key key = dt_rng_key(plan->sweep_seed, DT_RNG_SWEEP, 0);
    const dt_philox_ctr ctr = {{(uint32_t)draw, (uint32_t)key_index, (uint32_t)((uint64_t)draw >> 32), 0u}};
    const uint32_t word = dt_philox4x32_10(ctr, key).v[0];
    const float u = dt_uniform_from_u32(word);
    if (k->integer) {
        const int64_t lo = (int64_t)k->low, hi = (int64_t)k->high;
        int64_t v = lo + (int64_t)(((uint64_t)word * (uint64_t)(hi - lo + 1)) >> 32);
        if (k->log_scale) {
            const float l0 = dt_logf((float)lo), l1 = dt_logf((float)hi + 1.0f);
            v = (int64_t)floorf(dt_expf(l0 + u * (l1 - l0)));
        }
        snprintf(out, size, "%lld", (long long)(v < lo ? lo : v > hi ? hi : v));
        return;
    }
    const float lo = (float)k->low, hi = (float)k->high;
    float v = lo + u * (hi - lo);
    if (k->log_scale) {
        const float l0 = dt_logf(lo), l1 = dt_logf(hi);
        v = dt_expf(l0 + u * (l1 - l0));
    }
    snprintf(out, size, "%.9g", (double)(v < lo ? lo : v > hi ? hi : v));
}

/* The folder name of a trial: "key=value,..." with characters other than letters, digits and
 * . _ - + = , [ ] @ as '_'; a long one cut and ended with 16 hex digits of its SHA-256. */
static void trial_name(const dt_sweep_plan *plan, const dt_sweep_trial *t, char *out, size_t size) {
    char full[DT_SWEEP_MAX_KEYS * (DT_NAME_MAX + 80)];
    size_t len = 0;
    for (int k = 0; k < plan->n_keys && len < sizeof full; k++)
        len +=
            (size_t)snprintf(full + len, sizeof full - len, "%s%s=%s", k ? "," : "", plan->keys[k].key, t->values[k]);
    if (len >= sizeof full) len = sizeof full - 1;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)full[i]) && !strchr("._-+=,[]@", full[i])) full[i] = '_';
    if (len <= NAME_CUT && len < size) {
        memcpy(out, full, len + 1);
        return;
    }
    char hex[65];
    if (dt_sha256_hex(full, len, hex) != 0) snprintf(hex, sizeof hex, "%0*d", 64, 0);
    snprintf(out, size, "%.*s-%.16s", NAME_CUT - 17, full, hex);
}

/* Whether a trial before `before` has this name. */
static int name_taken(const dt_sweep_plan *plan, int before, const char *name) {
    for (int s = 0; s < before; s++)
        if (!strcmp(plan->trials[s].name, name)) return 1;
    return 0;
}

/* Makes names unique: a repeated one (the same draw twice, or two values that differ only in
 * replaced characters) gets "-2", "-3", ... in plan order. */
static void unique_names(dt_sweep_plan *plan) {
    for (int t = 1; t < plan->n_trials; t++) {
        dt_sweep_trial *trial = &plan->trials[t];
        if (!name_taken(plan, t, trial->name)) continue;
        char base[DT_SWEEP_NAME_MAX];
        snprintf(base, sizeof base, "%s", trial->name);
        for (int n = 2; name_taken(plan, t, trial->name); n++)
            snprintf(trial->name, sizeof trial->name, "%.*s-%d", NAME_CUT, base, n);
    }
}

/* Fills trial t's values: draw t / combos of the random keys, combination t % combos of the
 * grids with the first grid varying slowest. */
static dt_status trial_values(dt_sweep_plan *plan, int t, int64_t combos, dt_error *err) {
    dt_sweep_trial *trial = &plan->trials[t];
    if (!(trial->values = calloc((size_t)plan->n_keys, sizeof *trial->values)))
        return dt_fail(err, DT_NOMEM, "out of memory");
    int64_t rest = t % combos;
    for (int k = plan->n_keys - 1; k >= 0; k--) {
        const dt_sweep_key *key = &plan->keys[k];
        char drawn[64];
        const char *value = drawn;
        if (key->is_random)
            draw_value(plan, k, t / combos, drawn, sizeof drawn);
        else {
            value = key->values[rest % key->n_values];
            rest /= key->n_values;
        }
        if (!(trial->values[k] = strdup(value))) return dt_fail(err, DT_NOMEM, "out of memory");
    }
    trial->exit_code = -1;
    return DT_OK;
}

/* Loads trial t's resolved config and digests it. The config's message, naming the trial. */
static dt_status trial_digest(dt_sweep_plan *plan, dt_config *cfg, int t, dt_error *err) {
    dt_sweep_trial *trial = &plan->trials[t];
    char texts[DT_SWEEP_MAX_KEYS][DT_PATH_MAX + DT_NAME_MAX + 2], *extra[DT_SWEEP_MAX_KEYS];
    for (int k = 0; k < plan->n_keys; k++) {
        snprintf(texts[k], sizeof texts[k], "%s=%s", plan->keys[k].key, trial->values[k]);
        extra[k] = texts[k];
    }
    dt_status status = load_config(plan, cfg, plan->n_keys, extra, err);
    if (status != DT_OK) return dt_fail_prefix(err, status, trial->name);
    char *json = dt_config_to_json(cfg);
    if (!json) return dt_fail(err, DT_NOMEM, "out of memory");
    const int rc = dt_sha256_hex(json, strlen(json), trial->config_sha256);
    free(json);
    return rc == 0 ? DT_OK : dt_fail(err, DT_NOMEM, "out of memory");
}

/* The number of trials, or -1 (DT_USAGE in err) when there are too many or draws are missing. */
static int64_t count_trials(const dt_sweep_plan *plan, int64_t *combos, dt_error *err) {
    int has_random = 0;
    *combos = 1;
    for (int k = 0; k < plan->n_keys; k++) {
        has_random |= plan->keys[k].is_random;
        if (!plan->keys[k].is_random && (*combos *= plan->keys[k].n_values) > DT_SWEEP_MAX_TRIALS) break;
    }
    if (has_random && plan->n_draws < 1) return dt_fail(err, DT_USAGE, "--random needs --trials N (N >= 1)"), -1;
    if (!has_random && plan->n_draws > 0) return dt_fail(err, DT_USAGE, "--trials goes with --random"), -1;
    if (plan->n_keys == 0) return dt_fail(err, DT_USAGE, "a sweep needs at least one --grid or --random"), -1;
    const int64_t draws = has_random ? plan->n_draws : 1;
    if (*combos > DT_SWEEP_MAX_TRIALS || draws > DT_SWEEP_MAX_TRIALS || *combos * draws > DT_SWEEP_MAX_TRIALS)
        return dt_fail(err, DT_USAGE, "too many trials (at most %d)", DT_SWEEP_MAX_TRIALS), -1;
    return *combos * draws;
}

dt_status dt_sweep_plan_build(dt_sweep_plan *plan, const char *config_path, dt_error *err) {
    dt_status status = DT_OK;
    dt_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return dt_fail(err, DT_NOMEM, "out of memory");
    snprintf(plan->config_path, sizeof plan->config_path, "%s", config_path);
    int64_t combos = 1;
    const int64_t n_trials = count_trials(plan, &combos, err);
    if (n_trials < 0) {
        status = DT_USAGE;
        goto cleanup;
    }
    DT_TRY(load_config(plan, cfg, 0, NULL, err));
    snprintf(plan->config_name, sizeof plan->config_name, "%s", cfg->name);
    DT_TRY(dt_file_sha256(plan->config_path, plan->config_file_sha256, err));
    if (!plan->experiment[0])
        snprintf(plan->experiment, sizeof plan->experiment, "%.*s-sweep", DT_NAME_MAX - 8, cfg->name);
    DT_TRY(check_experiment(plan, cfg, err));
    DT_TRY(check_keys(plan, cfg, err));
    if (!(plan->trials = calloc((size_t)n_trials, sizeof *plan->trials))) {
        status = dt_fail(err, DT_NOMEM, "out of memory");
        goto cleanup;
    }
    for (int t = 0; t < (int)n_trials; t++) {
        plan->n_trials = t + 1; /* owned values are freed from here on */
        DT_TRY(trial_values(plan, t, combos, err));
        trial_name(plan, &plan->trials[t], plan->trials[t].name, sizeof plan->trials[t].name);
    }
    unique_names(plan);
    for (int t = 0; t < plan->n_trials; t++) DT_TRY(trial_digest(plan, cfg, t, err));
cleanup:
    free(cfg);
    return status;
}

void dt_sweep_default_dir(const dt_sweep_plan *plan, const char *store, char *out, size_t size) {
    char stamp[32];
    const time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, size, "%s/sweep-%s-%s", store, plan->config_name, stamp);
}

void dt_sweep_trial_dir(const dt_sweep_plan *plan, int trial, char *out, size_t size) {
    snprintf(out, size, "%s/%s", plan->dir, plan->trials[trial].name);
}
