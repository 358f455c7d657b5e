/* Choosing K (src/srnn/select.c): the gain rule on held-out ELBO arrays worked
 * out by hand (elbow, no elbow, ties, all gains negative, kmin > 1, the
 * threshold itself, bad input); removing a state that carries no probability
 * leaves the exact collapsed ELBO unchanged, at the middle state and with the
 * optional blocks absent; and the sweep's bookkeeping on a tiny problem: the
 * kept fit of each K is the fresh or the warm one by training ELBO, the
 * returned model's held-out ELBO is what ndyn_srnn_infer gives on the held-out
 * trials, passing the held-out trials separately gives the same selection, a
 * diverging warm fit leaves the fresh one,
 * and bad ranges fail with a message. */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"

TEST(rule_hand_worked)
{
    int c = 0, b = 0;
    /* the science test's numbers (docs/srnn.md): gains 0, 2.17, 2.42, 2.27; 0.8 x 2.42 = 1.936 */
    double e1[] = {22.63, 24.80, 25.05, 24.90};
    CHECK_OK(ndyn_srnn_choose_k_rule(e1, 1, 4, 0.8, &c, &b));
    CHECK(c == 2 && b == 3);
    /* no elbow: gains 1, 2, 3; 0.8 x 3 = 2.4, only K = 4 reaches it */
    double e2[] = {0, 1, 2, 3};
    CHECK_OK(ndyn_srnn_choose_k_rule(e2, 1, 4, 0.8, &c, &b));
    CHECK(c == 4 && b == 4);
    /* with a fraction of 0.5 the same gains choose K = 3 (2 >= 1.5) */
    CHECK_OK(ndyn_srnn_choose_k_rule(e2, 1, 4, 0.5, &c, &b));
    CHECK(c == 3 && b == 4);
    /* ties at the top: the smallest K of the largest ELBO, which is also the rule's */
    double e3[] = {1, 3, 3, 3};
    CHECK_OK(ndyn_srnn_choose_k_rule(e3, 1, 4, 0.8, &c, &b));
    CHECK(c == 2 && b == 2);
    /* all equal: no gain, kmin */
    double e4[] = {5, 5, 5};
    CHECK_OK(ndyn_srnn_choose_k_rule(e4, 1, 3, 0.8, &c, &b));
    CHECK(c == 1 && b == 1);
    /* all gains negative: kmin, which is also the largest */
    double e5[] = {10, 9, 8, 7};
    CHECK_OK(ndyn_srnn_choose_k_rule(e5, 1, 4, 0.8, &c, &b));
    CHECK(c == 1 && b == 1);
    /* kmin = 2: gains over K = 2 are 0, 2, 2.1, 1; 0.8 x 2.1 = 1.68, K = 3 reaches it */
    double e6[] = {-3, -1, -0.9, -2};
    CHECK_OK(ndyn_srnn_choose_k_rule(e6, 2, 5, 0.8, &c, &b));
    CHECK(c == 3 && b == 4);
    /* gains negative then positive: 10, 8, 12 -> gains 0, -2, 2; K = 3 */
    double e7[] = {10, 8, 12};
    CHECK_OK(ndyn_srnn_choose_k_rule(e7, 1, 3, 0.8, &c, &b));
    CHECK(c == 3 && b == 3);
    /* the threshold itself counts: gain 0.5 >= 0.5 x 1 */
    double e8[] = {0, 0.5, 1};
    CHECK_OK(ndyn_srnn_choose_k_rule(e8, 1, 3, 0.5, &c, &b));
    CHECK(c == 2 && b == 3);
    /* fraction 1: the largest */
    double e9[] = {0, 0.99, 1};
    CHECK_OK(ndyn_srnn_choose_k_rule(e9, 1, 3, 1.0, &c, NULL));
    CHECK(c == 3);
    /* one K */
    double e10[] = {-4};
    CHECK_OK(ndyn_srnn_choose_k_rule(e10, 3, 3, 0.8, NULL, &b));
    CHECK(b == 3);
    /* bad input */
    double e11[] = {1, NAN, 2};
    CHECK_FAILS(ndyn_srnn_choose_k_rule(e11, 1, 3, 0.8, &c, &b), NDYN_ENONFINITE);
    CHECK(strstr(ndyn_errmsg(), "K = 2") != NULL);
    CHECK_FAILS(ndyn_srnn_choose_k_rule(e1, 1, 4, 0, &c, &b), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_choose_k_rule(e1, 1, 4, 1.5, &c, &b), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_choose_k_rule(e1, 3, 2, 0.8, &c, &b), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_choose_k_rule(e1, 0, 3, 0.8, &c, &b), NDYN_EINVAL);
}

