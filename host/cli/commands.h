/* commands.h (cli) — every command main dispatches to, and its help text. Each returns the
 * exit code: 0 done, 1 failed or a difference found, 2 bad input, 130 interrupted; what it
 * reports goes to stdout, progress and one-line errors to stderr. Nothing here exits. */
#ifndef DT_CLI_COMMANDS_H
#define DT_CLI_COMMANDS_H

/* train.c: detrain train CONFIG, detrain resume RUN_DIR (alone or as a rank of an MPI job). */
extern const char dt_cli_train_help[], dt_cli_resume_help[];
int dt_cli_train(int argc, char **argv);
int dt_cli_resume(int argc, char **argv);

/* records.c: detrain verify RUN_DIR, diff RUN_A RUN_B, inspect FILE.h5. */
extern const char dt_cli_verify_help[], dt_cli_diff_help[], dt_cli_inspect_help[];
int dt_cli_verify(int argc, char **argv);
int dt_cli_diff(int argc, char **argv);
int dt_cli_inspect(int argc, char **argv);

/* predict.c: detrain eval CHECKPOINT, predict CHECKPOINT --input SOURCE. */
extern const char dt_cli_eval_help[], dt_cli_predict_help[];
int dt_cli_eval(int argc, char **argv);
int dt_cli_predict(int argc, char **argv);

/* export.c: detrain export CHECKPOINT --format F --output FILE (success said on stderr). */
extern const char dt_cli_export_help[];
int dt_cli_export(int argc, char **argv);

/* bench.c: detrain bench [options] (its help is bench/bench.h's dt_bench_help_text). */
int dt_cli_bench(int argc, char **argv);

/* runs.c: detrain init [DIR], runs [options]. */
extern const char dt_cli_init_help[], dt_cli_runs_help[];
int dt_cli_init(int argc, char **argv);
int dt_cli_runs(int argc, char **argv);

/* registry.c: detrain registry SUBCOMMAND, lineage FILE|SHA256. */
extern const char dt_cli_registry_help[], dt_cli_lineage_help[];
int dt_cli_registry(int argc, char **argv);
int dt_cli_lineage(int argc, char **argv);

/* certificate.c: detrain key generate|list|add, certificate verify FILE. */
extern const char dt_cli_key_help[], dt_cli_certificate_help[];
int dt_cli_key(int argc, char **argv);
int dt_cli_certificate(int argc, char **argv);

/* sweep.c: detrain sweep CONFIG --grid ... | --random ... (progress on stderr, the table on stdout). */
extern const char dt_cli_sweep_help[];
int dt_cli_sweep(int argc, char **argv);

/* plot.c: detrain plot RUN_OR_SWEEP... --output FILE (success said on stderr). */
extern const char dt_cli_plot_help[];
int dt_cli_plot(int argc, char **argv);

/* bisect.c: detrain bisect A B (why two runs differ, down to the operation). */
extern const char dt_cli_bisect_help[];
int dt_cli_bisect(int argc, char **argv);

/* mlflow.c: detrain mlflow sync RUN_DIR [--mlflow URI]. */
extern const char dt_cli_mlflow_help[];
int dt_cli_mlflow(int argc, char **argv);

#endif
