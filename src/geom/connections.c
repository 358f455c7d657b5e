/* Connections between neighbouring tangent frames by orthogonal Procrustes
 * (spec §6): R_ij = U Vᵀ from T_iᵀ T_j = U S Vᵀ, computed as the polar
 * factor M (MᵀM)^{-1/2}, with an SVD fallback when M is near singular. */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int polar(size_t m, const double *M, double *R, double *work)
{
    double *A = work, *w = A + m * m, *W = w + m, *S = W + m * m;
    /* A = MᵀM */
    for (size_t a = 0; a < m; a++)
        for (size_t b = 0; b < m; b++) {
            double s = 0;
            for (size_t k = 0; k < m; k++) s += M[k * m + a] * M[k * m + b];
            A[a * m + b] = s;
        }
    ndyn_geom_jacobi_eig(m, A, w, W);
    if (!(w[m - 1] > 1e-12 * (w[0] > 0 ? w[0] : 1))) {
        /* near singular: SVD */
        double *U = S, *sv = U + m * m, *Vt = sv + m;
        if (ndyn_svd(m, m, M, U, sv, Vt)) return -1;
        for (size_t a = 0; a < m; a++)
            for (size_t b = 0; b < m; b++) {
                double s = 0;
                for (size_t k = 0; k < m; k++) s += U[a * m + k] * Vt[k * m + b];
                R[a * m + b] = s;
            }
        return 0;
    }
    /* S = W diag(w^-1/2) Wᵀ, R = M S */
    for (size_t a = 0; a < m; a++)
        for (size_t b = 0; b < m; b++) {
            double s = 0;
            for (size_t k = 0; k < m; k++) s += W[a * m + k] * W[b * m + k] / sqrt(w[k]);
            S[a * m + b] = s;
        }
    for (size_t a = 0; a < m; a++)
        for (size_t b = 0; b < m; b++) {
            double s = 0;
            for (size_t k = 0; k < m; k++) s += M[a * m + k] * S[k * m + b];
            R[a * m + b] = s;
        }
    return 0;
}

int ndyn_geom_connections(const double *frames, size_t n, size_t D, int mi, const ndyn_csr *G,
                          ndyn_csr *R)
{
    memset(R, 0, sizeof *R);
    size_t m = (size_t)mi;
    if (mi < 1 || m > D) return ndyn_error(NDYN_EINVAL, "manifold dimension m = %d must be in 1..%zu", mi, D);
    size_t mm = m * m;
    size_t nnzb = G->nnz + n;
    int rc = ndyn_csr_alloc(R, n * m, n * m, nnzb * mm);
    if (rc) return rc;
    R->block = mi;
    /* block rowptr: node i owns (deg_i + 1) blocks; each scalar row p has
     * (deg_i + 1) * m entries */
    for (size_t i = 0; i < n; i++) {
        int64_t base = (G->rowptr[i] + (int64_t)i) * (int64_t)mm;
        int64_t len = (G->rowptr[i + 1] - G->rowptr[i] + 1) * (int64_t)m;
        for (size_t p = 0; p < m; p++) R->rowptr[i * m + p + 1] = base + (int64_t)(p + 1) * len;
    }
    int fail = 0;
    long nl = (long)n;
#pragma omp parallel
    {
        double *M = malloc(mm * sizeof *M), *Rb = malloc(mm * sizeof *Rb);
        double *work = malloc((4 * mm + 4 * m + 8) * sizeof *work);
#pragma omp for schedule(dynamic, 256)
        for (long ii = 0; ii < nl; ii++) {
            size_t i = (size_t)ii;
            if (!M || !Rb || !work) { fail = 1; continue; }
            int64_t deg = G->rowptr[i + 1] - G->rowptr[i];
            size_t len = (size_t)(deg + 1) * m;
            const double *Ti = frames + i * D * m;
            size_t bq = 0; /* block position within the row */
            int diag_done = 0;
            for (int64_t p = G->rowptr[i]; p <= G->rowptr[i + 1]; p++) {
                size_t j;
                if (!diag_done && (p == G->rowptr[i + 1] || (size_t)G->col[p] > i)) {
                    j = i; diag_done = 1; p--;
                } else if (p == G->rowptr[i + 1]) break;
                else j = (size_t)G->col[p];
                if (j == i) {
                    for (size_t a = 0; a < mm; a++) Rb[a] = (a / m == a % m);
                } else {
                    const double *Tj = frames + j * D * m;
                    for (size_t a = 0; a < m; a++)
                        for (size_t b = 0; b < m; b++) {
                            double s = 0;
                            for (size_t d = 0; d < D; d++) s += Ti[d * m + a] * Tj[d * m + b];
                            M[a * m + b] = s;
                        }
                    if (polar(m, M, Rb, work)) { fail = 2; }
                }
                for (size_t a = 0; a < m; a++) {
                    int64_t o = R->rowptr[i * m + a] + (int64_t)(bq * m);
                    for (size_t b = 0; b < m; b++) {
                        R->col[o + (int64_t)b] = (int32_t)(j * m + b);
                        R->val[o + (int64_t)b] = Rb[a * m + b];
                    }
                }
                bq++;
            }
            (void)len;
        }
        free(M); free(Rb); free(work);
    }
    if (fail) {
        ndyn_csr_free(R);
        return ndyn_error(fail == 1 ? NDYN_ENOMEM : NDYN_ECONVERGE, "computing connections failed (%s)",
                          fail == 1 ? "out of memory" : "SVD did not converge");
    }
    return NDYN_OK;
}
