/* checkpoint.c — writing and reading HDF5 checkpoints (docs/checkpoint-format.md).
 *
 * Writing: object time stamps off on every creation list, explicit little-endian file
 * types, contiguous datasets without filters, v2 API, so the same state always gives the
 * same bytes. HDF5 builds the file in memory (the core driver, no backing store) and
 * dt_write_file_atomic writes the image ("<name>.<pid>.tmp", fsync, rename): HDF5 never holds a
 * file on disk, so a full disk is one clean DT_WRITE and never a half-open HDF5 file that
 * the library flushes, and crashes on, at exit.
 * Reading: validate before use — every attribute's type and size, every tensor's type and
 * shape, then its SHA-256; say which tensor is wrong. Every HDF5 call is checked. */
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/fsutil.h"
#include "core/h5util.h"
#include "jsondiff.h"
#include "rng.h"
#include "version.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tensor digests hash the host's bytes as little-endian");

/* ---- writing --------------------------------------------------------------------------------- */

/* An open checkpoint being written: the file, its creation lists and the string type. */
typedef struct {
    const char *path;              /* the temporary file, for messages */
    dt_error *err;
    hid_t file, gcpl, dcpl, str_type;
} writer;

#define CHECK_W(expr, ...) DT_CHECK_H5(DT_IO, w->path, expr, __VA_ARGS__)

/* Writes attribute `name` on loc: rank 0 (dims NULL) or rank 1..2, file type and memory type. */
static dt_status write_attr(writer *w, hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                            const hsize_t *dims, const void *data) {
    dt_status status = DT_OK;
    dt_error *err = w->err;
    hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    CHECK_W(space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR), "attribute '%s': dataspace",
            name);
    CHECK_W(attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), "creating attribute '%s'", name);
    CHECK_W(H5Awrite(attr, mem_type, data), "writing attribute '%s'", name);
cleanup:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return status;
}

/* A scalar UTF-8 string attribute. */
static dt_status write_attr_str(writer *w, hid_t loc, const char *name, const char *value) {
    return write_attr(w, loc, name, w->str_type, w->str_type, 0, NULL, &value);
}

/* A 1-D array of n UTF-8 strings. */
static dt_status write_attr_strs(writer *w, hid_t loc, const char *name, int n, const char *const *values) {
    hsize_t dims[1] = {(hsize_t)n};
    return write_attr(w, loc, name, w->str_type, w->str_type, 1, dims, values);
}

/* A scalar int32 attribute (file type STD_I32LE). */
static dt_status write_attr_i32(writer *w, hid_t loc, const char *name, int32_t value) {
    return write_attr(w, loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 0, NULL, &value);
}

/* A scalar int64 attribute (file type STD_I64LE). */
static dt_status write_attr_i64(writer *w, hid_t loc, const char *name, int64_t value) {
    return write_attr(w, loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &value);
}

/* A scalar uint64 attribute (file type STD_U64LE). */
static dt_status write_attr_u64(writer *w, hid_t loc, const char *name, uint64_t value) {
    return write_attr(w, loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, NULL, &value);
}

/* A scalar float32 attribute (file type IEEE_F32LE). */
static dt_status write_attr_f32(writer *w, hid_t loc, const char *name, float value) {
    return write_attr(w, loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, NULL, &value);
}

/* A scalar float64 attribute (file type IEEE_F64LE). */
static dt_status write_attr_f64(writer *w, hid_t loc, const char *name, double value) {
    return write_attr(w, loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &value);
}

/* Creates group `name` under parent (time stamps off); the caller closes *out. */
static dt_status make_group(writer *w, hid_t parent, const char *name, hid_t *out) {
    dt_status status = DT_OK;
    dt_error *err = w->err;
    CHECK_W(*out = H5Gcreate2(parent, name, H5P_DEFAULT, w->gcpl, H5P_DEFAULT), "creating group '%s'", name);
cleanup:
    return status;
}

/* Writes tensor `name` (shown as full_name in messages) of rank 1..2 into group with its
 * sha256 attribute: the digest of its n_bytes little-endian bytes. */
static dt_status write_tensor(writer *w, hid_t group, const char *name, const char *full_name, int rank,
                              const hsize_t *dims, hid_t file_type, hid_t mem_type, const void *data, size_t n_bytes) {
    dt_status status = DT_OK;
    dt_error *err = w->err;
    hid_t space = H5I_INVALID_HID, dataset = H5I_INVALID_HID;
    char sha[65];
    if (dt_sha256_hex(data, n_bytes, sha) != 0) return dt_fail(err, DT_NOMEM, "out of memory hashing '%s'", full_name);
    CHECK_W(space = H5Screate_simple(rank, dims, NULL), "tensor '%s': dataspace", full_name);
    CHECK_W(dataset = H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT),
            "creating tensor '%s'", full_name);
    if (n_bytes > 0) CHECK_W(H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing tensor '%s'", full_name);
    DT_TRY(write_attr_str(w, dataset, "sha256", sha));
cleanup:
    if (dataset >= 0) H5Dclose(dataset);
    if (space >= 0) H5Sclose(space);
    return status;
}

/* Writes the weight and bias of every layer under group (params, or a moment buffer). */
static dt_status write_layers(writer *w, hid_t group, const char *prefix, const dt_net *net, const float *flat) {
    dt_status status = DT_OK;
    for (int l = 0; l < net->n_layers && status == DT_OK; l++) {
        const dt_layer *layer = &net->layers[l];
        hid_t lg = H5I_INVALID_HID;
        char full[96];
        hsize_t wdims[2] = {(hsize_t)layer->n_out, (hsize_t)layer->n_in}, bdims[1] = {(hsize_t)layer->n_out};
        status = make_group(w, group, layer->name, &lg);
        if (status == DT_OK && !strcmp(prefix, "params")) {
            status = write_attr_i32(w, lg, "n_in", layer->n_in);
            if (status == DT_OK) status = write_attr_i32(w, lg, "n_out", layer->n_out);
            if (status == DT_OK) status = write_attr_str(w, lg, "activation", dt_activation_name(layer->activation));
            if (status == DT_OK) status = write_attr_f32(w, lg, "dropout", layer->dropout);
        }
        snprintf(full, sizeof full, "%s/%s/weight", prefix, layer->name);
        if (status == DT_OK)
            status = write_tensor(w, lg, "weight", full, 2, wdims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                  flat + layer->weight_offset, (size_t)layer->n_in * layer->n_out * sizeof(float));
        snprintf(full, sizeof full, "%s/%s/bias", prefix, layer->name);
        if (status == DT_OK)
            status = write_tensor(w, lg, "bias", full, 1, bdims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                  flat + layer->bias_offset, (size_t)layer->n_out * sizeof(float));
        if (lg >= 0) H5Gclose(lg);
    }
    return status;
}

