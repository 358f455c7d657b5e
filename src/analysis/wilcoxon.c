/* Wilcoxon signed-rank test for paired samples (two-sided), with the
 * semantics of scipy.stats.wilcoxon's defaults: zero differences dropped
 * ("wilcox"), no continuity correction, normal approximation with the tie
 * correction or the exact null distribution of the positive rank sum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

typedef struct { double a; size_t i; } absval;

static int cmp_abs(const void *p, const void *q)
{
    double x = ((const absval *)p)->a, y = ((const absval *)q)->a;
    return (x > y) - (x < y);
}

/* P(R+ <= r) and P(R+ >= r) under the null for n untied nonzero differences:
 * each rank k in 1..n enters R+ with probability 1/2 independently, so the
 * distribution is the product of (1 + t^k)/2, built by one pass per rank. */
static int exact_tails(size_t n, double r, double *lower, double *upper)
{
    size_t top = n * (n + 1) / 2;
    double *pmf = calloc(top + 1, sizeof(double));
    if (!pmf) return NDYN_ENOMEM;
    pmf[0] = 1.0;
    size_t reach = 0;
    for (size_t k = 1; k <= n; k++) {
        reach += k;
        for (size_t s = reach; s >= k; s--) pmf[s] = 0.5 * (pmf[s] + pmf[s - k]);
        for (size_t s = k; s-- > 0;) pmf[s] *= 0.5;
    }
    double lo = 0, hi = 0;
    for (size_t s = 0; s <= top; s++) {
        if ((double)s <= r) lo += pmf[s];
        if ((double)s >= r) hi += pmf[s];
    }
    free(pmf);
    *lower = lo;
    *upper = hi;
    return NDYN_OK;
}

int ndyn_wilcoxon(const double *x, const double *y, size_t n, ndyn_wilcoxon_method method,
                  ndyn_wilcoxon_result *out)
{
    if (!x || !out) return ndyn_error(NDYN_EINVAL, "wilcoxon: x and out must not be NULL");
    if (n == 0) return ndyn_error(NDYN_EINVAL, "wilcoxon: no samples (n = 0)");
    if (method != NDYN_WILCOXON_AUTO && method != NDYN_WILCOXON_APPROX &&
        method != NDYN_WILCOXON_EXACT)
        return ndyn_error(NDYN_EINVAL, "wilcoxon: unknown method %d", (int)method);
    if (ndyn_check_finite(x, n, "wilcoxon x")) return NDYN_ENONFINITE;
    if (y && ndyn_check_finite(y, n, "wilcoxon y")) return NDYN_ENONFINITE;
    absval *v = ndyn_malloc_array(n, sizeof(absval));
    double *d = ndyn_malloc_array(n, sizeof(double));
    double *rank = ndyn_malloc_array(n, sizeof(double));
    int rc = NDYN_OK;
    if (!v || !d || !rank) { rc = NDYN_ENOMEM; goto done; }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double di = y ? x[i] - y[i] : x[i];
        if (di == 0.0) continue;   /* zero_method "wilcox" */
        d[m] = di;
        v[m].a = fabs(di);
        v[m].i = m;
        m++;
    }
    if (m == 0) {
        rc = ndyn_error(NDYN_EINVAL, "wilcoxon: every difference is zero; the test is undefined");
        goto done;
    }
    size_t zeros = n - m;
    qsort(v, m, sizeof(absval), cmp_abs);
    /* average ranks over ties; tie term sum(t^3 - t) */
    double ties = 0.0;
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && v[b].a == v[a].a) b++;
        double avg = 0.5 * (double)(a + 1 + b);   /* mean of ranks a+1 .. b */
        for (size_t q = a; q < b; q++) rank[v[q].i] = avg;
        double t = (double)(b - a);
        ties += t * t * t - t;
        a = b;
    }
    double rp = 0.0, rm = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (d[i] > 0) rp += rank[i];
        else rm += rank[i];
    }
    int exact;
    if (method == NDYN_WILCOXON_EXACT) {
        if (zeros || ties > 0) {
            rc = ndyn_error(NDYN_EINVAL, "wilcoxon: the exact test needs no zero differences and "
                            "no ties (now %zu zeros, %s); use the normal approximation", zeros,
                            ties > 0 ? "ties" : "no ties");
            goto done;
        }
        exact = 1;
    } else if (method == NDYN_WILCOXON_APPROX) {
        exact = 0;
    } else {
        exact = m <= 50 && zeros == 0 && ties == 0;
    }
    out->r_plus = rp;
    out->r_minus = rm;
    out->statistic = rp < rm ? rp : rm;
    out->n_used = m;
    out->exact = exact;
    double M = (double)m;
    if (exact) {
        out->z = NAN;
        double lo, hi;
        if ((rc = exact_tails(m, rp, &lo, &hi))) goto done;
        double top = M * (M + 1) / 2;
        /* the centre of the symmetric distribution gives p = 1 (as scipy) */
        double p = rp == floor(top / 2) ? 1.0 : 2.0 * (lo < hi ? lo : hi);
        out->pvalue = p > 1.0 ? 1.0 : p;
    } else {
        double mean = M * (M + 1) / 4;
        double var = (M * (M + 1) * (2 * M + 1) - 0.5 * ties) / 24.0;
        if (!(var > 0)) {
            rc = ndyn_error(NDYN_EINVAL, "wilcoxon: zero variance (all %zu differences tied in "
                            "size?)", m);
            goto done;
        }
        out->z = (out->statistic - mean) / sqrt(var);
        out->pvalue = erfc(fabs(out->z) / sqrt(2.0));
    }
done:
    free(v); free(d); free(rank);
    return rc;
}
