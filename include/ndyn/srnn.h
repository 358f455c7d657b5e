/* ndyn SRNN: switching recurrent neural networks (Zhang & Saxena, NeurIPS 2024),
 * with the exact collapsed ELBO (discrete states marginalised by a log-domain
 * forward-backward pass) and hand-written gradients. Spec: shared/spec/srnn.md;
 * user guide: docs/srnn.md.
 *
 * Model (K states, latent size H, N observed channels):
 *   z_0 ~ softmax(pi);  z_t | z_{t-1}=j, h_{t-1} ~ A_t[., j] = softmax_i L_t[i, j],
 *   L_t = W_s h_{t-1} + b_s (+ tanh, compatibility) + B (learned base log-matrix);
 *   h_0 | z_0=k ~ N(mu0_k, v0);  h_t | h_{t-1}, z_t=k ~ N(tanh(W_k h_{t-1} + b_k), v_h);
 *   y_t | h_t ~ N(g(h_t), v_y) or Poisson(softplus(g(h_t))), g an MLP.
 * Inference network q(h | y): forward (and, unless causal, backward) tanh RNN
 * encoders summed, then the autoregressive sampler of the reference;
 * h~_t = mu_t + sqrt(v_q) eps_t.
 *
 * Usage, as liblinear: fill ndyn_srnn_params (ndyn_srnn_params_default),
 * ndyn_srnn_check_params for a readable reason, ndyn_srnn_fit, then
 * ndyn_srnn_infer / _predict / _sample / _flow, ndyn_srnn_save / _load. */
#ifndef NDYN_SRNN_H
#define NDYN_SRNN_H

#include <stdint.h>

#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NDYN_SRNN_GAUSSIAN = 0, NDYN_SRNN_POISSON = 1 } ndyn_srnn_emission;
typedef enum { NDYN_SRNN_TRANS_LINEAR = 0, NDYN_SRNN_TRANS_TANH = 1 } ndyn_srnn_transition;
typedef enum {
    NDYN_SRNN_OBJ_ELBO = 0,     /* exact collapsed ELBO (default) */
    NDYN_SRNN_OBJ_COMPAT = 1    /* the reference's "Eq. 15 as coded", defective pairwise term
                                   and all: compatibility only, not a bound (spec §5.2) */
} ndyn_srnn_objective_kind;
typedef enum {
    NDYN_SRNN_F64 = 0,          /* everything in double (default) */
    NDYN_SRNN_F32 = 1           /* training steps: the networks and their BPTT in float32 (as
                                   PyTorch's default), the HMM part, ELBO and gradient sums in
                                   double; the final ELBO evaluation and inference stay double */
} ndyn_srnn_precision;
typedef enum {
    NDYN_SRNN_INIT_KMEANS = 0,  /* k-means on all time points stacked */
    NDYN_SRNN_INIT_HMM,         /* diagonal Gaussian HMM by EM, Viterbi paths */
    NDYN_SRNN_INIT_RANDOM,      /* i.i.d. labels per time point */
    NDYN_SRNN_INIT_BLOCKS,      /* K contiguous blocks per trial */
    NDYN_SRNN_INIT_UNIFORM,     /* P = 1/K (cross-entropy to uniform) */
    NDYN_SRNN_INIT_LABELS,      /* the user's labels (data->labels) */
    NDYN_SRNN_INIT_NONE         /* no initialisation stage */
} ndyn_srnn_init;

#define NDYN_SRNN_MAX_LAYERS 4

