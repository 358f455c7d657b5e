/* Gradient checks: every layer, loss and module's backward pass against
 * central finite differences in double precision (ndyn_nn_gradcheck, step
 * 1e-5). Each test builds a scalar L = sum_i c_i out_i with random c (or the
 * loss itself), runs the backward with dout = c, and compares every input and
 * parameter gradient. Acceptance: element relative error
 * |a - n| / max(|a|, |n|, 1e-3) <= 1e-6 (so components below 1e-3 are held
 * to an absolute 1e-9), and the same bound on the norm-wise error. */
#include "test.h"

#include "ndyn/nn.h"

#define H_STEP 1e-5
#define FLOOR 1e-3
#define TOL 1e-6

enum { MAXA = 24 };

typedef struct ctx {
    double *a[MAXA];    /* inputs and parameters to perturb */
    double *g[MAXA];    /* their analytic gradients */
    size_t n[MAXA];
    const char *name[MAXA];
    int na;
    double *out, *c;    /* forward output and projection weights */
    size_t nout;
    size_t B, C, OC, T, D, H, N;
    int flag, flag2, flag3;
    double p;
    double *work, *work2, *work3;
    ndyn_nn_store *s;
    ndyn_nn_mlp mlp;
    ndyn_nn_mlp_cache *mc;
    ndyn_nn_rnn rnn;
    ndyn_nn_rnn_cache *rc;
    double (*fwd)(struct ctx *);   /* returns L */
    void (*bwd)(struct ctx *);     /* adds dL/da into g (zeroed by the harness) */
} ctx;

static double *rnd(size_t n, double scale, uint64_t seed)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 7);
    for (size_t i = 0; i < n; i++) x[i] = scale * ndyn_rng_normal(&r);
    return x;
}

static void add(ctx *c, const char *name, double *a, size_t n)
{
    c->name[c->na] = name;
    c->a[c->na] = a;
    c->n[c->na] = n;
    c->g[c->na] = calloc(n ? n : 1, sizeof(double));
    c->na++;
}

static double proj(const ctx *c)
{
    double l = 0;
    for (size_t i = 0; i < c->nout; i++) l += c->c[i] * c->out[i];
    return l;
}

static int loss_cb(void *u, double *l)
{
    ctx *c = u;
    *l = c->fwd(c);
    return 0;
}

static void run_check(ctx *c, const char *what)
{
    c->fwd(c);
    for (int k = 0; k < c->na; k++) memset(c->g[k], 0, c->n[k] * sizeof(double));
    c->bwd(c);
    for (int k = 0; k < c->na; k++) {
        ndyn_nn_gradcheck_result r;
        CHECK_OK(ndyn_nn_gradcheck(c->a[k], c->g[k], c->n[k], loss_cb, c, H_STEP, FLOOR, &r));
        CHECKF(r.max_rel_err <= TOL && r.norm_rel_err <= TOL,
               "%s d/d%s: max rel err %.3g at %zu (analytic %.12g numeric %.12g), norm %.3g",
               what, c->name[k], r.max_rel_err, r.worst, r.analytic, r.numeric, r.norm_rel_err);
    }
}

static void ctx_free(ctx *c)
{
    for (int k = 0; k < c->na; k++) free(c->g[k]);
    free(c->out);
    free(c->c);
    free(c->work);
    free(c->work2);
    free(c->work3);
}

static void set_out(ctx *c, size_t n, uint64_t seed)
{
    c->nout = n;
    c->out = calloc(n, sizeof(double));
    c->c = rnd(n, 1.0, seed);
}

/* ------------------------------------------------------------- Linear */

static double lin_f(ctx *c)
{
    ndyn_nn_linear_forward(c->out, c->a[0], c->a[1], c->flag ? c->a[2] : NULL, c->B, c->C, c->OC);
    return proj(c);
}
static void lin_b(ctx *c)
{
    ndyn_nn_linear_backward(c->g[0], c->g[1], c->flag ? c->g[2] : NULL, c->c, c->a[0], c->a[1],
                            c->B, c->C, c->OC);
}

