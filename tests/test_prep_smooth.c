/* Smoothing against independent references: the analytic Gaussian
 * convolution of a known spike train, and SciPy's savgol_filter,
 * gaussian_filter1d, uniform_filter1d and lfilter (fixture written by
 * python/make_prep_fixtures.py). */
#include "test.h"

#include "ndyn/io.h"
#include "ndyn/prep.h"

TEST(gaussian_rate_equals_analytic_convolution)
{
    /* Spikes at known times in 1-ms bins; Gaussian kernel sd 20 ms. The rate
     * in Hz is sum_s exp(-(t - s)^2 / 2 sd^2) / (sqrt(2 pi) sd). */
    enum { T = 1000 };
    const double dt = 0.001, sd = 0.020;
    const size_t spikes[] = {200, 230, 231, 500, 780};
    double x[T] = {0};
    for (size_t i = 0; i < sizeof spikes / sizeof spikes[0]; i++) x[spikes[i]] += 1.0;
    ndyn_trials *t = NULL;
    CHECK_OK(ndyn_trials_from_array(x, 1, T, 1, dt, &t));
    if (!t) return;
    CHECK_OK(ndyn_prep_smooth(t, NDYN_SMOOTH_GAUSSIAN, sd, NDYN_EDGE_ZERO));
    CHECK_OK(ndyn_prep_scale(t, 1.0 / dt));
    double worst_rel = 0;
    for (size_t s = 0; s < T; s++) {
        double tt = s * dt, ref = 0, cut = 0;
        for (size_t i = 0; i < sizeof spikes / sizeof spikes[0]; i++) {
            double u = tt - spikes[i] * dt;
            double g = exp(-0.5 * u * u / (sd * sd)) / (sqrt(2 * M_PI) * sd);
            ref += g;
            /* The kernel is truncated at radius 80 steps (4 sd, as scipy's):
             * spikes farther than that contribute nothing. */
            if (fabs(u) > 80.5 * dt) cut += g;
        }
        CHECK_CLOSE(t->data[s], ref, cut + 1e-12, 1e-4);
        if (ref > 1.0 && cut < 1e-6 * ref) worst_rel = fmax(worst_rel, fabs(t->data[s] - ref) / ref);
    }
    CHECK(worst_rel < 1e-4);
    /* Total spike count is preserved away from the edges. */
    double sum = 0;
    for (size_t s = 0; s < T; s++) sum += t->data[s] * dt;
    CHECK_CLOSE(sum, 5.0, 1e-9, 0);
    ndyn_trials_free(t);
}

static const ndyn_array *fx(const ndyn_dataset *ds, const char *name)
{
    const ndyn_array *a = NULL;
    if (ndyn_dataset_get(ds, name, &a)) return NULL;
    return a;
}

static void compare(const ndyn_array *ref, const ndyn_trials *t, double tol, const char *what)
{
    CHECK(ref && ref->size == ndyn_trials_rows(t) * t->d);
    if (!ref) return;
    double worst = 0;
    for (size_t i = 0; i < ref->size; i++) worst = fmax(worst, fabs(ndyn_array_get(ref, i) - t->data[i]));
    CHECKF(worst < tol, "%s: max |ndyn - scipy| = %g", what, worst);
}

