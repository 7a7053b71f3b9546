/* plot.h (cli) — detrain plot: learning curves of runs and sweeps as SVG or PNG. */
#ifndef DT_CLI_PLOT_H
#define DT_CLI_PLOT_H

extern const char dt_cli_plot_help[];

/* detrain plot RUN_OR_SWEEP... --output FILE [--metric M ...] [--title T]: returns the exit
 * code (errors printed on one line, success as one line on stderr). */
int dt_cli_plot(int argc, char **argv);

#endif
