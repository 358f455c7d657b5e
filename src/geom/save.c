/* Save and load a prepared dataset as .npz (docs/geom.md lists the arrays). */
#include "ndyn/geom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_view(ndyn_dataset *ds, const char *name, ndyn_dtype t, int ndim, const size_t *shape, void *data)
{
    ndyn_array *a = ndyn_array_view(t, ndim, shape, data);
    if (!a) return NDYN_ENOMEM;
    return ndyn_dataset_add(ds, name, a, NULL);
}

static int add_scalar(ndyn_dataset *ds, const char *name, double v)
{
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 0, NULL);
    if (!a) return NDYN_ENOMEM;
    ((double *)a->data)[0] = v;
    return ndyn_dataset_add(ds, name, a, NULL);
}

static int add_csr(ndyn_dataset *ds, const char *prefix, const ndyn_csr *A)
{
    char nm[96];
    size_t s1 = A->nrows + 1, s2 = A->nnz, sh[1];
    int rc;
    snprintf(nm, sizeof nm, "%s/rowptr", prefix);
    sh[0] = s1; if ((rc = add_view(ds, nm, NDYN_I64, 1, sh, A->rowptr))) return rc;
    snprintf(nm, sizeof nm, "%s/col", prefix);
    sh[0] = s2; if ((rc = add_view(ds, nm, NDYN_I32, 1, sh, A->col))) return rc;
    snprintf(nm, sizeof nm, "%s/val", prefix);
    if ((rc = add_view(ds, nm, NDYN_F64, 1, sh, A->val))) return rc;
    snprintf(nm, sizeof nm, "%s/shape", prefix);
    ndyn_array *a = ndyn_array_alloc1(NDYN_I64, 3);
    if (!a) return NDYN_ENOMEM;
    ((int64_t *)a->data)[0] = (int64_t)A->nrows;
    ((int64_t *)a->data)[1] = (int64_t)A->ncols;
    ((int64_t *)a->data)[2] = A->block;
    return ndyn_dataset_add(ds, nm, a, NULL);
}

