/* The Lorenz attractor: RK4 trajectories started on the attractor, with the
 * lobe (sign of x) as the discrete ground-truth state. */
#include "sim/sim_internal.h"

#include <stdlib.h>

#define SYS "lorenz"
#define MAX_ELEMS ((size_t)1 << 32)

void ndyn_sim_lorenz_defaults(ndyn_sim_lorenz_params *p)
{
    p->trials = 8;
    p->steps = 1000;
    p->dt = 0.01;
    p->substeps = 2;
    p->burn_in = 500;
    p->sigma = 10.0;
    p->rho = 28.0;
    p->beta = 8.0 / 3.0;
    p->noise = 0.0;
    p->standardize = 0;
    p->seed = 1;
}

int ndyn_sim_lorenz_check(const ndyn_sim_lorenz_params *p)
{
    if (!p) return ndyn_error(NDYN_EINVAL, SYS ": parameters are NULL");
    int rc;
    if ((rc = sim_check_count(SYS, "trials", p->trials, 1, 1000000))) return rc;
    if ((rc = sim_check_count(SYS, "steps", p->steps, 1, 1000000000))) return rc;
    if ((rc = sim_check_count(SYS, "substeps", p->substeps, 1, 10000))) return rc;
    if ((rc = sim_check_count(SYS, "burn_in", p->burn_in, 0, 100000000))) return rc;
    if ((rc = sim_check_pos(SYS, "dt", p->dt))) return rc;
    if (p->dt / (double)p->substeps > 0.02)
        return ndyn_error(NDYN_EINVAL, SYS ": dt/substeps = %g is too coarse for RK4 on Lorenz "
                          "(unstable above 0.02); raise substeps (now %zu) or lower dt (now %g)",
                          p->dt / (double)p->substeps, p->substeps, p->dt);
    if ((rc = sim_check_pos(SYS, "sigma", p->sigma))) return rc;
    if ((rc = sim_check_pos(SYS, "beta", p->beta))) return rc;
    if (!isfinite(p->rho) || !(p->rho > 1))
        return ndyn_error(NDYN_EINVAL, SYS ": rho must be > 1 (two lobes exist only then), got %g",
                          p->rho);
    if ((rc = sim_check_nonneg(SYS, "noise", p->noise))) return rc;
    size_t n;
    if (ndyn_size_mul(p->trials, p->steps, &n) || ndyn_size_mul(n, 3, &n) || n > MAX_ELEMS)
        return ndyn_error(NDYN_EINVAL, SYS ": trials x steps x 3 = %zu x %zu x 3 is too large "
                          "(limit 2^32 values); lower trials or steps", p->trials, p->steps);
    return NDYN_OK;
}

static void deriv(const double s[3], double sigma, double rho, double beta, double d[3])
{
    d[0] = sigma * (s[1] - s[0]);
    d[1] = s[0] * (rho - s[2]) - s[1];
    d[2] = s[0] * s[1] - beta * s[2];
}

void ndyn_sim_lorenz_rk4(double s[3], double h, double sigma, double rho, double beta)
{
    double k1[3], k2[3], k3[3], k4[3], t[3];
    deriv(s, sigma, rho, beta, k1);
    for (int i = 0; i < 3; i++) t[i] = s[i] + 0.5 * h * k1[i];
    deriv(t, sigma, rho, beta, k2);
    for (int i = 0; i < 3; i++) t[i] = s[i] + 0.5 * h * k2[i];
    deriv(t, sigma, rho, beta, k3);
    for (int i = 0; i < 3; i++) t[i] = s[i] + h * k3[i];
    deriv(t, sigma, rho, beta, k4);
    for (int i = 0; i < 3; i++) s[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

int ndyn_sim_lorenz(const ndyn_sim_lorenz_params *p, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, SYS ": out is NULL");
    *out = NULL;
    int rc = ndyn_sim_lorenz_check(p);
    if (rc) return rc;
    const size_t N = p->trials, T = p->steps;
    ndyn_array *y = ndyn_array_alloc3(NDYN_F64, N, T, 3);
    ndyn_array *x = ndyn_array_alloc3(NDYN_F64, N, T, 3);
    ndyn_array *st = ndyn_array_alloc2(NDYN_I32, N, T);
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!y || !x || !st || !ds) {
        ndyn_array_free(y);
        ndyn_array_free(x);
        ndyn_array_free(st);
        ndyn_dataset_free(ds);
        return NDYN_ENOMEM;
    }
    double *yd = y->data, *xd = x->data; // y, x are (N, T, 3)
    int32_t *sd = st->data;              // states is (N, T)
    const double h = p->dt / (double)p->substeps;
    int diverged = 0;
#pragma omp parallel for schedule(dynamic) reduction(| : diverged)
    for (size_t n = 0; n < N; n++) {
        ndyn_rng r;
        ndyn_rng_init(&r, p->seed, n + 1);
        double s[3] = {ndyn_rng_uniform_range(&r, -15, 15), ndyn_rng_uniform_range(&r, -20, 20),
                       ndyn_rng_uniform_range(&r, 5, 45)};
        for (size_t b = 0; b < p->burn_in * p->substeps; b++)
            ndyn_sim_lorenz_rk4(s, h, p->sigma, p->rho, p->beta);
        for (size_t t = 0; t < T; t++) {
            if (t)
                for (size_t k = 0; k < p->substeps; k++)
                    ndyn_sim_lorenz_rk4(s, h, p->sigma, p->rho, p->beta);
            if (!isfinite(s[0] + s[1] + s[2])) diverged = 1;
            double *xo = xd + (n * T + t) * 3, *yo = yd + (n * T + t) * 3;
            for (int i = 0; i < 3; i++) {
                xo[i] = s[i];
                double v = s[i];
                if (p->standardize) v = (v - (i == 2 ? p->rho - 1.0 : 0.0)) / 15.0;
                yo[i] = v + (p->noise > 0 ? p->noise * ndyn_rng_normal(&r) : 0.0);
            }
            sd[n * T + t] = s[0] > 0 ? 1 : 0;
        }
    }
    if (diverged) {
        ndyn_array_free(y);
        ndyn_array_free(x);
        ndyn_array_free(st);
        ndyn_dataset_free(ds);
        return ndyn_error(NDYN_ENONFINITE, SYS ": the integration diverged; lower dt (now %g) or "
                          "raise substeps (now %zu)", p->dt, p->substeps);
    }
    sim_put(ds, "y", y, SYS, &rc);
    sim_put(ds, "x", x, SYS, &rc);
    sim_put(ds, "states", st, SYS, &rc);
    sim_put(ds, "dt", sim_scalar(p->dt), SYS, &rc);
    if (rc) {
        ndyn_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NDYN_OK;
}
