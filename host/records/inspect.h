/* inspect.h — detrain inspect: a checkpoint's metadata and tensors, every digest verified. */
#ifndef DT_INSPECT_H
#define DT_INSPECT_H

#include "status.h"

/* Prints the checkpoint's metadata and a table of its tensors (name, shape, type, SHA-256,
 * ok) to stdout, verifying every tensor's digest and the parameter digest, and, when the file
 * lies in a run folder whose manifest lists it, the file's digest. DT_CHECKPOINT naming the
 * first damaged tensor (or what else is wrong); DT_OK when intact. */
dt_status dt_inspect(const char *path, dt_error *err);

#endif
