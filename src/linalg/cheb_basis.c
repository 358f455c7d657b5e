/* Cached Chebyshev basis of a fixed block X for the heat action:
 * V_k = T_k(L - I) X, k = 0..K, kept so that any row subset of exp(-tL)X and
 * its t-derivative costs one short sum per row instead of K sparse products
 * over the whole matrix. The basis grows lazily with the largest t asked for,
 * up to a memory bound. */
#include "ndyn/linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ndyn_cheb_basis {
    const ndyn_csr *L;  /* borrowed */
    size_t n, c;
    size_t max_terms;   /* K + 1 never exceeds this (memory bound) */
    size_t cap;         /* terms per row allocated */
    size_t nterms;      /* terms computed: V_0 .. V_{nterms-1} */
    double *V;          /* (n, cap, c): row i's terms are contiguous */
    double *Tprev, *Tcur; /* (n, c): V_{nterms-2}, V_{nterms-1} for the recurrence */
    double *Tnext;      /* (n, c) scratch */
    double *coef;       /* (3 nt + 1): coefficients, derivatives, Bessel values */
    size_t coef_cap;
};

int ndyn_heat_cheb_terms(double t, double tol)
{
    if (!(t >= 0) || !isfinite(t) || t > 1e5) return -1;
    if (tol <= 0) tol = 1e-14;
    int kmax = (int)(14.0 * sqrt(t + 1.0) + 40.0);
    double *s = ndyn_malloc_array((size_t)kmax + 2, sizeof(double));
    if (!s) return -1;
    if (ndyn_bessel_i_scaled(t, kmax + 1, s)) { free(s); return -1; }
    /* |T_k| <= 1 on the spectrum: the dropped terms (coefficients and their
     * derivatives, each at most 2 e^{-t} I_k) stay below tol in total */
    int K = 0;
    double tail = 0;
    for (int k = kmax; k >= 1; k--) {
        if (tail + 4.0 * s[k] >= tol) { K = k; break; }
        tail += 4.0 * s[k];
    }
    free(s);
    return K;
}

int ndyn_cheb_basis_new(const ndyn_csr *L, const double *X, size_t c, size_t max_bytes,
                        ndyn_cheb_basis **out)
{
    *out = NULL;
    if (L->nrows != L->ncols)
        return ndyn_error(NDYN_ESHAPE, "Chebyshev basis: matrix is %zu x %zu, not square",
                          L->nrows, L->ncols);
    if (c == 0) return ndyn_error(NDYN_EINVAL, "Chebyshev basis of a block with 0 columns");
    size_t n = L->nrows, nc;
    if (ndyn_size_mul(n, c, &nc)) return NDYN_ENOMEM;
    size_t per_term = nc * sizeof(double);
    size_t max_terms = per_term ? max_bytes / per_term : 0;
    if (max_terms < 2)
        return ndyn_error(NDYN_ENOMEM, "Chebyshev basis: %zu bytes hold fewer than 2 terms of "
                          "%zu x %zu; raise the bound", max_bytes, n, c);
    ndyn_cheb_basis *b = ndyn_calloc(1, sizeof *b);
    if (!b) return NDYN_ENOMEM;
    b->L = L; b->n = n; b->c = c; b->max_terms = max_terms;
    b->Tprev = ndyn_malloc_array(nc, sizeof(double));
    b->Tcur = ndyn_malloc_array(nc, sizeof(double));
    b->Tnext = ndyn_malloc_array(nc, sizeof(double));
    b->cap = max_terms < 16 ? max_terms : 16;
    b->V = ndyn_malloc_array(nc * b->cap, sizeof(double));
    if (!b->Tprev || !b->Tcur || !b->Tnext || !b->V) { ndyn_cheb_basis_free(b); return NDYN_ENOMEM; }
    /* V_0 = X, V_1 = (L - I) X */
    memcpy(b->Tprev, X, nc * sizeof(double));
    ndyn_csr_spmm(L, X, c, 1.0, 0.0, b->Tcur);
    for (size_t q = 0; q < nc; q++) b->Tcur[q] -= X[q];
    for (size_t i = 0; i < n; i++) {
        double *vi = b->V + i * b->cap * c;
        memcpy(vi, b->Tprev + i * c, c * sizeof(double));
        memcpy(vi + c, b->Tcur + i * c, c * sizeof(double));
    }
    b->nterms = 2;
    *out = b;
    return NDYN_OK;
}

void ndyn_cheb_basis_free(ndyn_cheb_basis *b)
{
    if (!b) return;
    free(b->V); free(b->Tprev); free(b->Tcur); free(b->Tnext); free(b->coef);
    free(b);
}

int ndyn_cheb_heat_coefficients(double t, size_t nt, double *ck, double *dk)
{
    if (!(t >= 0) || !isfinite(t) || t > 1e5)
        return ndyn_error(NDYN_EINVAL, "heat action: t = %g must be in [0, 1e5]", t);
    if (nt == 0) return NDYN_OK;
    double *sv = ndyn_malloc_array(nt + 1, sizeof(double));
    if (!sv) return NDYN_ENOMEM;
    int rc = ndyn_bessel_i_scaled(t, (int)nt, sv);
    if (rc) { free(sv); return rc; }
    /* c_k = (2 - delta_k0) (-1)^k e^{-t} I_k(t); its t-derivative uses
     * d/dt[e^{-t} I_k] = e^{-t} ((I_{k-1} + I_{k+1}) / 2 - I_k), I_{-1} = I_1 */
    for (size_t k = 0; k < nt; k++) {
        double sign = (k & 1) ? -1.0 : 1.0, w = k == 0 ? 1.0 : 2.0;
        double prev = k == 0 ? sv[1] : sv[k - 1];
        ck[k] = w * sign * sv[k];
        if (dk) dk[k] = w * sign * (0.5 * (prev + sv[k + 1]) - sv[k]);
    }
    free(sv);
    return NDYN_OK;
}

