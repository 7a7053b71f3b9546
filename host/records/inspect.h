/* inspect.h — detrain inspect: a checkpoint's metadata and tensors, every digest verified. */
#ifndef DT_INSPECT_H
#define DT_INSPECT_H

#include "records/checkpoint.h"
#include "core/status.h"

/* How the file's bytes compare with the record of the run folder it lies in. */
typedef enum {
    DT_INSPECT_UNCHECKED,  /* not compared: the checkpoint is damaged, or its digest failed */
    DT_INSPECT_NO_RUN,     /* no manifest.json beside it */
    DT_INSPECT_NOT_LISTED, /* the manifest does not list it */
    DT_INSPECT_MATCH,      /* its SHA-256 is the one the manifest records */
    DT_INSPECT_MISMATCH    /* it is not */
} dt_inspect_file;

/* What inspect found: the checkpoint as read (its tensors with their recorded and computed
 * digests, ok or not), and the file against the manifest. */
typedef struct {
    dt_checkpoint *ck;       /* NULL only when out of memory; unreadable when ck->cfg is NULL or it has no tensors */
    dt_inspect_file file;
    char run_dir[DT_PATH_MAX]; /* the folder whose manifest.json was consulted */
    char sha256[65];           /* the file's SHA-256 (MATCH, MISMATCH) */
    char recorded[DT_PATH_MAX];/* the manifest's (MISMATCH) */
} dt_inspection;

/* Reads the checkpoint at path into *out, verifying every tensor's digest and the parameter
 * digest, and, when the file lies in a run folder whose manifest lists it, the file's digest.
 * DT_CHECKPOINT naming the first damaged tensor (or what else is wrong); DT_OK when intact.
 * *out holds what was read also on failure; free it with dt_inspection_free. */
dt_status dt_inspect(const char *path, dt_inspection *out, dt_error *err);
void dt_inspection_free(dt_inspection *inspection);

#endif