enum { NT = 6, T = 24, D = 3 };
static double g_y[NT][T * D];
static int g_lab[NT][T];
static size_t g_T[NT];
static const double *g_ys[NT];
static const int *g_ls[NT];
static double g_eps[NT * T * 4];

/* Two regimes in blocks of 8 steps at opposite levels, plus noise. */
static ndyn_srnn_data make_data(void)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 5, 0);
    for (int i = 0; i < NT; i++) {
        for (int t = 0; t < T; t++) {
            int z = (t / 8 + i) % 2;
            g_lab[i][t] = z;
            for (int j = 0; j < D; j++) g_y[i][t * D + j] = (z ? 1.0 : -1.0) * (j + 1) * 0.4 + 0.2 * ndyn_rng_normal(&r);
        }
        g_T[i] = T;
        g_ys[i] = g_y[i];
        g_ls[i] = g_lab[i];
    }
    for (size_t q = 0; q < sizeof g_eps / sizeof g_eps[0]; q++) g_eps[q] = ndyn_rng_normal(&r);
    ndyn_srnn_data d = {NT, D, g_T, g_ys, g_ls, 2};
    return d;
}

static void tiny(ndyn_srnn_params *p)
{
    ndyn_srnn_params_default(p);
    p->H = 2;
    p->emission_hidden[0] = 8;
    p->emission_hidden[1] = 8;
    p->sampler_hidden = 8;
    p->init_epochs = 10;
    p->epochs = 30;
    p->lr = 1e-2;
    p->eval_every = 10;
    p->eval_samples = 2;
}

/* Make state k of m carry no probability: its initial logit and every logit
 * into it at -80 (through the base matrix, or the bias without one). */
static void silence_state(ndyn_srnn_model *m, int k)
{
    int K = m->p.K;
    double *pi, *W, *b, *B;
    size_t n;
    CHECK_OK(ndyn_srnn_param_view(m, "pi", &pi, &n));
    CHECK_OK(ndyn_srnn_param_view(m, "trans_W", &W, &n));
    CHECK_OK(ndyn_srnn_param_view(m, "trans_b", &b, &n));
    pi[k] = -80;
    for (int j = 0; j < K; j++) {
        for (int h = 0; h < m->p.H; h++) W[(k * K + j) * m->p.H + h] = 0;
        b[k * K + j] = m->p.trans_base ? 0 : -80;
    }
    if (m->p.trans_base) {
        CHECK_OK(ndyn_srnn_param_view(m, "trans_B", &B, &n));
        for (int j = 0; j < K; j++) B[k * K + j] = -80;
    }
}

/* The reduced model against the full one with state k silenced; also that
 * the kept states' blocks moved to their new indices. */
static void check_removal(const ndyn_srnn_params *p, int k)
{
    ndyn_srnn_data d = make_data();
    ndyn_srnn_model *m = NULL, *r = NULL;
    CHECK_OK(ndyn_srnn_model_new(p, D, &m));
    if (!m) return;
    silence_state(m, k);
    CHECK_OK(ndyn_srnn_remove_state(m, k, &r));
    if (r) {
        CHECK(r->p.K == p->K - 1 && r->N == m->N);
        double J_full = 0, J_cut = 0;
        CHECK_OK(ndyn_srnn_objective(m, &d, g_eps, NULL, 0, &J_full, NULL));
        CHECK_OK(ndyn_srnn_objective(r, &d, g_eps, NULL, 0, &J_cut, NULL));
        CHECK_CLOSE(J_cut, J_full, 1e-9, 1e-12);
        /* the last new state is old state K-1 (K-2 when K-1 is the one removed) */
        double *a, *b;
        size_t na, nb;
        CHECK_OK(ndyn_srnn_param_view(m, "dyn_W", &a, &na));
        CHECK_OK(ndyn_srnn_param_view(r, "dyn_W", &b, &nb));
        size_t HH = (size_t)p->H * p->H, src = (size_t)(k == p->K - 1 ? p->K - 2 : p->K - 1);
        CHECK(nb == na - HH);
        CHECK(!memcmp(b + (nb - HH), a + src * HH, HH * sizeof(double)));
        CHECK_OK(ndyn_srnn_param_view(m, "emis_W0", &a, &na));
        CHECK_OK(ndyn_srnn_param_view(r, "emis_W0", &b, &nb));
        CHECK(na == nb && !memcmp(a, b, na * sizeof(double)));
        /* removing a state that carries probability changes the ELBO */
        ndyn_srnn_model *r0 = NULL;
        CHECK_OK(ndyn_srnn_remove_state(m, k == 0 ? 1 : 0, &r0));
        double J0 = 0;
        if (r0) CHECK_OK(ndyn_srnn_objective(r0, &d, g_eps, NULL, 0, &J0, NULL));
        CHECK(fabs(J0 - J_full) > 1e-3);
        ndyn_srnn_model_free(r0);
    }
    ndyn_srnn_model_free(r);
    ndyn_srnn_model_free(m);
}

