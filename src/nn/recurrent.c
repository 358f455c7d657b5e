/* The Elman RNN and GRU modules: tensors in a store with PyTorch names,
 * PyTorch's init, and sequence forward/backward with shape checks. */
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

struct ndyn_nn_rnn_cache {
    size_t T, B, H;
    int gru;
    double *cache;   /* GRU (T, B, 4H) */
    double *work;    /* RNN ((T+1) B H), GRU (7 B H) */
};

static int add_tensors(ndyn_nn_store *s, const char *prefix, size_t D, size_t H, int bias,
                       int recurrent, int G, ndyn_nn_rnn *rnn)
{
    if (H == 0 || H > 0x7fffffff / 4 || D > 0x7fffffff)
        return ndyn_error(NDYN_EINVAL, "%s %s: hidden size %zu must be in 1..2^29 and input "
                          "size %zu below 2^31", G == 3 ? "GRU" : "RNN", prefix ? prefix : "", H,
                          D);
    memset(rnn, 0, sizeof *rnn);
    rnn->D = D;
    rnn->H = H;
    rnn->gru = G == 3;
    rnn->weight_ih = rnn->weight_hh = rnn->bias_ih = rnn->bias_hh = -1;
    char name[NN_NAME_MAX + 1];
    int rc;
    size_t GH = (size_t)G * H;
    if (D) {
        size_t sh[2] = {GH, D};
        if ((rc = nn_join_name(name, sizeof name, prefix, "weight_ih"))) return rc;
        if ((rc = ndyn_nn_store_add(s, name, 2, sh, 0, &rnn->weight_ih))) return rc;
    }
    if (recurrent) {
        size_t sh[2] = {GH, H};
        if ((rc = nn_join_name(name, sizeof name, prefix, "weight_hh"))) return rc;
        if ((rc = ndyn_nn_store_add(s, name, 2, sh, 0, &rnn->weight_hh))) return rc;
    }
    if (bias) {
        if (D || !recurrent) {
            if ((rc = nn_join_name(name, sizeof name, prefix, "bias_ih"))) return rc;
            if ((rc = ndyn_nn_store_add(s, name, 1, &GH, 0, &rnn->bias_ih))) return rc;
        }
        if (recurrent) {
            if ((rc = nn_join_name(name, sizeof name, prefix, "bias_hh"))) return rc;
            if ((rc = ndyn_nn_store_add(s, name, 1, &GH, 0, &rnn->bias_hh))) return rc;
        }
    }
    return NDYN_OK;
}

static int add_common(ndyn_nn_store *s, const char *prefix, size_t D, size_t H, int bias,
                      int recurrent, int G, ndyn_nn_rnn *rnn)
{
    if (!s || !rnn) return ndyn_error(NDYN_EINVAL, "RNN: store and module are required");
    size_t n0 = s->n;
    ndyn_nn_rnn tmp;
    int rc = add_tensors(s, prefix, D, H, bias, recurrent, G, &tmp);
    if (rc) nn_store_truncate(s, n0);
    else *rnn = tmp;
    return rc;
}

int ndyn_nn_rnn_add(ndyn_nn_store *s, const char *prefix, size_t D, size_t H, int bias,
                    int recurrent, ndyn_nn_rnn *rnn)
{
    if (D == 0 && !recurrent)
        return ndyn_error(NDYN_EINVAL, "RNN %s: without input (D = 0) it must be recurrent",
                          prefix ? prefix : "");
    return add_common(s, prefix, D, H, bias, recurrent, 1, rnn);
}

int ndyn_nn_gru_add(ndyn_nn_store *s, const char *prefix, size_t D, size_t H, int bias,
                    ndyn_nn_rnn *rnn)
{
    return add_common(s, prefix, D, H, bias, 1, 3, rnn);
}

void ndyn_nn_rnn_init(const ndyn_nn_rnn *rnn, ndyn_nn_store *s, ndyn_rng *rng)
{
    double bound = 1.0 / sqrt((double)rnn->H);
    int idx[4] = {rnn->weight_ih, rnn->weight_hh, rnn->bias_ih, rnn->bias_hh};
    for (int k = 0; k < 4; k++)
        if (idx[k] >= 0)
            ndyn_nn_init_uniform(ndyn_nn_store_data(s, idx[k]),
                                 ndyn_nn_store_param(s, idx[k])->size, bound, rng);
}