TEST(grad_linear)
{
    for (int bias = 0; bias <= 1; bias++) {
        ctx c = {0};
        c.B = 5, c.C = 4, c.OC = 3, c.flag = bias;
        double *x = rnd(20, 1, 1), *w = rnd(12, 1, 2), *b = rnd(3, 1, 3);
        add(&c, "inp", x, 20);
        add(&c, "weight", w, 12);
        if (bias) add(&c, "bias", b, 3);
        set_out(&c, 15, 4);
        c.fwd = lin_f, c.bwd = lin_b;
        run_check(&c, bias ? "linear+bias" : "linear");
        ctx_free(&c);
        free(x), free(w), free(b);
    }
}

/* -------------------------------------------------------- activations */

static double act_f(ctx *c)
{
    switch (c->flag) {
    case 0: ndyn_nn_relu_forward(c->out, c->a[0], c->N); break;
    case 1: ndyn_nn_tanh_forward(c->out, c->a[0], c->N); break;
    case 2: ndyn_nn_sigmoid_forward(c->out, c->a[0], c->N); break;
    case 3: ndyn_nn_logsigmoid_forward(c->out, c->a[0], c->N); break;
    case 4: ndyn_nn_softplus_forward(c->out, c->a[0], c->N); break;
    case 5: ndyn_nn_softmax_forward(c->out, c->a[0], c->B, c->C); break;
    case 6: ndyn_nn_logsoftmax_forward(c->out, c->a[0], c->B, c->C); break;
    case 7: ndyn_nn_logsumexp_forward(c->out, c->a[0], c->B, c->C); break;
    }
    return proj(c);
}
static void act_b(ctx *c)
{
    switch (c->flag) {
    case 0: ndyn_nn_relu_backward(c->g[0], c->c, c->out, c->N); break;
    case 1: ndyn_nn_tanh_backward(c->g[0], c->c, c->out, c->N); break;
    case 2: ndyn_nn_sigmoid_backward(c->g[0], c->c, c->out, c->N); break;
    case 3: ndyn_nn_logsigmoid_backward(c->g[0], c->c, c->a[0], c->N); break;
    case 4: ndyn_nn_softplus_backward(c->g[0], c->c, c->a[0], c->N); break;
    case 5: ndyn_nn_softmax_backward(c->g[0], c->c, c->out, c->B, c->C); break;
    case 6: ndyn_nn_logsoftmax_backward(c->g[0], c->c, c->out, c->B, c->C); break;
    case 7: ndyn_nn_logsumexp_backward(c->g[0], c->c, c->a[0], c->out, c->B, c->C); break;
    }
}

TEST(grad_activations)
{
    static const char *names[8] = {"relu", "tanh", "sigmoid", "logsigmoid", "softplus",
                                   "softmax", "logsoftmax", "logsumexp"};
    for (int k = 0; k < 8; k++) {
        ctx c = {0};
        c.B = 4, c.C = 6, c.N = 24, c.flag = k;
        double *x = rnd(24, 3.0, 10 + k);
        if (k == 0) /* keep ReLU inputs away from the kink */
            for (int i = 0; i < 24; i++)
                if (fabs(x[i]) < 0.01) x[i] = 0.5;
        if (k == 4) x[3] = 25.0, x[5] = -30.0;  /* softplus threshold branch and tail */
        if (k == 3) x[2] = -40.0, x[7] = 40.0;
        add(&c, "inp", x, 24);
        set_out(&c, k == 7 ? 4 : 24, 20 + k);
        c.fwd = act_f, c.bwd = act_b;
        run_check(&c, names[k]);
        ctx_free(&c);
        free(x);
    }
}

/* ----------------------------------------------------------- BatchNorm */

