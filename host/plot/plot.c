/* plot.c — detrain plot's metrics (names, panels, defaults), the output's checks and the write
 * (plot/plot.h); loading is plot_load.c's, drawing plot_svg.c's, rendering plot_png.c's. */
#include "plot/plot.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"

static const struct {
    const char *name;
    dt_plot_kind kind;
} metric_table[DT_PLOT_N_METRICS] = {
    {"train_loss", DT_PLOT_KIND_LOSS}, {"train_accuracy", DT_PLOT_KIND_ACCURACY},
    {"val_loss", DT_PLOT_KIND_LOSS},   {"val_accuracy", DT_PLOT_KIND_ACCURACY},
    {"test_loss", DT_PLOT_KIND_LOSS},  {"test_accuracy", DT_PLOT_KIND_ACCURACY},
    {"lr", DT_PLOT_KIND_LR},
};

const char *dt_plot_metric_name(dt_plot_metric metric) {
    return (unsigned)metric < DT_PLOT_N_METRICS ? metric_table[metric].name : "?";
}

dt_plot_kind dt_plot_metric_kind(dt_plot_metric metric) {
    return (unsigned)metric < DT_PLOT_N_METRICS ? metric_table[metric].kind : DT_PLOT_KIND_LOSS;
}

dt_status dt_plot_metrics_parse(const char *list, bool chosen[DT_PLOT_N_METRICS], dt_error *err) {
    for (const char *at = list;; at++) {
        size_t len = strcspn(at, ",");
        int found = -1;
        for (int m = 0; m < DT_PLOT_N_METRICS; m++)
            if (strlen(metric_table[m].name) == len && !strncmp(at, metric_table[m].name, len)) found = m;
        if (found < 0)
            return dt_fail(err, DT_USAGE,
                           "unknown metric '%.*s' (valid: train_loss, train_accuracy, val_loss, val_accuracy, "
                           "test_loss, test_accuracy, lr)",
                           (int)len, at);
        chosen[found] = true;
        at += len;
        if (!*at) return DT_OK;
    }
}

dt_status dt_plot_metrics_resolve(const dt_plot_runs *runs, const bool chosen[DT_PLOT_N_METRICS],
                                  bool metrics[DT_PLOT_N_METRICS], dt_error *err) {
    bool in_some_run[DT_PLOT_N_METRICS] = {false}, any_chosen = false;
    for (int r = 0; r < runs->n_runs; r++)
        for (int m = 0; m < DT_PLOT_N_METRICS; m++) in_some_run[m] |= runs->runs[r].has[m];
    for (int m = 0; m < DT_PLOT_N_METRICS; m++) {
        metrics[m] = chosen[m];
        any_chosen |= chosen[m];
    }
    if (!any_chosen) {
        metrics[DT_PLOT_TRAIN_LOSS] = metrics[DT_PLOT_TEST_LOSS] = true;
        metrics[DT_PLOT_VAL_LOSS] = in_some_run[DT_PLOT_VAL_LOSS];
    }
    for (int m = 0; m < DT_PLOT_N_METRICS; m++)
        if (metrics[m] && !in_some_run[m])
            return dt_fail(err, DT_USAGE, "metric %s: none of the given runs has it (%s%d run%s)", metric_table[m].name,
                           runs->n_runs == 1 ? "" : "all ", runs->n_runs, runs->n_runs == 1 ? "" : "s");
    return DT_OK;
}

/* Whether name ends with suffix, ignoring case (".SVG" is an SVG file too). */
static bool ends_with(const char *name, const char *suffix) {
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && !strcasecmp(name + n - k, suffix);
}

dt_status dt_plot_output_check(const char *output, dt_plot_format *format, dt_error *err) {
    if (ends_with(output, ".svg")) *format = DT_PLOT_SVG;
    else if (ends_with(output, ".png")) *format = DT_PLOT_PNG;
    else return dt_fail(err, DT_USAGE, "%s: unknown output format (the name must end in .svg or .png)", output);
    if (*format == DT_PLOT_PNG && !dt_plot_png_available())
        return dt_fail(err, DT_USAGE, "%s: PNG output needs librsvg2-dev at build time (this build writes .svg only)",
                       output);
    return dt_check_output_file(output, err);
}

dt_status dt_plot_write(const dt_plot_runs *runs, const bool metrics[DT_PLOT_N_METRICS], const char *title,
                        const char *output, dt_plot_format format, dt_error *err) {
    char *svg = NULL;
    unsigned char *png = NULL;
    size_t svg_size = 0, png_size = 0;
    dt_status status;
    DT_TRY(dt_plot_svg(runs, metrics, title, &svg, &svg_size, err));
    if (format == DT_PLOT_PNG) {
        DT_TRY(dt_plot_png(svg, svg_size, &png, &png_size, err));
        DT_TRY(dt_write_file_atomic(output, png, png_size, err));
    } else {
        DT_TRY(dt_write_file_atomic(output, svg, svg_size, err));
    }
cleanup:
    free(png);
    free(svg);
    return status;
}
