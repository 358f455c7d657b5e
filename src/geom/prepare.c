/* Dataset construction (spec §2): per condition sample, graph and check;
 * then gauges, connections, kernels, Laplacians and spectra jointly. */
#include "geom_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ndyn_geom_data_free(ndyn_geom_data *g)
{
    if (!g) return;
    free(g->condition); free(g->cond_start); free(g->index); free(g->pos); free(g->vel);
    free(g->label); free(g->mask);
    ndyn_csr_free(&g->graph);
    free(g->frames); free(g->sigma);
    ndyn_csr_free(&g->conn);
    if (g->K)
        for (int c = 0; c < g->d; c++) ndyn_csr_free(&g->K[c]);
    free(g->K);
    free(g->deg); free(g->dhalf); free(g->dmhalf);
    ndyn_csr_free(&g->lsym); ndyn_csr_free(&g->lcsym);
    free(g->evals); free(g->evecs); free(g->evalsc); free(g->evecsc);
    free(g);
}

static int build_graph(const double *X, size_t n, size_t D, const ndyn_geom_params *p, ndyn_csr *G)
{
    switch (p->graph) {
    case NDYN_GRAPH_CKNN: return ndyn_geom_cknn(X, n, D, p->k, p->delta, G);
    case NDYN_GRAPH_KNN: return ndyn_geom_knn_graph(X, n, D, p->k, G);
    default: return ndyn_geom_radius_graph(X, n, D, p->radius, G);
    }
}

static const char *graph_name(ndyn_graph_type t)
{
    return t == NDYN_GRAPH_CKNN ? "cknn" : t == NDYN_GRAPH_KNN ? "knn" : "radius";
}

/* Advice for a graph that is disconnected or has isolated nodes. */
static const char *advice(const ndyn_geom_params *p, char *buf, size_t n)
{
    if (p->graph == NDYN_GRAPH_CKNN)
        snprintf(buf, n, "increase k (now %d) or delta (now %g)", p->k, p->delta);
    else if (p->graph == NDYN_GRAPH_KNN)
        snprintf(buf, n, "increase k (now %d)", p->k);
    else
        snprintf(buf, n, "increase the radius (now %g)", p->radius);
    return buf;
}

static int ndyn_geom_spectra(ndyn_geom_data *g);