/* Group name/ with groups m (and v for adam, adamw) of every layer, and the counters. */
static dt_status write_optimizer(writer *w, const dt_checkpoint_view *v) {
    dt_status status = DT_OK;
    dt_error *err = w->err;
    hid_t group = H5I_INVALID_HID, m = H5I_INVALID_HID, vg = H5I_INVALID_HID;
    const dt_optim_counters *c = &v->progress->counters;
    DT_TRY(make_group(w, w->file, "optimizer", &group));
    DT_TRY(write_attr_str(w, group, "kind", dt_optimizer_name(v->cfg->optimizer.kind)));
    DT_TRY(write_attr_u64(w, group, "step", c->step));
    DT_TRY(write_attr_f32(w, group, "beta1_pow", c->beta1_pow));
    DT_TRY(write_attr_f32(w, group, "beta2_pow", c->beta2_pow));
    DT_TRY(make_group(w, group, "m", &m));
    DT_TRY(write_layers(w, m, "optimizer/m", v->net, v->state->opt_m));
    if (v->cfg->optimizer.kind != DT_OPT_SGD) {
        DT_TRY(make_group(w, group, "v", &vg));
        DT_TRY(write_layers(w, vg, "optimizer/v", v->net, v->state->opt_v));
    }
cleanup:
    if (vg >= 0) H5Gclose(vg);
    if (m >= 0) H5Gclose(m);
    if (group >= 0) H5Gclose(group);
    (void)err;
    return status;
}

/* Group selection/: the best epoch so far and early stopping's count (runs that select only,
 * so other runs' checkpoints keep their bytes). */
static dt_status write_selection(writer *w, const dt_train_progress *p) {
    dt_status status = DT_OK;
    hid_t group = H5I_INVALID_HID;
    DT_TRY(make_group(w, w->file, "selection", &group));
    DT_TRY(write_attr_i32(w, group, "best_epoch", p->best_epoch));
    DT_TRY(write_attr_f64(w, group, "best_value", p->best_value));
    DT_TRY(write_attr_i32(w, group, "since_best", p->since_best));
    DT_TRY(write_attr_i32(w, group, "stopped_early", p->stopped_early));
cleanup:
    if (group >= 0) H5Gclose(group);
    return status;
}

/* Group progress/ (attributes) and trace/ (the per-step loss and lr). */
static dt_status write_progress(writer *w, const dt_checkpoint_view *v) {
    dt_status status = DT_OK;
    hid_t group = H5I_INVALID_HID, trace = H5I_INVALID_HID;
    const dt_train_progress *p = v->progress;
    const uint64_t n_steps = p->counters.step;
    hsize_t dims[1] = {(hsize_t)n_steps};
    DT_TRY(make_group(w, w->file, "progress", &group));
    DT_TRY(write_attr_u64(w, group, "step", n_steps));
    DT_TRY(write_attr_i32(w, group, "epoch", p->epoch));
    DT_TRY(write_attr_i64(w, group, "position", p->position));
    DT_TRY(write_attr_i64(w, group, "steps_per_epoch", p->steps_per_epoch));
    DT_TRY(write_attr_i64(w, group, "total_steps", p->total_steps));
    DT_TRY(write_attr_i64(w, group, "epoch_correct", p->correct));
    DT_TRY(write_attr_i64(w, group, "epoch_seen", p->seen));
    if (v->selecting) DT_TRY(write_selection(w, p));
    DT_TRY(make_group(w, w->file, "trace", &trace));
    DT_TRY(write_tensor(w, trace, "loss", "trace/loss", 1, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v->step_loss,
                        n_steps * sizeof(float)));
    DT_TRY(write_tensor(w, trace, "lr", "trace/lr", 1, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v->step_lr,
                        n_steps * sizeof(float)));
cleanup:
    if (trace >= 0) H5Gclose(trace);
    if (group >= 0) H5Gclose(group);
    return status;
}

/* The RNG keys the run uses, derived from the seed (docs/numerics.md, "Randomness"). */
typedef struct {
    uint32_t init[DT_MAX_LAYERS][2], dropout[DT_MAX_LAYERS][2], shuffle[2];
} rng_keys;

/* Derives the init and dropout keys of every layer and the shuffle key of `epoch`. */
static void derive_keys(uint64_t seed, int n_layers, int32_t epoch, rng_keys *k) {
    memset(k, 0, sizeof *k);
    for (int l = 0; l < n_layers; l++) {
        dt_philox_key init = dt_rng_key(seed, DT_RNG_INIT, (uint32_t)(2 * l));
        dt_philox_key drop = dt_rng_key(seed, DT_RNG_DROPOUT, (uint32_t)l);
        k->init[l][0] = init.v[0], k->init[l][1] = init.v[1];
        k->dropout[l][0] = drop.v[0], k->dropout[l][1] = drop.v[1];
    }
    dt_philox_key shuffle = dt_rng_key(seed, DT_RNG_SHUFFLE, (uint32_t)epoch);
    k->shuffle[0] = shuffle.v[0], k->shuffle[1] = shuffle.v[1];
}

/* Group rng/: the generator, seed, keys and the counters the next step starts from. */
static dt_status write_rng(writer *w, const dt_checkpoint_view *v) {
    dt_status status = DT_OK;
    hid_t group = H5I_INVALID_HID;
    rng_keys k;
    const int n_layers = v->net->n_layers;
    derive_keys(v->cfg->seed, n_layers, v->progress->epoch, &k);
    hsize_t layer_dims[2] = {(hsize_t)n_layers, 2}, pair[1] = {2};
    DT_TRY(make_group(w, w->file, "rng", &group));
    DT_TRY(write_attr_str(w, group, "generator", "philox4x32-10"));
    DT_TRY(write_attr_u64(w, group, "seed", v->cfg->seed));
    DT_TRY(write_attr(w, group, "init_keys", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, layer_dims, k.init));
    DT_TRY(write_attr(w, group, "dropout_keys", H5T_STD_U32LE, H5T_NATIVE_UINT32, 2, layer_dims, k.dropout));
    DT_TRY(write_attr_i32(w, group, "shuffle_epoch", v->progress->epoch));
    DT_TRY(write_attr(w, group, "shuffle_key", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, pair, k.shuffle));
    DT_TRY(write_attr_u64(w, group, "dropout_step", v->progress->counters.step));
    DT_TRY(write_attr_i64(w, group, "shuffle_position", v->progress->position));
cleanup:
    if (group >= 0) H5Gclose(group);
    return status;
}

