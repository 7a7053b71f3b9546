/* config.c — the run configuration, driven by one schema table.
 *
 * Each key of docs/config.md is one row of a key_spec table: its name, type, where it
 * lives in dt_config, default, range and which data formats it applies to. The same
 * tables drive validation (unknown keys, types, ranges, required keys), the defaults,
 * and dt_config_to_json (schema order), so the three cannot disagree; tests/test_config.c
 * checks that docs/config.md names every key with the default printed here.
 *
 * Flow: check the --set syntax, parse the JSON (line:column on errors), reject duplicate
 * keys, apply the overrides to the JSON tree, validate the tree into a dt_config, then
 * check the rules that tie keys together. */
#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "text.h"

/* Enum fields are read and written through int (see store_enum): they must be int-sized. */
_Static_assert(sizeof(dt_activation) == sizeof(int) && sizeof(dt_data_format) == sizeof(int) &&
                   sizeof(dt_mode) == sizeof(int) && sizeof(dt_csv_delimiter) == sizeof(int),
               "config enums must be int-sized");

#define MAX_EXACT_INT 9007199254740991.0 /* 2^53 - 1: larger integers are not exact in a JSON number */
#define CANON_MAX (DT_PATH_MAX + 64)     /* a JSON path: "config" + an override's path, canonicalised */
#define MAX_FILE_BYTES (64u << 20)       /* a config file larger than this is a mistake */
#define MAX_STEPS 32                     /* components of an override path */

/* ---- enum spellings, in enum order ------------------------------------------------- */

static const char *const activation_names[] = {"identity", "relu", "tanh", "sigmoid", "gelu", NULL};
static const char *const loss_names[] = {"softmax_cross_entropy", "mse", NULL};
static const char *const optimizer_names[] = {"sgd", "adam", "adamw", NULL};
static const char *const schedule_names[] = {"constant", "step", "cosine", NULL};
static const char *const init_names[] = {"he_uniform", "he_normal", "glorot_uniform", "glorot_normal", NULL};
static const char *const format_names[] = {"idx", "csv", "hdf5", "npy", NULL};
static const char *const delimiter_names[] = {",", ";", "\t", " ", NULL};
static const char *const norm_names[] = {"none", "scale", "standardize", NULL};
static const char *const device_names[] = {"cpu", "cuda", "auto", NULL};
static const char *const mode_names[] = {"portable", "deterministic", "fast", NULL};
static const char *const metric_names[] = {"val_loss",  "val_accuracy", "train_loss", "train_accuracy",
                                           "test_loss", "test_accuracy", NULL};
static const char *const select_mode_names[] = {"auto", "min", "max", NULL};

/* The i-th name of a NULL-terminated list; "unknown" when i is out of range. */
static const char *name_at(const char *const *names, int i) {
    for (int k = 0; names[k]; k++)
        if (k == i) return names[k];
    return "unknown";
}

const char *dt_config_experiment(const dt_config *cfg) { return cfg->experiment[0] ? cfg->experiment : cfg->name; }

bool dt_config_has_validation(const dt_config *cfg) {
    return cfg->data.has_validation || cfg->data.has_validation_split;
}

bool dt_config_selection(const dt_config *cfg, dt_metric *metric, dt_select_mode *mode) {
    if (!cfg->train.select.given && !dt_config_has_validation(cfg)) return false;
    *metric = cfg->train.select.given ? cfg->train.select.metric : DT_METRIC_VAL_LOSS;
    *mode = cfg->train.select.given ? cfg->train.select.mode : DT_SELECT_AUTO;
    if (*mode == DT_SELECT_AUTO)
        *mode = *metric == DT_METRIC_VAL_ACCURACY || *metric == DT_METRIC_TRAIN_ACCURACY ||
                        *metric == DT_METRIC_TEST_ACCURACY
                    ? DT_SELECT_MAX
                    : DT_SELECT_MIN;
    return true;
}

const char *dt_activation_name(dt_activation a) { return name_at(activation_names, (int)a); }
const char *dt_loss_name(dt_loss_kind k) { return name_at(loss_names, (int)k); }
const char *dt_optimizer_name(dt_optimizer_kind k) { return name_at(optimizer_names, (int)k); }
const char *dt_schedule_name(dt_schedule_kind k) { return name_at(schedule_names, (int)k); }
const char *dt_init_name(dt_init_kind k) { return name_at(init_names, (int)k); }
const char *dt_format_name(dt_data_format f) { return name_at(format_names, (int)f); }
const char *dt_delimiter_name(dt_csv_delimiter d) { return name_at(delimiter_names, (int)d); }
const char *dt_norm_name(dt_norm_kind k) { return name_at(norm_names, (int)k); }
const char *dt_device_name(dt_device_kind d) { return name_at(device_names, (int)d); }
const char *dt_mode_name(dt_mode m) { return name_at(mode_names, (int)m); }
const char *dt_metric_name(dt_metric m) { return name_at(metric_names, (int)m); }
const char *dt_select_mode_name(dt_select_mode m) { return name_at(select_mode_names, (int)m); }

/* ---- the schema ---------------------------------------------------------------------- */

typedef enum {
    T_U64, T_I64, T_I32, /* integers, stored with that width */
    T_F32,               /* a finite number, stored as float */
    T_BOOL,
    T_ENUM,              /* one of `names`, stored as int */
    T_STR,               /* a non-empty string, stored in char[size] */
    T_PATH,              /* a non-empty file path, resolved against the config's directory */
    T_LABEL,             /* a string or a non-negative integer, stored as a string */
    T_OBJECT,            /* a nested object; its keys' offsets start at base + offset */
    T_ARRAY              /* an array of `child` objects, `size` bytes apart; count stored as int32 */
} value_type;

enum {
    F_REQUIRED = 1u << 0,
    F_MIN_EXCL = 1u << 1, /* the range excludes min */
    F_MAX_EXCL = 1u << 2, /* the range excludes max */
    F_SELECTOR = 1u << 3, /* an enum whose value decides which `only_for` keys of its object apply */
    F_DEF_LAST = 1u << 4, /* the last element of an array defaults to def_last instead of def */
    F_EMPTY_OK = 1u << 5, /* a string that may be "" (its default meaning "decided elsewhere") */
    F_OPTIONAL = 1u << 6, /* a key written back only when the config gave it (the bool at
                             count_offset records that), so configs without it keep their bytes;
                             an absent optional object with required keys is left zeroed */
    F_OMIT_DEFAULT = 1u << 7, /* a key written back only when its value differs from its default
                                 (enums, strings and paths), so that configs from before the key
                                 existed keep their canonical bytes and digests, and giving the
                                 default changes nothing either */
};

typedef struct object_spec object_spec;

typedef struct {
    const char *name;
    value_type type;
    unsigned flags;
    size_t offset;            /* from the base of the enclosing object */
    size_t size;              /* T_STR, T_PATH, T_LABEL: buffer size; T_ARRAY: element size */
    size_t count_offset;      /* T_ARRAY: where the int32 element count lives */
    double min, max;          /* numbers: allowed range; T_ARRAY: allowed number of elements */
    double def, def_last;     /* default of numbers and bools, enum index of enums */
    const char *def_str;      /* default of strings */
    const char *const *names; /* T_ENUM: the spellings */
    const object_spec *child; /* T_OBJECT, T_ARRAY: the schema of the nested objects */
    unsigned only_for;        /* bit i set: applies when the selector is i; 0: always applies */
    unsigned required_for;    /* bit i set: required when the selector is i (F_REQUIRED: always) */
    const char *doc;          /* what a required key holds, for "required key is missing" */
} key_spec;

struct object_spec {
    const key_spec *keys;
    int n_keys;
};

#define CFG(m) offsetof(dt_config, m)
#define SRC(m) offsetof(dt_data_source, m)
#define LAYER(m) offsetof(dt_layer_config, m)
#define ONLY(format) (1u << (format))
#define SPEC(table) {table, (int)(sizeof table / sizeof table[0])}

