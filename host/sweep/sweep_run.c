/* sweep_run.c — running a sweep's trials: child processes (fork, then exec of this same binary
 * as `detrain train` or `detrain resume`), at most `jobs` at once, SIGINT and SIGTERM
 * forwarded to them, every outcome recorded in sweep.json as it happens.
 *
 * Each child runs in its own process group, so a Ctrl-C at the terminal reaches the sweep
 * alone and every child gets exactly one SIGINT from it (a second one would stop a run at
 * once, without its checkpoint); and with PR_SET_PDEATHSIG a child gets SIGINT when the sweep
 * dies (kill -9), so it checkpoints and stops instead of running on unwatched. */
#include "sweep/sweep.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/progress.h"
#include "records/runrec.h"

/* ---- signals ---- */

/* How many SIGINT/SIGTERM the sweep received; each is forwarded to the running children. */
static volatile sig_atomic_t stop_requests = 0;
/* The running children (slot i of the runner), 0 where none; read by the handler. */
static volatile pid_t child_pids[DT_SWEEP_MAX_JOBS];
static volatile sig_atomic_t n_child_slots = 0;

/* Forwards the stop to every child as SIGINT: each one finishes its step and checkpoints. */
static void on_stop_signal(int sig) {
    const int saved_errno = errno;
    (void)sig;
    stop_requests = stop_requests + 1;
    for (int i = 0; i < n_child_slots; i++)
        if (child_pids[i] > 0) kill(child_pids[i], SIGINT);
    errno = saved_errno;
}

/* ---- the runner's state ---- */

typedef enum { ACT_SKIP, ACT_TRAIN, ACT_RESUME } trial_action;

typedef struct {
    int trial;
    pid_t pid;
    double started; /* monotonic seconds */
} slot;

typedef struct {
    dt_sweep_plan *plan;
    const dt_sweep_run_opts *opts;
    slot slots[DT_SWEEP_MAX_JOBS];
    int n_running;
    int next;          /* the next trial to consider */
    dt_status failure; /* a failure of the sweep itself (sweep.json unwritable): stop */
    dt_error failure_err;
    sigset_t stop_set; /* SIGINT, SIGTERM */
} runner;

static void emit(const runner *r, int trial, const char *event) {
    if (r->opts->on_event) r->opts->on_event(r->opts->ctx, r->plan, trial, event);
}

/* Records the first failure of the sweep itself and stops the children (as a signal would). */
static void fail_sweep(runner *r, dt_status status, const dt_error *err) {
    if (r->failure != DT_OK) return;
    r->failure = status;
    r->failure_err = *err;
    for (int i = 0; i < r->n_running; i++) kill(r->slots[i].pid, SIGINT);
}

/* ---- before a trial starts ---- */

/* Moves a failed trial's folder aside to <dir>.failed-<n>, so nothing of it is lost. */
static dt_status move_aside(dt_sweep_trial *trial, const char *dir, dt_error *err) {
    struct stat info;
    if (stat(dir, &info) != 0) return DT_OK;
    char moved[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 32];
    int n = trial->n_failed_runs;
    do snprintf(moved, sizeof moved, "%s.failed-%d", dir, ++n);
    while (stat(moved, &info) == 0);
    if (rename(dir, moved) != 0)
        return dt_fail(err, DT_WRITE, "%s: cannot move the failed run aside to %s: %s", dir, moved, strerror(errno));
    trial->n_failed_runs = n;
    return DT_OK;
}

/* Waits (up to 60 s, or a signal) while another process holds the run folder: the child of a
 * sweep that was killed finishes its step and checkpoint after its SIGINT. */
static void wait_for_folder(const char *dir) {
    for (int i = 0; i < 600 && !stop_requests; i++) {
        int fd = -1;
        dt_error ignored;
        const dt_status status = dt_lock_dir(dir, &fd, &ignored);
        if (status == DT_OK) dt_unlock_dir(fd);
        if (status != DT_USAGE) return;
        const struct timespec pause = {0, 100000000};
        nanosleep(&pause, NULL);
    }
}

/* Decides how trial t continues from its recorded state and its folder: a failed trial starts
 * afresh (the folder moved aside), a completed run is kept, an unfinished one is resumed. */