/* data/train and data/test: sample counts and each file's path, size and SHA-256. */
static dt_status write_data_set(writer *w, hid_t parent, const char *name, const dt_dataset *ds) {
    dt_status status = DT_OK;
    hid_t group = H5I_INVALID_HID;
    const char *paths[DT_MAX_DATA_FILES], *shas[DT_MAX_DATA_FILES];
    int64_t sizes[DT_MAX_DATA_FILES];
    for (int i = 0; i < ds->n_files; i++) {
        paths[i] = ds->files[i].path;
        shas[i] = ds->files[i].sha256;
        sizes[i] = ds->files[i].size_bytes;
    }
    hsize_t dims[1] = {(hsize_t)ds->n_files};
    DT_TRY(make_group(w, parent, name, &group));
    DT_TRY(write_attr_i64(w, group, "samples", ds->n_samples));
    DT_TRY(write_attr_i32(w, group, "features", ds->n_features));
    DT_TRY(write_attr_strs(w, group, "file_paths", ds->n_files, paths));
    DT_TRY(write_attr(w, group, "file_sizes", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dims, sizes));
    DT_TRY(write_attr_strs(w, group, "file_sha256", ds->n_files, shas));
cleanup:
    if (group >= 0) H5Gclose(group);
    return status;
}

/* data/validation: like the others, and a split's share and held-out indices' digest. */
static dt_status write_validation(writer *w, hid_t data, const dt_validation_view *val) {
    dt_status status = DT_OK;
    hid_t group = H5I_INVALID_HID;
    DT_TRY(write_data_set(w, data, "validation", val->set));
    if (val->split > 0) {
        DT_TRY(make_group(w, data, "validation_split", &group));
        DT_TRY(write_attr_f32(w, group, "share", val->split));
        DT_TRY(write_attr_str(w, group, "indices_sha256", val->indices_sha256));
    }
cleanup:
    if (group >= 0) H5Gclose(group);
    return status;
}

/* Group data/ and, with standardize, normalization/ (the training set's moments). */
static dt_status write_data(writer *w, const dt_checkpoint_view *v) {
    dt_status status = DT_OK;
    hid_t group = H5I_INVALID_HID, norm = H5I_INVALID_HID;
    DT_TRY(make_group(w, w->file, "data", &group));
    DT_TRY(write_data_set(w, group, "train", v->train));
    DT_TRY(write_data_set(w, group, "test", v->test));
    if (v->validation) DT_TRY(write_validation(w, group, v->validation));
    if (v->norm_mean && v->norm_std) {
        hsize_t dims[1] = {(hsize_t)v->net->input_size};
        size_t bytes = (size_t)v->net->input_size * sizeof(double);
        DT_TRY(make_group(w, w->file, "normalization", &norm));
        DT_TRY(write_attr_str(w, norm, "kind", "standardize"));
        DT_TRY(write_tensor(w, norm, "mean", "normalization/mean", 1, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                            v->norm_mean, bytes));
        DT_TRY(write_tensor(w, norm, "std", "normalization/std", 1, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                            v->norm_std, bytes));
    }
cleanup:
    if (norm >= 0) H5Gclose(norm);
    if (group >= 0) H5Gclose(group);
    return status;
}

/* The root attributes: format, version, code, config and parameter digest. */
static dt_status write_root(writer *w, const dt_checkpoint_view *v, const char *config_text, const char *params_sha) {
    dt_status status = DT_OK;
    char config_sha[65];
    if (dt_sha256_hex(config_text, strlen(config_text), config_sha) != 0)
        return dt_fail(w->err, DT_NOMEM, "out of memory hashing the config");
    DT_TRY(write_attr_str(w, w->file, "format", DT_CHECKPOINT_FORMAT));
    DT_TRY(write_attr_i32(w, w->file, "format_version", DT_CHECKPOINT_VERSION));
    DT_TRY(write_attr_str(w, w->file, "detrain_version", DT_VERSION));
    DT_TRY(write_attr_str(w, w->file, "git_commit", DT_GIT_COMMIT));
    DT_TRY(write_attr_i32(w, w->file, "git_dirty", DT_GIT_DIRTY));
    DT_TRY(write_attr_str(w, w->file, "config", config_text));
    DT_TRY(write_attr_str(w, w->file, "config_sha256", config_sha));
    DT_TRY(write_attr_i64(w, w->file, "n_params", v->net->n_params));
    DT_TRY(write_attr_str(w, w->file, "params_sha256", params_sha));
cleanup:
    return status;
}

/* Writes the whole checkpoint into the open writer. */
static dt_status write_contents(writer *w, const dt_checkpoint_view *v, const char *params_sha) {
    dt_status status = DT_OK;
    hid_t params = H5I_INVALID_HID;
    char *config_text = dt_config_to_json(v->cfg);
    if (!config_text) return dt_fail(w->err, DT_NOMEM, "out of memory writing the config");
    DT_TRY(write_root(w, v, config_text, params_sha));
    DT_TRY(make_group(w, w->file, "params", &params));
    DT_TRY(write_layers(w, params, "params", v->net, v->state->params));
    DT_TRY(write_optimizer(w, v));
    DT_TRY(write_progress(w, v));
    DT_TRY(write_rng(w, v));
    DT_TRY(write_data(w, v));
cleanup:
    if (params >= 0) H5Gclose(params);
    free(config_text);
    return status;
}

