/* Test helpers: a MARBLE dataset from a parity fixture written by
 * python/marble_torch.py (dense kernels and adjacency -> one CSR pattern);
 * the toy fields prepared by geom. */
#ifndef NDYN_TEST_MARBLE_FIXTURE_H
#define NDYN_TEST_MARBLE_FIXTURE_H

#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/sim.h"

typedef struct tfix {
    ndyn_dataset *ds;
    ndyn_marble_data g;
    int64_t *ptr;
    int32_t *idx;
    double *val;
    double *pos, *sig, *evals, *evecs, *dhalf;
    uint8_t *mask;
} tfix;

static inline const ndyn_array *tf_get(const tfix *f, const char *name)
{
    const ndyn_array *a = NULL;
    if (ndyn_dataset_get(f->ds, name, &a)) return NULL;
    return a;
}

static inline double *tf_f64(const tfix *f, const char *name)
{
    const ndyn_array *a = tf_get(f, name);
    return a && a->dtype == NDYN_F64 ? (double *)a->data : NULL;
}

static inline int tf_load(tfix *f, const char *name)
{
    memset(f, 0, sizeof *f);
    char path[512];
    snprintf(path, sizeof path, "%s/marble/parity_%s.npz", NDYN_TEST_FIXTURES, name);
    if (ndyn_npz_read(path, &f->ds)) return 1;
    const ndyn_array *kern = tf_get(f, "kern"), *adj = tf_get(f, "adj"), *pos = tf_get(f, "pos"),
                     *sig = tf_get(f, "signal");
    if (!kern || !adj || !pos || !sig) return 1;
    size_t d = kern->shape[0], n = kern->shape[1];
    const double *K = kern->data;
    const uint8_t *A = adj->data;
    f->ptr = calloc(n + 1, sizeof(int64_t));
    f->idx = malloc(n * n * sizeof(int32_t));
    f->val = malloc(d * n * n * sizeof(double));
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            if (i == j || A[i * n + j]) f->idx[nnz++] = (int32_t)j;
        f->ptr[i + 1] = (int64_t)nnz;
    }
    for (size_t c = 0; c < d; c++)
        for (size_t q = 0; q < nnz; q++) {
            size_t i = 0;
            while ((size_t)f->ptr[i + 1] <= q) i++;
            f->val[c * nnz + q] = K[c * n * n + i * n + (size_t)f->idx[q]];
        }
    f->g.n = n;
    f->g.dim = pos->shape[1];
    f->g.s = sig->shape[1];
    f->g.d = d;
    f->g.pos = pos->data;
    f->g.signal = sig->data;
    f->g.k_ptr = f->ptr;
    f->g.k_idx = f->idx;
    f->g.k_val = f->val;
    f->g.n_eig = n;
    f->g.evals = tf_f64(f, "evals");
    f->g.evecs = tf_f64(f, "evecs");
    f->g.dhalf = tf_f64(f, "dhalf");
    const ndyn_array *mask = tf_get(f, "mask");
    int any = 0;
    for (size_t i = 0; mask && i < n; i++) any |= ((const uint8_t *)mask->data)[i];
    f->g.mask = any ? mask->data : NULL;
    return 0;
}

static inline void tf_free(tfix *f)
{
    ndyn_dataset_free(f->ds);
    free(f->ptr); free(f->idx); free(f->val);
}

/* Hyper-parameters of the fixture's config array. */
static inline void tf_params(const tfix *f, ndyn_marble_params *p)
{
    ndyn_marble_params_default(p);
    const int32_t *c = tf_get(f, "config")->data;
    const ndyn_array *h = tf_get(f, "hidden");
    p->order = c[0]; p->inner_product = c[1]; p->batch_norm = c[2]; p->include_positions = c[3];
    p->include_self = c[4]; p->vec_norm = c[5]; p->emb_norm = c[6]; p->diffusion = c[7];
    p->out_channels = c[8];
    p->n_hidden = (int)h->size;
    for (size_t i = 0; i < h->size; i++) p->hidden[i] = ((const int32_t *)h->data)[i];
    const ndyn_array *ca = tf_get(f, "config");
    if (ca->size > 9) p->local_gauges = c[9];
    p->lr = *tf_f64(f, "lr");
    p->momentum = *tf_f64(f, "momentum");
}

