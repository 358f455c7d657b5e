/* Validation and small numeric helpers shared by the analysis tools. */
#include <stdlib.h>

#include "analysis/analysis_internal.h"

int ana_check_matrix(const double *x, size_t n, size_t d, const char *what)
{
    if (!x) return ndyn_error(NDYN_EINVAL, "%s is NULL", what);
    if (n == 0) return ndyn_error(NDYN_EINVAL, "%s has no rows; give at least one sample", what);
    if (d == 0) return ndyn_error(NDYN_EINVAL, "%s has no columns", what);
    size_t nd;
    if (ndyn_size_mul(n, d, &nd)) return NDYN_ENOMEM;
    return NDYN_OK;
}

int ana_check_labels(const int *l, size_t n, int n_classes, const char *what)
{
    if (!l) return ndyn_error(NDYN_EINVAL, "%s is NULL", what);
    for (size_t i = 0; i < n; i++)
        if (l[i] < 0 || l[i] >= n_classes)
            return ndyn_error(NDYN_EINVAL, "%s[%zu] = %d is outside [0, %d); relabel to 0..%d", what, i,
                              l[i], n_classes, n_classes - 1);
    return NDYN_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ana_median_inplace(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    if (n % 2) return x[n / 2];
    return 0.5 * (x[n / 2 - 1] + x[n / 2]);
}
