/* van der Pol simulator: the limit cycle's known amplitude (2.0086 at mu = 1)
 * and period (6.6633), decay for mu < 0, the MARBLE sampling (pos = X[:-1],
 * vel = diff X on the paraboloid), vel against the vector field, seeding. */
#include "sim_test_util.h"

#include "ndyn/sim.h"

/* Amplitude (max |x|) and period (mean time between upward zero crossings of
 * x, interpolated) over the second half of a run of T samples. */
static void cycle(double mu, double *amp, double *period)
{
    enum { T = 8001 };
    const double dt = 0.01;
    static double xy[2 * T];
    *amp = *period = NAN;
    CHECK_OK(ndyn_sim_vdp_trajectory(mu, 0.5, 0.0, dt, 1, T, xy));
    double a = 0, first = -1, last = -1;
    int ncross = 0;
    for (size_t t = T / 2; t < T; t++) {
        if (fabs(xy[2 * t]) > a) a = fabs(xy[2 * t]);
        double x0 = xy[2 * (t - 1)], x1 = xy[2 * t];
        if (x0 < 0 && x1 >= 0) {
            double tc = ((double)(t - 1) + x0 / (x0 - x1)) * dt;
            if (first < 0) first = tc;
            last = tc;
            ncross++;
        }
    }
    *amp = a;
    if (ncross > 1) *period = (last - first) / (ncross - 1);
}

TEST(vdp_limit_cycle)
{
    /* Known values for the van der Pol cycle: amplitude 2.0086 and period
     * 6.6633 at mu = 1; amplitude -> 2 and period -> 2 pi as mu -> 0. */
    double amp, per;
    cycle(1.0, &amp, &per);
    CHECK_CLOSE(amp, 2.0086, 0.002, 0);
    CHECK_CLOSE(per, 6.6633, 0.002, 0);
    cycle(0.1, &amp, &per);
    CHECK_CLOSE(amp, 2.0, 0.01, 0);
    CHECK_CLOSE(per, 2 * M_PI, 0.02, 0);
}

TEST(vdp_decays_for_negative_mu)
{
    /* mu < 0: the origin is stable, |z| shrinks like exp(mu t / 2) near it. */
    enum { T = 3001 };
    static double xy[2 * T];
    CHECK_OK(ndyn_sim_vdp_trajectory(-0.5, 0.5, 0.0, 0.01, 1, T, xy));
    double r = hypot(xy[2 * (T - 1)], xy[2 * (T - 1) + 1]);
    CHECKF(r < 0.5 * exp(-0.25 * 30) * 2 && r > 0.5 * exp(-0.25 * 30) / 2, "r(30) = %g", r);
    /* ... and blows up from far outside the unstable cycle: an error, not a crash. */
    CHECK_FAILS(ndyn_sim_vdp_trajectory(-1.0, 3.0, 3.0, 0.5, 50, 20, xy), NDYN_ENONFINITE);
}

TEST(vdp_dataset)
{
    ndyn_sim_vdp_params p;
    ndyn_sim_vdp_defaults(&p);
    p.conditions = 5;
    p.trials = 20;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_vdp(&p, &ds));
    if (!ds) return;
    const ndyn_array *pos = t_get(ds, "pos", NDYN_F64, 2, (size_t[]){0, 3});
    const ndyn_array *vel = t_get(ds, "vel", NDYN_F64, 2, (size_t[]){0, 3});
    const ndyn_array *cond = t_get(ds, "condition", NDYN_I32, 1, (size_t[]){0});
    const ndyn_array *traj = t_get(ds, "trajectory", NDYN_I32, 1, (size_t[]){0});
    const ndyn_array *mu = t_get(ds, "mu", NDYN_F64, 1, (size_t[]){5});
    if (!pos || !vel || !cond || !traj || !mu) goto done;
    size_t n = pos->shape[0];
    CHECK(vel->shape[0] == n && cond->shape[0] == n && traj->shape[0] == n);
    CHECKF(n <= 5 * 20 * 5 && n > 5 * 20 * 5 / 3, "n = %zu", n);
    const double *m = mu->data;
    for (int c = 0; c < 5; c++) CHECK_CLOSE(m[c], -1.0 + 0.5 * c, 1e-15, 0);
    const double *P = pos->data, *V = vel->data;
    const int32_t *C = cond->data, *J = traj->data;
    size_t per[5] = {0};
    for (size_t i = 0; i < n; i++) {
        CHECK(C[i] >= 0 && C[i] < 5 && J[i] / 20 == C[i]);
        if (C[i] >= 0 && C[i] < 5) per[C[i]]++;
        const double *a = P + 3 * i;
        CHECK(fabs(a[0]) < 3 && fabs(a[1]) < 3);
        /* On the paraboloid z = -(0.05 x)^2 - (0.05 y)^2. */
        CHECK_CLOSE(a[2], -(0.05 * a[0]) * (0.05 * a[0]) - (0.05 * a[1]) * (0.05 * a[1]), 1e-15, 0);
        /* pos + vel is the next sample of the same trajectory. */
        if (i + 1 < n && J[i + 1] == J[i])
            for (int d = 0; d < 3; d++) CHECK_CLOSE(a[d] + V[3 * i + d], P[3 * (i + 1) + d], 1e-12, 0);
    }
    for (int c = 0; c < 5; c++) CHECKF(per[c] > 0, "condition %d has no points", c);
