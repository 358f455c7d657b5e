/* Wilcoxon signed-rank test against scipy.stats.wilcoxon (fixture written by
 * python/make_stats_fixtures.py: normal approximation with zeros and ties,
 * exact p-values) and against brute force over every sign pattern. */
#include "test.h"

#include "ndyn/analysis.h"
#include "ndyn/io.h"

static const ndyn_array *fx(const ndyn_dataset *ds, const char *name)
{
    const ndyn_array *a = NULL;
    if (ndyn_dataset_get(ds, name, &a)) return NULL;
    return a;
}

TEST(matches_scipy)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/analysis/wilcoxon.npz", NDYN_TEST_FIXTURES);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(path, &ds));
    if (!ds) return;
    const char *cases[] = {"small5", "n12", "n20", "n25", "centre3", "one15", "ties40", "int300",
                           "errors1313"};
    int n_exact = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char k[64];
        snprintf(k, sizeof k, "%s_x", cases[c]);
        const ndyn_array *x = fx(ds, k);
        snprintf(k, sizeof k, "%s_y", cases[c]);
        const ndyn_array *y = fx(ds, k);
        snprintf(k, sizeof k, "%s_approx", cases[c]);
        const ndyn_array *ra = fx(ds, k);
        snprintf(k, sizeof k, "%s_exact", cases[c]);
        const ndyn_array *re = fx(ds, k);
        CHECKF(x && ra, "case %s missing", cases[c]);
        if (!x || !ra) continue;
        const double *xd = (const double *)x->data, *yd = y ? (const double *)y->data : NULL;
        const double *a = (const double *)ra->data;
        ndyn_wilcoxon_result r;
        CHECK_OK(ndyn_wilcoxon(xd, yd, x->size, NDYN_WILCOXON_APPROX, &r));
        CHECKF(r.statistic == a[0], "%s: statistic %g vs scipy %g", cases[c], r.statistic, a[0]);
        CHECKF(fabs(r.z - a[2]) < 1e-12 * (1 + fabs(a[2])), "%s: z %.15g vs scipy %.15g", cases[c],
               r.z, a[2]);
        CHECKF(fabs(r.pvalue - a[1]) <= 1e-12 * a[1] + 1e-300, "%s: p %.15g vs scipy %.15g",
               cases[c], r.pvalue, a[1]);
        CHECK(!r.exact);
        CHECK(r.r_plus + r.r_minus == 0.5 * (double)r.n_used * (double)(r.n_used + 1));
        if (re) {
            const double *e = (const double *)re->data;
            CHECK_OK(ndyn_wilcoxon(xd, yd, x->size, NDYN_WILCOXON_EXACT, &r));
            CHECK(r.exact && r.statistic == e[0]);
            CHECKF(fabs(r.pvalue - e[1]) < 1e-13, "%s exact: p %.15g vs scipy %.15g", cases[c],
                   r.pvalue, e[1]);
            /* auto picks exact for these (n <= 50, no zeros, no ties) */
            CHECK_OK(ndyn_wilcoxon(xd, yd, x->size, NDYN_WILCOXON_AUTO, &r));
            CHECK(r.exact && fabs(r.pvalue - e[1]) < 1e-13);
            n_exact++;
        } else {
            /* zeros, ties or n > 50: auto uses the approximation */
            CHECK_OK(ndyn_wilcoxon(xd, yd, x->size, NDYN_WILCOXON_AUTO, &r));
            CHECK(!r.exact && fabs(r.pvalue - a[1]) <= 1e-12 * a[1] + 1e-300);
        }
    }
    CHECK(n_exact == 6);
    /* zeros are dropped before ranking: ties40 has six */
    const ndyn_array *x = fx(ds, "ties40_x"), *y = fx(ds, "ties40_y");
    ndyn_wilcoxon_result r;
    if (x && y) {
        CHECK_OK(ndyn_wilcoxon(x->data, y->data, x->size, NDYN_WILCOXON_APPROX, &r));
        CHECK(r.n_used + 6 <= x->size);
        CHECK_FAILS(ndyn_wilcoxon(x->data, y->data, x->size, NDYN_WILCOXON_EXACT, &r), NDYN_EINVAL);
    }
    ndyn_dataset_free(ds);
}

TEST(exact_equals_brute_force_over_signs)
{
    /* Under the null every one of the 2^n sign patterns of ranks 1..n is
     * equally likely; the two-sided p is 2 min(P(R+ <= r), P(R+ >= r)). */
    ndyn_rng rng;
    ndyn_rng_init(&rng, 5, 0);
    for (size_t n = 1; n <= 14; n++) {
        double d[14];
        for (size_t i = 0; i < n; i++) d[i] = (ndyn_rng_uniform(&rng) - 0.4) * (double)(i + 1);
        ndyn_wilcoxon_result r;
        CHECK_OK(ndyn_wilcoxon(d, NULL, n, NDYN_WILCOXON_EXACT, &r));
        /* ranks of |d| by brute force */
        double rank[14], rp = 0;
        for (size_t i = 0; i < n; i++) {
            rank[i] = 1;
            for (size_t j = 0; j < n; j++) rank[i] += fabs(d[j]) < fabs(d[i]);
            if (d[i] > 0) rp += rank[i];
        }
        CHECK(r.r_plus == rp);
        size_t le = 0, ge = 0, all = (size_t)1 << n;
        for (size_t mask = 0; mask < all; mask++) {
            double s = 0;
            for (size_t k = 0; k < n; k++) if (mask >> k & 1) s += (double)(k + 1);
            le += s <= rp;
            ge += s >= rp;
        }
        double p = 2.0 * (double)(le < ge ? le : ge) / (double)all;
        if (rp == floor(n * (n + 1) / 4.0)) p = 1.0;   /* scipy: the centre gives 1 */
        if (p > 1) p = 1;
        CHECKF(fabs(r.pvalue - p) < 1e-14, "n %zu: p %.15g vs brute force %.15g", n, r.pvalue, p);
    }
}

TEST(bad_input)
{
    double z[4] = {0, 0, 0, 0}, x[3] = {1, NAN, 2};
    ndyn_wilcoxon_result r;
    CHECK_FAILS(ndyn_wilcoxon(z, NULL, 4, NDYN_WILCOXON_AUTO, &r), NDYN_EINVAL);
    CHECK_FAILS(ndyn_wilcoxon(z, NULL, 0, NDYN_WILCOXON_AUTO, &r), NDYN_EINVAL);
    CHECK_FAILS(ndyn_wilcoxon(x, NULL, 3, NDYN_WILCOXON_AUTO, &r), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_wilcoxon(z, z, 4, (ndyn_wilcoxon_method)7, &r), NDYN_EINVAL);
    double t[3] = {1, -1, 2};   /* tied |d|: exact refuses, auto approximates */
    CHECK_FAILS(ndyn_wilcoxon(t, NULL, 3, NDYN_WILCOXON_EXACT, &r), NDYN_EINVAL);
    CHECK_OK(ndyn_wilcoxon(t, NULL, 3, NDYN_WILCOXON_AUTO, &r));
    CHECK(!r.exact && r.r_plus == 4.5 && r.r_minus == 1.5 && r.statistic == 1.5);
}

RUN_TESTS(T(matches_scipy), T(exact_equals_brute_force_over_signs), T(bad_input))
