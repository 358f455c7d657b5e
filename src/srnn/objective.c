/* The exact collapsed ELBO of one batch of equal-length trials and its
 * gradient (spec §5.1): a forward pass over the inference network, the
 * per-state dynamics, the transitions and the emission, batched over trials
 * (time-major rows t * B + b, so every non-recurrent map is one GEMM over all
 * rows and every recurrent one a GEMM over B rows per step); log p(y, h~) from
 * the log-domain forward pass; gradients seeded by the closed-form HMM
 * identities (d/de = gamma, d/dS_t[i,j] = xi_{t-1}(j,i), d/dlog pi = gamma_0)
 * plus the adjoint of the recursions for the cross-entropy term, then
 * hand-written BPTT through every block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "srnn_internal.h"

#define LOG2PI 1.8378770664093453

struct srnn_ws {
    size_t B, T, TB;
    int K, H, N, L, S1, maxd;
    double *uf, *ub, *E, *E1, *z1, *a, *s, *h;  /* encoders and sampler */
    double *act[NDYN_SRNN_MAX_LAYERS + 2];      /* emission activations, act[0] = h */
    double *ly;                                 /* (TB) log p(y_t | h_t) */
    double *F;                                  /* (K, TB, H) */
    double *Lt, *Am;                            /* (TB, KK) tanh/raw logits, probabilities */
    double *e, *S, *la, *lb, *lc, *gam, *xi;    /* per trial (B, T, ...) */
    double *gamma_tm;                           /* (T, B, K) */
    double lpi[64];
    /* backward */
    double *ge, *gS, *dh, *d1, *d2, *gL, *dz1, *da, *dps, *dE, *dp, *Pb, *cs;
    double *vh, *vq, *sq, *v0, *vy, *ivh, *ivy;
    double *yin;                                /* (TB, N) encoder input without held-out channels, or NULL */
};

static double *grab(double **pool, size_t n)
{
    double *p = *pool;
    *pool += n;
    return p;
}

srnn_ws *srnn_ws_alloc(const srnn_layout *l, size_t B, size_t T)
{
    srnn_ws *w = ndyn_calloc(1, sizeof *w);
    if (!w) return NULL;
    size_t TB = T * B, K = l->K, H = l->H, N = l->N, KK = K * K;
    w->B = B, w->T = T, w->TB = TB, w->K = l->K, w->H = l->H, w->N = l->N, w->L = l->L, w->S1 = l->S1;
    int maxd = l->S1;
    for (int i = 0; i <= l->L; i++) maxd = l->dims[i] > maxd ? l->dims[i] : maxd;
    w->maxd = maxd;
    size_t tot = TB * (H * 6 + (size_t)l->S1 * 2) + TB + K * TB * H + 2 * TB * KK;
    for (int i = 1; i <= l->L; i++) tot += TB * (size_t)l->dims[i];
    tot += B * T * (3 * K + 2 * KK) + B * T + TB * K;
    tot += B * T * (K + KK) + TB * H + 2 * TB * (size_t)maxd + TB * KK + TB * (size_t)l->S1 +
           TB * H * 4 + T * K + 5 * H + 2 * N + 3 * T * K + T * KK;
    double *pool = ndyn_malloc_array(tot, sizeof(double));
    if (!pool) {
        free(w);
        return NULL;
    }
    double *p = pool;
    w->uf = grab(&p, TB * H);
    w->ub = grab(&p, TB * H);
    w->E = grab(&p, TB * H);
    w->a = grab(&p, TB * H);
    w->s = grab(&p, TB * H);
    w->h = grab(&p, TB * H);
    w->E1 = grab(&p, TB * l->S1);
    w->z1 = grab(&p, TB * l->S1);
    w->ly = grab(&p, TB);
    w->F = grab(&p, K * TB * H);
    w->Lt = grab(&p, TB * KK);
    w->Am = grab(&p, TB * KK);
    w->act[0] = w->h;
    for (int i = 1; i <= l->L; i++) w->act[i] = grab(&p, TB * (size_t)l->dims[i]);
    w->e = grab(&p, B * T * K);
    w->la = grab(&p, B * T * K);
    w->lb = grab(&p, B * T * K);
    w->S = grab(&p, B * T * KK);
    w->xi = grab(&p, B * T * KK);
    w->lc = grab(&p, B * T);
    w->gamma_tm = grab(&p, TB * K);
    w->gam = grab(&p, 0); /* per-trial gamma reuses ge's slot before seeding: see below */
    w->ge = grab(&p, B * T * K);
    w->gS = grab(&p, B * T * KK);
    w->dh = grab(&p, TB * H);
    w->d1 = grab(&p, TB * maxd);
    w->d2 = grab(&p, TB * maxd);
    w->gL = grab(&p, TB * KK);
    w->dz1 = grab(&p, TB * l->S1);
    w->da = grab(&p, TB * H);
    w->dps = grab(&p, TB * H);
    w->dE = grab(&p, TB * H);
    w->dp = grab(&p, TB * H);
    w->Pb = grab(&p, T * K);
    w->cs = grab(&p, 3 * T * K + T * KK);
    w->vh = grab(&p, H);
    w->vq = grab(&p, H);
    w->sq = grab(&p, H);
    w->v0 = grab(&p, H);
    w->vy = grab(&p, N);
    w->ivh = grab(&p, H);
    w->ivy = grab(&p, N);
    return w;
}

