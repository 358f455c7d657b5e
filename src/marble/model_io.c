/* MARBLE model files: an nn model file (kind "marble", see docs/nn.md) with
 * the hyper-parameters, the parameter store (weights and BatchNorm
 * statistics), the SGD-momentum and ReduceLROnPlateau state, and the best
 * weights as extra arrays. nn checks the format, version and checksum. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "marble/marble_internal.h"

#define MB_KIND "marble"

/* The int and double fields of ndyn_marble_params saved as hyper-parameters
 * (hidden widths and the seed apart). */
#define PI(f) {#f, offsetof(ndyn_marble_params, f)}
static const struct { const char *key; size_t off; } INTS[] = {
    PI(epochs), PI(batch_size), PI(batch_norm), PI(n_hidden), PI(bias), PI(order),
    PI(inner_product), PI(diffusion), PI(include_positions), PI(include_self), PI(out_channels),
    PI(vec_norm), PI(emb_norm), PI(compat_sampling), PI(exclude_neighbour_negatives),
    PI(lr_patience)}, NUMS[] = {
    PI(lr), PI(momentum), PI(dropout), PI(tau0), PI(val_frac), PI(test_frac), PI(lr_factor),
    PI(lr_threshold)};
#undef PI
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int hp_put(const ndyn_marble_model *m, ndyn_nn_hparams *h)
{
    const ndyn_marble_params *p = &m->par;
    const char *base = (const char *)p;
    char key[32];
    int rc = NDYN_OK;
    for (size_t i = 0; i < NELEM(INTS) && !rc; i++)
        rc = ndyn_nn_hparams_set_int(h, INTS[i].key, *(const int *)(base + INTS[i].off));
    for (size_t i = 0; i < NELEM(NUMS) && !rc; i++)
        rc = ndyn_nn_hparams_set_num(h, NUMS[i].key, *(const double *)(base + NUMS[i].off));
    for (int i = 0; i < p->n_hidden && !rc; i++) {
        snprintf(key, sizeof key, "hidden.%d", i);
        rc = ndyn_nn_hparams_set_int(h, key, p->hidden[i]);
    }
    /* the seed as int64 (two's complement: all 64 bits round trip) */
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "seed", (int64_t)p->seed);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "s", (int64_t)m->s);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "d", (int64_t)m->d);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "dim", (int64_t)m->dim);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "local_gauges", p->local_gauges);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "val_draws", p->val_draws);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "epoch", m->epoch);
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "best_epoch", m->best_epoch);
    return rc;
}

static int hp_int(const ndyn_nn_hparams *h, const char *k, int *v)
{
    int64_t x;
    int rc = ndyn_nn_hparams_get_int(h, k, &x);
    if (rc) return rc;
    if (x < INT32_MIN || x > INT32_MAX)
        return ndyn_error(NDYN_EFORMAT, "marble model: %s = %lld is out of range", k,
                          (long long)x);
    *v = (int)x;
    return NDYN_OK;
}

/* dims: s, d, dim; ep: epochs trained, best epoch */
static int hp_get(const ndyn_nn_hparams *h, ndyn_marble_params *p, int dims[3], int ep[2])
{
    char *base = (char *)p;
    char key[32];
    int64_t seed = 0;
    int rc = NDYN_OK;
    for (size_t i = 0; i < NELEM(INTS) && !rc; i++)
        rc = hp_int(h, INTS[i].key, (int *)(base + INTS[i].off));
    for (size_t i = 0; i < NELEM(NUMS) && !rc; i++)
        rc = ndyn_nn_hparams_get_num(h, NUMS[i].key, (double *)(base + NUMS[i].off));
    if (rc) return rc;
    if (p->n_hidden < 0 || p->n_hidden > NDYN_MARBLE_MAX_HIDDEN)
        return ndyn_error(NDYN_EFORMAT, "marble model: %d hidden layers", p->n_hidden);
    for (int i = 0; i < p->n_hidden && !rc; i++) {
        snprintf(key, sizeof key, "hidden.%d", i);
        rc = hp_int(h, key, &p->hidden[i]);
    }
    if (!rc) rc = ndyn_nn_hparams_get_int(h, "seed", &seed);
    p->seed = (uint64_t)seed;
    /* local_gauges: absent from files written before local gauges existed (flat) */
    int64_t lg = 0;
    if (!rc && ndyn_nn_hparams_get_int(h, "local_gauges", &lg) == NDYN_EFORMAT) rc = NDYN_EFORMAT;
    if (!rc && lg != 0 && lg != 1)
        rc = ndyn_error(NDYN_EFORMAT, "marble model: local_gauges = %lld", (long long)lg);
    p->local_gauges = (int)lg;
    /* val_draws: absent from files written before it existed (0: a new draw per epoch) */
    int64_t vd = 0;
    if (!rc && ndyn_nn_hparams_get_int(h, "val_draws", &vd) == NDYN_EFORMAT) rc = NDYN_EFORMAT;
    if (!rc && (vd < 0 || vd > 1000))
        rc = ndyn_error(NDYN_EFORMAT, "marble model: val_draws = %lld", (long long)vd);
    p->val_draws = (int)vd;
    if (!rc) rc = hp_int(h, "s", &dims[0]);
    if (!rc) rc = hp_int(h, "d", &dims[1]);
    if (!rc) rc = hp_int(h, "dim", &dims[2]);
    if (!rc) rc = hp_int(h, "epoch", &ep[0]);
    if (!rc) rc = hp_int(h, "best_epoch", &ep[1]);
    return rc;
}