typedef struct ndyn_srnn_params {
    int K;                      /* states (>= 1, default 2) */
    int H;                      /* latent size (>= 1, default 3) */
    int emission;               /* ndyn_srnn_emission (default gaussian) */
    int n_emission_hidden;      /* hidden layers of the emission MLP (default 2) */
    int emission_hidden[NDYN_SRNN_MAX_LAYERS]; /* their widths (default 32, 64) */
    int sampler_hidden;         /* width of the sampler MLP (default 64) */
    int transition;             /* ndyn_srnn_transition (default linear) */
    int trans_base;             /* learn a K x K base log-matrix (default 1) */
    int causal;                 /* forward encoder only (default 0) */
    int h0_prior;               /* learnable Gaussian prior on h_0 (default 1) */
    double var_h, var_y, var_q; /* initial variances (default 0.01, 0.1, 0.01) */
    int learn_var_h, learn_var_y, learn_var_q; /* learn them (default 1, 1, 1) */
    double var_min;             /* floor added to every learned variance (default 1e-5) */
    int objective;              /* ndyn_srnn_objective_kind (default elbo) */
    int loss_sum;               /* 1: loss summed over trials and time as the reference
                                   (default 0: per-time-step mean) */
    int init;                   /* ndyn_srnn_init (default kmeans) */
    int init_epochs;            /* epochs of the initialisation stage (default 3000) */
    int epochs;                 /* epochs of the plain objective (default 1000) */
    double coef_cross;          /* weight of the cross-entropy term (default 0.5) */
    double lr;                  /* Adam learning rate (default 1e-3) */
    int lr_step;                /* StepLR step in epochs (default 2000) */
    double lr_gamma;            /* StepLR factor (default 0.8) */
    double clip;                /* gradient-norm clipping, 0 = none (default 0) */
    int fresh_optimizer;        /* new Adam state for stage 2 (default 0: shared, as the reference) */
    int batch_trials;           /* trials per minibatch, 0 = full batch (default 0) */
    int restarts;               /* fits from different seeds, best ELBO kept (default 1) */
    int test_trials;            /* first n trials held out for the test ELBO (default 0) */
    int eval_every;             /* epochs between history entries (default 10) */
    int eval_samples;           /* samples of the held-out ELBO estimate (default 4) */
    int hmm_iters;              /* EM iterations of the hmm initialisation (default 20) */
    double init_scale;          /* std of the initial weights ~ U(+-1/sqrt(fan_in)) x this (default 1) */
    uint64_t seed;              /* one seed for everything (default 131) */
    int precision;              /* ndyn_srnn_precision of the training steps (default f64) */
    /* Co-smoothing (Neural Latents Benchmark protocol): channels the encoder never
     * reads (0-based, any order, no repeats, at least one channel left in); the
     * emission still predicts them, so training trials train their readout, and on
     * other trials their rates are predicted from the held-in channels alone.
     * Borrowed: the model keeps its own copy (default NULL, 0: none). */
    const int *heldout;
    size_t n_heldout;
} ndyn_srnn_params;

void ndyn_srnn_params_default(ndyn_srnn_params *p);
/* NDYN_OK, or NDYN_EINVAL with a readable reason. */
int ndyn_srnn_check_params(const ndyn_srnn_params *p);

/* Trials: y[i] is (T[i], N) row-major; labels[i] (T[i]) or NULL. */
typedef struct ndyn_srnn_data {
    size_t n_trials;
    size_t N;
    const size_t *T;
    const double *const *y;
    const int *const *labels;   /* may be NULL */
    int n_labels;               /* label classes (0: 1 + max label) */
} ndyn_srnn_data;

/* Checks shapes, finiteness, T >= 2, counts >= 0 for Poisson, labels. */
int ndyn_srnn_check_data(const ndyn_srnn_data *d, const ndyn_srnn_params *p);

typedef struct ndyn_srnn_history {
    size_t n;                 /* entries */
    int *epoch;               /* (n) */
    double *loss;             /* (n) training objective per time step (negative ELBO [+ CE]) */
    double *train_elbo;       /* (n) per time step */
    double *test_elbo;        /* (n) per time step, NaN without test trials */
    double *lr;               /* (n) */
    int *stage;               /* (n) 1 initialisation, 2 plain objective */
} ndyn_srnn_history;

typedef struct ndyn_srnn_model {
    ndyn_srnn_params p;
    size_t N;                 /* observed channels */
    size_t n_theta;           /* parameters */
    double *theta;            /* (n_theta) all parameters in one buffer */
    ndyn_srnn_history hist;   /* of the kept restart */
    double train_elbo;        /* final, per time step */
    double test_elbo;         /* final, per time step (NaN without test trials) */
    int *heldout;             /* (n_heldout) sorted held-out channels, owned; p.heldout points here */
    size_t n_heldout;
} ndyn_srnn_model;

