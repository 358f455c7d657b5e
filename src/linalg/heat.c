/* Heat-kernel action exp(-tL)X and its t-derivative: Chebyshev expansion for
 * a symmetric L with spectrum in [0, 2], and the spectral form from
 * eigenpairs. Also the scaled modified Bessel functions it needs. */
#include "ndyn/linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ndyn_bessel_i_scaled(double t, int kmax, double *out)
{
    if (!(t >= 0) || !isfinite(t)) return ndyn_error(NDYN_EINVAL, "Bessel argument t = %g must be finite and >= 0", t);
    if (kmax < 0) return ndyn_error(NDYN_EINVAL, "kmax = %d must be >= 0", kmax);
    memset(out, 0, (size_t)(kmax + 1) * sizeof(double));
    if (t == 0.0) { out[0] = 1.0; return NDYN_OK; }
    /* Miller: start well beyond both kmax and t, recur downwards
     * I_{k-1} = I_{k+1} + (2k/t) I_k, normalise with I_0 + 2 sum I_k = e^t. */
    int N = 2 * kmax + 50 + (int)(20.0 * sqrt(t + 1.0));
    double ip1 = 0.0, ik = 1e-300, sum = 0.0;
    for (int k = N; k >= 1; k--) {
        double im1 = ip1 + (2.0 * k / t) * ik;
        if (k <= kmax) out[k] = ik;
        sum += 2.0 * ik;
        ip1 = ik;
        ik = im1;
        if (fabs(ik) > 1e250) { /* rescale everything so far */
            ip1 *= 1e-250; ik *= 1e-250; sum *= 1e-250;
            for (int j = k; j <= kmax; j++) out[j] *= 1e-250;
        }
    }
    out[0] = ik;
    sum += ik;
    for (int k = 0; k <= kmax; k++) out[k] /= sum;
    return NDYN_OK;
}

int ndyn_expmv_cheb(const ndyn_csr *L, double t, const double *X, size_t c, double tol,
                    double *Y, double *dY)
{
    if (L->nrows != L->ncols) return ndyn_error(NDYN_ESHAPE, "expmv: matrix is %zu x %zu, not square", L->nrows, L->ncols);
    if (!(t >= 0) || !isfinite(t) || t > 1e5)
        return ndyn_error(NDYN_EINVAL, "expmv: t = %g must be in [0, 1e5]", t);
    if (tol <= 0) tol = 1e-14;
    size_t n = L->nrows, nc = n * c;
    /* e^{-t} I_k(t) ~ exp(-k^2 / 2t) / sqrt(2 pi t): ~8 sqrt(t) terms suffice */
    int kmax = (int)(14.0 * sqrt(t + 1.0) + 40.0);
    double *s = ndyn_malloc_array((size_t)kmax + 3, sizeof(double));
    double *buf = ndyn_malloc_array(nc ? 3 * nc : 1, sizeof(double));
    if (!s || !buf) { free(s); free(buf); return NDYN_ENOMEM; }
    int rc = ndyn_bessel_i_scaled(t, kmax + 1, s);
    if (rc) { free(s); free(buf); return rc; }
    /* truncation: drop the tail once the remaining coefficient mass
     * (and its derivative's) is below tol */
    int K = 0;
    {
        double tail = 0; /* bound on the dropped coefficients and derivatives */
        for (int k = kmax; k >= 1; k--) {
            if (tail + 4.0 * s[k] >= tol) { K = k; break; }
            tail += 4.0 * s[k];
        }
    }
    double *Tm = buf, *T0 = buf + nc, *T1 = buf + 2 * nc;
    /* k = 0 */
    memcpy(T0, X, nc * sizeof(double));
    for (size_t i = 0; i < nc; i++) Y[i] = s[0] * X[i];
    if (dY) {
        double d0 = -s[0] + s[1];
        for (size_t i = 0; i < nc; i++) dY[i] = d0 * X[i];
    }
    if (K >= 1) {
        /* T1 = (L - I) X */
        ndyn_csr_spmm(L, X, c, 1.0, 0.0, T1);
        for (size_t i = 0; i < nc; i++) T1[i] -= X[i];
        double ck = -2.0 * s[1];
        double dk = -2.0 * (-s[1] + 0.5 * (s[0] + s[2]));
        for (size_t i = 0; i < nc; i++) Y[i] += ck * T1[i];
        if (dY) for (size_t i = 0; i < nc; i++) dY[i] += dk * T1[i];
    }
    for (int k = 2; k <= K; k++) {
        /* T_{k} = 2 (L - I) T_{k-1} - T_{k-2}; rotate buffers: Tm <- new */
        ndyn_csr_spmm(L, T1, c, 2.0, 0.0, Tm);
        for (size_t i = 0; i < nc; i++) Tm[i] -= 2.0 * T1[i] + T0[i];
        double *tmp = T0; T0 = T1; T1 = Tm; Tm = tmp;
        double sign = (k & 1) ? -1.0 : 1.0;
        double ck = 2.0 * sign * s[k];
        double dk = 2.0 * sign * (-s[k] + 0.5 * (s[k - 1] + s[k + 1]));
        for (size_t i = 0; i < nc; i++) Y[i] += ck * T1[i];
        if (dY) for (size_t i = 0; i < nc; i++) dY[i] += dk * T1[i];
    }
    free(s);
    free(buf);
    return NDYN_OK;
}

int ndyn_heat_spectral(size_t n, size_t k, const double *w, const double *V, double t,
                       const double *X, size_t c, double *Y, double *dY)
{
    if (!(t >= 0) || !isfinite(t)) return ndyn_error(NDYN_EINVAL, "heat: t = %g must be finite and >= 0", t);
    size_t kc = k * c > 0 ? k * c : 1;
    double *P = ndyn_malloc_array(kc, sizeof(double));
    double *Q = ndyn_malloc_array(kc, sizeof(double));
    if (!P || !Q) { free(P); free(Q); return NDYN_ENOMEM; }
    ndyn_gemm(1, 0, k, c, n, 1.0, V, X, 0.0, P); /* P = Vᵀ X (k, c) */
    for (size_t j = 0; j < k; j++) {
        double e = exp(-w[j] * t);
        for (size_t r = 0; r < c; r++) {
            Q[j * c + r] = -w[j] * e * P[j * c + r];
            P[j * c + r] *= e;
        }
    }
    ndyn_gemm(0, 0, n, c, k, 1.0, V, P, 0.0, Y);
    if (dY) ndyn_gemm(0, 0, n, c, k, 1.0, V, Q, 0.0, dY);
    free(P); free(Q);
    return NDYN_OK;
}
