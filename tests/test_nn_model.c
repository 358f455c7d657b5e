/* Parameter store, model files and error handling: save-then-load
 * reproduces outputs bit for bit and resumes training exactly; every
 * mismatch or corruption of a model file is refused with a clear error; bad
 * shapes and arguments fail cleanly; results do not depend on the BLAS
 * thread count. */
#include "test.h"

#include <cblas.h>
#include <unistd.h>

#include "ndyn/io.h"
#include "ndyn/nn.h"

/* A small model: MLP 5 -> 8 -> 3 with BatchNorm and dropout, plus an RNN
 * 3 -> 4 and a learned log-variance, in one store. */
typedef struct model {
    ndyn_nn_store *s;
    ndyn_nn_mlp mlp;
    ndyn_nn_rnn rnn;
    int logvar;
    ndyn_nn_mlp_cache *mc;
    ndyn_nn_rnn_cache *rc;
} model;

enum { B = 6, T = 5, IN = 5, HID = 8, OUT = 3, H = 4 };

static int model_build(model *m, size_t hidden)
{
    memset(m, 0, sizeof *m);
    m->s = ndyn_nn_store_new();
    ndyn_nn_mlp_opts o;
    ndyn_nn_mlp_opts_default(&o);
    o.dropout = 0.2;
    size_t w[3] = {IN, hidden, OUT};
    size_t hh = H;
    int rc = ndyn_nn_mlp_add(m->s, "enc", 3, w, &o, &m->mlp);
    if (!rc) rc = ndyn_nn_rnn_add(m->s, "dyn", OUT, H, 1, 1, &m->rnn);
    if (!rc) rc = ndyn_nn_store_add(m->s, "logvar", 1, &hh, NDYN_NN_NO_DECAY, &m->logvar);
    if (!rc) rc = ndyn_nn_mlp_cache_alloc(&m->mlp, B * T, &m->mc);
    if (!rc) rc = ndyn_nn_rnn_cache_alloc(&m->rnn, T, B, &m->rc);
    return rc;
}

static void model_free(model *m)
{
    ndyn_nn_mlp_cache_free(m->mc);
    ndyn_nn_rnn_cache_free(m->rc);
    ndyn_nn_store_free(m->s);
}

static void model_init(model *m, uint64_t seed)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    ndyn_nn_mlp_init(&m->mlp, m->s, &r);
    ndyn_nn_rnn_init(&m->rnn, m->s, &r);
}

/* Loss: y (T B, IN) -> MLP -> (T, B, OUT) as RNN input -> h; Gaussian NLL of
 * h against a target with the learned log-variance. Fills gradients. */
static double model_loss(model *m, const double *y, const double *target, int train,
                         ndyn_rng *rng, int backward)
{
    double e[T * B * OUT], hs[T * B * H], dhs[T * B * H] = {0}, de[T * B * OUT] = {0};
    CHECK_OK(ndyn_nn_mlp_forward(&m->mlp, m->s, m->mc, e, y, T * B, train, rng));
    CHECK_OK(ndyn_nn_rnn_apply(&m->rnn, m->s, m->rc, hs, e, NULL, T, B));
    const double *lv = ndyn_nn_store_data(m->s, m->logvar);
    double l = ndyn_nn_gaussian_nll_forward(hs, target, lv, T * B, H, 0, 1, NDYN_NN_MEAN);
    if (backward) {
        ndyn_nn_store_zero_grad(m->s);
        ndyn_nn_gaussian_nll_backward(dhs, ndyn_nn_store_grad(m->s, m->logvar), hs, target, lv,
                                      T * B, H, 0, 1, NDYN_NN_MEAN, 1.0);
        CHECK_OK(ndyn_nn_rnn_apply_backward(&m->rnn, m->s, m->rc, de, NULL, dhs, hs, e, NULL, T, B));
        CHECK_OK(ndyn_nn_mlp_backward(&m->mlp, m->s, m->mc, NULL, de, T * B));
    }
    return l;
}

static void data(double *y, double *target)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 77, 0);
    for (int i = 0; i < T * B * IN; i++) y[i] = ndyn_rng_normal(&r);
    for (int i = 0; i < T * B * H; i++) target[i] = 0.5 * ndyn_rng_normal(&r);
}

static void train_steps(model *m, ndyn_nn_optim *o, ndyn_nn_sched *sc, ndyn_rng *rng, int n,
                        const double *y, const double *target)
{
    for (int k = 0; k < n; k++) {
        double l = model_loss(m, y, target, 1, rng, 1);
        CHECK_OK(ndyn_nn_clip_grad_norm(m->s, 5.0, NULL));
        CHECK_OK(ndyn_nn_optim_step(o, m->s));
        CHECK_OK(ndyn_nn_sched_step(sc, o, l, NULL));
    }
}

static const char *tmp(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    return t_tmp(name, buf[k], sizeof buf[k]);
}