int ndyn_nn_rnn_cache_alloc(const ndyn_nn_rnn *rnn, size_t T, size_t B, ndyn_nn_rnn_cache **out)
{
    *out = NULL;
    size_t BH, n;
    if (T == 0 || B == 0) return ndyn_error(NDYN_EINVAL, "RNN cache: T %zu and B %zu must be "
                                            "positive", T, B);
    if (ndyn_size_mul(B, rnn->H, &BH) || ndyn_size_mul(T, B, &n) || n > 0x7fffffff)
        return ndyn_error(NDYN_ENOMEM, "RNN cache: T %zu x B %zu is too large", T, B);
    ndyn_nn_rnn_cache *c = ndyn_calloc(1, sizeof *c);
    if (!c) return NDYN_ENOMEM;
    c->T = T, c->B = B, c->H = rnn->H, c->gru = rnn->gru;
    if (rnn->gru) {
        if (!ndyn_size_mul(T, 4 * BH, &n)) c->cache = ndyn_malloc_array(n, sizeof(double));
        c->work = ndyn_malloc_array(7, BH * sizeof(double));
    } else {
        if (!ndyn_size_mul(T + 1, BH, &n)) c->work = ndyn_malloc_array(n, sizeof(double));
    }
    if (!c->work || (rnn->gru && !c->cache)) {
        ndyn_nn_rnn_cache_free(c);
        return NDYN_ENOMEM;
    }
    *out = c;
    return NDYN_OK;
}

void ndyn_nn_rnn_cache_free(ndyn_nn_rnn_cache *c)
{
    if (!c) return;
    free(c->cache);
    free(c->work);
    free(c);
}

static int check(const ndyn_nn_rnn *rnn, const ndyn_nn_store *s, const ndyn_nn_rnn_cache *c,
                 const double *x, size_t T, size_t B)
{
    const char *what = rnn->gru ? "GRU" : "RNN";
    if (!c || c->H != rnn->H || c->gru != rnn->gru)
        return ndyn_error(NDYN_EINVAL, "%s: the cache was made for another module", what);
    if (T == 0 || B == 0 || T > c->T || B > c->B)
        return ndyn_error(NDYN_ESHAPE, "%s: T %zu and B %zu must be in 1..%zu and 1..%zu (the "
                          "cache's sizes); allocate a larger cache", what, T, B, c->T, c->B);
    if (rnn->D && !x)
        return ndyn_error(NDYN_EINVAL, "%s: input x (T, B, %zu) is required", what, rnn->D);
    size_t G = rnn->gru ? 3 : 1;
    int idx[4] = {rnn->weight_ih, rnn->weight_hh, rnn->bias_ih, rnn->bias_hh};
    size_t want[4] = {G * rnn->H * rnn->D, G * rnn->H * rnn->H, G * rnn->H, G * rnn->H};
    for (int k = 0; k < 4; k++) {
        if (idx[k] < 0) continue;
        const ndyn_nn_param *p = ndyn_nn_store_param(s, idx[k]);
        if (!p || p->size != want[k])
            return ndyn_error(NDYN_ESHAPE, "%s: a tensor is missing from this store or has the "
                              "wrong size; was the module added to another store?", what);
    }
    return NDYN_OK;
}

#define P(s, i) ((i) >= 0 ? ndyn_nn_store_data(s, i) : NULL)
#define G(s, i) ((i) >= 0 ? ndyn_nn_store_grad(s, i) : NULL)

int ndyn_nn_rnn_apply(const ndyn_nn_rnn *rnn, ndyn_nn_store *s, ndyn_nn_rnn_cache *c, double *hs,
                      const double *x, const double *h0, size_t T, size_t B)
{
    int rc = check(rnn, s, c, x, T, B);
    if (rc) return rc;
    if (!hs) return ndyn_error(NDYN_EINVAL, "RNN: output hs is required");
    if (rnn->gru)
        ndyn_nn_gru_forward(hs, c->cache, x, h0, P(s, rnn->weight_ih), P(s, rnn->weight_hh),
                            P(s, rnn->bias_ih), P(s, rnn->bias_hh), T, B, rnn->D, rnn->H);
    else
        ndyn_nn_rnn_forward(hs, x, h0, P(s, rnn->weight_ih), P(s, rnn->weight_hh),
                            P(s, rnn->bias_ih), P(s, rnn->bias_hh), T, B, rnn->D, rnn->H);
    return NDYN_OK;
}

int ndyn_nn_rnn_apply_backward(const ndyn_nn_rnn *rnn, ndyn_nn_store *s, ndyn_nn_rnn_cache *c,
                               double *dx, double *dh0, const double *dhs, const double *hs,
                               const double *x, const double *h0, size_t T, size_t B)
{
    int rc = check(rnn, s, c, x, T, B);
    if (rc) return rc;
    if (!dhs || !hs) return ndyn_error(NDYN_EINVAL, "RNN backward: dhs and hs are required");
    if (rnn->gru)
        ndyn_nn_gru_backward(dx, dh0, G(s, rnn->weight_ih), G(s, rnn->weight_hh),
                             G(s, rnn->bias_ih), G(s, rnn->bias_hh), dhs, hs, c->cache, x, h0,
                             P(s, rnn->weight_ih), P(s, rnn->weight_hh), T, B, rnn->D, rnn->H,
                             c->work);
    else
        ndyn_nn_rnn_backward(dx, dh0, G(s, rnn->weight_ih), G(s, rnn->weight_hh),
                             G(s, rnn->bias_ih), G(s, rnn->bias_hh), dhs, hs, x, h0,
                             P(s, rnn->weight_ih), P(s, rnn->weight_hh), T, B, rnn->D, rnn->H,
                             c->work);
    return NDYN_OK;
}
