/* Sparse times dense products: Y = alpha A X + beta Y, and selected rows. */
#include "ndyn/linalg.h"

#include <string.h>

void ndyn_csr_spmm(const ndyn_csr *A, const double *X, size_t c, double alpha, double beta,
                   double *Y)
{
    long nr = (long)A->nrows;
#pragma omp parallel for schedule(static) if (A->nnz * c > 4000000) /* below, thread wake-up costs more than it gains */
    for (long i = 0; i < nr; i++) {
        double *y = Y + (size_t)i * c;
        if (beta == 0.0) memset(y, 0, c * sizeof(double));
        else if (beta != 1.0)
            for (size_t r = 0; r < c; r++) y[r] *= beta;
        for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
            double a = alpha * A->val[p];
            const double *x = X + (size_t)A->col[p] * c;
            for (size_t r = 0; r < c; r++) y[r] += a * x[r];
        }
    }
}

void ndyn_csr_spmv(const ndyn_csr *A, const double *x, double *y)
{
    ndyn_csr_spmm(A, x, 1, 1.0, 0.0, y);
}

void ndyn_csr_spmm_rows(const ndyn_csr *A, const size_t *rows, size_t nsel, const double *X,
                        size_t c, double *Y)
{
    for (size_t r = 0; r < nsel; r++) {
        size_t i = rows[r];
        double *y = Y + r * c;
        memset(y, 0, c * sizeof(double));
        for (int64_t p = A->rowptr[i]; p < A->rowptr[i + 1]; p++) {
            double a = A->val[p];
            const double *x = X + (size_t)A->col[p] * c;
            for (size_t q = 0; q < c; q++) y[q] += a * x[q];
        }
    }
}
