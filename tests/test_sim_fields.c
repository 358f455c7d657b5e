/* Planar toy fields: layout, the four fields recomputed from their formulas,
 * uniform sampling of [-1, 1]^2, names, seeding, validation. */
#include "sim_test_util.h"

#include "ndyn/sim.h"

TEST(fields_dataset)
{
    ndyn_sim_fields_params p;
    ndyn_sim_fields_defaults(&p);
    CHECK(p.n == 512);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_fields(&p, &ds));
    if (!ds) return;
    const ndyn_array *pos = t_get(ds, "pos", NDYN_F64, 2, (size_t[]){2048, 2});
    const ndyn_array *vel = t_get(ds, "vel", NDYN_F64, 2, (size_t[]){2048, 2});
    const ndyn_array *cond = t_get(ds, "condition", NDYN_I32, 1, (size_t[]){2048});
    const ndyn_named_array *names = ndyn_dataset_find(ds, "names");
    CHECK(names && names->text &&
          strcmp(names->text, "linear left\nlinear right\nvortex right\nvortex left") == 0);
    if (!pos || !vel || !cond) goto done;
    const double *P = pos->data, *V = vel->data;
    const int32_t *C = cond->data;
    for (int c = 0; c < 4; c++) {
        double mx = 0, my = 0, q[4] = {0};
        for (size_t i = 512 * (size_t)c; i < 512 * (size_t)(c + 1); i++) {
            CHECK(C[i] == c);
            double x = P[2 * i], y = P[2 * i + 1];
            CHECK(x >= -1 && x < 1 && y >= -1 && y < 1);
            mx += x, my += y;
            q[(x > 0) + 2 * (y > 0)]++;
            /* The fields of the reference example, written out again. */
            double u, v;
            if (c == 0) u = -1, v = -1;
            else if (c == 1) u = 1, v = 1;
            else {
                double cx = c == 2 ? -1 : 1, r = sqrt((x - cx) * (x - cx) + (y - 1) * (y - 1) + 0.1);
                u = (y - 1) / r, v = -(x - cx) / r;
            }
            CHECK_CLOSE(V[2 * i], u, 1e-15, 0);
            CHECK_CLOSE(V[2 * i + 1], v, 1e-15, 0);
        }
        /* Uniform on the square: mean within 4 sd (sd = 1/sqrt(3 * 512)), quadrants ~128. */
        CHECK_CLOSE(mx / 512, 0, 4 / sqrt(3.0 * 512), 0);
        CHECK_CLOSE(my / 512, 0, 4 / sqrt(3.0 * 512), 0);
        for (int k = 0; k < 4; k++) CHECK_CLOSE(q[k], 128, 45, 0);
    }
    /* The two clouds differ (own points per field). */
    CHECK(P[0] != P[2 * 512]);
done:
    ndyn_dataset_free(ds);
}

TEST(fields_eval_and_names)
{
    double v[2];
    /* Vortex around (-1, 1) is clockwise: at (0, 1) (east of the centre) it points south. */
    ndyn_sim_field_eval(2, 0.1, 0.0, 1.0, v);
    CHECK_CLOSE(v[0], 0, 1e-15, 0);
    CHECK_CLOSE(v[1], -1 / sqrt(1.1), 1e-15, 0);
    CHECK(strcmp(ndyn_sim_field_name(0), "linear left") == 0);
    CHECK(ndyn_sim_field_name(4) == NULL && ndyn_sim_field_name(-1) == NULL);
    ndyn_sim_field_eval(7, 0.1, 0, 0, v);
    CHECK(isnan(v[0]));
}

TEST(fields_noise_seed_and_bad_params)
{
    ndyn_sim_fields_params p;
    ndyn_sim_fields_defaults(&p);
    p.n = 2000;
    p.noise = 0.2;
    ndyn_dataset *a = NULL, *b = NULL;
    CHECK_OK(ndyn_sim_fields(&p, &a));
    p.seed = 5;
    CHECK_OK(ndyn_sim_fields(&p, &b));
    if (a && b) {
        CHECK(!t_same_dataset(a, b));
        const ndyn_array *vel = t_get(a, "vel", NDYN_F64, 2, (size_t[]){8000, 2});
        if (vel) {
            /* Linear fields: vel - (-1, -1) is pure noise of sd 0.2. */
            const double *V = vel->data;
            double s2 = 0;
            for (size_t i = 0; i < 2 * 2000; i++) s2 += (V[i] + 1) * (V[i] + 1);
            CHECK_CLOSE(sqrt(s2 / 4000), 0.2, 0, 0.05);
        }
    }
    ndyn_dataset_free(a);
    ndyn_dataset_free(b);
    ndyn_dataset *ds = NULL;
    ndyn_sim_fields_defaults(&p);
    p.n = 0;
    CHECK_FAILS(ndyn_sim_fields(&p, &ds), NDYN_EINVAL);
    ndyn_sim_fields_defaults(&p);
    p.eps = 0;
    CHECK_FAILS(ndyn_sim_fields(&p, &ds), NDYN_EINVAL);
    ndyn_sim_fields_defaults(&p);
    p.noise = -1;
    CHECK_FAILS(ndyn_sim_fields(&p, &ds), NDYN_EINVAL);
    CHECK(ds == NULL);
}

RUN_TESTS(T(fields_dataset), T(fields_eval_and_names), T(fields_noise_seed_and_bad_params))
