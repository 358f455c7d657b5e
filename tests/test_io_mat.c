/* .mat reading through libmatio: a SciPy-written fixture with a struct
 * array, a scalar struct, cells, char, logical, int64, single, 3-D and
 * sparse data; the real macaque recordings; files that are not .mat. */
#include "test.h"
#include "io_test_util.h"

TEST(scipy_fixture)
{
    t_expect_list l;
    if (t_expect_load(&l)) {
        CHECKF(0, "cannot read expected.txt");
        return;
    }
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_mat_read(FIX_IO "/mat/struct.mat", &ds));
    if (!ds) {
        t_expect_free(&l);
        return;
    }
    const char *prefix = "mat/struct.mat:";
    size_t seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        const t_expect *e = &l.e[i];
        if (strncmp(e->key, prefix, strlen(prefix)) != 0) continue;
        seen++;
        const char *name = e->key + strlen(prefix);
        const ndyn_named_array *it = ndyn_dataset_find(ds, name);
        CHECKF(it != NULL, "no entry '%s'", name);
        if (!it) continue;
        if (strcmp(e->dtype, "text") == 0) {
            char want[256];
            t_unescape(e->values, want, sizeof want);
            CHECKF(it->text && strcmp(it->text, want) == 0, "%s: text '%s', want '%s'", name,
                   it->text ? it->text : "(null)", want);
        } else {
            CHECKF(t_expect_match(it->array, e) == 0, "%s", name);
        }
        CHECK(it->source && strstr(it->source, "struct.mat"));
    }
    CHECK(seen == 15);
    ndyn_dataset *dn = NULL;
    CHECK_OK(ndyn_mat_read(FIX_IO "/mat/narrowed.mat", &dn));
    seen = 0;
    for (size_t i = 0; dn && i < l.n; i++) {
        const char *pre = "mat/narrowed.mat:";
        if (strncmp(l.e[i].key, pre, strlen(pre)) != 0) continue;
        seen++;
        const ndyn_array *a = NULL;
        CHECK_OK(ndyn_dataset_get(dn, l.e[i].key + strlen(pre), &a));
        /* Integer-valued doubles MATLAB stored as uint8/int16 keep that type. */
        CHECKF(t_expect_match(a, &l.e[i]) == 0, "%s", l.e[i].key);
    }
    CHECK(seen == 3);
    const ndyn_named_array *x = dn ? ndyn_dataset_find(dn, "x") : NULL;
    CHECK(x && strstr(x->source, "double stored as uint8"));
    ndyn_dataset_free(dn);
    /* MATLAB's 1-based notation in the source: D(2).data is D[1].data. */
    const ndyn_named_array *it = ndyn_dataset_find(ds, "D[1].data");
    CHECK(it && strstr(it->source, "D(2).data"));
    /* Entry points through the generic loaders. */
    ndyn_array *a = NULL;
    CHECK_OK(ndyn_load_array(FIX_IO "/mat/struct.mat:D[2].data", &a));
    CHECK(a && a->dtype == NDYN_U8 && a->shape[0] == 2 && a->shape[1] == 5);
    ndyn_array_free(a);
    ndyn_dataset_free(ds);
    t_expect_free(&l);
}

TEST(not_a_mat_file)
{
    char path[256];
    ndyn_dataset *ds = NULL;
    t_tmp("fake.mat", path, sizeof path);
    FILE *f = fopen(path, "wb");
    fputs("this is plain text pretending to be a MATLAB file, but it is not one at all.\n", f);
    fclose(f);
    CHECK_FAILS(ndyn_mat_read(path, &ds), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "not a MATLAB") && strstr(ndyn_errmsg(), "fake.mat"));
    CHECK(ds == NULL);
    CHECK_FAILS(ndyn_dataset_load(path, &ds), NDYN_EFORMAT);
    /* A truncated real header. */
    size_t len;
    unsigned char *b = t_slurp(FIX_IO "/mat/struct.mat", &len);
    t_spit(path, b, 100);
    CHECK_FAILS(ndyn_mat_read(path, &ds), NDYN_EFORMAT);
    /* Truncated inside the data: an error, or (matio reads variables one by
     * one) fewer variables; never a crash. */
    for (size_t cut = 128; cut < len; cut += len / 7) {
        t_spit(path, b, cut);
        int rc = ndyn_mat_read(path, &ds);
        CHECK(rc == 0 || rc == NDYN_EFORMAT);
        if (rc == 0) CHECK(ds->n < 15);
        ndyn_dataset_free(ds);
        ds = NULL;
    }
    free(b);
    t_spit(path, "", 0);
    CHECK_FAILS(ndyn_mat_read(path, &ds), NDYN_EFORMAT);
    CHECK_FAILS(ndyn_mat_read("tmp/no-such.mat", &ds), NDYN_EIO);
}