done:
    ndyn_dataset_free(ds);
}

TEST(vdp_velocity_is_the_field)
{
    /* Planar (alpha = 0), fine sampling: vel / dt = f(pos) + O(dt). */
    ndyn_sim_vdp_params p;
    ndyn_sim_vdp_defaults(&p);
    p.conditions = 3;
    p.trials = 10;
    p.steps = 50;
    p.dt = 0.001;
    p.substeps = 1;
    p.alpha = 0;
    p.ic_range = 2;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_vdp(&p, &ds));
    if (!ds) return;
    const ndyn_array *pos = t_get(ds, "pos", NDYN_F64, 2, (size_t[]){0, 2});
    const ndyn_array *vel = t_get(ds, "vel", NDYN_F64, 2, (size_t[]){0, 2});
    const ndyn_array *cond = t_get(ds, "condition", NDYN_I32, 1, (size_t[]){0});
    const ndyn_array *mu = t_get(ds, "mu", NDYN_F64, 1, (size_t[]){3});
    if (pos && vel && cond && mu) {
        const double *P = pos->data, *V = vel->data, *m = mu->data;
        const int32_t *C = cond->data;
        double worst = 0;
        for (size_t i = 0; i < pos->shape[0]; i++) {
            double x = P[2 * i], y = P[2 * i + 1];
            double f[2] = {y, m[C[i]] * (1 - x * x) * y - x};
            for (int d = 0; d < 2; d++) {
                double e = fabs(V[2 * i + d] / p.dt - f[d]) / (1 + fabs(f[d]));
                if (e > worst) worst = e;
            }
        }
        CHECKF(worst < 0.02, "worst relative error %g", worst);
    }
    ndyn_dataset_free(ds);
}

TEST(vdp_seeded_and_bad_params)
{
    ndyn_sim_vdp_params p;
    ndyn_sim_vdp_defaults(&p);
    p.conditions = 4;
    p.trials = 10;
    p.noise = 0.01;
    ndyn_dataset *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ndyn_sim_vdp(&p, &a));
    CHECK_OK(ndyn_sim_vdp(&p, &b));
    p.seed = 9;
    CHECK_OK(ndyn_sim_vdp(&p, &c));
    T_CHECK_SEEDED(a, b, c);
    ndyn_dataset *ds = NULL;
    ndyn_sim_vdp_defaults(&p);
    p.steps = 1;
    CHECK_FAILS(ndyn_sim_vdp(&p, &ds), NDYN_EINVAL);
    ndyn_sim_vdp_defaults(&p);
    p.mu_min = 1, p.mu_max = -1;
    CHECK_FAILS(ndyn_sim_vdp(&p, &ds), NDYN_EINVAL);
    ndyn_sim_vdp_defaults(&p);
    p.alpha = INFINITY;
    CHECK_FAILS(ndyn_sim_vdp(&p, &ds), NDYN_EINVAL);
    ndyn_sim_vdp_defaults(&p);
    p.substeps = 1; /* dt 0.5 in one RK4 step: too coarse */
    CHECK_FAILS(ndyn_sim_vdp(&p, &ds), NDYN_EINVAL);
    CHECK(ds == NULL);
}

RUN_TESTS(T(vdp_limit_cycle), T(vdp_decays_for_negative_mu), T(vdp_dataset),
          T(vdp_velocity_is_the_field), T(vdp_seeded_and_bad_params))
