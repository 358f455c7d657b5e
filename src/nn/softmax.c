/* Row-wise softmax, log-softmax and log-sum-exp over the last axis, each
 * shifted by the row maximum so that nothing overflows. */
#include <math.h>

#include "nn/nn_internal.h"

static double row_max(const double *x, size_t C)
{
    double m = -INFINITY;
    for (size_t c = 0; c < C; c++)
        if (x[c] > m) m = x[c];
    return m;
}

// out is (B, C), inp is (B, C)
void ndyn_nn_softmax_forward(double *out, const double *inp, size_t B, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        const double *x = inp + b * C;
        double *o = out + b * C;
        double m = row_max(x, C), s = 0;
        for (size_t c = 0; c < C; c++) s += (o[c] = exp(x[c] - m));
        double inv = 1.0 / s;
        for (size_t c = 0; c < C; c++) o[c] *= inv;
    }
}

// dinp = out * (dout - sum(dout * out))
void ndyn_nn_softmax_backward(double *dinp, const double *dout, const double *out, size_t B,
                              size_t C)
{
    for (size_t b = 0; b < B; b++) {
        const double *d = dout + b * C, *o = out + b * C;
        double s = 0;
        for (size_t c = 0; c < C; c++) s += d[c] * o[c];
        for (size_t c = 0; c < C; c++) dinp[b * C + c] += o[c] * (d[c] - s);
    }
}

void ndyn_nn_logsoftmax_forward(double *out, const double *inp, size_t B, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        const double *x = inp + b * C;
        double m = row_max(x, C), s = 0;
        for (size_t c = 0; c < C; c++) s += exp(x[c] - m);
        double lse = m + log(s);
        for (size_t c = 0; c < C; c++) out[b * C + c] = x[c] - lse;
    }
}

// dinp = dout - softmax * sum(dout)
void ndyn_nn_logsoftmax_backward(double *dinp, const double *dout, const double *out, size_t B,
                                 size_t C)
{
    for (size_t b = 0; b < B; b++) {
        const double *d = dout + b * C, *o = out + b * C;
        double s = 0;
        for (size_t c = 0; c < C; c++) s += d[c];
        for (size_t c = 0; c < C; c++) dinp[b * C + c] += d[c] - exp(o[c]) * s;
    }
}

// out is (B), inp is (B, C)
void ndyn_nn_logsumexp_forward(double *out, const double *inp, size_t B, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        const double *x = inp + b * C;
        double m = row_max(x, C);
        if (m == -INFINITY) {
            out[b] = -INFINITY;
            continue;
        }
        double s = 0;
        for (size_t c = 0; c < C; c++) s += exp(x[c] - m);
        out[b] = m + log(s);
    }
}

// dinp[b, c] += dout[b] exp(inp[b, c] - out[b])
void ndyn_nn_logsumexp_backward(double *dinp, const double *dout, const double *inp,
                                const double *out, size_t B, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        if (out[b] == -INFINITY) continue;
        for (size_t c = 0; c < C; c++) dinp[b * C + c] += dout[b] * exp(inp[b * C + c] - out[b]);
    }
}
