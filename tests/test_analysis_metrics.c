/* Metrics against hand-computed values (scikit-learn's documented examples
 * and small cases worked out by hand in the comments). */
#include "test.h"

#include "ndyn/analysis.h"

TEST(r2_single_output)
{
    /* y = [3, -0.5, 2, 7], yhat = [2.5, 0, 2, 8]: mean 2.875,
     * SS_tot = 29.1875, SS_res = 1.5, R² = 1 - 1.5/29.1875. */
    const double y[4] = {3, -0.5, 2, 7}, yh[4] = {2.5, 0.0, 2, 8};
    double r2;
    CHECK_OK(ndyn_metric_r2(y, yh, 4, 1, NULL, &r2));
    CHECK_CLOSE(r2, 1.0 - 1.5 / 29.1875, 1e-15, 0);
}

TEST(r2_multi_output)
{
    /* Columns: SS_tot 50.25 - 42.25/3 and 38 - 16/3; SS_res 1.25 and 3. */
    const double y[6] = {0.5, 1, -1, 1, 7, -6}, yh[6] = {0, 2, -1, 2, 8, -5};
    double per[2], mean;
    CHECK_OK(ndyn_metric_r2(y, yh, 3, 2, per, &mean));
    double a = 1.0 - 1.25 / (50.25 - 42.25 / 3.0), b = 1.0 - 3.0 / (38.0 - 16.0 / 3.0);
    CHECK_CLOSE(per[0], a, 1e-14, 0);
    CHECK_CLOSE(per[1], b, 1e-14, 0);
    CHECK_CLOSE(mean, 0.5 * (a + b), 1e-14, 0);
}

TEST(r2_constant_target)
{
    /* scikit-learn: constant target scores 1 if predicted exactly, else 0. */
    const double y[3] = {2, 2, 2}, exact[3] = {2, 2, 2}, off[3] = {2, 2, 3};
    double r2;
    CHECK_OK(ndyn_metric_r2(y, exact, 3, 1, NULL, &r2));
    CHECK(r2 == 1.0);
    CHECK_OK(ndyn_metric_r2(y, off, 3, 1, NULL, &r2));
    CHECK(r2 == 0.0);
    /* Predicting the mean scores exactly 0; a worse predictor is negative. */
    const double y2[4] = {1, 2, 3, 4}, mean[4] = {2.5, 2.5, 2.5, 2.5}, bad[4] = {4, 3, 2, 1};
    CHECK_OK(ndyn_metric_r2(y2, mean, 4, 1, NULL, &r2));
    CHECK_CLOSE(r2, 0.0, 1e-15, 0);
    CHECK_OK(ndyn_metric_r2(y2, bad, 4, 1, NULL, &r2));
    CHECK_CLOSE(r2, 1.0 - 20.0 / 5.0, 1e-15, 0);
}

TEST(abs_error)
{
    /* Column 0 errors 1, 3, 0, 2 (mean 1.5, median 1.5); column 1 errors 5, 1, 1, 0. */
    const double y[8] = {0, 0, 1, 1, 2, 2, 3, 3}, yh[8] = {1, 5, 4, 0, 2, 1, 1, 3};
    double mean[2], med[2];
    CHECK_OK(ndyn_metric_abs_error(y, yh, 4, 2, mean, med));
    CHECK_CLOSE(mean[0], 1.5, 0, 0);
    CHECK_CLOSE(med[0], 1.5, 0, 0);
    CHECK_CLOSE(mean[1], 7.0 / 4.0, 0, 0);
    CHECK_CLOSE(med[1], 1.0, 0, 0);
    const double z[3] = {0, 0, 0}, zh[3] = {-4, 1, 2};
    CHECK_OK(ndyn_metric_abs_error(z, zh, 3, 1, mean, med));
    CHECK_CLOSE(med[0], 2.0, 0, 0);
}

TEST(balanced_accuracy_hand)
{
    /* Recalls 3/4 and 1/2 -> 0.625. */
    const int t[6] = {0, 1, 0, 0, 1, 0}, p[6] = {0, 1, 0, 0, 0, 1};
    double ba, acc;
    CHECK_OK(ndyn_metric_balanced_accuracy(t, p, 6, 2, &ba));
    CHECK_CLOSE(ba, 0.625, 1e-15, 0);
    CHECK_OK(ndyn_metric_accuracy(t, p, 6, &acc));
    CHECK_CLOSE(acc, 4.0 / 6.0, 1e-15, 0);
    /* A class that is predicted but absent from the truth is ignored:
     * recalls 1/2 (class 0) and 1 (class 1) -> 0.75. */
    const int t2[4] = {0, 0, 1, 1}, p2[4] = {0, 2, 1, 1};
    CHECK_OK(ndyn_metric_balanced_accuracy(t2, p2, 4, 3, &ba));
    CHECK_CLOSE(ba, 0.75, 1e-15, 0);
}

TEST(confusion_hand)
{
    const int t[6] = {2, 0, 2, 2, 0, 1}, p[6] = {0, 0, 2, 2, 0, 2};
    size_t c[9];
    CHECK_OK(ndyn_metric_confusion(t, p, 6, 3, 3, c));
    const size_t want[9] = {2, 0, 0, 0, 0, 1, 1, 0, 2};
    for (int i = 0; i < 9; i++) CHECK(c[i] == want[i]);
}

TEST(metrics_bad_input)
{
    const double y[2] = {1, NAN}, yh[2] = {1, 2};
    double r2;
    CHECK_FAILS(ndyn_metric_r2(y, yh, 2, 1, NULL, &r2), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_metric_r2(yh, yh, 1, 1, NULL, &r2), NDYN_EINVAL);
    CHECK_FAILS(ndyn_metric_r2(yh, yh, 0, 1, NULL, &r2), NDYN_EINVAL);
    const int t[2] = {0, 5}, p[2] = {0, 1};
    double ba;
    CHECK_FAILS(ndyn_metric_balanced_accuracy(t, p, 2, 2, &ba), NDYN_EINVAL);
}

RUN_TESTS(T(r2_single_output), T(r2_multi_output), T(r2_constant_target), T(abs_error),
          T(balanced_accuracy_hand), T(confusion_hand), T(metrics_bad_input))
