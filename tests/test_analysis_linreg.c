/* Linear regression against LAPACK least squares (dgels on [X 1]) and the
 * ridge normal equations (dposv), the minimum-norm property on a
 * rank-deficient design, and the cross-validated penalty against an explicit
 * recomputation of the pooled held-out R². */
#include <lapacke.h>

#include "test.h"

#include "ndyn/analysis.h"

enum { N = 50, D = 4, DY = 2 };

static void make(uint64_t seed, double *x, double *y, double noise)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < D; j++) x[i * D + j] = ndyn_rng_normal(&r) + (double)j;
        y[i * DY] = 1.5 * x[i * D] - 2.0 * x[i * D + 2] + 0.7 + noise * ndyn_rng_normal(&r);
        y[i * DY + 1] = x[i * D + 1] + x[i * D + 3] - 3.0 + noise * ndyn_rng_normal(&r);
    }
}

TEST(ols_equals_lapack_least_squares)
{
    double x[N * D], y[N * DY];
    make(5, x, y, 0.3);
    /* Reference: dgels on A = [X 1] (N, D+1), B = y. */
    double a[N * (D + 1)], b[N * DY];
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < D; j++) a[i * (D + 1) + j] = x[i * D + j];
        a[i * (D + 1) + D] = 1.0;
    }
    memcpy(b, y, sizeof b);
    CHECK(LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', N, D + 1, DY, a, D + 1, b, DY) == 0);
    ndyn_linreg *m = NULL;
    CHECK_OK(ndyn_linreg_fit(x, y, N, D, DY, 0.0, &m));
    if (!m) return;
    for (size_t j = 0; j < D; j++)
        for (size_t c = 0; c < DY; c++) CHECK_CLOSE(m->w[j * DY + c], b[j * DY + c], 1e-10, 1e-10);
    for (size_t c = 0; c < DY; c++) CHECK_CLOSE(m->b[c], b[D * DY + c], 1e-10, 1e-10);
    double yh[N * DY];
    CHECK_OK(ndyn_linreg_predict(m, x, N, yh));
    for (size_t i = 0; i < N; i++) {
        double e = b[D * DY];
        for (size_t j = 0; j < D; j++) e += x[i * D + j] * b[j * DY];
        CHECK_CLOSE(yh[i * DY], e, 1e-10, 1e-10);
    }
    ndyn_linreg_free(m);
}

