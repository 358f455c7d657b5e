/* GRU cell (PyTorch equations, gate order r, z, n) and sequence, forward and
 * backpropagation through time. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

// h is (B, H), cache is (B, 4H) [r, z, n, hprev W_hn^T + b_hn]
void ndyn_nn_gru_cell_forward(double *h, double *cache, const double *x, const double *hprev,
                              const double *w_ih, const double *w_hh, const double *b_ih,
                              const double *b_hh, size_t B, size_t D, size_t H)
{
    size_t H3 = 3 * H, H4 = 4 * H;
    /* cache columns 0..3H hold the input-side gate sums (+ the recurrent r, z
     * sums), columns 3H..4H the recurrent n sum. */
    for (size_t b = 0; b < B; b++) {
        double *c = cache + b * H4;
        for (size_t j = 0; j < H3; j++) c[j] = b_ih ? b_ih[j] : 0.0;
        for (size_t j = 0; j < 2 * H; j++) c[j] += b_hh ? b_hh[j] : 0.0;
        for (size_t j = 0; j < H; j++) c[H3 + j] = b_hh ? b_hh[2 * H + j] : 0.0;
    }
    if (x && w_ih && D)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)H3, (int)D, 1.0, x,
                    (int)D, w_ih, (int)D, 1.0, cache, (int)H4);
    if (hprev) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)(2 * H), (int)H, 1.0,
                    hprev, (int)H, w_hh, (int)H, 1.0, cache, (int)H4);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)H, (int)H, 1.0, hprev,
                    (int)H, w_hh + 2 * H * H, (int)H, 1.0, cache + H3, (int)H4);
    }
    for (size_t b = 0; b < B; b++) {
        double *c = cache + b * H4;
        for (size_t j = 0; j < H; j++) {
            double r = nn_sigmoid(c[j]), z = nn_sigmoid(c[H + j]);
            double n = tanh(c[2 * H + j] + r * c[H3 + j]);
            double hp = hprev ? hprev[b * H + j] : 0.0;
            c[j] = r;
            c[H + j] = z;
            c[2 * H + j] = n;
            h[b * H + j] = (1.0 - z) * n + z * hp;
        }
    }
}

/* Backward of one step. overwrite: dhprev = (its gradient) (dhprev may then
 * be dh itself); otherwise dhprev += . work is (B, 6H): dgi (B, 3H), dgh
 * (B, 3H). */
static void gru_cell_bwd(double *dx, double *dhprev, int overwrite, double *dw_ih, double *dw_hh,
                         double *db_ih, double *db_hh, const double *dh, const double *cache,
                         const double *x, const double *hprev, const double *w_ih,
                         const double *w_hh, size_t B, size_t D, size_t H, double *work)
{
    size_t H3 = 3 * H, H4 = 4 * H;
    double *dgi = work, *dgh = work + B * H3;
    for (size_t b = 0; b < B; b++) {
        const double *c = cache + b * H4;
        double *gi = dgi + b * H3, *gh = dgh + b * H3;
        for (size_t j = 0; j < H; j++) {
            double r = c[j], z = c[H + j], n = c[2 * H + j], hn = c[H3 + j];
            double g = dh[b * H + j], hp = hprev ? hprev[b * H + j] : 0.0;
            double dn = g * (1.0 - z) * (1.0 - n * n);
            double dz = g * (hp - n) * z * (1.0 - z);
            double dr = dn * hn * r * (1.0 - r);
            gi[j] = dr;
            gi[H + j] = dz;
            gi[2 * H + j] = dn;
            gh[j] = dr;
            gh[H + j] = dz;
            gh[2 * H + j] = dn * r;
        }
    }
    if (dhprev) {
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < H; j++) {
                double v = dh[b * H + j] * cache[b * H4 + H + j];
                if (overwrite) dhprev[b * H + j] = v;
                else dhprev[b * H + j] += v;
            }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)H, (int)H3, 1.0, dgh,
                    (int)H3, w_hh, (int)H, 1.0, dhprev, (int)H);
    }
    if (dw_hh && hprev)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H3, (int)H, (int)B, 1.0, dgh,
                    (int)H3, hprev, (int)H, 1.0, dw_hh, (int)H);
    if (x && w_ih && D) {
        if (dx)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)D, (int)H3, 1.0,
                        dgi, (int)H3, w_ih, (int)D, 1.0, dx, (int)D);
        if (dw_ih)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H3, (int)D, (int)B, 1.0,
                        dgi, (int)H3, x, (int)D, 1.0, dw_ih, (int)D);
    }
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < H3; j++) {
            if (db_ih) db_ih[j] += dgi[b * H3 + j];
            if (db_hh) db_hh[j] += dgh[b * H3 + j];
        }
}

void ndyn_nn_gru_cell_backward(double *dx, double *dhprev, double *dw_ih, double *dw_hh,
                               double *db_ih, double *db_hh, const double *dh,
                               const double *cache, const double *x, const double *hprev,
                               const double *w_ih, const double *w_hh, size_t B, size_t D,
                               size_t H, double *work)
{
    gru_cell_bwd(dx, dhprev, 0, dw_ih, dw_hh, db_ih, db_hh, dh, cache, x, hprev, w_ih, w_hh, B,
                 D, H, work);
}

void ndyn_nn_gru_forward(double *hs, double *cache, const double *x, const double *h0,
                         const double *w_ih, const double *w_hh, const double *b_ih,
                         const double *b_hh, size_t T, size_t B, size_t D, size_t H)
{
    size_t BH = B * H;
    for (size_t t = 0; t < T; t++)
        ndyn_nn_gru_cell_forward(hs + t * BH, cache + t * 4 * BH, x ? x + t * B * D : NULL,
                                 t ? hs + (t - 1) * BH : h0, w_ih, w_hh, b_ih, b_hh, B, D, H);
}

void ndyn_nn_gru_backward(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih,
                          double *db_hh, const double *dhs, const double *hs,
                          const double *cache, const double *x, const double *h0,
                          const double *w_ih, const double *w_hh, size_t T, size_t B, size_t D,
                          size_t H, double *work)
{
    size_t BH = B * H;
    double *cur = work, *cw = work + BH;
    memset(cur, 0, BH * sizeof(double));
    for (size_t tt = T; tt-- > 0;) {
        const double *dh = dhs + tt * BH;
        for (size_t i = 0; i < BH; i++) cur[i] += dh[i];
        const double *xt = x ? x + tt * B * D : NULL;
        const double *hp = tt ? hs + (tt - 1) * BH : h0;
        if (tt > 0)
            gru_cell_bwd(dx ? dx + tt * B * D : NULL, cur, 1, dw_ih, dw_hh, db_ih, db_hh, cur,
                         cache + tt * 4 * BH, xt, hp, w_ih, w_hh, B, D, H, cw);
        else
            gru_cell_bwd(dx, dh0, 0, dw_ih, dw_hh, db_ih, db_hh, cur, cache, xt, hp, w_ih, w_hh,
                         B, D, H, cw);
    }
}
