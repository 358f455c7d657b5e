/* Helpers shared inside src/prep/. */
#ifndef NDYN_PREP_INTERNAL_H
#define NDYN_PREP_INTERNAL_H

#include "ndyn/prep.h"

/* Validate the structure of t (not the values); `what` names it. */
int prep_check_struct(const ndyn_trials *t, const char *what);
/* Allocate a trial set with the given lengths (may be 0 only if allow0). */
int prep_alloc(size_t n, const size_t *len, size_t d, double dt, ndyn_trials **out);
/* Steps from seconds: fails unless dt > 0. */
int prep_need_dt(const ndyn_trials *t, const char *what);

#endif
