/* inject.c — a fault injector for detrain's own file writes, linked into the test program
 * detrain-faults with the linker's --wrap (tests/CMakeLists.txt): every call detrain's code
 * makes to write, fsync, close or rename goes through here. (HDF5 builds checkpoints in
 * memory and writes nothing itself; pwrite is not called.)
 *
 *   DT_FAULT=OP:N:ERRNO     the N-th call of OP (write, fsync, close, rename) fails with ERRNO
 *                           (ENOSPC, EIO, EDQUOT), doing nothing, as a full or broken disk would
 *   DT_FAULT=kill:OP:N      the process kills itself with SIGKILL just before the N-th call of OP
 *   DT_FAULT=sigint:OP:N    the process sends itself SIGINT just before the N-th call of OP, which
 *                           then runs (a Ctrl-C that lands at a chosen point of a write)
 *   DT_FAULT_COUNT=FILE     at exit, appends "OP COUNT" lines: how many calls each OP had
 *
 * Counts are per process and start at 1. Calls after the one that fails run normally. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);

enum { OP_WRITE, OP_FSYNC, OP_CLOSE, OP_RENAME, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"write", "fsync", "close", "rename"};

static struct {
    int parsed;
    int op;          /* the operation to break, -1: none */
    long call;       /* its call number */
    int error;       /* errno to fail with, 0: SIGKILL instead, -1: SIGINT and carry on */
    long calls[OP_COUNT];
} fault = {0, -1, 0, 0, {0}};

static int op_by_name(const char *name) {
    for (int op = 0; op < OP_COUNT; op++)
        if (!strcmp(name, op_names[op])) return op;
    return -1;
}

static void write_counts(void) {
    const char *path = getenv("DT_FAULT_COUNT");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f) return;
    for (int op = 0; op < OP_COUNT; op++) fprintf(f, "%s %ld\n", op_names[op], fault.calls[op]);
    fclose(f);
}

/* Reads DT_FAULT once; a malformed one ends the process (exit 2), so a typo cannot pass as a
 * run without faults. */
static void parse(void) {
    fault.parsed = 1;
    if (getenv("DT_FAULT_COUNT")) atexit(write_counts);
    const char *spec = getenv("DT_FAULT");
    if (!spec || !*spec) return;
    char op[16] = "", what[16] = "";
    long call = 0;
    if (sscanf(spec, "kill:%15[a-z]:%ld", op, &call) == 2) {
        fault.error = 0;
    } else if (sscanf(spec, "sigint:%15[a-z]:%ld", op, &call) == 2) {
        fault.error = -1;
    } else if (sscanf(spec, "%15[a-z]:%ld:%15[A-Z]", op, &call, what) == 3) {
        fault.error = !strcmp(what, "ENOSPC") ? ENOSPC : !strcmp(what, "EIO") ? EIO : !strcmp(what, "EDQUOT") ? EDQUOT : 0;
    }
    fault.op = op_by_name(op);
    fault.call = call;
    if (fault.op < 0 || call < 1 || (what[0] && !fault.error)) {
        fprintf(stderr, "inject: DT_FAULT=%s: expected OP:N:ERRNO, kill:OP:N or sigint:OP:N (OP write, fsync, close, "
                "rename)\n", spec);
        _exit(2);
    }
}

/* Counts a call of op; 1 when it must fail (errno set), after killing the process if asked. */
static int breaks(int op) {
    if (!fault.parsed) parse();
    if (++fault.calls[op] != fault.call || op != fault.op) return 0;
    if (fault.error < 0) return kill(getpid(), SIGINT), 0;
    if (!fault.error) kill(getpid(), SIGKILL);
    errno = fault.error;
    return 1;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n) { return breaks(OP_WRITE) ? -1 : __real_write(fd, buf, n); }
int __wrap_fsync(int fd) { return breaks(OP_FSYNC) ? -1 : __real_fsync(fd); }
/* A failed close still releases the descriptor (POSIX leaves it unspecified; Linux does). */
int __wrap_close(int fd) {
    if (breaks(OP_CLOSE)) {
        __real_close(fd);
        errno = fault.error;
        return -1;
    }
    return __real_close(fd);
}
int __wrap_rename(const char *from, const char *to) { return breaks(OP_RENAME) ? -1 : __real_rename(from, to); }
