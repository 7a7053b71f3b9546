/* mlmodel.c — a folder holding a model.onnx made an MLflow model of the onnx flavour (export.h):
 * MLmodel, conda.yaml, python_env.yaml and requirements.txt, with the keys and layout
 * mlflow.onnx.save_model of MLflow 3.17.2 writes, so that mlflow.pyfunc.load_model and
 * mlflow.onnx.load_model load what a run logged and the registry bridge registered.
 *
 * Every value comes from the checkpoint or is a fact of this build, never from the clock or a
 * random source: model_uuid is the parameter digest's first 32 hex digits (the same model, the
 * same uuid; it also finds the model's run by its detrain.params_sha256 tag),
 * utc_time_created the run's end as its manifest records it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_parts.h"
#include "core/fsutil.h"
#include "core/text.h"

/* The Python packages the model was tested with: the pins of tests/python/requirements.txt
 * (tests/mlflow.sh checks that they agree), as MLflow infers them for an ONNX model. */
static const char *const requirements[] = {"mlflow==3.17.2", "numpy==1.26.4", "onnx==1.23.2", "onnxruntime==1.32.0"};
#define N_REQUIREMENTS (sizeof requirements / sizeof requirements[0])
#define MLFLOW_VERSION "3.17.2"

/* The Python they were tested on: Debian 12's python3 (the test environment is a venv over it,
 * tests/pyenv.sh); numpy 1.26.4 has no wheel past Python 3.12. Major.minor, as MLflow compares
 * it. Quoted in YAML, where 3.10 would read as the number 3.1. */
#define PYTHON_VERSION "3.11"

/* The ONNX release whose onnx.proto model.onnx is written against (IR version 8, opset
 * DT_EXPORT_ONNX_OPSET: Debian 12's libonnx-dev), for the flavour's onnx_version. */
#define ONNX_FORMAT_VERSION "1.12.0"

/* Appends s as a YAML double-quoted scalar: JSON's string escapes are YAML's too. */
static void yaml_string(dt_text *t, const char *s) {
    cJSON *item = cJSON_CreateString(s);
    char *quoted = item ? cJSON_PrintUnformatted(item) : NULL;
    if (quoted) dt_text_printf(t, "%s", quoted);
    else t->failed = true;
    free(quoted);
    cJSON_Delete(item);
}

/* "2026-11-29 12:00:00" (as MLflow prints a UTC time) from the manifest's "2026-11-29T12:00:00Z"
 * into out (>= 20 bytes); 0, or -1 when `iso` is not that form. */
static int mlflow_time(const char *iso, char *out, size_t size) {
    int year, month, day, hour, minute, second;
    char zone = 0, end = 0;
    if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &year, &month, &day, &hour, &minute, &second, &zone,
                       &end) != 7 || zone != 'Z')
        return -1;
    snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second);
    return 0;
}

/* Appends the signature: one float32 tensor (N, input_size) named as the ONNX graph's input,
 * one (N, outputs) named as its output. MLflow stores each as a JSON string. */
static void append_signature(dt_text *t, const dt_checkpoint *ck) {
    const int classifier = ck->cfg->loss.kind == DT_LOSS_SOFTMAX_CE;
    char spec[256];
    dt_text_printf(t, "signature:\n");
    snprintf(spec, sizeof spec,
             "[{\"name\": \"input\", \"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, %d]}}]",
             ck->net.input_size);
    dt_text_printf(t, "  inputs: ");
    yaml_string(t, spec);
    snprintf(spec, sizeof spec,
             "[{\"name\": \"%s\", \"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, %d]}}]",
             classifier ? "probabilities" : "outputs", ck->net.n_outputs);
    dt_text_printf(t, "\n  outputs: ");
    yaml_string(t, spec);
    dt_text_printf(t, "\n  params: null\n");
}

