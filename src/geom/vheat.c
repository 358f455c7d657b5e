/* Cached vector diffusion (spec §9, local gauges) of one fixed signal f:
 * every input of the vector path (u = Tᵀf, |f| and 1) is fixed, so the three
 * heat actions come from caches built once: the connection heat from
 * u^ = Ψcᵀ (D^{1/2} x I) u (eigenpairs) or linalg's Chebyshev basis of
 * (D^{1/2} x I) u on L_c,sym, the scalar ones from a geom heat cache of
 * (|f|, 1). A call then costs O(nsel K m) for the requested rows only, with
 * the exact t-derivative of the normalisation (product/quotient rule). */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ndyn_geom_vheat {
    const ndyn_geom_data *g;
    size_t n, D, m;
    double *us;             /* (n m) (D^{1/2} x I) u, Chebyshev path */
    double *uhat;           /* (neigc) Ψcᵀ us, spectral path */
    double *eh;             /* (2 neigc) scratch: e^{-w t} u^ and its t-derivative */
    ndyn_cheb_basis *basis; /* Chebyshev basis of us on L_c,sym, built on demand */
    size_t basis_bytes;     /* its memory bound (0: never build it) */
    int basis_warned;
    double tc;              /* t of the cached full expansion, NAN if none */
    double *Yc, *dYc;       /* (n m) cached full expansion (symmetric form) */
    ndyn_geom_heat *ab;     /* scalar heat of (|f|, 1) (n, 2) */
    size_t *crow;           /* (cap m) basis rows of the requested nodes */
    double *y, *dy, *hab, *dhab; /* (cap m), (cap m), (cap 2), (cap 2) scratch */
    size_t cap;
};

int ndyn_geom_vheat_new(const ndyn_geom_data *g, const double *f, ndyn_geom_vheat **out)
{
    *out = NULL;
    if (!g->frames || g->lcsym.nrows == 0)
        return ndyn_error(NDYN_EINVAL, "vector diffusion needs local gauges (prepare with "
                          "local_gauges on); use scalar diffusion per column otherwise");
    size_t n = g->n, D = g->D, m = (size_t)g->m, nm;
    if (ndyn_size_mul(n, m, &nm)) return NDYN_ENOMEM;
    int rc = ndyn_check_finite(f, n * D, "vector signal");
    if (rc) return rc;
    ndyn_geom_vheat *v = ndyn_calloc(1, sizeof *v);
    if (!v) return NDYN_ENOMEM;
    v->g = g; v->n = n; v->D = D; v->m = m; v->tc = NAN;
    v->basis_bytes = NDYN_GEOM_HEAT_BASIS_BYTES;
    double *us = ndyn_malloc_array(nm, sizeof(double));
    double *ab = ndyn_malloc_array(2 * n, sizeof(double));
    if (!us || !ab) { free(us); free(ab); free(v); return NDYN_ENOMEM; }
    for (size_t i = 0; i < n; i++) {
        const double *Ti = g->frames + i * D * m, *fi = f + i * D;
        double nf = 0;
        for (size_t e = 0; e < D; e++) nf += fi[e] * fi[e];
        for (size_t p = 0; p < m; p++) {
            double s = 0;
            for (size_t e = 0; e < D; e++) s += Ti[e * m + p] * fi[e];
            us[i * m + p] = g->dhalf[i] * s;
        }
        ab[2 * i] = sqrt(nf);
        ab[2 * i + 1] = 1.0;
    }
    rc = ndyn_geom_heat_new(g, ab, 2, &v->ab);
    free(ab);
    if (rc) { free(us); free(v); return rc; }
    if (g->neigc > 0) {
        v->uhat = ndyn_malloc_array(g->neigc, sizeof(double));
        v->eh = ndyn_malloc_array(2 * g->neigc, sizeof(double));
        if (!v->uhat || !v->eh) { free(us); ndyn_geom_vheat_free(v); return NDYN_ENOMEM; }
        ndyn_gemm(1, 0, g->neigc, 1, nm, 1.0, g->evecsc, us, 0.0, v->uhat);
        free(us);
    } else {
        v->us = us;
    }
    *out = v;
    return NDYN_OK;
}