TEST(store_basics)
{
    ndyn_nn_store *s = ndyn_nn_store_new();
    size_t sh[2] = {3, 4};
    int a, b, c;
    CHECK_OK(ndyn_nn_store_add(s, "a.weight", 2, sh, 0, &a));
    CHECK_OK(ndyn_nn_store_add(s, "a.scalar", 0, NULL, 0, &b));
    CHECK_OK(ndyn_nn_store_add(s, "a.stat", 1, sh, NDYN_NN_BUFFER, &c));
    CHECK(s->size == 12 + 1 + 3 && s->n == 3);
    CHECK(ndyn_nn_store_data(s, b) == s->data + 12 && ndyn_nn_store_grad(s, c) == s->grad + 13);
    CHECK(ndyn_nn_store_num_trainable(s) == 13);
    CHECK_FAILS(ndyn_nn_store_add(s, "a.weight", 1, sh, 0, NULL), NDYN_EINVAL);  /* duplicate */
    CHECK(strstr(ndyn_errmsg(), "a.weight") != NULL);
    CHECK_FAILS(ndyn_nn_store_add(s, "bad name", 1, sh, 0, NULL), NDYN_EINVAL);
    size_t z = 0;
    CHECK_FAILS(ndyn_nn_store_add(s, "zero", 1, &z, 0, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_store_add(s, "deep", 5, sh, 0, NULL), NDYN_EINVAL);
    size_t huge[2] = {(size_t)1 << 40, (size_t)1 << 40};
    CHECK_FAILS(ndyn_nn_store_add(s, "huge", 2, huge, 0, NULL), NDYN_ENOMEM);
    int idx;
    CHECK_OK(ndyn_nn_store_find(s, "a.stat", &idx));
    CHECK(idx == c);
    CHECK_FAILS(ndyn_nn_store_find(s, "nope", &idx), NDYN_ENOTFOUND);
    CHECK(strstr(ndyn_errmsg(), "a.scalar") != NULL);  /* lists what exists */
    CHECK(ndyn_nn_store_data(s, 3) == NULL && ndyn_nn_store_data(s, -1) == NULL);
    /* grad norm skips buffers; clipping scales trainable gradients only */
    for (size_t i = 0; i < s->size; i++) s->grad[i] = 1.0;
    CHECK_CLOSE(ndyn_nn_store_grad_norm(s), sqrt(13.0), 1e-15, 0);
    double norm;
    CHECK_OK(ndyn_nn_clip_grad_norm(s, 1.0, &norm));
    CHECK_CLOSE(norm, sqrt(13.0), 1e-15, 0);
    CHECK_CLOSE(ndyn_nn_store_grad_norm(s), 1.0, 1e-6, 0);
    CHECK(s->grad[13] == 1.0);
    s->grad[0] = NAN;
    CHECK_FAILS(ndyn_nn_clip_grad_norm(s, 1.0, NULL), NDYN_ENONFINITE);
    ndyn_nn_store_free(s);
}

TEST(init_defaults)
{
    /* PyTorch bounds: Linear U(+-1/sqrt(fan_in)), RNN U(+-1/sqrt(H)); BN 1/0/0/1 */
    model m;
    CHECK_OK(model_build(&m, 64));
    model_init(&m, 3);
    const ndyn_nn_param *w = ndyn_nn_store_param(m.s, m.mlp.lin[0].weight);
    double mx = 0, mean = 0, var = 0;
    for (size_t i = 0; i < w->size; i++) {
        double v = m.s->data[w->offset + i];
        mx = fmax(mx, fabs(v));
        mean += v;
        var += v * v;
    }
    mean /= w->size, var /= w->size;
    double bound = 1 / sqrt(5.0);
    CHECK(mx <= bound && mx > 0.9 * bound);
    CHECK_CLOSE(var, bound * bound / 3, 0, 0.2);   /* uniform variance b^2/3 */
    CHECK(fabs(mean) < 4 * bound / sqrt(3.0 * w->size));
    const double *rv = ndyn_nn_store_data(m.s, m.mlp.bn_var[0]);
    const double *bw = ndyn_nn_store_data(m.s, m.mlp.bn_weight[0]);
    for (int j = 0; j < 64; j++) CHECK(rv[j] == 1.0 && bw[j] == 1.0);
    const ndyn_nn_param *hh = ndyn_nn_store_param(m.s, m.rnn.weight_hh);
    for (size_t i = 0; i < hh->size; i++) CHECK(fabs(m.s->data[hh->offset + i]) <= 0.5);
    CHECK(ndyn_nn_store_param(m.s, m.mlp.bn_mean[0])->flags == NDYN_NN_BUFFER);
    int idx;
    CHECK_OK(ndyn_nn_store_find(m.s, "enc.lins.1.bias", &idx));
    CHECK_OK(ndyn_nn_store_find(m.s, "enc.norms.0.running_var", &idx));
    CHECK_OK(ndyn_nn_store_find(m.s, "dyn.weight_hh", &idx));
    CHECK_FAILS(ndyn_nn_store_find(m.s, "enc.norms.1.weight", &idx), NDYN_ENOTFOUND); /* plain last */
    model_free(&m);
}

TEST(save_load_bit_identical_and_resume)
{
    double y[T * B * IN], target[T * B * H];
    data(y, target);
    ndyn_nn_optim_params p;
    ndyn_nn_optim_params_default(&p, NDYN_NN_ADAMW);
    p.lr = 0.01;

    /* reference: 6 steps straight */
    model ref;
    CHECK_OK(model_build(&ref, HID));
    model_init(&ref, 1);
    ndyn_nn_optim *oref = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&p, ref.s, &oref));
    ndyn_nn_sched sref;
    ndyn_nn_plateau_init(&sref);
    sref.patience = 1;
    ndyn_rng rref;
    ndyn_rng_init(&rref, 5, 0);
    train_steps(&ref, oref, &sref, &rref, 6, y, target);

    /* 3 steps, save, load into a fresh model, 3 more */
    model a;
    CHECK_OK(model_build(&a, HID));
    model_init(&a, 1);
    ndyn_nn_optim *oa = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&p, a.s, &oa));
    ndyn_nn_sched sa;
    ndyn_nn_plateau_init(&sa);
    sa.patience = 1;
    ndyn_rng ra;
    ndyn_rng_init(&ra, 5, 0);
    train_steps(&a, oa, &sa, &ra, 3, y, target);
    ndyn_nn_hparams *hp = ndyn_nn_hparams_new();
    CHECK_OK(ndyn_nn_hparams_set_int(hp, "hidden", HID));
    CHECK_OK(ndyn_nn_hparams_set_num(hp, "lr", 0.1));
    CHECK_OK(ndyn_nn_hparams_set_num(hp, "tiny", 1e-300 / 3));
    CHECK_OK(ndyn_nn_hparams_set_str(hp, "note", "MARBLE-like test model"));
    ndyn_dataset *extra = ndyn_dataset_new();
    ndyn_array *ex = ndyn_array_alloc1(NDYN_I32, 3);
    ((int32_t *)ex->data)[2] = 42;
    CHECK_OK(ndyn_dataset_add(extra, "labels", ex, NULL));
    const char *path = tmp("model.npz");
    CHECK_OK(ndyn_nn_save(path, "testmodel", a.s, hp, oa, &sa, extra));

    ndyn_nn_file *f = NULL;
    CHECK_OK(ndyn_nn_file_read(path, "testmodel", &f));
    if (!f) return;
    CHECK(strcmp(ndyn_nn_file_kind(f), "testmodel") == 0);
    const ndyn_nn_hparams *fh = ndyn_nn_file_hparams(f);
    int64_t hid = 0;
    double lr = 0, tiny = 0;
    const char *note = NULL;
    CHECK_OK(ndyn_nn_hparams_get_int(fh, "hidden", &hid));
    CHECK_OK(ndyn_nn_hparams_get_num(fh, "lr", &lr));
    CHECK_OK(ndyn_nn_hparams_get_num(fh, "tiny", &tiny));
    CHECK_OK(ndyn_nn_hparams_get_str(fh, "note", &note));
    CHECK(hid == HID && lr == 0.1 && tiny == 1e-300 / 3 && note && strcmp(note, "MARBLE-like test model") == 0);
    CHECK_FAILS(ndyn_nn_hparams_get_int(fh, "lr", &hid), NDYN_EFORMAT);
    CHECK_FAILS(ndyn_nn_hparams_get_num(fh, "absent", &lr), NDYN_ENOTFOUND);
    const ndyn_array *exa = NULL;
    CHECK_OK(ndyn_dataset_get(ndyn_nn_file_extra(f), "labels", &exa));
    CHECK(exa && exa->dtype == NDYN_I32 && ((int32_t *)exa->data)[2] == 42);

    model b;
    CHECK_OK(model_build(&b, (size_t)hid));
    CHECK_OK(ndyn_nn_file_load_store(f, b.s));
    CHECK(memcmp(a.s->data, b.s->data, a.s->size * sizeof(double)) == 0);
    /* eval outputs bit for bit */
    double ea[T * B * OUT], eb[T * B * OUT];
    CHECK_OK(ndyn_nn_mlp_forward(&a.mlp, a.s, a.mc, ea, y, T * B, 0, NULL));
    CHECK_OK(ndyn_nn_mlp_forward(&b.mlp, b.s, b.mc, eb, y, T * B, 0, NULL));
    CHECK(memcmp(ea, eb, sizeof ea) == 0);
    ndyn_nn_optim_params pb;
    ndyn_nn_optim_params_default(&pb, NDYN_NN_ADAMW);
    ndyn_nn_optim *ob = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&pb, b.s, &ob));
    CHECK(ndyn_nn_file_has_optim(f) && ndyn_nn_file_has_sched(f));
    CHECK_OK(ndyn_nn_file_load_optim(f, b.s, ob));
    ndyn_nn_sched sb;
    CHECK_OK(ndyn_nn_file_load_sched(f, &sb));
    CHECK(ob->t == 3 && ob->p.lr == oa->p.lr && sb.best == sa.best);
    /* resume: the generator state is the caller's; continue from ra */
    train_steps(&b, ob, &sb, &ra, 3, y, target);
    CHECK(memcmp(ref.s->data, b.s->data, ref.s->size * sizeof(double)) == 0);
    CHECK(memcmp(oref->m, ob->m, ref.s->size * sizeof(double)) == 0);
    CHECK(ob->p.lr == oref->p.lr && sb.num_bad_epochs == sref.num_bad_epochs);

    /* wrong kinds and shapes */
    ndyn_nn_file *g = NULL;
    CHECK_FAILS(ndyn_nn_file_read(path, "srnn", &g), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "testmodel") != NULL);
    model c;
    CHECK_OK(model_build(&c, HID + 1));
    CHECK_FAILS(ndyn_nn_file_load_store(f, c.s), NDYN_ESHAPE);
    CHECK(strstr(ndyn_errmsg(), "enc.lins.0.weight") != NULL);
    model_free(&c);
    /* a model lacking a tensor of the file / having one the file lacks */
    ndyn_nn_store *s2 = ndyn_nn_store_new();
    ndyn_nn_mlp m2;
    size_t w2[3] = {IN, HID, OUT};
    ndyn_nn_mlp_opts o2;
    ndyn_nn_mlp_opts_default(&o2);
    CHECK_OK(ndyn_nn_mlp_add(s2, "enc", 3, w2, &o2, &m2));
    CHECK_FAILS(ndyn_nn_file_load_store(f, s2), NDYN_ESHAPE);
    CHECK(strstr(ndyn_errmsg(), "dyn.") != NULL || strstr(ndyn_errmsg(), "logvar") != NULL);
    size_t one = 1;
    CHECK_OK(ndyn_nn_store_add(s2, "other", 1, &one, 0, NULL));
    CHECK_FAILS(ndyn_nn_file_load_store(f, s2), NDYN_ENOTFOUND);
    CHECK(strstr(ndyn_errmsg(), "other") != NULL);
    ndyn_nn_store_free(s2);
    ndyn_nn_optim_params ps;
    ndyn_nn_optim_params_default(&ps, NDYN_NN_SGD);
    ndyn_nn_optim *os = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&ps, b.s, &os));
    CHECK_FAILS(ndyn_nn_file_load_optim(f, b.s, os), NDYN_EINVAL);
    ndyn_nn_optim_free(os);

    ndyn_nn_file_free(f);
    ndyn_nn_hparams_free(hp);
    ndyn_dataset_free(extra);
    ndyn_nn_optim_free(oref);
    ndyn_nn_optim_free(oa);
    ndyn_nn_optim_free(ob);
    model_free(&ref);
    model_free(&a);
    model_free(&b);
}

