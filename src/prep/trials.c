/* Trial sets: construction from arrays and recordings, copies, checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep_internal.h"

void ndyn_trials_free(ndyn_trials *t)
{
    if (!t) return;
    free(t->off);
    free(t->data);
    free(t);
}

int prep_alloc(size_t n, const size_t *len, size_t d, double dt, ndyn_trials **out)
{
    *out = NULL;
    if (n == 0) return ndyn_error(NDYN_EINVAL, "no trials; give at least one");
    if (d == 0) return ndyn_error(NDYN_EINVAL, "trials have no channels");
    if (!(dt >= 0) || !isfinite(dt)) return ndyn_error(NDYN_EINVAL, "time step dt = %g must be >= 0", dt);
    ndyn_trials *t = ndyn_calloc(1, sizeof *t);
    if (!t) return NDYN_ENOMEM;
    t->n = n;
    t->d = d;
    t->dt = dt;
    t->off = ndyn_malloc_array(n + 1, sizeof *t->off);
    if (!t->off) {
        ndyn_trials_free(t);
        return NDYN_ENOMEM;
    }
    t->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (len[i] == 0) {
            ndyn_trials_free(t);
            return ndyn_error(NDYN_EINVAL, "trial %zu is empty; drop it or give it at least one time step", i);
        }
        if (t->off[i] + len[i] < t->off[i]) {
            ndyn_trials_free(t);
            return ndyn_error(NDYN_ENOMEM, "trial lengths overflow");
        }
        t->off[i + 1] = t->off[i] + len[i];
    }
    size_t nd;
    if (ndyn_size_mul(t->off[n], d, &nd)) {
        ndyn_trials_free(t);
        return NDYN_ENOMEM;
    }
    t->data = ndyn_calloc(nd, sizeof *t->data);
    if (!t->data) {
        ndyn_trials_free(t);
        return NDYN_ENOMEM;
    }
    *out = t;
    return NDYN_OK;
}

int ndyn_trials_new(size_t n, const size_t *len, size_t d, double dt, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "trials: output pointer is NULL");
    *out = NULL;
    if (n && !len) return ndyn_error(NDYN_EINVAL, "trials: lengths are NULL");
    return prep_alloc(n, len, d, dt, out);
}

int ndyn_trials_from_array(const double *x, size_t n, size_t t, size_t d, double dt, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "trials: output pointer is NULL");
    *out = NULL;
    if (!x) return ndyn_error(NDYN_EINVAL, "trials: data is NULL");
    if (t == 0) return ndyn_error(NDYN_EINVAL, "trials have no time steps");
    size_t *len = ndyn_malloc_array(n ? n : 1, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < n; i++) len[i] = t;
    int rc = prep_alloc(n, len, d, dt, out);
    free(len);
    if (rc) return rc;
    memcpy((*out)->data, x, n * t * d * sizeof *x);
    return NDYN_OK;
}

int ndyn_trials_from_recording(const double *x, size_t t, size_t d, const size_t *start, size_t n, double dt,
                               ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "trials: output pointer is NULL");
    *out = NULL;
    if (!x) return ndyn_error(NDYN_EINVAL, "trials: data is NULL");
    if (t == 0) return ndyn_error(NDYN_EINVAL, "the recording has no time steps");
    size_t one = 0;
    if (!start) {
        start = &one;
        n = 1;
    }
    if (n == 0) return ndyn_error(NDYN_EINVAL, "no trial boundaries given");
    size_t *len = ndyn_malloc_array(n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? start[i + 1] : t;
        if (start[i] >= t || end > t || end <= start[i]) {
            free(len);
            return ndyn_error(NDYN_EINVAL,
                              "trial %zu would span rows %zu..%zu of a %zu-step recording; trial starts must be "
                              "strictly increasing and below %zu",
                              i, start[i], end, t, t);
        }
        len[i] = end - start[i];
    }
    int rc = prep_alloc(n, len, d, dt, out);
    free(len);
    if (rc) return rc;
    memcpy((*out)->data, x + start[0] * d, (*out)->off[n] * d * sizeof *x);
    return NDYN_OK;
}

int prep_check_struct(const ndyn_trials *t, const char *what)
{
    if (!t || !t->off || !t->data) return ndyn_error(NDYN_EINVAL, "%s: trials are NULL", what);
    if (t->n == 0) return ndyn_error(NDYN_EINVAL, "%s: no trials", what);
    if (t->d == 0) return ndyn_error(NDYN_EINVAL, "%s: trials have no channels", what);
    if (t->off[0] != 0) return ndyn_error(NDYN_EINVAL, "%s: trial offsets must start at 0", what);
    for (size_t i = 0; i < t->n; i++)
        if (t->off[i + 1] <= t->off[i])
            return ndyn_error(NDYN_EINVAL, "%s: trial %zu is empty; drop it", what, i);
    return NDYN_OK;
}

int ndyn_trials_check(const ndyn_trials *t, const char *what)
{
    int rc = prep_check_struct(t, what);
    if (rc) return rc;
    const size_t nd = t->off[t->n] * t->d;
    for (size_t k = 0; k < nd; k++)
        if (!isfinite(t->data[k])) {
            size_t r = k / t->d, i = 0;
            while (t->off[i + 1] <= r) i++;
            return ndyn_error(NDYN_ENONFINITE, "%s: trial %zu, time step %zu, channel %zu is %g", what, i,
                              r - t->off[i], k % t->d, t->data[k]);
        }
    return NDYN_OK;
}

int ndyn_trials_copy(const ndyn_trials *in, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "trials: output pointer is NULL");
    *out = NULL;
    int rc = prep_check_struct(in, "copy");
    if (rc) return rc;
    size_t *len = ndyn_malloc_array(in->n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < in->n; i++) len[i] = ndyn_trials_len(in, i);
    rc = prep_alloc(in->n, len, in->d, in->dt, out);
    free(len);
    if (rc) return rc;
    memcpy((*out)->data, in->data, in->off[in->n] * in->d * sizeof *in->data);
    return NDYN_OK;
}

size_t ndyn_trials_common_length(const ndyn_trials *t)
{
    if (!t || !t->off || t->n == 0) return 0;
    size_t l = ndyn_trials_len(t, 0);
    for (size_t i = 1; i < t->n; i++)
        if (ndyn_trials_len(t, i) != l) return 0;
    return l;
}

int prep_need_dt(const ndyn_trials *t, const char *what)
{
    if (!(t->dt > 0))
        return ndyn_error(NDYN_EINVAL, "%s is given in seconds but the time step dt is unknown; set dt (--dt)", what);
    return NDYN_OK;
}