dt_status dt_checkpoint_write(const char *path, const dt_checkpoint_view *view, char params_sha256[65],
                              char file_sha256[65], dt_error *err) {
    dt_status status = DT_OK;
    writer wr = {path, err, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    writer *w = &wr;
    hid_t fcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID;
    unsigned char *image = NULL;
    ssize_t image_size = 0;
    dt_h5_quiet quiet;
    dt_h5_quiet_begin(&quiet);
    dt_params_sha256(view->net, view->state->params, params_sha256);
    /* No object time stamps anywhere (file, groups, datasets): same state, same bytes. */
    CHECK_W(fcpl = H5Pcreate(H5P_FILE_CREATE), "creating the file creation list");
    CHECK_W(H5Pset_obj_track_times(fcpl, 0), "turning time stamps off");
    CHECK_W(fapl = H5Pcreate(H5P_FILE_ACCESS), "creating the file access list");
    CHECK_W(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "setting the close degree");
    CHECK_W(H5Pset_fapl_core(fapl, (size_t)1 << 20, 0), "building the checkpoint in memory");
    CHECK_W(w->gcpl = H5Pcreate(H5P_GROUP_CREATE), "creating the group creation list");
    CHECK_W(H5Pset_obj_track_times(w->gcpl, 0), "turning group time stamps off");
    CHECK_W(w->dcpl = H5Pcreate(H5P_DATASET_CREATE), "creating the dataset creation list");
    CHECK_W(H5Pset_obj_track_times(w->dcpl, 0), "turning dataset time stamps off");
    CHECK_W(w->str_type = H5Tcopy(H5T_C_S1), "creating the string type");
    CHECK_W(H5Tset_size(w->str_type, H5T_VARIABLE), "making strings variable-length");
    CHECK_W(H5Tset_cset(w->str_type, H5T_CSET_UTF8), "making strings UTF-8");
    CHECK_W(w->file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl), "cannot create the checkpoint");
    DT_TRY(write_contents(w, view, params_sha256));
    CHECK_W(H5Fflush(w->file, H5F_SCOPE_GLOBAL), "flushing the checkpoint");
    CHECK_W(image_size = H5Fget_file_image(w->file, NULL, 0), "measuring the checkpoint's image");
    image = malloc((size_t)image_size + 1);
    if (!image) {
        status = dt_fail(err, DT_NOMEM, "%s: out of memory for a %zd-byte checkpoint", path, image_size);
        goto cleanup;
    }
    CHECK_W(H5Fget_file_image(w->file, image, (size_t)image_size), "copying the checkpoint's image");
    {
        hid_t file = w->file;
        w->file = H5I_INVALID_HID;
        CHECK_W(H5Fclose(file), "closing the checkpoint");
    }
    dt_sha256_hex(image, (size_t)image_size, file_sha256);
    DT_TRY(dt_write_file_atomic(path, image, (size_t)image_size, err));
cleanup:
    if (w->file >= 0) H5Fclose(w->file);
    free(image);
    if (w->str_type >= 0) H5Tclose(w->str_type);
    if (w->dcpl >= 0) H5Pclose(w->dcpl);
    if (w->gcpl >= 0) H5Pclose(w->gcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    dt_h5_quiet_end(&quiet);
    return status;
}

/* ---- reading --------------------------------------------------------------------------------- */

/* A checkpoint being read. */
typedef struct {
    const char *path;
    dt_error *err;
    hid_t file;
} reader;

#define CHECK_R(expr, ...) DT_CHECK_H5(DT_CHECKPOINT, r->path, expr, __VA_ARGS__)

/* Attribute classes the reader accepts. */
typedef enum { A_INT, A_FLOAT, A_STRING } attr_class;

/* Opens attribute `name` of object `object` ("." is the root) after checking it exists, has
 * `n_elements` elements and the expected class (and size, for numbers); *attr and *type
 * are the caller's to close. */
static dt_status open_attr(reader *r, const char *object, const char *name, attr_class want, size_t size,
                           hssize_t n_elements, hid_t *attr, hid_t *type) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hid_t space = H5I_INVALID_HID;
    htri_t exists;
    hssize_t n;
    H5T_class_t cls;
    *attr = *type = H5I_INVALID_HID;
    CHECK_R(exists = H5Aexists_by_name(r->file, object, name, H5P_DEFAULT), "looking for attribute '%s/%s'", object,
            name);
    if (!exists) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: attribute '%s' of '%s' is missing", r->path, name, object);
        goto cleanup;
    }
    CHECK_R(*attr = H5Aopen_by_name(r->file, object, name, H5P_DEFAULT, H5P_DEFAULT), "opening attribute '%s'", name);
    CHECK_R(*type = H5Aget_type(*attr), "attribute '%s': type", name);
    CHECK_R(cls = H5Tget_class(*type), "attribute '%s': type class", name);
    CHECK_R(space = H5Aget_space(*attr), "attribute '%s': dataspace", name);
    CHECK_R(n = H5Sget_simple_extent_npoints(space), "attribute '%s': size", name);
    const int class_ok = want == A_INT ? cls == H5T_INTEGER : want == A_FLOAT ? cls == H5T_FLOAT : cls == H5T_STRING;
    const int vlen = want == A_STRING ? H5Tis_variable_str(*type) > 0 : 1;
    const int size_ok = want == A_STRING || H5Tget_size(*type) == size;
    if (!class_ok || !vlen || !size_ok || n != n_elements)
        status = dt_fail(err, DT_CHECKPOINT, "%s: attribute '%s' of '%s' has the wrong type or size", r->path, name,
                         object);
cleanup:
    if (space >= 0) H5Sclose(space);
    return status;
}

/* Reads a numeric attribute of n_elements values of mem_type (size bytes each) into out. */
static dt_status read_attr_num(reader *r, const char *object, const char *name, attr_class cls, hid_t mem_type,
                               size_t size, hssize_t n_elements, void *out) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hid_t attr, type;
    DT_TRY(open_attr(r, object, name, cls, size, n_elements, &attr, &type));
    CHECK_R(H5Aread(attr, mem_type, out), "reading attribute '%s'", name);
cleanup:
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    return status;
}

/* A scalar integer attribute of 4 bytes. */
static dt_status read_i32(reader *r, const char *object, const char *name, int32_t *out) {
    return read_attr_num(r, object, name, A_INT, H5T_NATIVE_INT32, 4, 1, out);
}

/* A scalar integer attribute of 8 bytes, signed. */
static dt_status read_i64(reader *r, const char *object, const char *name, int64_t *out) {
    return read_attr_num(r, object, name, A_INT, H5T_NATIVE_INT64, 8, 1, out);
}

/* A scalar integer attribute of 8 bytes, unsigned. */
static dt_status read_u64(reader *r, const char *object, const char *name, uint64_t *out) {
    return read_attr_num(r, object, name, A_INT, H5T_NATIVE_UINT64, 8, 1, out);
}

/* A scalar float32 attribute. */
static dt_status read_f32(reader *r, const char *object, const char *name, float *out) {
    return read_attr_num(r, object, name, A_FLOAT, H5T_NATIVE_FLOAT, 4, 1, out);
}

/* Reads n variable-length strings of an attribute into out[i] (malloc'ed copies, caller
 * frees each; NULLs on failure). n = 1 for a scalar attribute. */
static dt_status read_strs(reader *r, const char *object, const char *name, hssize_t n, char **out) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hid_t attr, type, mem = H5I_INVALID_HID;
    char *values[DT_MAX_DATA_FILES] = {NULL};
    for (hssize_t i = 0; i < n; i++) out[i] = NULL;
    if (n < 1 || n > DT_MAX_DATA_FILES) return dt_fail(err, DT_INTERNAL, "read_strs: bad count %lld", (long long)n);
    DT_TRY(open_attr(r, object, name, A_STRING, 0, n, &attr, &type));
    CHECK_R(mem = H5Tcopy(H5T_C_S1), "string type");
    CHECK_R(H5Tset_size(mem, H5T_VARIABLE), "string type size");
    CHECK_R(H5Tset_cset(mem, H5Tget_cset(type)), "string type character set");
    CHECK_R(H5Aread(attr, mem, values), "reading attribute '%s'", name);
    for (hssize_t i = 0; i < n; i++) {
        out[i] = strdup(values[i] ? values[i] : "");
        if (!out[i]) status = dt_fail(err, DT_NOMEM, "out of memory reading attribute '%s'", name);
    }