static double bn_f(ctx *c)
{
    if (c->flag == 0) {
        /* running stats are outputs only; keep them out of the function */
        double rm[128] = {0}, rv[128];
        for (int i = 0; i < 128; i++) rv[i] = 1;
        ndyn_nn_batchnorm_forward_train(c->out, c->work, c->work2, rm, rv, c->a[0], c->a[1],
                                        c->a[2], c->B, c->C, 0.1, 1e-5);
    } else {
        ndyn_nn_batchnorm_forward_eval(c->out, c->a[0], c->work, c->work2, c->a[1], c->a[2], c->B,
                                       c->C, 1e-5);
    }
    return proj(c);
}
static void bn_b(ctx *c)
{
    if (c->flag == 0)
        ndyn_nn_batchnorm_backward_train(c->g[0], c->g[1], c->g[2], c->c, c->a[0], c->work,
                                         c->work2, c->a[1], c->B, c->C);
    else
        ndyn_nn_batchnorm_backward_eval(c->g[0], c->g[1], c->g[2], c->c, c->a[0], c->work,
                                        c->work2, c->a[1], c->B, c->C, 1e-5);
}

TEST(grad_batchnorm)
{
    enum { NB = 7, C = 70, N = NB * C };   /* C > 64: two channel blocks */
    for (int mode = 0; mode <= 1; mode++) {
        ctx c = {0};
        c.B = NB, c.C = C, c.flag = mode;
        double *x = rnd(N, 2.0, 30), *w = rnd(C, 1, 31), *b = rnd(C, 1, 32);
        add(&c, "inp", x, N);
        add(&c, "weight", w, C);
        add(&c, "bias", b, C);
        c.work = rnd(C, 0.3, 33);   /* eval: running mean; train: batch mean */
        c.work2 = rnd(C, 0.3, 34);  /* eval: running var (made positive); train: rstd */
        for (int i = 0; i < C; i++) c.work2[i] = 0.5 + fabs(c.work2[i]);
        set_out(&c, N, 35);
        c.fwd = bn_f, c.bwd = bn_b;
        run_check(&c, mode ? "batchnorm eval" : "batchnorm train");
        ctx_free(&c);
        free(x), free(w), free(b);
    }
}

/* ------------------------------------------------------------- Dropout */

static double drop_f(ctx *c)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 42, 0);  /* same mask at every evaluation */
    ndyn_nn_dropout_forward(c->out, c->work, c->a[0], c->N, c->p, &r);
    return proj(c);
}
static void drop_b(ctx *c)
{
    ndyn_nn_dropout_backward(c->g[0], c->c, c->work, c->N);
}

TEST(grad_dropout)
{
    ctx c = {0};
    c.N = 40, c.p = 0.3;
    double *x = rnd(40, 1, 40);
    add(&c, "inp", x, 40);
    c.work = calloc(40, sizeof(double));
    set_out(&c, 40, 41);
    c.fwd = drop_f, c.bwd = drop_b;
    run_check(&c, "dropout");
    int zeros = 0;
    for (int i = 0; i < 40; i++) {
        zeros += c.work[i] == 0;
        CHECK(c.work[i] == 0 || fabs(c.work[i] - 1 / 0.7) < 1e-15);
    }
    CHECK(zeros > 4 && zeros < 24);  /* p = 0.3 of 40: 12 expected */
    ctx_free(&c);
    free(x);
}

/* ---------------------------------------------------------------- losses */

