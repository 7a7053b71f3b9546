/* text.c — the growing string (text.h). */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for `need` more bytes and a NUL; false (t->failed set) when it cannot be made. */
static bool reserve(dt_text *t, size_t need) {
    if (t->failed) return false;
    if (t->len + need + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + need + 1) cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = true;
            return false;
        }
        t->data = grown;
        t->cap = cap;
    }
    return true;
}

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
    if (!reserve(t, (size_t)need)) return;
    va_start(args, fmt);
    vsnprintf(t->data + t->len, t->cap - t->len, fmt, args);
    va_end(args);
    t->len += (size_t)need;
}

void dt_text_append(dt_text *t, const void *bytes, size_t n) {
    if (!reserve(t, n)) return;
    if (n) memcpy(t->data + t->len, bytes, n);
    t->len += n;
    t->data[t->len] = '\0';
}

char *dt_text_take(dt_text *t) {
    char *data = t->failed ? NULL : t->data;
    if (t->failed) free(t->data);
    t->data = NULL;
    t->len = t->cap = 0;
    t->failed = false;
    return data;
}
