/* Optimal-transport distances between the latent distributions of
 * conditions (MARBLE's distribution_distances): exact or entropic OT between
 * the empirical measures of every pair, or between k-means histograms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"
#include "analysis/ot_internal.h"

/* Largest n_i * n_j for OT on points: 2^27 entries, about 3 GiB of work
 * arrays for the exact solver. */
#define NDYN_OT_MAX_PAIR 134217728.0

static int check_ot_params(const ndyn_ot_params *p)
{
    if (p && p->sinkhorn && !(p->sk.eps > 0 && isfinite(p->sk.eps)))
        return ndyn_error(NDYN_EINVAL, "Sinkhorn eps = %g; give a finite regularisation > 0", p->sk.eps);
    return NDYN_OK;
}

/* OT between weights wa (na), wb (nb) (already normalised to equal sums) on
 * cost (na, nb), with the solver of p; plan (na, nb) may be NULL. */
static int solve_pair(const double *wa, size_t na, const double *wb, size_t nb, const double *cost,
                      const ndyn_ot_params *p, double *plan, double *total)
{
    if (p && p->sinkhorn) return ndyn_ot_sinkhorn(wa, na, wb, nb, cost, &p->sk, plan, total, NULL);
    double *pl = plan ? plan : ndyn_malloc_array(na * nb, sizeof *pl);
    if (!pl) return NDYN_ENOMEM;
    int rc = ot_emd_solve(wa, na, wb, nb, cost, pl, total);
    if (pl != plan) free(pl);
    return rc;
}

static int check_conditions(const double *emb, const int *condition, size_t n, size_t d, int n_cond,
                            size_t *count)
{
    int rc = ana_check_matrix(emb, n, d, "emb");
    if (rc) return rc;
    if (n_cond < 1) return ndyn_error(NDYN_EINVAL, "n_cond = %d; give at least one condition", n_cond);
    if ((rc = ana_check_labels(condition, n, n_cond, "condition"))) return rc;
    if ((rc = ndyn_check_finite(emb, n * d, "emb"))) return rc;
    memset(count, 0, (size_t)n_cond * sizeof *count);
    for (size_t i = 0; i < n; i++) count[condition[i]]++;
    for (int c = 0; c < n_cond; c++)
        if (!count[c])
            return ndyn_error(NDYN_EINVAL, "condition %d has no points; number the conditions 0..%d "
                              "without gaps", c, n_cond - 1);
    return NDYN_OK;
}

int ndyn_ot_condition_distances(const double *emb, const int *condition, size_t n, size_t d,
                                int n_cond, const ndyn_ot_params *p, double *dist)
{
    int rc = check_ot_params(p);
    if (rc) return rc;
    if (!dist) return ndyn_error(NDYN_EINVAL, "dist is NULL");
    size_t *count = ndyn_malloc_array(n_cond > 0 ? (size_t)n_cond : 1, sizeof *count);
    if (!count) return NDYN_ENOMEM;
    if ((rc = check_conditions(emb, condition, n, d, n_cond, count))) {
        free(count);
        return rc;
    }
    size_t C = (size_t)n_cond;
    /* Points of each condition, contiguous: start[c] .. start[c + 1] in idx. */
    size_t *start = ndyn_malloc_array(C + 1, sizeof *start), *idx = ndyn_malloc_array(n, sizeof *idx);
    size_t npairs = C * (C - 1) / 2;
    int *prc = ndyn_calloc(npairs ? npairs : 1, sizeof *prc);
    if (!start || !idx || !prc) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    start[0] = 0;
    for (size_t c = 0; c < C; c++) start[c + 1] = start[c] + count[c];
    {
        size_t *fill = count; /* reused as a cursor */
        for (size_t c = 0; c < C; c++) fill[c] = start[c];
        for (size_t i = 0; i < n; i++) idx[fill[condition[i]]++] = i;
    }
    for (size_t c = 0; c < C * C; c++) dist[c] = 0.0;
    /* The exact solver holds about three n_i x n_j arrays per pair (cost,
     * shifted cost, flows): refuse sizes that cannot fit rather than page. */
    for (size_t ci = 0; ci < C; ci++)
        for (size_t cj = ci + 1; cj < C; cj++) {
            size_t ni = start[ci + 1] - start[ci], nj = start[cj + 1] - start[cj];
            if ((double)ni * (double)nj > NDYN_OT_MAX_PAIR) {
                rc = ndyn_error(NDYN_EINVAL, "conditions %zu and %zu have %zu and %zu points: the cost "
                                "matrix is too large for OT on points; use the k-means histogram variant "
                                "(e.g. 50 clusters)", ci, cj, ni, nj);
                goto done;
            }
        }

    /* Pairs in parallel (each its own cost matrix); a worker's message stays
     * on its thread, so a failure is reported afterwards by its status. */
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t q = 0; q < npairs; q++) {
        /* q -> (ci, cj), ci < cj, row by row of the upper triangle. */
        size_t ci = 0, left = q;
        while (left >= C - 1 - ci) {
            left -= C - 1 - ci;
            ci++;
        }
        size_t cj = ci + 1 + left;
        size_t na = start[ci + 1] - start[ci], nb = start[cj + 1] - start[cj];
        double *cost = malloc(na * nb * sizeof *cost);
        double *wa = malloc(na * sizeof *wa), *wb = malloc(nb * sizeof *wb);
        if (!cost || !wa || !wb) {
            prc[q] = NDYN_ENOMEM;
        } else {
            for (size_t i = 0; i < na; i++) {
                const double *x = emb + idx[start[ci] + i] * d;
                wa[i] = 1.0 / (double)na;
                for (size_t j = 0; j < nb; j++)
                    cost[i * nb + j] = sqrt(ana_sqdist(x, emb + idx[start[cj] + j] * d, d));
            }
            for (size_t j = 0; j < nb; j++) wb[j] = 1.0 / (double)nb;
            double t = 0;
            prc[q] = solve_pair(wa, na, wb, nb, cost, p, NULL, &t);
            dist[ci * C + cj] = dist[cj * C + ci] = t;
        }
        free(cost);
        free(wa);
        free(wb);
    }
    for (size_t q = 0; q < npairs; q++)
        if (prc[q]) {
            rc = prc[q] == NDYN_ENOMEM
                     ? ndyn_error(NDYN_ENOMEM, "out of memory for the cost matrix of a pair of conditions; "
                                  "use the k-means histogram variant")
                     : ndyn_error(prc[q], "optimal transport between two conditions failed (%s); try the "
                                  "k-means histogram variant", ndyn_status_name(prc[q]));
            break;
        }
