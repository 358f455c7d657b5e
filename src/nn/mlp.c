/* The MLP container, PyG-style: hidden layers Linear -> BatchNorm1d ->
 * activation -> Dropout, last layer plain Linear. Forward keeps every
 * activation in a cache; backward walks it in reverse. */
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

struct ndyn_nn_mlp_cache {
    size_t nlayers, max_batch, maxw;
    size_t B;           /* batch of the last forward; 0 before any */
    int train;          /* mode of the last forward */
    double *x0;         /* (max_batch, w_0) copy of the input */
    double *lin[NDYN_NN_MLP_MAX_LAYERS];   /* (max_batch, w_{l+1}) Linear outputs */
    double *bn[NDYN_NN_MLP_MAX_LAYERS];    /* BatchNorm outputs, or NULL */
    double *act[NDYN_NN_MLP_MAX_LAYERS];   /* activation outputs, or NULL */
    double *drop[NDYN_NN_MLP_MAX_LAYERS];  /* dropout outputs, or NULL */
    double *mask[NDYN_NN_MLP_MAX_LAYERS];
    double *mean[NDYN_NN_MLP_MAX_LAYERS], *rstd[NDYN_NN_MLP_MAX_LAYERS];
    double *g[2];       /* (max_batch, maxw) gradient scratch */
    double *block;      /* one allocation holding all of the above */
};

void ndyn_nn_mlp_opts_default(ndyn_nn_mlp_opts *o)
{
    o->bias = 1;
    o->batch_norm = 1;
    o->dropout = 0.0;
    o->act = NDYN_NN_ACT_RELU;
    o->plain_last = 1;
    o->bn_momentum = NDYN_NN_BN_MOMENTUM;
    o->bn_eps = NDYN_NN_BN_EPS;
}

static int is_hidden(const ndyn_nn_mlp *m, size_t l)
{
    return l + 1 < m->nlayers || !m->opts.plain_last;
}

static int mlp_add(ndyn_nn_store *s, const char *prefix, size_t nwidths, const size_t *widths,
                   const ndyn_nn_mlp_opts *opts, ndyn_nn_mlp *mlp)
{
    if (nwidths < 2 || nwidths > NDYN_NN_MLP_MAX_LAYERS + 1 || !widths)
        return ndyn_error(NDYN_EINVAL, "MLP needs 2..%d widths (input, hidden..., output); got "
                          "%zu", NDYN_NN_MLP_MAX_LAYERS + 1, nwidths);
    ndyn_nn_mlp_opts o;
    if (opts) o = *opts;
    else ndyn_nn_mlp_opts_default(&o);
    if (!(o.dropout >= 0 && o.dropout < 1))
        return ndyn_error(NDYN_EINVAL, "MLP dropout %g is outside [0, 1)", o.dropout);
    if (o.act < NDYN_NN_ACT_RELU || o.act > NDYN_NN_ACT_NONE)
        return ndyn_error(NDYN_EINVAL, "MLP activation %d is unknown", (int)o.act);
    if (!(o.bn_momentum >= 0 && o.bn_momentum <= 1) || !(o.bn_eps > 0))
        return ndyn_error(NDYN_EINVAL, "MLP BatchNorm momentum %g must be in [0, 1] and eps %g "
                          "positive", o.bn_momentum, o.bn_eps);
    for (size_t i = 0; i < nwidths; i++)
        if (widths[i] == 0 || widths[i] > 0x7fffffff)
            return ndyn_error(NDYN_EINVAL, "MLP width %zu (position %zu) must be in 1..2^31-1",
                              widths[i], i);
    memset(mlp, 0, sizeof *mlp);
    mlp->nlayers = nwidths - 1;
    memcpy(mlp->widths, widths, nwidths * sizeof(size_t));
    mlp->opts = o;
    char pre[NN_NAME_MAX + 1], name[NN_NAME_MAX + 1];
    int rc;
    for (size_t l = 0; l < mlp->nlayers; l++) {
        mlp->bn_weight[l] = mlp->bn_bias[l] = mlp->bn_mean[l] = mlp->bn_var[l] = -1;
        snprintf(name, sizeof name, "lins.%zu", l);
        if ((rc = nn_join_name(pre, sizeof pre, prefix, name))) return rc;
        if ((rc = ndyn_nn_linear_add(s, pre, widths[l], widths[l + 1], o.bias, &mlp->lin[l])))
            return rc;
    }
    if (o.batch_norm)
        for (size_t l = 0; l < mlp->nlayers; l++) {
            if (!is_hidden(mlp, l)) continue;
            size_t w = widths[l + 1];
            static const char *const nm[4] = {"weight", "bias", "running_mean", "running_var"};
            int *idx[4] = {&mlp->bn_weight[l], &mlp->bn_bias[l], &mlp->bn_mean[l],
                           &mlp->bn_var[l]};
            for (int k = 0; k < 4; k++) {
                char leaf[64];
                snprintf(leaf, sizeof leaf, "norms.%zu.%s", l, nm[k]);
                if ((rc = nn_join_name(name, sizeof name, prefix, leaf))) return rc;
                if ((rc = ndyn_nn_store_add(s, name, 1, &w, k >= 2 ? NDYN_NN_BUFFER : 0, idx[k])))
                    return rc;
            }
            double *rv = ndyn_nn_store_data(s, mlp->bn_var[l]), *bw =
                ndyn_nn_store_data(s, mlp->bn_weight[l]);
            for (size_t j = 0; j < w; j++) rv[j] = bw[j] = 1.0;
        }
    return NDYN_OK;
}

