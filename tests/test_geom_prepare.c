/* Dataset preparation: conditions handled jointly, bad inputs, save/load,
 * the positions/velocities helper and the `ndyn marble prepare` command. */
#include "test.h"

#include "ndyn/geom.h"
#include "ndyn/io.h"

static double *uniform(size_t n, size_t D, uint64_t seed, double shift)
{
    double *X = malloc(n * D * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n * D; i++) X[i] = ndyn_rng_uniform(&r) + shift;
    return X;
}

TEST(pos_vel_respects_trials)
{
    /* x (7, 2): trials of length 3, 1, 3 */
    double x[14];
    for (int i = 0; i < 14; i++) x[i] = i * i;
    size_t len[3] = {3, 1, 3}, nout;
    double *p, *v;
    CHECK_OK(ndyn_geom_pos_vel(x, 7, 2, len, 3, &p, &v, &nout));
    CHECK(nout == 4);
    /* rows 0,1 of trial 0 and rows 4,5 of trial 2 */
    const int src[4] = {0, 1, 4, 5};
    for (int q = 0; q < 4; q++)
        for (int d = 0; d < 2; d++) {
            CHECK(p[q * 2 + d] == x[src[q] * 2 + d]);
            CHECK(v[q * 2 + d] == x[(src[q] + 1) * 2 + d] - x[src[q] * 2 + d]);
        }
    free(p); free(v);
    size_t badlen[2] = {3, 3};
    CHECK_FAILS(ndyn_geom_pos_vel(x, 7, 2, badlen, 2, &p, &v, &nout), NDYN_ESHAPE);
}

TEST(conditions_jointly)
{
    size_t n = 400, D = 2;
    double *X = uniform(n, D, 1, 0), *V = uniform(n, D, 2, -0.5);
    int32_t cond[400];
    for (size_t i = 0; i < n; i++) cond[i] = (int32_t)(i % 2); /* interleaved */
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = 8;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, cond, NULL, NULL, &p, &g));
    if (!g) { free(X); free(V); return; }
    CHECK(g->C == 2 && g->n == n && g->n_components == 2);
    CHECK(g->cond_start[1] == 200);
    /* nodes sorted by condition, index points back to the input */
    size_t cross = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(g->condition[i] == cond[g->index[i]]);
        CHECK(g->pos[i * D] == X[g->index[i] * D]);
        CHECK(g->vel[i * D + 1] == V[g->index[i] * D + 1]);
        for (int64_t q = g->graph.rowptr[i]; q < g->graph.rowptr[i + 1]; q++)
            cross += g->condition[g->graph.col[q]] != g->condition[i];
    }
    CHECK(cross == 0);
    /* each condition's graph equals the graph of that condition alone */
    double *X0 = malloc(200 * D * sizeof *X0);
    for (size_t i = 0; i < 200; i++) memcpy(X0 + i * D, X + (2 * i) * D, D * sizeof(double));
    ndyn_csr G0;
    CHECK_OK(ndyn_geom_cknn(X0, 200, D, 8, 1.0, &G0));
    CHECK(G0.nnz == (size_t)g->graph.rowptr[200]);
    for (size_t q = 0; q < G0.nnz; q++) CHECK(G0.col[q] == g->graph.col[q]);
    ndyn_csr_free(&G0);
    free(X0);
    /* save / load round trip */
    char path[256];
    t_tmp("prepared_roundtrip.npz", path, sizeof path);
    CHECK_OK(ndyn_geom_save(path, g));
    ndyn_geom_data *h = NULL;
    CHECK_OK(ndyn_geom_load(path, &h));
    if (h) {
        CHECK(h->n == g->n && h->C == 2 && h->d == g->d && h->m == g->m && h->graph.nnz == g->graph.nnz);
        for (int c = 0; c < g->d; c++) {
            CHECK(h->K[c].nnz == g->K[c].nnz);
            CHECK(memcmp(h->K[c].val, g->K[c].val, g->K[c].nnz * sizeof(double)) == 0);
            CHECK(memcmp(h->K[c].col, g->K[c].col, g->K[c].nnz * sizeof(int32_t)) == 0);
        }
        CHECK(memcmp(h->lsym.val, g->lsym.val, g->lsym.nnz * sizeof(double)) == 0);
        CHECK(memcmp(h->pos, g->pos, n * D * sizeof(double)) == 0);
        CHECK(h->dhalf[7] == g->dhalf[7]);
    }
    ndyn_geom_data_free(h);
    ndyn_geom_data_free(g);
    free(X); free(V);
}