/* The MLmodel text (caller frees), NULL on OOM. Keys in the order MLflow writes them (sorted). */
static char *mlmodel_text(const dt_checkpoint *ck, const char *finished_at, long long model_bytes) {
    dt_text t = {0};
    dt_text_printf(&t, "artifact_path: model\n"
                       "flavors:\n"
                       "  onnx:\n"
                       "    code: null\n"
                       "    data: model.onnx\n"
                       "    onnx_session_options: null\n"
                       "    onnx_version: %s\n"
                       "    providers:\n"
                       "    - CPUExecutionProvider\n"
                       "  python_function:\n"
                       "    data: model.onnx\n"
                       "    env:\n"
                       "      conda: conda.yaml\n"
                       "      virtualenv: python_env.yaml\n"
                       "    loader_module: mlflow.onnx\n"
                       "    python_version: '%s'\n"
                       "is_signature_from_type_hint: false\n",
                   ONNX_FORMAT_VERSION, PYTHON_VERSION);
    /* detrain's identity of the model, the pairs model.onnx and model.safetensors carry */
    cJSON *meta = dt_export_metadata(ck, NULL);
    const cJSON *item;
    if (!meta) t.failed = true;
    dt_text_printf(&t, "metadata:\n");
    cJSON_ArrayForEach(item, meta) {
        dt_text_printf(&t, "  %s: ", item->string);
        yaml_string(&t, cJSON_GetStringValue(item));
        dt_text_printf(&t, "\n");
    }
    cJSON_Delete(meta);
    char uuid[33];
    snprintf(uuid, sizeof uuid, "%.32s", ck->params_sha256);
    /* model_id: null, prompts: null: no MLflow LoggedModel, no prompts (as save_model writes) */
    dt_text_printf(&t, "mlflow_version: %s\nmodel_id: null\nmodel_size_bytes: %lld\nmodel_uuid: %s\nprompts: null\n",
                   MLFLOW_VERSION, model_bytes, uuid);
    append_signature(&t, ck);
    dt_text_printf(&t, "type_hint_from_example: false\n");
    char created[32];
    if (mlflow_time(finished_at, created, sizeof created) == 0) /* else MLflow takes the load time */
        dt_text_printf(&t, "utc_time_created: '%s'\n", created);
    return dt_text_take(&t);
}

/* Writes `text` (NULL: out of memory) to dir/name atomically, then frees it. */
static dt_status write_text(const char *dir, const char *name, char *text, dt_error *err) {
    char path[DT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    dt_status status = text ? dt_write_file_atomic(path, text, strlen(text), err)
                            : dt_fail(err, DT_NOMEM, "out of memory writing %s", path);
    free(text);
    return status;
}

/* The three environment files: requirements.txt (the pins), python_env.yaml (virtualenv:
 * Python and -r requirements.txt) and conda.yaml (the same pins under pip). */
static dt_status write_environment(const char *dir, dt_error *err) {
    dt_text requirements_txt = {0}, conda = {0}, python_env = {0};
    dt_text_printf(&conda, "channels:\n- conda-forge\ndependencies:\n- python=%s\n- pip\n- pip:\n", PYTHON_VERSION);
    for (size_t i = 0; i < N_REQUIREMENTS; i++) {
        dt_text_printf(&requirements_txt, "%s\n", requirements[i]);
        dt_text_printf(&conda, "  - %s\n", requirements[i]);
    }
    dt_text_printf(&conda, "name: mlflow-env\n");
    dt_text_printf(&python_env, "python: '%s'\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\n"
                                "dependencies:\n- -r requirements.txt\n", PYTHON_VERSION);
    char *texts[3] = {dt_text_take(&requirements_txt), dt_text_take(&python_env), dt_text_take(&conda)};
    static const char *const names[3] = {"requirements.txt", "python_env.yaml", "conda.yaml"};
    dt_status status = DT_OK;
    for (int i = 0; i < 3; i++) {
        if (status == DT_OK) status = write_text(dir, names[i], texts[i], err);
        else free(texts[i]);
    }
    return status;
}

dt_status dt_export_mlflow_model(const dt_checkpoint *ck, const char *dir, const char *finished_at,
                                 long long model_bytes, dt_error *err) {
    dt_status status = write_environment(dir, err);
    if (status != DT_OK) return status;
    return write_text(dir, "MLmodel", mlmodel_text(ck, finished_at, model_bytes), err); /* last: it names the rest */
}
