/* Smoothing along time within each trial: Gaussian and boxcar kernels
 * (scipy.ndimage conventions) and a causal exponential filter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep_internal.h"

/* Index of sample i (may be outside [0, n)) under the edge rule, or -1 for zero. */
static long edge_index(long i, long n, ndyn_edge edge)
{
    if (i >= 0 && i < n) return i;
    if (edge == NDYN_EDGE_ZERO) return -1;
    /* scipy "reflect" (half-sample symmetric), period 2n. */
    long p = 2 * n;
    long m = i % p;
    if (m < 0) m += p;
    return m < n ? m : p - 1 - m;
}

/* y[t d] = sum_j k[j] x[t + j - lo]: x contiguous (n), y with stride d. */
static void correlate(const double *x, double *y, size_t n, size_t d, const double *k, size_t nk, long lo,
                      ndyn_edge edge)
{
    for (size_t t = 0; t < n; t++) {
        double acc = 0.0;
        for (size_t j = 0; j < nk; j++) {
            long s = edge_index((long)t + (long)j - lo, (long)n, edge);
            if (s >= 0) acc += k[j] * x[s];
        }
        y[t * d] = acc;
    }
}

int ndyn_prep_smooth_steps(ndyn_trials *t, ndyn_smooth_kind kind, double width, ndyn_edge edge)
{
    int rc = ndyn_trials_check(t, "smooth");
    if (rc) return rc;
    if (!(width > 0) || !isfinite(width))
        return ndyn_error(NDYN_EINVAL, "smooth: width %g must be a positive number of time steps", width);
    if (edge != NDYN_EDGE_REFLECT && edge != NDYN_EDGE_ZERO)
        return ndyn_error(NDYN_EINVAL, "smooth: unknown edge rule %d", (int)edge);
    const size_t d = t->d;
    size_t maxlen = 0;
    for (size_t i = 0; i < t->n; i++)
        if (ndyn_trials_len(t, i) > maxlen) maxlen = ndyn_trials_len(t, i);
    double *k = NULL;
    size_t nk = 0;
    long lo = 0;
    if (kind == NDYN_SMOOTH_GAUSSIAN) {
        if (width > 1e7) return ndyn_error(NDYN_EINVAL, "smooth: Gaussian width %g steps is too large", width);
        long r = (long)(4.0 * width + 0.5);
        nk = (size_t)(2 * r + 1);
        lo = r;
        k = ndyn_malloc_array(nk, sizeof *k);
        if (!k) return NDYN_ENOMEM;
        double s = 0.0;
        for (long j = -r; j <= r; j++) s += k[j + r] = exp(-0.5 * (double)(j * j) / (width * width));
        for (size_t j = 0; j < nk; j++) k[j] /= s;
    } else if (kind == NDYN_SMOOTH_BOXCAR) {
        double w = round(width);
        if (w < 1) return ndyn_error(NDYN_EINVAL, "smooth: boxcar width %g rounds to no time step", width);
        if (w > 1e7) return ndyn_error(NDYN_EINVAL, "smooth: boxcar width %g steps is too large", width);
        nk = (size_t)w;
        lo = (long)(nk / 2);
        k = ndyn_malloc_array(nk, sizeof *k);
        if (!k) return NDYN_ENOMEM;
        for (size_t j = 0; j < nk; j++) k[j] = 1.0 / (double)nk;
    } else if (kind != NDYN_SMOOTH_EXP) {
        return ndyn_error(NDYN_EINVAL, "smooth: unknown kernel %d", (int)kind);
    }
    double *x = ndyn_malloc_array(maxlen, sizeof *x);
    if (!x) {
        free(k);
        return NDYN_ENOMEM;
    }
    const double a = exp(-1.0 / width);
    for (size_t i = 0; i < t->n; i++) {
        size_t n = ndyn_trials_len(t, i);
        double *base = t->data + t->off[i] * d;
        for (size_t j = 0; j < d; j++) {
            for (size_t s = 0; s < n; s++) x[s] = base[s * d + j];
            if (kind == NDYN_SMOOTH_EXP) {
                double y = edge == NDYN_EDGE_ZERO ? 0.0 : x[0];
                for (size_t s = 0; s < n; s++) {
                    y = a * y + (1.0 - a) * x[s];
                    base[s * d + j] = y;
                }
            } else {
                correlate(x, base + j, n, d, k, nk, lo, edge);
            }
        }
    }
    free(x);
    free(k);
    return NDYN_OK;
}

int ndyn_prep_smooth(ndyn_trials *t, ndyn_smooth_kind kind, double width_sec, ndyn_edge edge)
{
    int rc = prep_check_struct(t, "smooth");
    if (rc) return rc;
    if ((rc = prep_need_dt(t, "the smoothing width"))) return rc;
    if (!(width_sec > 0) || !isfinite(width_sec))
        return ndyn_error(NDYN_EINVAL, "smooth: width %g s must be > 0", width_sec);
    return ndyn_prep_smooth_steps(t, kind, width_sec / t->dt, edge);
}
