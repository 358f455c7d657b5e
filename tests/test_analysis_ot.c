/* Optimal transport: the network simplex against enumeration of
 * permutations, the Hungarian algorithm (also on integer weights expanded
 * into unit masses) and linear programs solved by SciPy (fixtures from
 * python/make_ot_fixtures.py); Sinkhorn against its eps -> 0 and eps -> inf
 * limits; the distances between conditions against analytic values. */
#include "test.h"

#include "ndyn/analysis.h"
#include "ndyn/io.h"

static void rand_matrix(double *x, size_t n, ndyn_rng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) x[i] = ndyn_rng_uniform_range(r, lo, hi);
}

/* Minimum over permutations of sum_i c[i][p(i)], by Heap's algorithm. */
static double brute_assignment(const double *c, int n)
{
    int p[8], cnt[8] = {0};
    for (int i = 0; i < n; i++) p[i] = i;
    double best = 0;
    for (int i = 0; i < n; i++) best += c[i * n + p[i]];
    int i = 1;
    while (i < n) {
        if (cnt[i] < i) {
            int j = (i % 2) ? cnt[i] : 0, t = p[j];
            p[j] = p[i];
            p[i] = t;
            double s = 0;
            for (int q = 0; q < n; q++) s += c[q * n + p[q]];
            if (s < best) best = s;
            cnt[i]++;
            i = 1;
        } else {
            cnt[i] = 0;
            i++;
        }
    }
    return best;
}

/* Row sums == a, column sums == b, entries >= 0, <plan, cost> == total. */
static void check_plan(const double *plan, const double *a, const double *b, size_t na, size_t nb,
                       const double *cost, double total, double tol)
{
    double t = 0;
    int neg = 0;
    for (size_t i = 0; i < na; i++) {
        double s = 0;
        for (size_t j = 0; j < nb; j++) {
            s += plan[i * nb + j];
            t += plan[i * nb + j] * cost[i * nb + j];
            if (plan[i * nb + j] < 0) neg = 1;
        }
        CHECK_CLOSE(s, a ? a[i] : 1.0 / (double)na, tol, 0);
    }
    for (size_t j = 0; j < nb; j++) {
        double s = 0;
        for (size_t i = 0; i < na; i++) s += plan[i * nb + j];
        CHECK_CLOSE(s, b ? b[j] : 1.0 / (double)nb, tol, 0);
    }
    CHECK(!neg);
    CHECK_CLOSE(t, total, 1e-12, 1e-12);
}

TEST(emd_equals_assignment_enumeration)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (int n = 1; n <= 7; n++)
        for (int rep = 0; rep < 4; rep++) {
            double c[49], plan[49], total;
            rand_matrix(c, (size_t)(n * n), &r, -1, 2);
            if (rep == 3)  /* integer costs: ties and degenerate pivots */
                for (int i = 0; i < n * n; i++) c[i] = floor(c[i] * 2);
            CHECK_OK(ndyn_ot_emd(NULL, (size_t)n, NULL, (size_t)n, c, plan, &total));
            CHECK_CLOSE(total, brute_assignment(c, n) / n, 1e-12, 1e-12);
            check_plan(plan, NULL, NULL, (size_t)n, (size_t)n, c, total, 1e-12);
        }
}

TEST(emd_equals_hungarian)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    enum { N = 60 };
    static double c[N * N], plan[N * N];
    int rc_[N];
    for (int rep = 0; rep < 3; rep++) {
        rand_matrix(c, N * N, &r, 0, 1);
        double total, h;
        CHECK_OK(ndyn_ot_emd(NULL, N, NULL, N, c, plan, &total));
        CHECK_OK(ndyn_hungarian(c, N, N, 0, rc_, &h));
        CHECK_CLOSE(total, h / N, 1e-12, 1e-10);
        check_plan(plan, NULL, NULL, N, N, c, total, 1e-12);
        /* The optimal vertex of an n x n assignment is a permutation: n
         * nonzeros of mass 1/n (with random costs the optimum is unique). */
        int nnz = 0;
        for (int i = 0; i < N * N; i++) nnz += plan[i] > 1e-12;
        CHECK(nnz == N);
    }
}

