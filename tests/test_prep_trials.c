/* Trial sets, binning, transforms, windows, flows and splits on small cases
 * worked out by hand (values in the comments), and bad input. */
#include "test.h"

#include "ndyn/prep.h"

TEST(bin_sums_runs_and_drops_partial_bin)
{
    /* Two trials of a 1-channel train: lengths 7 and 4; bins of 3 steps ->
     * trial 0: [1+0+1, 1+1+0] (step 6 dropped), trial 1: [0+1+1]. */
    const double x[11] = {1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1};
    const size_t st[2] = {0, 7};
    ndyn_trials *t = NULL, *b = NULL;
    CHECK_OK(ndyn_trials_from_recording(x, 11, 1, st, 2, 0.001, &t));
    if (!t) return;
    CHECK(ndyn_trials_len(t, 0) == 7 && ndyn_trials_len(t, 1) == 4 && ndyn_trials_common_length(t) == 0);
    CHECK_OK(ndyn_prep_bin_seconds(t, 0.003, &b));
    if (b) {
        CHECK(b->n == 2 && ndyn_trials_len(b, 0) == 2 && ndyn_trials_len(b, 1) == 1);
        CHECK(b->data[0] == 2 && b->data[1] == 2 && b->data[2] == 2);
        CHECK_CLOSE(b->dt, 0.003, 1e-15, 0);
        ndyn_trials_free(b);
    }
    /* A bin longer than a trial, or not a multiple of dt, is an error. */
    CHECK_FAILS(ndyn_prep_bin(t, 5, &b), NDYN_EINVAL);
    CHECK(b == NULL);
    CHECK_FAILS(ndyn_prep_bin_seconds(t, 0.0025, &b), NDYN_EINVAL);
    ndyn_trials_free(t);
}

TEST(bin_spike_times_counts)
{
    /* Bins of 0.1 s over [0, 0.35): 3 bins; the spike at 0.35 and -0.01 fall outside. */
    const double tm[6] = {0.05, 0.15, 0.19, 0.21, 0.35, -0.01};
    const int u[6] = {0, 1, 1, 0, 0, 1};
    double *c = NULL;
    size_t nb = 0;
    CHECK_OK(ndyn_prep_bin_spike_times(tm, u, 6, 2, 0.0, 0.35, 0.1, &c, &nb));
    CHECK(nb == 3);
    if (c) {
        const double want[6] = {1, 0, 0, 2, 1, 0};
        for (int i = 0; i < 6; i++) CHECK(c[i] == want[i]);
    }
    free(c);
    CHECK_FAILS(ndyn_prep_bin_spike_times(tm, u, 6, 2, 0.0, 0.05, 0.1, &c, &nb), NDYN_EINVAL);
    const int bad[1] = {3};
    CHECK_FAILS(ndyn_prep_bin_spike_times(tm, bad, 1, 2, 0.0, 1.0, 0.1, &c, &nb), NDYN_EINVAL);
    const double nan_t[1] = {NAN};
    CHECK_FAILS(ndyn_prep_bin_spike_times(nan_t, u, 1, 2, 0.0, 1.0, 0.1, &c, &nb), NDYN_ENONFINITE);
}

TEST(flow_stays_within_trials)
{
    /* Trials [0,1,3] and [10,14] (1 channel): pos = [0,1 | 10], vel = [1,2 | 4]. */
    const double x[5] = {0, 1, 3, 10, 14};
    const size_t st[2] = {0, 3};
    ndyn_trials *t = NULL, *p = NULL, *v = NULL;
    CHECK_OK(ndyn_trials_from_recording(x, 5, 1, st, 2, 0.02, &t));
    if (!t) return;
    CHECK_OK(ndyn_prep_flow(t, &p, &v));
    if (p && v) {
        CHECK(ndyn_trials_rows(p) == 3 && ndyn_trials_len(p, 0) == 2 && ndyn_trials_len(v, 1) == 1);
        CHECK(p->data[0] == 0 && p->data[1] == 1 && p->data[2] == 10);
        CHECK(v->data[0] == 1 && v->data[1] == 2 && v->data[2] == 4);
    }
    /* Integrating the velocities from the true starts gives back pos. */
    ndyn_trials *back = NULL;
    const double start[2] = {0, 10};
    CHECK_OK(ndyn_prep_integrate(v, start, 1.0, &back));
    for (size_t r = 0; back && r < 3; r++) CHECK(back->data[r] == p->data[r]);
    ndyn_trials_free(back);
    const double start2[2] = {1, 0}; /* other starts, scale 0.5: [1, 1.5 | 0] */
    CHECK_OK(ndyn_prep_integrate(v, start2, 0.5, &back));
    if (back) CHECK(back->data[0] == 1 && back->data[1] == 1.5 && back->data[2] == 0);
    ndyn_trials_free(back);
    ndyn_trials_free(p);
    ndyn_trials_free(v);
    ndyn_trials_free(t);
    /* A one-step trial has no velocity. */
    const size_t st1[2] = {0, 4};
    CHECK_OK(ndyn_trials_from_recording(x, 5, 1, st1, 2, 0.02, &t));
    CHECK_FAILS(ndyn_prep_flow(t, &p, &v), NDYN_EINVAL);
    ndyn_trials_free(t);
}

