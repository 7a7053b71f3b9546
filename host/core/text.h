/* text.h — a growing string for generated text (canonical JSON, SVG, tables, predictions, an
 * HTTP answer): printf-style or byte appends, and a failed allocation remembered so that the
 * caller checks once at the end. */
#ifndef DT_TEXT_H
#define DT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;      /* NUL-terminated once anything was appended; owned */
    size_t len, cap;
    bool failed;     /* an allocation or a format failed: data is incomplete */
} dt_text;

/* Appends printf-formatted text; does nothing once t->failed. */
void dt_text_printf(dt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends n bytes (a NUL among them is kept, and counted in len); does nothing once t->failed. */
void dt_text_append(dt_text *t, const void *bytes, size_t n);

/* The text, handed over to the caller (free it), or NULL when anything failed (then freed);
 * t is left empty, ready for new appends. */
char *dt_text_take(dt_text *t);

#endif
