/* test_config.c — the config schema: defaults, a full config, overrides, the canonical JSON
 * round trip, a table of malformed configs (status + message), files, and docs/config.md
 * naming every key with its default. Runs from tests/ (CTest's working directory). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "test.h"

/* ---- JSON written with ' for " so that the C literals stay readable ---------------------- */

/* s with every ' replaced by "; rotating static buffers, valid for the next 7 calls. */
static const char *q(const char *s) {
    static char buffers[8][16384];
    static int next = 0;
    char *out = buffers[next++ % 8];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof buffers[0]; i++) out[i] = s[i] == '\'' ? '"' : s[i];
    out[i] = '\0';
    return out;
}

#define TRAIN_IDX "'train': {'format': 'idx', 'path': 'train-images', 'labels': 'train-labels'}"
#define TEST_CSV "'test': {'format': 'csv', 'path': 'test.csv'}"
#define DATA "'data': {" TRAIN_IDX ", " TEST_CSV "}"
#define LAYERS "'layers': [{'units': 64}, {'units': 10}]"
#define MODEL "'model': {'input_size': 784, " LAYERS "}"
#define BASE "'seed': 7, " DATA ", " MODEL
#define MINIMAL "{" BASE "}"

#define UNIT "{'units': 2}"
#define UNITS4 UNIT ", " UNIT ", " UNIT ", " UNIT
#define UNITS32 UNITS4 ", " UNITS4 ", " UNITS4 ", " UNITS4 ", " UNITS4 ", " UNITS4 ", " UNITS4 ", " UNITS4

#define FULL                                                                                              \
    "{'seed': 9007199254740991,"                                                                          \
    " 'data': {'train': {'format': 'csv', 'path': '/abs/train.csv', 'label_column': 0, 'header': false,"  \
    "                    'limit': 5000},"                                                                 \
    "          'test': {'format': 'hdf5', 'path': 'test.h5', 'features_dataset': 'x',"                    \
    "                   'labels_dataset': 'y', 'limit': 100},"                                            \
    "          'normalize': 'standardize', 'scale': 0.5, 'shift': -0.25},"                                \
    " 'model': {'input_size': 20, 'init': 'glorot_normal',"                                               \
    "           'layers': [{'units': 32, 'activation': 'gelu', 'dropout': 0.1},"                          \
    "                      {'units': 16, 'activation': 'tanh'}, {'units': 3, 'activation': 'sigmoid'}]}," \
    " 'loss': {'kind': 'mse'},"                                                                           \
    " 'optimizer': {'kind': 'sgd', 'lr': 0.1, 'momentum': 0.9, 'nesterov': true, 'beta1': 0.8,"           \
    "               'beta2': 0.99, 'eps': 1e-6, 'weight_decay': 0.0005, 'clip_norm': 1.5},"               \
    " 'schedule': {'kind': 'cosine', 'warmup_steps': 100, 'step_size': 50, 'gamma': 0.5,"                 \
    "              'min_lr': 0.001},"                                                                     \
    " 'train': {'epochs': 3, 'batch_size': 64, 'shuffle': false, 'drop_last': true,"                      \
    "           'eval_batch_size': 500},"                                                                 \
    " 'runtime': {'device': 'cpu', 'mode': 'deterministic', 'threads': 4}}"

/* Parses json (with ' for ") as "test.json" from base_dir /base. */
static dt_status parse(dt_config *cfg, const char *json, int n_overrides, char *const *overrides, dt_error *err) {
    err->message[0] = '\0';
    return dt_config_parse(cfg, q(json), "test.json", "/base", n_overrides, overrides, err);
}

/* ---- valid configs ------------------------------------------------------------------------------ */

static void test_minimal_defaults(void) {
    static dt_config cfg;
    dt_error err;
    CHECK_EQ_INT(parse(&cfg, MINIMAL, 0, NULL, &err), DT_OK);
    CHECK_EQ_INT(err.message[0], 0); /* untouched on success */
    CHECK_EQ_INT(cfg.seed, 7);
    CHECK_EQ_INT(cfg.data.train.format, DT_FORMAT_IDX);
    CHECK(strcmp(cfg.data.train.path, "/base/train-images") == 0);
    CHECK(strcmp(cfg.data.train.labels_path, "/base/train-labels") == 0);
    CHECK_EQ_INT(cfg.data.train.limit, 0);
    CHECK_EQ_INT(cfg.data.test.format, DT_FORMAT_CSV);
    CHECK(strcmp(cfg.data.test.path, "/base/test.csv") == 0);
    CHECK(strcmp(cfg.data.test.label_column, "label") == 0);
    CHECK(cfg.data.test.header);
    CHECK_EQ_INT(cfg.data.normalize, DT_NORM_SCALE);
    CHECK(cfg.data.scale == (float)(1.0 / 255.0));
    CHECK(cfg.data.shift == 0.0f);
    CHECK_EQ_INT(cfg.model.input_size, 784);
    CHECK_EQ_INT(cfg.model.n_layers, 2);
    CHECK_EQ_INT(cfg.model.layers[0].units, 64);
    CHECK_EQ_INT(cfg.model.layers[0].activation, DT_ACT_RELU);
    CHECK_EQ_INT(cfg.model.layers[1].units, 10);
    CHECK_EQ_INT(cfg.model.layers[1].activation, DT_ACT_IDENTITY);
    CHECK(cfg.model.layers[0].dropout == 0.0f && cfg.model.layers[1].dropout == 0.0f);
    CHECK_EQ_INT(cfg.model.init, DT_INIT_HE_UNIFORM);
    CHECK_EQ_INT(cfg.loss.kind, DT_LOSS_SOFTMAX_CE);
    CHECK_EQ_INT(cfg.optimizer.kind, DT_OPT_ADAM);
    CHECK(cfg.optimizer.lr == 0.001f);
    CHECK(cfg.optimizer.momentum == 0.0f && !cfg.optimizer.nesterov);
    CHECK(cfg.optimizer.beta1 == 0.9f && cfg.optimizer.beta2 == 0.999f && cfg.optimizer.eps == 1e-8f);
    CHECK(cfg.optimizer.weight_decay == 0.0f && cfg.optimizer.clip_norm == 0.0f);
    CHECK_EQ_INT(cfg.schedule.kind, DT_SCHED_CONSTANT);
    CHECK_EQ_INT(cfg.schedule.warmup_steps, 0);
    CHECK_EQ_INT(cfg.schedule.step_size, 1000);
    CHECK(cfg.schedule.gamma == 0.1f && cfg.schedule.min_lr == 0.0f);
    CHECK_EQ_INT(cfg.train.epochs, 10);
    CHECK_EQ_INT(cfg.train.batch_size, 128);
    CHECK(cfg.train.shuffle && !cfg.train.drop_last);
    CHECK_EQ_INT(cfg.train.eval_batch_size, 1000);
    CHECK_EQ_INT(cfg.runtime.device, DT_DEVICE_AUTO);
    CHECK_EQ_INT(cfg.runtime.mode, DT_MODE_PORTABLE);
    CHECK_EQ_INT(cfg.runtime.threads, 0);
    CHECK(strcmp(cfg.source_path, "test.json") == 0);
    CHECK(strcmp(cfg.name, "test") == 0);
    CHECK_EQ_INT(cfg.n_overrides, 0);
}

