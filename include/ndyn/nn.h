/* ndyn nn: a small neural-network engine with explicit backward passes, in the
 * style of llm.c.
 *
 * Conventions (read these once; every function below follows them):
 *
 *  - Arrays are flat, row-major, float64 unless a name ends in _f32. Shapes are
 *    given in comments, llm.c style: `// out is (B, C)`. B is the batch size,
 *    C/OC input/output channels, T time steps, D input size, H hidden size.
 *    Sequences are time-major: x is (T, B, D), like PyTorch's default
 *    (batch_first=False).
 *  - Weights use PyTorch's layouts (Linear weight (OC, C), RNN weight_ih
 *    (H, D), GRU weight_ih (3H, D) with gate order r, z, n), so a state_dict
 *    can be copied in element by element.
 *  - Kernels (the plain `ndyn_nn_<layer>_forward/_backward` functions on raw
 *    pointers) return void and trust their arguments: pointers non-NULL
 *    unless the comment says "or NULL", sizes > 0. Modules (Linear, MLP, RNN,
 *    GRU structs that live in a parameter store) validate shapes and return a
 *    status with a message. Nothing here prints, exits or aborts.
 *  - Every backward function ADDS into its gradient outputs (dinp, dweight,
 *    ...), as llm.c does, so gradients from several uses sum up (BPTT, shared
 *    layers). Zero them first (ndyn_nn_store_zero_grad). A gradient output
 *    documented "or NULL" is skipped when NULL.
 *  - Elementwise forward kernels may run in place (out == inp).
 *  - Parameters of a model live in one ndyn_nn_store: one contiguous data
 *    buffer and one gradient buffer of the same layout, with named views.
 *    Zero-grad, optimiser steps, clipping, save and load are loops over it.
 *  - Randomness (init, dropout) comes from a caller's ndyn_rng, drawn in a
 *    documented order, so a seed fixes the result.
 *  - Threads: kernels are serial except for the BLAS calls (OpenBLAS decides
 *    its own threading; at the sizes of MARBLE/SRNN it runs one thread).
 *    OpenBLAS partitions gemm over rows/columns of the output, not over the
 *    summed dimension, so results do not depend on the thread count; see
 *    docs/nn.md.
 *  - float32: the store, modules, losses and optimisers are float64. The
 *    kernels used by the benchmark (Linear, ReLU, tanh, BatchNorm1d train,
 *    Elman RNN sequence) also exist as _f32 variants for callers who manage
 *    their own float buffers.
 */
#ifndef NDYN_NN_H
#define NDYN_NN_H

#include <stddef.h>
#include <stdint.h>

#include "ndyn/core.h"
#include "ndyn/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================= parameter store */

#define NDYN_NN_MAX_NDIM 4

/* Flags of a stored tensor. */
#define NDYN_NN_BUFFER   1u  /* saved/loaded but not trained (BatchNorm running
                                stats): optimisers, clipping and grad norms skip it */
#define NDYN_NN_NO_DECAY 2u  /* trained, but weight decay does not apply */

typedef struct ndyn_nn_param {
    char *name;                     /* unique, e.g. "mlp.lins.0.weight" */
    int ndim;                       /* 0 (scalar) .. NDYN_NN_MAX_NDIM */
    size_t shape[NDYN_NN_MAX_NDIM];
    size_t size;                    /* product of shape (1 for a scalar) */
    size_t offset;                  /* start in store->data / store->grad */
    unsigned flags;                 /* NDYN_NN_BUFFER | NDYN_NN_NO_DECAY */
} ndyn_nn_param;

/* All tensors of a model: data (size) and grad (size) hold every tensor
 * back to back, in the order they were added. */
typedef struct ndyn_nn_store {
    size_t n;                       /* number of tensors */
    size_t cap;
    ndyn_nn_param *params;          /* (n) */
    size_t size;                    /* total elements */
    size_t cap_elems;
    double *data;                   /* (size) */
    double *grad;                   /* (size) */
} ndyn_nn_store;

ndyn_nn_store *ndyn_nn_store_new(void);
void ndyn_nn_store_free(ndyn_nn_store *s);
/* Add a zero-filled tensor named `name` (letters, digits, "._-/", at most
 * 200 chars, unique) of the given shape; *index (may be NULL) receives its
 * index. Adding may move the buffers: pointers from ndyn_nn_store_data/_grad
 * are valid until the next add. Keep indices, not pointers, across adds. */
int ndyn_nn_store_add(ndyn_nn_store *s, const char *name, int ndim, const size_t *shape,
                      unsigned flags, int *index);
/* Index of the tensor named `name`; NDYN_ENOTFOUND (with the names that
 * exist) when absent. */
