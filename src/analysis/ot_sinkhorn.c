/* Entropic optimal transport by Sinkhorn iterations in the log domain.
 *
 * The plan is P_ij = exp((f_i + g_j - c_ij) / eps) with dual potentials f, g
 * updated alternately so that the rows, then the columns, have the right
 * sums:
 *   f_i = eps log a_i - eps LSE_j((g_j - c_ij) / eps)
 *   g_j = eps log b_j - eps LSE_i((f_i - c_ij) / eps)
 * The iterations run on the scaling form P = diag(u) K diag(v), two
 * matrix-vector products (BLAS) each, with the kernel K built from the
 * current potentials; whenever u or v leave [e^-50, e^50] they are absorbed
 * into f, g and K is rebuilt (Schmitzer's stabilisation, as POT's
 * sinkhorn_stabilized), and if a product underflows the iteration is done
 * in the log domain with log-sum-exp, which never overflows whatever eps
 * (the plain form exp(-c/eps) underflows for small eps). Zero weights are
 * dropped (their rows/columns of the plan are zero). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "analysis/ot_internal.h"

void ndyn_sinkhorn_params_default(ndyn_sinkhorn_params *p, double eps)
{
    p->eps = eps;
    p->max_iter = 10000;
    p->tol = 1e-9;
}

void ndyn_ot_params_default(ndyn_ot_params *p)
{
    p->sinkhorn = 0;
    ndyn_sinkhorn_params_default(&p->sk, 0.0);
}

static int check_params(const ndyn_sinkhorn_params *p)
{
    if (!p) return ndyn_error(NDYN_EINVAL, "Sinkhorn parameters are NULL; see ndyn_sinkhorn_params_default");
    if (!(p->eps > 0) || !isfinite(p->eps))
        return ndyn_error(NDYN_EINVAL, "Sinkhorn eps = %g; give a finite regularisation > 0 in the units "
                          "of the cost (e.g. 1e-2 times the median cost)", p->eps);
    if (p->max_iter == 0) return ndyn_error(NDYN_EINVAL, "Sinkhorn max_iter = 0; give at least 1");
    if (!(p->tol >= 0)) return ndyn_error(NDYN_EINVAL, "Sinkhorn tol = %g; give a value >= 0", p->tol);
    return NDYN_OK;
}

/* Row update: f_i from g over the active columns. */
static void update_rows(const double *c, size_t nb, const size_t *ri, size_t ma, const size_t *ci,
                        size_t mb, const double *la, const double *g, double eps, double *f,
                        double *tmp)
{
    for (size_t i = 0; i < ma; i++) {
        const double *row = c + ri[i] * nb;
        double mx = -INFINITY;
        for (size_t j = 0; j < mb; j++) {
            tmp[j] = (g[j] - row[ci[j]]) / eps;
            if (tmp[j] > mx) mx = tmp[j];
        }
        double s = 0;
        for (size_t j = 0; j < mb; j++) s += exp(tmp[j] - mx);
        f[i] = eps * (la[i] - mx - log(s));
    }
}

/* Column update: g_j from f, through running maxima over the rows so the
 * cost matrix is read row by row. */
static void update_cols(const double *c, size_t nb, const size_t *ri, size_t ma, const size_t *ci,
                        size_t mb, const double *lb, const double *f, double eps, double *g,
                        double *mx, double *s)
{
    for (size_t j = 0; j < mb; j++) {
        mx[j] = -INFINITY;
        s[j] = 0;
    }
    for (size_t i = 0; i < ma; i++) {
        const double *row = c + ri[i] * nb;
        for (size_t j = 0; j < mb; j++) {
            double t = (f[i] - row[ci[j]]) / eps;
            if (t > mx[j]) mx[j] = t;
        }
    }
    for (size_t i = 0; i < ma; i++) {
        const double *row = c + ri[i] * nb;
        for (size_t j = 0; j < mb; j++) s[j] += exp((f[i] - row[ci[j]]) / eps - mx[j]);
    }
    for (size_t j = 0; j < mb; j++) g[j] = eps * (lb[j] - mx[j] - log(s[j]));
}

