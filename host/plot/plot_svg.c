/* plot_svg.c — the learning curves as one SVG document (plot/plot.h): a title, then one panel
 * per kind of metric drawn (loss, accuracy, learning rate), stacked, each with its frame,
 * 1-2-5 ticks, axis labels, curves and a legend below it; x = epoch, the same in every panel.
 * Coordinates are printed with two decimals, so the same runs give the same bytes. */
#include "plot/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

#define WIDTH 860.0
#define LEFT 84.0          /* room for the y tick labels and the y axis label */
#define RIGHT 28.0
#define TITLE_HEIGHT 40.0
#define PANEL_GAP 24.0
#define PLOT_HEIGHT 240.0
#define BELOW_PLOT 46.0    /* the x tick labels and the x axis label */
#define LEGEND_LINE 18.0

/* Colour by run (matplotlib's tab10, repeating after ten runs). */
static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
static const char *const kind_label[DT_PLOT_N_KINDS] = {"loss", "accuracy", "learning rate"};

/* The stroke-dasharray of a metric's split: train and lr solid (""), val dashed, test dotted. */
static const char *dash_of(int metric) {
    const char *name = dt_plot_metric_name(metric);
    if (!strncmp(name, "val_", 4)) return "7 4";
    if (!strncmp(name, "test_", 5)) return "2 3";
    return "";
}

/* s as XML character data or attribute value: markup characters escaped, control characters
 * (not allowed in XML 1.0) as '?'. */
static void put_escaped(dt_text *out, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&') dt_text_printf(out, "&amp;");
        else if (c == '<') dt_text_printf(out, "&lt;");
        else if (c == '>') dt_text_printf(out, "&gt;");
        else if (c == '"') dt_text_printf(out, "&quot;");
        else if (c < 0x20 && c != '\t') dt_text_printf(out, "?");
        else dt_text_printf(out, "%c", c);
    }
}

/* ---- axes ------------------------------------------------------------------------------- */

typedef struct {
    double lo, hi, step; /* the range drawn and the distance between ticks */
    int decimals;        /* of the tick labels */
} axis;

/* The 1-2-5 step (..., 0.1, 0.2, 0.5, 1, 2, 5, 10, ...) that cuts span into about `target`
 * intervals, never fewer. */
static double nice_step(double span, int target) {
    double raw = span / target, magnitude = pow(10, floor(log10(raw))), residual = raw / magnitude;
    return (residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10) * magnitude;
}

/* An axis over [min, max]: widened to whole steps (widen) or exactly the range (the epochs,
 * whose ticks are whole steps >= 1 inside it). A single value gets a range around it. */
static axis make_axis(double min, double max, int target, bool widen) {
    if (max <= min) {
        double pad = min != 0 ? fabs(min) * 0.1 : 1;
        min -= pad;
        max += pad;
    }
    axis a = {min, max, nice_step(max - min, target), 0};
    if (widen) {
        a.lo = floor(min / a.step) * a.step;
        a.hi = ceil(max / a.step) * a.step;
    } else if (a.step < 1) {
        a.step = 1;
    }
    a.decimals = a.step >= 1 ? 0 : (int)ceil(-log10(a.step) - 1e-9);
    return a;
}

/* A panel: where it sits and its two axes. */
typedef struct {
    dt_plot_kind kind;
    double top;        /* of the plot area */
    int n_legend;      /* curves, one legend line each */
    axis x, y;
} panel;

static double x_of(const panel *p, double epoch) {
    return LEFT + (epoch - p->x.lo) / (p->x.hi - p->x.lo) * (WIDTH - LEFT - RIGHT);
}

static double y_of(const panel *p, double value) {
    return p->top + PLOT_HEIGHT - (value - p->y.lo) / (p->y.hi - p->y.lo) * PLOT_HEIGHT;
}

/* Whether run has a curve of metric on panel kind among the metrics drawn. */
static bool draws(const dt_plot_run *run, const bool metrics[], int metric, dt_plot_kind kind) {
    return metrics[metric] && run->has[metric] && dt_plot_metric_kind(metric) == kind;
}

/* The range of the values (y) or epochs (x) drawn on panel kind (every kind: -1); false when
 * nothing is drawn there. */
static bool data_range(const dt_plot_runs *runs, const bool metrics[], int kind, bool epochs, double *min,
                       double *max) {
    *min = INFINITY;
    *max = -INFINITY;
    for (int r = 0; r < runs->n_runs; r++)
        for (int m = 0; m < DT_PLOT_N_METRICS; m++) {
            const dt_plot_run *run = &runs->runs[r];
            if (!draws(run, metrics, m, kind < 0 ? dt_plot_metric_kind(m) : (dt_plot_kind)kind)) continue;
            for (int i = 0; i < run->n_epochs; i++) {
                if (isnan(run->values[m][i])) continue;
                double v = epochs ? run->epoch[i] : run->values[m][i];
                *min = fmin(*min, v);
                *max = fmax(*max, v);
            }
        }
    return *min <= *max;
}

