/* Local tangent spaces by PCA over hop-count neighbourhoods, and the
 * manifold-dimension rule (spec §6). */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ndyn_geom_tangents(const double *X, size_t n, size_t D, const ndyn_csr *G, int K,
                       double *frames, double *sigma)
{
    if (K < 1) return ndyn_error(NDYN_EINVAL, "tangent neighbourhood size K = %d must be >= 1", K);
    if (G->nrows != n) return ndyn_error(NDYN_ESHAPE, "graph has %zu nodes, points %zu", G->nrows, n);
    size_t r = D < (size_t)K + 1 ? D : (size_t)K + 1;
    int fail = 0;
    long nl = (long)n;
#pragma omp parallel
    {
        /* visited stamps: O(n) per thread once, O(K) work per source (bounded BFS) */
        int64_t *stamp = malloc(n * sizeof *stamp);
        int64_t *queue = malloc(((size_t)K + 1) * sizeof *queue);
        double *Y = malloc(((size_t)K + 1) * D * sizeof *Y);
        double *Cm = malloc(D * D * sizeof *Cm), *w = malloc(D * sizeof *w), *V = malloc(D * D * sizeof *V);
        if (!stamp || !queue || !Y || !Cm || !w || !V) {
#pragma omp atomic write
            fail = 1;
        } else {
            for (size_t i = 0; i < n; i++) stamp[i] = -1;
        }
#pragma omp for schedule(dynamic, 256)
        for (long i = 0; i < nl; i++) {
            if (fail) continue;
            size_t cnt = 0, head = 0;
            queue[cnt++] = i;
            stamp[i] = i;
            while (head < cnt && cnt < (size_t)K + 1) {
                int64_t u = queue[head++];
                for (int64_t p = G->rowptr[u]; p < G->rowptr[u + 1] && cnt < (size_t)K + 1; p++) {
                    int32_t v = G->col[p];
                    if (stamp[v] != i) { stamp[v] = i; queue[cnt++] = v; }
                }
            }
            /* centre at the mean, covariance, eigen */
            double mean[64];
            double *mu = D <= 64 ? mean : NULL;
            double *mub = mu ? NULL : malloc(D * sizeof *mub);
            if (!mu) mu = mub;
            if (!mu) {
#pragma omp atomic write
                fail = 1;
                continue;
            }
            for (size_t d = 0; d < D; d++) mu[d] = 0;
            for (size_t q = 0; q < cnt; q++)
                for (size_t d = 0; d < D; d++) mu[d] += X[(size_t)queue[q] * D + d];
            for (size_t d = 0; d < D; d++) mu[d] /= (double)cnt;
            for (size_t q = 0; q < cnt; q++)
                for (size_t d = 0; d < D; d++) Y[q * D + d] = X[(size_t)queue[q] * D + d] - mu[d];
            free(mub);
            for (size_t a = 0; a < D; a++)
                for (size_t b = a; b < D; b++) {
                    double s = 0;
                    for (size_t q = 0; q < cnt; q++) s += Y[q * D + a] * Y[q * D + b];
                    Cm[a * D + b] = Cm[b * D + a] = s;
                }
            ndyn_geom_jacobi_eig(D, Cm, w, V);
            /* orient each direction so that the third moment of the
             * neighbourhood's projections onto it is >= 0: a sign fixed by the
             * geometry, so that rotating or reflecting the data rotates or
             * reflects the frames with it (the sign of an eigenvector is
             * otherwise arbitrary; it follows the coordinate axes here) */
            for (size_t c = 0; c < D; c++) {
                double m3 = 0;
                for (size_t q = 0; q < cnt; q++) {
                    double pr = 0;
                    for (size_t d = 0; d < D; d++) pr += Y[q * D + d] * V[d * D + c];
                    m3 += pr * pr * pr;
                }
                if (m3 < 0)
                    for (size_t d = 0; d < D; d++) V[d * D + c] = -V[d * D + c];
            }
            memcpy(frames + (size_t)i * D * D, V, D * D * sizeof(double));
            for (size_t q = 0; q < r; q++) sigma[(size_t)i * r + q] = sqrt(w[q] > 0 ? w[q] : 0);
        }
        free(stamp); free(queue); free(Y); free(Cm); free(w); free(V);
    }
    if (fail) return ndyn_error(NDYN_ENOMEM, "out of memory computing tangent spaces");
    return NDYN_OK;
}

int ndyn_geom_manifold_dim(const double *sigma, size_t n, size_t r, double var_explained, int *m)
{
    if (!(var_explained > 0 && var_explained <= 1))
        return ndyn_error(NDYN_EINVAL, "var_explained = %g must be in (0, 1]", var_explained);
    if (n == 0 || r == 0) return ndyn_error(NDYN_EINVAL, "no singular values to choose a dimension from");
    double *sum = ndyn_calloc(r, sizeof(double)), *sq = ndyn_calloc(r, sizeof(double));
    if (!sum || !sq) { free(sum); free(sq); return NDYN_ENOMEM; }
    for (size_t i = 0; i < n; i++) {
        double tot = 0;
        for (size_t k = 0; k < r; k++) tot += sigma[i * r + k] * sigma[i * r + k];
        double c = 0;
        for (size_t k = 0; k < r; k++) {
            c += tot > 0 ? sigma[i * r + k] * sigma[i * r + k] / tot : 1.0 / (double)r;
            sum[k] += c;
            sq[k] += c * c;
        }
    }
    *m = (int)r;
    for (size_t k = 0; k < r; k++) {
        double mean = sum[k] / (double)n;
        double var = n > 1 ? (sq[k] - (double)n * mean * mean) / (double)(n - 1) : 0.0;
        double v = mean - sqrt(var > 0 ? var : 0);
        if (v >= var_explained - 1e-12) { *m = (int)k + 1; break; }
    }
    free(sum); free(sq);
    return NDYN_OK;
}