static void test_full(void) {
    static dt_config cfg;
    dt_error err;
    CHECK_EQ_INT(parse(&cfg, FULL, 0, NULL, &err), DT_OK);
    CHECK_EQ_INT(err.message[0], 0); /* untouched on success */
    CHECK_EQ_INT(cfg.seed, 9007199254740991LL);
    CHECK_EQ_INT(cfg.data.train.format, DT_FORMAT_CSV);
    CHECK(strcmp(cfg.data.train.path, "/abs/train.csv") == 0); /* absolute: kept */
    CHECK(strcmp(cfg.data.train.label_column, "0") == 0);
    CHECK(!cfg.data.train.header);
    CHECK_EQ_INT(cfg.data.train.limit, 5000);
    CHECK_EQ_INT(cfg.data.test.format, DT_FORMAT_HDF5);
    CHECK(strcmp(cfg.data.test.path, "/base/test.h5") == 0);
    CHECK(strcmp(cfg.data.test.features_dataset, "x") == 0 && strcmp(cfg.data.test.labels_dataset, "y") == 0);
    CHECK_EQ_INT(cfg.data.test.limit, 100);
    CHECK_EQ_INT(cfg.data.normalize, DT_NORM_STANDARDIZE);
    CHECK(cfg.data.scale == 0.5f && cfg.data.shift == -0.25f);
    CHECK_EQ_INT(cfg.model.input_size, 20);
    CHECK_EQ_INT(cfg.model.init, DT_INIT_GLOROT_NORMAL);
    CHECK_EQ_INT(cfg.model.n_layers, 3);
    CHECK_EQ_INT(cfg.model.layers[0].activation, DT_ACT_GELU);
    CHECK(cfg.model.layers[0].dropout == 0.1f);
    CHECK_EQ_INT(cfg.model.layers[1].activation, DT_ACT_TANH);
    CHECK_EQ_INT(cfg.model.layers[2].units, 3);
    CHECK_EQ_INT(cfg.model.layers[2].activation, DT_ACT_SIGMOID);
    CHECK_EQ_INT(cfg.loss.kind, DT_LOSS_MSE);
    CHECK_EQ_INT(cfg.optimizer.kind, DT_OPT_SGD);
    CHECK(cfg.optimizer.lr == 0.1f && cfg.optimizer.momentum == 0.9f && cfg.optimizer.nesterov);
    CHECK(cfg.optimizer.beta1 == 0.8f && cfg.optimizer.beta2 == 0.99f && cfg.optimizer.eps == 1e-6f);
    CHECK(cfg.optimizer.weight_decay == 0.0005f && cfg.optimizer.clip_norm == 1.5f);
    CHECK_EQ_INT(cfg.schedule.kind, DT_SCHED_COSINE);
    CHECK_EQ_INT(cfg.schedule.warmup_steps, 100);
    CHECK_EQ_INT(cfg.schedule.step_size, 50);
    CHECK(cfg.schedule.gamma == 0.5f && cfg.schedule.min_lr == 0.001f);
    CHECK_EQ_INT(cfg.train.epochs, 3);
    CHECK_EQ_INT(cfg.train.batch_size, 64);
    CHECK(!cfg.train.shuffle && cfg.train.drop_last);
    CHECK_EQ_INT(cfg.train.eval_batch_size, 500);
    CHECK_EQ_INT(cfg.runtime.device, DT_DEVICE_CPU);
    CHECK_EQ_INT(cfg.runtime.mode, DT_MODE_DETERMINISTIC);
    CHECK_EQ_INT(cfg.runtime.threads, 4);
}

/* data.<source>.delimiter and the npy source: what is stored, and what the canonical JSON
 * writes. A key added after configs existed (delimiter; labels of npy) is written only when it
 * differs from its default, so the canonical text of every older config, and its digest, stay. */
