/* Decoding behaviour from real recordings (skipped when ../shared/data is
 * absent), with the preprocessing of the MARBLE reference:
 *  - rat hippocampus (buddy): kNN (k 36, cosine) position decoder on PCA of
 *    Gaussian-smoothed counts (sd 10 bins), first 80 % train / last 20 % test;
 *  - macaque centre-out (mihi): hand velocity from rates by the
 *    cross-validated linear decoder (5 contiguous time blocks);
 *  - macaque delay period, 7 reach directions: classes from binned counts,
 *    5-fold CV over trials stratified by direction.
 * Thresholds sit well below the measured values (printed) and far above
 * chance, so a broken pipeline fails while noise in the last digits does not. */
#include "test.h"

#include "ndyn/io.h"
#include "ndyn/prep.h"

static double *as_double(const ndyn_array *a)
{
    double *x = malloc(a->size * sizeof *x);
    for (size_t i = 0; x && i < a->size; i++) x[i] = ndyn_array_get(a, i);
    return x;
}

static void rat_case(size_t npc)
{
    char p1[1024], p2[1024];
    if (!t_data_file("rat_buddy_spikes_25ms.npy", p1, sizeof p1) ||
        !t_data_file("rat_buddy_position.npy", p2, sizeof p2))
        SKIP("rat_buddy_*.npy not in the shared data folder");
    ndyn_array *s = NULL, *b = NULL;
    CHECK_OK(ndyn_npy_read(p1, &s));
    CHECK_OK(ndyn_npy_read(p2, &b));
    if (!s || !b) goto out;
    const size_t n = s->shape[0], d = s->shape[1];
    CHECK(b->shape[0] == n && b->shape[1] == 3);
    double *x = as_double(s), *lab = as_double(b);
    ndyn_trials *t = NULL;
    CHECK_OK(ndyn_trials_from_recording(x, n, d, NULL, 0, 0.025, &t));
    if (!t) goto out2;
    CHECK_OK(ndyn_prep_smooth(t, NDYN_SMOOTH_GAUSSIAN, 10 * 0.025, NDYN_EDGE_REFLECT));
    int *fold = malloc(n * sizeof *fold);
    unsigned char *fit = malloc(n);
    CHECK_OK(ndyn_prep_split_time(n, 0.8, fold));
    for (size_t i = 0; i < n; i++) fit[i] = fold[i] == NDYN_FOLD_TRAIN;
    CHECK_OK(ndyn_prep_pca(t, fit, npc, NULL));
    ndyn_decoder_params p;
    ndyn_decoder_params_default(&p, NDYN_DECODER_KNN);
    double *pred = malloc(n * 3 * sizeof *pred);
    CHECK_OK(ndyn_decode_cv(t->data, n, npc, lab, 3, fold, 1, &p, pred, NULL));
    size_t ntr = (size_t)(0.8 * n), nt = n - ntr;
    CHECK(isnan(pred[0]) && !isnan(pred[ntr * 3]));
    double r2[3], r2m, med[3], mae[3];
    CHECK_OK(ndyn_metric_r2(lab + ntr * 3, pred + ntr * 3, nt, 3, r2, &r2m));
    CHECK_OK(ndyn_metric_abs_error(lab + ntr * 3, pred + ntr * 3, nt, 3, mae, med));
    fprintf(stderr,
            "rat buddy, PCA %zu, kNN k=36 cosine, last 20 %% (%zu steps): position R² %.4f, median |error| %.2f cm, "
            "mean %.2f cm; R² (pos, right, left) = %.4f %.4f %.4f, mean %.4f\n",
            npc, nt, r2[0], 100 * med[0], 100 * mae[0], r2[0], r2[1], r2[2], r2m);
    CHECK(r2[0] > 0.8);
    CHECK(med[0] < 0.15); /* metres; the track is 1.6 m long */
    CHECK(r2m > 0.6);
    free(fold);
    free(fit);
    free(pred);
    ndyn_trials_free(t);
out2:
    free(x);
    free(lab);
out:
    ndyn_array_free(s);
    ndyn_array_free(b);
}

TEST(rat_knn_position_decoder_pca20) { rat_case(20); }
TEST(rat_knn_position_decoder_pca10) { rat_case(10); }

