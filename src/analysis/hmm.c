/* Gaussian hidden Markov model: the model object, emission densities,
 * forward-backward (log domain), Viterbi, and the relabelling of state paths
 * by first appearance. The EM fit is in hmm_fit.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "analysis/hmm_internal.h"

#define LOG_2PI 1.8378770664093454836

ndyn_hmm *ndyn_hmm_alloc(size_t k, size_t d, ndyn_hmm_cov cov)
{
    if (k == 0 || d == 0) {
        ndyn_error(NDYN_EINVAL, "HMM with %zu states in %zu dimensions; give k >= 1 and d >= 1", k, d);
        return NULL;
    }
    if (cov != NDYN_HMM_COV_FULL && cov != NDYN_HMM_COV_DIAG) {
        ndyn_error(NDYN_EINVAL, "HMM covariance type %d; use NDYN_HMM_COV_FULL or NDYN_HMM_COV_DIAG", (int)cov);
        return NULL;
    }
    size_t kk, kd, kdd;
    if (ndyn_size_mul(k, k, &kk) || ndyn_size_mul(k, d, &kd) || ndyn_size_mul(kd, d, &kdd)) return NULL;
    ndyn_hmm *m = ndyn_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->k = k;
    m->d = d;
    m->cov = cov;
    m->pi = ndyn_malloc_array(k, sizeof *m->pi);
    m->trans = ndyn_malloc_array(kk, sizeof *m->trans);
    m->means = ndyn_calloc(kd, sizeof *m->means);
    m->covs = ndyn_calloc(cov == NDYN_HMM_COV_FULL ? kdd : kd, sizeof *m->covs);
    if (!m->pi || !m->trans || !m->means || !m->covs) {
        ndyn_hmm_free(m);
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        m->pi[i] = 1.0 / (double)k;
        for (size_t j = 0; j < k; j++) m->trans[i * k + j] = 1.0 / (double)k;
        for (size_t a = 0; a < d; a++) {
            if (cov == NDYN_HMM_COV_FULL) m->covs[(i * d + a) * d + a] = 1.0;
            else m->covs[i * d + a] = 1.0;
        }
    }
    return m;
}

void ndyn_hmm_free(ndyn_hmm *m)
{
    if (!m) return;
    free(m->pi);
    free(m->trans);
    free(m->means);
    free(m->covs);
    free(m);
}

static int check_distribution(const double *p, size_t k, const char *what, size_t row)
{
    double s = 0;
    for (size_t j = 0; j < k; j++) {
        if (!(p[j] >= 0) || !isfinite(p[j]))
            return ndyn_error(NDYN_EINVAL, "HMM %s[%zu] has entry %zu = %g; probabilities must be finite "
                              "and >= 0", what, row, j, p[j]);
        s += p[j];
    }
    if (fabs(s - 1.0) > 1e-8)
        return ndyn_error(NDYN_EINVAL, "HMM %s[%zu] sums to %.17g; normalise it to 1", what, row, s);
    return NDYN_OK;
}

int hmm_factor(const ndyn_hmm *m, double *chol, double *logdet)
{
    size_t k = m->k, d = m->d;
    for (size_t s = 0; s < k; s++) {
        double ld = 0;
        if (m->cov == NDYN_HMM_COV_DIAG) {
            for (size_t a = 0; a < d; a++) {
                double v = m->covs[s * d + a];
                if (!(v > 0) || !isfinite(v))
                    return ndyn_error(NDYN_EINVAL, "HMM state %zu: variance %zu = %g; variances must be "
                                      "finite and > 0", s, a, v);
                chol[s * d + a] = sqrt(v);
                ld += log(v);
            }
        } else {
            const double *c = m->covs + s * d * d;
            double *L = chol + s * d * d;
            double scale = 0;
            for (size_t a = 0; a < d * d; a++) {
                if (!isfinite(c[a]))
                    return ndyn_error(NDYN_ENONFINITE, "HMM state %zu: covariance has a non-finite entry", s);
                scale = fmax(scale, fabs(c[a]));
            }
            for (size_t a = 0; a < d; a++)
                for (size_t b = 0; b < a; b++)
                    if (fabs(c[a * d + b] - c[b * d + a]) > 1e-10 * scale)
                        return ndyn_error(NDYN_EINVAL, "HMM state %zu: covariance is not symmetric "
                                          "([%zu][%zu] = %g, [%zu][%zu] = %g)", s, a, b, c[a * d + b], b,
                                          a, c[b * d + a]);
            for (size_t a = 0; a < d; a++)
                for (size_t b = 0; b < d; b++) L[a * d + b] = b <= a ? c[a * d + b] : 0.0;
            lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, L, (lapack_int)d);
            if (info)
                return ndyn_error(NDYN_EINVAL, "HMM state %zu: covariance is not positive definite "
                                  "(Cholesky fails at column %d); increase the ridge", s, (int)info);
            for (size_t a = 0; a < d; a++) ld += 2.0 * log(L[a * d + a]);
        }
        logdet[s] = ld;
    }
    return NDYN_OK;
}

void hmm_logb(const ndyn_hmm *m, const double *chol, const double *logdet, const double *y,
              size_t T, double *logb, double *work)
{
    size_t k = m->k, d = m->d;
    for (size_t s = 0; s < k; s++) {
        const double *mu = m->means + s * d;
        for (size_t t = 0; t < T; t++)
            for (size_t a = 0; a < d; a++) work[t * d + a] = y[t * d + a] - mu[a];
        if (m->cov == NDYN_HMM_COV_DIAG) {
            for (size_t t = 0; t < T; t++)
                for (size_t a = 0; a < d; a++) work[t * d + a] /= chol[s * d + a];
        } else {
            /* Rows z_t = L^{-1} (y_t - mu): solve Z L^T = Y - mu. */
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)T, (int)d,
                        1.0, chol + s * d * d, (int)d, work, (int)d);
        }
        double c0 = -0.5 * ((double)d * LOG_2PI + logdet[s]);
        for (size_t t = 0; t < T; t++) {
            double q = 0;
            for (size_t a = 0; a < d; a++) q += work[t * d + a] * work[t * d + a];
            logb[t * k + s] = c0 - 0.5 * q;
        }
    }
}