static dt_status prepare_trial(runner *r, int t, trial_action *action, dt_error *err) {
    dt_sweep_trial *trial = &r->plan->trials[t];
    char dir[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 2];
    dt_sweep_trial_dir(r->plan, t, dir, sizeof dir);
    struct stat info;
    if (stat(dir, &info) == 0) wait_for_folder(dir);
    cJSON *manifest = NULL;
    dt_status status = trial->status == DT_TRIAL_FAILED ? DT_CHECKPOINT : dt_run_manifest_load(dir, &manifest, err);
    const char *run_status = dt_run_record_string(manifest, "status");
    if (status == DT_OK && !strcmp(run_status, "completed")) {
        *action = ACT_SKIP;
        trial->status = DT_TRIAL_COMPLETED;
        snprintf(trial->params_sha256, sizeof trial->params_sha256, "%s",
                 dt_run_record_string(manifest, "final.params_sha256"));
    } else if (status == DT_OK) {
        *action = ACT_RESUME;
    } else {
        *action = ACT_TRAIN; /* no manifest: nothing to resume (a folder without one is trained into) */
        trial->seconds = 0;
        status = status == DT_IO ? DT_OK : move_aside(trial, dir, err);
    }
    cJSON_Delete(manifest);
    return status;
}

/* ---- starting a child ---- */

/* The child's command line into argv (room for 16 + 2 * (n_sets + n_keys) entries), its
 * texts in `texts`. */
static void child_argv(const runner *r, int t, trial_action action, char texts[][DT_PATH_MAX + DT_NAME_MAX + 2],
                       char **argv) {
    const dt_sweep_plan *plan = r->plan;
    int n = 0, n_texts = 0;
    argv[n++] = (char *)r->opts->argv0;
    char *dir = texts[n_texts++], *threads = texts[n_texts++];
    dt_sweep_trial_dir(plan, t, dir, DT_PATH_MAX + DT_NAME_MAX + 2);
    snprintf(threads, 32, "%d", r->opts->threads);
    if (action == ACT_RESUME) {
        argv[n++] = "resume";
        argv[n++] = dir;
    } else {
        argv[n++] = "train";
        argv[n++] = (char *)plan->config_path;
        for (int i = 0; i < plan->n_sets; i++) argv[n++] = "--set", argv[n++] = plan->sets[i];
        for (int k = 0; k < plan->n_keys; k++) {
            snprintf(texts[n_texts], DT_PATH_MAX + DT_NAME_MAX + 2, "%s=%s", plan->keys[k].key,
                     plan->trials[t].values[k]);
            argv[n++] = "--set", argv[n++] = texts[n_texts++];
        }
        argv[n++] = "--experiment", argv[n++] = (char *)plan->experiment;
        argv[n++] = "--out", argv[n++] = dir;
    }
    argv[n++] = "--threads", argv[n++] = threads;
    argv[n++] = "--quiet";
    argv[n] = NULL;
}

/* Opens the trial's log (appending) and writes a line saying what starts. -1 on failure. */
static int open_log(const runner *r, int t, char *const *argv) {
    char path[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 16], stamp[32];
    snprintf(path, sizeof path, "%s/logs/%s.log", r->plan->dir, r->plan->trials[t].name);
    const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    const time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    dprintf(fd, "# %s:", stamp);
    for (int i = 0; argv[i]; i++) dprintf(fd, " %s", argv[i]);
    dprintf(fd, "\n");
    return fd;
}

/* In the child: its own process group, SIGINT when the sweep dies, default signals, output to
 * the log, then this same binary. Never returns. */
static void exec_child(char *const *argv, int log_fd, pid_t sweep_pid) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != sweep_pid) _exit(130); /* the sweep died before the request took hold */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv("/proc/self/exe", argv); /* the running binary, even when its file has been replaced */
    dprintf(2, "detrain: error: sweep: cannot run /proc/self/exe: %s\n", strerror(errno));
    _exit(127);
}

/* Starts trial t's child and takes a slot. Signals are blocked by the caller, so the handler
 * sees the child as soon as it can be signalled. */
static dt_status spawn(runner *r, int t, trial_action action, dt_error *err) {
    char texts[DT_SWEEP_MAX_KEYS + 2][DT_PATH_MAX + DT_NAME_MAX + 2];
    char *argv[16 + 2 * (DT_MAX_OVERRIDES + DT_SWEEP_MAX_KEYS)];
    child_argv(r, t, action, texts, argv);
    const int log_fd = open_log(r, t, argv);
    if (log_fd < 0)
        return dt_fail(err, DT_WRITE, "%s/logs/%s.log: cannot write: %s", r->plan->dir, r->plan->trials[t].name,
                       strerror(errno));
    const pid_t sweep_pid = getpid();
    const pid_t pid = fork();
    if (pid == 0) exec_child(argv, log_fd, sweep_pid);
    const int fork_errno = errno;
    close(log_fd);
    if (pid < 0)
        return dt_fail(err, DT_INTERNAL, "sweep: cannot start a process for %s: %s", r->plan->trials[t].name,
                       strerror(fork_errno));
    const int i = r->n_running++;
    r->slots[i] = (slot){.trial = t, .pid = pid, .started = dt_now_seconds()};
    child_pids[i] = pid;
    dt_sweep_trial *trial = &r->plan->trials[t];
    trial->status = DT_TRIAL_RUNNING;
    trial->exit_code = -1;
    trial->message[0] = '\0';
    return DT_OK;
}