cleanup:
    for (int i = 0; i < DT_MAX_DATA_FILES; i++)
        if (values[i]) H5free_memory(values[i]);
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    if (attr >= 0) H5Aclose(attr);
    if (status != DT_OK)
        for (hssize_t i = 0; i < n && i < DT_MAX_DATA_FILES; i++) free(out[i]), out[i] = NULL;
    return status;
}

/* Reads one scalar string attribute into a fixed buffer (cut to size). */
static dt_status read_str_into(reader *r, const char *object, const char *name, char *buf, size_t size) {
    char *value = NULL;
    dt_status status = read_strs(r, object, name, 1, &value);
    if (status == DT_OK) snprintf(buf, size, "%s", value);
    free(value);
    return status;
}

/* A digest attribute into buf (65 bytes): refused unless it is 64 lowercase hex digits, so a
 * damaged one is named, never printed (it may hold any bytes, line breaks too). */
static dt_status read_sha_into(reader *r, const char *object, const char *name, char *buf) {
    char *value = NULL;
    dt_status status = read_strs(r, object, name, 1, &value);
    if (status != DT_OK) return status;
    size_t n = 0;
    while ((value[n] >= '0' && value[n] <= '9') || (value[n] >= 'a' && value[n] <= 'f')) n++;
    if (n == 64 && value[n] == '\0') memcpy(buf, value, 65);
    else status = dt_fail(r->err, DT_CHECKPOINT, "%s: attribute '%s' of '%s' is not a SHA-256 (64 hex digits)",
                          r->path, name, object);
    free(value);
    return status;
}

/* Checks the open tensor `name` (its type and dataspace): little-endian float of `elem` bytes
 * (`dtype` in messages), of `rank` dimensions equal to dims; *n_elements: their product. */
static dt_status check_tensor(reader *r, const char *name, hid_t type, hid_t space, size_t elem, const char *dtype,
                              int rank, const uint64_t *dims, size_t *n_elements) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hsize_t found[H5S_MAX_RANK];
    int found_rank;
    H5T_class_t cls;
    H5T_order_t order;
    CHECK_R(found_rank = H5Sget_simple_extent_ndims(space), "tensor '%s': rank", name);
    CHECK_R(cls = H5Tget_class(type), "tensor '%s': type class", name);
    CHECK_R(order = H5Tget_order(type), "tensor '%s': byte order", name);
    if (cls != H5T_FLOAT || H5Tget_size(type) != elem || order != H5T_ORDER_LE)
        return dt_fail(err, DT_CHECKPOINT, "%s: tensor '%s' is not little-endian %s", r->path, name, dtype);
    if (found_rank != rank)
        return dt_fail(err, DT_CHECKPOINT, "%s: tensor '%s' has rank %d, expected %d", r->path, name, found_rank, rank);
    CHECK_R(H5Sget_simple_extent_dims(space, found, NULL), "tensor '%s': shape", name);
    *n_elements = 1;
    for (int i = 0; i < rank; i++) {
        if (found[i] != dims[i])
            return dt_fail(err, DT_CHECKPOINT, "%s: tensor '%s' has %llu elements in dimension %d, expected %llu",
                           r->path, name, (unsigned long long)found[i], i, (unsigned long long)dims[i]);
        *n_elements *= (size_t)dims[i];
    }
cleanup:
    return status;
}

/* Reads tensor `name` (rank, dims, float32 or float64 little-endian) into out after checking
 * its type and shape; records it in ck->tensors with its recorded and computed digests. A
 * digest mismatch is not an error here (the caller reports the first one). */
static dt_status read_tensor(reader *r, dt_checkpoint *ck, const char *name, int rank, const uint64_t *dims,
                             int is_double, void *out) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hid_t dataset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    htri_t exists;
    const size_t elem = is_double ? 8 : 4;
    if (ck->n_tensors >= DT_CHECKPOINT_MAX_TENSORS) return dt_fail(err, DT_INTERNAL, "too many tensors");
    dt_tensor_info *info = &ck->tensors[ck->n_tensors];
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", name);
    info->rank = rank;
    info->dtype = is_double ? "float64" : "float32";
    for (int i = 0; i < rank; i++) info->dims[i] = dims[i];
    CHECK_R(exists = H5Lexists(r->file, name, H5P_DEFAULT), "looking for tensor '%s'", name);
    if (!exists) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: tensor '%s' is missing", r->path, name);
        goto cleanup;
    }
    CHECK_R(dataset = H5Dopen2(r->file, name, H5P_DEFAULT), "opening tensor '%s'", name);
    CHECK_R(type = H5Dget_type(dataset), "tensor '%s': type", name);
    CHECK_R(space = H5Dget_space(dataset), "tensor '%s': dataspace", name);
    size_t n_elements = 0;
    DT_TRY(check_tensor(r, name, type, space, elem, info->dtype, rank, dims, &n_elements));
    if (n_elements > 0)
        CHECK_R(H5Dread(dataset, is_double ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out),
                "reading tensor '%s'", name);
    {
        char object[128];
        snprintf(object, sizeof object, "/%s", name);
        DT_TRY(read_sha_into(r, object, "sha256", info->recorded_sha256));
    }
    if (dt_sha256_hex(out, n_elements * elem, info->computed_sha256) != 0)
        status = dt_fail(err, DT_NOMEM, "out of memory hashing '%s'", name);
    info->ok = strcmp(info->recorded_sha256, info->computed_sha256) == 0;
    ck->n_tensors++;
cleanup:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (dataset >= 0) H5Dclose(dataset);
    return status;
}

/* Reads the weights and biases of every layer under prefix ("params", "optimizer/m"). */
static dt_status read_layers(reader *r, dt_checkpoint *ck, const char *prefix, float *flat) {
    dt_status status = DT_OK;
    for (int l = 0; l < ck->net.n_layers && status == DT_OK; l++) {
        const dt_layer *layer = &ck->net.layers[l];
        char name[96];
        uint64_t wdims[2] = {(uint64_t)layer->n_out, (uint64_t)layer->n_in}, bdims[1] = {(uint64_t)layer->n_out};
        snprintf(name, sizeof name, "%s/%s/weight", prefix, layer->name);
        status = read_tensor(r, ck, name, 2, wdims, 0, flat + layer->weight_offset);
        snprintf(name, sizeof name, "%s/%s/bias", prefix, layer->name);
        if (status == DT_OK) status = read_tensor(r, ck, name, 1, bdims, 0, flat + layer->bias_offset);
    }
    return status;
}

