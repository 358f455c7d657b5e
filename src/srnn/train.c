/* SRNN training (spec §6): labels for the initialisation stage, stage 1
 * (-(ELBO + coef_cross * CE)), stage 2 (-ELBO), Adam with StepLR sharing or
 * not its state across stages, full batch or minibatches of trials, seeded
 * restarts keeping the best ELBO (held-out when test trials are given), and
 * training from given weights (srnn_fit_from, for src/srnn/select.c). The
 * loss is the per-time-step mean -J / (trials * T) (spec §5.1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "ndyn/nn.h"
#include "srnn_internal.h"

typedef struct {
    srnn_group g;
    srnn_ws *w;
    double *y, *eps, *P;
} batch;

static void free_batches(batch *b, size_t n)
{
    if (!b) return;
    for (size_t i = 0; i < n; i++) {
        srnn_ws_free(b[i].w);
        free(b[i].y);
        free(b[i].eps);
        free(b[i].P);
        free(b[i].g.idx);
    }
    free(b);
}

/* P_full (total over all trials of d, K) indexed by trial offsets off; NULL = no labels */
static int make_batches(const srnn_layout *l, const ndyn_srnn_data *d, const size_t *trials, size_t n,
                        size_t max_b, const double *P_full, const size_t *off, batch **out, size_t *nb)
{
    srnn_group *g;
    size_t ng;
    int rc = srnn_make_groups(d, trials, n, max_b, &g, &ng);
    if (rc) return rc;
    batch *b = ndyn_calloc(ng ? ng : 1, sizeof *b);
    if (!b) {
        srnn_groups_free(g, ng);
        return NDYN_ENOMEM;
    }
    size_t K = l->K, H = l->H;
    for (size_t i = 0; i < ng; i++) {
        b[i].g = g[i];
        size_t TB = g[i].T * g[i].B;
        b[i].w = srnn_ws_alloc(l, g[i].B, g[i].T);
        b[i].y = ndyn_malloc_array(TB * d->N, sizeof(double));
        b[i].eps = ndyn_malloc_array(TB * H, sizeof(double));
        if (P_full) b[i].P = ndyn_malloc_array(TB * K, sizeof(double));
        if (!b[i].w || !b[i].y || !b[i].eps || (P_full && !b[i].P)) rc = NDYN_ENOMEM;
        if (rc) continue;
        srnn_gather(d, &g[i], b[i].y);
        if (P_full)
            for (size_t bb = 0; bb < g[i].B; bb++)
                for (size_t t = 0; t < g[i].T; t++)
                    memcpy(b[i].P + (t * g[i].B + bb) * K, P_full + (off[g[i].idx[bb]] + t) * K, K * sizeof(double));
    }
    free(g); /* idx arrays now owned by the batches */
    *out = b;
    *nb = ng;
    if (rc) {
        free_batches(b, ng);
        *out = NULL;
    }
    return rc;
}

static void draw(ndyn_rng *r, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = ndyn_rng_normal(r);
}

/* Mean over `samples` draws of the summed ELBO of the batches, per time step. */
static int eval_elbo(const ndyn_srnn_model *m, const srnn_layout *l, batch *b, size_t nb, int samples,
                     ndyn_rng *r, double *out)
{
    double tot = 0, steps = 0;
    for (size_t i = 0; i < nb; i++) {
        size_t TB = b[i].g.T * b[i].g.B;
        steps += (double)TB;
        double acc = 0;
        for (int s = 0; s < samples; s++) {
            draw(r, b[i].eps, TB * l->H);
            double J;
            int rc = srnn_batch(m, l, b[i].w, b[i].y, b[i].eps, NULL, 0, &J, NULL, NULL, NULL);
            if (rc) return rc;
            acc += J;
        }
        tot += acc / samples;
    }
    *out = tot / steps;
    return NDYN_OK;
}