TEST(emd_scale_invariant)
{
    /* EMD(s c) = s EMD(c) for tiny and huge cost scales, and a constant
     * added to every cost adds that constant (the mass is 1). */
    enum { NA = 40, NB = 50 };
    ndyn_rng r;
    ndyn_rng_init(&r, 8, 0);
    static double c[NA * NB], cs[NA * NB];
    double a[NA], b[NB], sa = 0, sb = 0;
    rand_matrix(a, NA, &r, 0.1, 1);
    rand_matrix(b, NB, &r, 0.1, 1);
    for (int i = 0; i < NA; i++) sa += a[i];
    for (int j = 0; j < NB; j++) sb += b[j];
    for (int i = 0; i < NA; i++) a[i] /= sa;
    for (int j = 0; j < NB; j++) b[j] /= sb;
    rand_matrix(c, NA * NB, &r, 0, 1);
    double t1, ts;
    CHECK_OK(ndyn_ot_emd(a, NA, b, NB, c, NULL, &t1));
    const double scales[] = {1e-9, 1e-4, 1e4, 1e9};
    for (int q = 0; q < 4; q++) {
        for (int i = 0; i < NA * NB; i++) cs[i] = c[i] * scales[q];
        CHECK_OK(ndyn_ot_emd(a, NA, b, NB, cs, NULL, &ts));
        CHECK_CLOSE(ts / scales[q], t1, 0, 1e-11);
    }
    for (int i = 0; i < NA * NB; i++) cs[i] = c[i] + 1e3;
    CHECK_OK(ndyn_ot_emd(a, NA, b, NB, cs, NULL, &ts));
    CHECK_CLOSE(ts - 1e3, t1, 1e-9, 0);
}

TEST(emd_integer_weights_equal_expanded_assignment)
{
    /* Integer masses a_i, b_j: the transportation problem equals the
     * assignment problem on rows repeated a_i times and columns b_j times. */
    enum { NA = 9, NB = 13, TOT = 40 };
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    for (int rep = 0; rep < 3; rep++) {
        int ma[NA], mb[NB];
        double a[NA], b[NB], c[NA * NB], plan[NA * NB], total;
        int left = TOT;
        for (int i = 0; i < NA; i++) ma[i] = 1;
        for (left = TOT - NA; left > 0; left--) ma[ndyn_rng_below(&r, NA)]++;
        for (int j = 0; j < NB; j++) mb[j] = 1;
        for (left = TOT - NB; left > 0; left--) mb[ndyn_rng_below(&r, NB)]++;
        for (int i = 0; i < NA; i++) a[i] = ma[i];
        for (int j = 0; j < NB; j++) b[j] = mb[j];
        rand_matrix(c, NA * NB, &r, 0, 5);
        if (rep == 2)
            for (int i = 0; i < NA * NB; i++) c[i] = floor(c[i]);
        static double big[TOT * TOT];
        int ri[TOT], ci[TOT], p = 0;
        for (int i = 0; i < NA; i++)
            for (int k = 0; k < ma[i]; k++) ri[p++] = i;
        p = 0;
        for (int j = 0; j < NB; j++)
            for (int k = 0; k < mb[j]; k++) ci[p++] = j;
        for (int i = 0; i < TOT; i++)
            for (int j = 0; j < TOT; j++) big[i * TOT + j] = c[ri[i] * NB + ci[j]];
        int map[TOT];
        double h;
        CHECK_OK(ndyn_hungarian(big, TOT, TOT, 0, map, &h));
        CHECK_OK(ndyn_ot_emd(a, NA, b, NB, c, plan, &total));
        CHECK_CLOSE(total, h, 1e-10, 1e-12);
        check_plan(plan, a, b, NA, NB, c, total, 1e-10);
        int nnz = 0;
        for (int i = 0; i < NA * NB; i++) nnz += plan[i] != 0;
        CHECK(nnz <= NA + NB - 1); /* a vertex of the transportation polytope */
    }
}

