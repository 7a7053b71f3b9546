/* config.h — the run configuration: a JSON file validated strictly against one schema.
 *
 * Every key, its type, default, range and meaning is documented in docs/config.md.
 * Unknown keys, wrong types, out-of-range values and missing required keys are
 * DT_CONFIG errors whose message names the JSON path:  config.optimizer.lr: must be > 0, got -1
 * JSON syntax errors name the file, line and column. */
#ifndef DT_CONFIG_H
#define DT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#define DT_MAX_LAYERS 32
#define DT_PATH_MAX 1024
#define DT_NAME_MAX 128
#define DT_MAX_OVERRIDES 64

typedef enum { DT_ACT_IDENTITY, DT_ACT_RELU, DT_ACT_TANH, DT_ACT_SIGMOID, DT_ACT_GELU } dt_activation;
typedef enum { DT_LOSS_SOFTMAX_CE, DT_LOSS_MSE } dt_loss_kind;
typedef enum { DT_OPT_SGD, DT_OPT_ADAM, DT_OPT_ADAMW } dt_optimizer_kind;
typedef enum { DT_SCHED_CONSTANT, DT_SCHED_STEP, DT_SCHED_COSINE } dt_schedule_kind;
typedef enum { DT_INIT_HE_UNIFORM, DT_INIT_HE_NORMAL, DT_INIT_GLOROT_UNIFORM, DT_INIT_GLOROT_NORMAL } dt_init_kind;
typedef enum { DT_FORMAT_IDX, DT_FORMAT_CSV, DT_FORMAT_HDF5, DT_FORMAT_NPY } dt_data_format;
/* The cell separator of a csv source; 0 (a zeroed source) is the comma. */
typedef enum { DT_DELIM_COMMA, DT_DELIM_SEMICOLON, DT_DELIM_TAB, DT_DELIM_SPACE } dt_csv_delimiter;
typedef enum { DT_NORM_NONE, DT_NORM_SCALE, DT_NORM_STANDARDIZE } dt_norm_kind;
typedef enum { DT_DEVICE_CPU, DT_DEVICE_CUDA, DT_DEVICE_AUTO } dt_device_kind;
typedef enum { DT_MODE_PORTABLE, DT_MODE_DETERMINISTIC, DT_MODE_FAST } dt_mode;
/* The per-epoch metrics a run can select its best epoch by (train.select.metric). */
typedef enum {
    DT_METRIC_VAL_LOSS, DT_METRIC_VAL_ACCURACY, DT_METRIC_TRAIN_LOSS, DT_METRIC_TRAIN_ACCURACY,
    DT_METRIC_TEST_LOSS, DT_METRIC_TEST_ACCURACY
} dt_metric;
typedef enum { DT_SELECT_AUTO, DT_SELECT_MIN, DT_SELECT_MAX } dt_select_mode; /* auto: min for losses */

/* One input dataset: where it lives and how much of it to use. Paths are resolved
 * relative to the config file's directory when they are not absolute. */
typedef struct {
    dt_data_format format;
    char path[DT_PATH_MAX];        /* idx: the images file; csv, hdf5: the file; npy: a .npy or .npz file */
    char labels_path[DT_PATH_MAX]; /* idx: the labels file; npy: a .npy (or .npz) of labels, "" = from
                                      the .npz at path */
    char label_column[DT_NAME_MAX];/* csv only: the name (with header) or 0-based index of the label column */
    bool header;                   /* csv only: first line names the columns */
    dt_csv_delimiter delimiter;    /* csv only: what separates cells */
    char features_dataset[DT_NAME_MAX]; /* hdf5 only: dataset of shape (n, features) */
    char labels_dataset[DT_NAME_MAX];   /* hdf5 only: dataset of shape (n) or (n, targets) */
    char features_array[DT_NAME_MAX];   /* npy only: the .npz member (without .npy) of shape (n, features) */
    char labels_array[DT_NAME_MAX];     /* npy only: the .npz member of shape (n) or (n, targets) */
    int64_t limit;                 /* use the first `limit` samples; 0 = all */
} dt_data_source;

typedef struct {
    int32_t units;
    dt_activation activation;
    float dropout;                 /* probability of zeroing an output during training, [0, 1) */
} dt_layer_config;