static int hist_push(ndyn_srnn_history *h, size_t *cap, int epoch, double loss, double tr, double te,
                     double lr, int stage)
{
    if (h->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        int *e = realloc(h->epoch, nc * sizeof(int)), *st;
        if (!e) return ndyn_error(NDYN_ENOMEM, "srnn: out of memory for the history");
        h->epoch = e;
        double *a = realloc(h->loss, nc * sizeof(double));
        if (!a) return NDYN_ENOMEM;
        h->loss = a;
        a = realloc(h->train_elbo, nc * sizeof(double));
        if (!a) return NDYN_ENOMEM;
        h->train_elbo = a;
        a = realloc(h->test_elbo, nc * sizeof(double));
        if (!a) return NDYN_ENOMEM;
        h->test_elbo = a;
        a = realloc(h->lr, nc * sizeof(double));
        if (!a) return NDYN_ENOMEM;
        h->lr = a;
        st = realloc(h->stage, nc * sizeof(int));
        if (!st) return NDYN_ENOMEM;
        h->stage = st;
        *cap = nc;
    }
    h->epoch[h->n] = epoch;
    h->loss[h->n] = loss;
    h->train_elbo[h->n] = tr;
    h->test_elbo[h->n] = te;
    h->lr[h->n] = lr;
    h->stage[h->n] = stage;
    h->n++;
    return NDYN_OK;
}

/* Initialisation targets P (total_T of d, K) for the training trials. */
static int init_targets(const ndyn_srnn_data *d, const ndyn_srnn_params *p, const size_t *off,
                        const size_t *train, size_t ntr, uint64_t seed, double *P)
{
    int K = p->K;
    size_t tot = off[d->n_trials];
    memset(P, 0, tot * K * sizeof(double));
    int *lab = ndyn_calloc(tot ? tot : 1, sizeof(int));
    if (!lab) return NDYN_ENOMEM;
    int rc = NDYN_OK;
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0x1417);
    /* sub-data of the training trials */
    size_t *Ts = ndyn_malloc_array(ntr, sizeof(size_t));
    const double **ys = ndyn_malloc_array(ntr, sizeof(double *));
    if (!Ts || !ys) rc = NDYN_ENOMEM;
    size_t ttot = 0;
    for (size_t i = 0; !rc && i < ntr; i++) Ts[i] = d->T[train[i]], ys[i] = d->y[train[i]], ttot += Ts[i];
    int *tl = rc ? NULL : ndyn_calloc(ttot ? ttot : 1, sizeof(int));
    if (!rc && !tl) rc = NDYN_ENOMEM;
    if (!rc) {
        ndyn_srnn_data sd = {ntr, d->N, Ts, ys, NULL, 0};
        switch (p->init) {
        case NDYN_SRNN_INIT_KMEANS: {
            double *x = ndyn_malloc_array(ttot * d->N, sizeof(double));
            if (!x) { rc = NDYN_ENOMEM; break; }
            size_t o = 0;
            for (size_t i = 0; i < ntr; i++) memcpy(x + o * d->N, ys[i], Ts[i] * d->N * sizeof(double)), o += Ts[i];
            ndyn_kmeans_params kp;
            ndyn_kmeans_params_default(&kp, K);
            kp.seed = seed;
            rc = ndyn_kmeans(x, ttot, d->N, &kp, NULL, tl, NULL);
            free(x);
            break;
        }
        case NDYN_SRNN_INIT_HMM:
            rc = srnn_hmm_labels(&sd, K, p->hmm_iters, seed, tl);
            break;
        case NDYN_SRNN_INIT_RANDOM: {
            size_t o = 0;
            for (size_t i = 0; !rc && i < ntr; i++) {
                for (size_t t = 0; t < Ts[i]; t++) tl[o + t] = (int)ndyn_rng_below(&r, K);
                rc = ndyn_hmm_reorder_states(tl + o, Ts[i], K, NULL);
                o += Ts[i];
            }
            break;
        }
        case NDYN_SRNN_INIT_BLOCKS: {
            size_t o = 0;
            for (size_t i = 0; i < ntr; i++) {
                size_t blk = Ts[i] / K;
                for (size_t t = 0; t < Ts[i]; t++) {
                    size_t k = blk ? t / blk : 0;
                    tl[o + t] = k < (size_t)K ? (int)k : 0;
                }
                o += Ts[i];
            }
            break;
        }
        case NDYN_SRNN_INIT_LABELS: {
            if (!d->labels) { rc = ndyn_error(NDYN_EINVAL, "srnn: init 'labels' needs labels in the data"); break; }
            size_t o = 0;
            for (size_t i = 0; i < ntr && !rc; i++) {
                const int *lb = d->labels[train[i]];
                if (!lb) { rc = ndyn_error(NDYN_EINVAL, "srnn: init 'labels': trial %zu has no labels", train[i]); break; }
                for (size_t t = 0; t < Ts[i]; t++) {
                    if (lb[t] >= K) { rc = ndyn_error(NDYN_EINVAL, "srnn: init 'labels': label %d >= K = %d; use K >= the number of label classes", lb[t], K); break; }
                    tl[o + t] = lb[t];
                }
                o += Ts[i];
            }
            break;
        }
        default:
            break;
        }
    }
    if (!rc) {
        size_t o = 0;
        for (size_t i = 0; i < ntr; i++) {
            double *Pi = P + off[train[i]] * K;
            for (size_t t = 0; t < Ts[i]; t++) {
                if (p->init == NDYN_SRNN_INIT_UNIFORM)
                    for (int k = 0; k < K; k++) Pi[t * K + k] = 1.0 / K;
                else
                    Pi[t * K + tl[o + t]] = 1.0;
            }
            o += Ts[i];
        }
    }
    free(tl);
    free(Ts);
    free(ys);
    free(lab);
    return rc;
}