static double loss_f(ctx *c)
{
    const double *x = c->a[0], *y = c->work;
    int red = c->flag2;
    switch (c->flag) {
    case 0: return ndyn_nn_mse_forward(x, y, c->N, red);
    case 1: return ndyn_nn_gaussian_nll_forward(x, y, c->a[1], c->B, c->C, 0, c->flag3, red);
    case 2: return ndyn_nn_gaussian_nll_forward(x, y, c->a[1], c->B, c->C, 1, c->flag3, red);
    case 3: return ndyn_nn_gaussian_nll_fixed_forward(x, y, 0.37, c->N, c->flag3, red);
    case 4: return ndyn_nn_poisson_nll_forward(x, c->work2, c->N, NDYN_NN_POISSON_LOG, c->flag3, red);
    case 5: return ndyn_nn_poisson_nll_forward(x, c->work2, c->N, NDYN_NN_POISSON_SOFTPLUS,
                                               c->flag3, red);
    default: return ndyn_nn_bce_logits_forward(x, c->work3, c->N, red);
    }
}
static void loss_b(ctx *c)
{
    const double *x = c->a[0], *y = c->work;
    int red = c->flag2;
    double dl = 1.7;   /* a weight other than 1 */
    switch (c->flag) {
    case 0: ndyn_nn_mse_backward(c->g[0], x, y, c->N, red, dl); break;
    case 1: ndyn_nn_gaussian_nll_backward(c->g[0], c->g[1], x, y, c->a[1], c->B, c->C, 0, c->flag3,
                                          red, dl); break;
    case 2: ndyn_nn_gaussian_nll_backward(c->g[0], c->g[1], x, y, c->a[1], c->B, c->C, 1, c->flag3,
                                          red, dl); break;
    case 3: ndyn_nn_gaussian_nll_fixed_backward(c->g[0], x, y, 0.37, c->N, c->flag3, red, dl); break;
    case 4: ndyn_nn_poisson_nll_backward(c->g[0], x, c->work2, c->N, NDYN_NN_POISSON_LOG, red, dl);
        break;
    case 5: ndyn_nn_poisson_nll_backward(c->g[0], x, c->work2, c->N, NDYN_NN_POISSON_SOFTPLUS, red,
                                         dl); break;
    default: ndyn_nn_bce_logits_backward(c->g[0], x, c->work3, c->N, red, dl); break;
    }
}
static double loss_f17(ctx *c)
{
    return 1.7 * loss_f(c);
}

TEST(grad_losses)
{
    static const char *names[7] = {"mse", "gaussian_nll", "gaussian_nll_per_sample",
                                   "gaussian_nll_fixed", "poisson_log", "poisson_softplus",
                                   "bce_logits"};
    for (int k = 0; k < 7; k++)
        for (int red = 0; red <= 1; red++) {
            ctx c = {0};
            c.B = 6, c.C = 3, c.N = 18, c.flag = k, c.flag2 = red, c.flag3 = red; /* full on with SUM */
            double *x = rnd(18, 1.5, 50 + k), *lv = rnd(18, 0.5, 60 + k);
            add(&c, "input", x, 18);
            if (k == 1) add(&c, "logvar", lv, 3);
            if (k == 2) add(&c, "logvar", lv, 18);
            c.work = rnd(18, 1, 70);
            c.work2 = calloc(18, sizeof(double));
            c.work3 = calloc(18, sizeof(double));
            ndyn_rng r;
            ndyn_rng_init(&r, 71, 0);
            for (int i = 0; i < 18; i++) {
                c.work2[i] = (double)ndyn_rng_poisson(&r, 2.0);
                c.work3[i] = ndyn_rng_uniform(&r);
            }
            c.fwd = loss_f17, c.bwd = loss_b;
            char what[64];
            snprintf(what, sizeof what, "%s (%s)", names[k], red ? "sum" : "mean");
            run_check(&c, what);
            ctx_free(&c);
            free(x), free(lv);
        }
}

