/* Progress bars on stderr, drawn only on a terminal and when not quiet. */
#define _POSIX_C_SOURCE 200809L
#include "ndyn/core.h"

#include <stdio.h>
#include <unistd.h>

static int g_force = -1;

void ndyn_progress_force(int mode) { g_force = mode; }

static int should_draw(void)
{
    if (ndyn_get_quiet()) return 0;
    if (g_force >= 0) return g_force;
    return isatty(fileno(stderr));
}

static void fmt_duration(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%lds", t);
}

void ndyn_progress_begin(ndyn_progress *p, const char *label, size_t total)
{
    p->label = label ? label : "";
    p->total = total;
    p->t_start = ndyn_time_now();
    p->t_last_draw = 0.0;
    p->active = should_draw();
}

void ndyn_progress_update(ndyn_progress *p, size_t done, const char *fmt, ...)
{
    if (!p->active) return;
    double now = ndyn_time_now();
    /* Redraw at most 10 times a second, but always draw the last step. */
    if (now - p->t_last_draw < 0.1 && done < p->total) return;
    p->t_last_draw = now;
    char status[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(status, sizeof status, fmt, ap);
        va_end(ap);
    }
    double el = now - p->t_start;
    double rate = el > 0 ? (double)done / el : 0.0;
    char eta[32], elapsed[32];
    fmt_duration(rate > 0 && p->total >= done ? (double)(p->total - done) / rate : -1, eta, sizeof eta);
    fmt_duration(el, elapsed, sizeof elapsed);
    int width = 24, fill = p->total ? (int)((double)width * (double)done / (double)p->total) : 0;
    if (fill > width) fill = width;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%s [%s] %zu/%zu  %.3g/s  %s elapsed, %s left  %s\033[K", p->label, bar,
            done, p->total, rate, elapsed, eta, status);
    fflush(stderr);
}

void ndyn_progress_end(ndyn_progress *p)
{
    if (!p->active) return;
    fputc('\n', stderr);
    fflush(stderr);
    p->active = 0;
}