int ndyn_nn_mlp_add(ndyn_nn_store *s, const char *prefix, size_t nwidths, const size_t *widths,
                    const ndyn_nn_mlp_opts *opts, ndyn_nn_mlp *mlp)
{
    if (!s || !mlp) return ndyn_error(NDYN_EINVAL, "MLP: store and module are required");
    size_t n0 = s->n;
    ndyn_nn_mlp tmp;
    int rc = mlp_add(s, prefix, nwidths, widths, opts, &tmp);
    if (rc) nn_store_truncate(s, n0);
    else *mlp = tmp;
    return rc;
}

void ndyn_nn_mlp_init(const ndyn_nn_mlp *mlp, ndyn_nn_store *s, ndyn_rng *rng)
{
    for (size_t l = 0; l < mlp->nlayers; l++) {
        ndyn_nn_linear_init(&mlp->lin[l], s, rng);
        if (mlp->bn_weight[l] >= 0) {
            size_t w = mlp->widths[l + 1];
            double *bw = ndyn_nn_store_data(s, mlp->bn_weight[l]);
            double *bb = ndyn_nn_store_data(s, mlp->bn_bias[l]);
            double *rm = ndyn_nn_store_data(s, mlp->bn_mean[l]);
            double *rv = ndyn_nn_store_data(s, mlp->bn_var[l]);
            for (size_t j = 0; j < w; j++) {
                bw[j] = 1.0;
                bb[j] = 0.0;
                rm[j] = 0.0;
                rv[j] = 1.0;
            }
        }
    }
}

int ndyn_nn_mlp_cache_alloc(const ndyn_nn_mlp *mlp, size_t max_batch, ndyn_nn_mlp_cache **out)
{
    *out = NULL;
    if (max_batch == 0 || max_batch > 0x7fffffff)
        return ndyn_error(NDYN_EINVAL, "MLP cache: max_batch %zu must be in 1..2^31-1",
                          max_batch);
    ndyn_nn_mlp_cache *c = ndyn_calloc(1, sizeof *c);
    if (!c) return NDYN_ENOMEM;
    c->nlayers = mlp->nlayers;
    c->max_batch = max_batch;
    size_t maxw = 0, total = 0, n;
    for (size_t l = 0; l <= mlp->nlayers; l++)
        if (mlp->widths[l] > maxw) maxw = mlp->widths[l];
    c->maxw = maxw;
    /* count: x0, per layer lin/bn/act/drop/mask (B w) + mean/rstd (w), 2 scratch */
    size_t per = 0;
    for (size_t l = 0; l < mlp->nlayers; l++) per += 7 * mlp->widths[l + 1];
    if (ndyn_size_mul(per + mlp->widths[0] + 2 * maxw, max_batch, &n)) {
        free(c);
        return NDYN_ENOMEM;
    }
    c->block = ndyn_malloc_array(n, sizeof(double));
    if (!c->block) {
        free(c);
        return NDYN_ENOMEM;
    }
    double *p = c->block;
    c->x0 = p;
    p += max_batch * mlp->widths[0];
    for (size_t l = 0; l < mlp->nlayers; l++) {
        size_t w = mlp->widths[l + 1], bw = max_batch * w;
        c->lin[l] = p, p += bw;
        c->bn[l] = p, p += bw;
        c->act[l] = p, p += bw;
        c->drop[l] = p, p += bw;
        c->mask[l] = p, p += bw;
        c->mean[l] = p, p += w;
        c->rstd[l] = p, p += w;
    }
    c->g[0] = p, p += max_batch * maxw;
    c->g[1] = p, p += max_batch * maxw;
    (void)total;
    *out = c;
    return NDYN_OK;
}

