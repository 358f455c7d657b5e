/* SRNN model files: an nn model file (kind "srnn", docs/nn.md: versioned,
 * CRC-32 checked) with the configuration as hyper-parameters, one store
 * tensor per parameter block (named and shaped as ndyn_srnn_param_view) and
 * the history, the final ELBOs and the held-out channels as extra arrays.
 * Files of the earlier SRNN-only layout (srnn_format 1 or 2) are still read.
 * Also the history file. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/nn.h"
#include "srnn_internal.h"

#define SRNN_KIND "srnn"

#define SRNN_FORMAT 1
/* format 2 = format 1 plus `heldout` (int32): written only for models with held-out
 * channels, so that an ndyn that cannot mask them refuses the file */
#define SRNN_FORMAT_HELDOUT 2
#define NCFG 40

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

/* The int and double fields of ndyn_srnn_params saved as hyper-parameters
 * (emission widths, the seed and the held-out list apart). */
#define PF(f) {#f, offsetof(ndyn_srnn_params, f)}
static const struct { const char *key; size_t off; } INTS[] = {
    PF(K), PF(H), PF(emission), PF(n_emission_hidden), PF(sampler_hidden), PF(transition),
    PF(trans_base), PF(causal), PF(h0_prior), PF(learn_var_h), PF(learn_var_y), PF(learn_var_q),
    PF(objective), PF(loss_sum), PF(init), PF(init_epochs), PF(epochs), PF(lr_step),
    PF(fresh_optimizer), PF(batch_trials), PF(restarts), PF(test_trials), PF(eval_every),
    PF(eval_samples), PF(hmm_iters)}, NUMS[] = {
    PF(var_h), PF(var_y), PF(var_q), PF(var_min), PF(coef_cross), PF(lr), PF(lr_gamma), PF(clip),
    PF(init_scale)};
#undef PF
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Shape of parameter block `name` (as laid out in theta); 0 dims = absent. */
static int block_shape(const srnn_layout *l, const char *name, size_t *sh)
{
    size_t K = l->K, H = l->H, N = l->N, S1 = l->S1;
    struct { const char *nm; int nd; size_t a, b, c, present; } tab[] = {
        {"pi", 1, K, 0, 0, 1}, {"trans_W", 2, K * K, H, 0, 1}, {"trans_b", 1, K * K, 0, 0, 1},
        {"trans_B", 2, K, K, 0, l->n_trans_B}, {"dyn_W", 3, K, H, H, 1}, {"dyn_b", 2, K, H, 0, 1},
        {"h0_mu", 2, K, H, 0, l->n_h0}, {"h0_logvar", 1, H, 0, 0, l->n_h0}, {"logvar_h", 1, H, 0, 0, 1},
        {"logvar_y", 1, N, 0, 0, l->n_logvar_y}, {"encf_Wx", 2, H, N, 0, 1}, {"encf_Wh", 2, H, H, 0, 1},
        {"encf_b", 1, H, 0, 0, 1}, {"encb_Wx", 2, H, N, 0, l->n_encb}, {"encb_Wh", 2, H, H, 0, l->n_encb},
        {"encb_b", 1, H, 0, 0, l->n_encb}, {"s1_W", 2, S1, 2 * H, 0, 1}, {"s1_b", 1, S1, 0, 0, 1},
        {"s2_W", 2, H, S1, 0, 1}, {"s2_b", 1, H, 0, 0, 1}, {"m_Wa", 2, H, H, 0, 1}, {"m_Ws", 2, H, H, 0, 1},
        {"m_b", 1, H, 0, 0, 1}, {"logvar_q", 1, H, 0, 0, 1}};
    for (size_t i = 0; i < NELEM(tab); i++)
        if (!strcmp(name, tab[i].nm)) {
            sh[0] = tab[i].a, sh[1] = tab[i].b, sh[2] = tab[i].c;
            return tab[i].present ? tab[i].nd : 0;
        }
    for (int i = 0; i < l->L; i++) {
        char b[32];
        snprintf(b, sizeof b, "emis_W%d", i);
        if (!strcmp(name, b)) {
            sh[0] = (size_t)l->dims[i + 1], sh[1] = (size_t)l->dims[i];
            return 2;
        }
        snprintf(b, sizeof b, "emis_b%d", i);
        if (!strcmp(name, b)) {
            sh[0] = (size_t)l->dims[i + 1];
            return 1;
        }
    }
    return 0;
}

