/* Validation of the weights and costs of a discrete optimal-transport problem. */
#include <math.h>
#include <stdlib.h>

#include "analysis/ot_internal.h"

static int copy_weights(const double *w, size_t n, const char *what, double **out, double *sum)
{
    double *c = ndyn_malloc_array(n, sizeof *c);
    if (!c) return NDYN_ENOMEM;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = w ? w[i] : 1.0 / (double)n;
        if (!isfinite(v)) {
            free(c);
            return ndyn_error(NDYN_ENONFINITE, "OT weights %s[%zu] = %g is not finite", what, i, v);
        }
        if (v < 0) {
            free(c);
            return ndyn_error(NDYN_EINVAL, "OT weights %s[%zu] = %g is negative; weights must be >= 0",
                              what, i, v);
        }
        c[i] = v;
        s += v;
    }
    if (!(s > 0)) {
        free(c);
        return ndyn_error(NDYN_EINVAL, "OT weights %s sum to 0; give at least one positive weight", what);
    }
    *out = c;
    *sum = s;
    return NDYN_OK;
}

int ot_prepare_weights(const double *a, size_t na, const double *b, size_t nb, const double *cost,
                       double **wa, double **wb)
{
    *wa = *wb = NULL;
    if (na == 0 || nb == 0)
        return ndyn_error(NDYN_EINVAL, "OT problem of size %zu x %zu; both sides need at least one point",
                          na, nb);
    if (!cost) return ndyn_error(NDYN_EINVAL, "OT cost matrix is NULL");
    size_t nab;
    if (ndyn_size_mul(na, nb, &nab)) return NDYN_ENOMEM;
    int rc = ndyn_check_finite(cost, nab, "OT cost matrix");
    if (rc) return rc;
    double sa, sb;
    if ((rc = copy_weights(a, na, "a", wa, &sa))) return rc;
    if ((rc = copy_weights(b, nb, "b", wb, &sb))) {
        free(*wa);
        *wa = NULL;
        return rc;
    }
    if (fabs(sa - sb) > 1e-6 * fmax(sa, sb)) {
        free(*wa);
        free(*wb);
        *wa = *wb = NULL;
        return ndyn_error(NDYN_EINVAL,
                          "OT weights have different total mass (sum a = %.17g, sum b = %.17g); "
                          "normalise both to the same sum (e.g. 1)", sa, sb);
    }
    double f = sa / sb;
    for (size_t j = 0; j < nb; j++) (*wb)[j] *= f;
    return NDYN_OK;
}
