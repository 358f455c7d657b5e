/* MARBLE model files: one .npz with the hyper-parameters, weights, BatchNorm
 * statistics, optimiser/scheduler state, best weights and a checksum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "marble/marble_internal.h"

#define MB_FORMAT_VERSION 1
enum { NI = 32, NR = 16 };

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) { h ^= c[i]; h *= 1099511628211ULL; }
    return h;
}

static uint64_t model_checksum(const ndyn_marble_model *m, const int32_t *ip, const double *rp,
                               const double *velocity)
{
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, ip, NI * sizeof(int32_t));
    h = fnv1a(h, rp, NR * sizeof(double));
    h = fnv1a(h, m->params, m->n_params * sizeof(double));
    h = fnv1a(h, m->buffers, m->n_buffers * sizeof(double));
    h = fnv1a(h, velocity, m->n_params * sizeof(double));
    h = fnv1a(h, m->best_params, m->n_params * sizeof(double));
    h = fnv1a(h, m->best_buffers, m->n_buffers * sizeof(double));
    return h;
}

static void pack(const ndyn_marble_model *m, int32_t *ip, double *rp)
{
    const ndyn_marble_params *p = &m->par;
    memset(ip, 0, NI * sizeof *ip);
    memset(rp, 0, NR * sizeof *rp);
    int k = 0;
    ip[k++] = MB_FORMAT_VERSION;
    ip[k++] = p->epochs; ip[k++] = p->batch_size; ip[k++] = p->batch_norm; ip[k++] = p->n_hidden;
    for (int i = 0; i < NDYN_MARBLE_MAX_HIDDEN; i++) ip[k++] = p->hidden[i];
    ip[k++] = p->bias; ip[k++] = p->order; ip[k++] = p->inner_product; ip[k++] = p->diffusion;
    ip[k++] = p->include_positions; ip[k++] = p->include_self; ip[k++] = p->out_channels;
    ip[k++] = p->vec_norm; ip[k++] = p->emb_norm; ip[k++] = p->compat_sampling;
    ip[k++] = p->exclude_neighbour_negatives; ip[k++] = p->lr_patience;
    ip[k++] = (int32_t)m->s; ip[k++] = (int32_t)m->d; ip[k++] = (int32_t)m->dim;
    ip[k++] = m->epoch; ip[k++] = m->best_epoch; ip[k++] = (int32_t)m->sched.num_bad_epochs;
    k = 0;
    rp[k++] = p->lr; rp[k++] = p->momentum; rp[k++] = p->dropout; rp[k++] = p->tau0;
    rp[k++] = p->val_frac; rp[k++] = p->test_frac; rp[k++] = p->lr_factor; rp[k++] = p->lr_threshold;
    rp[k++] = m->opt->p.lr; rp[k++] = m->sched.best; rp[k++] = m->best_val;
}

int ndyn_marble_save(const ndyn_marble_model *m, const char *path)
{
    int32_t ip[NI];
    double rp[NR];
    pack(m, ip, rp);
    /* the optimiser's momentum buffer (none when momentum is 0: zeros) */
    double *zeros = NULL;
    const double *vel = m->opt->m;
    if (!vel && !(vel = zeros = ndyn_calloc(m->n_params, sizeof(double)))) return NDYN_ENOMEM;
    uint64_t seed = m->par.seed, ck = model_checksum(m, ip, rp, vel);
    size_t ni = NI, nr = NR, one = 1, np = m->n_params, nb = m->n_buffers;
    ndyn_array *a[8] = {
        ndyn_array_view(NDYN_I32, 1, &ni, ip),
        ndyn_array_view(NDYN_F64, 1, &nr, rp),
        ndyn_array_view(NDYN_U64, 1, &one, &seed),
        ndyn_array_view(NDYN_F64, 1, &np, m->params),
        ndyn_array_view(NDYN_F64, 1, &nb, m->buffers),
        ndyn_array_view(NDYN_F64, 1, &np, (double *)vel),
        ndyn_array_view(NDYN_F64, 1, &np, m->best_params),
        ndyn_array_view(NDYN_F64, 1, &nb, m->best_buffers),
    };
    ndyn_array *cka = ndyn_array_view(NDYN_U64, 1, &one, &ck);
    const char *names[9] = {"marble_int", "marble_real", "seed", "params", "bn_buffers",
                            "velocity", "best_params", "best_bn_buffers", "checksum"};
    const ndyn_array *arr[9];
    int rc = NDYN_OK;
    for (int i = 0; i < 8; i++) { arr[i] = a[i]; if (!a[i]) rc = NDYN_ENOMEM; }
    arr[8] = cka;
    if (!cka) rc = NDYN_ENOMEM;
    if (!rc) rc = ndyn_npz_write(path, 9, names, arr, 0);
    for (int i = 0; i < 8; i++) ndyn_array_free(a[i]);
    ndyn_array_free(cka);
    free(zeros);
    return rc;
}

