/* The model's view of a prepared geom dataset: the d kernels K_c merged onto
 * one CSR pattern (the union of their rows, diagonal included), the spectrum
 * or geom's heat action. With local gauges the block kernels K_c[i,j] R_ij
 * are split into their scalar values and the connections R_ij, the signal is
 * projected to the frames and the diffusion is geom's vector diffusion. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/geom.h"
#include "marble/marble_internal.h"

/* The requested rows of the data in geom's order (o->rows, grown as needed). */
static int geom_rows(ndyn_marble_ops *o, const size_t *rows, size_t nsel)
{
    if (o->rows_cap < nsel) {
        free(o->rows);
        o->rows = ndyn_malloc_array(nsel, sizeof(size_t));
        o->rows_cap = o->rows ? nsel : 0;
        if (!o->rows) return NDYN_ENOMEM;
    }
    for (size_t i = 0; i < nsel; i++) o->rows[i] = (size_t)o->order[rows[i]];
    return NDYN_OK;
}

/* geom's heat action on the data's rows */
static int heat_cb(void *ctx, double t, const size_t *rows, size_t nsel, double *Hf, double *dHf)
{
    ndyn_marble_ops *o = ctx;
    int rc = geom_rows(o, rows, nsel);
    return rc ? rc : ndyn_geom_heat_apply((ndyn_geom_heat *)o->heat, t, o->rows, nsel, Hf, dHf);
}

/* geom's cached vector diffusion (spec §9 vector path) of the signal on the
 * requested rows only, in frame coordinates (u_i = T_iᵀ out_i). */
static int vheat_cb(void *ctx, double t, const size_t *rows, size_t nsel, double *Hf, double *dHf)
{
    ndyn_marble_ops *o = ctx;
    int rc = geom_rows(o, rows, nsel);
    return rc ? rc
              : ndyn_geom_vheat_apply_frames((ndyn_geom_vheat *)o->vheat, t, o->rows, nsel, Hf, dHf);
}

/* Manifold mode: the scalar kernel S (n x n) of the block kernel K (n m x n m)
 * with blocks S[i,j] R_ij: S[i,j] = <R_ij, K_ij>_F / m (R_ij orthogonal). The
 * pattern is node i's first scalar row, whose entries come in groups of m. */
static int scalar_kernel(const ndyn_csr *K, const ndyn_csr *R, size_t n, size_t m, ndyn_csr *S)
{
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++)
        nnz += (size_t)(K->rowptr[i * m + 1] - K->rowptr[i * m]) / m;
    int rc = ndyn_csr_alloc(S, n, n, nnz);
    if (rc) return rc;
    size_t q = 0;
    for (size_t i = 0; i < n; i++) {
        for (int64_t p = K->rowptr[i * m]; p < K->rowptr[i * m + 1]; p += (int64_t)m) {
            size_t j = (size_t)K->col[p] / m;
            double v = 0, rr = 0;
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++) {
                    double r = ndyn_csr_get(R, i * m + a, j * m + b);
                    v += r * ndyn_csr_get(K, i * m + a, j * m + b);
                    rr += r * r;
                }
            if (!(rr > 0.5))
                return ndyn_error(NDYN_EFORMAT, "marble: connection R_%zu,%zu is missing from the "
                                  "prepared dataset (prepare it again)", i, j);
            S->col[q] = (int32_t)j;
            S->val[q++] = v / (double)m;
        }
        S->rowptr[i + 1] = (int64_t)q;
    }
    return NDYN_OK;
}

/* geom's cached Chebyshev basis (rows in geom's order = data.order[i]) */
static int heat_basis_cb(void *ctx, size_t want, const double **V, size_t *row_stride)
{
    ndyn_marble_ops *o = ctx;
    return ndyn_geom_heat_basis((ndyn_geom_heat *)o->heat, want, V, row_stride);
}