void ndyn_geom_vheat_free(ndyn_geom_vheat *v)
{
    if (!v) return;
    free(v->us); free(v->uhat); free(v->eh); free(v->Yc); free(v->dYc);
    ndyn_cheb_basis_free(v->basis);
    ndyn_geom_heat_free(v->ab);
    free(v->crow); free(v->y); free(v->dy); free(v->hab); free(v->dhab);
    free(v);
}

void ndyn_geom_vheat_set_basis_bytes(ndyn_geom_vheat *v, size_t max_bytes)
{
    ndyn_cheb_basis_free(v->basis);
    v->basis = NULL;
    v->basis_bytes = max_bytes;
    v->basis_warned = 0;
    ndyn_geom_heat_set_basis_bytes(v->ab, max_bytes);
}

static int reserve(ndyn_geom_vheat *v, size_t nsel)
{
    if (v->cap >= nsel && v->y) return NDYN_OK;
    size_t m = v->m, cap = nsel > 1 ? nsel : 1;
    free(v->crow); free(v->y); free(v->dy); free(v->hab); free(v->dhab);
    v->crow = ndyn_malloc_array(cap * m, sizeof(size_t));
    v->y = ndyn_malloc_array(cap * m, sizeof(double));
    v->dy = ndyn_malloc_array(cap * m, sizeof(double));
    v->hab = ndyn_malloc_array(cap * 2, sizeof(double));
    v->dhab = ndyn_malloc_array(cap * 2, sizeof(double));
    v->cap = cap;
    if (!v->crow || !v->y || !v->dy || !v->hab || !v->dhab) {
        free(v->crow); free(v->y); free(v->dy); free(v->hab); free(v->dhab);
        v->crow = NULL; v->y = v->dy = v->hab = v->dhab = NULL; v->cap = 0;
        return NDYN_ENOMEM;
    }
    return NDYN_OK;
}

/* y, dy (nsel, m) = rows of exp(-t L_c,sym) us and its t-derivative. */
static int conn_rows(ndyn_geom_vheat *v, double t, const size_t *rows, size_t nsel)
{
    const ndyn_geom_data *g = v->g;
    size_t m = v->m, n = v->n;
    if (v->uhat) {
        size_t k = g->neigc;
        double *e = v->eh, *de = v->eh + k;
        for (size_t j = 0; j < k; j++) {
            e[j] = exp(-g->evalsc[j] * t) * v->uhat[j];
            de[j] = -g->evalsc[j] * e[j];
        }
        for (size_t r = 0; r < nsel; r++) {
            size_t i = rows ? rows[r] : r;
            for (size_t p = 0; p < m; p++) {
                const double *psi = g->evecsc + (i * m + p) * k;
                double s = 0, ds = 0;
                for (size_t j = 0; j < k; j++) { s += psi[j] * e[j]; ds += psi[j] * de[j]; }
                v->y[r * m + p] = s;
                v->dy[r * m + p] = ds;
            }
        }
        return NDYN_OK;
    }
    /* the basis when it exists or for a row subset, within the memory bound */
    int use_basis = 0;
    if (!(v->tc == t) && (v->basis || (rows && v->basis_bytes > 0))) {
        int K = ndyn_heat_cheb_terms(t, 0);
        size_t per_term = n * m * sizeof(double);
        size_t max_terms = v->basis ? ndyn_cheb_basis_max_terms(v->basis)
                                    : v->basis_bytes / per_term;
        if (K >= 0 && (size_t)K + 1 <= max_terms) use_basis = 1;
        else if (!v->basis_warned) {
            ndyn_warn("vector diffusion: t = %.4g needs %d Chebyshev terms, the cached basis "
                      "holds at most %zu (%zu MiB); falling back to a full expansion per t "
                      "(slower)", t, K + 1, max_terms, v->basis_bytes >> 20);
            v->basis_warned = 1;
        }
    }
    if (use_basis) {
        if (!v->basis) {
            int rc = ndyn_cheb_basis_new(&g->lcsym, v->us, 1, v->basis_bytes, &v->basis);
            if (rc) return rc;
        }
        for (size_t r = 0; r < nsel; r++) {
            size_t i = rows ? rows[r] : r;
            for (size_t p = 0; p < m; p++) v->crow[r * m + p] = i * m + p;
        }
        return ndyn_cheb_basis_apply(v->basis, t, 0, v->crow, nsel * m, v->y, v->dy);
    }
    if (!(v->tc == t)) {
        if (!v->Yc) {
            v->Yc = ndyn_malloc_array(n * m, sizeof(double));
            v->dYc = ndyn_malloc_array(n * m, sizeof(double));
            if (!v->Yc || !v->dYc) return NDYN_ENOMEM;
        }
        v->tc = NAN;
        int rc = ndyn_expmv_cheb(&g->lcsym, t, v->us, 1, 0, v->Yc, v->dYc);
        if (rc) return rc;
        v->tc = t;
    }
    for (size_t r = 0; r < nsel; r++) {
        size_t i = rows ? rows[r] : r;
        memcpy(v->y + r * m, v->Yc + i * m, m * sizeof(double));
        memcpy(v->dy + r * m, v->dYc + i * m, m * sizeof(double));
    }
    return NDYN_OK;
}