static void test_new_source_keys(void) {
    static dt_config cfg, plain;
    dt_error err;
    CHECK_EQ_INT(parse(&plain, MINIMAL, 0, NULL, &err), DT_OK);
    CHECK_EQ_INT(plain.data.test.delimiter, DT_DELIM_COMMA);
    char *text_plain = dt_config_to_json(&plain);
    CHECK(text_plain && !strstr(text_plain, "delimiter"));

    char *comma[] = {"data.test.delimiter=,"}; /* the default, given: the same canonical text */
    CHECK_EQ_INT(parse(&cfg, MINIMAL, 1, comma, &err), DT_OK);
    char *text = dt_config_to_json(&cfg);
    CHECK(text && text_plain && strcmp(text, text_plain) == 0);
    free(text);

    const char *spellings[][2] = {{"\";\"", ";"}, {"\"\\t\"", "\t"}, {"\" \"", " "}};
    const int kinds[] = {DT_DELIM_SEMICOLON, DT_DELIM_TAB, DT_DELIM_SPACE};
    for (int i = 0; i < 3; i++) {
        char set[64];
        snprintf(set, sizeof set, "data.test.delimiter=%s", spellings[i][0]);
        char *sets[] = {set};
        CHECK_EQ_INT(parse(&cfg, MINIMAL, 1, sets, &err), DT_OK);
        CHECK_EQ_INT(cfg.data.test.delimiter, kinds[i]);
        CHECK(strcmp(dt_delimiter_name(cfg.data.test.delimiter), spellings[i][1]) == 0);
        text = dt_config_to_json(&cfg);
        CHECK_STR_CONTAINS(text, "\"header\": true,\n      \"delimiter\": ");
        free(text);
    }

    char *npz[] = {"data.train={\"format\": \"npy\", \"path\": \"x.npz\"}"};
    CHECK_EQ_INT(parse(&cfg, MINIMAL, 1, npz, &err), DT_OK);
    CHECK_EQ_INT(cfg.data.train.format, DT_FORMAT_NPY);
    CHECK_EQ_INT(cfg.data.train.labels_path[0], 0); /* labels from the archive */
    CHECK(!strcmp(cfg.data.train.features_array, "features") && !strcmp(cfg.data.train.labels_array, "labels"));
    text = dt_config_to_json(&cfg);
    CHECK_STR_CONTAINS(text, "\"format\": \"npy\",\n      \"path\": \"x.npz\",\n      \"features_array\": "
                             "\"features\",\n      \"labels_array\": \"labels\",\n      \"limit\": 0\n");
    free(text);
    char *npy[] = {"data.train={\"format\": \"npy\", \"path\": \"x.npy\", \"labels\": \"y.npy\"}"};
    CHECK_EQ_INT(parse(&cfg, MINIMAL, 1, npy, &err), DT_OK);
    CHECK(!strcmp(cfg.data.train.labels_path, "y.npy")); /* set by --set: as given */
    text = dt_config_to_json(&cfg);
    CHECK_STR_CONTAINS(text, "\"path\": \"x.npy\",\n      \"labels\": \"y.npy\",\n");
    free(text);
    free(text_plain);
}

static void test_overrides(void) {
    static dt_config cfg;
    dt_error err;
    char *sets[] = {
        "optimizer.lr=0.01",             /* a number; creates the missing optimizer section */
        "runtime.mode=fast",             /* a bare string */
        "data.test.label_column=\"7\"",  /* a quoted JSON string */
        "train.shuffle=false",           /* a bool */
        "model.layers[1].units=5",       /* an array index */
        "model.layers.0.activation=tanh",/* the dotted index form */
        "data.train.limit=100",          /* a key the file does not have */
        "data.test.path=rel/test.csv",   /* relative to the working directory, not /base */
        "train.epochs=2",
        "train.epochs=3",                /* later wins */
        "loss.kind=null",                /* null: back to the default */
    };
    int n = (int)(sizeof sets / sizeof sets[0]);
    CHECK_EQ_INT(parse(&cfg, MINIMAL, n, sets, &err), DT_OK);
    CHECK_EQ_INT(err.message[0], 0); /* untouched on success */
    CHECK(cfg.optimizer.lr == 0.01f);
    CHECK_EQ_INT(cfg.runtime.mode, DT_MODE_FAST);
    CHECK(strcmp(cfg.data.test.label_column, "7") == 0);
    CHECK(!cfg.train.shuffle);
    CHECK_EQ_INT(cfg.model.layers[1].units, 5);
    CHECK_EQ_INT(cfg.model.layers[0].activation, DT_ACT_TANH);
    CHECK_EQ_INT(cfg.data.train.limit, 100);
    CHECK(strcmp(cfg.data.test.path, "rel/test.csv") == 0);
    CHECK(strcmp(cfg.data.train.path, "/base/train-images") == 0);
    CHECK_EQ_INT(cfg.train.epochs, 3);
    CHECK_EQ_INT(cfg.loss.kind, DT_LOSS_SOFTMAX_CE);
    CHECK_EQ_INT(cfg.n_overrides, n);
    for (int i = 0; i < n && i < cfg.n_overrides; i++) CHECK(strcmp(cfg.overrides[i], sets[i]) == 0);

    /* A whole array, and a whole source switched to another format. */
    char *replace[] = {"model.layers=[{\"units\": 3}, {\"units\": 4, \"activation\": \"identity\"}]",
                       "data.train={\"format\": \"hdf5\", \"path\": \"t.h5\"}"};
    CHECK_EQ_INT(parse(&cfg, MINIMAL, 2, replace, &err), DT_OK);
    CHECK_EQ_INT(err.message[0], 0); /* untouched on success */
    CHECK_EQ_INT(cfg.model.n_layers, 2);
    CHECK_EQ_INT(cfg.model.layers[0].units, 3);
    CHECK_EQ_INT(cfg.model.layers[1].units, 4);
    CHECK_EQ_INT(cfg.data.train.format, DT_FORMAT_HDF5);
    CHECK(strcmp(cfg.data.train.path, "t.h5") == 0);
    CHECK(strcmp(cfg.data.train.features_dataset, "features") == 0);
}

