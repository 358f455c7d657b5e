/* Sparse CSR matrices: allocation, construction from triplets, checks,
 * dense conversion, transpose, element lookup and submatrices. */
#include "ndyn/linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ndyn_csr_alloc(ndyn_csr *A, size_t nrows, size_t ncols, size_t nnz)
{
    memset(A, 0, sizeof *A);
    if (nrows > INT32_MAX || ncols > INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "sparse matrix of %zu x %zu exceeds 2^31-1 rows or columns",
                          nrows, ncols);
    A->rowptr = ndyn_calloc(nrows + 1, sizeof(int64_t));
    A->col = ndyn_malloc_array(nnz ? nnz : 1, sizeof(int32_t));
    A->val = ndyn_malloc_array(nnz ? nnz : 1, sizeof(double));
    if (!A->rowptr || !A->col || !A->val) {
        ndyn_csr_free(A);
        return ndyn_error(NDYN_ENOMEM, "out of memory for a sparse matrix with %zu entries", nnz);
    }
    A->nrows = nrows;
    A->ncols = ncols;
    A->nnz = nnz;
    A->block = 1;
    return NDYN_OK;
}

void ndyn_csr_free(ndyn_csr *A)
{
    if (!A) return;
    free(A->rowptr);
    free(A->col);
    free(A->val);
    memset(A, 0, sizeof *A);
}

int ndyn_csr_copy(ndyn_csr *dst, const ndyn_csr *src)
{
    int rc = ndyn_csr_alloc(dst, src->nrows, src->ncols, src->nnz);
    if (rc) return rc;
    memcpy(dst->rowptr, src->rowptr, (src->nrows + 1) * sizeof(int64_t));
    if (src->nnz) {
        memcpy(dst->col, src->col, src->nnz * sizeof(int32_t));
        memcpy(dst->val, src->val, src->nnz * sizeof(double));
    }
    dst->block = src->block;
    return NDYN_OK;
}

int ndyn_csr_check(const ndyn_csr *A, const char *what)
{
    if (!what) what = "sparse matrix";
    if (!A->rowptr || (A->nnz && (!A->col || !A->val)))
        return ndyn_error(NDYN_EINVAL, "%s: arrays missing", what);
    if (A->rowptr[0] != 0 || (size_t)A->rowptr[A->nrows] != A->nnz)
        return ndyn_error(NDYN_EFORMAT, "%s: row pointers do not span 0..%zu", what, A->nnz);
    for (size_t i = 0; i < A->nrows; i++) {
        if (A->rowptr[i + 1] < A->rowptr[i])
            return ndyn_error(NDYN_EFORMAT, "%s: row pointer decreases at row %zu", what, i);
        for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
            if (A->col[p] < 0 || (size_t)A->col[p] >= A->ncols)
                return ndyn_error(NDYN_EFORMAT, "%s: column %d out of range in row %zu", what,
                                  (int)A->col[p], i);
            if (p > A->rowptr[i] && A->col[p] <= A->col[p - 1])
                return ndyn_error(NDYN_EFORMAT, "%s: columns not sorted/unique in row %zu", what, i);
            if (!isfinite(A->val[p]))
                return ndyn_error(NDYN_ENONFINITE, "%s: non-finite value in row %zu", what, i);
        }
    }
    return NDYN_OK;
}

typedef struct { int64_t r, c; double v; } trip;

static int trip_cmp(const void *a, const void *b)
{
    const trip *x = a, *y = b;
    if (x->r != y->r) return x->r < y->r ? -1 : 1;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return 0;
}

int ndyn_csr_from_triplets(ndyn_csr *A, size_t nrows, size_t ncols, size_t nnz,
                           const int64_t *row, const int64_t *col, const double *val)
{
    trip *t = ndyn_malloc_array(nnz ? nnz : 1, sizeof *t);
    if (!t) return NDYN_ENOMEM;
    for (size_t e = 0; e < nnz; e++) {
        if (row[e] < 0 || (size_t)row[e] >= nrows || col[e] < 0 || (size_t)col[e] >= ncols) {
            free(t);
            return ndyn_error(NDYN_EINVAL, "triplet %zu (%lld, %lld) outside a %zu x %zu matrix", e,
                              (long long)row[e], (long long)col[e], nrows, ncols);
        }
        t[e].r = row[e];
        t[e].c = col[e];
        t[e].v = val[e];
    }
    qsort(t, nnz, sizeof *t, trip_cmp);
    size_t u = 0;
    for (size_t e = 0; e < nnz; e++) {
        if (u && t[u - 1].r == t[e].r && t[u - 1].c == t[e].c) t[u - 1].v += t[e].v;
        else t[u++] = t[e];
    }
    int rc = ndyn_csr_alloc(A, nrows, ncols, u);
    if (rc) { free(t); return rc; }
    for (size_t e = 0; e < u; e++) {
        A->rowptr[t[e].r + 1]++;
        A->col[e] = (int32_t)t[e].c;
        A->val[e] = t[e].v;
    }
    for (size_t i = 0; i < nrows; i++) A->rowptr[i + 1] += A->rowptr[i];
    free(t);
    return NDYN_OK;
}