TEST(window_aligns_to_event)
{
    /* Two trials of 10 steps (dt 0.1 s), values = step index + 100 trial.
     * Events at 0.3 s and 0.6 s; window [-0.2, 0.2) -> steps 1..4 and 4..7. */
    double x[20];
    for (int i = 0; i < 20; i++) x[i] = (i % 10) + 100 * (i / 10);
    ndyn_trials *t = NULL, *w = NULL;
    CHECK_OK(ndyn_trials_from_array(x, 2, 10, 1, 0.1, &t));
    if (!t) return;
    const double ev[2] = {0.3, 0.6};
    CHECK_OK(ndyn_prep_window(t, ev, -0.2, 0.2, &w));
    if (w) {
        CHECK(ndyn_trials_common_length(w) == 4);
        CHECK(w->data[0] == 1 && w->data[3] == 4 && w->data[4] == 104 && w->data[7] == 107);
        ndyn_trials_free(w);
    }
    /* Plain window [0.5, 1.0) s: steps 5..9. */
    CHECK_OK(ndyn_prep_window(t, NULL, 0.5, 1.0, &w));
    if (w) {
        CHECK(ndyn_trials_len(w, 1) == 5 && w->data[0] == 5 && w->data[9] == 109);
        ndyn_trials_free(w);
    }
    const double late[2] = {0.3, 0.9};
    CHECK_FAILS(ndyn_prep_window(t, late, -0.2, 0.2, &w), NDYN_EINVAL);
    /* Subsample every 3rd step from step 1: steps 1, 4, 7. */
    CHECK_OK(ndyn_prep_subsample(t, 3, 1, &w));
    if (w) {
        CHECK(ndyn_trials_len(w, 0) == 3 && w->data[2] == 7 && w->data[3] == 101);
        CHECK_CLOSE(w->dt, 0.3, 1e-15, 0);
        ndyn_trials_free(w);
    }
    ndyn_trials_free(t);
}

TEST(zscore_sqrt_and_pca_fit_on_training_rows)
{
    /* Channel 0 = [1, 3, 5, 7]; fit on rows 0, 1 only: mean 2, sd 1 ->
     * [-1, 1, 3, 5]. Channel 1 constant 4: only centred -> 0. */
    double x[8] = {1, 4, 3, 4, 5, 4, 7, 4};
    ndyn_trials *t = NULL;
    CHECK_OK(ndyn_trials_from_array(x, 1, 4, 2, 0.1, &t));
    if (!t) return;
    const unsigned char fit[4] = {1, 1, 0, 0};
    double mu[2], sd[2];
    CHECK_OK(ndyn_prep_zscore(t, fit, mu, sd));
    CHECK(mu[0] == 2 && sd[0] == 1 && mu[1] == 4 && sd[1] == 0);
    const double want[8] = {-1, 0, 1, 0, 3, 0, 5, 0};
    for (int i = 0; i < 8; i++) CHECK_CLOSE(t->data[i], want[i], 1e-15, 0);
    CHECK_FAILS(ndyn_prep_sqrt(t), NDYN_EINVAL); /* negative values */
    ndyn_trials_free(t);
    const double sq[4] = {0, 1, 4, 9};
    CHECK_OK(ndyn_trials_from_array(sq, 2, 2, 1, 0.1, &t));
    CHECK_OK(ndyn_prep_sqrt(t));
    for (int i = 0; t && i < 4; i++) CHECK(t->data[i] == i);
    CHECK_OK(ndyn_prep_binarize(t)); /* {0, 1, 2, 3} -> {0, 1, 1, 1} */
    for (int i = 0; t && i < 4; i++) CHECK(t->data[i] == (i > 0));
    ndyn_trials_free(t);
    /* PCA fitted on the first 3 rows of points on the line y = 2 x: the
     * mean is that of the training rows, and every row (also the held-out
     * one) maps to its signed distance along (1, 2)/sqrt 5 from that mean. */
    double p[8] = {0, 0, 1, 2, 2, 4, 10, 20};
    CHECK_OK(ndyn_trials_from_array(p, 1, 4, 2, 0.1, &t));
    if (!t) return;
    const unsigned char fit3[4] = {1, 1, 1, 0};
    ndyn_pca *m = NULL;
    CHECK_OK(ndyn_prep_pca(t, fit3, 1, &m));
    CHECK(t->d == 1 && m && m->n_fit == 3);
    if (m) {
        CHECK_CLOSE(m->mean[0], 1.0, 1e-15, 0);
        CHECK_CLOSE(m->mean[1], 2.0, 1e-15, 0);
    }
    const double s5 = sqrt(5.0);
    CHECK_CLOSE(t->data[0], -s5, 1e-12, 0);
    CHECK_CLOSE(t->data[2], s5, 1e-12, 0);
    CHECK_CLOSE(t->data[3], 9 * s5, 1e-12, 0);
    ndyn_pca_free(m);
    ndyn_trials_free(t);
}