/* Root attributes: format, version, code, config (parsed into ck->cfg and ck->net). */
static dt_status read_root(reader *r, dt_checkpoint *ck) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    char format[64] = "", sha[65];
    htri_t has_format;
    CHECK_R(has_format = H5Aexists(r->file, "format"), "looking for the format attribute");
    if (has_format) DT_TRY(read_str_into(r, ".", "format", format, sizeof format));
    if (!has_format || strcmp(format, DT_CHECKPOINT_FORMAT) != 0) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: not a detrain checkpoint (format attribute %s%s%s)", r->path,
                         has_format ? "'" : "missing", has_format ? format : "", has_format ? "'" : "");
        goto cleanup;
    }
    DT_TRY(read_i32(r, ".", "format_version", &ck->format_version));
    if (ck->format_version != DT_CHECKPOINT_VERSION) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: checkpoint format version %d is not supported (this detrain reads version %d)",
                         r->path, ck->format_version, DT_CHECKPOINT_VERSION);
        goto cleanup;
    }
    DT_TRY(read_str_into(r, ".", "detrain_version", ck->detrain_version, sizeof ck->detrain_version));
    DT_TRY(read_str_into(r, ".", "git_commit", ck->git_commit, sizeof ck->git_commit));
    {
        int32_t dirty = 0;
        DT_TRY(read_i32(r, ".", "git_dirty", &dirty));
        ck->git_dirty = dirty != 0;
    }
    DT_TRY(read_strs(r, ".", "config", 1, &ck->config_json));
    DT_TRY(read_sha_into(r, ".", "config_sha256", ck->config_sha256));
    DT_TRY(read_sha_into(r, ".", "params_sha256", ck->params_sha256));
    dt_sha256_hex(ck->config_json, strlen(ck->config_json), sha);
    if (strcmp(sha, ck->config_sha256) != 0) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: the stored config does not match its config_sha256 (recorded %.12s..., computed %.12s...)",
                         r->path, ck->config_sha256, sha);
        goto cleanup;
    }
    ck->cfg = malloc(sizeof *ck->cfg);
    if (!ck->cfg) return dt_fail(err, DT_NOMEM, "out of memory reading %s", r->path);
    char origin[DT_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s (config attribute)", r->path);
    status = dt_config_parse(ck->cfg, ck->config_json, origin, NULL, 0, NULL, err);
    if (status != DT_OK) {
        status = DT_CHECKPOINT;
        goto cleanup;
    }
    DT_TRY(dt_net_build(&ck->net, ck->cfg, err));
    int64_t n_params = 0;
    DT_TRY(read_i64(r, ".", "n_params", &n_params));
    if (n_params != ck->net.n_params)
        status = dt_fail(err, DT_CHECKPOINT, "%s: n_params is %lld, the config's model has %lld", r->path,
                         (long long)n_params, (long long)ck->net.n_params);
cleanup:
    return status;
}

/* progress/ and optimizer/ counters, checked against each other and the config. */
static dt_status read_progress(reader *r, dt_checkpoint *ck) {
    dt_status status = DT_OK;
    dt_train_progress *p = &ck->progress;
    uint64_t opt_step = 0;
    char kind[32];
    DT_TRY(read_u64(r, "/progress", "step", &p->counters.step));
    DT_TRY(read_i32(r, "/progress", "epoch", &p->epoch));
    DT_TRY(read_i64(r, "/progress", "position", &p->position));
    DT_TRY(read_i64(r, "/progress", "steps_per_epoch", &p->steps_per_epoch));
    DT_TRY(read_i64(r, "/progress", "total_steps", &p->total_steps));
    DT_TRY(read_i64(r, "/progress", "epoch_correct", &p->correct));
    DT_TRY(read_i64(r, "/progress", "epoch_seen", &p->seen));
    DT_TRY(read_str_into(r, "/optimizer", "kind", kind, sizeof kind));
    DT_TRY(read_u64(r, "/optimizer", "step", &opt_step));
    DT_TRY(read_f32(r, "/optimizer", "beta1_pow", &p->counters.beta1_pow));
    DT_TRY(read_f32(r, "/optimizer", "beta2_pow", &p->counters.beta2_pow));
    DT_TRY(read_i64(r, "/data/train", "samples", &ck->train_samples));
    DT_TRY(read_i64(r, "/data/test", "samples", &ck->test_samples));
    const dt_config *cfg = ck->cfg;
    const int64_t spe = ck->train_samples > 0 ? dt_steps_per_epoch(cfg, ck->train_samples) : 0;
    const char *problem = NULL;
    if (strcmp(kind, dt_optimizer_name(cfg->optimizer.kind)) != 0) problem = "the optimizer kind differs from the config's";
    else if (opt_step != p->counters.step) problem = "optimizer/step differs from progress/step";
    else if (spe <= 0 || p->steps_per_epoch != spe) problem = "steps_per_epoch does not follow from the config and the training set";
    else if (spe > INT64_MAX / cfg->train.epochs || p->total_steps != spe * cfg->train.epochs)
        problem = "total_steps does not follow from the config";
    else if (p->counters.step > (uint64_t)p->total_steps) problem = "step is past the end of the run";
    else if (p->epoch < 0 || p->epoch > cfg->train.epochs || (int64_t)p->counters.step != p->epoch * spe + p->position / cfg->train.batch_size ||
             p->position % cfg->train.batch_size != 0 || p->position < 0 || p->position / cfg->train.batch_size >= spe)
        problem = "step, epoch and position disagree";
    else if (p->seen != p->position || p->correct < 0 || p->correct > p->seen)
        problem = "the epoch's accuracy counts disagree with its position";
    if (problem) status = dt_fail(r->err, DT_CHECKPOINT, "%s: %s", r->path, problem);
cleanup:
    return status;
}

/* rng/: the seed and keys must be the ones the config's seed derives. */
static dt_status read_rng(reader *r, dt_checkpoint *ck) {
    dt_status status = DT_OK;
    rng_keys want, found;
    uint64_t seed = 0, dropout_step = 0;
    int32_t shuffle_epoch = -1;
    const int n_layers = ck->net.n_layers;
    memset(&found, 0, sizeof found);
    derive_keys(ck->cfg->seed, n_layers, ck->progress.epoch, &want);
    DT_TRY(read_u64(r, "/rng", "seed", &seed));
    DT_TRY(read_attr_num(r, "/rng", "init_keys", A_INT, H5T_NATIVE_UINT32, 4, 2 * n_layers, found.init));
    DT_TRY(read_attr_num(r, "/rng", "dropout_keys", A_INT, H5T_NATIVE_UINT32, 4, 2 * n_layers, found.dropout));
    DT_TRY(read_attr_num(r, "/rng", "shuffle_key", A_INT, H5T_NATIVE_UINT32, 4, 2, found.shuffle));
    DT_TRY(read_i32(r, "/rng", "shuffle_epoch", &shuffle_epoch));
    DT_TRY(read_u64(r, "/rng", "dropout_step", &dropout_step));
    if (seed != ck->cfg->seed || memcmp(&want, &found, sizeof want) != 0 || shuffle_epoch != ck->progress.epoch ||
        dropout_step != ck->progress.counters.step)
        status = dt_fail(r->err, DT_CHECKPOINT, "%s: the RNG keys or counters do not follow from the config's seed and the step",
                         r->path);
cleanup:
    return status;
}

