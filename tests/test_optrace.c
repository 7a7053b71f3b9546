/* test_optrace.c — the per-operation trace of bisect (records/optrace.h): which steps it records
 * and keeps values of, the one-ULP fault (which op, step and backend), the ULP distance, the
 * comparison (the first differing op by name, ops named on one side skipped), and the op dump
 * file read back as written, refused when a digest does not match its values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/fsutil.h"
#include "records/optrace.h"
#include "test.h"

/* Steps 1..3 of a fake backend: z of layer 0 (4 floats) and a loss sum, both depending on the step. */
static void run_steps(dt_op_trace *t, float bump) {
    for (int64_t step = 1; step <= 3; step++) {
        float z[4] = {0.5f * (float)step, -1.0f, 2.0f, bump}, sum = 3.0f * (float)step;
        dt_op_trace_begin_step(t, step);
        dt_op_trace_see(t, DT_OP_LINEAR, 0, "z", z, 4);
        if (step == 2) dt_op_trace_see(t, DT_OP_LOSS_SUM, -1, "sum", &sum, 1);
    }
}

static void test_ulps(void) {
    CHECK_EQ_INT(dt_float_ordered_bits(nextafterf(1.0f, 2.0f)) - dt_float_ordered_bits(1.0f), 1);
    CHECK_EQ_INT(dt_float_ordered_bits(0.0f) - dt_float_ordered_bits(-0.0f), 1);
    CHECK_EQ_INT(dt_float_ordered_bits(nextafterf(0.0f, 1.0f)) - dt_float_ordered_bits(nextafterf(-0.0f, -1.0f)), 3);
    CHECK(dt_float_ordered_bits(-2.0f) < dt_float_ordered_bits(-1.0f));
}

static void test_perturbation_text(void) {
    dt_op_trace t;
    dt_error err;
    dt_op_trace_init(&t, 0, -1, 0, -1);
    CHECK(dt_op_trace_set_perturbation(&t, "mb0/2.layer1.linear.z@5:cuda", &err) == DT_OK);
    CHECK(!strcmp(t.perturb_op, "mb0/2.layer1.linear.z") && t.perturb_step == 5 && !strcmp(t.perturb_backend, "cuda"));
    const char *bad[] = {"oops", "@5", "x@0", "x@", "x@5:", "x@5x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(dt_op_trace_set_perturbation(&t, bad[i], &err) == DT_USAGE);
}

/* Records steps 2..3, values of step 3 only; the fault changes element 0 of step 2's z only on its backend. */
static void test_recording_and_fault(void) {
    dt_op_trace t;
    dt_error err;
    dt_op_trace_init(&t, 2, 3, 3, 3);
    t.backend = "cpu";
    CHECK(dt_op_trace_set_perturbation(&t, "mb0/1.layer0.linear.z@2:cuda", &err) == DT_OK);
    run_steps(&t, 0.0f);
    CHECK_EQ_INT(t.n_steps, 2);
    CHECK_EQ_INT(t.steps[0].step, 2);
    CHECK_EQ_INT(t.steps[0].n_ops, 2);
    CHECK(!strcmp(t.steps[0].ops[0].name, "mb0/1.layer0.linear.z") && !strcmp(t.steps[0].ops[1].name, "mb0/1.loss_sum.sum"));
    CHECK(t.steps[0].ops[0].values == NULL && t.steps[1].ops[0].values != NULL);
    dt_op_trace u;
    dt_op_trace_init(&u, 2, 3, 2, 3);
    u.backend = "cuda";
    CHECK(dt_op_trace_set_perturbation(&u, "mb0/1.layer0.linear.z@2:cuda", &err) == DT_OK);
    run_steps(&u, 0.0f);
    CHECK(u.steps[0].ops[0].values[0] == nextafterf(1.0f, INFINITY));
    dt_op_divergence d;
    dt_op_trace_compare(&t, &u, &d);
    CHECK(d.found && d.step == 2 && !strcmp(d.a->name, "mb0/1.layer0.linear.z"));
    CHECK_EQ_INT(d.max_ulp, -1); /* t kept no values of step 2 */
    dt_op_trace_compare(&u, &u, &d);
    CHECK(!d.found && d.ops_compared == 3);
    dt_op_trace_free(&t);
    dt_op_trace_free(&u);
}

/* A dump written and read back compares equal to its trace; one element changed shows in ULPs. */
static void test_dump_file(const char *dir) {
    char path[512], bad_path[600];
    snprintf(path, sizeof path, "%s/ops.json", dir);
    snprintf(bad_path, sizeof bad_path, "%s/ops-bad.json", dir);
    dt_op_trace t, back, other;
    dt_error err;
    cJSON *meta = cJSON_CreateObject(), *read_meta = NULL;
    cJSON_AddStringToObject(meta, "mode", "portable");
    dt_op_trace_init(&t, 1, 3, 1, 3);
    dt_op_trace_init(&other, 1, 3, 1, 3);
    dt_op_trace_init(&back, 0, -1, 0, -1);
    run_steps(&t, 0.25f);
    run_steps(&other, nextafterf(0.25f, 1.0f));
    CHECK(dt_op_trace_write(&t, meta, path, &err) == DT_OK);
    CHECK(dt_op_trace_read(path, &back, &read_meta, &err) == DT_OK);
    CHECK(read_meta && !strcmp(cJSON_GetObjectItemCaseSensitive(read_meta, "mode")->valuestring, "portable"));
    dt_op_divergence d;
    dt_op_trace_compare(&t, &back, &d);
    CHECK(!d.found && d.steps_compared == 3);
    dt_op_trace_compare(&back, &other, &d);
    CHECK(d.found && d.step == 1 && d.first_element == 3 && d.n_differing == 1 && d.max_ulp == 1);
    /* a dump whose digest does not match its values: refused, naming the op */
    char *text = NULL;
    size_t size = 0;
    CHECK(dt_read_text(path, &text, &size, &err) == DT_OK);
    cJSON *doc = cJSON_Parse(text);
    cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
    cJSON *op = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(steps, 1), "ops"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(op, "sha256", cJSON_CreateString(
        "0000000000000000000000000000000000000000000000000000000000000000"));
    char *bad = cJSON_PrintUnformatted(doc);
    CHECK(bad && dt_write_file_atomic(bad_path, bad, strlen(bad), &err) == DT_OK);
    cJSON_Delete(read_meta);
    CHECK(dt_op_trace_read(bad_path, &back, &read_meta, &err) == DT_CHECKPOINT);
    CHECK(strstr(err.message, "steps[1].ops[0]") != NULL);
    free(bad);
    free(text);
    cJSON_Delete(doc);
    cJSON_Delete(meta);
    dt_op_trace_free(&t);
    dt_op_trace_free(&back);
    dt_op_trace_free(&other);
}

int main(int argc, char **argv) {
    test_ulps();
    test_perturbation_text();
    test_recording_and_fault();
    test_dump_file(argc > 1 ? argv[1] : ".");
    return TEST_EXIT();
}
