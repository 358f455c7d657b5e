/* The float32 training path (ndyn_srnn_params.precision = f32) against the
 * double path: the objective and every gradient block agree to float32
 * tolerance at the default network sizes, for Gaussian and Poisson emissions,
 * the cross-entropy term, tanh transitions, the causal encoder and the compat
 * objective; a short training run follows the same loss curve. The double
 * path itself is checked against finite differences (test_srnn_grad) and
 * PyTorch (test_srnn_parity). */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"
#include "srnn_test_util.h"

enum { NT = 4, TMAX = 30, D = 5 };

static void compare(ndyn_srnn_params *p, int poisson, double coef)
{
    const size_t Ts[NT] = {TMAX, TMAX, 17, TMAX};
    t_srnn_problem pb;
    int made = t_srnn_problem_make(&pb, p, NT, Ts, D, poisson, 5);
    CHECK(made == 0);
    if (made) { t_srnn_problem_free(&pb); return; }
    ndyn_srnn_model *m = pb.m;
    const ndyn_srnn_data d = pb.d;
    const double *eps = pb.eps, *P = pb.P;
    size_t tot = pb.tot;
    double *g64 = malloc(m->n_theta * sizeof(double)), *g32 = malloc(m->n_theta * sizeof(double));
    double J64, J32;
    m->p.precision = NDYN_SRNN_F64;
    CHECK_OK(ndyn_srnn_objective(m, &d, eps, P, coef, &J64, g64));
    m->p.precision = NDYN_SRNN_F32;
    CHECK_OK(ndyn_srnn_objective(m, &d, eps, P, coef, &J32, g32));
    /* float32 carries ~6e-8 relative per operation; J sums a few thousand terms */
    double relJ = fabs(J32 - J64) / fmax(fabs(J64), 1.0);
    if (relJ > 1e-6) fprintf(stderr, "  J f64 %.10g f32 %.10g rel %.3g\n", J64, J32, relJ);
    CHECK(relJ <= 1e-6);
    CHECK(J32 != J64); /* the float path really ran in float */
    for (size_t bi = 0; bi < T_SRNN_NBLOCKS; bi++) {
        double *v;
        size_t n;
        if (ndyn_srnn_param_view(m, t_srnn_blocks[bi], &v, &n) || n == 0) continue;
        size_t off = (size_t)(v - m->theta);
        double worst = 0, scale = 0;
        for (size_t q = 0; q < n; q++) {
            worst = fmax(worst, fabs(g32[off + q] - g64[off + q]));
            scale = fmax(scale, fabs(g64[off + q]));
        }
        double rel = worst / fmax(scale, 1e-3 * fabs(J64) / (double)tot);
        if (rel > 1e-4)
            fprintf(stderr, "  block %-10s n=%4zu max|grad| %.3g max abs diff %.3g rel %.3g\n", t_srnn_blocks[bi], n,
                    scale, worst, rel);
        CHECK(rel <= 1e-4);
    }
    free(g64);
    free(g32);
    t_srnn_problem_free(&pb);
}

static void defaults(ndyn_srnn_params *p)
{
    ndyn_srnn_params_default(p); /* emission 32, 64; sampler 64 */
    p->K = 3;
    p->H = 4;
    p->seed = 9;
}

TEST(f32_gaussian)
{
    ndyn_srnn_params p;
    defaults(&p);
    compare(&p, 0, 0.0);
}

TEST(f32_gaussian_cross_entropy_tanh)
{
    ndyn_srnn_params p;
    defaults(&p);
    p.transition = NDYN_SRNN_TRANS_TANH;
    compare(&p, 0, 0.5);
}

TEST(f32_poisson_causal)
{
    ndyn_srnn_params p;
    defaults(&p);
    p.emission = NDYN_SRNN_POISSON;
    p.causal = 1;
    p.h0_prior = 0;
    compare(&p, 1, 0.3);
}

TEST(f32_compat_fixed_variances)
{
    ndyn_srnn_params p;
    defaults(&p);
    p.objective = NDYN_SRNN_OBJ_COMPAT;
    p.learn_var_h = p.learn_var_y = 0;
    compare(&p, 0, 0.0);
}

TEST(f32_heldout_channels)
{
    /* co-smoothing: the encoders read the held-in channels only, in both precisions */
    ndyn_srnn_params p;
    defaults(&p);
    static const int held[2] = {3, 1};
    p.heldout = held;
    p.n_heldout = 2;
    compare(&p, 0, 0.0);
}

TEST(f32_training_follows_f64)
{
    /* same seed, data and noise draws: the two loss curves stay together */
    enum { n = 6, T = 40, N = 3 };
    static double y[n * T * N];
    size_t Ts[n];
    const double *ys[n];
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    for (int i = 0; i < n * T * N; i++) y[i] = ndyn_rng_normal(&r);
    for (int i = 0; i < n; i++) Ts[i] = T, ys[i] = y + i * T * N;
    ndyn_srnn_data d = {n, N, Ts, ys, NULL, 0};
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.init = NDYN_SRNN_INIT_KMEANS;
    p.init_epochs = 10;
    p.epochs = 30;
    p.eval_every = 5;
    p.lr = 3e-3;
    ndyn_srnn_model *m64 = NULL, *m32 = NULL;
    CHECK_OK(ndyn_srnn_fit(&d, &p, &m64));
    p.precision = NDYN_SRNN_F32;
    CHECK_OK(ndyn_srnn_fit(&d, &p, &m32));
    if (!m64 || !m32) return;
    CHECK(m64->hist.n == m32->hist.n && m64->hist.n == 8);
    double first = m64->hist.loss[0], last = m64->hist.loss[m64->hist.n - 1];
    CHECK(last < first); /* it trains */
    for (size_t i = 0; i < m64->hist.n && i < m32->hist.n; i++)
        CHECK_CLOSE(m32->hist.loss[i], m64->hist.loss[i], 1e-3 * fabs(first - last), 1e-4);
    CHECK_CLOSE(m32->train_elbo, m64->train_elbo, 1e-3 * fabs(first - last), 1e-4);
    ndyn_srnn_model_free(m64);
    ndyn_srnn_model_free(m32);
}

TEST(f32_bad_precision)
{
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.precision = 2;
    CHECK_FAILS(ndyn_srnn_check_params(&p), NDYN_EINVAL);
}

RUN_TESTS(T(f32_gaussian), T(f32_gaussian_cross_entropy_tanh), T(f32_poisson_causal),
          T(f32_compat_fixed_variances), T(f32_heldout_channels), T(f32_training_follows_f64), T(f32_bad_precision))
