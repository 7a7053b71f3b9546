/* export_parts.h — what the safetensors and ONNX writers share (inside host/export only). */
#ifndef DT_EXPORT_PARTS_H
#define DT_EXPORT_PARTS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "records/checkpoint.h"

/* The model's identity and architecture as string -> string pairs, the same in both formats:
 * detrain_version, git_commit, params_sha256, config_sha256, step, input_size, layers (a JSON
 * array of {"units", "activation"}), loss, normalize, and for scale: scale, shift (decimal
 * that round-trips to the float) with their bits (scale_bits, shift_bits); and when
 * `certificates` is not NULL (a registered version's, as a JSON array text), the pair
 * "detrain.certificates" with it. Caller owns it (cJSON_Delete); NULL on OOM. */
cJSON *dt_export_metadata(const dt_checkpoint *ck, const char *certificates);

/* n floats as little-endian float32 bytes at out (4 n bytes): the byte order both formats
 * mandate, whatever the host's. */
void dt_export_f32_le(const float *values, size_t n, unsigned char *out);

/* n doubles as little-endian float64 bytes at out (8 n bytes). */
void dt_export_f64_le(const double *values, size_t n, unsigned char *out);

#endif
