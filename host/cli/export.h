/* export.h (cli) — detrain export: a checkpoint or model version as safetensors or ONNX. */
#ifndef DT_CLI_EXPORT_H
#define DT_CLI_EXPORT_H

extern const char dt_cli_export_help[];

/* detrain export CHECKPOINT|MODEL_REF --format F --output FILE: returns the exit code (errors
 * printed on one line, success as one line on stderr). */
int dt_cli_export(int argc, char **argv);

#endif