/* A model with freshly initialised weights (seeded by p->seed). */
int ndyn_srnn_model_new(const ndyn_srnn_params *p, size_t N, ndyn_srnn_model **out);
void ndyn_srnn_model_free(ndyn_srnn_model *m);
/* Named view into theta: returns NDYN_ENOTFOUND for an unknown name.
 * Names: pi, trans_W, trans_b, trans_B, dyn_W, dyn_b, h0_mu, h0_logvar,
 * logvar_h, logvar_y, emis_W0, emis_b0, ..., encf_Wx, encf_Wh, encf_b,
 * encb_Wx, encb_Wh, encb_b, s1_W, s1_b, s2_W, s2_b, m_Wa, m_Ws, m_b, logvar_q. */
int ndyn_srnn_param_view(const ndyn_srnn_model *m, const char *name, double **ptr, size_t *n);

int ndyn_srnn_fit(const ndyn_srnn_data *d, const ndyn_srnn_params *p, ndyn_srnn_model **out);

/* ---- choosing K (src/srnn/select.c; docs/srnn.md, "Choosing K") ----
 *
 * Fit every K in kmin..kmax on the training trials (params.restarts fits from
 * seeds, the best TRAINING ELBO kept), score each on the held-out trials (ELBO
 * per step: the sum of the held-out trials' ELBOs, ndyn_srnn_infer's `elbo`
 * with params.eval_samples draws, over their steps) and choose K by the gain
 * rule of ndyn_srnn_choose_k_rule. With warm_start (the default) K runs from
 * kmax down and each K < kmax is also fitted from the kept (K+1)-state fit
 * with its least used state removed (ndyn_srnn_remove_state; least used: the
 * smallest sum of the posterior over the training trials), for warm_epochs of
 * the plain ELBO; the fit with the better training ELBO is kept. Held-out
 * trials never choose between fits. */
typedef struct ndyn_srnn_select_params {
    int kmin, kmax;           /* range of K, 1 <= kmin <= kmax <= 64 (default 1, 4) */
    double gain_frac;         /* the rule's fraction of the largest gain, in (0, 1] (default 0.8) */
    int warm_start;           /* also fit K from the (K+1) fit (default 1) */
    int warm_epochs;          /* epochs of a warm fit (default 0: half of params.epochs, at least 1) */
    double warm_lr;           /* its starting lr, then params' StepLR (default 0: the lr of the last
                                 epoch of a fresh fit's schedule) */
    int keep_model;           /* return the chosen K's fit (default 1) */
} ndyn_srnn_select_params;

void ndyn_srnn_select_params_default(ndyn_srnn_select_params *sp);

/* Arrays indexed by K - kmin. */
typedef struct ndyn_srnn_selection {
    int kmin, kmax;
    size_t n_k;               /* kmax - kmin + 1 */
    size_t n_heldout;         /* held-out trials */
    int chosen;               /* the rule's K */
    int best;                 /* the K of the largest held-out ELBO */
    int fresh_chosen;         /* the rule on the fresh fits alone (no warm starts) */
    double *heldout_elbo;     /* (n_k) held-out ELBO per step of the kept fit */
    double *heldout_trial;    /* (n_k, n_heldout) its held-out ELBO per trial (summed over steps) */
    double *train_elbo;       /* (n_k) training ELBO per step of the kept fit */
    double *fresh_heldout_elbo, *fresh_train_elbo; /* (n_k) of the fresh fit */
    double *warm_heldout_elbo, *warm_train_elbo;   /* (n_k) of the warm fit, NaN where none (kmax,
                                                      no warm starts, or it diverged: a warning) */
    int *warm;                /* (n_k) 1 where the warm fit was kept */
    int *removed;             /* (n_k) state of the (K+1) fit removed for the warm fit, -1: none */
    /* (n_k) held-out state error (ndyn_srnn_result.state_error: 1 - balanced accuracy after
     * matching) of the kept and of the fresh fit when the held-out trials have labels, else NaN;
     * reported only, never used to choose */
    double *state_error, *fresh_state_error;
    ndyn_srnn_model *model;   /* the chosen K's kept fit (NULL with keep_model 0) */
} ndyn_srnn_selection;

/* d: the trials. heldout: the held-out trials, or NULL to hold out the first
 * p->test_trials trials of d (then >= 1; with heldout given p->test_trials
 * must be 0). p->K is ignored. */
int ndyn_srnn_choose_k(const ndyn_srnn_data *d, const ndyn_srnn_data *heldout, const ndyn_srnn_params *p,
                       const ndyn_srnn_select_params *sp, ndyn_srnn_selection **out);
void ndyn_srnn_selection_free(ndyn_srnn_selection *s);