/* to_json, parse it again (no base_dir: paths are already resolved), compare structs. */
static void check_round_trip(const char *json, int n_overrides, char *const *overrides) {
    static dt_config first, second;
    dt_error err;
    CHECK_EQ_INT(parse(&first, json, n_overrides, overrides, &err), DT_OK);
    CHECK_EQ_INT(err.message[0], 0); /* untouched on success */
    char *text = dt_config_to_json(&first);
    CHECK(text != NULL);
    if (!text) return;
    CHECK_EQ_INT(dt_config_parse(&second, text, "resolved", NULL, 0, NULL, &err), DT_OK);
    CHECK_EQ_INT(err.message[0], 0); /* untouched on success */
    memcpy(second.source_path, first.source_path, sizeof first.source_path);
    memcpy(second.name, first.name, sizeof first.name);
    second.n_overrides = first.n_overrides;
    memcpy(second.overrides, first.overrides, sizeof first.overrides);
    CHECK(memcmp(&first, &second, sizeof first) == 0);
    char *again = dt_config_to_json(&second);
    CHECK(again && strcmp(text, again) == 0); /* canonical: a fixed point */
    free(again);
    free(text);
}

static void test_round_trip(void) {
    check_round_trip(MINIMAL, 0, NULL);
    check_round_trip(FULL, 0, NULL);
    char *odd[] = {"data.scale=0.1", "data.shift=-3.3333333", "optimizer.lr=3e-4", "optimizer.eps=1.17549435e-38",
                   "schedule.gamma=0.7", "model.layers[0].dropout=0.33333334"};
    check_round_trip(MINIMAL, 6, odd);
    char *sources[] = {"data.test.delimiter=\"\\t\"", "data.train={\"format\": \"npy\", \"path\": \"x.npz\"}"};
    check_round_trip(MINIMAL, 2, sources);
    char *npy_labels[] = {"data.train={\"format\": \"npy\", \"path\": \"x.npy\", \"labels\": \"y.npy\", "
                          "\"features_array\": \"X\"}", "data.test.delimiter=\" \""};
    check_round_trip(MINIMAL, 2, npy_labels);

    static dt_config cfg;
    dt_error err;
    CHECK_EQ_INT(parse(&cfg, MINIMAL, 0, NULL, &err), DT_OK);
    char *text = dt_config_to_json(&cfg);
    CHECK_STR_CONTAINS(text, "{\n  \"seed\": 7,\n  \"data\": {\n    \"train\": {\n      \"format\": \"idx\",\n");
    CHECK_STR_CONTAINS(text, "\"scale\": 0.003921569,");
    CHECK_STR_CONTAINS(text, "\"lr\": 0.001,");
    CHECK_STR_CONTAINS(text, "\"eps\": 1e-08,");
    CHECK_STR_CONTAINS(text, "\"label_column\": \"label\",");
    CHECK_STR_CONTAINS(text, "      {\n        \"units\": 10,\n        \"activation\": \"identity\",\n");
    CHECK_STR_CONTAINS(text, "\"threads\": 0");
    CHECK_STR_CONTAINS(text, "\"checkpoint\": {\n    \"every_steps\": 0,\n    \"every_epoch\": true,\n    \"keep\": 3\n  },\n"
                             "  \"experiment\": \"\"\n}\n");
    CHECK(text && !strstr(text, "\"header\": true,\n        \"features")); /* csv keys only on csv */
    CHECK(text && strstr(text, "\"labels\"") && !strstr(text, "labels_dataset"));
    free(text);
}

/* ---- malformed configs -------------------------------------------------------------------------- */

typedef struct {
    const char *json;        /* ' stands for " */
    const char *overrides[2];
    dt_status status;
    const char *message;     /* a substring of err.message */
} bad_case;

