/* MARBLE with local gauges (manifold mode, spec §6-10, §19 check 9):
 *  - parity of one forward/backward and two SGD steps with PyTorch on a curved
 *    surface in R^3 (m = 2 < D = 3; fixtures from python/marble_torch.py
 *    "fixtures gauges", which carry the frames, connections, kernels and
 *    spectra; the C side runs them through ndyn_marble_ops_from_geom);
 *  - finite-difference gradient check of the whole model (t, O, MLP) on a
 *    geom-prepared surface (Chebyshev vector diffusion);
 *  - minibatch embedding = full transform;
 *  - equivariance: rotating/reflecting the whole dataset (positions and
 *    vectors) by a random orthogonal Q gives the same embeddings to 1e-9, for
 *    any weights (O not a multiple of I included): geom orients the frames by
 *    the geometry (T_i -> Q T_i, signs included), so u, R, K and Lc are
 *    unchanged; positions are left out (world coordinates);
 *  - the gauge setting is recorded in model files and a mismatch is refused. */
#include "test.h"
#include "marble/marble_internal.h"
#include "marble_fixture.h"
#include "ndyn/geom.h"

/* ------------------------------------------------ fixture -> geom dataset */

typedef struct tgeom {
    ndyn_geom_data g;
    ndyn_csr K[2];
    double *dmhalf, *deg;
    int32_t *cond;
} tgeom;

/* (n m x n m) block CSR with every entry of the blocks (i, j) on the pattern
 * adj + diagonal, values from the dense (n m, n m) matrix. */
static void block_csr(ndyn_csr *A, const double *dense, size_t n, size_t m, const uint8_t *adj)
{
    size_t nb = 0, nm = n * m;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) nb += i == j || adj[i * n + j];
    CHECK_OK(ndyn_csr_alloc(A, nm, nm, nb * m * m));
    size_t q = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < m; a++) {
            for (size_t j = 0; j < n; j++) {
                if (i != j && !adj[i * n + j]) continue;
                for (size_t b = 0; b < m; b++) {
                    A->col[q] = (int32_t)(j * m + b);
                    A->val[q++] = dense[(i * m + a) * nm + j * m + b];
                }
            }
            A->rowptr[i * m + a + 1] = (int64_t)q;
        }
    A->block = (int)m;
}

static void tg_build(tgeom *t, const tfix *f)
{
    memset(t, 0, sizeof *t);
    const ndyn_array *pos = tf_get(f, "pos"), *fr = tf_get(f, "frames");
    size_t n = pos->shape[0], D = pos->shape[1], m = fr->shape[2], nm = n * m;
    const uint8_t *adj = tf_get(f, "adj")->data;
    const double *kern = tf_f64(f, "kern"), *conn = tf_f64(f, "conn");
    ndyn_geom_data *g = &t->g;
    g->n = n; g->D = D; g->s = D; g->C = 1;
    t->cond = calloc(n, sizeof(int32_t));
    g->condition = t->cond;
    g->pos = tf_f64(f, "pos");
    g->vel = tf_f64(f, "signal");
    g->mask = f->g.mask ? (uint8_t *)f->g.mask : NULL;
    g->m = (int)m; g->d = (int)m;
    g->frames = tf_f64(f, "frames");
    /* R, K_c = K_c[i,j] R_ij and L_c,sym as block CSR */
    double *dense = calloc(nm * nm, sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++)
                    dense[(i * m + a) * nm + j * m + b] = conn[((i * n + j) * m + a) * m + b];
    block_csr(&g->conn, dense, n, m, adj);
    for (size_t c = 0; c < m; c++) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                for (size_t a = 0; a < m; a++)
                    for (size_t b = 0; b < m; b++)
                        dense[(i * m + a) * nm + j * m + b] =
                            kern[(c * n + i) * n + j] * conn[((i * n + j) * m + a) * m + b];
        block_csr(&t->K[c], dense, n, m, adj);
    }
    g->K = t->K;
    block_csr(&g->lcsym, tf_f64(f, "lcsym"), n, m, adj);
    free(dense);
    g->dhalf = tf_f64(f, "dhalf");
    t->dmhalf = malloc(n * sizeof(double));
    t->deg = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        t->dmhalf[i] = 1.0 / g->dhalf[i];
        t->deg[i] = g->dhalf[i] * g->dhalf[i];
    }
    g->dmhalf = t->dmhalf;
    g->deg = t->deg;
    g->neig = n; g->evals = tf_f64(f, "evals"); g->evecs = tf_f64(f, "evecs");
    g->neigc = nm; g->evalsc = tf_f64(f, "evalsc"); g->evecsc = tf_f64(f, "evecsc");
}

