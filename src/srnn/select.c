/* Choosing the number of states K by held-out ELBO (docs/srnn.md, "Choosing
 * K"): the gain rule, removing a state from a fitted model, and the sweep
 * over K with warm starts from the next larger model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "srnn_internal.h"

void ndyn_srnn_select_params_default(ndyn_srnn_select_params *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->kmin = 1;
    sp->kmax = 4;
    sp->gain_frac = 0.8;
    sp->warm_start = 1;
    sp->warm_epochs = 0;
    sp->warm_lr = 0;
    sp->keep_model = 1;
}

int ndyn_srnn_choose_k_rule(const double *elbo, int kmin, int kmax, double frac, int *chosen, int *best)
{
    if (!elbo) return ndyn_error(NDYN_EINVAL, "srnn choose K: no held-out ELBOs");
    if (kmin < 1 || kmax < kmin)
        return ndyn_error(NDYN_EINVAL, "srnn choose K: the range %d-%d is empty or starts below 1; give 1 <= kmin <= kmax",
                          kmin, kmax);
    if (!(frac > 0 && frac <= 1))
        return ndyn_error(NDYN_EINVAL, "srnn choose K: the gain fraction must be in (0, 1], got %g", frac);
    int n = kmax - kmin + 1, b = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(elbo[i]))
            return ndyn_error(NDYN_ENONFINITE, "srnn choose K: the held-out ELBO of K = %d is not finite", kmin + i);
        if (elbo[i] > elbo[b]) b = i;
    }
    double top = elbo[b] - elbo[0];
    int c = 0;
    if (top > 0)
        for (c = 0; c < b; c++)
            if (elbo[c] - elbo[0] >= frac * top) break;
    if (chosen) *chosen = kmin + c;
    if (best) *best = kmin + b;
    return NDYN_OK;
}

int ndyn_srnn_remove_state(const ndyn_srnn_model *m, int k, ndyn_srnn_model **out)
{
    *out = NULL;
    if (!m) return ndyn_error(NDYN_EINVAL, "srnn remove state: no model");
    int K = m->p.K;
    if (K < 2) return ndyn_error(NDYN_EINVAL, "srnn remove state: the model has K = %d; need K >= 2", K);
    if (k < 0 || k >= K)
        return ndyn_error(NDYN_EINVAL, "srnn remove state: state %d is not one of the model's 0..%d", k, K - 1);
    ndyn_srnn_params q = m->p;
    q.K = K - 1;
    q.heldout = m->heldout;
    q.n_heldout = m->n_heldout;
    ndyn_srnn_model *r = NULL;
    int rc = ndyn_srnn_model_new(&q, m->N, &r);
    if (rc) return rc;
    srnn_layout lo, ln;
    srnn_layout_make(&m->p, m->N, &lo);
    srnn_layout_make(&r->p, r->N, &ln);
    const double *a = m->theta;
    double *b = r->theta;
    size_t H = (size_t)lo.H, Kn = (size_t)K - 1;
    /* blocks indexed by one state: pi (K), dyn_W (K, H, H), dyn_b (K, H), h0_mu (K, H) */
    for (size_t i = 0, o = 0; i < (size_t)K; i++) {
        if (i == (size_t)k) continue;
        b[ln.pi + o] = a[lo.pi + i];
        memcpy(b + ln.dyn_W + o * H * H, a + lo.dyn_W + i * H * H, H * H * sizeof(double));
        memcpy(b + ln.dyn_b + o * H, a + lo.dyn_b + i * H, H * sizeof(double));
        if (lo.n_h0) memcpy(b + ln.h0_mu + o * H, a + lo.h0_mu + i * H, H * sizeof(double));
        o++;
    }
    /* transition blocks indexed by (to i, from j): trans_W (K, K, H), trans_b, trans_B (K, K) */
    for (size_t i = 0, oi = 0; i < (size_t)K; i++) {
        if (i == (size_t)k) continue;
        for (size_t j = 0, oj = 0; j < (size_t)K; j++) {
            if (j == (size_t)k) continue;
            size_t qo = i * (size_t)K + j, qn = oi * Kn + oj;
            memcpy(b + ln.trans_W + qn * H, a + lo.trans_W + qo * H, H * sizeof(double));
            b[ln.trans_b + qn] = a[lo.trans_b + qo];
            if (lo.n_trans_B) b[ln.trans_B + qn] = a[lo.trans_B + qo];
            oj++;
        }
        oi++;
    }
    /* the rest does not depend on K and lies in one run from h0_logvar to the end */
    memcpy(b + ln.h0_logvar, a + lo.h0_logvar, (lo.n - lo.h0_logvar) * sizeof(double));
    *out = r;
    return NDYN_OK;
}

