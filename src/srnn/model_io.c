/* SRNN model files: one .npz with a format version, the configuration as
 * numbers, every parameter block by name and the training history; loading
 * validates every piece. Also the history file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "srnn_internal.h"

#define SRNN_FORMAT 1
/* format 2 = format 1 plus `heldout` (int32): written only for models with held-out
 * channels, so that an ndyn that cannot mask them refuses the file */
#define SRNN_FORMAT_HELDOUT 2
#define NCFG 40

static void cfg_pack(const ndyn_srnn_params *p, size_t N, double *c)
{
    memset(c, 0, NCFG * sizeof(double));
    int i = 0;
    c[i++] = p->K, c[i++] = p->H, c[i++] = p->emission, c[i++] = p->n_emission_hidden;
    for (int q = 0; q < NDYN_SRNN_MAX_LAYERS; q++) c[i++] = p->emission_hidden[q];
    c[i++] = p->sampler_hidden, c[i++] = p->transition, c[i++] = p->trans_base, c[i++] = p->causal;
    c[i++] = p->h0_prior, c[i++] = p->var_h, c[i++] = p->var_y, c[i++] = p->var_q;
    c[i++] = p->learn_var_h, c[i++] = p->learn_var_y, c[i++] = p->learn_var_q, c[i++] = p->var_min;
    c[i++] = p->init, c[i++] = p->init_epochs, c[i++] = p->epochs, c[i++] = p->coef_cross;
    c[i++] = p->lr, c[i++] = p->lr_step, c[i++] = p->lr_gamma, c[i++] = p->clip;
    c[i++] = p->fresh_optimizer, c[i++] = p->batch_trials, c[i++] = p->restarts, c[i++] = p->test_trials;
    c[i++] = p->eval_every, c[i++] = p->eval_samples, c[i++] = p->hmm_iters, c[i++] = p->init_scale;
    c[i++] = (double)N;
    c[i++] = p->objective, c[i++] = p->loss_sum;
}

static void cfg_unpack(const double *c, ndyn_srnn_params *p, size_t *N)
{
    int i = 0;
    p->K = (int)c[i++], p->H = (int)c[i++], p->emission = (int)c[i++], p->n_emission_hidden = (int)c[i++];
    for (int q = 0; q < NDYN_SRNN_MAX_LAYERS; q++) p->emission_hidden[q] = (int)c[i++];
    p->sampler_hidden = (int)c[i++], p->transition = (int)c[i++], p->trans_base = (int)c[i++], p->causal = (int)c[i++];
    p->h0_prior = (int)c[i++], p->var_h = c[i++], p->var_y = c[i++], p->var_q = c[i++];
    p->learn_var_h = (int)c[i++], p->learn_var_y = (int)c[i++], p->learn_var_q = (int)c[i++], p->var_min = c[i++];
    p->init = (int)c[i++], p->init_epochs = (int)c[i++], p->epochs = (int)c[i++], p->coef_cross = c[i++];
    p->lr = c[i++], p->lr_step = (int)c[i++], p->lr_gamma = c[i++], p->clip = c[i++];
    p->fresh_optimizer = (int)c[i++], p->batch_trials = (int)c[i++], p->restarts = (int)c[i++], p->test_trials = (int)c[i++];
    p->eval_every = (int)c[i++], p->eval_samples = (int)c[i++], p->hmm_iters = (int)c[i++], p->init_scale = c[i++];
    *N = (size_t)c[i++];
    p->objective = (int)c[i++], p->loss_sum = (int)c[i++];
}

static const char *k_blocks[] = {"pi", "trans_W", "trans_b", "trans_B", "dyn_W", "dyn_b", "h0_mu",
                                 "h0_logvar", "logvar_h", "logvar_y", "encf_Wx", "encf_Wh", "encf_b",
                                 "encb_Wx", "encb_Wh", "encb_b", "s1_W", "s1_b", "s2_W", "s2_b",
                                 "m_Wa", "m_Ws", "m_b", "logvar_q"};
#define NBLK (sizeof k_blocks / sizeof k_blocks[0])

static int add_copy(ndyn_dataset *ds, const char *name, ndyn_dtype t, size_t n, const void *src)
{
    ndyn_array *a = ndyn_array_alloc1(t, n);
    if (!a) return NDYN_ENOMEM;
    if (n) memcpy(a->data, src, n * ndyn_dtype_size(t));
    return ndyn_dataset_add(ds, name, a, NULL); /* takes ownership, also on failure */
}

static int add_scalar(ndyn_dataset *ds, const char *name, double v)
{
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 0, NULL);
    if (!a) return NDYN_ENOMEM;
    ((double *)a->data)[0] = v;
    return ndyn_dataset_add(ds, name, a, NULL); /* takes ownership, also on failure */
}