void hmm_log_params(const ndyn_hmm *m, double *logpi, double *logA)
{
    for (size_t i = 0; i < m->k; i++) logpi[i] = log(m->pi[i]);
    for (size_t i = 0; i < m->k * m->k; i++) logA[i] = log(m->trans[i]);
}

static double lse(const double *x, size_t n)
{
    double mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx == -INFINITY) return -INFINITY;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += exp(x[i] - mx);
    return mx + log(s);
}

double hmm_forward_backward(size_t k, const double *logpi, const double *logA, const double *logb,
                            size_t T, double *la, double *lb, double *gamma, double *xi,
                            double *xi_sum)
{
    double tmp[64], *buf = k <= 64 ? tmp : ndyn_malloc_array(k, sizeof *buf);
    if (!buf) return NAN;
    for (size_t j = 0; j < k; j++) la[j] = logpi[j] + logb[j];
    for (size_t t = 1; t < T; t++)
        for (size_t j = 0; j < k; j++) {
            for (size_t i = 0; i < k; i++) buf[i] = la[(t - 1) * k + i] + logA[i * k + j];
            la[t * k + j] = logb[t * k + j] + lse(buf, k);
        }
    double ll = lse(la + (T - 1) * k, k);
    if (!isfinite(ll)) {
        if (buf != tmp) free(buf);
        return ll;
    }
    for (size_t j = 0; j < k; j++) lb[(T - 1) * k + j] = 0.0;
    for (size_t t = T - 1; t-- > 0;)
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < k; j++)
                buf[j] = logA[i * k + j] + logb[(t + 1) * k + j] + lb[(t + 1) * k + j];
            lb[t * k + i] = lse(buf, k);
        }
    if (gamma)
        for (size_t t = 0; t < T; t++) {
            double s = 0;
            for (size_t j = 0; j < k; j++) s += gamma[t * k + j] = exp(la[t * k + j] + lb[t * k + j] - ll);
            for (size_t j = 0; j < k; j++) gamma[t * k + j] /= s;
        }
    if (xi || xi_sum)
        for (size_t t = 0; t + 1 < T; t++)
            for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < k; j++) {
                    double v = exp(la[t * k + i] + logA[i * k + j] + logb[(t + 1) * k + j] +
                                   lb[(t + 1) * k + j] - ll);
                    if (xi) xi[(t * k + i) * k + j] = v;
                    if (xi_sum) xi_sum[i * k + j] += v;
                }
    if (buf != tmp) free(buf);
    return ll;
}

