/* MARBLE transform: embed points in eval mode (spec §13), in chunks of
 * target nodes with their o-hop neighbourhoods. */
#include <stdlib.h>
#include <string.h>

#include "marble/marble_internal.h"

#define CHUNK 4096

int ndyn_marble_embed_nodes(const ndyn_marble_model *mc, const ndyn_marble_data *g,
                            const int32_t *nodes, size_t n_nodes, double *emb)
{
    int rc = ndyn_marble_check_data(g);
    if (rc) return rc;
    if ((rc = mb_check_gauges(mc->par.local_gauges, g))) return rc;
    if (g->s != mc->s || g->d != mc->d || g->dim != mc->dim)
        return ndyn_error(NDYN_ESHAPE, "marble: the model was built for s = %zu, d = %zu, "
                          "dim = %zu but the data has %zu, %zu, %zu", mc->s, mc->d, mc->dim,
                          g->s, g->d, g->dim);
    if (mc->par.diffusion && g->n_eig == 0 && !g->heat_fn)
        return ndyn_error(NDYN_EINVAL, "marble: the model diffuses but the dataset has no "
                          "eigenpairs");
    /* eval mode writes nothing into the model (no clamp, no running stats) */
    ndyn_marble_model *m = (ndyn_marble_model *)mc;
    for (size_t i = 0; i < n_nodes; i++)
        if (nodes[i] < 0 || (size_t)nodes[i] >= g->n)
            return ndyn_error(NDYN_EINVAL, "marble: node %d out of range 0..%zu", (int)nodes[i],
                              g->n - 1);
    mb_work w;
    if ((rc = mb_work_init(&w, m, g))) return rc;
    size_t E = (size_t)m->par.out_channels;
    int32_t *loc = NULL;
    if (g->order_inv) {
        loc = ndyn_malloc_array(n_nodes ? n_nodes : 1, sizeof(int32_t));
        if (!loc) { mb_work_free(&w); return NDYN_ENOMEM; }
        for (size_t i = 0; i < n_nodes; i++) loc[i] = g->order_inv[nodes[i]];
    }
    const int32_t *nd = loc ? loc : nodes;
    for (size_t c0 = 0; c0 < n_nodes && !rc; c0 += CHUNK) {
        size_t nc = n_nodes - c0 < CHUNK ? n_nodes - c0 : CHUNK;
        rc = mb_forward(m, g, &w, nd + c0, nc, 0, 0, NULL, emb + c0 * E);
    }
    free(loc);
    mb_work_free(&w);
    return rc;
}

int ndyn_marble_transform(const ndyn_marble_model *m, const ndyn_marble_data *g, double *emb)
{
    int32_t *nodes = ndyn_malloc_array(g->n, sizeof(int32_t));
    if (!nodes) return NDYN_ENOMEM;
    /* the caller's numbering; in the data's order for locality when renumbered */
    for (size_t i = 0; i < g->n; i++) nodes[i] = g->order ? g->order[i] : (int32_t)i;
    double *tmp = g->order ? ndyn_malloc_array(g->n * (size_t)m->par.out_channels, sizeof(double))
                           : emb;
    if (!tmp) { free(nodes); return NDYN_ENOMEM; }
    int rc = ndyn_marble_embed_nodes(m, g, nodes, g->n, tmp);
    if (!rc && g->order) {
        size_t E = (size_t)m->par.out_channels;
        for (size_t i = 0; i < g->n; i++)
            memcpy(emb + (size_t)g->order[i] * E, tmp + i * E, E * sizeof(double));
    }
    if (tmp != emb) free(tmp);
    free(nodes);
    return rc;
}
