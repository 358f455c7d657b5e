/* SRNN parameters (defaults, validation), the one-buffer parameter layout
 * with named views, and weight initialisation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "srnn_internal.h"

void ndyn_srnn_params_default(ndyn_srnn_params *p)
{
    memset(p, 0, sizeof *p);
    p->K = 2;
    p->H = 3;
    p->emission = NDYN_SRNN_GAUSSIAN;
    p->n_emission_hidden = 2;
    p->emission_hidden[0] = 32;
    p->emission_hidden[1] = 64;
    p->sampler_hidden = 64;
    p->transition = NDYN_SRNN_TRANS_LINEAR;
    p->trans_base = 1;
    p->causal = 0;
    p->h0_prior = 1;
    p->var_h = 0.01;
    p->var_y = 0.1;
    p->var_q = 0.01;
    p->learn_var_h = p->learn_var_y = p->learn_var_q = 1;
    p->var_min = 1e-5;
    p->objective = NDYN_SRNN_OBJ_ELBO;
    p->loss_sum = 0;
    p->init = NDYN_SRNN_INIT_KMEANS;
    p->init_epochs = 3000;
    p->epochs = 1000;
    p->coef_cross = 0.5;
    p->lr = 1e-3;
    p->lr_step = 2000;
    p->lr_gamma = 0.8;
    p->clip = 0;
    p->fresh_optimizer = 0;
    p->batch_trials = 0;
    p->restarts = 1;
    p->test_trials = 0;
    p->eval_every = 10;
    p->eval_samples = 4;
    p->hmm_iters = 20;
    p->init_scale = 1.0;
    p->seed = 131;
}

int ndyn_srnn_check_params(const ndyn_srnn_params *p)
{
    if (!p) return ndyn_error(NDYN_EINVAL, "srnn: params is NULL");
    if (p->K < 1 || p->K > 64) return ndyn_error(NDYN_EINVAL, "srnn: states K = %d must be in 1..64", p->K);
    if (p->H < 1 || p->H > 4096) return ndyn_error(NDYN_EINVAL, "srnn: hidden size H = %d must be in 1..4096", p->H);
    if (p->emission != NDYN_SRNN_GAUSSIAN && p->emission != NDYN_SRNN_POISSON)
        return ndyn_error(NDYN_EINVAL, "srnn: emission must be gaussian or poisson");
    if (p->n_emission_hidden < 0 || p->n_emission_hidden > NDYN_SRNN_MAX_LAYERS)
        return ndyn_error(NDYN_EINVAL, "srnn: 0..%d emission hidden layers, got %d", NDYN_SRNN_MAX_LAYERS, p->n_emission_hidden);
    for (int i = 0; i < p->n_emission_hidden; i++)
        if (p->emission_hidden[i] < 1 || p->emission_hidden[i] > 65536)
            return ndyn_error(NDYN_EINVAL, "srnn: emission layer %d width %d must be in 1..65536", i, p->emission_hidden[i]);
    if (p->sampler_hidden < 1 || p->sampler_hidden > 65536)
        return ndyn_error(NDYN_EINVAL, "srnn: sampler width %d must be in 1..65536", p->sampler_hidden);
    if (p->transition != NDYN_SRNN_TRANS_LINEAR && p->transition != NDYN_SRNN_TRANS_TANH)
        return ndyn_error(NDYN_EINVAL, "srnn: transition must be linear or tanh");
    if (!(p->var_h > 0) || !(p->var_y > 0) || !(p->var_q > 0) || !isfinite(p->var_h) ||
        !isfinite(p->var_y) || !isfinite(p->var_q))
        return ndyn_error(NDYN_EINVAL, "srnn: variances must be positive and finite (var_h %g, var_y %g, var_q %g)",
                          p->var_h, p->var_y, p->var_q);
    if (!(p->var_min >= 0) || !isfinite(p->var_min))
        return ndyn_error(NDYN_EINVAL, "srnn: var_min must be >= 0, got %g", p->var_min);
    if ((p->learn_var_h && p->var_h <= p->var_min) || (p->learn_var_y && p->var_y <= p->var_min) ||
        (p->learn_var_q && p->var_q <= p->var_min))
        return ndyn_error(NDYN_EINVAL, "srnn: a learned variance must start above var_min (%g)", p->var_min);
    if (p->objective != NDYN_SRNN_OBJ_ELBO && p->objective != NDYN_SRNN_OBJ_COMPAT)
        return ndyn_error(NDYN_EINVAL, "srnn: objective must be elbo or compat");
    if (p->precision != NDYN_SRNN_F64 && p->precision != NDYN_SRNN_F32)
        return ndyn_error(NDYN_EINVAL, "srnn: precision must be f64 or f32");
    if (p->loss_sum != 0 && p->loss_sum != 1) return ndyn_error(NDYN_EINVAL, "srnn: loss_sum must be 0 or 1");
    if (p->init < NDYN_SRNN_INIT_KMEANS || p->init > NDYN_SRNN_INIT_NONE)
        return ndyn_error(NDYN_EINVAL, "srnn: unknown init method %d", p->init);
    if (p->init_epochs < 0 || p->epochs < 0)
        return ndyn_error(NDYN_EINVAL, "srnn: epochs must be >= 0 (init %d, train %d)", p->init_epochs, p->epochs);
    if (!(p->coef_cross >= 0) || !isfinite(p->coef_cross))
        return ndyn_error(NDYN_EINVAL, "srnn: coef_cross must be >= 0, got %g", p->coef_cross);
    if (!(p->lr > 0) || !isfinite(p->lr)) return ndyn_error(NDYN_EINVAL, "srnn: lr must be > 0, got %g", p->lr);
    if (p->lr_step < 1) return ndyn_error(NDYN_EINVAL, "srnn: lr_step must be >= 1, got %d", p->lr_step);
    if (!(p->lr_gamma > 0) || p->lr_gamma > 1)
        return ndyn_error(NDYN_EINVAL, "srnn: lr_gamma must be in (0, 1], got %g", p->lr_gamma);
    if (!(p->clip >= 0)) return ndyn_error(NDYN_EINVAL, "srnn: clip must be >= 0 (0 = none), got %g", p->clip);
    if (p->batch_trials < 0) return ndyn_error(NDYN_EINVAL, "srnn: batch_trials must be >= 0 (0 = full batch)");
    if (p->restarts < 1) return ndyn_error(NDYN_EINVAL, "srnn: restarts must be >= 1, got %d", p->restarts);
    if (p->test_trials < 0) return ndyn_error(NDYN_EINVAL, "srnn: test_trials must be >= 0");
    if (p->eval_every < 1) return ndyn_error(NDYN_EINVAL, "srnn: eval_every must be >= 1");
    if (p->eval_samples < 1) return ndyn_error(NDYN_EINVAL, "srnn: eval_samples must be >= 1");
    if (p->hmm_iters < 1) return ndyn_error(NDYN_EINVAL, "srnn: hmm_iters must be >= 1");
    if (!(p->init_scale > 0) || !isfinite(p->init_scale))
        return ndyn_error(NDYN_EINVAL, "srnn: init_scale must be > 0");
    return NDYN_OK;
}

void srnn_layout_make(const ndyn_srnn_params *p, size_t N, srnn_layout *l)
{
    memset(l, 0, sizeof *l);
    size_t K = p->K, H = p->H, o = 0;
    l->K = p->K;
    l->H = p->H;
    l->N = (int)N;
    l->L = p->n_emission_hidden + 1;
    l->dims[0] = p->H;
    for (int i = 0; i < p->n_emission_hidden; i++) l->dims[i + 1] = p->emission_hidden[i];
    l->dims[l->L] = (int)N;
    l->S1 = p->sampler_hidden;
#define TAKE(field, cnt) (l->field = o, o += (cnt))
    TAKE(pi, K);
    TAKE(trans_W, K * K * H);
    TAKE(trans_b, K * K);
    l->n_trans_B = p->trans_base ? K * K : 0;
    TAKE(trans_B, l->n_trans_B);
    TAKE(dyn_W, K * H * H);
    TAKE(dyn_b, K * H);
    l->n_h0 = p->h0_prior ? 1 : 0;
    TAKE(h0_mu, l->n_h0 * K * H);
    TAKE(h0_logvar, l->n_h0 * H);
    TAKE(logvar_h, H);
    l->n_logvar_y = p->emission == NDYN_SRNN_GAUSSIAN ? N : 0;
    TAKE(logvar_y, l->n_logvar_y);
    for (int i = 0; i < l->L; i++) {
        TAKE(emis_W[i], (size_t)l->dims[i + 1] * l->dims[i]);
        TAKE(emis_b[i], (size_t)l->dims[i + 1]);
    }
    TAKE(encf_Wx, H * N);
    TAKE(encf_Wh, H * H);
    TAKE(encf_b, H);
    l->n_encb = p->causal ? 0 : 1;
    TAKE(encb_Wx, l->n_encb * H * N);
    TAKE(encb_Wh, l->n_encb * H * H);
    TAKE(encb_b, l->n_encb * H);
    TAKE(s1_W, (size_t)l->S1 * 2 * H);
    TAKE(s1_b, (size_t)l->S1);
    TAKE(s2_W, H * l->S1);
    TAKE(s2_b, H);
    TAKE(m_Wa, H * H);
    TAKE(m_Ws, H * H);
    TAKE(m_b, H);
    TAKE(logvar_q, H);
#undef TAKE
    l->n = o;
}

static void uni(ndyn_rng *r, double *x, size_t n, double a)
{
    for (size_t i = 0; i < n; i++) x[i] = ndyn_rng_uniform_range(r, -a, a);
}

int ndyn_srnn_model_new(const ndyn_srnn_params *p, size_t N, ndyn_srnn_model **out)
{
    *out = NULL;
    int rc = ndyn_srnn_check_params(p);
    if (rc) return rc;
    if (N < 1 || N > (1u << 24)) return ndyn_error(NDYN_EINVAL, "srnn: %zu observed channels; need 1..2^24", N);
    ndyn_srnn_model *m = ndyn_calloc(1, sizeof *m);
    if (!m) return NDYN_ENOMEM;
    srnn_layout l;
    srnn_layout_make(p, N, &l);
    m->p = *p;
    m->N = N;
    m->n_theta = l.n;
    m->theta = ndyn_calloc(l.n, sizeof(double));
    if (!m->theta) {
        free(m);
        return NDYN_ENOMEM;
    }
    m->train_elbo = m->test_elbo = NAN;
    m->p.heldout = NULL, m->p.n_heldout = 0;
    if (p->n_heldout) {
        rc = srnn_set_heldout(m, p->heldout, p->n_heldout);
        if (rc) {
            ndyn_srnn_model_free(m);
            return rc;
        }
    }
    ndyn_rng r;
    ndyn_rng_init(&r, p->seed, 0x5151);
    double *t = m->theta, s = p->init_scale;
    size_t K = p->K, H = p->H;
    for (size_t k = 0; k < K; k++) t[l.pi + k] = 0.1 * ndyn_rng_normal(&r);
    double aH = s / sqrt((double)H), aN = s / sqrt((double)N);
    uni(&r, t + l.trans_W, K * K * H, aH);
    uni(&r, t + l.trans_b, K * K, aH);
    /* Dynamics: near-identity-ish random maps so the states start distinct. */
    uni(&r, t + l.dyn_W, K * H * H, aH);
    uni(&r, t + l.dyn_b, K * H, aH);
    if (l.n_h0) uni(&r, t + l.h0_mu, K * H, 0.1);
    for (size_t i = 0; i < l.n_h0 * H; i++) t[l.h0_logvar + i] = log(1.0);
    for (size_t i = 0; i < H; i++) t[l.logvar_h + i] = log(p->var_h - (p->learn_var_h ? p->var_min : 0));
    for (size_t i = 0; i < l.n_logvar_y; i++) t[l.logvar_y + i] = log(p->var_y - (p->learn_var_y ? p->var_min : 0));
    for (int i = 0; i < l.L; i++) {
        double a = s / sqrt((double)l.dims[i]);
        uni(&r, t + l.emis_W[i], (size_t)l.dims[i + 1] * l.dims[i], a);
        uni(&r, t + l.emis_b[i], (size_t)l.dims[i + 1], a);
    }
    uni(&r, t + l.encf_Wx, H * N, aN);
    uni(&r, t + l.encf_Wh, H * H, aH);
    uni(&r, t + l.encf_b, H, aH);
    uni(&r, t + l.encb_Wx, l.n_encb * H * N, aN);
    uni(&r, t + l.encb_Wh, l.n_encb * H * H, aH);
    uni(&r, t + l.encb_b, l.n_encb * H, aH);
    double a2 = s / sqrt(2.0 * H), aS = s / sqrt((double)l.S1);
    uni(&r, t + l.s1_W, (size_t)l.S1 * 2 * H, a2);
    uni(&r, t + l.s1_b, l.S1, a2);
    uni(&r, t + l.s2_W, H * l.S1, aS);
    uni(&r, t + l.s2_b, H, aS);
    uni(&r, t + l.m_Wa, H * H, aH);
    uni(&r, t + l.m_Ws, H * H, aH);
    uni(&r, t + l.m_b, H, aH);
    for (size_t i = 0; i < H; i++) t[l.logvar_q + i] = log(p->var_q - (p->learn_var_q ? p->var_min : 0));
    /* the encoder never reads held-out channels: their input weights stay 0 */
    for (size_t q = 0; q < m->n_heldout; q++)
        for (size_t i = 0; i < H; i++) {
            t[l.encf_Wx + i * N + (size_t)m->heldout[q]] = 0;
            if (l.n_encb) t[l.encb_Wx + i * N + (size_t)m->heldout[q]] = 0;
        }
    *out = m;
    return NDYN_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int srnn_set_heldout(ndyn_srnn_model *m, const int *held, size_t n)
{
    size_t N = m->N;
    if (!n) return NDYN_OK;
    if (!held) return ndyn_error(NDYN_EINVAL, "srnn: %zu held-out channels but no list", n);
    if (n >= N)
        return ndyn_error(NDYN_EINVAL, "srnn: %zu held-out channels leave none of the %zu for the encoder; hold out fewer", n, N);
    int *c = ndyn_malloc_array(n, sizeof(int));
    if (!c) return NDYN_ENOMEM;
    memcpy(c, held, n * sizeof(int));
    qsort(c, n, sizeof(int), cmp_int);
    for (size_t q = 0; q < n; q++) {
        if (c[q] < 0 || (size_t)c[q] >= N) {
            int bad = c[q];
            free(c);
            return ndyn_error(NDYN_EINVAL, "srnn: held-out channel %d out of range 0..%zu", bad, N - 1);
        }
        if (q && c[q] == c[q - 1]) {
            int bad = c[q];
            free(c);
            return ndyn_error(NDYN_EINVAL, "srnn: held-out channel %d listed twice", bad);
        }
    }
    free(m->heldout);
    m->heldout = c;
    m->n_heldout = n;
    m->p.heldout = c;
    m->p.n_heldout = n;
    return NDYN_OK;
}