/* Analytic values of the losses against closed forms. */
TEST(loss_values)
{
    double x[2] = {0.3, -1.2}, y[2] = {1.0, 0.0}, cnt[2] = {3, 0};
    CHECK_CLOSE(ndyn_nn_mse_forward(x, y, 2, NDYN_NN_MEAN), (0.49 + 1.44) / 2, 1e-15, 0);
    double lv[2] = {log(0.5), log(2.0)};
    double g = 0.5 * (log(0.5) + 0.49 / 0.5 + log(2.0) + 1.44 / 2.0) + log(2 * M_PI);
    CHECK_CLOSE(ndyn_nn_gaussian_nll_forward(x, y, lv, 1, 2, 0, 1, NDYN_NN_SUM), g, 1e-14, 0);
    /* exact Poisson log pmf: -log p(3 | e^0.3) = e^0.3 - 0.9 + log 6 */
    double p = exp(0.3) - 3 * 0.3 + log(6.0) + exp(-1.2);
    CHECK_CLOSE(ndyn_nn_poisson_nll_forward(x, cnt, 2, NDYN_NN_POISSON_LOG, 1, NDYN_NN_SUM), p,
                1e-14, 0);
    double b = -log(1 / (1 + exp(-0.3))) - log(1 - 1 / (1 + exp(1.2)));
    CHECK_CLOSE(ndyn_nn_bce_logits_forward(x, y, 2, NDYN_NN_SUM), b, 1e-14, 0);
    double big[2] = {800, -800}, lsig[2];
    ndyn_nn_logsigmoid_forward(lsig, big, 2);
    CHECK(lsig[0] == 0 && lsig[1] == -800);
    double lse;
    ndyn_nn_logsumexp_forward(&lse, big, 1, 2);
    CHECK_CLOSE(lse, 800.0, 0, 1e-15);
}

/* ------------------------------------------------------------- MLP + BN */

static double mlp_f(ctx *c)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 5, 0);
    CHECK_OK(ndyn_nn_mlp_forward(&c->mlp, c->s, c->mc, c->out, c->a[0], c->B, c->flag, &r));
    return proj(c);
}
static void mlp_b(ctx *c)
{
    ndyn_nn_store_zero_grad(c->s);
    CHECK_OK(ndyn_nn_mlp_backward(&c->mlp, c->s, c->mc, c->g[0], c->c, c->B));
    for (int k = 1; k < c->na; k++)  /* a[k] points into the store: same offset in grad */
        memcpy(c->g[k], c->s->grad + (c->a[k] - c->s->data), c->n[k] * sizeof(double));
}

TEST(grad_mlp_batchnorm)
{
    for (int variant = 0; variant < 4; variant++) {
        /* 0: train + BN (MARBLE default), 1: train + BN + dropout + tanh,
         * 2: eval + BN, 3: no BN, 3 hidden layers (SRNN emission-like) */
        ctx c = {0};
        c.s = ndyn_nn_store_new();
        ndyn_nn_mlp_opts o;
        ndyn_nn_mlp_opts_default(&o);
        size_t w4[4] = {5, 7, 6, 3}, w3[3] = {5, 8, 2};
        if (variant == 1) o.dropout = 0.25, o.act = NDYN_NN_ACT_TANH;
        if (variant == 3) o.batch_norm = 0;
        CHECK_OK(ndyn_nn_mlp_add(c.s, "enc", variant == 3 ? 4 : 3, variant == 3 ? w4 : w3, &o,
                                 &c.mlp));
        ndyn_rng r;
        ndyn_rng_init(&r, 9, 0);
        ndyn_nn_mlp_init(&c.mlp, c.s, &r);
        /* non-trivial BN affine parameters and running stats */
        for (size_t i = 0; i < c.s->n; i++) {
            const ndyn_nn_param *p = ndyn_nn_store_param(c.s, (int)i);
            if (strstr(p->name, "norms"))
                for (size_t j = 0; j < p->size; j++)
                    c.s->data[p->offset + j] += 0.3 * ndyn_rng_uniform(&r);
        }
        c.B = 9, c.flag = variant != 2;
        size_t out_w = variant == 3 ? 3 : 2;
        CHECK_OK(ndyn_nn_mlp_cache_alloc(&c.mlp, 16, &c.mc));
        double *x = rnd(9 * 5, 1.0, 80 + variant);
        add(&c, "inp", x, 45);
        /* every trainable tensor (running statistics are buffers: no gradient) */
        for (size_t i = 0; i < c.s->n; i++) {
            const ndyn_nn_param *p = ndyn_nn_store_param(c.s, (int)i);
            if (!(p->flags & NDYN_NN_BUFFER)) add(&c, p->name, c.s->data + p->offset, p->size);
        }
        set_out(&c, 9 * out_w, 90);
        c.fwd = mlp_f, c.bwd = mlp_b;
        run_check(&c, variant == 0 ? "mlp train bn" : variant == 1 ? "mlp train bn dropout tanh"
                      : variant == 2 ? "mlp eval bn" : "mlp no bn");
        ndyn_nn_mlp_cache_free(c.mc);
        ndyn_nn_store_free(c.s);
        ctx_free(&c);
        free(x);
    }
}