/* Writes one tick label of axis a at value v. */
static void put_tick_label(dt_text *out, const axis *a, double v, double x, double y, const char *anchor) {
    if (fabs(v) < a->step * 1e-9) v = 0; /* no "-0.0" */
    dt_text_printf(out, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\">%.*f</text>\n", x, y, anchor, a->decimals, v);
}

/* The panel's grid, tick labels, frame and axis labels. */
static void put_axes(dt_text *out, const panel *p) {
    double right = WIDTH - RIGHT, bottom = p->top + PLOT_HEIGHT;
    dt_text_printf(out, "<g class=\"axes\" fill=\"#333\">\n");
    for (double v = ceil(p->x.lo / p->x.step - 1e-9) * p->x.step; v <= p->x.hi + p->x.step * 1e-9; v += p->x.step) {
        dt_text_printf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n", x_of(p, v), p->top,
            x_of(p, v), bottom);
        put_tick_label(out, &p->x, v, x_of(p, v), bottom + 16, "middle");
    }
    for (int k = 0; p->y.lo + k * p->y.step <= p->y.hi + p->y.step * 1e-9; k++) {
        double v = p->y.lo + k * p->y.step;
        dt_text_printf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n", LEFT, y_of(p, v), right,
            y_of(p, v));
        put_tick_label(out, &p->y, v, LEFT - 6, y_of(p, v) + 4, "end");
    }
    dt_text_printf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#333\"/>\n", LEFT,
        p->top, right - LEFT, PLOT_HEIGHT);
    dt_text_printf(out, "<text class=\"axis-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">epoch</text>\n",
        (LEFT + right) / 2, bottom + 36);
    dt_text_printf(out, "<text class=\"axis-label\" transform=\"translate(18 %.2f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
        p->top + PLOT_HEIGHT / 2, kind_label[p->kind]);
    dt_text_printf(out, "</g>\n");
}

/* The attributes every element of one curve carries: class, run, metric and colour. */
static void put_curve_attributes(dt_text *out, const char *class_name, const dt_plot_run *run, int run_index,
                                 int metric) {
    dt_text_printf(out, "class=\"%s\" data-run=\"", class_name);
    put_escaped(out, run->name);
    dt_text_printf(out, "\" data-metric=\"%s\" stroke=\"%s\"", dt_plot_metric_name(metric),
        palette[run_index % (int)(sizeof palette / sizeof palette[0])]);
}

/* One run's curve of metric: one point per epoch with a value, a gap where one has none; and
 * the best epoch's circle when the run's selection is this metric. */
static void put_curve(dt_text *out, const panel *p, const dt_plot_run *run, int run_index, int metric) {
    dt_text_printf(out, "<path ");
    put_curve_attributes(out, "curve", run, run_index, metric);
    if (*dash_of(metric)) dt_text_printf(out, " stroke-dasharray=\"%s\"", dash_of(metric));
    dt_text_printf(out, " fill=\"none\" stroke-width=\"1.8\" stroke-linejoin=\"round\" d=\"");
    bool pen_down = false, any = false;
    for (int i = 0; i < run->n_epochs; i++) {
        double v = run->values[metric][i];
        if (isnan(v)) {
            pen_down = false;
            continue;
        }
        dt_text_printf(out, "%s%c%.2f %.2f", any ? " " : "", pen_down ? 'L' : 'M', x_of(p, run->epoch[i]), y_of(p, v));
        pen_down = any = true;
    }
    dt_text_printf(out, "\"/>\n");
    for (int i = 0; i < run->n_epochs && run->best_metric == metric; i++) {
        if (run->epoch[i] != run->best_epoch || isnan(run->values[metric][i])) continue;
        dt_text_printf(out, "<circle ");
        put_curve_attributes(out, "best", run, run_index, metric);
        dt_text_printf(out, " fill=\"white\" stroke-width=\"2\" r=\"5\" cx=\"%.2f\" cy=\"%.2f\"><title>best epoch %g</title></circle>\n",
            x_of(p, run->epoch[i]), y_of(p, run->values[metric][i]), run->best_epoch);
    }
}

