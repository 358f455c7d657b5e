/* k-means: k-means++ initialisation, Lloyd iterations, seeded restarts.
 *
 * Written here rather than taken from a library: no C library of the field
 * offers seeded, thread-count-independent k-means++ with restarts. Every
 * random draw of restart r comes from stream r of the user's seed, and sums
 * are accumulated in a fixed order, so results do not depend on threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

void ndyn_kmeans_params_default(ndyn_kmeans_params *p, size_t k)
{
    p->k = k;
    p->n_init = 10;
    p->max_iter = 300;
    p->tol = 1e-4;
    p->seed = 0;
}

/* Nearest centre of row xi: index and squared distance (ties: lower index). */
static int nearest(const double *xi, const double *c, size_t k, size_t d, double *d2)
{
    int best = 0;
    double bd = INFINITY;
    for (size_t j = 0; j < k; j++) {
        double t = ana_sqdist(xi, c + j * d, d);
        if (t < bd) {
            bd = t;
            best = (int)j;
        }
    }
    *d2 = bd;
    return best;
}

/* Assign every point; returns the number of labels that changed. */
static size_t assign(const double *x, size_t n, size_t d, const double *c, size_t k, int *lab,
                     double *d2)
{
    size_t changed = 0;
#pragma omp parallel for schedule(static) reduction(+ : changed)
    for (size_t i = 0; i < n; i++) {
        int l = nearest(x + i * d, c, k, d, &d2[i]);
        if (l != lab[i]) changed++;
        lab[i] = l;
    }
    return changed;
}

/* Greedy k-means++ (Arthur & Vassilvitskii 2007, with the local trials of
 * scikit-learn): each new centre is the best of n_local candidates drawn with
 * probability proportional to the squared distance to the chosen centres. */
static int kmeanspp(const double *x, size_t n, size_t d, size_t k, ndyn_rng *rng, double *c,
                    double *closest, double *cand_d2, double *best_d2)
{
    size_t n_local = 2 + (size_t)floor(log((double)k));
    size_t first = (size_t)ndyn_rng_below(rng, n);
    memcpy(c, x + first * d, d * sizeof *c);
    double pot = 0.0;
    for (size_t i = 0; i < n; i++) {
        closest[i] = ana_sqdist(x + i * d, c, d);
        pot += closest[i];
    }
    for (size_t j = 1; j < k; j++) {
        size_t pick;
        if (!(pot > 0.0)) {
            /* Every point coincides with a chosen centre: fewer distinct
             * points than clusters. Take any point; Lloyd will warn. */
            pick = (size_t)ndyn_rng_below(rng, n);
            memcpy(best_d2, closest, n * sizeof *closest);
        } else {
            double best_pot = INFINITY;
            pick = 0;
            for (size_t t = 0; t < n_local; t++) {
                size_t cand = ndyn_rng_categorical(rng, closest, n);
                const double *xc = x + cand * d;
                double p = 0.0;
                for (size_t i = 0; i < n; i++) {
                    double v = ana_sqdist(x + i * d, xc, d);
                    cand_d2[i] = v < closest[i] ? v : closest[i];
                    p += cand_d2[i];
                }
                if (p < best_pot) {
                    best_pot = p;
                    pick = cand;
                    memcpy(best_d2, cand_d2, n * sizeof *cand_d2);
                }
            }
        }
        memcpy(c + j * d, x + pick * d, d * sizeof *c);
        memcpy(closest, best_d2, n * sizeof *closest);
        pot = 0.0;
        for (size_t i = 0; i < n; i++) pot += closest[i];
    }
    return NDYN_OK;
}

/* One restart: init + Lloyd. Returns the inertia in *inertia. */
static int run_once(const double *x, size_t n, size_t d, const ndyn_kmeans_params *p,
                    double tol_abs, ndyn_rng *rng, double *c, int *lab, double *work,
                    size_t *cnt, double *inertia, int *n_empty_warn)
{
    size_t k = p->k;
    double *d2 = work, *w1 = work + n, *w2 = work + 2 * n;
    double *cnew = work + 3 * n;
    kmeanspp(x, n, d, k, rng, c, d2, w1, w2);
    for (size_t i = 0; i < n; i++) lab[i] = -1;
    assign(x, n, d, c, k, lab, d2);
    for (size_t it = 0; it < p->max_iter; it++) {
        memset(cnew, 0, k * d * sizeof *cnew);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            double *ci = cnew + (size_t)lab[i] * d;
            const double *xi = x + i * d;
            for (size_t j = 0; j < d; j++) ci[j] += xi[j];
            cnt[lab[i]]++;
        }
        for (size_t j = 0; j < k; j++) {
            if (cnt[j] == 0) {
                /* Relocate an empty cluster to the point farthest from its
                 * centre (then that point no longer counts as far). */
                size_t far = 0;
                double fd = -1.0;
                for (size_t i = 0; i < n; i++)
                    if (d2[i] > fd) {
                        fd = d2[i];
                        far = i;
                    }
                if (fd <= 0.0) (*n_empty_warn)++;
                memcpy(cnew + j * d, x + far * d, d * sizeof *cnew);
                d2[far] = 0.0;
            } else {
                for (size_t t = 0; t < d; t++) cnew[j * d + t] /= (double)cnt[j];
            }
        }
        double shift = 0.0;
        for (size_t t = 0; t < k * d; t++) {
            double u = cnew[t] - c[t];
            shift += u * u;
        }
        memcpy(c, cnew, k * d * sizeof *c);
        size_t changed = assign(x, n, d, c, k, lab, d2);
        if (changed == 0 || shift <= tol_abs) break;
    }
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += d2[i];
    *inertia = s;
    return NDYN_OK;
}

