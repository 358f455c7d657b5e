/* Train/test folds: by trial (seeded, optionally stratified), by contiguous
 * time block, or first-fraction time split. */
#include <math.h>
#include <stdlib.h>

#include "prep/prep_internal.h"

int ndyn_prep_split_trials(size_t n_trials, int nfolds, uint64_t seed, const int *strata, int *trial_fold)
{
    if (!trial_fold) return ndyn_error(NDYN_EINVAL, "split: output is NULL");
    if (n_trials == 0) return ndyn_error(NDYN_EINVAL, "split: no trials");
    if (nfolds < 1 || (size_t)nfolds > n_trials)
        return ndyn_error(NDYN_EINVAL, "split: %d folds for %zu trials; use 1..%zu folds", nfolds, n_trials, n_trials);
    size_t *perm = ndyn_malloc_array(n_trials, sizeof *perm);
    if (!perm) return NDYN_ENOMEM;
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    ndyn_rng_permutation(&r, perm, n_trials);
    size_t turn = 0;
    if (!strata) {
        for (size_t i = 0; i < n_trials; i++) trial_fold[perm[i]] = (int)(turn++ % (size_t)nfolds);
    } else {
        int lo = strata[0], hi = strata[0];
        for (size_t i = 1; i < n_trials; i++) {
            if (strata[i] < lo) lo = strata[i];
            if (strata[i] > hi) hi = strata[i];
        }
        if ((long)hi - (long)lo > 10000000L) {
            free(perm);
            return ndyn_error(NDYN_EINVAL, "split: strata labels span %d..%d; relabel them 0..C-1", lo, hi);
        }
        for (long s = lo; s <= hi; s++)
            for (size_t i = 0; i < n_trials; i++)
                if (strata[perm[i]] == s) trial_fold[perm[i]] = (int)(turn++ % (size_t)nfolds);
    }
    free(perm);
    return NDYN_OK;
}

int ndyn_prep_split_blocks(size_t n, int nfolds, int *fold)
{
    if (!fold) return ndyn_error(NDYN_EINVAL, "split: output is NULL");
    if (nfolds < 1 || (size_t)nfolds > n)
        return ndyn_error(NDYN_EINVAL, "split: %d time blocks for %zu rows; use 1..%zu", nfolds, n, n);
    for (int f = 0; f < nfolds; f++) {
        size_t lo = (size_t)f * n / (size_t)nfolds, hi = (size_t)(f + 1) * n / (size_t)nfolds;
        for (size_t i = lo; i < hi; i++) fold[i] = f;
    }
    return NDYN_OK;
}

int ndyn_prep_split_time(size_t n, double train_frac, int *fold)
{
    if (!fold) return ndyn_error(NDYN_EINVAL, "split: output is NULL");
    if (!(train_frac > 0 && train_frac < 1))
        return ndyn_error(NDYN_EINVAL, "split: training fraction %g must be in (0, 1)", train_frac);
    size_t ntr = (size_t)floor(train_frac * (double)n);
    if (ntr < 1 || ntr >= n)
        return ndyn_error(NDYN_EINVAL, "split: %zu rows leave %zu for training and %zu for testing; need both", n,
                          ntr, n - ntr);
    for (size_t i = 0; i < n; i++) fold[i] = i < ntr ? NDYN_FOLD_TRAIN : 0;
    return NDYN_OK;
}

int ndyn_prep_trial_folds_to_rows(const ndyn_trials *t, const int *trial_fold, int *row_fold)
{
    int rc = prep_check_struct(t, "fold expansion");
    if (rc) return rc;
    if (!trial_fold || !row_fold) return ndyn_error(NDYN_EINVAL, "fold expansion: folds are NULL");
    for (size_t i = 0; i < t->n; i++)
        for (size_t r = t->off[i]; r < t->off[i + 1]; r++) row_fold[r] = trial_fold[i];
    return NDYN_OK;
}
