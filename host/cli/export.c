/* export.c (cli) — detrain export (cli/commands.h); the work is export/export.h's. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/certificate.h"
#include "cli/registry.h"
#include "export/export.h"

const char dt_cli_export_help[] =
    "usage: detrain export CHECKPOINT --format safetensors|onnx --output FILE\n"
    "\n"
    "Writes a checkpoint's model (every tensor digest checked first) in a format other tools\n"
    "load. CHECKPOINT may be a registered model version (NAME@ALIAS, NAME/VERSION).\n"
    "  safetensors  the parameters with PyTorch nn.Linear names and shapes (layers.0.weight\n"
    "               (out, in), layers.0.bias, ...; float32), the standardize moments\n"
    "               (normalize.mean, normalize.std; float64), and in the header's metadata the\n"
    "               architecture, the normalization, detrain's version and the parameter and\n"
    "               config digests. README.md shows the PyTorch module that loads it.\n"
    "  onnx         the whole inference graph (opset 17) for ONNX Runtime, Triton, ...: input\n"
    "               'input' (N, input_size), the raw features; the normalization as detrain\n"
    "               computes it; output 'probabilities' (softmax) for classifiers, else\n"
    "               'outputs'; the same metadata in metadata_props.\n"
    "A model version's reproducibility certificates ('detrain help certificate') go with it:\n"
    "in the metadata as detrain.certificates (a JSON array), and beside the output as\n"
    "certificates.json (the valid ones, when it has any; 'detrain certificate verify' checks\n"
    "them anywhere).\n"
    "\n"
    "options:\n"
    "  --format F         safetensors or onnx (required)\n"
    "  --output FILE      the file to write (required); written under a temporary name and\n"
    "                     renamed, so a failure leaves nothing behind\n"
    "\n"
    "Exit codes: 0 written, 1 writing failed, 2 bad input (usage, a damaged checkpoint, an\n"
    "unknown model version, an output folder that is missing or not writable).\n";

int dt_cli_export(int argc, char **argv) {
    enum { X_FORMAT, X_OUTPUT };
    static const option_spec specs[] = {[X_FORMAT] = {"--format", 1}, [X_OUTPUT] = {"--output", 1}};
    parsed_args args;
    char *scratch[1];
    int rc = parse_simple(argc, argv, "export", specs, DT_CLI_COUNT(specs), 1, "a checkpoint or model version", &args, scratch);
    if (rc >= 0) return rc;
    if (args.help) return fputs(dt_cli_export_help, stdout), 0;
    if (!args.values[X_FORMAT]) return dt_cli_usage_error("export needs --format safetensors|onnx", "export");
    if (!args.values[X_OUTPUT]) return dt_cli_usage_error("export needs --output FILE", "export");
    dt_error err = {{0}};
    dt_export_format format;
    if (dt_export_format_parse(args.values[X_FORMAT], &format, &err) != DT_OK)
        return dt_cli_usage_error(err.message, "export");
    char path[DT_PATH_MAX + 32], *certificates = NULL;
    if ((rc = dt_cli_checkpoint(args.positional[0], path, sizeof path)) >= 0) return rc;
    if ((rc = dt_cli_export_certificates(args.positional[0], &certificates)) >= 0) return rc;
    dt_status status = dt_export_checkpoint(path, format, args.values[X_OUTPUT], certificates, &err);
    free(certificates);
    if (status != DT_OK) return dt_cli_fail(status, err.message);
    fprintf(stderr, "detrain: wrote %s (%s of %s)\n", args.values[X_OUTPUT], dt_export_format_name(format),
            args.positional[0]);
    return 0;
}
