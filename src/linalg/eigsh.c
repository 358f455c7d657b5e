/* The smallest eigenpairs of a sparse symmetric matrix with spectrum in
 * [0, 2] (normalised Laplacians): dense dsyevr for small n, otherwise ARPACK
 * implicitly restarted Lanczos on 2I - L (largest algebraic), which needs
 * only products with L (no factorisation). */
#include "ndyn/linalg.h"

#include <arpack/arpack.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DENSE_MAX 1500

static int eig_dense(const ndyn_csr *L, size_t nev, double *w, double *V)
{
    size_t n = L->nrows;
    double *A = ndyn_malloc_array(n * n, sizeof(double));
    double *Z = ndyn_malloc_array(n * n, sizeof(double));
    double *ww = ndyn_malloc_array(n, sizeof(double));
    if (!A || !Z || !ww) { free(A); free(Z); free(ww); return NDYN_ENOMEM; }
    ndyn_csr_to_dense(L, A);
    /* symmetrise against round-off */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            double a = 0.5 * (A[i * n + j] + A[j * n + i]);
            A[i * n + j] = A[j * n + i] = a;
        }
    int rc = ndyn_syevr(n, A, ww, Z);
    if (!rc) {
        memcpy(w, ww, nev * sizeof(double));
        for (size_t i = 0; i < n; i++) memcpy(V + i * nev, Z + i * n, nev * sizeof(double));
    }
    free(A); free(Z); free(ww);
    return rc;
}

int ndyn_eigsh_smallest(const ndyn_csr *L, size_t nev, double tol, uint64_t seed, double *w,
                        double *V)
{
    size_t n = L->nrows;
    if (L->ncols != n) return ndyn_error(NDYN_ESHAPE, "eigensolver: matrix is %zu x %zu, not square", n, L->ncols);
    if (nev == 0 || nev > n)
        return ndyn_error(NDYN_EINVAL, "asked for %zu eigenpairs of a %zu x %zu matrix; ask for 1..%zu", nev, n, n, n);
    if (n <= DENSE_MAX || nev + 1 >= n / 2) {
        if (n > 20000)
            return ndyn_error(NDYN_EINVAL, "%zu eigenpairs of n = %zu is too many for a dense solve; ask for fewer than %zu",
                              nev, n, n / 2);
        return eig_dense(L, nev, w, V);
    }
    if (n > INT32_MAX) return ndyn_error(NDYN_EINVAL, "eigensolver: n = %zu too large", n);
    a_int N = (a_int)n, NEV = (a_int)nev;
    a_int ncv = 2 * NEV + 20;
    if (ncv > N) ncv = N;
    size_t lworkl = (size_t)ncv * (size_t)(ncv + 8);
    double *resid = ndyn_malloc_array(n, sizeof(double));
    double *v = ndyn_malloc_array(n * (size_t)ncv, sizeof(double));
    double *workd = ndyn_malloc_array(3 * n, sizeof(double));
    double *workl = ndyn_malloc_array(lworkl, sizeof(double));
    double *d = ndyn_malloc_array(nev, sizeof(double));
    double *z = ndyn_malloc_array(n * nev, sizeof(double));
    a_int *select = ndyn_calloc((size_t)ncv, sizeof(a_int));
    if (!resid || !v || !workd || !workl || !d || !z || !select) {
        free(resid); free(v); free(workd); free(workl); free(d); free(z); free(select);
        return NDYN_ENOMEM;
    }
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0x65696773ULL);
    for (size_t i = 0; i < n; i++) resid[i] = ndyn_rng_uniform(&r) - 0.5;
    a_int iparam[11] = {0}, ipntr[14] = {0};
    iparam[0] = 1;              /* exact shifts */
    iparam[2] = 10000;          /* max iterations */
    iparam[6] = 1;              /* mode 1: standard problem */
    a_int ido = 0, info = 1;    /* info = 1: use resid as start */
    if (tol <= 0) tol = 1e-12;
    /* ARPACK's work is BLAS-2 on tall, thin matrices and one product with L
     * per step: memory-bound, and thread start-up per call costs more than it
     * gains (measured: 15 s with 2 threads vs 2 s serial at n = 1e4 on a busy
     * 2-core machine). Run serially and restore the BLAS thread count. */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (;;) {
        dsaupd_c(&ido, "I", N, "LA", NEV, tol, resid, ncv, v, N, iparam, ipntr, workd, workl,
                 (a_int)lworkl, &info);
        if (ido != 1 && ido != -1) break;
        const double *x = workd + ipntr[0] - 1;
        double *y = workd + ipntr[1] - 1;
        for (size_t i = 0; i < n; i++) { /* y = (2I - L) x, serial */
            double acc = 2.0 * x[i];
            for (int64_t p = L->rowptr[i]; p < L->rowptr[i + 1]; p++) acc -= L->val[p] * x[L->col[p]];
            y[i] = acc;
        }
    }
    int rc = NDYN_OK;
    if (info < 0 || info == 1) {
        rc = ndyn_error(NDYN_ECONVERGE,
                        "ARPACK dsaupd failed (info %d, %d of %zu eigenpairs converged); ask for fewer "
                        "eigenvectors or use the Chebyshev diffusion (--eigenvectors 0)",
                        (int)info, (int)iparam[4], nev);
    } else {
        a_int rinfo = 0;
        dseupd_c(1, "A", select, d, z, N, 0.0, "I", N, "LA", NEV, tol, resid, ncv, v, N, iparam,
                 ipntr, workd, workl, (a_int)lworkl, &rinfo);
        if (rinfo != 0) {
            rc = ndyn_error(NDYN_ECONVERGE, "ARPACK dseupd failed (info %d)", (int)rinfo);
        } else {
            /* d ascending for 2I - L (largest last): reverse into L's ascending order */
            for (size_t j = 0; j < nev; j++) {
                size_t src = nev - 1 - j;
                w[j] = 2.0 - d[src];
                if (w[j] < 0 && w[j] > -1e-10) w[j] = 0.0;
                for (size_t i = 0; i < n; i++) V[i * nev + j] = z[src * n + i];
            }
            /* ensure ascending even if ARPACK's order differs */
            for (size_t a = 1; a < nev; a++)
                for (size_t b = a; b > 0 && w[b - 1] > w[b]; b--) {
                    double tw = w[b]; w[b] = w[b - 1]; w[b - 1] = tw;
                    for (size_t i = 0; i < n; i++) {
                        double tv = V[i * nev + b];
                        V[i * nev + b] = V[i * nev + b - 1];
                        V[i * nev + b - 1] = tv;
                    }
                }
        }
    }
    openblas_set_num_threads(blas_threads);
    free(resid); free(v); free(workd); free(workl); free(d); free(z); free(select);
    return rc;
}
