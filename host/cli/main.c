/* main.c — the detrain command line: the usage and help tables, the signals, and the dispatch to
 * the commands of host/cli/ (cli/commands.h). The only place that exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/docs.h"
#include "core/fsutil.h"
#include "core/status.h"
#include "version.h"

static const char usage_text[] =
    "usage: detrain <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG [options]     train a model from a JSON config (see 'detrain help train')\n"
    "  resume RUN_DIR             continue an interrupted run from its newest checkpoint\n"
    "  verify RUN_DIR             re-run a recorded run and compare it bit for bit with its record\n"
    "  diff RUN_A RUN_B           what differs between two runs: config, code, data, machine, results\n"
    "  bisect A B                 why two runs of one config differ, down to the operation\n"
    "  inspect FILE.h5            a checkpoint's metadata, tensors and digests (each one verified)\n"
    "  eval CHECKPOINT            loss and accuracy of a checkpoint on the test set or other data\n"
    "  predict CHECKPOINT         predictions for new samples (CSV or JSON lines)\n"
    "  export CHECKPOINT          the model as safetensors (PyTorch) or ONNX (ONNX Runtime)\n"
    "  mlflow sync RUN_DIR        bring a run's MLflow tracking up to date (see 'detrain help mlflow')\n"
    "  bench [options]            measure what each mode costs and check its promise bit for bit\n"
    "  init [DIR]                 make DIR the home of a project: DIR/.detrain holds its runs\n"
    "                             index, registry and run folders (see 'detrain help init')\n"
    "  runs [options]             list, filter and sort the runs of the project's store\n"
    "  registry COMMAND           versions of named models, aliases, lineage, reproduce (see help)\n"
    "  lineage FILE|SHA256        the runs and model versions that used a data file\n"
    "  key COMMAND                the Ed25519 keys that sign reproducibility certificates\n"
    "  certificate verify FILE    check signed reproducibility certificates (certificates.json)\n"
    "  sweep CONFIG [options]     train a config over a grid or random draws of its keys\n"
    "  plot RUN_OR_SWEEP...       learning curves of runs and sweeps as SVG or PNG\n"
    "  help [COMMAND]             show help for a command (--man: the man page, --completion:\n"
    "                             the bash completion script; the install has both)\n"
    "\n"
    "options:\n"
    "  -h, --help                 show this help\n"
    "  --version                  show version and git commit\n"
    "\n"
    "Where a checkpoint goes (eval, predict, inspect, export), a run folder means its best.h5, else\n"
    "final.h5, else its newest checkpoint. Wherever a checkpoint or run folder goes (eval, predict,\n"
    "inspect, diff, export), a registered model version may go instead: NAME@ALIAS or\n"
    "NAME/VERSION ('detrain help registry').\n"
    "\n"
    "Exit codes: 0 done, 1 failure or difference found, 2 bad input (usage, config, data,\n"
    "checkpoint), 130 interrupted (a checkpoint was written; continue with 'detrain resume').\n";

/* Every command's help: 'detrain help COMMAND', the man page and the completion. */
static const dt_cli_help_entry help_table[] = {
    {"train", dt_cli_train_help},     {"resume", dt_cli_resume_help},   {"verify", dt_cli_verify_help},
    {"diff", dt_cli_diff_help},       {"inspect", dt_cli_inspect_help}, {"eval", dt_cli_eval_help},
    {"predict", dt_cli_predict_help}, {"export", dt_cli_export_help},   {"bench", dt_bench_help_text},
    {"init", dt_cli_init_help},       {"runs", dt_cli_runs_help},       {"registry", dt_cli_registry_help},
    {"lineage", dt_cli_lineage_help}, {"sweep", dt_cli_sweep_help},     {"plot", dt_cli_plot_help},
    {"mlflow", dt_cli_mlflow_help},   {"bisect", dt_cli_bisect_help},
    {"key", dt_cli_key_help},         {"certificate", dt_cli_certificate_help}};
#define N_HELP ((int)(sizeof help_table / sizeof help_table[0]))

/* The help text of a command, or NULL. */
static const char *help_for(const char *command) {
    for (int i = 0; i < N_HELP; i++)
        if (!strcmp(command, help_table[i].command)) return help_table[i].help;
    return NULL;
}

/* detrain help [COMMAND | --man | --completion]. */
static int cmd_help(int argc, char **argv) {
    if (argc < 3) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(argv[2], "--man")) return dt_cli_write_man(stdout, usage_text, help_table, N_HELP), 0;
    if (!strcmp(argv[2], "--completion")) return dt_cli_write_completion(stdout, help_table, N_HELP), 0;
    const char *text = help_for(argv[2]);
    if (text) {
        fputs(text, stdout);
        return 0;
    }
    char message[256];
    snprintf(message, sizeof message, "no help for unknown command '%s'", argv[2]);
    return dt_cli_usage_error(message, NULL);
}

/* Every command: its name and its function (cli/commands.h). */
static const struct {
    const char *name;
    int (*run)(int, char **);
} commands[] = {{"help", cmd_help},           {"train", dt_cli_train},     {"resume", dt_cli_resume},
                {"verify", dt_cli_verify},     {"diff", dt_cli_diff},       {"inspect", dt_cli_inspect},
                {"eval", dt_cli_eval},         {"predict", dt_cli_predict}, {"export", dt_cli_export},
                {"bench", dt_cli_bench},       {"init", dt_cli_init},       {"runs", dt_cli_runs},
                {"registry", dt_cli_registry}, {"lineage", dt_cli_lineage}, {"sweep", dt_cli_sweep},
                {"plot", dt_cli_plot},         {"mlflow", dt_cli_mlflow},   {"bisect", dt_cli_bisect},
                {"key", dt_cli_key},           {"certificate", dt_cli_certificate}};

/* SIGHUP, SIGINT or SIGTERM outside a run (a run stops at a checkpoint instead: train.c):
 * the process ends as the signal says, without leaving its temporary folders or a half-written
 * temporary file behind. */
static void on_fatal_signal(int sig) {
    dt_remove_temp_dirs_now();
    const char *tmp = dt_write_in_progress();
    if (tmp) unlink(tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Dispatches to the command; the only place that exits. */
int main(int argc, char **argv) {
    /* A reader that stops early (detrain ... | head) makes writes fail with EPIPE instead of
     * killing the process, so every command still reaches its cleanup (temporary folders,
     * locks); the output it could not write is lost either way. */
    signal(SIGPIPE, SIG_IGN);
    const int fatal[] = {SIGHUP, SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction sa = {.sa_handler = on_fatal_signal}, old;
        sigemptyset(&sa.sa_mask);
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) /* nohup's stays ignored */
            sigaction(fatal[i], &sa, NULL);
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return dt_status_exit_code(DT_USAGE);
    }
    const char *command = argv[1];
    if (!strcmp(command, "-h") || !strcmp(command, "--help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(command, "--version")) {
        printf("detrain %s (commit %s%s)\n", DT_VERSION, DT_GIT_COMMIT, DT_GIT_DIRTY ? ", dirty" : "");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(command, commands[i].name)) return commands[i].run(argc, argv);
    char message[256];
    snprintf(message, sizeof message, "unknown command '%s'", command);
    return dt_cli_usage_error(message, NULL);
}
