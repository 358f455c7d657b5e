/* Decoding metrics: R², absolute errors, accuracy, balanced accuracy and
 * confusion matrices, with scikit-learn's semantics where one exists. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

static int check_pair(const double *y, const double *yhat, size_t n, size_t d, const char *what)
{
    int rc = ana_check_matrix(y, n, d, "targets");
    if (rc) return rc;
    if ((rc = ana_check_matrix(yhat, n, d, "predictions"))) return rc;
    if (ndyn_check_finite(y, n * d, "targets")) return NDYN_ENONFINITE;
    if (ndyn_check_finite(yhat, n * d, "predictions")) return NDYN_ENONFINITE;
    (void)what;
    return NDYN_OK;
}

int ndyn_metric_r2(const double *y, const double *yhat, size_t n, size_t d, double *per_output,
                   double *mean)
{
    int rc = check_pair(y, yhat, n, d, "R²");
    if (rc) return rc;
    if (n < 2) return ndyn_error(NDYN_EINVAL, "R² needs at least 2 samples (got %zu)", n);
    double acc = 0.0;
    for (size_t j = 0; j < d; j++) {
        double m = 0.0;
        for (size_t i = 0; i < n; i++) m += y[i * d + j];
        m /= (double)n;
        double ss_res = 0.0, ss_tot = 0.0;
        for (size_t i = 0; i < n; i++) {
            double r = y[i * d + j] - yhat[i * d + j], t = y[i * d + j] - m;
            ss_res += r * r;
            ss_tot += t * t;
        }
        double r2;
        if (ss_tot > 0.0) r2 = 1.0 - ss_res / ss_tot;
        else r2 = ss_res == 0.0 ? 1.0 : 0.0;
        if (per_output) per_output[j] = r2;
        acc += r2;
    }
    if (mean) *mean = acc / (double)d;
    return NDYN_OK;
}

int ndyn_metric_abs_error(const double *y, const double *yhat, size_t n, size_t d,
                          double *mean_per_output, double *median_per_output)
{
    int rc = check_pair(y, yhat, n, d, "absolute error");
    if (rc) return rc;
    double *e = ndyn_malloc_array(n, sizeof *e);
    if (!e) return NDYN_ENOMEM;
    for (size_t j = 0; j < d; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) {
            e[i] = fabs(y[i * d + j] - yhat[i * d + j]);
            s += e[i];
        }
        if (mean_per_output) mean_per_output[j] = s / (double)n;
        if (median_per_output) median_per_output[j] = ana_median_inplace(e, n);
    }
    free(e);
    return NDYN_OK;
}

int ndyn_metric_confusion(const int *truth, const int *pred, size_t n, int n_true, int n_pred,
                          size_t *counts)
{
    if (n == 0) return ndyn_error(NDYN_EINVAL, "confusion matrix: no samples");
    if (n_true < 1 || n_pred < 1)
        return ndyn_error(NDYN_EINVAL, "confusion matrix: need at least one class (got %d, %d)", n_true, n_pred);
    if (!counts) return ndyn_error(NDYN_EINVAL, "confusion matrix: output is NULL");
    int rc = ana_check_labels(truth, n, n_true, "true labels");
    if (rc) return rc;
    if ((rc = ana_check_labels(pred, n, n_pred, "predicted labels"))) return rc;
    size_t nn;
    if (ndyn_size_mul((size_t)n_true, (size_t)n_pred, &nn)) return NDYN_ENOMEM;
    memset(counts, 0, nn * sizeof *counts);
    for (size_t i = 0; i < n; i++) counts[(size_t)truth[i] * (size_t)n_pred + (size_t)pred[i]]++;
    return NDYN_OK;
}

int ndyn_metric_accuracy(const int *truth, const int *pred, size_t n, double *acc)
{
    if (n == 0) return ndyn_error(NDYN_EINVAL, "accuracy: no samples");
    if (!truth || !pred || !acc) return ndyn_error(NDYN_EINVAL, "accuracy: NULL argument");
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) ok += truth[i] == pred[i];
    *acc = (double)ok / (double)n;
    return NDYN_OK;
}

int ndyn_metric_balanced_accuracy(const int *truth, const int *pred, size_t n, int n_classes,
                                  double *ba)
{
    if (n == 0) return ndyn_error(NDYN_EINVAL, "balanced accuracy: no samples");
    if (n_classes < 1) return ndyn_error(NDYN_EINVAL, "balanced accuracy: n_classes must be >= 1");
    if (!ba) return ndyn_error(NDYN_EINVAL, "balanced accuracy: output is NULL");
    int rc = ana_check_labels(truth, n, n_classes, "true labels");
    if (rc) return rc;
    if ((rc = ana_check_labels(pred, n, n_classes, "predicted labels"))) return rc;
    size_t *tot = ndyn_calloc((size_t)n_classes, sizeof *tot);
    size_t *hit = ndyn_calloc((size_t)n_classes, sizeof *hit);
    if (!tot || !hit) {
        free(tot);
        free(hit);
        return NDYN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        tot[truth[i]]++;
        hit[truth[i]] += pred[i] == truth[i];
    }
    double s = 0.0;
    int present = 0;
    for (int c = 0; c < n_classes; c++)
        if (tot[c]) {
            s += (double)hit[c] / (double)tot[c];
            present++;
        }
    *ba = s / present;
    free(tot);
    free(hit);
    return NDYN_OK;
}
