/* Parity with PyTorch 1.13: fixtures written by python/make_nn_fixtures.py
 * (weights, inputs, outputs and gradients computed by torch) under
 * tests/fixtures/nn/. Tolerances: float64 fixtures |a - b| <= 1e-12 +
 * 1e-10 |b| (both sides compute in double; only summation order differs);
 * float32 fixtures (ndyn's _f32 kernels against torch float32)
 * |a - b| <= 1e-6 + 1e-5 |b|. */
#include "test.h"

#include "ndyn/io.h"
#include "ndyn/nn.h"

#define RT64 1e-10
#define AT64 1e-12
#define RT32 1e-5
#define AT32 1e-6

static ndyn_dataset *load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/nn/%s.npz", NDYN_TEST_FIXTURES, name);
    ndyn_dataset *ds = NULL;
    int rc = ndyn_npz_read(path, &ds);
    CHECKF(rc == 0, "reading %s: %s", path, ndyn_errmsg());
    return ds;
}

/* The array `name` as doubles (a copy for float32), checked to have n elements. */
static const double *get(const ndyn_dataset *ds, const char *name, size_t n)
{
    static ndyn_array *conv[64];
    static int nconv;
    const ndyn_array *a = NULL;
    if (ndyn_dataset_get(ds, name, &a) != 0) {
        CHECKF(0, "fixture lacks %s: %s", name, ndyn_errmsg());
        return NULL;
    }
    CHECKF(a->size == n, "%s has %zu elements, want %zu", name, a->size, n);
    if (a->size != n) return NULL;
    if (a->dtype == NDYN_F64) return a->data;
    ndyn_array *c = ndyn_array_cast(a, NDYN_F64);
    if (nconv == 64) nconv = 0;
    ndyn_array_free(conv[nconv]);
    conv[nconv++] = c;
    return c->data;
}

static const float *getf(const ndyn_dataset *ds, const char *name, size_t n)
{
    const ndyn_array *a = NULL;
    if (ndyn_dataset_get(ds, name, &a) != 0 || a->dtype != NDYN_F32 || a->size != n) {
        CHECKF(0, "fixture %s missing or not float32 (%zu)", name, n);
        return NULL;
    }
    return a->data;
}

static double max_err(const double *a, const double *b, size_t n, double atol, double rtol,
                      size_t *bad)
{
    double worst = 0;
    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (!(e <= worst)) worst = e, *bad = i;
    }
    return worst;   /* <= 1 passes */
}

#define CMP(what, a, b, n, at, rt)                                                          \
    do {                                                                                    \
        size_t bad_;                                                                        \
        const double *b_ = (b);                                                             \
        if (!b_) break;                                                                     \
        double e_ = max_err((a), b_, (n), (at), (rt), &bad_);                               \
        CHECKF(e_ <= 1.0, "%s: element %zu ndyn %.17g torch %.17g", what, bad_,            \
               (a)[bad_], b_[bad_]);                                                        \
    } while (0)

static void cmpf(const char *what, const float *a, const float *b, size_t n)
{
    if (!b) return;
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= AT32 + RT32 * fabs((double)b[i]))) {
            CHECKF(0, "%s[%zu]: ndyn %.9g torch %.9g", what, i, a[i], b[i]);
            return;
        }
    CHECK(1);
}