int ndyn_geom_prepare(const ndyn_geom_condition *conds, int C, size_t D, size_t s,
                      const ndyn_geom_params *p, ndyn_geom_data **out)
{
    *out = NULL;
    int rc = ndyn_geom_params_check(p);
    if (rc) return rc;
    if (C < 1 || !conds) return ndyn_error(NDYN_EINVAL, "no conditions given; pass at least one point cloud");
    if (D < 1 || s < 1) return ndyn_error(NDYN_EINVAL, "positions of dimension %zu and signal of dimension %zu; both must be >= 1", D, s);
    if (p->local_gauges && s != D)
        return ndyn_error(NDYN_ESHAPE, "local gauges need a vector signal in the ambient space: signal dimension %zu "
                          "differs from position dimension %zu; turn local gauges off or pass vel with %zu columns", s, D, D);
    char abuf[128];
    size_t ntot = 0;
    for (int c = 0; c < C; c++) {
        const ndyn_geom_condition *q = &conds[c];
        if (!q->pos || !q->vel) return ndyn_error(NDYN_EINVAL, "condition %d has no positions or signal", c);
        size_t need = p->graph == NDYN_GRAPH_RADIUS ? 2 : (size_t)p->k + 1;
        if (q->n < need)
            return ndyn_error(NDYN_EINVAL, "condition %d has %zu points, fewer than k + 1 = %zu; lower k or merge conditions",
                              c, q->n, need);
        rc = ndyn_check_finite(q->pos, q->n * D, "positions");
        if (!rc) rc = ndyn_check_finite(q->vel, q->n * s, "signal (vel)");
        if (!rc && q->label) rc = ndyn_check_finite(q->label, q->n, "labels");
        if (rc) return ndyn_error_context(rc, "condition %d: ", c);
        ntot += q->n;
    }
    ndyn_geom_data *g = ndyn_calloc(1, sizeof *g);
    if (!g) return NDYN_ENOMEM;
    g->D = D; g->s = s; g->C = C; g->params = *p;
    double t0 = ndyn_time_now();

    /* ---- sampling */
    size_t **sel = ndyn_calloc((size_t)C, sizeof *sel);
    size_t *nsel = ndyn_calloc((size_t)C, sizeof *nsel);
    ndyn_csr *Gc = ndyn_calloc((size_t)C, sizeof *Gc);
    if (!sel || !nsel || !Gc) { rc = NDYN_ENOMEM; goto done; }
    for (int c = 0; c < C && !rc; c++) {
        if (p->spacing > 0) {
            ndyn_rng r;
            ndyn_rng_init(&r, p->seed, 0x667073ULL + (uint64_t)c);
            size_t start = (size_t)ndyn_rng_below(&r, conds[c].n);
            rc = ndyn_geom_fps(conds[c].pos, conds[c].n, D, p->spacing, start, &sel[c], &nsel[c], NULL);
            if (!rc && nsel[c] < ((p->graph == NDYN_GRAPH_RADIUS) ? 2 : (size_t)p->k + 1))
                rc = ndyn_error(NDYN_EINVAL, "condition %d: sampling with spacing %g kept %zu points, fewer than k + 1 = %d; "
                                "lower spacing or k", c, p->spacing, nsel[c], p->k + 1);
        } else {
            nsel[c] = conds[c].n;
        }
    }
    if (rc) goto done;
    size_t n = 0;
    for (int c = 0; c < C; c++) n += nsel[c];
    g->n = n;
    g->condition = ndyn_malloc_array(n, sizeof(int32_t));
    g->cond_start = ndyn_malloc_array((size_t)C + 1, sizeof(size_t));
    g->index = ndyn_malloc_array(n, sizeof(int64_t));
    g->pos = ndyn_malloc_array(n * D, sizeof(double));
    g->vel = ndyn_malloc_array(n * s, sizeof(double));
    int have_label = 0, have_mask = 0;
    for (int c = 0; c < C; c++) { have_label |= conds[c].label != NULL; have_mask |= conds[c].mask != NULL; }
    if (have_label) g->label = ndyn_malloc_array(n, sizeof(double));
    if (have_mask) g->mask = ndyn_calloc(n, 1);
    if (!g->condition || !g->cond_start || !g->index || !g->pos || !g->vel || (have_label && !g->label) ||
        (have_mask && !g->mask)) { rc = NDYN_ENOMEM; goto done; }
    {
        size_t o = 0, off = 0;
        for (int c = 0; c < C; c++) {
            g->cond_start[c] = o;
            for (size_t q = 0; q < nsel[c]; q++, o++) {
                size_t src = sel[c] ? sel[c][q] : q;
                g->condition[o] = c;
                g->index[o] = conds[c].index ? conds[c].index[src] : (int64_t)(off + src);
                memcpy(g->pos + o * D, conds[c].pos + src * D, D * sizeof(double));
                memcpy(g->vel + o * s, conds[c].vel + src * s, s * sizeof(double));
                if (g->label) g->label[o] = conds[c].label ? conds[c].label[src] : NAN;
                if (g->mask) g->mask[o] = conds[c].mask ? (conds[c].mask[src] != 0) : 0;
            }
            off += conds[c].n;
        }
        g->cond_start[C] = o;
    }
    double t1 = ndyn_time_now();
    g->timing.sample = t1 - t0;

    /* ---- graphs per condition, connectivity, merge */
    for (int c = 0; c < C && !rc; c++) {
        size_t nc = nsel[c], st = g->cond_start[c];
        rc = build_graph(g->pos + st * D, nc, D, p, &Gc[c]);
        if (rc) { rc = ndyn_error_context(rc, "condition %d (%s graph): ", c, graph_name(p->graph)); break; }
        for (size_t i = 0; i < nc; i++)
            if (Gc[c].rowptr[i + 1] == Gc[c].rowptr[i]) {
                rc = ndyn_error(NDYN_EINVAL, "condition %d: node %zu (input row %lld) has no neighbour in the %s graph; %s",
                                c, i, (long long)g->index[st + i], graph_name(p->graph), advice(p, abuf, sizeof abuf));
                break;
            }
    }
    if (rc) goto done;
    double t2 = ndyn_time_now();
    g->timing.graph = t2 - t1;
    {
        size_t nnz = 0;
        for (int c = 0; c < C; c++) nnz += Gc[c].nnz;
        rc = ndyn_csr_alloc(&g->graph, n, n, nnz);
        if (rc) goto done;
        size_t o = 0;
        for (int c = 0; c < C; c++) {
            size_t st = g->cond_start[c];
            for (size_t i = 0; i < nsel[c]; i++) {
                for (int64_t q = Gc[c].rowptr[i]; q < Gc[c].rowptr[i + 1]; q++, o++) {
                    g->graph.col[o] = (int32_t)(Gc[c].col[q] + (int32_t)st);
                    g->graph.val[o] = Gc[c].val[q];
                }
                g->graph.rowptr[st + i + 1] = (int64_t)o;
            }
            ndyn_csr_free(&Gc[c]);
        }
        int32_t *comp = ndyn_malloc_array(n, sizeof(int32_t));
        if (!comp) { rc = NDYN_ENOMEM; goto done; }
        rc = ndyn_geom_components(&g->graph, comp, &g->n_components);
        if (!rc && g->n_components > (size_t)C) {
            for (int c = 0; c < C; c++) {
                size_t st = g->cond_start[c], en = g->cond_start[c + 1], nc = 1;
                int32_t lo = comp[st], hi = comp[st];
                for (size_t i = st; i < en; i++) { if (comp[i] < lo) lo = comp[i]; if (comp[i] > hi) hi = comp[i]; }
                nc = (size_t)(hi - lo + 1);
                if (nc > 1) {
                    rc = ndyn_error(NDYN_EINVAL, "condition %d: the %s graph has %zu connected components (of %zu nodes); "
                                    "%s, or pass each part as its own condition", c, graph_name(p->graph), nc,
                                    en - st, advice(p, abuf, sizeof abuf));
                    break;
                }
            }
        }
        free(comp);
        if (rc) goto done;
    }
    double t3 = ndyn_time_now();
    g->timing.components = t3 - t2;

    /* ---- gauges */
    if (p->local_gauges) {
        int K = (int)floor(p->k * p->frac_geodesic_nb);
        if (K < 1) K = 1;
        size_t r = D < (size_t)K + 1 ? D : (size_t)K + 1;
        double *fr = ndyn_malloc_array(n * D * D, sizeof(double));
        g->sigma = ndyn_malloc_array(n * r, sizeof(double));
        if (!fr || !g->sigma) { free(fr); rc = NDYN_ENOMEM; goto done; }
        rc = ndyn_geom_tangents(g->pos, n, D, &g->graph, K, fr, g->sigma);
        int m = p->dim;
        if (!rc && m == 0) rc = ndyn_geom_manifold_dim(g->sigma, n, r, p->var_explained, &m);
        if (!rc && ((size_t)m > D || m > K))
            rc = ndyn_error(NDYN_EINVAL, "manifold dimension %d exceeds the ambient dimension %zu or the tangent "
                            "neighbourhood size K = %d; lower dim or raise k", m, D, K);
        if (!rc) {
            size_t nsmall = 0, first = 0;
            for (size_t i = 0; i < n; i++)
                if (!(g->sigma[i * r + (size_t)m - 1] > 1e-10)) { if (!nsmall) first = i; nsmall++; }
            if (nsmall)
                rc = ndyn_error(NDYN_EINVAL, "%zu nodes (first: node %zu) have a degenerate tangent neighbourhood "
                                "(singular value %d below 1e-10); the data span fewer than %d dimensions locally: "
                                "lower dim or var_explained, or raise k", nsmall, first, m, m);
        }
        if (!rc) {
            g->m = m; g->d = m;
            g->frames = ndyn_malloc_array(n * D * (size_t)m, sizeof(double));
            if (!g->frames) rc = NDYN_ENOMEM;
            else
                for (size_t i = 0; i < n; i++)
                    for (size_t e = 0; e < D; e++)
                        memcpy(g->frames + (i * D + e) * (size_t)m, fr + (i * D + e) * D, (size_t)m * sizeof(double));
        }
        free(fr);
        if (rc) goto done;
    } else {
        g->m = (int)D; g->d = (int)D;
    }
    double t4 = ndyn_time_now();
    g->timing.tangent = t4 - t3;
    if (p->local_gauges) rc = ndyn_geom_connections(g->frames, n, D, g->m, &g->graph, &g->conn);
    if (rc) goto done;
    double t5 = ndyn_time_now();
    g->timing.connections = t5 - t4;

    /* ---- kernels */
    g->K = ndyn_calloc((size_t)g->d, sizeof(ndyn_csr));
    if (!g->K) { rc = NDYN_ENOMEM; goto done; }
    rc = ndyn_geom_gradient_kernels(g->pos, n, D, &g->graph, g->frames, g->m,
                                    p->local_gauges ? &g->conn : NULL, g->K);
    if (rc) goto done;
    double t6 = ndyn_time_now();
    g->timing.kernels = t6 - t5;

    /* ---- Laplacians */
    g->deg = ndyn_malloc_array(n, sizeof(double));
    g->dhalf = ndyn_malloc_array(n, sizeof(double));
    g->dmhalf = ndyn_malloc_array(n, sizeof(double));
    if (!g->deg || !g->dhalf || !g->dmhalf) { rc = NDYN_ENOMEM; goto done; }
    rc = ndyn_geom_laplacian_sym(&g->graph, g->deg, &g->lsym);
    if (rc) goto done;
    for (size_t i = 0; i < n; i++) { g->dhalf[i] = sqrt(g->deg[i]); g->dmhalf[i] = 1.0 / g->dhalf[i]; }
    if (p->local_gauges) {
        rc = ndyn_geom_connection_laplacian_sym(&g->graph, g->deg, &g->conn, g->m, &g->lcsym);
        if (rc) goto done;
    }
    double t7 = ndyn_time_now();
    g->timing.laplacian = t7 - t6;
    rc = ndyn_geom_spectra(g);
    g->timing.eigen = ndyn_time_now() - t7;

done:
    if (Gc) for (int c = 0; c < C; c++) ndyn_csr_free(&Gc[c]);
    if (sel) for (int c = 0; c < C; c++) free(sel[c]);
    free(sel); free(nsel); free(Gc);
    (void)ntot;
    if (rc) { ndyn_geom_data_free(g); return rc; }
    *out = g;
    return NDYN_OK;
}

