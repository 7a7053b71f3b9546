/* bench_peer.c — PyTorch in the same run (bench/peers/pytorch_mlp.py --bench): the same
 * layer widths, batch, synthetic data and initial parameters, timed and digested the way
 * detrain's rows are. The peer prints one JSON line; its rows join the report.
 *
 * On the CPU it runs twice, with OpenMP's default wait policy and with
 * OMP_WAIT_POLICY=PASSIVE (on a small VM the default spinning can be ten times slower), and
 * the better run is kept, saying which. On a GPU: without and with
 * torch.use_deterministic_algorithms(True). */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_parts.h"
#include "bench_stats.h"

extern char **environ;

/* Runs argv with environ plus `extra_env` (NAME=VALUE, or "-NAME" to remove NAME), stdout
 * and stderr into *output (malloc'ed, NUL-terminated). Returns the exit status, -1 when it
 * could not run. */
static int run_captured(char *const *argv, const char *extra_env, char **output) {
    *output = NULL;
    int n_env = 0;
    while (environ[n_env]) n_env++;
    char **env = calloc((size_t)n_env + 2, sizeof *env);
    if (!env) return -1;
    const char *name = extra_env[0] == '-' ? extra_env + 1 : extra_env;
    const size_t name_len = strcspn(name, "=");
    int k = 0;
    for (int i = 0; i < n_env; i++)
        if (strncmp(environ[i], name, name_len) != 0 || environ[i][name_len] != '=') env[k++] = environ[i];
    if (extra_env[0] != '-') env[k++] = (char *)extra_env;
    env[k] = NULL;
    int pipe_fd[2];
    if (pipe(pipe_fd) != 0) {
        free(env);
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fd[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fd[0]);
    pid_t pid;
    const int spawned = posix_spawn(&pid, argv[0], &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fd[1]);
    free(env);
    size_t used = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t got;
    char chunk[4096];
    while ((got = read(pipe_fd[0], chunk, sizeof chunk)) > 0) {
        if (buf && used + (size_t)got + 1 > cap) {
            while (used + (size_t)got + 1 > cap) cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown) free(buf);
            buf = grown;
        }
        if (buf) memcpy(buf + used, chunk, (size_t)got), used += (size_t)got;
    }
    close(pipe_fd[0]);
    if (buf) buf[used] = '\0';
    *output = buf;
    if (spawned != 0) return -1;
    int wstatus = 0;
    if (waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus)) return -1;
    return WEXITSTATUS(wstatus);
}

/* The last line of text that starts with '{' (the peer's result), or NULL. */
static const char *last_json_line(const char *text) {
    const char *found = NULL;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (*line == '{') found = line;
    return found;
}

/* The last non-empty line of text, for messages, into buf. */
static void last_line(const char *text, char *buf, size_t size) {
    snprintf(buf, size, "no output");
    if (!text) return;
    size_t end = strlen(text);
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ')) end--;
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n') start--;
    if (end > start) snprintf(buf, size, "%.*s", (int)(end - start), text + start);
}

typedef struct {
    int ok;
    char why[200];
    char version[48];
    int repeats;
    double step_s[DT_BENCH_MAX_REPEATS];
    double median_s;
    int n_digests;
    char digest[65];
    double max_abs_diff;
    int64_t max_ulp;
    float first_loss, last_loss;
    int threads;
    int same_start;           /* the peer's data and initial parameters digest like detrain's */
} peer_result;

/* Fills r from the peer's JSON result: step times, distinct digests (the first one kept), the
 * version, differences, losses, threads, and whether it started where detrain did. */