static int add_history(ndyn_dataset *ds, const ndyn_srnn_history *h, const char *prefix)
{
    char nm[64];
    int rc;
    snprintf(nm, sizeof nm, "%sepoch", prefix);
    if ((rc = add_copy(ds, nm, NDYN_I32, h->n, h->epoch))) return rc;
    snprintf(nm, sizeof nm, "%sloss", prefix);
    if ((rc = add_copy(ds, nm, NDYN_F64, h->n, h->loss))) return rc;
    snprintf(nm, sizeof nm, "%strain_elbo", prefix);
    if ((rc = add_copy(ds, nm, NDYN_F64, h->n, h->train_elbo))) return rc;
    snprintf(nm, sizeof nm, "%stest_elbo", prefix);
    if ((rc = add_copy(ds, nm, NDYN_F64, h->n, h->test_elbo))) return rc;
    snprintf(nm, sizeof nm, "%slr", prefix);
    if ((rc = add_copy(ds, nm, NDYN_F64, h->n, h->lr))) return rc;
    snprintf(nm, sizeof nm, "%sstage", prefix);
    return add_copy(ds, nm, NDYN_I32, h->n, h->stage);
}

int ndyn_srnn_save(const ndyn_srnn_model *m, const char *path)
{
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!ds) return NDYN_ENOMEM;
    double cfg[NCFG];
    cfg_pack(&m->p, m->N, cfg);
    int rc = add_scalar(ds, "srnn_format", m->n_heldout ? SRNN_FORMAT_HELDOUT : SRNN_FORMAT);
    if (!rc && m->n_heldout) rc = add_copy(ds, "heldout", NDYN_I32, m->n_heldout, m->heldout);
    if (!rc) rc = add_copy(ds, "config", NDYN_F64, NCFG, cfg);
    uint64_t seed = m->p.seed;
    if (!rc) rc = add_copy(ds, "seed", NDYN_U64, 1, &seed);
    if (!rc) rc = add_scalar(ds, "train_elbo", m->train_elbo);
    if (!rc) rc = add_scalar(ds, "test_elbo", m->test_elbo);
    for (size_t i = 0; !rc && i < NBLK; i++) {
        double *v;
        size_t n;
        rc = ndyn_srnn_param_view(m, k_blocks[i], &v, &n);
        if (!rc) rc = add_copy(ds, k_blocks[i], NDYN_F64, n, v);
    }
    for (int i = 0; !rc && i <= m->p.n_emission_hidden; i++) {
        char nm[32];
        double *v;
        size_t n;
        snprintf(nm, sizeof nm, "emis_W%d", i);
        rc = ndyn_srnn_param_view(m, nm, &v, &n);
        if (!rc) rc = add_copy(ds, nm, NDYN_F64, n, v);
        snprintf(nm, sizeof nm, "emis_b%d", i);
        if (!rc) rc = ndyn_srnn_param_view(m, nm, &v, &n);
        if (!rc) rc = add_copy(ds, nm, NDYN_F64, n, v);
    }
    if (!rc) rc = add_history(ds, &m->hist, "history_");
    if (!rc) rc = ndyn_dataset_save(path, ds, 1);
    ndyn_dataset_free(ds);
    return rc;
}

int ndyn_srnn_save_history(const ndyn_srnn_model *m, const char *path)
{
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!ds) return NDYN_ENOMEM;
    int rc = add_history(ds, &m->hist, "");
    if (!rc) rc = ndyn_dataset_save(path, ds, 1);
    ndyn_dataset_free(ds);
    return rc;
}

static int get_f64(const ndyn_dataset *ds, const char *path, const char *name, size_t want,
                   ndyn_array **out)
{
    const ndyn_array *a;
    if (ndyn_dataset_get(ds, name, &a))
        return ndyn_error(NDYN_EFORMAT, "%s: not an SRNN model file (no '%s')", path, name);
    if (want != (size_t)-1 && a->size != want)
        return ndyn_error(NDYN_EFORMAT, "%s: '%s' has %zu values, the configuration needs %zu", path, name, a->size, want);
    *out = ndyn_array_cast(a, NDYN_F64);
    return *out ? NDYN_OK : NDYN_ENOMEM;
}

