/* The full SRNN objective (exact collapsed ELBO, plus the initialisation
 * cross-entropy) against central finite differences for every parameter
 * block, at fixed noise eps, Gaussian and Poisson emissions, linear and tanh
 * transitions, bidirectional and causal encoders (K=2, H=3, D=3, T=10). */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"
#include "srnn_test_util.h"

static void check_model(ndyn_srnn_params *p, int poisson, double coef)
{
    enum { NT = 3, T = 10, D = 3 };
    const size_t Ts[NT] = {T, T, 7}; /* two lengths: two batches */
    /* the perturbation moves the variances away from their initial values
     * and makes the base matrix non-zero */
    t_srnn_problem pb;
    int made = t_srnn_problem_make(&pb, p, NT, Ts, D, poisson, 21);
    CHECK(made == 0);
    if (made) { t_srnn_problem_free(&pb); return; }
    ndyn_srnn_model *m = pb.m;
    const ndyn_srnn_data d = pb.d;
    const double *eps = pb.eps, *P = pb.P;
    double *g = malloc(m->n_theta * sizeof(double)), J;
    CHECK_OK(ndyn_srnn_objective(m, &d, eps, P, coef, &J, g));
    CHECK(isfinite(J));
    const double h = 1e-6;
    for (size_t bi = 0; bi < T_SRNN_NBLOCKS; bi++) {
        double *v;
        size_t n;
        if (ndyn_srnn_param_view(m, t_srnn_blocks[bi], &v, &n) || n == 0) continue;
        double worst = 0, scale = 0;
        size_t off = (size_t)(v - m->theta);
        int frozen = (!p->learn_var_h && !strcmp(t_srnn_blocks[bi], "logvar_h")) ||
                     (!p->learn_var_y && !strcmp(t_srnn_blocks[bi], "logvar_y")) ||
                     (!p->learn_var_q && !strcmp(t_srnn_blocks[bi], "logvar_q"));
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
            fprintf(stderr, "  block %-10s n=%3zu max|grad| %.3g max abs err %.3g rel %.3g\n", t_srnn_blocks[bi],
                    n, scale, worst, rel);
        CHECK(rel <= 1e-5);
    }
    free(g);
    t_srnn_problem_free(&pb);
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

TEST(grad_compat_objective)
{
    /* the reference's objective, gamma and delta differentiated (not detached) */
    ndyn_srnn_params p;
    small(&p);
    p.objective = NDYN_SRNN_OBJ_COMPAT;
    p.transition = NDYN_SRNN_TRANS_TANH;
    check_model(&p, 0, 0.0);
    p.K = 3;
    check_model(&p, 0, 0.4);
}

RUN_TESTS(T(grad_compat_objective), T(grad_gaussian), T(grad_gaussian_cross_entropy), T(grad_poisson_tanh_causal),
          T(grad_three_states_fixed_variances))
