/* bench_peer.c — PyTorch in the same run (bench/peers/pytorch_mlp.py --bench): the same
 * layer widths, batch, synthetic data and initial parameters, timed and digested the way
 * detrain's rows are. Its repeats take turns with detrain's, round by round: each round runs
 * one peer process of one repeat (after its own warm-up), which prints one JSON line and
 * writes its final parameters to a file, from which the rounds' envelope is kept as for
 * detrain's rows. Its rows join the report.
 *
 * On the CPU it runs two variants, with OpenMP's default wait policy and with
 * OMP_WAIT_POLICY=PASSIVE (on a small VM the default spinning can be ten times slower), and
 * the better is kept, saying which. On a GPU: without and with
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

/* One variant of the peer (CPU: an OpenMP wait policy; GPU: with or without deterministic
 * algorithms) over the rounds: a process of one repeat each round. */
typedef struct {
    const char *extra_env;    /* NAME=VALUE, or -NAME to remove NAME */
    int deterministic;
    int rounds;               /* finished */
    char version[48];
    int threads, same_start;  /* same_start: its data and initial parameters digest like detrain's */
    double step_s[DT_BENCH_MAX_REPEATS];
    char digests[DT_BENCH_MAX_REPEATS][65];
    float first_loss, last_loss;
    float *lo, *hi;           /* the envelope of the rounds' final parameters */
} peer_variant;

struct dt_bench_peer_run {
    dt_bench_peer_job job;
    int64_t n_params;
    char layers[160], dashed[160]; /* "784,256,10" for the peer, "784-256-10" for the rows */
    double flops;             /* per step, as detrain's rows count them */
    int n_variants;
    peer_variant v[2];
    float *params;            /* (n_params) a round's final parameters, read back */
    char params_path[64];     /* where the peer writes them */
};

/* Fills v's round r from the peer's JSON result and its parameters file; a message in why
 * (and 0) when they are not what was asked. */
static int take_round(dt_bench_peer_run *run, peer_variant *v, int r, const cJSON *json, char *why, size_t why_size) {
    const cJSON *times = cJSON_GetObjectItemCaseSensitive(json, "step_seconds");
    const cJSON *digests = cJSON_GetObjectItemCaseSensitive(json, "digests");
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(json, "init_sha256");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data_sha256");
    const cJSON *x;
    if (!cJSON_IsNumber(x = cJSON_GetArrayItem(times, 0)) || !cJSON_IsString(cJSON_GetArrayItem(digests, 0))) {
        snprintf(why, why_size, "the peer's output has no step_seconds or digests");
        return 0;
    }
    v->step_s[r] = x->valuedouble;
    snprintf(v->digests[r], sizeof v->digests[r], "%s", cJSON_GetArrayItem(digests, 0)->valuestring);
    FILE *f = fopen(run->params_path, "rb");
    const size_t got = f ? fread(run->params, sizeof(float), (size_t)run->n_params + 1, f) : 0;
    if (f) fclose(f);
    if (got != (size_t)run->n_params) {
        snprintf(why, why_size, "the peer wrote %zu parameters to %s, not %lld", got, run->params_path,
                 (long long)run->n_params);
        return 0;
    }
    if (r > 0) {
        dt_envelope_add(v->lo, v->hi, run->params, run->n_params);
        return 1;
    }
    dt_envelope_start(v->lo, v->hi, run->params, run->n_params);
    if (cJSON_IsString(x = cJSON_GetObjectItemCaseSensitive(json, "version")))
        snprintf(v->version, sizeof v->version, "%s", x->valuestring);
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(json, "first_loss"))) v->first_loss = (float)x->valuedouble;
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(json, "last_loss"))) v->last_loss = (float)x->valuedouble;
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(json, "threads"))) v->threads = x->valueint;
    v->same_start = cJSON_IsString(init) && cJSON_IsString(data) && !strcmp(init->valuestring, run->job.init_sha256) &&
                    !strcmp(data->valuestring, run->job.data_sha256);
    return 1;
}

/* Round r of variant v: one peer process of one repeat (its own warm-up first). 0 with why
 * when it failed. */