TEST(remove_silent_state_keeps_elbo)
{
    ndyn_srnn_params p;
    tiny(&p);
    p.K = 3;
    p.H = 3;
    check_removal(&p, 1);
    check_removal(&p, 2);
    check_removal(&p, 0);
    /* no base matrix (the bias silences the state), no h_0 prior, causal encoder */
    p.trans_base = 0;
    p.h0_prior = 0;
    p.causal = 1;
    p.K = 4;
    check_removal(&p, 2);
    /* K = 2 -> 1 */
    tiny(&p);
    check_removal(&p, 0);
    /* bad input */
    ndyn_srnn_model *m = NULL, *r = NULL;
    p.K = 1;
    CHECK_OK(ndyn_srnn_model_new(&p, D, &m));
    CHECK_FAILS(ndyn_srnn_remove_state(m, 0, &r), NDYN_EINVAL);
    ndyn_srnn_model_free(m);
    p.K = 3;
    CHECK_OK(ndyn_srnn_model_new(&p, D, &m));
    CHECK_FAILS(ndyn_srnn_remove_state(m, 3, &r), NDYN_EINVAL);
    CHECK_FAILS(ndyn_srnn_remove_state(m, -1, &r), NDYN_EINVAL);
    CHECK(r == NULL);
    ndyn_srnn_model_free(m);
}

