/* Gaussian HMM: emission densities against the closed-form 2-D Gaussian,
 * forward-backward and Viterbi against enumeration of every state path,
 * EM against the ground truth of simulated data, monotone likelihood,
 * relabelling by first appearance, and bad input. */
#include "test.h"

#include "ndyn/analysis.h"

/* log N(y | mu, C) in 2-D from the closed-form inverse and determinant. */
static double logn2(const double *y, const double *mu, const double *C)
{
    double det = C[0] * C[3] - C[1] * C[2];
    double u = y[0] - mu[0], v = y[1] - mu[1];
    double q = (C[3] * u * u - (C[1] + C[2]) * u * v + C[0] * v * v) / det;
    return -log(2 * M_PI) - 0.5 * log(det) - 0.5 * q;
}

static void random_model(ndyn_hmm *m, ndyn_rng *r)
{
    size_t k = m->k;
    double s = 0;
    for (size_t i = 0; i < k; i++) s += m->pi[i] = ndyn_rng_uniform_range(r, 0.1, 1);
    for (size_t i = 0; i < k; i++) m->pi[i] /= s;
    for (size_t i = 0; i < k; i++) {
        s = 0;
        for (size_t j = 0; j < k; j++) s += m->trans[i * k + j] = ndyn_rng_uniform_range(r, 0.05, 1);
        for (size_t j = 0; j < k; j++) m->trans[i * k + j] /= s;
    }
    for (size_t i = 0; i < k * 2; i++) m->means[i] = ndyn_rng_normal(r);
    for (size_t i = 0; i < k; i++) {
        double a = ndyn_rng_uniform_range(r, 0.3, 1.5), b = ndyn_rng_uniform_range(r, 0.3, 1.5);
        double c = ndyn_rng_uniform_range(r, -0.5, 0.5) * sqrt(a * b);
        if (m->cov == NDYN_HMM_COV_FULL) {
            double *C = m->covs + i * 4;
            C[0] = a;
            C[1] = C[2] = c;
            C[3] = b;
        } else {
            m->covs[i * 2] = a;
            m->covs[i * 2 + 1] = b;
        }
    }
}

static void cov2(const ndyn_hmm *m, size_t s, double *C)
{
    if (m->cov == NDYN_HMM_COV_FULL) {
        memcpy(C, m->covs + s * 4, 4 * sizeof *C);
    } else {
        C[0] = m->covs[s * 2];
        C[1] = C[2] = 0;
        C[3] = m->covs[s * 2 + 1];
    }
}

