/* Log-domain forward-backward for the switching prior (spec §4): scaled
 * alpha/beta with their log normalisers (log p = sum_t lc_t), posterior
 * marginals gamma and pairwise posteriors xi; the reverse-mode adjoint of the
 * recursions for terms that depend on log gamma (spec §5.4); Viterbi. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "srnn_internal.h"

#define KMAX 64

static double lse(const double *x, int n)
{
    double m = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    if (!isfinite(m)) return m;
    double s = 0;
    for (int i = 0; i < n; i++) s += exp(x[i] - m);
    return m + log(s);
}

int ndyn_srnn_forward_backward(const double *lpi, const double *S, const double *e, size_t T,
                               int K, double *la_out, double *lb_out, double *lc_out,
                               double *gamma, double *xi, double *logp)
{
    if (K < 1 || K > KMAX) return ndyn_error(NDYN_EINVAL, "forward-backward: K = %d must be in 1..%d", K, KMAX);
    if (T < 1) return ndyn_error(NDYN_EINVAL, "forward-backward: T must be >= 1");
    size_t TK = T * (size_t)K;
    double *buf = NULL, *la = la_out, *lb = lb_out, *lc = lc_out;
    if (!la || !lb || !lc) {
        buf = ndyn_malloc_array(2 * TK + T, sizeof(double));
        if (!buf) return NDYN_ENOMEM;
        if (!la) la = buf;
        if (!lb) lb = buf + TK;
        if (!lc) lc = buf + 2 * TK;
    }
    double tmp[KMAX];
    /* forward */
    for (int k = 0; k < K; k++) la[k] = lpi[k] + e[k];
    lc[0] = lse(la, K);
    for (int k = 0; k < K; k++) la[k] -= lc[0];
    for (size_t t = 1; t < T; t++) {
        const double *St = S + t * K * K, *prev = la + (t - 1) * K;
        double *cur = la + t * K;
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < K; j++) tmp[j] = St[i * K + j] + prev[j];
            cur[i] = e[t * K + i] + lse(tmp, K);
        }
        lc[t] = lse(cur, K);
        for (int k = 0; k < K; k++) cur[k] -= lc[t];
    }
    /* backward */
    for (int k = 0; k < K; k++) lb[(T - 1) * K + k] = 0;
    for (size_t t = T - 1; t-- > 0;) {
        const double *Sn = S + (t + 1) * K * K, *en = e + (t + 1) * K, *bn = lb + (t + 1) * K;
        for (int j = 0; j < K; j++) {
            for (int i = 0; i < K; i++) tmp[i] = Sn[i * K + j] + en[i] + bn[i];
            lb[t * K + j] = lse(tmp, K) - lc[t + 1];
        }
    }
    double lp = 0;
    for (size_t t = 0; t < T; t++) lp += lc[t];
    int finite = isfinite(lp);
    if (gamma)
        for (size_t t = 0; t < T; t++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += gamma[t * K + k] = exp(la[t * K + k] + lb[t * K + k]);
            for (int k = 0; k < K; k++) gamma[t * K + k] /= s; /* exact up to rounding; removes drift */
        }
    if (xi)
        for (size_t t = 0; t + 1 < T; t++) {
            const double *Sn = S + (t + 1) * K * K;
            double *x = xi + t * K * K;
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++)
                    x[i * K + j] = exp(la[t * K + i] + Sn[j * K + i] + e[(t + 1) * K + j] +
                                       lb[(t + 1) * K + j] - lc[t + 1]);
        }
    if (logp) *logp = lp;
    free(buf);
    if (!finite)
        return ndyn_error(NDYN_ENONFINITE,
                          "forward-backward: log-likelihood is not finite (check for NaN/Inf in "
                          "the evidence or transitions that give zero probability to every path)");
    return NDYN_OK;
}

/* The same posteriors in the probability domain with per-step scaling: the
 * evidence shifted by its maximum per step (K exps) and the transition
 * probabilities A = exp(S) given, so a step costs no exp beyond the K of the
 * evidence. Returns 1 (nothing usable written) when a scaled sum underflows or
 * is not finite; the caller then uses ndyn_srnn_forward_backward. scratch
 * (3 T K + T). */
