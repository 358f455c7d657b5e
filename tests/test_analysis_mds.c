/* Classical MDS: recovers a planted configuration up to rotation and
 * reflection (Procrustes), equals the PCA scores computed by an SVD of the
 * centred points, the trace identity on non-Euclidean input, bad input. */
#include "test.h"

#include <lapacke.h>

#include "ndyn/analysis.h"

enum { N = 30, D = 3 };

static void planted(double *x, double *dist, ndyn_rng *r)
{
    const double scale[D] = {3, 1.5, 0.5}; /* distinct variances */
    for (int i = 0; i < N; i++)
        for (int a = 0; a < D; a++) x[i * D + a] = scale[a] * ndyn_rng_normal(r) + 10;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int a = 0; a < D; a++) s += pow(x[i * D + a] - x[j * D + a], 2);
            dist[i * N + j] = sqrt(s);
        }
}

static void centre(double *x)
{
    for (int a = 0; a < D; a++) {
        double m = 0;
        for (int i = 0; i < N; i++) m += x[i * D + a];
        for (int i = 0; i < N; i++) x[i * D + a] -= m / N;
    }
}

TEST(mds_recovers_planted_configuration)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    double x[N * D], dist[N * N], c[N * D], ev[N], stress;
    planted(x, dist, &r);
    CHECK_OK(ndyn_mds_classical(dist, N, D, c, ev, &stress));
    CHECK_CLOSE(stress, 0, 1e-10, 0);
    centre(x);
    /* Orthogonal Procrustes: R = U V^T from the SVD of c^T x minimises
     * |c R - x|. */
    double m[D * D] = {0}, s[D], u[D * D], vt[D * D], sup[D];
    for (int i = 0; i < N; i++)
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++) m[a * D + b] += c[i * D + a] * x[i * D + b];
    CHECK(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', D, D, m, D, s, u, D, vt, D, sup) == 0);
    double R[D * D] = {0}, err = 0;
    for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++)
            for (int q = 0; q < D; q++) R[a * D + b] += u[a * D + q] * vt[q * D + b];
    for (int i = 0; i < N; i++)
        for (int b = 0; b < D; b++) {
            double v = 0;
            for (int a = 0; a < D; a++) v += c[i * D + a] * R[a * D + b];
            err = fmax(err, fabs(v - x[i * D + b]));
        }
    CHECKF(err < 1e-9, "Procrustes residual %.3g", err);
    /* Eigenvalues: the squared singular values of the centred points, then 0. */
    double xc[N * D], sv[D], su[1], svt[1], sup2[D];
    memcpy(xc, x, sizeof xc);
    CHECK(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', N, D, xc, D, sv, su, 1, svt, 1, sup2) == 0);
    for (int a = 0; a < D; a++) CHECK_CLOSE(ev[a], sv[a] * sv[a], 1e-9, 1e-10);
    for (int a = D; a < N; a++) CHECK_CLOSE(ev[a], 0, 1e-9 * ev[0], 0);
    for (int a = 1; a < N; a++) CHECK(ev[a] <= ev[a - 1]);
}

TEST(mds_equals_pca_scores)
{
    /* For Euclidean distances MDS coordinates are the PCA scores U S of the
     * centred points, column by column up to sign. */
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    double x[N * D], dist[N * N], c[N * 2];
    planted(x, dist, &r);
    centre(x);
    CHECK_OK(ndyn_mds_classical(dist, N, 2, c, NULL, NULL));
    double u[N * N], s[D], vt[D * D], sup[D];
    CHECK(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', N, D, x, D, s, u, N, vt, D, sup) == 0);
    for (int col = 0; col < 2; col++) {
        /* The sign convention: the entry of largest magnitude is positive. */
        int amax = 0;
        for (int i = 0; i < N; i++)
            if (fabs(c[i * 2 + col]) > fabs(c[amax * 2 + col])) amax = i;
        CHECK(c[amax * 2 + col] > 0);
        double sg = u[amax * N + col] < 0 ? -1 : 1;
        for (int i = 0; i < N; i++) CHECK_CLOSE(c[i * 2 + col], sg * s[col] * u[i * N + col], 1e-9, 0);
    }
}

TEST(mds_non_euclidean)
{
    /* Random symmetric dissimilarities: B has negative eigenvalues; the
     * eigenvalues sum to trace(B) = sum_ij d_ij^2 / (2n); coordinates of
     * the k-D solution reproduce the stress from their own distances. */
    enum { M = 12 };
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    double d[M * M], ev[M], c[M * 2], stress;
    for (int i = 0; i < M; i++) {
        d[i * M + i] = 0;
        for (int j = 0; j < i; j++) d[i * M + j] = d[j * M + i] = ndyn_rng_uniform_range(&r, 0.5, 2);
    }
    CHECK_OK(ndyn_mds_classical(d, M, 2, c, ev, &stress));
    double tr = 0, s2 = 0;
    for (int i = 0; i < M * M; i++) s2 += d[i] * d[i];
    for (int i = 0; i < M; i++) tr += ev[i];
    CHECK_CLOSE(tr, s2 / (2 * M), 1e-10, 1e-12);
    CHECK(ev[M - 1] < 0);
    double num = 0, den = 0;
    for (int i = 0; i < M; i++)
        for (int j = i + 1; j < M; j++) {
            double e = hypot(c[i * 2] - c[j * 2], c[i * 2 + 1] - c[j * 2 + 1]);
            num += pow(d[i * M + j] - e, 2);
            den += d[i * M + j] * d[i * M + j];
        }
    CHECK_CLOSE(stress, sqrt(num / den), 1e-12, 0);
    CHECK(stress > 0.05);
    /* k = 0: eigenvalues only. */
    double ev2[M];
    CHECK_OK(ndyn_mds_classical(d, M, 0, NULL, ev2, NULL));
    for (int i = 0; i < M; i++) CHECK_CLOSE(ev2[i], ev[i], 1e-12, 1e-12);
    /* One point. */
    double z = 0, c1;
    CHECK_OK(ndyn_mds_classical(&z, 1, 1, &c1, NULL, NULL));
    CHECK(c1 == 0);
}

TEST(mds_bad_input)
{
    double d[4] = {0, 1, 2, 0}, c[4];
    CHECK_FAILS(ndyn_mds_classical(d, 2, 1, c, NULL, NULL), NDYN_EINVAL); /* asymmetric */
    d[2] = 1;
    CHECK_OK(ndyn_mds_classical(d, 2, 1, c, NULL, NULL));
    CHECK_CLOSE(fabs(c[0] - c[1]), 1.0, 1e-12, 0);
    CHECK_FAILS(ndyn_mds_classical(d, 2, 3, c, NULL, NULL), NDYN_EINVAL);
    d[0] = 0.1;
    CHECK_FAILS(ndyn_mds_classical(d, 2, 1, c, NULL, NULL), NDYN_EINVAL);
    d[0] = 0;
    d[1] = d[2] = -1;
    CHECK_FAILS(ndyn_mds_classical(d, 2, 1, c, NULL, NULL), NDYN_EINVAL);
    d[1] = d[2] = NAN;
    CHECK_FAILS(ndyn_mds_classical(d, 2, 1, c, NULL, NULL), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_mds_classical(d, 0, 0, c, NULL, NULL), NDYN_EINVAL);
}

RUN_TESTS(T(mds_recovers_planted_configuration), T(mds_equals_pca_scores), T(mds_non_euclidean),
          T(mds_bad_input))