TEST(emd_matches_scipy_linprog)
{
    char path[512];
    snprintf(path, sizeof path, "%s/ot/lp_cases.npz", NDYN_TEST_FIXTURES);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(path, &ds));
    if (!ds) return;
    const ndyn_array *nc;
    CHECK_OK(ndyn_dataset_get(ds, "ncases", &nc));
    int ncases = (int)ndyn_array_get(nc, 0);
    CHECK(ncases >= 10);
    for (int c = 0; c < ncases; c++) {
        char name[64];
        const ndyn_array *a, *b, *cost, *val;
        snprintf(name, sizeof name, "c%d_a", c);
        CHECK_OK(ndyn_dataset_get(ds, name, &a));
        snprintf(name, sizeof name, "c%d_b", c);
        CHECK_OK(ndyn_dataset_get(ds, name, &b));
        snprintf(name, sizeof name, "c%d_cost", c);
        CHECK_OK(ndyn_dataset_get(ds, name, &cost));
        snprintf(name, sizeof name, "c%d_value", c);
        CHECK_OK(ndyn_dataset_get(ds, name, &val));
        size_t na = a->size, nb = b->size;
        CHECK(cost->size == na * nb);
        static double plan[64 * 64];
        double total;
        CHECK(na * nb <= 64 * 64);
        CHECK_OK(ndyn_ot_emd(a->data, na, b->data, nb, cost->data, plan, &total));
        CHECKF(fabs(total - ndyn_array_get(val, 0)) <= 1e-8 * (1 + fabs(total)), "case %d: %.15g vs LP %.15g",
               c, total, ndyn_array_get(val, 0));
        check_plan(plan, a->data, b->data, na, nb, cost->data, total, 1e-9);
    }
    ndyn_dataset_free(ds);
}

TEST(emd_degenerate_inputs)
{
    /* All costs equal: any plan is optimal; the value is that cost. */
    double c[12], plan[12], total;
    for (int i = 0; i < 12; i++) c[i] = 2.5;
    CHECK_OK(ndyn_ot_emd(NULL, 3, NULL, 4, c, plan, &total));
    CHECK_CLOSE(total, 2.5, 1e-12, 0);
    check_plan(plan, NULL, NULL, 3, 4, c, total, 1e-12);
    /* One point against many: the plan is forced. */
    double b[5] = {0.1, 0.2, 0.3, 0.15, 0.25}, c1[5] = {1, 2, 3, 4, 5}, p1[5];
    CHECK_OK(ndyn_ot_emd(NULL, 1, b, 5, c1, p1, &total));
    CHECK_CLOSE(total, 0.1 + 0.4 + 0.9 + 0.6 + 1.25, 1e-12, 0);
    /* Weights with a different total are rescaled when within 1e-6 ... */
    double a2[2] = {0.5, 0.5}, b2[2] = {0.5, 0.5 + 1e-9}, c2[4] = {0, 1, 1, 0}, p2[4];
    CHECK_OK(ndyn_ot_emd(a2, 2, b2, 2, c2, p2, &total));
    CHECK_CLOSE(total, 0.5e-9, 1e-15, 0); /* b rescaled: column 1 gets 0.5e-9 more of row 0 */
    /* ... and refused beyond. */
    double b3[2] = {0.5, 0.6};
    CHECK_FAILS(ndyn_ot_emd(a2, 2, b3, 2, c2, p2, &total), NDYN_EINVAL);
    double bn[2] = {1.2, -0.2};
    CHECK_FAILS(ndyn_ot_emd(a2, 2, bn, 2, c2, p2, &total), NDYN_EINVAL);
    double cn[4] = {0, NAN, 1, 0};
    CHECK_FAILS(ndyn_ot_emd(a2, 2, b2, 2, cn, p2, &total), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_ot_emd(NULL, 0, b2, 2, c2, p2, &total), NDYN_EINVAL);
    double z[2] = {0, 0};
    CHECK_FAILS(ndyn_ot_emd(z, 2, b2, 2, c2, p2, &total), NDYN_EINVAL);
    /* Plan may be NULL. */
    CHECK_OK(ndyn_ot_emd(NULL, 2, NULL, 2, c2, NULL, &total));
    CHECK_CLOSE(total, 0.0, 1e-15, 0);
}

