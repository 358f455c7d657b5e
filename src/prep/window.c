/* Time windows of trials, optionally aligned to a per-trial event. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep_internal.h"

int ndyn_prep_window_steps(const ndyn_trials *in, const long *start, long from, long to, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "window: output pointer is NULL");
    *out = NULL;
    int rc = prep_check_struct(in, "window");
    if (rc) return rc;
    if (to <= from) return ndyn_error(NDYN_EINVAL, "window: [%ld, %ld) is empty", from, to);
    size_t *len = ndyn_malloc_array(in->n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < in->n; i++) {
        long s0 = (start ? start[i] : 0) + from, s1 = (start ? start[i] : 0) + to;
        if (s0 < 0 || s1 > (long)ndyn_trials_len(in, i)) {
            free(len);
            return ndyn_error(NDYN_EINVAL, "window: trial %zu has %zu steps but the window needs steps %ld..%ld; "
                              "shorten the window or drop the trial",
                              i, ndyn_trials_len(in, i), s0, s1 - 1);
        }
        len[i] = (size_t)(to - from);
    }
    rc = prep_alloc(in->n, len, in->d, in->dt, out);
    free(len);
    if (rc) return rc;
    const size_t d = in->d, w = (size_t)(to - from);
    for (size_t i = 0; i < in->n; i++) {
        size_t s0 = (size_t)((start ? start[i] : 0) + from);
        memcpy((*out)->data + (*out)->off[i] * d, in->data + (in->off[i] + s0) * d, w * d * sizeof *in->data);
    }
    return NDYN_OK;
}

int ndyn_prep_window(const ndyn_trials *in, const double *event, double from, double to, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "window: output pointer is NULL");
    *out = NULL;
    int rc = prep_check_struct(in, "window");
    if (rc) return rc;
    if ((rc = prep_need_dt(in, "the window"))) return rc;
    if (!isfinite(from) || !isfinite(to) || !(to > from))
        return ndyn_error(NDYN_EINVAL, "window: [%g, %g) s is empty", from, to);
    long *st = ndyn_malloc_array(in->n, sizeof *st);
    if (!st) return NDYN_ENOMEM;
    long w = lround((to - from) / in->dt);
    for (size_t i = 0; i < in->n; i++) {
        double e = event ? event[i] : 0.0;
        if (!isfinite(e)) {
            free(st);
            return ndyn_error(NDYN_ENONFINITE, "window: event time of trial %zu is %g", i, e);
        }
        st[i] = lround((e + from) / in->dt);
    }
    if (w < 1) {
        free(st);
        return ndyn_error(NDYN_EINVAL, "window: %g s is shorter than one time step of %g s", to - from, in->dt);
    }
    rc = ndyn_prep_window_steps(in, st, 0, w, out);
    free(st);
    return rc;
}
