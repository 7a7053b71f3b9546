/* sweep.h — hyperparameter sweeps. A plan of trials (every combination of the --grid values,
 * times seeded random draws of the --random keys), each trial a normal run trained by a child
 * process (`detrain train` or `detrain resume`, the same binary), the plan and every trial's
 * state in <dir>/sweep.json so that a sweep can be continued, and the table of results.
 *
 * Trials are named by their overrides ("optimizer.lr=0.001,model.layers[0].units=128") and
 * their run folders are <dir>/<name>. A random draw is a pure function of (sweep seed, draw,
 * key): Philox4x32-10 (kernels/rng.h), never time or process, and the drawn value is recorded
 * as the exact text passed to --set, so a plan is the same on every machine. */
#ifndef DT_SWEEP_H
#define DT_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"

#define DT_SWEEP_MAX_KEYS 16
#define DT_SWEEP_MAX_TRIALS 10000
#define DT_SWEEP_MAX_JOBS 1024
#define DT_SWEEP_NAME_MAX 224

typedef struct cJSON cJSON;

typedef enum {
    DT_TRIAL_PENDING,
    DT_TRIAL_RUNNING,
    DT_TRIAL_COMPLETED,
    DT_TRIAL_FAILED,
    DT_TRIAL_INTERRUPTED
} dt_trial_status;

/* One swept key: the values of a grid, or the range of a random key. */
typedef struct {
    char key[DT_NAME_MAX];
    char spec[DT_PATH_MAX];          /* as given: "optimizer.lr=0.1,0.01" or "optimizer.lr=1e-4:1e-1:log" */
    int is_random;
    int n_values;                    /* grid */
    char **values;                   /* grid: (n_values) the value texts, owned */
    double low, high;                /* random: the range, low < high */
    int log_scale, integer;          /* random: log-uniform; integer draws (LO and HI are integers) */
} dt_sweep_key;

/* One trial of the plan and its state. */
typedef struct {
    char name[DT_SWEEP_NAME_MAX];    /* the overrides joined by ',' with unsafe characters as '_' */
    char **values;                   /* (n_keys) each key's value text, owned */
    char config_sha256[65];          /* SHA-256 of the resolved config (dt_config_to_json) */
    dt_trial_status status;
    int exit_code;                   /* the last child's exit code (128 + signal when killed); -1: none */
    char params_sha256[65];          /* the run's final parameter digest; "" until completed */
    double seconds;                  /* wall time of its children since its last fresh start */
    char message[256];               /* why it failed: the child's last line of output */
    int n_failed_runs;               /* failed folders kept as <name>.failed-<n>, n = 1.. */
} dt_sweep_trial;

/* A sweep: what it varies, its trials, where it lives. Initialise with dt_sweep_plan_init. */
typedef struct {
    char config_path[DT_PATH_MAX];
    char config_file_sha256[65];
    char config_name[DT_NAME_MAX];   /* the config file's stem */
    char experiment[DT_NAME_MAX];    /* every trial's experiment; "" before dt_sweep_plan_build:
                                        <config stem>-sweep */
    char dir[DT_PATH_MAX];           /* the sweep folder */
    char started_at[32];             /* UTC, of the sweep's first invocation */
    int n_sets;
    char **sets;                     /* (n_sets) --set overrides of every trial, owned */
    int n_keys;
    dt_sweep_key keys[DT_SWEEP_MAX_KEYS];
    int64_t n_draws;                 /* random draws (--trials); 0 without random keys */
    uint64_t sweep_seed;
    int n_trials;
    dt_sweep_trial *trials;          /* (n_trials), owned */
    int argc;
    char **argv;                     /* the command line, recorded; not owned */
    int lock_fd;                     /* the sweep folder's lock (dt_sweep_record_open); -1: none */
} dt_sweep_plan;

/* Name of a trial status as sweep.json writes it ("completed"); never NULL. */
const char *dt_sweep_status_name(dt_trial_status status);

/* ---- the plan (sweep_plan.c) ---- */

/* An empty plan. */
void dt_sweep_plan_init(dt_sweep_plan *plan);

/* Frees what the plan owns and releases its folder's lock; the plan is empty afterwards. */
void dt_sweep_plan_free(dt_sweep_plan *plan);

/* Adds an override "KEY=VALUE" that every trial gets (copied). DT_USAGE without '='. */
dt_status dt_sweep_add_set(dt_sweep_plan *plan, const char *override_text, dt_error *err);

/* Adds a swept key from "KEY=V1,V2,..." (a grid; commas inside [], {} or quotes do not split)
 * or "KEY=LO:HI[:log]" (random). DT_USAGE naming the option for a malformed or empty list, a
 * repeated value or key, a bad range, or a key that may not vary (runtime.*, tracking.*,
 * experiment). The key itself is checked by dt_sweep_plan_build. */
dt_status dt_sweep_add_key(dt_sweep_plan *plan, const char *spec, int is_random, dt_error *err);