int ndyn_marble_save(const ndyn_marble_model *m, const char *path)
{
    ndyn_nn_hparams *h = ndyn_nn_hparams_new();
    ndyn_dataset *extra = ndyn_dataset_new();
    if (!h || !extra) { ndyn_nn_hparams_free(h); ndyn_dataset_free(extra); return NDYN_ENOMEM; }
    int rc = hp_put(m, h);
    ndyn_array *bp = ndyn_array_alloc1(NDYN_F64, m->n_params);
    ndyn_array *bb = ndyn_array_alloc1(NDYN_F64, m->n_buffers);
    ndyn_array *bv = ndyn_array_alloc1(NDYN_F64, 1);
    if (bp) memcpy(bp->data, m->best_params, m->n_params * sizeof(double));
    if (bb && m->n_buffers) memcpy(bb->data, m->best_buffers, m->n_buffers * sizeof(double));
    if (bv) ((double *)bv->data)[0] = m->best_val;
    if (!bp || !bb || !bv) {
        ndyn_array_free(bp); ndyn_array_free(bb); ndyn_array_free(bv);
        if (!rc) rc = NDYN_ENOMEM;
    } else {
        int r1 = ndyn_dataset_add(extra, "best_params", bp, NULL);
        int r2 = ndyn_dataset_add(extra, "best_bn_buffers", bb, NULL);
        int r3 = ndyn_dataset_add(extra, "best_val", bv, NULL);
        if (!rc) rc = r1 ? r1 : r2 ? r2 : r3;
    }
    if (!rc) rc = mb_geometry_put(m, extra);
    if (!rc) rc = ndyn_nn_save(path, MB_KIND, m->store, h, m->opt, &m->sched, extra);
    ndyn_nn_hparams_free(h);
    ndyn_dataset_free(extra);
    return rc;
}

static int get_f64(const ndyn_dataset *ds, const char *name, size_t n, const double **out)
{
    const ndyn_array *a;
    int rc = ndyn_dataset_get(ds, name, &a);
    if (rc) return rc;
    if (a->dtype != NDYN_F64 || a->ndim != 1 || a->size != n)
        return ndyn_error(NDYN_EFORMAT, "marble model: array %s has the wrong type or size "
                          "(%zu, want %zu float64)", name, a->size, n);
    *out = a->data;
    return NDYN_OK;
}

int ndyn_marble_load(const char *path, ndyn_marble_model **out)
{
    *out = NULL;
    ndyn_nn_file *f = NULL;
    ndyn_marble_model *m = NULL;
    int rc = ndyn_nn_file_read(path, MB_KIND, &f);
    if (rc) goto fail;
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    int dims[3] = {0, 0, 0}, ep[2] = {0, -1};
    if ((rc = hp_get(ndyn_nn_file_hparams(f), &p, dims, ep))) goto fail;
    if (dims[0] < 1 || dims[1] < 1 || dims[2] < 1 || ep[0] < 0) {
        rc = ndyn_error(NDYN_EFORMAT, "%s: bad model dimensions", path);
        goto fail;
    }
    if ((rc = mb_model_alloc(&p, (size_t)dims[0], (size_t)dims[1], (size_t)dims[2], &m)) ||
        (rc = ndyn_nn_file_load_store(f, m->store)))
        goto fail;
    if (ndyn_nn_file_has_optim(f) && (rc = ndyn_nn_file_load_optim(f, m->store, m->opt)))
        goto fail;
    if (ndyn_nn_file_has_sched(f) && (rc = ndyn_nn_file_load_sched(f, &m->sched))) goto fail;
    const ndyn_dataset *ex = ndyn_nn_file_extra(f);
    const double *bpa = NULL, *bba = NULL, *bva = NULL;
    if ((rc = get_f64(ex, "best_params", m->n_params, &bpa)) ||
        (rc = get_f64(ex, "best_bn_buffers", m->n_buffers, &bba)) ||
        (rc = get_f64(ex, "best_val", 1, &bva)))
        goto fail;
    memcpy(m->best_params, bpa, m->n_params * sizeof(double));
    if (m->n_buffers) memcpy(m->best_buffers, bba, m->n_buffers * sizeof(double));
    m->best_val = bva[0];
    if ((rc = mb_geometry_get(m, ex))) goto fail;
    m->epoch = ep[0];
    m->best_epoch = ep[1];
    if ((rc = ndyn_check_finite(m->params, m->n_params, "marble model weights"))) goto fail;
    ndyn_nn_file_free(f);
    *out = m;
    return NDYN_OK;
fail:
    ndyn_marble_model_free(m);
    ndyn_nn_file_free(f);
    return ndyn_error_context(rc, "loading %s: ", path);
}