TEST(parity_linear)
{
    enum { B = 5, C = 4, OC = 3 };
    ndyn_dataset *ds = load("linear");
    if (!ds) return;
    double out[B * OC], dx[B * C] = {0}, dw[OC * C] = {0}, db[OC] = {0};
    const double *x = get(ds, "x", B * C), *w = get(ds, "weight", OC * C),
                 *b = get(ds, "bias", OC), *dout = get(ds, "dout", B * OC);
    if (!x || !w || !b || !dout) goto done;
    ndyn_nn_linear_forward(out, x, w, b, B, C, OC);
    ndyn_nn_linear_backward(dx, dw, db, dout, x, w, B, C, OC);
    CMP("linear out", out, get(ds, "out", B * OC), B * OC, AT64, RT64);
    CMP("linear dx", dx, get(ds, "dx", B * C), B * C, AT64, RT64);
    CMP("linear dweight", dw, get(ds, "dweight", OC * C), OC * C, AT64, RT64);
    CMP("linear dbias", db, get(ds, "dbias", OC), OC, AT64, RT64);
done:
    ndyn_dataset_free(ds);

    ds = load("linear_f32");
    if (!ds) return;
    float fo[B * OC], fdx[B * C] = {0}, fdw[OC * C] = {0}, fdb[OC] = {0};
    const float *fx = getf(ds, "x", B * C), *fw = getf(ds, "weight", OC * C),
                *fb = getf(ds, "bias", OC), *fd = getf(ds, "dout", B * OC);
    if (fx && fw && fb && fd) {
        ndyn_nn_linear_forward_f32(fo, fx, fw, fb, B, C, OC);
        ndyn_nn_linear_backward_f32(fdx, fdw, fdb, fd, fx, fw, B, C, OC);
        cmpf("linear_f32 out", fo, getf(ds, "out", B * OC), B * OC);
        cmpf("linear_f32 dx", fdx, getf(ds, "dx", B * C), B * C);
        cmpf("linear_f32 dweight", fdw, getf(ds, "dweight", OC * C), OC * C);
        cmpf("linear_f32 dbias", fdb, getf(ds, "dbias", OC), OC);
    }
    ndyn_dataset_free(ds);
}

TEST(parity_mlp_batchnorm)
{
    enum { B = 10, BE = 4 };
    size_t widths[4] = {6, 8, 5, 3};
    ndyn_dataset *ds = load("mlp_bn");
    if (!ds) return;
    ndyn_nn_store *s = ndyn_nn_store_new();
    ndyn_nn_mlp mlp;
    ndyn_nn_mlp_cache *c = NULL;
    CHECK_OK(ndyn_nn_mlp_add(s, NULL, 4, widths, NULL, &mlp));
    CHECK_OK(ndyn_nn_mlp_cache_alloc(&mlp, B, &c));
    /* copy torch's initial parameters by name; running stats start at 0 / 1 */
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = ndyn_nn_store_param(s, (int)i);
        if (p->flags & NDYN_NN_BUFFER) continue;
        char nm[256];
        snprintf(nm, sizeof nm, "init/%s", p->name);
        const double *v = get(ds, nm, p->size);
        if (v) memcpy(s->data + p->offset, v, p->size * sizeof(double));
    }
    double out[B * 3], dx[B * 6] = {0}, oute[BE * 3];
    CHECK_OK(ndyn_nn_mlp_forward(&mlp, s, c, out, get(ds, "x1", B * 6), B, 1, NULL));
    CHECK_OK(ndyn_nn_mlp_forward(&mlp, s, c, out, get(ds, "x", B * 6), B, 1, NULL));
    ndyn_nn_store_zero_grad(s);
    CHECK_OK(ndyn_nn_mlp_backward(&mlp, s, c, dx, get(ds, "dout", B * 3), B));
    CMP("mlp out", out, get(ds, "out", B * 3), B * 3, AT64, RT64);
    CMP("mlp dx", dx, get(ds, "dx", B * 6), B * 6, AT64, RT64);
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = ndyn_nn_store_param(s, (int)i);
        char nm[256];
        if (p->flags & NDYN_NN_BUFFER) {
            snprintf(nm, sizeof nm, "after/%s", p->name);
            CMP(nm, s->data + p->offset, get(ds, nm, p->size), p->size, AT64, RT64);
        } else {
            snprintf(nm, sizeof nm, "grad/%s", p->name);
            CMP(nm, s->grad + p->offset, get(ds, nm, p->size), p->size, AT64, RT64);
        }
    }
    CHECK_OK(ndyn_nn_mlp_forward(&mlp, s, c, oute, get(ds, "x_eval", BE * 6), BE, 0, NULL));
    CMP("mlp eval out", oute, get(ds, "out_eval", BE * 3), BE * 3, AT64, RT64);
    ndyn_nn_mlp_cache_free(c);
    ndyn_nn_store_free(s);
    ndyn_dataset_free(ds);
}