/* L1 error of the row sums of the plan against a. */
static double row_error(const double *c, size_t nb, const size_t *ri, size_t ma, const size_t *ci,
                        size_t mb, const double *wa, const double *f, const double *g, double eps)
{
    double err = 0;
    for (size_t i = 0; i < ma; i++) {
        const double *row = c + ri[i] * nb;
        double s = 0;
        for (size_t j = 0; j < mb; j++) s += exp((f[i] + g[j] - row[ci[j]]) / eps);
        err += fabs(s - wa[i]); /* wa: active weights */
    }
    return err;
}

/* Kernel K_ij = exp((f_i + g_j - c_ij) / eps) on the active entries; the
 * scalings u, v are reset to 1. */
static void build_kernel(const double *c, size_t nb, const size_t *ri, size_t ma, const size_t *ci,
                         size_t mb, const double *f, const double *g, double eps, double *K, double *u,
                         double *v)
{
    for (size_t i = 0; i < ma; i++) {
        const double *row = c + ri[i] * nb;
        for (size_t j = 0; j < mb; j++) K[i * mb + j] = exp((f[i] + g[j] - row[ci[j]]) / eps);
        u[i] = 1.0;
    }
    for (size_t j = 0; j < mb; j++) v[j] = 1.0;
}

/* Move the scalings into the potentials: f += eps log u, g += eps log v. */
static void absorb(size_t ma, size_t mb, double eps, double *f, double *g, double *u, double *v)
{
    for (size_t i = 0; i < ma; i++) {
        f[i] += eps * log(u[i]);
        u[i] = 1.0;
    }
    for (size_t j = 0; j < mb; j++) {
        g[j] += eps * log(v[j]);
        v[j] = 1.0;
    }
}

