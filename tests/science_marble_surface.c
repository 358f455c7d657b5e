/* MARBLE on vector fields on a curved surface (the spec's example: local
 * gauges, k = 10, order 1, inner products). Surface: the paraboloid
 * z = 0.5 (x^2 + y^2) over the unit disc, 400 uniform points per field, each
 * field on its own sample. Ground truth of the construction:
 *   0 "x-flow"   f = (1, 0, x)            (d/dx lifted to the surface)
 *   1 "y-flow"   f = (0, 1, y)            = field 0 rotated by 90 degrees about
 *                                           the symmetry axis (positions too)
 *   2 "source"   f = (x, y, x^2 + y^2)    (radial)
 *   3 "swirl"    f = (-y, x, 0)           (rotation about the axis)
 * The local-gauge inner-product features are rotation invariant, so the
 * rotated copy must come out close: d(0, 1) < 0.25 x the smallest distance
 * between a flow and the source or swirl, and < 2 x the split-half noise
 * floor of the flows. Reduced: 20 epochs. */
#include "test.h"
#include "ndyn/analysis.h"
#include "ndyn/geom.h"
#include "ndyn/marble.h"

#define NP 400
#define NF 4

static void field(int c, double x, double y, double *v)
{
    switch (c) {
    case 0: v[0] = 1; v[1] = 0; v[2] = x; break;
    case 1: v[0] = 0; v[1] = 1; v[2] = y; break;
    case 2: v[0] = x; v[1] = y; v[2] = x * x + y * y; break;
    default: v[0] = -y; v[1] = x; v[2] = 0; break;
    }
}

/* OT distance between two random halves of condition c's embeddings. */
static double split_half(const double *emb, const int *ci, size_t n, size_t E, int c, uint64_t seed)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) cnt += ci[i] == c;
    double *x = malloc(cnt * E * sizeof(double));
    int *lab = malloc(cnt * sizeof(int));
    size_t *perm = malloc(cnt * sizeof(size_t));
    ndyn_rng r;
    ndyn_rng_init(&r, seed, (uint64_t)c);
    ndyn_rng_permutation(&r, perm, cnt);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ci[i] == c) { memcpy(x + k * E, emb + i * E, E * sizeof(double)); k++; }
    for (size_t i = 0; i < cnt; i++) lab[perm[i]] = (int)(i % 2);
    double hd[4] = {0, 0, 0, 0};
    CHECK_OK(ndyn_ot_condition_distances(x, lab, cnt, E, 2, NULL, hd));
    free(x); free(lab); free(perm);
    return hd[1];
}

TEST(rotated_field_on_paraboloid_is_close)
{
    ndyn_set_num_threads(1);
    size_t n = (size_t)NP * NF;
    double *pos = malloc(n * 3 * sizeof(double)), *vel = malloc(n * 3 * sizeof(double));
    int32_t *cond = malloc(n * sizeof(int32_t));
    for (int c = 0; c < NF; c++) {
        ndyn_rng r;
        ndyn_rng_init(&r, 5, (uint64_t)c);
        for (size_t i = (size_t)c * NP; i < (size_t)(c + 1) * NP; i++) {
            double x, y;
            do {
                x = ndyn_rng_uniform_range(&r, -1, 1);
                y = ndyn_rng_uniform_range(&r, -1, 1);
            } while (x * x + y * y > 1);
            pos[i * 3] = x; pos[i * 3 + 1] = y; pos[i * 3 + 2] = 0.5 * (x * x + y * y);
            field(c, x, y, vel + i * 3);
            cond[i] = c;
        }
    }
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.k = 10;
    gp.local_gauges = 1;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(pos, vel, n, 3, 3, cond, NULL, NULL, &gp, &g));
    free(pos); free(vel); free(cond);
    if (!g) return;
    CHECKF(g->m == 2, "manifold dimension %d (want 2)", g->m);
    ndyn_marble_ops *ops = NULL;
    CHECK_OK(ndyn_marble_ops_from_geom(g, &ops));
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.epochs = 20;
    p.order = 1;
    p.inner_product = 1;
    p.local_gauges = 1;
    ndyn_marble_model *m = NULL;
    if (ops) CHECK_OK(ndyn_marble_model_new(&p, ops->data.s, ops->data.d, ops->data.dim, &m));
    if (!m) { ndyn_marble_ops_free(ops); ndyn_geom_data_free(g); return; }
    double t0 = ndyn_time_now();
    CHECK_OK(ndyn_marble_fit(m, &ops->data, NULL));
    size_t E = (size_t)p.out_channels;
    double *emb = malloc(n * E * sizeof(double));
    CHECK_OK(ndyn_marble_transform(m, &ops->data, emb));
    int *ci = malloc(n * sizeof(int));
    for (size_t i = 0; i < n; i++) ci[i] = g->condition[i];
    double d[NF * NF];
    CHECK_OK(ndyn_ot_condition_distances(emb, ci, n, E, NF, NULL, d));
    double h0 = split_half(emb, ci, n, E, 0, 9), h1 = split_half(emb, ci, n, E, 1, 9);
    const char *names[NF] = {"x-flow", "y-flow", "source", "swirl"};
    fprintf(stderr, "paraboloid, local gauges, inner products (fit %.1fs): dist\n",
            ndyn_time_now() - t0);
    for (int i = 0; i < NF; i++)
        fprintf(stderr, "  %-7s %.4f %.4f %.4f %.4f\n", names[i], d[i * NF], d[i * NF + 1],
                d[i * NF + 2], d[i * NF + 3]);
    double other = fmin(fmin(d[0 * NF + 2], d[0 * NF + 3]), fmin(d[1 * NF + 2], d[1 * NF + 3]));
    double floor = fmax(h0, h1);
    fprintf(stderr, "d(x-flow, y-flow) = %.4f = %.3f x the smallest flow-other distance; "
            "split-half floor %.4f\n", d[1], d[1] / other, floor);
    CHECKF(d[1] < 0.25 * other, "rotated pair %.4f vs flow-other %.4f", d[1], other);
    CHECKF(d[1] < 2 * floor, "rotated pair %.4f vs split-half noise floor %.4f", d[1], floor);
    free(emb); free(ci);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
}

RUN_TESTS(T(rotated_field_on_paraboloid_is_close))
