/* progress.h — what the user sees while training: a live line on a terminal, one plain
 * line per epoch otherwise, nothing with --quiet. Always to stderr. */
#ifndef DT_PROGRESS_H
#define DT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int enabled;              /* 0 with --quiet */
    int live;                 /* stderr is a terminal */
    double last_draw;         /* monotonic seconds of the last live redraw */
} dt_progress;

/* Seconds from a monotonic clock. */
double dt_now_seconds(void);

/* The wall-clock time in UTC as "2026-11-26T14:15:22Z" (size >= 21), for records. */
void dt_utc_now(char *out, size_t size);

/* Sets up progress output. */
void dt_progress_init(dt_progress *p, int quiet);

/* Redraws the live line (at most 10 times a second); no-op when not live. */
void dt_progress_step(dt_progress *p, int epoch, int epochs, int64_t step, int64_t steps, float loss, double accuracy,
                      double samples_per_s, double eta_s);

/* An epoch's line: accuracies NaN for regression, val_* NaN without a validation set. */
typedef struct {
    double train_loss, train_acc, val_loss, val_acc, test_loss, test_acc;
    int best;                 /* the epoch is the run's best so far (train.select) */
    double seconds, samples_per_s;
} dt_progress_metrics;

/* Prints the epoch summary line (ends a live line first). */
void dt_progress_epoch(dt_progress *p, int epoch, int epochs, const dt_progress_metrics *m);

/* Prints a note line (e.g. which device was chosen). */
void dt_progress_note(dt_progress *p, const char *text);

#endif
