/* fit's feature cache (src/marble/feature_cache.c): with every node's
 * filter blocks tabulated, one batch gives PyTorch's loss, embedding and
 * gradients (python/marble_torch.py fixtures, also the uncached path's
 * reference), the same numbers as the o-hop neighbourhood path, a t-gradient
 * that matches central differences, and a fit identical to an uncached fit.
 * The bound disables the table. */
#include "test.h"
#include "marble_fixture.h"
#include "marble/marble_internal.h"
#include "ndyn/geom.h"
#include "ndyn/sim.h"

#define NONE ((size_t)-1)

/* Copy the fixture's initial weights ("init_W0", ...) into the model. */
static void load_init(ndyn_marble_model *m, const tfix *f)
{
    const double *t = tf_f64(f, "init_t");
    CHECK(t != NULL && tf_f64(f, "init_W0") != NULL);
    if (t) m->params[m->off_t] = t[0];
    const double *O = tf_f64(f, "init_O");
    if (O && m->off_o != NONE) memcpy(m->params + m->off_o, O, m->n_channels * m->s * m->s * sizeof(double));
    for (size_t l = 0; l < m->n_layers; l++) {
        const mb_layer *L = &m->layer[l];
        char key[32];
        const double *a;
        snprintf(key, sizeof key, "init_W%zu", l);
        if ((a = tf_f64(f, key))) memcpy(m->params + L->w, a, L->in * L->out * sizeof(double));
        snprintf(key, sizeof key, "init_b%zu", l);
        if (L->b != NONE && (a = tf_f64(f, key))) memcpy(m->params + L->b, a, L->out * sizeof(double));
        snprintf(key, sizeof key, "init_gamma%zu", l);
        if (L->gamma != NONE && (a = tf_f64(f, key))) memcpy(m->params + L->gamma, a, L->out * sizeof(double));
        snprintf(key, sizeof key, "init_beta%zu", l);
        if (L->beta != NONE && (a = tf_f64(f, key))) memcpy(m->params + L->beta, a, L->out * sizeof(double));
    }
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs(a[i] - b[i]) / (1 + fabs(b[i])));
    return e;
}

static void one(const char *name, int diffusion_off)
{
    tfix f;
    CHECK(tf_load(&f, name) == 0);
    ndyn_marble_params p;
    tf_params(&f, &p);
    if (diffusion_off) p.diffusion = 0;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
    if (!m) { tf_free(&f); return; }
    load_init(m, &f);
    const ndyn_array *an = tf_get(&f, "anchors"), *po = tf_get(&f, "positives"),
                     *ne = tf_get(&f, "negatives");
    size_t nb = an->size, E = (size_t)p.out_channels, np = m->n_params;
    int32_t *batch = malloc(3 * nb * sizeof(int32_t));
    memcpy(batch, an->data, nb * 4);
    memcpy(batch + nb, po->data, nb * 4);
    memcpy(batch + 2 * nb, ne->data, nb * 4);
    mb_work w0, w1;
    CHECK_OK(mb_work_init(&w0, m, &f.g));
    CHECK_OK(mb_work_init(&w1, m, &f.g));
    CHECK_OK(mb_fcache_build(&w1, m, &f.g));
    CHECK(w1.fc != NULL);
    double *g0 = malloc(np * sizeof(double)), *g1 = malloc(np * sizeof(double));
    double *z0 = malloc(3 * nb * E * sizeof(double)), *z1 = malloc(3 * nb * E * sizeof(double));
    double l0, l1;
    CHECK_OK(mb_batch_loss_grad(m, &f.g, &w0, batch, nb, 1, 0, NULL, &l0, g0, z0));
    CHECK_OK(mb_batch_loss_grad(m, &f.g, &w1, batch, nb, 1, 0, NULL, &l1, g1, z1));
    CHECKF(fabs(l0 - l1) < 1e-12, "%s: loss cached %.15g vs neighbourhoods %.15g", name, l1, l0);
    CHECKF(max_rel(z1, z0, 3 * nb * E) < 1e-12, "%s: z differs by %.3g", name, max_rel(z1, z0, 3 * nb * E));
    CHECKF(max_rel(g1, g0, np) < 1e-11, "%s: gradient differs by %.3g", name, max_rel(g1, g0, np));
    if (!diffusion_off) {
        /* the fixture's own PyTorch values (same weights, same batch) */
        CHECK_CLOSE(l1, *tf_f64(&f, "loss"), 1e-11, 1e-10);
        CHECKF(max_rel(z1, tf_f64(&f, "z"), 3 * nb * E) < 1e-10, "%s: z vs PyTorch", name);
        const double *gt = tf_f64(&f, "grad_t");
        CHECK(gt != NULL);
        if (p.diffusion && gt) CHECK_CLOSE(g1[m->off_t], gt[0], 1e-10, 1e-9);
    }
    if (p.diffusion) {
        /* d loss / dt from the cached d/dt table vs central differences */
        double t = 0.3, h = 1e-6, lp, lm;
        m->params[m->off_t] = t;
        CHECK_OK(mb_batch_loss_grad(m, &f.g, &w1, batch, nb, 1, 0, NULL, &l1, g1, NULL));
        m->params[m->off_t] = t + h;
        CHECK_OK(mb_batch_loss_grad(m, &f.g, &w1, batch, nb, 1, 0, NULL, &lp, NULL, NULL));
        m->params[m->off_t] = t - h;
        CHECK_OK(mb_batch_loss_grad(m, &f.g, &w1, batch, nb, 1, 0, NULL, &lm, NULL, NULL));
        m->params[m->off_t] = t;
        double fd = (lp - lm) / (2 * h);
        CHECKF(fabs(fd - g1[m->off_t]) <= 1e-6 * (fabs(fd) + 1e-6), "%s: dL/dt %.10g vs FD %.10g",
               name, g1[m->off_t], fd);
        CHECK(fabs(fd) > 1e-8);
    }
    /* the bound: nothing is tabulated above it */
    ndyn_marble_set_feature_cache_bytes(16);
    CHECK_OK(mb_fcache_build(&w1, m, &f.g));
    CHECK(w1.fc == NULL);
    ndyn_marble_set_feature_cache_bytes(NDYN_MARBLE_FEATURE_CACHE_BYTES);
    mb_work_free(&w0); mb_work_free(&w1);
    free(g0); free(g1); free(z0); free(z1); free(batch);
    ndyn_marble_model_free(m);
    tf_free(&f);
}