TEST(ridge_equals_normal_equations_with_unpenalised_bias)
{
    double x[N * D], y[N * DY];
    make(6, x, y, 1.0);
    const double lam = 7.5;
    /* (A^T A + lam diag(1,..,1,0)) theta = A^T y, A = [X 1]. */
    enum { P = D + 1 };
    double g[P * P] = {0}, rhs[P * DY] = {0};
    for (size_t i = 0; i < N; i++) {
        double row[P];
        for (size_t j = 0; j < D; j++) row[j] = x[i * D + j];
        row[D] = 1.0;
        for (size_t p = 0; p < P; p++) {
            for (size_t q = 0; q < P; q++) g[p * P + q] += row[p] * row[q];
            for (size_t c = 0; c < DY; c++) rhs[p * DY + c] += row[p] * y[i * DY + c];
        }
    }
    for (size_t j = 0; j < D; j++) g[j * P + j] += lam;
    CHECK(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', P, DY, g, P, rhs, DY) == 0);
    ndyn_linreg *m = NULL;
    CHECK_OK(ndyn_linreg_fit(x, y, N, D, DY, lam, &m));
    if (!m) return;
    CHECK(m->lambda == lam);
    for (size_t j = 0; j < D; j++)
        for (size_t c = 0; c < DY; c++) CHECK_CLOSE(m->w[j * DY + c], rhs[j * DY + c], 1e-10, 1e-10);
    for (size_t c = 0; c < DY; c++) CHECK_CLOSE(m->b[c], rhs[D * DY + c], 1e-10, 1e-10);
    ndyn_linreg_free(m);
}

TEST(ols_minimum_norm_on_duplicated_column)
{
    /* x2 = x1 exactly: the minimum-norm solution splits the weight of the
     * single-column fit equally between the two copies. */
    double x1[N], x2[N * 2], y[N];
    ndyn_rng r;
    ndyn_rng_init(&r, 7, 0);
    for (size_t i = 0; i < N; i++) {
        x1[i] = ndyn_rng_normal(&r);
        x2[2 * i] = x2[2 * i + 1] = x1[i];
        y[i] = 3.0 * x1[i] + 1.0 + 0.1 * ndyn_rng_normal(&r);
    }
    ndyn_linreg *m1 = NULL, *m2 = NULL;
    CHECK_OK(ndyn_linreg_fit(x1, y, N, 1, 1, 0.0, &m1));
    CHECK_OK(ndyn_linreg_fit(x2, y, N, 2, 1, 0.0, &m2));
    if (m1 && m2) {
        CHECK_CLOSE(m2->w[0], 0.5 * m1->w[0], 1e-10, 1e-10);
        CHECK_CLOSE(m2->w[1], 0.5 * m1->w[0], 1e-10, 1e-10);
        CHECK_CLOSE(m2->b[0], m1->b[0], 1e-10, 1e-10);
    }
    ndyn_linreg_free(m1);
    ndyn_linreg_free(m2);
}

TEST(ridge_cv_matches_explicit_pooled_r2)
{
    double x[N * D], y[N * DY];
    make(8, x, y, 2.0);
    const double lams[4] = {0.0, 1.0, 30.0, 1000.0};
    double best, scores[4];
    ndyn_linreg *m = NULL;
    CHECK_OK(ndyn_linreg_fit_cv(x, y, N, D, DY, lams, 4, 5, &best, scores, &m));
    size_t bl = 0;
    for (size_t l = 0; l < 4; l++) {
        double pred[N * DY];
        for (size_t f = 0; f < 5; f++) {
            size_t lo = f * N / 5, hi = (f + 1) * N / 5, nt = 0;
            double xt[N * D], yt[N * DY];
            for (size_t i = 0; i < N; i++)
                if (i < lo || i >= hi) {
                    memcpy(xt + nt * D, x + i * D, D * sizeof *x);
                    memcpy(yt + nt * DY, y + i * DY, DY * sizeof *y);
                    nt++;
                }
            ndyn_linreg *mf = NULL;
            CHECK_OK(ndyn_linreg_fit(xt, yt, nt, D, DY, lams[l], &mf));
            if (!mf) return;
            CHECK_OK(ndyn_linreg_predict(mf, x + lo * D, hi - lo, pred + lo * DY));
            ndyn_linreg_free(mf);
        }
        double r2;
        CHECK_OK(ndyn_metric_r2(y, pred, N, DY, NULL, &r2));
        CHECK_CLOSE(scores[l], r2, 1e-10, 1e-10);
        if (scores[l] > scores[bl]) bl = l;
    }
    CHECK(best == lams[bl]);
    CHECK(m && m->lambda == best);
    ndyn_linreg_free(m);
    /* Default grid: 16 scores, lambda = 0 among them, best from the grid. */
    double sc[NDYN_LINREG_GRID_SIZE];
    CHECK_OK(ndyn_linreg_fit_cv(x, y, N, D, DY, NULL, 0, 5, &best, sc, NULL));
    /* The grid is 0 then increasing; the chosen penalty has the best score. */
    int bi = 0;
    for (int l = 0; l < NDYN_LINREG_GRID_SIZE; l++) {
        CHECK(isfinite(sc[l]));
        if (sc[l] >= sc[bi]) bi = l;
    }
    CHECK(best >= 0);
    CHECK(sc[bi] >= sc[0]);
    CHECK(best == 0 ? bi == 0 : bi > 0);
}

TEST(linreg_bad_input)
{
    double x[4] = {1, 2, 3, NAN}, y[4] = {1, 2, 3, 4};
    ndyn_linreg *m = NULL;
    CHECK_FAILS(ndyn_linreg_fit(x, y, 4, 1, 1, 0.0, &m), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_linreg_fit(x, y, 3, 1, 1, -1.0, &m), NDYN_EINVAL);
    CHECK_FAILS(ndyn_linreg_fit(x, y, 1, 1, 1, 0.0, &m), NDYN_EINVAL);
    CHECK_FAILS(ndyn_linreg_fit_cv(x, y, 3, 1, 1, NULL, 0, 5, NULL, NULL, &m), NDYN_EINVAL);
    CHECK(m == NULL);
}

RUN_TESTS(T(ols_equals_lapack_least_squares), T(ridge_equals_normal_equations_with_unpenalised_bias),
          T(ols_minimum_norm_on_duplicated_column), T(ridge_cv_matches_explicit_pooled_r2), T(linreg_bad_input))