void ndyn_nn_mlp_cache_free(ndyn_nn_mlp_cache *c)
{
    if (!c) return;
    free(c->block);
    free(c);
}

static int check(const ndyn_nn_mlp *mlp, const ndyn_nn_store *s, const ndyn_nn_mlp_cache *c,
                 size_t B)
{
    if (!mlp || !s || !c) return ndyn_error(NDYN_EINVAL, "MLP: mlp, store and cache are required");
    if (c->nlayers != mlp->nlayers)
        return ndyn_error(NDYN_EINVAL, "MLP: the cache was made for another MLP (%zu layers, "
                          "this one has %zu)", c->nlayers, mlp->nlayers);
    if (B == 0 || B > c->max_batch)
        return ndyn_error(NDYN_ESHAPE, "MLP: batch %zu is outside 1..%zu (the cache's "
                          "max_batch); allocate a larger cache", B, c->max_batch);
    for (size_t l = 0; l < mlp->nlayers; l++) {
        const ndyn_nn_param *w = ndyn_nn_store_param(s, mlp->lin[l].weight);
        if (!w || w->ndim != 2 || w->shape[0] != mlp->widths[l + 1] ||
            w->shape[1] != mlp->widths[l])
            return ndyn_error(NDYN_ESHAPE, "MLP: layer %zu's weight is not (%zu, %zu) in this "
                              "store; was the MLP added to another store?", l,
                              mlp->widths[l + 1], mlp->widths[l]);
    }
    return NDYN_OK;
}

static void act_forward(ndyn_nn_act a, double *out, const double *inp, size_t n)
{
    switch (a) {
    case NDYN_NN_ACT_RELU: ndyn_nn_relu_forward(out, inp, n); break;
    case NDYN_NN_ACT_TANH: ndyn_nn_tanh_forward(out, inp, n); break;
    case NDYN_NN_ACT_SIGMOID: ndyn_nn_sigmoid_forward(out, inp, n); break;
    default: memcpy(out, inp, n * sizeof(double)); break;
    }
}

static void act_backward(ndyn_nn_act a, double *dinp, const double *dout, const double *out,
                         size_t n)
{
    switch (a) {
    case NDYN_NN_ACT_RELU: ndyn_nn_relu_backward(dinp, dout, out, n); break;
    case NDYN_NN_ACT_TANH: ndyn_nn_tanh_backward(dinp, dout, out, n); break;
    case NDYN_NN_ACT_SIGMOID: ndyn_nn_sigmoid_backward(dinp, dout, out, n); break;
    default:
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
        break;
    }
}

int ndyn_nn_mlp_forward(const ndyn_nn_mlp *mlp, ndyn_nn_store *s, ndyn_nn_mlp_cache *c,
                        double *out, const double *inp, size_t B, int train, ndyn_rng *rng)
{
    int rc = check(mlp, s, c, B);
    if (rc) return rc;
    if (!out || !inp) return ndyn_error(NDYN_EINVAL, "MLP forward: out and inp are required");
    const ndyn_nn_mlp_opts *o = &mlp->opts;
    if (train && o->dropout > 0 && !rng)
        return ndyn_error(NDYN_EINVAL, "MLP forward in train mode with dropout %g needs a random "
                          "generator", o->dropout);
    if (train && o->batch_norm && B < 2)
        return ndyn_error(NDYN_EINVAL, "MLP with BatchNorm in train mode needs a batch of at "
                          "least 2 (got %zu); use eval mode for single samples", B);
    c->B = 0;
    memcpy(c->x0, inp, B * mlp->widths[0] * sizeof(double));
    const double *x = c->x0;
    for (size_t l = 0; l < mlp->nlayers; l++) {
        size_t C = mlp->widths[l], OC = mlp->widths[l + 1], n = B * OC;
        const ndyn_nn_linear *lin = &mlp->lin[l];
        ndyn_nn_linear_forward(c->lin[l], x, ndyn_nn_store_data(s, lin->weight),
                               lin->bias >= 0 ? ndyn_nn_store_data(s, lin->bias) : NULL, B, C,
                               OC);
        x = c->lin[l];
        if (!is_hidden(mlp, l)) continue;
        if (mlp->bn_weight[l] >= 0) {
            double *bw = ndyn_nn_store_data(s, mlp->bn_weight[l]);
            double *bb = ndyn_nn_store_data(s, mlp->bn_bias[l]);
            double *rm = ndyn_nn_store_data(s, mlp->bn_mean[l]);
            double *rv = ndyn_nn_store_data(s, mlp->bn_var[l]);
            if (train) {
                rc = ndyn_nn_batchnorm_forward_train(c->bn[l], c->mean[l], c->rstd[l], rm, rv, x,
                                                     bw, bb, B, OC, o->bn_momentum, o->bn_eps);
                if (rc) return rc;
            } else {
                ndyn_nn_batchnorm_forward_eval(c->bn[l], x, rm, rv, bw, bb, B, OC, o->bn_eps);
            }
            x = c->bn[l];
        }
        act_forward(o->act, c->act[l], x, n);
        x = c->act[l];
        if (train && o->dropout > 0) {
            rc = ndyn_nn_dropout_forward(c->drop[l], c->mask[l], x, n, o->dropout, rng);
            if (rc) return rc;
            x = c->drop[l];
        }
    }
    memcpy(out, x, B * mlp->widths[mlp->nlayers] * sizeof(double));
    c->B = B;
    c->train = train;
    return NDYN_OK;
}

