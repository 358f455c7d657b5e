/* Positions and velocities from trial time series: pos = x[:-1],
 * vel = diff(x), per trial, never across a trial boundary. */
#include "ndyn/geom.h"

#include <stdlib.h>
#include <string.h>

int ndyn_geom_pos_vel(const double *x, size_t T, size_t D, const size_t *trial_len, size_t ntrials,
                      double **pos, double **vel, size_t *nout)
{
    *pos = *vel = NULL;
    *nout = 0;
    if (D == 0) return ndyn_error(NDYN_EINVAL, "time series of dimension 0");
    size_t one = T, tot = 0, nn = 0;
    if (!trial_len) { trial_len = &one; ntrials = 1; }
    for (size_t r = 0; r < ntrials; r++) {
        tot += trial_len[r];
        if (trial_len[r] >= 2) nn += trial_len[r] - 1;
    }
    if (tot != T)
        return ndyn_error(NDYN_ESHAPE, "trial lengths sum to %zu but the series has %zu time steps", tot, T);
    if (nn == 0) return ndyn_error(NDYN_EINVAL, "no trial has 2 or more time steps; nothing to differentiate");
    int rc = ndyn_check_finite(x, T * D, "time series");
    if (rc) return rc;
    double *p = ndyn_malloc_array(nn * D, sizeof(double)), *v = ndyn_malloc_array(nn * D, sizeof(double));
    if (!p || !v) { free(p); free(v); return NDYN_ENOMEM; }
    size_t o = 0, t0 = 0;
    for (size_t r = 0; r < ntrials; r++) {
        for (size_t t = t0; t + 1 < t0 + trial_len[r]; t++, o++)
            for (size_t d = 0; d < D; d++) {
                p[o * D + d] = x[t * D + d];
                v[o * D + d] = x[(t + 1) * D + d] - x[t * D + d];
            }
        t0 += trial_len[r];
    }
    *pos = p; *vel = v; *nout = nn;
    return NDYN_OK;
}