void ndyn_srnn_selection_free(ndyn_srnn_selection *s)
{
    if (!s) return;
    free(s->heldout_elbo);
    free(s->heldout_trial);
    free(s->train_elbo);
    free(s->fresh_heldout_elbo);
    free(s->fresh_train_elbo);
    free(s->warm_heldout_elbo);
    free(s->warm_train_elbo);
    free(s->warm);
    free(s->removed);
    free(s->state_error);
    free(s->fresh_state_error);
    ndyn_srnn_model_free(s->model);
    free(s);
}

/* Held-out ELBO per step (sum over trials / steps) and per trial (n_trials of h). */
static int heldout_score(const ndyn_srnn_model *m, const ndyn_srnn_data *h, double *per_step, double *per_trial,
                         double *state_error)
{
    ndyn_srnn_result *r = NULL;
    int rc = ndyn_srnn_infer(m, h, &r);
    if (rc) return rc;
    double s = 0, steps = 0;
    for (size_t i = 0; i < h->n_trials; i++) {
        per_trial[i] = r->elbo[i];
        s += r->elbo[i];
        steps += (double)h->T[i];
    }
    *per_step = s / steps;
    *state_error = r->state_error;
    ndyn_srnn_result_free(r);
    return NDYN_OK;
}

/* The state with the smallest posterior mass over the trials of d. */
static int least_used_state(const ndyn_srnn_model *m, const ndyn_srnn_data *d, int *k)
{
    ndyn_srnn_result *r = NULL;
    int rc = ndyn_srnn_infer(m, d, &r);
    if (rc) return rc;
    int K = (int)r->K;
    double mass[64] = {0};
    for (size_t t = 0; t < r->total_T; t++)
        for (int j = 0; j < K; j++) mass[j] += r->posterior[t * K + j];
    int best = 0;
    for (int j = 1; j < K; j++)
        if (mass[j] < mass[best]) best = j;
    *k = best;
    ndyn_srnn_result_free(r);
    return NDYN_OK;
}

/* The lr of the last epoch of a fresh fit's StepLR schedule. */
static double final_lr(const ndyn_srnn_params *p)
{
    int init = p->init != NDYN_SRNN_INIT_NONE && p->init_epochs > 0 ? p->init_epochs : 0;
    int last = (p->fresh_optimizer && init ? p->epochs : init + p->epochs) - 1;
    if (last < 0) last = 0;
    return p->lr * pow(p->lr_gamma, (double)(last / p->lr_step));
}

static int selection_alloc(ndyn_srnn_selection *s)
{
    size_t n = s->n_k;
    s->heldout_elbo = ndyn_malloc_array(n, sizeof(double));
    s->heldout_trial = ndyn_malloc_array(n * (s->n_heldout ? s->n_heldout : 1), sizeof(double));
    s->train_elbo = ndyn_malloc_array(n, sizeof(double));
    s->fresh_heldout_elbo = ndyn_malloc_array(n, sizeof(double));
    s->fresh_train_elbo = ndyn_malloc_array(n, sizeof(double));
    s->warm_heldout_elbo = ndyn_malloc_array(n, sizeof(double));
    s->warm_train_elbo = ndyn_malloc_array(n, sizeof(double));
    s->warm = ndyn_calloc(n, sizeof(int));
    s->removed = ndyn_malloc_array(n, sizeof(int));
    s->state_error = ndyn_malloc_array(n, sizeof(double));
    s->fresh_state_error = ndyn_malloc_array(n, sizeof(double));
    if (!s->heldout_elbo || !s->heldout_trial || !s->train_elbo || !s->fresh_heldout_elbo || !s->fresh_train_elbo ||
        !s->warm_heldout_elbo || !s->warm_train_elbo || !s->warm || !s->removed || !s->state_error ||
        !s->fresh_state_error)
        return NDYN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s->warm_heldout_elbo[i] = s->warm_train_elbo[i] = NAN;
        s->removed[i] = -1;
    }
    return NDYN_OK;
}

