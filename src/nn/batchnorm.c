/* BatchNorm1d over (B, C) with PyTorch semantics: train mode (batch
 * statistics, running averages with the unbiased variance) and eval mode
 * (running statistics). */
#include <math.h>

#include "nn/nn_internal.h"

#define REAL double
#define NN_NAME(n) n
#include "nn/batchnorm_tmpl.h"
#undef REAL
#undef NN_NAME

#define REAL float
#define NN_NAME(n) n##_f32
#include "nn/batchnorm_tmpl.h"
#undef REAL
#undef NN_NAME

void ndyn_nn_batchnorm_forward_eval(double *out, const double *inp, const double *running_mean,
                                    const double *running_var, const double *weight,
                                    const double *bias, size_t B, size_t C, double eps)
{
    for (size_t c = 0; c < C; c++) {
        double r = 1.0 / sqrt(running_var[c] + eps), m = running_mean[c];
        double w = weight ? weight[c] : 1.0, bb = bias ? bias[c] : 0.0;
        for (size_t b = 0; b < B; b++) out[b * C + c] = (inp[b * C + c] - m) * r * w + bb;
    }
}

void ndyn_nn_batchnorm_backward_eval(double *dinp, double *dweight, double *dbias,
                                     const double *dout, const double *inp,
                                     const double *running_mean, const double *running_var,
                                     const double *weight, size_t B, size_t C, double eps)
{
    for (size_t c = 0; c < C; c++) {
        double r = 1.0 / sqrt(running_var[c] + eps), m = running_mean[c];
        double w = weight ? weight[c] : 1.0;
        double sd = 0, sdx = 0;
        for (size_t b = 0; b < B; b++) {
            double d = dout[b * C + c];
            sd += d;
            sdx += d * (inp[b * C + c] - m) * r;
            if (dinp) dinp[b * C + c] += d * w * r;
        }
        if (dweight) dweight[c] += sdx;
        if (dbias) dbias[c] += sd;
    }
}