/* The rule on held-out ELBOs elbo (kmax - kmin + 1) of K = kmin..kmax:
 * gain(K) = elbo(K) - elbo(kmin); best = the smallest K of the largest ELBO;
 * chosen = kmin if gain(best) <= 0, else the smallest K with
 * gain(K) >= frac gain(best). Nested models gain almost nothing past the true
 * K, so "largest" would be decided by noise. Fails on non-finite entries or
 * frac outside (0, 1]. chosen or best may be NULL. */
int ndyn_srnn_choose_k_rule(const double *elbo, int kmin, int kmax, double frac, int *chosen, int *best);

/* A (K-1)-state copy of m (K >= 2) without state k: its entries of pi, its
 * row and column of the transition blocks (trans_W, trans_b, trans_B), its
 * dynamics and h_0 mean are dropped, everything else copied; the softmaxes
 * renormalise over the states left. History and ELBOs are not copied (NaN). */
int ndyn_srnn_remove_state(const ndyn_srnn_model *m, int k, ndyn_srnn_model **out);

/* Per-trial outputs, concatenated over trials in order (offsets: sum of T). */
typedef struct ndyn_srnn_result {
    size_t n_trials, total_T, K, H, N;
    double *posterior;   /* (total_T, K) p(z_t | y, h~) at h~ = mean of q */
    int *states;         /* (total_T) Viterbi path */
    double *h;           /* (total_T, H) latent means */
    double *yhat;        /* (total_T, N) reconstruction (autoencoding) */
    double *elbo;        /* (n_trials) ELBO per trial, mean of eval_samples draws */
    double state_error;  /* 1 - balanced accuracy after matching (NaN without labels) */
    double state_error_raw; /* without matching (NaN without labels) */
    int *state_map;      /* (K) state -> label, or NULL */
    double mse, r2;      /* of yhat against y */
    /* models fitted with held-out channels (NaN otherwise): the MSE of yhat on them,
     * and for Poisson models co-bps, ndyn_srnn_cobps of yhat on them */
    double cosmooth_mse, cobps;
} ndyn_srnn_result;

int ndyn_srnn_infer(const ndyn_srnn_model *m, const ndyn_srnn_data *d, ndyn_srnn_result **out);
void ndyn_srnn_result_free(ndyn_srnn_result *r);

/* k-step-ahead predictions pred (total_T, N): from h~_{t-k} (mean of q on the
 * trial), roll h <- f_z(h) k times with z from the transition model's most
 * likely next state (an honest forecast) and decode; NaN where t < k.
 * mse, r2 (may be NULL) over the predicted entries. */
int ndyn_srnn_predict(const ndyn_srnn_model *m, const ndyn_srnn_data *d, int k, double *pred,
                      double *mse, double *r2);

/* n trials of length T from the generative model: y (n, T, N), h (n, T, H),
 * states (n, T). Poisson models draw counts. */
int ndyn_srnn_sample(const ndyn_srnn_model *m, size_t n, size_t T, uint64_t seed, double *y,
                     double *h, int *states);

/* Co-smoothing of a model fitted on all channels: the channels in `held_out`
 * (n_held) are zeroed at the encoder's input and the reconstruction of them is
 * scored: mse over them. (For the Neural Latents Benchmark protocol, fit with
 * ndyn_srnn_params.heldout instead: ndyn_srnn_infer then reports cobps.) */
int ndyn_srnn_cosmooth(const ndyn_srnn_model *m, const ndyn_srnn_data *d, const int *held_out,
                       size_t n_held, double *mse);

/* Bits per spike of Poisson rates on channels `held` (n_held) over all trials of
 * d, as the Neural Latents Benchmark scores co-smoothing:
 *   (LL(rates) - LL(null)) / (n_spikes ln 2),  LL(r) = sum y log r - r (the
 * log y! terms cancel), null = each channel's mean count over all trials and
 * time steps of d. rates (total_T, N) over all channels, like
 * ndyn_srnn_result.yhat. A channel without spikes contributes -sum r to LL
 * (its null rate is 0). Fails when the held-out channels have no spikes or a
 * rate is not positive where a count is. */
int ndyn_srnn_cobps(const ndyn_srnn_data *d, const double *rates, const int *held, size_t n_held,
                    double *bps);
/* round(frac N) distinct channels (at least 1, at most N - 1) drawn with seed,
 * sorted, into out (N); their number in *n. */
