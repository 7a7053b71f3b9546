/* bench.c (cli) — detrain bench (cli/commands.h); the measurements are bench/bench.h's. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cli/args.h"

int dt_cli_bench(int argc, char **argv) {
    dt_bench_opts *opts = malloc(sizeof *opts);
    if (!opts) return dt_cli_fail(DT_NOMEM, "out of memory");
    dt_error err = {{0}};
    int help = 0;
    dt_status status = dt_bench_parse_args(opts, argc - 2, argv + 2, &help, &err);
    if (status == DT_OK && help) fputs(dt_bench_help_text, stdout);
    else if (status == DT_OK) status = dt_bench_main(opts, &err);
    free(opts);
    if (status == DT_USAGE) return dt_cli_usage_error(err.message, "bench");
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}