int ndyn_nn_store_find(const ndyn_nn_store *s, const char *name, int *index);
/* View of tensor `index` (no bounds check beyond 0 <= index < n: NULL). */
double *ndyn_nn_store_data(ndyn_nn_store *s, int index);
double *ndyn_nn_store_grad(ndyn_nn_store *s, int index);
const ndyn_nn_param *ndyn_nn_store_param(const ndyn_nn_store *s, int index);
void ndyn_nn_store_zero_grad(ndyn_nn_store *s);
/* Elements not flagged NDYN_NN_BUFFER (what PyTorch counts as parameters). */
size_t ndyn_nn_store_num_trainable(const ndyn_nn_store *s);
/* Euclidean norm of the gradient over trainable tensors. */
double ndyn_nn_store_grad_norm(const ndyn_nn_store *s);
/* Same names, shapes and flags in the same order (used before copying
 * weights between two stores); NDYN_ESHAPE naming the first difference. */
int ndyn_nn_store_check_same(const ndyn_nn_store *a, const ndyn_nn_store *b);

/* ================================================================ init */

/* w (n) ~ U(-bound, bound), drawn in order from rng. */
void ndyn_nn_init_uniform(double *w, size_t n, double bound, ndyn_rng *rng);
/* PyTorch nn.Linear default: weight (OC, C) Kaiming-uniform with a = sqrt(5),
 * i.e. U(+-1/sqrt(C)); bias (OC) or NULL U(+-1/sqrt(C)). Weight drawn first. */
void ndyn_nn_init_linear(double *weight, double *bias, size_t C, size_t OC, ndyn_rng *rng);

/* ============================================================== kernels */

/* ---- Linear: out = inp weight^T + bias */
// out is (B, OC), inp is (B, C), weight is (OC, C), bias is (OC) or NULL
void ndyn_nn_linear_forward(double *out, const double *inp, const double *weight,
                            const double *bias, size_t B, size_t C, size_t OC);
// dinp is (B, C) or NULL, dweight is (OC, C) or NULL, dbias is (OC) or NULL,
// dout is (B, OC), inp is (B, C), weight is (OC, C)
void ndyn_nn_linear_backward(double *dinp, double *dweight, double *dbias, const double *dout,
                             const double *inp, const double *weight, size_t B, size_t C,
                             size_t OC);
void ndyn_nn_linear_forward_f32(float *out, const float *inp, const float *weight,
                                const float *bias, size_t B, size_t C, size_t OC);
void ndyn_nn_linear_backward_f32(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, size_t B, size_t C,
                                 size_t OC);

/* ---- Elementwise activations. All arrays are (N). */
void ndyn_nn_relu_forward(double *out, const double *inp, size_t N);
// out is the forward output (relu' = out > 0)
void ndyn_nn_relu_backward(double *dinp, const double *dout, const double *out, size_t N);
void ndyn_nn_tanh_forward(double *out, const double *inp, size_t N);
// out is the forward output (tanh' = 1 - out^2)
void ndyn_nn_tanh_backward(double *dinp, const double *dout, const double *out, size_t N);
void ndyn_nn_sigmoid_forward(double *out, const double *inp, size_t N);
// out is the forward output (sigmoid' = out (1 - out))
void ndyn_nn_sigmoid_backward(double *dinp, const double *dout, const double *out, size_t N);
/* log sigmoid(x) = -softplus(-x), computed without overflow. */
void ndyn_nn_logsigmoid_forward(double *out, const double *inp, size_t N);
// inp is the forward input (d/dx log sigmoid(x) = sigmoid(-x))
void ndyn_nn_logsigmoid_backward(double *dinp, const double *dout, const double *inp, size_t N);
/* softplus(x) = log(1 + e^x) (PyTorch beta 1, threshold 20: x > 20 gives x). */
void ndyn_nn_softplus_forward(double *out, const double *inp, size_t N);
// inp is the forward input (softplus' = sigmoid(x))
void ndyn_nn_softplus_backward(double *dinp, const double *dout, const double *inp, size_t N);
void ndyn_nn_relu_forward_f32(float *out, const float *inp, size_t N);
void ndyn_nn_relu_backward_f32(float *dinp, const float *dout, const float *out, size_t N);
void ndyn_nn_tanh_forward_f32(float *out, const float *inp, size_t N);
void ndyn_nn_tanh_backward_f32(float *dinp, const float *dout, const float *out, size_t N);

/* ---- Row-wise softmax, log-softmax and log-sum-exp over the last axis. */
// out is (B, C), inp is (B, C)
void ndyn_nn_softmax_forward(double *out, const double *inp, size_t B, size_t C);
// dinp is (B, C), dout is (B, C), out is the forward output (B, C)
void ndyn_nn_softmax_backward(double *dinp, const double *dout, const double *out, size_t B,
                              size_t C);
// out is (B, C), inp is (B, C)
void ndyn_nn_logsoftmax_forward(double *out, const double *inp, size_t B, size_t C);
// dinp is (B, C), dout is (B, C), out is the forward output (B, C)
void ndyn_nn_logsoftmax_backward(double *dinp, const double *dout, const double *out, size_t B,
                                 size_t C);
// out is (B), inp is (B, C); out[b] = log sum_c exp(inp[b, c]) (max-shifted;
// a row of all -inf gives -inf)
void ndyn_nn_logsumexp_forward(double *out, const double *inp, size_t B, size_t C);
// dinp is (B, C), dout is (B), inp is (B, C), out is the forward output (B)
void ndyn_nn_logsumexp_backward(double *dinp, const double *dout, const double *inp,
                                const double *out, size_t B, size_t C);

