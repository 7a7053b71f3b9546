/* select.h — model selection: the best epoch by one metric, and early stopping.
 *
 * After every epoch the run compares the epoch's selection metric with the best so far
 * (train.select; val_loss / min when the run has a validation set). An epoch that improves on
 * it by more than early_stopping.min_delta (the first epoch always does) becomes the best:
 * the run writes best.h5. With early_stopping, `patience` epochs in a row without one end the
 * run. The state lives in dt_train_progress, so checkpoints carry it and a resumed run
 * decides exactly as an uninterrupted one. */
#ifndef DT_SELECT_H
#define DT_SELECT_H

#include "core/config.h"
#include "records/checkpoint.h"
#include "records/manifest.h"

typedef struct {
    int active;                  /* the run selects a best epoch */
    dt_metric metric;
    dt_select_mode mode;         /* DT_SELECT_MIN or DT_SELECT_MAX */
    int32_t patience;            /* 0: no early stopping */
    float min_delta;
} dt_selector;

/* The selection the config asks for (inactive when it selects nothing). */
void dt_selector_init(dt_selector *s, const dt_config *cfg);

/* The selection metric's value in an epoch's metrics (NaN when the epoch lacks it). */
double dt_selector_value(const dt_selector *s, const dt_epoch_metrics *m);

/* Takes the epoch whose metrics are m into p: its best epoch and value, the count of epochs
 * since, and stopped_early once that count reaches the patience. Returns 1 when m's epoch is
 * the new best, else 0 (always 0 when inactive). */
int dt_selector_update(const dt_selector *s, const dt_epoch_metrics *m, dt_train_progress *p);

/* The manifest's "selection" block for the state in p; caller owns it. NULL when inactive. */
cJSON *dt_selector_json(const dt_selector *s, const dt_train_progress *p);

#endif
