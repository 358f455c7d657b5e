/* MARBLE training: nn's SGD with momentum, nn's ReduceLROnPlateau on the
 * mean train loss, validation each epoch, best-validation checkpoint, resume (spec §13). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "marble/marble_internal.h"

int mb_sgd_step(ndyn_marble_model *m, const double *grad)
{
    if (grad != m->store->grad) memcpy(m->store->grad, grad, m->n_params * sizeof(double));
    return ndyn_nn_optim_step(m->opt, m->store);
}

static int hist_push(ndyn_marble_history *h, size_t cap, double ep, double tr, double va,
                     double lr, double t, double sec, double cpu)
{
    if (!h) return NDYN_OK;
    if (!h->epoch) {
        h->epoch = ndyn_malloc_array(cap, sizeof(double));
        h->train_loss = ndyn_malloc_array(cap, sizeof(double));
        h->val_loss = ndyn_malloc_array(cap, sizeof(double));
        h->lr = ndyn_malloc_array(cap, sizeof(double));
        h->diffusion_time = ndyn_malloc_array(cap, sizeof(double));
        h->train_seconds = ndyn_malloc_array(cap, sizeof(double));
        h->train_cpu_seconds = ndyn_malloc_array(cap, sizeof(double));
        if (!h->epoch || !h->train_loss || !h->val_loss || !h->lr || !h->diffusion_time ||
            !h->train_seconds || !h->train_cpu_seconds)
            return NDYN_ENOMEM;
    }
    h->train_seconds[h->n] = sec;
    h->train_cpu_seconds[h->n] = cpu;
    h->epoch[h->n] = ep; h->train_loss[h->n] = tr; h->val_loss[h->n] = va;
    h->lr[h->n] = lr; h->diffusion_time[h->n] = t;
    h->n++;
    return NDYN_OK;
}

/* The model's parameters are valid for the data and its sizes match. */
static int check_model_data(const ndyn_marble_model *m, const ndyn_marble_data *g)
{
    int rc = ndyn_marble_check_params(&m->par, g);
    if (rc) return rc;
    if (g->s != m->s || g->d != m->d || g->dim != m->dim)
        return ndyn_error(NDYN_ESHAPE, "marble: the model was built for s = %zu, d = %zu, "
                          "dim = %zu but the data has %zu, %zu, %zu", m->s, m->d, m->dim, g->s,
                          g->d, g->dim);
    return NDYN_OK;
}

/* Mean loss over the nodes of one split in eval mode (sampling from stream). */
static int eval_split(ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                      const uint8_t *split, const int32_t *nodes, size_t nn, uint64_t stream,
                      double *out)
{
    *out = NAN;
    if (nn == 0) return NDYN_OK;
    size_t bs = (size_t)m->par.batch_size;
    int32_t *batch = ndyn_malloc_array(3 * bs, sizeof(int32_t));
    if (!batch) return NDYN_ENOMEM;
    ndyn_rng r;
    ndyn_rng_init(&r, m->par.seed, stream);
    double tot = 0;
    size_t nbat = 0;
    int rc = NDYN_OK;
    for (size_t b0 = 0; b0 < nn && !rc; b0 += bs) {
        size_t nb = nn - b0 < bs ? nn - b0 : bs;
        memcpy(batch, nodes + b0, nb * sizeof(int32_t));
        mb_sample(&m->par, g, split, nodes, nn, batch, nb, &r, batch + nb, batch + 2 * nb);
        double l;
        rc = mb_batch_loss_grad(m, g, w, batch, nb, 0, 0, NULL, &l, NULL, NULL);
        tot += l;
        nbat++;
    }
    free(batch);
    if (!rc) *out = tot / (double)nbat;
    return rc;
}

/* Streams of the fixed validation draws (val_draws >= 1): far above the
 * per-epoch streams (1000 + ep, 2000000 + ep with ep < 1e7, test 3000000). */
#define MB_VAL_STREAM ((uint64_t)1 << 40)

/* Mean validation loss over the fixed draws first .. first + count - 1. */
static int eval_fixed(ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                      const uint8_t *split, const int32_t *nodes, size_t nn, int first, int count,
                      double *out)
{
    double s = 0, l;
    int rc = NDYN_OK;
    for (int j = 0; j < count && !rc; j++) {
        rc = eval_split(m, g, w, split, nodes, nn, MB_VAL_STREAM + (uint64_t)(first + j), &l);
        s += l;
    }
    *out = rc ? NAN : s / count;
    return rc;
}

int ndyn_marble_validation_loss(ndyn_marble_model *m, const ndyn_marble_data *g, int first_draw,
                                int n_draws, double *loss)
{
    if (!m || !loss) return ndyn_error(NDYN_EINVAL, "marble: model and loss must not be NULL");
    if (first_draw < 0 || n_draws < 1 || first_draw > INT32_MAX - n_draws)
        return ndyn_error(NDYN_EINVAL, "marble: validation draws need first_draw >= 0 and "
                          "n_draws >= 1 (now %d, %d)", first_draw, n_draws);
    int rc = check_model_data(m, g);
    if (rc) return rc;
    size_t n = g->n, nv = 0;
    uint8_t *split = ndyn_malloc_array(n, 1);
    int32_t *va = ndyn_malloc_array(n, sizeof(int32_t));
    mb_work w;
    memset(&w, 0, sizeof w);
    if (!split || !va) { rc = NDYN_ENOMEM; goto done; }
    if ((rc = mb_split(n, m->par.val_frac, m->par.test_frac, m->par.seed, split))) goto done;
    for (size_t i = 0; i < n; i++)
        if (split[i] == 1) va[nv++] = (int32_t)i;
    if ((rc = mb_work_init(&w, m, g))) goto done;
    if ((rc = mb_fcache_build(&w, m, g))) goto done;
    rc = eval_fixed(m, g, &w, split, va, nv, first_draw, n_draws, loss);
done:
    mb_work_free(&w);
    free(split); free(va);
    return rc;
}

