/* MARBLE node split and contrastive sampling (spec §2, §12). */
#include <stdlib.h>
#include <string.h>

#include "marble/marble_internal.h"

int mb_split(size_t n, double val_frac, double test_frac, uint64_t seed, uint8_t *split)
{
    size_t *perm = ndyn_malloc_array(n, sizeof(size_t));
    if (!perm) return NDYN_ENOMEM;
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 1);
    ndyn_rng_permutation(&r, perm, n);
    size_t nt = (size_t)(test_frac * (double)n), nv = (size_t)(val_frac * (double)n);
    for (size_t i = 0; i < n; i++) split[perm[i]] = i < nt ? 2 : i < nt + nv ? 1 : 0;
    free(perm);
    return NDYN_OK;
}

static int is_neighbour(const ndyn_marble_data *g, int32_t i, int32_t j)
{
    for (int64_t q = g->k_ptr[i]; q < g->k_ptr[i + 1]; q++)
        if (g->k_idx[q] == j) return 1;
    return 0;
}

void mb_sample(const ndyn_marble_params *p, const ndyn_marble_data *g, const uint8_t *split,
               const int32_t *split_nodes, size_t n_split, const int32_t *anchors, size_t nb,
               ndyn_rng *rng, int32_t *pos, int32_t *neg)
{
    for (size_t b = 0; b < nb; b++) {
        int32_t i = anchors[b];
        int64_t q0 = g->k_ptr[i], q1 = g->k_ptr[i + 1];
        if (p->compat_sampling) {
            /* reference: one random-walk step over the edges including the
             * self-loop; negatives uniform over all nodes */
            pos[b] = q1 > q0 ? g->k_idx[q0 + (int64_t)ndyn_rng_below(rng, (uint64_t)(q1 - q0))] : i;
            neg[b] = (int32_t)ndyn_rng_below(rng, g->n);
            continue;
        }
        /* ndyn: a neighbour other than the anchor, in the anchor's split when
         * one exists */
        size_t same = 0, other = 0;
        for (int64_t q = q0; q < q1; q++) {
            int32_t j = g->k_idx[q];
            if (j == i) continue;
            if (split[j] == split[i]) same++; else other++;
        }
        if (same + other == 0) {
            pos[b] = i;
        } else {
            int want_same = same > 0;
            size_t k = (size_t)ndyn_rng_below(rng, want_same ? same : other);
            for (int64_t q = q0; q < q1; q++) {
                int32_t j = g->k_idx[q];
                if (j == i || (split[j] == split[i]) != want_same) continue;
                if (k-- == 0) { pos[b] = j; break; }
            }
        }
        int32_t c = i;
        for (int tries = 0; tries < 32; tries++) {
            c = split_nodes[ndyn_rng_below(rng, n_split)];
            if (c == i) continue;
            if (p->exclude_neighbour_negatives && is_neighbour(g, i, c)) continue;
            break;
        }
        neg[b] = c;
    }
}