static const key_spec source_keys[] = {
    {.name = "format", .type = T_ENUM, .flags = F_REQUIRED | F_SELECTOR, .offset = SRC(format),
     .names = format_names, .doc = "\"idx\", \"csv\", \"hdf5\" or \"npy\""},
    {.name = "path", .type = T_PATH, .flags = F_REQUIRED, .offset = SRC(path), .size = DT_PATH_MAX,
     .doc = "the data file; idx: the images file"},
    /* npy: absent (written back only when given) takes the labels from the .npz at path. */
    {.name = "labels", .type = T_PATH, .flags = F_OMIT_DEFAULT, .offset = SRC(labels_path), .size = DT_PATH_MAX,
     .def_str = "", .only_for = ONLY(DT_FORMAT_IDX) | ONLY(DT_FORMAT_NPY), .required_for = ONLY(DT_FORMAT_IDX),
     .doc = "the idx labels file"},
    {.name = "label_column", .type = T_LABEL, .offset = SRC(label_column), .size = DT_NAME_MAX,
     .min = 0, .max = INT32_MAX, .def_str = "label", .only_for = ONLY(DT_FORMAT_CSV)},
    {.name = "header", .type = T_BOOL, .offset = SRC(header), .def = 1, .only_for = ONLY(DT_FORMAT_CSV)},
    {.name = "delimiter", .type = T_ENUM, .flags = F_OMIT_DEFAULT, .offset = SRC(delimiter),
     .names = delimiter_names, .def = DT_DELIM_COMMA, .only_for = ONLY(DT_FORMAT_CSV)},
    {.name = "features_dataset", .type = T_STR, .offset = SRC(features_dataset), .size = DT_NAME_MAX,
     .def_str = "features", .only_for = ONLY(DT_FORMAT_HDF5)},
    {.name = "labels_dataset", .type = T_STR, .offset = SRC(labels_dataset), .size = DT_NAME_MAX,
     .def_str = "labels", .only_for = ONLY(DT_FORMAT_HDF5)},
    {.name = "features_array", .type = T_STR, .offset = SRC(features_array), .size = DT_NAME_MAX,
     .def_str = "features", .only_for = ONLY(DT_FORMAT_NPY)},
    {.name = "labels_array", .type = T_STR, .offset = SRC(labels_array), .size = DT_NAME_MAX,
     .def_str = "labels", .only_for = ONLY(DT_FORMAT_NPY)},
    {.name = "limit", .type = T_I64, .offset = SRC(limit), .min = 0, .max = MAX_EXACT_INT, .def = 0},
};
static const object_spec source_spec = SPEC(source_keys);

static const key_spec data_keys[] = {
    {.name = "train", .type = T_OBJECT, .flags = F_REQUIRED, .offset = CFG(data.train), .child = &source_spec,
     .doc = "the training data source"},
    {.name = "test", .type = T_OBJECT, .flags = F_REQUIRED, .offset = CFG(data.test), .child = &source_spec,
     .doc = "the evaluation data source"},
    {.name = "validation", .type = T_OBJECT, .flags = F_OPTIONAL, .offset = CFG(data.validation),
     .count_offset = CFG(data.has_validation), .child = &source_spec},
    {.name = "validation_split", .type = T_F32, .flags = F_OPTIONAL | F_MIN_EXCL | F_MAX_EXCL,
     .offset = CFG(data.validation_split), .count_offset = CFG(data.has_validation_split), .min = 0, .max = 1,
     .def = 0},
    {.name = "normalize", .type = T_ENUM, .offset = CFG(data.normalize), .names = norm_names, .def = DT_NORM_SCALE},
    {.name = "scale", .type = T_F32, .offset = CFG(data.scale), .min = -INFINITY, .max = INFINITY,
     .def = 0.00392156862745098},
    {.name = "shift", .type = T_F32, .offset = CFG(data.shift), .min = -INFINITY, .max = INFINITY, .def = 0},
};
static const object_spec data_spec = SPEC(data_keys);

static const key_spec layer_keys[] = {
    {.name = "units", .type = T_I32, .flags = F_REQUIRED, .offset = LAYER(units), .min = 1, .max = 1 << 20,
     .doc = "the number of outputs of the layer"},
    {.name = "activation", .type = T_ENUM, .flags = F_DEF_LAST, .offset = LAYER(activation),
     .names = activation_names, .def = DT_ACT_RELU, .def_last = DT_ACT_IDENTITY},
    {.name = "dropout", .type = T_F32, .flags = F_MAX_EXCL, .offset = LAYER(dropout), .min = 0, .max = 1, .def = 0},
};
static const object_spec layer_spec = SPEC(layer_keys);

static const key_spec model_keys[] = {
    {.name = "input_size", .type = T_I32, .flags = F_REQUIRED, .offset = CFG(model.input_size), .min = 1,
     .max = 1 << 24, .doc = "the number of input features"},
    {.name = "layers", .type = T_ARRAY, .flags = F_REQUIRED, .offset = CFG(model.layers),
     .size = sizeof(dt_layer_config), .count_offset = CFG(model.n_layers), .min = 1, .max = DT_MAX_LAYERS,
     .child = &layer_spec, .doc = "the dense layers, the last one is the output"},
    {.name = "init", .type = T_ENUM, .offset = CFG(model.init), .names = init_names, .def = DT_INIT_HE_UNIFORM},
};
static const object_spec model_spec = SPEC(model_keys);

static const key_spec loss_keys[] = {
    {.name = "kind", .type = T_ENUM, .offset = CFG(loss.kind), .names = loss_names, .def = DT_LOSS_SOFTMAX_CE},
};
static const object_spec loss_spec = SPEC(loss_keys);

static const key_spec optimizer_keys[] = {
    {.name = "kind", .type = T_ENUM, .offset = CFG(optimizer.kind), .names = optimizer_names, .def = DT_OPT_ADAM},
    {.name = "lr", .type = T_F32, .flags = F_MIN_EXCL, .offset = CFG(optimizer.lr), .min = 0, .max = 10,
     .def = 0.001},
    {.name = "momentum", .type = T_F32, .flags = F_MAX_EXCL, .offset = CFG(optimizer.momentum), .min = 0,
     .max = 1, .def = 0},
    {.name = "nesterov", .type = T_BOOL, .offset = CFG(optimizer.nesterov), .def = 0},
    {.name = "beta1", .type = T_F32, .flags = F_MAX_EXCL, .offset = CFG(optimizer.beta1), .min = 0, .max = 1,
     .def = 0.9},
    {.name = "beta2", .type = T_F32, .flags = F_MAX_EXCL, .offset = CFG(optimizer.beta2), .min = 0, .max = 1,
     .def = 0.999},
    {.name = "eps", .type = T_F32, .flags = F_MIN_EXCL, .offset = CFG(optimizer.eps), .min = 0, .max = INFINITY,
     .def = 1e-8},
    {.name = "weight_decay", .type = T_F32, .offset = CFG(optimizer.weight_decay), .min = 0, .max = INFINITY,
     .def = 0},
    {.name = "clip_norm", .type = T_F32, .offset = CFG(optimizer.clip_norm), .min = 0, .max = INFINITY, .def = 0},
};
static const object_spec optimizer_spec = SPEC(optimizer_keys);

static const key_spec schedule_keys[] = {
    {.name = "kind", .type = T_ENUM, .offset = CFG(schedule.kind), .names = schedule_names,
     .def = DT_SCHED_CONSTANT},
    {.name = "warmup_steps", .type = T_I64, .offset = CFG(schedule.warmup_steps), .min = 0, .max = MAX_EXACT_INT,
     .def = 0},
    {.name = "step_size", .type = T_I64, .offset = CFG(schedule.step_size), .min = 1, .max = MAX_EXACT_INT,
     .def = 1000},
    {.name = "gamma", .type = T_F32, .flags = F_MIN_EXCL, .offset = CFG(schedule.gamma), .min = 0, .max = 1,
     .def = 0.1},
    {.name = "min_lr", .type = T_F32, .offset = CFG(schedule.min_lr), .min = 0, .max = INFINITY, .def = 0},
};
static const object_spec schedule_spec = SPEC(schedule_keys);

static const key_spec select_keys[] = {
    {.name = "metric", .type = T_ENUM, .offset = CFG(train.select.metric), .names = metric_names,
     .def = DT_METRIC_VAL_LOSS},
    {.name = "mode", .type = T_ENUM, .offset = CFG(train.select.mode), .names = select_mode_names,
     .def = DT_SELECT_AUTO},
};
static const object_spec select_spec = SPEC(select_keys);