TEST(sinkhorn_limits)
{
    enum { NA = 6, NB = 7 };
    ndyn_rng r;
    ndyn_rng_init(&r, 4, 0);
    double a[NA], b[NB], c[NA * NB], plan[NA * NB], exact;
    rand_matrix(a, NA, &r, 0.1, 1);
    rand_matrix(b, NB, &r, 0.1, 1);
    double sa = 0, sb = 0;
    for (int i = 0; i < NA; i++) sa += a[i];
    for (int j = 0; j < NB; j++) sb += b[j];
    for (int i = 0; i < NA; i++) a[i] /= sa;
    for (int j = 0; j < NB; j++) b[j] /= sb;
    rand_matrix(c, NA * NB, &r, 0, 1);
    CHECK_OK(ndyn_ot_emd(a, NA, b, NB, c, NULL, &exact));
    /* eps -> 0: the entropic cost tends to the exact one, monotonically here,
     * and the plans keep their marginals. */
    double prev = INFINITY;
    const double epss[] = {1.0, 0.1, 0.03, 0.01, 3e-3, 1e-3};
    for (size_t q = 0; q < sizeof epss / sizeof epss[0]; q++) {
        ndyn_sinkhorn_params p;
        ndyn_sinkhorn_params_default(&p, epss[q]);
        p.max_iter = 200000;
        p.tol = 1e-11;
        ndyn_sinkhorn_info info;
        double t;
        CHECK_OK(ndyn_ot_sinkhorn(a, NA, b, NB, c, &p, plan, &t, &info));
        CHECK(info.converged);
        check_plan(plan, a, b, NA, NB, c, t, 1e-10);
        double gap = t - exact;
        CHECKF(gap >= -1e-9, "eps %g: entropic cost %.12g below the exact optimum %.12g", epss[q], t, exact);
        CHECKF(gap <= prev + 1e-12, "eps %g: gap %.3g grew from %.3g", epss[q], gap, prev);
        prev = gap;
    }
    CHECKF(prev < 1e-4, "gap at eps 1e-3 = %.3g", prev);
    /* eps -> infinity: the independent coupling a b^T. */
    ndyn_sinkhorn_params p;
    ndyn_sinkhorn_params_default(&p, 1e6);
    double t;
    CHECK_OK(ndyn_ot_sinkhorn(a, NA, b, NB, c, &p, plan, &t, NULL));
    for (int i = 0; i < NA; i++)
        for (int j = 0; j < NB; j++) CHECK_CLOSE(plan[i * NB + j], a[i] * b[j], 1e-7, 0);
    /* Tiny eps with large costs stays finite (log domain). */
    for (int i = 0; i < NA * NB; i++) c[i] *= 1000;
    ndyn_sinkhorn_params_default(&p, 1e-2);
    p.max_iter = 50;
    CHECK_OK(ndyn_ot_sinkhorn(a, NA, b, NB, c, &p, plan, &t, NULL)); /* warns: not converged */
    CHECK(isfinite(t));
    ndyn_sinkhorn_params_default(&p, 0);
    CHECK_FAILS(ndyn_ot_sinkhorn(a, NA, b, NB, c, &p, plan, &t, NULL), NDYN_EINVAL);
    /* Zero weights: their rows/columns of the plan are 0, the rest as the
     * problem without them. */
    for (int i = 0; i < NA * NB; i++) c[i] /= 1000;
    double a0[NA], b0[NB], plan0[NA * NB], t0, tsub, psub[(NA - 1) * (NB - 1)], csub[(NA - 1) * (NB - 1)];
    memcpy(a0, a, sizeof a0);
    memcpy(b0, b, sizeof b0);
    double ra = a0[2], rb = b0[4];
    a0[2] = 0;
    b0[4] = 0;
    for (int i = 0; i < NA; i++) a0[i] /= 1 - ra;
    for (int j = 0; j < NB; j++) b0[j] /= 1 - rb;
    double as[NA - 1], bs[NB - 1];
    for (int i = 0, ii = 0; i < NA; i++) {
        if (i == 2) continue;
        as[ii] = a0[i];
        for (int j = 0, jj = 0; j < NB; j++) {
            if (j == 4) continue;
            csub[ii * (NB - 1) + jj++] = c[i * NB + j];
        }
        ii++;
    }
    for (int j = 0, jj = 0; j < NB; j++)
        if (j != 4) bs[jj++] = b0[j];
    ndyn_sinkhorn_params_default(&p, 0.05);
    CHECK_OK(ndyn_ot_sinkhorn(a0, NA, b0, NB, c, &p, plan0, &t0, NULL));
    CHECK_OK(ndyn_ot_sinkhorn(as, NA - 1, bs, NB - 1, csub, &p, psub, &tsub, NULL));
    CHECK_CLOSE(t0, tsub, 1e-12, 1e-9);
    for (int j = 0; j < NB; j++) CHECK(plan0[2 * NB + j] == 0);
    for (int i = 0; i < NA; i++) CHECK(plan0[i * NB + 4] == 0);
    check_plan(plan0, a0, b0, NA, NB, c, t0, 1e-9);
}

