/* Principal component analysis through the SVD of the centred data
 * (LAPACK dgesvd), with scikit-learn's conventions: variances with ddof 1,
 * axes by decreasing variance, a deterministic sign per axis. */
#include "ndyn/linalg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

void ndyn_pca_free(ndyn_pca *p)
{
    if (!p) return;
    free(p->mean);
    free(p->components);
    free(p->explained_variance);
    free(p->explained_variance_ratio);
    free(p);
}

static ndyn_pca *pca_alloc(size_t d, size_t k)
{
    ndyn_pca *p = ndyn_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->d = d;
    p->k = k;
    p->mean = ndyn_malloc_array(d, sizeof *p->mean);
    p->components = ndyn_malloc_array(k * d, sizeof *p->components);
    p->explained_variance = ndyn_malloc_array(k ? k : 1, sizeof *p->explained_variance);
    p->explained_variance_ratio = ndyn_malloc_array(k ? k : 1, sizeof *p->explained_variance_ratio);
    if (!p->mean || !p->components || !p->explained_variance || !p->explained_variance_ratio) {
        ndyn_pca_free(p);
        return NULL;
    }
    return p;
}

int ndyn_pca_fit(const double *x, size_t n, size_t d, size_t k, ndyn_pca **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "PCA: output pointer is NULL");
    *out = NULL;
    int rc = ana_check_matrix(x, n, d, "PCA input");
    if (rc) return rc;
    if (n < 2) return ndyn_error(NDYN_EINVAL, "PCA needs at least 2 samples (got %zu)", n);
    size_t r = n < d ? n : d;
    if (k == 0) k = r;
    if (k > r)
        return ndyn_error(NDYN_EINVAL, "PCA: %zu components requested but min(n, d) = %zu; ask for at most %zu",
                          k, r, r);
    if (ndyn_check_finite(x, n * d, "PCA input")) return NDYN_ENONFINITE;
    if (n > (size_t)INT32_MAX || d > (size_t)INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "PCA: input (%zu, %zu) too large for LAPACK", n, d);

    ndyn_pca *p = pca_alloc(d, k);
    if (!p) return NDYN_ENOMEM;
    p->n_fit = n;
    double *xc = ndyn_malloc_array(n * d, sizeof *xc);   /* (n, d) centred */
    double *s = ndyn_malloc_array(r, sizeof *s);
    double *vt = ndyn_malloc_array(r * d, sizeof *vt);   /* (r, d) */
    if (!xc || !s || !vt) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < d; j++) p->mean[j] = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) p->mean[j] += x[i * d + j];
    for (size_t j = 0; j < d; j++) p->mean[j] /= (double)n;
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double v = x[i * d + j] - p->mean[j];
            xc[i * d + j] = v;
            total += v * v;
        }
    total /= (double)(n - 1);
    p->total_variance = total;

    if ((rc = ndyn_svd_vt(n, d, xc, s, vt, "PCA"))) goto done;
    for (size_t c = 0; c < k; c++) {
        double *axis = p->components + c * d;
        memcpy(axis, vt + c * d, d * sizeof *axis);
        size_t jm = 0;
        for (size_t j = 1; j < d; j++)
            if (fabs(axis[j]) > fabs(axis[jm])) jm = j;
        if (axis[jm] < 0)
            for (size_t j = 0; j < d; j++) axis[j] = -axis[j];
        double ev = s[c] * s[c] / (double)(n - 1);
        p->explained_variance[c] = ev;
        p->explained_variance_ratio[c] = total > 0 ? ev / total : 0.0;
    }
    *out = p;
    p = NULL;
    rc = NDYN_OK;
done:
    free(xc);
    free(s);
    free(vt);
    ndyn_pca_free(p);
    return rc;
}

static int check_model(const ndyn_pca *p)
{
    if (!p || !p->mean || !p->components || p->d == 0 || p->k == 0)
        return ndyn_error(NDYN_EINVAL, "PCA model is NULL or empty; fit it with ndyn_pca_fit first");
    return NDYN_OK;
}

int ndyn_pca_transform(const ndyn_pca *p, const double *x, size_t n, double *z)
{
    int rc = check_model(p);
    if (rc) return rc;
    if ((rc = ana_check_matrix(x, n, p->d, "PCA transform input"))) return rc;
    if (!z) return ndyn_error(NDYN_EINVAL, "PCA transform: output is NULL");
    if (ndyn_check_finite(x, n * p->d, "PCA transform input")) return NDYN_ENONFINITE;
    const size_t d = p->d, k = p->k;
    double *row = ndyn_malloc_array(d, sizeof *row);
    if (!row) return NDYN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) row[j] = x[i * d + j] - p->mean[j];
        for (size_t c = 0; c < k; c++) {
            const double *a = p->components + c * d;
            double acc = 0.0;
            for (size_t j = 0; j < d; j++) acc += row[j] * a[j];
            z[i * k + c] = acc;
        }
    }
    free(row);
    return NDYN_OK;
}

int ndyn_pca_inverse_transform(const ndyn_pca *p, const double *z, size_t n, double *x)
{
    int rc = check_model(p);
    if (rc) return rc;
    if ((rc = ana_check_matrix(z, n, p->k, "PCA inverse input"))) return rc;
    if (!x) return ndyn_error(NDYN_EINVAL, "PCA inverse transform: output is NULL");
    if (ndyn_check_finite(z, n * p->k, "PCA inverse input")) return NDYN_ENONFINITE;
    const size_t d = p->d, k = p->k;
    for (size_t i = 0; i < n; i++) {
        double *xi = x + i * d;
        memcpy(xi, p->mean, d * sizeof *xi);
        for (size_t c = 0; c < k; c++) {
            double zc = z[i * k + c];
            const double *a = p->components + c * d;
            for (size_t j = 0; j < d; j++) xi[j] += zc * a[j];
        }
    }
    return NDYN_OK;
}

size_t ndyn_pca_components_for(const ndyn_pca *p, double frac)
{
    if (!p || p->k == 0) return 0;
    double acc = 0.0;
    for (size_t c = 0; c < p->k; c++) {
        acc += p->explained_variance_ratio[c];
        if (acc >= frac - 1e-12) return c + 1;
    }
    return p->k;
}

int ndyn_pca_truncate(ndyn_pca *p, size_t k)
{
    int rc = check_model(p);
    if (rc) return rc;
    if (k == 0 || k > p->k)
        return ndyn_error(NDYN_EINVAL, "PCA truncate: keep between 1 and %zu components (asked %zu)", p->k, k);
    p->k = k;
    return NDYN_OK;
}