static const bad_case bad_cases[] = {
    /* unknown keys */
    {"{" BASE ", 'optimiser': {}}", {0}, DT_CONFIG,
     "test.json: config.optimiser: unknown key; did you mean 'optimizer'?"},
    {"{" BASE ", 'optimizer': {'lrr': 0.1}}", {0}, DT_CONFIG,
     "test.json: config.optimizer.lrr: unknown key; did you mean 'lr'? (known keys: kind, lr, momentum,"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [{'units': 3}, {'units': 2, 'dropuot': 0}]}}", {0},
     DT_CONFIG, "config.model.layers[1].dropuot: unknown key; did you mean 'dropout'?"},
    {"{" BASE ", 'train': {'learning_rate': 1}}", {0}, DT_CONFIG,
     "config.train.learning_rate: unknown key (known keys: epochs, batch_size,"},
    /* wrong types */
    {"{" BASE ", 'train': {'epochs': 'ten'}}", {0}, DT_CONFIG,
     "config.train.epochs: must be an integer, got string \"ten\""},
    {"{" BASE ", 'optimizer': {'lr': true}}", {0}, DT_CONFIG, "config.optimizer.lr: must be a number, got true"},
    {"{" BASE ", 'train': {'shuffle': 1}}", {0}, DT_CONFIG, "config.train.shuffle: must be true or false, got 1"},
    {"{" BASE ", 'optimizer': []}", {0}, DT_CONFIG, "config.optimizer: must be an object, got an array"},
    {"{'seed': 7, 'data': {'train': {'format': 'idx', 'path': 3, 'labels': 'l'}, " TEST_CSV "}, " MODEL "}", {0},
     DT_CONFIG, "config.data.train.path: must be a string, got 3"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': {'units': 3}}}", {0}, DT_CONFIG,
     "config.model.layers: must be an array, got an object"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [3]}}", {0}, DT_CONFIG,
     "config.model.layers[0]: must be an object, got 3"},
    {"[1]", {0}, DT_CONFIG, "test.json: config: must be an object, got an array"},
    /* out of range */
    {"{" BASE ", 'optimizer': {'lr': -1}}", {0}, DT_CONFIG, "test.json: config.optimizer.lr: must be > 0, got -1"},
    {"{" BASE ", 'optimizer': {'lr': 11}}", {0}, DT_CONFIG, "config.optimizer.lr: must be <= 10, got 11"},
    {"{" BASE ", 'train': {'batch_size': 0}}", {0}, DT_CONFIG, "config.train.batch_size: must be >= 1, got 0"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [{'units': 3, 'dropout': 1}, {'units': 2}]}}", {0},
     DT_CONFIG, "config.model.layers[0].dropout: must be < 1, got 1"},
    {"{'seed': 9007199254740992, " DATA ", " MODEL "}", {0}, DT_CONFIG,
     "config.seed: must be <= 9007199254740991, got 9007199254740992"},
    {"{'seed': -1, " DATA ", " MODEL "}", {0}, DT_CONFIG, "config.seed: must be >= 0, got -1"},
    {"{" BASE ", 'data': {'scale': 1e39}}", {0}, DT_CONFIG, "config.data: duplicate key"},
    {"{'seed': 7, 'data': {" TRAIN_IDX ", " TEST_CSV ", 'scale': 1e39}, " MODEL "}", {0}, DT_CONFIG,
     "config.data.scale: must be a finite float32 number, got 1e+39"},
    {"{'seed': 7, 'data': {" TRAIN_IDX ", 'test': {'format': 'csv', 'path': 't', 'label_column': -1}}, " MODEL "}",
     {0}, DT_CONFIG,
     "config.data.test.label_column: must be a column name (string) or a non-negative column index, got -1"},
    {"{'seed': 7, 'data': {'train': {'format': 'idx', 'path': '', 'labels': 'l'}, " TEST_CSV "}, " MODEL "}", {0},
     DT_CONFIG, "config.data.train.path: must not be empty"},
    /* missing required keys */
    {"{" DATA ", " MODEL "}", {0}, DT_CONFIG, "test.json: config.seed: required key is missing"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 784}}", {0}, DT_CONFIG,
     "config.model.layers: required key is missing"},
    {"{'seed': 7, " DATA ", 'model': {'layers': [{'units': 2}]}}", {0}, DT_CONFIG,
     "config.model.input_size: required key is missing"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [{'activation': 'relu'}, {'units': 2}]}}", {0},
     DT_CONFIG, "config.model.layers[0].units: required key is missing"},
    {"{'seed': 7, 'data': {'train': {'format': 'idx', 'labels': 'l'}, " TEST_CSV "}, " MODEL "}", {0}, DT_CONFIG,
     "config.data.train.path: required key is missing"},
    {"{'seed': 7, 'data': {" TRAIN_IDX "}, " MODEL "}", {0}, DT_CONFIG, "config.data.test: required key is missing"},
    {"{'seed': 7, 'data': {'train': {'path': 'p'}, " TEST_CSV "}, " MODEL "}", {0}, DT_CONFIG,
     "config.data.train.format: required key is missing"},
    /* enums and integers */
    {"{" BASE ", 'optimizer': {'kind': 'adagrad'}}", {0}, DT_CONFIG,
     "config.optimizer.kind: must be one of \"sgd\", \"adam\", \"adamw\", got \"adagrad\""},
    {"{" BASE ", 'runtime': {'mode': 2}}", {0}, DT_CONFIG,
     "config.runtime.mode: must be one of \"portable\", \"deterministic\", \"fast\", got 2"},
    {"{" BASE ", 'train': {'epochs': 2.5}}", {0}, DT_CONFIG, "config.train.epochs: must be an integer, got 2.5"},
    /* layer counts */
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': []}}", {0}, DT_CONFIG,
     "config.model.layers: must have 1 to 32 entries, got 0"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [" UNITS32 ", " UNIT "]}}", {0}, DT_CONFIG,
     "config.model.layers: must have 1 to 32 entries, got 33"},
    /* JSON syntax */
    {"{\n  'seed': 7,\n  'data': ,\n}", {0}, DT_CONFIG, "test.json:3:11: JSON syntax error near ', }'"},
    {MINIMAL " x", {0}, DT_CONFIG, "JSON syntax error near 'x'"},
    {MINIMAL "\n\n  {}", {0}, DT_CONFIG, "test.json:3:3: JSON syntax error near '{}'"},
    {"", {0}, DT_CONFIG, "test.json:1:1: JSON syntax error at end of input"},
    {"{" BASE ", 'optimizer': {'lr': 0.1, 'lr': 0.2}}", {0}, DT_CONFIG,
     "test.json: config.optimizer.lr: duplicate key"},
    /* rules across keys */
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [{'units': 3}, {'units': 3}, "
     "{'units': 2, 'activation': 'relu'}]}}", {0}, DT_CONFIG,
     "config.model.layers[2].activation: the output layer must be identity with softmax_cross_entropy, got relu"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [{'units': 3}, {'units': 1}]}}", {0}, DT_CONFIG,
     "config.model.layers[1].units: the output layer needs at least 2 units with softmax_cross_entropy, got 1"},
    {"{'seed': 7, " DATA ", 'model': {'input_size': 4, 'layers': [{'units': 3}, {'units': 2, 'dropout': 0.5}]}}", {0},
     DT_CONFIG, "config.model.layers[1].dropout: the output layer must have dropout 0, got 0.5"},
    {"{" BASE ", 'optimizer': {'kind': 'sgd', 'nesterov': true}}", {0}, DT_CONFIG,
     "config.optimizer.nesterov: requires momentum > 0, got momentum 0"},
    {"{" BASE ", 'schedule': {'kind': 'cosine', 'min_lr': 0.01}}", {0}, DT_CONFIG,
     "config.schedule.min_lr: must be <= optimizer.lr (0.001), got 0.01"},
    /* format-specific source keys */
    {"{'seed': 7, 'data': {'train': {'format': 'idx', 'path': 'p'}, " TEST_CSV "}, " MODEL "}", {0}, DT_CONFIG,
     "config.data.train.labels: required key is missing"},
    {"{'seed': 7, 'data': {" TRAIN_IDX ", 'test': {'format': 'csv', 'path': 't', 'labels': 'l'}}, " MODEL "}", {0},
     DT_CONFIG, "config.data.test.labels: only allowed with format \"idx\" or \"npy\", not \"csv\""},
    {"{'seed': 7, 'data': {" TRAIN_IDX ", 'test': {'format': 'hdf5', 'path': 't', 'header': true}}, " MODEL "}", {0},
     DT_CONFIG, "config.data.test.header: only allowed with format \"csv\", not \"hdf5\""},
    {"{'seed': 7, 'data': {" TRAIN_IDX ", 'test': {'format': 'parquet', 'path': 't'}}, " MODEL "}", {0}, DT_CONFIG,
     "config.data.test.format: must be one of \"idx\", \"csv\", \"hdf5\", \"npy\", got \"parquet\""},
    {MINIMAL, {"data.test.delimiter=|"}, DT_CONFIG,
     "--set data.test.delimiter=|: config.data.test.delimiter: must be one of \",\", \";\", \"\\t\", \" \", got \"|\""},
    {MINIMAL, {"data.test.delimiter=\"\\t\\t\""}, DT_CONFIG, /* control characters are shown escaped */
     "config.data.test.delimiter: must be one of \",\", \";\", \"\\t\", \" \", got \"\\t\\t\""},
    {MINIMAL, {"data.train.delimiter=;"}, DT_CONFIG,
     "--set data.train.delimiter=;: config.data.train.delimiter: only allowed with format \"csv\", not \"idx\""},
    {MINIMAL, {"data.test={\"format\": \"npy\", \"path\": \"x.npy\", \"labels\": \"\"}"}, DT_CONFIG,
     "config.data.test.labels: must not be empty"},
    {MINIMAL, {"data.test={\"format\": \"npy\", \"path\": \"x.npy\", \"features_dataset\": \"x\"}"}, DT_CONFIG,
     "config.data.test.features_dataset: only allowed with format \"hdf5\", not \"npy\""},
    /* overrides */
    {MINIMAL, {"optimizer.lr"}, DT_USAGE, "--set 'optimizer.lr': expected path=value"},
    {MINIMAL, {"=3"}, DT_USAGE, "--set '=3': expected path=value"},
    {MINIMAL, {"model.layers[x].units=3"}, DT_USAGE, "--set 'model.layers[x].units=3': expected path=value"},
    {MINIMAL, {"model..layers=3"}, DT_USAGE, "expected path=value"},
    {MINIMAL, {"model.layers[1=3"}, DT_USAGE, "expected path=value"},
    {MINIMAL, {"optimizer.lrr=0.1"}, DT_CONFIG, "--set optimizer.lrr=0.1: config.optimizer.lrr: unknown key"},
    {MINIMAL, {"model.layers[2].units=3"}, DT_CONFIG,
     "--set model.layers[2].units=3: config.model.layers[2]: index out of range (the array has 2 entries)"},
    {MINIMAL, {"model.layers.7.units=3"}, DT_CONFIG, "config.model.layers[7]: index out of range"},
    {MINIMAL, {"optimizer.lr=-1"}, DT_CONFIG, "--set optimizer.lr=-1: config.optimizer.lr: must be > 0, got -1"},
    {MINIMAL, {"seed.x=1"}, DT_CONFIG, "--set seed.x=1: config.seed: must be an object to set 'x', got 7"},
    {MINIMAL, {"runtime.threads=many"}, DT_CONFIG, "config.runtime.threads: must be an integer, got string \"many\""},
    {MINIMAL, {"data.test.format=idx"}, DT_CONFIG,
     "--set data.test.format=idx: config.data.test.labels: required key is missing"},
    {MINIMAL, {"optimizer.lr=0.0001", "schedule.min_lr=0.0001"}, DT_OK, ""},
    {MINIMAL, {"schedule.min_lr=0.0001", "optimizer.lr=0.00001"}, DT_CONFIG,
     "--set optimizer.lr=0.00001: config.schedule.min_lr: must be <= optimizer.lr"},
    {MINIMAL, {"optimizer={\"lr\": 1, \"lr\": 2}"}, DT_CONFIG,
     "--set optimizer={\"lr\": 1, \"lr\": 2}: config.optimizer.lr: duplicate key"},
    {MINIMAL, {"model.layers=null"}, DT_CONFIG,
     "--set model.layers=null: config.model.layers: required key is missing"},
};