/* n points per condition; condition c is the base cloud shifted by shift[c]. */
static void shifted_clouds(double *x, int *cond, size_t n, size_t d, int nc, const double *shift,
                           ndyn_rng *r)
{
    double base[64 * 4];
    for (size_t i = 0; i < n * d; i++) base[i] = ndyn_rng_normal(r);
    for (int c = 0; c < nc; c++)
        for (size_t i = 0; i < n; i++) {
            cond[(size_t)c * n + i] = c;
            for (size_t j = 0; j < d; j++) x[((size_t)c * n + i) * d + j] = base[i * d + j] + shift[c * d + j];
        }
}

TEST(condition_distances_of_translates)
{
    /* W1 between a measure and its translate by t is |t| (the shift is a
     * transport of cost |t|; the 1-Lipschitz potential <x, t/|t|> shows no
     * plan does better). */
    enum { N = 40, D = 3, NC = 4 };
    const double shift[NC * D] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 4, 0};
    static double x[NC * N * D];
    int cond[NC * N];
    ndyn_rng r;
    ndyn_rng_init(&r, 5, 0);
    shifted_clouds(x, cond, N, D, NC, shift, &r);
    double dist[NC * NC];
    CHECK_OK(ndyn_ot_condition_distances(x, cond, NC * N, D, NC, NULL, dist));
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) {
            double t = 0;
            for (int k = 0; k < D; k++) t += pow(shift[i * D + k] - shift[j * D + k], 2);
            CHECK_CLOSE(dist[i * NC + j], sqrt(t), 1e-10, 0);
            CHECK(dist[i * NC + j] == dist[j * NC + i]);
        }
    for (int i = 0; i < NC; i++) CHECK(dist[i * NC + i] == 0);
    /* Sinkhorn variant: close to exact for small eps. */
    ndyn_ot_params p;
    ndyn_ot_params_default(&p);
    p.sinkhorn = 1;
    p.sk.eps = 0.05;
    p.sk.tol = 1e-6;
    double ds[NC * NC];
    CHECK_OK(ndyn_ot_condition_distances(x, cond, NC * N, D, NC, &p, ds));
    for (int i = 0; i < NC * NC; i++) CHECK_CLOSE(ds[i], dist[i], 0.05, 0.02);
    /* One condition: [[0]]. */
    double one;
    CHECK_OK(ndyn_ot_condition_distances(x, cond, N, D, 1, NULL, &one));
    CHECK(one == 0);
    /* Errors: an empty condition, labels out of range, NaN. */
    CHECK_FAILS(ndyn_ot_condition_distances(x, cond, N, D, 2, NULL, dist), NDYN_EINVAL);
    CHECK_FAILS(ndyn_ot_condition_distances(x, cond, 2 * N, D, 1, NULL, dist), NDYN_EINVAL);
    CHECK_FAILS(ndyn_ot_condition_distances(x, cond, N, D, 0, NULL, dist), NDYN_EINVAL);
    x[5] = NAN;
    CHECK_FAILS(ndyn_ot_condition_distances(x, cond, N, D, 1, NULL, dist), NDYN_ENONFINITE);
}

TEST(condition_distances_unequal_sizes_vs_hungarian)
{
    /* Conditions of 12 and 18 points: uniform weights 1/12 and 1/18 are
     * integer masses 3 and 2 out of 36, so the EMD equals the assignment of
     * rows repeated 3 times to columns repeated twice, divided by 36. */
    enum { NA = 12, NB = 18, D = 2, T = 36 };
    ndyn_rng r;
    ndyn_rng_init(&r, 6, 0);
    double x[(NA + NB) * D];
    int cond[NA + NB];
    for (int i = 0; i < (NA + NB) * D; i++) x[i] = ndyn_rng_normal(&r);
    for (int i = 0; i < NA + NB; i++) cond[i] = (i % 5 < 2) ? 0 : 1; /* interleaved: 12 and 18 */
    int ia[NA], ib[NB], pa = 0, pb = 0;
    for (int i = 0; i < NA + NB; i++) {
        if (cond[i] == 0) ia[pa++] = i;
        else ib[pb++] = i;
    }
    CHECK(pa == NA && pb == NB);
    static double big[T * T];
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) {
            const double *u = x + ia[i / 3] * D, *v = x + ib[j / 2] * D;
            big[i * T + j] = sqrt(pow(u[0] - v[0], 2) + pow(u[1] - v[1], 2));
        }
    int map[T];
    double h, dist[4];
    CHECK_OK(ndyn_hungarian(big, T, T, 0, map, &h));
    CHECK_OK(ndyn_ot_condition_distances(x, cond, NA + NB, D, 2, NULL, dist));
    CHECK_CLOSE(dist[1], h / T, 1e-12, 1e-12);
    CHECK(dist[2] == dist[1] && dist[0] == 0 && dist[3] == 0);
}

