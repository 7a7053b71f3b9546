/* data_csv.c — numeric CSV files, raw or gzip-compressed.
 *
 * One sample per line; cells separated by src->delimiter (no quoting: every data cell is a
 * number, surrounding spaces and tabs allowed); an optional header line of column names
 * (a name may be wrapped in double quotes, but cannot hold the delimiter); the label column
 * named by src->label_column, as a header name or a 0-based index. A ',', ';' or tab
 * delimiter separates exactly two cells, so two in a row leave an empty cell (an error);
 * with ' ', a run of spaces is one separator and spaces at the start and end of a line are
 * ignored, as numpy.loadtxt reads whitespace (np.savetxt's single spaces and padded
 * fixed-width columns alike). Blank lines are skipped, CRLF is accepted. Errors name
 * path:line:column, with the column the 1-based byte position where the cell starts. */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"

/* Walks the lines of a text buffer. */
typedef struct {
    const char *text;
    size_t n_bytes;
    size_t pos;          /* start of the next line */
    int64_t line_no;     /* 1-based number of the line last returned */
    char separator;      /* the source's delimiter: ',', ';', '\t' or ' ' */
} csv_cursor;

/* One line: [start, end), without its "\n" or "\r\n". */
typedef struct {
    const char *start, *end;
    int64_t line_no;
    char separator;      /* ' ': runs of spaces separate, leading and trailing ones are ignored */
} csv_line;

/* One cell of a line: [start, end). */
typedef struct {
    const char *start, *end;
} csv_cell;

/* Where a problem is, for messages: the file and line. */
typedef struct {
    const char *path;
    const csv_line *line;
} csv_where;

/* Moves to the next line that is not blank (spaces, tabs and '\r' only). Returns 0 at
 * the end of the text. */
static int next_line(csv_cursor *cursor, csv_line *line) {
    while (cursor->pos < cursor->n_bytes) {
        const char *start = cursor->text + cursor->pos;
        const char *newline = memchr(start, '\n', cursor->n_bytes - cursor->pos);
        const char *end = newline ? newline : cursor->text + cursor->n_bytes;
        cursor->pos = (size_t)(end - cursor->text) + (newline ? 1 : 0);
        cursor->line_no++;
        if (end > start && end[-1] == '\r') end--;
        for (const char *c = start; c < end; c++) {
            if (*c != ' ' && *c != '\t' && *c != '\r') {
                line->start = start;
                line->end = end;
                line->line_no = cursor->line_no;
                line->separator = cursor->separator;
                return 1;
            }
        }
    }
    return 0;
}

/* The cell that starts at `start`: up to the next separator or the end of the line. */
static csv_cell cell_at(const char *start, const csv_line *line) {
    const char *separator = memchr(start, line->separator, (size_t)(line->end - start));
    return (csv_cell){start, separator ? separator : line->end};
}

/* The first cell of a line (after the leading spaces when spaces separate). */
static csv_cell first_cell(const csv_line *line) {
    const char *start = line->start;
    if (line->separator == ' ')
        while (start < line->end && *start == ' ') start++;
    return cell_at(start, line);
}

/* Moves *cell to the next cell of the line; 0 when it was the last one. */
static int next_cell(const csv_line *line, csv_cell *cell) {
    if (cell->end == line->end) return 0;
    const char *start = cell->end + 1;
    if (line->separator == ' ') {
        while (start < line->end && *start == ' ') start++;
        if (start == line->end) return 0; /* trailing spaces */
    }
    *cell = cell_at(start, line);
    return 1;
}

/* Number of fields on a line. */
static int64_t count_fields(const csv_line *line) {
    int64_t n_fields = 1;
    for (csv_cell cell = first_cell(line); next_cell(line, &cell);) n_fields++;
    return n_fields;
}

/* How a message names a separator character. */
static const char *separator_name(char separator) {
    return separator == ',' ? "','" : separator == ';' ? "';'" : separator == '\t' ? "tabs" : "spaces";
}

/* When a line reads as one field but holds another delimiter, "the cells look separated by
 * ';': set the source's delimiter to \";\"" into out; else "". Spaces are suggested last. */
static void delimiter_hint(const csv_line *line, int64_t n_fields, char *out, size_t cap) {
    static const char candidates[] = {';', '\t', ',', ' '};
    static const char *const spelled[] = {";", "\\t", ",", " "};
    out[0] = '\0';
    for (int i = 0; i < 4 && n_fields == 1; i++)
        if (candidates[i] != line->separator && memchr(line->start, candidates[i], (size_t)(line->end - line->start))) {
            snprintf(out, cap, "the cells look separated by %s: set the source's delimiter to \"%s\"",
                     separator_name(candidates[i]), spelled[i]);
            return;
        }
}

