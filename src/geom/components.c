/* Connected components of a symmetric graph by breadth-first search. */
#include "ndyn/geom.h"

#include <stdlib.h>

int ndyn_geom_components(const ndyn_csr *G, int32_t *comp, size_t *ncomp)
{
    size_t n = G->nrows;
    int64_t *queue = ndyn_malloc_array(n ? n : 1, sizeof(int64_t));
    if (!queue) return NDYN_ENOMEM;
    for (size_t i = 0; i < n; i++) comp[i] = -1;
    int32_t c = 0;
    for (size_t s = 0; s < n; s++) {
        if (comp[s] >= 0) continue;
        size_t head = 0, tail = 0;
        queue[tail++] = (int64_t)s;
        comp[s] = c;
        while (head < tail) {
            int64_t i = queue[head++];
            for (int64_t p = G->rowptr[i]; p < G->rowptr[i + 1]; p++) {
                int32_t j = G->col[p];
                if (comp[j] < 0) { comp[j] = c; queue[tail++] = j; }
            }
        }
        c++;
    }
    free(queue);
    *ncomp = (size_t)c;
    return NDYN_OK;
}
