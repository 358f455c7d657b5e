/* Scalar and connection Laplacians (spec §5-6), symmetric normalised forms
 * with the diagonal stored, and the random-walk form for comparisons. */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


static int degrees(const ndyn_csr *G, double *deg)
{
    for (size_t i = 0; i < G->nrows; i++) {
        double s = 0;
        for (int64_t p = G->rowptr[i]; p < G->rowptr[i + 1]; p++) s += G->val[p];
        if (!(s > 0) || !isfinite(s))
            return ndyn_error(NDYN_EINVAL, "node %zu has no neighbours (degree %g); increase k or delta", i, s);
        deg[i] = s;
    }
    return NDYN_OK;
}

/* mode 0: L_sym, 1: L_rw */
static int lap(const ndyn_csr *G, double *deg_out, ndyn_csr *L, int mode)
{
    memset(L, 0, sizeof *L);
    size_t n = G->nrows;
    double *deg = deg_out ? deg_out : ndyn_malloc_array(n ? n : 1, sizeof(double));
    int64_t *diagpos = ndyn_malloc_array(n ? n : 1, sizeof(int64_t));
    int rc = (!deg || !diagpos) ? NDYN_ENOMEM : NDYN_OK;
    if (!rc) rc = degrees(G, deg);
    if (!rc) rc = ndyn_geom_pattern_with_diag(G, L, diagpos);
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            int64_t q = L->rowptr[i];
            for (int64_t p = G->rowptr[i]; p < G->rowptr[i + 1]; p++, q++) {
                if (q == diagpos[i]) q++;
                size_t j = (size_t)G->col[p];
                L->val[q] = mode == 0 ? -G->val[p] / sqrt(deg[i] * deg[j]) : -G->val[p] / deg[i];
            }
            L->val[diagpos[i]] = 1.0;
        }
    }
    if (!deg_out) free(deg);
    free(diagpos);
    return rc;
}

int ndyn_geom_laplacian_sym(const ndyn_csr *G, double *deg, ndyn_csr *Lsym)
{
    return lap(G, deg, Lsym, 0);
}

int ndyn_geom_laplacian_rw(const ndyn_csr *G, ndyn_csr *Lrw)
{
    return lap(G, NULL, Lrw, 1);
}

int ndyn_geom_connection_laplacian_sym(const ndyn_csr *G, const double *deg, const ndyn_csr *R,
                                       int m, ndyn_csr *Lcsym)
{
    memset(Lcsym, 0, sizeof *Lcsym);
    ndyn_csr S;
    int rc = lap(G, NULL, &S, 0);
    if (rc) return rc;
    (void)deg; /* the degrees are recomputed from G; kept for API symmetry */
    rc = ndyn_geom_expand_blocks(&S, R, m, Lcsym);
    ndyn_csr_free(&S);
    return rc;
}