static const key_spec early_stopping_keys[] = {
    {.name = "patience", .type = T_I32, .offset = CFG(train.early_stopping.patience), .min = 1, .max = 1000000,
     .def = 5},
    {.name = "min_delta", .type = T_F32, .offset = CFG(train.early_stopping.min_delta), .min = 0, .max = INFINITY,
     .def = 0},
};
static const object_spec early_stopping_spec = SPEC(early_stopping_keys);

static const key_spec train_keys[] = {
    {.name = "epochs", .type = T_I32, .offset = CFG(train.epochs), .min = 1, .max = 1000000, .def = 10},
    {.name = "batch_size", .type = T_I32, .offset = CFG(train.batch_size), .min = 1, .max = 1 << 20, .def = 128},
    {.name = "shuffle", .type = T_BOOL, .offset = CFG(train.shuffle), .def = 1},
    {.name = "drop_last", .type = T_BOOL, .offset = CFG(train.drop_last), .def = 0},
    {.name = "eval_batch_size", .type = T_I32, .offset = CFG(train.eval_batch_size), .min = 1, .max = 1 << 20,
     .def = 1000},
    {.name = "microbatches", .type = T_I32, .offset = CFG(train.microbatches), .min = 1, .max = 1 << 16, .def = 1},
    {.name = "select", .type = T_OBJECT, .flags = F_OPTIONAL, .count_offset = CFG(train.select.given),
     .child = &select_spec},
    {.name = "early_stopping", .type = T_OBJECT, .flags = F_OPTIONAL, .count_offset = CFG(train.early_stopping.given),
     .child = &early_stopping_spec},
};
static const object_spec train_spec = SPEC(train_keys);

static const key_spec runtime_keys[] = {
    {.name = "device", .type = T_ENUM, .offset = CFG(runtime.device), .names = device_names, .def = DT_DEVICE_AUTO},
    {.name = "mode", .type = T_ENUM, .offset = CFG(runtime.mode), .names = mode_names, .def = DT_MODE_PORTABLE},
    {.name = "threads", .type = T_I32, .offset = CFG(runtime.threads), .min = 0, .max = 1024, .def = 0},
    {.name = "tf32", .type = T_BOOL, .offset = CFG(runtime.tf32), .def = 0},
    {.name = "gpu", .type = T_I32, .offset = CFG(runtime.gpu), .min = -1, .max = 1023, .def = -1},
};
static const object_spec runtime_spec = SPEC(runtime_keys);

static const key_spec tracking_keys[] = {
    {.name = "uri", .type = T_STR, .flags = F_EMPTY_OK, .offset = CFG(tracking.uri), .size = DT_PATH_MAX,
     .def_str = ""},
    {.name = "experiment", .type = T_STR, .flags = F_EMPTY_OK, .offset = CFG(tracking.experiment),
     .size = DT_NAME_MAX, .def_str = ""},
    {.name = "tls_verify", .type = T_BOOL, .offset = CFG(tracking.tls_verify), .def = 1},
    {.name = "step_loss_every", .type = T_I64, .offset = CFG(tracking.step_loss_every), .min = 0,
     .max = MAX_EXACT_INT, .def = 0},
};
static const object_spec tracking_spec = SPEC(tracking_keys);

static const key_spec checkpoint_keys[] = {
    {.name = "every_steps", .type = T_I64, .offset = CFG(checkpoint.every_steps), .min = 0, .max = MAX_EXACT_INT,
     .def = 0},
    {.name = "every_epoch", .type = T_BOOL, .offset = CFG(checkpoint.every_epoch), .def = 1},
    {.name = "keep", .type = T_I32, .offset = CFG(checkpoint.keep), .min = 1, .max = 1000000, .def = 3},
};
static const object_spec checkpoint_spec = SPEC(checkpoint_keys);

/* Sections keep offsets relative to dt_config, so a section's own offset is 0. */
static const key_spec root_keys[] = {
    {.name = "seed", .type = T_U64, .flags = F_REQUIRED, .offset = CFG(seed), .min = 0, .max = MAX_EXACT_INT,
     .doc = "the seed of every random stream"},
    {.name = "data", .type = T_OBJECT, .flags = F_REQUIRED, .child = &data_spec, .doc = "the data sources"},
    {.name = "model", .type = T_OBJECT, .flags = F_REQUIRED, .child = &model_spec, .doc = "the network"},
    {.name = "loss", .type = T_OBJECT, .child = &loss_spec},
    {.name = "optimizer", .type = T_OBJECT, .child = &optimizer_spec},
    {.name = "schedule", .type = T_OBJECT, .child = &schedule_spec},
    {.name = "train", .type = T_OBJECT, .child = &train_spec},
    {.name = "runtime", .type = T_OBJECT, .child = &runtime_spec},
    {.name = "checkpoint", .type = T_OBJECT, .child = &checkpoint_spec},
    {.name = "experiment", .type = T_STR, .flags = F_EMPTY_OK, .offset = CFG(experiment), .size = DT_NAME_MAX,
     .def_str = ""},
    {.name = "tracking", .type = T_OBJECT, .flags = F_OPTIONAL, .count_offset = CFG(tracking.given),
     .child = &tracking_spec},
};
static const object_spec root_spec = SPEC(root_keys);

/* Calls fn with the path of every leaf key under spec ("optimizer.lr", array elements as
 * "model.layers[0].units", every format's source keys). */
static void walk_keys(const object_spec *spec, const char *prefix, void (*fn)(void *ctx, const char *path), void *ctx) {
    for (int i = 0; i < spec->n_keys; i++) {
        const key_spec *key = &spec->keys[i];
        char path[256];
        snprintf(path, sizeof path, "%s%s%s%s", prefix, prefix[0] ? "." : "", key->name,
                 key->type == T_ARRAY ? "[0]" : "");
        if (key->type == T_OBJECT || key->type == T_ARRAY) walk_keys(key->child, path, fn, ctx);
        else fn(ctx, path);
    }
}

void dt_config_key_paths(void (*fn)(void *ctx, const char *path), void *ctx) { walk_keys(&root_spec, "", fn, ctx); }

/* Whether a key applies for the current value of its object's selector (-1: none). */
static bool key_applies(const key_spec *key, int selector) {
    return key->only_for == 0 || (selector >= 0 && ((key->only_for >> selector) & 1u));
}

/* ---- messages ------------------------------------------------------------------------ */

/* What validation knows about where the tree came from. */
typedef struct {
    dt_error *err;
    const char *origin;   /* the file (or caller's label): first word of file errors */
    const char *base_dir; /* relative data paths from the file start here; NULL or "": as given */
    int n_applied;        /* overrides applied to the tree so far */
    const char *override_text[DT_MAX_OVERRIDES];          /* "path=value", as given */
    char override_path[DT_MAX_OVERRIDES][CANON_MAX];      /* the JSON path each one set */
} parse_ctx;

/* Whether JSON path `outer` is `inner` or one of its ancestors ("a.b" covers "a.b[1].c"). */
static bool path_covers(const char *outer, const char *inner) {
    size_t n = strlen(outer);
    return strncmp(outer, inner, n) == 0 && (inner[n] == '\0' || inner[n] == '.' || inner[n] == '[');
}

/* The latest applied override that set `path`, an ancestor or a descendant of it; -1 if none. */
static int override_touching(const parse_ctx *ctx, const char *path) {
    for (int i = ctx->n_applied - 1; i >= 0; i--)
        if (path_covers(ctx->override_path[i], path) || path_covers(path, ctx->override_path[i])) return i;
    return -1;
}

/* Whether the value at `path` was written by an override (then relative paths stay as given). */
static bool set_by_override(const parse_ctx *ctx, const char *path) {
    for (int i = 0; i < ctx->n_applied; i++)
        if (path_covers(ctx->override_path[i], path)) return true;
    return false;
}

/* Fails with DT_CONFIG: "<who>: <path>: <problem>"; who is the latest override that set `path`
 * or `related` (a key the rule depends on; may be NULL) when there is one, else the origin. */