static void tg_free(tgeom *t)
{
    ndyn_csr_free(&t->g.conn);
    ndyn_csr_free(&t->g.lcsym);
    for (int c = 0; c < 2; c++) ndyn_csr_free(&t->K[c]);
    free(t->dmhalf); free(t->deg); free(t->cond);
}

static void parity_gauges(const char *name)
{
    tfix f;
    CHECK(tf_load(&f, name) == 0);
    tgeom tg;
    tg_build(&tg, &f);
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(&tg.g, &ops));
    if (!ops) { tg_free(&tg); tf_free(&f); return; }
    const ndyn_marble_data *g = &ops->data;
    CHECK(g->local_gauges == 1 && g->s == 2 && g->d == 2 && g->dim == 3);
    ndyn_marble_params p;
    tf_params(&f, &p);
    CHECK(p.local_gauges == 1);
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, g->s, g->d, g->dim, &m));
    if (!m) { ndyn_marble_ops_free(ops); tg_free(&tg); tf_free(&f); return; }
    load_weights(m, &f, "init_");
    const ndyn_array *an = tf_get(&f, "anchors"), *po = tf_get(&f, "positives"),
                     *ne = tf_get(&f, "negatives");
    size_t nb = an->size;
    int32_t *batch = malloc(3 * nb * sizeof(int32_t));
    /* the fixture's node numbers -> the renumbered dataset's */
    for (size_t i = 0; i < nb; i++) {
        batch[i] = g->order_inv[((const int32_t *)an->data)[i]];
        batch[nb + i] = g->order_inv[((const int32_t *)po->data)[i]];
        batch[2 * nb + i] = g->order_inv[((const int32_t *)ne->data)[i]];
    }
    mb_work w;
    CHECK_OK(mb_work_init(&w, m, g));
    size_t E = (size_t)p.out_channels;
    double *grad = malloc(m->n_params * sizeof(double)), *z = malloc(3 * nb * E * sizeof(double));
    double loss;
    CHECK_OK(mb_batch_loss_grad(m, g, &w, batch, nb, 1, 1, NULL, &loss, grad, z));
    CHECK_CLOSE(loss, *tf_f64(&f, "loss"), 1e-11, 1e-10);
    const double *zw = tf_f64(&f, "z");
    double err = 0;
    for (size_t i = 0; i < 3 * nb * E; i++) err = fmax(err, fabs(z[i] - zw[i]));
    CHECKF(err < 1e-10, "%s: z max err %.3g", name, err);
    compare(grad, &f, m, "grad_", 1e-9);
    CHECK(fabs(grad[m->off_t]) > 1e-6);   /* t gets a real gradient */
    mb_sgd_step(m, grad);
    CHECK_OK(mb_batch_loss_grad(m, g, &w, batch, nb, 1, 1, NULL, &loss, grad, NULL));
    CHECK_CLOSE(loss, *tf_f64(&f, "loss2"), 1e-10, 1e-9);
    mb_sgd_step(m, grad);
    compare(m->params, &f, m, "after_", 1e-9);
    size_t n = g->n;
    double *ze = malloc(n * E * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, g, ze));
    const double *zew = tf_f64(&f, "z_eval");
    err = 0;
    for (size_t i = 0; i < n * E; i++) err = fmax(err, fabs(ze[i] - zew[i]));
    CHECKF(err < 1e-9, "%s: z_eval max err %.3g", name, err);
    free(ze);
    mb_work_free(&w);
    free(grad); free(z); free(batch);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    tg_free(&tg);
    tf_free(&f);
}