/* The nn engine's Adam and StepLR over one tensor holding all of theta; the
 * model keeps theta, the store a copy the optimiser updates. Frozen entries
 * (fixed variances) have zero gradient, so Adam leaves them where they are. */
typedef struct {
    ndyn_nn_store *s;
    ndyn_nn_optim *o;
    ndyn_nn_sched sched;
} optimiser;

static void optimiser_free(optimiser *a)
{
    ndyn_nn_optim_free(a->o);
    ndyn_nn_store_free(a->s);
}

static int optimiser_make(optimiser *a, const ndyn_srnn_params *p, const double *theta, size_t n)
{
    memset(a, 0, sizeof *a);
    a->s = ndyn_nn_store_new();
    if (!a->s) return NDYN_ENOMEM;
    int rc = ndyn_nn_store_add(a->s, "theta", 1, &n, 0, NULL);
    if (rc) return rc;
    memcpy(a->s->data, theta, n * sizeof(double));
    ndyn_nn_optim_params op;
    ndyn_nn_optim_params_default(&op, NDYN_NN_ADAM);
    op.lr = p->lr;
    rc = ndyn_nn_optim_alloc(&op, a->s, &a->o);
    if (rc) return rc;
    ndyn_nn_steplr_init(&a->sched, p->lr_step, p->lr_gamma);
    return NDYN_OK;
}

/* Forget the moments and the schedule (a fresh optimiser for stage 2). */
static void optimiser_restart(optimiser *a)
{
    ndyn_nn_optim_reset(a->o);
    a->o->p.lr = a->o->initial_lr;
    a->sched.last_epoch = 0;
}

/* One step along -g (g is the gradient of the loss), clipped to a norm of
 * clip when clip > 0; theta (n) receives the new parameters. */
static int optimiser_step(optimiser *a, const double *g, double clip, double *theta)
{
    size_t n = a->s->size;
    memcpy(a->s->grad, g, n * sizeof(double));
    int rc = clip > 0 ? ndyn_nn_clip_grad_norm(a->s, clip, NULL) : NDYN_OK;
    if (!rc) rc = ndyn_nn_optim_step(a->o, a->s);
    if (rc == NDYN_ENONFINITE)
        return ndyn_error(NDYN_ECONVERGE, "srnn: the gradient became non-finite at step %lld; lower --lr "
                          "(now %g) or standardise the data", (long long)a->o->t + 1, a->o->p.lr);
    if (!rc) memcpy(theta, a->s->data, n * sizeof(double));
    return rc;
}