int ndyn_srnn_heldout_pick(size_t N, double frac, uint64_t seed, int *out, size_t *n);

/* Flow fields in the plane of the first two principal components of the
 * latent means of d: grid (G*G, 2), vel (K, G*G, 2), traj (total_T, 2),
 * traj_state (total_T), comps (2, H), mean (H). Caller frees with free(). */
typedef struct ndyn_srnn_flow {
    size_t G2, K, H, total_T;
    double *grid, *vel, *traj, *comps, *mean;
    int *traj_state;
} ndyn_srnn_flow;
int ndyn_srnn_flow_compute(const ndyn_srnn_model *m, const ndyn_srnn_data *d, size_t G,
                           ndyn_srnn_flow **out);
void ndyn_srnn_flow_free(ndyn_srnn_flow *f);

/* Causal filtering, one step at a time (causal models only): filt (K) the
 * filtered p(z_t | y_<=t), h (H) the latent mean. */
typedef struct ndyn_srnn_filter ndyn_srnn_filter;
int ndyn_srnn_filter_new(const ndyn_srnn_model *m, ndyn_srnn_filter **out);
int ndyn_srnn_filter_step(ndyn_srnn_filter *f, const double *y, double *filt, double *h);
void ndyn_srnn_filter_free(ndyn_srnn_filter *f);

/* Model files: an nn model file of kind "srnn" (docs/nn.md: versioned,
 * CRC-32 checked) with the configuration as hyper-parameters, one tensor per
 * parameter block, and the history, final ELBOs and held-out channels as
 * extra arrays; loading checks all of them. The earlier SRNN-only layout
 * (srnn_format 1 or 2) is still read. */
int ndyn_srnn_save(const ndyn_srnn_model *m, const char *path);
int ndyn_srnn_load(const char *path, ndyn_srnn_model **out);
/* History as .npz: epoch, loss, train_elbo, test_elbo, lr, stage. */
int ndyn_srnn_save_history(const ndyn_srnn_model *m, const char *path);

/* ---- building blocks, exposed for tests and other modules ---- */

/* Log-domain forward-backward for one trial. lpi (K) log initial
 * probabilities; S (T, K, K) log transitions, S[t][i][j] = log p(z_t=i |
 * z_{t-1}=j) for t >= 1 (S[0] unused); e (T, K) log evidence. Outputs (any
 * may be NULL): la, lb (T, K) log scaled alpha/beta, lc (T) log normalisers,
 * gamma (T, K), xi (T-1, K, K) with xi[t][i][j] = p(z_t=i, z_{t+1}=j).
 * Returns log p = sum_t lc_t in *logp. */
int ndyn_srnn_forward_backward(const double *lpi, const double *S, const double *e, size_t T,
                               int K, double *la, double *lb, double *lc, double *gamma,
                               double *xi, double *logp);
/* Adjoint of J = sum_{t,k} P[t][k] log gamma_t(k) through the recursions:
 * adds coef * dJ/d(lpi, S, e) into glpi (K), gS (T, K, K), ge (T, K). la, lb,
 * lc from ndyn_srnn_forward_backward. */
int ndyn_srnn_fb_adjoint_logpost(const double *lpi, const double *S, const double *e,
                                 const double *la, const double *lb, const double *lc,
                                 const double *P, size_t T, int K, double coef, double *glpi,
                                 double *gS, double *ge);
/* Most likely state path (T) and its log joint. */
int ndyn_srnn_viterbi(const double *lpi, const double *S, const double *e, size_t T, int K,
                      int *path, double *logjoint);

/* Objective on all trials of d at fixed noise eps (total_T, H) (NULL: zeros):
 * J = sum_trials [ELBO + coef * sum_{t,k} P log gamma_t(k)], P (total_T, K)
 * or NULL; grad (n_theta) receives dJ/dtheta (may be NULL). With
 * p.objective == compat, ELBO is replaced by the reference's t1 + t2 per trial
 * plus, once per batch of equal-length trials, the per-step entropy of q.
 * Computed at m->p.precision (f32: the networks in float32). */
int ndyn_srnn_objective(const ndyn_srnn_model *m, const ndyn_srnn_data *d, const double *eps,
                        const double *P, double coef, double *J, double *grad);

#ifdef __cplusplus
}
#endif
#endif
