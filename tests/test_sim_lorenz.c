/* Lorenz simulator: lobe labels against the attractor's fixed points,
 * trajectories against the ODE by central differences, noise level,
 * standardisation, seeding and parameter validation. */
#include "sim_test_util.h"

#include <omp.h>

#include "ndyn/sim.h"

static ndyn_sim_lorenz_params small(void)
{
    ndyn_sim_lorenz_params p;
    ndyn_sim_lorenz_defaults(&p);
    p.trials = 3;
    p.steps = 2000;
    return p;
}

TEST(lorenz_shapes_and_lobes)
{
    ndyn_sim_lorenz_params p = small();
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_lorenz(&p, &ds));
    if (!ds) return;
    const ndyn_array *x = t_get(ds, "x", NDYN_F64, 3, (size_t[]){3, 2000, 3});
    const ndyn_array *y = t_get(ds, "y", NDYN_F64, 3, (size_t[]){3, 2000, 3});
    const ndyn_array *s = t_get(ds, "states", NDYN_I32, 2, (size_t[]){3, 2000});
    const ndyn_array *dt = t_get(ds, "dt", NDYN_F64, 0, NULL);
    if (!x || !y || !s || !dt) goto done;
    CHECK(((double *)dt->data)[0] == p.dt);
    /* The lobes are the basins around the fixed points C+- = (+-c, +-c, rho-1),
     * c = sqrt(beta (rho - 1)). Label 1 must be the C+ side: on most points
     * the nearer fixed point agrees with the label. */
    const double c = sqrt(p.beta * (p.rho - 1));
    const double *xd = x->data;
    const int32_t *sd = s->data;
    size_t agree = 0, switches = 0, ones = 0, n = 3 * 2000;
    for (size_t i = 0; i < n; i++) {
        const double *v = xd + 3 * i;
        double dp = (v[0] - c) * (v[0] - c) + (v[1] - c) * (v[1] - c);
        double dm = (v[0] + c) * (v[0] + c) + (v[1] + c) * (v[1] + c);
        agree += (dp < dm) == (sd[i] == 1);
        CHECK(sd[i] == 0 || sd[i] == 1);
        CHECK(sd[i] == (v[0] > 0));
        ones += sd[i] == 1;
        if (i % 2000) switches += sd[i] != sd[i - 1];
        /* Bounded: the attractor lies within |x| < 25, |y| < 30, 0 < z < 55. */
        CHECK(fabs(v[0]) < 25 && fabs(v[1]) < 30 && v[2] > 0 && v[2] < 55);
    }
    CHECKF(agree > 0.9 * n, "label agrees with the nearer fixed point on %zu of %zu", agree, n);
    /* 20 time units per trial: both lobes visited, many switches (about one per time unit). */
    CHECKF(switches >= 15, "%zu lobe switches", switches);
    CHECKF(ones > n / 5 && ones < 4 * n / 5, "%zu of %zu in lobe 1", ones, n);
    /* No noise: y == x. */
    CHECK(memcmp(x->data, y->data, ndyn_array_nbytes(x)) == 0);
done:
    ndyn_dataset_free(ds);
}

TEST(lorenz_solves_the_ode)
{
    /* Fourth-order central differences of the samples match the vector field
     * (truncation error O(dt^4)). */
    ndyn_sim_lorenz_params p = small();
    p.trials = 1;
    p.dt = 0.002;
    p.substeps = 1;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_lorenz(&p, &ds));
    if (!ds) return;
    const ndyn_array *x = t_get(ds, "x", NDYN_F64, 3, (size_t[]){1, 2000, 3});
    if (x) {
        const double *v = x->data;
        double worst = 0;
        for (size_t t = 2; t + 2 < 2000; t++) {
            const double *a = v + 3 * t;
            double f[3] = {p.sigma * (a[1] - a[0]), a[0] * (p.rho - a[2]) - a[1],
                           a[0] * a[1] - p.beta * a[2]};
            for (int i = 0; i < 3; i++) {
                double fd = (-v[3 * (t + 2) + i] + 8 * v[3 * (t + 1) + i] - 8 * v[3 * (t - 1) + i] +
                             v[3 * (t - 2) + i]) / (12 * p.dt);
                double e = fabs(fd - f[i]) / (1 + fabs(f[i]));
                if (e > worst) worst = e;
            }
        }
        CHECKF(worst < 1e-4, "worst relative error of the central difference %g", worst);
    }
    ndyn_dataset_free(ds);
}

TEST(lorenz_noise_and_standardize)
{
    ndyn_sim_lorenz_params p = small();
    p.noise = 0.5;
    p.standardize = 1;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_lorenz(&p, &ds));
    if (!ds) return;
    const ndyn_array *x = t_get(ds, "x", NDYN_F64, 3, (size_t[]){3, 2000, 3});
    const ndyn_array *y = t_get(ds, "y", NDYN_F64, 3, (size_t[]){3, 2000, 3});
    if (x && y) {
        const double *xd = x->data, *yd = y->data;
        double s1 = 0, s2 = 0;
        size_t n = x->size;
        for (size_t i = 0; i < n; i++) {
            double clean = (xd[i] - (i % 3 == 2 ? p.rho - 1 : 0)) / 15.0;
            double e = yd[i] - clean;
            s1 += e;
            s2 += e * e;
        }
        double sd = sqrt(s2 / n);
        CHECK_CLOSE(sd, 0.5, 0, 0.03);              /* 18000 draws: sd within 3 % */
        CHECK_CLOSE(s1 / n, 0.0, 4 * 0.5 / sqrt((double)n), 0);
    }
    ndyn_dataset_free(ds);
}

TEST(lorenz_seeded)
{
    ndyn_sim_lorenz_params p = small();
    p.steps = 300;
    p.noise = 0.1;
    ndyn_dataset *a = NULL, *b = NULL, *c = NULL;
    omp_set_num_threads(1);
    CHECK_OK(ndyn_sim_lorenz(&p, &a));
    omp_set_num_threads(3);
    CHECK_OK(ndyn_sim_lorenz(&p, &b));
    p.seed = 2;
    CHECK_OK(ndyn_sim_lorenz(&p, &c));
    T_CHECK_SEEDED(a, b, c);
}

TEST(lorenz_bad_params)
{
    ndyn_dataset *ds = NULL;
    ndyn_sim_lorenz_params p = small();
    p.trials = 0;
    CHECK_FAILS(ndyn_sim_lorenz(&p, &ds), NDYN_EINVAL);
    p = small();
    p.dt = -1;
    CHECK_FAILS(ndyn_sim_lorenz(&p, &ds), NDYN_EINVAL);
    p = small();
    p.dt = 0.1; /* with 2 substeps: h = 0.05, too coarse */
    CHECK_FAILS(ndyn_sim_lorenz(&p, &ds), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "substeps") != NULL);
    p = small();
    p.rho = 0.5;
    CHECK_FAILS(ndyn_sim_lorenz(&p, &ds), NDYN_EINVAL);
    p = small();
    p.noise = NAN;
    CHECK_FAILS(ndyn_sim_lorenz(&p, &ds), NDYN_EINVAL);
    p = small();
    p.trials = 1000000;
    p.steps = 1000000000;
    CHECK_FAILS(ndyn_sim_lorenz(&p, &ds), NDYN_EINVAL);
    CHECK(ds == NULL);
}

RUN_TESTS(T(lorenz_shapes_and_lobes), T(lorenz_solves_the_ode), T(lorenz_noise_and_standardize),
          T(lorenz_seeded), T(lorenz_bad_params))
