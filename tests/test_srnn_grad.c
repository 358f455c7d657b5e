/* The full SRNN objective (exact collapsed ELBO, plus the initialisation
 * cross-entropy) against central finite differences for every parameter
 * block, at fixed noise eps, Gaussian and Poisson emissions, linear and tanh
 * transitions, bidirectional and causal encoders (K=2, H=3, D=3, T=10). */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"

static const char *blocks[] = {"pi", "trans_W", "trans_b", "trans_B", "dyn_W", "dyn_b", "h0_mu",
                               "h0_logvar", "logvar_h", "logvar_y", "emis_W0", "emis_b0", "emis_W1",
                               "emis_b1", "emis_W2", "emis_b2", "encf_Wx", "encf_Wh", "encf_b",
                               "encb_Wx", "encb_Wh", "encb_b", "s1_W", "s1_b", "s2_W", "s2_b",
                               "m_Wa", "m_Ws", "m_b", "logvar_q"};

static void check_model(ndyn_srnn_params *p, int poisson, double coef)
{
    enum { NT = 3, T = 10, D = 3 };
    size_t Ts[NT] = {T, T, 7}; /* two lengths: two batches */
    static double ybuf[NT][T * D];
    const double *ys[NT];
    ndyn_rng r;
    ndyn_rng_init(&r, 21, 0);
    for (int i = 0; i < NT; i++) {
        for (int q = 0; q < T * D; q++)
            ybuf[i][q] = poisson ? (double)ndyn_rng_poisson(&r, 2.0) : ndyn_rng_normal(&r);
        ys[i] = ybuf[i];
    }
    ndyn_srnn_data d = {NT, D, Ts, ys, NULL, 0};
    size_t tot = 0;
    for (int i = 0; i < NT; i++) tot += Ts[i];
    ndyn_srnn_model *m;
    CHECK_OK(ndyn_srnn_model_new(p, D, &m));
    if (!m) return;
    /* move the variances away from their initial values and make the base matrix non-zero */
    for (size_t i = 0; i < m->n_theta; i++) m->theta[i] += 0.05 * ndyn_rng_normal(&r);
    double *eps = malloc(tot * p->H * sizeof(double)), *P = malloc(tot * p->K * sizeof(double));
    for (size_t i = 0; i < tot * p->H; i++) eps[i] = ndyn_rng_normal(&r);
    for (size_t t = 0; t < tot; t++) {
        double s = 0;
        for (int k = 0; k < p->K; k++) s += P[t * p->K + k] = ndyn_rng_uniform(&r) + 0.1;
        for (int k = 0; k < p->K; k++) P[t * p->K + k] /= s;
    }
    double *g = malloc(m->n_theta * sizeof(double)), J;
    CHECK_OK(ndyn_srnn_objective(m, &d, eps, P, coef, &J, g));
    CHECK(isfinite(J));
    const double h = 1e-6;
    for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
        double *v;
        size_t n;
        if (ndyn_srnn_param_view(m, blocks[bi], &v, &n) || n == 0) continue;
        double worst = 0, scale = 0;
        size_t off = (size_t)(v - m->theta);
        int frozen = (!p->learn_var_h && !strcmp(blocks[bi], "logvar_h")) ||
                     (!p->learn_var_y && !strcmp(blocks[bi], "logvar_y")) ||
                     (!p->learn_var_q && !strcmp(blocks[bi], "logvar_q"));
        if (frozen) { /* fixed variances: no gradient reaches them */
            for (size_t q = 0; q < n; q++) CHECK(g[off + q] == 0);
            continue;
        }
        for (size_t q = 0; q < n; q++) {
            double sv = v[q], fp, fm;
            v[q] = sv + h;
            ndyn_srnn_objective(m, &d, eps, P, coef, &fp, NULL);
            v[q] = sv - h;
            ndyn_srnn_objective(m, &d, eps, P, coef, &fm, NULL);
            v[q] = sv;
            double num = (fp - fm) / (2 * h);
            worst = fmax(worst, fabs(num - g[off + q]));
            scale = fmax(scale, fabs(num));
        }
        double rel = worst / fmax(scale, 1.0);
        if (rel > 1e-5)
            fprintf(stderr, "  block %-10s n=%3zu max|grad| %.3g max abs err %.3g rel %.3g\n", blocks[bi],
                    n, scale, worst, rel);
        CHECK(rel <= 1e-5);
    }
    free(g);
    free(eps);
    free(P);
    ndyn_srnn_model_free(m);
}

static void small(ndyn_srnn_params *p)
{
    ndyn_srnn_params_default(p);
    p->K = 2;
    p->H = 3;
    p->emission_hidden[0] = 5;
    p->emission_hidden[1] = 4;
    p->sampler_hidden = 6;
    p->seed = 3;
}

TEST(grad_gaussian)
{
    ndyn_srnn_params p;
    small(&p);
    check_model(&p, 0, 0.0);
}

TEST(grad_gaussian_cross_entropy)
{
    ndyn_srnn_params p;
    small(&p);
    check_model(&p, 0, 0.7);
}

TEST(grad_poisson_tanh_causal)
{
    ndyn_srnn_params p;
    small(&p);
    p.emission = NDYN_SRNN_POISSON;
    p.transition = NDYN_SRNN_TRANS_TANH;
    p.causal = 1;
    p.h0_prior = 0;
    check_model(&p, 1, 0.3);
}

TEST(grad_three_states_fixed_variances)
{
    ndyn_srnn_params p;
    small(&p);
    p.K = 3;
    p.trans_base = 0;
    p.learn_var_h = p.learn_var_y = 0;
    p.var_h = p.var_y = 0.05;
    check_model(&p, 0, 0.2);
}

RUN_TESTS(T(grad_gaussian), T(grad_gaussian_cross_entropy), T(grad_poisson_tanh_causal),
          T(grad_three_states_fixed_variances))
