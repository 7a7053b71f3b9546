/* docs.h (cli) — the man page and the bash completion, generated from the same text as
 * 'detrain help' and the config schema, so they cannot drift from the program. */
#ifndef DT_CLI_DOCS_H
#define DT_CLI_DOCS_H

#include <stdio.h>

/* One command and its help text. */
typedef struct {
    const char *command, *help;
} dt_cli_help_entry;

/* Writes detrain(1) in roff: the usage text, then every command's help. */
void dt_cli_write_man(FILE *out, const char *usage, const dt_cli_help_entry *entries, int n);

/* Writes a bash completion script: the commands, each command's options (the --words of its
 * help), config key paths after --set and --grid, files elsewhere. */
void dt_cli_write_completion(FILE *out, const dt_cli_help_entry *entries, int n);

#endif