static int run_round(const dt_bench_opts *o, dt_bench_peer_run *run, peer_variant *v, int r, char *why,
                     size_t why_size) {
    char script[DT_PATH_MAX + 32], batch_s[24], steps_s[24], warmup_s[24], threads_s[24], seed_s[32], lr_s[32];
    const dt_bench_peer_job *job = &run->job;
    snprintf(script, sizeof script, "%s/peers/pytorch_mlp.py", o->bench_dir);
    snprintf(batch_s, sizeof batch_s, "%lld", (long long)job->batch);
    snprintf(lr_s, sizeof lr_s, "%.9g", (double)job->lr);
    snprintf(steps_s, sizeof steps_s, "%d", job->steps);
    snprintf(warmup_s, sizeof warmup_s, "%d", o->warmup);
    snprintf(threads_s, sizeof threads_s, "%d", o->threads);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)o->seed);
    char *argv[28] = {(char *)o->python, script, "--bench", "--widths", run->layers, "--batch", batch_s, "--lr", lr_s,
                      "--steps", steps_s, "--warmup", warmup_s, "--repeats", "1", "--threads", threads_s,
                      "--seed", seed_s, "--device", o->device == DT_DEVICE_CUDA ? "cuda" : "cpu",
                      "--params-out", run->params_path, v->deterministic ? "--deterministic" : NULL, NULL};
    char *output = NULL;
    const int rc = run_captured(argv, v->extra_env, &output);
    const char *line = output ? last_json_line(output) : NULL;
    cJSON *json = line ? cJSON_Parse(line) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
    int ok = 0;
    if (cJSON_IsString(error)) snprintf(why, why_size, "%s", error->valuestring);
    else if (rc == -1) snprintf(why, why_size, "%.150s: cannot run", o->python);
    else if (rc != 0 || !json) last_line(output, why, why_size);
    else ok = take_round(run, v, r, json, why, why_size);
    cJSON_Delete(json);
    free(output);
    return ok;
}

/* Whether the peer started where detrain did. */
static const char *start_note(const peer_variant *v) {
    return v->same_start ? "same synthetic data and initial parameters as detrain (SHA-256 equal)"
                         : "WARNING: its data or initial parameters differ from detrain's";
}

static double variant_median(const peer_variant *v) {
    double sorted[DT_BENCH_MAX_REPEATS];
    memcpy(sorted, v->step_s, (size_t)v->rounds * sizeof(double));
    return dt_median(sorted, v->rounds);
}

/* A report row from a variant's rounds. */
static dt_status add_row(dt_bench_report *report, const dt_bench_peer_run *run, const peer_variant *v,
                         const char *mode, const char *route, const char *remark, dt_error *err) {
    dt_bench_row *row = dt_bench_row_add(report);
    if (!row) return dt_fail(err, DT_NOMEM, "out of memory");
    snprintf(row->shape, sizeof row->shape, "%s", run->job.shape);
    snprintf(row->layers, sizeof row->layers, "%s", run->dashed);
    snprintf(row->engine, sizeof row->engine, "pytorch");
    snprintf(row->mode, sizeof row->mode, "%s", mode);
    snprintf(row->device, sizeof row->device, "%s", report->opts.device == DT_DEVICE_CUDA ? "cuda" : "cpu");
    snprintf(row->route, sizeof row->route, "%s", route);
    snprintf(row->note, sizeof row->note, "%s", remark);
    row->batch = run->job.batch;
    row->repeats = v->rounds, row->steps = run->job.steps, row->warmup = report->opts.warmup;
    memcpy(row->step_s, v->step_s, sizeof row->step_s);
    row->flops_per_step = run->flops;
    row->n_digests = dt_distinct_digests((const char(*)[65])v->digests, v->rounds);
    snprintf(row->digest, sizeof row->digest, "%s", v->digests[0]);
    const dt_float_diff d = dt_compare_floats(v->lo, v->hi, run->n_params);
    row->max_abs_diff = d.max_abs_diff;
    row->max_ulp = d.max_ulp;
    row->first_loss = v->first_loss, row->last_loss = v->last_loss;
    dt_bench_row_finish(row);
    return DT_OK;
}

void dt_bench_peer_free(dt_bench_peer_run *run) {
    if (!run) return;
    if (run->params_path[0]) unlink(run->params_path);
    for (int i = 0; i < run->n_variants; i++) free(run->v[i].lo), free(run->v[i].hi);
    free(run->params);
    free(run);
}

