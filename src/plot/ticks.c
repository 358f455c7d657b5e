/* Tick positions and labels: "nice" steps of 1, 2, 2.5 or 5 times a power of
 * ten, decades on logarithmic axes, and labels with just enough decimals. */
#include "plot_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ndyn_plot_nice_ticks(double lo, double hi, size_t max_ticks, double *ticks, size_t cap)
{
    if (!(lo == lo) || !(hi == hi) || !isfinite(lo) || !isfinite(hi) || !(hi > lo) || max_ticks < 1)
        return 0;
    static const double mant[] = {1, 2, 2.5, 5};
    double range = hi - lo;
    int e0 = (int)floor(log10(range / (double)max_ticks)) - 1;
    for (int e = e0; e < e0 + 6; e++) {
        for (int m = 0; m < 4; m++) {
            double step = mant[m] * pow(10.0, e);
            double eps = step * 1e-9;
            double first = ceil((lo - eps) / step);
            double last = floor((hi + eps) / step);
            double count = last - first + 1;
            if (count > (double)max_ticks) continue;
            size_t k = 0;
            for (double i = first; i <= last && k < cap; i += 1) {
                double v = i * step;
                if (fabs(v) < eps) v = 0;
                ticks[k++] = v;
            }
            return k;
        }
    }
    return 0;
}

/* Decimals needed to write multiples of step exactly (at most 10). */
static int step_decimals(double step)
{
    for (int d = 0; d < 10; d++) {
        double s = step * pow(10.0, d);
        if (fabs(s - round(s)) < 1e-6 * (s > 1 ? s : 1)) return d;
    }
    return 10;
}

void pl_format_tick(double v, double step, char *buf, size_t n)
{
    if (fabs(v) < fabs(step) * 1e-9) v = 0;
    double av = fabs(v);
    char tmp[40];
    if (v != 0 && (av >= 1e5 || av < 1e-4 || step < 1e-5)) {
        /* scientific: mantissa digits from the step relative to the value */
        int sig = 1;
        if (step > 0 && av > 0) {
            sig = (int)ceil(log10(av / step)) + 1;
            if (sig < 1) sig = 1;
            if (sig > 6) sig = 6;
        }
        snprintf(tmp, sizeof tmp, "%.*e", sig - 1, v);
        /* "1.50e+06" -> "1.50e6", "2.0e-05" -> "2.0e-5" */
        char *e = strchr(tmp, 'e');
        if (e) {
            int ex = atoi(e + 1);
            snprintf(e, sizeof tmp - (size_t)(e - tmp), "e%d", ex);
        }
    } else {
        snprintf(tmp, sizeof tmp, "%.*f", step_decimals(step), v);
    }
    /* typographic minus sign */
    if (tmp[0] == '-')
        snprintf(buf, n, "\xe2\x88\x92%s", tmp + 1);
    else
        snprintf(buf, n, "%s", tmp);
}

void pl_ticks_auto(pl_ticks *t, double lo, double hi, size_t max_ticks, int log)
{
    t->n = 0;
    if (max_ticks > PL_MAX_TICKS) max_ticks = PL_MAX_TICKS;
    if (max_ticks < 2) max_ticks = 2;
    if (log) {
        /* lo, hi are log10 of the data limits: ticks at whole decades */
        double a = ceil(lo - 1e-9), b = floor(hi + 1e-9);
        double count = b - a + 1;
        if (count >= 2) {
            double every = ceil(count / (double)max_ticks);
            for (double k = a; k <= b && t->n < PL_MAX_TICKS; k += every) {
                t->pos[t->n] = k;
                int ik = (int)k;
                if (ik >= -3 && ik <= 4)
                    pl_format_tick(pow(10.0, k), pow(10.0, ik < 0 ? ik : 0), t->label[t->n], 40);
                else
                    snprintf(t->label[t->n], 40, "1e%d", ik);
                t->show[t->n] = 1;
                t->n++;
            }
            return;
        }
        /* less than two decades: nice ticks of the value, placed in log space */
        double v[PL_MAX_TICKS];
        size_t m = ndyn_plot_nice_ticks(pow(10.0, lo), pow(10.0, hi), max_ticks, v, PL_MAX_TICKS);
        double step = m >= 2 ? v[1] - v[0] : 1;
        for (size_t i = 0; i < m; i++) {
            if (v[i] <= 0) continue;
            t->pos[t->n] = log10(v[i]);
            pl_format_tick(v[i], step, t->label[t->n], 40);
            t->show[t->n] = 1;
            t->n++;
        }
        return;
    }
    double v[PL_MAX_TICKS];
    size_t m = ndyn_plot_nice_ticks(lo, hi, max_ticks, v, PL_MAX_TICKS);
    double step = m >= 2 ? v[1] - v[0] : pow(10.0, floor(log10(hi - lo)));
    for (size_t i = 0; i < m; i++) {
        t->pos[i] = v[i];
        pl_format_tick(v[i], step, t->label[i], 40);
        t->show[i] = 1;
    }
    t->n = m;
}
