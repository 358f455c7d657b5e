/* The geometry a model was fitted on (ndyn_geom_params), kept in the model
 * and in its file as extra arrays geometry/<name> (one float64 each), so that
 * raw point clouds can be prepared again the same way for embedding. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "marble/marble_internal.h"

/* The int (I) and double (F) fields of ndyn_geom_params, by name. */
#define GI(f) {#f, offsetof(ndyn_geom_params, f), 0}
#define GF(f) {#f, offsetof(ndyn_geom_params, f), 1}
static const struct { const char *key; size_t off; int num; } FIELDS[] = {
    GI(k), GF(delta), GF(radius), GF(spacing), GI(local_gauges), GF(var_explained),
    GF(frac_geodesic_nb), GI(dim), GI(n_eigenvectors)};
#undef GI
#undef GF
#define NFIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

int ndyn_marble_set_geometry(ndyn_marble_model *m, const ndyn_geom_params *gp)
{
    if (!gp) { m->has_geom = 0; return NDYN_OK; }
    int rc = ndyn_geom_params_check(gp);
    if (rc) return rc;
    m->geom = *gp;
    m->has_geom = 1;
    return NDYN_OK;
}

int ndyn_marble_geometry(const ndyn_marble_model *m, ndyn_geom_params *gp)
{
    if (!m->has_geom) return 0;
    *gp = m->geom;
    return 1;
}

static int put1(ndyn_dataset *ds, const char *name, double v)
{
    char key[64];
    snprintf(key, sizeof key, "geometry/%s", name);
    ndyn_array *a = ndyn_array_alloc1(NDYN_F64, 1);
    if (!a) return NDYN_ENOMEM;
    ((double *)a->data)[0] = v;
    return ndyn_dataset_add(ds, key, a, NULL);
}

int mb_geometry_put(const ndyn_marble_model *m, ndyn_dataset *extra)
{
    if (!m->has_geom) return NDYN_OK;
    const ndyn_geom_params *g = &m->geom;
    const char *base = (const char *)g;
    int rc = put1(extra, "graph", (double)g->graph);
    for (size_t i = 0; i < NFIELDS && !rc; i++)
        rc = put1(extra, FIELDS[i].key, FIELDS[i].num ? *(const double *)(base + FIELDS[i].off)
                                                      : (double)*(const int *)(base + FIELDS[i].off));
    /* the seed exactly: two float64 halves of 32 bits */
    if (!rc) rc = put1(extra, "seed_hi", (double)(g->seed >> 32));
    if (!rc) rc = put1(extra, "seed_lo", (double)(g->seed & 0xffffffffu));
    return rc;
}

static int get1(const ndyn_dataset *ds, const char *name, double *v)
{
    char key[64];
    snprintf(key, sizeof key, "geometry/%s", name);
    const ndyn_array *a;
    if (ndyn_dataset_get(ds, key, &a)) return 1;
    if (a->dtype != NDYN_F64 || a->size != 1 || !isfinite(((const double *)a->data)[0]))
        return -1;
    *v = ((const double *)a->data)[0];
    return 0;
}

int mb_geometry_get(ndyn_marble_model *m, const ndyn_dataset *extra)
{
    double v;
    int r = get1(extra, "graph", &v);
    m->has_geom = 0;
    if (r > 0) { ndyn_error_clear(); return NDYN_OK; }  /* older files: no geometry */
    ndyn_geom_params g;
    ndyn_geom_params_default(&g);
    char *base = (char *)&g;
    if (r == 0) g.graph = (ndyn_graph_type)(int)v;
    for (size_t i = 0; i < NFIELDS && r == 0; i++) {
        r = get1(extra, FIELDS[i].key, &v);
        if (r) break;
        if (FIELDS[i].num) *(double *)(base + FIELDS[i].off) = v;
        else if (fabs(v) > 1e9 || v != floor(v)) r = -1;
        else *(int *)(base + FIELDS[i].off) = (int)v;
    }
    double hi = 0, lo = 0;
    if (r == 0) r = get1(extra, "seed_hi", &hi);
    if (r == 0) r = get1(extra, "seed_lo", &lo);
    if (r == 0 && (hi < 0 || hi > 4294967295.0 || lo < 0 || lo > 4294967295.0)) r = -1;
    if (r) return ndyn_error(NDYN_EFORMAT, "marble model: the geometry record is incomplete or "
                             "malformed");
    g.seed = ((uint64_t)hi << 32) | (uint64_t)lo;
    int rc = ndyn_geom_params_check(&g);
    if (rc) return ndyn_error_context(NDYN_EFORMAT, "marble model geometry: ");
    m->geom = g;
    m->has_geom = 1;
    return NDYN_OK;
}
