/* Co-smoothing by the Neural Latents Benchmark protocol: the co-bps formula
 * against a direct computation written out here (and the mean-rate model
 * scoring exactly 0), the choice of held-out channels, a model whose encoder
 * never reads its held-out channels (its latent means do not move when they
 * change; their encoder weights get no gradient), and model files that keep
 * the list. */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"

enum { NT = 3, T = 12, D = 5 };

static double g_y[NT][T * D], g_rate[NT * T * D];

static void make_counts(ndyn_srnn_data *d, size_t *Ts, const double **ys, uint64_t seed)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (int i = 0; i < NT; i++) {
        for (int q = 0; q < T * D; q++) {
            double lam = 0.3 + 3 * ndyn_rng_uniform(&r);
            g_rate[i * T * D + q] = lam * (0.5 + ndyn_rng_uniform(&r)); /* a rate that is not the truth */
            g_y[i][q] = (double)ndyn_rng_poisson(&r, lam);
        }
        Ts[i] = T;
        ys[i] = g_y[i];
    }
    ndyn_srnn_data dd = {NT, D, Ts, ys, NULL, 0};
    *d = dd;
}

/* bits per spike written out from the definition: Poisson log-likelihoods with
 * the log y! terms, null = per-channel mean over all trials and steps */
static double direct_bps(const double *rate, const int *held, int nh)
{
    double ll = 0, ll0 = 0, spikes = 0;
    for (int q = 0; q < nh; q++) {
        int j = held[q];
        double mean = 0;
        for (int i = 0; i < NT; i++)
            for (int t = 0; t < T; t++) mean += g_y[i][t * D + j];
        mean /= NT * T;
        for (int i = 0; i < NT; i++)
            for (int t = 0; t < T; t++) {
                double y = g_y[i][t * D + j], lam = rate[(i * T + t) * D + j];
                ll += y * log(lam) - lam - lgamma(y + 1);
                ll0 += (y > 0 ? y * log(mean) : 0) - mean - lgamma(y + 1);
                spikes += y;
            }
    }
    return (ll - ll0) / spikes / log(2.0);
}

TEST(cobps_formula)
{
    size_t Ts[NT];
    const double *ys[NT];
    ndyn_srnn_data d;
    make_counts(&d, Ts, ys, 5);
    int held[] = {1, 4};
    double bps;
    CHECK_OK(ndyn_srnn_cobps(&d, g_rate, held, 2, &bps));
    CHECK_CLOSE(bps, direct_bps(g_rate, held, 2), 1e-12, 1e-12);
    /* the mean-rate model is the null: exactly 0 */
    static double mr[NT * T * D];
    for (int j = 0; j < D; j++) {
        double m = 0;
        for (int i = 0; i < NT; i++)
            for (int t = 0; t < T; t++) m += g_y[i][t * D + j];
        m /= NT * T;
        for (int r = 0; r < NT * T; r++) mr[r * D + j] = m;
    }
    CHECK_OK(ndyn_srnn_cobps(&d, mr, held, 2, &bps));
    CHECK_CLOSE(bps, 0, 1e-12, 0);
    /* a rate close to the counts scores above the null */
    static double close_rate[NT * T * D];
    for (int i = 0; i < NT; i++)
        for (int q = 0; q < T * D; q++) close_rate[i * T * D + q] = 0.8 * g_y[i][q] + 0.2 * mr[i * T * D + q] + 0.05;
    CHECK_OK(ndyn_srnn_cobps(&d, close_rate, held, 2, &bps));
    CHECK(bps > 0);
    CHECK_CLOSE(bps, direct_bps(close_rate, held, 2), 1e-12, 1e-12);
    /* bad input */
    int out_of_range[] = {5};
    CHECK_FAILS(ndyn_srnn_cobps(&d, g_rate, out_of_range, 1, &bps), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_cobps(&d, g_rate, held, 0, &bps), NDYN_EINVAL);
    double keep = g_rate[1];
    g_rate[1] = 0; /* trial 0, step 0, channel 1 */
    if (g_y[0][1] > 0) CHECK_FAILS(ndyn_srnn_cobps(&d, g_rate, held, 2, &bps), NDYN_EINVAL);
    g_rate[1] = keep;
    for (int i = 0; i < NT; i++)
        for (int t = 0; t < T; t++) g_y[i][t * D + 1] = g_y[i][t * D + 4] = 0;
    CHECK_FAILS(ndyn_srnn_cobps(&d, g_rate, held, 2, &bps), NDYN_EINVAL); /* no held-out spikes */
}