int ndyn_hmm_check(const ndyn_hmm *m)
{
    if (!m) return ndyn_error(NDYN_EINVAL, "HMM is NULL");
    if (m->k == 0 || m->d == 0) return ndyn_error(NDYN_EINVAL, "HMM with k = %zu, d = %zu", m->k, m->d);
    if (m->cov != NDYN_HMM_COV_FULL && m->cov != NDYN_HMM_COV_DIAG)
        return ndyn_error(NDYN_EINVAL, "HMM covariance type %d is unknown", (int)m->cov);
    if (!m->pi || !m->trans || !m->means || !m->covs) return ndyn_error(NDYN_EINVAL, "HMM has NULL arrays");
    int rc = check_distribution(m->pi, m->k, "pi", 0);
    for (size_t i = 0; !rc && i < m->k; i++) rc = check_distribution(m->trans + i * m->k, m->k, "trans", i);
    if (rc) return rc;
    if ((rc = ndyn_check_finite(m->means, m->k * m->d, "HMM means"))) return rc;
    size_t nf = m->cov == NDYN_HMM_COV_FULL ? m->k * m->d * m->d : m->k * m->d;
    double *chol = ndyn_malloc_array(nf, sizeof *chol), *ld = ndyn_malloc_array(m->k, sizeof *ld);
    if (!chol || !ld) rc = NDYN_ENOMEM;
    else rc = hmm_factor(m, chol, ld);
    free(chol);
    free(ld);
    return rc;
}

/* Validated factors of m and a check of one trial y (T, d). */
static int prepare(const ndyn_hmm *m, const double *y, size_t T, double **chol, double **logdet)
{
    *chol = *logdet = NULL;
    int rc = ndyn_hmm_check(m);
    if (rc) return rc;
    if (!y) return ndyn_error(NDYN_EINVAL, "HMM trial data is NULL");
    if (T == 0) return ndyn_error(NDYN_EINVAL, "HMM trial has no time points");
    size_t Td;
    if (ndyn_size_mul(T, m->d, &Td)) return NDYN_ENOMEM;
    if ((rc = ndyn_check_finite(y, Td, "HMM trial data"))) return rc;
    size_t nf = m->cov == NDYN_HMM_COV_FULL ? m->k * m->d * m->d : m->k * m->d;
    *chol = ndyn_malloc_array(nf, sizeof **chol);
    *logdet = ndyn_malloc_array(m->k, sizeof **logdet);
    if (!*chol || !*logdet) return NDYN_ENOMEM;
    return hmm_factor(m, *chol, *logdet);
}

int ndyn_hmm_log_emission(const ndyn_hmm *m, const double *y, size_t T, double *logb)
{
    double *chol, *ld, *work = NULL;
    int rc = prepare(m, y, T, &chol, &ld);
    if (!rc && !logb) rc = ndyn_error(NDYN_EINVAL, "logb is NULL");
    if (!rc && !(work = ndyn_malloc_array(T * m->d, sizeof *work))) rc = NDYN_ENOMEM;
    if (!rc) hmm_logb(m, chol, ld, y, T, logb, work);
    free(chol);
    free(ld);
    free(work);
    return rc;
}

int ndyn_hmm_posterior(const ndyn_hmm *m, const double *y, size_t T, double *gamma, double *xi,
                       double *loglik)
{
    double *chol, *ld, *work = NULL, *logb = NULL, *la = NULL, *lb = NULL, *lp = NULL;
    int rc = prepare(m, y, T, &chol, &ld);
    if (rc) goto done;
    size_t k = m->k;
    work = ndyn_malloc_array(T * m->d, sizeof *work);
    logb = ndyn_malloc_array(T * k, sizeof *logb);
    la = ndyn_malloc_array(T * k, sizeof *la);
    lb = ndyn_malloc_array(T * k, sizeof *lb);
    lp = ndyn_malloc_array(k + k * k, sizeof *lp);
    if (!work || !logb || !la || !lb || !lp) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    hmm_logb(m, chol, ld, y, T, logb, work);
    hmm_log_params(m, lp, lp + k);
    double ll = hmm_forward_backward(k, lp, lp + k, logb, T, la, lb, gamma, xi, NULL);
    if (isnan(ll)) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    if (!isfinite(ll)) {
        rc = ndyn_error(NDYN_EINVAL, "HMM trial has probability 0 under the model (a forbidden transition "
                        "or start state)");
        goto done;
    }
    if (loglik) *loglik = ll;
done:
    free(chol);
    free(ld);
    free(work);
    free(logb);
    free(la);
    free(lb);
    free(lp);
    return rc;
}

