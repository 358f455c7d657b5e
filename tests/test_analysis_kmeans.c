/* k-means: planted clusters recovered, Lloyd fixed point, global optimum on
 * tiny problems by brute force, seeding and thread-count independence. */
#include "test.h"

#include <omp.h>

#include "ndyn/analysis.h"

/* n points around 3 planted centres in 2-D, sd 0.1. */
static void blobs(double *x, int *truth, size_t n, uint64_t seed)
{
    const double c[3][2] = {{0, 0}, {5, 0}, {0, 5}};
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        int k = (int)(i % 3);
        truth[i] = k;
        x[2 * i] = c[k][0] + 0.1 * ndyn_rng_normal(&r);
        x[2 * i + 1] = c[k][1] + 0.1 * ndyn_rng_normal(&r);
    }
}

TEST(kmeans_planted)
{
    enum { N = 300 };
    double x[2 * N], cen[6], in;
    int truth[N], lab[N], map[3];
    blobs(x, truth, N, 1);
    ndyn_kmeans_params p;
    ndyn_kmeans_params_default(&p, 3);
    CHECK_OK(ndyn_kmeans(x, N, 2, &p, cen, lab, &in));
    double acc;
    CHECK_OK(ndyn_match_labels(lab, truth, N, 3, 3, NDYN_MATCH_ACCURACY, map, &acc));
    CHECK(acc == 1.0);
    /* Each centre is the mean of its blob: within 4 sd/sqrt(100) of the planted centre. */
    const double c[3][2] = {{0, 0}, {5, 0}, {0, 5}};
    for (int s = 0; s < 3; s++) {
        int t = map[s];
        CHECK_CLOSE(cen[2 * s], c[t][0], 0.04, 0);
        CHECK_CLOSE(cen[2 * s + 1], c[t][1], 0.04, 0);
    }
}

TEST(kmeans_fixed_point)
{
    /* Unstructured data: the result must still be a Lloyd fixed point: each
     * label is the nearest centre, each centre the mean of its points, and
     * the inertia the sum of squared distances. */
    enum { N = 500, D = 3, K = 7 };
    static double x[N * D];
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    for (size_t i = 0; i < N * D; i++) x[i] = ndyn_rng_normal(&r);
    double cen[K * D], in;
    int lab[N], lab2[N];
    ndyn_kmeans_params p;
    ndyn_kmeans_params_default(&p, K);
    p.tol = 0; /* run to convergence of the labels */
    CHECK_OK(ndyn_kmeans(x, N, D, &p, cen, lab, &in));
    CHECK_OK(ndyn_kmeans_predict(cen, K, D, x, N, lab2));
    int same = 1;
    for (int i = 0; i < N; i++) same &= lab[i] == lab2[i];
    CHECK(same);
    double s = 0, m[K * D] = {0};
    int cnt[K] = {0};
    for (int i = 0; i < N; i++) {
        cnt[lab[i]]++;
        for (int j = 0; j < D; j++) {
            m[lab[i] * D + j] += x[i * D + j];
            double u = x[i * D + j] - cen[lab[i] * D + j];
            s += u * u;
        }
    }
    CHECK_CLOSE(in, s, 1e-9, 1e-12);
    for (int k = 0; k < K; k++) {
        CHECK(cnt[k] > 0);
        for (int j = 0; j < D; j++) CHECK_CLOSE(cen[k * D + j], m[k * D + j] / cnt[k], 1e-12, 0);
    }
}

TEST(kmeans_global_optimum_tiny)
{
    /* n = 9 points in 1-D, k = 3: brute force over all 3^9 labellings. */
    const double x[9] = {0.0, 0.3, 1.1, 4.0, 4.2, 5.1, 9.0, 9.9, 10.5};
    double best = INFINITY;
    for (int code = 0; code < 19683; code++) {
        int c = code, lab[9];
        double s[3] = {0}, q[3] = {0};
        int n[3] = {0};
        for (int i = 0; i < 9; i++) {
            lab[i] = c % 3;
            c /= 3;
            s[lab[i]] += x[i];
            q[lab[i]] += x[i] * x[i];
            n[lab[i]]++;
        }
        if (!n[0] || !n[1] || !n[2]) continue;
        double in = 0;
        for (int k = 0; k < 3; k++) in += q[k] - s[k] * s[k] / n[k];
        if (in < best) best = in;
    }
    ndyn_kmeans_params p;
    ndyn_kmeans_params_default(&p, 3);
    double in;
    CHECK_OK(ndyn_kmeans(x, 9, 1, &p, NULL, NULL, &in));
    CHECK_CLOSE(in, best, 1e-12, 1e-12);
}

TEST(kmeans_seeded_and_thread_independent)
{
    enum { N = 2000, D = 4, K = 10 };
    static double x[N * D];
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    for (size_t i = 0; i < N * D; i++) x[i] = ndyn_rng_normal(&r);
    ndyn_kmeans_params p;
    ndyn_kmeans_params_default(&p, K);
    p.seed = 42;
    static double c1[K * D], c2[K * D];
    static int l1[N], l2[N];
    double i1, i2;
    omp_set_num_threads(1);
    CHECK_OK(ndyn_kmeans(x, N, D, &p, c1, l1, &i1));
    omp_set_num_threads(2);
    CHECK_OK(ndyn_kmeans(x, N, D, &p, c2, l2, &i2));
    CHECK(i1 == i2);
    CHECK(memcmp(c1, c2, sizeof c1) == 0);
    CHECK(memcmp(l1, l2, sizeof l1) == 0);
    /* n_init restarts never do worse than the first restart alone. */
    ndyn_kmeans_params p1 = p;
    p1.n_init = 1;
    double i3;
    CHECK_OK(ndyn_kmeans(x, N, D, &p1, NULL, NULL, &i3));
    CHECK(i1 <= i3);
}

TEST(kmeans_duplicates_and_errors)
{
    double x[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    ndyn_kmeans_params p;
    ndyn_kmeans_params_default(&p, 2);
    double in;
    int lab[5];
    CHECK_OK(ndyn_kmeans(x, 5, 2, &p, NULL, lab, &in));
    CHECK(in == 0.0);
    p.k = 6;
    CHECK_FAILS(ndyn_kmeans(x, 5, 2, &p, NULL, lab, &in), NDYN_EINVAL);
    p.k = 2;
    x[3] = NAN;
    CHECK_FAILS(ndyn_kmeans(x, 5, 2, &p, NULL, lab, &in), NDYN_ENONFINITE);
}

RUN_TESTS(T(kmeans_planted), T(kmeans_fixed_point), T(kmeans_global_optimum_tiny),
          T(kmeans_seeded_and_thread_independent), T(kmeans_duplicates_and_errors))