/* data/<name>: the file records. */
static dt_status read_data_set(reader *r, const char *object, int *n_files, dt_file_record *files) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hid_t attr = H5I_INVALID_HID, space = H5I_INVALID_HID;
    char *paths[DT_MAX_DATA_FILES] = {NULL}, *shas[DT_MAX_DATA_FILES] = {NULL};
    int64_t sizes[DT_MAX_DATA_FILES];
    hssize_t n = 0;
    CHECK_R(attr = H5Aopen_by_name(r->file, object, "file_paths", H5P_DEFAULT, H5P_DEFAULT), "opening %s/file_paths",
            object);
    CHECK_R(space = H5Aget_space(attr), "%s/file_paths: dataspace", object);
    CHECK_R(n = H5Sget_simple_extent_npoints(space), "%s/file_paths: size", object);
    if (n < 1 || n > DT_MAX_DATA_FILES) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: %s lists %lld files", r->path, object, (long long)n);
        goto cleanup;
    }
    DT_TRY(read_strs(r, object, "file_paths", n, paths));
    DT_TRY(read_strs(r, object, "file_sha256", n, shas));
    DT_TRY(read_attr_num(r, object, "file_sizes", A_INT, H5T_NATIVE_INT64, 8, n, sizes));
    *n_files = (int)n;
    for (int i = 0; i < (int)n; i++) {
        snprintf(files[i].path, sizeof files[i].path, "%s", paths[i]);
        snprintf(files[i].sha256, sizeof files[i].sha256, "%s", shas[i]);
        files[i].size_bytes = sizes[i];
    }
cleanup:
    for (int i = 0; i < DT_MAX_DATA_FILES; i++) free(paths[i]), free(shas[i]);
    if (space >= 0) H5Sclose(space);
    if (attr >= 0) H5Aclose(attr);
    return status;
}

/* The number of elements of dataset `name`, or -1 when there is no such dataset: sizes a
 * buffer from the file itself before trusting a counter that claims its size. */
static dt_status dataset_elements(reader *r, const char *name, int64_t *n) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    hid_t dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
    htri_t exists;
    hssize_t points;
    *n = -1;
    CHECK_R(exists = H5Lexists(r->file, name, H5P_DEFAULT), "looking for tensor '%s'", name);
    if (exists) {
        CHECK_R(dataset = H5Dopen2(r->file, name, H5P_DEFAULT), "opening tensor '%s'", name);
        CHECK_R(space = H5Dget_space(dataset), "tensor '%s': dataspace", name);
        CHECK_R(points = H5Sget_simple_extent_npoints(space), "tensor '%s': size", name);
        *n = (int64_t)points;
    }
cleanup:
    if (space >= 0) H5Sclose(space);
    if (dataset >= 0) H5Dclose(dataset);
    return status;
}

/* Allocates the buffers a checkpoint of ck->net and ck->progress needs: the trace's only once
 * the file's trace holds as many steps as progress/step says (a damaged counter must not
 * size an allocation). */
static dt_status alloc_buffers(reader *r, dt_checkpoint *ck) {
    dt_status status = dt_host_state_alloc(&ck->state, &ck->net, r->err);
    if (status != DT_OK) return status;
    const size_t n_steps = (size_t)ck->progress.counters.step;
    const char *traces[2] = {"trace/loss", "trace/lr"};
    for (int i = 0; i < 2; i++) {
        int64_t found = 0;
        DT_TRY(dataset_elements(r, traces[i], &found));
        if (found < 0) return dt_fail(r->err, DT_CHECKPOINT, "%s: tensor '%s' is missing", r->path, traces[i]);
        if ((uint64_t)found != ck->progress.counters.step)
            return dt_fail(r->err, DT_CHECKPOINT, "%s: tensor '%s' has %lld elements, expected %llu (progress/step)",
                           r->path, traces[i], (long long)found, (unsigned long long)ck->progress.counters.step);
    }
    ck->step_loss = malloc((n_steps + 1) * sizeof(float));
    ck->step_lr = malloc((n_steps + 1) * sizeof(float));
    if (ck->cfg->data.normalize == DT_NORM_STANDARDIZE) {
        ck->norm_mean = malloc((size_t)ck->net.input_size * sizeof(double));
        ck->norm_std = malloc((size_t)ck->net.input_size * sizeof(double));
        if (!ck->norm_mean || !ck->norm_std) return dt_fail(r->err, DT_NOMEM, "%s: out of memory", r->path);
    }
    if (!ck->step_loss || !ck->step_lr) return dt_fail(r->err, DT_NOMEM, "%s: out of memory", r->path);
cleanup:
    return status;
}

/* Whether the checkpoint holds object `name`. */
static dt_status has_object(reader *r, const char *name, int *found) {
    dt_status status = DT_OK;
    dt_error *err = r->err;
    htri_t exists;
    CHECK_R(exists = H5Lexists(r->file, name, H5P_DEFAULT), "looking for '%s'", name);
    *found = exists > 0;
cleanup:
    return status;
}

/* The groups only some runs have: data/validation (with data/validation_split) and
 * selection/, checked against the progress they belong to. */
static dt_status read_optional(reader *r, dt_checkpoint *ck) {
    dt_status status = DT_OK;
    dt_train_progress *p = &ck->progress;
    int found = 0;
    DT_TRY(has_object(r, "/data/validation", &found));
    if (found) {
        DT_TRY(read_data_set(r, "/data/validation", &ck->n_val_files, ck->val_files));
        DT_TRY(read_i64(r, "/data/validation", "samples", &ck->val_samples));
        DT_TRY(has_object(r, "/data/validation_split", &found));
        if (found) DT_TRY(read_sha_into(r, "/data/validation_split", "indices_sha256", ck->val_indices_sha256));
    }
    DT_TRY(has_object(r, "/selection", &found));
    if (!found) goto cleanup;
    DT_TRY(read_i32(r, "/selection", "best_epoch", &p->best_epoch));
    DT_TRY(read_attr_num(r, "/selection", "best_value", A_FLOAT, H5T_NATIVE_DOUBLE, 8, 1, &p->best_value));
    DT_TRY(read_i32(r, "/selection", "since_best", &p->since_best));
    DT_TRY(read_i32(r, "/selection", "stopped_early", &p->stopped_early));
    if (p->best_epoch < 0 || p->best_epoch > p->epoch || p->since_best < 0 || p->since_best > p->epoch ||
        (p->stopped_early != 0 && p->stopped_early != 1) || (p->stopped_early && p->position != 0))
        status = dt_fail(r->err, DT_CHECKPOINT, "%s: selection/ disagrees with progress/", r->path);
cleanup:
    return status;
}