static void check_trials(const ndyn_dataset *ds, size_t ntrials, size_t nconds, size_t tmin,
                         size_t tmax)
{
    size_t per_cond[16] = {0};
    int ok_shape = 1, ok_vals = 1, ok_cond = 1;
    char name[64];
    for (size_t i = 0; i < ntrials; i++) {
        snprintf(name, sizeof name, "D[%zu].data", i);
        const ndyn_array *a = NULL;
        CHECK_OK(ndyn_dataset_get(ds, name, &a));
        if (!a) return;
        ok_shape &= a->dtype == NDYN_U8 && a->ndim == 2 && a->shape[0] == 61 &&
                    a->shape[1] >= tmin && a->shape[1] <= tmax;
        for (size_t k = 0; k < a->size; k++) ok_vals &= ((const uint8_t *)a->data)[k] <= 1;
        snprintf(name, sizeof name, "D[%zu].condition", i);
        const ndyn_named_array *c = ndyn_dataset_find(ds, name);
        int cond = 0;
        if (c && c->text && sscanf(c->text, "reach%d", &cond) == 1 && cond >= 1 &&
            (size_t)cond <= nconds)
            per_cond[cond]++;
        else
            ok_cond = 0;
    }
    CHECK(ok_shape);
    CHECK(ok_vals);
    CHECK(ok_cond);
    for (size_t c = 1; c <= nconds; c++)
        CHECKF(per_cond[c] == ntrials / nconds, "reach%zu has %zu trials", c, per_cond[c]);
    snprintf(name, sizeof name, "D[%zu].data", ntrials);
    CHECK(ndyn_dataset_find(ds, name) == NULL);
}

TEST(macaque_reach7)
{
    char buf[512];
    const char *p = t_data_file("macaque_reach7_delay_spikes.mat", buf, sizeof buf);
    if (!p) SKIP("../shared/data/macaque_reach7_delay_spikes.mat not found (real data absent)");
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_mat_read(p, &ds));
    if (!ds) return;
    check_trials(ds, 210, 7, 400, 400);
    ndyn_dataset_free(ds);
}

TEST(macaque_reach2)
{
    char buf[512];
    const char *p = t_data_file("macaque_reach2_spiketrains.mat", buf, sizeof buf);
    if (!p) SKIP("../shared/data/macaque_reach2_spiketrains.mat not found (real data absent)");
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_mat_read(p, &ds));
    if (!ds) return;
    check_trials(ds, 112, 2, 1018, 1526);
    ndyn_dataset_free(ds);
}

TEST(macaque_centerout)
{
    char buf[512];
    const char *p = t_data_file("macaque_centerout_mihi.mat", buf, sizeof buf);
    if (!p) SKIP("../shared/data/macaque_centerout_mihi.mat not found (real data absent)");
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(p, &ds));
    if (!ds) return;
    struct { const char *name; size_t r, c; } want[] = {
        {"Yte", 803, 187}, {"Ytr", 623, 174}, {"Xte", 803, 2}, {"Xtr", 623, 2}};
    for (int k = 0; k < 4; k++) {
        const ndyn_array *a = NULL;
        CHECK_OK(ndyn_dataset_get(ds, want[k].name, &a));
        CHECKF(a && a->ndim == 2 && a->shape[0] == want[k].r && a->shape[1] == want[k].c, "%s",
               want[k].name);
    }
    /* Rates are multiples of 5 (counts in 200 ms bins, in Hz). */
    const ndyn_array *y = NULL;
    CHECK_OK(ndyn_dataset_get(ds, "Ytr", &y));
    if (y) {
        int ok = 1;
        for (size_t i = 0; i < y->size; i++) {
            double v = ndyn_array_get(y, i);
            ok &= v >= 0 && fabs(v / 5 - round(v / 5)) < 1e-9;
        }
        CHECK(ok);
    }
    /* Targets: 0..7, and exactly the set {3, 4, 5, 7} occurs. */
    const char *tn[2] = {"Tte", "Ttr"};
    for (int k = 0; k < 2; k++) {
        const ndyn_array *t = NULL;
        CHECK_OK(ndyn_dataset_get(ds, tn[k], &t));
        if (!t) continue;
        CHECK(t->size == (k == 0 ? 803u : 623u));
        int seen[8] = {0}, ok = 1;
        for (size_t i = 0; i < t->size; i++) {
            double v = ndyn_array_get(t, i);
            if (v < 0 || v > 7 || v != floor(v)) ok = 0;
            else seen[(int)v] = 1;
        }
        CHECK(ok);
        CHECK(seen[3] && seen[4] && seen[5] && seen[7] && !seen[0] && !seen[1] && !seen[2] &&
              !seen[6]);
    }
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(scipy_fixture), T(not_a_mat_file), T(macaque_reach7), T(macaque_reach2),
          T(macaque_centerout))
