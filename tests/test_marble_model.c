/* MARBLE model: feature and parameter counts (spec §19 checks 1-2), parity of
 * one forward/backward and two SGD steps with PyTorch (fixtures from
 * python/marble_torch.py), finite-difference gradient check of the whole
 * model, minibatch embedding = full transform (check 9), inner products with
 * O = I (check 8), model files. */
#include "test.h"
#include "marble/marble_internal.h"
#include "marble_fixture.h"

#define NONE ((size_t)-1)

TEST(feature_and_param_counts)
{
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.out_channels = 5;
    CHECK(ndyn_marble_feature_count(&p, 3, 3, 3) == 39);
    CHECK(ndyn_marble_param_count(&p, 3, 3, 3) == 1510);
    p.include_self = 0;
    CHECK(ndyn_marble_feature_count(&p, 3, 3, 3) == 36);
    p.include_self = 1;
    p.batch_norm = 0;
    p.hidden[0] = 64;
    CHECK(ndyn_marble_param_count(&p, 3, 3, 3) == 2886);
    p.inner_product = 1;
    CHECK(ndyn_marble_feature_count(&p, 3, 3, 3) == 13);
    CHECK(ndyn_marble_param_count(&p, 3, 3, 3) == 1339);
    /* d = 1: s (o + 1) features, no division by zero */
    ndyn_marble_params_default(&p);
    CHECK(ndyn_marble_feature_count(&p, 2, 1, 1) == 2 * 3);
    p.include_positions = 1;
    CHECK(ndyn_marble_feature_count(&p, 2, 1, 3) == 6 + 3);
    /* the layout agrees with the count */
    ndyn_marble_model *m = NULL;
    p.n_hidden = 2; p.hidden[1] = 7; p.inner_product = 1;
    CHECK_OK(ndyn_marble_model_new(&p, 2, 2, 2, &m));
    if (m) CHECK(m->n_params == ndyn_marble_param_count(&p, 2, 2, 2));
    ndyn_marble_model_free(m);
}

TEST(check_params_rejects)
{
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    CHECK_OK(ndyn_marble_check_params(&p, NULL));
    p.order = 0;
    CHECK_FAILS(ndyn_marble_check_params(&p, NULL), NDYN_EINVAL);
    ndyn_marble_params_default(&p);
    p.lr = -1;
    CHECK_FAILS(ndyn_marble_check_params(&p, NULL), NDYN_EINVAL);
    ndyn_marble_params_default(&p);
    p.momentum = 1.0;
    CHECK_FAILS(ndyn_marble_check_params(&p, NULL), NDYN_EINVAL);
    ndyn_marble_params_default(&p);
    p.n_hidden = 99;
    CHECK_FAILS(ndyn_marble_check_params(&p, NULL), NDYN_EINVAL);
    ndyn_marble_params_default(&p);
    p.val_draws = -1;
    CHECK_FAILS(ndyn_marble_check_params(&p, NULL), NDYN_EINVAL);
    p.val_draws = 1001;
    CHECK_FAILS(ndyn_marble_check_params(&p, NULL), NDYN_EINVAL);
    tfix f;
    CHECK(tf_load(&f, "aware") == 0);
    ndyn_marble_params_default(&p);
    ndyn_marble_data g = f.g;
    g.n_eig = 0;
    CHECK_FAILS(ndyn_marble_check_params(&p, &g), NDYN_EINVAL);   /* diffusion needs eigenpairs */
    p.diffusion = 0;
    CHECK_OK(ndyn_marble_check_params(&p, &g));
    double bad = f.val[3];
    f.val[3] = NAN;
    CHECK_FAILS(ndyn_marble_check_data(&f.g), NDYN_ENONFINITE);
    f.val[3] = bad;
    tf_free(&f);
}

