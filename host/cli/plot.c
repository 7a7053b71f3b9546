/* plot.c (cli) — detrain plot (cli/commands.h); the work is plot/plot.h's. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "plot/plot.h"

const char dt_cli_plot_help[] =
    "usage: detrain plot RUN_OR_SWEEP... --output FILE.svg|FILE.png [--metric M ...] [--title T]\n"
    "\n"
    "Draws the learning curves that run folders record (manifest.json, one point per epoch)\n"
    "on shared axes: x = epoch, one panel per kind of metric (loss, accuracy, learning rate).\n"
    "A sweep folder (sweep.json) stands for every run folder directly inside it. The colour\n"
    "is the run, the dash the split (train solid, val dashed, test dotted); the legend says\n"
    "\"RUN \xe2\x80\x94 metric\", RUN being the run folder's name (in a sweep, its overrides). A circle\n"
    "marks the best epoch of a run that selects one (its manifest's \"selection\"), on the\n"
    "curve of the metric it selects by.\n"
    "\n"
    "options:\n"
    "  --output FILE      the file to write (required): .svg, or .png (rendered from the same\n"
    "                     SVG by librsvg; needs librsvg2-dev at build time); written under a\n"
    "                     temporary name and renamed\n"
    "  --metric M         what to draw (repeatable, or a comma list): train_loss,\n"
    "                     train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, lr;\n"
    "                     default train_loss, val_loss (when a run has it), test_loss\n"
    "  --title T          the title (default \"Learning curves\", with the experiment's name\n"
    "                     when all runs share one)\n"
    "\n"
    "Exit codes: 0 written, 1 writing failed, 2 bad input (usage, a folder that is neither a run\n"
    "nor a sweep, a manifest that cannot be read, a metric no run has, an unknown output\n"
    "format, an output folder that is missing or not writable).\n";

/* Draws the loaded runs: the metrics resolved, the file written, one line said. */
static int plot_runs(const dt_plot_runs *runs, const bool chosen[], const char *title, const char *output,
                     dt_plot_format format) {
    dt_error err = {{0}};
    bool metrics[DT_PLOT_N_METRICS];
    dt_status status = dt_plot_metrics_resolve(runs, chosen, metrics, &err);
    if (status == DT_OK) status = dt_plot_write(runs, metrics, title, output, format, &err);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    int n_curves = 0;
    for (int r = 0; r < runs->n_runs; r++)
        for (int m = 0; m < DT_PLOT_N_METRICS; m++) n_curves += metrics[m] && runs->runs[r].has[m];
    fprintf(stderr, "detrain: wrote %s (%d curve%s of %d run%s)\n", output, n_curves, n_curves == 1 ? "" : "s",
            runs->n_runs, runs->n_runs == 1 ? "" : "s");
    return 0;
}

int dt_cli_plot(int argc, char **argv) {
    enum { L_OUTPUT, L_METRIC, L_TITLE };
    static const option_spec specs[] = {[L_OUTPUT] = {"--output", 1}, [L_METRIC] = {"--metric", 1},
                                        [L_TITLE] = {"--title", 1}};
    char **metric_args = calloc((size_t)argc + 1, sizeof *metric_args);
    if (!metric_args) return dt_cli_fail(DT_NOMEM, "out of memory");
    parsed_args args = {.sets = metric_args};
    int rc = parse_args(argc, argv, "plot", specs, DT_CLI_COUNT(specs), 1, MAX_POSITIONAL, "run or sweep folders", &args);
    if (rc < 0 && args.help) rc = (fputs(dt_cli_plot_help, stdout), 0);
    if (rc < 0 && !args.values[L_OUTPUT]) rc = dt_cli_usage_error("plot needs --output FILE.svg or FILE.png", "plot");
    dt_error err = {{0}};
    bool chosen[DT_PLOT_N_METRICS] = {false};
    for (int i = 0; rc < 0 && i < args.n_sets; i++)
        if (dt_plot_metrics_parse(metric_args[i], chosen, &err) != DT_OK) rc = dt_cli_usage_error(err.message, "plot");
    dt_plot_format format;
    dt_status status;
    if (rc < 0 && (status = dt_plot_output_check(args.values[L_OUTPUT], &format, &err)) != DT_OK)
        rc = dt_cli_fail(status, err.message);
    dt_plot_runs runs = {0};
    if (rc < 0 && (status = dt_plot_load(args.positional, args.n_positional, &runs, &err)) != DT_OK)
        rc = dt_cli_fail(status, err.message);
    if (rc < 0) rc = plot_runs(&runs, chosen, args.values[L_TITLE], args.values[L_OUTPUT], format);
    dt_plot_runs_free(&runs);
    free(metric_args);
    return rc;
}