size_t ndyn_cheb_basis_max_terms(const ndyn_cheb_basis *b) { return b->max_terms; }
size_t ndyn_cheb_basis_terms(const ndyn_cheb_basis *b) { return b->nterms; }

/* Extend to at least `want` terms (want <= max_terms). */
static int extend(ndyn_cheb_basis *b, size_t want)
{
    size_t n = b->n, c = b->c, nc = n * c;
    if (want > b->cap) {
        size_t cap = b->cap;
        while (cap < want) cap *= 2;
        if (cap > b->max_terms) cap = b->max_terms;
        double *V = ndyn_malloc_array(nc * cap, sizeof(double));
        if (!V) return NDYN_ENOMEM;
        for (size_t i = 0; i < n; i++)
            memcpy(V + i * cap * c, b->V + i * b->cap * c, b->nterms * c * sizeof(double));
        free(b->V);
        b->V = V;
        b->cap = cap;
    }
    while (b->nterms < want) {
        /* T_{k+1} = 2 (L - I) T_k - T_{k-1} */
        ndyn_csr_spmm(b->L, b->Tcur, c, 2.0, 0.0, b->Tnext);
        for (size_t q = 0; q < nc; q++) b->Tnext[q] -= 2.0 * b->Tcur[q] + b->Tprev[q];
        double *tmp = b->Tprev; b->Tprev = b->Tcur; b->Tcur = b->Tnext; b->Tnext = tmp;
        size_t k = b->nterms;
        for (size_t i = 0; i < n; i++)
            memcpy(b->V + (i * b->cap + k) * c, b->Tcur + i * c, c * sizeof(double));
        b->nterms++;
    }
    return NDYN_OK;
}

int ndyn_cheb_basis_view(ndyn_cheb_basis *b, size_t want, const double **V, size_t *row_stride)
{
    if (want > b->max_terms)
        return ndyn_error(NDYN_ENOMEM, "Chebyshev basis: %zu terms asked, the memory bound "
                          "allows %zu", want, b->max_terms);
    int rc = extend(b, want > 2 ? want : 2);
    if (rc) return rc;
    *V = b->V;
    *row_stride = b->cap * b->c;
    return NDYN_OK;
}

int ndyn_cheb_basis_apply(ndyn_cheb_basis *b, double t, double tol, const size_t *rows,
                          size_t nsel, double *Y, double *dY)
{
    if (!(t >= 0) || !isfinite(t) || t > 1e5)
        return ndyn_error(NDYN_EINVAL, "heat action: t = %g must be in [0, 1e5]", t);
    int K = ndyn_heat_cheb_terms(t, tol);
    if (K < 0) return NDYN_ENOMEM;
    if ((size_t)K + 1 > b->max_terms)
        return ndyn_error(NDYN_ENOMEM, "Chebyshev basis: t = %g needs %d terms, the memory "
                          "bound allows %zu", t, K + 1, b->max_terms);
    size_t c = b->c, nt = (size_t)K + 1;
    if (!rows) nsel = b->n;
    for (size_t r = 0; r < nsel; r++)
        if (rows && rows[r] >= b->n)
            return ndyn_error(NDYN_EINVAL, "row %zu out of range (%zu rows)", rows[r], b->n);
    int rc = extend(b, nt > 2 ? nt : 2);
    if (rc) return rc;
    if (b->coef_cap < 3 * nt + 1) {
        free(b->coef);
        b->coef = ndyn_malloc_array(3 * nt + 1, sizeof(double));
        b->coef_cap = b->coef ? 3 * nt + 1 : 0;
        if (!b->coef) return NDYN_ENOMEM;
    }
    /* c_k = (2 - delta_k0) (-1)^k e^{-t} I_k(t); its t-derivative uses
     * d/dt[e^{-t} I_k] = e^{-t} ((I_{k-1} + I_{k+1}) / 2 - I_k), I_{-1} = I_1 */
    double *ck = b->coef, *dk = ck + nt, *sv = dk + nt; /* sv (nt + 1) */
    rc = ndyn_bessel_i_scaled(t, (int)nt, sv);
    if (rc) return rc;
    for (size_t k = 0; k < nt; k++) {
        double sign = (k & 1) ? -1.0 : 1.0, w = k == 0 ? 1.0 : 2.0;
        double prev = k == 0 ? sv[1] : sv[k - 1];
        ck[k] = w * sign * sv[k];
        dk[k] = w * sign * (0.5 * (prev + sv[k + 1]) - sv[k]);
    }
    for (size_t r = 0; r < nsel; r++) {
        size_t i = rows ? rows[r] : r;
        const double *vi = b->V + i * b->cap * c;
        double *y = Y + r * c, *dy = dY ? dY + r * c : NULL;
        for (size_t q = 0; q < c; q++) y[q] = 0;
        if (dy) for (size_t q = 0; q < c; q++) dy[q] = 0;
        for (size_t k = 0; k < nt; k++) {
            const double *v = vi + k * c;
            double a = ck[k];
            for (size_t q = 0; q < c; q++) y[q] += a * v[q];
            if (dy) {
                double e = dk[k];
                for (size_t q = 0; q < c; q++) dy[q] += e * v[q];
            }
        }
    }
    return NDYN_OK;
}
