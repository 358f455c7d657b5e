/* Gaussian HMM fitted by EM (Baum-Welch) over trials of different lengths,
 * initialised from k-means. The data are centred on their global mean
 * inside the fit, so the covariance sums lose no precision to a large
 * offset. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/hmm_internal.h"

void ndyn_hmm_params_default(ndyn_hmm_params *p, size_t k)
{
    p->k = k;
    p->cov = NDYN_HMM_COV_FULL;
    p->max_iter = 20;
    p->tol = 1e-6;
    p->ridge = 1e-4;
    p->kmeans_n_init = 10;
    p->seed = 0;
}

typedef struct {
    size_t k, d, n;        /* states, dims, total points */
    double *nk;            /* (k) state weights */
    double *s1;            /* (k, d) weighted sums */
    double *s2;            /* full (k, d, d) / diag (k, d): weighted sums of outer products */
    double *pi_acc;        /* (k) */
    double *a_acc;         /* (k, k) */
} stats_t;

/* Sufficient statistics of weights w (n, k) (posteriors or hard labels) on
 * the centred data x (n, d). */
static void accumulate(stats_t *st, const double *x, const double *w, size_t n, ndyn_hmm_cov cov)
{
    size_t k = st->k, d = st->d;
    for (size_t t = 0; t < n; t++) {
        const double *xt = x + t * d;
        for (size_t s = 0; s < k; s++) {
            double g = w[t * k + s];
            if (g == 0) continue;
            st->nk[s] += g;
            for (size_t a = 0; a < d; a++) st->s1[s * d + a] += g * xt[a];
            if (cov == NDYN_HMM_COV_DIAG) {
                for (size_t a = 0; a < d; a++) st->s2[s * d + a] += g * xt[a] * xt[a];
            } else {
                double *S = st->s2 + s * d * d;
                for (size_t a = 0; a < d; a++)
                    for (size_t b = 0; b <= a; b++) S[a * d + b] += g * xt[a] * xt[b];
            }
        }
    }
}

/* M-step for the emissions: means and MAP covariances (S + rho I) / N_k;
 * a state of (numerically) no weight keeps its parameters. */
static void m_step_emissions(ndyn_hmm *m, const stats_t *st, double rho)
{
    size_t k = m->k, d = m->d;
    for (size_t s = 0; s < k; s++) {
        double nk = st->nk[s];
        if (!(nk > 1e-10 * (double)st->n)) continue;
        double *mu = m->means + s * d;
        for (size_t a = 0; a < d; a++) mu[a] = st->s1[s * d + a] / nk;
        if (m->cov == NDYN_HMM_COV_DIAG) {
            for (size_t a = 0; a < d; a++) {
                double v = st->s2[s * d + a] / nk - mu[a] * mu[a];
                m->covs[s * d + a] = fmax(v, 0.0) + rho / nk;
            }
        } else {
            double *C = m->covs + s * d * d;
            const double *S = st->s2 + s * d * d;
            for (size_t a = 0; a < d; a++)
                for (size_t b = 0; b <= a; b++) {
                    double v = S[a * d + b] / nk - mu[a] * mu[b];
                    if (a == b) v = fmax(v, 0.0) + rho / nk;
                    C[a * d + b] = C[b * d + a] = v;
                }
        }
    }
}

/* work (d). */
static double penalty(const ndyn_hmm *m, const double *chol, double rho, double *c)
{
    /* rho/2 sum_k tr(Sigma_k^-1) = rho/2 sum_k |L_k^-1|_F^2. */
    if (rho == 0) return 0;
    size_t k = m->k, d = m->d;
    double tot = 0;
    for (size_t s = 0; s < k; s++) {
        if (m->cov == NDYN_HMM_COV_DIAG) {
            for (size_t a = 0; a < d; a++) tot += 1.0 / (chol[s * d + a] * chol[s * d + a]);
        } else {
            /* Columns of L^{-1} by forward substitution on unit vectors. */
            const double *L = chol + s * d * d;
            for (size_t e = 0; e < d; e++) {
                for (size_t a = 0; a < d; a++) {
                    double v = (a == e) ? 1.0 : 0.0;
                    for (size_t b = e; b < a; b++) v -= L[a * d + b] * c[b];
                    c[a] = a < e ? 0.0 : v / L[a * d + a];
                    tot += c[a] * c[a];
                }
            }
        }
    }
    return 0.5 * rho * tot;
}

