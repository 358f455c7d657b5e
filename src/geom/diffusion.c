/* Heat diffusion of scalar and vector signals (spec §9):
 * H_t = exp(-t L_rw) = D^{-1/2} exp(-t L_sym) D^{1/2}, applied spectrally
 * from the dataset's eigenpairs (cached f^ = Ψᵀ D^{1/2} f, any rows) or by
 * the Chebyshev expansion on L_sym (no eigendecomposition): row subsets from
 * linalg's cached Chebyshev basis of D^{1/2} f (built at the first subset
 * request), all rows by one full expansion unless the basis exists. */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ndyn_geom_heat {
    const ndyn_geom_data *g;
    size_t n, c;
    int spectral;
    double *fhat;    /* spectral: (k, c) Ψᵀ D^{1/2} f */
    double *fs;      /* Chebyshev: (n, c) D^{1/2} f */
    double tc;       /* Chebyshev: t of the cached result, NAN if none */
    double *Y, *dY;  /* Chebyshev cache (n, c) */
    ndyn_cheb_basis *basis; /* Chebyshev basis of fs, built on demand */
    size_t basis_bytes;     /* its memory bound (0: never build it) */
    int basis_warned;
};

int ndyn_geom_heat_new(const ndyn_geom_data *g, const double *f, size_t c, ndyn_geom_heat **out)
{
    *out = NULL;
    if (c == 0) return ndyn_error(NDYN_EINVAL, "heat diffusion of a signal with 0 columns");
    size_t n = g->n;
    int rc = ndyn_check_finite(f, n * c, "signal to diffuse");
    if (rc) return rc;
    ndyn_geom_heat *h = ndyn_calloc(1, sizeof *h);
    if (!h) return NDYN_ENOMEM;
    h->g = g; h->n = n; h->c = c; h->tc = NAN;
    h->basis_bytes = NDYN_GEOM_HEAT_BASIS_BYTES;
    h->spectral = g->neig > 0;
    double *fs = ndyn_malloc_array(n * c, sizeof(double));
    if (!fs) { free(h); return NDYN_ENOMEM; }
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < c; r++) fs[i * c + r] = g->dhalf[i] * f[i * c + r];
    if (h->spectral) {
        h->fhat = ndyn_malloc_array(g->neig * c, sizeof(double));
        if (!h->fhat) { free(fs); free(h); return NDYN_ENOMEM; }
        ndyn_gemm(1, 0, g->neig, c, n, 1.0, g->evecs, fs, 0.0, h->fhat);
        free(fs);
    } else {
        h->fs = fs;
        h->Y = ndyn_malloc_array(n * c, sizeof(double));
        h->dY = ndyn_malloc_array(n * c, sizeof(double));
        if (!h->Y || !h->dY) { ndyn_geom_heat_free(h); return NDYN_ENOMEM; }
    }
    *out = h;
    return NDYN_OK;
}

void ndyn_geom_heat_free(ndyn_geom_heat *h)
{
    if (!h) return;
    free(h->fhat); free(h->fs); free(h->Y); free(h->dY);
    ndyn_cheb_basis_free(h->basis);
    free(h);
}

void ndyn_geom_heat_set_basis_bytes(ndyn_geom_heat *h, size_t max_bytes)
{
    ndyn_cheb_basis_free(h->basis);
    h->basis = NULL;
    h->basis_bytes = max_bytes;
    h->basis_warned = 0;
}

int ndyn_geom_heat_basis(ndyn_geom_heat *h, size_t want, const double **V, size_t *row_stride)
{
    if (h->spectral)
        return ndyn_error(NDYN_EINVAL, "heat basis: the dataset has eigenpairs (spectral action)");
    if (!h->basis) {
        if (h->basis_bytes == 0) return ndyn_error(NDYN_ENOMEM, "heat basis: disabled (bound 0)");
        int rc = ndyn_cheb_basis_new(&h->g->lsym, h->fs, h->c, h->basis_bytes, &h->basis);
        if (rc) return rc;
    }
    return ndyn_cheb_basis_view(h->basis, want, V, row_stride);
}

/* Rows from the cached basis when it exists or rows are a subset and the
 * bound allows the terms t needs: 1 done, 0 not applicable, < 0 error. */