int ndyn_csr_to_dense(const ndyn_csr *A, double *out)
{
    memset(out, 0, A->nrows * A->ncols * sizeof(double));
    for (size_t i = 0; i < A->nrows; i++)
        for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++)
            out[i * A->ncols + (size_t)A->col[p]] += A->val[p];
    return NDYN_OK;
}

int ndyn_csr_transpose(const ndyn_csr *A, ndyn_csr *At)
{
    int rc = ndyn_csr_alloc(At, A->ncols, A->nrows, A->nnz);
    if (rc) return rc;
    At->block = A->block;
    for (size_t p = 0; p < A->nnz; p++) At->rowptr[A->col[p] + 1]++;
    for (size_t j = 0; j < A->ncols; j++) At->rowptr[j + 1] += At->rowptr[j];
    int64_t *next = ndyn_malloc_array(A->ncols + 1, sizeof(int64_t));
    if (!next) { ndyn_csr_free(At); return NDYN_ENOMEM; }
    memcpy(next, At->rowptr, (A->ncols + 1) * sizeof(int64_t));
    for (size_t i = 0; i < A->nrows; i++)
        for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
            int64_t q = next[A->col[p]]++;
            At->col[q] = (int32_t)i;
            At->val[q] = A->val[p];
        }
    free(next);
    return NDYN_OK;
}

double ndyn_csr_get(const ndyn_csr *A, size_t i, size_t j)
{
    if (i >= A->nrows) return 0.0;
    int64_t lo = A->rowptr[i], hi = A->rowptr[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((size_t)A->col[mid] < j) lo = mid + 1;
        else hi = mid;
    }
    if (lo < A->rowptr[i + 1] && (size_t)A->col[lo] == j) return A->val[lo];
    return 0.0;
}

int ndyn_csr_submatrix(const ndyn_csr *A, const size_t *rows, size_t nr, const size_t *cols,
                       size_t nc, ndyn_csr *out)
{
    size_t b = A->block > 1 ? (size_t)A->block : 1;
    size_t nbcols = A->ncols / b, nbrows = A->nrows / b;
    int32_t *map = ndyn_malloc_array(nbcols ? nbcols : 1, sizeof(int32_t));
    if (!map) return NDYN_ENOMEM;
    for (size_t j = 0; j < nbcols; j++) map[j] = -1;
    for (size_t j = 0; j < nc; j++) {
        if (cols[j] >= nbcols) {
            free(map);
            return ndyn_error(NDYN_EINVAL, "submatrix column %zu out of range (%zu)", cols[j], nbcols);
        }
        if (map[cols[j]] >= 0) {
            free(map);
            return ndyn_error(NDYN_EINVAL, "submatrix column %zu listed twice; columns must be distinct",
                              cols[j]);
        }
        map[cols[j]] = (int32_t)j;
    }
    size_t nnz = 0;
    for (size_t r = 0; r < nr; r++) {
        if (rows[r] >= nbrows) {
            free(map);
            return ndyn_error(NDYN_EINVAL, "submatrix row %zu out of range (%zu)", rows[r], nbrows);
        }
        for (size_t p0 = 0; p0 < b; p0++) {
            size_t i = rows[r] * b + p0;
            for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++)
                if (map[A->col[p] / (int32_t)b] >= 0) nnz++;
        }
    }
    int rc = ndyn_csr_alloc(out, nr * b, nc * b, nnz);
    if (rc) { free(map); return rc; }
    out->block = (int)b;
    /* Gather, then sort each row by new column (mapping may permute). */
    size_t q = 0;
    for (size_t r = 0; r < nr; r++)
        for (size_t p0 = 0; p0 < b; p0++) {
            size_t i = rows[r] * b + p0;
            size_t start = q;
            for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
                int32_t nb = map[A->col[p] / (int32_t)b];
                if (nb < 0) continue;
                int32_t c = nb * (int32_t)b + A->col[p] % (int32_t)b;
                /* insertion sort into place */
                size_t z = q++;
                while (z > start && out->col[z - 1] > c) {
                    out->col[z] = out->col[z - 1];
                    out->val[z] = out->val[z - 1];
                    z--;
                }
                out->col[z] = c;
                out->val[z] = A->val[p];
            }
            out->rowptr[r * b + p0 + 1] = (int64_t)q;
        }
    free(map);
    return NDYN_OK;
}