int ndyn_srnn_heldout_pick(size_t N, double frac, uint64_t seed, int *out, size_t *n)
{
    if (!(frac > 0 && frac < 1)) return ndyn_error(NDYN_EINVAL, "srnn: held-out fraction %g must be in (0, 1)", frac);
    if (N < 2) return ndyn_error(NDYN_EINVAL, "srnn: holding out channels needs at least 2 channels, the data have %zu", N);
    size_t k = (size_t)floor(frac * (double)N + 0.5);
    if (k < 1) k = 1;
    if (k > N - 1) k = N - 1;
    size_t *idx = ndyn_malloc_array(N, sizeof(size_t));
    if (!idx) return NDYN_ENOMEM;
    for (size_t i = 0; i < N; i++) idx[i] = i;
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0xC05);
    ndyn_rng_shuffle(&r, idx, N);
    for (size_t i = 0; i < k; i++) out[i] = (int)idx[i];
    free(idx);
    qsort(out, k, sizeof(int), cmp_int);
    *n = k;
    return NDYN_OK;
}

void ndyn_srnn_model_free(ndyn_srnn_model *m)
{
    if (!m) return;
    free(m->heldout);
    free(m->theta);
    free(m->hist.epoch);
    free(m->hist.loss);
    free(m->hist.train_elbo);
    free(m->hist.test_elbo);
    free(m->hist.lr);
    free(m->hist.stage);
    free(m);
}

