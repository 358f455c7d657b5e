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
    size_t B, T, TB, n_theta;
    int K, H, N, L, S1, maxd;
    int dims[NDYN_SRNN_MAX_LAYERS + 2];
    /* per-trial HMM quantities, always double */
    double *e, *S, *la, *lb, *lc, *xi; /* (B, T, ...) */
    double *gamma_tm;                  /* (T, B, K) */
    double *ge, *gS, *Pb, *cs;         /* seeds and scratch of the backward pass */
    double *Ad, *fbs;                  /* (B, T, K, K) transition probabilities; srnn_fb_prob scratch */
    double lpi[64];
    double *hmm;                       /* the pool of the above */
    /* the networks' arrays in one typed pool per precision: [0] double (made
     * with the workspace), [1] float (made by the first float32 call) */
    void *pool[2];
    const double *h64, *g64; /* sampled latents and emission of the last double call */
    const double *y32_src;   /* the y converted into the float pool */
    void *yin[2];            /* (TB, N) encoder input without the held-out channels, per precision */
};

/* elements of a typed pool (see carve in objective_kernel.h) */
static size_t typed_count(const srnn_ws *w, int f32)
{
    size_t TB = w->TB, K = w->K, H = w->H, N = w->N, KK = K * K, S1 = w->S1;
    size_t tot = TB * H * 6 + TB * S1 + TB + K * TB * H + 2 * TB * KK;
    for (int i = 1; i <= w->L; i++) tot += TB * (size_t)w->dims[i];
    tot += TB * H + 2 * TB * (size_t)w->maxd + TB * KK + TB * S1 + 4 * TB * H + 5 * H + 2 * N;
    tot += (H > N ? H : N) + TB;
    if (f32) tot += TB * N + TB * H + 2 * w->n_theta + SRNN_F32_STEP_PACK;
    return tot;
}

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
    size_t TB = T * B, K = l->K, KK = K * K;
    w->B = B, w->T = T, w->TB = TB, w->K = l->K, w->H = l->H, w->N = l->N, w->L = l->L, w->S1 = l->S1;
    w->n_theta = l->n;
    int maxd = l->S1;
    for (int i = 0; i <= l->L; i++) {
        w->dims[i] = l->dims[i];
        maxd = l->dims[i] > maxd ? l->dims[i] : maxd;
    }
    w->maxd = maxd;
    size_t tot = B * T * (3 * K + 2 * KK) + B * T + TB * K + B * T * (K + KK) + T * K + 3 * T * K + T * KK +
                 B * T * KK + 3 * T * K + T;
    double *p = ndyn_malloc_array(tot, sizeof(double));
    w->pool[0] = ndyn_malloc_array(typed_count(w, 0), sizeof(double));
    if (!p || !w->pool[0]) {
        free(p);
        free(w->pool[0]);
        free(w);
        return NULL;
    }
    w->hmm = p;
    w->e = grab(&p, B * T * K);
    w->la = grab(&p, B * T * K);
    w->lb = grab(&p, B * T * K);
    w->S = grab(&p, B * T * KK);
    w->xi = grab(&p, B * T * KK);
    w->lc = grab(&p, B * T);
    w->gamma_tm = grab(&p, TB * K);
    w->ge = grab(&p, B * T * K); /* gamma per trial before seeding, then dJ/de */
    w->gS = grab(&p, B * T * KK);
    w->Pb = grab(&p, T * K);
    w->cs = grab(&p, 3 * T * K + T * KK);
    w->Ad = grab(&p, B * T * KK);
    w->fbs = grab(&p, 3 * T * K + T);
    return w;
}

void srnn_ws_free(srnn_ws *w)
{
    if (!w) return;
    free(w->hmm);
    free(w->pool[0]);
    free(w->pool[1]);
    free(w->yin[0]);
    free(w->yin[1]);
    free(w);
}

const double *srnn_ws_gamma(const srnn_ws *w) { return w->gamma_tm; }
const double *srnn_ws_h(const srnn_ws *w) { return w->h64; }
const double *srnn_ws_g(const srnn_ws *w) { return w->g64; }
const double *srnn_ws_e(const srnn_ws *w) { return w->e; }
const double *srnn_ws_S(const srnn_ws *w) { return w->S; }
const double *srnn_ws_lpi(const srnn_ws *w) { return w->lpi; }

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

static void tanh_f64(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = srnn_tanh(x[i]);
}

/* ---- the kernel in double */
#define REAL double
#define SFX(name) name##_f64
#define GEMM srnn_gemm
#define GEMV cblas_dgemv
#define TANHA tanh_f64
#define REAL_IS_FLOAT 0
#include "objective_kernel.h"
#undef REAL
#undef SFX
#undef GEMM
#undef GEMV
#undef TANHA
#undef REAL_IS_FLOAT

/* ---- the kernel in float */
static inline void srnn_sgemm_f32_sel(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                                      const float *B, int ldb, float beta, float *C, int ldc)
{
    if (srnn_f32_own & 2) srnn_sgemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else srnn_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#define REAL float
#define SFX(name) name##_f32
#define GEMM srnn_sgemm_f32_sel
#define GEMV cblas_sgemv
#define TANHA srnn_tanh_f32
#define REAL_IS_FLOAT 1
#define SRNN_F32_OWN_EMISSION(l) srnn_emission_own_f32(l)
#include "objective_kernel.h"
#undef SRNN_F32_OWN_EMISSION
#undef REAL
#undef SFX
#undef GEMM
#undef GEMV
#undef TANHA
#undef REAL_IS_FLOAT

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
    col_logsoftmax_f64(Lt, K, S, NULL, NULL);
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
    emission_fwd_f64(m->theta, l, act, n);
    free(buf);
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
    int rc = batch_impl_f64(m, l, w, y, eps, P, coef, Jout, J_trial, elbo_trial, grad);
    if (nt > 1) openblas_set_num_threads(nt);
    return rc;
}

int srnn_batch_f32(const ndyn_srnn_model *m, const srnn_layout *l, srnn_ws *w, const double *y,
                   const double *eps, const double *P, double coef, double *Jout, double *J_trial,
                   double *elbo_trial, double *grad)
{
    if (!w->pool[1]) {
        w->pool[1] = ndyn_malloc_array(typed_count(w, 1), sizeof(float));
        if (!w->pool[1]) return NDYN_ENOMEM;
    }
    int nt = openblas_get_num_threads();
    if (nt > 1) openblas_set_num_threads(1);
    int rc = batch_impl_f32(m, l, w, y, eps, P, coef, Jout, J_trial, elbo_trial, grad);
    if (nt > 1) openblas_set_num_threads(nt);
    return rc;
}
