/* optrace.c — per-operation digests of training steps (optrace.h): recording, the test-only
 * fault, and the comparison of two traces. The dump file is optrace_file.c. */
#include "optrace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"

#define DT_OP_NAME(id, name, order) name,
#define DT_OP_ORDER(id, name, order) order,
static const char *const kind_names[] = {DT_OP_KINDS(DT_OP_NAME)};
static const char *const kind_orders[] = {DT_OP_KINDS(DT_OP_ORDER)};
#undef DT_OP_NAME
#undef DT_OP_ORDER

const char *dt_op_kind_name(dt_op_kind kind) { return kind < DT_OP_N_KINDS ? kind_names[kind] : "?"; }

const char *dt_op_kind_order(dt_op_kind kind) { return kind < DT_OP_N_KINDS ? kind_orders[kind] : "?"; }

void dt_op_trace_init(dt_op_trace *t, int64_t first, int64_t last, int64_t values_first, int64_t values_last) {
    memset(t, 0, sizeof *t);
    t->first = first;
    t->last = last;
    t->values_first = values_first;
    t->values_last = values_last;
    t->microbatches = 1;
}

void dt_op_trace_free(dt_op_trace *t) {
    for (int s = 0; s < t->n_steps; s++) {
        for (int i = 0; i < t->steps[s].n_ops; i++) free(t->steps[s].ops[i].values);
        free(t->steps[s].ops);
    }
    free(t->steps);
    t->steps = NULL;
    t->n_steps = t->cap_steps = 0;
}

dt_status dt_op_trace_set_perturbation(dt_op_trace *t, const char *spec, dt_error *err) {
    const char *at = strrchr(spec, '@');
    char *end = NULL;
    long long step = at ? strtoll(at + 1, &end, 10) : 0;
    const size_t op_len = at ? (size_t)(at - spec) : 0;
    if (!at || op_len == 0 || op_len >= sizeof t->perturb_op || end == at + 1 || step < 1 ||
        (*end && (*end != ':' || strlen(end + 1) == 0 || strlen(end + 1) >= sizeof t->perturb_backend)))
        return dt_fail(err, DT_USAGE, "DETRAIN_TEST_PERTURB=%s: expected OP@STEP or OP@STEP:BACKEND "
                       "(e.g. layer1.state.bias@5:cuda), STEP >= 1", spec);
    memcpy(t->perturb_op, spec, op_len);
    t->perturb_op[op_len] = '\0';
    t->perturb_step = step;
    snprintf(t->perturb_backend, sizeof t->perturb_backend, "%s", *end ? end + 1 : "");
    return DT_OK;
}

void dt_op_trace_perturbation_text(const dt_op_trace *t, char *out, size_t size) {
    if (!t || !t->perturb_step) {
        snprintf(out, size, "%s", "");
        return;
    }
    snprintf(out, size, "%s@%lld%s%s", t->perturb_op, (long long)t->perturb_step, t->perturb_backend[0] ? ":" : "",
             t->perturb_backend);
}

void dt_op_trace_begin_step(dt_op_trace *t, int64_t step) {
    if (!t) return;
    t->step = step;
    t->microbatch = 0;
    t->microbatches = 1;
    t->recording = step >= t->first && step <= t->last;
    t->perturbing = t->perturb_step == step &&
                    (!t->perturb_backend[0] || (t->backend && !strcmp(t->backend, t->perturb_backend)));
    if (!t->recording) return;
    if (t->n_steps == t->cap_steps) {
        const int cap = t->cap_steps ? 2 * t->cap_steps : 8;
        dt_op_step *grown = realloc(t->steps, (size_t)cap * sizeof *grown);
        if (!grown) {
            t->out_of_memory = 1;
            t->recording = 0;
            return;
        }
        t->steps = grown;
        t->cap_steps = cap;
    }
    t->steps[t->n_steps++] = (dt_op_step){.step = step};
}

void dt_op_trace_microbatch(dt_op_trace *t, int k, int m) {
    if (!t) return;
    t->microbatch = k;
    t->microbatches = m;
}

int dt_op_trace_active(const dt_op_trace *t) { return t && (t->recording || t->perturbing); }

/* The name of an op of the step running now into out. Ops inside a microbatch's gradients
 * (forward, loss, backward) carry the microbatch; the state, gradient and update are the
 * step's own. */
static void op_name(const dt_op_trace *t, dt_op_kind kind, int layer, const char *tensor, char *out, size_t size) {
    char micro[32] = "", where[24] = "";
    const int per_microbatch = kind >= DT_OP_LINEAR && kind <= DT_OP_INPUT_GRAD;
    if (per_microbatch) snprintf(micro, sizeof micro, "mb%d/%d.", t->microbatch, t->microbatches);
    if (layer >= 0) snprintf(where, sizeof where, "layer%d.", layer);
    snprintf(out, size, "%s%s%s.%s", micro, where, dt_op_kind_name(kind), tensor);
}

/* Whether `bytes` more values fit the budget, after dropping the values of the oldest steps
 * before the running one if need be (the newest steps' values are kept). */
static int make_room(dt_op_trace *t, int64_t bytes) {
    for (int s = 0; t->values_budget && t->values_bytes + bytes > t->values_budget && s < t->n_steps - 1; s++)
        for (int i = 0; i < t->steps[s].n_ops; i++) {
            dt_op_record *r = &t->steps[s].ops[i];
            if (r->values) t->values_bytes -= r->count * (int64_t)sizeof(float);
            free(r->values);
            r->values = NULL;
        }
    return !t->values_budget || t->values_bytes + bytes <= t->values_budget;
}