/* ---------------------------------------------------- RNN / GRU BPTT */

static double rnn_f(ctx *c)
{
    CHECK_OK(ndyn_nn_rnn_apply(&c->rnn, c->s, c->rc, c->out, c->D ? c->a[0] : NULL,
                               c->flag ? c->a[1] : NULL, c->T, c->B));
    /* a loss that is not linear in h: sum c h + 0.5 sum h^2 */
    double l = proj(c);
    for (size_t i = 0; i < c->nout; i++) l += 0.5 * c->out[i] * c->out[i];
    return l;
}
static void rnn_b(ctx *c)
{
    ndyn_nn_store_zero_grad(c->s);
    double *dhs = malloc(c->nout * sizeof(double));
    for (size_t i = 0; i < c->nout; i++) dhs[i] = c->c[i] + c->out[i];
    CHECK_OK(ndyn_nn_rnn_apply_backward(&c->rnn, c->s, c->rc, c->D ? c->g[0] : NULL,
                                        c->flag ? c->g[1] : NULL, dhs, c->out,
                                        c->D ? c->a[0] : NULL, c->flag ? c->a[1] : NULL, c->T,
                                        c->B));
    memcpy(c->g[2], c->s->grad, c->s->size * sizeof(double));
    free(dhs);
}

static void rnn_case(int gru, size_t D, int recurrent, int with_h0, const char *what)
{
    ctx c = {0};
    c.s = ndyn_nn_store_new();
    c.T = 6, c.B = 3, c.D = D, c.H = 4, c.flag = with_h0;
    if (gru) CHECK_OK(ndyn_nn_gru_add(c.s, "gru", D, c.H, 1, &c.rnn));
    else CHECK_OK(ndyn_nn_rnn_add(c.s, "rnn", D, c.H, 1, recurrent, &c.rnn));
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    ndyn_nn_rnn_init(&c.rnn, c.s, &r);
    for (size_t i = 0; i < c.s->size; i++) c.s->data[i] *= 2.0;  /* reach the nonlinearity */
    CHECK_OK(ndyn_nn_rnn_cache_alloc(&c.rnn, c.T, c.B, &c.rc));
    double *x = rnd(c.T * c.B * (D ? D : 1), 1.0, 100), *h0 = rnd(c.B * c.H, 0.5, 101);
    add(&c, "x", x, D ? c.T * c.B * D : 1);
    add(&c, "h0", h0, c.B * c.H);
    add(&c, "params", c.s->data, c.s->size);
    set_out(&c, c.T * c.B * c.H, 102);
    c.fwd = rnn_f, c.bwd = rnn_b;
    run_check(&c, what);
    ndyn_nn_rnn_cache_free(c.rc);
    ndyn_nn_store_free(c.s);
    ctx_free(&c);
    free(x), free(h0);
}

TEST(grad_rnn_bptt)
{
    rnn_case(0, 3, 1, 1, "rnn T=6 with input and h0");
    rnn_case(0, 3, 1, 0, "rnn T=6 zero h0");
    rnn_case(0, 0, 1, 1, "rnn T=6 input-free");
    rnn_case(0, 3, 0, 0, "rnn T=6 non-recurrent");
}

TEST(grad_gru_bptt)
{
    rnn_case(1, 3, 1, 1, "gru T=6 with input and h0");
    rnn_case(1, 3, 1, 0, "gru T=6 zero h0");
    rnn_case(1, 0, 1, 1, "gru T=6 input-free");
}

/* Chaining the cell functions by hand (as an autoregressive sampler would)
 * gives the same outputs and gradients as the sequence functions. */