/* Copies a cell, trimmed and with unprintable bytes as '?', into out for a message. */
static void quote_cell(const char *cell, const char *end, char *out, size_t out_size) {
    while (cell < end && (*cell == ' ' || *cell == '\t')) cell++;
    while (end > cell && (end[-1] == ' ' || end[-1] == '\t')) end--;
    size_t n = 0;
    for (; cell < end && n + 4 < out_size; cell++) out[n++] = (*cell >= 0x20 && *cell < 0x7f) ? *cell : '?';
    if (cell < end) out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
}

/* DT_DATA "path:line:column: <what> "cell"<detail>" for a bad cell. */
static dt_status cell_fail(const csv_where *where, const char *cell, const char *end, const char *what,
                           const char *detail, dt_error *err) {
    char text[64];
    quote_cell(cell, end, text, sizeof text);
    return dt_fail(err, DT_DATA, "%s:%lld:%lld: %s \"%s\"%s", where->path, (long long)where->line->line_no,
                   (long long)(cell - where->line->start + 1), what, text, detail);
}

/* Parses a whole cell [cell, end) as a number, surrounding spaces allowed: as a float
 * (correctly rounded by strtof) when `single`, else as a double. Sets *overflow when the
 * text is finite but too large. Returns 0, or -1 when the cell is not a complete number.
 * strto* may look past `end` but stops at the delimiter, '\r', '\n' or the NUL that
 * dt_read_file places after the text, none of which belong to a number. */
static int parse_number(const char *cell, const char *end, int single, double *value, int *overflow) {
    while (cell < end && (*cell == ' ' || *cell == '\t')) cell++;
    if (cell == end) return -1; /* empty; also keeps strto* from skipping past the line */
    char *stop;
    errno = 0;
    *value = single ? (double)strtof(cell, &stop) : strtod(cell, &stop);
    *overflow = errno == ERANGE && isinf(*value);
    if (stop == cell || stop > end) return -1;
    while (stop < end && (*stop == ' ' || *stop == '\t')) stop++;
    return stop == end ? 0 : -1;
}

/* Parses a feature cell into *out; DT_DATA when non-numeric, not finite or too large. */
static dt_status parse_feature(const csv_where *where, const char *cell, const char *end, float *out,
                               dt_error *err) {
    double value;
    int overflow;
    if (parse_number(cell, end, 1, &value, &overflow) != 0)
        return cell_fail(where, cell, end, "non-numeric cell",
                         where->line->separator != ',' && memchr(cell, ',', (size_t)(end - cell))
                             ? " (a decimal comma? numbers are read with a decimal point)"
                             : "",
                         err);
    if (overflow) return cell_fail(where, cell, end, "feature", " is outside the float range", err);
    if (!isfinite(value)) return cell_fail(where, cell, end, "feature", " is not finite", err);
    *out = (float)value;
    return DT_OK;
}

/* Parses a label cell: a class index in [0, n_classes) into *label when n_classes > 0,
 * else a finite float target into *target. */
static dt_status parse_label(const csv_where *where, const char *cell, const char *end, int32_t n_classes,
                             int32_t *label, float *target, dt_error *err) {
    double value;
    int overflow;
    if (parse_number(cell, end, n_classes <= 0, &value, &overflow) != 0)
        return cell_fail(where, cell, end, "non-numeric cell", "", err);
    if (n_classes <= 0) {
        if (overflow) return cell_fail(where, cell, end, "target", " is outside the float range", err);
        if (!isfinite(value)) return cell_fail(where, cell, end, "target", " is not finite", err);
        *target = (float)value;
        return DT_OK;
    }
    if (value != floor(value)) return cell_fail(where, cell, end, "label", " is not an integer", err);
    if (!(value >= 0 && value < n_classes)) {
        char detail[128];
        snprintf(detail, sizeof detail, " is outside [0, %d), the output layer's units (model.layers[-1].units)",
                 n_classes);
        return cell_fail(where, cell, end, "label", detail, err);
    }
    *label = (int32_t)value;
    return DT_OK;
}

/* True when `text` is a non-empty string of decimal digits. */
static int is_index(const char *text) {
    if (!*text) return 0;
    for (; *text; text++)
        if (*text < '0' || *text > '9') return 0;
    return 1;
}

/* Finds the header column whose name (trimmed, quotes removed) equals `name`; -1 if none. */
static int64_t find_column(const csv_line *header, const char *name) {
    size_t name_len = strlen(name);
    int64_t column = 0;
    csv_cell cell = first_cell(header);
    do {
        const char *a = cell.start, *b = cell.end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (b - a >= 2 && *a == '"' && b[-1] == '"') a++, b--;
        if ((size_t)(b - a) == name_len && memcmp(a, name, name_len) == 0) return column;
        column++;
    } while (next_cell(header, &cell));
    return -1;
}

