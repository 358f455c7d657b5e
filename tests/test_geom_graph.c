/* KD-tree queries, proximity graphs, components and farthest-point sampling
 * against brute-force O(n^2) computations. */
#include "test.h"

#include "ndyn/geom.h"

static double bdist(const double *X, size_t D, size_t i, size_t j)
{
    double s = 0;
    for (size_t d = 0; d < D; d++) s += (X[i * D + d] - X[j * D + d]) * (X[i * D + d] - X[j * D + d]);
    return sqrt(s);
}

static double *cloud(size_t n, size_t D, uint64_t seed)
{
    double *X = malloc(n * D * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n * D; i++) X[i] = ndyn_rng_normal(&r);
    return X;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* rho_i brute force: k-th smallest distance to another point */
static void brute_rho(const double *X, size_t n, size_t D, int k, double *rho)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) {
        size_t m = 0;
        for (size_t j = 0; j < n; j++) if (j != i) d[m++] = bdist(X, D, i, j);
        qsort(d, m, sizeof *d, cmpd);
        rho[i] = d[k - 1];
    }
    free(d);
}

TEST(kdtree_knn_radius_exact)
{
    size_t n = 700, D = 5, k = 7;
    double *X = cloud(n, D, 1);
    ndyn_kdtree *t;
    CHECK_OK(ndyn_kdtree_build(X, n, D, &t));
    int64_t *idx = malloc(n * k * sizeof *idx);
    double *dist = malloc(n * k * sizeof *dist), *rho = malloc(n * sizeof *rho);
    CHECK_OK(ndyn_kdtree_knn_all(t, k, idx, dist));
    brute_rho(X, n, D, (int)k, rho);
    for (size_t i = 0; i < n; i++) {
        CHECK_CLOSE(dist[i * k + k - 1], rho[i], 0, 1e-15);
        for (size_t q = 0; q < k; q++) {
            CHECK(idx[i * k + q] != (int64_t)i);
            CHECK_CLOSE(dist[i * k + q], bdist(X, D, i, (size_t)idx[i * k + q]), 0, 1e-15);
            if (q) CHECK(dist[i * k + q] >= dist[i * k + q - 1]);
        }
    }
    /* radius: count equals brute force */
    for (size_t i = 0; i < n; i += 37) {
        int64_t *ri; double *rd; size_t cnt, want = 0;
        CHECK_OK(ndyn_kdtree_radius(t, X + i * D, 1.5, &ri, &rd, &cnt));
        for (size_t j = 0; j < n; j++) want += bdist(X, D, i, j) <= 1.5;
        CHECK(cnt == want);
        for (size_t q = 0; q < cnt; q++) CHECK(bdist(X, D, i, (size_t)ri[q]) <= 1.5);
        free(ri); free(rd);
    }
    CHECK_FAILS(ndyn_kdtree_knn(t, X, n, 0, idx, dist), NDYN_EINVAL);
    ndyn_kdtree_free(t);
    free(X); free(idx); free(dist); free(rho);
}

/* dense CkNN: the reference's ratio test, strict */
static void check_cknn(size_t n, size_t D, int k, double delta, uint64_t seed)
{
    double *X = cloud(n, D, seed), *rho = malloc(n * sizeof *rho);
    brute_rho(X, n, D, k, rho);
    ndyn_csr G;
    CHECK_OK(ndyn_geom_cknn(X, n, D, k, delta, &G));
    CHECK_OK(ndyn_csr_check(&G, "cknn"));
    size_t edges = 0, bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = i != j && bdist(X, D, i, j) / sqrt(rho[i] * rho[j]) < delta;
            double v = ndyn_csr_get(&G, i, j);
            int have = v != 0;
            if (want != have) bad++;
            if (have) { edges++; CHECK_CLOSE(v, 1.0 / bdist(X, D, i, j), 0, 1e-14); }
        }
    CHECKF(bad == 0, "%zu entries differ from the dense construction (n %zu, k %d, delta %g)", bad, n, k, delta);
    CHECK(edges == G.nnz);
    /* (isolated nodes are possible in CkNN; ndyn_geom_prepare rejects them) */
    ndyn_csr_free(&G);
    free(X); free(rho);
}

TEST(cknn_equals_dense)
{
    check_cknn(300, 2, 5, 1.0, 2);
    check_cknn(400, 3, 10, 1.5, 3);
    check_cknn(250, 6, 8, 0.8, 4);
    check_cknn(200, 3, 20, 2.0, 5);
}

