/* plot_png_none.c — PNG output in a build without librsvg (plot/plot.h): SVG only. */
#include "plot/plot.h"

bool dt_plot_png_available(void) {
    return false;
}

dt_status dt_plot_png(const char *svg, size_t svg_size, unsigned char **png, size_t *png_size, dt_error *err) {
    *png = NULL;
    *png_size = 0;
    return dt_fail(err, DT_USAGE, "PNG output needs librsvg2-dev at build time (this build writes .svg only)");
}
