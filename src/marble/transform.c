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
    if (g->s != mc->s || g->d != mc->d || g->dim != mc->dim)
        return ndyn_error(NDYN_ESHAPE, "marble: the model was built for s = %zu, d = %zu, "
                          "dim = %zu but the data has %zu, %zu, %zu", mc->s, mc->d, mc->dim,
                          g->s, g->d, g->dim);
    if (mc->par.diffusion && g->n_eig == 0 && !g->heat_fn)
        return ndyn_error(NDYN_EINVAL, "marble: the model diffuses but the dataset has no "
                          "eigenpairs");
    /* eval mode writes nothing into the model (no clamp, no running stats) */
    ndyn_marble_model *m = (ndyn_marble_model *)mc;
    mb_work w;
    if ((rc = mb_work_init(&w, m, g))) return rc;
    size_t E = (size_t)m->par.out_channels;
    for (size_t c0 = 0; c0 < n_nodes && !rc; c0 += CHUNK) {
        size_t nc = n_nodes - c0 < CHUNK ? n_nodes - c0 : CHUNK;
        rc = mb_forward(m, g, &w, nodes + c0, nc, 0, 0, NULL, emb + c0 * E);
    }
    mb_work_free(&w);
    return rc;
}

int ndyn_marble_transform(const ndyn_marble_model *m, const ndyn_marble_data *g, double *emb)
{
    int32_t *nodes = ndyn_malloc_array(g->n, sizeof(int32_t));
    if (!nodes) return NDYN_ENOMEM;
    for (size_t i = 0; i < g->n; i++) nodes[i] = (int32_t)i;
    int rc = ndyn_marble_embed_nodes(m, g, nodes, g->n, emb);
    free(nodes);
    return rc;
}