TEST(forward_backward_and_viterbi_vs_enumeration)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (int K = 1; K <= 3; K++)
        for (int T = 1; T <= 6; T++)
            for (int cv = 0; cv < 2; cv++) {
                ndyn_hmm *m = ndyn_hmm_alloc((size_t)K, 2, cv ? NDYN_HMM_COV_DIAG : NDYN_HMM_COV_FULL);
                CHECK(m != NULL);
                if (!m) return;
                random_model(m, &r);
                CHECK_OK(ndyn_hmm_check(m));
                double y[12], lb[6 * 3], C[4];
                for (int i = 0; i < 2 * T; i++) y[i] = 1.5 * ndyn_rng_normal(&r);
                CHECK_OK(ndyn_hmm_log_emission(m, y, (size_t)T, lb));
                for (int t = 0; t < T; t++)
                    for (int s = 0; s < K; s++) {
                        cov2(m, (size_t)s, C);
                        CHECK_CLOSE(lb[t * K + s], logn2(y + 2 * t, m->means + 2 * s, C), 1e-12, 1e-12);
                    }
                /* Enumerate all K^T paths. */
                double g_bf[18] = {0}, xi_bf[5 * 9] = {0}, pz[729], best = -INFINITY;
                int npath = 1, bestz = 0;
                for (int t = 0; t < T; t++) npath *= K;
                double tot = 0;
                for (int zi = 0; zi < npath; zi++) {
                    int z[6], q = zi;
                    for (int t = 0; t < T; t++) {
                        z[t] = q % K;
                        q /= K;
                    }
                    double lp = log(m->pi[z[0]]);
                    for (int t = 0; t < T; t++) {
                        cov2(m, (size_t)z[t], C);
                        lp += logn2(y + 2 * t, m->means + 2 * z[t], C);
                        if (t) lp += log(m->trans[z[t - 1] * K + z[t]]);
                    }
                    pz[zi] = exp(lp);
                    tot += pz[zi];
                    if (lp > best) {
                        best = lp;
                        bestz = zi;
                    }
                }
                for (int zi = 0; zi < npath; zi++) {
                    int z[6], q = zi;
                    for (int t = 0; t < T; t++) {
                        z[t] = q % K;
                        q /= K;
                    }
                    for (int t = 0; t < T; t++) g_bf[t * K + z[t]] += pz[zi] / tot;
                    for (int t = 0; t + 1 < T; t++) xi_bf[(t * K + z[t]) * K + z[t + 1]] += pz[zi] / tot;
                }
                double gamma[18], xi[45], ll;
                CHECK_OK(ndyn_hmm_posterior(m, y, (size_t)T, gamma, xi, &ll));
                CHECK_CLOSE(ll, log(tot), 1e-12, 1e-12);
                for (int i = 0; i < T * K; i++) CHECK_CLOSE(gamma[i], g_bf[i], 1e-12, 0);
                for (int i = 0; i < (T - 1) * K * K; i++) CHECK_CLOSE(xi[i], xi_bf[i], 1e-12, 0);
                int path[6];
                double lv;
                CHECK_OK(ndyn_hmm_viterbi(m, y, (size_t)T, path, &lv));
                CHECK_CLOSE(lv, best, 1e-12, 1e-12);
                int q = bestz;
                for (int t = 0; t < T; t++) {
                    CHECK(path[t] == q % K);
                    q /= K;
                }
                ndyn_hmm_free(m);
            }
}

/* Draw trials from m: y[r] (len[r], d), z[r] (len[r]). */
static void simulate(const ndyn_hmm *m, size_t ntr, const size_t *len, double **y, int **z, ndyn_rng *r)
{
    size_t k = m->k, d = m->d;
    for (size_t q = 0; q < ntr; q++) {
        int s = (int)ndyn_rng_categorical(r, m->pi, k);
        for (size_t t = 0; t < len[q]; t++) {
            if (t) s = (int)ndyn_rng_categorical(r, m->trans + (size_t)s * k, k);
            z[q][t] = s;
            double e[8];
            for (size_t a = 0; a < d; a++) e[a] = ndyn_rng_normal(r);
            for (size_t a = 0; a < d; a++) {
                double v = m->means[(size_t)s * d + a];
                if (m->cov == NDYN_HMM_COV_FULL) {
                    /* Lower Cholesky factor of a 2x2 covariance. */
                    const double *C = m->covs + (size_t)s * 4;
                    double l00 = sqrt(C[0]), l10 = C[2] / l00, l11 = sqrt(C[3] - l10 * l10);
                    v += a == 0 ? l00 * e[0] : l10 * e[0] + l11 * e[1];
                } else {
                    v += sqrt(m->covs[(size_t)s * d + a]) * e[a];
                }
                y[q][t * d + a] = v;
            }
        }
    }
}

