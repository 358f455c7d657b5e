/* Parameters of dataset preparation: defaults (spec §15) and validation. */
#include "ndyn/geom.h"

#include <math.h>
#include <string.h>

void ndyn_geom_params_default(ndyn_geom_params *p)
{
    memset(p, 0, sizeof *p);
    p->graph = NDYN_GRAPH_CKNN;
    p->k = 20;
    p->delta = 1.0;
    p->radius = 0.0;
    p->spacing = 0.0;
    p->local_gauges = 0;
    p->var_explained = 0.9;
    p->frac_geodesic_nb = 1.5;
    p->dim = 0;
    p->n_eigenvectors = 0;
    p->seed = 0;
}

int ndyn_geom_params_check(const ndyn_geom_params *p)
{
    if (p->graph != NDYN_GRAPH_CKNN && p->graph != NDYN_GRAPH_KNN && p->graph != NDYN_GRAPH_RADIUS)
        return ndyn_error(NDYN_EINVAL, "graph type %d unknown; use cknn, knn or radius", (int)p->graph);
    if (p->k < 1 || p->k > 100000) return ndyn_error(NDYN_EINVAL, "k = %d must be in 1..100000", p->k);
    if (!(p->delta > 0) || !isfinite(p->delta)) return ndyn_error(NDYN_EINVAL, "delta = %g must be > 0", p->delta);
    if (p->graph == NDYN_GRAPH_RADIUS && (!(p->radius > 0) || !isfinite(p->radius)))
        return ndyn_error(NDYN_EINVAL, "the radius graph needs radius > 0 (got %g); set --radius", p->radius);
    if (!(p->spacing >= 0 && p->spacing < 1))
        return ndyn_error(NDYN_EINVAL, "spacing = %g must be in [0, 1) (a fraction of the diameter)", p->spacing);
    if (!(p->var_explained > 0 && p->var_explained <= 1))
        return ndyn_error(NDYN_EINVAL, "var_explained = %g must be in (0, 1]", p->var_explained);
    if (!(p->frac_geodesic_nb > 0) || !isfinite(p->frac_geodesic_nb))
        return ndyn_error(NDYN_EINVAL, "frac_geodesic_nb = %g must be > 0", p->frac_geodesic_nb);
    if (p->dim < 0) return ndyn_error(NDYN_EINVAL, "dim = %d must be >= 0 (0: choose by var_explained)", p->dim);
    if (p->n_eigenvectors < -1)
        return ndyn_error(NDYN_EINVAL, "n_eigenvectors = %d must be -1 (all), 0 (none) or > 0", p->n_eigenvectors);
    return NDYN_OK;
}