static void read_peer_json(const cJSON *json, const dt_bench_peer_job *job, peer_result *r) {
    const cJSON *times = cJSON_GetObjectItemCaseSensitive(json, "step_seconds");
    const cJSON *digests = cJSON_GetObjectItemCaseSensitive(json, "digests");
    const cJSON *item;
    cJSON_ArrayForEach(item, times) if (r->repeats < DT_BENCH_MAX_REPEATS && cJSON_IsNumber(item))
        r->step_s[r->repeats++] = item->valuedouble;
    int n = 0;
    cJSON_ArrayForEach(item, digests) {
        if (!cJSON_IsString(item)) continue;
        if (n++ == 0) snprintf(r->digest, sizeof r->digest, "%s", item->valuestring);
        int seen = 0;
        for (const cJSON *before = digests->child; before != item; before = before->next)
            seen |= cJSON_IsString(before) && !strcmp(before->valuestring, item->valuestring);
        r->n_digests += !seen;
    }
    const cJSON *v;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(json, "version")))
        snprintf(r->version, sizeof r->version, "%s", v->valuestring);
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(json, "max_abs_diff"))) r->max_abs_diff = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(json, "max_ulp"))) r->max_ulp = (int64_t)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(json, "first_loss"))) r->first_loss = (float)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(json, "last_loss"))) r->last_loss = (float)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(json, "threads"))) r->threads = v->valueint;
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(json, "init_sha256");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data_sha256");
    r->same_start = cJSON_IsString(init) && cJSON_IsString(data) && !strcmp(init->valuestring, job->init_sha256) &&
                    !strcmp(data->valuestring, job->data_sha256);
}

/* One peer run; fills r (r->ok = 0 with r->why when it failed). */
static void run_once(const dt_bench_opts *o, const dt_bench_peer_job *job, const char *layers, int deterministic,
                     const char *extra_env, peer_result *r) {
    memset(r, 0, sizeof *r);
    char script[DT_PATH_MAX + 32], batch_s[24], steps_s[24], warmup_s[24], repeats_s[24], threads_s[24], seed_s[32];
    char lr_s[32];
    snprintf(script, sizeof script, "%s/peers/pytorch_mlp.py", o->bench_dir);
    snprintf(batch_s, sizeof batch_s, "%lld", (long long)job->batch);
    snprintf(lr_s, sizeof lr_s, "%.9g", (double)job->lr);
    snprintf(steps_s, sizeof steps_s, "%d", job->steps);
    snprintf(warmup_s, sizeof warmup_s, "%d", o->warmup);
    snprintf(repeats_s, sizeof repeats_s, "%d", o->repeats);
    snprintf(threads_s, sizeof threads_s, "%d", o->threads);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)o->seed);
    char *argv[26] = {(char *)o->python, script, "--bench", "--widths", (char *)layers, "--batch", batch_s, "--lr", lr_s,
                      "--steps", steps_s, "--warmup", warmup_s, "--repeats", repeats_s, "--threads", threads_s,
                      "--seed", seed_s, "--device", o->device == DT_DEVICE_CUDA ? "cuda" : "cpu",
                      deterministic ? "--deterministic" : NULL, NULL};
    char *output = NULL;
    const int rc = run_captured(argv, extra_env, &output);
    const char *line = output ? last_json_line(output) : NULL;
    cJSON *json = line ? cJSON_Parse(line) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
    if (rc != 0 || !json || cJSON_IsString(error)) {
        if (cJSON_IsString(error)) snprintf(r->why, sizeof r->why, "%s", error->valuestring);
        else if (rc == -1) snprintf(r->why, sizeof r->why, "%.150s: cannot run", o->python);
        else last_line(output, r->why, sizeof r->why);
        goto done;
    }
    read_peer_json(json, job, r);
    if (r->repeats < 1) {
        snprintf(r->why, sizeof r->why, "the peer's output has no step_seconds");
        goto done;
    }
    double sorted[DT_BENCH_MAX_REPEATS];
    memcpy(sorted, r->step_s, (size_t)r->repeats * sizeof(double));
    r->median_s = dt_median(sorted, r->repeats);
    r->ok = 1;
done:
    cJSON_Delete(json);
    free(output);
}

/* Whether the peer started where detrain did. */
static const char *start_note(const peer_result *r) {
    return r->same_start ? "same synthetic data and initial parameters as detrain (SHA-256 equal)"
                         : "WARNING: its data or initial parameters differ from detrain's";
}

