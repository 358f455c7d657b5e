/* Linear layer: out = inp weight^T + bias, forward and backward through BLAS,
 * in float64 and float32; and the Linear module in a store. */
#include <cblas.h>
#include <string.h>

#include "nn/nn_internal.h"

// out is (B, OC), inp is (B, C), weight is (OC, C), bias is (OC) or NULL
void ndyn_nn_linear_forward(double *out, const double *inp, const double *weight,
                            const double *bias, size_t B, size_t C, size_t OC)
{
    double beta = 0.0;
    if (bias) {
        for (size_t b = 0; b < B; b++) memcpy(out + b * OC, bias, OC * sizeof(double));
        beta = 1.0;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)OC, (int)C, 1.0, inp,
                (int)C, weight, (int)C, beta, out, (int)OC);
}

void ndyn_nn_linear_backward(double *dinp, double *dweight, double *dbias, const double *dout,
                             const double *inp, const double *weight, size_t B, size_t C,
                             size_t OC)
{
    // dinp (B, C) += dout (B, OC) weight (OC, C)
    if (dinp)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)C, (int)OC, 1.0,
                    dout, (int)OC, weight, (int)C, 1.0, dinp, (int)C);
    // dweight (OC, C) += dout^T (OC, B) inp (B, C)
    if (dweight)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C, (int)B, 1.0, dout,
                    (int)OC, inp, (int)C, 1.0, dweight, (int)C);
    if (dbias)
        for (size_t b = 0; b < B; b++) {
            const double *d = dout + b * OC;
            for (size_t o = 0; o < OC; o++) dbias[o] += d[o];
        }
}

void ndyn_nn_linear_forward_f32(float *out, const float *inp, const float *weight,
                                const float *bias, size_t B, size_t C, size_t OC)
{
    float beta = 0.0f;
    if (bias) {
        for (size_t b = 0; b < B; b++) memcpy(out + b * OC, bias, OC * sizeof(float));
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)OC, (int)C, 1.0f, inp,
                (int)C, weight, (int)C, beta, out, (int)OC);
}

void ndyn_nn_linear_backward_f32(float *dinp, float *dweight, float *dbias, const float *dout,
                                 const float *inp, const float *weight, size_t B, size_t C,
                                 size_t OC)
{
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)C, (int)OC, 1.0f,
                    dout, (int)OC, weight, (int)C, 1.0f, dinp, (int)C);
    if (dweight)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C, (int)B, 1.0f, dout,
                    (int)OC, inp, (int)C, 1.0f, dweight, (int)C);
    if (dbias)
        for (size_t b = 0; b < B; b++) {
            const float *d = dout + b * OC;
            for (size_t o = 0; o < OC; o++) dbias[o] += d[o];
        }
}

/* ------------------------------------------------------------- module */

static int linear_add(ndyn_nn_store *s, const char *prefix, size_t C, size_t OC, int bias,
                      ndyn_nn_linear *l)
{
    if (C == 0 || OC == 0)
        return ndyn_error(NDYN_EINVAL, "Linear %s: sizes %zu -> %zu must be positive",
                          prefix ? prefix : "", C, OC);
    if (C > 0x7fffffff || OC > 0x7fffffff)
        return ndyn_error(NDYN_EINVAL, "Linear %s: sizes %zu -> %zu exceed the BLAS int range",
                          prefix ? prefix : "", C, OC);
    char name[NN_NAME_MAX + 1];
    int rc;
    l->C = C;
    l->OC = OC;
    l->bias = -1;
    size_t shape[2] = {OC, C};
    if ((rc = nn_join_name(name, sizeof name, prefix, "weight"))) return rc;
    if ((rc = ndyn_nn_store_add(s, name, 2, shape, 0, &l->weight))) return rc;
    if (bias) {
        if ((rc = nn_join_name(name, sizeof name, prefix, "bias"))) return rc;
        if ((rc = ndyn_nn_store_add(s, name, 1, &OC, 0, &l->bias))) return rc;
    }
    return NDYN_OK;
}

void ndyn_nn_linear_init(const ndyn_nn_linear *l, ndyn_nn_store *s, ndyn_rng *rng)
{
    ndyn_nn_init_linear(ndyn_nn_store_data(s, l->weight),
                        l->bias >= 0 ? ndyn_nn_store_data(s, l->bias) : NULL, l->C, l->OC, rng);
}

int ndyn_nn_linear_add(ndyn_nn_store *s, const char *prefix, size_t C, size_t OC, int bias,
                       ndyn_nn_linear *l)
{
    if (!s || !l) return ndyn_error(NDYN_EINVAL, "Linear: store and module are required");
    size_t n0 = s->n;
    ndyn_nn_linear tmp;
    int rc = linear_add(s, prefix, C, OC, bias, &tmp);
    if (rc) nn_store_truncate(s, n0);
    else *l = tmp;
    return rc;
}

static int check_module(const ndyn_nn_linear *l, const ndyn_nn_store *s, size_t B)
{
    const ndyn_nn_param *w = ndyn_nn_store_param(s, l->weight);
    if (!w || w->ndim != 2 || w->shape[0] != l->OC || w->shape[1] != l->C)
        return ndyn_error(NDYN_ESHAPE, "Linear: its weight is not an (%zu, %zu) tensor of this "
                          "store; was it added to another store?", l->OC, l->C);
    if (l->bias >= 0) {
        const ndyn_nn_param *b = ndyn_nn_store_param(s, l->bias);
        if (!b || b->size != l->OC)
            return ndyn_error(NDYN_ESHAPE, "Linear: its bias is not a (%zu) tensor of this store",
                              l->OC);
    }
    if (B == 0 || B > 0x7fffffff)
        return ndyn_error(NDYN_EINVAL, "Linear: batch size %zu is out of range 1..2^31-1", B);
    return NDYN_OK;
}

int ndyn_nn_linear_apply(const ndyn_nn_linear *l, ndyn_nn_store *s, double *out,
                         const double *inp, size_t B)
{
    int rc = check_module(l, s, B);
    if (rc) return rc;
    if (!out || !inp) return ndyn_error(NDYN_EINVAL, "Linear: out and inp are required");
    ndyn_nn_linear_forward(out, inp, ndyn_nn_store_data(s, l->weight),
                           l->bias >= 0 ? ndyn_nn_store_data(s, l->bias) : NULL, B, l->C, l->OC);
    return NDYN_OK;
}

int ndyn_nn_linear_apply_backward(const ndyn_nn_linear *l, ndyn_nn_store *s, double *dinp,
                                  const double *dout, const double *inp, size_t B)
{
    int rc = check_module(l, s, B);
    if (rc) return rc;
    if (!dout || !inp) return ndyn_error(NDYN_EINVAL, "Linear backward: dout and inp are required");
    ndyn_nn_linear_backward(dinp, ndyn_nn_store_grad(s, l->weight),
                            l->bias >= 0 ? ndyn_nn_store_grad(s, l->bias) : NULL, dout, inp,
                            ndyn_nn_store_data(s, l->weight), B, l->C, l->OC);
    return NDYN_OK;
}
