/* Positions and velocities of trajectories within trials. */
#include <math.h>
#include <stdlib.h>

#include "prep/prep_internal.h"

int ndyn_prep_flow(const ndyn_trials *x, ndyn_trials **pos, ndyn_trials **vel)
{
    if (!pos || !vel) return ndyn_error(NDYN_EINVAL, "flow: output pointers are NULL");
    *pos = *vel = NULL;
    int rc = ndyn_trials_check(x, "flow");
    if (rc) return rc;
    size_t *len = ndyn_malloc_array(x->n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < x->n; i++) {
        len[i] = ndyn_trials_len(x, i) - 1;
        if (!len[i]) {
            free(len);
            return ndyn_error(NDYN_EINVAL, "flow: trial %zu has a single time step; velocities need at least 2", i);
        }
    }
    rc = prep_alloc(x->n, len, x->d, x->dt, pos);
    if (!rc) rc = prep_alloc(x->n, len, x->d, x->dt, vel);
    free(len);
    if (rc) {
        ndyn_trials_free(*pos);
        *pos = NULL;
        return rc;
    }
    const size_t d = x->d;
    for (size_t i = 0; i < x->n; i++) {
        const double *src = x->data + x->off[i] * d;
        double *p = (*pos)->data + (*pos)->off[i] * d, *v = (*vel)->data + (*vel)->off[i] * d;
        for (size_t s = 0; s < ndyn_trials_len(*pos, i); s++)
            for (size_t j = 0; j < d; j++) {
                p[s * d + j] = src[s * d + j];
                v[s * d + j] = src[(s + 1) * d + j] - src[s * d + j];
            }
    }
    return NDYN_OK;
}

int ndyn_prep_integrate(const ndyn_trials *vel, const double *start, double scale, ndyn_trials **pos)
{
    if (!pos) return ndyn_error(NDYN_EINVAL, "integrate: output pointer is NULL");
    *pos = NULL;
    int rc = ndyn_trials_check(vel, "integrate");
    if (rc) return rc;
    if (!start) return ndyn_error(NDYN_EINVAL, "integrate: start positions are NULL");
    if (!isfinite(scale)) return ndyn_error(NDYN_EINVAL, "integrate: scale %g is not finite", scale);
    if (ndyn_check_finite(start, vel->n * vel->d, "start positions")) return NDYN_ENONFINITE;
    if ((rc = ndyn_trials_copy(vel, pos))) return rc;
    const size_t d = vel->d;
    for (size_t i = 0; i < vel->n; i++) {
        const double *v = vel->data + vel->off[i] * d;
        double *p = (*pos)->data + (*pos)->off[i] * d;
        for (size_t j = 0; j < d; j++) p[j] = start[i * d + j];
        for (size_t t = 1; t < ndyn_trials_len(vel, i); t++)
            for (size_t j = 0; j < d; j++) p[t * d + j] = p[(t - 1) * d + j] + scale * v[(t - 1) * d + j];
    }
    return NDYN_OK;
}