/* The header's column names, quoted and comma-separated, cut with "..." to fit out. */
static void header_names(const csv_line *header, char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    csv_cell cell = first_cell(header);
    do {
        char name[64];
        quote_cell(cell.start, cell.end, name, sizeof name);
        const int n = snprintf(out + used, size - used, "%s\"%s\"", used ? ", " : "", name);
        if (n < 0 || (size_t)n >= size - used) {
            snprintf(out + (used < size - 5 ? used : size - 5), 5, "...");
            return;
        }
        used += (size_t)n;
    } while (next_cell(header, &cell));
}

/* Resolves src->label_column to a 0-based column among n_fields; header may be NULL, `first`
 * is the line n_fields was counted on (the header, else the first data line). */
static dt_status label_column(const dt_data_source *src, const csv_line *header, const csv_line *first,
                              int64_t n_fields, int64_t *column, dt_error *err) {
    const char *name = src->label_column;
    char hint[128];
    delimiter_hint(first, n_fields, hint, sizeof hint);
    if (is_index(name)) {
        errno = 0;
        long long index = strtoll(name, NULL, 10);
        if (errno == ERANGE || index >= n_fields)
            return dt_fail(err, DT_DATA, "%s: label column %s is out of range: rows have %lld fields%s%s", src->path,
                           name, (long long)n_fields, hint[0] ? "; " : "", hint);
        *column = index;
        return DT_OK;
    }
    if (!*name) return dt_fail(err, DT_DATA, "%s: no label column given", src->path);
    if (!header)
        return dt_fail(err, DT_DATA, "%s: label column \"%s\" is a name, but the file has no header line",
                       src->path, name);
    *column = find_column(header, name);
    if (*column < 0) {
        char names[200];
        header_names(header, names, sizeof names);
        if (hint[0])
            return dt_fail(err, DT_DATA, "%s: no column named \"%s\" in the header (it has %s); %s", src->path, name,
                           names, hint);
        return dt_fail(err, DT_DATA, "%s: no column named \"%s\" in the header (it has %s); set the source's "
                       "label_column to one of them or to a 0-based index, or header: false when the first line is data",
                       src->path, name, names);
    }
    return DT_OK;
}

/* Whether a file may be read as features only (labels optional): its header has no column
 * of the label's name, or it has exactly n_features fields (header may be NULL). */
static int labels_absent(const dt_data_source *src, const csv_line *header, int64_t n_fields, int32_t n_features) {
    if (n_fields == n_features) return 1;
    return header && !is_index(src->label_column) && find_column(header, src->label_column) < 0;
}

/* What a row holds besides its features. */
enum { ROW_TARGETS, ROW_CLASSES, ROW_FEATURES_ONLY };

/* Makes room for one more row in ds (capacity *cap_rows, doubling): features and, as
 * `kind` says, labels (classes), targets or nothing else. */
static dt_status reserve_row(dt_dataset *ds, int kind, int64_t *cap_rows, const char *path, dt_error *err) {
    if (ds->n_samples < *cap_rows) return DT_OK;
    int64_t grown = *cap_rows ? *cap_rows * 2 : 1024;
    const dt_status fits = dt_memory_check(grown * ((int64_t)ds->n_features + 1) * (int64_t)sizeof(float), DT_DATA,
                                           path, "its rows as float32", err);
    if (fits != DT_OK) return fits;
    float *features = realloc(ds->features, (size_t)grown * (size_t)ds->n_features * sizeof(float));
    if (features) ds->features = features;
    int ok = features != NULL;
    if (ok && kind == ROW_CLASSES) {
        int32_t *labels = realloc(ds->labels, (size_t)grown * sizeof(int32_t));
        if (labels) ds->labels = labels;
        ok = labels != NULL;
    } else if (ok && kind == ROW_TARGETS) {
        float *targets = realloc(ds->targets, (size_t)grown * sizeof(float));
        if (targets) ds->targets = targets;
        ok = targets != NULL;
    }
    if (!ok) return dt_fail(err, DT_NOMEM, "%s: out of memory for %lld rows", path, (long long)grown);
    *cap_rows = grown;
    return DT_OK;
}

/* Gives back the unused rows of the last doubling (a failed shrink keeps the block). */
static void shrink_rows(dt_dataset *ds) {
    size_t n_rows = (size_t)ds->n_samples;
    float *features = realloc(ds->features, n_rows * (size_t)ds->n_features * sizeof(float));
    if (features) ds->features = features;
    if (ds->labels) {
        int32_t *labels = realloc(ds->labels, n_rows * sizeof(int32_t));
        if (labels) ds->labels = labels;
    }
    if (ds->targets) {
        float *targets = realloc(ds->targets, n_rows * sizeof(float));
        if (targets) ds->targets = targets;
    }
}