TEST(parity_gauges_inner_product) { parity_gauges("gauges_inner"); }
TEST(parity_gauges_embedding_aware_posnorm_mask) { parity_gauges("gauges_aware"); }

/* ------------------------------------------- a geom-prepared curved surface */

#define SN 90

/* Points on z = 0.5 (x^2 - y^2) + 0.2 x y over [-1, 1]^2 (seeded) and a
 * smooth vector field in R^3, both mapped by Q (3x3, row-major; NULL = I). */
static void surface(const double *Q, double *pos, double *vel)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 42, 0);
    for (size_t i = 0; i < SN; i++) {
        double x = ndyn_rng_uniform_range(&r, -1, 1), y = ndyn_rng_uniform_range(&r, -1, 1);
        double p[3] = {x, y, 0.5 * (x * x - y * y) + 0.2 * x * y};
        double v[3] = {sin(2 * y) + 0.3, cos(1.5 * x) - x * y, x + 0.5 * y * y};
        for (int a = 0; a < 3; a++) {
            double sp = 0, sv = 0;
            for (int b = 0; b < 3; b++) {
                double q = Q ? Q[a * 3 + b] : (a == b);
                sp += q * p[b];
                sv += q * v[b];
            }
            pos[i * 3 + (size_t)a] = sp;
            vel[i * 3 + (size_t)a] = sv;
        }
    }
}

static ndyn_geom_data *prepare_surface(const double *Q, int n_eig)
{
    double pos[SN * 3], vel[SN * 3];
    surface(Q, pos, vel);
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.k = 10;
    gp.local_gauges = 1;
    gp.dim = 2;
    gp.n_eigenvectors = n_eig;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(pos, vel, SN, 3, 3, NULL, NULL, NULL, &gp, &g));
    return g;
}

static void config(ndyn_marble_params *p, int which)
{
    ndyn_marble_params_default(p);
    p->local_gauges = 1;
    p->hidden[0] = 6;
    p->out_channels = 3;
    p->seed = 13 + (uint64_t)which;
    switch (which) {
    case 0: break;                                                    /* defaults, order 2 */
    case 1: p->inner_product = 1; break;                              /* O matrices */
    case 2: p->diffusion = 0; p->include_positions = 1; p->order = 1; break;
    case 3: p->vec_norm = 1; p->emb_norm = 1; p->n_hidden = 2; p->hidden[1] = 4; break;
    default: break;
    }
}

/* Perturb O (away from I) so the inner products mix components. */
static void perturb_o(ndyn_marble_model *m, uint64_t seed)
{
    if (m->off_o == TF_NONE) return;
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 1);
    for (size_t k = 0; k < m->n_channels * m->s * m->s; k++)
        m->params[m->off_o + k] += 0.3 * ndyn_rng_normal(&r);
}