int ndyn_srnn_load(const char *path, ndyn_srnn_model **out)
{
    *out = NULL;
    ndyn_dataset *ds;
    int rc = ndyn_dataset_load(path, &ds);
    if (rc) return rc;
    ndyn_array *a = NULL;
    rc = get_f64(ds, path, "srnn_format", 1, &a);
    double fmt = rc ? 0 : ((double *)a->data)[0];
    if (!rc && fmt != SRNN_FORMAT && fmt != SRNN_FORMAT_HELDOUT)
        rc = ndyn_error(NDYN_EUNSUPPORTED, "%s: SRNN model format %g; this ndyn reads formats %d and %d", path, fmt,
                        SRNN_FORMAT, SRNN_FORMAT_HELDOUT);
    ndyn_array_free(a);
    a = NULL;
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    size_t N = 0;
    if (!rc) rc = get_f64(ds, path, "config", NCFG, &a);
    if (!rc) {
        rc = ndyn_check_finite(a->data, NCFG, "model configuration");
        if (!rc) cfg_unpack(a->data, &p, &N);
    }
    ndyn_array_free(a);
    a = NULL;
    const ndyn_array *sa;
    if (!rc && !ndyn_dataset_get(ds, "seed", &sa) && sa->size == 1) p.seed = (uint64_t)ndyn_array_get(sa, 0);
    if (!rc) rc = ndyn_srnn_check_params(&p);
    if (rc) rc = ndyn_error_context(NDYN_EFORMAT, "%s: ", path);
    ndyn_srnn_model *m = NULL;
    if (!rc) rc = ndyn_srnn_model_new(&p, N, &m);
    for (size_t i = 0; !rc && i < NBLK + 2 * (size_t)(p.n_emission_hidden + 1); i++) {
        char nm[32];
        if (i < NBLK)
            snprintf(nm, sizeof nm, "%s", k_blocks[i]);
        else
            snprintf(nm, sizeof nm, "emis_%c%zu", (i - NBLK) % 2 ? 'b' : 'W', (i - NBLK) / 2);
        double *v;
        size_t n;
        rc = ndyn_srnn_param_view(m, nm, &v, &n);
        if (!rc) rc = get_f64(ds, path, nm, n, &a);
        if (!rc) rc = ndyn_check_finite(a->data, n, nm);
        if (!rc) memcpy(v, a->data, n * sizeof(double));
        ndyn_array_free(a);
        a = NULL;
    }
    if (!rc && fmt == SRNN_FORMAT_HELDOUT) {
        const ndyn_array *hb;
        if (ndyn_dataset_get(ds, "heldout", &hb) || hb->size == 0)
            rc = ndyn_error(NDYN_EFORMAT, "%s: SRNN model format 2 without 'heldout'", path);
        int *hv = rc ? NULL : ndyn_malloc_array(hb->size, sizeof(int));
        if (!rc && !hv) rc = NDYN_ENOMEM;
        for (size_t q = 0; !rc && q < hb->size; q++) {
            double v = ndyn_array_get(hb, q);
            if (!(v >= 0 && v < (double)N && v == floor(v)))
                rc = ndyn_error(NDYN_EFORMAT, "%s: held-out channel %g out of range 0..%zu", path, v, N - 1);
            else
                hv[q] = (int)v;
        }
        if (!rc) rc = srnn_set_heldout(m, hv, hb->size);
        if (rc) rc = ndyn_error_context(NDYN_EFORMAT, "%s: ", path);
        free(hv);
    }
    if (!rc && !ndyn_dataset_get(ds, "train_elbo", &sa)) m->train_elbo = ndyn_array_get(sa, 0);
    if (!rc && !ndyn_dataset_get(ds, "test_elbo", &sa)) m->test_elbo = ndyn_array_get(sa, 0);
    if (!rc && !ndyn_dataset_get(ds, "history_epoch", &sa)) {
        size_t n = sa->size;
        ndyn_srnn_history *h = &m->hist;
        h->n = n;
        h->epoch = ndyn_calloc(n ? n : 1, sizeof(int));
        h->stage = ndyn_calloc(n ? n : 1, sizeof(int));
        h->loss = ndyn_calloc(n ? n : 1, sizeof(double));
        h->train_elbo = ndyn_calloc(n ? n : 1, sizeof(double));
        h->test_elbo = ndyn_calloc(n ? n : 1, sizeof(double));
        h->lr = ndyn_calloc(n ? n : 1, sizeof(double));
        if (!h->epoch || !h->stage || !h->loss || !h->train_elbo || !h->test_elbo || !h->lr) rc = NDYN_ENOMEM;
        const char *nm[] = {"history_loss", "history_train_elbo", "history_test_elbo", "history_lr"};
        double *dst[] = {h->loss, h->train_elbo, h->test_elbo, h->lr};
        for (size_t q = 0; !rc && q < n; q++) h->epoch[q] = (int)ndyn_array_get(sa, q);
        for (int k = 0; !rc && k < 4; k++) {
            const ndyn_array *b;
            if (ndyn_dataset_get(ds, nm[k], &b) || b->size != n) { h->n = 0; break; }
            for (size_t q = 0; q < n; q++) dst[k][q] = ndyn_array_get(b, q);
        }
        const ndyn_array *b;
        if (!rc && !ndyn_dataset_get(ds, "history_stage", &b) && b->size == n)
            for (size_t q = 0; q < n; q++) h->stage[q] = (int)ndyn_array_get(b, q);
    }
    ndyn_dataset_free(ds);
    if (rc) {
        ndyn_srnn_model_free(m);
        return rc;
    }
    ndyn_error_clear();
    *out = m;
    return NDYN_OK;
}