/* ---- BatchNorm1d over (B, C), PyTorch semantics. Train mode normalises with
 * the batch mean and biased variance, and updates the running statistics
 * with the unbiased variance: running = (1 - momentum) running + momentum
 * batch. Eval mode normalises with the running statistics. */
#define NDYN_NN_BN_MOMENTUM 0.1
#define NDYN_NN_BN_EPS 1e-5
// out is (B, C), mean is (C) and rstd is (C) (saved for backward: batch mean
// and 1/sqrt(var + eps)), running_mean and running_var are (C) or NULL
// (updated in place), inp is (B, C), weight is (C) or NULL (1), bias is (C)
// or NULL (0). Returns NDYN_EINVAL when B < 2 (PyTorch refuses it too).
int ndyn_nn_batchnorm_forward_train(double *out, double *mean, double *rstd,
                                    double *running_mean, double *running_var,
                                    const double *inp, const double *weight, const double *bias,
                                    size_t B, size_t C, double momentum, double eps);
// dinp is (B, C) or NULL, dweight is (C) or NULL, dbias is (C) or NULL,
// dout is (B, C), inp is (B, C), mean/rstd from the train forward
void ndyn_nn_batchnorm_backward_train(double *dinp, double *dweight, double *dbias,
                                      const double *dout, const double *inp, const double *mean,
                                      const double *rstd, const double *weight, size_t B,
                                      size_t C);
// out is (B, C), inp is (B, C), running_mean/var (C), weight/bias (C) or NULL
void ndyn_nn_batchnorm_forward_eval(double *out, const double *inp, const double *running_mean,
                                    const double *running_var, const double *weight,
                                    const double *bias, size_t B, size_t C, double eps);
// gradients of the eval-mode forward (an affine map)
void ndyn_nn_batchnorm_backward_eval(double *dinp, double *dweight, double *dbias,
                                     const double *dout, const double *inp,
                                     const double *running_mean, const double *running_var,
                                     const double *weight, size_t B, size_t C, double eps);
int ndyn_nn_batchnorm_forward_train_f32(float *out, float *mean, float *rstd,
                                        float *running_mean, float *running_var,
                                        const float *inp, const float *weight, const float *bias,
                                        size_t B, size_t C, float momentum, float eps);
void ndyn_nn_batchnorm_backward_train_f32(float *dinp, float *dweight, float *dbias,
                                          const float *dout, const float *inp, const float *mean,
                                          const float *rstd, const float *weight, size_t B,
                                          size_t C);

/* ---- Dropout (inverted, as PyTorch): out = inp * mask, mask[i] = 0 with
 * probability p, else 1/(1-p); one uniform drawn per element in order.
 * p = 0 copies (mask all 1, no draws); 0 <= p < 1. */
// out is (N), mask is (N) (saved for backward), inp is (N)
int ndyn_nn_dropout_forward(double *out, double *mask, const double *inp, size_t N, double p,
                            ndyn_rng *rng);
void ndyn_nn_dropout_backward(double *dinp, const double *dout, const double *mask, size_t N);

/* ---- Elman RNN cell (tanh): h = tanh(x W_ih^T + b_ih + hprev W_hh^T + b_hh).
 * Any of x/w_ih (no input), hprev (zero state), w_hh (no recurrence), b_ih,
 * b_hh may be NULL; D is ignored without input. */
// h is (B, H), x is (B, D), hprev is (B, H), w_ih is (H, D), w_hh is (H, H),
// b_ih and b_hh are (H)
void ndyn_nn_rnn_cell_forward(double *h, const double *x, const double *hprev,
                              const double *w_ih, const double *w_hh, const double *b_ih,
                              const double *b_hh, size_t B, size_t D, size_t H);
// dh is (B, H): the total gradient of the loss wrt this step's output h
// (BPTT: from the loss at this step plus from step t+1). work is (B, H).
// dx (B, D), dhprev (B, H), dw_ih (H, D), dw_hh (H, H), db_ih, db_hh (H): each
// or NULL.
void ndyn_nn_rnn_cell_backward(double *dx, double *dhprev, double *dw_ih, double *dw_hh,
                               double *db_ih, double *db_hh, const double *dh, const double *h,
                               const double *x, const double *hprev, const double *w_ih,
                               const double *w_hh, size_t B, size_t D, size_t H, double *work);
/* Over a sequence. */
// hs is (T, B, H) the outputs h_0..h_{T-1}, x is (T, B, D) or NULL, h0 is the
// initial state (B, H) or NULL (zeros)
void ndyn_nn_rnn_forward(double *hs, const double *x, const double *h0, const double *w_ih,
                         const double *w_hh, const double *b_ih, const double *b_hh, size_t T,
                         size_t B, size_t D, size_t H);
