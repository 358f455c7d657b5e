/* Optimal transport at realistic sizes: the exact solver against the
 * Hungarian algorithm at 1000 points, Sinkhorn's convergence to it, and a
 * sweep of conditions with a known order: the distance matrix follows the
 * planted parameter and the first MDS coordinate orders the conditions. */
#include "test.h"

#include "ndyn/analysis.h"

TEST(emd_1000_points_vs_hungarian)
{
    enum { N = 1000, D = 4 };
    ndyn_rng r;
    ndyn_rng_init(&r, 31, 0);
    double *x = malloc(N * D * sizeof *x), *y = malloc(N * D * sizeof *y), *c = malloc(N * N * sizeof *c);
    double *plan = malloc(N * N * sizeof *plan);
    int *map = malloc(N * sizeof *map);
    for (int i = 0; i < N * D; i++) {
        x[i] = ndyn_rng_normal(&r);
        y[i] = 1.3 * ndyn_rng_normal(&r) + (i % D == 0);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int a = 0; a < D; a++) s += pow(x[i * D + a] - y[j * D + a], 2);
            c[i * N + j] = sqrt(s);
        }
    double t0 = ndyn_time_now(), emd, h;
    CHECK_OK(ndyn_ot_emd(NULL, N, NULL, N, c, plan, &emd));
    double t1 = ndyn_time_now();
    CHECK_OK(ndyn_hungarian(c, N, N, 0, map, &h));
    double t2 = ndyn_time_now();
    fprintf(stderr, "  n = %d: EMD %.10f in %.2f s; Hungarian / n %.10f in %.2f s\n", N, emd, t1 - t0, h / N,
            t2 - t1);
    CHECK_CLOSE(emd, h / N, 1e-10, 1e-10);
    int nnz = 0;
    for (int i = 0; i < N * N; i++) nnz += plan[i] > 1e-12;
    CHECK(nnz == N);
    /* Sinkhorn: cost decreasing to the exact value as eps shrinks. */
    double prev = INFINITY;
    const double eps[] = {0.5, 0.1, 0.02};
    for (int q = 0; q < 3; q++) {
        ndyn_sinkhorn_params p;
        ndyn_sinkhorn_params_default(&p, eps[q]);
        p.tol = 1e-5;
        p.max_iter = 20000;
        ndyn_sinkhorn_info info;
        double t;
        t0 = ndyn_time_now();
        CHECK_OK(ndyn_ot_sinkhorn(NULL, N, NULL, N, c, &p, NULL, &t, &info));
        fprintf(stderr, "  Sinkhorn eps %.2f: %.6f (exact %.6f), %zu iterations, marginal error %.2g, %.2f s\n",
                eps[q], t, emd, info.iters, info.marginal_error, ndyn_time_now() - t0);
        CHECK(info.converged);
        CHECK(t >= emd - 1e-9 && t <= prev);
        prev = t;
    }
    CHECK(prev - emd < 0.02 * emd);
    free(x);
    free(y);
    free(c);
    free(plan);
    free(map);
}

/* Spearman rank correlation of the upper triangles of a and b (C, C). */
static double spearman_upper(const double *a, const double *b, int C)
{
    int m = C * (C - 1) / 2, q = 0;
    double *u = malloc(m * sizeof *u), *v = malloc(m * sizeof *v), *ru = malloc(m * sizeof *ru),
           *rv = malloc(m * sizeof *rv);
    for (int i = 0; i < C; i++)
        for (int j = i + 1; j < C; j++, q++) {
            u[q] = a[i * C + j];
            v[q] = b[i * C + j];
        }
    /* Average ranks (ties share their mean rank). */
    for (int w = 0; w < 2; w++) {
        const double *s = w ? v : u;
        double *rk = w ? rv : ru;
        for (int i = 0; i < m; i++) {
            int less = 0, eq = 0;
            for (int j = 0; j < m; j++) {
                less += s[j] < s[i];
                eq += s[j] == s[i];
            }
            rk[i] = less + 0.5 * (eq - 1);
        }
    }
    double mu = (m - 1) / 2.0, num = 0, du = 0, dv = 0;
    for (int i = 0; i < m; i++) {
        num += (ru[i] - mu) * (rv[i] - mu);
        du += (ru[i] - mu) * (ru[i] - mu);
        dv += (rv[i] - mu) * (rv[i] - mu);
    }
    free(u);
    free(v);
    free(ru);
    free(rv);
    return num / sqrt(du * dv);
}

