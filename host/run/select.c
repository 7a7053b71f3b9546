/* select.c — the best epoch and early stopping (select.h). */
#include "select.h"

#include <cjson/cJSON.h>
#include <math.h>

void dt_selector_init(dt_selector *s, const dt_config *cfg) {
    dt_selector none = {0};
    *s = none;
    s->active = dt_config_selection(cfg, &s->metric, &s->mode);
    if (s->active && cfg->train.early_stopping.given) {
        s->patience = cfg->train.early_stopping.patience;
        s->min_delta = cfg->train.early_stopping.min_delta;
    }
}

double dt_selector_value(const dt_selector *s, const dt_epoch_metrics *m) {
    switch (s->metric) {
    case DT_METRIC_VAL_LOSS: return m->has_validation ? (double)m->val_loss : NAN;
    case DT_METRIC_VAL_ACCURACY: return m->has_validation ? m->val_accuracy : NAN;
    case DT_METRIC_TRAIN_LOSS: return (double)m->train_loss;
    case DT_METRIC_TRAIN_ACCURACY: return m->train_accuracy;
    case DT_METRIC_TEST_LOSS: return (double)m->test_loss;
    case DT_METRIC_TEST_ACCURACY: return m->test_accuracy;
    }
    return NAN;
}

int dt_selector_update(const dt_selector *s, const dt_epoch_metrics *m, dt_train_progress *p) {
    if (!s->active) return 0;
    const double value = dt_selector_value(s, m), delta = (double)s->min_delta;
    /* NaN never improves; the comparisons are on exact recorded values, so every run agrees */
    const int improved = p->best_epoch == 0 ? !isnan(value)
                         : s->mode == DT_SELECT_MIN ? value < p->best_value - delta
                                                    : value > p->best_value + delta;
    if (improved) {
        p->best_epoch = m->epoch;
        p->best_value = value;
        p->since_best = 0;
    } else {
        p->since_best++;
    }
    if (s->patience > 0 && p->since_best >= s->patience) p->stopped_early = 1;
    return improved;
}

cJSON *dt_selector_json(const dt_selector *s, const dt_train_progress *p) {
    if (!s->active) return NULL;
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "metric", dt_metric_name(s->metric));
    cJSON_AddStringToObject(obj, "mode", dt_select_mode_name(s->mode));
    if (p->best_epoch > 0) {
        cJSON_AddNumberToObject(obj, "best_epoch", p->best_epoch);
        cJSON_AddNumberToObject(obj, "best_value", p->best_value);
        cJSON_AddStringToObject(obj, "checkpoint", "best.h5");
    } else {
        cJSON_AddNullToObject(obj, "best_epoch");
        cJSON_AddNullToObject(obj, "best_value");
        cJSON_AddNullToObject(obj, "checkpoint");
    }
    cJSON_AddNumberToObject(obj, "since_best", p->since_best);
    if (s->patience > 0) {
        cJSON *early = cJSON_AddObjectToObject(obj, "early_stopping");
        cJSON_AddNumberToObject(early, "patience", s->patience);
        cJSON_AddNumberToObject(early, "min_delta", s->min_delta);
    }
    cJSON_AddBoolToObject(obj, "stopped_early", p->stopped_early != 0);
    /* every epoch after the best one counted, so the last one is best + since */
    if (p->stopped_early) cJSON_AddNumberToObject(obj, "stopped_epoch", p->best_epoch + p->since_best);
    else cJSON_AddNullToObject(obj, "stopped_epoch");
    return obj;
}
