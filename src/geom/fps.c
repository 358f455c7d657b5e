/* Farthest-point sampling with the reference's spacing rule (spec §3),
 * O(n D) per pick and O(n) memory. */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t farthest_from(const double *X, size_t n, size_t D, size_t a, double *dmax)
{
    size_t best = a;
    double bd = -1;
    for (size_t i = 0; i < n; i++) {
        double d = ndyn_geom_dist(X + a * D, X + i * D, D);
        if (d > bd) { bd = d; best = i; }
    }
    *dmax = bd;
    return best;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int ndyn_geom_fps(const double *X, size_t n, size_t D, double spacing, size_t start, size_t **sel,
                  size_t *nsel, double *diameter)
{
    *sel = NULL; *nsel = 0;
    if (n == 0) return ndyn_error(NDYN_EINVAL, "farthest-point sampling of an empty point cloud");
    if (!(spacing >= 0) || !(spacing < 1)) return ndyn_error(NDYN_EINVAL, "spacing = %g must be in [0, 1)", spacing);
    if (start >= n) return ndyn_error(NDYN_EINVAL, "start index %zu outside %zu points", start, n);
    int rc = ndyn_check_finite(X, n * D, "point positions");
    if (rc) return rc;
    /* Diameter: repeated double sweeps (farthest from the farthest), a lower
     * bound of the true diameter and at least half of it; exact for many
     * clouds and O(n D) per sweep. */
    double diam = 0, dcur;
    size_t a = farthest_from(X, n, D, start, &dcur);
    for (int sweep = 0; sweep < 4; sweep++) {
        size_t b = farthest_from(X, n, D, a, &dcur);
        if (dcur <= diam) break;
        diam = dcur;
        a = b;
    }
    if (diameter) *diameter = diam;
    size_t *s = ndyn_malloc_array(n, sizeof(size_t));
    double *ds = ndyn_malloc_array(n, sizeof(double));
    if (!s || !ds) { free(s); free(ds); return NDYN_ENOMEM; }
    for (size_t i = 0; i < n; i++) ds[i] = INFINITY;
    size_t m = 0, cur = start;
    s[m++] = cur;
    while (m < n) {
        const double *xc = X + cur * D;
        long nl = (long)n;
        size_t best = 0;
        double bd = -1;
#pragma omp parallel if (n > 20000)
        {
            size_t lb = 0;
            double lbd = -1;
#pragma omp for schedule(static)
            for (long i = 0; i < nl; i++) {
                double d = ndyn_geom_dist(xc, X + (size_t)i * D, D);
                if (d < ds[i]) ds[i] = d;
                if (ds[i] > lbd) { lbd = ds[i]; lb = (size_t)i; }
            }
#pragma omp critical
            if (lbd > bd || (lbd == bd && lb < best)) { bd = lbd; best = lb; }
        }
        if (diam == 0 || bd / diam < spacing) break; /* this pick is excluded */
        s[m++] = best;
        cur = best;
    }
    free(ds);
    qsort(s, m, sizeof(size_t), cmp_size);
    *sel = s;
    *nsel = m;
    return NDYN_OK;
}