#ifdef NDYN_MARBLE_INTERNAL_H
/* Weights of a fixture into a model, and a model's values against a
 * fixture's, by named parameter group (needs the model's internals). */
#define TF_NONE ((size_t)-1)
/* Offset and length of a named parameter group ("t", "O", "W0", "b0", "gamma0", ...). */
static int slot(const ndyn_marble_model *m, const char *name, size_t *off, size_t *len)
{
    if (!strcmp(name, "t")) { *off = m->off_t; *len = 1; return 1; }
    if (!strcmp(name, "O")) {
        if (m->off_o == TF_NONE) return 0;
        *off = m->off_o; *len = m->n_channels * m->s * m->s; return 1;
    }
    char kind[16];
    int l;
    if (sscanf(name, "%15[a-zA-Z]%d", kind, &l) != 2 || l < 0 || (size_t)l >= m->n_layers) return 0;
    const mb_layer *L = &m->layer[l];
    size_t o = TF_NONE, n = L->out;
    if (!strcmp(kind, "W")) { o = L->w; n = L->in * L->out; }
    else if (!strcmp(kind, "b")) o = L->b;
    else if (!strcmp(kind, "gamma")) o = L->gamma;
    else if (!strcmp(kind, "beta")) o = L->beta;
    if (o == TF_NONE) return 0;
    *off = o; *len = n;
    return 1;
}

static const char *groups[] = {"t", "O", "W0", "b0", "gamma0", "beta0", "W1", "b1", "gamma1",
                               "beta1", "W2", "b2", NULL};

static void load_weights(ndyn_marble_model *m, const tfix *f, const char *prefix)
{
    for (int i = 0; groups[i]; i++) {
        size_t off, len;
        char key[64];
        snprintf(key, sizeof key, "%s%s", prefix, groups[i]);
        const ndyn_array *a = tf_get(f, key);
        if (!slot(m, groups[i], &off, &len)) { CHECK(a == NULL || !strcmp(groups[i], "O")); continue; }
        CHECKF(a && a->size == len, "%s", key);
        if (a && a->size == len) memcpy(m->params + off, a->data, len * sizeof(double));
    }
}

static void compare(const double *got, const tfix *f, const ndyn_marble_model *m,
                    const char *prefix, double tol)
{
    for (int i = 0; groups[i]; i++) {
        size_t off, len;
        char key[64];
        snprintf(key, sizeof key, "%s%s", prefix, groups[i]);
        if (!slot(m, groups[i], &off, &len)) continue;
        const double *want = tf_f64(f, key);
        CHECKF(want != NULL, "%s", key);
        if (!want) continue;
        double err = 0, scale = 1e-12;
        for (size_t k = 0; k < len; k++) {
            double e = fabs(got[off + k] - want[k]);
            if (e > err) err = e;
            if (fabs(want[k]) > scale) scale = fabs(want[k]);
        }
        CHECKF(err <= tol * (1 + scale), "%s max abs err %.3g (scale %.3g)", key, err, scale);
    }
}

#endif

/* The four toy fields, n points each, prepared with CkNN k = 10 and n_eig
 * Laplacian eigenpairs (0: Chebyshev, -1: all). */
static inline int t_fields_geom(size_t n, int n_eig, ndyn_geom_data **g)
{
    *g = NULL;
    ndyn_sim_fields_params fp;
    ndyn_sim_fields_defaults(&fp);
    fp.n = n;
    ndyn_dataset *ds = NULL;
    int rc = ndyn_sim_fields(&fp, &ds);
    if (rc) return rc;
    const ndyn_array *pos, *vel, *cond;
    ndyn_dataset_get(ds, "pos", &pos);
    ndyn_dataset_get(ds, "vel", &vel);
    ndyn_dataset_get(ds, "condition", &cond);
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.k = 10;
    gp.n_eigenvectors = n_eig;
    rc = ndyn_geom_prepare_arrays(pos->data, vel->data, pos->shape[0], 2, 2, cond->data, NULL, NULL,
                                  &gp, g);
    ndyn_dataset_free(ds);
    return rc;
}

#endif