static int ndyn_geom_spectra(ndyn_geom_data *g)
{
    int ne = g->params.n_eigenvectors;
    if (ne == 0) return NDYN_OK;
    size_t n = g->n;
    size_t k = ne < 0 ? n : (size_t)ne;
    if (ne < 0 && n > 5000)
        return ndyn_error(NDYN_EINVAL, "the full spectrum of %zu nodes needs a dense %zu x %zu eigensolve; "
                          "ask for k eigenvectors (--eigenvectors K) or none (Chebyshev diffusion)", n, n, n);
    if (k > n) k = n;
    g->evals = ndyn_malloc_array(k, sizeof(double));
    g->evecs = ndyn_malloc_array(n * k, sizeof(double));
    if (!g->evals || !g->evecs) return NDYN_ENOMEM;
    int rc = ndyn_eigsh_smallest(&g->lsym, k, 0, g->params.seed, g->evals, g->evecs);
    if (rc) return ndyn_error_context(rc, "eigenvectors of the Laplacian: ");
    for (size_t j = 0; j < k; j++) if (g->evals[j] < 0) g->evals[j] = 0;
    g->neig = k;
    if (g->params.local_gauges) {
        size_t nm = n * (size_t)g->m;
        size_t kc = ne < 0 ? nm : (size_t)ne;
        if (kc > nm) kc = nm;
        if (ne < 0 && nm > 6000)
            return ndyn_error(NDYN_EINVAL, "the full connection-Laplacian spectrum (%zu x %zu) is too large for a dense "
                              "eigensolve; ask for k eigenvectors or none", nm, nm);
        g->evalsc = ndyn_malloc_array(kc, sizeof(double));
        g->evecsc = ndyn_malloc_array(nm * kc, sizeof(double));
        if (!g->evalsc || !g->evecsc) return NDYN_ENOMEM;
        rc = ndyn_eigsh_smallest(&g->lcsym, kc, 0, g->params.seed + 1, g->evalsc, g->evecsc);
        if (rc) return ndyn_error_context(rc, "eigenvectors of the connection Laplacian: ");
        for (size_t j = 0; j < kc; j++) if (g->evalsc[j] < 0) g->evalsc[j] = 0;
        g->neigc = kc;
    }
    return NDYN_OK;
}

