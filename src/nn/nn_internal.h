/* Helpers shared inside src/nn. */
#ifndef NDYN_NN_INTERNAL_H
#define NDYN_NN_INTERNAL_H

#include <math.h>
#include <stdio.h>

#include "ndyn/nn.h"

/* The logistic function 1 / (1 + e^-x), without overflow for large |x|. */
static inline double nn_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* "<prefix>.<name>" (or "<name>" for an empty/NULL prefix) into buf;
 * NDYN_EINVAL when it does not fit. */
static inline int nn_join_name(char *buf, size_t n, const char *prefix, const char *name)
{
    int k = (prefix && *prefix) ? snprintf(buf, n, "%s.%s", prefix, name)
                                : snprintf(buf, n, "%s", name);
    if (k < 0 || (size_t)k >= n)
        return ndyn_error(NDYN_EINVAL, "tensor name '%s.%s' is too long; use a shorter prefix",
                          prefix ? prefix : "", name);
    return NDYN_OK;
}

#define NN_NAME_MAX 200

/* Drop the tensors added after the first n (undoes a failed module add). */
void nn_store_truncate(ndyn_nn_store *s, size_t n);

#endif