TEST(knn_and_radius_graphs)
{
    size_t n = 300, D = 3;
    int k = 6;
    double *X = cloud(n, D, 9), *rho = malloc(n * sizeof *rho);
    brute_rho(X, n, D, k, rho);
    ndyn_csr G;
    CHECK_OK(ndyn_geom_knn_graph(X, n, D, k, &G));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j) { bad += ndyn_csr_get(&G, i, j) != 0; continue; }
            double d = bdist(X, D, i, j);
            int want = d <= rho[i] || d <= rho[j];
            bad += want != (ndyn_csr_get(&G, i, j) != 0);
        }
    CHECK(bad == 0);
    ndyn_csr_free(&G);
    CHECK_OK(ndyn_geom_radius_graph(X, n, D, 0.9, &G));
    bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = i != j && bdist(X, D, i, j) <= 0.9;
            bad += want != (ndyn_csr_get(&G, i, j) != 0);
        }
    CHECK(bad == 0);
    ndyn_csr_free(&G);
    free(X); free(rho);
}

TEST(components_and_duplicates)
{
    /* two far clusters: CkNN graph has 2 components */
    size_t n = 200, D = 2;
    double *X = malloc(n * D * sizeof *X);
    for (size_t i = 0; i < 100; i++) { /* two 10 x 10 jittered grids far apart */
        X[i * D] = (double)(i % 10) + 0.01 * sin((double)i);
        X[i * D + 1] = (double)(i / 10) + 0.01 * cos((double)i);
        X[(i + 100) * D] = X[i * D] + 100;
        X[(i + 100) * D + 1] = X[i * D + 1];
    }
    ndyn_csr G;
    CHECK_OK(ndyn_geom_cknn(X, n, D, 5, 1.0, &G));
    int32_t comp[200];
    size_t nc;
    CHECK_OK(ndyn_geom_components(&G, comp, &nc));
    CHECK(nc == 2);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) wrong += comp[i] != (i < 100 ? 0 : 1);
    CHECK(wrong == 0);
    ndyn_csr_free(&G);
    /* duplicate points are rejected with a message naming them */
    X[5 * D] = X[7 * D]; X[5 * D + 1] = X[7 * D + 1];
    CHECK_FAILS(ndyn_geom_cknn(X, n, D, 5, 1.0, &G), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "identical") != NULL);
    CHECK_FAILS(ndyn_geom_knn_graph(X, n, D, 5, &G), NDYN_EINVAL);
    CHECK_FAILS(ndyn_geom_radius_graph(X, n, D, 1.0, &G), NDYN_EINVAL);
    /* fewer points than k + 1, NaN */
    CHECK_FAILS(ndyn_geom_cknn(X, 5, D, 5, 1.0, &G), NDYN_EINVAL);
    X[3] = NAN;
    CHECK_FAILS(ndyn_geom_cknn(X, n, D, 5, 1.0, &G), NDYN_ENONFINITE);
    free(X);
}

/* naive FPS with the same diameter: reference rule of spec §3 */
TEST(fps_matches_naive)
{
    size_t n = 800, D = 3;
    double *X = cloud(n, D, 13);
    size_t *sel, nsel;
    double diam;
    CHECK_OK(ndyn_geom_fps(X, n, D, 0.2, 17, &sel, &nsel, &diam));
    double true_diam = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) if (bdist(X, D, i, j) > true_diam) true_diam = bdist(X, D, i, j);
    CHECK(diam <= true_diam * (1 + 1e-15) && diam >= 0.5 * true_diam);
    /* naive */
    double *ds = malloc(n * sizeof *ds);
    char *in = calloc(n, 1);
    for (size_t i = 0; i < n; i++) ds[i] = INFINITY;
    size_t cur = 17, m = 1;
    in[cur] = 1;
    for (;;) {
        for (size_t i = 0; i < n; i++) { double d = bdist(X, D, cur, i); if (d < ds[i]) ds[i] = d; }
        size_t b = 0;
        for (size_t i = 1; i < n; i++) if (ds[i] > ds[b]) b = i;
        if (ds[b] / diam < 0.2) break;
        in[b] = 1; m++; cur = b;
    }
    CHECK(m == nsel);
    for (size_t q = 0; q < nsel; q++) { CHECK(in[sel[q]]); if (q) CHECK(sel[q] > sel[q - 1]); }
    /* covering radius below spacing * diameter */
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        for (size_t q = 0; q < nsel; q++) { double d = bdist(X, D, i, sel[q]); if (d < best) best = d; }
        CHECK(best < 0.2 * diam);
    }
    free(ds); free(in); free(sel); free(X);
}

RUN_TESTS(T(kdtree_knn_radius_exact), T(cknn_equals_dense), T(knn_and_radius_graphs),
          T(components_and_duplicates), T(fps_matches_naive))