TEST(rnn_cells_match_sequence)
{
    enum { T = 5, B = 2, D = 3, H = 4 };
    for (int gru = 0; gru <= 1; gru++) {
        size_t G = gru ? 3 : 1;
        double *wih = rnd(G * H * D, 0.6, 1), *whh = rnd(G * H * H, 0.6, 2);
        double *bih = rnd(G * H, 0.3, 3), *bhh = rnd(G * H, 0.3, 4);
        double *x = rnd(T * B * D, 1, 5), *h0 = rnd(B * H, 0.5, 6), *dhs = rnd(T * B * H, 1, 7);
        double hs[T * B * H], hc[T * B * H], cache[T * B * 4 * H], cache2[T * B * 4 * H];
        double g1[5][200] = {{0}}, g2[5][200] = {{0}}; /* dx, dh0, dwih, dwhh, dbih+dbhh */
        double dbhh1[12] = {0}, dbhh2[12] = {0}, work[(T + 1) * B * H * 7];
        if (gru) {
            ndyn_nn_gru_forward(hs, cache, x, h0, wih, whh, bih, bhh, T, B, D, H);
            ndyn_nn_gru_backward(g1[0], g1[1], g1[2], g1[3], g1[4], dbhh1, dhs, hs, cache, x, h0,
                                 wih, whh, T, B, D, H, work);
        } else {
            ndyn_nn_rnn_forward(hs, x, h0, wih, whh, bih, bhh, T, B, D, H);
            ndyn_nn_rnn_backward(g1[0], g1[1], g1[2], g1[3], g1[4], dbhh1, dhs, hs, x, h0, wih,
                                 whh, T, B, D, H, work);
        }
        for (int t = 0; t < T; t++) {
            const double *hp = t ? hc + (t - 1) * B * H : h0;
            if (gru)
                ndyn_nn_gru_cell_forward(hc + t * B * H, cache2 + t * B * 4 * H, x + t * B * D, hp,
                                         wih, whh, bih, bhh, B, D, H);
            else
                ndyn_nn_rnn_cell_forward(hc + t * B * H, x + t * B * D, hp, wih, whh, bih, bhh, B,
                                         D, H);
        }
        double carry[B * H] = {0}, dh[B * H];
        for (int t = T - 1; t >= 0; t--) {
            for (int i = 0; i < B * H; i++) dh[i] = dhs[t * B * H + i] + carry[i];
            memset(carry, 0, sizeof carry);
            const double *hp = t ? hc + (t - 1) * B * H : h0;
            double *dhp = t ? carry : g2[1];
            if (gru)
                ndyn_nn_gru_cell_backward(g2[0] + t * B * D, dhp, g2[2], g2[3], g2[4], dbhh2, dh,
                                          cache2 + t * B * 4 * H, x + t * B * D, hp, wih, whh, B,
                                          D, H, work);
            else
                ndyn_nn_rnn_cell_backward(g2[0] + t * B * D, dhp, g2[2], g2[3], g2[4], dbhh2, dh,
                                          hc + t * B * H, x + t * B * D, hp, wih, whh, B, D, H,
                                          work);
        }
        for (int i = 0; i < T * B * H; i++) CHECK_CLOSE(hc[i], hs[i], 1e-14, 1e-13);
        size_t len[5] = {T * B * D, B * H, G * H * D, G * H * H, G * H};
        for (int k = 0; k < 5; k++)
            for (size_t i = 0; i < len[k]; i++) CHECK_CLOSE(g2[k][i], g1[k][i], 1e-13, 1e-12);
        for (size_t i = 0; i < G * H; i++) CHECK_CLOSE(dbhh2[i], dbhh1[i], 1e-13, 1e-12);
        free(wih), free(whh), free(bih), free(bhh), free(x), free(h0), free(dhs);
    }
}

/* The float32 BatchNorm, ReLU and tanh kernels (not covered by a torch
 * float32 fixture) agree with the gradient-checked float64 ones to float32
 * precision: |a - b| <= 1e-6 + 1e-5 |b|. */
