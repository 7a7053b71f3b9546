/* bisect.h (cli) — the op dumps of train and resume (--dump-ops STEP, DETRAIN_TEST_PERTURB);
 * the bisect command itself is in cli/commands.h. */
#ifndef DT_CLI_BISECT_H
#define DT_CLI_BISECT_H

#include "records/optrace.h"

/* What train or resume traces: the step to dump (0: none), where, and the test-only fault. */
typedef struct {
    long long dump_step;
    const char *dump_file;     /* NULL: RUN_DIR/ops-STEP.json */
    dt_op_trace trace;
    int on;                    /* a dump or a fault was asked for: pass &trace to the run */
} dt_cli_trace;

/* Sets up t from --dump-ops (NULL: not given), --ops-out (NULL: the run folder's) and
 * $DETRAIN_TEST_PERTURB for `command`. -1 when set up, else the exit code of the printed error. */
int dt_cli_trace_begin(dt_cli_trace *t, const char *dump_ops, const char *ops_out, const char *command);

/* After a run in run_dir that went as `rc` says (0, 130: it ran steps): writes the asked dump
 * and says where on stderr; frees t. Returns rc, or the exit code of the printed error (2 when
 * the run never reached the step). */
int dt_cli_trace_end(dt_cli_trace *t, int rc, const char *run_dir);

#endif
