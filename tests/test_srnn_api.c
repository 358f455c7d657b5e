/* SRNN public API: parameter and data validation with clear errors, model
 * files that load back bit-identically, the causal filter against the
 * smoother at the last step, the reparameterised noise scale, a short fit
 * that raises the ELBO, and the output shapes of infer/predict/sample/flow. */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/srnn.h"

static void tiny(ndyn_srnn_params *p)
{
    ndyn_srnn_params_default(p);
    p->K = 2;
    p->H = 3;
    p->emission_hidden[0] = 8;
    p->emission_hidden[1] = 8;
    p->sampler_hidden = 8;
    p->init_epochs = 20;
    p->epochs = 20;
    p->lr = 1e-2;
    p->eval_every = 5;
    p->eval_samples = 2;
}

enum { NT = 4, T = 30, D = 3 };
static double g_y[NT][T * D];
static int g_lab[NT][T];
static size_t g_T[NT];
static const double *g_ys[NT];
static const int *g_ls[NT];

static ndyn_srnn_data make_data(void)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (int i = 0; i < NT; i++) {
        for (int t = 0; t < T; t++) {
            int z = (t / 10) % 2;
            g_lab[i][t] = z;
            for (int j = 0; j < D; j++) g_y[i][t * D + j] = (z ? 1.0 : -1.0) * (j + 1) * 0.5 + 0.1 * ndyn_rng_normal(&r);
        }
        g_T[i] = T;
        g_ys[i] = g_y[i];
        g_ls[i] = g_lab[i];
    }
    ndyn_srnn_data d = {NT, D, g_T, g_ys, g_ls, 2};
    return d;
}

TEST(bad_params_and_data)
{
    ndyn_srnn_params p;
    tiny(&p);
    CHECK_OK(ndyn_srnn_check_params(&p));
    p.K = 0;
    CHECK_FAILS(ndyn_srnn_check_params(&p), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "K = 0") != NULL);
    tiny(&p);
    p.lr = -1;
    CHECK_FAILS(ndyn_srnn_check_params(&p), NDYN_EINVAL);
    tiny(&p);
    p.var_h = 0;
    CHECK_FAILS(ndyn_srnn_check_params(&p), NDYN_EINVAL);
    tiny(&p);
    ndyn_srnn_data d = make_data();
    CHECK_OK(ndyn_srnn_check_data(&d, &p));
    /* T < 2 */
    size_t Ts[NT] = {T, 1, T, T};
    ndyn_srnn_data d1 = d;
    d1.T = Ts;
    CHECK_FAILS(ndyn_srnn_check_data(&d1, &p), NDYN_ESHAPE);
    CHECK(strstr(ndyn_errmsg(), "T >= 2") != NULL);
    /* NaN */
    double save = g_y[2][5];
    g_y[2][5] = NAN;
    CHECK_FAILS(ndyn_srnn_check_data(&d, &p), NDYN_ENONFINITE);
    ndyn_srnn_model *m = NULL;
    CHECK_FAILS(ndyn_srnn_fit(&d, &p, &m), NDYN_ENONFINITE);
    CHECK(m == NULL);
    g_y[2][5] = save;
    /* negative counts with Poisson */
    p.emission = NDYN_SRNN_POISSON;
    CHECK_FAILS(ndyn_srnn_check_data(&d, &p), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "counts >= 0") != NULL);
    p.emission = NDYN_SRNN_GAUSSIAN;
    /* labels out of range */
    g_lab[1][3] = 5;
    CHECK_FAILS(ndyn_srnn_check_data(&d, &p), NDYN_EINVAL);
    g_lab[1][3] = 0;
    /* test trials leaving no training trial */
    p.test_trials = NT;
    CHECK_FAILS(ndyn_srnn_fit(&d, &p, &m), NDYN_EINVAL);
    /* labels init with labels >= K */
    tiny(&p);
    p.K = 1;
    p.init = NDYN_SRNN_INIT_LABELS;
    CHECK_FAILS(ndyn_srnn_fit(&d, &p, &m), NDYN_EINVAL);
    /* channel mismatch at inference */
    tiny(&p);
    CHECK_OK(ndyn_srnn_model_new(&p, D + 1, &m));
    ndyn_srnn_result *r = NULL;
    CHECK_FAILS(ndyn_srnn_infer(m, &d, &r), NDYN_ESHAPE);
    ndyn_srnn_model_free(m);
}