TEST(gradient_check_local_gauges)
{
    ndyn_geom_data *gd = prepare_surface(NULL, 0);
    if (!gd) return;
    CHECK(gd->m == 2 && gd->frames != NULL && gd->neig == 0);
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(gd, &ops));
    if (!ops) { ndyn_geom_data_free(gd); return; }
    const ndyn_marble_data *g = &ops->data;
    for (int which = 0; which < 4; which++) {
        ndyn_marble_params p;
        config(&p, which);
        ndyn_marble_model *m = NULL;
        CHECK_OK(ndyn_marble_model_new(&p, g->s, g->d, g->dim, &m));
        if (!m) continue;
        perturb_o(m, 5);
        if (p.diffusion) m->params[m->off_t] = 0.3;
        /* non-trivial BatchNorm affine */
        for (size_t l = 0; l + 1 < m->n_layers; l++)
            if (m->layer[l].gamma != TF_NONE)
                for (size_t j = 0; j < m->layer[l].out; j++) {
                    m->params[m->layer[l].gamma + j] = 1.0 + 0.1 * (double)j;
                    m->params[m->layer[l].beta + j] = 0.05 * (double)j - 0.1;
                }
        size_t nb = 5;
        int32_t batch[15];
        ndyn_rng r;
        ndyn_rng_init(&r, 3, (uint64_t)which);
        for (size_t i = 0; i < 3 * nb; i++) batch[i] = (int32_t)ndyn_rng_below(&r, g->n);
        mb_work w;
        CHECK_OK(mb_work_init(&w, m, g));
        double *grad = malloc(m->n_params * sizeof(double));
        double loss, lp, lm;
        CHECK_OK(mb_batch_loss_grad(m, g, &w, batch, nb, 1, 0, NULL, &loss, grad, NULL));
        double worst = 0;
        size_t worst_i = 0;
        for (size_t i = 0; i < m->n_params; i++) {
            double v = m->params[i], h = 1e-6 * fmax(1.0, fabs(v));
            m->params[i] = v + h;
            CHECK_OK(mb_batch_loss_grad(m, g, &w, batch, nb, 1, 0, NULL, &lp, NULL, NULL));
            m->params[i] = v - h;
            CHECK_OK(mb_batch_loss_grad(m, g, &w, batch, nb, 1, 0, NULL, &lm, NULL, NULL));
            m->params[i] = v;
            double fd = (lp - lm) / (2 * h);
            double e = fabs(fd - grad[i]) / (1e-3 + fabs(fd) + fabs(grad[i]));
            if (e > worst) { worst = e; worst_i = i; }
        }
        CHECKF(worst < 1e-5, "config %d: worst relative gradient error %.3g at parameter %zu",
               which, worst, worst_i);
        if (p.diffusion) CHECKF(fabs(grad[m->off_t]) > 1e-8, "config %d: dL/dt = %g", which,
                                grad[m->off_t]);
        if (m->off_o != TF_NONE) {
            double go = 0;
            for (size_t k = 0; k < m->n_channels * m->s * m->s; k++) go += fabs(grad[m->off_o + k]);
            CHECK(go > 1e-8);
        }
        free(grad);
        mb_work_free(&w);
        ndyn_marble_model_free(m);
    }
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(gd);
}

TEST(minibatch_equals_full_transform_local_gauges)
{
    ndyn_geom_data *gd = prepare_surface(NULL, 0);
    if (!gd) return;
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(gd, &ops));
    if (!ops) { ndyn_geom_data_free(gd); return; }
    for (int which = 0; which < 4; which++) {
        ndyn_marble_params p;
        config(&p, which);
        ndyn_marble_model *m = NULL;
        CHECK_OK(ndyn_marble_model_new(&p, ops->data.s, ops->data.d, ops->data.dim, &m));
        if (!m) continue;
        perturb_o(m, 7);
        m->params[m->off_t] = 0.2;
        size_t n = ops->data.n, E = (size_t)p.out_channels;
        double *full = malloc(n * E * sizeof(double)), *part = malloc(4 * E * sizeof(double));
        CHECK_OK(ndyn_marble_transform(m, &ops->data, full));
        int32_t nodes[4] = {17, 0, 17, (int32_t)n - 1};
        CHECK_OK(ndyn_marble_embed_nodes(m, &ops->data, nodes, 4, part));
        for (int i = 0; i < 4; i++)
            for (size_t j = 0; j < E; j++)
                CHECK_CLOSE(part[(size_t)i * E + j], full[(size_t)nodes[i] * E + j], 1e-12, 1e-10);
        free(full); free(part);
        ndyn_marble_model_free(m);
    }
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(gd);
}

/* Random orthogonal 3x3 (Gram-Schmidt of Gaussian columns; a reflection when
 * reflect). */
static void random_orthogonal(uint64_t seed, int reflect, double *Q)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    double a[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) a[i][j] = ndyn_rng_normal(&r);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < i; k++) {
            double d = 0;
            for (int j = 0; j < 3; j++) d += a[i][j] * a[k][j];
            for (int j = 0; j < 3; j++) a[i][j] -= d * a[k][j];
        }
        double nn = 0;
        for (int j = 0; j < 3; j++) nn += a[i][j] * a[i][j];
        for (int j = 0; j < 3; j++) a[i][j] /= sqrt(nn);
    }
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    double sgn = (det > 0) == !reflect ? 1.0 : -1.0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) Q[i * 3 + j] = (i == 0 ? sgn : 1.0) * a[i][j];
}

