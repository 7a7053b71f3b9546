/* sysinfo.h — what the run record says about the machine and the libraries. */
#ifndef DT_SYSINFO_H
#define DT_SYSINFO_H

#include <stddef.h>

typedef struct {
    char os[256];             /* "Linux 6.1.0-18-amd64 x86_64" */
    char cpu_model[256];      /* /proc/cpuinfo "model name" */
    int cores;                /* cores this process may use */
    char hdf5[32], cjson[32], openssl[64], zlib[32];
} dt_sysinfo;

/* Fills info; fields that cannot be read say "unknown". */
void dt_sysinfo_read(dt_sysinfo *info);

#endif