TEST(condition_sweep_ordered)
{
    /* Condition c: 300 points of a 3-D distribution whose shape changes
     * with mu_c in [-1, 1]: mean (mu, 0, 0) and sd 0.5 + 0.25 mu along the
     * second axis. Distances must follow |mu_i - mu_j| in rank and the first
     * MDS coordinate must be monotone in mu. */
    enum { C = 12, M = 300, D = 3 };
    ndyn_rng r;
    ndyn_rng_init(&r, 32, 0);
    double *x = malloc(C * M * D * sizeof *x), mu[C], truth[C * C];
    int *cond = malloc(C * M * sizeof *cond);
    for (int c = 0; c < C; c++) {
        mu[c] = -1 + 2.0 * c / (C - 1);
        for (int i = 0; i < M; i++) {
            double *p = x + (c * M + i) * D;
            p[0] = mu[c] + 0.5 * ndyn_rng_normal(&r);
            p[1] = (0.5 + 0.25 * mu[c]) * ndyn_rng_normal(&r);
            p[2] = 0.5 * ndyn_rng_normal(&r);
            cond[c * M + i] = c;
        }
    }
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) truth[i * C + j] = fabs(mu[i] - mu[j]);
    double dist[C * C], coords[C * 2];
    for (int variant = 0; variant < 3; variant++) {
        ndyn_ot_params p;
        ndyn_ot_params_default(&p);
        ndyn_kmeans_params km;
        ndyn_kmeans_params_default(&km, 40);
        double t0 = ndyn_time_now();
        if (variant == 0) {
            CHECK_OK(ndyn_ot_condition_distances(x, cond, C * M, D, C, &p, dist));
        } else if (variant == 1) {
            CHECK_OK(ndyn_ot_cluster_distances(x, cond, C * M, D, C, &km, &p, dist, NULL, NULL, NULL, NULL));
        } else {
            p.sinkhorn = 1;
            p.sk.eps = 0.05;
            p.sk.tol = 1e-6;
            CHECK_OK(ndyn_ot_condition_distances(x, cond, C * M, D, C, &p, dist));
        }
        double el = ndyn_time_now() - t0;
        double rho = spearman_upper(dist, truth, C);
        CHECK_OK(ndyn_mds_classical(dist, C, 2, coords, NULL, NULL));
        int mono_up = 1, mono_down = 1;
        for (int c = 1; c < C; c++) {
            mono_up &= coords[c * 2] > coords[(c - 1) * 2];
            mono_down &= coords[c * 2] < coords[(c - 1) * 2];
        }
        const char *name[] = {"exact", "40 clusters", "Sinkhorn eps 0.05"};
        fprintf(stderr, "  %s: %.2f s, Spearman %.4f, MDS-1 monotone %d\n", name[variant], el, rho,
                mono_up || mono_down);
        CHECKF(rho >= 0.9, "%s: rank correlation %.4f", name[variant], rho);
        CHECK(mono_up || mono_down);
        for (int i = 0; i < C; i++) {
            CHECK(dist[i * C + i] == 0);
            for (int j = 0; j < C; j++) CHECK(dist[i * C + j] == dist[j * C + i]);
        }
    }
    free(x);
    free(cond);
}

RUN_TESTS(T(emd_1000_points_vs_hungarian), T(condition_sweep_ordered))