/* Makes the trials: loads the config (with the --set overrides), checks the experiment name
 * (defaulting it to "<config stem>-sweep"), every grid value and random bound against the
 * config, draws n_draws values of each random key (seed sweep_seed), names each trial and
 * digests its resolved config. Trials run draw by draw, and within a draw over
 * the grid combinations with the first --grid varying slowest. The config's own error
 * (DT_IO, DT_CONFIG naming the key) when a value is refused; DT_USAGE for too many trials. */
dt_status dt_sweep_plan_build(dt_sweep_plan *plan, const char *config_path, dt_error *err);

/* <store>/sweep-<config stem>-<UTC time> into out (store: the project's, registry/store.h). */
void dt_sweep_default_dir(const dt_sweep_plan *plan, const char *store, char *out, size_t size);

/* <dir>/<trial name> into out. */
void dt_sweep_trial_dir(const dt_sweep_plan *plan, int trial, char *out, size_t size);

/* ---- sweep.json (sweep_record.c) ---- */

/* Opens the sweep folder plan->dir: creates it, locks it for this process (held until
 * dt_sweep_plan_free) and writes a fresh sweep.json, or, when it holds one, checks that it
 * records the same plan and takes over every trial's state (*continued = 1). DT_USAGE when
 * another process holds the folder, when it holds a run, or naming the first difference
 * (config file, experiment, --set, a grid, a random key, a trial's resolved config) when it
 * records another plan; DT_CHECKPOINT for a sweep.json that is not one; DT_WRITE when the
 * folder or file cannot be written. */
dt_status dt_sweep_record_open(dt_sweep_plan *plan, int *continued, dt_error *err);

/* Rewrites <dir>/sweep.json atomically from the plan. DT_WRITE on failure. */
dt_status dt_sweep_record_write(const dt_sweep_plan *plan, dt_error *err);

/* ---- running the trials (sweep_run.c) ---- */

/* What the runner reports: a trial started ("train", "resume"), ended (its status's name), or
 * was found completed ("skipped"). Called from the runner's thread; may print. */
typedef void (*dt_sweep_event_fn)(void *ctx, const dt_sweep_plan *plan, int trial, const char *event);

typedef struct {
    int jobs;                        /* trials at once, 1..DT_SWEEP_MAX_JOBS */
    int threads;                     /* --threads of each child */
    const char *argv0;               /* the children's argv[0], as recorded in their manifests */
    dt_sweep_event_fn on_event;      /* NULL: silent */
    void *ctx;
} dt_sweep_run_opts;

/* Runs every trial that is not completed (in plan order, opts->jobs at once): a failed one
 * from scratch (its folder kept as <name>.failed-<n>), one whose folder holds an unfinished
 * run by `detrain resume`, the others by `detrain train`. Each child's output goes to
 * <dir>/logs/<name>.log; sweep.json is rewritten on every change. SIGINT or SIGTERM is
 * forwarded (as SIGINT) to every child, which checkpoints and exits; no new trial starts.
 * The folder must have been opened (dt_sweep_record_open). Not reentrant: one sweep a process.
 * Returns DT_OK when every trial ran (completed or failed: see the trials), DT_INTERRUPTED
 * after a signal (the trials it stopped marked interrupted), DT_WRITE when sweep.json or a
 * log cannot be written. */
dt_status dt_sweep_run(dt_sweep_plan *plan, const dt_sweep_run_opts *opts, dt_error *err);

/* ---- results (sweep_table.c) ---- */

/* One trial's results, from its manifest. NaN where a value is absent. */
typedef struct {
    int trial;                       /* index into plan->trials */
    double metric;                   /* the sort metric: selection.best_value, else final.test_loss */
    int64_t epoch;                   /* selection.best_epoch, else the final epoch; -1: none */
    double test_loss, test_accuracy;
} dt_sweep_row;

/* The rows sorted best first: completed trials by the metric (NaN last), then the others in
 * plan order. */
typedef struct {
    int n_rows;
    dt_sweep_row *rows;              /* (n_rows), owned */
    int by_selection;                /* every completed run records a selection with one metric */
    char metric[32];                 /* "val_loss", ...; "test_loss" without selection */
    int maximize;                    /* mode max */
    int winner;                      /* index into rows of the best completed trial; -1: none */
} dt_sweep_results;

/* Reads every completed trial's manifest and sorts. DT_NOMEM; a manifest that cannot be read
 * leaves that row's values NaN. Free with dt_sweep_results_free. */
dt_status dt_sweep_results_load(const dt_sweep_plan *plan, dt_sweep_results *results, dt_error *err);
void dt_sweep_results_free(dt_sweep_results *results);

/* The results as a text table (markdown: a Markdown table) with a header line saying the sort
 * order and a line naming the winner; malloc'ed, NULL on OOM. */
char *dt_sweep_table_text(const dt_sweep_plan *plan, const dt_sweep_results *results, int markdown);

/* The results as JSON (sorted rows, the winner); malloc'ed, NULL on OOM. */
char *dt_sweep_table_json(const dt_sweep_plan *plan, const dt_sweep_results *results);

#endif
