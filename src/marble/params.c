/* MARBLE hyper-parameters: defaults (spec §15), validation, feature and
 * parameter counts (§8, §10, §11). */
#include <math.h>
#include <string.h>

#include "marble/marble_internal.h"

void ndyn_marble_params_default(ndyn_marble_params *p)
{
    memset(p, 0, sizeof *p);
    p->epochs = 100;
    p->batch_size = 64;
    p->lr = 0.01;
    p->momentum = 0.9;
    p->dropout = 0.0;
    p->batch_norm = 1;
    p->n_hidden = 1;
    p->hidden[0] = 32;
    p->bias = 1;
    p->order = 2;
    p->inner_product = 0;
    p->diffusion = 1;
    p->include_positions = 0;
    p->include_self = 1;
    p->out_channels = 3;
    p->vec_norm = 0;
    p->emb_norm = 0;
    p->tau0 = 0.0;
    p->seed = 0;
    p->compat_sampling = 0;
    p->exclude_neighbour_negatives = 0;
    p->val_frac = 0.1;
    p->test_frac = 0.1;
    p->lr_factor = 0.1;
    p->lr_patience = 10;
    p->lr_threshold = 1e-4;
    p->local_gauges = 0;
    p->val_draws = 0;
}

int mb_check_gauges(int model_lg, const ndyn_marble_data *data)
{
    if (!model_lg == !data->local_gauges) return NDYN_OK;
    if (model_lg)
        return ndyn_error(NDYN_EINVAL, "marble: the model works in local gauges but the dataset "
                          "was prepared without them; prepare it with --local-gauges (or use a "
                          "flat-mode model)");
    return ndyn_error(NDYN_EINVAL, "marble: the dataset was prepared with local gauges but the "
                      "model is a flat-mode one; prepare the dataset without --local-gauges (or "
                      "fit a model on local-gauge data)");
}

/* d^p with overflow guard (returns 0 on overflow). */
static size_t ipow(size_t d, int p)
{
    size_t r = 1;
    for (int i = 0; i < p; i++) {
        if (d && r > ((size_t)1 << 40) / d) return 0;
        r *= d;
    }
    return r;
}

/* Channels of the inner-product layer: sum_{p=p0..o} d^p. For s = 1 the
 * reference takes magnitudes instead (defect B8); ndyn sizes the MLP from the
 * same count, each channel giving |x|. */
static size_t channel_count(const ndyn_marble_params *p, size_t d)
{
    size_t c = 0;
    for (int q = p->include_self ? 0 : 1; q <= p->order; q++) c += ipow(d, q);
    return c;
}

size_t ndyn_marble_feature_count(const ndyn_marble_params *p, size_t s, size_t d, size_t dim)
{
    size_t f = p->inner_product ? channel_count(p, d) : s * channel_count(p, d);
    if (p->include_positions) f += dim;
    return f;
}

size_t ndyn_marble_param_count(const ndyn_marble_params *p, size_t s, size_t d, size_t dim)
{
    size_t np = 1; /* diffusion time, always counted */
    if (p->inner_product && s > 1) np += channel_count(p, d) * s * s;
    size_t in = ndyn_marble_feature_count(p, s, d, dim);
    for (int l = 0; l <= p->n_hidden; l++) {
        size_t out = l < p->n_hidden ? (size_t)p->hidden[l] : (size_t)p->out_channels;
        np += in * out + (p->bias ? out : 0);
        if (l < p->n_hidden && p->batch_norm) np += 2 * out;
        in = out;
    }
    return np;
}