TEST(macaque_centerout_velocity_linear_cv)
{
    char path[1024];
    if (!t_data_file("macaque_centerout_mihi.mat", path, sizeof path))
        SKIP("macaque_centerout_mihi.mat not in the shared data folder");
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_mat_read(path, &ds));
    if (!ds) return;
    const char *sets[2][2] = {{"Ytr", "Xtr"}, {"Yte", "Xte"}};
    for (int s = 0; s < 2; s++) {
        const ndyn_array *ya, *xa;
        CHECK_OK(ndyn_dataset_get(ds, sets[s][0], &ya));
        CHECK_OK(ndyn_dataset_get(ds, sets[s][1], &xa));
        if (!ya || !xa) continue;
        const size_t n = ya->shape[0], d = ya->shape[1];
        CHECK(xa->shape[0] == n && xa->shape[1] == 2);
        double *y = as_double(ya), *v = as_double(xa), *pred = malloc(n * 2 * sizeof *pred), lam[5];
        int *fold = malloc(n * sizeof *fold);
        CHECK_OK(ndyn_prep_split_blocks(n, 5, fold));
        ndyn_decoder_params p;
        ndyn_decoder_params_default(&p, NDYN_DECODER_LINEAR);
        double r2_ols, r2_cv, per[2];
        p.lambda = 0.0; /* ordinary least squares with bias */
        CHECK_OK(ndyn_decode_cv(y, n, d, v, 2, fold, 5, &p, pred, NULL));
        CHECK_OK(ndyn_metric_r2(v, pred, n, 2, NULL, &r2_ols));
        p.lambda = -1.0; /* penalty chosen by inner CV */
        CHECK_OK(ndyn_decode_cv(y, n, d, v, 2, fold, 5, &p, pred, lam));
        CHECK_OK(ndyn_metric_r2(v, pred, n, 2, per, &r2_cv));
        fprintf(stderr,
                "macaque mihi %s -> %s (%zu bins, %zu units), 5 time blocks: velocity R² OLS %.4f, ridge-CV %.4f "
                "(vx %.4f, vy %.4f), lambdas %.3g %.3g %.3g %.3g %.3g\n",
                sets[s][0], sets[s][1], n, d, r2_ols, r2_cv, per[0], per[1], lam[0], lam[1], lam[2], lam[3], lam[4]);
        CHECK(r2_cv > 0.5);
        CHECK(r2_cv > r2_ols);
        free(y);
        free(v);
        free(pred);
        free(fold);
    }
    ndyn_dataset_free(ds);
}

TEST(macaque_reach7_direction_classification_cv)
{
    char path[1024];
    if (!t_data_file("macaque_reach7_delay_spikes.mat", path, sizeof path))
        SKIP("macaque_reach7_delay_spikes.mat not in the shared data folder");
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_mat_read(path, &ds));
    if (!ds) return;
    enum { N = 210, U = 61, T = 400, B = 4 };
    /* Trials as (T, U): DataHigh stores D(i).data as (units, time). */
    static double x[N * T * U];
    int cls[N];
    for (size_t i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "D[%zu].data", i);
        const ndyn_array *a = NULL;
        CHECK_OK(ndyn_dataset_get(ds, name, &a));
        if (!a || a->shape[0] != U || a->shape[1] != T) goto out;
        for (size_t u = 0; u < U; u++)
            for (size_t t = 0; t < T; t++) x[(i * T + t) * U + u] = ndyn_array_get(a, u * T + t);
        snprintf(name, sizeof name, "D[%zu].condition", i);
        const ndyn_named_array *c = ndyn_dataset_find(ds, name);
        CHECK(c && c->text && !strncmp(c->text, "reach", 5));
        cls[i] = c && c->text ? atoi(c->text + 5) - 1 : 0;
        CHECK(cls[i] >= 0 && cls[i] < 7);
    }
    ndyn_trials *t = NULL, *bt = NULL;
    CHECK_OK(ndyn_trials_from_array(x, N, T, U, 0.001, &t));
    CHECK_OK(ndyn_prep_bin_seconds(t, 0.1, &bt)); /* 4 bins of 100 ms */
    if (!bt) goto out2;
    CHECK(ndyn_trials_common_length(bt) == B);
    CHECK_OK(ndyn_prep_sqrt(bt));
    /* One sample per trial: the 4 x 61 binned counts side by side. */
    int tf[N];
    double y[N], pred[N];
    CHECK_OK(ndyn_prep_split_trials(N, 5, 1, cls, tf));
    for (size_t i = 0; i < N; i++) y[i] = cls[i];
    const char *names[2] = {"ridge-CV one-hot", "kNN k=5 euclidean"};
    for (int m = 0; m < 2; m++) {
        ndyn_decoder_params p;
        ndyn_decoder_params_default(&p, m ? NDYN_DECODER_KNN : NDYN_DECODER_RIDGE);
        p.classify = 1;
        p.n_classes = 7;
        p.k = 5;
        p.dist = NDYN_DIST_EUCLIDEAN;
        CHECK_OK(ndyn_decode_cv(bt->data, N, B * U, y, 1, tf, 5, &p, pred, NULL));
        int pi[N];
        for (size_t i = 0; i < N; i++) pi[i] = (int)pred[i];
        double ba, acc;
        CHECK_OK(ndyn_metric_balanced_accuracy(cls, pi, N, 7, &ba));
        CHECK_OK(ndyn_metric_accuracy(cls, pi, N, &acc));
        fprintf(stderr, "macaque reach7 delay, %s on sqrt counts in 4 x 100 ms bins, 5-fold stratified CV: balanced "
                "accuracy %.4f (chance 0.1429)\n", names[m], ba);
        CHECK(ba > 0.7);
    }
out2:
    ndyn_trials_free(t);
    ndyn_trials_free(bt);
out:
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(rat_knn_position_decoder_pca20), T(rat_knn_position_decoder_pca10), T(macaque_centerout_velocity_linear_cv),
          T(macaque_reach7_direction_classification_cv))