int ndyn_ot_sinkhorn(const double *a, size_t na, const double *b, size_t nb, const double *cost,
                     const ndyn_sinkhorn_params *p, double *plan, double *total,
                     ndyn_sinkhorn_info *info)
{
    int rc = check_params(p);
    if (rc) return rc;
    double *wa, *wb;
    if ((rc = ot_prepare_weights(a, na, b, nb, cost, &wa, &wb))) return rc;
    size_t *ri = ndyn_malloc_array(na, sizeof *ri), *ci = ndyn_malloc_array(nb, sizeof *ci);
    size_t nmax = na > nb ? na : nb;
    double *la = ndyn_malloc_array(na, sizeof *la), *lb = ndyn_malloc_array(nb, sizeof *lb);
    double *f = ndyn_calloc(na, sizeof *f), *g = ndyn_calloc(nb, sizeof *g);
    double *t1 = ndyn_malloc_array(nmax, sizeof *t1), *t2 = ndyn_malloc_array(nmax, sizeof *t2);
    double *K = NULL, *u = NULL, *v = NULL, *kv = NULL, *ktu = NULL;
    if (!ri || !ci || !la || !lb || !f || !g || !t1 || !t2) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    size_t ma = 0, mb = 0;
    double mass = 0;
    for (size_t i = 0; i < na; i++)
        if (wa[i] > 0) {
            la[ma] = log(wa[i]);
            ri[ma++] = i;
            mass += wa[i];
        }
    for (size_t j = 0; j < nb; j++)
        if (wb[j] > 0) {
            lb[mb] = log(wb[j]);
            ci[mb++] = j;
        }
    double err = INFINITY;
    K = ndyn_malloc_array(ma * mb, sizeof *K);
    u = ndyn_malloc_array(ma, sizeof *u);
    v = ndyn_malloc_array(mb, sizeof *v);
    kv = ndyn_malloc_array(ma, sizeof *kv);
    ktu = ndyn_malloc_array(mb, sizeof *ktu);
    if (!K || !u || !v || !kv || !ktu) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < ma; i++) wa[i] = wa[ri[i]]; /* active weights, in place */
    for (size_t j = 0; j < mb; j++) wb[j] = wb[ci[j]];
    /* Epsilon scaling: stages at eps_s = 2^s eps from about the cost range
     * down to eps, each warm-started from the potentials of the previous one
     * and run to a loose tolerance; the last stage runs to tol. At small eps
     * this needs far fewer iterations than starting cold. */
    double cmin = INFINITY, cmax = -INFINITY;
    for (size_t i = 0; i < ma; i++)
        for (size_t j = 0; j < mb; j++) {
            double c = cost[ri[i] * nb + ci[j]];
            cmin = fmin(cmin, c);
            cmax = fmax(cmax, c);
        }
    int nstage = 1;
    while (nstage < 40 && p->eps * ldexp(1.0, nstage) < 0.5 * (cmax - cmin)) nstage++;
    size_t it = 0;
    for (int stage = nstage - 1; stage >= 0 && it < p->max_iter; stage--) {
        double eps = p->eps * ldexp(1.0, stage);
        double stol = stage ? fmax(p->tol, 1e-3) : p->tol;
        err = INFINITY;
        /* One log-domain iteration first, so that no row of the kernel underflows. */
        update_rows(cost, nb, ri, ma, ci, mb, la, g, eps, f, t1);
        update_cols(cost, nb, ri, ma, ci, mb, lb, f, eps, g, t1, t2);
        it++;
        build_kernel(cost, nb, ri, ma, ci, mb, f, g, eps, K, u, v);
        size_t sit = 1;
        while (it < p->max_iter) {
            int ok = 1;
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)ma, (int)mb, 1.0, K, (int)mb, v, 1, 0.0, kv, 1);
            for (size_t i = 0; i < ma && ok; i++) ok = kv[i] > 0 && isfinite(wa[i] / kv[i]);
            if (ok) {
                for (size_t i = 0; i < ma; i++) u[i] = wa[i] / kv[i];
                cblas_dgemv(CblasRowMajor, CblasTrans, (int)ma, (int)mb, 1.0, K, (int)mb, u, 1, 0.0, ktu, 1);
                for (size_t j = 0; j < mb && ok; j++) ok = ktu[j] > 0 && isfinite(wb[j] / ktu[j]);
                if (ok)
                    for (size_t j = 0; j < mb; j++) v[j] = wb[j] / ktu[j];
            }
            it++;
            sit++;
            if (!ok) {
                /* The scalings left the range of the kernel: absorb them and
                 * do one iteration in the log domain. */
                absorb(ma, mb, eps, f, g, u, v);
                update_rows(cost, nb, ri, ma, ci, mb, la, g, eps, f, t1);
                update_cols(cost, nb, ri, ma, ci, mb, lb, f, eps, g, t1, t2);
                build_kernel(cost, nb, ri, ma, ci, mb, f, g, eps, K, u, v);
                continue;
            }
            /* The columns are exact after each iteration; the rows are
             * checked every 10 (the check costs one more product). */
            if (sit % 10 == 0 || it == p->max_iter) {
                cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)ma, (int)mb, 1.0, K, (int)mb, v, 1, 0.0, kv, 1);
                err = 0;
                for (size_t i = 0; i < ma; i++) err += fabs(u[i] * kv[i] - wa[i]);
                err /= mass;
                if (err <= stol) break;
            }
            double big = 0;
            for (size_t i = 0; i < ma; i++) big = fmax(big, fabs(log(u[i])));
            for (size_t j = 0; j < mb; j++) big = fmax(big, fabs(log(v[j])));
            if (big > 50) {
                absorb(ma, mb, eps, f, g, u, v);
                build_kernel(cost, nb, ri, ma, ci, mb, f, g, eps, K, u, v);
            }
        }
        absorb(ma, mb, eps, f, g, u, v);
    }
    double eps = p->eps;
    if (!isfinite(err)) err = row_error(cost, nb, ri, ma, ci, mb, wa, f, g, eps) / mass;
    int conv = err <= p->tol;
    if (!conv)
        ndyn_warn("Sinkhorn (eps %g) stopped after %zu iterations with row-marginal error %.3g > tol %.3g; "
                  "increase max_iter or eps", eps, it, err, p->tol);
    double t = 0;
    if (plan) memset(plan, 0, na * nb * sizeof *plan);
    for (size_t i = 0; i < ma; i++) {
        const double *row = cost + ri[i] * nb;
        for (size_t j = 0; j < mb; j++) {
            double pij = exp((f[i] + g[j] - row[ci[j]]) / eps);
            t += pij * row[ci[j]];
            if (plan) plan[ri[i] * nb + ci[j]] = pij;
        }
    }
    if (total) *total = t;
    if (info) {
        info->iters = it;
        info->marginal_error = err;
        info->converged = conv;
    }
done:
    free(wa);
    free(wb);
    free(ri);
    free(ci);
    free(la);
    free(lb);
    free(f);
    free(g);
    free(t1);
    free(t2);
    free(K);
    free(u);
    free(v);
    free(kv);
    free(ktu);
    return rc;
}
