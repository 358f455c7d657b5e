/* Helpers shared by the Gaussian HMM files of src/analysis/. */
#ifndef NDYN_HMM_INTERNAL_H
#define NDYN_HMM_INTERNAL_H

#include <stddef.h>

#include "ndyn/analysis.h"

/* Factors of the emission densities: full: chol (k, d, d) lower Cholesky
 * factors (row-major); diag: chol (k, d) standard deviations; logdet (k)
 * log |cov_k|. Fails naming the state whose covariance is not positive
 * definite. */
int hmm_factor(const ndyn_hmm *m, double *chol, double *logdet);

/* logb (T, k) = log N(y_t | mean_k, cov_k) from the factors; work (T * d). */
void hmm_logb(const ndyn_hmm *m, const double *chol, const double *logdet, const double *y,
              size_t T, double *logb, double *work);

/* Log-domain forward-backward from logb (T, k) with log pi, log trans:
 * la, lb (T, k) work arrays (la is left holding the forward log messages).
 * Outputs (NULL to skip): gamma (T, k); xi (T - 1, k, k); xi_sum (k, k)
 * accumulates sum_t xi_t. Returns log p(y) (-inf if the trial is impossible
 * under the model). */
double hmm_forward_backward(size_t k, const double *logpi, const double *logA, const double *logb,
                            size_t T, double *la, double *lb, double *gamma, double *xi,
                            double *xi_sum);

/* log of each entry (log 0 = -inf). */
void hmm_log_params(const ndyn_hmm *m, double *logpi, double *logA);

#endif