int ndyn_geom_prepare_arrays(const double *pos, const double *vel, size_t n, size_t D, size_t s,
                             const int32_t *condition, const double *label, const uint8_t *mask,
                             const ndyn_geom_params *p, ndyn_geom_data **out)
{
    *out = NULL;
    if (!pos || !vel || n == 0) return ndyn_error(NDYN_EINVAL, "no points given");
    int C = 1;
    if (condition) {
        int32_t mx = -1;
        for (size_t i = 0; i < n; i++) {
            if (condition[i] < 0)
                return ndyn_error(NDYN_EINVAL, "condition[%zu] = %d is negative; conditions are 0..C-1", i, (int)condition[i]);
            if (condition[i] > mx) mx = condition[i];
        }
        if (mx >= 1000000) return ndyn_error(NDYN_EINVAL, "condition index %d too large", (int)mx);
        C = mx + 1;
    }
    /* gather each condition's rows */
    size_t *cnt = ndyn_calloc((size_t)C + 1, sizeof(size_t));
    int64_t *rows = ndyn_malloc_array(n, sizeof(int64_t));
    double *P = ndyn_malloc_array(n * D, sizeof(double)), *V = ndyn_malloc_array(n * s, sizeof(double));
    double *L = label ? ndyn_malloc_array(n, sizeof(double)) : NULL;
    uint8_t *M = mask ? ndyn_malloc_array(n, 1) : NULL;
    ndyn_geom_condition *conds = ndyn_calloc((size_t)C, sizeof *conds);
    int rc = NDYN_OK;
    if (!cnt || !rows || !P || !V || (label && !L) || (mask && !M) || !conds) { rc = NDYN_ENOMEM; goto out; }
    for (size_t i = 0; i < n; i++) cnt[(condition ? condition[i] : 0) + 1]++;
    for (int c = 0; c < C; c++) {
        if (cnt[c + 1] == 0) { rc = ndyn_error(NDYN_EINVAL, "condition %d has no points; conditions must be 0..C-1 without gaps", c); goto out; }
        cnt[c + 1] += cnt[c];
    }
    {
        size_t *fill = ndyn_malloc_array((size_t)C, sizeof(size_t));
        if (!fill) { rc = NDYN_ENOMEM; goto out; }
        for (int c = 0; c < C; c++) fill[c] = cnt[c];
        for (size_t i = 0; i < n; i++) {
            int c = condition ? condition[i] : 0;
            size_t o = fill[c]++;
            rows[o] = (int64_t)i;
            memcpy(P + o * D, pos + i * D, D * sizeof(double));
            memcpy(V + o * s, vel + i * s, s * sizeof(double));
            if (L) L[o] = label[i];
            if (M) M[o] = mask[i];
        }
        free(fill);
    }
    for (int c = 0; c < C; c++) {
        conds[c].pos = P + cnt[c] * D;
        conds[c].vel = V + cnt[c] * s;
        conds[c].n = cnt[c + 1] - cnt[c];
        conds[c].label = L ? L + cnt[c] : NULL;
        conds[c].mask = M ? M + cnt[c] : NULL;
        conds[c].index = rows + cnt[c];
    }
    rc = ndyn_geom_prepare(conds, C, D, s, p, out);
out:
    free(cnt); free(rows); free(P); free(V); free(L); free(M); free(conds);
    return rc;
}
