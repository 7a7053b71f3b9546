/* plot.h — learning curves: the per-epoch metrics that run folders record (manifest.json
 * "epochs"), drawn on shared axes as one SVG document, and that same document rendered as PNG
 * (librsvg and cairo, when the build has them). Reads records only; writes one file.
 *
 * The document: one panel per kind of metric (loss, accuracy, learning rate), x = epoch shared
 * by all panels; one <path class="curve" data-run=RUN data-metric=METRIC> per run and metric,
 * one point ("M x y" or "L x y") per epoch that has the value; a <circle class="best"> on the
 * curve of the metric a run's "selection" block names, at its best epoch. Colour = run, dash
 * pattern = split (train solid, val dashed, test dotted). Same runs, same bytes. */
#ifndef DT_PLOT_H
#define DT_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/status.h"

/* The metrics a plot can draw, in the order panels and legends show them. */
typedef enum {
    DT_PLOT_TRAIN_LOSS,
    DT_PLOT_TRAIN_ACCURACY,
    DT_PLOT_VAL_LOSS,
    DT_PLOT_VAL_ACCURACY,
    DT_PLOT_TEST_LOSS,
    DT_PLOT_TEST_ACCURACY,
    DT_PLOT_LR,
    DT_PLOT_N_METRICS
} dt_plot_metric;

/* The panel a metric is drawn on: metrics of one kind share a y axis. */
typedef enum { DT_PLOT_KIND_LOSS, DT_PLOT_KIND_ACCURACY, DT_PLOT_KIND_LR, DT_PLOT_N_KINDS } dt_plot_kind;

typedef enum { DT_PLOT_SVG, DT_PLOT_PNG } dt_plot_format;

/* One run's curves. */
typedef struct {
    char name[DT_PATH_MAX];             /* the legend's and data-run's name: the folder's name */
    char experiment[DT_NAME_MAX];       /* the manifest's "experiment"; "" when absent */
    int n_epochs;
    double *epoch;                      /* (n_epochs) each epoch's number; owns the buffer */
    double *values[DT_PLOT_N_METRICS];  /* (n_epochs) each, views into epoch's buffer; NaN: no value */
    bool has[DT_PLOT_N_METRICS];        /* some epoch has a value of the metric */
    int best_metric;                    /* the selection's metric (a dt_plot_metric); -1: none */
    double best_epoch;                  /* the selection's best epoch, when best_metric >= 0 */
} dt_plot_run;

typedef struct {
    dt_plot_run *runs;
    int n_runs;
} dt_plot_runs;

/* The manifest key of a metric ("train_loss"); never NULL. */
const char *dt_plot_metric_name(dt_plot_metric metric);

/* The panel a metric belongs to. */
dt_plot_kind dt_plot_metric_kind(dt_plot_metric metric);

/* Marks in chosen[] each metric named in `list` (one name, or several separated by commas).
 * DT_USAGE naming an unknown one and listing the valid names. */
dt_status dt_plot_metrics_parse(const char *list, bool chosen[DT_PLOT_N_METRICS], dt_error *err);

/* The metrics to draw: those chosen (none chosen: train_loss, val_loss when a run has it,
 * test_loss). DT_USAGE naming a metric that none of the runs has. */
dt_status dt_plot_metrics_resolve(const dt_plot_runs *runs, const bool chosen[DT_PLOT_N_METRICS],
                                  bool metrics[DT_PLOT_N_METRICS], dt_error *err);

/* Loads the runs that paths name: a run folder (manifest.json) is one run; a sweep folder
 * (sweep.json) gives every folder directly inside it that holds a manifest.json, by name.
 * DT_USAGE for a path that is neither, DT_DATA naming a manifest that is not JSON or whose
 * "epochs" are malformed, DT_IO for an unreadable file. Free with dt_plot_runs_free, also on
 * failure. */
dt_status dt_plot_load(const char *const *paths, int n_paths, dt_plot_runs *runs, dt_error *err);
void dt_plot_runs_free(dt_plot_runs *runs);

/* The SVG document of the runs' curves of metrics[] under `title` ("" or NULL: "Learning
 * curves", with the experiment when all runs share one), into a malloc'ed NUL-terminated
 * *svg of *size bytes (the caller frees). DT_NOMEM. */
dt_status dt_plot_svg(const dt_plot_runs *runs, const bool metrics[DT_PLOT_N_METRICS], const char *title, char **svg,
                      size_t *size, dt_error *err);

/* Whether this build renders PNG (it was built with librsvg). */
bool dt_plot_png_available(void);

/* An SVG document rendered at its own size as PNG bytes, into a malloc'ed *png of *png_size
 * bytes (the caller frees). DT_USAGE when the build has no librsvg, DT_INTERNAL when librsvg
 * or cairo fail (with their message), DT_NOMEM. */
dt_status dt_plot_png(const char *svg, size_t svg_size, unsigned char **png, size_t *png_size, dt_error *err);

/* The format an output file name asks for (.svg, .png), checked before any work: DT_USAGE
 * for another extension or PNG in a build without librsvg; DT_IO when the file's folder is
 * missing or not writable, or the path is a folder. */
dt_status dt_plot_output_check(const char *output, dt_plot_format *format, dt_error *err);

/* Draws metrics[] of the runs and writes the document to output in `format`, atomically
 * (dt_write_file_atomic: nothing is left behind on failure; DT_WRITE). */
dt_status dt_plot_write(const dt_plot_runs *runs, const bool metrics[DT_PLOT_N_METRICS], const char *title,
                        const char *output, dt_plot_format format, dt_error *err);

#endif