/* Rewrite a saved model with one array changed (as a user editing weights
 * with NumPy would): the checksum refuses it. */
TEST(model_file_corruption)
{
    model a;
    CHECK_OK(model_build(&a, HID));
    model_init(&a, 2);
    const char *path = tmp("m2.npz"), *bad = tmp("m2bad.npz");
    CHECK_OK(ndyn_nn_save(path, "testmodel", a.s, NULL, NULL, NULL, NULL));
    ndyn_nn_file *f = NULL;
    CHECK_OK(ndyn_nn_file_read(path, NULL, &f));
    CHECK(f && !ndyn_nn_file_has_optim(f) && !ndyn_nn_file_has_sched(f));
    ndyn_nn_file_free(f);
    f = NULL;

    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(path, &ds));
    if (!ds) return;
    const char *names[64];
    const ndyn_array *arrs[64];
    size_t n = ds->n;
    for (size_t i = 0; i < n && i < 64; i++) names[i] = ds->items[i].name, arrs[i] = ds->items[i].array;
    /* 1: one weight changed */
    const ndyn_array *w = NULL;
    CHECK_OK(ndyn_dataset_get(ds, "param/enc.lins.0.weight", &w));
    ((double *)w->data)[3] += 1e-12;
    CHECK_OK(ndyn_npz_write(bad, n, names, arrs, 0));
    CHECK_FAILS(ndyn_nn_file_read(bad, NULL, &f), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "checksum") != NULL);
    ((double *)w->data)[3] -= 1e-12;
    /* 2: an array left out */
    CHECK_OK(ndyn_npz_write(bad, n - 1, names, arrs, 0));
    CHECK_FAILS(ndyn_nn_file_read(bad, NULL, &f), NDYN_EFORMAT);
    /* 3: an unlisted array added */
    ndyn_array *extra = ndyn_array_alloc1(NDYN_F64, 2);
    names[n] = "param/sneaky";
    arrs[n] = extra;
    CHECK_OK(ndyn_npz_write(bad, n + 1, names, arrs, 0));
    CHECK_FAILS(ndyn_nn_file_read(bad, NULL, &f), NDYN_EFORMAT);
    ndyn_array_free(extra);
    /* 4: a newer format version */
    const ndyn_array *meta = NULL;
    CHECK_OK(ndyn_dataset_get(ds, "meta", &meta));
    char *mt = meta->data;
    char *v = strstr(mt, "version\t1\n");
    CHECK(v != NULL);
    if (v) {
        v[8] = '9';
        CHECK_OK(ndyn_npz_write(bad, n, names, arrs, 0));
        CHECK_FAILS(ndyn_nn_file_read(bad, NULL, &f), NDYN_EUNSUPPORTED);
        CHECK(strstr(ndyn_errmsg(), "upgrade") != NULL);
        v[8] = '1';
    }
    /* 5: a weight of another dtype */
    const ndyn_array *w32 = ndyn_array_cast(w, NDYN_F32);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "param/enc.lins.0.weight") == 0) arrs[i] = w32;
    CHECK_OK(ndyn_npz_write(bad, n, names, arrs, 0));
    CHECK_FAILS(ndyn_nn_file_read(bad, NULL, &f), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "float32") != NULL);
    ndyn_array_free((ndyn_array *)w32);
    ndyn_dataset_free(ds);
    /* 6: truncated file, not a zip, missing file */
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(ndyn_read_file(path, 1 << 24, &buf, &len));
    CHECK_OK(ndyn_write_file_atomic(bad, buf, len / 2));
    CHECK(ndyn_nn_file_read(bad, NULL, &f) != 0 && f == NULL);
    CHECK_OK(ndyn_write_file_atomic(bad, "hello", 5));
    CHECK(ndyn_nn_file_read(bad, NULL, &f) != 0 && f == NULL);
    CHECK(ndyn_nn_file_read(tmp("does-not-exist.npz"), NULL, &f) != 0 && f == NULL);
    /* 7: an ordinary .npz that is not a model */
    ndyn_array *plain = ndyn_array_alloc1(NDYN_F64, 3);
    const char *pn[1] = {"x"};
    const ndyn_array *pa[1] = {plain};
    CHECK_OK(ndyn_npz_write(bad, 1, pn, pa, 0));
    CHECK_FAILS(ndyn_nn_file_read(bad, NULL, &f), NDYN_EFORMAT);
    ndyn_array_free(plain);
    free(buf);
    model_free(&a);
}