static void em_recovers(ndyn_hmm_cov cov)
{
    enum { K = 3, D = 2, NTR = 12 };
    ndyn_hmm *truth = ndyn_hmm_alloc(K, D, cov);
    CHECK(truth != NULL);
    if (!truth) return;
    const double mu[K * D] = {0, 0, 3, 0, 0, 3};
    memcpy(truth->means, mu, sizeof mu);
    for (int i = 0; i < K; i++) {
        truth->pi[i] = 1.0 / K;
        for (int j = 0; j < K; j++) truth->trans[i * K + j] = i == j ? 0.94 : 0.03;
        if (cov == NDYN_HMM_COV_FULL) {
            double *C = truth->covs + i * 4;
            C[0] = 0.5;
            C[3] = 0.3;
            C[1] = C[2] = (i - 1) * 0.15;
        } else {
            truth->covs[i * 2] = 0.5;
            truth->covs[i * 2 + 1] = 0.3 + 0.1 * i;
        }
    }
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    size_t len[NTR];
    double *y[NTR];
    int *z[NTR];
    size_t n = 0;
    for (int q = 0; q < NTR; q++) {
        len[q] = 80 + 10 * (size_t)q; /* different lengths */
        y[q] = malloc(len[q] * D * sizeof(double));
        z[q] = malloc(len[q] * sizeof(int));
        n += len[q];
    }
    simulate(truth, NTR, len, y, z, &r);
    ndyn_hmm_params p;
    ndyn_hmm_params_default(&p, K);
    p.cov = cov;
    p.max_iter = 100;
    double ll[101];
    size_t it;
    ndyn_hmm *m = NULL;
    CHECK_OK(ndyn_hmm_fit((const double *const *)y, len, NTR, D, &p, &m, ll, &it));
    if (m) {
        CHECK(it >= 1 && it <= 100);
        for (size_t i = 0; i < it; i++) CHECKF(ll[i + 1] >= ll[i] - 1e-8 * fabs(ll[i]), "ll[%zu] %.12g > ll[%zu] %.12g", i, ll[i], i + 1, ll[i + 1]);
        /* Viterbi paths against the true states, one matching for all trials. */
        int *st = malloc(n * sizeof(int)), *lab = malloc(n * sizeof(int));
        size_t o = 0;
        for (int q = 0; q < NTR; q++) {
            CHECK_OK(ndyn_hmm_viterbi(m, y[q], len[q], st + o, NULL));
            memcpy(lab + o, z[q], len[q] * sizeof(int));
            o += len[q];
        }
        int map[K];
        double acc;
        CHECK_OK(ndyn_match_labels(st, lab, n, K, K, NDYN_MATCH_ACCURACY, map, &acc));
        CHECKF(acc >= 0.95, "state accuracy %.4f", acc);
        /* Parameters, through the matching (state s is true state map[s]). */
        for (int s = 0; s < K; s++) {
            int t = map[s];
            CHECK(t >= 0);
            if (t < 0) continue;
            for (int a = 0; a < D; a++) CHECK_CLOSE(m->means[s * D + a], mu[t * D + a], 0.1, 0);
            for (int s2 = 0; s2 < K; s2++)
                if (map[s2] >= 0) CHECK_CLOSE(m->trans[s * K + s2], truth->trans[t * K + map[s2]], 0.04, 0);
            size_t nc = cov == NDYN_HMM_COV_FULL ? 4 : 2;
            for (size_t a = 0; a < nc; a++) CHECK_CLOSE(m->covs[s * nc + a], truth->covs[t * nc + a], 0.08, 0);
        }
        /* The fitted model's likelihood exceeds the truth's (it is the MLE,
         * up to the tiny ridge) and matches ndyn_hmm_loglik. */
        double lf, lt;
        CHECK_OK(ndyn_hmm_loglik(m, (const double *const *)y, len, NTR, NULL, &lf));
        CHECK_OK(ndyn_hmm_loglik(truth, (const double *const *)y, len, NTR, NULL, &lt));
        CHECK(lf >= lt);
        CHECK_CLOSE(lf, ll[it], 1e-9, 1e-12);
        free(st);
        free(lab);
    }
    ndyn_hmm_free(m);
    ndyn_hmm_free(truth);
    for (int q = 0; q < NTR; q++) {
        free(y[q]);
        free(z[q]);
    }
}

TEST(em_recovers_full) { em_recovers(NDYN_HMM_COV_FULL); }
TEST(em_recovers_diag) { em_recovers(NDYN_HMM_COV_DIAG); }

