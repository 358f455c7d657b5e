/* Value transforms of trial sets: square root, scaling, z-score, PCA,
 * subsampling in time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep_internal.h"

int ndyn_prep_sqrt(ndyn_trials *t)
{
    int rc = ndyn_trials_check(t, "sqrt");
    if (rc) return rc;
    const size_t nd = ndyn_trials_rows(t) * t->d;
    for (size_t k = 0; k < nd; k++)
        if (t->data[k] < 0)
            return ndyn_error(NDYN_EINVAL, "sqrt: value %g at row %zu, channel %zu is negative; counts and rates "
                              "must be >= 0", t->data[k], k / t->d, k % t->d);
    for (size_t k = 0; k < nd; k++) t->data[k] = sqrt(t->data[k]);
    return NDYN_OK;
}

int ndyn_prep_binarize(ndyn_trials *t)
{
    int rc = ndyn_trials_check(t, "binarize");
    if (rc) return rc;
    const size_t nd = ndyn_trials_rows(t) * t->d;
    for (size_t k = 0; k < nd; k++) t->data[k] = t->data[k] > 0 ? 1.0 : 0.0;
    return NDYN_OK;
}

int ndyn_prep_scale(ndyn_trials *t, double factor)
{
    int rc = ndyn_trials_check(t, "scale");
    if (rc) return rc;
    if (!isfinite(factor)) return ndyn_error(NDYN_EINVAL, "scale: factor %g is not finite", factor);
    const size_t nd = ndyn_trials_rows(t) * t->d;
    for (size_t k = 0; k < nd; k++) t->data[k] *= factor;
    return NDYN_OK;
}

int ndyn_prep_zscore(ndyn_trials *t, const unsigned char *fit_rows, double *mean, double *sd)
{
    int rc = ndyn_trials_check(t, "z-score");
    if (rc) return rc;
    const size_t n = ndyn_trials_rows(t), d = t->d;
    double *mu = ndyn_calloc(d, sizeof *mu), *sg = ndyn_calloc(d, sizeof *sg);
    if (!mu || !sg) {
        free(mu);
        free(sg);
        return NDYN_ENOMEM;
    }
    size_t m = 0;
    for (size_t r = 0; r < n; r++) {
        if (fit_rows && !fit_rows[r]) continue;
        m++;
        for (size_t j = 0; j < d; j++) mu[j] += t->data[r * d + j];
    }
    if (m == 0) {
        free(mu);
        free(sg);
        return ndyn_error(NDYN_EINVAL, "z-score: no rows selected to fit the mean and deviation");
    }
    for (size_t j = 0; j < d; j++) mu[j] /= (double)m;
    for (size_t r = 0; r < n; r++) {
        if (fit_rows && !fit_rows[r]) continue;
        for (size_t j = 0; j < d; j++) {
            double v = t->data[r * d + j] - mu[j];
            sg[j] += v * v;
        }
    }
    for (size_t j = 0; j < d; j++) sg[j] = sqrt(sg[j] / (double)m);
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < d; j++) {
            double v = t->data[r * d + j] - mu[j];
            t->data[r * d + j] = sg[j] > 0 ? v / sg[j] : v;
        }
    if (mean) memcpy(mean, mu, d * sizeof *mu);
    if (sd) memcpy(sd, sg, d * sizeof *sg);
    free(mu);
    free(sg);
    return NDYN_OK;
}

int ndyn_prep_pca(ndyn_trials *t, const unsigned char *fit_rows, size_t k, ndyn_pca **pca)
{
    if (pca) *pca = NULL;
    int rc = ndyn_trials_check(t, "PCA");
    if (rc) return rc;
    const size_t n = ndyn_trials_rows(t), d = t->d;
    size_t m = 0;
    for (size_t r = 0; r < n; r++) m += !fit_rows || fit_rows[r];
    if (k == 0) return ndyn_error(NDYN_EINVAL, "PCA: ask for at least one component");
    double *fit = ndyn_malloc_array(m * d, sizeof *fit);
    double *z = ndyn_malloc_array(n * k, sizeof *z);
    ndyn_pca *p = NULL;
    if (!fit || !z) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t r = 0, q = 0; r < n; r++)
        if (!fit_rows || fit_rows[r]) memcpy(fit + (q++) * d, t->data + r * d, d * sizeof *fit);
    if ((rc = ndyn_pca_fit(fit, m, d, k, &p))) goto done;
    if ((rc = ndyn_pca_transform(p, t->data, n, z))) goto done;
    free(t->data);
    t->data = z;
    z = NULL;
    t->d = k;
    if (pca) {
        *pca = p;
        p = NULL;
    }
done:
    free(fit);
    free(z);
    ndyn_pca_free(p);
    return rc;
}

int ndyn_prep_subsample(const ndyn_trials *in, size_t step, size_t first, ndyn_trials **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "subsample: output pointer is NULL");
    *out = NULL;
    int rc = prep_check_struct(in, "subsample");
    if (rc) return rc;
    if (step == 0) return ndyn_error(NDYN_EINVAL, "subsample: step must be at least 1");
    size_t *len = ndyn_malloc_array(in->n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    for (size_t i = 0; i < in->n; i++) {
        size_t n = ndyn_trials_len(in, i);
        len[i] = n > first ? (n - first + step - 1) / step : 0;
        if (!len[i]) {
            free(len);
            return ndyn_error(NDYN_EINVAL, "subsample: trial %zu has %zu steps, none from step %zu on", i, n, first);
        }
    }
    rc = prep_alloc(in->n, len, in->d, in->dt * (double)step, out);
    free(len);
    if (rc) return rc;
    const size_t d = in->d;
    for (size_t i = 0; i < in->n; i++)
        for (size_t s = 0; s < ndyn_trials_len(*out, i); s++)
            memcpy((*out)->data + ((*out)->off[i] + s) * d, in->data + (in->off[i] + first + s * step) * d,
                   d * sizeof *in->data);
    return NDYN_OK;
}