TEST(bad_arguments)
{
    ndyn_nn_store *s = ndyn_nn_store_new();
    ndyn_nn_mlp mlp;
    size_t w[3] = {4, 6, 2}, w0[3] = {4, 0, 2};
    CHECK_FAILS(ndyn_nn_mlp_add(s, "m", 1, w, NULL, &mlp), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_mlp_add(s, "m", 3, w0, NULL, &mlp), NDYN_EINVAL);
    ndyn_nn_mlp_opts o;
    ndyn_nn_mlp_opts_default(&o);
    o.dropout = 1.0;
    CHECK_FAILS(ndyn_nn_mlp_add(s, "m", 3, w, &o, &mlp), NDYN_EINVAL);
    o.dropout = 0.5;
    CHECK_OK(ndyn_nn_mlp_add(s, "m", 3, w, &o, &mlp));
    CHECK_FAILS(ndyn_nn_mlp_add(s, "m", 3, w, &o, &mlp), NDYN_EINVAL);  /* names taken */
    ndyn_nn_mlp_cache *c = NULL;
    CHECK_OK(ndyn_nn_mlp_cache_alloc(&mlp, 4, &c));
    double x[5 * 4] = {0}, out[5 * 2], d[5 * 2] = {0};
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    CHECK_FAILS(ndyn_nn_mlp_forward(&mlp, s, c, out, x, 5, 0, NULL), NDYN_ESHAPE);  /* > max */
    CHECK_FAILS(ndyn_nn_mlp_forward(&mlp, s, c, out, x, 1, 1, &r), NDYN_EINVAL);    /* BN B=1 */
    CHECK_FAILS(ndyn_nn_mlp_forward(&mlp, s, c, out, x, 3, 1, NULL), NDYN_EINVAL);  /* no rng */
    CHECK_FAILS(ndyn_nn_mlp_backward(&mlp, s, c, NULL, d, 3), NDYN_EINVAL);  /* no forward */
    CHECK_OK(ndyn_nn_mlp_forward(&mlp, s, c, out, x, 1, 0, NULL));  /* eval: B = 1 is fine */
    CHECK_FAILS(ndyn_nn_mlp_backward(&mlp, s, c, NULL, d, 2), NDYN_EINVAL);  /* other batch */
    ndyn_nn_store *other = ndyn_nn_store_new();
    CHECK_FAILS(ndyn_nn_mlp_forward(&mlp, other, c, out, x, 2, 0, NULL), NDYN_ESHAPE);
    ndyn_nn_store_free(other);
    double m[4], rs[4], v[2] = {1, 2};
    CHECK_FAILS(ndyn_nn_batchnorm_forward_train(v, m, rs, NULL, NULL, v, NULL, NULL, 1, 2, 0.1,
                                                1e-5), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_dropout_forward(v, m, v, 2, -0.1, &r), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_dropout_forward(v, m, v, 2, 0.5, NULL), NDYN_EINVAL);

    /* RNN module shapes */
    ndyn_nn_rnn rnn;
    CHECK_FAILS(ndyn_nn_rnn_add(s, "r", 0, 4, 1, 0, &rnn), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_rnn_add(s, "r", 3, 0, 1, 1, &rnn), NDYN_EINVAL);
    CHECK_OK(ndyn_nn_rnn_add(s, "r", 3, 4, 1, 1, &rnn));
    ndyn_nn_rnn_cache *rc = NULL;
    CHECK_OK(ndyn_nn_rnn_cache_alloc(&rnn, 5, 2, &rc));
    double hs[5 * 2 * 4], xs[5 * 2 * 3] = {0};
    CHECK_FAILS(ndyn_nn_rnn_apply(&rnn, s, rc, hs, xs, NULL, 6, 2), NDYN_ESHAPE);
    CHECK_FAILS(ndyn_nn_rnn_apply(&rnn, s, rc, hs, NULL, NULL, 5, 2), NDYN_EINVAL);
    CHECK_OK(ndyn_nn_rnn_apply(&rnn, s, rc, hs, xs, NULL, 5, 2));
    CHECK_FAILS(ndyn_nn_rnn_apply(&rnn, s, rc, hs, xs, NULL, 5, 3), NDYN_ESHAPE);
    CHECK_FAILS(ndyn_nn_rnn_apply(&rnn, s, rc, hs, xs, NULL, 0, 2), NDYN_ESHAPE);
    /* a shorter sequence in the same cache gives the same first steps */
    double hs3[3 * 2 * 4];
    CHECK_OK(ndyn_nn_rnn_apply(&rnn, s, rc, hs3, xs, NULL, 3, 2));
    CHECK(memcmp(hs3, hs, sizeof hs3) == 0);
    ndyn_nn_rnn gru;
    CHECK_OK(ndyn_nn_gru_add(s, "g", 3, 4, 1, &gru));
    CHECK_FAILS(ndyn_nn_rnn_apply(&gru, s, rc, hs, xs, NULL, 5, 2), NDYN_EINVAL);

    /* optimisers and schedules */
    ndyn_nn_optim_params p;
    ndyn_nn_optim_params_default(&p, NDYN_NN_SGD);
    p.nesterov = 1;
    ndyn_nn_optim *opt = NULL;
    CHECK_FAILS(ndyn_nn_optim_alloc(&p, s, &opt), NDYN_EINVAL);
    ndyn_nn_optim_params_default(&p, NDYN_NN_ADAM);
    p.beta2 = 1.0;
    CHECK_FAILS(ndyn_nn_optim_alloc(&p, s, &opt), NDYN_EINVAL);
    p.beta2 = 0.999;
    p.lr = NAN;
    CHECK_FAILS(ndyn_nn_optim_alloc(&p, s, &opt), NDYN_EINVAL);
    p.lr = 1e-3;
    CHECK_OK(ndyn_nn_optim_alloc(&p, s, &opt));
    double before = s->data[0];
    s->grad[2] = INFINITY;
    CHECK_FAILS(ndyn_nn_optim_step(opt, s), NDYN_ENONFINITE);
    CHECK(strstr(ndyn_errmsg(), "m.lins.0.weight") != NULL && s->data[0] == before);
    ndyn_nn_store_zero_grad(s);
    size_t one = 1;
    CHECK_OK(ndyn_nn_store_add(s, "late", 1, &one, 0, NULL));
    CHECK_FAILS(ndyn_nn_optim_step(opt, s), NDYN_ESHAPE);
    ndyn_nn_sched sc;
    ndyn_nn_steplr_init(&sc, 0, 0.5);
    CHECK_FAILS(ndyn_nn_sched_step(&sc, opt, 0, NULL), NDYN_EINVAL);
    ndyn_nn_plateau_init(&sc);
    sc.factor = 1.5;
    CHECK_FAILS(ndyn_nn_sched_step(&sc, opt, 0, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_save(tmp("x.npz"), "bad kind!", s, NULL, NULL, NULL, NULL), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_save(tmp("x.npz"), "ok", s, NULL, opt, NULL, NULL), NDYN_ESHAPE);

    /* hyper-parameters */
    ndyn_nn_hparams *hp = ndyn_nn_hparams_new();
    CHECK_FAILS(ndyn_nn_hparams_set_num(hp, "bad key", 1), NDYN_EINVAL);
    CHECK_FAILS(ndyn_nn_hparams_set_str(hp, "k", "two\nlines"), NDYN_EINVAL);
    CHECK_OK(ndyn_nn_hparams_set_int(hp, "k", 3));
    CHECK_OK(ndyn_nn_hparams_set_int(hp, "k", 4));   /* replaces */
    CHECK(ndyn_nn_hparams_count(hp) == 1 && strcmp(ndyn_nn_hparams_key(hp, 0), "k") == 0);
    double dv;
    CHECK_OK(ndyn_nn_hparams_get_num(hp, "k", &dv));
    CHECK(dv == 4.0);
    ndyn_nn_hparams_free(hp);

    ndyn_nn_optim_free(opt);
    ndyn_nn_rnn_cache_free(rc);
    ndyn_nn_mlp_cache_free(c);
    ndyn_nn_store_free(s);
}

/* The same training step with 1 and 2 BLAS threads gives the same bits, on
 * a layer large enough for OpenBLAS to split the work. */
TEST(thread_count_independence)
{
    enum { NB = 512, C = 256, OC = 256 };
    double *x = malloc(sizeof(double) * NB * C), *wt = malloc(sizeof(double) * OC * C);
    double *o1 = malloc(sizeof(double) * NB * OC), *o2 = malloc(sizeof(double) * NB * OC);
    double *g1 = calloc(OC * C, sizeof(double)), *g2 = calloc(OC * C, sizeof(double));
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    for (int i = 0; i < NB * C; i++) x[i] = ndyn_rng_normal(&r);
    for (int i = 0; i < OC * C; i++) wt[i] = ndyn_rng_normal(&r);
    openblas_set_num_threads(1);
    ndyn_nn_linear_forward(o1, x, wt, NULL, NB, C, OC);
    ndyn_nn_linear_backward(NULL, g1, NULL, o1, x, wt, NB, C, OC);
    openblas_set_num_threads(2);
    ndyn_nn_linear_forward(o2, x, wt, NULL, NB, C, OC);
    ndyn_nn_linear_backward(NULL, g2, NULL, o2, x, wt, NB, C, OC);
    openblas_set_num_threads(1);
    CHECK(memcmp(o1, o2, sizeof(double) * NB * OC) == 0);
    CHECK(memcmp(g1, g2, sizeof(double) * OC * C) == 0);
    free(x), free(wt), free(o1), free(o2), free(g1), free(g2);
}

/* A model file written by NumPy from the format description (docs/nn.md,
 * python/make_nn_fixtures.py model_file()): ndyn reads every field, and its
 * checksum definition agrees with Python's zlib. */
TEST(python_written_model_file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/nn/model_v1.npz", NDYN_TEST_FIXTURES);
    ndyn_nn_file *f = NULL;
    CHECK_OK(ndyn_nn_file_read(path, "pyfixture", &f));
    if (!f) return;
    ndyn_nn_store *s = ndyn_nn_store_new();
    size_t w[2] = {3, 4}, three = 3;
    int iw, ib, im, it;
    CHECK_OK(ndyn_nn_store_add(s, "lin.weight", 2, w, 0, &iw));
    CHECK_OK(ndyn_nn_store_add(s, "lin.bias", 1, &three, 0, &ib));
    CHECK_OK(ndyn_nn_store_add(s, "bn.running_mean", 1, &three, NDYN_NN_BUFFER, &im));
    CHECK_OK(ndyn_nn_store_add(s, "t", 0, NULL, NDYN_NN_NO_DECAY, &it));
    CHECK_OK(ndyn_nn_file_load_store(f, s));
    const double *wd = ndyn_nn_store_data(s, iw), *bd = ndyn_nn_store_data(s, ib);
    for (int i = 0; i < 12; i++) CHECK(wd[i] == (i - 5.5) / 7.0);
    CHECK(bd[0] == 0.25 && bd[1] == -1.5 && bd[2] == 3.0);
    CHECK(ndyn_nn_store_data(s, im)[2] == 0.3 && *ndyn_nn_store_data(s, it) == 0.125);
    ndyn_nn_optim_params p;
    ndyn_nn_optim_params_default(&p, NDYN_NN_ADAM);
    ndyn_nn_optim *o = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&p, s, &o));
    CHECK_OK(ndyn_nn_file_load_optim(f, s, o));
    CHECK(o->t == 7 && o->p.lr == 1e-3 / 3 && o->initial_lr == 1e-3);
    CHECK(o->m[5] == 0.5 * wd[5] && o->v[12] == 0.0625 && o->v[18] == 0.125 * 0.125 && o->v[15] == 0.1 * 0.1);
    ndyn_nn_sched sc;
    CHECK_OK(ndyn_nn_file_load_sched(f, &sc));
    CHECK(sc.kind == NDYN_NN_SCHED_PLATEAU && sc.best == 0.4375 && sc.num_bad_epochs == 3 &&
          sc.last_epoch == 12 && sc.patience == 10);
    int64_t hid;
    double lr;
    const char *nm;
    CHECK_OK(ndyn_nn_hparams_get_int(ndyn_nn_file_hparams(f), "hidden", &hid));
    CHECK_OK(ndyn_nn_hparams_get_num(ndyn_nn_file_hparams(f), "lr", &lr));
    CHECK_OK(ndyn_nn_hparams_get_str(ndyn_nn_file_hparams(f), "name", &nm));
    CHECK(hid == 32 && lr == 0.01 && strcmp(nm, "py fixture") == 0);
    const ndyn_array *lab = NULL;
    CHECK_OK(ndyn_dataset_get(ndyn_nn_file_extra(f), "labels", &lab));
    CHECK(lab && lab->dtype == NDYN_I32 && lab->size == 5 && ((int32_t *)lab->data)[4] == 5);
    /* saving it again and reading back gives the same store */
    const char *again = tmp("model_v1_again.npz");
    CHECK_OK(ndyn_nn_save(again, "pyfixture", s, ndyn_nn_file_hparams(f), o, &sc,
                          ndyn_nn_file_extra(f)));
    ndyn_nn_file *g = NULL;
    CHECK_OK(ndyn_nn_file_read(again, "pyfixture", &g));
    ndyn_nn_store *s2 = ndyn_nn_store_new();
    CHECK_OK(ndyn_nn_store_add(s2, "lin.weight", 2, w, 0, NULL));
    CHECK_OK(ndyn_nn_store_add(s2, "lin.bias", 1, &three, 0, NULL));
    CHECK_OK(ndyn_nn_store_add(s2, "bn.running_mean", 1, &three, NDYN_NN_BUFFER, NULL));
    CHECK_OK(ndyn_nn_store_add(s2, "t", 0, NULL, NDYN_NN_NO_DECAY, NULL));
    if (g) CHECK_OK(ndyn_nn_file_load_store(g, s2));
    CHECK(memcmp(s->data, s2->data, s->size * sizeof(double)) == 0);
    ndyn_nn_file_free(g);
    ndyn_nn_store_free(s2);
    ndyn_nn_optim_free(o);
    ndyn_nn_store_free(s);
    ndyn_nn_file_free(f);
}