/* A report row from a peer result. */
static dt_status add_row(dt_bench_report *report, const char *shape_name, const char *layers_dashed, int64_t batch,
                         int steps, double flops, const char *mode, const char *route, const char *remark, const peer_result *r,
                         dt_error *err) {
    dt_bench_row *row = dt_bench_row_add(report);
    if (!row) return dt_fail(err, DT_NOMEM, "out of memory");
    snprintf(row->shape, sizeof row->shape, "%s", shape_name);
    snprintf(row->layers, sizeof row->layers, "%s", layers_dashed);
    snprintf(row->engine, sizeof row->engine, "pytorch");
    snprintf(row->mode, sizeof row->mode, "%s", mode);
    snprintf(row->device, sizeof row->device, "%s", report->opts.device == DT_DEVICE_CUDA ? "cuda" : "cpu");
    snprintf(row->route, sizeof row->route, "%s", route);
    snprintf(row->note, sizeof row->note, "%s", remark);
    row->batch = batch;
    row->repeats = r->repeats, row->steps = steps, row->warmup = report->opts.warmup;
    memcpy(row->step_s, r->step_s, sizeof row->step_s);
    row->flops_per_step = flops;
    row->n_digests = r->n_digests;
    snprintf(row->digest, sizeof row->digest, "%s", r->digest);
    row->max_abs_diff = r->max_abs_diff;
    row->max_ulp = r->max_ulp;
    row->first_loss = r->first_loss, row->last_loss = r->last_loss;
    dt_bench_row_finish(row);
    return DT_OK;
}

dt_status dt_bench_run_peer(dt_bench_report *report, const dt_bench_peer_job *job, dt_error *err) {
    if (report->peer_note[0]) return DT_OK;
    const dt_bench_opts *o = &report->opts;
    const char *shape_name = job->shape;
    const int32_t *widths = job->widths;
    const int n_widths = job->n_widths;
    const int64_t batch = job->batch;
    char layers[200] = "", dashed[200] = "";
    double macs = 0.0;
    for (int i = 0, used = 0, used_d = 0; i < n_widths; i++) {
        used += snprintf(layers + used, sizeof layers - (size_t)used, "%s%d", i ? "," : "", widths[i]);
        used_d += snprintf(dashed + used_d, sizeof dashed - (size_t)used_d, "%s%d", i ? "-" : "", widths[i]);
        if (i > 0) macs += (double)widths[i - 1] * (double)widths[i];
    }
    const double flops = 6.0 * (double)batch * macs;
    peer_result a, b;
    char route[256], remark[256];
    if (o->device == DT_DEVICE_CUDA) {
        for (int det = 0; det < 2; det++) {
            run_once(o, job, layers, det, "CUBLAS_WORKSPACE_CONFIG=:4096:8", &a);
            if (!a.ok) {
                snprintf(report->peer_note, sizeof report->peer_note, "pytorch: skipped: %.200s", a.why);
                return DT_OK;
            }
            snprintf(report->peer_version, sizeof report->peer_version, "PyTorch %.40s", a.version);
            snprintf(route, sizeof route, "PyTorch %.40s, cuda, TF32 off%s", a.version,
                     det ? ", use_deterministic_algorithms(True)" : "");
            dt_status status = add_row(report, shape_name, dashed, batch, job->steps, flops, det ? "deterministic" : "default",
                                       route, start_note(&a), &a, err);
            if (status != DT_OK) return status;
        }
        return DT_OK;
    }
    run_once(o, job, layers, 0, "-OMP_WAIT_POLICY", &a);
    if (!a.ok) {
        snprintf(report->peer_note, sizeof report->peer_note, "pytorch: skipped: %.200s", a.why);
        return DT_OK;
    }
    run_once(o, job, layers, 0, "OMP_WAIT_POLICY=PASSIVE", &b);
    const int passive = b.ok && b.median_s < a.median_s;
    const peer_result *best = passive ? &b : &a;
    snprintf(report->peer_version, sizeof report->peer_version, "PyTorch %.40s", best->version);
    snprintf(route, sizeof route, "PyTorch %.40s, cpu, %d thread%s, OMP_WAIT_POLICY=%s", best->version, best->threads,
             best->threads == 1 ? "" : "s", passive ? "PASSIVE" : "default");
    if (b.ok)
        snprintf(remark, sizeof remark, "better of OMP_WAIT_POLICY default (%.3f ms) and PASSIVE (%.3f ms): %s; %s",
                 a.median_s * 1e3, b.median_s * 1e3, passive ? "PASSIVE" : "default", start_note(best));
    else
        snprintf(remark, sizeof remark, "OMP_WAIT_POLICY=PASSIVE failed: %.150s", b.why);
    return add_row(report, shape_name, dashed, batch, job->steps, flops, "default", route, remark, best, err);
}
