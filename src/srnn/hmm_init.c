/* Labels for the `hmm` initialisation: a Gaussian HMM with diagonal
 * covariances fitted by EM (Baum-Welch through the log-domain
 * forward-backward of this module), initialised by k-means, then each trial's
 * Viterbi path relabelled by order of first appearance, as the reference
 * does with ssm's HMM. Written here (not taken from another module) because
 * it reuses the SRNN forward-backward and needs only this much. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "srnn_internal.h"

#define LOG2PI 1.8378770664093453

static void relabel_first_appearance(int *z, size_t T, int K)
{
    int map[64];
    for (int k = 0; k < K; k++) map[k] = -1;
    int next = 0;
    for (size_t t = 0; t < T; t++)
        if (map[z[t]] < 0) map[z[t]] = next++;
    for (int k = 0; k < K; k++)
        if (map[k] < 0) map[k] = next++;
    for (size_t t = 0; t < T; t++) z[t] = map[z[t]];
}

int srnn_hmm_labels(const ndyn_srnn_data *d, int K, int iters, uint64_t seed, int *labels)
{
    size_t n = d->n_trials, D = d->N, tot = 0, maxT = 0;
    for (size_t i = 0; i < n; i++) tot += d->T[i], maxT = d->T[i] > maxT ? d->T[i] : maxT;
    double *x = ndyn_malloc_array(tot * D, sizeof(double));
    double *mu = ndyn_malloc_array((size_t)K * D, sizeof(double));
    double *var = ndyn_malloc_array((size_t)K * D, sizeof(double));
    double *e = ndyn_malloc_array(maxT * K, sizeof(double));
    double *S = ndyn_malloc_array(maxT * K * K, sizeof(double));
    double *gam = ndyn_malloc_array(maxT * K, sizeof(double));
    double *xi = ndyn_malloc_array(maxT * K * K, sizeof(double));
    double *sw = ndyn_malloc_array((size_t)K * (2 * D + 1), sizeof(double));
    if (!x || !mu || !var || !e || !S || !gam || !xi || !sw) {
        free(x), free(mu), free(var), free(e), free(S), free(gam), free(xi), free(sw);
        return NDYN_ENOMEM;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(x + o * D, d->y[i], d->T[i] * D * sizeof(double));
        o += d->T[i];
    }
    ndyn_kmeans_params kp;
    ndyn_kmeans_params_default(&kp, K);
    kp.seed = seed;
    int rc = ndyn_kmeans(x, tot, D, &kp, mu, labels, NULL);
    /* initial variances: per-cluster, floored at 1e-3 of the total */
    double tv[4096] = {0}, mean[4096] = {0};
    if (D > 4096 && !rc) rc = ndyn_error(NDYN_EINVAL, "srnn hmm init: at most 4096 channels");
    for (size_t q = 0; !rc && q < tot; q++)
        for (size_t j = 0; j < D; j++) mean[j] += x[q * D + j] / tot;
    for (size_t q = 0; !rc && q < tot; q++)
        for (size_t j = 0; j < D; j++) tv[j] += (x[q * D + j] - mean[j]) * (x[q * D + j] - mean[j]) / tot;
    double lpi[64], A[64 * 64];
    for (int k = 0; !rc && k < K; k++) {
        lpi[k] = -log((double)K);
        for (int j = 0; j < K; j++) A[k * K + j] = log(k == j ? 0.9 : 0.1 / (K > 1 ? K - 1 : 1));
        if (K == 1) A[0] = 0;
        for (size_t j = 0; j < D; j++) var[k * D + j] = tv[j] > 0 ? tv[j] : 1;
    }
    for (int it = 0; !rc && it < iters; it++) {
        memset(sw, 0, (size_t)K * (2 * D + 1) * sizeof(double));
        double pi_acc[64] = {0}, A_acc[64 * 64] = {0}, ga[64] = {0};
        o = 0;
        for (size_t i = 0; !rc && i < n; i++) {
            size_t T = d->T[i];
            const double *xi_ = x + o * D;
            for (size_t t = 0; t < T; t++) {
                for (int k = 0; k < K; k++) {
                    double s = 0;
                    for (size_t j = 0; j < D; j++) {
                        double u = xi_[t * D + j] - mu[k * D + j];
                        s += LOG2PI + log(var[k * D + j]) + u * u / var[k * D + j];
                    }
                    e[t * K + k] = -0.5 * s;
                }
                memcpy(S + t * K * K, A, (size_t)K * K * sizeof(double));
            }
            rc = ndyn_srnn_forward_backward(lpi, S, e, T, K, NULL, NULL, NULL, gam, xi, NULL);
            if (rc) break;
            for (int k = 0; k < K; k++) pi_acc[k] += gam[k];
            for (size_t t = 0; t + 1 < T; t++)
                for (int a = 0; a < K; a++)
                    for (int b = 0; b < K; b++) {
                        A_acc[b * K + a] += xi[t * K * K + a * K + b]; /* dest b, source a */
                        ga[a] += xi[t * K * K + a * K + b];
                    }
            for (size_t t = 0; t < T; t++)
                for (int k = 0; k < K; k++) {
                    double gk = gam[t * K + k];
                    double *s = sw + (size_t)k * (2 * D + 1);
                    s[0] += gk;
                    for (size_t j = 0; j < D; j++) {
                        s[1 + j] += gk * xi_[t * D + j];
                        s[1 + D + j] += gk * xi_[t * D + j] * xi_[t * D + j];
                    }
                }
            o += T;
        }
        if (rc) break;
        for (int k = 0; k < K; k++) lpi[k] = log((pi_acc[k] + 1e-8) / (n + K * 1e-8));
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) A[b * K + a] = log((A_acc[b * K + a] + 1e-8) / (ga[a] + K * 1e-8));
        for (int k = 0; k < K; k++) {
            double *s = sw + (size_t)k * (2 * D + 1);
            if (s[0] < 1e-8) continue; /* empty state keeps its parameters */
            for (size_t j = 0; j < D; j++) {
                double m_ = s[1 + j] / s[0];
                mu[k * D + j] = m_;
                double v = s[1 + D + j] / s[0] - m_ * m_;
                double fl = 1e-6 * (tv[j] > 0 ? tv[j] : 1);
                var[k * D + j] = v > fl ? v : fl;
            }
        }
    }
    /* Viterbi paths */
    o = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        size_t T = d->T[i];
        const double *xi_ = x + o * D;
        for (size_t t = 0; t < T; t++) {
            for (int k = 0; k < K; k++) {
                double s = 0;
                for (size_t j = 0; j < D; j++) {
                    double u = xi_[t * D + j] - mu[k * D + j];
                    s += LOG2PI + log(var[k * D + j]) + u * u / var[k * D + j];
                }
                e[t * K + k] = -0.5 * s;
            }
            memcpy(S + t * K * K, A, (size_t)K * K * sizeof(double));
        }
        rc = ndyn_srnn_viterbi(lpi, S, e, T, K, labels + o, NULL);
        if (!rc) relabel_first_appearance(labels + o, T, K);
        o += T;
    }
    free(x), free(mu), free(var), free(e), free(S), free(gam), free(xi), free(sw);
    return rc;
}
