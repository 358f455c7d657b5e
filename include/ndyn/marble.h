/* ndyn MARBLE: learn latent representations of local flow fields (spec
 * marble.md §7-13) and embed every point.
 *
 * liblinear-shaped API:
 *   ndyn_marble_params_default / ndyn_marble_check_params   hyper-parameters
 *   ndyn_marble_data                                         what the model reads
 *   ndyn_marble_model_new / _free                            a model (weights)
 *   ndyn_marble_fit                                          train (or resume)
 *   ndyn_marble_transform                                    embed every point
 *   ndyn_marble_save / ndyn_marble_load                      model files (.npz)
 *
 * Model (flat mode: the d = D coordinate axes are the directions; with local
 * gauges the signal, directions and features live in the tangent frames T_i,
 * s = d = m, and every kernel transports f_j to frame i by R_ij, §6-7):
 *   F   = H_t f                       diffusion, learnable t >= 1e-8 (§9);
 *                                     local gauges: vector diffusion of
 *                                     u = T^T f by exp(-t Lc), rescaled
 *   X0  = F, Xp = [K_1 X(p-1), ..., K_d X(p-1)], column r*d + c (§8)
 *   features: [pos if include_positions] + X0 (if include_self) + X1 ... Xo,
 *     each block L2-normalised per row with vec_norm; or, with inner_product,
 *     C = sum_p d^p channels of s-vectors and feature_i = tanh(x_i . sum_j O_j x_j) (§10)
 *   MLP: Linear -> BatchNorm1d -> ReLU -> Dropout per hidden layer, plain last (§11)
 *   emb_norm: z / ||z||
 * Loss (§12): -mean log sig(z.z+) - mean log sig(-z.z-) + sig(sum_mask ||z - mean||) - 0.5.
 */
#ifndef NDYN_MARBLE_H
#define NDYN_MARBLE_H

#include <stddef.h>
#include <stdint.h>

#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NDYN_MARBLE_MAX_HIDDEN 8

typedef struct ndyn_marble_params {
    int epochs;             /* training epochs (100) */
    int batch_size;         /* anchors per minibatch (64) */
    double lr;              /* SGD learning rate (0.01) */
    double momentum;        /* SGD momentum (0.9) */
    double dropout;         /* dropout probability after each hidden layer (0.0) */
    int batch_norm;         /* BatchNorm1d after each hidden Linear (1) */
    int n_hidden;           /* number of hidden layers (1) */
    int hidden[NDYN_MARBLE_MAX_HIDDEN]; /* hidden widths ({32}) */
    int bias;               /* Linear layers have a bias (1) */
    int order;              /* order o of the gradient filters, >= 1 (2) */
    int inner_product;      /* embedding-agnostic inner-product features (0) */
    int diffusion;          /* learnable diffusion layer (1) */
    int include_positions;  /* prepend the positions to the features (0) */
    int include_self;       /* keep the order-0 block X0 (1) */
    int out_channels;       /* latent dimension E (3) */
    int vec_norm;           /* L2-normalise each order block per row (0) */
    int emb_norm;           /* L2-normalise the embedding (0) */
    double tau0;            /* initial diffusion time (0.0) */
    uint64_t seed;          /* drives initialisation, split, sampling, dropout (0) */
    int compat_sampling;    /* 1: the reference's sampling (positives may be the anchor,
                               negatives from any split); 0: ndyn's fix of defect B13 (0) */
    int exclude_neighbour_negatives; /* ndyn sampling: negatives avoid the anchor's
                                        neighbours (0) */
    double val_frac;        /* validation fraction of the nodes (0.1) */
    double test_frac;       /* test fraction (0.1) */
    double lr_factor;       /* ReduceLROnPlateau factor (0.1) */
    int lr_patience;        /* ReduceLROnPlateau patience in epochs (10) */
    double lr_threshold;    /* ReduceLROnPlateau relative threshold (1e-4) */
    int local_gauges;       /* the model works in local tangent frames; must equal
                               the dataset's setting (ndyn_marble_data.local_gauges) (0) */
    int val_draws;          /* validation estimator of the best-epoch checkpoint:
                               0 draws new positives/negatives every epoch (the
                               reference's way); D >= 1 scores every epoch on the
                               same D draws (streams fixed by the seed, not the
                               epoch) and averages them (0) */
} ndyn_marble_params;

void ndyn_marble_params_default(ndyn_marble_params *p);

/* The prepared dataset as the model reads it; every pointer is borrowed.
 * The gradient kernels K_1..K_d share one CSR pattern (rows = targets), which
 * holds every graph edge and the diagonal; the off-diagonal pattern is also
 * the graph used for sampling and for o-hop neighbourhoods. */