static void parity(const char *name)
{
    tfix f;
    CHECK(tf_load(&f, name) == 0);
    ndyn_marble_params p;
    tf_params(&f, &p);
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
    if (!m) { tf_free(&f); return; }
    load_weights(m, &f, "init_");
    const ndyn_array *an = tf_get(&f, "anchors"), *po = tf_get(&f, "positives"),
                     *ne = tf_get(&f, "negatives");
    size_t nb = an->size;
    int32_t *batch = malloc(3 * nb * sizeof(int32_t));
    memcpy(batch, an->data, nb * 4);
    memcpy(batch + nb, po->data, nb * 4);
    memcpy(batch + 2 * nb, ne->data, nb * 4);
    mb_work w;
    CHECK_OK(mb_work_init(&w, m, &f.g));
    size_t E = (size_t)p.out_channels;
    double *grad = malloc(m->n_params * sizeof(double)), *z = malloc(3 * nb * E * sizeof(double));
    double loss;
    CHECK_OK(mb_batch_loss_grad(m, &f.g, &w, batch, nb, 1, 1, NULL, &loss, grad, z));
    CHECK_CLOSE(loss, *tf_f64(&f, "loss"), 1e-11, 1e-10);
    const double *zw = tf_f64(&f, "z");
    double err = 0;
    for (size_t i = 0; i < 3 * nb * E; i++) err = fmax(err, fabs(z[i] - zw[i]));
    CHECKF(err < 1e-10, "z max err %.3g", err);
    compare(grad, &f, m, "grad_", 1e-9);
    for (size_t l = 0; l + 1 < m->n_layers; l++) {
        const mb_layer *L = &m->layer[l];
        if (L->run_mean == NONE) continue;
        char k1[32], k2[32];
        snprintf(k1, sizeof k1, "run_mean%zu", l);
        snprintf(k2, sizeof k2, "run_var%zu", l);
        const double *rm = tf_f64(&f, k1), *rv = tf_f64(&f, k2);
        for (size_t j = 0; j < L->out; j++) {
            CHECK_CLOSE(m->buffers[L->run_mean + j], rm[j], 1e-11, 1e-10);
            CHECK_CLOSE(m->buffers[L->run_var + j], rv[j], 1e-11, 1e-10);
        }
    }
    /* two SGD-momentum steps */
    mb_sgd_step(m, grad);
    CHECK_OK(mb_batch_loss_grad(m, &f.g, &w, batch, nb, 1, 1, NULL, &loss, grad, NULL));
    CHECK_CLOSE(loss, *tf_f64(&f, "loss2"), 1e-10, 1e-9);
    mb_sgd_step(m, grad);
    compare(m->params, &f, m, "after_", 1e-9);
    /* eval-mode transform of every node */
    double *ze = malloc(f.g.n * E * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, &f.g, ze));
    const double *zew = tf_f64(&f, "z_eval");
    err = 0;
    for (size_t i = 0; i < f.g.n * E; i++) err = fmax(err, fabs(ze[i] - zew[i]));
    CHECKF(err < 1e-9, "z_eval max err %.3g", err);
    free(ze);
    mb_work_free(&w);
    free(grad); free(z); free(batch);
    ndyn_marble_model_free(m);
    tf_free(&f);
}

TEST(parity_embedding_aware) { parity("aware"); }
TEST(parity_inner_product_posnorm_mask) { parity("inner"); }
TEST(parity_no_self_no_diffusion) { parity("noself"); }

/* Central finite differences of the batch loss w.r.t. every parameter. */
static void gradcheck(const char *name, int diffusion_off)
{
    tfix f;
    CHECK(tf_load(&f, name) == 0);
    ndyn_marble_params p;
    tf_params(&f, &p);
    if (diffusion_off) p.diffusion = 0;
    p.seed = 7;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
    if (!m) { tf_free(&f); return; }
    load_weights(m, &f, "init_");
    if (p.diffusion) m->params[m->off_t] = 0.3; /* away from the clamp */
    size_t n = f.g.n, nb = 5;
    int32_t batch[15];
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    for (size_t i = 0; i < 3 * nb; i++) batch[i] = (int32_t)ndyn_rng_below(&r, n);
    mb_work w;
    CHECK_OK(mb_work_init(&w, m, &f.g));
    double *grad = malloc(m->n_params * sizeof(double));
    double loss, lp, lm;
    CHECK_OK(mb_batch_loss_grad(m, &f.g, &w, batch, nb, 1, 0, NULL, &loss, grad, NULL));
    double worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        double v = m->params[i], h = 1e-6 * fmax(1.0, fabs(v));
        m->params[i] = v + h;
        mb_batch_loss_grad(m, &f.g, &w, batch, nb, 1, 0, NULL, &lp, NULL, NULL);
        m->params[i] = v - h;
        mb_batch_loss_grad(m, &f.g, &w, batch, nb, 1, 0, NULL, &lm, NULL, NULL);
        m->params[i] = v;
        double fd = (lp - lm) / (2 * h);
        /* biases before BatchNorm have a zero gradient: judge those absolutely */
        double e = fabs(fd - grad[i]) / (1e-3 + fabs(fd) + fabs(grad[i]));
        if (e > worst) { worst = e; worst_i = i; }
    }
    CHECKF(worst < 1e-5, "%s: worst relative gradient error %.3g at parameter %zu", name, worst,
           worst_i);
    if (p.diffusion) CHECK(fabs(grad[m->off_t]) > 1e-8);  /* t gets a real gradient */
    free(grad);
    mb_work_free(&w);
    ndyn_marble_model_free(m);
    tf_free(&f);
}

