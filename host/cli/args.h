/* args.h — the command line's shared parts: one-line errors, usage errors with a hint, and
 * the option parser every command uses. Nothing here exits: main returns the codes. */
#ifndef DT_CLI_ARGS_H
#define DT_CLI_ARGS_H

#include "core/status.h"

/* Prints "detrain: error: MESSAGE" and returns the status's exit code. */
int dt_cli_fail(dt_status status, const char *message);

/* Prints a usage error with a hint to the command's help and returns exit code 2. */
int dt_cli_usage_error(const char *message, const char *hint_command);

/* An option a command accepts; takes_value: 1, it is followed by a value; 2, a value and it
 * may repeat, into `sets` (as --set, --where and --metric always may). */
typedef struct {
    const char *name;
    int takes_value;
} option_spec;

/* The number of entries of a spec array, counted by the compiler. */
#define DT_CLI_COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

#define MAX_OPTIONS 16
#define MAX_POSITIONAL 64 /* detrain plot takes any number of run folders */

/* A parsed command line: each option's value (NULL when absent; "" for a flag given) and the
 * positional arguments. Repeatable options (--set, --where, --metric) collect their values in
 * `sets` (no command takes two of them, except with takes_value 2: each value points into argv
 * right after its option's name, which tells them apart). */
typedef struct {
    const char *values[MAX_OPTIONS];
    const char *positional[MAX_POSITIONAL];
    int n_positional;
    char **sets;
    int n_sets;
    int help;
} parsed_args;

/* Parses argv[2..] for `command` against specs, expecting min_positional to max_positional
 * (<= MAX_POSITIONAL) positional arguments (`what` names them); --set, --where and --metric may
 * repeat, into out->sets, which must have room for argc entries. -h/--help sets out->help.
 * Returns -1 when parsed, else the exit code of the usage error (printed). */
int parse_args(int argc, char **argv, const char *command, const option_spec *specs, int n_specs, int min_positional,
               int max_positional, const char *what, parsed_args *out);

/* parse_args with exactly n_positional positional arguments and `scratch` as the room for
 * repeated options (argc entries). */
int parse_simple(int argc, char **argv, const char *command, const option_spec *specs, int n_specs, int n_positional,
                 const char *what, parsed_args *out, char **scratch);

/* -1 when --mlflow's value (NULL: not given) is an http(s) URL, else the exit code of the
 * printed error (which shows the URL without its user-info). */
int dt_cli_check_mlflow_uri(const char *uri);

/* A copy of argv (argc entries and a NULL) for the run record, each URL's user-info
 * (--mlflow https://user:pass@host) as "***"; NULL on OOM. Free with dt_cli_free_argv. */
char **dt_cli_redacted_argv(int argc, char **argv);
void dt_cli_free_argv(char **argv);

/* Prints a JSON document (indented, as cJSON_Print) and a newline on stdout. */
typedef struct cJSON cJSON;
void dt_cli_print_json(const cJSON *json);

/* A non-negative integer option value into *out; -1 on success, else the usage error's code. */
int parse_count(const char *option, const char *value, const char *command, long long *out);

#endif
