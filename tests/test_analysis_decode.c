/* Cross-validated decoders against the same steps done by hand fold by fold,
 * class decoding on separable toy data, the handling of TRAIN/SKIP rows, and
 * consistency scores on exact linear maps and hand-computed alignments. */
#include "test.h"

#include "ndyn/analysis.h"

enum { N = 90, D = 3 };

static void toy(double *x, double *y, double *cls)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    for (size_t i = 0; i < N; i++) {
        int c = (int)(i % 3);
        for (size_t j = 0; j < D; j++) x[i * D + j] = ndyn_rng_normal(&r) * 0.3 + (j == (size_t)c ? 4.0 : 0.0);
        y[i] = 2.0 * x[i * D] - x[i * D + 1] + 0.05 * ndyn_rng_normal(&r);
        cls[i] = c;
    }
}

TEST(decode_linear_equals_per_fold_fit)
{
    double x[N * D], y[N], cls[N], pred[N], lam[3];
    int fold[N];
    toy(x, y, cls);
    for (size_t i = 0; i < N; i++) fold[i] = (int)(i / 30);
    fold[5] = NDYN_FOLD_TRAIN;
    fold[6] = NDYN_FOLD_SKIP;
    ndyn_decoder_params p;
    ndyn_decoder_params_default(&p, NDYN_DECODER_LINEAR);
    p.lambda = 0.5;
    CHECK_OK(ndyn_decode_cv(x, N, D, y, 1, fold, 3, &p, pred, lam));
    CHECK(isnan(pred[5]) && isnan(pred[6]));
    for (int f = 0; f < 3; f++) {
        CHECK(lam[f] == 0.5);
        double xt[N * D], yt[N];
        size_t nt = 0;
        for (size_t i = 0; i < N; i++)
            if (fold[i] != f && fold[i] != NDYN_FOLD_SKIP) {
                memcpy(xt + nt * D, x + i * D, sizeof(double) * D);
                yt[nt++] = y[i];
            }
        ndyn_linreg *m = NULL;
        CHECK_OK(ndyn_linreg_fit(xt, yt, nt, D, 1, 0.5, &m));
        if (!m) return;
        for (size_t i = 0; i < N; i++)
            if (fold[i] == f) {
                double e;
                CHECK_OK(ndyn_linreg_predict(m, x + i * D, 1, &e));
                CHECK_CLOSE(pred[i], e, 1e-12, 1e-12);
            }
        ndyn_linreg_free(m);
    }
    /* Inner CV: a penalty is chosen per fold from the default grid. */
    p.lambda = -1;
    CHECK_OK(ndyn_decode_cv(x, N, D, y, 1, fold, 3, &p, pred, lam));
    for (int f = 0; f < 3; f++) CHECK(lam[f] >= 0);
    double r2, yy[N], pp[N];
    size_t m = 0;
    for (size_t i = 0; i < N; i++)
        if (!isnan(pred[i])) {
            yy[m] = y[i];
            pp[m++] = pred[i];
        }
    CHECK(m == N - 2);
    CHECK_OK(ndyn_metric_r2(yy, pp, m, 1, NULL, &r2));
    CHECK(r2 > 0.99);
}

TEST(decode_knn_equals_knn_regress_and_classifies)
{
    double x[N * D], y[N], cls[N], pred[N];
    int fold[N];
    toy(x, y, cls);
    for (size_t i = 0; i < N; i++) fold[i] = i < 72 ? NDYN_FOLD_TRAIN : 0; /* time split 80/20 */
    ndyn_decoder_params p;
    ndyn_decoder_params_default(&p, NDYN_DECODER_KNN);
    CHECK(p.k == 36 && p.dist == NDYN_DIST_COSINE);
    p.k = 5;
    CHECK_OK(ndyn_decode_cv(x, N, D, y, 1, fold, 1, &p, pred, NULL));
    double ref[N - 72];
    CHECK_OK(ndyn_knn_regress(x, y, 72, D, 1, x + 72 * D, N - 72, 5, NDYN_DIST_COSINE, ref));
    for (size_t i = 0; i < 72; i++) CHECK(isnan(pred[i]));
    for (size_t i = 72; i < N; i++) CHECK_CLOSE(pred[i], ref[i - 72], 1e-12, 0);
    /* Classes: well separated clusters, both decoders get them all. */
    for (int kind = 0; kind < 3; kind += 2) {
        ndyn_decoder_params_default(&p, (ndyn_decoder_kind)kind);
        p.classify = 1;
        p.k = 5;
        for (size_t i = 0; i < N; i++) fold[i] = (int)(i % 5);
        CHECK_OK(ndyn_decode_cv(x, N, D, cls, 1, fold, 5, &p, pred, NULL));
        int t[N], q[N];
        for (size_t i = 0; i < N; i++) {
            t[i] = (int)cls[i];
            q[i] = (int)pred[i];
        }
        double ba;
        CHECK_OK(ndyn_metric_balanced_accuracy(t, q, N, 3, &ba));
        CHECK(ba == 1.0);
    }
}