TEST(batch_equals_neighbourhoods_and_pytorch_aware) { one("aware", 0); }
TEST(batch_equals_neighbourhoods_and_pytorch_inner) { one("inner", 0); }
TEST(batch_equals_neighbourhoods_and_pytorch_noself) { one("noself", 0); }
TEST(batch_equals_neighbourhoods_no_diffusion) { one("aware", 1); }

/* Whole fits with and without the table: the same history. */
TEST(fit_with_and_without_cache)
{
    for (int c = 0; c < 2; c++) {
        tfix f;
        CHECK(tf_load(&f, "aware") == 0);
        ndyn_marble_params p;
        tf_params(&f, &p);
        p.epochs = 4;
        p.batch_size = 8;
        p.lr = 0.01;
        p.diffusion = c == 0;
        ndyn_marble_history h[2];
        for (int k = 0; k < 2; k++) {
            ndyn_marble_set_feature_cache_bytes(k ? NDYN_MARBLE_FEATURE_CACHE_BYTES : 0);
            ndyn_marble_model *m = NULL;
            CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
            CHECK_OK(ndyn_marble_fit(m, &f.g, &h[k]));
            ndyn_marble_model_free(m);
        }
        ndyn_marble_set_feature_cache_bytes(NDYN_MARBLE_FEATURE_CACHE_BYTES);
        CHECK(h[0].n == 4 && h[1].n == 4);
        for (size_t e = 0; e < h[0].n && e < h[1].n; e++) {
            CHECK_CLOSE(h[1].train_loss[e], h[0].train_loss[e], 1e-10, 1e-9);
            CHECK_CLOSE(h[1].val_loss[e], h[0].val_loss[e], 1e-10, 1e-9);
            CHECK_CLOSE(h[1].diffusion_time[e], h[0].diffusion_time[e], 1e-12, 1e-9);
        }
        CHECK_CLOSE(h[1].test_loss, h[0].test_loss, 1e-10, 1e-9);
        if (c == 0) CHECK(h[1].diffusion_time[3] != h[1].diffusion_time[0]); /* t was trained */
        ndyn_marble_history_free(&h[0]);
        ndyn_marble_history_free(&h[1]);
        tf_free(&f);
    }
}

/* Without eigenpairs (geom's Chebyshev basis through heat_basis_fn): one
 * batch with the table = the neighbourhood path, also after t grows past the
 * table's terms (rebuilt), dL/dt vs central differences, and a fit with the
 * table = a fit without. */