static int get_f64(const ndyn_dataset *ds, const char *name, size_t n, const double **out)
{
    const ndyn_array *a;
    int rc = ndyn_dataset_get(ds, name, &a);
    if (rc) return rc;
    if (a->dtype != NDYN_F64 || a->ndim != 1 || a->size != n)
        return ndyn_error(NDYN_EFORMAT, "marble model: array %s has the wrong type or size "
                          "(%zu, want %zu float64)", name, a->size, n);
    *out = a->data;
    return NDYN_OK;
}

int ndyn_marble_load(const char *path, ndyn_marble_model **out)
{
    *out = NULL;
    ndyn_dataset *ds = NULL;
    int rc = ndyn_npz_read(path, &ds);
    if (rc) return rc;
    const ndyn_array *ia, *sa, *cka;
    const double *rp = NULL;
    ndyn_marble_model *m = NULL;
    if ((rc = ndyn_dataset_get(ds, "marble_int", &ia)) ||
        (rc = ndyn_dataset_get(ds, "seed", &sa)) || (rc = ndyn_dataset_get(ds, "checksum", &cka)) ||
        (rc = get_f64(ds, "marble_real", NR, &rp)))
        goto fail;
    if (ia->dtype != NDYN_I32 || ia->size != NI || sa->dtype != NDYN_U64 || sa->size != 1 ||
        cka->dtype != NDYN_U64 || cka->size != 1) {
        rc = ndyn_error(NDYN_EFORMAT, "%s is not an ndyn MARBLE model (header arrays)", path);
        goto fail;
    }
    const int32_t *ip = ia->data;
    if (ip[0] != MB_FORMAT_VERSION) {
        rc = ndyn_error(NDYN_EUNSUPPORTED, "%s: MARBLE model format %d, this ndyn reads %d",
                        path, ip[0], MB_FORMAT_VERSION);
        goto fail;
    }
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    int k = 1;
    p.epochs = ip[k++]; p.batch_size = ip[k++]; p.batch_norm = ip[k++]; p.n_hidden = ip[k++];
    for (int i = 0; i < NDYN_MARBLE_MAX_HIDDEN; i++) p.hidden[i] = ip[k++];
    p.bias = ip[k++]; p.order = ip[k++]; p.inner_product = ip[k++]; p.diffusion = ip[k++];
    p.include_positions = ip[k++]; p.include_self = ip[k++]; p.out_channels = ip[k++];
    p.vec_norm = ip[k++]; p.emb_norm = ip[k++]; p.compat_sampling = ip[k++];
    p.exclude_neighbour_negatives = ip[k++]; p.lr_patience = ip[k++];
    int s = ip[k++], d = ip[k++], dim = ip[k++], epoch = ip[k++], best_epoch = ip[k++],
        bad = ip[k++];
    int r = 0;
    p.lr = rp[r++]; p.momentum = rp[r++]; p.dropout = rp[r++]; p.tau0 = rp[r++];
    p.val_frac = rp[r++]; p.test_frac = rp[r++]; p.lr_factor = rp[r++]; p.lr_threshold = rp[r++];
    p.seed = *(const uint64_t *)sa->data;
    if (s < 1 || d < 1 || dim < 1 || epoch < 0) {
        rc = ndyn_error(NDYN_EFORMAT, "%s: bad model dimensions", path);
        goto fail;
    }
    if ((rc = mb_model_alloc(&p, (size_t)s, (size_t)d, (size_t)dim, &m))) goto fail;
    const double *pa, *ba, *va, *bpa, *bba;
    if ((rc = get_f64(ds, "params", m->n_params, &pa)) ||
        (rc = get_f64(ds, "bn_buffers", m->n_buffers, &ba)) ||
        (rc = get_f64(ds, "velocity", m->n_params, &va)) ||
        (rc = get_f64(ds, "best_params", m->n_params, &bpa)) ||
        (rc = get_f64(ds, "best_bn_buffers", m->n_buffers, &bba)))
        goto fail;
    memcpy(m->params, pa, m->n_params * sizeof(double));
    memcpy(m->buffers, ba, m->n_buffers * sizeof(double));
    if (m->opt->m) memcpy(m->opt->m, va, m->n_params * sizeof(double));
    /* steps taken > 0 makes the next step use the loaded momentum buffer */
    m->opt->t = epoch;
    memcpy(m->best_params, bpa, m->n_params * sizeof(double));
    memcpy(m->best_buffers, bba, m->n_buffers * sizeof(double));
    m->epoch = epoch; m->best_epoch = best_epoch; m->sched.num_bad_epochs = bad;
    m->sched.last_epoch = epoch;
    m->opt->p.lr = rp[8]; m->sched.best = rp[9]; m->best_val = rp[10];
    int32_t ip2[NI];
    double rp2[NR];
    pack(m, ip2, rp2);
    if (model_checksum(m, ip2, rp2, va) != *(const uint64_t *)cka->data) {
        rc = ndyn_error(NDYN_EFORMAT, "%s: checksum mismatch: the model file is damaged", path);
        goto fail;
    }
    if ((rc = ndyn_check_finite(m->params, m->n_params, "marble model weights"))) goto fail;
    ndyn_dataset_free(ds);
    *out = m;
    return NDYN_OK;
fail:
    ndyn_marble_model_free(m);
    ndyn_dataset_free(ds);
    return ndyn_error_context(rc, "loading %s: ", path);
}