// BPTT. dhs is (T, B, H): gradient of the loss wrt each output (not
// modified); dx (T, B, D) or NULL; dh0 (B, H) or NULL; parameter gradients
// or NULL. work is ((T + 1) B H) (the input-side products of all steps are
// done in one gemm). hs, x, h0 as in the forward.
void ndyn_nn_rnn_backward(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih,
                          double *db_hh, const double *dhs, const double *hs, const double *x,
                          const double *h0, const double *w_ih, const double *w_hh, size_t T,
                          size_t B, size_t D, size_t H, double *work);
void ndyn_nn_rnn_forward_f32(float *hs, const float *x, const float *h0, const float *w_ih,
                             const float *w_hh, const float *b_ih, const float *b_hh, size_t T,
                             size_t B, size_t D, size_t H);
void ndyn_nn_rnn_backward_f32(float *dx, float *dh0, float *dw_ih, float *dw_hh, float *db_ih,
                              float *db_hh, const float *dhs, const float *hs, const float *x,
                              const float *h0, const float *w_ih, const float *w_hh, size_t T,
                              size_t B, size_t D, size_t H, float *work);

/* ---- GRU cell, PyTorch equations and gate order (r, z, n):
 *   r = sigmoid(x W_ir^T + b_ir + hprev W_hr^T + b_hr)
 *   z = sigmoid(x W_iz^T + b_iz + hprev W_hz^T + b_hz)
 *   n = tanh(x W_in^T + b_in + r * (hprev W_hn^T + b_hn))
 *   h = (1 - z) * n + z * hprev
 * x/w_ih (no input), hprev (zeros), b_ih, b_hh may be NULL; w_hh is required. */
#define NDYN_NN_GRU_CACHE 4   /* cache per step is (B, 4H): r, z, n, hprev W_hn^T + b_hn */
// h is (B, H), cache is (B, 4H), x is (B, D), hprev is (B, H), w_ih is
// (3H, D), w_hh is (3H, H), b_ih and b_hh are (3H)
void ndyn_nn_gru_cell_forward(double *h, double *cache, const double *x, const double *hprev,
                              const double *w_ih, const double *w_hh, const double *b_ih,
                              const double *b_hh, size_t B, size_t D, size_t H);
// dh is (B, H) the total gradient wrt h; work is (B, 3H) (gate
// pre-activation gradients) + (B, 3H) = (6 B H); other outputs as the RNN
void ndyn_nn_gru_cell_backward(double *dx, double *dhprev, double *dw_ih, double *dw_hh,
                               double *db_ih, double *db_hh, const double *dh,
                               const double *cache, const double *x, const double *hprev,
                               const double *w_ih, const double *w_hh, size_t B, size_t D,
                               size_t H, double *work);
// hs is (T, B, H), cache is (T, B, 4H), x is (T, B, D) or NULL, h0 (B, H) or NULL
void ndyn_nn_gru_forward(double *hs, double *cache, const double *x, const double *h0,
                         const double *w_ih, const double *w_hh, const double *b_ih,
                         const double *b_hh, size_t T, size_t B, size_t D, size_t H);
// BPTT; dhs is (T, B, H); work is (7 B H)
void ndyn_nn_gru_backward(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih,
                          double *db_hh, const double *dhs, const double *hs,
                          const double *cache, const double *x, const double *h0,
                          const double *w_ih, const double *w_hh, size_t T, size_t B, size_t D,
                          size_t H, double *work);

/* =============================================================== losses */

/* Reductions as PyTorch: MEAN divides by the number of elements (B*D). */
typedef enum { NDYN_NN_MEAN = 0, NDYN_NN_SUM = 1 } ndyn_nn_reduction;

/* Each loss is a pair: _forward returns the reduced loss; _backward ADDS
 * dloss * d(loss)/d(input) into the gradient outputs (dloss = 1 for a loss
 * used alone; another value to weight it in a sum). */

/* Mean squared error. pred, target, dpred are (N). */
double ndyn_nn_mse_forward(const double *pred, const double *target, size_t N, int reduction);
void ndyn_nn_mse_backward(double *dpred, const double *pred, const double *target, size_t N,
                          int reduction, double dloss);

/* Gaussian negative log-likelihood with diagonal variance given as
 * log-variance (learned or fixed):
 *   l[b,d] = 0.5 (logvar + (pred - target)^2 exp(-logvar)) [+ 0.5 log 2 pi if full]
 * This is PyTorch's GaussianNLLLoss with var = exp(logvar) (without its eps
 * clamp). logvar is (D), shared over the batch, or (B, D) when per_sample. */
// pred, target, dpred are (B, D); dlogvar is like logvar, or NULL
double ndyn_nn_gaussian_nll_forward(const double *pred, const double *target,
                                    const double *logvar, size_t B, size_t D, int per_sample,
                                    int full, int reduction);
void ndyn_nn_gaussian_nll_backward(double *dpred, double *dlogvar, const double *pred,
                                   const double *target, const double *logvar, size_t B,
                                   size_t D, int per_sample, int full, int reduction,
                                   double dloss);
/* Fixed scalar variance var > 0 (e.g. SRNN's compatibility 1e-4). */
double ndyn_nn_gaussian_nll_fixed_forward(const double *pred, const double *target, double var,
                                          size_t N, int full, int reduction);