done:
    free(count);
    free(start);
    free(idx);
    free(prc);
    return rc;
}

int ndyn_ot_cluster_distances(const double *emb, const int *condition, size_t n, size_t d,
                              int n_cond, const ndyn_kmeans_params *km, const ndyn_ot_params *p,
                              double *dist, double *gamma, double *centers, int *labels,
                              double *hist)
{
    int rc = check_ot_params(p);
    if (rc) return rc;
    if (!dist) return ndyn_error(NDYN_EINVAL, "dist is NULL");
    if (!km) return ndyn_error(NDYN_EINVAL, "k-means parameters are NULL; see ndyn_kmeans_params_default");
    size_t *count = ndyn_malloc_array(n_cond > 0 ? (size_t)n_cond : 1, sizeof *count);
    if (!count) return NDYN_ENOMEM;
    if ((rc = check_conditions(emb, condition, n, d, n_cond, count))) {
        free(count);
        return rc;
    }
    size_t C = (size_t)n_cond, k = km->k;
    if (k < 1 || k > n) {
        free(count);
        return ndyn_error(NDYN_EINVAL, "%zu clusters for %zu points; give 1 <= k <= n", k, n);
    }
    double *cen = ndyn_malloc_array(k * d, sizeof *cen);
    int *lab = ndyn_malloc_array(n, sizeof *lab);
    double *h = ndyn_calloc(C * k, sizeof *h);
    double *cost = ndyn_malloc_array(k * k, sizeof *cost);
    double *plan = ndyn_malloc_array(k * k, sizeof *plan);
    if (!cen || !lab || !h || !cost || !plan) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    if ((rc = ndyn_kmeans(emb, n, d, km, cen, lab, NULL))) {
        ndyn_error_context(rc, "k-means for the OT histograms: ");
        goto done;
    }
    for (size_t i = 0; i < n; i++) h[(size_t)condition[i] * k + (size_t)lab[i]] += 1.0;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < k; j++) h[c * k + j] /= (double)count[c];
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) cost[i * k + j] = sqrt(ana_sqdist(cen + i * d, cen + j * d, d));
    for (size_t c = 0; c < C * C; c++) dist[c] = 0.0;
    if (gamma) memset(gamma, 0, C * C * k * k * sizeof *gamma);
    for (size_t ci = 0; ci < C; ci++) {
        if (gamma)
            for (size_t j = 0; j < k; j++) gamma[(ci * C + ci) * k * k + j * k + j] = h[ci * k + j];
        for (size_t cj = ci + 1; cj < C; cj++) {
            double t;
            if ((rc = solve_pair(h + ci * k, k, h + cj * k, k, cost, p, plan, &t))) {
                ndyn_error_context(rc, "OT between the histograms of conditions %zu and %zu: ", ci, cj);
                goto done;
            }
            dist[ci * C + cj] = dist[cj * C + ci] = t;
            if (gamma) {
                double *gij = gamma + (ci * C + cj) * k * k, *gji = gamma + (cj * C + ci) * k * k;
                for (size_t a = 0; a < k; a++)
                    for (size_t b = 0; b < k; b++) {
                        gij[a * k + b] = plan[a * k + b];
                        gji[b * k + a] = plan[a * k + b];
                    }
            }
        }
    }
    if (centers) memcpy(centers, cen, k * d * sizeof *cen);
    if (labels) memcpy(labels, lab, n * sizeof *lab);
    if (hist) memcpy(hist, h, C * k * sizeof *h);
done:
    free(count);
    free(cen);
    free(lab);
    free(h);
    free(cost);
    free(plan);
    return rc;
}