dt_status dt_bench_peer_start(dt_bench_report *report, const dt_bench_peer_job *job, dt_bench_peer_run **out,
                              dt_error *err) {
    *out = NULL;
    if (report->peer_note[0]) return DT_OK;
    dt_bench_peer_run *run = calloc(1, sizeof *run);
    if (!run) return dt_fail(err, DT_NOMEM, "out of memory");
    run->job = *job;
    double macs = 0.0;
    for (int i = 0, used = 0, used_d = 0; i < job->n_widths; i++) {
        used += snprintf(run->layers + used, sizeof run->layers - (size_t)used, "%s%d", i ? "," : "", job->widths[i]);
        used_d += snprintf(run->dashed + used_d, sizeof run->dashed - (size_t)used_d, "%s%d", i ? "-" : "",
                           job->widths[i]);
        if (i > 0) {
            macs += (double)job->widths[i - 1] * (double)job->widths[i];
            run->n_params += (int64_t)job->widths[i - 1] * job->widths[i] + job->widths[i];
        }
    }
    run->flops = 6.0 * (double)job->batch * macs;
    const int gpu = report->opts.device == DT_DEVICE_CUDA;
    run->n_variants = 2;
    run->v[0] = (peer_variant){.extra_env = gpu ? "CUBLAS_WORKSPACE_CONFIG=:4096:8" : "-OMP_WAIT_POLICY"};
    run->v[1] = (peer_variant){.extra_env = gpu ? "CUBLAS_WORKSPACE_CONFIG=:4096:8" : "OMP_WAIT_POLICY=PASSIVE",
                               .deterministic = gpu};
    run->params = malloc((size_t)(run->n_params + 1) * sizeof(float));
    int fd = -1;
    snprintf(run->params_path, sizeof run->params_path, "/tmp/dtpeer-XXXXXX");
    if (run->params && (fd = mkstemp(run->params_path)) >= 0) close(fd);
    else run->params_path[0] = '\0';
    for (int i = 0; i < run->n_variants; i++) {
        run->v[i].lo = malloc((size_t)(run->n_params + 1) * sizeof(float));
        run->v[i].hi = malloc((size_t)(run->n_params + 1) * sizeof(float));
        if (!run->v[i].lo || !run->v[i].hi) fd = -1;
    }
    if (fd < 0) {
        dt_bench_peer_free(run);
        return dt_fail(err, DT_NOMEM, "out of memory, or no temporary file, for the peer's parameters");
    }
    *out = run;
    return DT_OK;
}

dt_status dt_bench_peer_round(dt_bench_report *report, dt_bench_peer_run *run, int r, dt_error *err) {
    (void)err;
    for (int i = 0; i < run->n_variants && !report->peer_note[0]; i++) {
        char why[200];
        if (run_round(&report->opts, run, &run->v[i], r, why, sizeof why)) run->v[i].rounds = r + 1;
        else if (i == 0 || report->opts.device == DT_DEVICE_CUDA)
            snprintf(report->peer_note, sizeof report->peer_note, "pytorch: skipped: %.200s", why);
        else /* the PASSIVE policy failing leaves the default one */
            run->n_variants = 1;
    }
    return DT_OK;
}

dt_status dt_bench_peer_finish(dt_bench_report *report, dt_bench_peer_run *run, dt_error *err) {
    if (report->peer_note[0] || run->v[0].rounds < 1) return DT_OK;
    char route[256], remark[256];
    if (report->opts.device == DT_DEVICE_CUDA) {
        for (int det = 0; det < 2; det++) {
            const peer_variant *v = &run->v[det];
            snprintf(report->peer_version, sizeof report->peer_version, "PyTorch %.40s", v->version);
            snprintf(route, sizeof route, "PyTorch %.40s, cuda, TF32 off%s", v->version,
                     det ? ", use_deterministic_algorithms(True)" : "");
            const dt_status status = add_row(report, run, v, det ? "deterministic" : "default", route, start_note(v), err);
            if (status != DT_OK) return status;
        }
        return DT_OK;
    }
    const int passive = run->n_variants == 2 && variant_median(&run->v[1]) < variant_median(&run->v[0]);
    const peer_variant *best = &run->v[passive];
    snprintf(report->peer_version, sizeof report->peer_version, "PyTorch %.40s", best->version);
    snprintf(route, sizeof route, "PyTorch %.40s, cpu, %d thread%s, OMP_WAIT_POLICY=%s", best->version, best->threads,
             best->threads == 1 ? "" : "s", passive ? "PASSIVE" : "default");
    if (run->n_variants == 2)
        snprintf(remark, sizeof remark, "better of OMP_WAIT_POLICY default (%.3f ms) and PASSIVE (%.3f ms): %s; %s",
                 variant_median(&run->v[0]) * 1e3, variant_median(&run->v[1]) * 1e3, passive ? "PASSIVE" : "default",
                 start_note(best));
    else
        snprintf(remark, sizeof remark, "OMP_WAIT_POLICY=PASSIVE failed; %s", start_note(best));
    return add_row(report, run, best, "default", route, remark, err);
}
