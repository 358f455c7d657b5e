/* Reductions for drawing high-dimensional data in the plane: PCA through the
 * eigen-decomposition of the covariance (LAPACKE dsyevd; d is small for the
 * data plotted: latent spaces, neurons), and classical MDS of a distance
 * matrix. */
#include "ndyn/plot.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ndyn_plot_pca(const double *x, size_t n, size_t d, size_t k, double *z, double *components,
                  double *mean, double *explained)
{
    if (!x || !z) return ndyn_error(NDYN_EINVAL, "PCA: NULL data or output");
    if (n < 2) return ndyn_error(NDYN_EINVAL, "PCA needs at least 2 points, got %zu", n);
    if (d < 1 || k < 1 || k > d)
        return ndyn_error(NDYN_EINVAL, "PCA to %zu dimensions of %zu-dimensional data: need 1 <= k <= d", k, d);
    if (d > 4096) return ndyn_error(NDYN_EINVAL, "PCA for plotting: %zu dimensions is too many (at most 4096)", d);
    int rc = ndyn_check_finite(x, n * d, "PCA input");
    if (rc) return rc;
    double *mu = ndyn_calloc(d, sizeof(double));
    double *xc = ndyn_malloc_array(n * d, sizeof(double));
    double *cov = ndyn_malloc_array(d * d, sizeof(double));
    double *w = ndyn_malloc_array(d, sizeof(double));
    if (!mu || !xc || !cov || !w) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) mu[j] += x[i * d + j];
    for (size_t j = 0; j < d; j++) mu[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) xc[i * d + j] = x[i * d + j] - mu[j];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0 / (double)(n - 1), xc, (int)d, 0.0,
                cov, (int)d);
    int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (int)d, cov, (int)d, w);
    if (info != 0) {
        rc = ndyn_error(NDYN_ECONVERGE, "PCA: eigen-decomposition failed (LAPACK info %d)", info);
        goto done;
    }
    /* eigenvalues ascending: component c is column d-1-c of cov */
    double total = 0;
    for (size_t j = 0; j < d; j++) total += w[j] > 0 ? w[j] : 0;
    double *W = ndyn_malloc_array(k * d, sizeof(double));
    if (!W) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t c = 0; c < k; c++) {
        size_t col = d - 1 - c;
        size_t imax = 0;
        for (size_t j = 0; j < d; j++)
            if (fabs(cov[j * d + col]) > fabs(cov[imax * d + col])) imax = j;
        double sgn = cov[imax * d + col] < 0 ? -1 : 1;
        for (size_t j = 0; j < d; j++) W[c * d + j] = sgn * cov[j * d + col];
        if (explained) explained[c] = total > 0 ? (w[col] > 0 ? w[col] : 0) / total : 0;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)k, (int)d, 1.0, xc, (int)d, W, (int)d,
                0.0, z, (int)k);
    if (components) memcpy(components, W, k * d * sizeof(double));
    if (mean) memcpy(mean, mu, d * sizeof(double));
    free(W);
done:
    free(mu);
    free(xc);
    free(cov);
    free(w);
    return rc;
}

int ndyn_plot_mds(const double *dist, size_t c, size_t k, double *coords)
{
    if (!dist || !coords) return ndyn_error(NDYN_EINVAL, "MDS: NULL input or output");
    if (c < 1 || k < 1 || k > c) return ndyn_error(NDYN_EINVAL, "MDS of %zu items to %zu dimensions: need 1 <= k <= c", c, k);
    if (c > 4096) return ndyn_error(NDYN_EINVAL, "MDS: %zu items is too many for plotting (at most 4096)", c);
    int rc = ndyn_check_finite(dist, c * c, "distance matrix");
    if (rc) return rc;
    for (size_t i = 0; i < c; i++)
        for (size_t j = 0; j < c; j++)
            if (fabs(dist[i * c + j] - dist[j * c + i]) > 1e-9 * (fabs(dist[i * c + j]) + 1))
                return ndyn_error(NDYN_EINVAL, "MDS: distance matrix is not symmetric at (%zu, %zu)", i, j);
    double *B = ndyn_malloc_array(c * c, sizeof(double));
    double *row = ndyn_calloc(c, sizeof(double));
    double *w = ndyn_malloc_array(c, sizeof(double));
    if (!B || !row || !w) {
        free(B), free(row), free(w);
        return NDYN_ENOMEM;
    }
    double all = 0;
    for (size_t i = 0; i < c; i++) {
        for (size_t j = 0; j < c; j++) {
            double d2 = dist[i * c + j] * dist[i * c + j];
            B[i * c + j] = d2;
            row[i] += d2;
        }
        all += row[i];
        row[i] /= (double)c;
    }
    all /= (double)(c * c);
    for (size_t i = 0; i < c; i++)
        for (size_t j = 0; j < c; j++) B[i * c + j] = -0.5 * (B[i * c + j] - row[i] - row[j] + all);
    int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (int)c, B, (int)c, w);
    if (info != 0) rc = ndyn_error(NDYN_ECONVERGE, "MDS: eigen-decomposition failed (LAPACK info %d)", info);
    else
        for (size_t a = 0; a < k; a++) {
            size_t col = c - 1 - a;
            double s = w[col] > 0 ? sqrt(w[col]) : 0;
            size_t imax = 0;
            for (size_t i = 0; i < c; i++)
                if (fabs(B[i * c + col]) > fabs(B[imax * c + col])) imax = i;
            double sgn = B[imax * c + col] < 0 ? -1 : 1;
            for (size_t i = 0; i < c; i++) coords[i * k + a] = sgn * s * B[i * c + col];
        }
    free(B);
    free(row);
    free(w);
    return rc;
}