TEST(gradient_check_aware) { gradcheck("aware", 0); }
TEST(gradient_check_aware_no_diffusion) { gradcheck("aware", 1); }
TEST(gradient_check_inner_product) { gradcheck("inner", 0); }
TEST(gradient_check_no_self) { gradcheck("noself", 0); }

TEST(minibatch_equals_full_transform)
{
    const char *names[] = {"aware", "inner", "aware"};
    for (int c = 0; c < 3; c++) {
        tfix f;
        CHECK(tf_load(&f, names[c]) == 0);
        ndyn_marble_params p;
        tf_params(&f, &p);
        if (c == 2) p.diffusion = 0;   /* the outermost hop level is skipped then */
        ndyn_marble_model *m = NULL;
        CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
        load_weights(m, &f, "init_");
        size_t n = f.g.n, E = (size_t)p.out_channels;
        double *full = malloc(n * E * sizeof(double)), *part = malloc(3 * E * sizeof(double));
        CHECK_OK(ndyn_marble_transform(m, &f.g, full));
        int32_t nodes[3] = {5, 0, 5};
        CHECK_OK(ndyn_marble_embed_nodes(m, &f.g, nodes, 3, part));
        for (int i = 0; i < 3; i++)
            for (size_t j = 0; j < E; j++)
                CHECK_CLOSE(part[i * E + j], full[(size_t)nodes[i] * E + j], 1e-12, 1e-10);
        free(full); free(part);
        ndyn_marble_model_free(m);
        tf_free(&f);
    }
}

/* With every O_j = I, feature_i = tanh(x_i . sum_j x_j) (spec §19 check 8):
 * independent computation from the kernels on the full graph. */
TEST(inner_product_identity)
{
    tfix f;
    CHECK(tf_load(&f, "inner") == 0);
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.inner_product = 1; p.diffusion = 0; p.batch_norm = 0; p.n_hidden = 0; p.out_channels = 13;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 3, 3, 3, &m));
    if (!m) { tf_free(&f); return; }
    CHECK(m->n_channels == 13);
    /* make the MLP the identity on the 13 features */
    memset(m->params + m->layer[0].w, 0, 13 * 13 * sizeof(double));
    for (int i = 0; i < 13; i++) {
        m->params[m->layer[0].w + (size_t)i * 13 + (size_t)i] = 1.0;
        m->params[m->layer[0].b + (size_t)i] = 0.0;
    }
    size_t n = f.g.n;
    double *z = malloc(n * 13 * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, &f.g, z));
    /* dense reference: X1 = [K_c f] column r*3+c, X2 = [K_c X1] */
    const double *K = tf_f64(&f, "kern"), *sig = f.g.signal;
    double *X1 = calloc(n * 9, sizeof(double)), *X2 = calloc(n * 27, sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t c = 0; c < 3; c++)
                for (size_t r = 0; r < 3; r++) X1[i * 9 + r * 3 + c] += K[c * n * n + i * n + j] * sig[j * 3 + r];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t c = 0; c < 3; c++)
                for (size_t r = 0; r < 9; r++) X2[i * 27 + r * 3 + c] += K[c * n * n + i * n + j] * X1[j * 9 + r];
    for (size_t i = 0; i < n; i++) {
        double v[13][3], sum[3] = {0, 0, 0};
        for (int b = 0; b < 3; b++) v[0][b] = sig[i * 3 + (size_t)b];
        for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) v[1 + a][b] = X1[i * 9 + (size_t)(a * 3 + b)];
        for (int a = 0; a < 9; a++) for (int b = 0; b < 3; b++) v[4 + a][b] = X2[i * 27 + (size_t)(a * 3 + b)];
        for (int j = 0; j < 13; j++) for (int b = 0; b < 3; b++) sum[b] += v[j][b];
        for (int j = 0; j < 13; j++) {
            double want = tanh(v[j][0] * sum[0] + v[j][1] * sum[1] + v[j][2] * sum[2]);
            CHECK_CLOSE(z[i * 13 + (size_t)j], want, 1e-12, 1e-10);
        }
    }
    free(X1); free(X2); free(z);
    ndyn_marble_model_free(m);
    tf_free(&f);
}

