/* fuzz_checkpoint_structured.c — structure-aware: each input is a list of edits to one VALID
 * checkpoint, applied with the HDF5 C API to its image opened read-write in memory; the
 * edited image is written out and read with dt_checkpoint_read. Every file is valid HDF5, so
 * the search explores detrain's validation (attribute types and sizes, tensor types and
 * shapes, digests, counters, the config) rather than libhdf5's byte parser.
 *
 * The valid checkpoint is made once, in LLVMFuzzerInitialize, with dt_checkpoint_write: a
 * 3-4-3 network (adamw, standardize), stopped in the middle of its second epoch.
 *
 * Recipe (fuzz_reader: bytes past the end read as 0): up to MAX_EDITS edits, each an op byte
 * (% 6) and its operands. Objects (the root "." and every group and dataset, in name order)
 * and attributes (in name order) are chosen by a byte modulo how many there are.
 *   0 set attribute:   object, attribute, value (fuzz_h5_value_read) — replaces it
 *   1 replace dataset: dataset, layout byte, value
 *   2 delete:          byte: odd — object, attribute: that attribute; even — object (not the root)
 *   3 overwrite data:  dataset, then its storage's bytes from the input
 *   4 config:          mode byte, text (fuzz_text): bit 0 — the text is a "--set" override of
 *                      the stored config (else the new config text); bit 1 — leave
 *                      config_sha256 stale (else rehash it)
 *   5 fix digest:      dataset: its sha256 attribute rewritten from its current bytes */
#include "core/digest.h"
#include "fuzz_util.h"
#include "core/model.h"
#include "core/optim.h"
#include "records/checkpoint.h"

#define MAX_EDITS 8
#define MAX_NAMES 64

static unsigned char *valid_image;
static size_t valid_size;
static char image_name[600], input_path[600];

/* ---- the valid checkpoint --------------------------------------------------------------------- */

static const char valid_config[] =
    "{\"seed\": 11,"
    " \"data\": {\"train\": {\"format\": \"csv\", \"path\": \"train.csv\"},"
    "          \"test\": {\"format\": \"csv\", \"path\": \"test.csv\"}, \"normalize\": \"standardize\"},"
    " \"model\": {\"input_size\": 3, \"layers\": [{\"units\": 4, \"activation\": \"tanh\", \"dropout\": 0.25},"
    "                                          {\"units\": 3}]},"
    " \"optimizer\": {\"kind\": \"adamw\", \"lr\": 0.01},"
    " \"train\": {\"epochs\": 2, \"batch_size\": 4}, \"runtime\": {\"device\": \"cpu\"}}";

/* Aborts with detrain's message when building the valid checkpoint fails. */
static void must(dt_status status, const dt_error *err) {
    if (status != DT_OK) fuzz_fail("making the valid checkpoint", err->message);
}

/* A data set record as training leaves it: sample count and one file. */
static void fake_dataset(dt_dataset *ds, int64_t n_samples, const char *path) {
    memset(ds, 0, sizeof *ds);
    ds->n_samples = n_samples;
    ds->n_features = 3;
    ds->n_files = 1;
    snprintf(ds->files[0].path, sizeof ds->files[0].path, "%s", path);
    ds->files[0].size_bytes = 123;
    memset(ds->files[0].sha256, 'a', 64);
}

/* Writes the valid checkpoint with detrain's writer, checks that detrain reads it back, and
 * keeps its bytes in valid_image. */
static void make_valid_checkpoint(void) {
    static dt_config cfg;
    static dt_checkpoint ck;
    dt_net net;
    dt_host_state state = {0};
    dt_dataset train, test;
    dt_error err = {""};
    char path[600], params_sha[65], file_sha[65];
    must(dt_config_parse(&cfg, valid_config, "fuzz.json", "/fuzz", 0, NULL, &err), &err);
    must(dt_net_build(&net, &cfg, &err), &err);
    must(dt_host_state_alloc(&state, &net, &err), &err);
    dt_net_init_params(&net, state.params, cfg.seed, cfg.model.init);
    for (int64_t i = 0; i < net.n_params; i++) state.opt_m[i] = 0.001f * (float)i, state.opt_v[i] = 1e-6f * (float)i;
    fake_dataset(&train, 10, "train.csv");
    fake_dataset(&test, 5, "test.csv");
    /* Epoch 1 (0-based), one batch into it: step = epoch * steps_per_epoch + position / batch. */
    dt_train_progress progress = {dt_optim_counters_start(), 1, 4, dt_steps_per_epoch(&cfg, 10), 0, 3, 4, 0, 0, 0, 0};
    progress.total_steps = progress.steps_per_epoch * cfg.train.epochs;
    progress.counters.step = (uint64_t)(progress.steps_per_epoch + 1);
    float step_loss[16], step_lr[16];
    for (int i = 0; i < 16; i++) step_loss[i] = 1.0f / (float)(i + 1), step_lr[i] = 0.01f;
    const double mean[3] = {0.5, -1, 2}, std[3] = {1, 0.25, 3};
    dt_checkpoint_view view = {&cfg, &net, &state, &progress, step_loss, step_lr, &train, &test, mean, std, NULL, 0};
    must(dt_checkpoint_write(fuzz_path(path, sizeof path, "valid.h5"), &view, params_sha, file_sha, &err), &err);
    dt_host_state_free(&state);
    must(dt_checkpoint_read(path, &ck, &err), &err);
    dt_checkpoint_free(&ck);

    FILE *file = fopen(path, "rb");
    if (!file) fuzz_fail("cannot read back", path);
    fseek(file, 0, SEEK_END);
    valid_size = (size_t)ftell(file);
    rewind(file);
    valid_image = malloc(valid_size);
    if (!valid_image || fread(valid_image, 1, valid_size, file) != valid_size) fuzz_fail("cannot read back", path);
    fclose(file);
    remove(path);
}

