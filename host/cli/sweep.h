/* sweep.h (cli) — detrain sweep: a config trained over a grid or random draws of its keys. */
#ifndef DT_CLI_SWEEP_H
#define DT_CLI_SWEEP_H

extern const char dt_cli_sweep_help[];

/* detrain sweep CONFIG --grid KEY=V1,V2,... | --random KEY=LO:HI[:log] --trials N [options]:
 * returns the exit code (0 every trial completed, 1 a trial failed, 2 bad input, 130
 * interrupted); progress on stderr, the results table on stdout. */
int dt_cli_sweep(int argc, char **argv);

#endif