int ndyn_geom_save(const char *path, const ndyn_geom_data *g)
{
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!ds) return NDYN_ENOMEM;
    size_t n = g->n, D = g->D, m = (size_t)g->m, sh[3];
    int rc = 0;
    int64_t *cs = ndyn_malloc_array((size_t)g->C + 1, sizeof(int64_t));
    uint8_t *mask = g->mask ? ndyn_malloc_array(n, 1) : NULL;
    if (!cs || (g->mask && !mask)) { rc = NDYN_ENOMEM; goto out; }
    for (int c = 0; c <= g->C; c++) cs[c] = (int64_t)g->cond_start[c];
    sh[0] = n; sh[1] = D;
    rc = add_view(ds, "pos", NDYN_F64, 2, sh, g->pos);
    sh[1] = g->s;
    if (!rc) rc = add_view(ds, "vel", NDYN_F64, 2, sh, g->vel);
    if (!rc) rc = add_view(ds, "condition", NDYN_I32, 1, sh, g->condition);
    if (!rc) rc = add_view(ds, "index", NDYN_I64, 1, sh, g->index);
    if (!rc && g->label) rc = add_view(ds, "label", NDYN_F64, 1, sh, g->label);
    if (!rc && g->mask) { for (size_t i = 0; i < n; i++) mask[i] = g->mask[i] != 0; rc = add_view(ds, "mask", NDYN_BOOL, 1, sh, mask); }
    sh[0] = (size_t)g->C + 1;
    if (!rc) rc = add_view(ds, "graph/cond_start", NDYN_I64, 1, sh, cs);
    if (!rc) rc = add_csr(ds, "graph/adj", &g->graph);
    if (!rc) rc = add_scalar(ds, "graph/n_components", (double)g->n_components);
    const ndyn_geom_params *p = &g->params;
    if (!rc) rc = add_scalar(ds, "params/graph", p->graph);
    if (!rc) rc = add_scalar(ds, "params/k", p->k);
    if (!rc) rc = add_scalar(ds, "params/delta", p->delta);
    if (!rc) rc = add_scalar(ds, "params/radius", p->radius);
    if (!rc) rc = add_scalar(ds, "params/spacing", p->spacing);
    if (!rc) rc = add_scalar(ds, "params/local_gauges", p->local_gauges);
    if (!rc) rc = add_scalar(ds, "params/var_explained", p->var_explained);
    if (!rc) rc = add_scalar(ds, "params/frac_geodesic_nb", p->frac_geodesic_nb);
    if (!rc) rc = add_scalar(ds, "params/dim", p->dim);
    if (!rc) rc = add_scalar(ds, "params/n_eigenvectors", p->n_eigenvectors);
    if (!rc) rc = add_scalar(ds, "params/seed", (double)p->seed);
    if (!rc) rc = add_scalar(ds, "op/m", (double)g->m);
    if (!rc) rc = add_scalar(ds, "op/d", (double)g->d);
    sh[0] = n;
    if (!rc) rc = add_view(ds, "op/deg", NDYN_F64, 1, sh, g->deg);
    if (!rc) rc = add_csr(ds, "op/lsym", &g->lsym);
    for (int c = 0; c < g->d && !rc; c++) {
        char nm[32];
        snprintf(nm, sizeof nm, "op/K%d", c);
        rc = add_csr(ds, nm, &g->K[c]);
    }
    if (!rc && g->frames) {
        size_t r = D < (size_t)floor(p->k * p->frac_geodesic_nb) + 1 ? D : (size_t)floor(p->k * p->frac_geodesic_nb) + 1;
        sh[0] = n; sh[1] = D; sh[2] = m;
        rc = add_view(ds, "op/frames", NDYN_F64, 3, sh, g->frames);
        sh[1] = r;
        if (!rc) rc = add_view(ds, "op/sigma", NDYN_F64, 2, sh, g->sigma);
        if (!rc) rc = add_csr(ds, "op/conn", &g->conn);
        if (!rc) rc = add_csr(ds, "op/lcsym", &g->lcsym);
    }
    if (!rc && g->neig) {
        sh[0] = g->neig;
        rc = add_view(ds, "op/evals", NDYN_F64, 1, sh, g->evals);
        sh[0] = n; sh[1] = g->neig;
        if (!rc) rc = add_view(ds, "op/evecs", NDYN_F64, 2, sh, g->evecs);
    }
    if (!rc && g->neigc) {
        sh[0] = g->neigc;
        rc = add_view(ds, "op/evalsc", NDYN_F64, 1, sh, g->evalsc);
        sh[0] = n * m; sh[1] = g->neigc;
        if (!rc) rc = add_view(ds, "op/evecsc", NDYN_F64, 2, sh, g->evecsc);
    }
    if (!rc) rc = ndyn_dataset_save(path, ds, 0);
out:
    ndyn_dataset_free(ds);
    free(cs); free(mask);
    return rc;
}

/* ---------------------------------------------------------------- load */

static int get_copy(const ndyn_dataset *ds, const char *name, ndyn_dtype t, size_t expect, void **out, int optional)
{
    *out = NULL;
    const ndyn_named_array *e = ndyn_dataset_find(ds, name);
    if (!e || !e->array) {
        if (optional) return NDYN_OK;
        return ndyn_error(NDYN_ENOTFOUND, "prepared dataset lacks '%s'; re-run ndyn marble prepare", name);
    }
    if (expect != (size_t)-1 && e->array->size != expect)
        return ndyn_error(NDYN_ESHAPE, "prepared dataset: '%s' has %zu elements, expected %zu", name, e->array->size, expect);
    ndyn_array *c = ndyn_array_cast(e->array, t);
    if (!c) return ndyn_error_context(NDYN_EFORMAT, "prepared dataset: '%s': ", name);
    *out = c->data;
    c->owner = 0;
    ndyn_array_free(c);
    if (!*out) *out = ndyn_malloc(1);
    return NDYN_OK;
}

static double get_scalar(const ndyn_dataset *ds, const char *name, double dflt)
{
    const ndyn_named_array *e = ndyn_dataset_find(ds, name);
    if (!e || !e->array || e->array->size != 1) return dflt;
    return ndyn_array_get(e->array, 0);
}