static int heat_from_basis(ndyn_geom_heat *h, double t, const size_t *rows, size_t nsel,
                           double *Hf, double *dHf)
{
    const ndyn_geom_data *g = h->g;
    size_t c = h->c;
    if (!h->basis && (!rows || h->basis_bytes == 0)) return 0;
    int K = ndyn_heat_cheb_terms(t, 0);
    if (K < 0) return 0;
    size_t per_term = h->n * c * sizeof(double);
    size_t max_terms = h->basis ? ndyn_cheb_basis_max_terms(h->basis) : h->basis_bytes / per_term;
    if ((size_t)K + 1 > max_terms) {
        if (!h->basis_warned)
            ndyn_warn("heat diffusion: t = %.4g needs %d Chebyshev terms, the cached basis "
                      "holds at most %zu (%zu MiB); falling back to a full expansion per t "
                      "(slower)", t, K + 1, max_terms, h->basis_bytes >> 20);
        h->basis_warned = 1;
        return 0;
    }
    if (!h->basis) {
        int rc = ndyn_cheb_basis_new(&g->lsym, h->fs, c, h->basis_bytes, &h->basis);
        if (rc) return -rc;
    }
    int rc = ndyn_cheb_basis_apply(h->basis, t, 0, rows, nsel, Hf, dHf);
    if (rc) return -rc;
    for (size_t r = 0; r < nsel; r++) {
        double sc = g->dmhalf[rows ? rows[r] : r];
        for (size_t q = 0; q < c; q++) {
            Hf[r * c + q] *= sc;
            if (dHf) dHf[r * c + q] *= sc;
        }
    }
    return 1;
}

int ndyn_geom_heat_apply(ndyn_geom_heat *h, double t, const size_t *rows, size_t nsel, double *Hf,
                         double *dHf)
{
    if (!(t >= 0) || !isfinite(t)) return ndyn_error(NDYN_EINVAL, "diffusion time t = %g must be finite and >= 0", t);
    const ndyn_geom_data *g = h->g;
    size_t c = h->c, n = h->n;
    if (!rows) nsel = n;
    for (size_t r = 0; r < nsel; r++)
        if (rows && rows[r] >= n) return ndyn_error(NDYN_EINVAL, "row %zu out of range (%zu nodes)", rows[r], n);
    if (h->spectral) {
        size_t k = g->neig;
        double *e = ndyn_malloc_array(2 * k * c, sizeof(double));
        if (!e) return NDYN_ENOMEM;
        double *de = e + k * c;
        for (size_t j = 0; j < k; j++) {
            double ex = exp(-g->evals[j] * t);
            for (size_t q = 0; q < c; q++) {
                e[j * c + q] = ex * h->fhat[j * c + q];
                de[j * c + q] = -g->evals[j] * e[j * c + q];
            }
        }
        for (size_t r = 0; r < nsel; r++) {
            size_t i = rows ? rows[r] : r;
            const double *psi = g->evecs + i * k;
            for (size_t q = 0; q < c; q++) {
                double s = 0, ds = 0;
                for (size_t j = 0; j < k; j++) { s += psi[j] * e[j * c + q]; ds += psi[j] * de[j * c + q]; }
                Hf[r * c + q] = g->dmhalf[i] * s;
                if (dHf) dHf[r * c + q] = g->dmhalf[i] * ds;
            }
        }
        free(e);
        return NDYN_OK;
    }
    if (!(h->tc == t)) {
        int used = heat_from_basis(h, t, rows, nsel, Hf, dHf);
        if (used < 0) return -used;
        if (used) return NDYN_OK;
        int rc = ndyn_expmv_cheb(&g->lsym, t, h->fs, c, 0, h->Y, h->dY);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++)
            for (size_t q = 0; q < c; q++) { h->Y[i * c + q] *= g->dmhalf[i]; h->dY[i * c + q] *= g->dmhalf[i]; }
        h->tc = t;
    }
    for (size_t r = 0; r < nsel; r++) {
        size_t i = rows ? rows[r] : r;
        memcpy(Hf + r * c, h->Y + i * c, c * sizeof(double));
        if (dHf) memcpy(dHf + r * c, h->dY + i * c, c * sizeof(double));
    }
    return NDYN_OK;
}

int ndyn_geom_scalar_diffusion(const ndyn_geom_data *g, double t, const double *f, size_t c, double *out,
                               double *dout)
{
    ndyn_geom_heat *h;
    int rc = ndyn_geom_heat_new(g, f, c, &h);
    if (rc) return rc;
    rc = ndyn_geom_heat_apply(h, t, NULL, g->n, out, dout);
    ndyn_geom_heat_free(h);
    return rc;
}

