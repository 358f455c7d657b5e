/* BatchNorm1d train-mode kernels, instantiated by batchnorm.c for REAL =
 * double and float (accumulation in double for both). Channels are taken in
 * blocks of BN_CB so that the inner loops run along contiguous rows. Not a
 * public header. */
#ifndef BN_CB
#define BN_CB 64
#endif

int NN_NAME(ndyn_nn_batchnorm_forward_train)(REAL *out, REAL *mean, REAL *rstd,
                                            REAL *running_mean, REAL *running_var,
                                            const REAL *inp, const REAL *weight,
                                            const REAL *bias, size_t B, size_t C,
                                            REAL momentum, REAL eps)
{
    if (B < 2)
        return ndyn_error(NDYN_EINVAL, "BatchNorm1d in train mode needs a batch of at least 2 "
                          "(got %zu); use a larger batch or eval mode", B);
    for (size_t c0 = 0; c0 < C; c0 += BN_CB) {
        size_t nc = C - c0 < BN_CB ? C - c0 : BN_CB;
        double m[BN_CB] = {0}, v[BN_CB] = {0}, k[BN_CB], sh[BN_CB];
        for (size_t b = 0; b < B; b++) {
            const REAL *x = inp + b * C + c0;
            for (size_t j = 0; j < nc; j++) m[j] += x[j];
        }
        for (size_t j = 0; j < nc; j++) m[j] /= (double)B;
        for (size_t b = 0; b < B; b++) {
            const REAL *x = inp + b * C + c0;
            for (size_t j = 0; j < nc; j++) {
                double u = x[j] - m[j];
                v[j] += u * u;
            }
        }
        for (size_t j = 0; j < nc; j++) {
            size_t c = c0 + j;
            double var = v[j] / (double)B, r = 1.0 / sqrt(var + eps);
            mean[c] = (REAL)m[j];
            rstd[c] = (REAL)r;
            k[j] = r * (weight ? weight[c] : 1.0);
            sh[j] = bias ? bias[c] : 0.0;
            if (running_mean)
                running_mean[c] = (REAL)((1.0 - momentum) * running_mean[c] + momentum * m[j]);
            if (running_var)
                running_var[c] = (REAL)((1.0 - momentum) * running_var[c] +
                                        momentum * var * (double)B / (double)(B - 1));
        }
        for (size_t b = 0; b < B; b++) {
            const REAL *x = inp + b * C + c0;
            REAL *o = out + b * C + c0;
            for (size_t j = 0; j < nc; j++) o[j] = (REAL)((x[j] - m[j]) * k[j] + sh[j]);
        }
    }
    return NDYN_OK;
}

void NN_NAME(ndyn_nn_batchnorm_backward_train)(REAL *dinp, REAL *dweight, REAL *dbias,
                                              const REAL *dout, const REAL *inp,
                                              const REAL *mean, const REAL *rstd,
                                              const REAL *weight, size_t B, size_t C)
{
    for (size_t c0 = 0; c0 < C; c0 += BN_CB) {
        size_t nc = C - c0 < BN_CB ? C - c0 : BN_CB;
        double m[BN_CB], r[BN_CB], sd[BN_CB] = {0}, sdx[BN_CB] = {0}, k[BN_CB];
        for (size_t j = 0; j < nc; j++) m[j] = mean[c0 + j], r[j] = rstd[c0 + j];
        /* sum dout and sum dout * xhat */
        for (size_t b = 0; b < B; b++) {
            const REAL *x = inp + b * C + c0, *d = dout + b * C + c0;
            for (size_t j = 0; j < nc; j++) {
                sd[j] += d[j];
                sdx[j] += d[j] * (x[j] - m[j]) * r[j];
            }
        }
        for (size_t j = 0; j < nc; j++) {
            if (dweight) dweight[c0 + j] += (REAL)sdx[j];
            if (dbias) dbias[c0 + j] += (REAL)sd[j];
            k[j] = (weight ? weight[c0 + j] : 1.0) * r[j] / (double)B;
        }
        if (!dinp) continue;
        /* dx = w r / B (B dout - sum dout - xhat sum(dout xhat)) */
        for (size_t b = 0; b < B; b++) {
            const REAL *x = inp + b * C + c0, *d = dout + b * C + c0;
            REAL *g = dinp + b * C + c0;
            for (size_t j = 0; j < nc; j++) {
                double xh = (x[j] - m[j]) * r[j];
                g[j] += (REAL)(k[j] * ((double)B * d[j] - sd[j] - xh * sdx[j]));
            }
        }
    }
}
