/* verify_report.c (cli) — verify's report as text (cli/verify_report.h). */
#include "cli/verify_report.h"

#include <stdio.h>

/* The verdict of records that agree: what was compared, and the re-run. */
static void print_agreement(const char *run_dir, const dt_verify_report *r) {
    printf("verify %s: %s\n", run_dir, r->fast ? "the metrics agree within the tolerance" : "identical to the record");
    if (!r->fast) printf("  steps          %lld: loss and learning-rate bits equal\n", (long long)r->steps_compared);
    printf("  epochs         %d: %s\n", r->epochs_compared,
           r->fast ? "metrics within the tolerance" : "metrics equal (bits and counts)");
    if (!r->fast) printf("  checkpoints    %d parameter digests equal\n", r->checkpoints_compared);
    if (r->final_compared)
        printf("  final          %s%s\n", r->fast ? "test_loss within the tolerance" : "params_sha256 ",
               r->fast ? "" : r->params_sha256);
    printf("  re-run         %s, %s mode, %.1f s\n", r->device, r->mode, r->seconds);
}

/* The likely cause of a divergence and the other differences worth knowing: strong causes
 * first; with none, the record itself is the suspect. */
static void print_causes(const dt_verify_report *r) {
    int strong = 0, printed = 0;
    for (int i = 0; i < r->n_causes; i++) strong += r->causes[i].strong;
    if (!strong)
        printf("  likely cause: the data, config, code and environment match the record, so the recorded values "
               "themselves were probably changed (manifest.json or trace.jsonl edited or corrupted)\n"),
            printed++;
    for (int pass = 1; pass >= 0; pass--)
        for (int i = 0; i < r->n_causes; i++)
            if (r->causes[i].strong == pass)
                printf("  %s%s\n", printed++ ? "also:         " : "likely cause: ", r->causes[i].text);
}

/* The verdict of records that differ: the first divergence, its causes, the counts. */
static void print_divergence(const char *run_dir, const dt_verify_report *r) {
    printf("verify %s: DIFFERENT\n", run_dir);
    printf("  first divergence at step %lld: %s\n", (long long)r->first.step, r->first.quantity);
    printf("    recorded     %s\n", r->first.recorded);
    printf("    re-run       %s\n", r->first.rerun);
    print_causes(r);
    printf("  in all:        %lld of %lld steps differ, %d of %d epochs, %d of %d checkpoint digests%s\n",
           (long long)r->steps_differing, (long long)r->steps_compared, r->epochs_differing, r->epochs_compared,
           r->checkpoints_differing, r->checkpoints_compared, r->final_differing ? ", the final block" : "");
}

void dt_cli_print_verify_report(const char *run_dir, const dt_verify_report *report) {
    if (report->rerun_failed[0]) printf("verify %s: the re-run failed: %s\n", run_dir, report->rerun_failed);
    if (report->compared && report->fast)
        printf("verify %s: mode fast promises no bits; comparing the metrics within a relative tolerance of %g "
               "(%lld of %lld steps have bit-identical losses)\n",
               run_dir, report->tolerance, (long long)(report->steps_compared - report->steps_differing),
               (long long)report->steps_compared);
    if (report->compared && !report->first.step) print_agreement(run_dir, report);
    else if (report->compared) print_divergence(run_dir, report);
    if (report->kept[0]) printf("  kept the re-run in %s\n", report->kept);
    fflush(stdout);
}
