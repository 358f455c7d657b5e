/* The full SRNN objective (exact collapsed ELBO, plus the initialisation
 * cross-entropy) against central finite differences for every parameter
 * block, at fixed noise eps, Gaussian and Poisson emissions, linear and tanh
 * transitions, bidirectional and causal encoders (K=2, H=3, D=3, T=10); and a
 * model whose probability-domain forward-backward falls back to the log domain
 * (the gradient pass builds that trial's log transitions only then). */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"
#include "srnn/srnn_internal.h"
#include "srnn_test_util.h"

/* every block of the problem's gradient against central differences */
static void check_problem(t_srnn_problem *pb, const ndyn_srnn_params *p, double coef)
{
    ndyn_srnn_model *m = pb->m;
    const ndyn_srnn_data d = pb->d;
    const double *eps = pb->eps, *P = pb->P;
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
}

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
    check_problem(&pb, p, coef);
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

/* set every entry of a parameter block to v */
static void set_block(ndyn_srnn_model *m, const char *name, const double *v, size_t nv)
{
    double *x;
    size_t n;
    CHECK_OK(ndyn_srnn_param_view(m, name, &x, &n));
    CHECK(n == nv);
    for (size_t q = 0; q < n && q < nv; q++) x[q] = v[q];
}

TEST(grad_log_domain_fallback)
{
    /* A model whose probability-domain forward-backward underflows: the transitions never
     * enter state 1 (column softmax of logits +-400: exp(-800) = 0 in double) while the
     * dynamics (F_0 = +1, F_1 = -1, v_h = 1e-3) put its evidence hundreds of nats above
     * state 0's wherever sum_d h_d < 0. The plain ELBO's gradient pass then builds the log
     * transitions of that trial only when it falls back; the value must equal the
     * evaluation pass's (which builds them for every row) and the gradient the central
     * differences. One trial: the batch's time-major arrays are the trial's. */
    enum { T = 10, D = 3 };
    const size_t Ts[1] = {T};
    ndyn_srnn_params p;
    small(&p);
    t_srnn_problem pb;
    int made = t_srnn_problem_make(&pb, &p, 1, Ts, D, 0, 5);
    CHECK(made == 0);
    if (made) { t_srnn_problem_free(&pb); return; }
    ndyn_srnn_model *m = pb.m;
    const int K = 2;
    const double tb[4] = {400, 400, -400, -400}, db[6] = {30, 30, 30, -30, -30, -30},
                 lvh[3] = {log(1e-3), log(1e-3), log(1e-3)};
    set_block(m, "trans_b", tb, 4);
    set_block(m, "dyn_b", db, 6);
    set_block(m, "logvar_h", lvh, 3);
    /* the evaluation pass's e and S: the probability-domain pass must report a fallback */
    srnn_layout l;
    srnn_layout_make(&m->p, D, &l);
    srnn_ws *w = srnn_ws_alloc(&l, 1, T);
    CHECK(w != NULL);
    double J0 = 0;
    if (w) {
        CHECK_OK(srnn_batch(m, &l, w, pb.y, pb.eps, NULL, 0, &J0, NULL, NULL, NULL));
        double A[T * 4], gam[T * 2], xi[T * 4], scr[4 * T * 2], lp;
        const double *S = srnn_ws_S(w);
        for (int q = K * K; q < T * K * K; q++) A[q] = exp(S[q]);
        CHECK(srnn_fb_prob(srnn_ws_lpi(w), A, srnn_ws_e(w), T, K, gam, xi, &lp, scr) == 1);
        srnn_ws_free(w);
    }
    CHECK(isfinite(J0));
    for (int prec = 0; prec < 2; prec++) {
        m->p.precision = prec ? NDYN_SRNN_F32 : NDYN_SRNN_F64;
        double Jg, Jn, *g = malloc(m->n_theta * sizeof(double));
        CHECK_OK(ndyn_srnn_objective(m, &pb.d, pb.eps, NULL, 0, &Jn, NULL));
        CHECK_OK(ndyn_srnn_objective(m, &pb.d, pb.eps, NULL, 0, &Jg, g));
        CHECKF(Jg == Jn, "precision %d: J with gradient %.17g, without %.17g", prec, Jg, Jn);
        free(g);
    }
    m->p.precision = NDYN_SRNN_F64;
    check_problem(&pb, &p, 0.0);
    t_srnn_problem_free(&pb);
}

RUN_TESTS(T(grad_log_domain_fallback), T(grad_compat_objective), T(grad_gaussian), T(grad_gaussian_cross_entropy), T(grad_poisson_tanh_causal),
          T(grad_three_states_fixed_variances))
