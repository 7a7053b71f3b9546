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

void dt_utc_now(char *out, size_t size) {
    const time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
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

void dt_progress_epoch(dt_progress *p, int epoch, int epochs, const dt_progress_metrics *m) {
    if (!p->enabled) return;
    if (p->live) fprintf(stderr, "\r\033[K");
    const int classes = !isnan(m->test_acc), validation = !isnan(m->val_loss);
    fprintf(stderr, "epoch %d/%d  train_loss %.4f", epoch, epochs, m->train_loss);
    if (classes) fprintf(stderr, "  train_acc %.2f%%", 100.0 * m->train_acc);
    if (validation) fprintf(stderr, "  val_loss %.4f", m->val_loss);
    if (validation && classes) fprintf(stderr, "  val_acc %.2f%%", 100.0 * m->val_acc);
    fprintf(stderr, "  test_loss %.4f", m->test_loss);
    if (classes) fprintf(stderr, "  test_acc %.2f%%", 100.0 * m->test_acc);
    fprintf(stderr, "%s  %.1f s  %.0f samples/s\n", m->best ? "  *best" : "", m->seconds, m->samples_per_s);
    fflush(stderr);
}

void dt_progress_note(dt_progress *p, const char *text) {
    if (!p->enabled) return;
    fprintf(stderr, "%s\n", text);
}