/* frames != 0: out (nsel, m) in frame coordinates, else (nsel, D) world. */
static int vheat_apply(ndyn_geom_vheat *v, double t, const size_t *rows, size_t nsel,
                       int frames, double *out, double *dout)
{
    if (!(t >= 0) || !isfinite(t))
        return ndyn_error(NDYN_EINVAL, "diffusion time t = %g must be finite and >= 0", t);
    const ndyn_geom_data *g = v->g;
    size_t n = v->n, D = v->D, m = v->m;
    if (!rows) nsel = n;
    for (size_t r = 0; r < nsel; r++)
        if (rows && rows[r] >= n)
            return ndyn_error(NDYN_EINVAL, "row %zu out of range (%zu nodes)", rows[r], n);
    if (nsel == 0) return NDYN_OK;
    int rc = reserve(v, nsel);
    if (!rc) rc = conn_rows(v, t, rows, nsel);
    if (!rc) rc = ndyn_geom_heat_apply(v->ab, t, rows, nsel, v->hab, v->dhab);
    if (rc) return rc;
    for (size_t r = 0; r < nsel; r++) {
        size_t i = rows ? rows[r] : r;
        double *yi = v->y + r * m, *dyi = v->dy + r * m;
        /* back from the symmetric form: (D^{-1/2} x I) */
        double nu = 0, dnu = 0;
        for (size_t p = 0; p < m; p++) {
            yi[p] *= g->dmhalf[i];
            dyi[p] *= g->dmhalf[i];
            nu += yi[p] * yi[p];
            dnu += yi[p] * dyi[p];
        }
        nu = sqrt(nu);
        /* scale s = a / (b ||y||): ds = (a' b ||y|| - a (b' ||y|| + b ||y||')) / (b ||y||)^2 */
        double a = v->hab[2 * r], b = v->hab[2 * r + 1];
        double da = v->dhab[2 * r], db = v->dhab[2 * r + 1];
        double sc = 0, dsc = 0;
        if (nu > 0 && b != 0) {
            double dnorm = dnu / nu, den = b * nu;
            sc = a / den;
            dsc = (da * den - a * (db * nu + b * dnorm)) / (den * den);
        }
        if (frames) {
            for (size_t p = 0; p < m; p++) {
                out[r * m + p] = yi[p] * sc;
                if (dout) dout[r * m + p] = dyi[p] * sc + yi[p] * dsc;
            }
            continue;
        }
        const double *Ti = g->frames + i * D * m;
        for (size_t e = 0; e < D; e++) {
            double s = 0, ds = 0;
            for (size_t p = 0; p < m; p++) {
                s += Ti[e * m + p] * yi[p];
                ds += Ti[e * m + p] * dyi[p];
            }
            out[r * D + e] = s * sc;
            if (dout) dout[r * D + e] = ds * sc + s * dsc;
        }
    }
    return NDYN_OK;
}

int ndyn_geom_vheat_apply(ndyn_geom_vheat *v, double t, const size_t *rows, size_t nsel,
                          double *out, double *dout)
{
    return vheat_apply(v, t, rows, nsel, 0, out, dout);
}

int ndyn_geom_vheat_apply_frames(ndyn_geom_vheat *v, double t, const size_t *rows, size_t nsel,
                                 double *out, double *dout)
{
    return vheat_apply(v, t, rows, nsel, 1, out, dout);
}