static void test_bad_cases(void) {
    static dt_config cfg;
    int n_cases = (int)(sizeof bad_cases / sizeof bad_cases[0]);
    for (int i = 0; i < n_cases; i++) {
        const bad_case *c = &bad_cases[i];
        char *sets[2] = {(char *)c->overrides[0], (char *)c->overrides[1]};
        int n_sets = sets[1] ? 2 : sets[0] ? 1 : 0;
        dt_error err;
        dt_status status = parse(&cfg, c->json, n_sets, sets, &err);
        if (status != c->status || !strstr(err.message, c->message))
            fprintf(stderr, "case %d: status %s, message: %s\n", i, dt_status_name(status), err.message);
        CHECK_EQ_INT(status, c->status);
        CHECK_STR_CONTAINS(err.message, c->message);
        CHECK(!strchr(err.message, '\n'));
    }
    fprintf(stderr, "%d malformed-config cases\n", n_cases);
}

/* ---- files ---------------------------------------------------------------------------------------- */

/* Writes text to path; false on failure. */
static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static void test_files(void) {
    static dt_config cfg;
    dt_error err;
    char dir[] = "/tmp/dt_test_config_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], broken[256], expected[512];
    snprintf(path, sizeof path, "%s/fashion.json", dir);
    snprintf(broken, sizeof broken, "%s/broken.json", dir);
    CHECK(write_text(path, q(MINIMAL)));
    CHECK(write_text(broken, q("{\n  'seed': 7,\n  'data': ,\n}")));

    char *sets[] = {"data.test.path=here.csv"};
    CHECK_EQ_INT(dt_config_load(&cfg, path, 1, sets, &err), DT_OK);
    CHECK(strcmp(cfg.source_path, path) == 0);
    CHECK(strcmp(cfg.name, "fashion") == 0);
    snprintf(expected, sizeof expected, "%s/train-images", dir);
    CHECK(strcmp(cfg.data.train.path, expected) == 0);
    CHECK(strcmp(cfg.data.test.path, "here.csv") == 0);
    CHECK_EQ_INT(cfg.n_overrides, 1);

    CHECK_EQ_INT(dt_config_load(&cfg, broken, 0, NULL, &err), DT_CONFIG);
    snprintf(expected, sizeof expected, "%s:3:11: JSON syntax error near", broken);
    CHECK_STR_CONTAINS(err.message, expected);

    snprintf(expected, sizeof expected, "%s/missing.json", dir);
    CHECK_EQ_INT(dt_config_load(&cfg, expected, 0, NULL, &err), DT_IO);
    CHECK_STR_CONTAINS(err.message, "missing.json: cannot read: No such file or directory");
    CHECK_EQ_INT(dt_config_load(&cfg, dir, 0, NULL, &err), DT_IO);
    CHECK_STR_CONTAINS(err.message, ": cannot read: Is a directory");

    unlink(path);
    unlink(broken);
    rmdir(dir);

    /* The shipped example config is valid. */
    CHECK_EQ_INT(dt_config_load(&cfg, "../configs/fashion-mnist.json", 0, NULL, &err), DT_OK);
    CHECK(strcmp(cfg.name, "fashion-mnist") == 0);
}

