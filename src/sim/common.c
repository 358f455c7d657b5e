/* Helpers shared by the simulators: adding arrays to the output dataset and
 * checking parameter fields with messages that name the field. */
#include "sim/sim_internal.h"

#include <stdio.h>

void sim_put(ndyn_dataset *ds, const char *name, ndyn_array *a, const char *system, int *rc)
{
    if (*rc) {
        ndyn_array_free(a);
        return;
    }
    if (!a) {
        *rc = NDYN_ENOMEM;
        return;
    }
    char src[96];
    snprintf(src, sizeof src, "simulate %s", system);
    *rc = ndyn_dataset_add(ds, name, a, src);
}

ndyn_array *sim_scalar(double v)
{
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 0, NULL);
    if (a) ((double *)a->data)[0] = v;
    return a;
}

int sim_check_pos(const char *sys, const char *what, double v)
{
    if (!isfinite(v) || !(v > 0))
        return ndyn_error(NDYN_EINVAL, "%s: %s must be a finite number > 0, got %g", sys, what, v);
    return NDYN_OK;
}

int sim_check_nonneg(const char *sys, const char *what, double v)
{
    if (!isfinite(v) || v < 0)
        return ndyn_error(NDYN_EINVAL, "%s: %s must be a finite number >= 0, got %g", sys, what, v);
    return NDYN_OK;
}

int sim_check_count(const char *sys, const char *what, size_t v, size_t lo, size_t hi)
{
    if (v < lo || v > hi)
        return ndyn_error(NDYN_EINVAL, "%s: %s must be between %zu and %zu, got %zu", sys, what,
                          lo, hi, v);
    return NDYN_OK;
}