/* ---- finding objects and attributes ---------------------------------------------------------- */

typedef struct {
    int n;
    char names[MAX_NAMES][128];
} name_list;

static void add_name(name_list *list, const char *name) {
    if (list->n < MAX_NAMES) snprintf(list->names[list->n++], sizeof list->names[0], "%s", name);
}

/* H5Lvisit callback: every object reached by a hard link (groups and datasets). */
static herr_t add_object(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    if (info->type == H5L_TYPE_HARD) add_name(data, name);
    return 0;
}

/* H5Aiterate2 callback: every attribute's name. */
static herr_t add_attribute(hid_t location, const char *name, const H5A_info_t *info, void *data) {
    add_name(data, name);
    return 0;
}

/* The objects of file: the root ".", then every group and dataset; or (datasets_only) only
 * the datasets. */
static void list_objects(hid_t file, int datasets_only, name_list *list) {
    name_list all = {0};
    list->n = 0;
    add_name(&all, ".");
    H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, add_object, &all);
    for (int i = 0; i < all.n; i++) {
        hid_t dataset = datasets_only ? H5Dopen2(file, all.names[i], H5P_DEFAULT) : H5I_INVALID_HID;
        if (!datasets_only || dataset >= 0) add_name(list, all.names[i]);
        if (dataset >= 0) H5Dclose(dataset);
    }
}

/* The name of a chosen object (NULL when there is none). */
static const char *pick(const name_list *list, uint8_t choice) {
    return list->n ? list->names[choice % list->n] : NULL;
}

/* The attributes of object `object`. */
static void list_attributes(hid_t file, const char *object, name_list *list) {
    list->n = 0;
    H5Aiterate_by_name(file, object, H5_INDEX_NAME, H5_ITER_INC, NULL, add_attribute, list, H5P_DEFAULT);
}

/* ---- the edits ------------------------------------------------------------------------------- */

/* Sets a scalar variable-length UTF-8 string attribute, as detrain's writer stores strings. */
static void put_string_attr(hid_t file, const char *object, const char *name, const char *text) {
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    if (H5Aexists_by_name(file, object, name, H5P_DEFAULT) > 0) H5Adelete_by_name(file, object, name, H5P_DEFAULT);
    hid_t attr = H5Acreate_by_name(file, object, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        H5Awrite(attr, type, &text);
        H5Aclose(attr);
    }
    H5Sclose(space);
    H5Tclose(type);
}

/* The stored config text (malloc'ed; "" when it is missing or not a string). */
static char *stored_config(hid_t file) {
    char *value = NULL, *copy;
    hid_t attr = H5Aopen_by_name(file, ".", "config", H5P_DEFAULT, H5P_DEFAULT), type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    hid_t stored = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    int ok = stored >= 0 && H5Tis_variable_str(stored) > 0 && H5Sget_simple_extent_npoints(space) == 1 &&
             H5Aread(attr, type, &value) >= 0;
    copy = strdup(ok && value ? value : "");
    if (value) H5free_memory(value);
    if (space >= 0) H5Sclose(space);
    if (stored >= 0) H5Tclose(stored);
    H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    return copy;
}

/* Op 4: a new config text, or the stored one with one "--set" override (when it applies). */
static void edit_config(fuzz_reader *r, hid_t file) {
    static dt_config cfg;
    char text[256], *set[1] = {text};
    const uint8_t mode = fuzz_u8(r);
    fuzz_text(r, text);
    char *stored = stored_config(file), *canonical = NULL;
    dt_error err;
    if (mode & 1 && dt_config_parse(&cfg, stored, "stored", NULL, 1, set, &err) == DT_OK)
        canonical = dt_config_to_json(&cfg);
    const char *config = canonical ? canonical : text;
    put_string_attr(file, ".", "config", config);
    if (!(mode & 2)) {
        char sha[65];
        dt_sha256_hex(config, strlen(config), sha);
        put_string_attr(file, ".", "config_sha256", sha);
    }
    free(canonical);
    free(stored);
}

