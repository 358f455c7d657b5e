/* Directional-derivative kernels (spec §7) in flat and manifold mode. */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pattern of G plus the diagonal, sorted: allocate S (n x n, nnz G + n) and
 * fill col; returns in diagpos[i] the position of (i,i). */
int ndyn_geom_pattern_with_diag(const ndyn_csr *G, ndyn_csr *S, int64_t *diagpos)
{
    size_t n = G->nrows;
    int rc = ndyn_csr_alloc(S, n, n, G->nnz + n);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        int64_t o = G->rowptr[i] + (int64_t)i;
        int done = 0;
        for (int64_t p = G->rowptr[i]; p < G->rowptr[i + 1]; p++) {
            if (!done && (size_t)G->col[p] > i) { diagpos[i] = o; S->col[o] = (int32_t)i; S->val[o++] = 0; done = 1; }
            S->col[o] = G->col[p];
            S->val[o++] = 0;
        }
        if (!done) { diagpos[i] = o; S->col[o] = (int32_t)i; S->val[o++] = 0; }
        S->rowptr[i + 1] = o;
    }
    return NDYN_OK;
}

/* out = blocks of R scaled by the scalar of S at the same block position. */
int ndyn_geom_expand_blocks(const ndyn_csr *S, const ndyn_csr *R, int mi, ndyn_csr *out)
{
    size_t m = (size_t)mi, n = S->nrows;
    if (R->nrows != n * m || R->nnz != S->nnz * m * m)
        return ndyn_error(NDYN_ESHAPE, "connection matrix does not match the graph (%zu vs %zu nodes of dim %d)",
                          R->nrows, n, mi);
    int rc = ndyn_csr_copy(out, R);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        int64_t nb = S->rowptr[i + 1] - S->rowptr[i];
        for (size_t a = 0; a < m; a++) {
            int64_t o = R->rowptr[i * m + a];
            for (int64_t b = 0; b < nb; b++) {
                double s = S->val[S->rowptr[i] + b];
                for (size_t c = 0; c < m; c++) out->val[o + b * (int64_t)m + (int64_t)c] *= s;
            }
        }
    }
    out->block = mi;
    return NDYN_OK;
}

int ndyn_geom_gradient_kernels(const double *X, size_t n, size_t D, const ndyn_csr *G,
                               const double *frames, int mi, const ndyn_csr *R, ndyn_csr *K)
{
    size_t m = frames ? (size_t)mi : D;
    size_t d = m;
    for (size_t c = 0; c < d; c++) memset(&K[c], 0, sizeof K[c]);
    if (frames && (!R || mi < 1 || (size_t)mi > D))
        return ndyn_error(NDYN_EINVAL, "manifold-mode kernels need frames of dimension 1..%zu and connections", D);
    int64_t *diagpos = ndyn_malloc_array(n ? n : 1, sizeof(int64_t));
    if (!diagpos) return NDYN_ENOMEM;
    int rc = NDYN_OK;
    for (size_t c = 0; c < d && !rc; c++) {
        ndyn_csr S;
        rc = ndyn_geom_pattern_with_diag(G, &S, diagpos);
        if (rc) break;
        long nl = (long)n;
#pragma omp parallel for schedule(static)
        for (long ii = 0; ii < nl; ii++) {
            size_t i = (size_t)ii;
            const double *xi = X + i * D;
            double l1 = 0;
            for (int64_t p = S.rowptr[i]; p < S.rowptr[i + 1]; p++) {
                size_t j = (size_t)S.col[p];
                if (j == i) continue;
                const double *xj = X + j * D;
                double f;
                if (!frames) f = xj[c] - xi[c];
                else {
                    const double *Ti = frames + i * D * m;
                    f = 0;
                    for (size_t e = 0; e < D; e++) f += (xj[e] - xi[e]) * Ti[e * m + c];
                }
                S.val[p] = f;
                l1 += fabs(f);
            }
            /* zero-row guard: a row with no projected length stays zero */
            double sum = 0;
            for (int64_t p = S.rowptr[i]; p < S.rowptr[i + 1]; p++) {
                if (l1 > 0) S.val[p] /= l1;
                else S.val[p] = 0;
                sum += S.val[p];
            }
            S.val[diagpos[i]] = -sum;
        }
        if (!frames) {
            K[c] = S;
        } else {
            rc = ndyn_geom_expand_blocks(&S, R, mi, &K[c]);
            ndyn_csr_free(&S);
        }
    }
    free(diagpos);
    if (rc)
        for (size_t c = 0; c < d; c++) ndyn_csr_free(&K[c]);
    return rc;
}