TEST(choose_k_bookkeeping)
{
    ndyn_srnn_data d = make_data();
    ndyn_srnn_params p;
    tiny(&p);
    p.test_trials = 2;
    ndyn_srnn_select_params sp;
    ndyn_srnn_select_params_default(&sp);
    CHECK(sp.kmin == 1 && sp.kmax == 4 && sp.gain_frac == 0.8 && sp.warm_start == 1);
    sp.kmax = 3;
    ndyn_srnn_selection *s = NULL;
    CHECK_OK(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s));
    if (!s) return;
    CHECK(s->n_k == 3 && s->n_heldout == 2 && s->kmin == 1 && s->kmax == 3);
    for (size_t i = 0; i < s->n_k; i++) {
        CHECK(isfinite(s->heldout_elbo[i]) && isfinite(s->fresh_heldout_elbo[i]) && isfinite(s->train_elbo[i]));
        /* per step = the held-out trials' ELBOs over their steps */
        CHECK_CLOSE(s->heldout_elbo[i], (s->heldout_trial[i * 2] + s->heldout_trial[i * 2 + 1]) / (2.0 * T), 1e-12,
                    1e-12);
        CHECK(s->state_error[i] >= 0 && s->state_error[i] <= 1);
        if (i + 1 == s->n_k) {
            CHECK(s->removed[i] == -1 && !s->warm[i] && isnan(s->warm_train_elbo[i]));
        } else {
            CHECK(s->removed[i] >= 0 && s->removed[i] <= (int)i + 1 && isfinite(s->warm_train_elbo[i]));
            /* kept by training ELBO, never by the held-out one */
            CHECK(s->warm[i] == (s->warm_train_elbo[i] > s->fresh_train_elbo[i]));
            CHECK(s->heldout_elbo[i] == (s->warm[i] ? s->warm_heldout_elbo[i] : s->fresh_heldout_elbo[i]));
            CHECK(s->train_elbo[i] == (s->warm[i] ? s->warm_train_elbo[i] : s->fresh_train_elbo[i]));
        }
    }
    int c, b;
    CHECK_OK(ndyn_srnn_choose_k_rule(s->heldout_elbo, 1, 3, 0.8, &c, &b));
    CHECK(s->chosen == c && s->best == b);
    CHECK_OK(ndyn_srnn_choose_k_rule(s->fresh_heldout_elbo, 1, 3, 0.8, &c, NULL));
    CHECK(s->fresh_chosen == c);
    /* the returned model is the chosen K's, and infer on the held-out trials agrees */
    CHECK(s->model && s->model->p.K == s->chosen);
    if (s->model) {
        ndyn_srnn_data ho = d;
        ho.n_trials = 2;
        ndyn_srnn_result *r = NULL;
        CHECK_OK(ndyn_srnn_infer(s->model, &ho, &r));
        if (r) CHECK_CLOSE((r->elbo[0] + r->elbo[1]) / (2.0 * T), s->heldout_elbo[s->chosen - 1], 1e-12, 1e-12);
        ndyn_srnn_result_free(r);
        CHECK_CLOSE(s->model->test_elbo, s->heldout_elbo[s->chosen - 1], 0, 0);
    }
    /* the same split passed as two data sets gives the same selection */
    ndyn_srnn_data tr = d, ho = d;
    tr.n_trials = NT - 2, tr.T = d.T + 2, tr.y = d.y + 2, tr.labels = d.labels + 2;
    ho.n_trials = 2;
    p.test_trials = 0;
    sp.keep_model = 0;
    ndyn_srnn_selection *s2 = NULL;
    CHECK_OK(ndyn_srnn_choose_k(&tr, &ho, &p, &sp, &s2));
    if (s2) {
        CHECK(s2->chosen == s->chosen && s2->model == NULL);
        for (size_t i = 0; i < s->n_k; i++) CHECK(s2->heldout_elbo[i] == s->heldout_elbo[i]);
    }
    ndyn_srnn_selection_free(s2);
    /* without warm starts the fresh fits are the same ones */
    sp.warm_start = 0;
    s2 = NULL;
    CHECK_OK(ndyn_srnn_choose_k(&tr, &ho, &p, &sp, &s2));
    if (s2) {
        CHECK(s2->chosen == s->fresh_chosen);
        for (size_t i = 0; i < s->n_k; i++) {
            CHECK(s2->heldout_elbo[i] == s->fresh_heldout_elbo[i] && !s2->warm[i] && s2->removed[i] == -1);
        }
    }
    ndyn_srnn_selection_free(s2);
    ndyn_srnn_selection_free(s);
    /* a warm fit that diverges (lr 1e8) leaves the fresh fit, with a warning */
    sp.warm_start = 1, sp.kmax = 2, sp.warm_lr = 1e8;
    s2 = NULL;
    CHECK_OK(ndyn_srnn_choose_k(&tr, &ho, &p, &sp, &s2));
    if (s2) CHECK(!s2->warm[0] && s2->removed[0] >= 0 && isnan(s2->warm_train_elbo[0]) &&
                  s2->heldout_elbo[0] == s2->fresh_heldout_elbo[0]);
    ndyn_srnn_selection_free(s2);
}

TEST(choose_k_bad_input)
{
    ndyn_srnn_data d = make_data();
    ndyn_srnn_params p;
    tiny(&p);
    ndyn_srnn_select_params sp;
    ndyn_srnn_select_params_default(&sp);
    ndyn_srnn_selection *s = NULL;
    /* no held-out trials */
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "held-out") != NULL);
    p.test_trials = NT;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    /* held-out data and test_trials both */
    p.test_trials = 2;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, &d, &p, &sp, &s), NDYN_EINVAL);
    /* ranges */
    sp.kmin = 0;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "range") != NULL);
    sp.kmin = 3, sp.kmax = 2;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    sp.kmin = 1, sp.kmax = 65;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    sp.kmax = 2, sp.gain_frac = 0;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    sp.gain_frac = 0.8, sp.warm_epochs = -1;
    CHECK_FAILS(ndyn_srnn_choose_k(&d, NULL, &p, &sp, &s), NDYN_EINVAL);
    /* held-out channels differ */
    sp.warm_epochs = 0;
    ndyn_srnn_data ho = d;
    ho.N = 2;
    p.test_trials = 0;
    CHECK(ndyn_srnn_choose_k(&d, &ho, &p, &sp, &s) != NDYN_OK);
    CHECK(s == NULL);
}

RUN_TESTS(T(rule_hand_worked), T(remove_silent_state_keeps_elbo), T(choose_k_bookkeeping), T(choose_k_bad_input))
