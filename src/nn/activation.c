/* Elementwise activations: ReLU, tanh, sigmoid, log-sigmoid, softplus. Each
 * backward adds dout * f'(x) into dinp. */
#include <math.h>

#include "nn/nn_internal.h"

void ndyn_nn_relu_forward(double *out, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = inp[i] > 0 ? inp[i] : 0.0;
}

void ndyn_nn_relu_backward(double *dinp, const double *dout, const double *out, size_t N)
{
    for (size_t i = 0; i < N; i++)
        if (out[i] > 0) dinp[i] += dout[i];
}

void ndyn_nn_tanh_forward(double *out, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = tanh(inp[i]);
}

void ndyn_nn_tanh_backward(double *dinp, const double *dout, const double *out, size_t N)
{
    for (size_t i = 0; i < N; i++) dinp[i] += dout[i] * (1.0 - out[i] * out[i]);
}

void ndyn_nn_sigmoid_forward(double *out, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = nn_sigmoid(inp[i]);
}

void ndyn_nn_sigmoid_backward(double *dinp, const double *dout, const double *out, size_t N)
{
    for (size_t i = 0; i < N; i++) dinp[i] += dout[i] * out[i] * (1.0 - out[i]);
}

void ndyn_nn_logsigmoid_forward(double *out, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        out[i] = (x < 0 ? x : 0.0) - log1p(exp(-fabs(x)));
    }
}

void ndyn_nn_logsigmoid_backward(double *dinp, const double *dout, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) dinp[i] += dout[i] * nn_sigmoid(-inp[i]);
}

void ndyn_nn_softplus_forward(double *out, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        out[i] = x > 20.0 ? x : log1p(exp(x));
    }
}

void ndyn_nn_softplus_backward(double *dinp, const double *dout, const double *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) {
        double x = inp[i];
        dinp[i] += x > 20.0 ? dout[i] : dout[i] * nn_sigmoid(x);
    }
}

void ndyn_nn_relu_forward_f32(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = inp[i] > 0 ? inp[i] : 0.0f;
}

void ndyn_nn_relu_backward_f32(float *dinp, const float *dout, const float *out, size_t N)
{
    for (size_t i = 0; i < N; i++)
        if (out[i] > 0) dinp[i] += dout[i];
}

void ndyn_nn_tanh_forward_f32(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = tanhf(inp[i]);
}

void ndyn_nn_tanh_backward_f32(float *dinp, const float *dout, const float *out, size_t N)
{
    for (size_t i = 0; i < N; i++) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}