/* The pieces together learn: an MLP 1 -> 16 -> 16 -> 1 (tanh) with Adam and
 * StepLR fits sin(3x) on [-1, 1] to a small error; a second store with the
 * same layout compares equal; resetting the optimiser zeroes its state. */
TEST(training_converges)
{
    enum { NP = 64, STEPS = 1500 };
    double x[NP], y[NP], out[NP], dout[NP];
    for (int i = 0; i < NP; i++) x[i] = -1 + 2.0 * i / (NP - 1), y[i] = sin(3 * x[i]);
    ndyn_nn_store *s = ndyn_nn_store_new(), *s2 = ndyn_nn_store_new();
    ndyn_nn_mlp mlp, mlp2;
    ndyn_nn_mlp_opts o;
    ndyn_nn_mlp_opts_default(&o);
    o.batch_norm = 0, o.act = NDYN_NN_ACT_TANH;
    size_t w[4] = {1, 16, 16, 1};
    CHECK_OK(ndyn_nn_mlp_add(s, "f", 4, w, &o, &mlp));
    CHECK_OK(ndyn_nn_mlp_add(s2, "f", 4, w, &o, &mlp2));
    CHECK_OK(ndyn_nn_store_check_same(s, s2));
    ndyn_rng r;
    ndyn_rng_init(&r, 4, 0);
    ndyn_nn_mlp_init(&mlp, s, &r);
    ndyn_nn_mlp_cache *c = NULL;
    CHECK_OK(ndyn_nn_mlp_cache_alloc(&mlp, NP, &c));
    ndyn_nn_optim_params p;
    ndyn_nn_optim_params_default(&p, NDYN_NN_ADAM);
    p.lr = 0.02;
    ndyn_nn_optim *opt = NULL;
    CHECK_OK(ndyn_nn_optim_alloc(&p, s, &opt));
    ndyn_nn_sched sc;
    ndyn_nn_steplr_init(&sc, 500, 0.3);
    double first = 0, loss = 0;
    for (int k = 0; k < STEPS && opt && c; k++) {
        ndyn_nn_store_zero_grad(s);
        CHECK_OK(ndyn_nn_mlp_forward(&mlp, s, c, out, x, NP, 1, NULL));
        loss = ndyn_nn_mse_forward(out, y, NP, NDYN_NN_MEAN);
        if (k == 0) first = loss;
        memset(dout, 0, sizeof dout);
        ndyn_nn_mse_backward(dout, out, y, NP, NDYN_NN_MEAN, 1.0);
        CHECK_OK(ndyn_nn_mlp_backward(&mlp, s, c, NULL, dout, NP));
        CHECK_OK(ndyn_nn_optim_step(opt, s));
        CHECK_OK(ndyn_nn_sched_step(&sc, opt, loss, NULL));
    }
    CHECKF(loss < 1e-3 && loss < 1e-2 * first, "loss %g (first %g)", loss, first);
    CHECK_CLOSE(opt->p.lr, 0.02 * 0.3 * 0.3 * 0.3, 1e-15, 1e-12);
    ndyn_nn_optim_reset(opt);
    double mx = 0;
    for (size_t i = 0; i < s->size; i++) mx = fmax(mx, fabs(opt->m[i]) + fabs(opt->v[i]));
    CHECK(opt->t == 0 && mx == 0);
    size_t one = 1;
    CHECK_OK(ndyn_nn_store_add(s2, "extra", 1, &one, 0, NULL));
    CHECK_FAILS(ndyn_nn_store_check_same(s, s2), NDYN_ESHAPE);
    ndyn_nn_optim_free(opt);
    ndyn_nn_mlp_cache_free(c);
    ndyn_nn_store_free(s);
    ndyn_nn_store_free(s2);
}

RUN_TESTS(T(store_basics), T(training_converges), T(init_defaults), T(save_load_bit_identical_and_resume),
          T(python_written_model_file),
          T(model_file_corruption), T(bad_arguments), T(thread_count_independence))