int ndyn_marble_fit(ndyn_marble_model *m, const ndyn_marble_data *g, ndyn_marble_history *hist)
{
    int rc = check_model_data(m, g);
    if (rc) return rc;
    if (hist) memset(hist, 0, sizeof *hist);
    size_t n = g->n, bs = (size_t)m->par.batch_size;
    uint8_t *split = ndyn_malloc_array(n, 1);
    int32_t *lists = ndyn_malloc_array(n, sizeof(int32_t));
    int32_t *batch = ndyn_malloc_array(3 * bs, sizeof(int32_t));
    double *grad = m->store->grad;
    mb_work w;
    memset(&w, 0, sizeof w);
    if (!split || !lists || !batch) { rc = NDYN_ENOMEM; goto done; }
    if ((rc = mb_split(n, m->par.val_frac, m->par.test_frac, m->par.seed, split))) goto done;
    size_t cnt[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) cnt[split[i]]++;
    int32_t *tr = lists, *va = lists + cnt[0], *te = va + cnt[1];
    size_t fill[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int32_t *dst = split[i] == 0 ? tr : split[i] == 1 ? va : te;
        dst[fill[split[i]]++] = (int32_t)i;
    }
    if ((rc = mb_work_init(&w, m, g))) goto done;
    if ((rc = mb_fcache_build(&w, m, g))) goto done;
    size_t cap = m->par.epochs > m->epoch ? (size_t)(m->par.epochs - m->epoch) : 1;
    int32_t *perm = ndyn_malloc_array(cnt[0], sizeof(int32_t));
    if (!perm) { rc = NDYN_ENOMEM; goto done; }
    ndyn_progress prog;
    ndyn_progress_begin(&prog, "marble fit", (size_t)m->par.epochs);
    for (int ep = m->epoch; ep < m->par.epochs && !rc; ep++) {
        ndyn_rng r;
        ndyn_rng_init(&r, m->par.seed, 1000 + (uint64_t)ep);
        memcpy(perm, tr, cnt[0] * sizeof(int32_t));
        for (size_t i = cnt[0]; i > 1; i--) {
            size_t j = (size_t)ndyn_rng_below(&r, i);
            int32_t t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
        }
        double tot = 0, tw0 = ndyn_time_now();
        clock_t tc0 = clock();
        size_t nbat = 0;
        for (size_t b0 = 0; b0 < cnt[0] && !rc; b0 += bs) {
            size_t nb = cnt[0] - b0 < bs ? cnt[0] - b0 : bs;
            memcpy(batch, perm + b0, nb * sizeof(int32_t));
            mb_sample(&m->par, g, split, tr, cnt[0], batch, nb, &r, batch + nb, batch + 2 * nb);
            if (m->params[m->off_t] < MB_T_MIN) m->params[m->off_t] = MB_T_MIN;
            double l;
            rc = mb_batch_loss_grad(m, g, &w, batch, nb, 1, 1, &r, &l, grad, NULL);
            if (rc || (rc = mb_sgd_step(m, grad))) break;
            tot += l;
            nbat++;
        }
        if (rc) break;
        double tsec = ndyn_time_now() - tw0, tcpu = (double)(clock() - tc0) / CLOCKS_PER_SEC;
        double train_loss = tot / (double)(nbat ? nbat : 1), val_loss;
        if (m->params[m->off_t] < MB_T_MIN) m->params[m->off_t] = MB_T_MIN;
        if (m->par.val_draws > 0)   /* the same draws every epoch: epochs compare fairly */
            rc = eval_fixed(m, g, &w, split, va, cnt[1], 0, m->par.val_draws, &val_loss);
        else
            rc = eval_split(m, g, &w, split, va, cnt[1], 2000000 + (uint64_t)ep, &val_loss);
        if (rc) break;
        double lr_used = m->opt->p.lr;
        if ((rc = ndyn_nn_sched_step(&m->sched, m->opt, train_loss, NULL))) break;
        if (val_loss < m->best_val) {
            m->best_val = val_loss;
            m->best_epoch = ep;
            memcpy(m->best_params, m->params, m->n_params * sizeof(double));
            memcpy(m->best_buffers, m->buffers, m->n_buffers * sizeof(double));
        }
        m->epoch = ep + 1;
        rc = hist_push(hist, cap, ep, train_loss, val_loss, lr_used, m->params[m->off_t], tsec,
                       tcpu);
        ndyn_progress_update(&prog, (size_t)ep + 1, "train %.4f val %.4f lr %.2g t %.3g",
                             train_loss, val_loss, lr_used, m->params[m->off_t]);
    }
    ndyn_progress_end(&prog);
    free(perm);
    if (rc) goto done;
    if (m->best_epoch >= 0) {
        memcpy(m->params, m->best_params, m->n_params * sizeof(double));
        memcpy(m->buffers, m->best_buffers, m->n_buffers * sizeof(double));
    }
    if (hist) {
        hist->best_epoch = m->best_epoch;
        if (m->params[m->off_t] < MB_T_MIN) m->params[m->off_t] = MB_T_MIN;
        rc = eval_split(m, g, &w, split, te, cnt[2], 3000000, &hist->test_loss);
    }
done:
    mb_work_free(&w);
    free(split); free(lists); free(batch);
    return rc;
}