TEST(model_file_roundtrip)
{
    tfix f;
    CHECK(tf_load(&f, "aware") == 0);
    ndyn_marble_params p;
    tf_params(&f, &p);
    p.epochs = 2; p.batch_size = 8; p.seed = 11;
    ndyn_marble_model *m = NULL, *m2 = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
    ndyn_marble_history h;
    CHECK_OK(ndyn_marble_fit(m, &f.g, &h));
    CHECK(h.n == 2);
    char path[256];
    t_tmp("marble_model.npz", path, sizeof path);
    CHECK_OK(ndyn_marble_save(m, path));
    CHECK_OK(ndyn_marble_load(path, &m2));
    if (m2) {
        CHECK(m2->n_params == m->n_params && m2->epoch == 2);
        CHECK(memcmp(m2->params, m->params, m->n_params * sizeof(double)) == 0);
        CHECK(memcmp(m2->opt->m, m->opt->m, m->n_params * sizeof(double)) == 0);
        size_t n = f.g.n, E = (size_t)p.out_channels;
        double *a = malloc(n * E * sizeof(double)), *b = malloc(n * E * sizeof(double));
        CHECK_OK(ndyn_marble_transform(m, &f.g, a));
        CHECK_OK(ndyn_marble_transform(m2, &f.g, b));
        CHECK(memcmp(a, b, n * E * sizeof(double)) == 0);
        free(a); free(b);
    }
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m2);
    /* a damaged file is refused */
    FILE *fp = fopen(path, "r+b");
    if (fp) {
        fseek(fp, 400, SEEK_SET);
        int c = fgetc(fp);
        fseek(fp, 400, SEEK_SET);
        fputc(c ^ 0x55, fp);
        fclose(fp);
    }
    m2 = NULL;
    CHECK(ndyn_marble_load(path, &m2) != 0 && m2 == NULL);
    ndyn_marble_model_free(m);
    tf_free(&f);
}

TEST(model_file_keeps_every_setting)
{
    /* an untrained model with non-default settings: every hyper-parameter,
     * the weights and the (infinite) best validation loss come back exactly */
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.n_hidden = 2; p.hidden[0] = 5; p.hidden[1] = 4; p.momentum = 0.0; p.dropout = 0.25;
    p.seed = 0xFFFFFFFFFFFFFFF1ULL; p.lr = 0.0123456789; p.lr_threshold = 3e-4; p.lr_patience = 3;
    p.order = 1; p.include_positions = 1; p.emb_norm = 1; p.out_channels = 4; p.tau0 = 0.5;
    p.val_draws = 7;
    ndyn_marble_model *m = NULL, *m2 = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 2, 2, 2, &m));
    char path[256];
    t_tmp("marble_model_settings.npz", path, sizeof path);
    CHECK_OK(ndyn_marble_save(m, path));
    CHECK_OK(ndyn_marble_load(path, &m2));
    if (m && m2) {
        const ndyn_marble_params *q = ndyn_marble_model_params(m2);
        CHECK(q->n_hidden == 2 && q->hidden[0] == 5 && q->hidden[1] == 4);
        CHECK(q->momentum == 0.0 && q->dropout == 0.25 && q->seed == p.seed);
        CHECK(q->lr == p.lr && q->lr_threshold == p.lr_threshold && q->lr_patience == 3);
        CHECK(q->order == 1 && q->include_positions == 1 && q->emb_norm == 1);
        CHECK(q->out_channels == 4 && q->tau0 == 0.5 && q->epochs == p.epochs);
        CHECK(q->val_draws == 7);
        CHECK(m2->n_params == m->n_params && m2->epoch == 0 && m2->best_epoch == -1);
        CHECK(memcmp(m2->params, m->params, m->n_params * sizeof(double)) == 0);
        CHECK(memcmp(m2->buffers, m->buffers, m->n_buffers * sizeof(double)) == 0);
        CHECK(isinf(m2->best_val) && m2->opt->p.lr == p.lr && m2->opt->m == NULL);
    }
    ndyn_marble_model_free(m);
    ndyn_marble_model_free(m2);
}