int ndyn_hmm_loglik(const ndyn_hmm *m, const double *const *y, const size_t *len,
                    size_t n_trials, double *per_trial, double *total)
{
    if (!y || !len || n_trials == 0) return ndyn_error(NDYN_EINVAL, "HMM log-likelihood: no trials given");
    double s = 0;
    for (size_t r = 0; r < n_trials; r++) {
        double ll;
        int rc = ndyn_hmm_posterior(m, y[r], len[r], NULL, NULL, &ll);
        if (rc) return ndyn_error_context(rc, "trial %zu: ", r);
        if (per_trial) per_trial[r] = ll;
        s += ll;
    }
    if (total) *total = s;
    return NDYN_OK;
}

int ndyn_hmm_viterbi(const ndyn_hmm *m, const double *y, size_t T, int *path, double *logp)
{
    double *chol, *ld, *work = NULL, *logb = NULL, *delta = NULL, *lp = NULL;
    int *back = NULL;
    int rc = prepare(m, y, T, &chol, &ld);
    if (!rc && !path) rc = ndyn_error(NDYN_EINVAL, "Viterbi path is NULL");
    if (rc) goto done;
    size_t k = m->k;
    work = ndyn_malloc_array(T * m->d, sizeof *work);
    logb = ndyn_malloc_array(T * k, sizeof *logb);
    delta = ndyn_malloc_array(T * k, sizeof *delta);
    back = ndyn_malloc_array(T * k, sizeof *back);
    lp = ndyn_malloc_array(k + k * k, sizeof *lp);
    if (!work || !logb || !delta || !back || !lp) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    hmm_logb(m, chol, ld, y, T, logb, work);
    hmm_log_params(m, lp, lp + k);
    const double *logA = lp + k;
    for (size_t j = 0; j < k; j++) delta[j] = lp[j] + logb[j];
    for (size_t t = 1; t < T; t++)
        for (size_t j = 0; j < k; j++) {
            double best = -INFINITY;
            int arg = 0;
            for (size_t i = 0; i < k; i++) {
                double v = delta[(t - 1) * k + i] + logA[i * k + j];
                if (v > best) {
                    best = v;
                    arg = (int)i;
                }
            }
            delta[t * k + j] = best + logb[t * k + j];
            back[t * k + j] = arg;
        }
    double best = -INFINITY;
    int arg = 0;
    for (size_t j = 0; j < k; j++)
        if (delta[(T - 1) * k + j] > best) {
            best = delta[(T - 1) * k + j];
            arg = (int)j;
        }
    if (!isfinite(best)) {
        rc = ndyn_error(NDYN_EINVAL, "HMM trial has probability 0 under the model (a forbidden transition "
                        "or start state)");
        goto done;
    }
    path[T - 1] = arg;
    for (size_t t = T - 1; t > 0; t--) path[t - 1] = back[t * k + (size_t)path[t]];
    if (logp) *logp = best;
done:
    free(chol);
    free(ld);
    free(work);
    free(logb);
    free(delta);
    free(back);
    free(lp);
    return rc;
}

int ndyn_hmm_reorder_states(int *path, size_t T, int k, int *map)
{
    if (k < 1) return ndyn_error(NDYN_EINVAL, "reorder states: k = %d; give k >= 1", k);
    if (T > 0 && !path) return ndyn_error(NDYN_EINVAL, "reorder states: path is NULL");
    for (size_t t = 0; t < T; t++)
        if (path[t] < 0 || path[t] >= k)
            return ndyn_error(NDYN_EINVAL, "reorder states: path[%zu] = %d is outside [0, %d)", t, path[t], k);
    int *mp = ndyn_malloc_array((size_t)k, sizeof *mp);
    if (!mp) return NDYN_ENOMEM;
    for (int s = 0; s < k; s++) mp[s] = -1;
    int next = 0;
    for (size_t t = 0; t < T; t++)
        if (mp[path[t]] < 0) mp[path[t]] = next++;
    for (int s = 0; s < k; s++)
        if (mp[s] < 0) mp[s] = next++;
    for (size_t t = 0; t < T; t++) path[t] = mp[path[t]];
    if (map) memcpy(map, mp, (size_t)k * sizeof *mp);
    free(mp);
    return NDYN_OK;
}