/* Starts trials while slots are free, no signal came and nothing failed; sweep.json is
 * rewritten whenever a trial's state changed. */
static void fill_slots(runner *r) {
    while (!stop_requests && r->failure == DT_OK && r->n_running < r->opts->jobs && r->next < r->plan->n_trials) {
        const int t = r->next++;
        dt_sweep_trial *trial = &r->plan->trials[t];
        dt_error err = {{0}};
        const dt_trial_status was = trial->status;
        const int was_failed_runs = trial->n_failed_runs;
        trial_action action = ACT_SKIP;
        dt_status status = prepare_trial(r, t, &action, &err);
        const int waited_out = status == DT_OK && action != ACT_SKIP && stop_requests;
        if (waited_out) r->next--; /* a signal came while it waited for its folder: it stays as it was */
        sigset_t old;
        sigprocmask(SIG_BLOCK, &r->stop_set, &old);
        if (status == DT_OK && action != ACT_SKIP && !waited_out) status = spawn(r, t, action, &err);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (status == DT_OK && (trial->status != was || trial->n_failed_runs != was_failed_runs))
            status = dt_sweep_record_write(r->plan, &err);
        if (status != DT_OK) fail_sweep(r, status, &err);
        if (status != DT_OK || waited_out) break;
        static const char *const started[] = {[ACT_TRAIN] = "train", [ACT_RESUME] = "resume"};
        emit(r, t, action != ACT_SKIP ? started[action] : was == DT_TRIAL_COMPLETED ? "skipped" : "completed");
    }
}

/* ---- a child ends ---- */

/* The last line of the trial's log (without "detrain: error: ") into out: why it failed. */
static void last_log_line(const runner *r, int t, char *out, size_t size) {
    char path[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 16], tail[2048];
    snprintf(path, sizeof path, "%s/logs/%s.log", r->plan->dir, r->plan->trials[t].name);
    out[0] = '\0';
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    const off_t end = lseek(fd, 0, SEEK_END);
    const off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
    const ssize_t got = pread(fd, tail, sizeof tail - 1, from);
    close(fd);
    if (got <= 0) return;
    size_t len = (size_t)got;
    while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == '\r')) len--;
    tail[len] = '\0';
    const char *line = strrchr(tail, '\n') ? strrchr(tail, '\n') + 1 : tail;
    const char *prefix = "detrain: error: ";
    if (!strncmp(line, prefix, strlen(prefix))) line += strlen(prefix);
    const size_t n = strlen(line) < size ? strlen(line) : size - 1;
    memcpy(out, line, n);
    out[n] = '\0';
}

/* Sets trial t's outcome from its child's wait status. */
static void settle(runner *r, int t, int wait_status) {
    dt_sweep_trial *trial = &r->plan->trials[t];
    trial->status = DT_TRIAL_FAILED;
    if (WIFSIGNALED(wait_status)) {
        const int sig = WTERMSIG(wait_status);
        trial->exit_code = 128 + sig;
        /* a second Ctrl-C stops a run at once: its newest checkpoint is where it resumes */
        if (sig == SIGINT && stop_requests)
            trial->status = DT_TRIAL_INTERRUPTED;
        else
            snprintf(trial->message, sizeof trial->message, "killed by signal %d (%s)", sig, strsignal(sig));
        return;
    }
    trial->exit_code = WEXITSTATUS(wait_status);
    if (trial->exit_code == 130) {
        trial->status = DT_TRIAL_INTERRUPTED;
        return;
    }
    if (trial->exit_code != 0) {
        last_log_line(r, t, trial->message, sizeof trial->message);
        return;
    }
    char dir[DT_PATH_MAX + DT_SWEEP_NAME_MAX + 2];
    dt_sweep_trial_dir(r->plan, t, dir, sizeof dir);
    cJSON *manifest = NULL;
    dt_error err = {{0}};
    if (dt_run_manifest_load(dir, &manifest, &err) == DT_OK &&
        !strcmp(dt_run_record_string(manifest, "status"), "completed")) {
        trial->status = DT_TRIAL_COMPLETED;
        snprintf(trial->params_sha256, sizeof trial->params_sha256, "%s",
                 dt_run_record_string(manifest, "final.params_sha256"));
    } else {
        snprintf(trial->message, sizeof trial->message, "exited 0 but its run is not completed: %.200s",
                 err.message[0] ? err.message : dt_run_record_string(manifest, "status"));
    }
    cJSON_Delete(manifest);
}

