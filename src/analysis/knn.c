/* Brute-force k-nearest-neighbour search (distances by BLAS in blocks of
 * queries), and kNN regression and classification on top of it. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "analysis/analysis_internal.h"

enum { KNN_BLOCK = 256 };

/* (dist, idx) ordering: smaller distance first, then lower index. */
static int before(double da, size_t ia, double db, size_t ib)
{
    return da < db || (da == db && ia < ib);
}

/* Max-heap of the k best (dist, idx) so far; the root is the worst. */
static void heap_sift_down(double *hd, size_t *hi, size_t m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < m && before(hd[w], hi[w], hd[l], hi[l])) w = l;
        if (r < m && before(hd[w], hi[w], hd[r], hi[r])) w = r;
        if (w == i) return;
        double td = hd[i];
        hd[i] = hd[w];
        hd[w] = td;
        size_t ti = hi[i];
        hi[i] = hi[w];
        hi[w] = ti;
        i = w;
    }
}

static void heap_push(double *hd, size_t *hi, size_t *m, double d, size_t idx)
{
    size_t i = (*m)++;
    hd[i] = d;
    hi[i] = idx;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(hd[p], hi[p], hd[i], hi[i])) break;
        double td = hd[i];
        hd[i] = hd[p];
        hd[p] = td;
        size_t ti = hi[i];
        hi[i] = hi[p];
        hi[p] = ti;
        i = p;
    }
}

/* Select the k smallest of row (nr) into idx/dist, sorted ascending. */
static void select_k(const double *row, size_t nr, size_t k, double *hd, size_t *hi, size_t *idx,
                     double *dist)
{
    size_t m = 0;
    for (size_t j = 0; j < nr; j++) {
        double v = row[j];
        if (m < k) heap_push(hd, hi, &m, v, j);
        else if (before(v, j, hd[0], hi[0])) {
            hd[0] = v;
            hi[0] = j;
            heap_sift_down(hd, hi, m, 0);
        }
    }
    /* Heap sort in place: repeatedly move the worst to the end. */
    for (size_t e = m; e > 1; e--) {
        double td = hd[0];
        hd[0] = hd[e - 1];
        hd[e - 1] = td;
        size_t ti = hi[0];
        hi[0] = hi[e - 1];
        hi[e - 1] = ti;
        heap_sift_down(hd, hi, e - 1, 0);
    }
    for (size_t c = 0; c < k; c++) {
        idx[c] = hi[c];
        if (dist) dist[c] = hd[c];
    }
}

static int check_search(const double *ref, size_t nr, const double *q, size_t nq, size_t d, size_t k,
                        ndyn_distance dist)
{
    int rc = ana_check_matrix(ref, nr, d, "kNN reference points");
    if (rc) return rc;
    if ((rc = ana_check_matrix(q, nq, d, "kNN query points"))) return rc;
    if (k == 0) return ndyn_error(NDYN_EINVAL, "kNN: k must be at least 1");
    if (k > nr)
        return ndyn_error(NDYN_EINVAL, "kNN: k = %zu exceeds the %zu reference points; lower k", k, nr);
    if (nr > (size_t)INT32_MAX || nq > (size_t)INT32_MAX || d > (size_t)INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "kNN: sizes (%zu, %zu, %zu) exceed BLAS's int range; split the queries", nr, nq,
                          d);
    if (dist != NDYN_DIST_EUCLIDEAN && dist != NDYN_DIST_COSINE)
        return ndyn_error(NDYN_EINVAL, "kNN: unknown distance %d", (int)dist);
    if (ndyn_check_finite(ref, nr * d, "kNN reference points")) return NDYN_ENONFINITE;
    if (ndyn_check_finite(q, nq * d, "kNN query points")) return NDYN_ENONFINITE;
    return NDYN_OK;
}

/* Row norms (Euclidean: squared norms; cosine: norms). */
static void row_norms(const double *x, size_t n, size_t d, int squared, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
        out[i] = squared ? s : sqrt(s);
    }
}

