/* The model's view of a prepared geom dataset (ndyn_marble_ops_from_geom):
 * renumbering for locality must not change any embedding. Reference: the
 * same model on a view built here without renumbering (dense union of the
 * kernels), with the spectral and the Chebyshev heat action. */
#include "test.h"
#include "marble_fixture.h"
#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/sim.h"

typedef struct { ndyn_geom_heat *h; } heat_ctx;
static int heat_plain(void *ctx, double t, const size_t *rows, size_t nsel, double *Hf, double *dHf)
{
    return ndyn_geom_heat_apply(((heat_ctx *)ctx)->h, t, rows, nsel, Hf, dHf);
}

static void compare(int n_eig)
{
    ndyn_geom_data *g = NULL;
    CHECK_OK(t_fields_geom(50, n_eig, &g));
    if (!g) return;
    size_t n = g->n, d = (size_t)g->d;
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(g, &ops));
    /* the order is a permutation */
    int *seen = calloc(n, sizeof(int));
    for (size_t i = 0; i < n; i++) seen[ops->data.order[i]]++;
    for (size_t i = 0; i < n; i++) CHECK(seen[i] == 1 && ops->data.order_inv[ops->data.order[i]] == (int32_t)i);
    free(seen);
    /* plain view: dense union pattern, identity order */
    double *dense = calloc(d * n * n, sizeof(double));
    for (size_t c = 0; c < d; c++) CHECK_OK(ndyn_csr_to_dense(&g->K[c], dense + c * n * n));
    int64_t *ptr = calloc(n + 1, sizeof(int64_t));
    int32_t *idx = malloc(n * n * sizeof(int32_t));
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int any = i == j || ndyn_csr_get(&g->graph, i, j) != 0;
            for (size_t c = 0; c < d; c++) any |= dense[c * n * n + i * n + j] != 0;
            if (any) idx[nnz++] = (int32_t)j;
        }
        ptr[i + 1] = (int64_t)nnz;
    }
    double *val = malloc(d * nnz * sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (int64_t q = ptr[i]; q < ptr[i + 1]; q++)
            for (size_t c = 0; c < d; c++) val[c * nnz + (size_t)q] = dense[c * n * n + i * n + (size_t)idx[q]];
    ndyn_marble_data plain;
    memset(&plain, 0, sizeof plain);
    plain.n = n; plain.dim = 2; plain.s = 2; plain.d = d;
    plain.pos = g->pos; plain.signal = g->vel; plain.condition = g->condition;
    plain.k_ptr = ptr; plain.k_idx = idx; plain.k_val = val; plain.dhalf = g->dhalf;
    heat_ctx hc = {NULL};
    if (n_eig) {
        plain.n_eig = g->neig; plain.evals = g->evals; plain.evecs = g->evecs;
    } else {
        CHECK_OK(ndyn_geom_heat_new(g, g->vel, 2, &hc.h));
        plain.heat_fn = heat_plain; plain.heat_ctx = &hc;
    }
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.tau0 = 0.4;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 2, d, 2, &m));
    size_t E = 3;
    double *a = malloc(n * E * sizeof(double)), *b = malloc(n * E * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, &ops->data, a));
    CHECK_OK(ndyn_marble_transform(m, &plain, b));
    double err = 0;
    for (size_t i = 0; i < n * E; i++) err = fmax(err, fabs(a[i] - b[i]));
    CHECKF(err < 1e-10, "renumbered vs plain embedding: max diff %.3g", err);
    int32_t nodes[3] = {7, 0, (int32_t)n - 1};
    double c3[9];
    CHECK_OK(ndyn_marble_embed_nodes(m, &ops->data, nodes, 3, c3));
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < E; j++) CHECK_CLOSE(c3[i * 3 + j], b[(size_t)nodes[i] * E + j], 1e-10, 0);
    /* a short fit on the renumbered view runs and is finite */
    p.epochs = 1;
    ndyn_marble_model *m2 = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 2, d, 2, &m2));
    ndyn_marble_history h;
    CHECK_OK(ndyn_marble_fit(m2, &ops->data, &h));
    CHECK(h.n == 1 && isfinite(h.train_loss[0]));
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m2);
    free(a); free(b); free(dense); free(ptr); free(idx); free(val);
    ndyn_geom_heat_free(hc.h);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
}

TEST(renumbered_equals_plain_spectral) { compare(-1); }
TEST(renumbered_equals_plain_chebyshev) { compare(0); }

/* Without eigenpairs the model reads rows of H_t f from geom's cached
 * Chebyshev basis: its embedding (whole transform and a minibatch) equals the
 * one from the complete spectrum (exact H_t) at several t, and a short fit
 * with changing t runs on it. */
TEST(chebyshev_basis_equals_full_spectrum)
{
    ndyn_geom_data *gs = NULL, *gc = NULL;
    CHECK_OK(t_fields_geom(40, -1, &gs));
    CHECK_OK(t_fields_geom(40, 0, &gc));
    ndyn_marble_ops *os = NULL, *oc = NULL;
    if (gs) CHECK_OK(ndyn_marble_ops_from_geom(gs, &os));
    if (gc) CHECK_OK(ndyn_marble_ops_from_geom(gc, &oc));
    if (!os || !oc) goto done;
    CHECK(os->data.n_eig == gs->n && oc->data.n_eig == 0 && oc->data.heat_fn);
    size_t n = gs->n, E = 3;
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    double *a = malloc(n * E * sizeof(double)), *b = malloc(n * E * sizeof(double));
    const double taus[3] = {0.05, 2.0, 0.6};
    for (int k = 0; k < 3; k++) {
        p.tau0 = taus[k];
        ndyn_marble_model *m = NULL;
        CHECK_OK(ndyn_marble_model_new(&p, 2, (size_t)gs->d, 2, &m));
        if (!m) break;
        CHECK_OK(ndyn_marble_transform(m, &os->data, a));
        CHECK_OK(ndyn_marble_transform(m, &oc->data, b));
        double err = 0;
        for (size_t i = 0; i < n * E; i++) err = fmax(err, fabs(a[i] - b[i]));
        CHECKF(err < 1e-9, "t = %g: Chebyshev basis vs full spectrum embedding %.3g", taus[k], err);
        int32_t nodes[4] = {3, (int32_t)n - 1, 3, 17};
        double c4[12];
        CHECK_OK(ndyn_marble_embed_nodes(m, &oc->data, nodes, 4, c4));
        for (int i = 0; i < 4; i++)
            for (size_t j = 0; j < E; j++) CHECK_CLOSE(c4[i * 3 + j], a[(size_t)nodes[i] * E + j], 1e-9, 0);
        ndyn_marble_model_free(m);
    }
    free(a); free(b);
done:
    ndyn_marble_ops_free(os); ndyn_marble_ops_free(oc);
    ndyn_geom_data_free(gs); ndyn_geom_data_free(gc);
}

RUN_TESTS(T(renumbered_equals_plain_spectral), T(renumbered_equals_plain_chebyshev),
          T(chebyshev_basis_equals_full_spectrum))