static int fit_one(const ndyn_srnn_data *d, const ndyn_srnn_params *p, const size_t *off,
                   const size_t *train, size_t ntr, const size_t *test, size_t nte, int restart,
                   const double *theta0, ndyn_srnn_model **out, double *score)
{
    ndyn_srnn_params pr = *p;
    pr.seed = p->seed + 1000003ull * (uint64_t)restart;
    ndyn_srnn_model *m;
    int rc = ndyn_srnn_model_new(&pr, d->N, &m);
    if (rc) return rc;
    m->p.seed = p->seed; /* the user's seed is what the file records */
    if (theta0) memcpy(m->theta, theta0, m->n_theta * sizeof(double));
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    size_t tot = off[d->n_trials], K = l.K;
    int do_init = !theta0 && p->init != NDYN_SRNN_INIT_NONE && p->init_epochs > 0;
    double *P = do_init ? ndyn_malloc_array(tot * K, sizeof(double)) : NULL;
    if (do_init && !P) rc = NDYN_ENOMEM;
    if (!rc && do_init) rc = init_targets(d, &m->p, off, train, ntr, pr.seed, P);
    batch *tb = NULL, *eb = NULL;
    size_t ntb = 0, neb = 0;
    if (!rc) rc = make_batches(&l, d, train, ntr, (size_t)p->batch_trials, P, off, &tb, &ntb);
    if (!rc && nte) rc = make_batches(&l, d, test, nte, 0, NULL, off, &eb, &neb);
    free(P);
    double *g = ndyn_calloc(m->n_theta, sizeof(double)), *gacc = ndyn_calloc(m->n_theta, sizeof(double));
    optimiser opt;
    int orc = optimiser_make(&opt, p, m->theta, m->n_theta);
    if (!rc) rc = orc;
    size_t *order = ndyn_malloc_array(ntb ? ntb : 1, sizeof(size_t));
    if (!rc && (!g || !gacc || !order)) rc = NDYN_ENOMEM;
    ndyn_rng r, re; /* training draws; evaluation draws (so eval_every does not change training) */
    ndyn_rng_init(&r, pr.seed, 0xE95);
    ndyn_rng_init(&re, pr.seed, 0xE7A);
    size_t hcap = 0;
    double steps_train = 0;
    for (size_t i = 0; i < ntr; i++) steps_train += (double)d->T[train[i]];
    int e1 = do_init ? p->init_epochs : 0, total_epochs = e1 + p->epochs;
    ndyn_progress prog;
    char label[64];
    snprintf(label, sizeof label, p->restarts > 1 ? "srnn fit (restart %d)" : "srnn fit", restart + 1);
    ndyn_progress_begin(&prog, label, (size_t)total_epochs);
    for (int ep = 0; !rc && ep < total_epochs; ep++) {
        int stage = ep < e1 ? 1 : 2;
        if (ep == e1 && e1 > 0 && p->fresh_optimizer) optimiser_restart(&opt);
        double lr = opt.o->p.lr;
        for (size_t i = 0; i < ntb; i++) order[i] = i;
        if (ntb > 1) ndyn_rng_shuffle(&r, order, ntb);
        double loss_sum = 0, elbo_sum = 0;
        /* full batch: accumulate all groups, one step; minibatches: one step per batch */
        int full = p->batch_trials == 0;
        if (full) memset(gacc, 0, m->n_theta * sizeof(double));
        for (size_t oi = 0; !rc && oi < ntb; oi++) {
            batch *b = &tb[order[oi]];
            size_t TB = b->g.T * b->g.B;
            draw(&r, b->eps, TB * l.H);
            memset(g, 0, m->n_theta * sizeof(double));
            double J, elbo_b = 0;
            double *et = ndyn_malloc_array(b->g.B, sizeof(double));
            if (!et) { rc = NDYN_ENOMEM; break; }
            rc = (p->precision == NDYN_SRNN_F32 ? srnn_batch_f32 : srnn_batch)(
                m, &l, b->w, b->y, b->eps, stage == 1 ? b->P : NULL, stage == 1 ? p->coef_cross : 0, &J,
                NULL, et, g);
            for (size_t q = 0; q < b->g.B; q++) elbo_b += et[q];
            free(et);
            if (rc) break;
            loss_sum -= J;
            elbo_sum += elbo_b;
            if (full) {
                double sc = p->loss_sum ? 1.0 : steps_train;
                for (size_t q = 0; q < m->n_theta; q++) gacc[q] -= g[q] / sc;
            } else {
                double sc = p->loss_sum ? 1.0 : (double)TB;
                for (size_t q = 0; q < m->n_theta; q++) g[q] = -g[q] / sc;
                rc = optimiser_step(&opt, g, p->clip, m->theta);
            }
        }
        if (rc) break;
        if (full) rc = optimiser_step(&opt, gacc, p->clip, m->theta);
        if (!rc) rc = ndyn_nn_sched_step(&opt.sched, opt.o, 0, NULL);
        if (rc) break;
        double loss = loss_sum / steps_train, tr = elbo_sum / steps_train;
        if (!isfinite(loss)) {
            rc = ndyn_error(NDYN_ECONVERGE, "srnn: the loss became non-finite at epoch %d; lower --lr (now %g) or standardise the data", ep + 1, lr);
            break;
        }
        if ((ep + 1) % p->eval_every == 0 || ep + 1 == total_epochs) {
            double te = NAN;
            if (neb) rc = eval_elbo(m, &l, eb, neb, 1, &re, &te);
            if (!rc) rc = hist_push(&m->hist, &hcap, ep + 1, loss, tr, te, lr, stage);
        }
        ndyn_progress_update(&prog, (size_t)ep + 1, "stage %d  loss %.4g  elbo/step %.4g", stage, loss, tr);
    }
    ndyn_progress_end(&prog);
    if (!rc) {
        rc = eval_elbo(m, &l, tb, ntb, p->eval_samples, &re, &m->train_elbo);
        if (!rc && neb) rc = eval_elbo(m, &l, eb, neb, p->eval_samples, &re, &m->test_elbo);
        *score = neb ? m->test_elbo : m->train_elbo;
    }
    free_batches(tb, ntb);
    free_batches(eb, neb);
    free(g);
    free(gacc);
    optimiser_free(&opt);
    free(order);
    if (rc) {
        ndyn_srnn_model_free(m);
        return rc;
    }
    *out = m;
    return NDYN_OK;
}

