/* Private to src/srnn: parameter layout and shared helpers. */
#ifndef NDYN_SRNN_INTERNAL_H
#define NDYN_SRNN_INTERNAL_H

#include <cblas.h>
#include <stddef.h>

#include "ndyn/srnn.h"

/* Offsets of every parameter block in theta (a size of 0 = absent). */
typedef struct srnn_layout {
    int K, H, N, L;           /* L = emission layers (hidden + 1) */
    int dims[NDYN_SRNN_MAX_LAYERS + 2]; /* emission widths: H, hidden..., N */
    int S1;                   /* sampler width */
    size_t pi, trans_W, trans_b, trans_B, dyn_W, dyn_b, h0_mu, h0_logvar, logvar_h, logvar_y;
    size_t emis_W[NDYN_SRNN_MAX_LAYERS + 1], emis_b[NDYN_SRNN_MAX_LAYERS + 1];
    size_t encf_Wx, encf_Wh, encf_b, encb_Wx, encb_Wh, encb_b;
    size_t s1_W, s1_b, s2_W, s2_b, m_Wa, m_Ws, m_b, logvar_q;
    size_t n_trans_B, n_h0, n_logvar_y, n_encb;
    size_t n;                 /* total */
} srnn_layout;

void srnn_layout_make(const ndyn_srnn_params *p, size_t N, srnn_layout *lay);

/* variance from its free parameter: var_min + exp(theta) and d var / d theta */
static inline double srnn_var(double th, double vmin) { return vmin + __builtin_exp(th); }

/* tanh through one exp (libm's tanh goes through expm1 and is several times
 * slower); absolute error ~1e-16, which is all the BPTT needs (it uses
 * 1 - tanh^2 of the same value). */
static inline double srnn_tanh(double x)
{
    if (x > 20) return 1;
    if (x < -20) return -1;
    if (x > -1e-4 && x < 1e-4) return x - x * x * x / 3; /* keep the relative accuracy near 0 */
    double e = __builtin_exp(2 * x);
    return (e - 1) / (e + 1);
}

