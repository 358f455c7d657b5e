/* Core: errors, arrays, the random generator. */
#include "test.h"

TEST(test_error_messages)
{
    ndyn_error_clear();
    CHECK(strcmp(ndyn_errmsg(), "no error") == 0);
    int rc = ndyn_error(NDYN_EINVAL, "k is %d; use k >= 1", 0);
    CHECK(rc == NDYN_EINVAL);
    CHECK(strcmp(ndyn_errmsg(), "k is 0; use k >= 1") == 0);
    rc = ndyn_error_context(NDYN_EINVAL, "fitting: ");
    CHECK(strcmp(ndyn_errmsg(), "fitting: k is 0; use k >= 1") == 0);
    size_t out;
    CHECK_FAILS(ndyn_size_mul(SIZE_MAX / 2, 3, &out), NDYN_ENOMEM);
    CHECK_OK(ndyn_size_mul(1000, 1000, &out));
    CHECK(out == 1000000);
}

TEST(test_array_basics)
{
    ndyn_array *a = ndyn_array_alloc2(NDYN_F64, 3, 4);
    CHECK(a && a->size == 12 && a->ndim == 2);
    for (size_t i = 0; i < a->size; i++) ndyn_array_set(a, i, (double)i - 5.5);
    ndyn_array *b = ndyn_array_cast(a, NDYN_F32);
    CHECK(b && b->dtype == NDYN_F32 && ndyn_array_get(b, 11) == 5.5);
    /* Negative values cannot become unsigned. */
    ndyn_error_clear();
    CHECK(ndyn_array_cast(a, NDYN_U8) == NULL);
    CHECK(strstr(ndyn_errmsg(), "uint8") != NULL);
    size_t shp[1] = {12};
    CHECK_OK(ndyn_array_reshape(b, 1, shp));
    size_t bad[2] = {5, 5};
    CHECK_FAILS(ndyn_array_reshape(b, 2, bad), NDYN_ESHAPE);
    char buf[64];
    CHECK(strcmp(ndyn_shape_str(a, buf, sizeof buf), "(3, 4)") == 0);
    CHECK(strcmp(ndyn_shape_str(b, buf, sizeof buf), "(12,)") == 0);
    ((double *)a->data)[7] = NAN;
    CHECK_FAILS(ndyn_array_check_finite(a, "x"), NDYN_ENONFINITE);
    CHECK(strstr(ndyn_errmsg(), "index 7") != NULL);
    ndyn_array_free(a);
    ndyn_array_free(b);
    /* Shape overflow is refused, not wrapped. */
    size_t huge[3] = {SIZE_MAX / 4, 8, 2};
    CHECK(ndyn_array_alloc(NDYN_F64, 3, huge) == NULL);
    /* int64 <-> uint64 exact beyond 2^53 */
    ndyn_array *c = ndyn_array_alloc1(NDYN_I64, 1);
    ((int64_t *)c->data)[0] = (INT64_C(1) << 60) + 1;
    ndyn_array *d = ndyn_array_cast(c, NDYN_U64);
    CHECK(d && ((uint64_t *)d->data)[0] == (UINT64_C(1) << 60) + 1);
    ndyn_array_free(c);
    ndyn_array_free(d);
}

TEST(test_rng_reproducible)
{
    ndyn_rng a, b, c;
    ndyn_rng_init(&a, 42, 0);
    ndyn_rng_init(&b, 42, 0);
    ndyn_rng_init(&c, 42, 1);
    int same = 1, diff = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ndyn_rng_u64(&a), y = ndyn_rng_u64(&b), z = ndyn_rng_u64(&c);
        same &= x == y;
        diff += x != z;
    }
    CHECK(same);
    CHECK(diff > 990);
    /* Known first outputs for seed 1, stream 0 guard against silent changes
     * of the stream (saved models and results depend on it). Computed from
     * an independent Python implementation of splitmix64 + xoshiro256**:
     * see python/rng_reference.py. */
    static const struct { uint64_t seed, stream, out[3]; } want[] = {
        {1, 0, {UINT64_C(0xc43bda27588928c8), UINT64_C(0xbaac2d3b41310d94), UINT64_C(0x82708f920ce7d6c5)}},
        {1, 5, {UINT64_C(0x6c98246f8568d45c), UINT64_C(0xf5ea8420bbafcafa), UINT64_C(0x7a4d9627cff20c95)}},
        {123456789, 0, {UINT64_C(0x174e6cf7e6044028), UINT64_C(0x2dd50e30c82a3b86), UINT64_C(0x5f3a7f550d3149ef)}},
    };
    for (size_t k = 0; k < 3; k++) {
        ndyn_rng r;
        ndyn_rng_init(&r, want[k].seed, want[k].stream);
        for (int i = 0; i < 3; i++) CHECK(ndyn_rng_u64(&r) == want[k].out[i]);
    }
}

TEST(test_rng_distributions)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 7, 3);
    const int n = 200000;
    double s = 0, s2 = 0, u = 0;
    for (int i = 0; i < n; i++) {
        double x = ndyn_rng_normal(&r);
        s += x;
        s2 += x * x;
        u += ndyn_rng_uniform(&r);
    }
    /* Means within 5 standard errors. */
    CHECK_CLOSE(s / n, 0.0, 5.0 / sqrt(n), 0);
    CHECK_CLOSE(s2 / n, 1.0, 5.0 * sqrt(2.0 / n), 0);
    CHECK_CLOSE(u / n, 0.5, 5.0 * sqrt(1.0 / 12 / n), 0);
    /* Categorical frequencies. */
    double p[3] = {0.2, 0.0, 0.8};
    int cnt[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) cnt[ndyn_rng_categorical(&r, p, 3)]++;
    CHECK(cnt[1] == 0);
    CHECK_CLOSE(cnt[0] / (double)n, 0.2, 5.0 * sqrt(0.16 / n), 0);
    /* Poisson mean and variance, small and large rates. */
    double lams[2] = {3.5, 80.0};
    for (int k = 0; k < 2; k++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) {
            double x = ndyn_rng_poisson(&r, lams[k]);
            m += x;
            v += x * x;
        }
        m /= n;
        v = v / n - m * m;
        CHECK_CLOSE(m, lams[k], 5.0 * sqrt(lams[k] / n), 0);
        CHECK_CLOSE(v, lams[k], 0.03 * lams[k], 0);
    }
    /* Permutation is a permutation; below() is unbiased on a small range. */
    size_t idx[100];
    ndyn_rng_permutation(&r, idx, 100);
    int seen[100] = {0};
    for (int i = 0; i < 100; i++) seen[idx[i]]++;
    int ok = 1;
    for (int i = 0; i < 100; i++) ok &= seen[i] == 1;
    CHECK(ok);
    int hist[3] = {0, 0, 0};
    for (int i = 0; i < 30000; i++) hist[ndyn_rng_below(&r, 3)]++;
    for (int i = 0; i < 3; i++) CHECK_CLOSE(hist[i], 10000, 5 * sqrt(30000 * 2.0 / 9), 0);
}

RUN_TESTS(T(test_error_messages), T(test_array_basics), T(test_rng_reproducible),
          T(test_rng_distributions))