/* Reads everything after the root: tensors, counters, RNG, data records. */
static dt_status read_body(reader *r, dt_checkpoint *ck) {
    dt_status status = DT_OK;
    DT_TRY(read_progress(r, ck));
    DT_TRY(alloc_buffers(r, ck));
    DT_TRY(read_layers(r, ck, "params", ck->state.params));
    DT_TRY(read_layers(r, ck, "optimizer/m", ck->state.opt_m));
    if (ck->cfg->optimizer.kind != DT_OPT_SGD) DT_TRY(read_layers(r, ck, "optimizer/v", ck->state.opt_v));
    uint64_t n_steps[1] = {ck->progress.counters.step}, n_in[1] = {(uint64_t)ck->net.input_size};
    DT_TRY(read_tensor(r, ck, "trace/loss", 1, n_steps, 0, ck->step_loss));
    DT_TRY(read_tensor(r, ck, "trace/lr", 1, n_steps, 0, ck->step_lr));
    if (ck->norm_mean) {
        DT_TRY(read_tensor(r, ck, "normalization/mean", 1, n_in, 1, ck->norm_mean));
        DT_TRY(read_tensor(r, ck, "normalization/std", 1, n_in, 1, ck->norm_std));
    }
    DT_TRY(read_rng(r, ck));
    DT_TRY(read_data_set(r, "/data/train", &ck->n_train_files, ck->train_files));
    DT_TRY(read_data_set(r, "/data/test", &ck->n_test_files, ck->test_files));
    DT_TRY(read_optional(r, ck));
cleanup:
    return status;
}

/* Fails on the first tensor whose digest differs, then (with_params) on a parameter digest
 * that differs from the recorded params_sha256. */
static dt_status check_digests(reader *r, dt_checkpoint *ck, int with_params) {
    for (int i = 0; i < ck->n_tensors; i++) {
        const dt_tensor_info *t = &ck->tensors[i];
        if (!t->ok)
            return dt_fail(r->err, DT_CHECKPOINT,
                           "%s: tensor '%s' is corrupt: its SHA-256 is %.16s..., the recorded one %.16s...", r->path,
                           t->name, t->computed_sha256, t->recorded_sha256);
    }
    if (!with_params) return DT_OK;
    char params_sha[65];
    dt_params_sha256(&ck->net, ck->state.params, params_sha);
    if (strcmp(params_sha, ck->params_sha256) != 0)
        return dt_fail(r->err, DT_CHECKPOINT,
                       "%s: the parameter digest %.16s... differs from the recorded params_sha256 %.16s...", r->path,
                       params_sha, ck->params_sha256);
    return DT_OK;
}

dt_status dt_checkpoint_read(const char *path, dt_checkpoint *ck, dt_error *err) {
    dt_status status = DT_OK;
    memset(ck, 0, sizeof *ck);
    reader rd = {path, err, H5I_INVALID_HID}, *r = &rd;
    dt_h5_quiet quiet;
    dt_h5_quiet_begin(&quiet);
    if (!dt_file_exists(path)) {
        status = dt_fail(err, DT_CHECKPOINT, "%s: no such checkpoint file", path);
        goto cleanup;
    }
    CHECK_R(r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), "not a readable HDF5 file");
    DT_TRY(read_root(r, ck));
    status = read_body(r, ck);
    /* A corrupt tensor is the more useful report when reading stopped later on. */
    dt_status digests = check_digests(r, ck, status == DT_OK);
    if (digests != DT_OK) status = digests;
cleanup:
    if (r->file >= 0) H5Fclose(r->file);
    dt_h5_quiet_end(&quiet);
    return status;
}

dt_status dt_checkpoint_read_recorded(const char *path, const char *recorded, dt_checkpoint *ck, dt_error *err) {
    if (recorded && recorded[0]) {
        char sha[65];
        const dt_status status = dt_file_sha256(path, sha, err);
        if (status != DT_OK) return status;
        if (strcmp(sha, recorded) != 0)
            return dt_fail(err, DT_CHECKPOINT, "%s: the file's SHA-256 %.16s... differs from the manifest's record %.16s...",
                           path, sha, recorded);
    }
    return dt_checkpoint_read(path, ck, err);
}

void dt_checkpoint_free(dt_checkpoint *ck) {
    free(ck->config_json);
    free(ck->cfg);
    dt_host_state_free(&ck->state);
    free(ck->step_loss);
    free(ck->step_lr);
    free(ck->norm_mean);
    free(ck->norm_std);
    memset(ck, 0, sizeof *ck);
}

/* ---- is a config the checkpoint's run? ------------------------------------------------------ */

/* The first differing key of a JSON comparison, with both values. */
typedef struct {
    char path[512], a[160], b[160];
    int found;
} first_difference;

/* dt_json_diff callback: keeps the first difference. */
static void keep_first(void *ctx, const char *path, const cJSON *a, const cJSON *b) {
    first_difference *first = ctx;
    if (first->found++) return;
    snprintf(first->path, sizeof first->path, "%s", path);
    dt_json_brief(a, first->a, sizeof first->a);
    dt_json_brief(b, first->b, sizeof first->b);
}

/* A copy of cfg's canonical JSON without what dt_check_same_config ignores: data paths,
 * runtime.threads, runtime.gpu and the tracking section. NULL on OOM. */
static cJSON *comparable_config(const dt_config *cfg) {
    dt_config *copy = malloc(sizeof *copy);
    if (!copy) return NULL;
    *copy = *cfg;
    dt_data_source *sources[2] = {&copy->data.train, &copy->data.test};
    for (int s = 0; s < 2; s++) {
        snprintf(sources[s]->path, sizeof sources[s]->path, "-");
        if (sources[s]->labels_path[0]) snprintf(sources[s]->labels_path, sizeof sources[s]->labels_path, "-");
    }
    copy->runtime.threads = 0;
    copy->runtime.gpu = -1;
    copy->tracking.given = false;
    char *text = dt_config_to_json(copy);
    free(copy);
    cJSON *json = text ? cJSON_Parse(text) : NULL;
    free(text);
    return json;
}

dt_status dt_check_same_config(const dt_config *cfg, const char *origin, const dt_checkpoint *ck, const char *ck_path,
                               dt_error *err) {
    cJSON *mine = comparable_config(cfg), *theirs = comparable_config(ck->cfg);
    first_difference first = {"", "", "", 0};
    dt_status status = DT_OK;
    if (!mine || !theirs) status = dt_fail(err, DT_NOMEM, "out of memory comparing configs");
    else if (dt_json_diff(mine, theirs, "config", keep_first, &first) > 0)
        status = dt_fail(err, DT_CONFIG, "%s: the config differs from checkpoint %s's: %s is %s, the checkpoint has %s%s",
                         origin, ck_path, first.path, first.a, first.b,
                         first.found > 1 ? " (and more keys differ)" : "");
    cJSON_Delete(mine);
    cJSON_Delete(theirs);
    return status;
}