void ndyn_nn_gaussian_nll_fixed_backward(double *dpred, const double *pred,
                                         const double *target, double var, size_t N, int full,
                                         int reduction, double dloss);

/* Poisson negative log-likelihood of counts y given x:
 *   NDYN_NN_POISSON_LOG:      rate = exp(x),      l = exp(x) - y x
 *                              (PyTorch PoissonNLLLoss(log_input=True))
 *   NDYN_NN_POISSON_SOFTPLUS: rate = softplus(x), l = rate - y log(rate + 1e-8)
 *                              (PyTorch poisson_nll_loss(softplus(x), y, log_input=False))
 * full adds log(y!) = lgamma(y + 1) exactly (PyTorch's `full` uses Stirling's
 * approximation instead), making the loss the exact -log p(y). */
typedef enum { NDYN_NN_POISSON_LOG = 0, NDYN_NN_POISSON_SOFTPLUS = 1 } ndyn_nn_poisson_form;
// x, y, dx are (N); y >= 0
double ndyn_nn_poisson_nll_forward(const double *x, const double *y, size_t N, int form,
                                   int full, int reduction);
void ndyn_nn_poisson_nll_backward(double *dx, const double *x, const double *y, size_t N,
                                  int form, int reduction, double dloss);

/* Binary cross-entropy with logits (PyTorch BCEWithLogitsLoss, no weights):
 *   l = max(x, 0) - x y + log(1 + exp(-|x|)). x, y, dx are (N), y in [0, 1]. */
double ndyn_nn_bce_logits_forward(const double *x, const double *y, size_t N, int reduction);
void ndyn_nn_bce_logits_backward(double *dx, const double *x, const double *y, size_t N,
                                 int reduction, double dloss);

/* ============================================================== modules */

/* Modules register their tensors in a store under "<prefix>.<name>" (just
 * "<name>" with an empty or NULL prefix) and keep their indices. Their names
 * follow PyTorch's state_dict. A failed _add leaves the store and the module
 * struct as they were. */

/* ---- Linear: "<prefix>.weight" (OC, C), "<prefix>.bias" (OC). */
typedef struct ndyn_nn_linear {
    size_t C, OC;
    int weight, bias;      /* store indices; bias -1 without bias */
} ndyn_nn_linear;
int ndyn_nn_linear_add(ndyn_nn_store *s, const char *prefix, size_t C, size_t OC, int bias,
                       ndyn_nn_linear *l);
void ndyn_nn_linear_init(const ndyn_nn_linear *l, ndyn_nn_store *s, ndyn_rng *rng);
// out is (B, OC), inp is (B, C)
int ndyn_nn_linear_apply(const ndyn_nn_linear *l, ndyn_nn_store *s, double *out,
                         const double *inp, size_t B);
// dinp is (B, C) or NULL; parameter gradients go into the store
int ndyn_nn_linear_apply_backward(const ndyn_nn_linear *l, ndyn_nn_store *s, double *dinp,
                                  const double *dout, const double *inp, size_t B);

/* ---- Activations by name, for containers. */
typedef enum { NDYN_NN_ACT_RELU = 0, NDYN_NN_ACT_TANH, NDYN_NN_ACT_SIGMOID,
               NDYN_NN_ACT_NONE } ndyn_nn_act;

/* ---- MLP, PyG-style: widths w_0 .. w_L give L Linear layers; each hidden
 * layer is Linear -> BatchNorm1d -> activation -> Dropout (act_first off),
 * the last layer is a plain Linear (plain_last). Tensor names:
 * "<prefix>.lins.<i>.weight|bias", "<prefix>.norms.<i>.weight|bias|
 * running_mean|running_var" (running stats flagged NDYN_NN_BUFFER). */
#define NDYN_NN_MLP_MAX_LAYERS 16
typedef struct ndyn_nn_mlp_opts {
    int bias;             /* Linear biases (default 1) */
    int batch_norm;       /* BatchNorm1d in hidden layers (default 1) */
    double dropout;       /* hidden-layer dropout p (default 0) */
    ndyn_nn_act act;      /* hidden activation (default ReLU) */
    int plain_last;       /* last layer plain Linear (default 1); 0: the last
                             layer also gets norm/act/dropout */
    double bn_momentum;   /* default 0.1 */
    double bn_eps;        /* default 1e-5 */
} ndyn_nn_mlp_opts;
void ndyn_nn_mlp_opts_default(ndyn_nn_mlp_opts *o);

typedef struct ndyn_nn_mlp {
    size_t nlayers;                                 /* L Linear layers */
    size_t widths[NDYN_NN_MLP_MAX_LAYERS + 1];      /* w_0 .. w_L */
    ndyn_nn_mlp_opts opts;
    ndyn_nn_linear lin[NDYN_NN_MLP_MAX_LAYERS];
    int bn_weight[NDYN_NN_MLP_MAX_LAYERS];          /* store indices, -1 absent */
    int bn_bias[NDYN_NN_MLP_MAX_LAYERS];
    int bn_mean[NDYN_NN_MLP_MAX_LAYERS];
    int bn_var[NDYN_NN_MLP_MAX_LAYERS];
} ndyn_nn_mlp;
/* nwidths >= 2 widths (each > 0), at most NDYN_NN_MLP_MAX_LAYERS + 1. opts
 * NULL: defaults. */