TEST(em_likelihood_monotone)
{
    /* Overlapping states: EM needs many iterations. With ridge 0 EM is plain
     * maximum likelihood and log p(y) may never decrease. */
    enum { K = 3, D = 2, NTR = 4, T = 60 };
    ndyn_rng r;
    ndyn_rng_init(&r, 12, 0);
    static double buf[NTR][T * D];
    const double *y[NTR];
    size_t len[NTR];
    for (int q = 0; q < NTR; q++) {
        for (int i = 0; i < T * D; i++) buf[q][i] = ndyn_rng_normal(&r) + (i / (2 * 20)) * 0.8;
        y[q] = buf[q];
        len[q] = T;
    }
    for (int cv = 0; cv < 2; cv++) {
        ndyn_hmm_params p;
        ndyn_hmm_params_default(&p, K);
        p.cov = cv ? NDYN_HMM_COV_DIAG : NDYN_HMM_COV_FULL;
        p.ridge = 0;
        p.tol = 0;
        p.max_iter = 60;
        double ll[61];
        size_t it;
        ndyn_hmm *m = NULL;
        CHECK_OK(ndyn_hmm_fit(y, len, NTR, D, &p, &m, ll, &it));
        CHECK(it == 60);
        for (size_t i = 0; i < it; i++)
            CHECKF(ll[i + 1] >= ll[i] - 1e-10 * fabs(ll[i]), "cov %d: ll[%zu] = %.15g, ll[%zu] = %.15g", cv, i,
                   ll[i], i + 1, ll[i + 1]);
        CHECK(ll[it] > ll[0]);
        CHECK_OK(ndyn_hmm_check(m));
        ndyn_hmm_free(m);
    }
}

TEST(em_penalised_objective_monotone)
{
    /* With a ridge, EM is MAP estimation: log p(y) - rho/2 sum_k tr(Sigma_k^-1)
     * (rho = ridge x the mean per-feature variance) never decreases. The fit
     * is deterministic, so the model after i iterations is the fit with
     * max_iter = i; the objective is evaluated here with 2x2 inverses. */
    enum { K = 3, D = 2, T = 90 };
    ndyn_rng r;
    ndyn_rng_init(&r, 13, 0);
    double buf[T * D];
    for (int i = 0; i < T * D; i++) buf[i] = ndyn_rng_normal(&r) + (i / (2 * 30)) * 0.7;
    double mean[D] = {0}, var = 0;
    for (int t = 0; t < T; t++)
        for (int a = 0; a < D; a++) mean[a] += buf[t * D + a] / T;
    for (int t = 0; t < T; t++)
        for (int a = 0; a < D; a++) var += pow(buf[t * D + a] - mean[a], 2) / (T * D);
    const double *y[1] = {buf};
    size_t len[1] = {T};
    const double ridge = 0.3;
    double prev = -INFINITY;
    for (size_t iters = 0; iters <= 15; iters++) {
        ndyn_hmm_params p;
        ndyn_hmm_params_default(&p, K);
        p.ridge = ridge;
        p.tol = 0;
        p.max_iter = iters;
        ndyn_hmm *m = NULL;
        double ll[16];
        size_t it;
        CHECK_OK(ndyn_hmm_fit(y, len, 1, D, &p, &m, ll, &it));
        if (!m) return;
        CHECK(it == iters);
        double tr = 0;
        for (int s = 0; s < K; s++) {
            const double *C = m->covs + s * 4;
            tr += (C[0] + C[3]) / (C[0] * C[3] - C[1] * C[2]);
        }
        double obj = ll[it] - 0.5 * ridge * var * tr;
        CHECKF(obj >= prev - 1e-10 * fabs(obj), "iteration %zu: penalised objective %.15g < %.15g", iters, obj,
               prev);
        prev = obj;
        ndyn_hmm_free(m);
    }
}