/* Parses one data line into row ds->n_samples (room reserved): n_fields cells, the one
 * at label_col the label, the rest the features in order. */
static dt_status parse_row(dt_dataset *ds, const csv_where *where, int64_t n_fields, int64_t label_col,
                           int32_t n_classes, dt_error *err) {
    int64_t have = count_fields(where->line);
    if (have != n_fields)
        return dt_fail(err, DT_DATA, "%s:%lld: has %lld fields, expected %lld", where->path,
                       (long long)where->line->line_no, (long long)have, (long long)n_fields);
    float *row = ds->features + (size_t)ds->n_samples * (size_t)ds->n_features;
    csv_cell cell = first_cell(where->line);
    dt_status status = DT_OK;
    for (int64_t column = 0; column < n_fields && status == DT_OK; column++) {
        if (column == label_col)
            status = parse_label(where, cell.start, cell.end, n_classes, ds->labels ? &ds->labels[ds->n_samples] : NULL,
                                 ds->targets ? &ds->targets[ds->n_samples] : NULL, err);
        else
            status = parse_feature(where, cell.start, cell.end, row++, err);
        next_cell(where->line, &cell);
    }
    return status;
}

/* Parses the text of a CSV file into ds (files[] already recorded). */
static dt_status parse_csv(dt_dataset *ds, const char *text, size_t n_bytes, const dt_data_source *src,
                           const dt_data_expect *expect, dt_error *err) {
    dt_status status = DT_OK;
    static const char separators[] = {',', ';', '\t', ' '};
    const char separator = (unsigned)src->delimiter < sizeof separators ? separators[src->delimiter] : ',';
    csv_cursor cursor = {text, n_bytes, 0, 0, separator};
    csv_line line, header;
    csv_where where = {src->path, &line};
    int64_t n_fields, label_col = -1, cap_rows = 0;
    char hint[128];
    DT_TRY(dt_data_misformat(src->path, (const unsigned char *)text, n_bytes, DT_FORMAT_CSV, err));
    if (n_bytes >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) cursor.pos = 3; /* a UTF-8 byte-order mark */
    if (src->header && !next_line(&cursor, &header))
        return dt_fail(err, DT_DATA, "%s: no data rows (the file is empty)", src->path);
    if (!next_line(&cursor, &line)) return dt_fail(err, DT_DATA, "%s: no data rows", src->path);
    n_fields = count_fields(src->header ? &header : &line);
    const int features_only = expect->labels_optional && labels_absent(src, src->header ? &header : NULL, n_fields,
                                                                       expect->n_features);
    const csv_line *first = src->header ? &header : &line; /* the line n_fields was counted on */
    if (!features_only) DT_TRY(label_column(src, src->header ? &header : NULL, first, n_fields, &label_col, err));
    const int64_t n_label_fields = features_only ? 0 : 1;
    delimiter_hint(first, n_fields, hint, sizeof hint);
    if (n_fields - n_label_fields < 1 || n_fields - n_label_fields != expect->n_features)
        return dt_fail(err, DT_DATA, "%s: samples have %lld features, model.input_size is %d%s%s%s", src->path,
                       (long long)(n_fields - n_label_fields), expect->n_features, hint[0] ? " (" : "", hint,
                       hint[0] ? ")" : "");
    ds->n_features = (int32_t)(n_fields - n_label_fields);
    ds->n_targets = features_only || expect->n_classes > 0 ? 0 : 1;
    const int kind = features_only ? ROW_FEATURES_ONLY : expect->n_classes > 0 ? ROW_CLASSES : ROW_TARGETS;
    do {
        DT_TRY(reserve_row(ds, kind, &cap_rows, src->path, err));
        DT_TRY(parse_row(ds, &where, n_fields, label_col, expect->n_classes, err));
        ds->n_samples++;
    } while (next_line(&cursor, &line));
    shrink_rows(ds);
cleanup:
    return status;
}

dt_status dt_load_csv(dt_dataset *ds, const dt_data_source *src, const dt_data_expect *expect, dt_error *err) {
    dt_status status = DT_OK;
    unsigned char *bytes = NULL;
    size_t n_bytes = 0;
    memset(ds, 0, sizeof *ds);
    DT_TRY(dt_read_file(src->path, &bytes, &n_bytes, &ds->files[0], err));
    ds->n_files = 1;
    DT_TRY(parse_csv(ds, (const char *)bytes, n_bytes, src, expect, err));
cleanup:
    free(bytes);
    if (status != DT_OK) dt_dataset_free(ds);
    return status;
}