int ndyn_knn_search(const double *ref, size_t nr, const double *q, size_t nq, size_t d, size_t k,
                    ndyn_distance dist, size_t *idx, double *distances)
{
    int rc = check_search(ref, nr, q, nq, d, k, dist);
    if (rc) return rc;
    if (!idx) return ndyn_error(NDYN_EINVAL, "kNN search: index output is NULL");
    const int cosine = dist == NDYN_DIST_COSINE;
    /* Queries per block: at most KNN_BLOCK, and the (nb, nr) block of
     * distances within about 64 MiB. */
    size_t nb = (size_t)(8u << 20) / nr;
    if (nb > KNN_BLOCK) nb = KNN_BLOCK;
    if (nb < 1) nb = 1;
    if (nb > nq) nb = nq;
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
    if (nt < 1) nt = 1;
#endif
    double *rn = ndyn_malloc_array(nr, sizeof *rn);
    double *qn = ndyn_malloc_array(nb, sizeof *qn);
    double *g = ndyn_malloc_array(nb * nr, sizeof *g);   /* (nb, nr) distances of a block */
    double *hd = ndyn_malloc_array((size_t)nt * k, sizeof *hd);
    size_t *hi = ndyn_malloc_array((size_t)nt * k, sizeof *hi);
    if (!rn || !qn || !g || !hd || !hi) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    row_norms(ref, nr, d, !cosine, rn);
    for (size_t b0 = 0; b0 < nq; b0 += nb) {
        size_t m = nq - b0 < nb ? nq - b0 : nb;
        const double *qb = q + b0 * d;
        row_norms(qb, m, d, !cosine, qn);
        /* g = qb ref^T  (m, nr) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nr, (int)d, 1.0, qb, (int)d, ref,
                    (int)d, 0.0, g, (int)nr);
#pragma omp parallel for schedule(static)
        for (long ii = 0; ii < (long)m; ii++) {
            size_t i = (size_t)ii;
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            double *row = g + i * nr;
            for (size_t j = 0; j < nr; j++) {
                double v;
                if (cosine) {
                    double den = qn[i] * rn[j];
                    v = den > 0 ? 1.0 - row[j] / den : 1.0;
                } else {
                    v = qn[i] + rn[j] - 2.0 * row[j];
                    if (v < 0) v = 0;
                }
                row[j] = v;
            }
            size_t *oi = idx + (b0 + i) * k;
            double *od = distances ? distances + (b0 + i) * k : NULL;
            select_k(row, nr, k, hd + (size_t)tid * k, hi + (size_t)tid * k, oi, od);
            if (od && !cosine)
                for (size_t c = 0; c < k; c++) od[c] = sqrt(od[c]);
        }
    }
    rc = NDYN_OK;
done:
    free(rn);
    free(qn);
    free(g);
    free(hd);
    free(hi);
    return rc;
}

int ndyn_knn_regress(const double *xtr, const double *ytr, size_t nr, size_t d, size_t dy,
                     const double *xq, size_t nq, size_t k, ndyn_distance dist, double *yhat)
{
    int rc = ana_check_matrix(ytr, nr, dy, "kNN training targets");
    if (rc) return rc;
    if (!yhat) return ndyn_error(NDYN_EINVAL, "kNN regression: output is NULL");
    if (ndyn_check_finite(ytr, nr * dy, "kNN training targets")) return NDYN_ENONFINITE;
    if ((rc = check_search(xtr, nr, xq, nq, d, k, dist))) return rc;
    size_t *idx = ndyn_malloc_array(nq * k, sizeof *idx);
    if (!idx) return NDYN_ENOMEM;
    if ((rc = ndyn_knn_search(xtr, nr, xq, nq, d, k, dist, idx, NULL))) {
        free(idx);
        return rc;
    }
    for (size_t i = 0; i < nq; i++) {
        double *o = yhat + i * dy;
        for (size_t c = 0; c < dy; c++) o[c] = 0.0;
        for (size_t c = 0; c < k; c++) {
            const double *t = ytr + idx[i * k + c] * dy;
            for (size_t j = 0; j < dy; j++) o[j] += t[j];
        }
        for (size_t j = 0; j < dy; j++) o[j] /= (double)k;
    }
    free(idx);
    return NDYN_OK;
}

int ndyn_knn_classify(const double *xtr, const int *ltr, size_t nr, size_t d, int n_classes,
                      const double *xq, size_t nq, size_t k, ndyn_distance dist, int *pred)
{
    if (n_classes < 1) return ndyn_error(NDYN_EINVAL, "kNN classification: need at least one class");
    int rc = ana_check_labels(ltr, nr, n_classes, "kNN training labels");
    if (rc) return rc;
    if (!pred) return ndyn_error(NDYN_EINVAL, "kNN classification: output is NULL");
    if ((rc = check_search(xtr, nr, xq, nq, d, k, dist))) return rc;
    size_t *idx = ndyn_malloc_array(nq * k, sizeof *idx);
    size_t *votes = ndyn_malloc_array((size_t)n_classes, sizeof *votes);
    if (!idx || !votes) {
        free(idx);
        free(votes);
        return NDYN_ENOMEM;
    }
    if ((rc = ndyn_knn_search(xtr, nr, xq, nq, d, k, dist, idx, NULL))) goto done;
    for (size_t i = 0; i < nq; i++) {
        memset(votes, 0, (size_t)n_classes * sizeof *votes);
        for (size_t c = 0; c < k; c++) votes[ltr[idx[i * k + c]]]++;
        int best = 0;
        for (int l = 1; l < n_classes; l++)
            if (votes[l] > votes[best]) best = l;
        pred[i] = best;
    }
done:
    free(idx);
    free(votes);
    return rc;
}
