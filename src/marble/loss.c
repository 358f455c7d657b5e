/* MARBLE contrastive loss with the coagulation (mask) term (spec §12), and
 * the loss and gradient of one batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "marble/marble_internal.h"

/* Scalar views of nn's (overflow-safe) kernels. */
static double log_sigmoid(double x)
{
    double y;
    ndyn_nn_logsigmoid_forward(&y, &x, 1);
    return y;
}
static double sigmoid(double x)
{
    double y;
    ndyn_nn_sigmoid_forward(&y, &x, 1);
    return y;
}

double mb_loss(const double *z, size_t nb, size_t e, const uint8_t *mask_rows, double *dz)
{
    const double *za = z, *zp = z + nb * e, *zn = z + 2 * nb * e;
    if (dz) memset(dz, 0, 3 * nb * e * sizeof(double));
    double lp = 0, ln = 0;
    for (size_t b = 0; b < nb; b++) {
        double ap = 0, an = 0;
        for (size_t j = 0; j < e; j++) {
            ap += za[b * e + j] * zp[b * e + j];
            an += za[b * e + j] * zn[b * e + j];
        }
        lp += log_sigmoid(ap);
        ln += log_sigmoid(-an);
        if (dz) {
            double gp = -(1.0 - sigmoid(ap)) / (double)nb;  /* dL/d(ap) */
            double gn = sigmoid(an) / (double)nb;           /* dL/d(an) */
            for (size_t j = 0; j < e; j++) {
                dz[b * e + j] += gp * zp[b * e + j] + gn * zn[b * e + j];
                dz[(nb + b) * e + j] += gp * za[b * e + j];
                dz[(2 * nb + b) * e + j] += gn * za[b * e + j];
            }
        }
    }
    double loss = -lp / (double)nb - ln / (double)nb;
    if (mask_rows) {
        size_t nm = 0;
        double mean[64], *mu = e <= 64 ? mean : calloc(e, sizeof(double));
        if (!mu) return NAN;
        memset(mu, 0, e * sizeof(double));
        for (size_t i = 0; i < 3 * nb; i++)
            if (mask_rows[i]) {
                nm++;
                for (size_t j = 0; j < e; j++) mu[j] += z[i * e + j];
            }
        if (nm > 0) {
            for (size_t j = 0; j < e; j++) mu[j] /= (double)nm;
            double S = 0;
            for (size_t i = 0; i < 3 * nb; i++)
                if (mask_rows[i]) {
                    double ss = 0;
                    for (size_t j = 0; j < e; j++) {
                        double dd = z[i * e + j] - mu[j];
                        ss += dd * dd;
                    }
                    S += sqrt(ss);
                }
            double sg = sigmoid(S);
            loss += sg - 0.5;
            if (dz) {
                /* dS/dz_i = u_i - mean_mask(u), u_i = (z_i - mu)/||z_i - mu|| */
                double ubar[64], *ub = e <= 64 ? ubar : calloc(e, sizeof(double));
                if (!ub) { if (mu != mean) free(mu); return NAN; }
                memset(ub, 0, e * sizeof(double));
                double k = sg * (1 - sg);
                for (size_t pass = 0; pass < 2; pass++)
                    for (size_t i = 0; i < 3 * nb; i++) {
                        if (!mask_rows[i]) continue;
                        double ss = 0;
                        for (size_t j = 0; j < e; j++) {
                            double dd = z[i * e + j] - mu[j];
                            ss += dd * dd;
                        }
                        double nn = sqrt(ss);
                        for (size_t j = 0; j < e; j++) {
                            double u = nn > 0 ? (z[i * e + j] - mu[j]) / nn : 0.0;
                            if (pass == 0) ub[j] += u / (double)nm;
                            else dz[i * e + j] += k * (u - ub[j]);
                        }
                    }
                if (ub != ubar) free(ub);
            }
        }
        if (mu != mean) free(mu);
    }
    return loss;
}

int mb_batch_loss_grad(ndyn_marble_model *m, const ndyn_marble_data *data, mb_work *w,
                       const int32_t *batch, size_t nb, int train, int update_stats,
                       ndyn_rng *rng, double *loss, double *grad, double *z_out)
{
    size_t e = (size_t)m->par.out_channels, mt = 3 * nb;
    double *z = ndyn_malloc_array(mt * e, sizeof(double));
    double *dz = grad ? ndyn_malloc_array(mt * e, sizeof(double)) : NULL;
    uint8_t *mrows = NULL;
    if (!z || (grad && !dz)) { free(z); free(dz); return NDYN_ENOMEM; }
    if (data->mask) {
        mrows = ndyn_malloc_array(mt, 1);
        if (!mrows) { free(z); free(dz); return NDYN_ENOMEM; }
        for (size_t i = 0; i < mt; i++) mrows[i] = data->mask[batch[i]] ? 1 : 0;
    }
    int rc = mb_forward(m, data, w, batch, mt, train, update_stats, rng, z);
    if (!rc) {
        *loss = mb_loss(z, nb, e, mrows, dz);
        if (!isfinite(*loss))
            rc = ndyn_error(NDYN_ENONFINITE, "marble: the loss is not finite; lower the learning "
                            "rate or check the data scale");
    }
    if (!rc && grad) {
        memset(grad, 0, m->n_params * sizeof(double));
        rc = mb_backward(m, data, w, dz, grad);
    }
    if (!rc && z_out) memcpy(z_out, z, mt * e * sizeof(double));
    free(z); free(dz); free(mrows);
    return rc;
}
