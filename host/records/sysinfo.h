/* sysinfo.h — what the run record says about the machine, the libraries and the code. */
#ifndef DT_SYSINFO_H
#define DT_SYSINFO_H

#include <stddef.h>

typedef struct {
    char os[256];             /* "Linux 6.1.0-18-amd64 x86_64" */
    char kernel[256];         /* uname release and version: "6.1.0-18-amd64 #1 SMP ... (2024-02-01)" */
    char distribution[128];   /* /etc/os-release PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)" */
    char hostname[128];
    char cpu_model[256];      /* /proc/cpuinfo "model name" */
    int cores;                /* cores this process may use */
    char hdf5[32], cjson[32], openssl[64], zlib[32];
} dt_sysinfo;

/* What the record says about a GPU backend's device and libraries (the backend fills it). */
typedef struct {
    int index;                   /* the CUDA device index of this process */
    char name[128];
    int cc_major, cc_minor;      /* compute capability */
    int sm_count;
    char driver[16], runtime[16], cublas[16], nccl[16]; /* "12.4"; nccl "" when not used */
    int tf32;                    /* cuBLAS may use TF32 tensor ops */
} dt_gpu_info;

/* Fills info; fields that cannot be read say "unknown". */
void dt_sysinfo_read(dt_sysinfo *info);

/* The git commit (40 hex digits) of the work tree holding `dir` and whether tracked files
 * differ from it (`git status --porcelain --untracked-files=no`). Returns 0 when dir lies in
 * a git work tree and git answered, -1 otherwise (no git, not a repository). */
int dt_git_describe(const char *dir, char *commit, size_t commit_size, int *dirty);

#endif