/* A dataset's storage as bytes of its own type (malloc'ed, *size bytes); NULL for
 * variable-length data or on failure. */
static unsigned char *dataset_bytes(hid_t dataset, size_t *size) {
    hid_t type = H5Dget_type(dataset), space = H5Dget_space(dataset);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    unsigned char *bytes = NULL;
    *size = 0;
    if (type >= 0 && n >= 0 && H5Tis_variable_str(type) <= 0 && H5Tdetect_class(type, H5T_VLEN) <= 0) {
        *size = (size_t)n * H5Tget_size(type);
        bytes = calloc(*size + 1, 1);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return bytes;
}

/* Op 3 (overwrite its values from the input) or op 5 (rehash them into its sha256). */
static void edit_values(fuzz_reader *r, hid_t file, const char *name, int overwrite) {
    hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dataset < 0) return;
    size_t size;
    unsigned char *bytes = dataset_bytes(dataset, &size);
    hid_t type = H5Dget_type(dataset);
    if (bytes && size > 0 && overwrite) {
        fuzz_bytes(r, bytes, size);
        H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes);
    } else if (bytes && (size == 0 || H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes) >= 0) && !overwrite) {
        char sha[65];
        dt_sha256_hex(bytes, size, sha);
        put_string_attr(file, name, "sha256", sha);
    }
    if (type >= 0) H5Tclose(type);
    H5Dclose(dataset);
    free(bytes);
}

/* Decodes and applies one edit to the open file. */
static void apply_edit(fuzz_reader *r, hid_t file) {
    name_list objects, datasets, attributes;
    list_objects(file, 0, &objects);
    list_objects(file, 1, &datasets);
    const uint8_t op = fuzz_u8(r) % 6;
    if (op == 0 || op == 2) {
        const uint8_t operand = op == 2 ? fuzz_u8(r) : 1;
        const char *object = pick(&objects, fuzz_u8(r));
        if (!(operand & 1)) { /* delete an object */
            if (object && strcmp(object, ".") != 0) H5Ldelete(file, object, H5P_DEFAULT);
            return;
        }
        list_attributes(file, object, &attributes);
        const char *attribute = pick(&attributes, fuzz_u8(r));
        if (!attribute) return;
        char name[128];
        snprintf(name, sizeof name, "%s", attribute);
        H5Adelete_by_name(file, object, name, H5P_DEFAULT);
        fuzz_h5_value value;
        if (op == 0 && fuzz_h5_value_read(r, &value) == 0) {
            fuzz_h5_put_attr(file, object, name, &value);
            fuzz_h5_value_free(&value);
        }
    } else if (op == 1) {
        const char *dataset = pick(&datasets, fuzz_u8(r));
        const int layout = fuzz_u8(r) % 3;
        fuzz_h5_value value;
        if (!dataset || fuzz_h5_value_read(r, &value) != 0) return;
        H5Ldelete(file, dataset, H5P_DEFAULT);
        fuzz_h5_put_dataset(file, dataset, &value, layout);
        fuzz_h5_value_free(&value);
    } else if (op == 3 || op == 5) {
        const char *dataset = pick(&datasets, fuzz_u8(r));
        if (dataset) edit_values(r, file, dataset, op == 3);
    } else {
        edit_config(r, file);
    }
}

/* ---- the target ------------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    make_valid_checkpoint();
    fuzz_hdf5_quiet(); /* after detrain's own quiet sections: its writer restores printing */
    fuzz_path(image_name, sizeof image_name, "edited-image.h5"); /* never on disk: no backing store */
    fuzz_path(input_path, sizeof input_path, "input.h5");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dt_checkpoint ck; /* holds the whole tensor table: off the stack */
    if (size > FUZZ_MAX_INPUT) return 0;
    fuzz_reader r = {data, size, 0};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    H5Pset_file_image(fapl, valid_image, valid_size); /* copied: valid_image stays intact */
    hid_t file = H5Fopen(image_name, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (file < 0) fuzz_fail("HDF5 cannot open the valid checkpoint's image read-write", NULL);
    for (int i = 0; i < MAX_EDITS && fuzz_left(&r) > 0; i++) apply_edit(&r, file);
    size_t image_size = 0;
    unsigned char *image = fuzz_h5_image(file, &image_size);
    H5Fclose(file);
    if (!image) fuzz_fail("HDF5 cannot give the edited image", NULL);
    fuzz_write_file(input_path, image, image_size);
    free(image);

    dt_error err = {""};
    dt_status status = dt_checkpoint_read(input_path, &ck, &err);
    fuzz_check_error(status, &err);
    dt_checkpoint_free(&ck);
    fuzz_h5_check_ids();
    return 0;
}
