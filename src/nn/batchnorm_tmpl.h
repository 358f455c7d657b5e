/* BatchNorm1d train-mode kernels, instantiated by batchnorm.c for REAL =
 * double and float (accumulation in double for both). Not a public header. */

int NN_NAME(ndyn_nn_batchnorm_forward_train)(REAL *out, REAL *mean, REAL *rstd,
                                            REAL *running_mean, REAL *running_var,
                                            const REAL *inp, const REAL *weight,
                                            const REAL *bias, size_t B, size_t C,
                                            REAL momentum, REAL eps)
{
    if (B < 2)
        return ndyn_error(NDYN_EINVAL, "BatchNorm1d in train mode needs a batch of at least 2 "
                          "(got %zu); use a larger batch or eval mode", B);
    for (size_t c = 0; c < C; c++) {
        double m = 0;
        for (size_t b = 0; b < B; b++) m += inp[b * C + c];
        m /= (double)B;
        double v = 0;
        for (size_t b = 0; b < B; b++) {
            double u = inp[b * C + c] - m;
            v += u * u;
        }
        v /= (double)B;
        double r = 1.0 / sqrt(v + eps);
        mean[c] = (REAL)m;
        rstd[c] = (REAL)r;
        double w = weight ? weight[c] : 1.0, bb = bias ? bias[c] : 0.0;
        for (size_t b = 0; b < B; b++)
            out[b * C + c] = (REAL)((inp[b * C + c] - m) * r * w + bb);
        if (running_mean)
            running_mean[c] = (REAL)((1.0 - momentum) * running_mean[c] + momentum * m);
        if (running_var)
            running_var[c] = (REAL)((1.0 - momentum) * running_var[c] +
                                    momentum * v * (double)B / (double)(B - 1));
    }
    return NDYN_OK;
}

void NN_NAME(ndyn_nn_batchnorm_backward_train)(REAL *dinp, REAL *dweight, REAL *dbias,
                                              const REAL *dout, const REAL *inp,
                                              const REAL *mean, const REAL *rstd,
                                              const REAL *weight, size_t B, size_t C)
{
    for (size_t c = 0; c < C; c++) {
        double m = mean[c], r = rstd[c], w = weight ? weight[c] : 1.0;
        double sd = 0, sdx = 0;   /* sum dout, sum dout * xhat */
        for (size_t b = 0; b < B; b++) {
            double d = dout[b * C + c];
            sd += d;
            sdx += d * (inp[b * C + c] - m) * r;
        }
        if (dweight) dweight[c] += (REAL)sdx;
        if (dbias) dbias[c] += (REAL)sd;
        if (dinp) {
            /* dx = w r / B (B dout - sum dout - xhat sum(dout xhat)) */
            double k = w * r / (double)B;
            for (size_t b = 0; b < B; b++) {
                double xh = (inp[b * C + c] - m) * r;
                dinp[b * C + c] += (REAL)(k * ((double)B * dout[b * C + c] - sd - xh * sdx));
            }
        }
    }
}