static int get_csr(const ndyn_dataset *ds, const char *prefix, ndyn_csr *A)
{
    char nm[96];
    memset(A, 0, sizeof *A);
    int64_t *shape;
    snprintf(nm, sizeof nm, "%s/shape", prefix);
    int rc = get_copy(ds, nm, NDYN_I64, 3, (void **)&shape, 0);
    if (rc) return rc;
    A->nrows = (size_t)shape[0]; A->ncols = (size_t)shape[1]; A->block = (int)shape[2];
    free(shape);
    snprintf(nm, sizeof nm, "%s/rowptr", prefix);
    rc = get_copy(ds, nm, NDYN_I64, A->nrows + 1, (void **)&A->rowptr, 0);
    if (!rc) { A->nnz = (size_t)A->rowptr[A->nrows]; snprintf(nm, sizeof nm, "%s/col", prefix); rc = get_copy(ds, nm, NDYN_I32, A->nnz, (void **)&A->col, 0); }
    if (!rc) { snprintf(nm, sizeof nm, "%s/val", prefix); rc = get_copy(ds, nm, NDYN_F64, A->nnz, (void **)&A->val, 0); }
    if (!rc) rc = ndyn_csr_check(A, prefix);
    if (rc) ndyn_csr_free(A);
    return rc;
}

