/* text.c — the growing string (text.h). */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void dt_text_printf(dt_text *t, const char *fmt, ...) {
    if (t->failed) return;
    va_list args;
    va_start(args, fmt);
    const int need = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (need < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)need + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + (size_t)need + 1) cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    va_start(args, fmt);
    vsnprintf(t->data + t->len, t->cap - t->len, fmt, args);
    va_end(args);
    t->len += (size_t)need;
}

char *dt_text_take(dt_text *t) {
    char *data = t->failed ? NULL : t->data;
    if (t->failed) free(t->data);
    t->data = NULL;
    t->len = t->cap = 0;
    return data;
}