TEST(heldout_pick)
{
    int a[40], b[40];
    size_t na, nb;
    CHECK_OK(ndyn_srnn_heldout_pick(40, 0.2, 9, a, &na));
    CHECK(na == 8);
    for (size_t q = 1; q < na; q++) CHECK(a[q] > a[q - 1]);
    CHECK(a[0] >= 0 && a[na - 1] < 40);
    CHECK_OK(ndyn_srnn_heldout_pick(40, 0.2, 9, b, &nb));
    CHECK(nb == na && !memcmp(a, b, na * sizeof(int)));
    CHECK_OK(ndyn_srnn_heldout_pick(3, 0.01, 9, a, &na));
    CHECK(na == 1);
    CHECK_OK(ndyn_srnn_heldout_pick(3, 0.99, 9, a, &na));
    CHECK(na == 2); /* at least one channel stays in */
    CHECK_FAILS(ndyn_srnn_heldout_pick(10, 0, 9, a, &na), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_heldout_pick(10, 1, 9, a, &na), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_heldout_pick(1, 0.5, 9, a, &na), NDYN_EINVAL);
}

static void small(ndyn_srnn_params *p)
{
    ndyn_srnn_params_default(p);
    p->K = 2;
    p->H = 3;
    p->emission = NDYN_SRNN_POISSON;
    p->n_emission_hidden = 1;
    p->emission_hidden[0] = 6;
    p->sampler_hidden = 6;
    p->init_epochs = 3;
    p->epochs = 3;
    p->eval_every = 3;
}