static dt_status fail_at(parse_ctx *ctx, const char *path, const char *related, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dt_status fail_at(parse_ctx *ctx, const char *path, const char *related, const char *fmt, ...) {
    char problem[DT_ERROR_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(problem, sizeof problem, fmt, args);
    va_end(args);
    int who = override_touching(ctx, path), related_who = related ? override_touching(ctx, related) : -1;
    if (related_who > who) who = related_who; /* the latest override involved */
    if (who >= 0)
        dt_fail(ctx->err, DT_CONFIG, "--set %s: %s: %s", ctx->override_text[who], path, problem);
    else
        dt_fail(ctx->err, DT_CONFIG, "%s: %s: %s", ctx->origin, path, problem);
    return DT_CONFIG;
}

/* A number as a reader expects it: integers without exponent, others with %g. */
static void format_number(double v, char *out, size_t cap) {
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e17)
        snprintf(out, cap, "%.0f", v);
    else
        snprintf(out, cap, "%g", v);
}

/* The length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t max) {
    size_t n = strnlen(s, max);
    if (s[n] != '\0')
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return n;
}

/* The first n bytes of s into out (NUL-terminated, cut to fit), control characters written as
 * JSON escapes (a tab as \t), so that a message stays one line and says which character it was. */
static void escape_controls(const char *s, size_t n, char *out, size_t cap) {
    size_t used = 0;
    for (size_t i = 0; i < n && used + 7 < cap; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '\t') used += (size_t)snprintf(out + used, cap - used, "\\t");
        else if (c == '\n') used += (size_t)snprintf(out + used, cap - used, "\\n");
        else if (c == '\r') used += (size_t)snprintf(out + used, cap - used, "\\r");
        else if (c < 0x20 || c == 0x7f) used += (size_t)snprintf(out + used, cap - used, "\\u%04x", c);
        else out[used++] = (char)c;
    }
    out[used] = '\0';
}

/* A JSON value for "got ..." in messages: string "ten" (or "ten" when quote_only), 2.5, true,
 * null, an array, an object. Long strings are cut; control characters are escaped. */
static void describe_value(const cJSON *v, bool quote_only, char *out, size_t cap) {
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        bool long_string = strnlen(s, 41) > 40;
        char text[80]; /* 40 bytes, or fewer when control characters take 2 to 6 */
        escape_controls(s, utf8_prefix(s, long_string ? 37 : 40), text, sizeof text);
        snprintf(out, cap, "%s\"%s%s\"", quote_only ? "" : "string ", text, long_string ? "..." : "");
    } else if (cJSON_IsNumber(v)) {
        format_number(v->valuedouble, out, cap);
    } else if (cJSON_IsBool(v)) {
        snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(out, cap, "null");
    } else {
        snprintf(out, cap, "%s", cJSON_IsArray(v) ? "an array" : "an object");
    }
}

/* Fails with "<expectation>, got <value>" for a value of the wrong type or form. */
static dt_status fail_got(parse_ctx *ctx, const char *path, const char *expectation, const cJSON *v) {
    char got[96];
    describe_value(v, false, got, sizeof got);
    return fail_at(ctx, path, NULL, "%s, got %s", expectation, got);
}

/* "parent.key" into out (cut when too long: only messages use the overflow). */
static void path_key(char *out, size_t cap, const char *parent, const char *key) {
    if (snprintf(out, cap, "%s.%s", parent, key) >= (int)cap) out[cap - 1] = '\0';
}

/* "parent[index]" into out. */
static void path_index(char *out, size_t cap, const char *parent, long index) {
    if (snprintf(out, cap, "%s[%ld]", parent, index) >= (int)cap) out[cap - 1] = '\0';
}

/* Appends ".key" to the path in place (cut when too long). */
static void path_append_key(char *path, size_t cap, const char *key) {
    size_t len = strlen(path);
    if (snprintf(path + len, cap - len, ".%s", key) >= (int)(cap - len)) path[cap - 1] = '\0';
}

/* Appends "[index]" to the path in place. */
static void path_append_index(char *path, size_t cap, long index) {
    size_t len = strlen(path);
    if (snprintf(path + len, cap - len, "[%ld]", index) >= (int)(cap - len)) path[cap - 1] = '\0';
}

/* Levenshtein distance of two short keys, ignoring case; INT_MAX when either is long. */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return INT_MAX;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diagonal = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int above = row[j];
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = diagonal + cost;
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* Fails for a key the schema does not know, listing the known keys and the closest one. */
static dt_status fail_unknown(parse_ctx *ctx, const object_spec *spec, const char *key, const char *path) {
    char known[512] = "";
    size_t used = 0;
    const char *closest = NULL;
    int closest_distance = INT_MAX;
    for (int i = 0; i < spec->n_keys; i++) {
        const char *name = spec->keys[i].name;
        int n = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", name);
        if (n > 0 && (size_t)n < sizeof known - used) used += (size_t)n;
        int distance = edit_distance(key, name);
        if (distance < closest_distance) closest = name, closest_distance = distance;
    }
    int tolerance = closest && strlen(closest) >= 6 ? (int)strlen(closest) / 3 : 1;
    if (closest && closest_distance <= tolerance)
        return fail_at(ctx, path, NULL, "unknown key; did you mean '%s'? (known keys: %s)", closest, known);
    return fail_at(ctx, path, NULL, "unknown key (known keys: %s)", known);
}

/* ---- reading values ---------------------------------------------------------------------- */

/* Fails unless v lies in the key's range; `shown` is the value as written in the JSON. */
static dt_status check_range(parse_ctx *ctx, const key_spec *key, const char *path, double v, double shown) {
    bool min_excl = key->flags & F_MIN_EXCL, max_excl = key->flags & F_MAX_EXCL;
    bool too_low = min_excl ? !(v > key->min) : !(v >= key->min);
    bool too_high = max_excl ? !(v < key->max) : !(v <= key->max);
    if (!too_low && !too_high) return DT_OK;
    char bound[64], got[64];
    format_number(too_low ? key->min : key->max, bound, sizeof bound);
    format_number(shown, got, sizeof got);
    const char *op = too_low ? (min_excl ? ">" : ">=") : (max_excl ? "<" : "<=");
    return fail_at(ctx, path, NULL, "must be %s %s, got %s", op, bound, got);
}

/* An integral JSON number within the key's range. */
static dt_status read_integer(parse_ctx *ctx, const key_spec *key, const cJSON *item, const char *path,
                              double *out) {
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble != floor(item->valuedouble))
        return fail_got(ctx, path, "must be an integer", item);
    *out = item->valuedouble;
    return check_range(ctx, key, path, *out, *out);
}

/* A JSON number that is a finite float32 within the key's range (checked after rounding). */
static dt_status read_float(parse_ctx *ctx, const key_spec *key, const cJSON *item, const char *path, float *out) {
    if (!cJSON_IsNumber(item)) return fail_got(ctx, path, "must be a number", item);
    double v = item->valuedouble;
    if (!isfinite(v) || fabs(v) > FLT_MAX) return fail_got(ctx, path, "must be a finite float32 number", item);
    *out = (float)v;
    if (v != 0 && *out == 0) return fail_got(ctx, path, "is too small for float32 (rounds to 0)", item);
    return check_range(ctx, key, path, (double)*out, v);
}

/* JSON true or false. */
static dt_status read_bool(parse_ctx *ctx, const cJSON *item, const char *path, bool *out) {
    if (!cJSON_IsBool(item)) return fail_got(ctx, path, "must be true or false", item);
    *out = cJSON_IsTrue(item);
    return DT_OK;
}

/* One of the key's spellings; its index goes to *out. */
static dt_status read_enum(parse_ctx *ctx, const key_spec *key, const cJSON *item, const char *path, int *out) {
    char allowed[256] = "", got[96];
    size_t used = 0;
    for (int i = 0; key->names[i]; i++) {
        if (cJSON_IsString(item) && strcmp(item->valuestring, key->names[i]) == 0) {
            *out = i;
            return DT_OK;
        }
        char name[64];
        escape_controls(key->names[i], strlen(key->names[i]), name, sizeof name);
        int n = snprintf(allowed + used, sizeof allowed - used, "%s\"%s\"", i ? ", " : "", name);
        if (n > 0 && (size_t)n < sizeof allowed - used) used += (size_t)n;
    }
    describe_value(item, true, got, sizeof got);
    return fail_at(ctx, path, NULL, "must be one of %s, got %s", allowed, got);
}

