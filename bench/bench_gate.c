/* bench_gate.c — the headline ratios and the --max-ratio gate (bench_gate.h). */
#include "bench_gate.h"

#include <string.h>

/* The detrain row of `mode` on the same shape and batch as `like`, not skipped; NULL if none. */
static const dt_bench_row *row_of(const dt_bench_report *r, const dt_bench_row *like, const char *mode) {
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        if (!x->skipped && !strcmp(x->engine, "detrain") && !strcmp(x->mode, mode) && !strcmp(x->shape, like->shape) &&
            x->batch == like->batch)
            return x;
    }
    return NULL;
}

/* The fastest (sign 1) or slowest (sign -1) repeat's step time of a row. */
static double extreme(const dt_bench_row *x, int sign) {
    double best = x->step_s[0];
    for (int i = 1; i < x->repeats; i++)
        if (sign * (x->step_s[i] - best) < 0) best = x->step_s[i];
    return best;
}

/* num ÷ den, its range over the repeats, and its verdict against max_ratio. */
static dt_bench_ratio ratio_of(const dt_bench_row *num, const dt_bench_row *den, double max_ratio) {
    dt_bench_ratio q = {num, den, num->median_s / den->median_s, extreme(num, 1) / extreme(den, -1),
                        extreme(num, -1) / extreme(den, 1), DT_RATIO_WITHIN};
    if (max_ratio > 0 && q.low > max_ratio) q.verdict = DT_RATIO_ABOVE;
    else if (max_ratio > 0 && q.high > max_ratio) q.verdict = DT_RATIO_INCONCLUSIVE;
    return q;
}

int dt_bench_ratios(const dt_bench_report *r, double max_ratio, dt_bench_ratio *out) {
    static const char *const pairs[2][2] = {{"deterministic", "fast"}, {"portable", "deterministic"}};
    int n = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const dt_bench_row *x = &r->rows[i];
        for (int p = 0; p < 2; p++) {
            if (x->skipped || strcmp(x->engine, "detrain") || strcmp(x->mode, pairs[p][0])) continue;
            const dt_bench_row *den = row_of(r, x, pairs[p][1]);
            if (den && den->median_s > 0 && x->repeats > 0 && den->repeats > 0) out[n++] = ratio_of(x, den, max_ratio);
        }
    }
    return n;
}

dt_ratio_verdict dt_bench_gate(const dt_bench_ratio *ratios, int n) {
    dt_ratio_verdict worst = DT_RATIO_WITHIN;
    for (int i = 0; i < n; i++) {
        if (ratios[i].verdict == DT_RATIO_ABOVE) return DT_RATIO_ABOVE;
        if (ratios[i].verdict == DT_RATIO_INCONCLUSIVE) worst = DT_RATIO_INCONCLUSIVE;
    }
    return worst;
}

static const char *verdict_name(dt_ratio_verdict v) {
    return v == DT_RATIO_ABOVE ? "above" : v == DT_RATIO_INCONCLUSIVE ? "inconclusive" : "within";
}

void dt_bench_print_ratios(const dt_bench_ratio *ratios, int n, double max_ratio, FILE *out) {
    if (n == 0) return;
    fprintf(out, "\nwhat determinism costs (median step-time ratio [range over the repeats])%s\n",
            max_ratio > 0 ? "; gate: --max-ratio" : "");
    for (int i = 0; i < n; i++) {
        const dt_bench_ratio *q = &ratios[i];
        char name[80];
        snprintf(name, sizeof name, "%s / %s", q->num->mode, q->den->mode);
        fprintf(out, "  %-12s batch %-6lld %-26s %8.3f [%.3f, %.3f]", q->num->shape, (long long)q->num->batch, name,
                q->median, q->low, q->high);
        if (max_ratio > 0) fprintf(out, "  %s %g", verdict_name(q->verdict), max_ratio);
        fputc('\n', out);
    }
}

cJSON *dt_bench_ratios_json(const dt_bench_ratio *ratios, int n, double max_ratio) {
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < n; i++) {
        const dt_bench_ratio *q = &ratios[i];
        char name[64];
        snprintf(name, sizeof name, "%s/%s", q->num->mode, q->den->mode);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "shape", q->num->shape);
        cJSON_AddNumberToObject(x, "batch", (double)q->num->batch);
        cJSON_AddStringToObject(x, "ratio", name);
        cJSON_AddNumberToObject(x, "median", q->median);
        cJSON_AddNumberToObject(x, "low", q->low);
        cJSON_AddNumberToObject(x, "high", q->high);
        if (max_ratio > 0) cJSON_AddStringToObject(x, "verdict", verdict_name(q->verdict));
        cJSON_AddItemToArray(array, x);
    }
    return array;
}