/* Appends a record of data to the step's ops (values kept when the step's are). */
static void record(dt_op_trace *t, const char *name, dt_op_kind kind, const float *data, int64_t count) {
    dt_op_step *s = &t->steps[t->n_steps - 1];
    if (s->n_ops == s->cap) {
        const int cap = s->cap ? 2 * s->cap : 64;
        dt_op_record *grown = realloc(s->ops, (size_t)cap * sizeof *grown);
        if (!grown) {
            t->out_of_memory = 1;
            return;
        }
        s->ops = grown;
        s->cap = cap;
    }
    dt_op_record *r = &s->ops[s->n_ops];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->kind = kind;
    r->count = count;
    dt_sha256_hex(data, (size_t)count * sizeof(float), r->sha256);
    const int64_t bytes = count * (int64_t)sizeof(float);
    if (t->step >= t->values_first && t->step <= t->values_last && make_room(t, bytes)) {
        t->values_bytes += bytes;
        if (!(r->values = malloc((size_t)count * sizeof(float) + 1))) {
            t->out_of_memory = 1;
            return;
        }
        memcpy(r->values, data, (size_t)count * sizeof(float));
    }
    s->n_ops++;
}

int dt_op_trace_see(dt_op_trace *t, dt_op_kind kind, int layer, const char *tensor, float *data, int64_t count) {
    if (!dt_op_trace_active(t)) return 0;
    char name[96];
    op_name(t, kind, layer, tensor, name, sizeof name);
    int changed = 0;
    if (t->perturbing && count > 0 && !strcmp(name, t->perturb_op)) {
        data[0] = nextafterf(data[0], INFINITY);
        changed = 1;
    }
    if (t->recording) record(t, name, kind, data, count);
    return changed;
}

int dt_op_trace_see_layers(dt_op_trace *t, dt_op_kind kind, const char *prefix, const dt_net *net, float *flat) {
    if (!dt_op_trace_active(t)) return 0;
    int changed = 0;
    char tensor[48];
    for (int l = 0; l < net->n_layers; l++) {
        const dt_layer *layer = &net->layers[l];
        snprintf(tensor, sizeof tensor, "%sweight", prefix);
        changed |= dt_op_trace_see(t, kind, l, tensor, flat + layer->weight_offset, layer->n_out * layer->n_in);
        snprintf(tensor, sizeof tensor, "%sbias", prefix);
        changed |= dt_op_trace_see(t, kind, l, tensor, flat + layer->bias_offset, layer->n_out);
    }
    return changed;
}

dt_status dt_op_trace_status(const dt_op_trace *t, dt_error *err) {
    if (t && t->out_of_memory) return dt_fail(err, DT_NOMEM, "out of memory keeping the traced operations' outputs");
    return DT_OK;
}

const dt_op_step *dt_op_trace_find(const dt_op_trace *t, int64_t step) {
    for (int s = 0; s < t->n_steps; s++)
        if (t->steps[s].step == step) return &t->steps[s];
    return NULL;
}

/* ---- comparison ------------------------------------------------------------------------------ */

int64_t dt_float_ordered_bits(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits >> 31 ? -(int64_t)(bits & 0x7fffffffu) - 1 : (int64_t)bits;
}

/* The element-wise size of the difference of two kept outputs. */
static void measure(const dt_op_record *a, const dt_op_record *b, dt_op_divergence *d) {
    d->max_ulp = -1;
    d->first_element = -1;
    if (!a->values || !b->values || a->count != b->count) return;
    d->max_ulp = 0;
    for (int64_t e = 0; e < a->count; e++) {
        if (memcmp(&a->values[e], &b->values[e], sizeof(float)) == 0) continue;
        if (d->first_element < 0) d->first_element = e;
        d->n_differing++;
        const double abs_diff = fabs((double)a->values[e] - (double)b->values[e]);
        if (abs_diff > d->max_abs || isnan(abs_diff)) d->max_abs = abs_diff;
        const int64_t ulp = llabs(dt_float_ordered_bits(a->values[e]) - dt_float_ordered_bits(b->values[e]));
        if (ulp > d->max_ulp) d->max_ulp = ulp;
    }
}

/* The op named `name` in step s, or -1. */
static int find_op(const dt_op_step *s, const char *name) {
    for (int i = 0; i < s->n_ops; i++)
        if (!strcmp(s->ops[i].name, name)) return i;
    return -1;
}

/* Compares one step both recorded; 1 when a difference was found (d filled). */
static int compare_step(const dt_op_step *sa, const dt_op_step *sb, dt_op_divergence *d) {
    d->steps_compared++;
    for (int i = 0; i < sa->n_ops; i++) {
        const int j = find_op(sb, sa->ops[i].name);
        if (j < 0) {
            d->ops_unmatched++;
            continue;
        }
        d->ops_compared++;
        const dt_op_record *a = &sa->ops[i], *b = &sb->ops[j];
        if (a->count == b->count && !strcmp(a->sha256, b->sha256)) continue;
        *d = (dt_op_divergence){.found = 1, .step = sa->step, .index_a = i, .index_b = j, .a = a, .b = b,
                                .steps_compared = d->steps_compared, .ops_compared = d->ops_compared,
                                .ops_unmatched = d->ops_unmatched};
        measure(a, b, d);
        return 1;
    }
    for (int j = 0; j < sb->n_ops; j++)
        if (find_op(sa, sb->ops[j].name) < 0) d->ops_unmatched++;
    return 0;
}

void dt_op_trace_compare(const dt_op_trace *a, const dt_op_trace *b, dt_op_divergence *d) {
    memset(d, 0, sizeof *d);
    d->max_ulp = -1;
    for (int s = 0; s < a->n_steps; s++) {
        const dt_op_step *sb = dt_op_trace_find(b, a->steps[s].step);
        if (sb && compare_step(&a->steps[s], sb, d)) return;
    }
}
