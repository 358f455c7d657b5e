/* kNN search: ndyn_knn_search (distances by BLAS in query blocks, heap
 * selection) against a naive baseline measured in the same run (direct
 * distance loops and the same heap-free selection a simple implementation
 * would use: a full sort of each query's distances). Sizes: the rat decoder
 * (5261 training rows, 1316 queries, 20 PCA dimensions, k 36) and a larger
 * cloud. Prints times, the speed-up and peak memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ndyn/analysis.h"

static int cmp_pair(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void naive(const double *ref, size_t nr, const double *q, size_t nq, size_t d, size_t k, size_t *idx)
{
    double *pairs = malloc(nr * 2 * sizeof *pairs);
    for (size_t i = 0; i < nq; i++) {
        for (size_t j = 0; j < nr; j++) {
            double s = 0;
            for (size_t c = 0; c < d; c++) {
                double t = q[i * d + c] - ref[j * d + c];
                s += t * t;
            }
            pairs[2 * j] = s;
            pairs[2 * j + 1] = (double)j;
        }
        qsort(pairs, nr, 2 * sizeof *pairs, cmp_pair);
        for (size_t c = 0; c < k; c++) idx[i * k + c] = (size_t)pairs[2 * c + 1];
    }
    free(pairs);
}

static void run(size_t nr, size_t nq, size_t d, size_t k)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    double *ref = malloc(nr * d * sizeof *ref), *q = malloc(nq * d * sizeof *q);
    size_t *i1 = malloc(nq * k * sizeof *i1), *i2 = malloc(nq * k * sizeof *i2);
    for (size_t i = 0; i < nr * d; i++) ref[i] = ndyn_rng_normal(&r);
    for (size_t i = 0; i < nq * d; i++) q[i] = ndyn_rng_normal(&r);
    double t0 = ndyn_time_now();
    naive(ref, nr, q, nq, d, k, i1);
    double t1 = ndyn_time_now();
    if (ndyn_knn_search(ref, nr, q, nq, d, k, NDYN_DIST_EUCLIDEAN, i2, NULL)) {
        fprintf(stderr, "knn failed: %s\n", ndyn_errmsg());
        exit(1);
    }
    double t2 = ndyn_time_now();
    size_t agree = 0;
    for (size_t i = 0; i < nq * k; i++) agree += i1[i] == i2[i];
    printf("kNN nr %6zu nq %6zu d %3zu k %3zu: naive %8.3f s, ndyn %8.3f s, speed-up %6.1fx, "
           "same neighbours %.4f, threads %d, peak RSS %.0f MiB\n",
           nr, nq, d, k, t1 - t0, t2 - t1, (t1 - t0) / (t2 - t1), (double)agree / (double)(nq * k),
           ndyn_num_threads(), ndyn_peak_rss_bytes() / 1048576.0);
    free(ref);
    free(q);
    free(i1);
    free(i2);
}

int main(void)
{
    run(5261, 1316, 20, 36);
    run(20000, 5000, 32, 36);
    return 0;
}
