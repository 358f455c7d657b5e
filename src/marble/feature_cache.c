/* Cache of the gradient-filter blocks for every node, used by fit.
 *
 * The signal f is fixed and the blocks X^(p) = K^(p) ... K^(1) F are linear
 * in the diffused signal F. Without diffusion F = f, so every block of every
 * node is a constant: one (n, W) table, W = sum_p s d^p. With the spectral
 * heat kernel F = sum_k e^{-lambda_k t} u_k, u_k = D^{-1/2} psi_k fhat_k^T,
 * so X^(p)(t) = sum_k e^{-lambda_k t} K^(p)...K^(1) u_k: a table B (n, W, T)
 * with T = n_eig terms gives every block of a node at any t, and its
 * t-derivative, from T * W products, without neighbourhoods or sparse
 * kernels. The Chebyshev heat action has the same form with the cached basis
 * (u_k = D^{-1/2} T_k(L_sym - I) D^{1/2} f, coefficients c_k(t)); its table
 * holds the terms the current t needs plus headroom and is rebuilt with twice
 * as many when t outgrows them. The table is built once per fit (T sparse
 * sweeps over all nodes); a batch then reads only its target rows. Tables
 * larger than the bound are not built (or dropped when a rebuild would pass
 * it): the forward pass then uses the o-hop neighbourhoods as before. */
#include "ndyn/linalg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "marble/marble_internal.h"

static size_t g_fcache_bytes = NDYN_MARBLE_FEATURE_CACHE_BYTES;

void ndyn_marble_set_feature_cache_bytes(size_t max_bytes) { g_fcache_bytes = max_bytes; }
size_t ndyn_marble_feature_cache_bytes(void) { return g_fcache_bytes; }

struct mb_fcache {
    size_t n, T, W;
    size_t off[MB_MAX_ORDER + 2]; /* block p at columns off[p] .. off[p+1] */
    int diffusing;
    int cheb;       /* terms are Chebyshev (coefficients c_k(t)), else spectral */
    double *B;      /* (n, W, T): node, block column, term (terms contiguous) */
    double *coef;   /* (2, T): e^{-lambda t}, -lambda e^{-lambda t} */
    double *acc;    /* (2, W) scratch */
    double *G;      /* (rows, W): d/dt of the targets' blocks */
    size_t gcap;
};

void mb_fcache_free(mb_fcache *c)
{
    if (!c) return;
    free(c->B); free(c->coef); free(c->acc); free(c->G);
    free(c);
}

/* Terms the table should hold for t (Chebyshev): K(t) + 1 plus headroom. */
static size_t cheb_terms(double t, size_t atleast)
{
    int K = ndyn_heat_cheb_terms(t, 0);
    size_t want = (size_t)(K < 0 ? 0 : K) + 1 + 8;
    return want > atleast ? want : atleast;
}

static int build(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g, size_t nterms)
{
    mb_fcache_free(w->fc);
    w->fc = NULL;
    const ndyn_marble_params *P = &m->par;
    int cheb = P->diffusion && !w->fhat_ready;
    if (cheb && !(g->heat_fn && g->heat_basis_fn)) return NDYN_OK;
    /* the table assumes flat kernels: local gauges transport by R_ij */
    if (g->local_gauges) return NDYN_OK;
    if (P->order > MB_MAX_ORDER) return NDYN_OK;
    size_t n = g->n, s = m->s, d = m->d, o = (size_t)P->order;
    int diffusing = P->diffusion != 0;
    size_t T = !diffusing ? 1 : cheb ? nterms : g->n_eig;
    size_t off[MB_MAX_ORDER + 2], wp = s;
    off[0] = 0;
    for (size_t p = 0; p <= o; p++) { off[p + 1] = off[p] + wp; wp *= d; }
    size_t W = off[o + 1];
    /* size check without overflow: n * T * W * 8 <= bound */
    double bytes = (double)n * (double)T * (double)W * (double)sizeof(double);
    if (bytes > (double)g_fcache_bytes) return NDYN_OK;
    const double *V = NULL;
    size_t vstride = 0;
    if (cheb && g->heat_basis_fn(g->heat_ctx, T, &V, &vstride)) {
        ndyn_error_clear();   /* past the basis bound: no table */
        return NDYN_OK;
    }
    mb_fcache *c = ndyn_calloc(1, sizeof *c);
    if (!c) return NDYN_ENOMEM;
    c->n = n; c->T = T; c->W = W; c->diffusing = diffusing; c->cheb = cheb;
    memcpy(c->off, off, sizeof off);
    c->B = ndyn_calloc(n * T * W, sizeof(double));
    c->coef = ndyn_malloc_array(2 * T, sizeof(double));
    c->acc = ndyn_malloc_array(2 * W, sizeof(double));
    if (!c->B || !c->coef || !c->acc) { mb_fcache_free(c); return NDYN_ENOMEM; }
    size_t stride = W * T;
    /* block 0: the signal, or its spectral components u_k */
    for (size_t i = 0; i < n; i++) {
        double *bi = c->B + i * stride;
        if (!diffusing) {
            memcpy(bi, g->signal + i * s, s * sizeof(double));
            continue;
        }
        double inv = 1.0 / g->dhalf[i];
        if (cheb) {
            const double *vi = V + (size_t)(g->order ? g->order[i] : (int32_t)i) * vstride;
            for (size_t r = 0; r < s; r++)
                for (size_t k = 0; k < T; k++) bi[r * T + k] = vi[k * s + r] * inv;
            continue;
        }
        const double *psi = g->evecs + i * T;
        for (size_t r = 0; r < s; r++) {
            const double *fh = w->fhat + r * T;
            for (size_t k = 0; k < T; k++) bi[r * T + k] = psi[k] * fh[k] * inv;
        }
    }
    /* block p from block p-1 of the neighbours, column r*d + c as the forward */
    const double *KV = w->kv;
    for (size_t p = 1; p <= o; p++) {
        size_t win = off[p] - off[p - 1];
#pragma omp parallel for schedule(dynamic, 64)
        for (size_t i = 0; i < n; i++) {
            double *bi = c->B + i * stride + off[p] * T;
            for (int64_t q = g->k_ptr[i]; q < g->k_ptr[i + 1]; q++) {
                const double *bj = c->B + (size_t)g->k_idx[q] * stride + off[p - 1] * T;
                const double *kq = KV + (size_t)q * d;
                for (size_t r = 0; r < win; r++) {
                    const double *x = bj + r * T;
                    for (size_t cc = 0; cc < d; cc++) {
                        double a = kq[cc], *out = bi + (r * d + cc) * T;
                        for (size_t k = 0; k < T; k++) out[k] += a * x[k];
                    }
                }
            }
        }
    }
    w->fc = c;
    return NDYN_OK;
}