void srnn_ws_free(srnn_ws *w)
{
    if (!w) return;
    free(w->yin);
    free(w->uf); /* the pool starts at uf */
    free(w);
}

const double *srnn_ws_gamma(const srnn_ws *w) { return w->gamma_tm; }
const double *srnn_ws_h(const srnn_ws *w) { return w->h; }
const double *srnn_ws_g(const srnn_ws *w) { return w->act[w->L]; }
const double *srnn_ws_e(const srnn_ws *w) { return w->e; }
const double *srnn_ws_S(const srnn_ws *w) { return w->S; }
const double *srnn_ws_lpi(const srnn_ws *w) { return w->lpi; }

static void colsum_add(const double *x, size_t rows, int n, double *out)
{
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) out[j] += x[r * n + j];
}

static double softplus(double g) { return g > 30 ? g : log1p(exp(g)); }
static double sigmoid(double g) { return 1.0 / (1.0 + exp(-g)); }

void srnn_log_pi(const ndyn_srnn_model *m, const srnn_layout *l, double *lpi)
{
    const double *pi = m->theta + l->pi;
    double mx = pi[0];
    for (int k = 1; k < l->K; k++) mx = pi[k] > mx ? pi[k] : mx;
    double s = 0;
    for (int k = 0; k < l->K; k++) s += exp(pi[k] - mx);
    for (int k = 0; k < l->K; k++) lpi[k] = pi[k] - mx - log(s);
}

/* column log-softmax of logits Lt (K, K) (already with tanh/base) into S, probabilities into A */
static void col_logsoftmax(const double *Lt, int K, double *S, double *A)
{
    for (int j = 0; j < K; j++) {
        double mx = Lt[j];
        for (int i = 1; i < K; i++) mx = Lt[i * K + j] > mx ? Lt[i * K + j] : mx;
        double s = 0;
        for (int i = 0; i < K; i++) s += exp(Lt[i * K + j] - mx);
        double ls = mx + log(s);
        for (int i = 0; i < K; i++) {
            S[i * K + j] = Lt[i * K + j] - ls;
            if (A) A[i * K + j] = exp(S[i * K + j]);
        }
    }
}

void srnn_log_transition(const ndyn_srnn_model *m, const srnn_layout *l, const double *h, double *S)
{
    int K = l->K, KK = K * K, H = l->H;
    double Lt[64 * 64];
    const double *W = m->theta + l->trans_W, *b = m->theta + l->trans_b;
    for (int q = 0; q < KK; q++) {
        double v = b[q];
        for (int d = 0; d < H; d++) v += W[q * H + d] * h[d];
        if (m->p.transition == NDYN_SRNN_TRANS_TANH) v = srnn_tanh(v);
        if (l->n_trans_B) v += m->theta[l->trans_B + q];
        Lt[q] = v;
    }
    col_logsoftmax(Lt, K, S, NULL);
}

void srnn_dynamics(const ndyn_srnn_model *m, const srnn_layout *l, int k, const double *h, double *f)
{
    int H = l->H;
    const double *W = m->theta + l->dyn_W + (size_t)k * H * H, *b = m->theta + l->dyn_b + (size_t)k * H;
    for (int i = 0; i < H; i++) {
        double v = b[i];
        for (int d = 0; d < H; d++) v += W[i * H + d] * h[d];
        f[i] = srnn_tanh(v);
    }
}

static void emission_forward(const ndyn_srnn_model *m, const srnn_layout *l, double *const *act,
                             size_t n)
{
    for (int i = 0; i < l->L; i++) {
        int din = l->dims[i], dout = l->dims[i + 1];
        double *o = act[i + 1];
        const double *b = m->theta + l->emis_b[i];
        for (size_t r = 0; r < n; r++) memcpy(o + r * dout, b, dout * sizeof(double));
        srnn_gemm(0, 1, (int)n, dout, din, 1.0, act[i], din, m->theta + l->emis_W[i], din, 1.0, o, dout);
        if (i + 1 < l->L)
            for (size_t q = 0; q < n * (size_t)dout; q++) o[q] = o[q] > 0 ? o[q] : 0;
    }
}

