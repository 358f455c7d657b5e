/* The four planar toy fields of MARBLE's Extended Data Fig. 1: two constant
 * ("linear") fields of opposite direction and two vortices with different
 * centres, each sampled on its own uniform random points of [-1, 1]^2. */
#include "sim/sim_internal.h"

#include <string.h>

#define SYS "fields"

static const char *const k_names[NDYN_SIM_NFIELDS] = {"linear left", "linear right",
                                                      "vortex right", "vortex left"};

void ndyn_sim_fields_defaults(ndyn_sim_fields_params *p)
{
    p->n = 512;
    p->eps = 0.1;
    p->noise = 0.0;
    p->seed = 1;
}

int ndyn_sim_fields_check(const ndyn_sim_fields_params *p)
{
    if (!p) return ndyn_error(NDYN_EINVAL, SYS ": parameters are NULL");
    int rc;
    if ((rc = sim_check_count(SYS, "n (points per field)", p->n, 1, (size_t)1 << 28))) return rc;
    if ((rc = sim_check_pos(SYS, "eps", p->eps))) return rc;
    if ((rc = sim_check_nonneg(SYS, "noise", p->noise))) return rc;
    return NDYN_OK;
}

const char *ndyn_sim_field_name(int c)
{
    return c >= 0 && c < NDYN_SIM_NFIELDS ? k_names[c] : NULL;
}

void ndyn_sim_field_eval(int c, double eps, double x, double y, double v[2])
{
    double cx;
    switch (c) {
    case 0: v[0] = -1.0, v[1] = -1.0; return;
    case 1: v[0] = 1.0, v[1] = 1.0; return;
    case 2: cx = -1.0; break;
    case 3: cx = 1.0; break;
    default: v[0] = v[1] = NAN; return;
    }
    double nrm = sqrt((x - cx) * (x - cx) + (y - 1.0) * (y - 1.0) + eps);
    v[0] = (y - 1.0) / nrm;
    v[1] = -(x - cx) / nrm;
}

int ndyn_sim_fields(const ndyn_sim_fields_params *p, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, SYS ": out is NULL");
    *out = NULL;
    int rc = ndyn_sim_fields_check(p);
    if (rc) return rc;
    const size_t n = p->n, total = n * NDYN_SIM_NFIELDS;
    ndyn_array *pos = ndyn_array_alloc2(NDYN_F64, total, 2);
    ndyn_array *vel = ndyn_array_alloc2(NDYN_F64, total, 2);
    ndyn_array *cond = ndyn_array_alloc1(NDYN_I32, total);
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!pos || !vel || !cond || !ds) rc = NDYN_ENOMEM;
    if (!rc) {
        double *pd = pos->data, *vd = vel->data; // (4n, 2)
        int32_t *cd = cond->data;
        for (int c = 0; c < NDYN_SIM_NFIELDS; c++) {
            ndyn_rng r;
            ndyn_rng_init(&r, p->seed, (uint64_t)c + 1);
            for (size_t i = c * n; i < (c + 1) * n; i++) {
                double x = ndyn_rng_uniform_range(&r, -1, 1), y = ndyn_rng_uniform_range(&r, -1, 1);
                pd[2 * i] = x;
                pd[2 * i + 1] = y;
                ndyn_sim_field_eval(c, p->eps, x, y, vd + 2 * i);
                if (p->noise > 0) {
                    vd[2 * i] += p->noise * ndyn_rng_normal(&r);
                    vd[2 * i + 1] += p->noise * ndyn_rng_normal(&r);
                }
                cd[i] = c;
            }
        }
    }
    sim_put(ds, "pos", pos, SYS, &rc);
    sim_put(ds, "vel", vel, SYS, &rc);
    sim_put(ds, "condition", cond, SYS, &rc);
    if (!rc) {
        char names[128] = "";
        for (int c = 0; c < NDYN_SIM_NFIELDS; c++) {
            if (c) strcat(names, "\n");
            strcat(names, k_names[c]);
        }
        rc = ndyn_dataset_add_text(ds, "names", names, "simulate " SYS);
    }
    if (rc) {
        ndyn_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NDYN_OK;
}