typedef struct ndyn_marble_data {
    size_t n;                 /* points */
    size_t dim;               /* ambient dimension D of pos */
    size_t s;                 /* signal dimension */
    size_t d;                 /* number of directional kernels */
    const double *pos;        /* (n, dim) */
    const double *signal;     /* (n, s) the vector field */
    const int32_t *condition; /* (n,) condition of each point, or NULL */
    const uint8_t *mask;      /* (n,) coagulation mask, or NULL */
    const int64_t *k_ptr;     /* (n+1,) */
    const int32_t *k_idx;     /* (nnz,) column indices */
    const double *k_val;      /* (d, nnz) values of K_c */
    size_t n_eig;             /* eigenpairs of L_sym (0: no diffusion possible) */
    const double *evals;      /* (n_eig,) */
    const double *evecs;      /* (n, n_eig), orthonormal columns */
    const double *dhalf;      /* (n,) sqrt of the weighted degrees */
    /* Alternative heat-kernel action (e.g. Chebyshev, no eigenpairs): fills
     * Hf (nsel, s) = (H_t f)[rows] and dHf = d/dt of it. Used when set. */
    int (*heat_fn)(void *ctx, double t, const size_t *rows, size_t nsel, double *Hf,
                   double *dHf);
    void *heat_ctx;
    /* Optional, with heat_fn: the cached Chebyshev basis behind it (at least
     * `want` terms): term k of point i is the s-vector V[r * row_stride + k s]
     * with r = order[i] (i without order), and (H_t f)_i = sum_k c_k(t)
     * V_rk / dhalf[i] (ndyn_cheb_heat_coefficients). Lets fit tabulate the
     * features (ndyn_marble_set_feature_cache_bytes). */
    int (*heat_basis_fn)(void *ctx, size_t want, const double **V, size_t *row_stride);
    /* Optional renumbering (NULL: identity): row i of these arrays is the
     * caller's point order[i]; order_inv is its inverse. Transform and
     * embed_nodes speak the caller's numbering. */
    const int32_t *order, *order_inv;
    /* Local gauges (spec §6-7, manifold mode): 1 when signal is u_i = T_i^T f_i
     * in frame coordinates (s = d = m) and every kernel entry (i, j) carries
     * the connection R_ij (conn, (nnz, d, d) row-major, R_ii = I): block
     * (i, j) of K_c is k_val[c][q] R_ij. heat_fn then returns the vector
     * diffusion (§9) in frame coordinates. 0: flat mode, conn NULL. */
    int local_gauges;
    const double *conn;
} ndyn_marble_data;

/* Validate p alone (data == NULL) or against a dataset: ranges, shapes, and
 * combinations (vec_norm needs s > 1, diffusion needs eigenpairs, ...). */
int ndyn_marble_check_params(const ndyn_marble_params *p, const ndyn_marble_data *data);
/* Validate a dataset: sizes, CSR structure, finite values. */
int ndyn_marble_check_data(const ndyn_marble_data *data);

/* Input features of the MLP for signal dim s, d kernels, ambient dim (for
 * include_positions); and the number of learnable parameters (the diffusion
 * time always counts, as in the reference). */
size_t ndyn_marble_feature_count(const ndyn_marble_params *p, size_t s, size_t d, size_t dim);
size_t ndyn_marble_param_count(const ndyn_marble_params *p, size_t s, size_t d, size_t dim);

/* The model's view of a prepared geom dataset: the kernels merged into one
 * CSR pattern, the eigenpairs if geom computed them, else geom's Chebyshev
 * heat action. With local gauges (geom frames present; the model then needs
 * params.local_gauges = 1): the signal projected to the frames, the scalar
 * kernel values and connections R_ij of the block kernels, and geom's vector
 * diffusion (spectral when geom holds the connection Laplacian's eigenpairs,
 * else Chebyshev) as heat_fn. The points are renumbered in breadth-first
 * order of the graph so that neighbourhoods are close in memory (data.order
 * maps back; transform outputs keep geom's order). Owns what it builds;
 * borrows g. */
struct ndyn_geom_data;
typedef struct ndyn_marble_ops {
    ndyn_marble_data data;
    int64_t *ptr;
    int32_t *idx;
    double *val;
    void *heat;          /* ndyn_geom_heat, when there are no eigenpairs */
    int32_t *order, *order_inv;
    double *pos, *signal, *evecs, *dhalf;
    int32_t *condition;
    uint8_t *mask;
    size_t *rows;        /* scratch of the heat callback */
    size_t rows_cap;
    /* local gauges */
    const struct ndyn_geom_data *g;  /* borrowed (vector diffusion) */
    double *conn;        /* (nnz, m, m) */
    void *vheat;         /* ndyn_geom_vheat of the signal (vector diffusion) */
} ndyn_marble_ops;
int ndyn_marble_ops_from_geom(const struct ndyn_geom_data *g, ndyn_marble_ops **out);
void ndyn_marble_ops_free(ndyn_marble_ops *ops);