int ndyn_nn_mlp_add(ndyn_nn_store *s, const char *prefix, size_t nwidths, const size_t *widths,
                    const ndyn_nn_mlp_opts *opts, ndyn_nn_mlp *mlp);
/* PyTorch defaults: Linear as ndyn_nn_init_linear layer by layer, BatchNorm
 * weight 1, bias 0, running mean 0, running var 1. */
void ndyn_nn_mlp_init(const ndyn_nn_mlp *mlp, ndyn_nn_store *s, ndyn_rng *rng);

/* Activations of one forward, kept for the backward. One cache per
 * concurrent use (e.g. per time step when the same MLP is applied at every
 * step and backpropagated later). */
typedef struct ndyn_nn_mlp_cache ndyn_nn_mlp_cache;
int ndyn_nn_mlp_cache_alloc(const ndyn_nn_mlp *mlp, size_t max_batch, ndyn_nn_mlp_cache **out);
void ndyn_nn_mlp_cache_free(ndyn_nn_mlp_cache *c);
/* out is (B, w_L), inp is (B, w_0), B <= max_batch of the cache. train: 1
 * batch statistics (B >= 2 with BatchNorm) updating the running statistics,
 * dropout on (rng required when dropout > 0); 0 eval: running statistics, no
 * dropout, rng unused. */
int ndyn_nn_mlp_forward(const ndyn_nn_mlp *mlp, ndyn_nn_store *s, ndyn_nn_mlp_cache *c,
                        double *out, const double *inp, size_t B, int train, ndyn_rng *rng);
/* Backward of the last forward on this cache. dout is (B, w_L); dinp is
 * (B, w_0) or NULL; parameter gradients are added into the store. */
int ndyn_nn_mlp_backward(const ndyn_nn_mlp *mlp, ndyn_nn_store *s, ndyn_nn_mlp_cache *c,
                         double *dinp, const double *dout, size_t B);

/* ---- Elman RNN and GRU: "<prefix>.weight_ih" (G H, D), "<prefix>.weight_hh"
 * (G H, H), "<prefix>.bias_ih", "<prefix>.bias_hh" (G H), G = 1 (RNN) or 3
 * (GRU). D = 0: no input weights. */
typedef struct ndyn_nn_rnn {
    size_t D, H;
    int gru;                             /* 0 Elman tanh, 1 GRU */
    int weight_ih, weight_hh, bias_ih, bias_hh;  /* store indices, -1 absent */
} ndyn_nn_rnn;
/* recurrent: 0 leaves out weight_hh (Elman only: h = tanh(x W_ih^T + b)). */
int ndyn_nn_rnn_add(ndyn_nn_store *s, const char *prefix, size_t D, size_t H, int bias,
                    int recurrent, ndyn_nn_rnn *rnn);
int ndyn_nn_gru_add(ndyn_nn_store *s, const char *prefix, size_t D, size_t H, int bias,
                    ndyn_nn_rnn *rnn);
/* PyTorch default: every tensor U(+-1/sqrt(H)), in the order weight_ih,
 * weight_hh, bias_ih, bias_hh. */
void ndyn_nn_rnn_init(const ndyn_nn_rnn *rnn, ndyn_nn_store *s, ndyn_rng *rng);
/* Sequence forward/backward with shape checks. hs (T, B, H); x (T, B, D) or
 * NULL when D = 0; h0 (B, H) or NULL. What the module needs (GRU cache,
 * work) lives in a cache made for at most T steps and B sequences; one cache
 * serves any shorter T / smaller B (e.g. trials of different lengths), and a
 * backward uses the cache of the last apply with the same T and B. */
typedef struct ndyn_nn_rnn_cache ndyn_nn_rnn_cache;
int ndyn_nn_rnn_cache_alloc(const ndyn_nn_rnn *rnn, size_t T, size_t B, ndyn_nn_rnn_cache **out);
void ndyn_nn_rnn_cache_free(ndyn_nn_rnn_cache *c);
int ndyn_nn_rnn_apply(const ndyn_nn_rnn *rnn, ndyn_nn_store *s, ndyn_nn_rnn_cache *c, double *hs,
                      const double *x, const double *h0, size_t T, size_t B);
// dhs (T, B, H); dx (T, B, D) or NULL; dh0 (B, H) or NULL; hs, x, h0 as given
// to the last apply on this cache
int ndyn_nn_rnn_apply_backward(const ndyn_nn_rnn *rnn, ndyn_nn_store *s, ndyn_nn_rnn_cache *c,
                               double *dx, double *dh0, const double *dhs, const double *hs,
                               const double *x, const double *h0, size_t T, size_t B);

/* ========================================================== optimisers */

typedef enum { NDYN_NN_SGD = 0, NDYN_NN_ADAM = 1, NDYN_NN_ADAMW = 2 } ndyn_nn_optim_kind;