/* A non-empty string that fits the key's buffer. */
static dt_status read_string(parse_ctx *ctx, const key_spec *key, const cJSON *item, const char *path,
                             const char **out) {
    if (!cJSON_IsString(item)) return fail_got(ctx, path, "must be a string", item);
    size_t len = strlen(item->valuestring);
    if (len == 0 && !(key->flags & F_EMPTY_OK)) return fail_at(ctx, path, NULL, "must not be empty");
    if (len >= key->size)
        return fail_at(ctx, path, NULL, "is too long (%zu bytes, at most %zu)", len, key->size - 1);
    *out = item->valuestring;
    return DT_OK;
}

/* A csv label column: a name, or a 0-based index stored as its decimal string. */
static dt_status read_label(parse_ctx *ctx, const key_spec *key, const cJSON *item, const char *path, char *out) {
    const char *name = NULL;
    if (cJSON_IsString(item)) {
        dt_status status = read_string(ctx, key, item, path, &name);
        if (status == DT_OK) snprintf(out, key->size, "%s", name);
        return status;
    }
    const char *expectation = "must be a column name (string) or a non-negative column index";
    if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble) || item->valuedouble < key->min ||
        item->valuedouble > key->max)
        return fail_got(ctx, path, expectation, item);
    snprintf(out, key->size, "%.0f", item->valuedouble);
    return DT_OK;
}

/* Stores a data path, joined to base_dir unless absolute, set by an override, or base_dir is empty. */
static dt_status store_path(parse_ctx *ctx, const key_spec *key, const char *path, const char *raw, char *out) {
    const char *dir = ctx->base_dir;
    bool as_given = raw[0] == '/' || !dir || !dir[0] || set_by_override(ctx, path);
    const char *separator = !as_given && dir[strlen(dir) - 1] != '/' ? "/" : "";
    int n = as_given ? snprintf(out, key->size, "%s", raw) : snprintf(out, key->size, "%s%s%s", dir, separator, raw);
    if (n < 0 || (size_t)n >= key->size)
        return fail_at(ctx, path, NULL, "is too long once resolved (at most %zu bytes)", key->size - 1);
    return DT_OK;
}

/* ---- validation ---------------------------------------------------------------------------- */

static dt_status parse_object(parse_ctx *ctx, const object_spec *spec, const cJSON *node, char *base,
                              const char *path, bool is_last);

/* Stores an integer in the key's field, at the key's width. */
static void store_integer(const key_spec *key, char *field, double v) {
    if (key->type == T_U64) *(uint64_t *)(void *)field = (uint64_t)v;
    if (key->type == T_I64) *(int64_t *)(void *)field = (int64_t)v;
    if (key->type == T_I32) *(int32_t *)(void *)field = (int32_t)v;
}

/* Stores an enum index (enums are int-sized: see the static assertion). */
static void store_enum(char *field, int v) { *(int *)(void *)field = v; }

/* Reads the enum index stored by store_enum. */
static int load_enum(const char *field) { return *(const int *)(const void *)field; }

/* The default of an absent optional key, written into its field; objects get their own defaults. */
static dt_status store_default(parse_ctx *ctx, const key_spec *key, char *base, const char *path, bool is_last) {
    char *field = base + key->offset;
    switch (key->type) {
    case T_U64: case T_I64: case T_I32: store_integer(key, field, key->def); break;
    case T_F32: *(float *)(void *)field = (float)key->def; break;
    case T_BOOL: *(bool *)(void *)field = key->def != 0; break;
    case T_ENUM: store_enum(field, (int)(is_last && (key->flags & F_DEF_LAST) ? key->def_last : key->def)); break;
    case T_STR: case T_LABEL: snprintf(field, key->size, "%s", key->def_str); break;
    case T_OBJECT: return parse_object(ctx, key->child, NULL, field, path, false);
    case T_PATH: /* a default path is "" (none), never resolved against the config's folder */
        if (!key->def_str) return dt_fail(ctx->err, DT_INTERNAL, "%s: the schema gives no default", path);
        snprintf(field, key->size, "%s", key->def_str);
        break;
    case T_ARRAY: return dt_fail(ctx->err, DT_INTERNAL, "%s: the schema gives no default", path);
    }
    return DT_OK;
}

/* An array of objects of the key's child schema, with min..max elements. */
static dt_status parse_array(parse_ctx *ctx, const key_spec *key, const cJSON *item, char *base, const char *path) {
    if (!cJSON_IsArray(item)) return fail_got(ctx, path, "must be an array", item);
    int n = cJSON_GetArraySize(item);
    if (n < key->min || n > key->max)
        return fail_at(ctx, path, NULL, "must have %.0f to %.0f entries, got %d", key->min, key->max, n);
    int i = 0;
    for (const cJSON *element = item->child; element; element = element->next, i++) {
        char element_path[CANON_MAX];
        path_index(element_path, sizeof element_path, path, i);
        if (!cJSON_IsObject(element)) return fail_got(ctx, element_path, "must be an object", element);
        char *element_base = base + key->offset + (size_t)i * key->size;
        dt_status status = parse_object(ctx, key->child, element, element_base, element_path, i == n - 1);
        if (status != DT_OK) return status;
    }
    *(int32_t *)(void *)(base + key->count_offset) = n;
    return DT_OK;
}

/* Validates one present value against its key and stores it. */
static dt_status parse_key(parse_ctx *ctx, const key_spec *key, const cJSON *item, char *base, const char *path) {
    char *field = base + key->offset;
    dt_status status = DT_OK;
    double integer = 0;
    int index = 0;
    const char *text = NULL;
    if (key->flags & F_OPTIONAL) *(bool *)(void *)(base + key->count_offset) = true;
    switch (key->type) {
    case T_U64: case T_I64: case T_I32:
        status = read_integer(ctx, key, item, path, &integer);
        if (status == DT_OK) store_integer(key, field, integer);
        return status;
    case T_F32: return read_float(ctx, key, item, path, (float *)(void *)field);
    case T_BOOL: return read_bool(ctx, item, path, (bool *)(void *)field);
    case T_ENUM:
        status = read_enum(ctx, key, item, path, &index);
        if (status == DT_OK) store_enum(field, index);
        return status;
    case T_STR:
        status = read_string(ctx, key, item, path, &text);
        if (status == DT_OK) snprintf(field, key->size, "%s", text);
        return status;
    case T_PATH:
        status = read_string(ctx, key, item, path, &text);
        return status == DT_OK ? store_path(ctx, key, path, text, field) : status;
    case T_LABEL: return read_label(ctx, key, item, path, field);
    case T_OBJECT:
        return parse_object(ctx, key->child, item, field, path, false);
    case T_ARRAY: return parse_array(ctx, key, item, base, path);
    }
    return status;
}

/* Fails on the first key of node that the schema does not list. */
static dt_status check_known_keys(parse_ctx *ctx, const object_spec *spec, const cJSON *node, const char *path) {
    for (const cJSON *child = node ? node->child : NULL; child; child = child->next) {
        bool known = false;
        for (int i = 0; i < spec->n_keys && !known; i++) known = strcmp(child->string, spec->keys[i].name) == 0;
        if (!known) {
            char child_path[CANON_MAX];
            path_key(child_path, sizeof child_path, path, child->string);
            return fail_unknown(ctx, spec, child->string, child_path);
        }
    }
    return DT_OK;
}

/* "\"idx\" or \"csv\"": the selector values for which a key applies. */
static void list_selector_values(const key_spec *selector, unsigned only_for, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; selector->names[i]; i++) {
        if (!((only_for >> i) & 1u)) continue;
        int n = snprintf(out + used, cap - used, "%s\"%s\"", used ? " or " : "", selector->names[i]);
        if (n > 0 && (size_t)n < cap - used) used += (size_t)n;
    }
}

/* Whether an object of this schema has a key it cannot default. */
static bool has_required_keys(const object_spec *spec) {
    for (int i = 0; i < spec->n_keys; i++)
        if (spec->keys[i].flags & F_REQUIRED) return true;
    return false;
}

/* Validates an object (node NULL: absent, all defaults) against spec into base. `is_last`:
 * the object is the last element of its array (for F_DEF_LAST defaults). */
