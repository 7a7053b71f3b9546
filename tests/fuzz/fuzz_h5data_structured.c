/* fuzz_h5data_structured.c — structure-aware: the input is a recipe for a VALID HDF5 file,
 * built in memory with the HDF5 C API and loaded with dt_dataset_load. The search then
 * explores detrain's checks of names, types, shapes and values instead of libhdf5's byte
 * parser (which fuzz_h5data covers).
 *
 * Recipe (fuzz_reader: bytes past the end read as 0):
 *   byte 0   expectations: bits 0..2 model.input_size 0..7, bits 3..5 classes 0..7 (0:
 *            regression), bit 6 labels optional, bit 7 limit 2 (else 0)
 *   byte 1   the source's dataset names: low nibble features_dataset, high nibble
 *            labels_dataset, each an index into `names`
 *   byte 2   file layout: bit 0 newest format (else HDF5 1.8's); objects: 1 + (byte >> 1) % 6
 *   objects  a name byte (index into `names`), a kind byte — % 8: 0..2 contiguous dataset,
 *            3 compact, 4 chunked + deflate, 5 group, 6 soft link to another name (one more
 *            byte), 7 external link to a missing file — then, for a dataset, its value
 *            (fuzz_h5_value_read: type, shape, mode, elements). */
#include "data/data.h"
#include "fuzz_util.h"

static const char *const names[] = {"features", "labels", "x", "y", "targets", "g/features", "g/labels", "g", ""};
#define N_NAMES (sizeof names / sizeof names[0])

static char image_name[600], input_path[600];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_hdf5_quiet();
    fuzz_path(image_name, sizeof image_name, "recipe-image.h5"); /* never on disk: no backing store */
    fuzz_path(input_path, sizeof input_path, "input.h5");
    return 0;
}

/* Adds one object of the recipe to file; HDF5 refusing it (a duplicate name) is not an error. */
static void add_object(fuzz_reader *r, hid_t file) {
    const char *name = names[fuzz_u8(r) % N_NAMES];
    const int kind = fuzz_u8(r) % 8;
    if (kind <= 4) {
        fuzz_h5_value value;
        if (fuzz_h5_value_read(r, &value) != 0) return;
        fuzz_h5_put_dataset(file, name, &value, kind <= 2 ? 0 : kind - 2);
        fuzz_h5_value_free(&value);
    } else if (kind == 5) {
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), gcpl = H5Pcreate(H5P_GROUP_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        H5Pset_obj_track_times(gcpl, 0);
        hid_t group = H5Gcreate2(file, name, lcpl, gcpl, H5P_DEFAULT);
        if (group >= 0) H5Gclose(group);
        H5Pclose(gcpl);
        H5Pclose(lcpl);
    } else if (kind == 6) {
        H5Lcreate_soft(names[fuzz_u8(r) % N_NAMES], file, name, H5P_DEFAULT, H5P_DEFAULT);
    } else {
        H5Lcreate_external("/nonexistent/detrain-fuzz.h5", "/features", file, name, H5P_DEFAULT, H5P_DEFAULT);
    }
}

/* Builds the recipe's file in memory and returns its image (malloc'ed), or NULL. */
static unsigned char *build_image(fuzz_reader *r, uint8_t layout, size_t *size) {
    unsigned char *image = NULL;
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), file;
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    if (layout & 1) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    file = H5Fcreate(image_name, H5F_ACC_TRUNC, fcpl, fapl);
    if (file >= 0) {
        const int n_objects = 1 + (layout >> 1) % 6;
        for (int i = 0; i < n_objects; i++) add_object(r, file);
        image = fuzz_h5_image(file, size);
        H5Fclose(file);
    }
    H5Pclose(fapl);
    H5Pclose(fcpl);
    return image;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_MAX_INPUT) return 0;
    fuzz_reader r = {data, size, 0};
    const uint8_t expectations = fuzz_u8(&r), sources = fuzz_u8(&r), layout = fuzz_u8(&r);
    size_t image_size = 0;
    unsigned char *image = build_image(&r, layout, &image_size);
    if (!image) fuzz_fail("HDF5 could not build a file from the recipe", NULL);
    fuzz_write_file(input_path, image, image_size);
    free(image);

    dt_data_source src;
    memset(&src, 0, sizeof src);
    src.format = DT_FORMAT_HDF5;
    snprintf(src.path, sizeof src.path, "%s", input_path);
    snprintf(src.features_dataset, sizeof src.features_dataset, "%s", names[(sources & 15) % N_NAMES]);
    snprintf(src.labels_dataset, sizeof src.labels_dataset, "%s", names[(sources >> 4) % N_NAMES]);
    src.limit = expectations & 0x80 ? 2 : 0;
    dt_data_expect expect = {expectations & 7, (expectations >> 3) & 7, (expectations >> 6) & 1};
    dt_dataset ds;
    dt_error err = {""};
    dt_status status = dt_dataset_load(&ds, &src, &expect, &err);
    fuzz_check_error(status, &err);
    dt_dataset_free(&ds);
    fuzz_h5_check_ids();
    return 0;
}