/* Every block name of the model in a fixed order (emission layers last). */
static int block_name(const srnn_layout *l, size_t i, char *buf, size_t n)
{
    if (i < NBLK) return snprintf(buf, n, "%s", k_blocks[i]), 1;
    i -= NBLK;
    if (i >= 2 * (size_t)l->L) return 0;
    snprintf(buf, n, "emis_%c%zu", i % 2 ? 'b' : 'W', i / 2);
    return 1;
}

/* A store with one tensor per present block (values from m when fill). */
static int make_store(const ndyn_srnn_model *m, const srnn_layout *l, int fill, ndyn_nn_store **out)
{
    ndyn_nn_store *s = ndyn_nn_store_new();
    if (!s) return NDYN_ENOMEM;
    int rc = NDYN_OK;
    char nm[32];
    for (size_t i = 0; !rc && block_name(l, i, nm, sizeof nm); i++) {
        size_t sh[3];
        int nd = block_shape(l, nm, sh), idx;
        if (!nd) continue;
        rc = ndyn_nn_store_add(s, nm, nd, sh, 0, &idx);
        if (!rc && fill) {
            double *v;
            size_t cnt;
            rc = ndyn_srnn_param_view(m, nm, &v, &cnt);
            if (!rc) memcpy(ndyn_nn_store_data(s, idx), v, cnt * sizeof(double));
        }
    }
    if (rc) {
        ndyn_nn_store_free(s);
        return rc;
    }
    *out = s;
    return NDYN_OK;
}

static int add_extra_f64(ndyn_dataset *ds, const char *name, size_t n, const double *v)
{
    return add_copy(ds, name, NDYN_F64, n, v);
}

int ndyn_srnn_save(const ndyn_srnn_model *m, const char *path)
{
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    const ndyn_srnn_params *p = &m->p;
    ndyn_nn_hparams *h = ndyn_nn_hparams_new();
    ndyn_dataset *extra = ndyn_dataset_new();
    ndyn_nn_store *s = NULL;
    int rc = h && extra ? NDYN_OK : NDYN_ENOMEM;
    const char *base = (const char *)p;
    for (size_t i = 0; i < NELEM(INTS) && !rc; i++)
        rc = ndyn_nn_hparams_set_int(h, INTS[i].key, *(const int *)(base + INTS[i].off));
    for (size_t i = 0; i < NELEM(NUMS) && !rc; i++)
        rc = ndyn_nn_hparams_set_num(h, NUMS[i].key, *(const double *)(base + NUMS[i].off));
    for (int i = 0; i < p->n_emission_hidden && !rc; i++) {
        char key[32];
        snprintf(key, sizeof key, "emission_hidden.%d", i);
        rc = ndyn_nn_hparams_set_int(h, key, p->emission_hidden[i]);
    }
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "seed", (int64_t)p->seed); /* all 64 bits round trip */
    if (!rc) rc = ndyn_nn_hparams_set_int(h, "N", (int64_t)m->N);
    if (!rc) rc = add_extra_f64(extra, "train_elbo", 1, &m->train_elbo);
    if (!rc) rc = add_extra_f64(extra, "test_elbo", 1, &m->test_elbo);
    if (!rc && m->n_heldout) rc = add_copy(extra, "heldout", NDYN_I32, m->n_heldout, m->heldout);
    if (!rc && m->hist.n) rc = add_history(extra, &m->hist, "history_");
    if (!rc) rc = make_store(m, &l, 1, &s);
    if (!rc) rc = ndyn_nn_save(path, SRNN_KIND, s, h, NULL, NULL, extra);
    ndyn_nn_store_free(s);
    ndyn_nn_hparams_free(h);
    ndyn_dataset_free(extra);
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

