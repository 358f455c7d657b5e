/* Helpers shared by the optimal-transport files of src/analysis/. */
#ifndef NDYN_OT_INTERNAL_H
#define NDYN_OT_INTERNAL_H

#include <stddef.h>

#include "ndyn/analysis.h"

/* Validate the inputs of an OT problem (sizes, finite non-negative weights
 * with positive sums that agree to 1e-6 relative, finite costs) and return
 * new arrays *wa (na), *wb (nb): copies of the weights (uniform when NULL),
 * wb rescaled to the sum of wa. The caller frees both. */
int ot_prepare_weights(const double *a, size_t na, const double *b, size_t nb, const double *cost,
                       double **wa, double **wb);

/* Exact EMD on weights already validated by ot_prepare_weights: plan
 * (na, nb) is always written (zeros off the support). */
int ot_emd_solve(const double *wa, size_t na, const double *wb, size_t nb, const double *cost,
                 double *plan, double *total);

#endif
