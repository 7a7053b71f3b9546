/* export.h — a checkpoint's model in the formats the ecosystem loads: safetensors (PyTorch,
 * Hugging Face) and ONNX (ONNX Runtime, Triton).
 *
 * Both carry the parameters as they are (float32, weights (out, in), bias (out)) and what
 * identifies them: detrain's version, the parameter digest and the config digest.
 *   safetensors  tensors layers.<l>.weight / layers.<l>.bias (PyTorch nn.Linear names and
 *                shapes), normalize.mean / normalize.std (float64) for standardize; the
 *                architecture and the normalization in the header's __metadata__.
 *   onnx         the whole inference graph on the raw features: the normalization as detrain
 *                computes it (scale: two float ops; standardize: in double), Gemm and the
 *                activation per layer, Softmax for classifiers (output "probabilities"),
 *                else output "outputs". Opset 17, IR version 8.
 * The files are written with dt_write_file_atomic: nothing is left behind on failure. */
#ifndef DT_EXPORT_H
#define DT_EXPORT_H

#include <stddef.h>

#include "records/checkpoint.h"
#include "core/status.h"

typedef enum { DT_EXPORT_SAFETENSORS, DT_EXPORT_ONNX } dt_export_format;

/* The ONNX operator set the graph is written against: the newest of Debian 12's onnx.proto
 * (ONNX 1.12), which every current ONNX Runtime runs (tests: 1.32), and it has every
 * operator the graph needs (Erf, Softmax over the last axis); Gelu would need 20. */
#define DT_EXPORT_ONNX_OPSET 17

/* The format named `name` ("safetensors", "onnx") into *format. DT_USAGE naming the unknown
 * name and the known ones. */
dt_status dt_export_format_parse(const char *name, dt_export_format *format, dt_error *err);

/* The name of a format ("safetensors", "onnx"); never NULL. */
const char *dt_export_format_name(dt_export_format format);

/* Reads the checkpoint (every tensor digest verified) and writes its model to `output` in
 * `format`. certificates: NULL, or a registered version's reproducibility certificates as a
 * JSON array text (registry/certificate.h), carried in the model's metadata as
 * "detrain.certificates" and written beside it as certificates.json (after the model).
 * DT_IO when output's folder does not exist or cannot be written (checked before
 * the checkpoint is read), DT_USAGE when output is the checkpoint itself, DT_CHECKPOINT for a
 * damaged checkpoint, DT_WRITE when writing fails; output is untouched on failure. */
dt_status dt_export_checkpoint(const char *checkpoint, dt_export_format format, const char *output,
                               const char *certificates, dt_error *err);

/* The serialized model of a checkpoint that was read, into a malloc'ed buffer (*data, *size;
 * the caller frees); certificates as dt_export_checkpoint's (NULL: none). `origin` names the
 * checkpoint in messages. DT_NOMEM, or DT_INTERNAL for a model the format cannot hold. */
dt_status dt_export_safetensors(const dt_checkpoint *ck, const char *origin, const char *certificates,
                                unsigned char **data, size_t *size, dt_error *err);
dt_status dt_export_onnx(const dt_checkpoint *ck, const char *origin, const char *certificates, unsigned char **data,
                         size_t *size, dt_error *err);

/* Makes `dir`, which holds the model.onnx of ck, an MLflow model of the onnx flavour, as
 * mlflow.onnx.save_model (MLflow 3.17.2) would: requirements.txt, python_env.yaml, conda.yaml
 * (the pins it was tested with), then MLmodel (the onnx and python_function flavours, the
 * signature: float32 "input" (-1, input_size) -> "probabilities" or "outputs"; detrain's
 * metadata; model_uuid from the parameter digest). finished_at: the run's end as its manifest
 * records it ("2026-11-29T12:00:00Z"; NULL or "": utc_time_created left out); model_bytes:
 * the size of the model files in dir. DT_NOMEM, or DT_WRITE naming the file; MLmodel is
 * written last, so a folder with one has the rest. */
dt_status dt_export_mlflow_model(const dt_checkpoint *ck, const char *dir, const char *finished_at,
                                 long long model_bytes, dt_error *err);

/* A checkpoint's model in every format (model.onnx, model.safetensors) and, beside the ONNX
 * file, the MLflow model files (dt_export_mlflow_model; the time from the manifest of the
 * checkpoint's folder, when it has one), for logging it with a run: the checkpoint read once,
 * the files in a new folder under $TMPDIR. What fails is left out (this serves a log, not an
 * export the user asked for): out->n counts the files. */
typedef struct {
    char dir[DT_PATH_MAX];         /* "" when none could be made */
    int n;                         /* the files written into it */
} dt_export_models_dir;
int dt_export_models(const char *checkpoint, dt_export_models_dir *out);

/* Removes the folder and its files. */
void dt_export_models_remove(dt_export_models_dir *d);

#endif