/* The SRNN-only layout of earlier versions (format 1, or 2 with `heldout`). */
static int load_legacy(ndyn_dataset *ds, const char *path, ndyn_srnn_model **out)
{
    int rc;
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
    if (rc) {
        ndyn_srnn_model_free(m);
        return rc;
    }
    *out = m;
    return NDYN_OK;
}

static int hp_int(const ndyn_nn_hparams *h, const char *k, int *v)
{
    int64_t x;
    int rc = ndyn_nn_hparams_get_int(h, k, &x);
    if (rc) return rc;
    if (x < INT32_MIN || x > INT32_MAX) return ndyn_error(NDYN_EFORMAT, "srnn model: %s = %lld is out of range", k, (long long)x);
    *v = (int)x;
    return NDYN_OK;
}

static const double *extra_f64(const ndyn_dataset *ex, const char *name, size_t n)
{
    const ndyn_array *a;
    if (ndyn_dataset_get(ex, name, &a) || a->dtype != NDYN_F64 || a->size != n) return NULL;
    return a->data;
}

static int load_nn(const char *path, ndyn_srnn_model **out)
{
    ndyn_nn_file *f = NULL;
    ndyn_srnn_model *m = NULL;
    ndyn_nn_store *s = NULL;
    int rc = ndyn_nn_file_read(path, SRNN_KIND, &f);
    if (rc) return rc;
    const ndyn_nn_hparams *h = ndyn_nn_file_hparams(f);
    const ndyn_dataset *ex = ndyn_nn_file_extra(f);
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    char *base = (char *)&p;
    int64_t seed = 0, N = 0;
    for (size_t i = 0; i < NELEM(INTS) && !rc; i++) rc = hp_int(h, INTS[i].key, (int *)(base + INTS[i].off));
    for (size_t i = 0; i < NELEM(NUMS) && !rc; i++) rc = ndyn_nn_hparams_get_num(h, NUMS[i].key, (double *)(base + NUMS[i].off));
    if (!rc && (p.n_emission_hidden < 0 || p.n_emission_hidden > NDYN_SRNN_MAX_LAYERS))
        rc = ndyn_error(NDYN_EFORMAT, "srnn model: %d emission hidden layers", p.n_emission_hidden);
    for (int i = 0; i < p.n_emission_hidden && !rc; i++) {
        char key[32];
        snprintf(key, sizeof key, "emission_hidden.%d", i);
        rc = hp_int(h, key, &p.emission_hidden[i]);
    }
    if (!rc) rc = ndyn_nn_hparams_get_int(h, "seed", &seed);
    if (!rc) rc = ndyn_nn_hparams_get_int(h, "N", &N);
    p.seed = (uint64_t)seed;
    if (!rc && (N < 1 || N > (1 << 24))) rc = ndyn_error(NDYN_EFORMAT, "srnn model: %lld channels", (long long)N);
    /* held-out channels before the model is made, so that it validates them */
    int *held = NULL;
    const ndyn_array *ha;
    if (!rc && !ndyn_dataset_get(ex, "heldout", &ha) && ha->size) {
        held = ndyn_malloc_array(ha->size, sizeof(int));
        if (!held) rc = NDYN_ENOMEM;
        for (size_t q = 0; !rc && q < ha->size; q++) {
            double v = ndyn_array_get(ha, q);
            if (!(v >= 0 && v < (double)N && v == floor(v)))
                rc = ndyn_error(NDYN_EFORMAT, "srnn model: held-out channel %g out of range", v);
            else
                held[q] = (int)v;
        }
        p.heldout = held, p.n_heldout = ha->size;
    }
    ndyn_error_clear();
    if (!rc) rc = ndyn_srnn_check_params(&p);
    if (!rc) rc = ndyn_srnn_model_new(&p, (size_t)N, &m);
    free(held);
    srnn_layout l;
    if (!rc) {
        srnn_layout_make(&m->p, m->N, &l);
        rc = make_store(m, &l, 0, &s);
    }
    if (!rc) rc = ndyn_nn_file_load_store(f, s);
    char nm[32];
    for (size_t i = 0; !rc && block_name(&l, i, nm, sizeof nm); i++) {
        size_t sh[3];
        if (!block_shape(&l, nm, sh)) continue;
        int idx;
        double *v;
        size_t cnt;
        rc = ndyn_nn_store_find(s, nm, &idx);
        if (!rc) rc = ndyn_srnn_param_view(m, nm, &v, &cnt);
        if (!rc) rc = ndyn_check_finite(ndyn_nn_store_data(s, idx), cnt, nm);
        if (!rc) memcpy(v, ndyn_nn_store_data(s, idx), cnt * sizeof(double));
    }
    const double *x;
    if (!rc && (x = extra_f64(ex, "train_elbo", 1))) m->train_elbo = x[0];
    if (!rc && (x = extra_f64(ex, "test_elbo", 1))) m->test_elbo = x[0];
    const ndyn_array *he;
    if (!rc && !ndyn_dataset_get(ex, "history_epoch", &he)) {
        size_t n = he->size;
        ndyn_srnn_history *hi = &m->hist;
        const char *nms[] = {"history_loss", "history_train_elbo", "history_test_elbo", "history_lr", "history_stage"};
        const ndyn_array *arr[5];
        for (int k = 0; !rc && k < 5; k++)
            if (ndyn_dataset_get(ex, nms[k], &arr[k]) || arr[k]->size != n)
                rc = ndyn_error(NDYN_EFORMAT, "srnn model: history array %s missing or of the wrong size", nms[k]);
        if (!rc) {
            hi->n = n;
            hi->epoch = ndyn_calloc(n, sizeof(int));
            hi->stage = ndyn_calloc(n, sizeof(int));
            hi->loss = ndyn_calloc(n, sizeof(double));
            hi->train_elbo = ndyn_calloc(n, sizeof(double));
            hi->test_elbo = ndyn_calloc(n, sizeof(double));
            hi->lr = ndyn_calloc(n, sizeof(double));
            if (!hi->epoch || !hi->stage || !hi->loss || !hi->train_elbo || !hi->test_elbo || !hi->lr) rc = NDYN_ENOMEM;
        }
        double *dst[] = {hi->loss, hi->train_elbo, hi->test_elbo, hi->lr};
        for (size_t q = 0; !rc && q < n; q++) {
            hi->epoch[q] = (int)ndyn_array_get(he, q);
            for (int k = 0; k < 4; k++) dst[k][q] = ndyn_array_get(arr[k], q);
            hi->stage[q] = (int)ndyn_array_get(arr[4], q);
        }
    }
    ndyn_error_clear();
    ndyn_nn_store_free(s);
    ndyn_nn_file_free(f);
    if (rc) {
        ndyn_srnn_model_free(m);
        return ndyn_error_context(rc == NDYN_ENOMEM ? rc : NDYN_EFORMAT, "%s: ", path);
    }
    *out = m;
    return NDYN_OK;
}

int ndyn_srnn_load(const char *path, ndyn_srnn_model **out)
{
    *out = NULL;
    ndyn_dataset *ds;
    int rc = ndyn_dataset_load(path, &ds);
    if (rc) return rc;
    int nn = ndyn_dataset_find(ds, "meta") != NULL;
    ndyn_error_clear();
    if (nn) {
        ndyn_dataset_free(ds);
        return load_nn(path, out);
    }
    rc = load_legacy(ds, path, out);
    ndyn_dataset_free(ds);
    if (!rc) ndyn_error_clear();
    return rc;
}