TEST(local_gauges_roundtrip_and_sampling)
{
    size_t n = 600, D = 3;
    double *X = uniform(n, D, 3, 0), *V = uniform(n, D, 4, 0);
    for (size_t i = 0; i < n; i++) X[i * D + 2] = 0.2 * sin(3 * X[i * D]); /* a surface */
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = 10; p.local_gauges = 1; p.spacing = 0.03; p.n_eigenvectors = 8; p.seed = 5;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g));
    if (!g) { free(X); free(V); return; }
    CHECK(g->n < n && g->n > 100);
    CHECK(g->m == 2);
    for (size_t i = 1; i < g->n; i++) CHECK(g->index[i] > g->index[i - 1]);
    char path[256];
    t_tmp("prepared_gauges.npz", path, sizeof path);
    CHECK_OK(ndyn_geom_save(path, g));
    ndyn_geom_data *h = NULL;
    CHECK_OK(ndyn_geom_load(path, &h));
    if (h) {
        CHECK(h->neig == 8 && h->neigc == 8 && h->frames && h->conn.nnz == g->conn.nnz);
        CHECK(memcmp(h->evecsc, g->evecsc, g->n * 2 * 8 * sizeof(double)) == 0);
        CHECK(memcmp(h->frames, g->frames, g->n * 3 * 2 * sizeof(double)) == 0);
    }
    ndyn_geom_data_free(h);
    ndyn_geom_data_free(g);
    /* same seed, same result */
    ndyn_geom_data *g2 = NULL, *g3 = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g2));
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g3));
    if (g2 && g3) {
        CHECK(g2->n == g3->n && memcmp(g2->index, g3->index, g2->n * sizeof(int64_t)) == 0);
        CHECK(memcmp(g2->evecs, g3->evecs, g2->n * 8 * sizeof(double)) == 0);
    }
    ndyn_geom_data_free(g2); ndyn_geom_data_free(g3);
    free(X); free(V);
}

TEST(bad_inputs)
{
    size_t n = 200, D = 2;
    double *X = uniform(n, D, 6, 0), *V = uniform(n, D, 7, 0);
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = 8;
    ndyn_geom_data *g = NULL;
    /* disconnected: two far clusters in one condition */
    for (size_t i = 100; i < n; i++) X[i * D] += 50;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "2 connected components") && strstr(ndyn_errmsg(), "increase k"));
    for (size_t i = 100; i < n; i++) X[i * D] -= 50;
    /* duplicate points */
    X[10] = X[20]; X[11] = X[21];
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "identical") != NULL);
    X[10] += 1e-3;
    /* fewer points than k + 1 */
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, 8, D, D, NULL, NULL, NULL, &p, &g), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "fewer than k + 1") != NULL);
    /* NaN / Inf in positions or signal */
    double keep = X[33];
    X[33] = NAN;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g), NDYN_ENONFINITE);
    X[33] = keep;
    V[5] = INFINITY;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g), NDYN_ENONFINITE);
    /* zero vectors are valid data: no error, finite operators, zero diffusion */
    memset(V, 0, n * D * sizeof *V);
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g));
    if (g) {
        double out[400];
        CHECK_OK(ndyn_geom_scalar_diffusion(g, 0.5, V, D, out, NULL));
        for (size_t i = 0; i < n * D; i++) CHECK(out[i] == 0);
        ndyn_geom_data_free(g);
        g = NULL;
    }
    /* local gauges with zero vectors: vector diffusion returns zeros, no NaN */
    double *X3 = uniform(n, 3, 8, 0), *V3 = calloc(n * 3, sizeof *V3);
    p.local_gauges = 1;
    CHECK_OK(ndyn_geom_prepare_arrays(X3, V3, n, 3, 3, NULL, NULL, NULL, &p, &g));
    if (g) {
        double out[600];
        CHECK_OK(ndyn_geom_vector_diffusion(g, 0.5, V3, out, NULL));
        for (size_t i = 0; i < n * 3; i++) CHECK(out[i] == 0);
        ndyn_geom_data_free(g);
        g = NULL;
    }
    /* signal dimension that does not match the positions with local gauges */
    CHECK_FAILS(ndyn_geom_prepare_arrays(X3, V, n, 3, 2, NULL, NULL, NULL, &p, &g), NDYN_ESHAPE);
    /* data exactly on a line in R^3 with a forced 2-D gauge: degenerate */
    for (size_t i = 0; i < n; i++) { X3[i * 3 + 1] = 0; X3[i * 3 + 2] = 0; }
    p.dim = 2;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X3, V3, n, 3, 3, NULL, NULL, NULL, &p, &g), NDYN_EINVAL);
    p.dim = 0; p.local_gauges = 0;
    /* bad parameters and conditions */
    p.k = 0;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g), NDYN_EINVAL);
    p.k = 8;
    p.graph = NDYN_GRAPH_RADIUS;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g), NDYN_EINVAL);
    p.graph = NDYN_GRAPH_CKNN;
    int32_t cond[200];
    for (size_t i = 0; i < n; i++) cond[i] = i < 100 ? 0 : 2; /* gap: condition 1 empty */
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, cond, NULL, NULL, &p, &g), NDYN_EINVAL);
    cond[0] = -1;
    CHECK_FAILS(ndyn_geom_prepare_arrays(X, V, n, D, D, cond, NULL, NULL, &p, &g), NDYN_EINVAL);
    p.n_eigenvectors = 500; /* more than n: capped at n */
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g));
    if (g) CHECK(g->neig == n);
    ndyn_geom_data_free(g);
    free(X); free(V); free(X3); free(V3);
}

