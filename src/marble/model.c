/* MARBLE model: the parameter buffer layout, initialisation, accessors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marble/marble_internal.h"

#define NONE ((size_t)-1)

int mb_layout(ndyn_marble_model *m)
{
    const ndyn_marble_params *p = &m->par;
    size_t off = 0, boff = 0;
    m->n_blocks = (size_t)p->order + (p->include_self ? 1 : 0);
    m->n_channels = 0;
    size_t dp = 1;
    for (int q = 0; q <= p->order; q++) {
        if (q > 0 || p->include_self) m->n_channels += dp;
        dp *= m->d;
    }
    m->n_features = ndyn_marble_feature_count(p, m->s, m->d, m->dim);
    m->off_t = off++;
    m->off_o = NONE;
    if (p->inner_product && m->s > 1) {
        m->off_o = off;
        off += m->n_channels * m->s * m->s;
    }
    m->n_layers = (size_t)p->n_hidden + 1;
    size_t in = m->n_features;
    for (size_t l = 0; l < m->n_layers; l++) {
        mb_layer *L = &m->layer[l];
        L->hidden = l + 1 < m->n_layers;
        L->in = in;
        L->out = L->hidden ? (size_t)p->hidden[l] : (size_t)p->out_channels;
        L->w = off; off += L->in * L->out;
        L->b = NONE; L->gamma = NONE; L->beta = NONE; L->run_mean = NONE; L->run_var = NONE;
        if (p->bias) { L->b = off; off += L->out; }
        if (L->hidden && p->batch_norm) {
            L->gamma = off; off += L->out;
            L->beta = off; off += L->out;
            L->run_mean = boff; boff += L->out;
            L->run_var = boff; boff += L->out;
        }
        in = L->out;
    }
    m->n_params = off;
    m->n_buffers = boff;
    if (m->n_params != ndyn_marble_param_count(p, m->s, m->d, m->dim))
        return ndyn_error(NDYN_EINTERNAL, "marble: parameter layout disagrees with the count");
    return NDYN_OK;
}

void mb_init_weights(ndyn_marble_model *m)
{
    ndyn_rng r;
    ndyn_rng_init(&r, m->par.seed, 0);
    double *w = m->params;
    memset(w, 0, m->n_params * sizeof *w);
    w[m->off_t] = m->par.tau0 < MB_T_MIN ? m->par.tau0 : m->par.tau0;
    if (m->off_o != NONE)
        for (size_t j = 0; j < m->n_channels; j++)
            for (size_t k = 0; k < m->s; k++) w[m->off_o + j * m->s * m->s + k * m->s + k] = 1.0;
    for (size_t l = 0; l < m->n_layers; l++) {
        mb_layer *L = &m->layer[l];
        ndyn_nn_init_linear(w + L->w, L->b != NONE ? w + L->b : NULL, L->in, L->out, &r);
        if (L->gamma != NONE)
            for (size_t i = 0; i < L->out; i++) { w[L->gamma + i] = 1.0; w[L->beta + i] = 0.0; }
        if (L->run_mean != NONE)
            for (size_t i = 0; i < L->out; i++) {
                m->buffers[L->run_mean + i] = 0.0;
                m->buffers[L->run_var + i] = 1.0;
            }
    }
}

/* Register one tensor and check that it lands where the layout put it. */
static int add_tensor(ndyn_nn_store *st, const char *name, int ndim, size_t a, size_t b, size_t c,
                      unsigned flags, size_t want_off)
{
    size_t shape[3] = {a, b, c};
    int idx, rc = ndyn_nn_store_add(st, name, ndim, shape, flags, &idx);
    if (rc) return rc;
    if (ndyn_nn_store_param(st, idx)->offset != want_off)
        return ndyn_error(NDYN_EINTERNAL, "marble: tensor %s is at %zu in the store, the layout "
                          "says %zu", name, ndyn_nn_store_param(st, idx)->offset, want_off);
    return NDYN_OK;
}

/* The nn parameter store of the layout: trained tensors first (offsets as in
 * mb_layout), then the BatchNorm running statistics. */