TEST(decode_bad_input)
{
    double x[N * D], y[N], cls[N], pred[N];
    int fold[N];
    toy(x, y, cls);
    for (size_t i = 0; i < N; i++) fold[i] = (int)(i % 2);
    ndyn_decoder_params p;
    ndyn_decoder_params_default(&p, NDYN_DECODER_KNN);
    p.k = 100;
    CHECK_FAILS(ndyn_decode_cv(x, N, D, y, 1, fold, 2, &p, pred, NULL), NDYN_EINVAL);
    p.k = 3;
    fold[0] = 7;
    CHECK_FAILS(ndyn_decode_cv(x, N, D, y, 1, fold, 2, &p, pred, NULL), NDYN_EINVAL);
    fold[0] = 0;
    x[4] = NAN;
    CHECK_FAILS(ndyn_decode_cv(x, N, D, y, 1, fold, 2, &p, pred, NULL), NDYN_ENONFINITE);
    fold[1] = NDYN_FOLD_SKIP; /* row 1 holds the NaN: skipped rows may */
    CHECK_OK(ndyn_decode_cv(x, N, D, y, 1, fold, 2, &p, pred, NULL));
    p.classify = 1;
    cls[3] = 0.5;
    CHECK_FAILS(ndyn_decode_cv(x, N, D, cls, 1, fold, 2, &p, pred, NULL), NDYN_EINVAL);
}

TEST(consistency_exact_map_and_noise)
{
    enum { M = 40 };
    double a[M * 2], b[M * 3], c[M * 3];
    ndyn_rng r;
    ndyn_rng_init(&r, 12, 0);
    for (size_t i = 0; i < M; i++) {
        a[i * 2] = ndyn_rng_normal(&r);
        a[i * 2 + 1] = ndyn_rng_normal(&r);
        b[i * 3] = 2 * a[i * 2] - a[i * 2 + 1] + 1;
        b[i * 3 + 1] = -a[i * 2 + 1] + 4;
        b[i * 3 + 2] = 0.5 * a[i * 2];
        for (size_t j = 0; j < 3; j++) c[i * 3 + j] = ndyn_rng_normal(&r);
    }
    double r2;
    CHECK_OK(ndyn_consistency_r2(a, b, M, 2, 3, &r2));
    CHECK_CLOSE(r2, 1.0, 1e-12, 0);
    CHECK_OK(ndyn_consistency_r2(a, c, M, 2, 3, &r2));
    CHECK(r2 < 0.3 && r2 >= 0);
}

TEST(consistency_align_hand_computed)
{
    /* edges = linspace(0, 1, 3) = {0, .5, 1}; digitize: 0.1 -> 1, 0.2 -> 1,
     * 0.7 -> 2, 1.0 -> 3. Output bins 1, 2: means of {row0,row1} and {row2}. */
    const double x[4 * 2] = {1, 0, 3, 0, 0, 2, 9, 9};
    const double lab[4] = {0.1, 0.2, 0.7, 1.0};
    double out[2 * 2];
    CHECK_OK(ndyn_consistency_align(x, lab, 4, 2, 3, 0.0, 1.0, 0, out));
    CHECK(out[0] == 2 && out[1] == 0 && out[2] == 0 && out[3] == 2);
    CHECK_OK(ndyn_consistency_align(x, lab, 4, 2, 3, 0.0, 1.0, 1, out));
    CHECK(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 1);
    /* A bin with no samples borrows from its neighbours: edges {0,.25,.5,.75,1};
     * labels 0.1 (bin 1) and 0.9 (bin 4): bin 2 takes bin 1 (distance 1, and bin 3 is empty). */
    const double lab2[2] = {0.1, 0.9};
    const double x2[2] = {1, 5};
    double o2[4];
    CHECK_OK(ndyn_consistency_align(x2, lab2, 2, 1, 5, 0.0, 1.0, 0, o2));
    CHECK(o2[0] == 1 && o2[1] == 1 && o2[2] == 5 && o2[3] == 5);
}

RUN_TESTS(T(decode_linear_equals_per_fold_fit), T(decode_knn_equals_knn_regress_and_classifies), T(decode_bad_input),
          T(consistency_exact_map_and_noise), T(consistency_align_hand_computed))
