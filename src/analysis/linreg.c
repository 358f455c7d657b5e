/* Linear regression with an unpenalised bias: ordinary least squares
 * (minimum-norm) and ridge, both through the SVD of the centred inputs, and
 * the choice of the ridge penalty by time-block cross-validation. */
#include "ndyn/linalg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

void ndyn_linreg_free(ndyn_linreg *m)
{
    if (!m) return;
    free(m->w);
    free(m->b);
    free(m);
}

/* SVD of the centred design xc = U diag(s) Vt, kept as s, Vt and the
 * projection z = Vt xc^T yc (r, d_out) = diag(s) U^T yc of the centred
 * targets, so that U (n, r) is never stored. */
typedef struct {
    size_t n, d, dy, r;
    double *xmean, *ymean;  /* (d), (dy) */
    double *s;              /* (r) */
    double *vt;             /* (r, d) */
    double *z;              /* (r, dy) */
} svd_fit;

static void svd_free(svd_fit *f)
{
    free(f->xmean);
    free(f->ymean);
    free(f->s);
    free(f->vt);
    free(f->z);
    memset(f, 0, sizeof *f);
}

/* Rows rows[0..n) of x (., d) and y (., dy) (rows == NULL: 0..n). */
static int svd_prepare(const double *x, const double *y, const size_t *rows, size_t n, size_t d, size_t dy,
                       svd_fit *f)
{
    memset(f, 0, sizeof *f);
    if (n > (size_t)INT32_MAX || d > (size_t)INT32_MAX)
        return ndyn_error(NDYN_EINVAL, "linear regression: input (%zu, %zu) too large for LAPACK", n, d);
    size_t r = n < d ? n : d;
    f->n = n;
    f->d = d;
    f->dy = dy;
    f->r = r;
    f->xmean = ndyn_calloc(d, sizeof *f->xmean);
    f->ymean = ndyn_calloc(dy, sizeof *f->ymean);
    f->s = ndyn_malloc_array(r, sizeof *f->s);
    f->vt = ndyn_malloc_array(r * d, sizeof *f->vt);
    f->z = ndyn_calloc(r * dy, sizeof *f->z);
    double *xc = ndyn_malloc_array(n * d, sizeof *xc);
    double *xty = ndyn_calloc(d * dy, sizeof *xty); /* (d, dy) = xc^T yc */
    int rc = NDYN_OK;
    if (!f->xmean || !f->ymean || !f->s || !f->vt || !f->z || !xc || !xty) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t ri = rows ? rows[i] : i;
        for (size_t j = 0; j < d; j++) f->xmean[j] += x[ri * d + j];
        for (size_t j = 0; j < dy; j++) f->ymean[j] += y[ri * dy + j];
    }
    for (size_t j = 0; j < d; j++) f->xmean[j] /= (double)n;
    for (size_t j = 0; j < dy; j++) f->ymean[j] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        size_t ri = rows ? rows[i] : i;
        for (size_t j = 0; j < d; j++) xc[i * d + j] = x[ri * d + j] - f->xmean[j];
        for (size_t k = 0; k < dy; k++) {
            double yc = y[ri * dy + k] - f->ymean[k];
            if (yc == 0.0) continue;
            for (size_t j = 0; j < d; j++) xty[j * dy + k] += xc[i * d + j] * yc;
        }
    }
    if ((rc = ndyn_svd_vt(n, d, xc, f->s, f->vt, "linear regression"))) goto done;
    for (size_t c = 0; c < r; c++)
        for (size_t j = 0; j < d; j++) {
            double v = f->vt[c * d + j];
            for (size_t k = 0; k < dy; k++) f->z[c * dy + k] += v * xty[j * dy + k];
        }
done:
    free(xc);
    free(xty);
    if (rc) svd_free(f);
    return rc;
}

/* w (d, dy), b (dy) for penalty lambda: w = V diag(1 / (s^2 + lambda)) z
 * (= V diag(s / (s^2 + lambda)) U^T yc);
 * lambda == 0 drops singular values below max(n, d) eps s_max (numpy's lstsq
 * cutoff), giving the minimum-norm least-squares solution. */
