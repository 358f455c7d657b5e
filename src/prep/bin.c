/* Binning: runs of time steps summed into counts, and spike times counted
 * into bins. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep_internal.h"

int ndyn_prep_bin(const ndyn_trials *in, size_t w, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "bin: output pointer is NULL");
    *out = NULL;
    int rc = ndyn_trials_check(in, "bin");
    if (rc) return rc;
    if (w == 0) return ndyn_error(NDYN_EINVAL, "bin: bin width must be at least one time step");
    size_t *len = ndyn_malloc_array(in->n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < in->n; i++) {
        len[i] = ndyn_trials_len(in, i) / w;
        if (len[i] == 0) {
            free(len);
            return ndyn_error(NDYN_EINVAL, "bin: trial %zu has %zu time steps, fewer than one bin of %zu; use a "
                              "shorter bin or drop the trial",
                              i, ndyn_trials_len(in, i), w);
        }
    }
    rc = prep_alloc(in->n, len, in->d, in->dt * (double)w, out);
    free(len);
    if (rc) return rc;
    const size_t d = in->d;
    ndyn_trials *o = *out;
    for (size_t i = 0; i < in->n; i++) {
        const double *src = in->data + in->off[i] * d;
        double *dst = o->data + o->off[i] * d;
        for (size_t b = 0; b < ndyn_trials_len(o, i); b++)
            for (size_t s = 0; s < w; s++)
                for (size_t j = 0; j < d; j++) dst[b * d + j] += src[(b * w + s) * d + j];
    }
    return NDYN_OK;
}

int ndyn_prep_bin_seconds(const ndyn_trials *in, double bin, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "bin: output pointer is NULL");
    *out = NULL;
    int rc = prep_check_struct(in, "bin");
    if (rc) return rc;
    if ((rc = prep_need_dt(in, "the bin width"))) return rc;
    if (!(bin > 0) || !isfinite(bin)) return ndyn_error(NDYN_EINVAL, "bin: width %g s must be > 0", bin);
    double r = bin / in->dt, w = round(r);
    if (w < 1 || fabs(r - w) > 1e-6 * r)
        return ndyn_error(NDYN_EINVAL, "bin: %g s is not a whole number of time steps of %g s", bin, in->dt);
    return ndyn_prep_bin(in, (size_t)w, out);
}

int ndyn_prep_bin_spike_times(const double *times, const int *unit, size_t n_spikes, int n_units, double t0,
                              double t1, double bin, double **counts, size_t *nbins)
{
    if (!counts || !nbins) return ndyn_error(NDYN_EINVAL, "bin spike times: outputs are NULL");
    *counts = NULL;
    *nbins = 0;
    if (n_units < 1) return ndyn_error(NDYN_EINVAL, "bin spike times: need at least one unit");
    if (n_spikes && (!times || !unit)) return ndyn_error(NDYN_EINVAL, "bin spike times: times or units are NULL");
    if (!isfinite(t0) || !isfinite(t1) || !(t1 > t0))
        return ndyn_error(NDYN_EINVAL, "bin spike times: interval [%g, %g) is empty", t0, t1);
    if (!(bin > 0) || !isfinite(bin)) return ndyn_error(NDYN_EINVAL, "bin spike times: width %g must be > 0", bin);
    double nb = floor((t1 - t0) / bin + 1e-9);
    if (nb < 1)
        return ndyn_error(NDYN_EINVAL, "bin spike times: the bin (%g s) is longer than the interval (%g s)", bin,
                          t1 - t0);
    if (nb > 1e12) return ndyn_error(NDYN_ENOMEM, "bin spike times: %g bins are too many", nb);
    if (ndyn_check_finite(times, n_spikes, "spike times")) return NDYN_ENONFINITE;
    size_t m = (size_t)nb;
    double *c = ndyn_calloc(m * (size_t)n_units, sizeof *c);
    if (!c) return NDYN_ENOMEM;
    for (size_t s = 0; s < n_spikes; s++) {
        if (unit[s] < 0 || unit[s] >= n_units) {
            free(c);
            return ndyn_error(NDYN_EINVAL, "bin spike times: spike %zu has unit %d outside [0, %d)", s, unit[s],
                              n_units);
        }
        double b = floor((times[s] - t0) / bin);
        if (b < 0 || b >= (double)m) continue;
        c[(size_t)b * (size_t)n_units + (size_t)unit[s]] += 1.0;
    }
    *counts = c;
    *nbins = m;
    return NDYN_OK;
}