TEST(reorder_states)
{
    int path[8] = {2, 2, 0, 0, 2, 3, 3, 0}, map[5];
    CHECK_OK(ndyn_hmm_reorder_states(path, 8, 5, map));
    const int want[8] = {0, 0, 1, 1, 0, 2, 2, 1};
    for (int i = 0; i < 8; i++) CHECK(path[i] == want[i]);
    CHECK(map[2] == 0 && map[0] == 1 && map[3] == 2 && map[1] == 3 && map[4] == 4);
    int bad[2] = {0, 5};
    CHECK_FAILS(ndyn_hmm_reorder_states(bad, 2, 5, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_hmm_reorder_states(path, 8, 0, NULL), NDYN_EINVAL);
}

TEST(bad_input)
{
    double a[20];
    for (int i = 0; i < 20; i++) a[i] = i * 0.1 + (i % 3);
    const double *y[2] = {a, a + 10};
    size_t len[2] = {5, 5};
    ndyn_hmm_params p;
    ndyn_hmm *m = NULL;
    ndyn_hmm_params_default(&p, 0);
    CHECK_FAILS(ndyn_hmm_fit(y, len, 2, 2, &p, &m, NULL, NULL), NDYN_EINVAL);
    ndyn_hmm_params_default(&p, 11);
    CHECK_FAILS(ndyn_hmm_fit(y, len, 2, 2, &p, &m, NULL, NULL), NDYN_EINVAL); /* 10 points < k */
    ndyn_hmm_params_default(&p, 2);
    size_t len0[2] = {5, 0};
    CHECK_FAILS(ndyn_hmm_fit(y, len0, 2, 2, &p, &m, NULL, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_hmm_fit(y, len, 0, 2, &p, &m, NULL, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_hmm_fit(y, len, 2, 0, &p, &m, NULL, NULL), NDYN_EINVAL);
    p.ridge = -1;
    CHECK_FAILS(ndyn_hmm_fit(y, len, 2, 2, &p, &m, NULL, NULL), NDYN_EINVAL);
    p.ridge = 1e-4;
    a[3] = NAN;
    CHECK_FAILS(ndyn_hmm_fit(y, len, 2, 2, &p, &m, NULL, NULL), NDYN_ENONFINITE);
    CHECK(m == NULL);
    a[3] = 0;
    CHECK_OK(ndyn_hmm_fit(y, len, 2, 2, &p, &m, NULL, NULL));
    ndyn_hmm_free(m);
    /* Models that are not valid. */
    m = ndyn_hmm_alloc(2, 2, NDYN_HMM_COV_FULL);
    CHECK_OK(ndyn_hmm_check(m));
    int path[5];
    m->pi[0] = 0.7;
    CHECK_FAILS(ndyn_hmm_viterbi(m, a, 5, path, NULL), NDYN_EINVAL);
    m->pi[0] = 0.5;
    m->covs[0] = -1;
    CHECK_FAILS(ndyn_hmm_posterior(m, a, 5, NULL, NULL, NULL), NDYN_EINVAL);
    m->covs[0] = 1;
    m->covs[1] = 0.5; /* not symmetric */
    CHECK_FAILS(ndyn_hmm_check(m), NDYN_EINVAL);
    m->covs[1] = 0;
    CHECK_FAILS(ndyn_hmm_viterbi(m, a, 5, NULL, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_hmm_posterior(m, a, 0, NULL, NULL, NULL), NDYN_EINVAL);
    /* A forbidden start: probability 0. */
    m->pi[0] = 1;
    m->pi[1] = 0;
    m->trans[0] = 1;
    m->trans[1] = 0;
    double ll;
    CHECK_OK(ndyn_hmm_posterior(m, a, 5, NULL, NULL, &ll)); /* state 0 only: fine */
    CHECK(isfinite(ll));
    ndyn_hmm_free(m);
    CHECK(ndyn_hmm_alloc(0, 2, NDYN_HMM_COV_FULL) == NULL);
}

RUN_TESTS(T(forward_backward_and_viterbi_vs_enumeration), T(em_recovers_full), T(em_recovers_diag),
          T(em_likelihood_monotone), T(em_penalised_objective_monotone), T(reorder_states), T(bad_input))