int srnn_emission(const ndyn_srnn_model *m, const srnn_layout *l, const double *h, size_t n, double *out)
{
    double *act[NDYN_SRNN_MAX_LAYERS + 2];
    size_t tot = 0;
    for (int i = 1; i < l->L; i++) tot += n * (size_t)l->dims[i];
    double *buf = ndyn_malloc_array(tot ? tot : 1, sizeof(double));
    if (!buf) return NDYN_ENOMEM;
    act[0] = (double *)h;
    double *p = buf;
    for (int i = 1; i < l->L; i++) act[i] = p, p += n * (size_t)l->dims[i];
    act[l->L] = out;
    emission_forward(m, l, act, n);
    free(buf);
    return NDYN_OK;
}

static int batch_impl(const ndyn_srnn_model *m, const srnn_layout *l, srnn_ws *w, const double *y,
                      const double *eps, const double *P, double coef, double *Jout, double *J_trial,
                      double *elbo_trial, double *grad)
{
    const double *th = m->theta;
    const ndyn_srnn_params *p = &m->p;
    const int K = l->K, H = l->H, N = l->N, S1 = l->S1, KK = K * K;
    const size_t B = w->B, T = w->T, TB = w->TB;
    const int iB = (int)B;
    const double vmin_h = p->learn_var_h ? p->var_min : 0, vmin_y = p->learn_var_y ? p->var_min : 0,
                 vmin_q = p->learn_var_q ? p->var_min : 0;
    double *vh = w->vh, *vq = w->vq, *sq = w->sq, *v0 = w->v0, *vy = w->vy, *ivh = w->ivh, *ivy = w->ivy;
    for (int d = 0; d < H; d++) {
        vh[d] = srnn_var(th[l->logvar_h + d], vmin_h);
        vq[d] = srnn_var(th[l->logvar_q + d], vmin_q);
        sq[d] = sqrt(vq[d]);
        v0[d] = l->n_h0 ? srnn_var(th[l->h0_logvar + d], p->var_min) : 1;
        ivh[d] = 1 / vh[d];
    }
    /* ---------------- encoders: they read the held-in channels only (held-out ones as 0) */
    const double *yenc = y;
    if (m->n_heldout) {
        if (!w->yin && !(w->yin = ndyn_malloc_array(TB * (size_t)N, sizeof(double)))) return NDYN_ENOMEM;
        memcpy(w->yin, y, TB * (size_t)N * sizeof(double));
        for (size_t r = 0; r < TB; r++)
            for (size_t q = 0; q < m->n_heldout; q++) w->yin[r * N + m->heldout[q]] = 0;
        yenc = w->yin;
    }
    const double *Wfx = th + l->encf_Wx, *Wfh = th + l->encf_Wh, *bf = th + l->encf_b;
    for (size_t r = 0; r < TB; r++) memcpy(w->uf + r * H, bf, H * sizeof(double));
    srnn_gemm(0, 1, (int)TB, H, N, 1.0, yenc, N, Wfx, N, 1.0, w->uf, H);
    for (size_t t = 0; t < T; t++) {
        double *u = w->uf + t * B * H;
        if (t) srnn_gemm(0, 1, iB, H, H, 1.0, u - B * H, H, Wfh, H, 1.0, u, H);
        for (size_t q = 0; q < B * H; q++) u[q] = srnn_tanh(u[q]);
    }
    memcpy(w->E, w->uf, TB * H * sizeof(double));
    if (l->n_encb) {
        const double *Wbx = th + l->encb_Wx, *Wbh = th + l->encb_Wh, *bb = th + l->encb_b;
        for (size_t r = 0; r < TB; r++) memcpy(w->ub + r * H, bb, H * sizeof(double));
        srnn_gemm(0, 1, (int)TB, H, N, 1.0, yenc, N, Wbx, N, 1.0, w->ub, H);
        for (size_t t = T; t-- > 0;) {
            double *u = w->ub + t * B * H;
            if (t + 1 < T) srnn_gemm(0, 1, iB, H, H, 1.0, u + B * H, H, Wbh, H, 1.0, u, H);
            for (size_t q = 0; q < B * H; q++) u[q] = srnn_tanh(u[q]);
        }
        for (size_t q = 0; q < TB * H; q++) w->E[q] += w->ub[q];
    }
    /* ---------------- sampler */
    const double *W1 = th + l->s1_W, *b1 = th + l->s1_b, *W2 = th + l->s2_W, *b2 = th + l->s2_b;
    const double *Wma = th + l->m_Wa, *Wms = th + l->m_Ws, *bm = th + l->m_b;
    for (size_t r = 0; r < TB; r++) memcpy(w->E1 + r * S1, b1, S1 * sizeof(double));
    srnn_gemm(0, 1, (int)TB, S1, H, 1.0, w->E, H, W1, 2 * H, 1.0, w->E1, S1);
    for (size_t t = 0; t < T; t++) {
        double *z1 = w->z1 + t * B * S1, *a = w->a + t * B * H, *s = w->s + t * B * H,
               *h = w->h + t * B * H;
        memcpy(z1, w->E1 + t * B * S1, B * S1 * sizeof(double));
        if (t) srnn_gemm(0, 1, iB, S1, H, 1.0, h - B * H, H, W1 + H, 2 * H, 1.0, z1, S1);
        double *r1 = w->d1; /* relu(z1) scratch for this step */
        for (size_t q = 0; q < B * S1; q++) r1[q] = z1[q] > 0 ? z1[q] : 0;
        for (size_t b = 0; b < B; b++) memcpy(a + b * H, b2, H * sizeof(double));
        srnn_gemm(0, 1, iB, H, S1, 1.0, r1, S1, W2, S1, 1.0, a, H);
        for (size_t b = 0; b < B; b++) memcpy(s + b * H, bm, H * sizeof(double));
        srnn_gemm(0, 1, iB, H, H, 1.0, a, H, Wma, H, 1.0, s, H);
        if (t) srnn_gemm(0, 1, iB, H, H, 1.0, s - B * H, H, Wms, H, 1.0, s, H);
        for (size_t b = 0; b < B; b++)
            for (int d = 0; d < H; d++) {
                size_t q = b * H + d;
                s[q] = srnn_tanh(s[q]);
                h[q] = s[q] + (eps ? sq[d] * eps[t * B * H + q] : 0);
            }
    }
    /* ---------------- emission and log p(y | h) */
    emission_forward(m, l, w->act, TB);
    const double *g = w->act[l->L];
    if (p->emission == NDYN_SRNN_GAUSSIAN) {
        double c = 0;
        for (int j = 0; j < N; j++) {
            vy[j] = srnn_var(th[l->logvar_y + j], vmin_y);
            ivy[j] = 1 / vy[j];
            c += LOG2PI + log(vy[j]);
        }
        for (size_t r = 0; r < TB; r++) {
            double s = c;
            for (int j = 0; j < N; j++) {
                double u = y[r * N + j] - g[r * N + j];
                s += u * u * ivy[j];
            }
            w->ly[r] = -0.5 * s;
        }
    } else {
        for (size_t r = 0; r < TB; r++) {
            double s = 0;
            for (int j = 0; j < N; j++) {
                double yy = y[r * N + j], lam = softplus(g[r * N + j]) + 1e-8;
                s += yy * log(lam) - lam - lgamma(yy + 1);
            }
            w->ly[r] = s;
        }
    }
    /* ---------------- dynamics: F_k rows t >= 1 */
    size_t R1 = (T - 1) * B; /* rows t >= 1 */
    for (int k = 0; k < K; k++) {
        double *F = w->F + (size_t)k * TB * H;
        const double *Wk = th + l->dyn_W + (size_t)k * H * H, *bk = th + l->dyn_b + (size_t)k * H;
        for (size_t r = B; r < TB; r++) memcpy(F + r * H, bk, H * sizeof(double));
        srnn_gemm(0, 1, (int)R1, H, H, 1.0, w->h, H, Wk, H, 1.0, F + B * H, H);
        for (size_t q = B * H; q < TB * H; q++) F[q] = srnn_tanh(F[q]);
    }
    /* ---------------- transitions: logits rows t >= 1 */
    const double *Ws = th + l->trans_W, *bs = th + l->trans_b;
    for (size_t r = B; r < TB; r++) memcpy(w->Lt + r * KK, bs, KK * sizeof(double));
    srnn_gemm(0, 1, (int)R1, KK, H, 1.0, w->h, H, Ws, H, 1.0, w->Lt + B * KK, KK);
    if (p->transition == NDYN_SRNN_TRANS_TANH)
        for (size_t q = B * KK; q < TB * KK; q++) w->Lt[q] = srnn_tanh(w->Lt[q]);
    srnn_log_pi(m, l, w->lpi);
    double lvh = 0, lv0 = 0;
    for (int d = 0; d < H; d++) lvh += LOG2PI + log(vh[d]), lv0 += LOG2PI + log(v0[d]);
    double Ltmp[64 * 64];
    for (size_t b = 0; b < B; b++) {
        double *e = w->e + b * T * K, *S = w->S + b * T * KK;
        for (size_t t = 0; t < T; t++) {
            size_t r = t * B + b;
            const double *ht = w->h + r * H;
            for (int k = 0; k < K; k++) {
                double q = 0;
                if (t == 0) {
                    if (l->n_h0) {
                        const double *mu = th + l->h0_mu + (size_t)k * H;
                        for (int d = 0; d < H; d++) q += (ht[d] - mu[d]) * (ht[d] - mu[d]) / v0[d];
                        q = -0.5 * (q + lv0);
                    }
                } else {
                    const double *F = w->F + ((size_t)k * TB + r) * H;
                    for (int d = 0; d < H; d++) q += (ht[d] - F[d]) * (ht[d] - F[d]) * ivh[d];
                    q = -0.5 * (q + lvh);
                }
                e[t * K + k] = q + w->ly[r];
            }
            if (t) {
                memcpy(Ltmp, w->Lt + r * KK, KK * sizeof(double));
                if (l->n_trans_B)
                    for (int q = 0; q < KK; q++) Ltmp[q] += th[l->trans_B + q];
                col_logsoftmax(Ltmp, K, S + t * KK, w->Am + r * KK);
            }
        }
    }
    /* ---------------- forward-backward per trial, objective */
    double ent_c = 0;
    for (int d = 0; d < H; d++) ent_c += 0.5 * (LOG2PI + log(vq[d]));
    double Jsum = 0;
    if (grad) {
        memset(w->gS, 0, B * T * KK * sizeof(double));
    }
    double glpi[64] = {0};
    for (size_t b = 0; b < B; b++) {
        double *e = w->e + b * T * K, *S = w->S + b * T * KK, *la = w->la + b * T * K,
               *lb = w->lb + b * T * K, *lc = w->lc + b * T, *gam = w->ge + b * T * K,
               *xi = w->xi + b * T * KK;
        double lp;
        int rc = ndyn_srnn_forward_backward(w->lpi, S, e, T, K, la, lb, lc, gam, xi, &lp);
        if (rc) return rc;
        for (size_t t = 0; t < T; t++)
            memcpy(w->gamma_tm + (t * B + b) * K, gam + t * K, K * sizeof(double));
        double ent = ent_c * T;
        if (eps)
            for (size_t t = 0; t < T; t++)
                for (int d = 0; d < H; d++) {
                    double u = eps[(t * B + b) * H + d];
                    ent += 0.5 * u * u;
                }
        double elbo = lp + ent, ce = 0, cval = 0;
        int compat = p->objective == NDYN_SRNN_OBJ_COMPAT;
        double *cg = w->cs, *cab = w->cs + T * K, *cbb = w->cs + 2 * T * K, *dl = w->cs + 3 * T * K;
        if (compat) {
            /* The reference's Eq. 15 as coded (spec §5.2): delta_s(i,j) proportional to
             * exp(la_s(i) + S'_s[i,j] + lb_{s+1}(j) + e_{s+1}(j)), S'_0 = identity used as
             * log-probabilities, paired with S_{s+1}[i,j] + e_{s+1}(j). */
            memcpy(cg, gam, T * K * sizeof(double));
            for (int k = 0; k < K; k++) cval += cg[k] * (w->lpi[k] + e[k]);
            /* the reference's log N(h_0; h_0, v_h I) at t = 0, a constant: kept so the value is
             * the reference's, except with a learned v_h, whose gradient it would push to 0 */
            if (!l->n_h0 && !p->learn_var_h) cval += -0.5 * lvh;
            for (size_t s = 0; s + 1 < T; s++) {
                double *X = dl + s * KK, mx = -INFINITY, z = 0;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        double sp = s == 0 ? (i == j ? 1.0 : 0.0) : S[s * KK + i * K + j];
                        X[i * K + j] = la[s * K + i] + sp + lb[(s + 1) * K + j] + e[(s + 1) * K + j];
                        mx = fmax(mx, X[i * K + j]);
                    }
                for (int q = 0; q < KK; q++) z += X[q] = exp(X[q] - mx);
                for (int q = 0; q < KK; q++) X[q] /= z;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++)
                        cval += X[i * K + j] * (S[(s + 1) * KK + i * K + j] + e[(s + 1) * K + j]);
            }
            cval += (ent_c + 0.5 * H) / (double)B; /* per-step entropy (H/2)(1 + log 2 pi v), once per batch */
        }
        if (P && coef != 0) {
            for (size_t t = 0; t < T; t++)
                for (int k = 0; k < K; k++) {
                    double pv = P[(t * B + b) * K + k];
                    if (pv != 0) ce += pv * log(gam[t * K + k] > 1e-300 ? gam[t * K + k] : 1e-300);
                }
        }
        double Jb = (compat ? cval : elbo) + coef * ce;
        if (J_trial) J_trial[b] = Jb;
        if (elbo_trial) elbo_trial[b] = elbo;
        Jsum += Jb;
        if (grad) {
            /* closed-form seeds: ge = gamma (already in place), gS_t[i][j] = xi_{t-1}[j][i], glpi = gamma_0 */
            double *gS = w->gS + b * T * KK;
            double gl[64];
            if (!compat) {
                for (size_t t = 1; t < T; t++)
                    for (int i = 0; i < K; i++)
                        for (int j = 0; j < K; j++) gS[t * KK + i * K + j] = xi[(t - 1) * KK + j * K + i];
                for (int k = 0; k < K; k++) gl[k] = gam[k];
            } else {
                /* direct terms, then through gamma_0 and delta (not detached) into the
                 * recursions' adjoint */
                memset(gam, 0, T * K * sizeof(double));
                memset(cab, 0, 2 * T * K * sizeof(double));
                for (int k = 0; k < K; k++) {
                    double vz = w->lpi[k] + e[k];
                    gam[k] += cg[k];
                    gl[k] = cg[k];
                    cab[k] += cg[k] * vz;
                    cbb[k] += cg[k] * vz;
                }
                for (size_t s = 0; s + 1 < T; s++) {
                    const double *X = dl + s * KK;
                    double W = 0;
                    for (int i = 0; i < K; i++)
                        for (int j = 0; j < K; j++) W += X[i * K + j] * (S[(s + 1) * KK + i * K + j] + e[(s + 1) * K + j]);
                    for (int i = 0; i < K; i++)
                        for (int j = 0; j < K; j++) {
                            double d = X[i * K + j], V = S[(s + 1) * KK + i * K + j] + e[(s + 1) * K + j];
                            gam[(s + 1) * K + j] += d;           /* direct */
                            gS[(s + 1) * KK + i * K + j] += d;
                            double xb = d * (V - W);             /* through delta */
                            cab[s * K + i] += xb;
                            cbb[(s + 1) * K + j] += xb;
                            gam[(s + 1) * K + j] += xb;
                            if (s >= 1) gS[s * KK + i * K + j] += xb;
                        }
                }
                rc = srnn_fb_adjoint(w->lpi, S, e, la, lb, lc, cab, cbb, T, K, gl, gS, gam);
                if (rc) return rc;
            }
            if (P && coef != 0) {
                double *Pb = w->Pb; /* (T, K) */
                for (size_t t = 0; t < T; t++)
                    memcpy(Pb + t * K, P + (t * B + b) * K, K * sizeof(double));
                rc = ndyn_srnn_fb_adjoint_logpost(w->lpi, S, e, la, lb, lc, Pb, T, K, coef, gl, gS, gam);
                if (rc) return rc;
            }
            for (int k = 0; k < K; k++) glpi[k] += gl[k];
        }
    }
    *Jout = Jsum;
    if (!grad) return NDYN_OK;
    double *gr = grad;
    const double *ge = w->ge; /* (B, T, K) dJ/de */
    /* pi logits */
    {
        double sg = 0;
        for (int k = 0; k < K; k++) sg += glpi[k];
        for (int k = 0; k < K; k++) gr[l->pi + k] += glpi[k] - exp(w->lpi[k]) * sg;
    }
    memset(w->dh, 0, TB * H * sizeof(double));
    /* transitions: gL (rows t >= 1) */
    memset(w->gL, 0, TB * KK * sizeof(double));
    for (size_t b = 0; b < B; b++)
        for (size_t t = 1; t < T; t++) {
            size_t r = t * B + b;
            const double *gS = w->gS + (b * T + t) * KK, *A = w->Am + r * KK;
            double *gL = w->gL + r * KK;
            for (int j = 0; j < K; j++) {
                double cs = 0;
                for (int i = 0; i < K; i++) cs += gS[i * K + j];
                for (int i = 0; i < K; i++) gL[i * K + j] = gS[i * K + j] - A[i * K + j] * cs;
            }
        }
    if (l->n_trans_B) colsum_add(w->gL + B * KK, R1, KK, gr + l->trans_B);
    if (p->transition == NDYN_SRNN_TRANS_TANH)
        for (size_t q = B * KK; q < TB * KK; q++) w->gL[q] *= 1 - w->Lt[q] * w->Lt[q];
    if (R1) {
        srnn_gemm(1, 0, KK, H, (int)R1, 1.0, w->gL + B * KK, KK, w->h, H, 1.0, gr + l->trans_W, H);
        colsum_add(w->gL + B * KK, R1, KK, gr + l->trans_b);
        srnn_gemm(0, 0, (int)R1, H, KK, 1.0, w->gL + B * KK, KK, Ws, H, 1.0, w->dh, H);
    }
    /* dynamics */
    for (int k = 0; k < K; k++) {
        const double *F = w->F + (size_t)k * TB * H;
        const double *Wk = th + l->dyn_W + (size_t)k * H * H;
        double *G = w->dp; /* (TB, H) rows t >= 1: dpre */
        for (size_t t = 1; t < T; t++)
            for (size_t b = 0; b < B; b++) {
                size_t r = t * B + b;
                double wk = ge[(b * T + t) * K + k];
                const double *ht = w->h + r * H, *Fr = F + r * H;
                for (int d = 0; d < H; d++) {
                    double res = ht[d] - Fr[d], gg = wk * res * ivh[d];
                    w->dh[r * H + d] -= gg;
                    G[r * H + d] = gg * (1 - Fr[d] * Fr[d]);
                    gr[l->logvar_h + d] += wk * (0.5 * res * res * ivh[d] - 0.5) * ivh[d] * (vh[d] - vmin_h);
                }
            }
        if (R1) {
            srnn_gemm(1, 0, H, H, (int)R1, 1.0, G + B * H, H, w->h, H, 1.0, gr + l->dyn_W + (size_t)k * H * H, H);
            colsum_add(G + B * H, R1, H, gr + l->dyn_b + (size_t)k * H);
            srnn_gemm(0, 0, (int)R1, H, H, 1.0, G + B * H, H, Wk, H, 1.0, w->dh, H);
        }
    }
    /* h0 prior */
    if (l->n_h0)
        for (size_t b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                double wk = ge[(b * T) * K + k];
                const double *ht = w->h + b * H, *mu = th + l->h0_mu + (size_t)k * H;
                for (int d = 0; d < H; d++) {
                    double res = ht[d] - mu[d], gg = wk * res / v0[d];
                    w->dh[b * H + d] -= gg;
                    gr[l->h0_mu + (size_t)k * H + d] += gg;
                    gr[l->h0_logvar + d] += wk * (-0.5 / v0[d] + 0.5 * res * res / (v0[d] * v0[d])) *
                                            (v0[d] - p->var_min);
                }
            }
    /* emission: dJ/dg with weight sum_k ge_t(k) */
    {
        double *dg = w->d1; /* (TB, N) */
        for (size_t t = 0; t < T; t++)
            for (size_t b = 0; b < B; b++) {
                size_t r = t * B + b;
                double wt = 0;
                for (int k = 0; k < K; k++) wt += ge[(b * T + t) * K + k];
                for (int j = 0; j < N; j++) {
                    double gv = g[r * N + j], yy = y[r * N + j];
                    if (p->emission == NDYN_SRNN_GAUSSIAN) {
                        double u = yy - gv;
                        dg[r * N + j] = wt * u * ivy[j];
                        gr[l->logvar_y + j] += wt * (0.5 * u * u * ivy[j] - 0.5) * ivy[j] * (vy[j] - vmin_y);
                    } else {
                        double lam = softplus(gv) + 1e-8;
                        dg[r * N + j] = wt * (yy / lam - 1) * sigmoid(gv);
                    }
                }
            }
        double *dout = w->d1, *din = w->d2;
        for (int i = l->L - 1; i >= 0; i--) {
            int di = l->dims[i], dO = l->dims[i + 1];
            srnn_gemm(1, 0, dO, di, (int)TB, 1.0, dout, dO, w->act[i], di, 1.0, gr + l->emis_W[i], di);
            colsum_add(dout, TB, dO, gr + l->emis_b[i]);
            if (i == 0) {
                srnn_gemm(0, 0, (int)TB, di, dO, 1.0, dout, dO, th + l->emis_W[i], di, 1.0, w->dh, H);
            } else {
                srnn_gemm(0, 0, (int)TB, di, dO, 1.0, dout, dO, th + l->emis_W[i], di, 0.0, din, di);
                const double *ai = w->act[i];
                for (size_t q = 0; q < TB * (size_t)di; q++) din[q] = ai[q] > 0 ? din[q] : 0.0;
                double *tmp = dout;
                dout = din;
                din = tmp;
            }
        }
    }
    /* entropy of q: d/dtheta_q [T B sum_d 0.5 log v_q] */
    for (int d = 0; d < H; d++)
        gr[l->logvar_q + d] += 0.5 * (p->objective == NDYN_SRNN_OBJ_COMPAT ? 1.0 : (double)TB) * (vq[d] - vmin_q) / vq[d];
    /* ---------------- sampler BPTT */
    {
        double *carry = w->dp; /* (B, H) */
        memset(carry, 0, B * H * sizeof(double));
        for (size_t t = T; t-- > 0;) {
            double *dht = w->dh + t * B * H, *s = w->s + t * B * H, *dps = w->dps + t * B * H,
                   *da = w->da + t * B * H, *dz1 = w->dz1 + t * B * S1, *z1 = w->z1 + t * B * S1;
            if (eps)
                for (size_t b = 0; b < B; b++)
                    for (int d = 0; d < H; d++)
                        gr[l->logvar_q + d] += dht[b * H + d] * eps[(t * B + b) * H + d] * 0.5 / sq[d] * (vq[d] - vmin_q);
            for (size_t q = 0; q < B * H; q++) dps[q] = (dht[q] + carry[q]) * (1 - s[q] * s[q]);
            srnn_gemm(0, 0, iB, H, H, 1.0, dps, H, Wma, H, 0.0, da, H);
            srnn_gemm(0, 0, iB, S1, H, 1.0, da, H, W2, S1, 0.0, dz1, S1);
            for (size_t q = 0; q < B * (size_t)S1; q++) dz1[q] = z1[q] > 0 ? dz1[q] : 0.0;
            srnn_gemm(0, 0, iB, H, H, 1.0, dps, H, Wms, H, 0.0, carry, H);
            if (t) srnn_gemm(0, 0, iB, H, S1, 1.0, dz1, S1, W1 + H, 2 * H, 1.0, dht - B * H, H);
        }
        srnn_gemm(1, 0, H, H, (int)TB, 1.0, w->dps, H, w->a, H, 1.0, gr + l->m_Wa, H);
        if (R1) srnn_gemm(1, 0, H, H, (int)R1, 1.0, w->dps + B * H, H, w->s, H, 1.0, gr + l->m_Ws, H);
        colsum_add(w->dps, TB, H, gr + l->m_b);
        /* relu(z1) for the W2 gradient */
        double *r1 = w->d1;
        for (size_t q = 0; q < TB * (size_t)S1; q++) r1[q] = w->z1[q] > 0 ? w->z1[q] : 0;
        srnn_gemm(1, 0, H, S1, (int)TB, 1.0, w->da, H, r1, S1, 1.0, gr + l->s2_W, S1);
        colsum_add(w->da, TB, H, gr + l->s2_b);
        srnn_gemm(1, 0, S1, H, (int)TB, 1.0, w->dz1, S1, w->E, H, 1.0, gr + l->s1_W, 2 * H);
        if (R1) srnn_gemm(1, 0, S1, H, (int)R1, 1.0, w->dz1 + B * S1, S1, w->h, H, 1.0, gr + l->s1_W + H, 2 * H);
        colsum_add(w->dz1, TB, S1, gr + l->s1_b);
        srnn_gemm(0, 0, (int)TB, H, S1, 1.0, w->dz1, S1, W1, 2 * H, 0.0, w->dE, H);
    }
    /* ---------------- encoders BPTT */
    {
        double *carry = w->dp, *dpre = w->da; /* reuse: (B, H), (TB, H) */
        memset(carry, 0, B * H * sizeof(double));
        for (size_t t = T; t-- > 0;) {
            const double *u = w->uf + t * B * H, *dE = w->dE + t * B * H;
            double *dp = dpre + t * B * H;
            for (size_t q = 0; q < B * H; q++) dp[q] = (dE[q] + carry[q]) * (1 - u[q] * u[q]);
            srnn_gemm(0, 0, iB, H, H, 1.0, dp, H, Wfh, H, 0.0, carry, H);
        }
        srnn_gemm(1, 0, H, N, (int)TB, 1.0, dpre, H, yenc, N, 1.0, gr + l->encf_Wx, N);
        if (R1) srnn_gemm(1, 0, H, H, (int)R1, 1.0, dpre + B * H, H, w->uf, H, 1.0, gr + l->encf_Wh, H);
        colsum_add(dpre, TB, H, gr + l->encf_b);
        if (l->n_encb) {
            const double *Wbh = th + l->encb_Wh;
            memset(carry, 0, B * H * sizeof(double));
            for (size_t t = 0; t < T; t++) {
                const double *u = w->ub + t * B * H, *dE = w->dE + t * B * H;
                double *dp = dpre + t * B * H;
                for (size_t q = 0; q < B * H; q++) dp[q] = (dE[q] + carry[q]) * (1 - u[q] * u[q]);
                srnn_gemm(0, 0, iB, H, H, 1.0, dp, H, Wbh, H, 0.0, carry, H);
            }
            srnn_gemm(1, 0, H, N, (int)TB, 1.0, dpre, H, yenc, N, 1.0, gr + l->encb_Wx, N);
            if (R1) srnn_gemm(1, 0, H, H, (int)R1, 1.0, dpre, H, w->ub + B * H, H, 1.0, gr + l->encb_Wh, H);
            colsum_add(dpre, TB, H, gr + l->encb_b);
        }
    }
    srnn_grad_mask(m, l, gr);
    return NDYN_OK;
}

/* The per-step matrices are small (B rows): OpenBLAS threading only adds
 * synchronisation, so the batch runs with one BLAS thread (restored after). */
int srnn_batch(const ndyn_srnn_model *m, const srnn_layout *l, srnn_ws *w, const double *y,
               const double *eps, const double *P, double coef, double *Jout, double *J_trial,
               double *elbo_trial, double *grad)
{
    int nt = openblas_get_num_threads();
    if (nt > 1) openblas_set_num_threads(1);
    int rc = batch_impl(m, l, w, y, eps, P, coef, Jout, J_trial, elbo_trial, grad);
    if (nt > 1) openblas_set_num_threads(nt);
    return rc;
}
