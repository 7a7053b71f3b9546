/* sysinfo.c — OS, CPU and library versions for the run record. */
#include "sysinfo.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <hdf5.h>
#include <openssl/crypto.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "core/pool.h"

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

/* PRETTY_NAME of /etc/os-release without quotes, or "unknown". */
static void read_distribution(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/etc/os-release", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0) continue;
        char *value = line + 12;
        value[strcspn(value, "\n")] = '\0';
        size_t len = strlen(value);
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') value[len - 1] = '\0', value++;
        snprintf(out, size, "%.*s", (int)size - 1, value);
        break;
    }
    fclose(f);
}

void dt_sysinfo_read(dt_sysinfo *info) {
    memset(info, 0, sizeof *info);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(info->os, sizeof info->os, "%s %s %s", u.sysname, u.release, u.machine);
        snprintf(info->kernel, sizeof info->kernel, "%s %s", u.release, u.version);
        snprintf(info->hostname, sizeof info->hostname, "%s", u.nodename);
    } else {
        snprintf(info->os, sizeof info->os, "unknown");
        snprintf(info->kernel, sizeof info->kernel, "unknown");
        snprintf(info->hostname, sizeof info->hostname, "unknown");
    }
    read_distribution(info->distribution, sizeof info->distribution);
    read_cpu_model(info->cpu_model, sizeof info->cpu_model);
    info->cores = dt_available_cores();
    unsigned maj = 0, min = 0, rel = 0;
    if (H5get_libversion(&maj, &min, &rel) >= 0) snprintf(info->hdf5, sizeof info->hdf5, "%u.%u.%u", maj, min, rel);
    else snprintf(info->hdf5, sizeof info->hdf5, "unknown");
    snprintf(info->cjson, sizeof info->cjson, "%s", cJSON_Version());
    snprintf(info->openssl, sizeof info->openssl, "%s", OpenSSL_version(OPENSSL_VERSION));
    snprintf(info->zlib, sizeof info->zlib, "%s", zlibVersion());
}

/* Runs `git -C dir <args...>` with stdout into out (trimmed) and stderr discarded.
 * Returns git's exit status, or -1 when it could not run. */
static int run_git(const char *dir, const char *const *args, char *out, size_t size) {
    const char *argv[12] = {"git", "-C", dir};
    int n = 3;
    for (; args[n - 3] && n < 11; n++) argv[n] = args[n - 3];
    argv[n] = NULL;
    int pipe_fd[2];
    if (pipe(pipe_fd) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fd[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    extern char **environ;
    int spawned = posix_spawnp(&pid, "git", &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fd[1]);
    size_t used = 0;
    if (spawned == 0) {
        ssize_t got;
        char chunk[256];
        while ((got = read(pipe_fd[0], chunk, sizeof chunk)) > 0)
            for (ssize_t i = 0; i < got; i++)
                if (used + 1 < size) out[used++] = chunk[i];
    }
    close(pipe_fd[0]);
    out[used] = '\0';
    while (used > 0 && (out[used - 1] == '\n' || out[used - 1] == ' ')) out[--used] = '\0';
    if (spawned != 0) return -1;
    int wstatus = 0;
    if (waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus)) return -1;
    return WEXITSTATUS(wstatus);
}

int dt_git_describe(const char *dir, char *commit, size_t commit_size, int *dirty) {
    static const char *const rev_parse[] = {"rev-parse", "HEAD", NULL};
    static const char *const status[] = {"status", "--porcelain", "--untracked-files=no", NULL};
    char changes[64];
    if (run_git(dir, rev_parse, commit, commit_size) != 0 || strlen(commit) != 40) return -1;
    if (run_git(dir, status, changes, sizeof changes) != 0) return -1;
    *dirty = changes[0] != '\0';
    return 0;
}
