/* kNN search, regression and classification against a brute-force
 * reference written here (every distance computed directly, then sorted). */
#include "test.h"

#include "ndyn/analysis.h"

static double dist_ref(const double *a, const double *b, size_t d, ndyn_distance m)
{
    if (m == NDYN_DIST_EUCLIDEAN) {
        double s = 0;
        for (size_t j = 0; j < d; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
        return sqrt(s);
    }
    double ab = 0, aa = 0, bb = 0;
    for (size_t j = 0; j < d; j++) {
        ab += a[j] * b[j];
        aa += a[j] * a[j];
        bb += b[j] * b[j];
    }
    if (aa == 0 || bb == 0) return 1.0;
    return 1.0 - ab / sqrt(aa * bb);
}

/* Brute-force: indices of the k nearest, ties to the lower index (selection sort). */
static void brute(const double *ref, size_t nr, const double *q, size_t d, size_t k, ndyn_distance m,
                  size_t *idx, double *dd)
{
    double *all = malloc(nr * sizeof *all);
    char *used = calloc(nr, 1);
    for (size_t j = 0; j < nr; j++) all[j] = dist_ref(q, ref + j * d, d, m);
    for (size_t c = 0; c < k; c++) {
        size_t best = nr;
        for (size_t j = 0; j < nr; j++)
            if (!used[j] && (best == nr || all[j] < all[best])) best = j;
        used[best] = 1;
        idx[c] = best;
        dd[c] = all[best];
    }
    free(all);
    free(used);
}

TEST(knn_search_random_matches_brute_force)
{
    enum { NR = 300, NQ = 70, D = 4, K = 7 };
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    static double ref[NR * D], q[NQ * D];
    for (size_t i = 0; i < NR * D; i++) ref[i] = ndyn_rng_normal(&r);
    for (size_t i = 0; i < NQ * D; i++) q[i] = ndyn_rng_normal(&r);
    for (int m = 0; m < 2; m++) {
        static size_t idx[NQ * K], bi[K];
        static double dd[NQ * K], bd[K];
        CHECK_OK(ndyn_knn_search(ref, NR, q, NQ, D, K, (ndyn_distance)m, idx, dd));
        for (size_t i = 0; i < NQ; i++) {
            brute(ref, NR, q + i * D, D, K, (ndyn_distance)m, bi, bd);
            for (size_t c = 0; c < K; c++) {
                CHECKF(idx[i * K + c] == bi[c], "metric %d query %zu rank %zu: %zu vs %zu", m, i, c,
                       idx[i * K + c], bi[c]);
                CHECK_CLOSE(dd[i * K + c], bd[c], 1e-9, 1e-9);
            }
        }
    }
}

TEST(knn_search_ties_go_to_lower_index)
{
    /* Integer grid: every distance is exact, many ties. The query (0,0) has
     * four points at distance 1: indices 1, 3, 5, 7 (duplicates included). */
    const double ref[9 * 2] = {2, 2, 1, 0, 3, 3, 0, 1, 5, 5, -1, 0, 4, 4, 0, -1, 1, 0};
    const double q[2] = {0, 0};
    size_t idx[5];
    double dd[5];
    CHECK_OK(ndyn_knn_search(ref, 9, q, 1, 2, 5, NDYN_DIST_EUCLIDEAN, idx, dd));
    CHECK(idx[0] == 1 && idx[1] == 3 && idx[2] == 5 && idx[3] == 7 && idx[4] == 8);
    CHECK(dd[0] == 1.0 && dd[4] == 1.0);
    /* Cosine: an all-zero row is at distance 1 from everything. */
    const double ref2[3 * 2] = {0, 0, 1, 0, -1, 0};
    const double q2[2] = {2, 0};
    CHECK_OK(ndyn_knn_search(ref2, 3, q2, 1, 2, 3, NDYN_DIST_COSINE, idx, dd));
    CHECK(idx[0] == 1 && idx[1] == 0 && idx[2] == 2);
    CHECK_CLOSE(dd[0], 0.0, 1e-15, 0);
    CHECK_CLOSE(dd[1], 1.0, 1e-15, 0);
    CHECK_CLOSE(dd[2], 2.0, 1e-15, 0);
}

TEST(knn_regress_and_classify_match_brute_force)
{
    enum { NR = 120, NQ = 40, D = 3, K = 5, C = 3 };
    ndyn_rng r;
    ndyn_rng_init(&r, 4, 0);
    static double xtr[NR * D], ytr[NR * 2], xq[NQ * D], yh[NQ * 2];
    static int ltr[NR], pred[NQ];
    for (size_t i = 0; i < NR; i++) {
        for (size_t j = 0; j < D; j++) xtr[i * D + j] = ndyn_rng_normal(&r);
        ytr[i * 2] = xtr[i * D] + 0.1 * ndyn_rng_normal(&r);
        ytr[i * 2 + 1] = xtr[i * D + 1] * xtr[i * D + 2];
        ltr[i] = (int)ndyn_rng_below(&r, C);
    }
    for (size_t i = 0; i < NQ * D; i++) xq[i] = ndyn_rng_normal(&r);
    for (int m = 0; m < 2; m++) {
        CHECK_OK(ndyn_knn_regress(xtr, ytr, NR, D, 2, xq, NQ, K, (ndyn_distance)m, yh));
        CHECK_OK(ndyn_knn_classify(xtr, ltr, NR, D, C, xq, NQ, K, (ndyn_distance)m, pred));
        for (size_t i = 0; i < NQ; i++) {
            size_t bi[K];
            double bd[K], m0 = 0, m1 = 0;
            int votes[C] = {0};
            brute(xtr, NR, xq + i * D, D, K, (ndyn_distance)m, bi, bd);
            for (size_t c = 0; c < K; c++) {
                m0 += ytr[bi[c] * 2] / K;
                m1 += ytr[bi[c] * 2 + 1] / K;
                votes[ltr[bi[c]]]++;
            }
            CHECK_CLOSE(yh[i * 2], m0, 1e-12, 1e-12);
            CHECK_CLOSE(yh[i * 2 + 1], m1, 1e-12, 1e-12);
            int best = 0;
            for (int l = 1; l < C; l++)
                if (votes[l] > votes[best]) best = l;
            CHECK(pred[i] == best);
        }
    }
}

TEST(knn_classify_tied_vote_goes_to_smallest_label)
{
    /* Four training points at distances 1, 2, 3, 4 with labels 2, 1, 1, 2:
     * k = 4 ties 2 votes each -> label 1. k = 1 -> label 2. */
    const double xtr[4] = {1, 2, 3, 4};
    const int ltr[4] = {2, 1, 1, 2};
    const double q[1] = {0};
    int p;
    CHECK_OK(ndyn_knn_classify(xtr, ltr, 4, 1, 3, q, 1, 4, NDYN_DIST_EUCLIDEAN, &p));
    CHECK(p == 1);
    CHECK_OK(ndyn_knn_classify(xtr, ltr, 4, 1, 3, q, 1, 1, NDYN_DIST_EUCLIDEAN, &p));
    CHECK(p == 2);
}

TEST(knn_bad_input)
{
    const double x[4] = {1, 2, 3, NAN};
    size_t idx[4];
    CHECK_FAILS(ndyn_knn_search(x, 3, x, 1, 1, 4, NDYN_DIST_EUCLIDEAN, idx, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_knn_search(x, 3, x, 1, 1, 0, NDYN_DIST_EUCLIDEAN, idx, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_knn_search(x, 4, x, 1, 1, 1, NDYN_DIST_EUCLIDEAN, idx, NULL), NDYN_ENONFINITE);
    const int bad[3] = {0, 5, 1};
    int p;
    CHECK_FAILS(ndyn_knn_classify(x, bad, 3, 1, 2, x, 1, 1, NDYN_DIST_COSINE, &p), NDYN_EINVAL);
}

RUN_TESTS(T(knn_search_random_matches_brute_force), T(knn_search_ties_go_to_lower_index),
          T(knn_regress_and_classify_match_brute_force), T(knn_classify_tied_vote_goes_to_smallest_label),
          T(knn_bad_input))
