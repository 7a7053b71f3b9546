/* memory.c — how much memory this process may still use, and the check that turns "more than
 * that" into a refusal with an estimate before anything is allocated. */
#include "memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The first number in a file (a cgroup limit or usage); -1 when unreadable or "max". */
static int64_t read_number(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long value = -1;
    if (fscanf(f, "%lld", &value) != 1) value = -1;
    fclose(f);
    return value;
}

/* The value of a "Name: N kB" line of a /proc file, in bytes; -1 when absent. */
static int64_t proc_kb(const char *path, const char *name) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    int64_t bytes = -1;
    const size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, name, len) && line[len] == ':') {
            bytes = atoll(line + len + 1) * 1024;
            break;
        }
    fclose(f);
    return bytes;
}

/* The least of the known amounts (-1 is unknown). */
static int64_t least(int64_t a, int64_t b) { return a < 0 ? b : b < 0 ? a : (a < b ? a : b); }

/* limit - usage, or -1 when there is no limit (a cgroup without one says "max", or v1's
 * near-2^63 number). */
static int64_t headroom(int64_t limit, int64_t usage) {
    if (limit < 0 || limit >= ((int64_t)1 << 60) || usage < 0) return -1;
    return limit > usage ? limit - usage : 0;
}

int64_t dt_memory_available(void) {
    const char *pretend = getenv("DT_MEMORY_AVAILABLE");
    if (pretend && *pretend) return atoll(pretend);
    int64_t available = proc_kb("/proc/meminfo", "MemAvailable");
    available = least(available, headroom(read_number("/sys/fs/cgroup/memory.max"),
                                          read_number("/sys/fs/cgroup/memory.current")));
    available = least(available, headroom(read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                                          read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes")));
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        available = least(available, headroom((int64_t)as.rlim_cur, proc_kb("/proc/self/status", "VmSize")));
    return available;
}

void dt_bytes_text(int64_t bytes, char *out, size_t size) {
    const double b = (double)bytes;
    if (b >= 1e12) snprintf(out, size, "%.1f TB", b / 1e12);
    else if (b >= 1e9) snprintf(out, size, "%.1f GB", b / 1e9);
    else if (b >= 1e6) snprintf(out, size, "%.1f MB", b / 1e6);
    else snprintf(out, size, "%.1f kB", b / 1e3);
}

dt_status dt_memory_check(int64_t bytes, dt_status status, const char *subject, const char *what, dt_error *err) {
    const int64_t available = dt_memory_available();
    if (available < 0 || bytes <= available) return DT_OK;
    char need[32], have[32];
    dt_bytes_text(bytes, need, sizeof need);
    dt_bytes_text(available, have, sizeof have);
    return dt_fail(err, status, "%s: needs %s for %s, %s available", subject, need, what, have);
}
