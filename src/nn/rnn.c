/* Elman RNN (tanh) cell and sequence, forward and backpropagation through
 * time, in float64 and float32. */
#include <cblas.h>
#include <math.h>

#include "nn/nn_internal.h"

#define REAL double
#define NN_NAME(n) n
#define GEMM cblas_dgemm
#define TANH tanh
#include "nn/rnn_tmpl.h"
#undef REAL
#undef NN_NAME
#undef GEMM
#undef TANH

#define REAL float
#define NN_NAME(n) n##_f32
#define GEMM cblas_sgemm
#define TANH tanhf
#include "nn/rnn_tmpl.h"
#undef REAL
#undef NN_NAME
#undef GEMM
#undef TANH

void ndyn_nn_rnn_cell_forward(double *h, const double *x, const double *hprev,
                              const double *w_ih, const double *w_hh, const double *b_ih,
                              const double *b_hh, size_t B, size_t D, size_t H)
{
    ndyn_nn_rnn_forward(h, x, hprev, w_ih, w_hh, b_ih, b_hh, 1, B, D, H);
}

void ndyn_nn_rnn_cell_backward(double *dx, double *dhprev, double *dw_ih, double *dw_hh,
                               double *db_ih, double *db_hh, const double *dh, const double *h,
                               const double *x, const double *hprev, const double *w_ih,
                               const double *w_hh, size_t B, size_t D, size_t H, double *work)
{
    rnn_backward_impl(dx, dhprev, dw_ih, dw_hh, db_ih, db_hh, dh, h, x, hprev, w_ih, w_hh, 1, B,
                      D, H, work, NULL);
}