TEST(orthogonal_transform_equivariance)
{
    for (int reflect = 0; reflect < 2; reflect++) {
        double Q[9];
        random_orthogonal(100 + (uint64_t)reflect, reflect, Q);
        ndyn_geom_data *g1 = prepare_surface(NULL, 0), *g2 = prepare_surface(Q, 0);
        if (!g1 || !g2) { ndyn_geom_data_free(g1); ndyn_geom_data_free(g2); return; }
        size_t n = g1->n, D = 3, m = 2;
        /* same graph (distances are invariant) */
        CHECK(g1->graph.nnz == g2->graph.nnz && g2->m == 2);
        if (g1->graph.nnz != g2->graph.nnz) { ndyn_geom_data_free(g1); ndyn_geom_data_free(g2); return; }
        CHECK(memcmp(g1->graph.col, g2->graph.col, g1->graph.nnz * sizeof(int32_t)) == 0);
        /* geom orients its frames by the geometry: the recomputed frames are
         * Q T_i, signs included, so every operator is unchanged */
        double worst = 1;
        for (size_t i = 0; i < n; i++)
            for (size_t p = 0; p < m; p++) {
                double dot = 0;
                for (size_t e = 0; e < D; e++) {
                    double qt = 0;
                    for (size_t b = 0; b < D; b++) qt += Q[e * 3 + b] * g1->frames[(i * D + b) * m + p];
                    dot += qt * g2->frames[(i * D + e) * m + p];
                }
                worst = fmin(worst, dot);
            }
        CHECKF(worst > 1 - 1e-9, "frames are not Q T (worst cos %.12f)", worst);
        ndyn_marble_ops *o1 = NULL, *o2 = NULL;
        CHECK_OK(ndyn_marble_ops_from_geom(g1, &o1));
        CHECK_OK(ndyn_marble_ops_from_geom(g2, &o2));
        for (int which = 0; which < 4 && o1 && o2; which++) {
            ndyn_marble_params p;
            config(&p, which);
            p.include_positions = 0;   /* positions are world coordinates: not invariant */
            ndyn_marble_model *mdl = NULL;
            CHECK_OK(ndyn_marble_model_new(&p, 2, 2, 3, &mdl));
            if (!mdl) continue;
            perturb_o(mdl, 9);
            mdl->params[mdl->off_t] = 0.4;
            size_t E = (size_t)p.out_channels;
            double *z1 = malloc(n * E * sizeof(double)), *z2 = malloc(n * E * sizeof(double));
            CHECK_OK(ndyn_marble_transform(mdl, &o1->data, z1));
            CHECK_OK(ndyn_marble_transform(mdl, &o2->data, z2));
            double err = 0, scale = 0;
            for (size_t i = 0; i < n * E; i++) {
                err = fmax(err, fabs(z1[i] - z2[i]));
                scale = fmax(scale, fabs(z1[i]));
            }
            CHECKF(err < 1e-9 * (1 + scale), "reflect %d config %d: max |z - z'| %.3g (scale %.3g)",
                   reflect, which, err, scale);
            CHECK(scale > 1e-3);
            free(z1); free(z2);
            ndyn_marble_model_free(mdl);
        }
        ndyn_marble_ops_free(o1);
        ndyn_marble_ops_free(o2);
        ndyn_geom_data_free(g1);
        ndyn_geom_data_free(g2);
    }
}

/* ops splits geom's block kernels into scalars and connections: every block
 * K_c[i,j] R_ij of geom (and R_ij itself) is rebuilt exactly, under the
 * renumbering, and the signal is T_i^T f_i. */
