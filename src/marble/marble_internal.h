/* Private parts of the MARBLE module shared by its files (and its tests). */
#ifndef NDYN_MARBLE_INTERNAL_H
#define NDYN_MARBLE_INTERNAL_H

#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/nn.h"

#define MB_BN_EPS 1e-5
#define MB_BN_MOMENTUM 0.1
#define MB_T_MIN 1e-8
#define MB_MAX_LAYERS (NDYN_MARBLE_MAX_HIDDEN + 1)
#define MB_MAX_ORDER 6

/* One Linear layer (and its BatchNorm when hidden and batch_norm) inside the
 * parameter buffer: offsets into params/grad. */
typedef struct mb_layer {
    size_t in, out;
    size_t w;          /* (out, in) row-major, as torch */
    size_t b;          /* (out,) or (size_t)-1 without bias */
    size_t gamma, beta;/* (out,) or (size_t)-1 without BN */
    size_t run_mean, run_var; /* offsets into buffers */
    int hidden;        /* followed by BN?/ReLU/Dropout */
} mb_layer;

struct ndyn_marble_model {
    ndyn_marble_params par;
    size_t s, d, dim;
    size_t n_blocks;       /* order blocks used (o + include_self) */
    size_t n_channels;     /* inner-product channels C */
    size_t n_features;     /* MLP input width */
    size_t n_layers;
    mb_layer layer[MB_MAX_LAYERS];
    size_t off_t, off_o;   /* diffusion time; O matrices (C, s, s) */
    size_t n_params;
    /* All tensors live in one nn parameter store: the trained ones in the
     * layout order above (so params[off] addresses them), then the BatchNorm
     * running statistics flagged NDYN_NN_BUFFER. */
    ndyn_nn_store *store;
    double *params;        /* (n_params,) = store->data */
    size_t n_buffers;
    double *buffers;       /* BatchNorm running statistics = store->data + n_params */
    /* optimiser and scheduler: nn's SGD with momentum (opt->p.lr is the
     * current learning rate) and ReduceLROnPlateau on the mean train loss */
    ndyn_nn_optim *opt;
    ndyn_nn_sched sched;
    int epoch;             /* epochs trained */
    double best_val;
    int best_epoch;
    double *best_params, *best_buffers;
    /* geometry of the data it was fitted on (geometry.c), when recorded */
    int has_geom;
    ndyn_geom_params geom;
};

typedef struct mb_fcache mb_fcache;

/* Workspace of one batch evaluation, reused across batches. */
typedef struct mb_work {
    size_t n;
    int32_t *g2l;          /* (n,) local index or -1 */
    int32_t *l2g;          /* (n,) local -> global */
    size_t cnt[16];        /* nested prefix sizes of the hop sets */
    size_t cap_rows;
    double **X;            /* X[p] (rows, s d^p) */
    double **dX;
    double *F, *G, *dF;    /* diffused signal, its t-derivative, gradient */
    double *fhat;          /* (n_eig, s) Psi^T D^1/2 f, cached */
    double *wt;            /* (s, n_eig) scratch */
    size_t m_cap;
    double *act;           /* activations of the MLP */
    double *dact;
    double *feat_pre;      /* scratch for inner products */
    double *kv;            /* (nnz, d) kernel values, interleaved */
    int32_t *trow;         /* (m_cap,) local row of each target */
    size_t trow_cap;
    size_t act_size;
    int fhat_ready;
    int skip_last;         /* no diffusion: the outermost hop level is not built */
    mb_fcache *fc;         /* every node's blocks (feature_cache.c), or NULL */
} mb_work;

int mb_work_init(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *data);
void mb_work_free(mb_work *w);

/* Feature cache (feature_cache.c): build every node's filter blocks once
 * when diffusion is off, spectral or a Chebyshev basis is available, and the
 * table fits the bound (else
 * w->fc stays NULL); fill X[p] on the first `rows` local rows at time t;
 * dt: d loss / dt from dX of those rows. */
int mb_fcache_build(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g);
/* Before a batch at time t: a Chebyshev table that t outgrew is rebuilt with
 * more terms, or dropped (w->fc = NULL) past the bound. */
int mb_fcache_prepare(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g,
                      double t);
int mb_fcache_fill(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g,
                   size_t rows, double t);
double mb_fcache_dt(const mb_work *w, const ndyn_marble_model *m, size_t rows);
void mb_fcache_free(mb_fcache *c);

/* Forward for the m target nodes (duplicates allowed). train: BatchNorm batch
 * statistics (running statistics updated when update_stats) and dropout from
 * rng. z is (m, E). Activations are kept in w for mb_backward. */
int mb_forward(ndyn_marble_model *m, const ndyn_marble_data *data, mb_work *w,
               const int32_t *nodes, size_t mt, int train, int update_stats, ndyn_rng *rng,
               double *z);
/* Backward of the last mb_forward: dz (m, E) -> grad (n_params,) accumulated. */
int mb_backward(const ndyn_marble_model *m, const ndyn_marble_data *data, mb_work *w,
                const double *dz, double *grad);

/* Contrastive loss of z (3B, E): rows [anchors; positives; negatives];
 * mask_rows marks rows of masked nodes (NULL: none). dz (3B, E) may be NULL. */
double mb_loss(const double *z, size_t nb, size_t e, const uint8_t *mask_rows, double *dz);

/* Loss and gradient of one batch (train mode, no running-stat update unless
 * update_stats). grad (n_params,) is overwritten. */
int mb_batch_loss_grad(ndyn_marble_model *m, const ndyn_marble_data *data, mb_work *w,
                       const int32_t *batch, size_t nb, int train, int update_stats,
                       ndyn_rng *rng, double *loss, double *grad, double *z_out);

/* The model's gauge setting against the dataset's: a clear error on mismatch. */
int mb_check_gauges(int model_lg, const ndyn_marble_data *data);

/* Geometry record in the model file's extra arrays (geometry/...). put writes
 * nothing when none is recorded; get accepts files without one. */
int mb_geometry_put(const ndyn_marble_model *m, ndyn_dataset *extra);
int mb_geometry_get(ndyn_marble_model *m, const ndyn_dataset *extra);

/* Split: split[i] = 0 train, 1 val, 2 test, from the seed. */
int mb_split(size_t n, double val_frac, double test_frac, uint64_t seed, uint8_t *split);
/* Positives and negatives for the anchors (all in split `which`). */
void mb_sample(const ndyn_marble_params *p, const ndyn_marble_data *data, const uint8_t *split,
               const int32_t *split_nodes, size_t n_split, const int32_t *anchors, size_t nb,
               ndyn_rng *rng, int32_t *pos, int32_t *neg);

/* One step of nn's SGD with momentum (PyTorch semantics: v = mu v + g;
 * p -= lr v) with the gradient grad (n_params,) (may be the store's own). */
int mb_sgd_step(ndyn_marble_model *m, const double *grad);
/* Layout from the parameters; allocates nothing. */
int mb_layout(ndyn_marble_model *m);
/* Allocate a model with its layout (weights uninitialised). */
int mb_model_alloc(const ndyn_marble_params *p, size_t s, size_t d, size_t dim,
                   ndyn_marble_model **out);
void mb_init_weights(ndyn_marble_model *m);

#endif