/* C (M, N) = alpha op(A) op(B) + beta C, row-major. */
static inline void srnn_gemm(int ta, int tb, int M, int N, int Kd, double alpha, const double *A,
                             int lda, const double *B, int ldb, double beta, double *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (Kd <= 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] *= beta;
        return;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, Kd, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The same in single precision (the float32 training path). */
static inline void srnn_sgemm(int ta, int tb, int M, int N, int Kd, float alpha, const float *A,
                              int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (Kd <= 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] *= beta;
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, Kd, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* tanh of x (n) in place, in float (vectorised; src/srnn/kernels_f32.c). */
void srnn_tanh_f32(float *x, size_t n);

/* Small float products (src/srnn/gemm_f32.c). A right-hand matrix (K, N) is
 * packed once into Bp (srnn_f32_packed(N, K) floats) from B (K, N) (trans 0)
 * or from B (N, K) (trans 1), leading dimension ldb. */
size_t srnn_f32_packed(int N, int K);
/* The largest packed right-hand side the float path builds (floats); the
 * sampler's per-step weights are packed once per batch into a workspace
 * region of SRNN_F32_STEP_PACK floats (two of SRNN_F32_PACK_MAX, two of
 * half that), shared by its forward and its backward pass. */
enum { SRNN_F32_PACK_MAX = 8192, SRNN_F32_STEP_PACK = 3 * SRNN_F32_PACK_MAX };
/* The variant they run: 2 AVX-512, 1 AVX2 + FMA, 0 baseline ISA; the best
 * the CPU has, at most srnn_f32_isa_cap (default 2; tests lower it to check
 * every body this CPU can run). */
int srnn_f32_isa(void);
extern int srnn_f32_isa_cap;
void srnn_f32_pack(int trans, int N, int K, const float *B, int ldb, float *Bp);
/* C (M, N) = beta C + A (M, K) Bp + bias (N, or NULL), beta 0 or 1, then act:
 * 0 none, 1 relu, 2 zero where mask (M, N; leading dimension ldm) <= 0. */
void srnn_f32_mm(int M, int N, int K, const float *A, int lda, const float *Bp, const float *bias, int beta,
                 int act, const float *mask, int ldm, float *C, int ldc);
/* C (M, N) += A^T B for A (K, M), B (K, N), K long (weight gradients). */
void srnn_f32_atb(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc);
/* srnn_sgemm through these kernels where they apply (alpha 1, beta 0 or 1, a
 * small right-hand side or the A^T B form), through BLAS otherwise. */
void srnn_sgemm_small(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc);
/* The emission MLP in float, in row blocks (src/srnn/emission_f32.c): act[0]
 * (n, H) in, act[i] (n, dims[i]) out, act[L] = g pre-link; the backward adds
 * the weight and bias gradients from dg = dJ/dg (n, N) into gr and dJ/dh into
 * dh (n, H). */
int srnn_emission_own_f32(const srnn_layout *l); /* 1: use these, 0: BLAS */
/* Which own kernels the float path uses: bit 0 the blocked emission, bit 1
 * srnn_sgemm_small for the other products (default both; a benchmark may
 * clear them to time BLAS in the same process). */
extern int srnn_f32_own;
int srnn_emission_fwd_f32(const float *th, const srnn_layout *l, float *const *act, size_t n);
int srnn_emission_bwd_f32(const float *th, const srnn_layout *l, float *const *act, size_t n, const float *dg,
                          float *gr, float *dh);

/* Validate, sort and copy the held-out channels into the model (m->heldout,
 * m->p.heldout); n == 0 leaves none. */
int srnn_set_heldout(ndyn_srnn_model *m, const int *held, size_t n);

/* ndyn_srnn_fit started from the weights theta0 (the n_theta of the model p
 * describes on d->N channels) instead of fresh ones, without the
 * initialisation stage: p->epochs of the plain objective (src/srnn/train.c).
 * theta0 NULL is ndyn_srnn_fit itself. */
int srnn_fit_from(const ndyn_srnn_data *d, const ndyn_srnn_params *p, const double *theta0,
                  ndyn_srnn_model **out);

/* Gradient mask: 1 for trainable entries, 0 for frozen (fixed variances). */
void srnn_grad_mask(const ndyn_srnn_model *m, const srnn_layout *lay, double *g);

/* Forward evaluation of one equal-length batch, time-major, at noise eps
 * (T, B, H) (NULL = 0). Workspace owned by the caller (srnn_ws). */
typedef struct srnn_ws srnn_ws;
srnn_ws *srnn_ws_alloc(const srnn_layout *lay, size_t B, size_t T);
void srnn_ws_free(srnn_ws *w);
/* y (T, B, N) time-major; P (T, B, K) or NULL; J_trial (B) or NULL.
 * Returns the summed J; grad (n) accumulates dJ/dtheta when non-NULL. */
int srnn_batch(const ndyn_srnn_model *m, const srnn_layout *lay, srnn_ws *w, const double *y,
               const double *eps, const double *P, double coef, double *J, double *J_trial,
               double *elbo_trial, double *grad);
/* srnn_batch with the networks in float32 (ndyn_srnn_params.precision);
 * the HMM part, J and grad stay double. srnn_ws_h/srnn_ws_g are not set.
 * y is converted once per workspace: later calls must pass the same y. */
int srnn_batch_f32(const ndyn_srnn_model *m, const srnn_layout *lay, srnn_ws *w, const double *y,
                   const double *eps, const double *P, double coef, double *J, double *J_trial,
                   double *elbo_trial, double *grad);
/* After srnn_batch: pointers into the workspace, time-major. */
const double *srnn_ws_gamma(const srnn_ws *w);  /* (T, B, K) */
const double *srnn_ws_h(const srnn_ws *w);      /* (T, B, H) sampled latents */
const double *srnn_ws_g(const srnn_ws *w);      /* (T, B, N) emission g(h) */
const double *srnn_ws_e(const srnn_ws *w);      /* (B, T, K) evidence per trial */
const double *srnn_ws_S(const srnn_ws *w);      /* (B, T, K, K) log transitions per trial */
const double *srnn_ws_lpi(const srnn_ws *w);    /* (K) */

/* Emission MLP forward for n rows of h (n, H) into out (n, N) (pre-link g). */
int srnn_emission(const ndyn_srnn_model *m, const srnn_layout *lay, const double *h, size_t n,
                  double *out);
/* f_k(h) for one h (H) into f (H). */
void srnn_dynamics(const ndyn_srnn_model *m, const srnn_layout *lay, int k, const double *h,
                   double *f);
/* log transition matrix S (K, K) from h_{t-1} (H). */
void srnn_log_transition(const ndyn_srnn_model *m, const srnn_layout *lay, const double *h,
                         double *S);
void srnn_log_pi(const ndyn_srnn_model *m, const srnn_layout *lay, double *lpi);

/* Group trials of equal length into batches: returns groups with trial
 * indices (caller frees). */
typedef struct srnn_group { size_t T, B; size_t *idx; } srnn_group;
int srnn_make_groups(const ndyn_srnn_data *d, const size_t *trials, size_t n, size_t max_b,
                     srnn_group **out, size_t *ng);
void srnn_groups_free(srnn_group *g, size_t ng);
/* Gather trials into time-major y (T, B, N). */
void srnn_gather(const ndyn_srnn_data *d, const srnn_group *g, double *y);

/* Adjoint of the forward-backward recursions for seeds abar = dJ/d(log alpha^),
 * bbar = dJ/d(log beta^) (T, K), both overwritten; adds into glpi, gS, ge. */
int srnn_fb_adjoint(const double *lpi, const double *S, const double *e, const double *la,
                    const double *lb, const double *lc, double *abar, double *bbar, size_t T, int K,
                    double *glpi, double *gS, double *ge);

/* Probability-domain scaled forward-backward (gamma, xi (T-1 steps), log p)
 * from the transition probabilities A = exp(S) (T, K, K); scratch (3 T K + T).
 * Returns 1 when it under/overflows (use ndyn_srnn_forward_backward then). */
int srnn_fb_prob(const double *lpi, const double *A, const double *e, size_t T, int K,
                 double *gamma, double *xi, double *logp, double *scratch);

/* Diagonal Gaussian HMM by EM (k-means init) and Viterbi paths; labels
 * (total_T) over the given trials. */
int srnn_hmm_labels(const ndyn_srnn_data *d, int K, int iters, uint64_t seed, int *labels);

#endif