TEST(ops_rebuild_block_kernels)
{
    ndyn_geom_data *gd = prepare_surface(NULL, 0);
    if (!gd) return;
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(gd, &ops));
    if (!ops) { ndyn_geom_data_free(gd); return; }
    const ndyn_marble_data *g = &ops->data;
    size_t m = 2, D = 3, nnz = (size_t)g->k_ptr[g->n];
    double worst = 0;
    size_t blocks = 0;
    for (size_t i = 0; i < g->n; i++) {
        size_t gi = (size_t)g->order[i];
        for (int64_t q = g->k_ptr[i]; q < g->k_ptr[i + 1]; q++) {
            size_t gj = (size_t)g->order[g->k_idx[q]];
            const double *R = g->conn + (size_t)q * m * m;
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++) {
                    worst = fmax(worst, fabs(R[a * m + b] - (gi == gj ? (double)(a == b)
                                 : ndyn_csr_get(&gd->conn, gi * m + a, gj * m + b))));
                    for (size_t c = 0; c < m; c++)
                        worst = fmax(worst, fabs(g->k_val[c * nnz + (size_t)q] * R[a * m + b] -
                                                 ndyn_csr_get(&gd->K[c], gi * m + a, gj * m + b)));
                }
            blocks++;
        }
        for (size_t p = 0; p < m; p++) {
            double u = 0;
            for (size_t e = 0; e < D; e++) u += gd->frames[(gi * D + e) * m + p] * gd->vel[gi * D + e];
            worst = fmax(worst, fabs(u - g->signal[i * m + p]));
        }
    }
    CHECK(blocks == gd->graph.nnz + gd->n);
    CHECKF(worst < 1e-12, "max error %.3g", worst);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(gd);
}

TEST(gauge_setting_recorded_and_checked)
{
    ndyn_geom_data *gd = prepare_surface(NULL, 0);
    if (!gd) return;
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(gd, &ops));
    if (!ops) { ndyn_geom_data_free(gd); return; }
    ndyn_marble_params p;
    config(&p, 1);
    p.epochs = 2; p.batch_size = 16;
    ndyn_marble_model *m = NULL, *m2 = NULL, *flat = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 2, 2, 3, &m));
    if (!m) { ndyn_marble_ops_free(ops); ndyn_geom_data_free(gd); return; }
    ndyn_marble_history h;
    CHECK_OK(ndyn_marble_fit(m, &ops->data, &h));
    CHECK(h.n == 2 && isfinite(h.train_loss[1]) && isfinite(h.test_loss));
    ndyn_marble_history_free(&h);
    char path[256];
    t_tmp("marble_gauges_model.npz", path, sizeof path);
    CHECK_OK(ndyn_marble_save(m, path));
    CHECK_OK(ndyn_marble_load(path, &m2));
    size_t n = ops->data.n, E = (size_t)p.out_channels;
    double *a = malloc(n * E * sizeof(double)), *b = malloc(n * E * sizeof(double));
    if (m2) {
        CHECK(ndyn_marble_model_params(m2)->local_gauges == 1);
        CHECK_OK(ndyn_marble_transform(m, &ops->data, a));
        CHECK_OK(ndyn_marble_transform(m2, &ops->data, b));
        CHECK(memcmp(a, b, n * E * sizeof(double)) == 0);
    }
    /* a flat-mode model refuses local-gauge data, and the reverse */
    ndyn_marble_params pf = p;
    pf.local_gauges = 0;
    CHECK_OK(ndyn_marble_model_new(&pf, 2, 2, 3, &flat));
    CHECK_FAILS(ndyn_marble_transform(flat, &ops->data, a), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "local gauges") != NULL);
    CHECK_FAILS(ndyn_marble_fit(flat, &ops->data, NULL), NDYN_EINVAL);
    ndyn_marble_data fd = ops->data;
    fd.local_gauges = 0;
    fd.conn = NULL;
    CHECK_FAILS(ndyn_marble_transform(m, &fd, a), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "--local-gauges") != NULL);
    free(a); free(b);
    ndyn_marble_model_free(m);
    ndyn_marble_model_free(m2);
    ndyn_marble_model_free(flat);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(gd);
}

RUN_TESTS(T(parity_gauges_inner_product), T(parity_gauges_embedding_aware_posnorm_mask),
          T(gradient_check_local_gauges), T(minibatch_equals_full_transform_local_gauges),
          T(orthogonal_transform_equivariance), T(ops_rebuild_block_kernels),
          T(gauge_setting_recorded_and_checked))