static void test_enum_names(void) {
    CHECK(strcmp(dt_activation_name(DT_ACT_GELU), "gelu") == 0);
    CHECK(strcmp(dt_loss_name(DT_LOSS_SOFTMAX_CE), "softmax_cross_entropy") == 0);
    CHECK(strcmp(dt_optimizer_name(DT_OPT_ADAMW), "adamw") == 0);
    CHECK(strcmp(dt_schedule_name(DT_SCHED_COSINE), "cosine") == 0);
    CHECK(strcmp(dt_init_name(DT_INIT_GLOROT_NORMAL), "glorot_normal") == 0);
    CHECK(strcmp(dt_format_name(DT_FORMAT_HDF5), "hdf5") == 0);
    CHECK(strcmp(dt_norm_name(DT_NORM_STANDARDIZE), "standardize") == 0);
    CHECK(strcmp(dt_device_name(DT_DEVICE_AUTO), "auto") == 0);
    CHECK(strcmp(dt_mode_name(DT_MODE_DETERMINISTIC), "deterministic") == 0);
    CHECK(strcmp(dt_mode_name((dt_mode)99), "unknown") == 0);
}

/* ---- docs/config.md names every key, and every default as dt_config_to_json prints it --------- */

/* The docs' name of a key: data.<source>.x for data.train.x / data.test.x, model.layers[i].x. */
static void doc_key(char *out, size_t cap, const char *parent, const cJSON *item, int index) {
    if (index >= 0)
        snprintf(out, cap, "%s[i]", parent);
    else if (strcmp(parent, "data") == 0 && (!strcmp(item->string, "train") || !strcmp(item->string, "test")))
        snprintf(out, cap, "data.<source>");
    else
        snprintf(out, cap, "%s%s%s", parent, parent[0] ? "." : "", item->string);
}

/* The line of the docs whose first table cell is `key`; NULL when none. */
static const char *doc_row(const char *docs, const char *key) {
    char cell[160];
    snprintf(cell, sizeof cell, "\n| `%s` |", key);
    return strstr(docs, cell);
}

/* The default column (third cell) of a docs table row, into out; "" when the row is short. */
static void doc_default(const char *row, char *out, size_t cap) {
    out[0] = '\0';
    const char *cell = row;
    for (int bar = 0; bar < 3 && cell; bar++) cell = strchr(cell + 1, '|');
    const char *end = cell ? strchr(cell + 1, '|') : NULL;
    const char *newline = cell ? strchr(cell, '\n') : NULL;
    if (!end || (newline && newline < end)) return;
    snprintf(out, cap, "%.*s", (int)(end - cell - 1), cell + 1);
}