TEST(fit_save_load_infer)
{
    ndyn_srnn_params p;
    tiny(&p);
    p.test_trials = 1;
    ndyn_srnn_data d = make_data();
    ndyn_srnn_model *m = NULL, *m2 = NULL;
    CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
    if (!m) return;
    CHECK(m->hist.n == 8);
    /* the ELBO rises over training */
    CHECK(m->hist.train_elbo[m->hist.n - 1] > m->hist.train_elbo[0]);
    CHECK(isfinite(m->test_elbo));
    char path[256];
    t_tmp("srnn_model.npz", path, sizeof path);
    CHECK_OK(ndyn_srnn_save(m, path));
    CHECK_OK(ndyn_srnn_load(path, &m2));
    if (!m2) {
        ndyn_srnn_model_free(m);
        return;
    }
    CHECK(m2->n_theta == m->n_theta);
    CHECK(memcmp(m->theta, m2->theta, m->n_theta * sizeof(double)) == 0);
    CHECK(m2->hist.n == m->hist.n);
    CHECK(m2->p.K == 2 && m2->p.H == 3 && m2->p.seed == p.seed);
    ndyn_srnn_result *r1, *r2;
    CHECK_OK(ndyn_srnn_infer(m, &d, &r1));
    CHECK_OK(ndyn_srnn_infer(m2, &d, &r2));
    if (r1 && r2) {
        CHECK(memcmp(r1->posterior, r2->posterior, NT * T * 2 * sizeof(double)) == 0);
        CHECK(memcmp(r1->elbo, r2->elbo, NT * sizeof(double)) == 0);
        for (int q = 0; q < NT * T; q++) {
            double s = r1->posterior[2 * q] + r1->posterior[2 * q + 1];
            CHECK_CLOSE(s, 1, 1e-12, 0);
            CHECK(r1->states[q] == 0 || r1->states[q] == 1);
        }
        CHECK(isfinite(r1->state_error) && r1->state_map);
        /* Hungarian-matched error is never above the unmatched one */
        CHECK(r1->state_error <= r1->state_error_raw + 1e-12);
    }
    ndyn_srnn_result_free(r1);
    ndyn_srnn_result_free(r2);
    double *pred = malloc(NT * T * D * sizeof(double)), mse, r2v;
    CHECK_OK(ndyn_srnn_predict(m, &d, 2, pred, &mse, &r2v));
    CHECK(isnan(pred[0]) && isnan(pred[D + 1]) && isfinite(pred[2 * D]) && isfinite(mse));
    free(pred);
    double *ys = malloc(2 * 7 * D * sizeof(double)), *hs = malloc(2 * 7 * 3 * sizeof(double));
    int st[14];
    CHECK_OK(ndyn_srnn_sample(m, 2, 7, 5, ys, hs, st));
    int okst = 1;
    for (int q = 0; q < 14; q++) okst &= st[q] == 0 || st[q] == 1;
    CHECK(okst);
    free(ys);
    free(hs);
    ndyn_srnn_flow *f;
    CHECK_OK(ndyn_srnn_flow_compute(m, &d, 5, &f));
    if (f) {
        CHECK(f->G2 == 25 && f->K == 2 && f->total_T == NT * T);
        /* components orthonormal */
        double n0 = 0, n1 = 0, c = 0;
        for (int a = 0; a < 3; a++) n0 += f->comps[a] * f->comps[a], n1 += f->comps[3 + a] * f->comps[3 + a], c += f->comps[a] * f->comps[3 + a];
        CHECK_CLOSE(n0, 1, 1e-10, 0);
        CHECK_CLOSE(n1, 1, 1e-10, 0);
        CHECK_CLOSE(c, 0, 1e-10, 0);
    }
    ndyn_srnn_flow_free(f);
    /* a corrupted file is refused */
    ndyn_srnn_model_free(m2);
    ndyn_srnn_model *m3 = NULL;
    CHECK(ndyn_srnn_load("does/not/exist.npz", &m3) != 0 && m3 == NULL);
    /* a file without the model entries is refused */
    char p2[256];
    t_tmp("srnn_hist.npz", p2, sizeof p2);
    CHECK_OK(ndyn_srnn_save_history(m, p2));
    CHECK_FAILS(ndyn_srnn_load(p2, &m3), NDYN_EFORMAT);
    ndyn_srnn_model_free(m);
}

