/* Shared by the marble verbs: read a prepared dataset, or raw point clouds
 * (pos, vel, condition, label, mask) and prepare them with geometry options. */
#include "cli.h"
#include "marble_cli.h"

#include <stdlib.h>
#include <string.h>

#include "ndyn/geom.h"
#include "ndyn/io.h"

int marble_geom_option(const char *cmd, int c, const char *arg, ndyn_geom_params *p,
                       unsigned *set, int *rc)
{
    long v;
    *rc = 0;
    switch (c) {
    case MARBLE_O_K:
        if (cli_parse_int(cmd, "k", arg, 1, 100000, &v)) *rc = CLI_USAGE; else p->k = (int)v;
        *set |= MARBLE_SET_K;
        return 1;
    case MARBLE_O_DELTA:
        if (cli_parse_double(cmd, "delta", arg, 1e-12, 1e12, &p->delta)) *rc = CLI_USAGE;
        *set |= MARBLE_SET_DELTA;
        return 1;
    case MARBLE_O_SPACING:
        if (cli_parse_double(cmd, "spacing", arg, 0, 0.999999, &p->spacing)) *rc = CLI_USAGE;
        *set |= MARBLE_SET_SPACING;
        return 1;
    case MARBLE_O_EIG:
        if (cli_parse_int(cmd, "eigenvectors", arg, -1, 100000, &v)) *rc = CLI_USAGE;
        else p->n_eigenvectors = (int)v;
        *set |= MARBLE_SET_EIG;
        return 1;
    case MARBLE_O_LG:
        p->local_gauges = 1;
        *set |= MARBLE_SET_LG;
        return 1;
    default:
        return 0;
    }
}

void marble_geom_override(ndyn_geom_params *base, const ndyn_geom_params *opt, unsigned set)
{
    if (set & MARBLE_SET_K) base->k = opt->k;
    if (set & MARBLE_SET_DELTA) base->delta = opt->delta;
    if (set & MARBLE_SET_SPACING) base->spacing = opt->spacing;
    if (set & MARBLE_SET_EIG) base->n_eigenvectors = opt->n_eigenvectors;
    if (set & MARBLE_SET_LG) base->local_gauges = opt->local_gauges;
}

static int take_f64(const ndyn_dataset *ds, const char *name, size_t ndim, ndyn_array **out)
{
    const ndyn_array *a;
    int rc = ndyn_dataset_get(ds, name, &a);
    if (rc) return rc;
    if ((size_t)a->ndim != ndim)
        return ndyn_error(NDYN_ESHAPE, "'%s' must be %zu-D (it is %d-D)", name, ndim, a->ndim);
    *out = ndyn_array_cast(a, NDYN_F64);
    return *out ? NDYN_OK : NDYN_ENOMEM;
}

int marble_load_data(const char *path, const ndyn_geom_params *gp, ndyn_geom_data **out,
                     int *raw)
{
    *out = NULL;
    if (raw) *raw = 0;
    ndyn_dataset *ds = NULL;
    int rc = ndyn_dataset_load(path, &ds);
    if (rc) return rc;
    int prepared = 0;
    for (size_t i = 0; i < ds->n; i++)
        if (!strncmp(ds->items[i].name, "graph/", 6) || !strncmp(ds->items[i].name, "op/", 3))
            prepared = 1;
    if (prepared) {
        ndyn_dataset_free(ds);
        return ndyn_geom_load(path, out);
    }
    if (raw) *raw = 1;
    ndyn_array *pos = NULL, *vel = NULL, *cond = NULL, *label = NULL, *mask = NULL;
    rc = take_f64(ds, "pos", 2, &pos);
    if (!rc) rc = take_f64(ds, "vel", 2, &vel);
    size_t n = rc ? 0 : pos->shape[0];
    if (!rc && vel->shape[0] != n)
        rc = ndyn_error(NDYN_ESHAPE, "'pos' has %zu rows but 'vel' has %zu", n, vel->shape[0]);
    const ndyn_named_array *e;
    if (!rc && (e = ndyn_dataset_find(ds, "condition")) && e->array) {
        if (e->array->size != n) rc = ndyn_error(NDYN_ESHAPE, "'condition' has %zu entries, not %zu", e->array->size, n);
        else if (!(cond = ndyn_array_cast(e->array, NDYN_I32))) rc = ndyn_error_context(NDYN_EINVAL, "'condition': ");
    }
    if (!rc && (e = ndyn_dataset_find(ds, "label")) && e->array) {
        if (e->array->size != n) rc = ndyn_error(NDYN_ESHAPE, "'label' has %zu entries, not %zu", e->array->size, n);
        else if (!(label = ndyn_array_cast(e->array, NDYN_F64))) rc = NDYN_ENOMEM;
    }
    if (!rc && (e = ndyn_dataset_find(ds, "mask")) && e->array) {
        if (e->array->size != n) rc = ndyn_error(NDYN_ESHAPE, "'mask' has %zu entries, not %zu", e->array->size, n);
        else if (!(mask = ndyn_array_cast(e->array, NDYN_U8))) rc = ndyn_error_context(NDYN_EINVAL, "'mask': ");
    }
    if (!rc)
        rc = ndyn_geom_prepare_arrays(pos->data, vel->data, n, pos->shape[1], vel->shape[1],
                                      cond ? cond->data : NULL, label ? label->data : NULL,
                                      mask ? mask->data : NULL, gp, out);
    ndyn_array_free(pos); ndyn_array_free(vel); ndyn_array_free(cond);
    ndyn_array_free(label); ndyn_array_free(mask);
    ndyn_dataset_free(ds);
    if (rc) return ndyn_error_context(rc, "%s: ", path);
    return NDYN_OK;
}