TEST(chebyshev_table)
{
    ndyn_geom_data *geo = NULL;
    CHECK_OK(t_fields_geom(60, 0, &geo));
    ndyn_marble_ops *ops = NULL;
    if (geo) CHECK_OK(ndyn_marble_ops_from_geom(geo, &ops));
    if (!ops) { ndyn_geom_data_free(geo); return; }
    const ndyn_marble_data *g = &ops->data;
    CHECK(g->n_eig == 0 && g->heat_basis_fn != NULL);
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.tau0 = 0.05;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 2, g->d, 2, &m));
    size_t nb = 12, np = m->n_params, E = 3;
    int32_t batch[36];
    ndyn_rng r;
    ndyn_rng_init(&r, 9, 0);
    for (size_t i = 0; i < 3 * nb; i++) batch[i] = (int32_t)ndyn_rng_below(&r, g->n);
    mb_work w0, w1;
    CHECK_OK(mb_work_init(&w0, m, g));
    CHECK_OK(mb_work_init(&w1, m, g));
    CHECK_OK(mb_fcache_build(&w1, m, g));
    CHECK(w1.fc != NULL);
    double *g0 = malloc(np * sizeof(double)), *g1 = malloc(np * sizeof(double));
    double z0[108], z1[108], l0, l1;
    const double ts[3] = {0.05, 6.0, 0.7};   /* 6.0 outgrows the first table */
    for (int k = 0; k < 3; k++) {
        m->params[m->off_t] = ts[k];
        CHECK_OK(mb_batch_loss_grad(m, g, &w0, batch, nb, 1, 0, NULL, &l0, g0, z0));
        CHECK_OK(mb_batch_loss_grad(m, g, &w1, batch, nb, 1, 0, NULL, &l1, g1, z1));
        CHECK(w1.fc != NULL);
        CHECKF(fabs(l0 - l1) < 1e-11, "t = %g: loss %.15g vs %.15g", ts[k], l1, l0);
        CHECKF(max_rel(z1, z0, 3 * nb * E) < 1e-10, "t = %g: z differs by %.3g", ts[k], max_rel(z1, z0, 3 * nb * E));
        CHECKF(max_rel(g1, g0, np) < 1e-9, "t = %g: gradient differs by %.3g", ts[k], max_rel(g1, g0, np));
        double h = 1e-6 * ts[k], lp, lm;
        m->params[m->off_t] = ts[k] + h;
        CHECK_OK(mb_batch_loss_grad(m, g, &w1, batch, nb, 1, 0, NULL, &lp, NULL, NULL));
        m->params[m->off_t] = ts[k] - h;
        CHECK_OK(mb_batch_loss_grad(m, g, &w1, batch, nb, 1, 0, NULL, &lm, NULL, NULL));
        double fd = (lp - lm) / (2 * h);
        CHECKF(fabs(fd - g1[m->off_t]) <= 1e-6 * fabs(fd) + 1e-9, "t = %g: dL/dt %.10g vs FD %.10g",
               ts[k], g1[m->off_t], fd);
    }
    mb_work_free(&w0); mb_work_free(&w1);
    free(g0); free(g1);
    ndyn_marble_model_free(m);
    /* whole fits */
    p.epochs = 3;
    p.batch_size = 16;
    p.lr = 0.05;
    ndyn_marble_history h[2];
    for (int k = 0; k < 2; k++) {
        ndyn_marble_set_feature_cache_bytes(k ? NDYN_MARBLE_FEATURE_CACHE_BYTES : 0);
        ndyn_marble_model *mf = NULL;
        CHECK_OK(ndyn_marble_model_new(&p, 2, g->d, 2, &mf));
        CHECK_OK(ndyn_marble_fit(mf, g, &h[k]));
        ndyn_marble_model_free(mf);
    }
    ndyn_marble_set_feature_cache_bytes(NDYN_MARBLE_FEATURE_CACHE_BYTES);
    for (size_t e = 0; e < 3; e++) {
        CHECK_CLOSE(h[1].train_loss[e], h[0].train_loss[e], 1e-10, 1e-9);
        CHECK_CLOSE(h[1].diffusion_time[e], h[0].diffusion_time[e], 1e-12, 1e-9);
    }
    ndyn_marble_history_free(&h[0]);
    ndyn_marble_history_free(&h[1]);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(geo);
}

RUN_TESTS(T(batch_equals_neighbourhoods_and_pytorch_aware),
          T(batch_equals_neighbourhoods_and_pytorch_inner),
          T(batch_equals_neighbourhoods_and_pytorch_noself),
          T(batch_equals_neighbourhoods_no_diffusion), T(fit_with_and_without_cache),
          T(chebyshev_table))