TEST(filter_matches_smoother_at_last_step)
{
    /* For a causal model the filtered p(z_T-1 | y) equals the smoothed gamma at
     * the last step and the latent means agree at every step: two code paths. */
    ndyn_srnn_params p;
    tiny(&p);
    p.causal = 1;
    p.K = 3;
    ndyn_srnn_data d = make_data();
    ndyn_srnn_model *m;
    CHECK_OK(ndyn_srnn_model_new(&p, D, &m));
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    for (size_t i = 0; i < m->n_theta; i++) m->theta[i] += 0.3 * ndyn_rng_normal(&r);
    ndyn_srnn_data d1 = d;
    d1.n_trials = 1;
    ndyn_srnn_result *res;
    CHECK_OK(ndyn_srnn_infer(m, &d1, &res));
    ndyn_srnn_filter *f;
    CHECK_OK(ndyn_srnn_filter_new(m, &f));
    double filt[3], h[3];
    double maxdh = 0;
    for (int t = 0; t < T; t++) {
        CHECK_OK(ndyn_srnn_filter_step(f, g_y[0] + t * D, filt, h));
        for (int a = 0; a < 3; a++) maxdh = fmax(maxdh, fabs(h[a] - res->h[t * 3 + a]));
    }
    CHECK(maxdh < 1e-12);
    for (int k = 0; k < 3; k++) CHECK_CLOSE(filt[k], res->posterior[(T - 1) * 3 + k], 1e-10, 0);
    ndyn_srnn_filter_free(f);
    ndyn_srnn_result_free(res);
    ndyn_srnn_model_free(m);
    /* a bidirectional model refuses to filter */
    p.causal = 0;
    CHECK_OK(ndyn_srnn_model_new(&p, D, &m));
    CHECK_FAILS(ndyn_srnn_filter_new(m, &f), NDYN_EINVAL);
    ndyn_srnn_model_free(m);
}

TEST(entropy_of_q)
{
    /* At eps = 0 the latents do not depend on var_q, so the objective changes
     * only through the entropy of q: J(4 v) - J(v) = (T B H / 2) log 4. (The
     * pathwise dependence h~ = mu + sqrt(v_q) eps is covered by the gradient
     * test.) */
    ndyn_srnn_params p;
    tiny(&p);
    p.learn_var_q = 0;
    p.var_q = 1e-4;
    ndyn_srnn_data d = make_data();
    ndyn_srnn_model *m;
    CHECK_OK(ndyn_srnn_model_new(&p, D, &m));
    double J1, J2;
    CHECK_OK(ndyn_srnn_objective(m, &d, NULL, NULL, 0, &J1, NULL));
    double *lv;
    size_t n;
    CHECK_OK(ndyn_srnn_param_view(m, "logvar_q", &lv, &n));
    for (size_t i = 0; i < n; i++) lv[i] += log(4.0); /* var_q x 4 -> std x 2 */
    CHECK_OK(ndyn_srnn_objective(m, &d, NULL, NULL, 0, &J2, NULL));
    CHECK_CLOSE(J2 - J1, NT * T * 3 * 0.5 * log(4.0), 1e-8, 1e-10);
    /* per-step entropy constant at var 1e-4, H = 3: (H/2)(1 + log(2 pi 1e-4)) = -9.5587 */
    CHECK_CLOSE(1.5 * (1 + log(2 * M_PI * 1e-4)), -9.5587, 1e-4, 0);
    ndyn_srnn_model_free(m);
}

