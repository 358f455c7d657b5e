/* Classical (Torgerson) multidimensional scaling of a distance matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "analysis/analysis_internal.h"

int ndyn_mds_classical(const double *dist, size_t n, size_t k, double *coords,
                       double *eigenvalues, double *stress)
{
    if (!dist) return ndyn_error(NDYN_EINVAL, "MDS: dist is NULL");
    if (n == 0) return ndyn_error(NDYN_EINVAL, "MDS: empty distance matrix");
    if (k > n) return ndyn_error(NDYN_EINVAL, "MDS: %zu coordinates asked of %zu points; give k <= n", k, n);
    if (k > 0 && !coords) return ndyn_error(NDYN_EINVAL, "MDS: coords is NULL");
    size_t nn;
    if (ndyn_size_mul(n, n, &nn)) return NDYN_ENOMEM;
    if (n > (size_t)INT32_MAX) return ndyn_error(NDYN_EINVAL, "MDS: %zu points is beyond LAPACK's int sizes", n);
    int rc = ndyn_check_finite(dist, nn, "MDS distance matrix");
    if (rc) return rc;
    double scale = 0;
    for (size_t i = 0; i < nn; i++) scale = fmax(scale, fabs(dist[i]));
    for (size_t i = 0; i < n; i++) {
        if (dist[i * n + i] != 0)
            return ndyn_error(NDYN_EINVAL, "MDS: dist[%zu][%zu] = %g; the diagonal must be 0", i, i,
                              dist[i * n + i]);
        for (size_t j = 0; j < i; j++) {
            double a = dist[i * n + j], b = dist[j * n + i];
            if (a < 0)
                return ndyn_error(NDYN_EINVAL, "MDS: dist[%zu][%zu] = %g is negative", i, j, a);
            if (fabs(a - b) > 1e-10 * scale)
                return ndyn_error(NDYN_EINVAL, "MDS: dist is not symmetric (dist[%zu][%zu] = %.17g, "
                                  "dist[%zu][%zu] = %.17g); symmetrise it first", i, j, a, j, i, b);
        }
    }
    double *B = ndyn_malloc_array(nn, sizeof *B), *rowm = ndyn_malloc_array(n, sizeof *rowm);
    double *w = ndyn_malloc_array(n, sizeof *w), *V = NULL;
    int *isuppz = ndyn_malloc_array(2 * n, sizeof *isuppz);
    if (!B || !rowm || !w || !isuppz) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    /* B = -1/2 J D.^2 J: subtract row and column means of D.^2, add the grand mean. */
    double grand = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++) {
            double d = 0.5 * (dist[i * n + j] + dist[j * n + i]);
            B[i * n + j] = d * d;
            s += d * d;
        }
        rowm[i] = s / (double)n;
        grand += s;
    }
    grand /= (double)nn;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) B[i * n + j] = -0.5 * (B[i * n + j] - rowm[i] - rowm[j] + grand);

    /* All eigenvalues when asked for, else only the top k pairs. */
    lapack_int N = (lapack_int)n, m = 0;
    size_t nv = k ? k : 1;
    V = ndyn_malloc_array(n * nv, sizeof *V);
    if (!V) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    lapack_int info;
    if (eigenvalues) {
        info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'N', 'A', 'U', N, B, N, 0, 0, 0, 0, 0, &m, w, V, (lapack_int)nv,
                              isuppz);
        if (info) {
            rc = ndyn_error(NDYN_ECONVERGE, "MDS: LAPACK dsyevr failed (info %d)", (int)info);
            goto done;
        }
        for (size_t i = 0; i < n; i++) eigenvalues[i] = w[n - 1 - i];
        /* dsyevr destroyed B: rebuild it for the vectors. */
        if (k) {
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double d = 0.5 * (dist[i * n + j] + dist[j * n + i]);
                    B[i * n + j] = -0.5 * (d * d - rowm[i] - rowm[j] + grand);
                }
        }
    }
    if (k) {
        info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', N, B, N, 0, 0, (lapack_int)(n - k + 1), N,
                              0, &m, w, V, (lapack_int)nv, isuppz);
        if (info || (size_t)m != k) {
            rc = ndyn_error(NDYN_ECONVERGE, "MDS: LAPACK dsyevr failed (info %d, %d of %zu eigenpairs)",
                            (int)info, (int)m, k);
            goto done;
        }
        /* Ascending from dsyevr: column c of coords is eigenpair k - 1 - c. */
        for (size_t c = 0; c < k; c++) {
            size_t src = k - 1 - c;
            double lam = w[src], sq = lam > 0 ? sqrt(lam) : 0.0;
            size_t amax = 0;
            for (size_t i = 0; i < n; i++)
                if (fabs(V[i * nv + src]) > fabs(V[amax * nv + src])) amax = i;
            double sgn = V[amax * nv + src] < 0 ? -1.0 : 1.0;
            for (size_t i = 0; i < n; i++) coords[i * k + c] = sgn * sq * V[i * nv + src];
        }
    }
    if (stress) {
        double num = 0, den = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                double e = k ? sqrt(ana_sqdist(coords + i * k, coords + j * k, k)) : 0.0;
                double d = dist[i * n + j];
                num += (d - e) * (d - e);
                den += d * d;
            }
        *stress = den > 0 ? sqrt(num / den) : 0.0;
    }
done:
    free(B);
    free(rowm);
    free(w);
    free(V);
    free(isuppz);
    return rc;
}
