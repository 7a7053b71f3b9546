/* runrec.h — reading a run folder back: manifest.json and trace.jsonl, the recorded config
 * and where the recorded data files are now. Used by resume, verify and diff. */
#ifndef DT_RUNREC_H
#define DT_RUNREC_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cJSON cJSON;

/* A run folder's record. */
typedef struct {
    char dir[DT_PATH_MAX];
    cJSON *manifest;               /* manifest.json, owned */
    int64_t n_steps;               /* lines of trace.jsonl (0 when it is missing) */
    uint32_t *loss_bits, *lr_bits; /* (n_steps) the recorded bits of each step */
    int64_t inconsistent_step;     /* first step (1-based) whose decimal loss is not its bits; 0: none */
} dt_run_record;

/* Reads dir/manifest.json into *manifest (caller frees with cJSON_Delete). DT_IO "not a run
 * folder" when there is none, DT_CHECKPOINT when it is not a detrain manifest (*manifest NULL). */
dt_status dt_run_manifest_load(const char *dir, cJSON **manifest, dt_error *err);

/* Loads dir/manifest.json and dir/trace.jsonl. DT_IO when the folder or manifest cannot be
 * read, DT_CHECKPOINT (exit 2) when they are not a detrain record, naming the file and line.
 * Free with dt_run_record_free, also on failure. */
dt_status dt_run_record_load(const char *dir, dt_run_record *rec, dt_error *err);
void dt_run_record_free(dt_run_record *rec);

/* "0.934713781 (bits 3f6f49ab)": a recorded float for reports. */
void dt_run_bits_text(uint32_t bits, char *out, size_t size);

/* manifest[key] (nested keys with dots: "data.train.files"), or NULL when absent. */
const cJSON *dt_run_record_item(const cJSON *manifest, const char *key);

/* The string manifest[key] (nested keys with dots: "code.git_commit"), or "" when absent. */
const char *dt_run_record_string(const cJSON *manifest, const char *key);

/* Parses the config recorded in a manifest into cfg (paths as recorded) and gives the
 * SHA-256 of its canonical text as this build writes it. `origin` names the manifest in
 * messages. DT_CONFIG naming the problem. */
dt_status dt_run_config(const cJSON *manifest, const char *origin, dt_config *cfg, char canonical_sha256[65],
                        dt_error *err);

/* Where a data path recorded by a run is now: a relative path is taken relative to the
 * run's recorded working directory when the file exists there, else as given (relative to
 * the current directory). Data is identified by its digest, not its path. */
void dt_run_locate(const cJSON *manifest, const char *recorded_path, char *out, size_t size);

/* Applies dt_run_locate to every data path of cfg. */
void dt_run_anchor_config(const cJSON *manifest, dt_config *cfg);

/* The checkpoint a run folder stands for: best.h5 when the run selected one, else final.h5,
 * else its newest checkpoint-<step>.h5, as run_dir/FILE into path; `which` (>= 48 bytes) says
 * which and why ("best.h5, the best epoch by the run's selection"). DT_USAGE naming the folder
 * when it holds none. */
dt_status dt_run_selected_checkpoint(const char *run_dir, char *path, size_t size, char *which, size_t which_size,
                                     dt_error *err);

#endif
