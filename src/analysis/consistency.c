/* Consistency between two representations: R² of the best linear map with
 * bias from one to the other, after aligning both on a behavioural label
 * (the between-datasets consistency of CEBRA, used by MARBLE). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

int ndyn_consistency_r2(const double *a, const double *b, size_t n, size_t da, size_t db, double *r2)
{
    if (!r2) return ndyn_error(NDYN_EINVAL, "consistency: output is NULL");
    ndyn_linreg *m = NULL;
    int rc = ndyn_linreg_fit(a, b, n, da, db, 0.0, &m);
    if (rc) return ndyn_error_context(rc, "consistency: ");
    double *bh = ndyn_malloc_array(n * db, sizeof *bh);
    if (!bh) {
        ndyn_linreg_free(m);
        return NDYN_ENOMEM;
    }
    rc = ndyn_linreg_predict(m, a, n, bh);
    if (!rc) rc = ndyn_metric_r2(b, bh, n, db, NULL, r2);
    free(bh);
    ndyn_linreg_free(m);
    return rc;
}

int ndyn_consistency_align(const double *x, const double *label, size_t n, size_t d, size_t n_bins, double lo,
                           double hi, int normalize, double *out)
{
    int rc = ana_check_matrix(x, n, d, "representation");
    if (rc) return rc;
    if (!label || !out) return ndyn_error(NDYN_EINVAL, "consistency align: label or output is NULL");
    if (n_bins < 2) return ndyn_error(NDYN_EINVAL, "consistency align: need n_bins >= 2 (got %zu)", n_bins);
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo))
        return ndyn_error(NDYN_EINVAL, "consistency align: label range [%g, %g] is empty or not finite", lo, hi);
    if (ndyn_check_finite(x, n * d, "representation")) return NDYN_ENONFINITE;
    if (ndyn_check_finite(label, n, "label")) return NDYN_ENONFINITE;
    double *edges = ndyn_malloc_array(n_bins, sizeof *edges);
    size_t *bin = ndyn_malloc_array(n, sizeof *bin);
    size_t *cnt = ndyn_calloc(n_bins + 1, sizeof *cnt);
    double *sum = ndyn_calloc((n_bins + 1) * d, sizeof *sum);
    if (!edges || !bin || !cnt || !sum) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    /* numpy.linspace(lo, hi, n_bins) */
    const double step = (hi - lo) / (double)(n_bins - 1);
    for (size_t e = 0; e < n_bins; e++) edges[e] = lo + (double)e * step;
    edges[n_bins - 1] = hi;
    for (size_t i = 0; i < n; i++) {
        /* numpy.digitize (right=False): number of edges <= label */
        size_t c = 0, l = 0, h = n_bins;
        while (l < h) {
            size_t mid = (l + h) / 2;
            if (edges[mid] <= label[i]) l = mid + 1;
            else h = mid;
        }
        c = l;
        bin[i] = c;
        cnt[c]++;
        for (size_t j = 0; j < d; j++) sum[c * d + j] += x[i * d + j];
    }
    for (size_t bb = 1; bb < n_bins; bb++) {
        double *o = out + (bb - 1) * d;
        int found = 0;
        for (size_t w = 0; w <= 2 && !found; w++) {
            size_t from = bb > w ? bb - w : 0, to = bb + w <= n_bins ? bb + w : n_bins;
            size_t c = 0;
            for (size_t q = from; q <= to; q++) c += cnt[q];
            if (!c) continue;
            for (size_t j = 0; j < d; j++) {
                double s = 0.0;
                for (size_t q = from; q <= to; q++) s += sum[q * d + j];
                o[j] = s / (double)c;
            }
            found = 1;
        }
        if (!found) {
            rc = ndyn_error(NDYN_EINVAL,
                            "consistency align: no samples with a label near bin %zu of %zu; use fewer bins", bb,
                            n_bins - 1);
            goto done;
        }
        if (normalize) {
            double nn = 0.0;
            for (size_t j = 0; j < d; j++) nn += o[j] * o[j];
            nn = sqrt(nn);
            if (nn > 0)
                for (size_t j = 0; j < d; j++) o[j] /= nn;
        }
    }
    rc = NDYN_OK;
done:
    free(edges);
    free(bin);
    free(cnt);
    free(sum);
    return rc;
}