/* PyTorch semantics:
 *  SGD:   g += wd p; buf = momentum buf + (1 - dampening) g (buf = g at the
 *         first step); g = nesterov ? g + momentum buf : buf; p -= lr g.
 *  Adam:  g += wd p (L2); AdamW: p *= 1 - lr wd (decoupled). m, v moments,
 *         p -= (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
 * Tensors flagged NDYN_NN_BUFFER are skipped; NDYN_NN_NO_DECAY skip decay. */
typedef struct ndyn_nn_optim_params {
    ndyn_nn_optim_kind kind;
    double lr;             /* SGD 0.01 (PyTorch has none), Adam/AdamW 1e-3 */
    double momentum;       /* SGD, default 0 */
    double dampening;      /* SGD, default 0 */
    int nesterov;          /* SGD, default 0 (needs momentum > 0, dampening 0) */
    double weight_decay;   /* SGD/Adam 0, AdamW 1e-2 */
    double beta1, beta2;   /* 0.9, 0.999 */
    double eps;            /* 1e-8 */
} ndyn_nn_optim_params;
void ndyn_nn_optim_params_default(ndyn_nn_optim_params *p, ndyn_nn_optim_kind kind);
/* Check ranges (lr >= 0, 0 <= momentum, 0 <= beta < 1, eps >= 0, ...). */
int ndyn_nn_optim_params_check(const ndyn_nn_optim_params *p);

typedef struct ndyn_nn_optim {
    ndyn_nn_optim_params p;   /* p.lr is the current learning rate (schedules change it) */
    double initial_lr;        /* lr at creation (PyTorch's initial_lr) */
    int64_t t;                /* steps taken */
    size_t size;              /* store size it was made for */
    double *m;                /* (size) SGD momentum buffer / Adam first moment, or NULL */
    double *v;                /* (size) Adam second moment, or NULL */
} ndyn_nn_optim;
int ndyn_nn_optim_alloc(const ndyn_nn_optim_params *p, const ndyn_nn_store *s,
                        ndyn_nn_optim **out);
void ndyn_nn_optim_free(ndyn_nn_optim *o);
/* One step over the store. Fails (parameters untouched) with NDYN_ESHAPE if
 * the store changed size, NDYN_ENONFINITE naming the tensor if a gradient is
 * NaN/Inf. */
int ndyn_nn_optim_step(ndyn_nn_optim *o, ndyn_nn_store *s);
/* Forget the state (t = 0, moments zero); lr unchanged. */
void ndyn_nn_optim_reset(ndyn_nn_optim *o);

/* Gradient-norm clipping over the trainable tensors (PyTorch
 * clip_grad_norm_): total = ||g||_2; if total > max_norm, g *= max_norm /
 * (total + 1e-6). *total_norm (may be NULL) receives the norm before
 * clipping. Non-finite norm: NDYN_ENONFINITE, gradients untouched. */
int ndyn_nn_clip_grad_norm(ndyn_nn_store *s, double max_norm, double *total_norm);

/* =========================================================== schedules */

typedef enum { NDYN_NN_SCHED_NONE = 0, NDYN_NN_SCHED_STEP = 1,
               NDYN_NN_SCHED_PLATEAU = 2 } ndyn_nn_sched_kind;

typedef struct ndyn_nn_sched {
    ndyn_nn_sched_kind kind;
    int64_t last_epoch;        /* number of sched_step calls */
    /* StepLR: lr *= gamma every step_size epochs */
    int64_t step_size;
    double gamma;
    /* ReduceLROnPlateau (PyTorch defaults after ndyn_nn_plateau_init) */
    int mode_max;              /* 0 "min" (default), 1 "max" */
    double factor;             /* 0.1 */
    int64_t patience;          /* 10 */
    double threshold;          /* 1e-4 */
    int threshold_abs;         /* 0 "rel" (default), 1 "abs" */
    int64_t cooldown;          /* 0 */
    double min_lr;             /* 0 */
    double eps;                /* 1e-8: smaller lr changes are ignored */
    double best;               /* best metric so far (+inf for min at start) */
    int64_t num_bad_epochs;
    int64_t cooldown_counter;
} ndyn_nn_sched;
void ndyn_nn_steplr_init(ndyn_nn_sched *s, int64_t step_size, double gamma);
void ndyn_nn_plateau_init(ndyn_nn_sched *s);
int ndyn_nn_sched_check(const ndyn_nn_sched *s);
/* Call once per epoch, after the optimiser steps. StepLR ignores metric;
 * ReduceLROnPlateau compares it with the best (a NaN metric counts as not
 * better). *reduced (may be NULL) is set to 1 when lr changed. */
int ndyn_nn_sched_step(ndyn_nn_sched *s, ndyn_nn_optim *o, double metric, int *reduced);

/* ===================================================== hyper-parameters */

/* An ordered key -> value list (numbers or strings) saved with a model.
 * Keys: letters, digits, "._-", at most 100 chars. Strings: no newline or
 * tab. Numbers round-trip exactly. */
