/* predict.c (cli) — detrain eval and predict (cli/commands.h); the work is predict.h's. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/registry.h"
#include "run/predict.h"
#include "records/manifest.h"

const char dt_cli_eval_help[] =
    "usage: detrain eval CHECKPOINT [options]\n"
    "\n"
    "Evaluates a checkpoint's parameters: the loss (and accuracy for classifiers) on the\n"
    "config's test set, or on other data. Inputs are normalised as in training.\n"
    "\n"
    "options:\n"
    "  --data SOURCE      the data: a file whose format follows from its name (.csv,\n"
    "                     .h5/.hdf5, NumPy .npy[.gz] with labels from --labels FILE.npy,\n"
    "                     .npz holding arrays 'features' and 'labels', IDX images such\n"
    "                     as *-idx3-ubyte[.gz]), or a data-source JSON object as in a\n"
    "                     config, e.g. '{\"format\": \"csv\", \"path\": \"x.csv\",\n"
    "                     \"label_column\": 0}'\n"
    "  --labels FILE      the labels of IDX images or .npy features given with --data\n"
    "  --threads N        CPU threads\n";

const char dt_cli_predict_help[] =
    "usage: detrain predict CHECKPOINT --input SOURCE [options]\n"
    "\n"
    "Writes predictions for the samples of SOURCE (same forms as 'eval --data'; labels are\n"
    "optional: a CSV without the label column, an HDF5 file without a labels dataset, a\n"
    ".npz without 'labels', .npy features or IDX images without --labels). Classifiers\n"
    "give the class index and the softmax probabilities, regression models their outputs.\n"
    "\n"
    "options:\n"
    "  --input SOURCE     the samples (required)\n"
    "  --labels FILE      the labels file of IDX images or .npy features\n"
    "  --output FILE      where to write: .csv for CSV, .jsonl or .json for JSON lines\n"
    "                     (default: CSV on standard output)\n";

/* eval's report: the checkpoint and its step, the data, the loss (decimal and bits), the
 * accuracy of a classifier, and each data file (a note on one that changed since training). */
static void print_eval(const char *checkpoint, const dt_eval_report *r) {
    char bits[9];
    dt_float_bits_hex(r->loss, bits);
    printf("eval %s (step %llu) on %s\n", checkpoint, (unsigned long long)r->step, r->source);
    printf("  samples        %lld\n", (long long)r->n_samples);
    printf("  loss           %.9g (bits %s, %s)\n", (double)r->loss, bits, dt_loss_name(r->loss_kind));
    if (r->loss_kind == DT_LOSS_SOFTMAX_CE)
        printf("  accuracy       %.4f (%lld of %lld)\n", (double)r->correct / (double)r->n_samples,
               (long long)r->correct, (long long)r->n_samples);
    for (int i = 0; i < r->n_files; i++) {
        printf("  data           %s (%lld bytes, sha256 %s)\n", r->files[i].path, (long long)r->files[i].size_bytes,
               r->files[i].sha256);
        if (r->recorded_sha256[i][0])
            printf("  note: this file changed since training (the checkpoint records sha256 %s)\n", r->recorded_sha256[i]);
    }
}

int dt_cli_eval(int argc, char **argv) {
    enum { E_DATA, E_LABELS, E_THREADS };
    static const option_spec specs[] = {[E_DATA] = {"--data", 1}, [E_LABELS] = {"--labels", 1},
                                        [E_THREADS] = {"--threads", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "eval", specs, DT_CLI_COUNT(specs), 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_eval_help, stdout), 0;
    long long threads = 0;
    if ((rc = parse_count("--threads", args.values[E_THREADS], "eval", &threads)) >= 0) return rc;
    if (args.values[E_LABELS] && !args.values[E_DATA]) return dt_cli_usage_error("--labels goes with --data", "eval");
    char path[DT_PATH_MAX + 32];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_eval_report *report = malloc(sizeof *report);
    if (!report) return dt_cli_fail(DT_NOMEM, "out of memory");
    dt_status status = dt_eval(path, args.values[E_DATA], args.values[E_LABELS], (int)threads, report, &err);
    if (status == DT_OK) print_eval(path, report);
    free(report);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}

int dt_cli_predict(int argc, char **argv) {
    enum { P_INPUT, P_LABELS, P_OUTPUT, P_THREADS };
    static const option_spec specs[] = {[P_INPUT] = {"--input", 1}, [P_LABELS] = {"--labels", 1},
                                        [P_OUTPUT] = {"--output", 1}, [P_THREADS] = {"--threads", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "predict", specs, DT_CLI_COUNT(specs), 1, "a checkpoint file", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_predict_help, stdout), 0;
    if (!args.values[P_INPUT]) return dt_cli_usage_error("predict needs --input SOURCE", "predict");
    long long threads = 0;
    if ((rc = parse_count("--threads", args.values[P_THREADS], "predict", &threads)) >= 0) return rc;
    char path[DT_PATH_MAX + 32];
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    dt_error err = {{0}};
    dt_predictions out;
    const char *output = args.values[P_OUTPUT];
    dt_status status = dt_predict(path, args.values[P_INPUT], args.values[P_LABELS], output, (int)threads, &out, &err);
    if (status == DT_OK && !output && out.size && fwrite(out.text, 1, out.size, stdout) != out.size)
        status = dt_fail(&err, DT_IO, "cannot write to stdout");
    if (status == DT_OK && output)
        fprintf(stderr, "detrain: wrote %lld predictions to %s\n", (long long)out.n_samples, output);
    free(out.text);
    return status == DT_OK ? 0 : dt_cli_fail(status, err.message);
}
