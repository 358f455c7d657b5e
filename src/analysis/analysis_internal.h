/* Helpers shared inside src/analysis/. */
#ifndef NDYN_ANALYSIS_INTERNAL_H
#define NDYN_ANALYSIS_INTERNAL_H

#include <stddef.h>

#include "ndyn/analysis.h"

/* Squared Euclidean distance between a and b (d). */
static inline double ana_sqdist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

/* Fails with a message when n * d overflows or a pointer is NULL. */
int ana_check_matrix(const double *x, size_t n, size_t d, const char *what);

/* Labels in [0, n_classes): fails naming the first bad one. */
int ana_check_labels(const int *l, size_t n, int n_classes, const char *what);

/* Median of x (n), reordering x in place. n >= 1. */
double ana_median_inplace(double *x, size_t n);

#endif