TEST(encoder_ignores_heldout_channels)
{
    size_t Ts[NT];
    const double *ys[NT];
    ndyn_srnn_data d;
    make_counts(&d, Ts, ys, 6);
    ndyn_srnn_params p;
    small(&p);
    int held[] = {3, 0}; /* any order */
    p.heldout = held;
    p.n_heldout = 2;
    ndyn_srnn_model *m = NULL;
    CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
    if (!m) return;
    CHECK(m->n_heldout == 2 && m->heldout[0] == 0 && m->heldout[1] == 3);
    CHECK(m->p.heldout == m->heldout);
    ndyn_srnn_result *r1 = NULL, *r2 = NULL;
    CHECK_OK(ndyn_srnn_infer(m, &d, &r1));
    /* change the held-out channels: the latent means must not move */
    static double save[NT][T * D];
    memcpy(save, g_y, sizeof save);
    for (int i = 0; i < NT; i++)
        for (int t = 0; t < T; t++) g_y[i][t * D + 0] += 3, g_y[i][t * D + 3] = 7;
    CHECK_OK(ndyn_srnn_infer(m, &d, &r2));
    if (r1 && r2) {
        CHECK(!memcmp(r1->h, r2->h, NT * T * 3 * sizeof(double)));
        CHECK(isfinite(r1->cobps) && isfinite(r1->cosmooth_mse));
        /* infer's co-bps is ndyn_srnn_cobps of its own yhat on the held-out channels */
        memcpy(g_y, save, sizeof save);
        double bps;
        CHECK_OK(ndyn_srnn_cobps(&d, r1->yhat, m->heldout, 2, &bps));
        CHECK(bps == r1->cobps);
        double direct = direct_bps(r1->yhat, m->heldout, 2);
        CHECK_CLOSE(r1->cobps, direct, 1e-12, 1e-12);
    }
    memcpy(g_y, save, sizeof save);
    /* the held-out columns of the encoders' input weights get no gradient (and stay 0) */
    double *Wx;
    size_t n;
    CHECK_OK(ndyn_srnn_param_view(m, "encf_Wx", &Wx, &n));
    double *g = calloc(m->n_theta, sizeof(double)), J;
    CHECK_OK(ndyn_srnn_objective(m, &d, NULL, NULL, 0, &J, g));
    double other = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < D; j++) {
            double gv = g[(Wx - m->theta) + i * D + j];
            if (j == 0 || j == 3) {
                CHECK(gv == 0);
                CHECK(Wx[i * D + j] == 0);
            } else {
                other = fmax(other, fabs(gv));
            }
        }
    CHECK(other > 0);
    free(g);
    /* without held-out channels the latent means do depend on channel 0 */
    ndyn_srnn_model *m0 = NULL;
    p.heldout = NULL;
    p.n_heldout = 0;
    CHECK_OK(ndyn_srnn_model_new(&p, D, &m0));
    ndyn_srnn_result *a = NULL, *b = NULL;
    CHECK_OK(ndyn_srnn_infer(m0, &d, &a));
    CHECK(a && isnan(a->cobps) && isnan(a->cosmooth_mse));
    for (int i = 0; i < NT; i++)
        for (int t = 0; t < T; t++) g_y[i][t * D] += 3;
    CHECK_OK(ndyn_srnn_infer(m0, &d, &b));
    if (a && b) CHECK(memcmp(a->h, b->h, NT * T * 3 * sizeof(double)) != 0);
    memcpy(g_y, save, sizeof save);
    ndyn_srnn_result_free(a);
    ndyn_srnn_result_free(b);
    ndyn_srnn_model_free(m0);
    /* the model file keeps the list */
    char path[256];
    t_tmp("srnn_heldout_model.npz", path, sizeof path);
    CHECK_OK(ndyn_srnn_save(m, path));
    ndyn_srnn_model *ml = NULL;
    CHECK_OK(ndyn_srnn_load(path, &ml));
    if (ml) {
        CHECK(ml->n_heldout == 2 && ml->heldout[0] == 0 && ml->heldout[1] == 3 && ml->p.heldout == ml->heldout);
        ndyn_srnn_result *r3 = NULL;
        CHECK_OK(ndyn_srnn_infer(ml, &d, &r3));
        if (r1 && r3) CHECK(r3->cobps == r1->cobps && !memcmp(r1->h, r3->h, NT * T * 3 * sizeof(double)));
        ndyn_srnn_result_free(r3);
    }
    ndyn_srnn_model_free(ml);
    ndyn_srnn_result_free(r1);
    ndyn_srnn_result_free(r2);
    ndyn_srnn_model_free(m);
}

TEST(heldout_validation)
{
    ndyn_srnn_params p;
    small(&p);
    ndyn_srnn_model *m = NULL;
    int dup[] = {1, 1}, range[] = {5}, all[] = {0, 1, 2, 3, 4}, neg[] = {-1};
    p.heldout = dup, p.n_heldout = 2;
    CHECK_FAILS(ndyn_srnn_model_new(&p, D, &m), NDYN_EINVAL);
    p.heldout = range, p.n_heldout = 1;
    CHECK_FAILS(ndyn_srnn_model_new(&p, D, &m), NDYN_EINVAL);
    p.heldout = neg, p.n_heldout = 1;
    CHECK_FAILS(ndyn_srnn_model_new(&p, D, &m), NDYN_EINVAL);
    p.heldout = all, p.n_heldout = 5;
    CHECK_FAILS(ndyn_srnn_model_new(&p, D, &m), NDYN_EINVAL);
    p.heldout = NULL, p.n_heldout = 1;
    CHECK_FAILS(ndyn_srnn_model_new(&p, D, &m), NDYN_EINVAL);
    CHECK(m == NULL);
}

RUN_TESTS(T(cobps_formula), T(heldout_pick), T(encoder_ignores_heldout_channels), T(heldout_validation))
