/* main.c — the detrain command line. The only place that prints errors and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "status.h"
#include "train.h"
#include "version.h"

static const char *usage_text =
    "usage: detrain <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG [options]   train a model from a JSON config (see 'detrain help train')\n"
    "  help [COMMAND]           show help\n"
    "\n"
    "options:\n"
    "  -h, --help               show this help\n"
    "  --version                show version and git commit\n";

static const char *train_help_text =
    "usage: detrain train CONFIG [options]\n"
    "\n"
    "Trains the model described by CONFIG (JSON; every key in docs/config.md) and leaves a\n"
    "run folder with manifest.json (config, seeds, data digests, environment, metrics,\n"
    "parameter digest) and trace.jsonl (every step's loss, with its exact bits).\n"
    "\n"
    "options:\n"
    "  --set PATH=VALUE   override a config key (repeatable), e.g. --set optimizer.lr=0.003,\n"
    "                     --set model.layers[0].units=512; validated like the file\n"
    "  --threads N        CPU threads (same as --set runtime.threads=N; 0 = all cores)\n"
    "  --device D         cpu, cuda or auto (same as --set runtime.device=D)\n"
    "  --mode M           portable, deterministic or fast (same as --set runtime.mode=M)\n"
    "  --out DIR          run folder (default checkpoints/<config name>-<UTC time>)\n"
    "  --quiet            no progress output\n"
    "\n"
    "Exit codes: 0 done, 1 failure during training, 2 bad input (usage, config, data).\n";

/* Prints the one-line error and returns the exit code. */
static int fail(dt_status status, const char *message) {
    fprintf(stderr, "detrain: error: %s\n", message);
    return dt_status_exit_code(status);
}

static int usage_error(const char *message, const char *hint_command) {
    fprintf(stderr, "detrain: %s (see 'detrain help%s%s')\n", message, hint_command ? " " : "",
            hint_command ? hint_command : "");
    return dt_status_exit_code(DT_USAGE);
}

static int cmd_help(int argc, char **argv) {
    if (argc < 3) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[2], "train") == 0) {
        fputs(train_help_text, stdout);
        return 0;
    }
    char message[256];
    snprintf(message, sizeof message, "no help for unknown command '%s'", argv[2]);
    return usage_error(message, NULL);
}

static int cmd_train(int argc, char **argv) {
    const char *config_path = NULL, *out_dir = NULL;
    int quiet = 0;
    char **overrides = calloc((size_t)argc + 1, sizeof(char *));
    char *owned[3] = {NULL, NULL, NULL}; /* overrides made from --threads, --device, --mode */
    int n_overrides = 0, n_owned = 0, rc = 0;
    if (!overrides) return fail(DT_NOMEM, "out of memory");
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *shorthand = !strcmp(arg, "--threads") ? "runtime.threads"
                                : !strcmp(arg, "--device") ? "runtime.device"
                                : !strcmp(arg, "--mode")   ? "runtime.mode"
                                                           : NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(train_help_text, stdout);
            goto done;
        } else if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q")) {
            quiet = 1;
        } else if (!strcmp(arg, "--set") || !strcmp(arg, "--out") || shorthand) {
            if (i + 1 >= argc) {
                char message[128];
                snprintf(message, sizeof message, "option '%s' needs a value", arg);
                rc = usage_error(message, "train");
                goto done;
            }
            const char *value = argv[++i];
            if (!strcmp(arg, "--set")) overrides[n_overrides++] = (char *)value;
            else if (!strcmp(arg, "--out")) out_dir = value;
            else {
                size_t len = strlen(shorthand) + strlen(value) + 2;
                char *text = malloc(len);
                if (!text || n_owned >= 3) {
                    free(text);
                    rc = usage_error("repeated --threads/--device/--mode", "train");
                    goto done;
                }
                snprintf(text, len, "%s=%s", shorthand, value);
                owned[n_owned++] = text;
                overrides[n_overrides++] = text;
            }
        } else if (arg[0] == '-' && arg[1] != '\0') {
            char message[256];
            snprintf(message, sizeof message, "unknown option '%s'", arg);
            rc = usage_error(message, "train");
            goto done;
        } else if (!config_path) {
            config_path = arg;
        } else {
            char message[256];
            snprintf(message, sizeof message, "unexpected argument '%s' (one config file only)", arg);
            rc = usage_error(message, "train");
            goto done;
        }
    }
    if (!config_path) {
        rc = usage_error("train needs a config file", "train");
        goto done;
    }
    {
        dt_error err = {{0}};
        dt_config *cfg = calloc(1, sizeof *cfg);
        if (!cfg) {
            rc = fail(DT_NOMEM, "out of memory");
            goto done;
        }
        dt_status status = dt_config_load(cfg, config_path, n_overrides, overrides, &err);
        if (status == DT_OK) {
            dt_train_opts opts = {quiet, out_dir, argc, argv};
            dt_train_summary summary;
            status = dt_train(cfg, &opts, &summary, &err);
            if (status == DT_OK) {
                if (summary.test_accuracy == summary.test_accuracy)
                    printf("final: test_accuracy %.4f  test_loss %.6f  time %.1f s\n", summary.test_accuracy,
                           summary.test_loss, summary.seconds);
                else
                    printf("final: test_loss %.6f  time %.1f s\n", summary.test_loss, summary.seconds);
                printf("params_sha256 %s\n", summary.params_sha256);
                printf("run %s\n", summary.run_dir);
            }
        }
        free(cfg);
        if (status != DT_OK) rc = fail(status, err.message);
    }
done:
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    free(overrides);
    return rc;
}

int main(int argc, char **argv) {
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
    if (!strcmp(command, "help")) return cmd_help(argc, argv);
    if (!strcmp(command, "train")) return cmd_train(argc, argv);
    char message[256];
    snprintf(message, sizeof message, "unknown command '%s'", command);
    return usage_error(message, NULL);
}