/* Walks the resolved JSON; each leaf needs a docs row, and leaves absent from the input
 * (defaults) need their printed value in that row. */
static void check_docs(const char *docs, const cJSON *out, const cJSON *in, const char *key) {
    if (cJSON_IsObject(out) || cJSON_IsArray(out)) {
        int index = 0;
        for (const cJSON *child = out->child; child; child = child->next, index++) {
            char child_key[160];
            doc_key(child_key, sizeof child_key, key, child, cJSON_IsArray(out) ? index : -1);
            const cJSON *in_child = !in ? NULL
                                    : cJSON_IsArray(out) ? cJSON_GetArrayItem(in, index)
                                                         : cJSON_GetObjectItemCaseSensitive(in, child->string);
            check_docs(docs, child, in_child, child_key);
        }
        return;
    }
    const char *row = doc_row(docs, key);
    if (!row) fprintf(stderr, "docs/config.md: no row for `%s`\n", key);
    CHECK(row != NULL);
    if (!row || in || cJSON_IsNumber(out)) return; /* numbers: see test_docs, as dt_config_to_json prints them */
    char *value = cJSON_PrintUnformatted(out), cell[160], default_cell[256];
    snprintf(cell, sizeof cell, "`%s`", value ? value : "");
    doc_default(row, default_cell, sizeof default_cell);
    if (!strstr(default_cell, cell)) fprintf(stderr, "docs/config.md: `%s`: default is not %s\n", key, cell);
    CHECK(strstr(default_cell, cell) != NULL);
    free(value);
}

/* Reads a whole text file; NULL when it cannot. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = calloc(1, 1 << 20);
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    (void)n;
    fclose(f);
    return text;
}

/* Checks the keys of one config's resolved JSON against the docs. */
static void check_docs_for(const char *docs, const char *json) {
    static dt_config cfg;
    dt_error err;
    CHECK_EQ_INT(parse(&cfg, json, 0, NULL, &err), DT_OK);
    char *text = dt_config_to_json(&cfg);
    cJSON *out = cJSON_Parse(text), *in = cJSON_Parse(q(json));
    CHECK(out && in);
    if (out && in) check_docs(docs, out, in, "");
    cJSON_Delete(out);
    cJSON_Delete(in);
    free(text);
}

static void test_docs(void) {
    char *docs = read_text("../docs/config.md");
    CHECK(docs != NULL);
    if (!docs) return;
    check_docs_for(docs, MINIMAL);
    check_docs_for(docs, "{'seed': 1, 'data': {'train': {'format': 'hdf5', 'path': 'a.h5'}, " TEST_CSV "}, " MODEL "}");
    check_docs_for(docs, "{'seed': 1, 'data': {'train': {'format': 'npy', 'path': 'a.npy', 'labels': 'b.npy'}, "
                         "'test': {'format': 'csv', 'path': 't.csv', 'delimiter': ';'}}, " MODEL "}");
    /* Numeric defaults as printed by dt_config_to_json (shortest float32 form). */
    const char *numeric[][2] = {
        {"data.scale", "`0.003921569`"}, {"data.shift", "`0`"},           {"data.<source>.limit", "`0`"},
        {"model.layers[i].dropout", "`0`"}, {"optimizer.lr", "`0.001`"}, {"optimizer.momentum", "`0`"},
        {"optimizer.beta1", "`0.9`"},     {"optimizer.beta2", "`0.999`"}, {"optimizer.eps", "`1e-08`"},
        {"optimizer.weight_decay", "`0`"}, {"optimizer.clip_norm", "`0`"}, {"schedule.warmup_steps", "`0`"},
        {"schedule.step_size", "`1000`"}, {"schedule.gamma", "`0.1`"},     {"schedule.min_lr", "`0`"},
        {"train.epochs", "`10`"},         {"train.batch_size", "`128`"},   {"train.eval_batch_size", "`1000`"},
        {"runtime.threads", "`0`"},       {"runtime.gpu", "`-1`"},         {"checkpoint.every_steps", "`0`"}, {"checkpoint.keep", "`3`"},
    };
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        const char *row = doc_row(docs, numeric[i][0]);
        char default_cell[256] = "";
        if (row) doc_default(row, default_cell, sizeof default_cell);
        if (!strstr(default_cell, numeric[i][1]))
            fprintf(stderr, "docs/config.md: `%s`: default is not %s\n", numeric[i][0], numeric[i][1]);
        CHECK(strstr(default_cell, numeric[i][1]) != NULL);
    }
    CHECK_STR_CONTAINS(docs, "--set");
    free(docs);
}

/* Every error message is one line, also when it quotes a value holding line breaks (a
 * damaged file's attribute), and after a prefix is added. */
static void test_one_line_messages(void) {
    dt_error err = {""};
    CHECK(dt_fail(&err, DT_CHECKPOINT, "x.h5: format '%s'", "a\nb\r\x01" "c\x7f") == DT_CHECKPOINT);
    CHECK(!strcmp(err.message, "x.h5: format 'a b  c '"));
    CHECK(dt_fail_prefix(&err, DT_CHECKPOINT, "run\n1") == DT_CHECKPOINT);
    CHECK(!strcmp(err.message, "run 1: x.h5: format 'a b  c '"));
}

int main(void) {
    test_one_line_messages();
    test_minimal_defaults();
    test_full();
    test_overrides();
    test_round_trip();
    test_new_source_keys();
    test_bad_cases();
    test_files();
    test_enum_names();
    test_docs();
    return TEST_EXIT();
}
