/* Optimal assignment (Hungarian algorithm, shortest augmenting paths with
 * dual potentials, O(r^2 c) for r <= c) and the matching of discrete states
 * to labels built on it.
 *
 * Written here: the algorithm is short, and the usual C sources either are
 * not packaged for Debian or handle square matrices only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

/* Min-cost assignment of every row of a (r, c), r <= c, to distinct columns.
 * a is read as a[i * ldr + j * ldc] so the caller can pass a transpose.
 * row_col (r) receives the column of each row. */
static int assign_rows(const double *a, size_t r, size_t c, size_t ldr, size_t ldc, double sign,
                       int *row_col)
{
    double *u = ndyn_calloc(r + 1, sizeof *u);
    double *v = ndyn_calloc(c + 1, sizeof *v);
    double *minv = ndyn_malloc_array(c + 1, sizeof *minv);
    size_t *p = ndyn_calloc(c + 1, sizeof *p);     /* p[j]: row (1-based) on column j, 0 none */
    size_t *way = ndyn_calloc(c + 1, sizeof *way);
    unsigned char *used = ndyn_malloc_array(c + 1, 1);
    int rc = NDYN_OK;
    if (!u || !v || !minv || !p || !way || !used) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t i = 1; i <= r; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= c; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= c; j++) {
                if (used[j]) continue;
                double cur = sign * a[(i0 - 1) * ldr + (j - 1) * ldc] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if (j1 == 0) {
                rc = ndyn_error(NDYN_EINTERNAL, "assignment: no augmenting path (non-finite reduced costs)");
                goto done;
            }
            for (size_t j = 0; j <= c; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (size_t j = 1; j <= c; j++)
        if (p[j]) row_col[p[j] - 1] = (int)(j - 1);
done:
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
    return rc;
}

int ndyn_hungarian(const double *cost, size_t nr, size_t nc, int maximize, int *row_to_col,
                   double *total)
{
    if (!cost || !row_to_col) return ndyn_error(NDYN_EINVAL, "assignment: cost or output is NULL");
    if (nr == 0 || nc == 0)
        return ndyn_error(NDYN_EINVAL, "assignment: cost matrix is %zu x %zu; it needs at least one row and column", nr, nc);
    if (nr > (size_t)INT32_MAX || nc > (size_t)INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "assignment: cost matrix %zu x %zu is too large", nr, nc);
    size_t nn;
    if (ndyn_size_mul(nr, nc, &nn)) return NDYN_ENOMEM;
    if (ndyn_check_finite(cost, nn, "assignment cost matrix")) return NDYN_ENONFINITE;
    double sign = maximize ? -1.0 : 1.0;
    int rc;
    if (nr <= nc) {
        rc = assign_rows(cost, nr, nc, nc, 1, sign, row_to_col);
    } else {
        /* More rows than columns: assign every column to a row on the transpose. */
        int *col_row = ndyn_malloc_array(nc, sizeof *col_row);
        if (!col_row) return NDYN_ENOMEM;
        rc = assign_rows(cost, nc, nr, 1, nc, sign, col_row);
        if (rc == NDYN_OK) {
            for (size_t i = 0; i < nr; i++) row_to_col[i] = -1;
            for (size_t j = 0; j < nc; j++) row_to_col[col_row[j]] = (int)j;
        }
        free(col_row);
    }
    if (rc) return rc;
    if (total) {
        double s = 0.0;
        for (size_t i = 0; i < nr; i++)
            if (row_to_col[i] >= 0) s += cost[i * nc + (size_t)row_to_col[i]];
        *total = s;
    }
    return NDYN_OK;
}

int ndyn_match_labels(const int *states, const int *labels, size_t n, int n_states, int n_labels,
                      ndyn_match_objective objective, int *map, double *score)
{
    if (n == 0) return ndyn_error(NDYN_EINVAL, "label matching: no samples");
    if (n_states < 1 || n_labels < 1)
        return ndyn_error(NDYN_EINVAL, "label matching: need n_states >= 1 and n_labels >= 1 (now %d, %d)",
                          n_states, n_labels);
    if (!map) return ndyn_error(NDYN_EINVAL, "label matching: map is NULL");
    if (objective != NDYN_MATCH_ACCURACY && objective != NDYN_MATCH_BALANCED)
        return ndyn_error(NDYN_EINVAL, "label matching: unknown objective %d", (int)objective);
    int rc = ana_check_labels(states, n, n_states, "states");
    if (rc) return rc;
    if ((rc = ana_check_labels(labels, n, n_labels, "labels"))) return rc;
    size_t ns = (size_t)n_states, nl = (size_t)n_labels, nn;
    if (ndyn_size_mul(ns, nl, &nn)) return NDYN_ENOMEM;
    double *w = ndyn_calloc(nn, sizeof *w);
    size_t *per_label = ndyn_calloc(nl, sizeof *per_label);
    if (!w || !per_label) {
        free(w);
        free(per_label);
        return NDYN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        w[(size_t)states[i] * nl + (size_t)labels[i]] += 1.0;
        per_label[labels[i]]++;
    }
    size_t present = 0;
    for (size_t l = 0; l < nl; l++) present += per_label[l] > 0;
    if (objective == NDYN_MATCH_BALANCED) {
        /* Balanced accuracy of a one-to-one map is sum over matched (s, l)
         * of C[s, l] / (n_l * present): linear in the assignment. */
        for (size_t s = 0; s < ns; s++)
            for (size_t l = 0; l < nl; l++)
                w[s * nl + l] = per_label[l] ? w[s * nl + l] / ((double)per_label[l] * (double)present) : 0.0;
    } else {
        for (size_t t = 0; t < nn; t++) w[t] /= (double)n;
    }
    double total = 0.0;
    rc = ndyn_hungarian(w, ns, nl, 1, map, &total);
    if (rc == NDYN_OK && score) *score = total;
    free(w);
    free(per_label);
    return rc;
}