/* The legend below the panel: a stroke sample and "RUN — metric" per curve. */
static void put_legend(dt_text *out, const panel *p, const dt_plot_runs *runs, const bool metrics[]) {
    double y = p->top + PLOT_HEIGHT + BELOW_PLOT + LEGEND_LINE / 2;
    dt_text_printf(out, "<g class=\"legend\">\n");
    for (int r = 0; r < runs->n_runs; r++)
        for (int m = 0; m < DT_PLOT_N_METRICS; m++) {
            if (!draws(&runs->runs[r], metrics, m, p->kind)) continue;
            dt_text_printf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke-width=\"1.8\" stroke=\"%s\"", LEFT,
                y, LEFT + 28, y, palette[r % (int)(sizeof palette / sizeof palette[0])]);
            if (*dash_of(m)) dt_text_printf(out, " stroke-dasharray=\"%s\"", dash_of(m));
            dt_text_printf(out, "/>\n<text x=\"%.2f\" y=\"%.2f\">", LEFT + 36, y + 4);
            put_escaped(out, runs->runs[r].name);
            dt_text_printf(out, " \xe2\x80\x94 %s</text>\n", dt_plot_metric_name(m));
            y += LEGEND_LINE;
        }
    dt_text_printf(out, "</g>\n");
}

/* One panel: axes, the curves of its kind, the legend. */
static void put_panel(dt_text *out, const panel *p, const dt_plot_runs *runs, const bool metrics[]) {
    dt_text_printf(out, "<g class=\"panel\" data-kind=\"%s\">\n", kind_label[p->kind]);
    put_axes(out, p);
    for (int r = 0; r < runs->n_runs; r++)
        for (int m = 0; m < DT_PLOT_N_METRICS; m++)
            if (draws(&runs->runs[r], metrics, m, p->kind)) put_curve(out, p, &runs->runs[r], r, m);
    put_legend(out, p, runs, metrics);
    dt_text_printf(out, "</g>\n");
}

/* The panels to draw, top to bottom, with their places; returns how many, *height the
 * document's height. */
static int lay_out(const dt_plot_runs *runs, const bool metrics[], panel panels[DT_PLOT_N_KINDS], double *height) {
    double min, max, top = TITLE_HEIGHT;
    int n_panels = 0;
    if (!data_range(runs, metrics, -1, true, &min, &max)) min = max = 1; /* nothing to draw */
    axis x = make_axis(min, max, 10, false);
    double margin = (x.hi - x.lo) * 0.02; /* the first and last epochs off the frame */
    x.lo -= margin;
    x.hi += margin;
    for (int kind = 0; kind < DT_PLOT_N_KINDS; kind++) {
        if (!data_range(runs, metrics, kind, false, &min, &max)) continue;
        panel *p = &panels[n_panels++];
        *p = (panel){.kind = (dt_plot_kind)kind, .top = top + PANEL_GAP, .x = x, .y = make_axis(min, max, 6, true)};
        for (int r = 0; r < runs->n_runs; r++)
            for (int m = 0; m < DT_PLOT_N_METRICS; m++) p->n_legend += draws(&runs->runs[r], metrics, m, p->kind);
        top = p->top + PLOT_HEIGHT + BELOW_PLOT + p->n_legend * LEGEND_LINE;
    }
    *height = ceil(top + PANEL_GAP / 2);
    return n_panels;
}

/* The default title: "Learning curves", and the experiment when every run names the same. */
static void put_default_title(dt_text *out, const dt_plot_runs *runs) {
    const char *experiment = runs->n_runs ? runs->runs[0].experiment : "";
    for (int r = 1; r < runs->n_runs; r++)
        if (strcmp(runs->runs[r].experiment, experiment) != 0) experiment = "";
    dt_text_printf(out, "Learning curves");
    if (*experiment) dt_text_printf(out, ": ");
    put_escaped(out, experiment);
}

dt_status dt_plot_svg(const dt_plot_runs *runs, const bool metrics[DT_PLOT_N_METRICS], const char *title, char **svg,
                      size_t *size, dt_error *err) {
    panel panels[DT_PLOT_N_KINDS];
    double height;
    int n_panels = lay_out(runs, metrics, panels, &height);
    dt_text out = {0};
    dt_text_printf(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    dt_text_printf(&out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
              "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
        WIDTH, height, WIDTH, height);
    dt_text_printf(&out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    dt_text_printf(&out, "<text class=\"title\" x=\"%.2f\" y=\"28\" text-anchor=\"middle\" font-size=\"17\">", WIDTH / 2);
    if (title && *title) put_escaped(&out, title);
    else put_default_title(&out, runs);
    dt_text_printf(&out, "</text>\n");
    for (int i = 0; i < n_panels; i++) put_panel(&out, &panels[i], runs, metrics);
    dt_text_printf(&out, "</svg>\n");
    *size = out.len;
    *svg = dt_text_take(&out);
    return *svg ? DT_OK : dt_fail(err, DT_NOMEM, "out of memory for the plot");
}