TEST(fit_is_seeded_and_resumes)
{
    tfix f;
    CHECK(tf_load(&f, "aware") == 0);
    ndyn_marble_params p;
    tf_params(&f, &p);
    p.epochs = 4; p.batch_size = 8; p.seed = 5; p.dropout = 0.1;
    ndyn_marble_model *a = NULL, *b = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &a));
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &b));
    ndyn_marble_history ha, hb;
    CHECK_OK(ndyn_marble_fit(a, &f.g, &ha));
    CHECK_OK(ndyn_marble_fit(b, &f.g, &hb));
    CHECK(memcmp(a->params, b->params, a->n_params * sizeof(double)) == 0);
    CHECK(ha.n == 4 && isfinite(ha.test_loss));
    for (size_t i = 0; i < ha.n; i++) CHECK(isfinite(ha.train_loss[i]) && isfinite(ha.val_loss[i]));
    /* the restored model is the best-validation one */
    double best = INFINITY;
    for (size_t i = 0; i < ha.n; i++) best = fmin(best, ha.val_loss[i]);
    CHECK(a->best_val == best && ha.best_epoch >= 0);
    ndyn_marble_history_free(&ha);
    ndyn_marble_history_free(&hb);
    /* resume: a model trained 2 epochs, saved, loaded, trained to 4 */
    ndyn_marble_model *c = NULL, *c2 = NULL;
    ndyn_marble_params p2 = p;
    p2.epochs = 2;
    CHECK_OK(ndyn_marble_model_new(&p2, f.g.s, f.g.d, f.g.dim, &c));
    CHECK_OK(ndyn_marble_fit(c, &f.g, NULL));
    char path[256];
    t_tmp("marble_resume.npz", path, sizeof path);
    CHECK_OK(ndyn_marble_save(c, path));
    CHECK_OK(ndyn_marble_load(path, &c2));
    if (c2) {
        c2->par.epochs = 4;
        CHECK_OK(ndyn_marble_fit(c2, &f.g, NULL));
        CHECK(c2->epoch == 4);
    }
    ndyn_marble_model_free(a); ndyn_marble_model_free(b);
    ndyn_marble_model_free(c); ndyn_marble_model_free(c2);
    tf_free(&f);
}

TEST(fixed_validation_draws)
{
    tfix f;
    CHECK(tf_load(&f, "aware") == 0);
    ndyn_marble_params p;
    tf_params(&f, &p);
    p.epochs = 5; p.batch_size = 8; p.seed = 3; p.val_draws = 3;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
    if (!m) { tf_free(&f); return; }
    /* the same draws give the same loss on every call; D draws average the
     * D single-draw losses; different draws differ (the sampling is random) */
    double v3, v3b, l[3];
    CHECK_OK(ndyn_marble_validation_loss(m, &f.g, 0, 3, &v3));
    CHECK_OK(ndyn_marble_validation_loss(m, &f.g, 0, 3, &v3b));
    CHECK(v3 == v3b && isfinite(v3));
    for (int j = 0; j < 3; j++) CHECK_OK(ndyn_marble_validation_loss(m, &f.g, j, 1, &l[j]));
    CHECK_CLOSE(v3, (l[0] + l[1] + l[2]) / 3.0, 1e-15, 1e-14);
    CHECK(l[0] != l[1] && l[1] != l[2]);
    CHECK_FAILS(ndyn_marble_validation_loss(m, &f.g, 0, 0, &v3), NDYN_EINVAL);
    CHECK_FAILS(ndyn_marble_validation_loss(m, &f.g, -1, 2, &v3), NDYN_EINVAL);
    /* fit scores every epoch on those draws: the restored best model's loss
     * on draws 0..2 is the history's value at the best epoch */
    ndyn_marble_history h;
    CHECK_OK(ndyn_marble_fit(m, &f.g, &h));
    CHECK(h.n == 5 && h.best_epoch >= 0);
    double vb;
    CHECK_OK(ndyn_marble_validation_loss(m, &f.g, 0, 3, &vb));
    if (h.best_epoch >= 0) CHECK(vb == h.val_loss[h.best_epoch]);
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m);
    /* an unchanged model (lr 1e-300 moves no weight; no BatchNorm, so no
     * running statistics; no dropout): with fixed draws every epoch scores
     * the same, with a new draw per epoch (val_draws 0) the scores vary */
    for (int vd = 0; vd <= 2; vd += 2) {
        p.lr = 1e-300; p.batch_norm = 0; p.dropout = 0; p.val_draws = vd; p.epochs = 4;
        m = NULL;
        CHECK_OK(ndyn_marble_model_new(&p, f.g.s, f.g.d, f.g.dim, &m));
        if (!m) continue;
        CHECK_OK(ndyn_marble_fit(m, &f.g, &h));
        int same = 1;
        for (size_t e = 1; e < h.n; e++) same &= h.val_loss[e] == h.val_loss[0];
        CHECKF(same == (vd > 0), "val_draws %d: val loss %.17g %.17g %.17g %.17g", vd,
               h.val_loss[0], h.val_loss[1], h.val_loss[2], h.val_loss[3]);
        ndyn_marble_history_free(&h);
        ndyn_marble_model_free(m);
    }
    tf_free(&f);
}