static dt_status parse_object(parse_ctx *ctx, const object_spec *spec, const cJSON *node, char *base,
                              const char *path, bool is_last) {
    if (node && !cJSON_IsObject(node)) return fail_got(ctx, path, "must be an object", node);
    dt_status status = check_known_keys(ctx, spec, node, path);
    const key_spec *selector = NULL;
    int selector_value = -1;
    char selector_path[CANON_MAX] = "";
    for (int i = 0; i < spec->n_keys && status == DT_OK; i++) {
        const key_spec *key = &spec->keys[i];
        char key_path[CANON_MAX];
        path_key(key_path, sizeof key_path, path, key->name);
        const cJSON *item = node ? cJSON_GetObjectItemCaseSensitive(node, key->name) : NULL;
        if (!key_applies(key, selector_value)) {
            if (!selector) continue; /* the selector itself failed: its error stands */
            char allowed[128];
            list_selector_values(selector, key->only_for, allowed, sizeof allowed);
            if (item)
                status = fail_at(ctx, key_path, selector_path, "only allowed with %s %s, not \"%s\"", selector->name,
                                 allowed, selector->names[selector_value]);
            continue;
        }
        if (!item && (key->flags & F_OPTIONAL) && key->type == T_OBJECT && has_required_keys(key->child))
            continue; /* an absent optional source: nothing to default, its flag stays false */
        const bool required = (key->flags & F_REQUIRED) ||
                              (selector_value >= 0 && ((key->required_for >> selector_value) & 1u));
        if (!item && required)
            status = fail_at(ctx, key_path, selector_path[0] ? selector_path : NULL, "required key is missing%s%s%s",
                             key->doc ? " (" : "", key->doc ? key->doc : "", key->doc ? ")" : "");
        else
            status = item ? parse_key(ctx, key, item, base, key_path)
                          : store_default(ctx, key, base, key_path, is_last);
        if (status == DT_OK && (key->flags & F_SELECTOR)) {
            selector = key;
            selector_value = load_enum(base + key->offset);
            snprintf(selector_path, sizeof selector_path, "%s", key_path);
        }
    }
    return status;
}

/* The rules of validation and model selection (docs/config.md, "Rules across keys"). */
static dt_status check_selection_keys(parse_ctx *ctx, const dt_config *cfg) {
    if (cfg->data.has_validation && cfg->data.has_validation_split)
        return fail_at(ctx, "config.data.validation_split", "config.data.validation",
                       "give either data.validation (a data source) or data.validation_split, not both");
    const bool validation = dt_config_has_validation(cfg);
    const dt_metric metric = cfg->train.select.metric;
    if (cfg->train.select.given && !validation && (metric == DT_METRIC_VAL_LOSS || metric == DT_METRIC_VAL_ACCURACY))
        return fail_at(ctx, "config.train.select.metric", NULL,
                       "%s needs a validation set: add data.validation or data.validation_split", dt_metric_name(metric));
    if (cfg->train.select.given && cfg->loss.kind == DT_LOSS_MSE &&
        (metric == DT_METRIC_VAL_ACCURACY || metric == DT_METRIC_TRAIN_ACCURACY || metric == DT_METRIC_TEST_ACCURACY))
        return fail_at(ctx, "config.train.select.metric", "config.loss.kind", "%s has no meaning with mse",
                       dt_metric_name(metric));
    if (cfg->train.early_stopping.given && !validation)
        return fail_at(ctx, "config.train.early_stopping", NULL,
                       "needs a validation set to watch: add data.validation or data.validation_split");
    return DT_OK;
}

/* Checks the rules that tie keys together (docs/config.md, "Rules across keys"). */
static dt_status check_cross_keys(parse_ctx *ctx, const dt_config *cfg) {
    int last = cfg->model.n_layers - 1;
    const dt_layer_config *output = &cfg->model.layers[last];
    char layer[64], path[96];
    snprintf(layer, sizeof layer, "config.model.layers[%d]", last);
    if (cfg->loss.kind == DT_LOSS_SOFTMAX_CE && output->activation != DT_ACT_IDENTITY) {
        path_key(path, sizeof path, layer, "activation");
        return fail_at(ctx, path, "config.loss.kind",
                       "the output layer must be identity with softmax_cross_entropy, got %s",
                       dt_activation_name(output->activation));
    }
    if (cfg->loss.kind == DT_LOSS_SOFTMAX_CE && output->units < 2) {
        path_key(path, sizeof path, layer, "units");
        return fail_at(ctx, path, "config.loss.kind",
                       "the output layer needs at least 2 units with softmax_cross_entropy, got %d", output->units);
    }
    if (output->dropout != 0) {
        path_key(path, sizeof path, layer, "dropout");
        return fail_at(ctx, path, NULL, "the output layer must have dropout 0, got %g", output->dropout);
    }
    if (cfg->optimizer.nesterov && !(cfg->optimizer.momentum > 0))
        return fail_at(ctx, "config.optimizer.nesterov", "config.optimizer.momentum",
                       "requires momentum > 0, got momentum %g", cfg->optimizer.momentum);
    if (cfg->schedule.min_lr > cfg->optimizer.lr)
        return fail_at(ctx, "config.schedule.min_lr", "config.optimizer.lr", "must be <= optimizer.lr (%g), got %g",
                       cfg->optimizer.lr, cfg->schedule.min_lr);
    const char *uri = cfg->tracking.uri;
    if (uri[0] && strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)
        return fail_at(ctx, "config.tracking.uri", NULL, "must be an http:// or https:// URL of an MLflow server");
    if (uri[0] && strchr(uri, '@'))
        return fail_at(ctx, "config.tracking.uri", NULL,
                       "must not hold credentials, which the run record would keep (use MLFLOW_TRACKING_USERNAME "
                       "and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN)");
    const int32_t m = cfg->train.microbatches;
    if (m & (m - 1))
        return fail_at(ctx, "config.train.microbatches", NULL,
                       "must be a power of two (so every rank count dividing it owns whole subtrees), got %d", m);
    if (m > cfg->train.batch_size)
        return fail_at(ctx, "config.train.microbatches", "config.train.batch_size",
                       "must be <= train.batch_size (%d), got %d", cfg->train.batch_size, m);
    return DT_OK;
}

/* Fails on the first object in the tree that holds the same key twice (cJSON keeps both). */
static dt_status check_duplicates(parse_ctx *ctx, const cJSON *node, const char *path) {
    long index = 0;
    for (const cJSON *child = node->child; child; child = child->next, index++) {
        char child_path[CANON_MAX];
        if (cJSON_IsObject(node)) {
            path_key(child_path, sizeof child_path, path, child->string);
            for (const cJSON *earlier = node->child; earlier != child; earlier = earlier->next)
                if (strcmp(earlier->string, child->string) == 0)
                    return fail_at(ctx, child_path, NULL, "duplicate key");
        } else {
            path_index(child_path, sizeof child_path, path, index);
        }
        dt_status status = check_duplicates(ctx, child, child_path);
        if (status != DT_OK) return status;
    }
    return DT_OK;
}

/* ---- JSON text ------------------------------------------------------------------------------ */

/* Fails with "<origin>:<line>:<column>: JSON syntax error near '<text>'" for the byte at `at`
 * (a NUL byte inside the text when at_nul). */
static dt_status fail_syntax(dt_error *err, const char *origin, const char *text, const char *at, bool at_nul) {
    int line = 1;
    const char *line_start = text;
    for (const char *c = text; c < at; c++)
        if (*c == '\n') line++, line_start = c + 1;
    int column = (int)(at - line_start) + 1;
    size_t n = utf8_prefix(at, 20);
    if (at_nul)
        dt_fail(err, DT_CONFIG, "%s:%d:%d: JSON syntax error: a NUL byte", origin, line, column);
    else if (n == 0)
        dt_fail(err, DT_CONFIG, "%s:%d:%d: JSON syntax error at end of input", origin, line, column);
    else
        dt_fail(err, DT_CONFIG, "%s:%d:%d: JSON syntax error near '%.*s'", origin, line, column, (int)n, at);
    return DT_CONFIG;
}

/* Parses length bytes of text (NUL-terminated at text[length]); one top-level value, nothing after. */
static dt_status parse_json(const char *text, size_t length, const char *origin, cJSON **out, dt_error *err) {
    const char *nul = memchr(text, '\0', length);
    if (nul) return fail_syntax(err, origin, text, nul, true);
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, length + 1, &end, 1);
    if (*out) return DT_OK;
    return fail_syntax(err, origin, text, end ? end : text, false);
}

/* ---- overrides -------------------------------------------------------------------------------- */

