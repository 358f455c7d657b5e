/* Symmetric union of a directed neighbour structure with 1/dist weights. */
#include "geom_internal.h"

#include <stdlib.h>
#include <string.h>

int ndyn_geom_symmetrize(const ndyn_csr *A, const double *X, size_t D, ndyn_csr *G)
{
    memset(G, 0, sizeof *G);
    size_t n = A->nrows;
    ndyn_csr At;
    int rc = ndyn_csr_transpose(A, &At);
    if (rc) return rc;
    /* count union sizes */
    int64_t *cnt = ndyn_calloc(n + 1, sizeof(int64_t));
    if (!cnt) { ndyn_csr_free(&At); return NDYN_ENOMEM; }
    for (size_t i = 0; i < n; i++) {
        int64_t p = A->rowptr[i], pe = A->rowptr[i + 1], q = At.rowptr[i], qe = At.rowptr[i + 1];
        int64_t c = 0;
        while (p < pe || q < qe) {
            if (q >= qe || (p < pe && A->col[p] < At.col[q])) p++;
            else if (p >= pe || At.col[q] < A->col[p]) q++;
            else { p++; q++; }
            c++;
        }
        cnt[i + 1] = cnt[i] + c;
    }
    rc = ndyn_csr_alloc(G, n, n, (size_t)cnt[n]);
    if (rc) { free(cnt); ndyn_csr_free(&At); return rc; }
    memcpy(G->rowptr, cnt, (n + 1) * sizeof(int64_t));
    free(cnt);
    int64_t bad_i = -1, bad_j = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t p = A->rowptr[i], pe = A->rowptr[i + 1], q = At.rowptr[i], qe = At.rowptr[i + 1];
        int64_t o = G->rowptr[i];
        while (p < pe || q < qe) {
            int32_t j;
            if (q >= qe || (p < pe && A->col[p] < At.col[q])) j = A->col[p++];
            else if (p >= pe || At.col[q] < A->col[p]) j = At.col[q++];
            else { j = A->col[p]; p++; q++; }
            double d = ndyn_geom_dist(X + i * D, X + (size_t)j * D, D);
            if ((size_t)j == i || d == 0) {
                if (bad_i < 0) { bad_i = (int64_t)i; bad_j = j; }
                d = 1;
            }
            G->col[o] = j;
            G->val[o] = 1.0 / d;
            o++;
        }
    }
    ndyn_csr_free(&At);
    if (bad_i >= 0) {
        ndyn_csr_free(G);
        if (bad_i == bad_j)
            return ndyn_error(NDYN_EINTERNAL, "self-loop at node %lld in a neighbour structure", (long long)bad_i);
        return ndyn_error(NDYN_EINVAL,
                          "points %lld and %lld are identical (a zero-length edge would get weight 1/0); "
                          "remove or merge duplicate points", (long long)bad_i, (long long)bad_j);
    }
    return NDYN_OK;
}