typedef struct ndyn_nn_hparams ndyn_nn_hparams;
ndyn_nn_hparams *ndyn_nn_hparams_new(void);
void ndyn_nn_hparams_free(ndyn_nn_hparams *h);
int ndyn_nn_hparams_set_num(ndyn_nn_hparams *h, const char *key, double v);
int ndyn_nn_hparams_set_int(ndyn_nn_hparams *h, const char *key, int64_t v);
int ndyn_nn_hparams_set_str(ndyn_nn_hparams *h, const char *key, const char *v);
/* NDYN_ENOTFOUND when absent, NDYN_EFORMAT when of another type (an int is
 * also readable as a number). */
int ndyn_nn_hparams_get_num(const ndyn_nn_hparams *h, const char *key, double *v);
int ndyn_nn_hparams_get_int(const ndyn_nn_hparams *h, const char *key, int64_t *v);
int ndyn_nn_hparams_get_str(const ndyn_nn_hparams *h, const char *key, const char **v);
size_t ndyn_nn_hparams_count(const ndyn_nn_hparams *h);
const char *ndyn_nn_hparams_key(const ndyn_nn_hparams *h, size_t i);

/* ========================================================= model files */

/* A model file is an .npz that NumPy reads (see docs/nn.md):
 *   meta            uint8 text: format, version, model kind, tensor list with
 *                   shapes and flags, optimiser and schedule scalars, checksum
 *   hparams         uint8 text: "key<TAB>type<TAB>value" lines
 *   param/<name>    float64, one per store tensor (buffers included)
 *   optim/m/<name>, optim/v/<name>   float64 optimiser state, when saved
 *   extra/<name>    any arrays the model adds (e.g. normalisation constants)
 * The checksum (CRC-32 of the text and of every array's name, dtype, shape
 * and bytes) guards against edits and corruption. Written atomically. */
#define NDYN_NN_FILE_VERSION 1

/* kind: the model's name ("marble", "srnn", ...). hp, o, sched, extra may be
 * NULL. */
int ndyn_nn_save(const char *path, const char *kind, const ndyn_nn_store *s,
                 const ndyn_nn_hparams *hp, const ndyn_nn_optim *o, const ndyn_nn_sched *sched,
                 const ndyn_dataset *extra);

/* A model file read and verified (format, version, checksum, kind). Usual
 * loading: read the file, rebuild the model from its hyper-parameters (which
 * registers the tensors in a new store), then load the store (and the
 * optimiser/schedule to resume training). */
typedef struct ndyn_nn_file ndyn_nn_file;
/* kind NULL accepts any kind; otherwise a different kind is NDYN_EFORMAT. */
int ndyn_nn_file_read(const char *path, const char *kind, ndyn_nn_file **out);
void ndyn_nn_file_free(ndyn_nn_file *f);
const char *ndyn_nn_file_kind(const ndyn_nn_file *f);
const ndyn_nn_hparams *ndyn_nn_file_hparams(const ndyn_nn_file *f);
/* Extra arrays (names without "extra/"); empty dataset when none. */
const ndyn_dataset *ndyn_nn_file_extra(const ndyn_nn_file *f);
/* Copy weights into s. Every tensor of s must be in the file with the same
 * shape and flags and the file must have no other tensor; otherwise
 * NDYN_ESHAPE/NDYN_ENOTFOUND naming the first mismatch, s untouched. */
int ndyn_nn_file_load_store(const ndyn_nn_file *f, ndyn_nn_store *s);
/* Whether the file holds an optimiser state / a schedule. */
int ndyn_nn_file_has_optim(const ndyn_nn_file *f);
int ndyn_nn_file_has_sched(const ndyn_nn_file *f);
/* Restore an optimiser made (ndyn_nn_optim_alloc) for the store s loaded
 * from this file: kind must match; hyper-parameters, step count and moments
 * are replaced. NDYN_ENOTFOUND when the file has none. */
int ndyn_nn_file_load_optim(const ndyn_nn_file *f, const ndyn_nn_store *s, ndyn_nn_optim *o);
int ndyn_nn_file_load_sched(const ndyn_nn_file *f, ndyn_nn_sched *sched);

/* ===================================================== gradient check */

/* Central finite differences: for each i in x (n), numeric gradient
 * (f(x + h e_i) - f(x - h e_i)) / 2h, compared with grad[i] (the analytic
 * gradient at x). f evaluates the loss at the current contents of x (the
 * checker restores x). Element error |a - n| / max(|a|, |n|, floor).
 * NULL result pointers are ignored. */
typedef int (*ndyn_nn_loss_fn)(void *user, double *loss);
typedef struct ndyn_nn_gradcheck_result {
    double max_rel_err;    /* worst element error */
    size_t worst;          /* its index */
    double analytic, numeric;  /* at the worst index */
    double norm_rel_err;   /* ||a - n|| / max(||a||, ||n||, floor) */
} ndyn_nn_gradcheck_result;
int ndyn_nn_gradcheck(double *x, const double *grad, size_t n, ndyn_nn_loss_fn f, void *user,
                      double h, double floor, ndyn_nn_gradcheck_result *res);

#ifdef __cplusplus
}
#endif
#endif