int mb_fcache_build(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g)
{
    double t = m->params[m->off_t];
    return build(w, m, g, cheb_terms(t < MB_T_MIN ? MB_T_MIN : t, 0));
}

int mb_fcache_prepare(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g,
                      double t)
{
    mb_fcache *c = w->fc;
    if (!c || !c->cheb) return NDYN_OK;
    /* t outgrew the terms: rebuild with twice as many (or drop the table) */
    int K = ndyn_heat_cheb_terms(t, 0);
    if (K < 0) return ndyn_error(NDYN_EINVAL, "marble: diffusion time t = %g is out of range", t);
    if ((size_t)K + 1 <= c->T) return NDYN_OK;
    return build(w, m, g, cheb_terms(t, 2 * c->T));
}

int mb_fcache_fill(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g,
                   size_t rows, double t)
{
    mb_fcache *c = w->fc;
    size_t T = c->T, W = c->W, o = (size_t)m->par.order;
    if (c->cheb) {
        if (c->gcap < rows) {
            free(c->G);
            c->G = ndyn_malloc_array(rows * W, sizeof(double));
            c->gcap = c->G ? rows : 0;
            if (!c->G) return NDYN_ENOMEM;
        }
        int rc = ndyn_cheb_heat_coefficients(t, T, c->coef, c->coef + T);
        if (rc) return rc;
    } else if (c->diffusing) {
        if (c->gcap < rows) {
            free(c->G);
            c->G = ndyn_malloc_array(rows * W, sizeof(double));
            c->gcap = c->G ? rows : 0;
            if (!c->G) return NDYN_ENOMEM;
        }
        for (size_t k = 0; k < T; k++) {
            double e = exp(-g->evals[k] * t);
            c->coef[k] = e;
            c->coef[T + k] = -g->evals[k] * e;
        }
    }
    double *acc = c->acc, *dacc = c->acc + W;
    size_t stride = W * T;
    for (size_t l = 0; l < rows; l++) {
        const double *bi = c->B + (size_t)w->l2g[l] * stride;
        const double *src = bi;
        if (c->diffusing) {
            const double *e = c->coef, *de = c->coef + T;
            for (size_t q = 0; q < W; q++) {
                const double *bq = bi + q * T;
                double a = 0, b = 0;
                for (size_t k = 0; k < T; k++) { a += e[k] * bq[k]; b += de[k] * bq[k]; }
                acc[q] = a;
                dacc[q] = b;
            }
            memcpy(c->G + l * W, dacc, W * sizeof(double));
            src = acc;
        }
        for (size_t p = 0; p <= o; p++) {
            size_t wp = c->off[p + 1] - c->off[p];
            memcpy(w->X[p] + l * wp, src + c->off[p], wp * sizeof(double));
        }
    }
    return NDYN_OK;
}

double mb_fcache_dt(const mb_work *w, const ndyn_marble_model *m, size_t rows)
{
    const mb_fcache *c = w->fc;
    if (!c->diffusing) return 0;
    size_t W = c->W, o = (size_t)m->par.order;
    double gt = 0;
    for (size_t l = 0; l < rows; l++)
        for (size_t p = 0; p <= o; p++) {
            size_t wp = c->off[p + 1] - c->off[p];
            const double *dx = w->dX[p] + l * wp, *gg = c->G + l * W + c->off[p];
            for (size_t q = 0; q < wp; q++) gt += dx[q] * gg[q];
        }
    return gt;
}