TEST(loss_mask_term_and_sampler)
{
    /* mask term: two masked rows at distance 2 -> sigma(2) - 0.5 extra */
    double z[6 * 2] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, -1, 0};
    uint8_t mr[6] = {0, 0, 0, 0, 1, 1};
    double l0 = mb_loss(z, 2, 2, NULL, NULL), l1 = mb_loss(z, 2, 2, mr, NULL);
    CHECK_CLOSE(l0, 2 * log(2.0), 1e-14, 0);
    CHECK_CLOSE(l1 - l0, 1 / (1 + exp(-2.0)) - 0.5, 1e-14, 0);
    /* ndyn sampling: positives are neighbours, never the anchor; same split */
    tfix f;
    CHECK(tf_load(&f, "aware") == 0);
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    size_t n = f.g.n;
    uint8_t *split = calloc(n, 1);
    CHECK_OK(mb_split(n, 0.1, 0.1, 0, split));
    size_t cnt[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) cnt[split[i]]++;
    CHECK(cnt[1] == n / 10 && cnt[2] == n / 10);
    int32_t tr[64], nt = 0;
    for (size_t i = 0; i < n; i++) if (split[i] == 0) tr[nt++] = (int32_t)i;
    int32_t pos[64], neg[64];
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (int rep = 0; rep < 20; rep++) {
        mb_sample(&p, &f.g, split, tr, (size_t)nt, tr, (size_t)nt, &r, pos, neg);
        for (int b = 0; b < nt; b++) {
            CHECK(pos[b] != tr[b] && neg[b] != tr[b] && split[neg[b]] == 0);
            int nbr = 0;
            for (int64_t q = f.g.k_ptr[tr[b]]; q < f.g.k_ptr[tr[b] + 1]; q++) nbr |= f.g.k_idx[q] == pos[b];
            CHECK(nbr);
        }
    }
    /* excluding neighbours from negatives */
    p.exclude_neighbour_negatives = 1;
    for (int rep = 0; rep < 20; rep++) {
        mb_sample(&p, &f.g, split, tr, (size_t)nt, tr, (size_t)nt, &r, pos, neg);
        for (int b = 0; b < nt; b++) {
            int nbr = 0;
            for (int64_t q = f.g.k_ptr[tr[b]]; q < f.g.k_ptr[tr[b] + 1]; q++) nbr |= f.g.k_idx[q] == neg[b];
            CHECK(!nbr);
        }
    }
    /* reference sampling: positives among neighbours and self (self occurs),
     * negatives from every split */
    ndyn_marble_params_default(&p);
    p.compat_sampling = 1;
    int self = 0, other_split = 0;
    for (int rep = 0; rep < 200; rep++) {
        mb_sample(&p, &f.g, split, tr, (size_t)nt, tr, (size_t)nt, &r, pos, neg);
        for (int b = 0; b < nt; b++) {
            int nbr = 0;
            for (int64_t q = f.g.k_ptr[tr[b]]; q < f.g.k_ptr[tr[b] + 1]; q++) nbr |= f.g.k_idx[q] == pos[b];
            CHECK(nbr);
            self += pos[b] == tr[b];
            other_split += split[neg[b]] != 0;
        }
    }
    CHECK(self > 0 && other_split > 0);
    free(split);
    tf_free(&f);
}

RUN_TESTS(T(feature_and_param_counts), T(check_params_rejects), T(parity_embedding_aware),
          T(parity_inner_product_posnorm_mask), T(parity_no_self_no_diffusion),
          T(gradient_check_aware), T(gradient_check_aware_no_diffusion),
          T(gradient_check_inner_product), T(gradient_check_no_self),
          T(minibatch_equals_full_transform), T(inner_product_identity), T(model_file_roundtrip),
          T(model_file_keeps_every_setting),
          T(fit_is_seeded_and_resumes), T(fixed_validation_draws), T(loss_mask_term_and_sampler))