TEST(splits)
{
    /* 10 trials, 3 folds: sizes 4, 3, 3; the same seed gives the same folds. */
    int f1[10], f2[10], f3[10];
    CHECK_OK(ndyn_prep_split_trials(10, 3, 42, NULL, f1));
    CHECK_OK(ndyn_prep_split_trials(10, 3, 42, NULL, f2));
    CHECK_OK(ndyn_prep_split_trials(10, 3, 43, NULL, f3));
    int cnt[3] = {0}, same = 1, diff = 0;
    for (int i = 0; i < 10; i++) {
        CHECK(f1[i] >= 0 && f1[i] < 3);
        cnt[f1[i]]++;
        same &= f1[i] == f2[i];
        diff |= f1[i] != f3[i];
    }
    CHECK(cnt[0] == 4 && cnt[1] == 3 && cnt[2] == 3);
    CHECK(same && diff);
    /* Stratified: 3 conditions x 5 trials into 5 folds -> every fold holds
     * one trial of every condition. */
    int strata[15], fs[15];
    for (int i = 0; i < 15; i++) strata[i] = i % 3;
    CHECK_OK(ndyn_prep_split_trials(15, 5, 1, strata, fs));
    int per[5][3] = {{0}};
    for (int i = 0; i < 15; i++) per[fs[i]][strata[i]]++;
    for (int f = 0; f < 5; f++)
        for (int c = 0; c < 3; c++) CHECK(per[f][c] == 1);
    /* Time blocks and the first-80 % split. */
    int b[10];
    CHECK_OK(ndyn_prep_split_blocks(10, 3, b));
    const int wb[10] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
    for (int i = 0; i < 10; i++) CHECK(b[i] == wb[i]);
    CHECK_OK(ndyn_prep_split_time(10, 0.8, b));
    for (int i = 0; i < 10; i++) CHECK(b[i] == (i < 8 ? NDYN_FOLD_TRAIN : 0));
    CHECK_FAILS(ndyn_prep_split_time(10, 1.0, b), NDYN_EINVAL);
    CHECK_FAILS(ndyn_prep_split_trials(2, 3, 0, NULL, b), NDYN_EINVAL);
    /* Trial folds to rows. */
    const double x[5] = {0};
    const size_t st[2] = {0, 2};
    ndyn_trials *t = NULL;
    CHECK_OK(ndyn_trials_from_recording(x, 5, 1, st, 2, 0, &t));
    const int tf[2] = {1, 0};
    int rf[5];
    CHECK_OK(ndyn_prep_trial_folds_to_rows(t, tf, rf));
    CHECK(rf[0] == 1 && rf[1] == 1 && rf[2] == 0 && rf[4] == 0);
    ndyn_trials_free(t);
}

TEST(trials_bad_input)
{
    ndyn_trials *t = NULL;
    const size_t len[2] = {3, 0};
    CHECK_FAILS(ndyn_trials_new(2, len, 1, 0.1, &t), NDYN_EINVAL); /* empty trial */
    CHECK(t == NULL);
    CHECK_FAILS(ndyn_trials_new(0, len, 1, 0.1, &t), NDYN_EINVAL);
    const double x[4] = {1, 2, NAN, 4};
    const size_t st[2] = {2, 1};
    CHECK_FAILS(ndyn_trials_from_recording(x, 4, 1, st, 2, 0.1, &t), NDYN_EINVAL); /* decreasing starts */
    CHECK_OK(ndyn_trials_from_array(x, 1, 4, 1, 0.1, &t));
    ndyn_trials *b = NULL;
    CHECK_FAILS(ndyn_prep_bin(t, 2, &b), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_trials_check(t, "input"), NDYN_ENONFINITE);
    ndyn_trials_free(t);
}

RUN_TESTS(T(bin_sums_runs_and_drops_partial_bin), T(bin_spike_times_counts), T(flow_stays_within_trials),
          T(window_aligns_to_event), T(zscore_sqrt_and_pca_fit_on_training_rows), T(splits), T(trials_bad_input))
