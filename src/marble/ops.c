/* The model's view of a prepared geom dataset: the d kernels K_c merged onto
 * one CSR pattern (the union of their rows, diagonal included), the spectrum
 * or geom's heat action. */
#include <stdlib.h>
#include <string.h>

#include "ndyn/geom.h"
#include "marble/marble_internal.h"

static int heat_cb(void *ctx, double t, const size_t *rows, size_t nsel, double *Hf, double *dHf)
{
    return ndyn_geom_heat_apply((ndyn_geom_heat *)ctx, t, rows, nsel, Hf, dHf);
}

int ndyn_marble_ops_from_geom(const ndyn_geom_data *g, ndyn_marble_ops **out)
{
    *out = NULL;
    if (!g) return ndyn_error(NDYN_EINVAL, "marble: geom dataset is NULL");
    if (g->frames || g->m != (int)g->D || g->d != (int)g->D)
        return ndyn_error(NDYN_EUNSUPPORTED, "marble: the model supports flat mode only "
                          "(prepare without local gauges)");
    if (g->s != g->D)
        return ndyn_error(NDYN_EINVAL, "marble: signal dimension %zu differs from the ambient "
                          "dimension %zu", g->s, g->D);
    size_t n = g->n, d = (size_t)g->d;
    for (size_t c = 0; c < d; c++)
        if (g->K[c].nrows != n || g->K[c].ncols != n)
            return ndyn_error(NDYN_ESHAPE, "marble: kernel %zu is %zux%zu, want %zux%zu", c,
                              g->K[c].nrows, g->K[c].ncols, n, n);
    ndyn_marble_ops *o = ndyn_calloc(1, sizeof *o);
    if (!o) return NDYN_ENOMEM;
    o->ptr = ndyn_calloc(n + 1, sizeof(int64_t));
    size_t cap = 0;
    for (size_t c = 0; c < d; c++) cap += g->K[c].nnz;
    cap += n;
    o->idx = ndyn_malloc_array(cap, sizeof(int32_t));
    if (!o->ptr || !o->idx) { ndyn_marble_ops_free(o); return NDYN_ENOMEM; }
    /* union of the (sorted) rows, plus the diagonal */
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        size_t start = nnz;
        for (size_t c = 0; c < d; c++) {
            const ndyn_csr *K = &g->K[c];
            for (int64_t q = K->rowptr[i]; q < K->rowptr[i + 1]; q++) o->idx[nnz++] = K->col[q];
        }
        o->idx[nnz++] = (int32_t)i;
        /* sort + unique the row (short: insertion sort) */
        for (size_t a = start + 1; a < nnz; a++) {
            int32_t v = o->idx[a];
            size_t b = a;
            while (b > start && o->idx[b - 1] > v) { o->idx[b] = o->idx[b - 1]; b--; }
            o->idx[b] = v;
        }
        size_t w = start;
        for (size_t a = start; a < nnz; a++)
            if (a == start || o->idx[a] != o->idx[w - 1]) o->idx[w++] = o->idx[a];
        nnz = w;
        o->ptr[i + 1] = (int64_t)nnz;
    }
    o->val = ndyn_calloc(d * nnz + 1, sizeof(double));
    if (!o->val) { ndyn_marble_ops_free(o); return NDYN_ENOMEM; }
    for (size_t c = 0; c < d; c++) {
        const ndyn_csr *K = &g->K[c];
        for (size_t i = 0; i < n; i++) {
            int64_t p = o->ptr[i];
            for (int64_t q = K->rowptr[i]; q < K->rowptr[i + 1]; q++) {
                while (o->idx[p] < K->col[q]) p++;
                o->val[c * nnz + (size_t)p] += K->val[q];
            }
        }
    }
    ndyn_marble_data *m = &o->data;
    m->n = n; m->dim = g->D; m->s = g->s; m->d = d;
    m->pos = g->pos; m->signal = g->vel; m->condition = g->condition; m->mask = g->mask;
    m->k_ptr = o->ptr; m->k_idx = o->idx; m->k_val = o->val;
    if (g->neig > 0) {
        m->n_eig = g->neig; m->evals = g->evals; m->evecs = g->evecs; m->dhalf = g->dhalf;
    } else {
        ndyn_geom_heat *h = NULL;
        int rc = ndyn_geom_heat_new(g, g->vel, g->s, &h);
        if (rc) { ndyn_marble_ops_free(o); return rc; }
        o->heat = h;
        m->heat_fn = heat_cb;
        m->heat_ctx = h;
        m->dhalf = g->dhalf;
    }
    *out = o;
    return NDYN_OK;
}

void ndyn_marble_ops_free(ndyn_marble_ops *o)
{
    if (!o) return;
    if (o->heat) ndyn_geom_heat_free((ndyn_geom_heat *)o->heat);
    free(o->ptr); free(o->idx); free(o->val);
    free(o);
}