int ndyn_marble_check_params(const ndyn_marble_params *p, const ndyn_marble_data *data)
{
    if (!p) return ndyn_error(NDYN_EINVAL, "marble: parameters are NULL");
    if (p->epochs < 0 || p->epochs > 10000000)
        return ndyn_error(NDYN_EINVAL, "marble: epochs must be in 0..1e7 (now %d)", p->epochs);
    if (p->batch_size < 1)
        return ndyn_error(NDYN_EINVAL, "marble: batch_size must be >= 1 (now %d)", p->batch_size);
    if (!(p->lr > 0) || !isfinite(p->lr))
        return ndyn_error(NDYN_EINVAL, "marble: lr must be positive and finite (now %g)", p->lr);
    if (!(p->momentum >= 0 && p->momentum < 1))
        return ndyn_error(NDYN_EINVAL, "marble: momentum must be in [0, 1) (now %g)", p->momentum);
    if (!(p->dropout >= 0 && p->dropout < 1))
        return ndyn_error(NDYN_EINVAL, "marble: dropout must be in [0, 1) (now %g)", p->dropout);
    if (p->n_hidden < 0 || p->n_hidden > NDYN_MARBLE_MAX_HIDDEN)
        return ndyn_error(NDYN_EINVAL, "marble: between 0 and %d hidden layers (now %d)",
                          NDYN_MARBLE_MAX_HIDDEN, p->n_hidden);
    for (int i = 0; i < p->n_hidden; i++)
        if (p->hidden[i] < 1 || p->hidden[i] > 1000000)
            return ndyn_error(NDYN_EINVAL, "marble: hidden width %d must be in 1..1e6 (now %d)",
                              i, p->hidden[i]);
    if (p->order < 1 || p->order > 6)
        return ndyn_error(NDYN_EINVAL, "marble: order must be in 1..6 (now %d)", p->order);
    if (p->out_channels < 1 || p->out_channels > 100000)
        return ndyn_error(NDYN_EINVAL, "marble: out_channels must be in 1..1e5 (now %d)",
                          p->out_channels);
    if (!(p->tau0 >= 0) || !isfinite(p->tau0))
        return ndyn_error(NDYN_EINVAL, "marble: tau0 must be >= 0 (now %g)", p->tau0);
    if (!(p->val_frac > 0 && p->test_frac >= 0 && p->val_frac + p->test_frac < 1))
        return ndyn_error(NDYN_EINVAL,
                          "marble: val_frac (%g) > 0, test_frac (%g) >= 0 and their sum < 1",
                          p->val_frac, p->test_frac);
    if (p->val_draws < 0 || p->val_draws > 1000)
        return ndyn_error(NDYN_EINVAL, "marble: val_draws must be in 0..1000 (0: a new draw every "
                          "epoch; now %d)", p->val_draws);
    if (p->local_gauges != 0 && p->local_gauges != 1)
        return ndyn_error(NDYN_EINVAL, "marble: local_gauges is 0 or 1 (now %d)", p->local_gauges);
    if (!(p->lr_factor > 0 && p->lr_factor < 1) || p->lr_patience < 0 || !(p->lr_threshold >= 0))
        return ndyn_error(NDYN_EINVAL, "marble: plateau factor in (0,1), patience >= 0, "
                          "threshold >= 0 (now %g, %d, %g)", p->lr_factor, p->lr_patience,
                          p->lr_threshold);
    if (!data) return NDYN_OK;
    int rc = ndyn_marble_check_data(data);
    if (rc) return rc;
    if ((rc = mb_check_gauges(p->local_gauges, data))) return rc;
    if (p->vec_norm && data->s < 2)
        return ndyn_error(NDYN_EINVAL, "marble: vec_norm needs a vector signal (s = %zu); "
                          "turn vec_norm off", data->s);
    if (p->diffusion && data->n_eig == 0 && !data->heat_fn)
        return ndyn_error(NDYN_EINVAL, "marble: diffusion is on but the dataset has no "
                          "Laplacian eigenpairs; prepare them or turn diffusion off");
    if (p->inner_product && data->s != data->d && data->s != 1)
        return ndyn_error(NDYN_EINVAL, "marble: inner-product features need s = d or a scalar "
                          "signal (now s = %zu, d = %zu)", data->s, data->d);
    size_t fin = ndyn_marble_feature_count(p, data->s, data->d, data->dim);
    if (fin == 0 || fin > 10000000)
        return ndyn_error(NDYN_EINVAL, "marble: %zu input features for s = %zu, d = %zu, "
                          "order %d; lower the order", fin, data->s, data->d, p->order);
    size_t ntr = data->n - (size_t)(p->val_frac * data->n) - (size_t)(p->test_frac * data->n);
    if ((size_t)(p->val_frac * data->n) < 1 || ntr < 2)
        return ndyn_error(NDYN_EINVAL, "marble: %zu points are too few for the train/val split",
                          data->n);
    return NDYN_OK;
}

