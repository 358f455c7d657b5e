/* Losses with gradients: mean squared error, Gaussian NLL (log-variance or
 * fixed variance), Poisson NLL (log-rate and softplus-rate), binary
 * cross-entropy with logits. Each _backward adds dloss * dL/dinput. */
#include <math.h>

#include "nn/nn_internal.h"

#define HALF_LOG_2PI 0.91893853320467274178

static inline double red_scale(int reduction, size_t n)
{
    return reduction == NDYN_NN_SUM ? 1.0 : 1.0 / (double)n;
}

double ndyn_nn_mse_forward(const double *pred, const double *target, size_t N, int reduction)
{
    double s = 0;
    for (size_t i = 0; i < N; i++) {
        double u = pred[i] - target[i];
        s += u * u;
    }
    return s * red_scale(reduction, N);
}

void ndyn_nn_mse_backward(double *dpred, const double *pred, const double *target, size_t N,
                          int reduction, double dloss)
{
    double k = 2.0 * dloss * red_scale(reduction, N);
    for (size_t i = 0; i < N; i++) dpred[i] += k * (pred[i] - target[i]);
}

double ndyn_nn_gaussian_nll_forward(const double *pred, const double *target,
                                    const double *logvar, size_t B, size_t D, int per_sample,
                                    int full, int reduction)
{
    double s = 0;
    for (size_t b = 0; b < B; b++)
        for (size_t d = 0; d < D; d++) {
            double lv = logvar[per_sample ? b * D + d : d];
            double u = pred[b * D + d] - target[b * D + d];
            s += 0.5 * (lv + u * u * exp(-lv));
        }
    if (full) s += HALF_LOG_2PI * (double)(B * D);
    return s * red_scale(reduction, B * D);
}

void ndyn_nn_gaussian_nll_backward(double *dpred, double *dlogvar, const double *pred,
                                   const double *target, const double *logvar, size_t B,
                                   size_t D, int per_sample, int full, int reduction,
                                   double dloss)
{
    double k = dloss * red_scale(reduction, B * D);
    for (size_t b = 0; b < B; b++)
        for (size_t d = 0; d < D; d++) {
            size_t j = per_sample ? b * D + d : d;
            double iv = exp(-logvar[j]);
            double u = pred[b * D + d] - target[b * D + d];
            if (dpred) dpred[b * D + d] += k * u * iv;
            if (dlogvar) dlogvar[j] += k * 0.5 * (1.0 - u * u * iv);
        }
}

double ndyn_nn_gaussian_nll_fixed_forward(const double *pred, const double *target, double var,
                                          size_t N, int full, int reduction)
{
    double s = 0, lv = log(var);
    for (size_t i = 0; i < N; i++) {
        double u = pred[i] - target[i];
        s += 0.5 * (lv + u * u / var);
    }
    if (full) s += HALF_LOG_2PI * (double)N;
    return s * red_scale(reduction, N);
}

void ndyn_nn_gaussian_nll_fixed_backward(double *dpred, const double *pred,
                                         const double *target, double var, size_t N, int full,
                                         int reduction, double dloss)
{
    double k = dloss * red_scale(reduction, N) / var;
    for (size_t i = 0; i < N; i++) dpred[i] += k * (pred[i] - target[i]);
}

#define POISSON_EPS 1e-8

static inline double softplus(double x)
{
    return x > 20.0 ? x : log1p(exp(x));
}

double ndyn_nn_poisson_nll_forward(const double *x, const double *y, size_t N, int form,
                                   int full, int reduction)
{
    double s = 0;
    for (size_t i = 0; i < N; i++) {
        if (form == NDYN_NN_POISSON_SOFTPLUS) {
            double r = softplus(x[i]);
            s += r - y[i] * log(r + POISSON_EPS);
        } else {
            s += exp(x[i]) - y[i] * x[i];
        }
        if (full) s += lgamma(y[i] + 1.0);
    }
    return s * red_scale(reduction, N);
}

void ndyn_nn_poisson_nll_backward(double *dx, const double *x, const double *y, size_t N,
                                  int form, int reduction, double dloss)
{
    double k = dloss * red_scale(reduction, N);
    for (size_t i = 0; i < N; i++) {
        if (form == NDYN_NN_POISSON_SOFTPLUS) {
            double r = softplus(x[i]);
            double dr = x[i] > 20.0 ? 1.0 : nn_sigmoid(x[i]);
            dx[i] += k * (1.0 - y[i] / (r + POISSON_EPS)) * dr;
        } else {
            dx[i] += k * (exp(x[i]) - y[i]);
        }
    }
}

double ndyn_nn_bce_logits_forward(const double *x, const double *y, size_t N, int reduction)
{
    double s = 0;
    for (size_t i = 0; i < N; i++)
        s += (x[i] > 0 ? x[i] : 0.0) - x[i] * y[i] + log1p(exp(-fabs(x[i])));
    return s * red_scale(reduction, N);
}

void ndyn_nn_bce_logits_backward(double *dx, const double *x, const double *y, size_t N,
                                 int reduction, double dloss)
{
    double k = dloss * red_scale(reduction, N);
    for (size_t i = 0; i < N; i++) dx[i] += k * (nn_sigmoid(x[i]) - y[i]);
}