static void svd_solve(const svd_fit *f, double lambda, double *w, double *b)
{
    const size_t d = f->d, dy = f->dy, r = f->r;
    double smax = r ? f->s[0] : 0.0;
    double cut = (double)(f->n > d ? f->n : d) * 2.220446049250313e-16 * smax;
    memset(w, 0, d * dy * sizeof *w);
    for (size_t c = 0; c < r; c++) {
        double s = f->s[c], g;
        if (lambda > 0) g = 1.0 / (s * s + lambda);
        else g = s > cut ? 1.0 / (s * s) : 0.0;
        if (g == 0.0) continue;
        const double *v = f->vt + c * d;
        for (size_t j = 0; j < dy; j++) {
            double a = g * f->z[c * dy + j];
            if (a == 0.0) continue;
            for (size_t i = 0; i < d; i++) w[i * dy + j] += v[i] * a;
        }
    }
    for (size_t j = 0; j < dy; j++) {
        double acc = f->ymean[j];
        for (size_t i = 0; i < d; i++) acc -= f->xmean[i] * w[i * dy + j];
        b[j] = acc;
    }
}

static int check_fit_input(const double *x, const double *y, size_t n, size_t d_in, size_t d_out)
{
    int rc = ana_check_matrix(x, n, d_in, "regression inputs");
    if (rc) return rc;
    if ((rc = ana_check_matrix(y, n, d_out, "regression targets"))) return rc;
    if (n < 2) return ndyn_error(NDYN_EINVAL, "linear regression needs at least 2 samples (got %zu)", n);
    if (ndyn_check_finite(x, n * d_in, "regression inputs")) return NDYN_ENONFINITE;
    if (ndyn_check_finite(y, n * d_out, "regression targets")) return NDYN_ENONFINITE;
    return NDYN_OK;
}

static ndyn_linreg *linreg_alloc(size_t d_in, size_t d_out, double lambda)
{
    ndyn_linreg *m = ndyn_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->d_in = d_in;
    m->d_out = d_out;
    m->lambda = lambda;
    m->w = ndyn_malloc_array(d_in * d_out, sizeof *m->w);
    m->b = ndyn_malloc_array(d_out, sizeof *m->b);
    if (!m->w || !m->b) {
        ndyn_linreg_free(m);
        return NULL;
    }
    return m;
}

int ndyn_linreg_fit(const double *x, const double *y, size_t n, size_t d_in, size_t d_out,
                    double lambda, ndyn_linreg **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "linear regression: output pointer is NULL");
    *out = NULL;
    int rc = check_fit_input(x, y, n, d_in, d_out);
    if (rc) return rc;
    if (!(lambda >= 0) || !isfinite(lambda))
        return ndyn_error(NDYN_EINVAL, "ridge penalty must be finite and >= 0 (got %g)", lambda);
    svd_fit f;
    if ((rc = svd_prepare(x, y, NULL, n, d_in, d_out, &f))) return rc;
    ndyn_linreg *m = linreg_alloc(d_in, d_out, lambda);
    if (!m) {
        svd_free(&f);
        return NDYN_ENOMEM;
    }
    svd_solve(&f, lambda, m->w, m->b);
    svd_free(&f);
    *out = m;
    return NDYN_OK;
}

int ndyn_linreg_predict(const ndyn_linreg *m, const double *x, size_t n, double *yhat)
{
    if (!m || !m->w || !m->b) return ndyn_error(NDYN_EINVAL, "linear regression model is NULL; fit it first");
    int rc = ana_check_matrix(x, n, m->d_in, "regression inputs");
    if (rc) return rc;
    if (!yhat) return ndyn_error(NDYN_EINVAL, "linear regression predict: output is NULL");
    if (ndyn_check_finite(x, n * m->d_in, "regression inputs")) return NDYN_ENONFINITE;
    const size_t d = m->d_in, dy = m->d_out;
    for (size_t i = 0; i < n; i++) {
        double *o = yhat + i * dy;
        memcpy(o, m->b, dy * sizeof *o);
        for (size_t k = 0; k < d; k++) {
            double xv = x[i * d + k];
            if (xv == 0.0) continue;
            const double *wr = m->w + k * dy;
            for (size_t j = 0; j < dy; j++) o[j] += xv * wr[j];
        }
    }
    return NDYN_OK;
}

