/* memory.h — how much memory this process may still use, so that a run too big for the
 * machine is refused with an estimate before it allocates, never killed by the OOM killer. */
#ifndef DT_MEMORY_H
#define DT_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Bytes this process can still allocate: the least of MemAvailable (/proc/meminfo), its
 * cgroup's limit minus its usage (v2 and v1) and its address-space limit (RLIMIT_AS) minus
 * what it has mapped. The environment's DT_MEMORY_AVAILABLE (bytes; a testing aid, like
 * --stop-after-steps) replaces the measurement. -1 when nothing can be read. */
int64_t dt_memory_available(void);

/* DT_OK when `bytes` fit in dt_memory_available() (or it is unknown); else `status` with one
 * line: "<subject>: needs 13.2 GB for <what>, 9.1 GB available". */
dt_status dt_memory_check(int64_t bytes, dt_status status, const char *subject, const char *what, dt_error *err);

/* "13.2 GB", "188.2 MB": a byte count for messages. */
void dt_bytes_text(int64_t bytes, char *out, size_t size);

#endif
