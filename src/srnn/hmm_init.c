/* Labels for the `hmm` initialisation (spec §6): a Gaussian HMM with
 * diagonal covariances fitted by EM from a k-means start (ndyn_hmm_fit of
 * the analysis module), then each trial's Viterbi path relabelled by order of
 * first appearance, as the reference does with ssm's HMM and reorder_state. */
#include <stdlib.h>

#include "ndyn/analysis.h"
#include "srnn_internal.h"

int srnn_hmm_labels(const ndyn_srnn_data *d, int K, int iters, uint64_t seed, int *labels)
{
    ndyn_hmm_params hp;
    ndyn_hmm_params_default(&hp, (size_t)K);
    hp.cov = NDYN_HMM_COV_DIAG;
    hp.max_iter = (size_t)iters;
    hp.seed = seed;
    ndyn_hmm *hmm = NULL;
    int rc = ndyn_hmm_fit(d->y, d->T, d->n_trials, d->N, &hp, &hmm, NULL, NULL);
    if (rc) return ndyn_error_context(rc, "srnn hmm init: ");
    size_t o = 0;
    for (size_t i = 0; !rc && i < d->n_trials; i++) {
        rc = ndyn_hmm_viterbi(hmm, d->y[i], d->T[i], labels + o, NULL);
        if (!rc) rc = ndyn_hmm_reorder_states(labels + o, d->T[i], K, NULL);
        o += d->T[i];
    }
    ndyn_hmm_free(hmm);
    return rc;
}
