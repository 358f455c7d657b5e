/* Private helpers shared inside src/geom. */
#ifndef NDYN_GEOM_INTERNAL_H
#define NDYN_GEOM_INTERNAL_H

#include "ndyn/geom.h"

/* Eigen-decomposition of a small symmetric (n x n) matrix A (destroyed) by
 * cyclic Jacobi: w (n) DESCENDING, V (n, n) eigenvector j in column j.
 * Own code because LAPACK's per-call workspace allocation dominates for the
 * millions of 2x2..8x8 problems of tangent spaces and connections. */
void ndyn_geom_jacobi_eig(size_t n, double *A, double *w, double *V);

/* Symmetric union of a directed neighbour structure: rows of A (n x n, no
 * self entries) united with their transpose, values 1/||x_i - x_j||.
 * Fails on a zero-length edge (duplicate points). */
int ndyn_geom_symmetrize(const ndyn_csr *A, const double *X, size_t D, ndyn_csr *G);

/* Pattern of G plus the diagonal, sorted: S (n x n, nnz(G) + n) with zero
 * values; diagpos[i] is the position of (i, i). */
int ndyn_geom_pattern_with_diag(const ndyn_csr *G, ndyn_csr *S, int64_t *diagpos);
/* Blocks of R (same block pattern as S) scaled by S's scalar at each block. */
int ndyn_geom_expand_blocks(const ndyn_csr *S, const ndyn_csr *R, int mi, ndyn_csr *out);

static inline double ndyn_geom_dist(const double *a, const double *b, size_t D)
{
    double s = 0;
    for (size_t d = 0; d < D; d++) {
        double t = a[d] - b[d];
        s += t * t;
    }
    return __builtin_sqrt(s);
}

#endif