int ndyn_srnn_param_view(const ndyn_srnn_model *m, const char *name, double **ptr, size_t *n)
{
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    size_t K = l.K, H = l.H, N = l.N;
    struct { const char *nm; size_t off, cnt; } tab[] = {
        {"pi", l.pi, K}, {"trans_W", l.trans_W, K * K * H}, {"trans_b", l.trans_b, K * K},
        {"trans_B", l.trans_B, l.n_trans_B}, {"dyn_W", l.dyn_W, K * H * H}, {"dyn_b", l.dyn_b, K * H},
        {"h0_mu", l.h0_mu, l.n_h0 * K * H}, {"h0_logvar", l.h0_logvar, l.n_h0 * H},
        {"logvar_h", l.logvar_h, H}, {"logvar_y", l.logvar_y, l.n_logvar_y},
        {"encf_Wx", l.encf_Wx, H * N}, {"encf_Wh", l.encf_Wh, H * H}, {"encf_b", l.encf_b, H},
        {"encb_Wx", l.encb_Wx, l.n_encb * H * N}, {"encb_Wh", l.encb_Wh, l.n_encb * H * H},
        {"encb_b", l.encb_b, l.n_encb * H}, {"s1_W", l.s1_W, (size_t)l.S1 * 2 * H},
        {"s1_b", l.s1_b, l.S1}, {"s2_W", l.s2_W, H * l.S1}, {"s2_b", l.s2_b, H},
        {"m_Wa", l.m_Wa, H * H}, {"m_Ws", l.m_Ws, H * H}, {"m_b", l.m_b, H},
        {"logvar_q", l.logvar_q, H}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(name, tab[i].nm)) {
            if (ptr) *ptr = m->theta + tab[i].off;
            if (n) *n = tab[i].cnt;
            return NDYN_OK;
        }
    for (int i = 0; i < l.L; i++) {
        char b[32];
        snprintf(b, sizeof b, "emis_W%d", i);
        if (!strcmp(name, b)) {
            if (ptr) *ptr = m->theta + l.emis_W[i];
            if (n) *n = (size_t)l.dims[i + 1] * l.dims[i];
            return NDYN_OK;
        }
        snprintf(b, sizeof b, "emis_b%d", i);
        if (!strcmp(name, b)) {
            if (ptr) *ptr = m->theta + l.emis_b[i];
            if (n) *n = (size_t)l.dims[i + 1];
            return NDYN_OK;
        }
    }
    return ndyn_error(NDYN_ENOTFOUND, "srnn: no parameter block named '%s'", name);
}

void srnn_grad_mask(const ndyn_srnn_model *m, const srnn_layout *l, double *g)
{
    if (!m->p.learn_var_h)
        for (int i = 0; i < l->H; i++) g[l->logvar_h + i] = 0;
    if (!m->p.learn_var_y)
        for (size_t i = 0; i < l->n_logvar_y; i++) g[l->logvar_y + i] = 0;
    if (!m->p.learn_var_q)
        for (int i = 0; i < l->H; i++) g[l->logvar_q + i] = 0;
}
