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

#include "status.h"

/* Evaluates the checkpoint on SOURCE (NULL: the config's test set) and prints the number of
 * samples, the loss (decimal and bits) and, for classifiers, the accuracy. labels: the IDX
 * labels file of SOURCE, or NULL. threads: 0 = all cores. */
dt_status dt_eval(const char *checkpoint, const char *source, const char *labels, int threads, dt_error *err);

/* Writes one prediction per sample of SOURCE to output (NULL: CSV on stdout): CSV
 * (.csv) or JSON lines (.jsonl, .json). Classifiers: the class index (first largest logit)
 * and the softmax probabilities; regression: the outputs. Labels in SOURCE are optional. */
dt_status dt_predict(const char *checkpoint, const char *source, const char *labels, const char *output, int threads,
                     dt_error *err);

#endif
