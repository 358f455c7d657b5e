/* PCA against an independent reference: the eigendecomposition of the
 * sample covariance by LAPACK dsyev (PCA itself uses the SVD of the centred
 * data), and recovery of a planted low-rank structure. */
#include <lapacke.h>

#include "test.h"

#include "ndyn/analysis.h"

static void randn(ndyn_rng *r, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = ndyn_rng_normal(r);
}

TEST(pca_matches_covariance_eigendecomposition)
{
    enum { N = 60, D = 5 };
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    double x[N * D];
    randn(&r, x, N * D);
    /* Give the features distinct scales so the eigenvalues are well separated. */
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) x[i * D + j] = x[i * D + j] * (1.0 + 2.0 * (double)j) + 3.0 * (double)j;
    /* Reference: covariance (ddof 1) and dsyev. */
    double mean[D] = {0}, cov[D * D] = {0}, w[D];
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) mean[j] += x[i * D + j] / N;
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < D; a++)
            for (size_t b = 0; b < D; b++)
                cov[a * D + b] += (x[i * D + a] - mean[a]) * (x[i * D + b] - mean[b]) / (N - 1);
    double total = 0;
    for (size_t j = 0; j < D; j++) total += cov[j * D + j];
    CHECK(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', D, cov, D, w) == 0);
    ndyn_pca *p = NULL;
    CHECK_OK(ndyn_pca_fit(x, N, D, 0, &p));
    if (!p) return;
    CHECK(p->k == D && p->d == D && p->n_fit == N);
    CHECK_CLOSE(p->total_variance, total, 1e-12, 1e-12);
    double sum_ratio = 0;
    for (size_t c = 0; c < D; c++) {
        size_t e = D - 1 - c; /* dsyev sorts ascending */
        CHECK_CLOSE(p->explained_variance[c], w[e], 1e-10, 1e-10);
        CHECK_CLOSE(p->explained_variance_ratio[c], w[e] / total, 1e-12, 1e-10);
        sum_ratio += p->explained_variance_ratio[c];
        /* Same axis up to sign; then our sign rule: largest |entry| positive. */
        double dot = 0, amax = 0, vmax = 0;
        for (size_t j = 0; j < D; j++) {
            dot += p->components[c * D + j] * cov[j * D + e];
            if (fabs(p->components[c * D + j]) > amax) {
                amax = fabs(p->components[c * D + j]);
                vmax = p->components[c * D + j];
            }
        }
        CHECK_CLOSE(fabs(dot), 1.0, 1e-9, 0);
        CHECK(vmax > 0);
    }
    CHECK_CLOSE(sum_ratio, 1.0, 1e-12, 0);
    for (size_t j = 0; j < D; j++) CHECK_CLOSE(p->mean[j], mean[j], 1e-12, 1e-12);
    /* Transform: scores are centred projections; inverse with all axes is exact. */
    double z[N * D], back[N * D];
    CHECK_OK(ndyn_pca_transform(p, x, N, z));
    CHECK_OK(ndyn_pca_inverse_transform(p, z, N, back));
    for (size_t i = 0; i < N * D; i++) CHECK_CLOSE(back[i], x[i], 1e-10, 1e-10);
    double v0 = 0;
    for (size_t i = 0; i < N; i++) v0 += z[i * D] * z[i * D] / (N - 1);
    CHECK_CLOSE(v0, p->explained_variance[0], 1e-10, 1e-10);
    ndyn_pca_free(p);
}

TEST(pca_recovers_planted_low_rank)
{
    /* x = z a + 1e-3 noise with z (N, 2), a (2, D): two components carry
     * almost all the variance and span the row space of a. */
    enum { N = 200, D = 8, R = 2 };
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    static double x[N * D];
    double z[N * R], a[R * D];
    randn(&r, z, N * R);
    randn(&r, a, R * D);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) {
            double v = 5.0;
            for (size_t q = 0; q < R; q++) v += z[i * R + q] * a[q * D + j];
            x[i * D + j] = v + 1e-3 * ndyn_rng_normal(&r);
        }
    ndyn_pca *p = NULL;
    CHECK_OK(ndyn_pca_fit(x, N, D, 4, &p));
    if (!p) return;
    CHECK(p->k == 4);
    CHECK(p->explained_variance_ratio[0] + p->explained_variance_ratio[1] > 1 - 1e-5);
    CHECK(p->explained_variance_ratio[2] < 1e-5);
    CHECK(ndyn_pca_components_for(p, 0.99) == 2);
    /* Each row of a lies in the span of the first two axes. */
    for (size_t q = 0; q < R; q++) {
        double nrm = 0, proj = 0;
        for (size_t j = 0; j < D; j++) nrm += a[q * D + j] * a[q * D + j];
        for (size_t c = 0; c < 2; c++) {
            double dot = 0;
            for (size_t j = 0; j < D; j++) dot += a[q * D + j] * p->components[c * D + j];
            proj += dot * dot;
        }
        CHECK_CLOSE(proj / nrm, 1.0, 1e-6, 0);
    }
    /* Orthonormal axes. */
    for (size_t c = 0; c < 4; c++)
        for (size_t e = 0; e < 4; e++) {
            double dot = 0;
            for (size_t j = 0; j < D; j++) dot += p->components[c * D + j] * p->components[e * D + j];
            CHECK_CLOSE(dot, c == e ? 1.0 : 0.0, 1e-12, 0);
        }
    CHECK_OK(ndyn_pca_truncate(p, 2));
    CHECK(p->k == 2);
    static double zz[N * 2], back[N * D];
    CHECK_OK(ndyn_pca_transform(p, x, N, zz));
    CHECK_OK(ndyn_pca_inverse_transform(p, zz, N, back));
    double err = 0;
    for (size_t i = 0; i < N * D; i++) err = fmax(err, fabs(back[i] - x[i]));
    CHECK(err < 1e-2);
    CHECK_FAILS(ndyn_pca_truncate(p, 3), NDYN_EINVAL);
    ndyn_pca_free(p);
}

TEST(pca_bad_input)
{
    double x[6] = {1, 2, 3, 4, 5, NAN};
    ndyn_pca *p = NULL;
    CHECK_FAILS(ndyn_pca_fit(x, 3, 2, 0, &p), NDYN_ENONFINITE);
    CHECK(p == NULL);
    CHECK_FAILS(ndyn_pca_fit(x, 1, 2, 0, &p), NDYN_EINVAL);
    CHECK_FAILS(ndyn_pca_fit(x, 2, 2, 3, &p), NDYN_EINVAL);
    CHECK_FAILS(ndyn_pca_fit(x, 0, 2, 0, &p), NDYN_EINVAL);
    CHECK_FAILS(ndyn_pca_transform(NULL, x, 1, x), NDYN_EINVAL);
}

RUN_TESTS(T(pca_matches_covariance_eigendecomposition), T(pca_recovers_planted_low_rank), T(pca_bad_input))