int srnn_fit_from(const ndyn_srnn_data *d, const ndyn_srnn_params *p, const double *theta0,
                  ndyn_srnn_model **out)
{
    *out = NULL;
    int rc = ndyn_srnn_check_params(p);
    if (!rc) rc = ndyn_srnn_check_data(d, p);
    if (rc) return rc;
    if (p->test_trials > 0 && (size_t)p->test_trials >= d->n_trials)
        return ndyn_error(NDYN_EINVAL, "srnn: %d test trials leave none of the %zu trials for training; lower --test-trials",
                          p->test_trials, d->n_trials);
    size_t n = d->n_trials, nte = (size_t)p->test_trials, ntr = n - nte;
    size_t *off = ndyn_malloc_array(n + 1, sizeof(size_t)), *idx = ndyn_malloc_array(n, sizeof(size_t));
    if (!off || !idx) {
        free(off);
        free(idx);
        return NDYN_ENOMEM;
    }
    off[0] = 0;
    for (size_t i = 0; i < n; i++) off[i + 1] = off[i] + d->T[i], idx[i] = i;
    /* the first test_trials trials are held out (the reference holds out trial 0) */
    const size_t *test = idx, *train = idx + nte;
    ndyn_srnn_model *best = NULL;
    double best_score = -INFINITY;
    for (int r = 0; r < p->restarts && !rc; r++) {
        ndyn_srnn_model *m = NULL;
        double sc = -INFINITY;
        rc = fit_one(d, p, off, train, ntr, test, nte, r, theta0, &m, &sc);
        if (rc) break;
        if (!best || sc > best_score) {
            ndyn_srnn_model_free(best);
            best = m;
            best_score = sc;
        } else {
            ndyn_srnn_model_free(m);
        }
    }
    free(off);
    free(idx);
    if (rc) {
        ndyn_srnn_model_free(best);
        return rc;
    }
    *out = best;
    return NDYN_OK;
}

int ndyn_srnn_fit(const ndyn_srnn_data *d, const ndyn_srnn_params *p, ndyn_srnn_model **out)
{
    return srnn_fit_from(d, p, NULL, out);
}