/* Waits for one child to end and records its trial's outcome. A signal interrupts the wait
 * (the handler has forwarded it); the caller loops. */
static void wait_one(runner *r) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) { /* seen, not reaped: its pid stays taken */
        if (errno == EINTR) return;
        dt_error err;
        fail_sweep(r, dt_fail(&err, DT_INTERNAL, "sweep: waiting for the trials failed: %s", strerror(errno)), &err);
        r->n_running = 0;
        return;
    }
    int i = 0;
    while (i < r->n_running && r->slots[i].pid != info.si_pid) i++;
    const int found = i < r->n_running;
    const slot done = found ? r->slots[i] : (slot){0};
    sigset_t old;
    sigprocmask(SIG_BLOCK, &r->stop_set, &old); /* from here the handler never signals this pid */
    if (found) {
        r->slots[i] = r->slots[--r->n_running];
        child_pids[i] = r->slots[i].pid;
        child_pids[r->n_running] = 0;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    int wait_status = 0;
    if (waitpid(info.si_pid, &wait_status, 0) < 0 || !found) return;
    r->plan->trials[done.trial].seconds += dt_now_seconds() - done.started;
    settle(r, done.trial, wait_status);
    dt_error err = {{0}};
    const dt_status status = dt_sweep_record_write(r->plan, &err);
    if (status != DT_OK) fail_sweep(r, status, &err);
    emit(r, done.trial, dt_sweep_status_name(r->plan->trials[done.trial].status));
}

/* ---- the sweep ---- */

/* Routes SIGINT and SIGTERM to on_stop_signal (no SA_RESTART: a wait returns to the loop;
 * each blocks the other while it runs). DT_INTERNAL when they cannot be routed. */
static dt_status install_signals(runner *r, struct sigaction *old_int, struct sigaction *old_term, dt_error *err) {
    sigemptyset(&r->stop_set);
    sigaddset(&r->stop_set, SIGINT);
    sigaddset(&r->stop_set, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_mask = r->stop_set;
    stop_requests = 0;
    for (int i = 0; i < DT_SWEEP_MAX_JOBS; i++) child_pids[i] = 0;
    n_child_slots = r->opts->jobs;
    if (sigaction(SIGINT, &sa, old_int) != 0)
        return dt_fail(err, DT_INTERNAL, "sweep: cannot handle SIGINT: %s", strerror(errno));
    if (sigaction(SIGTERM, &sa, old_term) == 0) return DT_OK;
    const int e = errno;
    sigaction(SIGINT, old_int, NULL);
    return dt_fail(err, DT_INTERNAL, "sweep: cannot handle SIGTERM: %s", strerror(e));
}

/* Counts the trials that a signal left unfinished, for the message. */
static int count_unfinished(const dt_sweep_plan *plan) {
    int n = 0;
    for (int t = 0; t < plan->n_trials; t++)
        n += plan->trials[t].status != DT_TRIAL_COMPLETED && plan->trials[t].status != DT_TRIAL_FAILED;
    return n;
}

dt_status dt_sweep_run(dt_sweep_plan *plan, const dt_sweep_run_opts *opts, dt_error *err) {
    if (opts->jobs < 1 || opts->jobs > DT_SWEEP_MAX_JOBS)
        return dt_fail(err, DT_USAGE, "-j must be 1..%d", DT_SWEEP_MAX_JOBS);
    char logs[DT_PATH_MAX + 16];
    snprintf(logs, sizeof logs, "%s/logs", plan->dir);
    dt_status status = dt_mkdirs(logs, err);
    if (status != DT_OK) return status;
    runner *r = calloc(1, sizeof *r);
    if (!r) return dt_fail(err, DT_NOMEM, "out of memory");
    *r = (runner){.plan = plan, .opts = opts, .failure = DT_OK};
    for (int t = 0; t < plan->n_trials; t++) /* "running" in the record: its sweep died */
        if (plan->trials[t].status == DT_TRIAL_RUNNING) plan->trials[t].status = DT_TRIAL_INTERRUPTED;
    struct sigaction old_int, old_term;
    if ((status = install_signals(r, &old_int, &old_term, err)) != DT_OK) {
        free(r);
        return status;
    }
    for (;;) {
        fill_slots(r);
        if (r->n_running == 0) break;
        wait_one(r);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (r->failure != DT_OK)
        status = (*err = r->failure_err, r->failure);
    else if (stop_requests && count_unfinished(plan) > 0)
        status = dt_fail(err, DT_INTERRUPTED, "interrupted: %d of %d trials unfinished", count_unfinished(plan),
                         plan->n_trials);
    free(r);
    return status;
}