TEST(cli_prepare)
{
    size_t n = 300, D = 3;
    double *X = uniform(n, D, 9, 0), *V = uniform(n, D, 10, 0);
    ndyn_dataset *ds = ndyn_dataset_new();
    size_t sh[2] = {n, D};
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 2, sh), *b = ndyn_array_alloc(NDYN_F64, 2, sh);
    memcpy(a->data, X, n * D * sizeof(double));
    memcpy(b->data, V, n * D * sizeof(double));
    ndyn_array *c = ndyn_array_alloc1(NDYN_I32, n);
    for (size_t i = 0; i < n; i++) ((int32_t *)c->data)[i] = i < 150 ? 0 : 1;
    ndyn_dataset_add(ds, "pos", a, NULL);
    ndyn_dataset_add(ds, "vel", b, NULL);
    ndyn_dataset_add(ds, "condition", c, NULL);
    char in[256], out[256], cmd[1024];
    t_tmp("cli_in.npz", in, sizeof in);
    t_tmp("cli_prepared.npz", out, sizeof out);
    CHECK_OK(ndyn_dataset_save(in, ds, 0));
    ndyn_dataset_free(ds);
    snprintf(cmd, sizeof cmd, "%s marble prepare --data %s --out %s --k 10 --eigenvectors 5 > tmp/cli_out.txt 2>&1",
             NDYN_TEST_EXE, in, out);
    CHECK(system(cmd) == 0);
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_load(out, &g));
    if (g) CHECK(g->n == n && g->C == 2 && g->neig == 5);
    ndyn_geom_data_free(g);
    FILE *f = fopen("tmp/cli_out.txt", "r");
    char buf[4096] = {0};
    if (f) { size_t r = fread(buf, 1, sizeof buf - 1, f); buf[r] = 0; fclose(f); }
    CHECK(strstr(buf, "nodes        300 (2 conditions)") != NULL);
    CHECK(strstr(buf, "components   2") != NULL);
    /* usage errors exit 2, run-time errors exit 1 */
    snprintf(cmd, sizeof cmd, "%s marble prepare --out %s > /dev/null 2>&1", NDYN_TEST_EXE, out);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    snprintf(cmd, sizeof cmd, "%s marble prepare --data %s --k 400 --out %s > /dev/null 2>&1", NDYN_TEST_EXE, in, out);
    CHECK(WEXITSTATUS(system(cmd)) == 1);
    snprintf(cmd, sizeof cmd, "%s marble fit > /dev/null 2>&1", NDYN_TEST_EXE);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    snprintf(cmd, sizeof cmd, "%s marble prepare --help > /dev/null 2>&1", NDYN_TEST_EXE);
    CHECK(system(cmd) == 0);
    free(X); free(V);
}

RUN_TESTS(T(pos_vel_respects_trials), T(conditions_jointly), T(local_gauges_roundtrip_and_sampling), T(bad_inputs),
          T(cli_prepare))