int ndyn_nn_mlp_backward(const ndyn_nn_mlp *mlp, ndyn_nn_store *s, ndyn_nn_mlp_cache *c,
                         double *dinp, const double *dout, size_t B)
{
    int rc = check(mlp, s, c, B);
    if (rc) return rc;
    if (!dout) return ndyn_error(NDYN_EINVAL, "MLP backward: dout is required");
    if (c->B != B)
        return ndyn_error(NDYN_EINVAL, "MLP backward: batch %zu differs from the last forward "
                          "on this cache (%zu; 0 means none or it failed)", B, c->B);
    const ndyn_nn_mlp_opts *o = &mlp->opts;
    const double *g = dout;
    int k = 0;   /* next scratch buffer */
#define NEXT(nelem) (memset(c->g[k], 0, (nelem) * sizeof(double)), c->g[k])
    for (size_t l = mlp->nlayers; l-- > 0;) {
        size_t C = mlp->widths[l], OC = mlp->widths[l + 1], n = B * OC;
        double *ng;
        if (is_hidden(mlp, l)) {
            if (c->train && o->dropout > 0) {
                ng = NEXT(n);
                ndyn_nn_dropout_backward(ng, g, c->mask[l], n);
                g = ng, k ^= 1;
            }
            ng = NEXT(n);
            act_backward(o->act, ng, g, c->act[l], n);
            g = ng, k ^= 1;
            if (mlp->bn_weight[l] >= 0) {
                const double *bw = ndyn_nn_store_data(s, mlp->bn_weight[l]);
                double *dbw = ndyn_nn_store_grad(s, mlp->bn_weight[l]);
                double *dbb = ndyn_nn_store_grad(s, mlp->bn_bias[l]);
                ng = NEXT(n);
                if (c->train)
                    ndyn_nn_batchnorm_backward_train(ng, dbw, dbb, g, c->lin[l], c->mean[l],
                                                     c->rstd[l], bw, B, OC);
                else
                    ndyn_nn_batchnorm_backward_eval(ng, dbw, dbb, g, c->lin[l],
                                                    ndyn_nn_store_data(s, mlp->bn_mean[l]),
                                                    ndyn_nn_store_data(s, mlp->bn_var[l]), bw, B,
                                                    OC, o->bn_eps);
                g = ng, k ^= 1;
            }
        }
        const ndyn_nn_linear *lin = &mlp->lin[l];
        const double *x = l == 0 ? c->x0 : (c->train && o->dropout > 0 ? c->drop[l - 1]
                                                                         : c->act[l - 1]);
        if (l > 0) ng = NEXT(B * C);
        else ng = dinp;
        ndyn_nn_linear_backward(ng, ndyn_nn_store_grad(s, lin->weight),
                                lin->bias >= 0 ? ndyn_nn_store_grad(s, lin->bias) : NULL, g, x,
                                ndyn_nn_store_data(s, lin->weight), B, C, OC);
        g = ng, k ^= 1;
    }
#undef NEXT
    return NDYN_OK;
}
