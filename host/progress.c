/* progress.c — the live line and the per-epoch lines. */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

double dt_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void dt_progress_init(dt_progress *p, int quiet) {
    p->enabled = !quiet;
    p->live = p->enabled && isatty(STDERR_FILENO);
    p->last_draw = 0.0;
}

/* "1:02:03" or "2:03" */
static void format_duration(double seconds, char *buf, size_t size) {
    if (!(seconds >= 0.0) || seconds > 1e7) {
        snprintf(buf, size, "--:--");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

void dt_progress_step(dt_progress *p, int epoch, int epochs, int64_t step, int64_t steps, float loss, double accuracy,
                      double samples_per_s, double eta_s) {
    if (!p->live) return;
    double now = dt_now_seconds();
    if (now - p->last_draw < 0.1 && step != steps) return;
    p->last_draw = now;
    char eta[32];
    format_duration(eta_s, eta, sizeof eta);
    if (isnan(accuracy))
        fprintf(stderr, "\r\033[Kepoch %d/%d  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s", epoch, epochs,
                (long long)step, (long long)steps, loss, samples_per_s, eta);
    else
        fprintf(stderr, "\r\033[Kepoch %d/%d  step %lld/%lld  loss %.4f  acc %.2f%%  %.0f samples/s  ETA %s", epoch,
                epochs, (long long)step, (long long)steps, loss, 100.0 * accuracy, samples_per_s, eta);
    fflush(stderr);
}

void dt_progress_epoch(dt_progress *p, int epoch, int epochs, double train_loss, double train_acc, double test_loss,
                       double test_acc, double seconds, double samples_per_s) {
    if (!p->enabled) return;
    if (p->live) fprintf(stderr, "\r\033[K");
    if (isnan(test_acc))
        fprintf(stderr, "epoch %d/%d  train_loss %.4f  test_loss %.4f  %.1f s  %.0f samples/s\n", epoch, epochs,
                train_loss, test_loss, seconds, samples_per_s);
    else
        fprintf(stderr, "epoch %d/%d  train_loss %.4f  train_acc %.2f%%  test_loss %.4f  test_acc %.2f%%  %.1f s  %.0f samples/s\n",
                epoch, epochs, train_loss, 100.0 * train_acc, test_loss, 100.0 * test_acc, seconds, samples_per_s);
    fflush(stderr);
}

void dt_progress_note(dt_progress *p, const char *text) {
    if (!p->enabled) return;
    fprintf(stderr, "%s\n", text);
}