typedef struct ndyn_marble_model ndyn_marble_model;

/* A fresh model for data of shape (s, d, dim), weights initialised from
 * p->seed (PyTorch's default uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))). */
int ndyn_marble_model_new(const ndyn_marble_params *p, size_t s, size_t d, size_t dim,
                          ndyn_marble_model **out);
void ndyn_marble_model_free(ndyn_marble_model *m);
const ndyn_marble_params *ndyn_marble_model_params(const ndyn_marble_model *m);
size_t ndyn_marble_model_out_dim(const ndyn_marble_model *m);
double ndyn_marble_model_diffusion_time(const ndyn_marble_model *m);
int ndyn_marble_model_epoch(const ndyn_marble_model *m);   /* epochs trained */
/* Change the epoch total of a (loaded) model before resuming. */
int ndyn_marble_set_epochs(ndyn_marble_model *m, int epochs);
/* The geometry (graph, k, delta, spacing, gauges, eigenpairs, seed, ...) of
 * the data the model is fitted on; saved in the model file so that raw point
 * clouds can be prepared the same way for embedding. set with NULL forgets
 * it; get returns 1 and fills *gp when the model records one, else 0. */
struct ndyn_geom_params;
int ndyn_marble_set_geometry(ndyn_marble_model *m, const struct ndyn_geom_params *gp);
int ndyn_marble_geometry(const ndyn_marble_model *m, struct ndyn_geom_params *gp);

/* Feature cache of ndyn_marble_fit (process-wide setting): when diffusion is
 * off, uses eigenpairs or a Chebyshev basis (heat_basis_fn), fit tabulates
 * every node's gradient-filter blocks once (n * T * W doubles, T = 1 without
 * diffusion, n_eig, or the Chebyshev terms t needs, W = s(1 + d +
 * ... + d^o)) and each batch reads its targets' rows instead of building
 * o-hop neighbourhoods. Tables above max_bytes (default
 * NDYN_MARBLE_FEATURE_CACHE_BYTES; 0 disables) are not built. Results are
 * the same up to rounding. */
#define NDYN_MARBLE_FEATURE_CACHE_BYTES ((size_t)512 << 20)
void ndyn_marble_set_feature_cache_bytes(size_t max_bytes);
size_t ndyn_marble_feature_cache_bytes(void);

/* Training history, one entry per epoch. */
typedef struct ndyn_marble_history {
    size_t n;
    double *epoch, *train_loss, *val_loss, *lr, *diffusion_time;
    double *train_seconds;      /* wall time of the training phase of each epoch */
    double *train_cpu_seconds;  /* process CPU time of that phase */
    double test_loss;   /* of the best-validation model, once at the end */
    int best_epoch;
} ndyn_marble_history;
void ndyn_marble_history_free(ndyn_marble_history *h);

/* Train for the remaining epochs (p->epochs minus those already trained, so a
 * loaded model resumes), keep the best-validation weights, restore them at
 * the end. history may be NULL. Progress on stderr (see core.h). */
int ndyn_marble_fit(ndyn_marble_model *m, const ndyn_marble_data *data, ndyn_marble_history *history);

/* Validation loss of m on data as fit computes it with val_draws >= 1: the
 * validation nodes of the split drawn from the model's seed, in eval mode,
 * positives and negatives from the fixed draws first_draw .. first_draw +
 * n_draws - 1, the mean of the n_draws losses. fit's validation loss of an
 * epoch is this with first_draw 0 and n_draws = val_draws. */
int ndyn_marble_validation_loss(ndyn_marble_model *m, const ndyn_marble_data *data,
                                int first_draw, int n_draws, double *loss);

/* Embed every point in eval mode: emb is (n, E). */
int ndyn_marble_transform(const ndyn_marble_model *m, const ndyn_marble_data *data, double *emb);

/* Embed the given nodes with their o-hop neighbourhoods (eval mode):
 * emb is (n_nodes, E). Equals the rows of ndyn_marble_transform. */
int ndyn_marble_embed_nodes(const ndyn_marble_model *m, const ndyn_marble_data *data,
                            const int32_t *nodes, size_t n_nodes, double *emb);

/* Model files (.npz): hyper-parameters, weights, BatchNorm statistics,
 * optimiser and scheduler state, best weights, epoch, a checksum. */
int ndyn_marble_save(const ndyn_marble_model *m, const char *path);
int ndyn_marble_load(const char *path, ndyn_marble_model **out);

#ifdef __cplusplus
}
#endif
#endif
