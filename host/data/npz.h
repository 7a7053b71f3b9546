/* npz.h — the members of a NumPy .npz archive held in memory.
 *
 * A .npz is a zip archive of .npy files, one per array, named "<array>.npy" (np.savez). Only
 * stored members (zip method 0) are read: np.savez_compressed deflates them, and such a member
 * is refused with a message that says so. Zip64 records (NumPy writes them for large arrays)
 * are read; archives split over several disks and encrypted members are refused. */
#ifndef DT_NPZ_H
#define DT_NPZ_H

#include <stddef.h>

#include "core/status.h"

/* Whether the bytes start like a zip archive: a local file header, or the end record of an
 * empty archive (np.savez with no arrays). */
int dt_npz_is_zip(const unsigned char *bytes, size_t n_bytes);

/* Finds the member of array `array` ("<array>.npy", or exactly "<array>") in the zip archive
 * `bytes` and checks its CRC-32: *data points into `bytes` (not owned), *n_data its size. When
 * the archive has no such member, *data is NULL and `names` lists the arrays it holds
 * ("'x', 'y'" or "no arrays"). DT_DATA naming `path` for a damaged archive, a compressed or
 * encrypted member, or a failed CRC. */
dt_status dt_npz_find(const unsigned char *bytes, size_t n_bytes, const char *path, const char *array,
                      const unsigned char **data, size_t *n_data, char *names, size_t names_size, dt_error *err);

#endif