/* One component of an override path: a key, or an explicit [index]. */
typedef struct {
    bool is_index;          /* written as [i] */
    bool numeric;           /* a key of digits only: an index when the node is an array */
    long index;
    char key[DT_NAME_MAX];
} path_step;

/* Adds a key step of len bytes; false when there are too many or it is too long. */
static bool add_key_step(path_step *steps, int *n_steps, const char *key, size_t len) {
    if (*n_steps == MAX_STEPS || len == 0 || len >= DT_NAME_MAX) return false;
    path_step *step = &steps[(*n_steps)++];
    memcpy(step->key, key, len);
    step->key[len] = '\0';
    step->is_index = false;
    step->numeric = len <= 9 && strspn(step->key, "0123456789") == len;
    step->index = step->numeric ? strtol(step->key, NULL, 10) : 0;
    return true;
}

/* Parses "[digits]" at *p (before end) into an index step; false when malformed. */
static bool add_index_step(path_step *steps, int *n_steps, const char **p, const char *end) {
    const char *digits = ++*p;
    while (*p < end && isdigit((unsigned char)**p)) ++*p;
    if (*p == digits || *p - digits > 9 || *p >= end || **p != ']' || *n_steps == MAX_STEPS) return false;
    path_step *step = &steps[(*n_steps)++];
    step->is_index = true;
    step->numeric = false;
    step->index = strtol(digits, NULL, 10);
    step->key[0] = '\0';
    ++*p;
    return true;
}

/* Splits "a.b[1].c=value" into path steps and the value. Returns NULL, or what is malformed. */
static const char *parse_override_syntax(const char *text, path_step *steps, int *n_steps, const char **value) {
    const char *end = strchr(text, '=');
    if (!end || end == text) return "";
    *n_steps = 0;
    for (const char *p = text; p < end;) {
        const char *name = p;
        while (p < end && *p != '.' && *p != '[' && *p != ']') p++;
        if (p == name) return " (an empty key)";
        if (p - name >= DT_NAME_MAX) return " (a key is too long)";
        if (!add_key_step(steps, n_steps, name, (size_t)(p - name))) return " (too many keys)";
        while (p < end && *p == '[')
            if (!add_index_step(steps, n_steps, &p, end)) return " (an index must be [digits])";
        if (p < end && (*p != '.' || p + 1 == end)) return " (keys are joined by '.')";
        if (p < end) p++;
    }
    *value = end + 1;
    return NULL;
}

/* Fails for an override that cannot be applied: "--set <text>: <path>: <problem>". */
static dt_status fail_override(parse_ctx *ctx, int which, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dt_status fail_override(parse_ctx *ctx, int which, const char *path, const char *fmt, ...) {
    char problem[DT_ERROR_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(problem, sizeof problem, fmt, args);
    va_end(args);
    dt_fail(ctx->err, DT_CONFIG, "--set %s: %s: %s", ctx->override_text[which], path, problem);
    return DT_CONFIG;
}

/* Sets key of an object to value (takes it); a null value removes the key (its default applies). */
static dt_status set_in_object(cJSON *object, const char *key, cJSON *value) {
    if (cJSON_IsNull(value)) {
        cJSON_DeleteItemFromObjectCaseSensitive(object, key);
        cJSON_Delete(value);
        return DT_OK;
    }
    bool done = cJSON_GetObjectItemCaseSensitive(object, key)
                    ? cJSON_ReplaceItemInObjectCaseSensitive(object, key, value)
                    : cJSON_AddItemToObject(object, key, value);
    if (!done) cJSON_Delete(value);
    return done ? DT_OK : DT_NOMEM;
}

/* Steps into element [index] of node (or sets it to value on the last step). */
static dt_status step_into_array(parse_ctx *ctx, int which, cJSON **node, long index, char *canon, cJSON **value) {
    if (!cJSON_IsArray(*node)) {
        char got[96];
        describe_value(*node, false, got, sizeof got);
        return fail_override(ctx, which, canon, "must be an array to apply [%ld], got %s", index, got);
    }
    int size = cJSON_GetArraySize(*node);
    path_append_index(canon, CANON_MAX, index);
    if (index >= size)
        return fail_override(ctx, which, canon, "index out of range (the array has %d entries)", size);
    if (!*value) {
        *node = cJSON_GetArrayItem(*node, (int)index);
        return DT_OK;
    }
    bool done = cJSON_ReplaceItemInArray(*node, (int)index, *value);
    if (!done) cJSON_Delete(*value);
    *value = NULL;
    return done ? DT_OK : DT_NOMEM;
}

/* Steps into key of node, creating a missing object unless an [index] follows (or sets it).
 * index_next: the explicit index of the next step, or -1. */
static dt_status step_into_object(parse_ctx *ctx, int which, cJSON **node, const path_step *step, long index_next,
                                  char *canon, cJSON **value) {
    if (!cJSON_IsObject(*node)) {
        char got[96];
        describe_value(*node, false, got, sizeof got);
        return fail_override(ctx, which, canon, "must be an object to set '%s', got %s", step->key, got);
    }
    path_append_key(canon, CANON_MAX, step->key);
    if (*value) {
        dt_status status = set_in_object(*node, step->key, *value);
        *value = NULL;
        return status;
    }
    cJSON *child = cJSON_GetObjectItemCaseSensitive(*node, step->key);
    if (!child && index_next >= 0)
        return fail_override(ctx, which, canon, "is missing, cannot apply [%ld]", index_next);
    if (!child && !(child = cJSON_AddObjectToObject(*node, step->key))) return DT_NOMEM;
    *node = child;
    return DT_OK;
}

/* Applies override `which` to the tree: walks its path (creating missing objects), sets the value
 * (parsed as JSON when all of it parses, else the text as a string), records its canonical path. */
static dt_status apply_override(parse_ctx *ctx, cJSON *root, int which, const path_step *steps, int n_steps,
                                const char *value_text) {
    cJSON *value = cJSON_ParseWithLengthOpts(value_text, strlen(value_text) + 1, NULL, 1);
    if (!value && !(value = cJSON_CreateString(value_text)))
        return dt_fail(ctx->err, DT_NOMEM, "--set %s: out of memory", ctx->override_text[which]);
    char canon[CANON_MAX] = "config";
    cJSON *node = root;
    dt_status status = DT_OK;
    for (int i = 0; i < n_steps && status == DT_OK; i++) {
        const path_step *step = &steps[i];
        cJSON *value_here = i == n_steps - 1 ? value : NULL;
        bool indexing = step->is_index || (step->numeric && cJSON_IsArray(node));
        if (indexing)
            status = step_into_array(ctx, which, &node, step->index, canon, &value_here);
        else
            status = step_into_object(ctx, which, &node, step,
                                      i + 1 < n_steps && steps[i + 1].is_index ? steps[i + 1].index : -1, canon,
                                      &value_here);
        if (i == n_steps - 1) value = value_here; /* NULL once the last step took it */
    }
    cJSON_Delete(value);
    if (status == DT_NOMEM) return dt_fail(ctx->err, DT_NOMEM, "--set %s: out of memory", ctx->override_text[which]);
    if (status != DT_OK) return status;
    snprintf(ctx->override_path[which], CANON_MAX, "%s", canon);
    ctx->n_applied = which + 1;
    return DT_OK;
}

/* Checks the syntax of every override and records them in cfg (DT_USAGE when malformed). */
static dt_status record_overrides(parse_ctx *ctx, dt_config *cfg, int n_overrides, char *const *overrides) {
    if (n_overrides > DT_MAX_OVERRIDES)
        return dt_fail(ctx->err, DT_USAGE, "--set: at most %d overrides, got %d", DT_MAX_OVERRIDES, n_overrides);
    for (int i = 0; i < n_overrides; i++) {
        path_step steps[MAX_STEPS];
        int n_steps = 0;
        const char *value = NULL;
        const char *problem = strlen(overrides[i]) >= DT_PATH_MAX ? " (too long)"
                              : parse_override_syntax(overrides[i], steps, &n_steps, &value);
        if (problem) {
            dt_fail(ctx->err, DT_USAGE, "--set '%.200s%s': expected path=value%s", overrides[i],
                    strlen(overrides[i]) > 200 ? "..." : "", problem);
            return DT_USAGE;
        }
        snprintf(cfg->overrides[i], DT_PATH_MAX, "%s", overrides[i]);
        ctx->override_text[i] = overrides[i];
    }
    cfg->n_overrides = n_overrides;
    return DT_OK;
}

/* Applies every recorded override to the tree, in order. */
static dt_status apply_overrides(parse_ctx *ctx, cJSON *root, int n_overrides) {
    for (int i = 0; i < n_overrides; i++) {
        path_step steps[MAX_STEPS];
        int n_steps = 0;
        const char *value = NULL;
        (void)parse_override_syntax(ctx->override_text[i], steps, &n_steps, &value); /* checked by record_overrides */
        dt_status status = apply_override(ctx, root, i, steps, n_steps, value);
        if (status != DT_OK) return status;
    }
    return DT_OK;
}

/* ---- entry points ------------------------------------------------------------------------------ */

/* Fills source_path (as given) and name (file name without directory and ".json"). */
static void set_source(dt_config *cfg, const char *origin) {
    snprintf(cfg->source_path, sizeof cfg->source_path, "%s", origin);
    const char *slash = strrchr(origin, '/');
    const char *file = slash ? slash + 1 : origin;
    size_t len = strlen(file);
    if (len > 5 && strcmp(file + len - 5, ".json") == 0) len -= 5;
    if (len >= sizeof cfg->name) len = sizeof cfg->name - 1;
    memcpy(cfg->name, file, len);
    cfg->name[len] = '\0';
}

/* Parses, overrides and validates length bytes of JSON text (NUL at text[length]) into cfg. */
static dt_status parse_text(dt_config *cfg, const char *text, size_t length, const char *origin, const char *base_dir,
                            int n_overrides, char *const *overrides, dt_error *err) {
    memset(cfg, 0, sizeof *cfg);
    if (!origin) origin = "config";
    parse_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return dt_fail(err, DT_NOMEM, "%s: out of memory", origin);
    *ctx = (parse_ctx){.err = err, .origin = origin, .base_dir = base_dir};
    cJSON *root = NULL;
    dt_status status = DT_OK;
    DT_TRY(record_overrides(ctx, cfg, n_overrides < 0 ? 0 : n_overrides, overrides));
    DT_TRY(parse_json(text, length, origin, &root, err));
    DT_TRY(check_duplicates(ctx, root, "config"));
    DT_TRY(apply_overrides(ctx, root, cfg->n_overrides));
    DT_TRY(check_duplicates(ctx, root, "config"));
    DT_TRY(parse_object(ctx, &root_spec, root, (char *)cfg, "config", false));
    DT_TRY(check_cross_keys(ctx, cfg));
    DT_TRY(check_selection_keys(ctx, cfg));
    set_source(cfg, origin);
cleanup:
    cJSON_Delete(root);
    free(ctx);
    return status;
}

dt_status dt_config_parse(dt_config *cfg, const char *json_text, const char *origin, const char *base_dir,
                          int n_overrides, char *const *overrides, dt_error *err) {
    return parse_text(cfg, json_text, strlen(json_text), origin, base_dir, n_overrides, overrides, err);
}

/* Reads a config file (dt_read_stream, at most MAX_FILE_BYTES) into a NUL-terminated buffer
 * (caller frees); DT_IO "<path>: cannot read: <why>". */
static dt_status read_file(const char *path, char **out, size_t *size, dt_error *err) {
    FILE *file = fopen(path, "rb");
    if (!file) return dt_fail(err, DT_IO, "%s: cannot read: %s", path, strerror(errno));
    const dt_status status = dt_read_stream(file, path, MAX_FILE_BYTES, out, size, err);
    fclose(file);
    return status;
}

dt_status dt_config_load(dt_config *cfg, const char *path, int n_overrides, char *const *overrides,
                         dt_error *err) {
    char *text = NULL;
    size_t size = 0;
    dt_status status = read_file(path, &text, &size, err);
    if (status != DT_OK) {
        memset(cfg, 0, sizeof *cfg);
        return status;
    }
    char base_dir[DT_PATH_MAX] = "";
    const char *slash = strrchr(path, '/');
    if (slash && (size_t)(slash - path) < sizeof base_dir - 1)
        memcpy(base_dir, path, (size_t)(slash - path) + 1), base_dir[slash - path + 1] = '\0';
    status = parse_text(cfg, text, size, path, base_dir, n_overrides, overrides, err);
    free(text);
    return status;
}

/* ---- canonical JSON ----------------------------------------------------------------------------- */

/* Appends a JSON string literal. */
static void buf_string(dt_text *b, const char *s) {
    dt_text_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') dt_text_printf(b, "\\%c", c);
        else if (c < 0x20) dt_text_printf(b, "\\u%04x", c);
        else dt_text_printf(b, "%c", c);
    }
    dt_text_printf(b, "\"");
}

/* The shortest of %.6g .. %.9g that reads back as exactly f, both through strtof and through
 * strtod then (float), the path the parser takes; %.17g (exact) if none does. */
static void format_float(float f, char *out, size_t cap) {
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(out, cap, "%.*g", digits, (double)f);
        if (strtof(out, NULL) == f && (float)strtod(out, NULL) == f) return;
    }
    snprintf(out, cap, "%.17g", (double)f);
}

