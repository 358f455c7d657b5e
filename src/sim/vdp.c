/* The van der Pol oscillator swept over mu, one condition per mu, sampled as
 * MARBLE's toy example does: short trajectories from random initial
 * conditions, mapped onto a paraboloid, pos = X[:-1], vel = diff(X). */
#include "sim/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define SYS "vdp"
#define MAX_ELEMS ((size_t)1 << 32)

void ndyn_sim_vdp_defaults(ndyn_sim_vdp_params *p)
{
    p->conditions = 40;
    p->mu_min = -1.0;
    p->mu_max = 1.0;
    p->trials = 100;
    p->steps = 6;
    p->dt = 0.5;
    p->substeps = 50;
    p->ic_range = 3.0;
    p->bound = 3.0;
    p->alpha = 0.05;
    p->noise = 0.0;
    p->seed = 1;
}

int ndyn_sim_vdp_check(const ndyn_sim_vdp_params *p)
{
    if (!p) return ndyn_error(NDYN_EINVAL, SYS ": parameters are NULL");
    int rc;
    if ((rc = sim_check_count(SYS, "conditions", p->conditions, 1, 1000000))) return rc;
    if ((rc = sim_check_count(SYS, "trials", p->trials, 1, 100000000))) return rc;
    if ((rc = sim_check_count(SYS, "steps", p->steps, 2, 100000000))) return rc;
    if ((rc = sim_check_count(SYS, "substeps", p->substeps, 1, 100000))) return rc;
    if ((rc = sim_check_pos(SYS, "dt", p->dt))) return rc;
    if (p->dt / (double)p->substeps > 0.05)
        return ndyn_error(NDYN_EINVAL, SYS ": dt/substeps = %g is too coarse for RK4; raise "
                          "substeps (now %zu) or lower dt (now %g)", p->dt / (double)p->substeps,
                          p->substeps, p->dt);
    if (!isfinite(p->mu_min) || !isfinite(p->mu_max) || p->mu_min > p->mu_max ||
        fabs(p->mu_min) > 100 || fabs(p->mu_max) > 100)
        return ndyn_error(NDYN_EINVAL, SYS ": need finite mu_min <= mu_max within [-100, 100], "
                          "got [%g, %g]", p->mu_min, p->mu_max);
    if ((rc = sim_check_pos(SYS, "ic_range", p->ic_range))) return rc;
    if ((rc = sim_check_pos(SYS, "bound", p->bound))) return rc;
    if (p->bound > 1e6)
        return ndyn_error(NDYN_EINVAL, SYS ": bound must be <= 1e6, got %g", p->bound);
    if ((rc = sim_check_nonneg(SYS, "alpha", p->alpha))) return rc;
    if ((rc = sim_check_nonneg(SYS, "noise", p->noise))) return rc;
    size_t n;
    if (ndyn_size_mul(p->conditions, p->trials, &n) || ndyn_size_mul(n, p->steps, &n) ||
        ndyn_size_mul(n, 8, &n) || n > MAX_ELEMS)
        return ndyn_error(NDYN_EINVAL, SYS ": conditions x trials x steps = %zu x %zu x %zu is "
                          "too large; lower one of them", p->conditions, p->trials, p->steps);
    return NDYN_OK;
}

static inline void deriv(double mu, double x, double y, double *dx, double *dy)
{
    *dx = y;
    *dy = mu * (1.0 - x * x) * y - x;
}

/* One RK4 step of length h on (x, y). */
static void rk4(double mu, double h, double *x, double *y)
{
    double k1x, k1y, k2x, k2y, k3x, k3y, k4x, k4y;
    deriv(mu, *x, *y, &k1x, &k1y);
    deriv(mu, *x + 0.5 * h * k1x, *y + 0.5 * h * k1y, &k2x, &k2y);
    deriv(mu, *x + 0.5 * h * k2x, *y + 0.5 * h * k2y, &k3x, &k3y);
    deriv(mu, *x + h * k3x, *y + h * k3y, &k4x, &k4y);
    *x += h / 6.0 * (k1x + 2 * k2x + 2 * k3x + k4x);
    *y += h / 6.0 * (k1y + 2 * k2y + 2 * k3y + k4y);
}

int ndyn_sim_vdp_trajectory(double mu, double x0, double y0, double dt, size_t substeps,
                            size_t T, double *xy)
{
    if (!xy || !T) return ndyn_error(NDYN_EINVAL, SYS ": no output buffer or T == 0");
    if (!isfinite(mu) || !isfinite(x0) || !isfinite(y0))
        return ndyn_error(NDYN_ENONFINITE, SYS ": mu and the initial state must be finite");
    if (!(dt > 0) || !isfinite(dt) || substeps == 0)
        return ndyn_error(NDYN_EINVAL, SYS ": need dt > 0 (got %g) and substeps >= 1", dt);
    const double h = dt / (double)substeps;
    double x = x0, y = y0;
    for (size_t t = 0; t < T; t++) {
        if (t)
            for (size_t k = 0; k < substeps; k++) rk4(mu, h, &x, &y);
        if (!isfinite(x) || !isfinite(y) || fabs(x) > 1e100 || fabs(y) > 1e100)
            return ndyn_error(NDYN_ENONFINITE, SYS ": the trajectory from (%g, %g) with mu = %g "
                              "diverged at step %zu; lower dt or start closer to the origin",
                              x0, y0, mu, t);
        xy[2 * t] = x;
        xy[2 * t + 1] = y;
    }
    return NDYN_OK;
}

