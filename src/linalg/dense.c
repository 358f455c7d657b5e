/* Dense helpers over CBLAS/LAPACKE: gemm, symmetric eigensolver (dsyevr),
 * thin SVD (dgesdd), singular values and right vectors in place (dgesvd). */
#include "ndyn/linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ndyn_gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
               const double *B, double beta, double *C)
{
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, A, ta ? (int)m : (int)k, B, tb ? (int)k : (int)n,
                beta, C, (int)n);
}

int ndyn_syevr(size_t n, const double *A, double *w, double *Z)
{
    if (n == 0) return NDYN_OK;
    if (n > 46000) return ndyn_error(NDYN_EINVAL, "dense eigensolver asked for n = %zu; use the sparse one", n);
    int rc = ndyn_check_finite(A, n * n, "symmetric matrix");
    if (rc) return rc;
    double *a = ndyn_malloc_array(n * n, sizeof(double));
    lapack_int *isuppz = ndyn_malloc_array(2 * n, sizeof(lapack_int));
    if (!a || !isuppz) { free(a); free(isuppz); return NDYN_ENOMEM; }
    memcpy(a, A, n * n * sizeof(double));
    lapack_int mfound = 0;
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'A', 'L', (lapack_int)n, a, (lapack_int)n,
                                     0, 0, 0, 0, 0.0, &mfound, w, Z, (lapack_int)n, isuppz);
    free(a);
    free(isuppz);
    if (info != 0 || (size_t)mfound != n)
        return ndyn_error(NDYN_ECONVERGE, "LAPACK dsyevr failed (info %d) on a %zu x %zu matrix",
                          (int)info, n, n);
    return NDYN_OK;
}

int ndyn_svd(size_t m, size_t n, const double *A, double *U, double *S, double *Vt)
{
    size_t r = m < n ? m : n;
    if (r == 0) return NDYN_OK;
    double *a = ndyn_malloc_array(m * n, sizeof(double));
    double *u = ndyn_malloc_array(m * r, sizeof(double));
    double *vt = ndyn_malloc_array(r * n, sizeof(double));
    if (!a || !u || !vt) { free(a); free(u); free(vt); return NDYN_ENOMEM; }

    memcpy(a, A, m * n * sizeof(double));
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, a,
                                     (lapack_int)n, S, u, (lapack_int)r, vt, (lapack_int)n);
    if (info == 0) {
        if (U) memcpy(U, u, m * r * sizeof(double));
        if (Vt) memcpy(Vt, vt, r * n * sizeof(double));
    }
    free(a); free(u); free(vt);
    if (info != 0) return ndyn_error(NDYN_ECONVERGE, "LAPACK dgesdd failed (info %d)", (int)info);
    return NDYN_OK;
}

int ndyn_svd_vt(size_t m, size_t n, double *A, double *S, double *Vt, const char *what)
{
    size_t r = m < n ? m : n;
    if (r == 0) return NDYN_OK;
    if (!A || !S || !Vt) return ndyn_error(NDYN_EINVAL, "%s: SVD with a NULL matrix or output", what);
    if (m > (size_t)INT32_MAX || n > (size_t)INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "%s: (%zu, %zu) too large for LAPACK", what, m, n);
    double *sup = ndyn_malloc_array(r, sizeof *sup);
    if (!sup) return NDYN_ENOMEM;
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'S', (lapack_int)m, (lapack_int)n, A,
                                     (lapack_int)n, S, NULL, 1, Vt, (lapack_int)n, sup);
    free(sup);
    if (info > 0) return ndyn_error(NDYN_ECONVERGE, "%s: the SVD did not converge (LAPACK info %d)", what, (int)info);
    if (info < 0) return ndyn_error(NDYN_EINTERNAL, "%s: dgesvd argument %d invalid", what, (int)-info);
    return NDYN_OK;
}

/* Scaling and squaring with the [13/13] Pade approximant (Higham 2005). */
int ndyn_expm(size_t n, const double *A, double *E)
{
    static const double b[14] = {64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
                                 1187353796428800.0,  129060195264000.0,   10559470521600.0,
                                 670442572800.0,      33522128640.0,       1323241920.0,
                                 40840800.0,          960960.0,            16380.0,
                                 182.0,               1.0};
    int rc = ndyn_check_finite(A, n * n, "matrix for expm");
    if (rc) return rc;
    double norm = 0;
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += fabs(A[i * n + j]);
        if (s > norm) norm = s;
    }
    int sq = 0;
    if (norm > 5.371920351148152) sq = (int)ceil(log2(norm / 5.371920351148152));
    size_t nn = n * n;
    double *w = ndyn_malloc_array(nn * 9, sizeof(double));
    lapack_int *piv = ndyn_malloc_array(n ? n : 1, sizeof(lapack_int));
    if (!w || !piv) { free(w); free(piv); return NDYN_ENOMEM; }
    double *As = w, *A2 = w + nn, *A4 = w + 2 * nn, *A6 = w + 3 * nn, *U = w + 4 * nn,
           *V = w + 5 * nn, *T = w + 6 * nn, *P = w + 7 * nn, *Q = w + 8 * nn;
    double sc = ldexp(1.0, -sq);
    for (size_t i = 0; i < nn; i++) As[i] = A[i] * sc;
    ndyn_gemm(0, 0, n, n, n, 1.0, As, As, 0.0, A2);
    ndyn_gemm(0, 0, n, n, n, 1.0, A2, A2, 0.0, A4);
    ndyn_gemm(0, 0, n, n, n, 1.0, A4, A2, 0.0, A6);
    /* U = A [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I] */
    for (size_t i = 0; i < nn; i++) T[i] = b[13] * A6[i] + b[11] * A4[i] + b[9] * A2[i];
    ndyn_gemm(0, 0, n, n, n, 1.0, A6, T, 0.0, P);
    for (size_t i = 0; i < nn; i++) P[i] += b[7] * A6[i] + b[5] * A4[i] + b[3] * A2[i];
    for (size_t i = 0; i < n; i++) P[i * n + i] += b[1];
    ndyn_gemm(0, 0, n, n, n, 1.0, As, P, 0.0, U);
    /* V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I */
    for (size_t i = 0; i < nn; i++) T[i] = b[12] * A6[i] + b[10] * A4[i] + b[8] * A2[i];
    ndyn_gemm(0, 0, n, n, n, 1.0, A6, T, 0.0, V);
    for (size_t i = 0; i < nn; i++) V[i] += b[6] * A6[i] + b[4] * A4[i] + b[2] * A2[i];
    for (size_t i = 0; i < n; i++) V[i * n + i] += b[0];
    /* (V - U) E = (V + U) */
    for (size_t i = 0; i < nn; i++) { P[i] = V[i] - U[i]; Q[i] = V[i] + U[i]; }
    lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, P, (lapack_int)n,
                                    piv, Q, (lapack_int)n);
    if (info != 0) {
        free(w); free(piv);
        return ndyn_error(NDYN_ECONVERGE, "expm: Pade denominator singular (info %d)", (int)info);
    }
    for (int s = 0; s < sq; s++) {
        ndyn_gemm(0, 0, n, n, n, 1.0, Q, Q, 0.0, T);
        memcpy(Q, T, nn * sizeof(double));
    }
    memcpy(E, Q, nn * sizeof(double));
    free(w); free(piv);
    return NDYN_OK;
}
