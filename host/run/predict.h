/* predict.h — detrain eval and predict: use a checkpoint's parameters on data.
 *
 * SOURCE (eval --data, predict --input) is either a data-source JSON object as in a config
 * ('{"format": "csv", "path": "x.csv", "label_column": 0}') or a file whose format follows
 * from its name: .csv / .csv.gz (header line, label column "label"), .h5 / .hdf5
 * (datasets "features" and "labels"), anything else is read as IDX images with the labels
 * file given separately. Inputs are normalised as the checkpoint's config says (standardize
 * uses the training moments stored in the checkpoint). */
#ifndef DT_PREDICT_H
#define DT_PREDICT_H

#include "data/data.h"
#include "core/status.h"

/* What an evaluation found. */
typedef struct {
    uint64_t step;                /* the checkpoint's */
    char source[DT_PATH_MAX];     /* the data evaluated on (its path) */
    int64_t n_samples, correct;   /* correct: classifiers */
    float loss;
    dt_loss_kind loss_kind;       /* softmax cross-entropy: a classifier */
    int n_files;
    dt_file_record files[DT_MAX_DATA_FILES];
    char recorded_sha256[DT_MAX_DATA_FILES][65]; /* the config's test set: the digest the checkpoint
                                                    records for a file that changed since; "" */
} dt_eval_report;

/* Evaluates the checkpoint on SOURCE (NULL: the config's test set) into *report: the number of
 * samples, the loss and, for classifiers, the number correct. labels: the IDX labels file of
 * SOURCE, or NULL. threads: 0 = all cores. */
dt_status dt_eval(const char *checkpoint, const char *source, const char *labels, int threads, dt_eval_report *report,
                  dt_error *err);

/* Predictions made: how many, and (without an output file) their CSV text, owned by the caller. */
typedef struct {
    int64_t n_samples;
    char *text;
    size_t size;
} dt_predictions;

/* Makes one prediction per sample of SOURCE and writes them to output, CSV (.csv) or JSON
 * lines (.jsonl, .json); with output NULL, out->text receives them as CSV (free it).
 * Classifiers: the class index (first largest logit) and the softmax probabilities;
 * regression: the outputs. Labels in SOURCE are optional. */
dt_status dt_predict(const char *checkpoint, const char *source, const char *labels, const char *output, int threads,
                     dt_predictions *out, dt_error *err);

#endif