typedef struct {
    uint64_t seed;
    struct {
        dt_data_source train, test;
        dt_data_source validation;   /* used when has_validation */
        bool has_validation;         /* the config gives data.validation */
        float validation_split;      /* used when has_validation_split: the share held out, (0, 1) */
        bool has_validation_split;   /* the config gives data.validation_split */
        dt_norm_kind normalize;
        float scale, shift;        /* DT_NORM_SCALE: x * scale + shift */
    } data;
    struct {
        int32_t input_size;
        int32_t n_layers;          /* >= 1; the last layer is the output */
        dt_layer_config layers[DT_MAX_LAYERS];
        dt_init_kind init;
    } model;
    struct {
        dt_loss_kind kind;
    } loss;
    struct {
        dt_optimizer_kind kind;
        float lr;
        float momentum;            /* sgd */
        bool nesterov;             /* sgd */
        float beta1, beta2, eps;   /* adam, adamw */
        float weight_decay;        /* sgd, adam: L2 added to the gradient; adamw: decoupled */
        float clip_norm;           /* clip by global gradient norm; 0 = off */
    } optimizer;
    struct {
        dt_schedule_kind kind;
        int64_t warmup_steps;      /* linear warm-up from lr/warmup_steps to lr */
        int64_t step_size;         /* step: multiply by gamma every step_size steps */
        float gamma;               /* step */
        float min_lr;              /* cosine: final learning rate */
    } schedule;
    struct {
        int32_t epochs;
        int32_t batch_size;
        bool shuffle;
        bool drop_last;            /* drop the last incomplete batch of each epoch */
        int32_t eval_batch_size;
        int32_t microbatches;      /* split of each batch, summed in a fixed tree (docs/numerics.md) */
        struct {
            bool given;
            dt_metric metric;
            dt_select_mode mode;
        } select;                  /* the best epoch's metric; see dt_config_selection */
        struct {
            bool given;            /* off unless the config gives it */
            int32_t patience;      /* epochs without improvement before the run stops */
            float min_delta;       /* an improvement is better than the best by more than this */
        } early_stopping;
    } train;
    struct {
        dt_device_kind device;
        dt_mode mode;
        int32_t threads;           /* 0 = number of available cores */
        bool tf32;                 /* deterministic mode on CUDA: let cuBLAS use TF32 tensor ops */
        int32_t gpu;               /* CUDA device index; -1 = the process's local rank on its machine */
    } runtime;
    struct {
        int64_t every_steps;       /* write a checkpoint every this many steps; 0 = off */
        bool every_epoch;          /* write a checkpoint after every epoch */
        int32_t keep;              /* keep the newest this many (final.h5 is always kept) */
    } checkpoint;

    char experiment[DT_NAME_MAX]; /* the experiment the run belongs to; "" = the config file's stem */
    struct {
        bool given;                /* the config has the section (written back only then) */
        char uri[DT_PATH_MAX];     /* MLflow server; "" = $MLFLOW_TRACKING_URI, else no tracking */
        char experiment[DT_NAME_MAX]; /* MLflow experiment; "" = $MLFLOW_EXPERIMENT_NAME, else `experiment` */
        bool tls_verify;           /* verify the server's certificate (false is recorded as an opt-out) */
        int64_t step_loss_every;   /* also log the step loss every this many steps; 0 = off */
    } tracking;                    /* never changes the run's bits (docs/tracking.md) */

    /* Not part of the JSON: where it came from. */
    char source_path[DT_PATH_MAX]; /* the config file as given */
    char name[DT_NAME_MAX];        /* file name without directory and .json */
    int n_overrides;
    char overrides[DT_MAX_OVERRIDES][DT_PATH_MAX]; /* "--set" arguments, as given */
} dt_config;

/* Loads, overrides and validates a config file. `overrides` are "path=value" strings
 * (value parsed as JSON when it parses, else taken as a string), applied before
 * validation, in order. Paths use dots and [i]: optimizer.lr, model.layers[1].units.
 * Returns DT_OK, DT_IO (file missing/unreadable), DT_USAGE (malformed override:
 * no '=', empty path) or DT_CONFIG, with err naming file and JSON path. */
dt_status dt_config_load(dt_config *cfg, const char *path, int n_overrides, char *const *overrides,
                         dt_error *err);

/* Same as dt_config_load but from a JSON text; `origin` names it in messages. */
dt_status dt_config_parse(dt_config *cfg, const char *json_text, const char *origin, const char *base_dir,
                          int n_overrides, char *const *overrides, dt_error *err);

/* The resolved config as canonical JSON (every key, defaults filled, schema order,
 * 2-space indent, floats printed so they round-trip). Caller frees with free(). NULL on OOM. */
char *dt_config_to_json(const dt_config *cfg);

/* Whether the run has a validation set (data.validation or data.validation_split). */
bool dt_config_has_validation(const dt_config *cfg);

/* The metric and direction a run selects its best epoch by: train.select when given, else
 * val_loss / min when the run has a validation set. Returns false when it selects nothing. */
bool dt_config_selection(const dt_config *cfg, dt_metric *metric, dt_select_mode *mode);

/* Calls fn with every key path a config may hold, in schema order ("seed", "data.train.path",
 * "model.layers[0].units", ...): what --set completes (detrain help --completion). */
void dt_config_key_paths(void (*fn)(void *ctx, const char *path), void *ctx);

/* The run's experiment: cfg->experiment, or the config file's stem when it is "". */
const char *dt_config_experiment(const dt_config *cfg);

/* Names of enum values as written in JSON ("relu", "adamw", "portable", ...). */
const char *dt_activation_name(dt_activation a);
const char *dt_loss_name(dt_loss_kind k);
const char *dt_optimizer_name(dt_optimizer_kind k);
const char *dt_schedule_name(dt_schedule_kind k);
const char *dt_init_name(dt_init_kind k);
const char *dt_format_name(dt_data_format f);
const char *dt_delimiter_name(dt_csv_delimiter d); /* ",", ";", "\t" (a tab), " " */
const char *dt_norm_name(dt_norm_kind k);
const char *dt_device_name(dt_device_kind d);
const char *dt_mode_name(dt_mode m);
const char *dt_metric_name(dt_metric m);
const char *dt_select_mode_name(dt_select_mode m);

#endif