TEST(f32_kernels_match_f64)
{
    enum { NB = 9, C = 70 };   /* C > 64: two channel blocks */
    double *x = rnd(NB * C, 2, 200), *w = rnd(C, 1, 201), *b = rnd(C, 1, 202),
           *d = rnd(NB * C, 1, 203);
    static double o[NB * C], dx[NB * C], m[C], r[C], rm[C], rv[C], dw[C], db[C];
    static float xf[NB * C], wf[C], bf[C], df[NB * C], of[NB * C], dxf[NB * C], mf[C], rf[C],
        rmf[C], rvf[C], dwf[C], dbf[C];
    for (int i = 0; i < NB * C; i++) xf[i] = (float)x[i], df[i] = (float)d[i];
    for (int i = 0; i < C; i++) wf[i] = (float)w[i], bf[i] = (float)b[i], rv[i] = 1, rvf[i] = 1;
    /* the reference runs on the float-rounded inputs */
    for (int i = 0; i < NB * C; i++) x[i] = xf[i], d[i] = df[i];
    for (int i = 0; i < C; i++) w[i] = wf[i], b[i] = bf[i];
    CHECK_OK(ndyn_nn_batchnorm_forward_train(o, m, r, rm, rv, x, w, b, NB, C, 0.1, 1e-5));
    CHECK_OK(ndyn_nn_batchnorm_forward_train_f32(of, mf, rf, rmf, rvf, xf, wf, bf, NB, C, 0.1f,
                                                 1e-5f));
    ndyn_nn_batchnorm_backward_train(dx, dw, db, d, x, m, r, w, NB, C);
    ndyn_nn_batchnorm_backward_train_f32(dxf, dwf, dbf, df, xf, mf, rf, wf, NB, C);
    for (int i = 0; i < NB * C; i++) {
        CHECK_CLOSE(of[i], o[i], 1e-6, 1e-5);
        CHECK_CLOSE(dxf[i], dx[i], 1e-6, 1e-5);
    }
    for (int i = 0; i < C; i++) {
        CHECK_CLOSE(dwf[i], dw[i], 1e-6, 1e-5);
        CHECK_CLOSE(dbf[i], db[i], 1e-6, 1e-5);
        CHECK_CLOSE(rmf[i], rm[i], 1e-6, 1e-5);
        CHECK_CLOSE(rvf[i], rv[i], 1e-6, 1e-5);
    }
    memset(dx, 0, sizeof dx), memset(dxf, 0, sizeof dxf);
    ndyn_nn_tanh_forward(o, x, NB * C);
    ndyn_nn_tanh_forward_f32(of, xf, NB * C);
    ndyn_nn_tanh_backward(dx, d, o, NB * C);
    ndyn_nn_tanh_backward_f32(dxf, df, of, NB * C);
    for (int i = 0; i < NB * C; i++) {
        CHECK_CLOSE(of[i], o[i], 1e-6, 1e-5);
        CHECK_CLOSE(dxf[i], dx[i], 1e-6, 1e-5);
    }
    memset(dx, 0, sizeof dx), memset(dxf, 0, sizeof dxf);
    ndyn_nn_relu_forward(o, x, NB * C);
    ndyn_nn_relu_forward_f32(of, xf, NB * C);
    ndyn_nn_relu_backward(dx, d, o, NB * C);
    ndyn_nn_relu_backward_f32(dxf, df, of, NB * C);
    for (int i = 0; i < NB * C; i++) CHECK(of[i] == (float)o[i] && dxf[i] == (float)dx[i]);
    free(x), free(w), free(b), free(d);
}

RUN_TESTS(T(grad_linear), T(grad_activations), T(grad_batchnorm), T(grad_dropout),
          T(grad_losses), T(loss_values), T(grad_mlp_batchnorm), T(grad_rnn_bptt),
          T(grad_gru_bptt), T(rnn_cells_match_sequence), T(f32_kernels_match_f64))