/* exp(-t Lc) u for u (n m): (D^{-1/2} x I) exp(-t Lc,sym) (D^{1/2} x I) u. */
static int conn_heat(const ndyn_geom_data *g, double t, const double *u, double *y, double *dy)
{
    size_t n = g->n, m = (size_t)g->m, nm = n * m;
    double *us = ndyn_malloc_array(nm, sizeof(double));
    if (!us) return NDYN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < m; p++) us[i * m + p] = g->dhalf[i] * u[i * m + p];
    int rc;
    if (g->neigc > 0) rc = ndyn_heat_spectral(nm, g->neigc, g->evalsc, g->evecsc, t, us, 1, y, dy);
    else rc = ndyn_expmv_cheb(&g->lcsym, t, us, 1, 0, y, dy);
    free(us);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < m; p++) { y[i * m + p] *= g->dmhalf[i]; dy[i * m + p] *= g->dmhalf[i]; }
    return NDYN_OK;
}

int ndyn_geom_vector_diffusion(const ndyn_geom_data *g, double t, const double *f, double *out, double *dout)
{
    if (!g->frames || g->lcsym.nrows == 0)
        return ndyn_error(NDYN_EINVAL, "vector diffusion needs local gauges (prepare with local_gauges on); "
                          "use scalar diffusion per column otherwise");
    if (!(t >= 0) || !isfinite(t)) return ndyn_error(NDYN_EINVAL, "diffusion time t = %g must be finite and >= 0", t);
    size_t n = g->n, D = g->D, m = (size_t)g->m;
    int rc = ndyn_check_finite(f, n * D, "vector signal");
    if (rc) return rc;
    double *u = ndyn_malloc_array(n * m, sizeof(double)), *y = ndyn_malloc_array(n * m, sizeof(double));
    double *dy = ndyn_malloc_array(n * m, sizeof(double)), *ab = ndyn_malloc_array(n * 2, sizeof(double));
    double *hab = ndyn_malloc_array(n * 2, sizeof(double)), *dhab = ndyn_malloc_array(n * 2, sizeof(double));
    if (!u || !y || !dy || !ab || !hab || !dhab) { rc = NDYN_ENOMEM; goto out; }
    for (size_t i = 0; i < n; i++) {
        const double *Ti = g->frames + i * D * m, *fi = f + i * D;
        double nf = 0;
        for (size_t e = 0; e < D; e++) nf += fi[e] * fi[e];
        for (size_t p = 0; p < m; p++) {
            double s = 0;
            for (size_t e = 0; e < D; e++) s += Ti[e * m + p] * fi[e];
            u[i * m + p] = s;
        }
        ab[2 * i] = sqrt(nf);
        ab[2 * i + 1] = 1.0;
    }
    rc = conn_heat(g, t, u, y, dy);
    if (!rc) rc = ndyn_geom_scalar_diffusion(g, t, ab, 2, hab, dhab);
    if (rc) goto out;
    for (size_t i = 0; i < n; i++) {
        double *yi = y + i * m, *dyi = dy + i * m;
        double nu = 0, dnu = 0;
        for (size_t p = 0; p < m; p++) { nu += yi[p] * yi[p]; dnu += yi[p] * dyi[p]; }
        nu = sqrt(nu);
        double a = hab[2 * i], b = hab[2 * i + 1], da = dhab[2 * i], db = dhab[2 * i + 1];
        double sc = 0, dsc = 0;
        if (nu > 0 && b != 0) {
            dnu /= nu;
            double den = b * nu;
            sc = a / den;
            dsc = (da * den - a * (db * nu + b * dnu)) / (den * den);
        }
        const double *Ti = g->frames + i * D * m;
        for (size_t e = 0; e < D; e++) {
            double s = 0, ds = 0;
            for (size_t p = 0; p < m; p++) {
                s += Ti[e * m + p] * yi[p] * sc;
                ds += Ti[e * m + p] * (dyi[p] * sc + yi[p] * dsc);
            }
            out[i * D + e] = s;
            if (dout) dout[i * D + e] = ds;
        }
    }
out:
    free(u); free(y); free(dy); free(ab); free(hab); free(dhab);
    return rc;
}