int ndyn_hmm_fit(const double *const *y, const size_t *len, size_t n_trials, size_t d,
                 const ndyn_hmm_params *p, ndyn_hmm **out, double *loglik, size_t *n_iter)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "HMM fit: out is NULL");
    *out = NULL;
    if (!p) return ndyn_error(NDYN_EINVAL, "HMM fit: parameters are NULL; see ndyn_hmm_params_default");
    if (p->k < 1) return ndyn_error(NDYN_EINVAL, "HMM fit: k = %zu states; give k >= 1", p->k);
    if (p->cov != NDYN_HMM_COV_FULL && p->cov != NDYN_HMM_COV_DIAG)
        return ndyn_error(NDYN_EINVAL, "HMM fit: covariance type %d is unknown", (int)p->cov);
    if (!(p->ridge >= 0) || !isfinite(p->ridge))
        return ndyn_error(NDYN_EINVAL, "HMM fit: ridge = %g; give a value >= 0", p->ridge);
    if (!(p->tol >= 0)) return ndyn_error(NDYN_EINVAL, "HMM fit: tol = %g; give a value >= 0", p->tol);
    if (p->kmeans_n_init < 1) return ndyn_error(NDYN_EINVAL, "HMM fit: kmeans_n_init = 0; give >= 1");
    if (!y || !len || n_trials == 0) return ndyn_error(NDYN_EINVAL, "HMM fit: no trials given");
    if (d == 0) return ndyn_error(NDYN_EINVAL, "HMM fit: data of dimension 0");
    size_t k = p->k, n = 0, Tmax = 0;
    for (size_t r = 0; r < n_trials; r++) {
        if (!y[r]) return ndyn_error(NDYN_EINVAL, "HMM fit: trial %zu is NULL", r);
        if (len[r] == 0) return ndyn_error(NDYN_EINVAL, "HMM fit: trial %zu has no time points", r);
        size_t nd;
        if (ndyn_size_mul(len[r], d, &nd)) return NDYN_ENOMEM;
        int rc = ndyn_check_finite(y[r], nd, "HMM trial data");
        if (rc) return ndyn_error_context(rc, "trial %zu: ", r);
        n += len[r];
        if (len[r] > Tmax) Tmax = len[r];
    }
    if (n < k)
        return ndyn_error(NDYN_EINVAL, "HMM fit: %zu time points for %zu states; give at least k points", n, k);

    int rc = NDYN_OK;
    ndyn_hmm *m = ndyn_hmm_alloc(k, d, p->cov);
    size_t nf = p->cov == NDYN_HMM_COV_FULL ? k * d * d : k * d;
    double *x = ndyn_malloc_array(n * d, sizeof *x), *mean = ndyn_calloc(d, sizeof *mean);
    double *w = ndyn_calloc(n * k, sizeof *w);                 /* weights (n, k) */
    double *logb = ndyn_malloc_array(Tmax * k, sizeof *logb);
    double *la = ndyn_malloc_array(Tmax * k, sizeof *la), *lb = ndyn_malloc_array(Tmax * k, sizeof *lb);
    double *work = ndyn_malloc_array(Tmax * d, sizeof *work);
    double *chol = ndyn_malloc_array(nf, sizeof *chol), *ld = ndyn_malloc_array(k, sizeof *ld);
    double *lp = ndyn_malloc_array(k + k * k, sizeof *lp), *cen = ndyn_malloc_array(k * d, sizeof *cen);
    int *lab = ndyn_malloc_array(n, sizeof *lab);
    stats_t st = {k, d, n, ndyn_calloc(k, sizeof(double)), ndyn_calloc(k * d, sizeof(double)),
                  ndyn_calloc(nf, sizeof(double)), ndyn_calloc(k, sizeof(double)),
                  ndyn_calloc(k * k, sizeof(double))};
    if (!m || !x || !mean || !w || !logb || !la || !lb || !work || !chol || !ld || !lp || !cen || !lab ||
        !st.nk || !st.s1 || !st.s2 || !st.pi_acc || !st.a_acc) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    /* Stack and centre. */
    {
        size_t o = 0;
        for (size_t r = 0; r < n_trials; r++) {
            memcpy(x + o * d, y[r], len[r] * d * sizeof *x);
            o += len[r];
        }
        for (size_t t = 0; t < n; t++)
            for (size_t a = 0; a < d; a++) mean[a] += x[t * d + a];
        for (size_t a = 0; a < d; a++) mean[a] /= (double)n;
        for (size_t t = 0; t < n; t++)
            for (size_t a = 0; a < d; a++) x[t * d + a] -= mean[a];
    }
    double var = 0;
    for (size_t i = 0; i < n * d; i++) var += x[i] * x[i];
    var /= (double)(n * d);
    if (!(var > 0)) {
        rc = ndyn_error(NDYN_EINVAL, "HMM fit: the data are constant; nothing to fit");
        goto done;
    }
    double rho = p->ridge * var;

    /* Initialisation from k-means hard labels. */
    ndyn_kmeans_params km;
    ndyn_kmeans_params_default(&km, k);
    km.n_init = p->kmeans_n_init;
    km.seed = p->seed;
    if ((rc = ndyn_kmeans(x, n, d, &km, cen, lab, NULL))) {
        ndyn_error_context(rc, "HMM fit, k-means initialisation: ");
        goto done;
    }
    for (size_t t = 0; t < n; t++) w[t * k + (size_t)lab[t]] = 1.0;
    accumulate(&st, x, w, n, p->cov);
    /* A cluster of fewer than two points gets the global covariance. */
    for (size_t s = 0; s < k; s++)
        for (size_t a = 0; a < d; a++) {
            m->means[s * d + a] = cen[s * d + a];
            if (p->cov == NDYN_HMM_COV_DIAG) m->covs[s * d + a] = var;
        }
    for (size_t s = 0; s < k; s++)
        if (p->cov == NDYN_HMM_COV_FULL)
            for (size_t a = 0; a < d; a++)
                for (size_t b = 0; b < d; b++) m->covs[(s * d + a) * d + b] = a == b ? var : 0.0;
    for (size_t s = 0; s < k; s++)
        if (st.nk[s] < 2) st.nk[s] = 0; /* keep the global covariance */
    m_step_emissions(m, &st, rho);
    for (size_t s = 0; s < k; s++) st.pi_acc[s] = 1.0;
    for (size_t s = 0; s < k * k; s++) st.a_acc[s] = 1.0;
    {
        size_t o = 0;
        for (size_t r = 0; r < n_trials; r++) {
            st.pi_acc[lab[o]] += 1.0;
            for (size_t t = 1; t < len[r]; t++) st.a_acc[(size_t)lab[o + t - 1] * k + (size_t)lab[o + t]] += 1.0;
            o += len[r];
        }
    }
    {
        double s = 0;
        for (size_t i = 0; i < k; i++) s += st.pi_acc[i];
        for (size_t i = 0; i < k; i++) m->pi[i] = st.pi_acc[i] / s;
        for (size_t i = 0; i < k; i++) {
            double r = 0;
            for (size_t j = 0; j < k; j++) r += st.a_acc[i * k + j];
            for (size_t j = 0; j < k; j++) m->trans[i * k + j] = st.a_acc[i * k + j] / r;
        }
    }

    double prev = -INFINITY;
    size_t it = 0;
    for (;;) {
        /* E-step under the current parameters. */
        if ((rc = hmm_factor(m, chol, ld))) {
            ndyn_error_context(rc, "HMM fit, EM iteration %zu: ", it);
            goto done;
        }
        hmm_log_params(m, lp, lp + k);
        memset(st.nk, 0, k * sizeof *st.nk);
        memset(st.s1, 0, k * d * sizeof *st.s1);
        memset(st.s2, 0, nf * sizeof *st.s2);
        memset(st.pi_acc, 0, k * sizeof *st.pi_acc);
        memset(st.a_acc, 0, k * k * sizeof *st.a_acc);
        double ll = 0;
        size_t o = 0;
        for (size_t r = 0; r < n_trials; r++) {
            size_t T = len[r];
            hmm_logb(m, chol, ld, x + o * d, T, logb, work);
            double l = hmm_forward_backward(k, lp, lp + k, logb, T, la, lb, w + o * k, NULL, st.a_acc);
            if (isnan(l)) {
                rc = NDYN_ENOMEM;
                goto done;
            }
            if (!isfinite(l)) {
                rc = ndyn_error(NDYN_ECONVERGE, "HMM fit, EM iteration %zu: trial %zu has probability 0; "
                                "try another seed or fewer states", it, r);
                goto done;
            }
            for (size_t s = 0; s < k; s++) st.pi_acc[s] += w[o * k + s];
            ll += l;
            o += T;
        }
        /* Only d log(2 pi) etc. depend on the centring: none, it is a shift. */
        double obj = ll - penalty(m, chol, rho, work);
        if (loglik) loglik[it] = ll;
        if (it == p->max_iter || (it > 0 && obj - prev < p->tol * (double)n)) break;
        prev = obj;
        /* M-step. */
        accumulate(&st, x, w, n, p->cov);
        for (size_t s = 0; s < k; s++) m->pi[s] = st.pi_acc[s] / (double)n_trials;
        for (size_t i = 0; i < k; i++) {
            double r = 0;
            for (size_t j = 0; j < k; j++) r += st.a_acc[i * k + j];
            if (r > 0)
                for (size_t j = 0; j < k; j++) m->trans[i * k + j] = st.a_acc[i * k + j] / r;
        }
        m_step_emissions(m, &st, rho);
        it++;
    }
    if (n_iter) *n_iter = it;
    for (size_t s = 0; s < k; s++)
        for (size_t a = 0; a < d; a++) m->means[s * d + a] += mean[a];
    *out = m;
    m = NULL;
done:
    ndyn_hmm_free(m);
    free(x);
    free(mean);
    free(w);
    free(logb);
    free(la);
    free(lb);
    free(work);
    free(chol);
    free(ld);
    free(lp);
    free(cen);
    free(lab);
    free(st.nk);
    free(st.s1);
    free(st.s2);
    free(st.pi_acc);
    free(st.a_acc);
    return rc;
}