int srnn_fb_prob(const double *lpi, const double *A, const double *e, size_t T, int K,
                 double *gamma, double *xi, double *logp, double *scratch)
{
    size_t TK = T * (size_t)K;
    double *al = scratch, *be = scratch + TK, *v = scratch + 2 * TK, *c = scratch + 3 * TK;
    double lp = 0;
    for (size_t t = 0; t < T; t++) {
        const double *et = e + t * K;
        int am = 0;
        for (int k = 1; k < K; k++) am = et[k] > et[am] ? k : am;
        double mx = et[am];
        if (!isfinite(mx)) return 1;
        for (int k = 0; k < K; k++) v[t * K + k] = k == am ? 1.0 : exp(et[k] - mx); /* exp(0) = 1 */
        lp += mx;
    }
    /* forward */
    double s = 0;
    for (int k = 0; k < K; k++) s += al[k] = exp(lpi[k]) * v[k];
    c[0] = s;
    for (size_t t = 1; t < T; t++) {
        const double *At = A + t * K * K, *prev = al + (t - 1) * K;
        double *cur = al + t * K, ip = 1 / c[t - 1];
        s = 0;
        for (int i = 0; i < K; i++) {
            double q = 0;
            for (int j = 0; j < K; j++) q += At[i * K + j] * prev[j];
            s += cur[i] = v[t * K + i] * q * ip;
        }
        c[t] = s;
    }
    /* sum_t log c_t as the log of their product, kept in [0.5, 1) by frexp (exact scaling) */
    double prod = 1;
    int pexp = 0;
    for (size_t t = 0; t < T; t++) {
        if (!(c[t] > 1e-290) || !isfinite(c[t])) return 1;
        int ex;
        prod = frexp(prod * c[t], &ex);
        pexp += ex;
    }
    lp += log(prod) + pexp * 0.693147180559945309417; /* ln 2 */
    /* alpha is stored unnormalised by its own c_t: normalise now */
    for (size_t t = 0; t < T; t++)
        for (int k = 0; k < K; k++) al[t * K + k] /= c[t];
    /* backward */
    for (int k = 0; k < K; k++) be[(T - 1) * K + k] = 1;
    for (size_t t = T - 1; t-- > 0;) {
        const double *An = A + (t + 1) * K * K, *bn = be + (t + 1) * K, *vn = v + (t + 1) * K;
        double ic = 1 / c[t + 1];
        for (int j = 0; j < K; j++) {
            double q = 0;
            for (int i = 0; i < K; i++) q += An[i * K + j] * vn[i] * bn[i];
            be[t * K + j] = q * ic;
        }
    }
    for (size_t t = 0; t < T; t++) {
        double z = 0;
        for (int k = 0; k < K; k++) z += gamma[t * K + k] = al[t * K + k] * be[t * K + k];
        for (int k = 0; k < K; k++) gamma[t * K + k] /= z;
    }
    if (xi)
        for (size_t t = 0; t + 1 < T; t++) {
            const double *An = A + (t + 1) * K * K, *vn = v + (t + 1) * K, *bn = be + (t + 1) * K;
            double ic = 1 / c[t + 1], *x = xi + t * K * K;
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++) x[i * K + j] = al[t * K + i] * An[j * K + i] * vn[j] * bn[j] * ic;
        }
    *logp = lp;
    return isfinite(lp) ? 0 : 1;
}

int ndyn_srnn_fb_adjoint_logpost(const double *lpi, const double *S, const double *e,
                                 const double *la, const double *lb, const double *lc,
                                 const double *P, size_t T, int K, double coef, double *glpi,
                                 double *gS, double *ge)
{
    if (K < 1 || K > KMAX || T < 1) return ndyn_error(NDYN_EINVAL, "fb adjoint: bad K or T");
    size_t TK = T * (size_t)K;
    double *abar = ndyn_calloc(2 * TK, sizeof(double));
    if (!abar) return NDYN_ENOMEM;
    for (size_t i = 0; i < TK; i++) abar[i] = abar[TK + i] = coef * P[i];
    int rc = srnn_fb_adjoint(lpi, S, e, la, lb, lc, abar, abar + TK, T, K, glpi, gS, ge);
    free(abar);
    return rc;
}