TEST(fit_variants)
{
    /* minibatches of trials, trials of different lengths, restarts, every init
     * method, the compatibility objective with a summed loss: each runs, keeps
     * the ELBO finite and is reproducible from the seed */
    ndyn_srnn_data d = make_data();
    size_t Ts[NT] = {T, T - 7, T, T - 7};
    d.T = Ts;
    for (int init = NDYN_SRNN_INIT_KMEANS; init <= NDYN_SRNN_INIT_NONE; init++) {
        ndyn_srnn_params p;
        tiny(&p);
        p.init = init;
        p.init_epochs = 6;
        p.epochs = 6;
        p.batch_trials = init % 2 ? 1 : 0;
        p.restarts = init == NDYN_SRNN_INIT_HMM ? 2 : 1;
        p.test_trials = init == NDYN_SRNN_INIT_RANDOM ? 1 : 0;
        if (init == NDYN_SRNN_INIT_UNIFORM) p.objective = NDYN_SRNN_OBJ_COMPAT, p.loss_sum = 1, p.clip = 1.0;
        if (init == NDYN_SRNN_INIT_BLOCKS) p.fresh_optimizer = 1;
        ndyn_srnn_model *m = NULL, *m2 = NULL;
        CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
        CHECK_OK(ndyn_srnn_fit(&d, &p, &m2));
        if (m && m2) {
            CHECK(isfinite(m->train_elbo));
            CHECK(memcmp(m->theta, m2->theta, m->n_theta * sizeof(double)) == 0);
        }
        ndyn_srnn_model_free(m);
        ndyn_srnn_model_free(m2);
    }
}

TEST(model_file_nn_format_and_legacy)
{
    /* a model file of the earlier SRNN-only layout (srnn_format 1, written by ndyn before
     * the move to the nn model file: `srnn fit -K 2 -H 2 --emission-hidden 4
     * --sampler-hidden 4` on 3 channels) still loads: its arrays read raw from the npz are the
     * model's blocks */
    ndyn_srnn_model *m = NULL, *m2 = NULL;
    const char *leg = NDYN_TEST_FIXTURES "/srnn/legacy_model_v1.npz";
    CHECK_OK(ndyn_srnn_load(leg, &m));
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(leg, &ds));
    if (!m || !ds) {
        ndyn_srnn_model_free(m);
        ndyn_dataset_free(ds);
        return;
    }
    CHECK(m->p.K == 2 && m->p.H == 2 && m->N == 3 && m->p.sampler_hidden == 4 && m->p.n_emission_hidden == 1);
    const char *names[] = {"pi", "trans_W", "dyn_W", "emis_W0", "emis_b1", "encb_Wh", "s1_W", "m_b", "logvar_q"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const ndyn_array *a;
        double *v;
        size_t n;
        CHECK_OK(ndyn_dataset_get(ds, names[i], &a));
        CHECK_OK(ndyn_srnn_param_view(m, names[i], &v, &n));
        CHECK(a->size == n && !memcmp(a->data, v, n * sizeof(double)));
    }
    CHECK(m->hist.n == 2);
    ndyn_dataset_free(ds);
    /* saved again it is an nn model file (kind "srnn", checksummed) that loads back bit for bit */
    char path[256];
    t_tmp("srnn_api_nn_model.npz", path, sizeof path);
    CHECK_OK(ndyn_srnn_save(m, path));
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(path, &ds));
    if (ds) {
        CHECK(ndyn_dataset_find(ds, "meta") && ndyn_dataset_find(ds, "hparams") && ndyn_dataset_find(ds, "param/dyn_W"));
        const ndyn_named_array *na = ndyn_dataset_find(ds, "param/dyn_W");
        const ndyn_array *a = na ? na->array : NULL;
        if (a) CHECK(a->ndim == 3 && a->shape[0] == 2 && a->shape[1] == 2 && a->shape[2] == 2);
    }
    ndyn_dataset_free(ds);
    ndyn_error_clear();
    CHECK_OK(ndyn_srnn_load(path, &m2));
    if (m2) {
        CHECK(m2->n_theta == m->n_theta && !memcmp(m2->theta, m->theta, m->n_theta * sizeof(double)));
        CHECK(m2->p.seed == m->p.seed && m2->hist.n == m->hist.n && m2->hist.epoch[1] == m->hist.epoch[1]);
        CHECK(memcmp(&m2->train_elbo, &m->train_elbo, sizeof(double)) == 0);
    }
    ndyn_srnn_model_free(m2);
    ndyn_srnn_model_free(m);
    /* a file that is not an SRNN model is refused */
    m2 = NULL;
    CHECK_FAILS(ndyn_srnn_load(NDYN_TEST_FIXTURES "/srnn/compat_ref.npz", &m2), NDYN_EFORMAT);
}

RUN_TESTS(T(bad_params_and_data), T(fit_variants), T(fit_save_load_infer), T(filter_matches_smoother_at_last_step),
          T(entropy_of_q), T(model_file_nn_format_and_legacy))
