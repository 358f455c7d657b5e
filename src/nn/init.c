/* PyTorch's default initialisations. */
#include <math.h>

#include "nn/nn_internal.h"

void ndyn_nn_init_uniform(double *w, size_t n, double bound, ndyn_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = ndyn_rng_uniform_range(rng, -bound, bound);
}

/* kaiming_uniform_(w, a=sqrt(5)): gain sqrt(2/(1+5)), bound gain*sqrt(3/fan_in)
 * = 1/sqrt(fan_in); the bias uses 1/sqrt(fan_in) too. */
void ndyn_nn_init_linear(double *weight, double *bias, size_t C, size_t OC, ndyn_rng *rng)
{
    double bound = 1.0 / sqrt((double)C);
    ndyn_nn_init_uniform(weight, C * OC, bound, rng);
    if (bias) ndyn_nn_init_uniform(bias, OC, bound, rng);
}