int ndyn_linreg_fit_cv(const double *x, const double *y, size_t n, size_t d_in, size_t d_out,
                       const double *lambdas, size_t nl, size_t folds, double *best, double *scores,
                       ndyn_linreg **out)
{
    if (out) *out = NULL;
    int rc = check_fit_input(x, y, n, d_in, d_out);
    if (rc) return rc;
    if (folds < 2) return ndyn_error(NDYN_EINVAL, "ridge CV: need at least 2 folds (got %zu)", folds);
    if (n < 2 * folds)
        return ndyn_error(NDYN_EINVAL, "ridge CV: %zu samples are too few for %zu folds; use fewer folds", n,
                          folds);
    double grid[NDYN_LINREG_GRID_SIZE];
    if (!lambdas) {
        double s = 0.0;
        for (size_t j = 0; j < d_in; j++) {
            double m = 0.0, ss = 0.0;
            for (size_t i = 0; i < n; i++) m += x[i * d_in + j];
            m /= (double)n;
            for (size_t i = 0; i < n; i++) ss += (x[i * d_in + j] - m) * (x[i * d_in + j] - m);
            s += ss;
        }
        s /= (double)d_in;
        if (!(s > 0)) s = 1.0;
        grid[0] = 0.0;
        for (int e = 0; e < NDYN_LINREG_GRID_SIZE - 1; e++) grid[e + 1] = s * pow(10.0, -4.0 + 0.5 * e);
        lambdas = grid;
        nl = NDYN_LINREG_GRID_SIZE;
    } else {
        if (nl == 0) return ndyn_error(NDYN_EINVAL, "ridge CV: no penalties to choose from");
        for (size_t l = 0; l < nl; l++)
            if (!(lambdas[l] >= 0) || !isfinite(lambdas[l]))
                return ndyn_error(NDYN_EINVAL, "ridge CV: penalty %zu is %g; penalties must be finite and >= 0", l,
                                  lambdas[l]);
    }
    double *ssres = ndyn_calloc(nl * d_out, sizeof *ssres);
    double *w = ndyn_malloc_array(d_in * d_out, sizeof *w);
    double *b = ndyn_malloc_array(d_out, sizeof *b);
    size_t *rows = ndyn_malloc_array(n, sizeof *rows);
    double *yh = ndyn_malloc_array(d_out, sizeof *yh);
    if (!ssres || !w || !b || !rows || !yh) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t f = 0; f < folds; f++) {
        size_t lo = f * n / folds, hi = (f + 1) * n / folds, m = 0;
        for (size_t i = 0; i < n; i++)
            if (i < lo || i >= hi) rows[m++] = i;
        svd_fit sf;
        if ((rc = svd_prepare(x, y, rows, m, d_in, d_out, &sf))) goto done;
        for (size_t l = 0; l < nl; l++) {
            svd_solve(&sf, lambdas[l], w, b);
            for (size_t i = lo; i < hi; i++) {
                for (size_t j = 0; j < d_out; j++) yh[j] = b[j];
                for (size_t k = 0; k < d_in; k++) {
                    double xv = x[i * d_in + k];
                    for (size_t j = 0; j < d_out; j++) yh[j] += xv * w[k * d_out + j];
                }
                for (size_t j = 0; j < d_out; j++) {
                    double e = y[i * d_out + j] - yh[j];
                    ssres[l * d_out + j] += e * e;
                }
            }
        }
        svd_free(&sf);
    }
    /* Pooled R² over all rows (each is held out exactly once). */
    size_t bl = 0;
    double bscore = -INFINITY;
    for (size_t l = 0; l < nl; l++) {
        double acc = 0.0;
        for (size_t j = 0; j < d_out; j++) {
            double mean = 0.0, sst = 0.0;
            for (size_t i = 0; i < n; i++) mean += y[i * d_out + j];
            mean /= (double)n;
            for (size_t i = 0; i < n; i++) sst += (y[i * d_out + j] - mean) * (y[i * d_out + j] - mean);
            double r2 = sst > 0 ? 1.0 - ssres[l * d_out + j] / sst : (ssres[l * d_out + j] == 0 ? 1.0 : 0.0);
            acc += r2;
        }
        double sc = acc / (double)d_out;
        if (scores) scores[l] = sc;
        if (sc > bscore || (sc == bscore && lambdas[l] > lambdas[bl])) {
            bscore = sc;
            bl = l;
        }
    }
    if (best) *best = lambdas[bl];
    if (out) rc = ndyn_linreg_fit(x, y, n, d_in, d_out, lambdas[bl], out);
done:
    free(ssres);
    free(w);
    free(b);
    free(rows);
    free(yh);
    return rc;
}
