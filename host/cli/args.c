/* args.c — the command line's shared parts: errors and option parsing (cli/args.h). */
#include "cli/args.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracking/http.h"

int dt_cli_fail(dt_status status, const char *message) {
    /* A message may quote the command line: a URL's credentials never reach the terminal. */
    char shown[DT_ERROR_MAX + 64];
    dt_http_redact_all(message, shown, sizeof shown);
    fprintf(stderr, "detrain: error: %s\n", shown);
    return dt_status_exit_code(status);
}

int dt_cli_usage_error(const char *message, const char *hint_command) {
    fprintf(stderr, "detrain: %s (see 'detrain help%s%s')\n", message, hint_command ? " " : "",
            hint_command ? hint_command : "");
    return dt_status_exit_code(DT_USAGE);
}

int parse_args(int argc, char **argv, const char *command, const option_spec *specs, int n_specs, int min_positional,
               int max_positional, const char *what, parsed_args *out) {
    char **sets = out->sets;
    memset(out, 0, sizeof *out);
    out->sets = sets;
    char message[320];
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            out->help = 1;
            return -1;
        }
        if (arg[0] == '-' && arg[1] != '\0') {
            if (!strcmp(arg, "-q")) arg = "--quiet";
            int k = 0;
            while (k < n_specs && strcmp(arg, specs[k].name) != 0) k++;
            if (k == n_specs) {
                snprintf(message, sizeof message, "unknown option '%s'", argv[i]);
                return dt_cli_usage_error(message, command);
            }
            if (!specs[k].takes_value) {
                out->values[k] = "";
                continue;
            }
            if (i + 1 >= argc) {
                snprintf(message, sizeof message, "option '%s' needs a value", arg);
                return dt_cli_usage_error(message, command);
            }
            if (specs[k].takes_value == 2 || !strcmp(arg, "--set") || !strcmp(arg, "--where") || !strcmp(arg, "--metric"))
                out->sets[out->n_sets++] = argv[i + 1];
            else if (out->values[k]) {
                snprintf(message, sizeof message, "option '%s' given twice", arg);
                return dt_cli_usage_error(message, command);
            }
            out->values[k] = argv[++i];
        } else if (out->n_positional < max_positional) {
            out->positional[out->n_positional++] = arg;
        } else {
            snprintf(message, sizeof message, "unexpected argument '%s' (%s only)", arg, what);
            return dt_cli_usage_error(message, command);
        }
    }
    if (out->n_positional < min_positional) {
        snprintf(message, sizeof message, "%s needs %s", command, what);
        return dt_cli_usage_error(message, command);
    }
    return -1;
}

int parse_count(const char *option, const char *value, const char *command, long long *out) {
    char *end = NULL;
    *out = value ? strtoll(value, &end, 10) : 0;
    if (value && (end == value || *end || *out < 0)) {
        char message[256];
        snprintf(message, sizeof message, "option '%s' needs a non-negative integer, got '%s'", option, value);
        return dt_cli_usage_error(message, command);
    }
    return -1;
}

int parse_simple(int argc, char **argv, const char *command, const option_spec *specs, int n_specs, int n_positional,
                 const char *what, parsed_args *out, char **scratch) {
    parsed_args parsed;
    parsed.sets = scratch;
    int rc = parse_args(argc, argv, command, specs, n_specs, n_positional, n_positional, what, &parsed);
    *out = parsed;
    return rc;
}


char **dt_cli_redacted_argv(int argc, char **argv) {
    char **copy = calloc((size_t)argc + 1, sizeof *copy);
    for (int i = 0; copy && i < argc; i++) {
        size_t cap = strlen(argv[i]) + 4;
        if (!(copy[i] = malloc(cap))) {
            dt_cli_free_argv(copy);
            return NULL;
        }
        dt_http_redact(argv[i], copy[i], cap);
    }
    return copy;
}

void dt_cli_free_argv(char **argv) {
    for (int i = 0; argv && argv[i]; i++) free(argv[i]);
    free(argv);
}

int dt_cli_check_mlflow_uri(const char *uri) {
    if (!uri || !strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8)) return -1;
    char shown[4096], message[4200];
    dt_http_redact(uri, shown, sizeof shown);
    snprintf(message, sizeof message, "--mlflow %s: not an http:// or https:// URL of an MLflow server", shown);
    return dt_cli_fail(DT_USAGE, message);
}

void dt_cli_print_json(const cJSON *json) {
    char *text = cJSON_Print(json);
    if (text) printf("%s\n", text);
    free(text);
}