TEST(cluster_distances)
{
    /* With as many clusters as distinct points, each histogram is the
     * condition's empirical measure and the cluster distance equals the
     * exact distance between conditions. */
    enum { N = 10, D = 2, NC = 3, K = N };
    ndyn_rng r;
    ndyn_rng_init(&r, 7, 0);
    double pts[N * D];
    for (int i = 0; i < N * D; i++) pts[i] = 3 * ndyn_rng_normal(&r);
    /* Condition c holds a random multiset of the points, 12 each. */
    enum { M = 12 };
    double x[NC * M * D];
    int cond[NC * M];
    for (int c = 0; c < NC; c++)
        for (int i = 0; i < M; i++) {
            int q = i < N && c == 0 ? i : (int)ndyn_rng_below(&r, N); /* condition 0 uses every point */
            cond[c * M + i] = c;
            x[(c * M + i) * D] = pts[q * D];
            x[(c * M + i) * D + 1] = pts[q * D + 1];
        }
    ndyn_kmeans_params km;
    ndyn_kmeans_params_default(&km, K);
    double dist[NC * NC], exact[NC * NC], hist[NC * K], cen[K * D];
    static double gamma[NC * NC * K * K];
    int lab[NC * M];
    CHECK_OK(ndyn_ot_condition_distances(x, cond, NC * M, D, NC, NULL, exact));
    CHECK_OK(ndyn_ot_cluster_distances(x, cond, NC * M, D, NC, &km, NULL, dist, gamma, cen, lab, hist));
    for (int i = 0; i < NC * NC; i++) CHECK_CLOSE(dist[i], exact[i], 1e-10, 1e-10);
    for (int c = 0; c < NC; c++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += hist[c * K + k];
        CHECK_CLOSE(s, 1.0, 1e-12, 0);
    }
    /* Plans: marginals are the histograms, cost is the distance, transposes. */
    double cost[K * K];
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++)
            cost[a * K + b] = sqrt(pow(cen[a * D] - cen[b * D], 2) + pow(cen[a * D + 1] - cen[b * D + 1], 2));
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) {
            const double *g = gamma + (i * NC + j) * K * K;
            check_plan(g, hist + i * K, hist + j * K, K, K, cost, dist[i * NC + j], 1e-12);
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++) CHECK(g[a * K + b] == gamma[(j * NC + i) * K * K + b * K + a]);
        }
    /* One cluster: every histogram is [1], all distances 0. */
    ndyn_kmeans_params_default(&km, 1);
    CHECK_OK(ndyn_ot_cluster_distances(x, cond, NC * M, D, NC, &km, NULL, dist, NULL, NULL, NULL, NULL));
    for (int i = 0; i < NC * NC; i++) CHECK(dist[i] == 0);
    /* Single condition: [[0]]. */
    ndyn_kmeans_params_default(&km, 3);
    double one, g1[9];
    CHECK_OK(ndyn_ot_cluster_distances(x, cond, M, D, 1, &km, NULL, &one, g1, NULL, NULL, NULL));
    CHECK(one == 0);
    ndyn_kmeans_params_default(&km, 1000);
    CHECK_FAILS(ndyn_ot_cluster_distances(x, cond, M, D, 1, &km, NULL, &one, NULL, NULL, NULL, NULL),
                NDYN_EINVAL);
}

RUN_TESTS(T(emd_equals_assignment_enumeration), T(emd_equals_hungarian),
          T(emd_scale_invariant), T(emd_integer_weights_equal_expanded_assignment), T(emd_matches_scipy_linprog),
          T(emd_degenerate_inputs), T(sinkhorn_limits), T(condition_distances_of_translates),
          T(condition_distances_unequal_sizes_vs_hungarian), T(cluster_distances))
