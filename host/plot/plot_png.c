/* plot_png.c — the plot's SVG document rendered as PNG by librsvg onto a cairo image surface
 * (plot/plot.h): one drawing, two formats. Built when librsvg is found (plot_png_none.c
 * otherwise). */
#include "plot/plot.h"

#include <librsvg/rsvg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The PNG bytes cairo streams out, gathered in memory (written atomically afterwards). */
typedef struct {
    unsigned char *bytes;
    size_t size, capacity;
} png_bytes;

static cairo_status_t append_png(void *closure, const unsigned char *data, unsigned int length) {
    png_bytes *out = closure;
    if (out->size + length > out->capacity) {
        size_t capacity = (out->size + length) * 2;
        unsigned char *grown = realloc(out->bytes, capacity);
        if (!grown) return CAIRO_STATUS_NO_MEMORY;
        out->bytes = grown;
        out->capacity = capacity;
    }
    memcpy(out->bytes + out->size, data, length);
    out->size += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Jumps to cleanup with DT_INTERNAL naming the failed step and librsvg's or cairo's reason. */
#define CHECK_RENDER(ok, what, reason)                                                          \
    do {                                                                                        \
        if (!(ok)) {                                                                            \
            status = dt_fail(err, DT_INTERNAL, "rendering the plot as PNG: %s failed: %s", what, \
                             (reason) ? (reason) : "no reason given");                          \
            goto cleanup;                                                                       \
        }                                                                                       \
    } while (0)

bool dt_plot_png_available(void) {
    return true;
}

dt_status dt_plot_png(const char *svg, size_t svg_size, unsigned char **png, size_t *png_size, dt_error *err) {
    dt_status status = DT_OK;
    GError *gerror = NULL;
    cairo_surface_t *surface = NULL;
    cairo_t *cr = NULL;
    png_bytes out = {0};
    double width = 0, height = 0;
    RsvgHandle *handle = rsvg_handle_new_from_data((const guint8 *)svg, svg_size, &gerror);
    CHECK_RENDER(handle, "rsvg_handle_new_from_data", gerror ? gerror->message : NULL);
    CHECK_RENDER(rsvg_handle_get_intrinsic_size_in_pixels(handle, &width, &height) && width >= 1 && height >= 1,
                 "rsvg_handle_get_intrinsic_size_in_pixels", "the document has no size in pixels");
    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)ceil(width), (int)ceil(height));
    CHECK_RENDER(cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, "cairo_image_surface_create",
                 cairo_status_to_string(cairo_surface_status(surface)));
    cr = cairo_create(surface);
    CHECK_RENDER(cairo_status(cr) == CAIRO_STATUS_SUCCESS, "cairo_create", cairo_status_to_string(cairo_status(cr)));
    RsvgRectangle viewport = {0, 0, width, height};
    CHECK_RENDER(rsvg_handle_render_document(handle, cr, &viewport, &gerror), "rsvg_handle_render_document",
                 gerror ? gerror->message : NULL);
    cairo_surface_flush(surface);
    cairo_status_t written = cairo_surface_write_to_png_stream(surface, append_png, &out);
    CHECK_RENDER(written == CAIRO_STATUS_SUCCESS, "cairo_surface_write_to_png_stream", cairo_status_to_string(written));
    *png = out.bytes;
    *png_size = out.size;
    out.bytes = NULL;
cleanup:
    free(out.bytes);
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
    if (handle) g_object_unref(handle);
    if (gerror) g_error_free(gerror);
    return status;
}