/* Breadth-first renumbering over the pattern (ptr, idx): order[new] = old. */
static void bfs_order(size_t n, const int64_t *ptr, const int32_t *idx, int32_t *order,
                      int32_t *inv)
{
    for (size_t i = 0; i < n; i++) inv[i] = -1;
    size_t head = 0, tail = 0;
    for (size_t s0 = 0; s0 < n; s0++) {
        if (inv[s0] >= 0) continue;
        inv[s0] = (int32_t)tail;
        order[tail++] = (int32_t)s0;
        while (head < tail) {
            int32_t v = order[head++];
            for (int64_t q = ptr[v]; q < ptr[v + 1]; q++) {
                int32_t j = idx[q];
                if (inv[j] < 0) { inv[j] = (int32_t)tail; order[tail++] = j; }
            }
        }
    }
}

int ndyn_marble_ops_from_geom(const ndyn_geom_data *g, ndyn_marble_ops **out)
{
    *out = NULL;
    if (!g) return ndyn_error(NDYN_EINVAL, "marble: geom dataset is NULL");
    int local = g->frames != NULL;
    size_t n = g->n, d = (size_t)g->d, mm = local ? (size_t)g->m : 1;
    if (!local && (g->m != (int)g->D || g->d != (int)g->D))
        return ndyn_error(NDYN_EINVAL, "marble: flat-mode dataset with manifold dimension %d "
                          "and %d kernels in ambient dimension %zu", g->m, g->d, g->D);
    if (g->s != g->D)
        return ndyn_error(NDYN_EINVAL, "marble: signal dimension %zu differs from the ambient "
                          "dimension %zu", g->s, g->D);
    if (local && (g->m < 1 || g->d != g->m || g->conn.nrows != n * mm ||
                  g->lcsym.nrows != n * mm))
        return ndyn_error(NDYN_EFORMAT, "marble: the local-gauge dataset lacks consistent "
                          "frames, connections or connection Laplacian (m %d, %d kernels); "
                          "prepare it again with --local-gauges", g->m, g->d);
    for (size_t c = 0; c < d; c++)
        if (g->K[c].nrows != n * mm || g->K[c].ncols != n * mm)
            return ndyn_error(NDYN_ESHAPE, "marble: kernel %zu is %zux%zu, want %zux%zu", c,
                              g->K[c].nrows, g->K[c].ncols, n * mm, n * mm);
    ndyn_marble_ops *o = ndyn_calloc(1, sizeof *o);
    if (!o) return NDYN_ENOMEM;
    /* the scalar kernels: geom's own (flat) or split off the blocks (manifold) */
    ndyn_csr KS[16];
    const ndyn_csr *Kv = g->K;
    int rc0 = NDYN_OK;
    if (local) {
        if (d > 16) { free(o); return ndyn_error(NDYN_EUNSUPPORTED, "marble: local gauges "
                                                 "with manifold dimension %zu > 16", d); }
        memset(KS, 0, sizeof KS);
        for (size_t c = 0; c < d && !rc0; c++) rc0 = scalar_kernel(&g->K[c], &g->conn, n, mm, &KS[c]);
        Kv = KS;
    }
    o->ptr = ndyn_calloc(n + 1, sizeof(int64_t));
    size_t cap = 0;
    for (size_t c = 0; c < d; c++) cap += Kv[c].nnz;
    cap += n;
    o->idx = ndyn_malloc_array(cap, sizeof(int32_t));
    if (rc0 || !o->ptr || !o->idx) {
        if (local) for (size_t c = 0; c < d; c++) ndyn_csr_free(&KS[c]);
        ndyn_marble_ops_free(o);
        return rc0 ? rc0 : NDYN_ENOMEM;
    }
    /* union of the (sorted) rows, plus the diagonal */
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        size_t start = nnz;
        for (size_t c = 0; c < d; c++) {
            const ndyn_csr *K = &Kv[c];
            for (int64_t q = K->rowptr[i]; q < K->rowptr[i + 1]; q++) o->idx[nnz++] = K->col[q];
        }
        o->idx[nnz++] = (int32_t)i;
        /* sort + unique the row (short: insertion sort) */
        for (size_t a = start + 1; a < nnz; a++) {
            int32_t v = o->idx[a];
            size_t b = a;
            while (b > start && o->idx[b - 1] > v) { o->idx[b] = o->idx[b - 1]; b--; }
            o->idx[b] = v;
        }
        size_t w = start;
        for (size_t a = start; a < nnz; a++)
            if (a == start || o->idx[a] != o->idx[w - 1]) o->idx[w++] = o->idx[a];
        nnz = w;
        o->ptr[i + 1] = (int64_t)nnz;
    }
    o->val = ndyn_calloc(d * nnz + 1, sizeof(double));
    if (!o->val) {
        if (local) for (size_t c = 0; c < d; c++) ndyn_csr_free(&KS[c]);
        ndyn_marble_ops_free(o);
        return NDYN_ENOMEM;
    }
    for (size_t c = 0; c < d; c++) {
        const ndyn_csr *K = &Kv[c];
        for (size_t i = 0; i < n; i++) {
            int64_t p = o->ptr[i];
            for (int64_t q = K->rowptr[i]; q < K->rowptr[i + 1]; q++) {
                while (o->idx[p] < K->col[q]) p++;
                o->val[c * nnz + (size_t)p] += K->val[q];
            }
        }
    }
    if (local) for (size_t c = 0; c < d; c++) ndyn_csr_free(&KS[c]);
    /* connections on the merged pattern (old numbering), R_ii = I */
    size_t m2 = mm * mm;
    double *conn_old = NULL;
    if (local) {
        conn_old = ndyn_malloc_array(nnz * m2 + 1, sizeof(double));
        if (!conn_old) { ndyn_marble_ops_free(o); return NDYN_ENOMEM; }
        for (size_t i = 0; i < n; i++)
            for (int64_t q = o->ptr[i]; q < o->ptr[i + 1]; q++) {
                size_t j = (size_t)o->idx[q];
                double *R = conn_old + (size_t)q * m2;
                for (size_t a = 0; a < mm; a++)
                    for (size_t b = 0; b < mm; b++)
                        R[a * mm + b] = j == i ? (a == b) : ndyn_csr_get(&g->conn, i * mm + a, j * mm + b);
            }
    }
    /* renumber for memory locality of neighbourhoods */
    size_t D = g->D, s = local ? mm : g->s, ne = local ? 0 : g->neig;
    o->order = ndyn_malloc_array(n, sizeof(int32_t));
    o->order_inv = ndyn_malloc_array(n, sizeof(int32_t));
    int64_t *ptr2 = ndyn_calloc(n + 1, sizeof(int64_t));
    int32_t *idx2 = ndyn_malloc_array(nnz + 1, sizeof(int32_t));
    double *val2 = ndyn_malloc_array(d * nnz + 1, sizeof(double));
    o->pos = ndyn_malloc_array(n * D, sizeof(double));
    o->signal = ndyn_malloc_array(n * s, sizeof(double));
    o->dhalf = ndyn_malloc_array(n, sizeof(double));
    o->condition = ndyn_malloc_array(n, sizeof(int32_t));
    o->mask = g->mask ? ndyn_malloc_array(n, 1) : NULL;
    o->evecs = ne ? ndyn_malloc_array(n * ne, sizeof(double)) : NULL;
    if (local) {
        o->conn = ndyn_malloc_array(nnz * m2 + 1, sizeof(double));
    }
    if (!o->order || !o->order_inv || !ptr2 || !idx2 || !val2 || !o->pos || !o->signal ||
        !o->dhalf || !o->condition || (g->mask && !o->mask) || (ne && !o->evecs) ||
        (local && !o->conn)) {
        free(ptr2); free(idx2); free(val2); free(conn_old);
        ndyn_marble_ops_free(o);
        return NDYN_ENOMEM;
    }
    bfs_order(n, o->ptr, o->idx, o->order, o->order_inv);
    size_t q2 = 0;
    for (size_t i = 0; i < n; i++) {
        size_t old = (size_t)o->order[i];
        for (int64_t q = o->ptr[old]; q < o->ptr[old + 1]; q++, q2++) {
            idx2[q2] = o->order_inv[o->idx[q]];
            for (size_t c = 0; c < d; c++) val2[c * nnz + q2] = o->val[c * nnz + (size_t)q];
            if (local) memcpy(o->conn + q2 * m2, conn_old + (size_t)q * m2, m2 * sizeof(double));
        }
        ptr2[i + 1] = (int64_t)q2;
        memcpy(o->pos + i * D, g->pos + old * D, D * sizeof(double));
        if (local) {
            /* u_i = T_i^T f_i: the signal in frame coordinates (s = m, spec B5 fix) */
            const double *Ti = g->frames + old * D * mm, *fi = g->vel + old * D;
            for (size_t p = 0; p < mm; p++) {
                double a = 0;
                for (size_t e = 0; e < D; e++) a += Ti[e * mm + p] * fi[e];
                o->signal[i * mm + p] = a;
            }
        } else {
            memcpy(o->signal + i * s, g->vel + old * s, s * sizeof(double));
        }
        o->dhalf[i] = g->dhalf[old];
        o->condition[i] = g->condition[old];
        if (o->mask) o->mask[i] = g->mask[old];
        if (ne) memcpy(o->evecs + i * ne, g->evecs + old * ne, ne * sizeof(double));
    }
    free(o->ptr); free(o->idx); free(o->val); free(conn_old);
    o->ptr = ptr2; o->idx = idx2; o->val = val2;
    ndyn_marble_data *m = &o->data;
    m->n = n; m->dim = D; m->s = s; m->d = d;
    m->pos = o->pos; m->signal = o->signal; m->condition = o->condition; m->mask = o->mask;
    m->k_ptr = o->ptr; m->k_idx = o->idx; m->k_val = o->val;
    m->dhalf = o->dhalf;
    m->order = o->order; m->order_inv = o->order_inv;
    if (local) {
        /* geom's cached vector diffusion: spectral from the connection
         * Laplacian's eigenpairs when prepared with them, else cached
         * Chebyshev bases on L_c,sym and L_sym (requested rows only per t) */
        ndyn_geom_vheat *vh = NULL;
        int rc = ndyn_geom_vheat_new(g, g->vel, &vh);
        if (rc) { ndyn_marble_ops_free(o); return rc; }
        o->vheat = vh;
        o->g = g;
        m->local_gauges = 1;
        m->conn = o->conn;
        m->heat_fn = vheat_cb;
        m->heat_ctx = o;
    } else if (ne > 0) {
        m->n_eig = ne; m->evals = g->evals; m->evecs = o->evecs;
    } else {
        ndyn_geom_heat *h = NULL;
        int rc = ndyn_geom_heat_new(g, g->vel, g->s, &h);
        if (rc) { ndyn_marble_ops_free(o); return rc; }
        o->heat = h;
        m->heat_fn = heat_cb;
        m->heat_basis_fn = heat_basis_cb;
        m->heat_ctx = o;
    }
    *out = o;
    return NDYN_OK;
}

void ndyn_marble_ops_free(ndyn_marble_ops *o)
{
    if (!o) return;
    if (o->heat) ndyn_geom_heat_free((ndyn_geom_heat *)o->heat);
    free(o->ptr); free(o->idx); free(o->val);
    free(o->order); free(o->order_inv); free(o->pos); free(o->signal); free(o->evecs);
    free(o->dhalf); free(o->condition); free(o->mask); free(o->rows);
    free(o->conn);
    ndyn_geom_vheat_free((ndyn_geom_vheat *)o->vheat);
    free(o);
}