int ndyn_srnn_choose_k(const ndyn_srnn_data *d, const ndyn_srnn_data *heldout, const ndyn_srnn_params *p,
                       const ndyn_srnn_select_params *sp, ndyn_srnn_selection **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "srnn choose K: no output pointer");
    *out = NULL;
    if (!d || !p || !sp) return ndyn_error(NDYN_EINVAL, "srnn choose K: data, params and select params are required");
    if (sp->kmin < 1 || sp->kmax < sp->kmin || sp->kmax > 64)
        return ndyn_error(NDYN_EINVAL, "srnn choose K: the range of K is %d-%d; give 1 <= kmin <= kmax <= 64", sp->kmin,
                          sp->kmax);
    if (!(sp->gain_frac > 0 && sp->gain_frac <= 1))
        return ndyn_error(NDYN_EINVAL, "srnn choose K: the gain fraction must be in (0, 1], got %g", sp->gain_frac);
    if (sp->warm_epochs < 0) return ndyn_error(NDYN_EINVAL, "srnn choose K: warm_epochs must be >= 0 (0 = half of epochs)");
    if (!(sp->warm_lr >= 0) || !isfinite(sp->warm_lr))
        return ndyn_error(NDYN_EINVAL, "srnn choose K: warm_lr must be >= 0 (0 = the end of the schedule), got %g", sp->warm_lr);
    ndyn_srnn_params pk = *p;
    pk.K = sp->kmin;
    pk.test_trials = 0;
    int rc = ndyn_srnn_check_params(&pk);
    if (rc) return rc;
    /* the split: training trials tr, held-out trials ho */
    ndyn_srnn_data tr = *d, ho;
    if (heldout) {
        if (p->test_trials != 0)
            return ndyn_error(NDYN_EINVAL, "srnn choose K: held-out trials were given and test_trials is %d; use one or the other",
                              p->test_trials);
        ho = *heldout;
    } else {
        if (p->test_trials < 1 || (size_t)p->test_trials >= d->n_trials)
            return ndyn_error(NDYN_EINVAL, "srnn choose K: needs held-out trials: set test_trials in 1..%zu (now %d) "
                              "or pass held-out data", d->n_trials ? d->n_trials - 1 : 0, p->test_trials);
        size_t nte = (size_t)p->test_trials;
        ho = *d;
        ho.n_trials = nte;
        tr.n_trials = d->n_trials - nte;
        tr.T = d->T + nte;
        tr.y = d->y + nte;
        tr.labels = d->labels ? d->labels + nte : NULL;
    }
    if (!rc) rc = ndyn_srnn_check_data(&tr, &pk);
    if (!rc) rc = ndyn_srnn_check_data(&ho, &pk);
    if (!rc && ho.N != tr.N)
        rc = ndyn_error(NDYN_ESHAPE, "srnn choose K: held-out trials have %zu channels, training trials %zu", ho.N, tr.N);
    if (rc) return rc;
    ndyn_srnn_selection *s = ndyn_calloc(1, sizeof *s);
    if (!s) return NDYN_ENOMEM;
    s->kmin = sp->kmin, s->kmax = sp->kmax;
    s->n_k = (size_t)(sp->kmax - sp->kmin + 1);
    s->n_heldout = ho.n_trials;
    rc = selection_alloc(s);
    ndyn_srnn_model **kept = rc ? NULL : ndyn_calloc(s->n_k, sizeof *kept);
    if (!rc && !kept) rc = NDYN_ENOMEM;
    double *trial = rc ? NULL : ndyn_malloc_array(ho.n_trials, sizeof(double));
    if (!rc && !trial) rc = NDYN_ENOMEM;
    double lr_w = sp->warm_lr > 0 ? sp->warm_lr : final_lr(p);
    int ep_w = sp->warm_epochs > 0 ? sp->warm_epochs : (p->epochs / 2 > 0 ? p->epochs / 2 : 1);
    for (int K = sp->kmax; !rc && K >= sp->kmin; K--) {
        size_t i = (size_t)(K - sp->kmin);
        pk.K = K;
        ndyn_srnn_model *mf = NULL, *mw = NULL;
        rc = ndyn_srnn_fit(&tr, &pk, &mf);
        if (!rc) rc = heldout_score(mf, &ho, &s->fresh_heldout_elbo[i], s->heldout_trial + i * ho.n_trials,
                                   &s->fresh_state_error[i]);
        if (rc) {
            ndyn_srnn_model_free(mf);
            break;
        }
        s->fresh_train_elbo[i] = mf->train_elbo;
        int keep_warm = 0;
        double err_w = NAN;
        if (sp->warm_start && K < sp->kmax) {
            ndyn_srnn_model *big = kept[i + 1], *cut = NULL;
            int r;
            rc = least_used_state(big, &tr, &r);
            if (!rc) rc = ndyn_srnn_remove_state(big, r, &cut);
            if (!rc) {
                ndyn_srnn_params pw = pk;
                pw.init = NDYN_SRNN_INIT_NONE;
                pw.init_epochs = 0;
                pw.epochs = ep_w;
                pw.lr = lr_w;
                pw.restarts = 1;
                pw.seed = p->seed + 7919ull * (uint64_t)K + 1; /* its own noise draws */
                rc = srnn_fit_from(&tr, &pw, cut->theta, &mw);
                if (rc == NDYN_ECONVERGE || rc == NDYN_ENONFINITE) { /* a diverged warm fit leaves the fresh one */
                    ndyn_warn("srnn choose K: the warm fit of K = %d diverged (%s); keeping the fresh fit", K,
                              ndyn_errmsg());
                    ndyn_error_clear();
                    rc = NDYN_OK;
                }
            }
            ndyn_srnn_model_free(cut);
            if (!rc && mw) rc = heldout_score(mw, &ho, &s->warm_heldout_elbo[i], trial, &err_w);
            if (rc) {
                ndyn_srnn_model_free(mf);
                ndyn_srnn_model_free(mw);
                break;
            }
            s->removed[i] = r;
            if (mw) {
                s->warm_train_elbo[i] = mw->train_elbo;
                keep_warm = mw->train_elbo > mf->train_elbo;
            }
        }
        if (keep_warm) {
            memcpy(s->heldout_trial + i * ho.n_trials, trial, ho.n_trials * sizeof(double));
            s->heldout_elbo[i] = s->warm_heldout_elbo[i];
            ndyn_srnn_model_free(mf);
            kept[i] = mw;
        } else {
            s->heldout_elbo[i] = s->fresh_heldout_elbo[i];
            ndyn_srnn_model_free(mw);
            kept[i] = mf;
        }
        s->warm[i] = keep_warm;
        s->state_error[i] = keep_warm ? err_w : s->fresh_state_error[i];
        s->train_elbo[i] = kept[i]->train_elbo;
        kept[i]->test_elbo = s->heldout_elbo[i];
    }
    if (!rc) rc = ndyn_srnn_choose_k_rule(s->heldout_elbo, s->kmin, s->kmax, sp->gain_frac, &s->chosen, &s->best);
    if (!rc) rc = ndyn_srnn_choose_k_rule(s->fresh_heldout_elbo, s->kmin, s->kmax, sp->gain_frac, &s->fresh_chosen, NULL);
    free(trial);
    if (kept) {
        if (!rc && sp->keep_model) {
            s->model = kept[s->chosen - s->kmin];
            kept[s->chosen - s->kmin] = NULL;
        }
        for (size_t i = 0; i < s->n_k; i++) ndyn_srnn_model_free(kept[i]);
        free(kept);
    }
    if (rc) {
        ndyn_srnn_selection_free(s);
        return rc;
    }
    *out = s;
    return NDYN_OK;
}
