/* Trial data for SRNN: validation, grouping of equal-length trials into
 * batches and the time-major gather; the public objective on a data set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "srnn_internal.h"

int ndyn_srnn_check_data(const ndyn_srnn_data *d, const ndyn_srnn_params *p)
{
    if (!d) return ndyn_error(NDYN_EINVAL, "srnn: data is NULL");
    if (d->n_trials < 1) return ndyn_error(NDYN_EINVAL, "srnn: no trials; give y (trials, T, N) with at least one trial");
    if (d->N < 1) return ndyn_error(NDYN_ESHAPE, "srnn: trials have 0 channels; y must be (trials, T, N) with N >= 1");
    if (!d->T || !d->y) return ndyn_error(NDYN_EINVAL, "srnn: data without T or y");
    for (size_t i = 0; i < d->n_trials; i++) {
        if (d->T[i] < 2)
            return ndyn_error(NDYN_ESHAPE, "srnn: trial %zu has %zu time steps; need T >= 2", i, d->T[i]);
        if (!d->y[i]) return ndyn_error(NDYN_EINVAL, "srnn: trial %zu has no data", i);
        size_t n;
        if (ndyn_size_mul(d->T[i], d->N, &n)) return NDYN_ENOMEM;
        for (size_t q = 0; q < n; q++) {
            double v = d->y[i][q];
            if (!isfinite(v))
                return ndyn_error(NDYN_ENONFINITE, "srnn: y of trial %zu has a non-finite value at time %zu, channel %zu; remove or interpolate NaN/Inf",
                                  i, q / d->N, q % d->N);
            if (p && p->emission == NDYN_SRNN_POISSON && v < 0)
                return ndyn_error(NDYN_EINVAL, "srnn: Poisson emissions need counts >= 0; trial %zu has %g at time %zu, channel %zu (use --emission gaussian for rates or z-scored data)",
                                  i, v, q / d->N, q % d->N);
        }
        if (d->labels && d->labels[i])
            for (size_t t = 0; t < d->T[i]; t++)
                if (d->labels[i][t] < 0 || (d->n_labels > 0 && d->labels[i][t] >= d->n_labels))
                    return ndyn_error(NDYN_EINVAL, "srnn: label %d at trial %zu, time %zu is out of range 0..%d",
                                      d->labels[i][t], i, t, d->n_labels > 0 ? d->n_labels - 1 : 1 << 30);
    }
    return NDYN_OK;
}

int srnn_make_groups(const ndyn_srnn_data *d, const size_t *trials, size_t n, size_t max_b,
                     srnn_group **out, size_t *ng)
{
    *out = NULL;
    *ng = 0;
    srnn_group *g = ndyn_calloc(n ? n : 1, sizeof *g);
    char *used = ndyn_calloc(n ? n : 1, 1);
    if (!g || !used) {
        free(g);
        free(used);
        return NDYN_ENOMEM;
    }
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        if (used[i]) continue;
        size_t T = d->T[trials[i]], m = 0;
        for (size_t j = i; j < n; j++)
            if (!used[j] && d->T[trials[j]] == T) m++;
        size_t chunk = max_b && max_b < m ? max_b : m;
        size_t j = i;
        while (m > 0) {
            size_t bsz = chunk < m ? chunk : m;
            size_t *idx = ndyn_malloc_array(bsz, sizeof(size_t));
            if (!idx) {
                srnn_groups_free(g, cnt);
                free(used);
                return NDYN_ENOMEM;
            }
            size_t f = 0;
            for (; j < n && f < bsz; j++)
                if (!used[j] && d->T[trials[j]] == T) idx[f++] = trials[j], used[j] = 1;
            g[cnt].T = T;
            g[cnt].B = bsz;
            g[cnt].idx = idx;
            cnt++;
            m -= bsz;
        }
    }
    free(used);
    *out = g;
    *ng = cnt;
    return NDYN_OK;
}

void srnn_groups_free(srnn_group *g, size_t ng)
{
    if (!g) return;
    for (size_t i = 0; i < ng; i++) free(g[i].idx);
    free(g);
}

void srnn_gather(const ndyn_srnn_data *d, const srnn_group *g, double *y)
{
    size_t N = d->N;
    for (size_t b = 0; b < g->B; b++) {
        const double *src = d->y[g->idx[b]];
        for (size_t t = 0; t < g->T; t++) memcpy(y + (t * g->B + b) * N, src + t * N, N * sizeof(double));
    }
}

int ndyn_srnn_objective(const ndyn_srnn_model *m, const ndyn_srnn_data *d, const double *eps,
                        const double *P, double coef, double *J, double *grad)
{
    int rc = ndyn_srnn_check_data(d, NULL);
    if (rc) return rc;
    if (d->N != m->N) return ndyn_error(NDYN_ESHAPE, "srnn: data have %zu channels, the model %zu", d->N, m->N);
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    size_t n = d->n_trials, H = l.H, K = l.K;
    size_t *off = ndyn_malloc_array(n + 1, sizeof(size_t)), *all = ndyn_malloc_array(n, sizeof(size_t));
    if (!off || !all) {
        free(off);
        free(all);
        return NDYN_ENOMEM;
    }
    off[0] = 0;
    for (size_t i = 0; i < n; i++) off[i + 1] = off[i] + d->T[i], all[i] = i;
    srnn_group *g = NULL;
    size_t ng = 0;
    rc = srnn_make_groups(d, all, n, 0, &g, &ng);
    if (grad) memset(grad, 0, m->n_theta * sizeof(double));
    *J = 0;
    for (size_t gi = 0; !rc && gi < ng; gi++) {
        size_t B = g[gi].B, T = g[gi].T;
        srnn_ws *w = srnn_ws_alloc(&l, B, T);
        double *y = ndyn_malloc_array(T * B * d->N, sizeof(double));
        double *e = eps ? ndyn_malloc_array(T * B * H, sizeof(double)) : NULL;
        double *Pt = P ? ndyn_malloc_array(T * B * K, sizeof(double)) : NULL;
        if (!w || !y || (eps && !e) || (P && !Pt)) rc = NDYN_ENOMEM;
        if (!rc) {
            srnn_gather(d, &g[gi], y);
            for (size_t b = 0; b < B; b++)
                for (size_t t = 0; t < T; t++) {
                    size_t src = off[g[gi].idx[b]] + t;
                    if (e) memcpy(e + (t * B + b) * H, eps + src * H, H * sizeof(double));
                    if (Pt) memcpy(Pt + (t * B + b) * K, P + src * K, K * sizeof(double));
                }
            double Jg;
            rc = (m->p.precision == NDYN_SRNN_F32 ? srnn_batch_f32 : srnn_batch)(m, &l, w, y, e, Pt, coef,
                                                                                 &Jg, NULL, NULL, grad);
            if (!rc) *J += Jg;
        }
        srnn_ws_free(w);
        free(y);
        free(e);
        free(Pt);
    }
    srnn_groups_free(g, ng);
    free(off);
    free(all);
    return rc;
}
