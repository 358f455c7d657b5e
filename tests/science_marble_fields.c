/* MARBLE on the four planar fields of the reference's toy example (Extended
 * Data Fig. 1): linear left/right, vortex right/left, 512 points each in
 * [-1, 1]^2, CkNN k = 20, order 2. Ground truth of the construction:
 * linear right is linear left rotated by 180 degrees, vortex left is vortex
 * right rotated by -90 degrees.
 *  - embedding-aware mode: every pair of fields is separated, i.e. each
 *    between-field distance exceeds 3x the largest split-half distance of a
 *    field with itself (the sampling noise floor);
 *  - embedding-agnostic (inner-product) mode: linear vs vortex distances are
 *    large and the rotated linear copy is close: d(linear pair) < 0.25 x the
 *    smallest linear-vortex distance. In flat mode (no local gauges) the
 *    features are not exactly rotation invariant (channel vectors mix under a
 *    global rotation of signal and directions), so for the vortex pair only
 *    d(vortex pair) < the smallest linear-vortex distance is required;
 *  - inner-product mode with local gauges (frames oriented by the geometry,
 *    so the pipeline is exactly rotation equivariant): both rotated copies
 *    come out close, d(pair) < 0.25 x the smallest linear-vortex distance
 *    and d(vortex pair) < 2 x the split-half noise floor.
 * Reduced: 20 epochs (the reference trains longer). */
#include "test.h"
#include "ndyn/analysis.h"
#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/sim.h"

/* Fit on the four fields, embed, and fill dist (4, 4) plus half[c] = OT
 * distance between two random halves of field c. */
static void run_mode(int inner, int gauges, double *dist, double *half)
{
    ndyn_sim_fields_params fp;
    ndyn_sim_fields_defaults(&fp);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_fields(&fp, &ds));
    if (!ds) return;
    const ndyn_array *pos, *vel, *cond;
    CHECK_OK(ndyn_dataset_get(ds, "pos", &pos));
    CHECK_OK(ndyn_dataset_get(ds, "vel", &vel));
    CHECK_OK(ndyn_dataset_get(ds, "condition", &cond));
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.local_gauges = gauges;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(pos->data, vel->data, pos->shape[0], 2, 2, cond->data, NULL,
                                      NULL, &gp, &g));
    if (!g) { ndyn_dataset_free(ds); return; }
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(g, &ops));
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.epochs = 20;
    p.inner_product = inner;
    p.local_gauges = gauges;
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_model_new(&p, 2, 2, 2, &m));
    double t0 = ndyn_time_now();
    CHECK_OK(ndyn_marble_fit(m, &ops->data, NULL));
    size_t n = g->n, E = (size_t)p.out_channels;
    double *emb = malloc(n * E * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, &ops->data, emb));
    int *ci = malloc(n * sizeof(int));
    for (size_t i = 0; i < n; i++) ci[i] = g->condition[i];
    CHECK_OK(ndyn_ot_condition_distances(emb, ci, n, E, 4, NULL, dist));
    /* split halves: condition c's points alternately labelled 0/1 */
    ndyn_rng r;
    ndyn_rng_init(&r, 9, 0);
    for (int c = 0; c < 4; c++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += ci[i] == c;
        double *x = malloc(cnt * E * sizeof(double));
        int *lab = malloc(cnt * sizeof(int));
        size_t *perm = malloc(cnt * sizeof(size_t));
        ndyn_rng_permutation(&r, perm, cnt);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (ci[i] == c) { memcpy(x + k * E, emb + i * E, E * sizeof(double)); k++; }
        for (size_t i = 0; i < cnt; i++) lab[perm[i]] = i % 2 == 0 ? 0 : 1;
        double hd[4];
        CHECK_OK(ndyn_ot_condition_distances(x, lab, cnt, E, 2, NULL, hd));
        half[c] = hd[1];
        free(x); free(lab); free(perm);
    }
    fprintf(stderr, "%s mode%s (fit %.1fs): dist\n", inner ? "inner-product" : "embedding-aware",
            gauges ? " with local gauges" : "", ndyn_time_now() - t0);
    for (int i = 0; i < 4; i++)
        fprintf(stderr, "  %-13s %.4f %.4f %.4f %.4f   split-half %.4f\n", ndyn_sim_field_name(i),
                dist[i * 4], dist[i * 4 + 1], dist[i * 4 + 2], dist[i * 4 + 3], half[i]);
    free(ci); free(emb);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
    ndyn_dataset_free(ds);
}

TEST(embedding_aware_separates_all_four)
{
    ndyn_set_num_threads(1);
    double d[16], h[4];
    run_mode(0, 0, d, h);
    double floor = fmax(fmax(h[0], h[1]), fmax(h[2], h[3]));
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            CHECKF(d[i * 4 + j] > 3 * floor, "fields %d and %d: %.4f vs noise floor %.4f", i, j,
                   d[i * 4 + j], floor);
}

TEST(inner_product_is_rotation_invariant)
{
    ndyn_set_num_threads(1);
    double d[16], h[4];
    run_mode(1, 0, d, h);
    /* 0 linear left, 1 linear right, 2 vortex right, 3 vortex left */
    double lv = fmin(fmin(d[0 * 4 + 2], d[0 * 4 + 3]), fmin(d[1 * 4 + 2], d[1 * 4 + 3]));
    CHECKF(d[0 * 4 + 1] < 0.25 * lv, "linear pair %.4f vs linear-vortex %.4f", d[1], lv);
    CHECKF(d[2 * 4 + 3] < lv, "vortex pair %.4f vs linear-vortex %.4f", d[11], lv);
    fprintf(stderr, "inner-product mode: d(linear pair)/lv = %.3f, d(vortex pair)/lv = %.3f\n",
            d[1] / lv, d[11] / lv);
}

TEST(inner_product_local_gauges_rotation_invariant)
{
    ndyn_set_num_threads(1);
    double d[16], h[4];
    run_mode(1, 1, d, h);
    double lv = fmin(fmin(d[0 * 4 + 2], d[0 * 4 + 3]), fmin(d[1 * 4 + 2], d[1 * 4 + 3]));
    double floor = fmax(fmax(h[0], h[1]), fmax(h[2], h[3]));
    fprintf(stderr, "inner-product mode with local gauges: d(linear pair)/lv = %.3f, "
            "d(vortex pair)/lv = %.3f, noise floor/lv = %.3f\n", d[1] / lv, d[11] / lv, floor / lv);
    CHECKF(d[0 * 4 + 1] < 0.25 * lv, "linear pair %.4f vs linear-vortex %.4f", d[1], lv);
    CHECKF(d[2 * 4 + 3] < 0.25 * lv, "vortex pair %.4f vs linear-vortex %.4f", d[11], lv);
    CHECKF(d[2 * 4 + 3] < 2 * floor, "vortex pair %.4f vs split-half noise floor %.4f", d[11],
           floor);
}

RUN_TESTS(T(embedding_aware_separates_all_four), T(inner_product_is_rotation_invariant),
          T(inner_product_local_gauges_rotation_invariant))