TEST(smoothing_matches_scipy)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/prep/smooth.npz", NDYN_TEST_FIXTURES);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(path, &ds));
    if (!ds) return;
    const ndyn_array *x = fx(ds, "x");
    CHECK(x && x->ndim == 2 && x->shape[0] == 40 && x->shape[1] == 3);
    if (!x) goto out;
    struct {
        const char *name;
        int kind; /* 0 savgol, 1 smooth */
        ndyn_smooth_kind sk;
        double a, b;
        ndyn_edge edge;
    } cases[] = {
        {"savgol_9_2", 0, 0, 9, 2, 0},
        {"savgol_7_3", 0, 0, 7, 3, 0},
        {"gauss_2_5", 1, NDYN_SMOOTH_GAUSSIAN, 2.5, 0, NDYN_EDGE_REFLECT},
        {"gauss_2_5_z", 1, NDYN_SMOOTH_GAUSSIAN, 2.5, 0, NDYN_EDGE_ZERO},
        {"box_4", 1, NDYN_SMOOTH_BOXCAR, 4, 0, NDYN_EDGE_REFLECT},
        {"box_5_z", 1, NDYN_SMOOTH_BOXCAR, 5, 0, NDYN_EDGE_ZERO},
        {"exp_3", 1, NDYN_SMOOTH_EXP, 3, 0, NDYN_EDGE_REFLECT},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ndyn_trials *t = NULL;
        CHECK_OK(ndyn_trials_from_array((const double *)x->data, 1, 40, 3, 0.01, &t));
        if (!t) continue;
        if (cases[c].kind == 0) CHECK_OK(ndyn_prep_savgol(t, (size_t)cases[c].a, (size_t)cases[c].b));
        else CHECK_OK(ndyn_prep_smooth_steps(t, cases[c].sk, cases[c].a, cases[c].edge));
        compare(fx(ds, cases[c].name), t, 1e-10, cases[c].name);
        ndyn_trials_free(t);
    }
    /* Two trials: each is filtered on its own (no mixing across the boundary):
     * the second trial of [x; x] gives the same output as x alone. */
    double xx[80 * 3];
    memcpy(xx, x->data, 40 * 3 * sizeof(double));
    memcpy(xx + 120, x->data, 40 * 3 * sizeof(double));
    ndyn_trials *t2 = NULL;
    const size_t st[2] = {0, 40};
    CHECK_OK(ndyn_trials_from_recording(xx, 80, 3, st, 2, 0.01, &t2));
    if (t2) {
        CHECK_OK(ndyn_prep_savgol(t2, 9, 2));
        const ndyn_array *ref = fx(ds, "savgol_9_2");
        for (size_t i = 0; ref && i < 120; i++) CHECK_CLOSE(t2->data[120 + i], ndyn_array_get(ref, i), 1e-10, 0);
        ndyn_trials_free(t2);
    }
out:
    ndyn_dataset_free(ds);
}

TEST(smoothing_bad_input)
{
    double x[5] = {1, 2, 3, 4, NAN};
    ndyn_trials *t = NULL;
    CHECK_OK(ndyn_trials_from_array(x, 1, 4, 1, 0, &t));
    if (!t) return;
    CHECK_FAILS(ndyn_prep_smooth(t, NDYN_SMOOTH_GAUSSIAN, 0.1, NDYN_EDGE_REFLECT), NDYN_EINVAL); /* dt unknown */
    CHECK_FAILS(ndyn_prep_smooth_steps(t, NDYN_SMOOTH_GAUSSIAN, -1, NDYN_EDGE_REFLECT), NDYN_EINVAL);
    CHECK_FAILS(ndyn_prep_savgol(t, 9, 2), NDYN_EINVAL);  /* trial shorter than window */
    CHECK_FAILS(ndyn_prep_savgol(t, 4, 2), NDYN_EINVAL);  /* even window */
    CHECK_FAILS(ndyn_prep_savgol(t, 3, 3), NDYN_EINVAL);  /* order >= window */
    ndyn_trials_free(t);
    CHECK_OK(ndyn_trials_from_array(x + 1, 1, 4, 1, 0.1, &t));
    if (!t) return;
    CHECK_FAILS(ndyn_prep_smooth_steps(t, NDYN_SMOOTH_BOXCAR, 2, NDYN_EDGE_REFLECT), NDYN_ENONFINITE);
    ndyn_trials_free(t);
}

RUN_TESTS(T(gaussian_rate_equals_analytic_convolution), T(smoothing_matches_scipy), T(smoothing_bad_input))