int ndyn_kmeans(const double *x, size_t n, size_t d, const ndyn_kmeans_params *p,
                double *centers, int *labels, double *inertia)
{
    if (!p) return ndyn_error(NDYN_EINVAL, "k-means: parameters are NULL");
    int rc0 = ana_check_matrix(x, n, d, "k-means data");
    if (rc0) return rc0;
    if (p->k < 1) return ndyn_error(NDYN_EINVAL, "k-means: k must be >= 1 (now 0)");
    if (p->k > n)
        return ndyn_error(NDYN_EINVAL, "k-means: k = %zu clusters but only %zu points; lower k", p->k, n);
    if (p->k > (size_t)INT32_MAX) return ndyn_error(NDYN_EINVAL, "k-means: k = %zu is too large", p->k);
    if (p->n_init < 1) return ndyn_error(NDYN_EINVAL, "k-means: n_init must be >= 1 (now 0)");
    if (!(p->tol >= 0.0)) return ndyn_error(NDYN_EINVAL, "k-means: tol must be >= 0 (now %g)", p->tol);
    if (ndyn_check_finite(x, n * d, "k-means data")) return NDYN_ENONFINITE;

    size_t k = p->k;
    /* Absolute tolerance: tol times the mean per-feature variance. */
    double mvar = 0.0;
    for (size_t j = 0; j < d; j++) {
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < n; i++) m += x[i * d + j];
        m /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double u = x[i * d + j] - m;
            v += u * u;
        }
        mvar += v / (double)n;
    }
    double tol_abs = d ? p->tol * mvar / (double)d : 0.0;

    size_t kd;
    if (ndyn_size_mul(k, d, &kd)) return NDYN_ENOMEM;
    size_t wn = 3 * n + kd;
    if (wn < n) return ndyn_error(NDYN_ENOMEM, "k-means: size overflow");
    double *work = ndyn_malloc_array(wn, sizeof *work);
    double *c = ndyn_malloc_array(kd ? kd : 1, sizeof *c);
    double *cbest = ndyn_malloc_array(kd ? kd : 1, sizeof *c);
    int *lab = ndyn_malloc_array(n, sizeof *lab);
    int *lbest = ndyn_malloc_array(n, sizeof *lab);
    size_t *cnt = ndyn_malloc_array(k, sizeof *cnt);
    int rc = NDYN_OK;
    if (!work || !c || !cbest || !lab || !lbest || !cnt) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    double best = INFINITY;
    int n_empty = 0;
    for (size_t r = 0; r < p->n_init; r++) {
        ndyn_rng rng;
        ndyn_rng_init(&rng, p->seed, (uint64_t)r);
        double in;
        run_once(x, n, d, p, tol_abs, &rng, c, lab, work, cnt, &in, &n_empty);
        if (in < best) {
            best = in;
            memcpy(cbest, c, kd * sizeof *c);
            memcpy(lbest, lab, n * sizeof *lab);
        }
    }
    if (n_empty)
        ndyn_warn("k-means: the data have fewer distinct points than k = %zu; some clusters are duplicates", k);
    if (centers) memcpy(centers, cbest, kd * sizeof *c);
    if (labels) memcpy(labels, lbest, n * sizeof *lab);
    if (inertia) *inertia = best;
done:
    free(work);
    free(c);
    free(cbest);
    free(lab);
    free(lbest);
    free(cnt);
    return rc;
}

int ndyn_kmeans_predict(const double *centers, size_t k, size_t d, const double *x, size_t n,
                        int *labels)
{
    if (ana_check_matrix(centers, k, d, "k-means centres") || ana_check_matrix(x, n, d, "k-means data"))
        return NDYN_EINVAL;
    if (!labels) return ndyn_error(NDYN_EINVAL, "k-means predict: labels is NULL");
    if (k < 1) return ndyn_error(NDYN_EINVAL, "k-means predict: no centres");
    if (ndyn_check_finite(centers, k * d, "k-means centres")) return NDYN_ENONFINITE;
    if (ndyn_check_finite(x, n * d, "k-means data")) return NDYN_ENONFINITE;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        double d2;
        labels[i] = nearest(x + i * d, centers, k, d, &d2);
    }
    return NDYN_OK;
}
