/* bench_gate.h — what determinism costs, as bench's two headline ratios per shape and batch
 * (deterministic ÷ fast, portable ÷ deterministic: detrain's median step times), and the
 * `--max-ratio R` gate over them that makes bench a CI check. */
#ifndef DT_BENCH_GATE_H
#define DT_BENCH_GATE_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "bench.h"

typedef enum {
    DT_RATIO_WITHIN,       /* at most R over every repeat (or no gate) */
    DT_RATIO_ABOVE,        /* above R over every repeat */
    DT_RATIO_INCONCLUSIVE, /* the repeats' spread straddles R */
} dt_ratio_verdict;

typedef struct {
    const dt_bench_row *num, *den; /* deterministic and fast, or portable and deterministic */
    double median;                 /* num's median step time ÷ den's */
    double low, high;              /* over the repeats: num's fastest ÷ den's slowest .. num's
                                      slowest ÷ den's fastest */
    dt_ratio_verdict verdict;      /* against max_ratio; WITHIN when max_ratio is 0 (no gate) */
} dt_bench_ratio;

/* The headline ratios of r's detrain rows, in row order, into out (at most r->n_rows), judged
 * against max_ratio (0: no gate). Returns how many; a pair with a skipped row gives none. */
int dt_bench_ratios(const dt_bench_report *r, double max_ratio, dt_bench_ratio *out);

/* The gate's verdict over every ratio: ABOVE when one is above, else INCONCLUSIVE when one
 * is, else WITHIN. */
dt_ratio_verdict dt_bench_gate(const dt_bench_ratio *ratios, int n);

/* The ratios as text after bench's table ("what determinism costs"), with the gate's verdict
 * per ratio when max_ratio > 0. */
void dt_bench_print_ratios(const dt_bench_ratio *ratios, int n, double max_ratio, FILE *out);

/* The ratios as a JSON array: shape, batch, ratio ("deterministic/fast"), median, low, high,
 * verdict ("within", "above", "inconclusive"; absent without a gate). NULL on OOM. */
cJSON *dt_bench_ratios_json(const dt_bench_ratio *ratios, int n, double max_ratio);

#endif
