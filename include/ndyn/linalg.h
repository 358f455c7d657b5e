/* ndyn linalg: sparse CSR matrices, dense helpers over CBLAS/LAPACKE,
 * symmetric eigensolvers (dense LAPACK dsyevr, sparse ARPACK Lanczos) and the
 * heat-kernel action exp(-tL)X with its t-derivative (spectral and Chebyshev).
 *
 * Matrices are row-major. Sparse matrices are CSR with int64 row pointers and
 * int32 column indices; column indices inside a row are sorted ascending.
 */
#ifndef NDYN_LINALG_H
#define NDYN_LINALG_H

#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --------------------------------------------------------------------- CSR */

/* A (nrows x ncols) sparse matrix. Row i holds entries
 * col[rowptr[i] .. rowptr[i+1]) with values val[...]. `block` is 1 for a
 * scalar matrix; b > 1 records that the matrix is the expanded form of an
 * (nrows/b x ncols/b) matrix of b x b blocks (node-major: row i*b + p), as the
 * manifold-mode operators of geom are. It is informational: every CSR
 * routine treats the matrix as scalar. */
typedef struct ndyn_csr {
    size_t nrows, ncols;
    size_t nnz;
    int64_t *rowptr;   /* (nrows + 1) */
    int32_t *col;      /* (nnz) */
    double *val;       /* (nnz) */
    int block;
} ndyn_csr;

/* Allocate an (nrows x ncols) matrix with room for nnz entries; rowptr is
 * zeroed. Fails on sizes beyond int32 columns / overflow. */
int ndyn_csr_alloc(ndyn_csr *A, size_t nrows, size_t ncols, size_t nnz);
void ndyn_csr_free(ndyn_csr *A);            /* frees the arrays, zeroes *A */
int ndyn_csr_copy(ndyn_csr *dst, const ndyn_csr *src);
/* Check structure: rowptr monotone, columns in range and sorted, values finite. */
int ndyn_csr_check(const ndyn_csr *A, const char *what);
/* Build from triplets (duplicates summed). */
int ndyn_csr_from_triplets(ndyn_csr *A, size_t nrows, size_t ncols, size_t nnz,
                           const int64_t *row, const int64_t *col, const double *val);
/* Dense copy: out is (nrows, ncols). */
int ndyn_csr_to_dense(const ndyn_csr *A, double *out);
int ndyn_csr_transpose(const ndyn_csr *A, ndyn_csr *At);
/* A[i,j] (0 when not stored). O(log row length). */
double ndyn_csr_get(const ndyn_csr *A, size_t i, size_t j);

/* Y = alpha * A * X + beta * Y.  X is (ncols, c), Y is (nrows, c), row-major.
 * beta == 0 ignores the previous contents of Y (NaN-safe). */
void ndyn_csr_spmm(const ndyn_csr *A, const double *X, size_t c, double alpha,
                   double beta, double *Y);
/* y = A x */
void ndyn_csr_spmv(const ndyn_csr *A, const double *x, double *y);
/* Only selected rows: Y[r] = (A X)[rows[r]] for r < nsel. Y is (nsel, c). */
void ndyn_csr_spmm_rows(const ndyn_csr *A, const size_t *rows, size_t nsel,
                        const double *X, size_t c, double *Y);
/* Submatrix A[rows, :][:, cols]; cols must be distinct. In block mode
 * (A->block = b > 1) rows/cols name blocks (nodes) and the result keeps the
 * b x b blocks. */
int ndyn_csr_submatrix(const ndyn_csr *A, const size_t *rows, size_t nr,
                       const size_t *cols, size_t nc, ndyn_csr *out);

/* ------------------------------------------------------------ dense helpers */

/* C (m,n) = alpha * op(A) op(B) + beta * C, row-major; ta/tb transpose flags. */
void ndyn_gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha,
               const double *A, const double *B, double beta, double *C);
/* All eigenpairs of a dense symmetric (n x n) matrix A (row-major, only the
 * lower triangle is read... both triangles must be equal). w (n) ascending,
 * Z (n, n) with eigenvector j in column j (row-major: Z[i*n + j]). LAPACK dsyevr. */
int ndyn_syevr(size_t n, const double *A, double *w, double *Z);
/* Thin SVD of a dense (m x n) matrix: U (m, r), S (r), Vt (r, n), r = min(m,n).
 * Any output may be NULL except S. LAPACK dgesdd. */
int ndyn_svd(size_t m, size_t n, const double *A, double *U, double *S, double *Vt);
/* Singular values S (r) and right singular vectors Vt (r, n), r = min(m, n),
 * of a dense (m x n) matrix A, which is overwritten (no copy: for large data
 * matrices, e.g. PCA and least squares on centred data). what names A in
 * errors. LAPACK dgesvd. */