int ndyn_geom_load(const char *path, ndyn_geom_data **out)
{
    *out = NULL;
    ndyn_dataset *ds;
    int rc = ndyn_dataset_load(path, &ds);
    if (rc) return rc;
    ndyn_geom_data *g = ndyn_calloc(1, sizeof *g);
    if (!g) { ndyn_dataset_free(ds); return NDYN_ENOMEM; }
    const ndyn_array *pos, *vel;
    rc = ndyn_dataset_get(ds, "pos", &pos);
    if (!rc) rc = ndyn_dataset_get(ds, "vel", &vel);
    if (!rc && (pos->ndim != 2 || vel->ndim != 2 || pos->shape[0] != vel->shape[0]))
        rc = ndyn_error(NDYN_ESHAPE, "%s: pos and vel must be (n, D) and (n, s)", path);
    if (rc) goto fail;
    g->n = pos->shape[0]; g->D = pos->shape[1]; g->s = vel->shape[1];
    size_t n = g->n;
    ndyn_geom_params *p = &g->params;
    ndyn_geom_params_default(p);
    p->graph = (ndyn_graph_type)get_scalar(ds, "params/graph", 0);
    p->k = (int)get_scalar(ds, "params/k", 20);
    p->delta = get_scalar(ds, "params/delta", 1);
    p->radius = get_scalar(ds, "params/radius", 0);
    p->spacing = get_scalar(ds, "params/spacing", 0);
    p->local_gauges = (int)get_scalar(ds, "params/local_gauges", 0);
    p->var_explained = get_scalar(ds, "params/var_explained", 0.9);
    p->frac_geodesic_nb = get_scalar(ds, "params/frac_geodesic_nb", 1.5);
    p->dim = (int)get_scalar(ds, "params/dim", 0);
    p->n_eigenvectors = (int)get_scalar(ds, "params/n_eigenvectors", 0);
    p->seed = (uint64_t)get_scalar(ds, "params/seed", 0);
    g->m = (int)get_scalar(ds, "op/m", (double)g->D);
    g->d = (int)get_scalar(ds, "op/d", (double)g->D);
    g->n_components = (size_t)get_scalar(ds, "graph/n_components", 1);
    if (g->m < 1 || (size_t)g->m > g->D || g->d < 1 || (size_t)g->d > g->D) { rc = ndyn_error(NDYN_EFORMAT, "%s: bad op/m or op/d", path); goto fail; }
    rc = get_copy(ds, "pos", NDYN_F64, n * g->D, (void **)&g->pos, 0);
    if (!rc) rc = get_copy(ds, "vel", NDYN_F64, n * g->s, (void **)&g->vel, 0);
    if (!rc) rc = get_copy(ds, "condition", NDYN_I32, n, (void **)&g->condition, 0);
    if (!rc) rc = get_copy(ds, "index", NDYN_I64, n, (void **)&g->index, 0);
    if (!rc) rc = get_copy(ds, "label", NDYN_F64, n, (void **)&g->label, 1);
    if (!rc) rc = get_copy(ds, "mask", NDYN_U8, n, (void **)&g->mask, 1);
    int64_t *cs = NULL;
    if (!rc) rc = get_copy(ds, "graph/cond_start", NDYN_I64, (size_t)-1, (void **)&cs, 0);
    if (!rc) {
        const ndyn_named_array *e = ndyn_dataset_find(ds, "graph/cond_start");
        g->C = (int)e->array->size - 1;
        g->cond_start = ndyn_malloc_array(e->array->size, sizeof(size_t));
        if (!g->cond_start || g->C < 1) rc = ndyn_error(NDYN_EFORMAT, "%s: bad graph/cond_start", path);
        else for (int c = 0; c <= g->C; c++) g->cond_start[c] = (size_t)cs[c];
        if (!rc && g->cond_start[g->C] != n) rc = ndyn_error(NDYN_EFORMAT, "%s: graph/cond_start does not end at n", path);
    }
    free(cs);
    if (!rc) rc = get_csr(ds, "graph/adj", &g->graph);
    if (!rc) rc = get_copy(ds, "op/deg", NDYN_F64, n, (void **)&g->deg, 0);
    if (!rc) rc = get_csr(ds, "op/lsym", &g->lsym);
    if (!rc) { g->K = ndyn_calloc((size_t)g->d, sizeof(ndyn_csr)); if (!g->K) rc = NDYN_ENOMEM; }
    for (int c = 0; c < g->d && !rc; c++) {
        char nm[32];
        snprintf(nm, sizeof nm, "op/K%d", c);
        rc = get_csr(ds, nm, &g->K[c]);
    }
    if (!rc && p->local_gauges) {
        rc = get_copy(ds, "op/frames", NDYN_F64, n * g->D * (size_t)g->m, (void **)&g->frames, 0);
        if (!rc) rc = get_copy(ds, "op/sigma", NDYN_F64, (size_t)-1, (void **)&g->sigma, 0);
        if (!rc) rc = get_csr(ds, "op/conn", &g->conn);
        if (!rc) rc = get_csr(ds, "op/lcsym", &g->lcsym);
    }
    if (!rc) {
        const ndyn_named_array *e = ndyn_dataset_find(ds, "op/evals");
        if (e && e->array) {
            g->neig = e->array->size;
            rc = get_copy(ds, "op/evals", NDYN_F64, g->neig, (void **)&g->evals, 0);
            if (!rc) rc = get_copy(ds, "op/evecs", NDYN_F64, n * g->neig, (void **)&g->evecs, 0);
        }
        e = ndyn_dataset_find(ds, "op/evalsc");
        if (!rc && e && e->array) {
            g->neigc = e->array->size;
            rc = get_copy(ds, "op/evalsc", NDYN_F64, g->neigc, (void **)&g->evalsc, 0);
            if (!rc) rc = get_copy(ds, "op/evecsc", NDYN_F64, n * (size_t)g->m * g->neigc, (void **)&g->evecsc, 0);
        }
    }
    if (rc) goto fail;
    g->dhalf = ndyn_malloc_array(n, sizeof(double));
    g->dmhalf = ndyn_malloc_array(n, sizeof(double));
    if (!g->dhalf || !g->dmhalf) { rc = NDYN_ENOMEM; goto fail; }
    for (size_t i = 0; i < n; i++) {
        if (!(g->deg[i] > 0)) { rc = ndyn_error(NDYN_EFORMAT, "%s: node %zu has degree %g", path, i, g->deg[i]); goto fail; }
        g->dhalf[i] = sqrt(g->deg[i]);
        g->dmhalf[i] = 1.0 / g->dhalf[i];
    }
    for (size_t i = 0; i < n; i++)
        if (g->condition[i] < 0 || g->condition[i] >= g->C) { rc = ndyn_error(NDYN_EFORMAT, "%s: condition[%zu] out of range", path, i); goto fail; }
    ndyn_dataset_free(ds);
    *out = g;
    return NDYN_OK;
fail:
    ndyn_dataset_free(ds);
    ndyn_geom_data_free(g);
    return rc ? rc : NDYN_EFORMAT;
}
