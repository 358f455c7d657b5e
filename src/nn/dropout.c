/* Inverted dropout with a seeded generator: one uniform per element, in
 * order, so the mask depends only on the generator's state. */
#include <string.h>

#include "nn/nn_internal.h"

int ndyn_nn_dropout_forward(double *out, double *mask, const double *inp, size_t N, double p,
                            ndyn_rng *rng)
{
    if (!(p >= 0.0 && p < 1.0))
        return ndyn_error(NDYN_EINVAL, "dropout probability %g is outside [0, 1)", p);
    if (p == 0.0) {
        for (size_t i = 0; i < N; i++) mask[i] = 1.0;
        if (out != inp) memmove(out, inp, N * sizeof(double));
        return NDYN_OK;
    }
    if (!rng) return ndyn_error(NDYN_EINVAL, "dropout with p = %g needs a random generator", p);
    double scale = 1.0 / (1.0 - p);
    for (size_t i = 0; i < N; i++) {
        mask[i] = ndyn_rng_uniform(rng) < p ? 0.0 : scale;
        out[i] = inp[i] * mask[i];
    }
    return NDYN_OK;
}

void ndyn_nn_dropout_backward(double *dinp, const double *dout, const double *mask, size_t N)
{
    for (size_t i = 0; i < N; i++) dinp[i] += dout[i] * mask[i];
}
