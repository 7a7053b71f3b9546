/* sysinfo.c — OS, CPU and library versions for the run record. */
#include "sysinfo.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "pool.h"

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static void read_cpu_model(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *colon = strchr(line, ':');
        if (!colon) break;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        snprintf(out, size, "%s", colon);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

void dt_sysinfo_read(dt_sysinfo *info) {
    memset(info, 0, sizeof *info);
    struct utsname u;
    if (uname(&u) == 0) snprintf(info->os, sizeof info->os, "%s %s %s", u.sysname, u.release, u.machine);
    else snprintf(info->os, sizeof info->os, "unknown");
    read_cpu_model(info->cpu_model, sizeof info->cpu_model);
    info->cores = dt_available_cores();
    unsigned maj = 0, min = 0, rel = 0;
    if (H5get_libversion(&maj, &min, &rel) >= 0) snprintf(info->hdf5, sizeof info->hdf5, "%u.%u.%u", maj, min, rel);
    else snprintf(info->hdf5, sizeof info->hdf5, "unknown");
    snprintf(info->cjson, sizeof info->cjson, "%s", cJSON_Version());
    snprintf(info->openssl, sizeof info->openssl, "%s", OpenSSL_version(OPENSSL_VERSION));
    snprintf(info->zlib, sizeof info->zlib, "%s", zlibVersion());
}
