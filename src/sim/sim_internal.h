/* Helpers shared by the simulators of src/sim (not public API). */
#ifndef NDYN_SIM_INTERNAL_H
#define NDYN_SIM_INTERNAL_H

#include <math.h>

#include "ndyn/sim.h"

/* Add `a` to ds as `name`, with the source "simulate SYSTEM"; ownership of
 * `a` passes in every case. If *rc is already nonzero, `a` is just freed, so
 * a run of sim_put calls needs one check at the end. A NULL `a` (failed
 * allocation) sets *rc = NDYN_ENOMEM. */
void sim_put(ndyn_dataset *ds, const char *name, ndyn_array *a, const char *system, int *rc);

/* Scalar float64 array holding v, or NULL with a message. */
ndyn_array *sim_scalar(double v);

/* Checks of parameter fields; each returns 0 or NDYN_EINVAL naming `what`. */
int sim_check_pos(const char *sys, const char *what, double v);     /* finite, > 0 */
int sim_check_nonneg(const char *sys, const char *what, double v);  /* finite, >= 0 */
int sim_check_count(const char *sys, const char *what, size_t v, size_t lo, size_t hi);

#endif