static int build_store(ndyn_marble_model *m)
{
    ndyn_nn_store *st = ndyn_nn_store_new();
    if (!st) return NDYN_ENOMEM;
    m->store = st;
    char name[64];
    int rc = add_tensor(st, "diffusion_time", 0, 1, 1, 1, NDYN_NN_NO_DECAY, m->off_t);
    if (!rc && m->off_o != NONE)
        rc = add_tensor(st, "inner.O", 3, m->n_channels, m->s, m->s, 0, m->off_o);
    for (size_t l = 0; l < m->n_layers && !rc; l++) {
        const mb_layer *L = &m->layer[l];
        snprintf(name, sizeof name, "mlp.lins.%zu.weight", l);
        rc = add_tensor(st, name, 2, L->out, L->in, 1, 0, L->w);
        if (!rc && L->b != NONE) {
            snprintf(name, sizeof name, "mlp.lins.%zu.bias", l);
            rc = add_tensor(st, name, 1, L->out, 1, 1, NDYN_NN_NO_DECAY, L->b);
        }
        if (!rc && L->gamma != NONE) {
            snprintf(name, sizeof name, "mlp.norms.%zu.weight", l);
            rc = add_tensor(st, name, 1, L->out, 1, 1, NDYN_NN_NO_DECAY, L->gamma);
            snprintf(name, sizeof name, "mlp.norms.%zu.bias", l);
            if (!rc) rc = add_tensor(st, name, 1, L->out, 1, 1, NDYN_NN_NO_DECAY, L->beta);
        }
    }
    for (size_t l = 0; l < m->n_layers && !rc; l++) {
        const mb_layer *L = &m->layer[l];
        if (L->run_mean == NONE) continue;
        snprintf(name, sizeof name, "mlp.norms.%zu.running_mean", l);
        rc = add_tensor(st, name, 1, L->out, 1, 1, NDYN_NN_BUFFER, m->n_params + L->run_mean);
        snprintf(name, sizeof name, "mlp.norms.%zu.running_var", l);
        if (!rc)
            rc = add_tensor(st, name, 1, L->out, 1, 1, NDYN_NN_BUFFER, m->n_params + L->run_var);
    }
    if (rc) return rc;
    if (st->size != m->n_params + m->n_buffers)
        return ndyn_error(NDYN_EINTERNAL, "marble: store holds %zu values, want %zu", st->size,
                          m->n_params + m->n_buffers);
    m->params = st->data;
    m->buffers = st->data + m->n_params;
    ndyn_nn_optim_params op;
    ndyn_nn_optim_params_default(&op, NDYN_NN_SGD);
    op.lr = m->par.lr;
    op.momentum = m->par.momentum;
    if ((rc = ndyn_nn_optim_alloc(&op, st, &m->opt))) return rc;
    ndyn_nn_plateau_init(&m->sched);
    m->sched.factor = m->par.lr_factor;
    m->sched.patience = m->par.lr_patience;
    m->sched.threshold = m->par.lr_threshold;
    return ndyn_nn_sched_check(&m->sched);
}

int mb_model_alloc(const ndyn_marble_params *p, size_t s, size_t d, size_t dim,
                   ndyn_marble_model **out)
{
    *out = NULL;
    int rc = ndyn_marble_check_params(p, NULL);
    if (rc) return rc;
    if (s < 1 || d < 1 || dim < 1)
        return ndyn_error(NDYN_EINVAL, "marble: s, d and dim must be >= 1 (now %zu, %zu, %zu)",
                          s, d, dim);
    ndyn_marble_model *m = ndyn_calloc(1, sizeof *m);
    if (!m) return NDYN_ENOMEM;
    m->par = *p;
    m->s = s; m->d = d; m->dim = dim;
    if ((rc = mb_layout(m)) || (rc = build_store(m))) {
        ndyn_marble_model_free(m);
        return rc;
    }
    m->best_params = ndyn_malloc_array(m->n_params, sizeof(double));
    m->best_buffers = ndyn_malloc_array(m->n_buffers + 1, sizeof(double));
    if (!m->best_params || !m->best_buffers) {
        ndyn_marble_model_free(m);
        return NDYN_ENOMEM;
    }
    m->best_val = INFINITY;
    m->best_epoch = -1;
    *out = m;
    return NDYN_OK;
}

int ndyn_marble_model_new(const ndyn_marble_params *p, size_t s, size_t d, size_t dim,
                          ndyn_marble_model **out)
{
    int rc = mb_model_alloc(p, s, d, dim, out);
    if (rc) return rc;
    mb_init_weights(*out);
    memcpy((*out)->best_params, (*out)->params, (*out)->n_params * sizeof(double));
    memcpy((*out)->best_buffers, (*out)->buffers, (*out)->n_buffers * sizeof(double));
    return NDYN_OK;
}

void ndyn_marble_model_free(ndyn_marble_model *m)
{
    if (!m) return;
    ndyn_nn_optim_free(m->opt);
    ndyn_nn_store_free(m->store);
    free(m->best_params);
    free(m->best_buffers);
    free(m);
}

const ndyn_marble_params *ndyn_marble_model_params(const ndyn_marble_model *m) { return &m->par; }
size_t ndyn_marble_model_out_dim(const ndyn_marble_model *m) { return (size_t)m->par.out_channels; }
double ndyn_marble_model_diffusion_time(const ndyn_marble_model *m)
{
    double t = m->params[m->off_t];
    return t < MB_T_MIN ? MB_T_MIN : t;
}
int ndyn_marble_model_epoch(const ndyn_marble_model *m) { return m->epoch; }

int ndyn_marble_set_epochs(ndyn_marble_model *m, int epochs)
{
    if (epochs < 0 || epochs > 10000000)
        return ndyn_error(NDYN_EINVAL, "marble: epochs must be in 0..1e7 (now %d)", epochs);
    m->par.epochs = epochs;
    return NDYN_OK;
}

void ndyn_marble_history_free(ndyn_marble_history *h)
{
    if (!h) return;
    free(h->epoch); free(h->train_loss); free(h->val_loss); free(h->lr); free(h->diffusion_time);
    free(h->train_seconds); free(h->train_cpu_seconds);
    memset(h, 0, sizeof *h);
}