int ndyn_sim_vdp(const ndyn_sim_vdp_params *p, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, SYS ": out is NULL");
    *out = NULL;
    int rc = ndyn_sim_vdp_check(p);
    if (rc) return rc;
    const size_t C = p->conditions, M = p->trials, T = p->steps, ntraj = C * M;
    const size_t D = p->alpha > 0 ? 3 : 2;
    const double h = p->dt / (double)p->substeps;
    // X is (ntraj, T, D) mapped samples; len[j] samples of trajectory j lie in the bound.
    double *X = ndyn_malloc_array(ntraj * T, D * sizeof(double));
    size_t *len = ndyn_calloc(ntraj, sizeof *len);
    ndyn_array *mu = ndyn_array_alloc1(NDYN_F64, C);
    if (!X || !len || !mu) {
        free(X);
        free(len);
        ndyn_array_free(mu);
        return NDYN_ENOMEM;
    }
    double *mud = mu->data;
    for (size_t c = 0; c < C; c++)
        mud[c] = C == 1 ? p->mu_min
                        : p->mu_min + (p->mu_max - p->mu_min) * (double)c / (double)(C - 1);
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t j = 0; j < ntraj; j++) {
        ndyn_rng r;
        ndyn_rng_init(&r, p->seed, j + 1);
        const double m = mud[j / M];
        double x = ndyn_rng_uniform_range(&r, -p->ic_range, p->ic_range);
        double y = ndyn_rng_uniform_range(&r, -p->ic_range, p->ic_range);
        size_t t = 0;
        for (; t < T; t++) {
            if (t)
                for (size_t k = 0; k < p->substeps; k++) rk4(m, h, &x, &y);
            /* Cut the trajectory where it leaves the box (or diverges). */
            if (!(fabs(x) < p->bound && fabs(y) < p->bound)) break;
            double xs = x, ys = y;
            if (p->noise > 0) {
                xs += p->noise * ndyn_rng_normal(&r);
                ys += p->noise * ndyn_rng_normal(&r);
            }
            double *o = X + (j * T + t) * D;
            o[0] = xs;
            o[1] = ys;
            if (D == 3) o[2] = -(p->alpha * xs) * (p->alpha * xs) - (p->alpha * ys) * (p->alpha * ys);
        }
        len[j] = t;
    }
    size_t n = 0;
    for (size_t j = 0; j < ntraj; j++) n += len[j] > 1 ? len[j] - 1 : 0;
    ndyn_array *pos = NULL, *vel = NULL, *cond = NULL, *traj = NULL, *tt = NULL;
    if (n == 0) {
        rc = ndyn_error(NDYN_EINVAL, SYS ": every trajectory left the box |x|, |y| < %g before "
                        "its second sample; raise bound or lower dt (now %g)", p->bound, p->dt);
    } else {
        pos = ndyn_array_alloc2(NDYN_F64, n, D);
        vel = ndyn_array_alloc2(NDYN_F64, n, D);
        cond = ndyn_array_alloc1(NDYN_I32, n);
        traj = ndyn_array_alloc1(NDYN_I32, n);
        tt = ndyn_array_alloc1(NDYN_F64, n);
        if (!pos || !vel || !cond || !traj || !tt) rc = NDYN_ENOMEM;
    }
    if (!rc) {
        double *pd = pos->data, *vd = vel->data, *td = tt->data; // pos, vel are (n, D)
        int32_t *cd = cond->data, *jd = traj->data;
        size_t i = 0;
        for (size_t j = 0; j < ntraj; j++)
            for (size_t t = 0; t + 1 < len[j]; t++, i++) {
                const double *a = X + (j * T + t) * D, *b = a + D;
                for (size_t d = 0; d < D; d++) {
                    pd[i * D + d] = a[d];
                    vd[i * D + d] = b[d] - a[d];
                }
                cd[i] = (int32_t)(j / M);
                jd[i] = (int32_t)j;
                td[i] = (double)t * p->dt;
            }
    }
    free(X);
    free(len);
    ndyn_dataset *ds = rc ? NULL : ndyn_dataset_new();
    if (!rc && !ds) rc = NDYN_ENOMEM;
    sim_put(ds, "pos", pos, SYS, &rc);
    sim_put(ds, "vel", vel, SYS, &rc);
    sim_put(ds, "condition", cond, SYS, &rc);
    sim_put(ds, "mu", mu, SYS, &rc);
    sim_put(ds, "trajectory", traj, SYS, &rc);
    sim_put(ds, "t", tt, SYS, &rc);
    sim_put(ds, "dt", sim_scalar(p->dt), SYS, &rc);
    if (rc) {
        ndyn_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NDYN_OK;
}