static void write_object(dt_text *b, const object_spec *spec, const char *base, int depth);

/* Appends the value of one key as stored in the struct. */
static void write_value(dt_text *b, const key_spec *key, const char *base, int depth) {
    const char *field = base + key->offset;
    char number[40];
    switch (key->type) {
    case T_U64: dt_text_printf(b, "%" PRIu64, *(const uint64_t *)(const void *)field); break;
    case T_I64: dt_text_printf(b, "%" PRId64, *(const int64_t *)(const void *)field); break;
    case T_I32: dt_text_printf(b, "%" PRId32, *(const int32_t *)(const void *)field); break;
    case T_F32:
        format_float(*(const float *)(const void *)field, number, sizeof number);
        dt_text_printf(b, "%s", number);
        break;
    case T_BOOL: dt_text_printf(b, "%s", *(const bool *)(const void *)field ? "true" : "false"); break;
    case T_ENUM: buf_string(b, name_at(key->names, load_enum(field))); break;
    case T_STR: case T_PATH: case T_LABEL: buf_string(b, field); break;
    case T_OBJECT: write_object(b, key->child, field, depth); break;
    case T_ARRAY: {
        int32_t n = *(const int32_t *)(const void *)(base + key->count_offset);
        dt_text_printf(b, "[");
        for (int32_t i = 0; i < n; i++) {
            dt_text_printf(b, "%s%*s", i ? ",\n" : "\n", 2 * (depth + 1), "");
            write_object(b, key->child, field + (size_t)i * key->size, depth + 1);
        }
        dt_text_printf(b, "\n%*s]", 2 * depth, "");
        break;
    }
    }
}

/* Whether an F_OMIT_DEFAULT key holds its default (enums by index, strings and paths by text). */
static bool is_default(const key_spec *key, const char *base) {
    const char *field = base + key->offset;
    if (key->type == T_ENUM) return load_enum(field) == (int)key->def;
    return key->def_str && strcmp(field, key->def_str) == 0;
}

/* Appends an object: the keys that apply, in schema order, indented by 2 * depth. */
static void write_object(dt_text *b, const object_spec *spec, const char *base, int depth) {
    int selector = -1;
    bool first = true;
    dt_text_printf(b, "{");
    for (int i = 0; i < spec->n_keys; i++) {
        const key_spec *key = &spec->keys[i];
        if (!key_applies(key, selector)) continue;
        if ((key->flags & F_OPTIONAL) && !*(const bool *)(const void *)(base + key->count_offset)) continue;
        if ((key->flags & F_OMIT_DEFAULT) && is_default(key, base)) continue;
        dt_text_printf(b, "%s%*s", first ? "\n" : ",\n", 2 * (depth + 1), "");
        buf_string(b, key->name);
        dt_text_printf(b, ": ");
        write_value(b, key, base, depth + 1);
        if (key->flags & F_SELECTOR) selector = load_enum(base + key->offset);
        first = false;
    }
    dt_text_printf(b, "\n%*s}", 2 * depth, "");
}

char *dt_config_to_json(const dt_config *cfg) {
    dt_text b = {0};
    write_object(&b, &root_spec, (const char *)cfg, 0);
    dt_text_printf(&b, "\n");
    return dt_text_take(&b);
}