static void recurrent(int gru)
{
    enum { T = 7, B = 3, D = 4, H = 5 };
    size_t G = gru ? 3 : 1;
    ndyn_dataset *ds = load(gru ? "gru" : "rnn");
    if (!ds) return;
    ndyn_nn_store *s = ndyn_nn_store_new();
    ndyn_nn_rnn r;
    if (gru) CHECK_OK(ndyn_nn_gru_add(s, "l0", D, H, 1, &r));
    else CHECK_OK(ndyn_nn_rnn_add(s, "l0", D, H, 1, 1, &r));
    const char *nm[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    int idx[4] = {r.weight_ih, r.weight_hh, r.bias_ih, r.bias_hh};
    for (int k = 0; k < 4; k++) {
        size_t n = ndyn_nn_store_param(s, idx[k])->size;
        const double *v = get(ds, nm[k], n);
        if (v) memcpy(ndyn_nn_store_data(s, idx[k]), v, n * sizeof(double));
    }
    ndyn_nn_rnn_cache *c = NULL;
    CHECK_OK(ndyn_nn_rnn_cache_alloc(&r, T, B, &c));
    double hs[T * B * H], dx[T * B * D] = {0}, dh0[B * H] = {0};
    const double *x = get(ds, "x", T * B * D), *h0 = get(ds, "h0", B * H);
    CHECK_OK(ndyn_nn_rnn_apply(&r, s, c, hs, x, h0, T, B));
    ndyn_nn_store_zero_grad(s);
    CHECK_OK(ndyn_nn_rnn_apply_backward(&r, s, c, dx, dh0, get(ds, "dhs", T * B * H), hs, x, h0,
                                        T, B));
    CMP("hs", hs, get(ds, "hs", T * B * H), T * B * H, AT64, RT64);
    CMP("dx", dx, get(ds, "dx", T * B * D), T * B * D, AT64, RT64);
    CMP("dh0", dh0, get(ds, "dh0", B * H), B * H, AT64, RT64);
    const char *gn[4] = {"dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"};
    size_t len[4] = {G * H * D, G * H * H, G * H, G * H};
    for (int k = 0; k < 4; k++)
        CMP(gn[k], ndyn_nn_store_grad(s, idx[k]), get(ds, gn[k], len[k]), len[k], AT64, RT64);
    ndyn_nn_rnn_cache_free(c);
    ndyn_nn_store_free(s);
    ndyn_dataset_free(ds);
}

TEST(parity_rnn)
{
    recurrent(0);
}

TEST(parity_gru)
{
    recurrent(1);
}

TEST(parity_rnn_f32)
{
    enum { T = 7, B = 3, D = 4, H = 5 };
    ndyn_dataset *ds = load("rnn_f32");
    if (!ds) return;
    const float *x = getf(ds, "x", T * B * D), *h0 = getf(ds, "h0", B * H),
                *wih = getf(ds, "weight_ih", H * D), *whh = getf(ds, "weight_hh", H * H),
                *bih = getf(ds, "bias_ih", H), *bhh = getf(ds, "bias_hh", H),
                *dhs = getf(ds, "dhs", T * B * H);
    if (x && h0 && wih && whh && bih && bhh && dhs) {
        float hs[T * B * H], dx[T * B * D] = {0}, dh0[B * H] = {0}, dwih[H * D] = {0},
              dwhh[H * H] = {0}, dbih[H] = {0}, dbhh[H] = {0}, work[(T + 1) * B * H];
        ndyn_nn_rnn_forward_f32(hs, x, h0, wih, whh, bih, bhh, T, B, D, H);
        ndyn_nn_rnn_backward_f32(dx, dh0, dwih, dwhh, dbih, dbhh, dhs, hs, x, h0, wih, whh, T, B,
                                 D, H, work);
        cmpf("rnn_f32 hs", hs, getf(ds, "hs", T * B * H), T * B * H);
        cmpf("rnn_f32 dx", dx, getf(ds, "dx", T * B * D), T * B * D);
        cmpf("rnn_f32 dh0", dh0, getf(ds, "dh0", B * H), B * H);
        cmpf("rnn_f32 dweight_ih", dwih, getf(ds, "dweight_ih", H * D), H * D);
        cmpf("rnn_f32 dweight_hh", dwhh, getf(ds, "dweight_hh", H * H), H * H);
        cmpf("rnn_f32 dbias_ih", dbih, getf(ds, "dbias_ih", H), H);
        cmpf("rnn_f32 dbias_hh", dbhh, getf(ds, "dbias_hh", H), H);
    }
    ndyn_dataset_free(ds);
}

TEST(parity_losses)
{
    enum { B = 6, D = 3, N = B * D };
    ndyn_dataset *ds = load("losses");
    if (!ds) return;
    const double *x = get(ds, "x", N), *y = get(ds, "y", N), *lv = get(ds, "logvar", D),
                 *lvs = get(ds, "logvar_s", N), *cnt = get(ds, "counts", N),
                 *prob = get(ds, "prob", N), *c = get(ds, "c", N), *cr = get(ds, "c_row", B),
                 *xa = get(ds, "xa", N);
    if (!x || !y || !lv || !lvs || !cnt || !prob || !c || !cr || !xa) goto done;
    double g[N], g1[N], l;
#define LOSS(name, value, backward)                                                         \
    do {                                                                                    \
        memset(g, 0, sizeof g);                                                             \
        memset(g1, 0, sizeof g1);                                                           \
        l = (value);                                                                        \
        backward;                                                                           \
        CMP(name " loss", &l, get(ds, name "/loss", 1), 1, AT64, RT64);                     \
        CMP(name " grad", g, get(ds, name "/grad0", N), N, AT64, RT64);                     \
    } while (0)
    LOSS("mse", ndyn_nn_mse_forward(x, y, N, NDYN_NN_MEAN),
         ndyn_nn_mse_backward(g, x, y, N, NDYN_NN_MEAN, 1));
    LOSS("mse_sum", ndyn_nn_mse_forward(x, y, N, NDYN_NN_SUM),
         ndyn_nn_mse_backward(g, x, y, N, NDYN_NN_SUM, 1));
    LOSS("gnll", ndyn_nn_gaussian_nll_forward(x, y, lv, B, D, 0, 1, NDYN_NN_MEAN),
         ndyn_nn_gaussian_nll_backward(g, g1, x, y, lv, B, D, 0, 1, NDYN_NN_MEAN, 1));
    CMP("gnll dlogvar", g1, get(ds, "gnll/grad1", D), D, AT64, RT64);
    LOSS("gnll_s", ndyn_nn_gaussian_nll_forward(x, y, lvs, B, D, 1, 0, NDYN_NN_SUM),
         ndyn_nn_gaussian_nll_backward(g, g1, x, y, lvs, B, D, 1, 0, NDYN_NN_SUM, 1));
    CMP("gnll_s dlogvar", g1, get(ds, "gnll_s/grad1", N), N, AT64, RT64);
    LOSS("gnll_fixed", ndyn_nn_gaussian_nll_fixed_forward(x, y, 0.37, N, 1, NDYN_NN_MEAN),
         ndyn_nn_gaussian_nll_fixed_backward(g, x, y, 0.37, N, 1, NDYN_NN_MEAN, 1));
    LOSS("poisson_log", ndyn_nn_poisson_nll_forward(x, cnt, N, NDYN_NN_POISSON_LOG, 0, NDYN_NN_MEAN),
         ndyn_nn_poisson_nll_backward(g, x, cnt, N, NDYN_NN_POISSON_LOG, NDYN_NN_MEAN, 1));
    LOSS("poisson_softplus",
         ndyn_nn_poisson_nll_forward(x, cnt, N, NDYN_NN_POISSON_SOFTPLUS, 0, NDYN_NN_MEAN),
         ndyn_nn_poisson_nll_backward(g, x, cnt, N, NDYN_NN_POISSON_SOFTPLUS, NDYN_NN_MEAN, 1));
    LOSS("bce", ndyn_nn_bce_logits_forward(x, prob, N, NDYN_NN_MEAN),
         ndyn_nn_bce_logits_backward(g, x, prob, N, NDYN_NN_MEAN, 1));
#undef LOSS
    /* activations: loss = sum(c * f(xa)) */
    double o[N], row[B];
#define ACT(name, fwd, bwd, n)                                                              \
    do {                                                                                    \
        memset(g, 0, sizeof g);                                                             \
        fwd;                                                                                \
        l = 0;                                                                              \
        for (int i = 0; i < (n); i++) l += (n == B ? cr : c)[i] * (n == B ? row : o)[i];    \
        bwd;                                                                                \
        CMP(name " value", &l, get(ds, name "/loss", 1), 1, AT64, RT64);                    \
        CMP(name " grad", g, get(ds, name "/grad0", N), N, AT64, RT64);                     \
    } while (0)
    ACT("softmax", ndyn_nn_softmax_forward(o, xa, B, D), ndyn_nn_softmax_backward(g, c, o, B, D), N);
    ACT("logsoftmax", ndyn_nn_logsoftmax_forward(o, xa, B, D),
        ndyn_nn_logsoftmax_backward(g, c, o, B, D), N);
    ACT("logsumexp", ndyn_nn_logsumexp_forward(row, xa, B, D),
        ndyn_nn_logsumexp_backward(g, cr, xa, row, B, D), B);
    ACT("logsigmoid", ndyn_nn_logsigmoid_forward(o, xa, N),
        ndyn_nn_logsigmoid_backward(g, c, xa, N), N);
    ACT("softplus", ndyn_nn_softplus_forward(o, xa, N), ndyn_nn_softplus_backward(g, c, xa, N), N);
    ACT("sigmoid", ndyn_nn_sigmoid_forward(o, xa, N), ndyn_nn_sigmoid_backward(g, c, o, N), N);
    ACT("tanh", ndyn_nn_tanh_forward(o, xa, N), ndyn_nn_tanh_backward(g, c, o, N), N);
#undef ACT
done:
    ndyn_dataset_free(ds);
}

TEST(parity_optimisers)
{
    enum { NB = 8, C = 4, OC = 3, STEPS = 6 };
    ndyn_dataset *ds = load("optim");
    if (!ds) return;
    const double *x = get(ds, "x", NB * C), *y = get(ds, "y", NB * OC),
                 *w0 = get(ds, "weight", OC * C), *b0 = get(ds, "bias", OC);
    if (!x || !y || !w0 || !b0) goto done;
    static const char *names[7] = {"sgd_momentum", "sgd_nesterov", "sgd_dampening", "adam",
                                   "adam_wd", "adamw", "adam_clip"};
    for (int k = 0; k < 7; k++) {
        ndyn_nn_optim_params p;
        ndyn_nn_optim_params_default(&p, k < 3 ? NDYN_NN_SGD : k == 5 ? NDYN_NN_ADAMW
                                                                       : NDYN_NN_ADAM);
        if (k < 3) p.lr = 0.05, p.momentum = 0.9;
        else p.lr = 0.01;
        if (k == 1) p.nesterov = 1, p.weight_decay = 0.01;
        if (k == 2) p.momentum = 0.5, p.dampening = 0.3;
        if (k == 4 || k == 5) p.weight_decay = 0.1;
        ndyn_nn_store *s = ndyn_nn_store_new();
        ndyn_nn_linear lin;
        ndyn_nn_optim *o = NULL;
        CHECK_OK(ndyn_nn_linear_add(s, "lin", C, OC, 1, &lin));
        memcpy(ndyn_nn_store_data(s, lin.weight), w0, sizeof(double) * OC * C);
        memcpy(ndyn_nn_store_data(s, lin.bias), b0, sizeof(double) * OC);
        CHECK_OK(ndyn_nn_optim_alloc(&p, s, &o));
        char nm[64];
        snprintf(nm, sizeof nm, "%s/weight", names[k]);
        const double *wt = get(ds, nm, STEPS * OC * C);
        snprintf(nm, sizeof nm, "%s/bias", names[k]);
        const double *bt = get(ds, nm, STEPS * OC);
        snprintf(nm, sizeof nm, "%s/norm", names[k]);
        const double *nt = k == 6 ? get(ds, nm, STEPS) : NULL;
        for (int t = 0; o && wt && bt && t < STEPS; t++) {
            double out[NB * OC], dout[NB * OC] = {0};
            ndyn_nn_store_zero_grad(s);
            CHECK_OK(ndyn_nn_linear_apply(&lin, s, out, x, NB));
            ndyn_nn_mse_backward(dout, out, y, NB * OC, NDYN_NN_MEAN, 1.0);
            CHECK_OK(ndyn_nn_linear_apply_backward(&lin, s, NULL, dout, x, NB));
            if (k == 6) {
                double norm;
                CHECK_OK(ndyn_nn_clip_grad_norm(s, 0.05, &norm));
                if (nt) CHECK_CLOSE(norm, nt[t], AT64, RT64);
            }
            CHECK_OK(ndyn_nn_optim_step(o, s));
            char what[64];
            snprintf(what, sizeof what, "%s step %d weight", names[k], t + 1);
            CMP(what, ndyn_nn_store_data(s, lin.weight), wt + t * OC * C, OC * C, AT64, RT64);
            snprintf(what, sizeof what, "%s step %d bias", names[k], t + 1);
            CMP(what, ndyn_nn_store_data(s, lin.bias), bt + t * OC, OC, AT64, RT64);
        }
        ndyn_nn_optim_free(o);
        ndyn_nn_store_free(s);
    }
done:
    ndyn_dataset_free(ds);
}

TEST(parity_schedules)
{
    ndyn_dataset *ds = load("sched");
    if (!ds) return;
    ndyn_nn_optim_params p;
    ndyn_nn_optim_params_default(&p, NDYN_NN_SGD);
    p.lr = 1.0;
    ndyn_nn_store *s = ndyn_nn_store_new();
    size_t one = 1;
    CHECK_OK(ndyn_nn_store_add(s, "w", 1, &one, 0, NULL));
    ndyn_nn_optim *o = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&p, s, &o));
    ndyn_nn_sched sc;
    ndyn_nn_steplr_init(&sc, 3, 0.5);
    const double *lr = get(ds, "steplr/lr", 10);
    for (int e = 0; lr && e < 10; e++) {
        CHECK_OK(ndyn_nn_sched_step(&sc, o, 0, NULL));
        CHECK_CLOSE(o->p.lr, lr[e], 0, 1e-15);
    }
    enum { E = 75 };
    const double *metric = get(ds, "metric", E);
    for (int v = 0; v < 2 && metric; v++) {
        o->p.lr = 1.0;
        ndyn_nn_plateau_init(&sc);
        if (v == 1) {
            sc.mode_max = 1, sc.patience = 3, sc.threshold = 0.01, sc.threshold_abs = 1;
            sc.cooldown = 2, sc.min_lr = 0.02, sc.factor = 0.5;
        }
        lr = get(ds, v ? "plateau_max/lr" : "plateau/lr", E);
        int nred = 0;
        for (int e = 0; lr && e < E; e++) {
            int red;
            CHECK_OK(ndyn_nn_sched_step(&sc, o, v ? -metric[e] : metric[e], &red));
            nred += red;
            CHECKF(fabs(o->p.lr - lr[e]) <= 1e-15 * lr[e], "plateau %d epoch %d: lr %g torch %g",
                   v, e, o->p.lr, lr[e]);
        }
        CHECK(nred >= 2);  /* the trajectory does reduce, more than once */
    }
    ndyn_nn_optim_free(o);
    ndyn_nn_store_free(s);
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(parity_linear), T(parity_mlp_batchnorm), T(parity_rnn), T(parity_gru),
          T(parity_rnn_f32), T(parity_losses), T(parity_optimisers), T(parity_schedules))