int ndyn_svd_vt(size_t m, size_t n, double *A, double *S, double *Vt, const char *what);
/* Dense matrix exponential E = expm(A), (n x n), by scaling and squaring with a
 * degree-13 Pade approximant (tests and small problems). */
int ndyn_expm(size_t n, const double *A, double *E);

/* ------------------------------------------------------------ eigensolvers */

/* The nev smallest eigenpairs of a sparse symmetric matrix L whose spectrum
 * lies in [0, 2] (normalised Laplacians). Computed by ARPACK (implicitly
 * restarted Lanczos) as the largest eigenpairs of 2I - L, or by dsyevr
 * for n <= dense_max. w (nev) ascending, V (n, nev) orthonormal columns
 * (row-major). Deterministic: the start vector comes from `seed`. */
int ndyn_eigsh_smallest(const ndyn_csr *L, size_t nev, double tol, uint64_t seed,
                        double *w, double *V);

/* ------------------------------------------------------ heat-kernel action */

/* Y = exp(-t L) X and dY = d/dt exp(-t L) X = -L exp(-t L) X for a symmetric
 * L with spectrum in [0, 2], by the Chebyshev expansion
 *   exp(-tL) = e^{-t} [I_0(t) I + 2 sum_{k>=1} (-1)^k I_k(t) T_k(L - I)],
 * truncated when the remaining terms are below tol (relative; default 1e-14
 * when tol <= 0). X, Y, dY are (n, c); dY may be NULL; t >= 0. Costs about
 * (8 sqrt(t) + 20) sparse products (e^{-t} I_k(t) decays like exp(-k^2/2t)). */
int ndyn_expmv_cheb(const ndyn_csr *L, double t, const double *X, size_t c,
                    double tol, double *Y, double *dY);
/* Scaled modified Bessel functions e^{-t} I_k(t), k = 0..kmax (Miller's
 * backward recurrence, normalised by I_0 + 2 sum I_k = e^t). */
int ndyn_bessel_i_scaled(double t, int kmax, double *out);

/* Number K of Chebyshev terms (k = 0..K) that ndyn_expmv_cheb keeps for t
 * and tol (default 1e-14 when tol <= 0); -1 when t is out of [0, 1e5]. */
int ndyn_heat_cheb_terms(double t, double tol);

/* Cached Chebyshev basis of a fixed block X (n, c) for repeated heat actions
 * at changing t: V_k = T_k(L - I) X (k = 0..K) is kept, so that rows of
 * exp(-tL)X and of its t-derivative cost O(K c) each, with
 *   exp(-tL)X = sum_k (2 - delta_k0) (-1)^k e^{-t} I_k(t) V_k.
 * The basis grows lazily to the K that t needs (ndyn_heat_cheb_terms); it
 * never holds more than max_bytes of terms: apply fails with NDYN_ENOMEM when
 * t needs more (compare ndyn_heat_cheb_terms(t, tol) + 1 with
 * ndyn_cheb_basis_max_terms() first to fall back to ndyn_expmv_cheb). L is
 * borrowed and must outlive the basis; X is copied. */
typedef struct ndyn_cheb_basis ndyn_cheb_basis;
int ndyn_cheb_basis_new(const ndyn_csr *L, const double *X, size_t c, size_t max_bytes,
                        ndyn_cheb_basis **out);
void ndyn_cheb_basis_free(ndyn_cheb_basis *b);
size_t ndyn_cheb_basis_max_terms(const ndyn_cheb_basis *b); /* bound on K + 1 */
size_t ndyn_cheb_basis_terms(const ndyn_cheb_basis *b);     /* terms computed so far */
/* The first `want` terms (extended if needed; at most max_terms): *V holds
 * term k of row i at V[i * row_stride + k * c .. + c). Valid until the next
 * call that extends the basis. */
int ndyn_cheb_basis_view(ndyn_cheb_basis *b, size_t want, const double **V, size_t *row_stride);
/* Coefficients of the expansion at t: ck[k] = (2 - delta_k0)(-1)^k e^{-t} I_k(t)
 * and dk[k] = d ck / dt (dk may be NULL), k < nt. */
int ndyn_cheb_heat_coefficients(double t, size_t nt, double *ck, double *dk);
/* Y (nsel, c) = rows of exp(-tL)X (rows NULL: all n rows, nsel ignored);
 * dY = d/dt of them (may be NULL). */
int ndyn_cheb_basis_apply(ndyn_cheb_basis *b, double t, double tol, const size_t *rows,
                          size_t nsel, double *Y, double *dY);

/* Spectral heat action: Y = V diag(e^{-w t}) Vᵀ X. V (n, k), X (n, c),
 * Y (n, c), dY = -V diag(w e^{-w t}) Vᵀ X (may be NULL). */
int ndyn_heat_spectral(size_t n, size_t k, const double *w, const double *V, double t,
                       const double *X, size_t c, double *Y, double *dY);

#ifdef __cplusplus
}
#endif
#endif