int srnn_fb_adjoint(const double *lpi, const double *S, const double *e, const double *la,
                    const double *lb, const double *lc, double *abar, double *bbar, size_t T, int K,
                    double *glpi, double *gS, double *ge)
{
    (void)lpi;
    (void)lc;
    double *cbar = ndyn_calloc(T, sizeof(double));
    if (!cbar) return NDYN_ENOMEM;
    double w[KMAX * KMAX], tmp[KMAX];
    /* Reverse of the backward recursion (computed t = T-2 .. 0): t = 0 .. T-2. */
    for (size_t t = 0; t + 1 < T; t++) {
        const double *Sn = S + (t + 1) * K * K, *en = e + (t + 1) * K, *bn = lb + (t + 1) * K;
        double sb = 0;
        for (int j = 0; j < K; j++) {
            for (int i = 0; i < K; i++) tmp[i] = Sn[i * K + j] + en[i] + bn[i];
            double m = lse(tmp, K);
            for (int i = 0; i < K; i++) w[i * K + j] = exp(tmp[i] - m);
            sb += bbar[t * K + j];
        }
        for (int i = 0; i < K; i++) {
            double acc = 0;
            for (int j = 0; j < K; j++) {
                double g = bbar[t * K + j] * w[i * K + j];
                gS[(t + 1) * K * K + i * K + j] += g;
                acc += g;
            }
            ge[(t + 1) * K + i] += acc;
            bbar[(t + 1) * K + i] += acc;
        }
        cbar[t + 1] -= sb;
    }
    /* Reverse of the forward recursion: t = T-1 .. 0. */
    double lbar[KMAX];
    for (size_t t = T; t-- > 0;) {
        double sa = 0;
        for (int k = 0; k < K; k++) sa += abar[t * K + k];
        double ctot = cbar[t] - sa;
        for (int k = 0; k < K; k++) lbar[k] = abar[t * K + k] + ctot * exp(la[t * K + k]);
        if (t == 0) {
            for (int k = 0; k < K; k++) {
                ge[k] += lbar[k];
                glpi[k] += lbar[k];
            }
            break;
        }
        const double *St = S + t * K * K, *prev = la + (t - 1) * K;
        for (int i = 0; i < K; i++) {
            ge[t * K + i] += lbar[i];
            for (int j = 0; j < K; j++) tmp[j] = St[i * K + j] + prev[j];
            double m = lse(tmp, K);
            for (int j = 0; j < K; j++) {
                double g = lbar[i] * exp(tmp[j] - m);
                gS[t * K * K + i * K + j] += g;
                abar[(t - 1) * K + j] += g;
            }
        }
    }
    free(cbar);
    return NDYN_OK;
}

int ndyn_srnn_viterbi(const double *lpi, const double *S, const double *e, size_t T, int K,
                      int *path, double *logjoint)
{
    if (K < 1 || K > KMAX || T < 1) return ndyn_error(NDYN_EINVAL, "viterbi: bad K or T");
    double *d = ndyn_malloc_array(T * (size_t)K, sizeof(double));
    int *bp = ndyn_malloc_array(T * (size_t)K, sizeof(int));
    if (!d || !bp) {
        free(d);
        free(bp);
        return NDYN_ENOMEM;
    }
    for (int k = 0; k < K; k++) d[k] = lpi[k] + e[k];
    for (size_t t = 1; t < T; t++)
        for (int i = 0; i < K; i++) {
            double best = -INFINITY;
            int arg = 0;
            for (int j = 0; j < K; j++) {
                double v = d[(t - 1) * K + j] + S[t * K * K + i * K + j];
                if (v > best) best = v, arg = j;
            }
            d[t * K + i] = best + e[t * K + i];
            bp[t * K + i] = arg;
        }
    int arg = 0;
    for (int k = 1; k < K; k++)
        if (d[(T - 1) * K + k] > d[(T - 1) * K + arg]) arg = k;
    if (logjoint) *logjoint = d[(T - 1) * K + arg];
    path[T - 1] = arg;
    for (size_t t = T - 1; t > 0; t--) path[t - 1] = bp[t * K + path[t]];
    free(d);
    free(bp);
    return NDYN_OK;
}