int ndyn_marble_check_data(const ndyn_marble_data *g)
{
    if (!g) return ndyn_error(NDYN_EINVAL, "marble: dataset is NULL");
    if (g->n < 2 || g->s < 1 || g->d < 1 || g->dim < 1)
        return ndyn_error(NDYN_EINVAL, "marble: dataset needs n >= 2, s, d, dim >= 1 "
                          "(now n %zu, s %zu, d %zu, dim %zu)", g->n, g->s, g->d, g->dim);
    if (g->n > INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "marble: at most %d points (now %zu)", INT32_MAX, g->n);
    if (!g->pos || !g->signal || !g->k_ptr || !g->k_idx || !g->k_val)
        return ndyn_error(NDYN_EINVAL, "marble: dataset lacks pos, signal or kernels");
    if (g->k_ptr[0] != 0)
        return ndyn_error(NDYN_EFORMAT, "marble: kernel CSR row pointer must start at 0");
    for (size_t i = 0; i < g->n; i++) {
        if (g->k_ptr[i + 1] < g->k_ptr[i])
            return ndyn_error(NDYN_EFORMAT, "marble: kernel CSR row pointers decrease at row %zu", i);
        for (int64_t q = g->k_ptr[i]; q < g->k_ptr[i + 1]; q++)
            if (g->k_idx[q] < 0 || (size_t)g->k_idx[q] >= g->n)
                return ndyn_error(NDYN_EFORMAT, "marble: kernel column %d out of range in row %zu",
                                  (int)g->k_idx[q], i);
    }
    size_t nnz = (size_t)g->k_ptr[g->n];
    int rc;
    if ((rc = ndyn_check_finite(g->pos, g->n * g->dim, "marble pos"))) return rc;
    if ((rc = ndyn_check_finite(g->signal, g->n * g->s, "marble signal"))) return rc;
    if ((rc = ndyn_check_finite(g->k_val, g->d * nnz, "marble kernels"))) return rc;
    if (g->local_gauges) {
        if (!g->conn || g->s != g->d)
            return ndyn_error(NDYN_EINVAL, "marble: local gauges need the connections and a "
                              "signal in frame coordinates (s = d; now s = %zu, d = %zu)", g->s,
                              g->d);
        if ((rc = ndyn_check_finite(g->conn, nnz * g->d * g->d, "marble connections"))) return rc;
    }
    if (g->n_eig) {
        if (!g->evals || !g->evecs || !g->dhalf)
            return ndyn_error(NDYN_EINVAL, "marble: n_eig > 0 but eigenpairs are missing");
        if (g->n_eig > g->n)
            return ndyn_error(NDYN_EINVAL, "marble: %zu eigenpairs for %zu points", g->n_eig, g->n);
        if ((rc = ndyn_check_finite(g->evals, g->n_eig, "marble evals"))) return rc;
        if ((rc = ndyn_check_finite(g->evecs, g->n * g->n_eig, "marble evecs"))) return rc;
        for (size_t i = 0; i < g->n; i++)
            if (!(g->dhalf[i] > 0) || !isfinite(g->dhalf[i]))
                return ndyn_error(NDYN_EINVAL, "marble: degree of point %zu is not positive "
                                  "(isolated point?)", i);
    }
    if (g->condition)
        for (size_t i = 0; i < g->n; i++)
            if (g->condition[i] < 0)
                return ndyn_error(NDYN_EINVAL, "marble: condition of point %zu is negative", i);
    return NDYN_OK;
}
