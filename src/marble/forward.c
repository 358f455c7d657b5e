/* MARBLE forward and backward passes on a set of target nodes: o-hop
 * neighbourhoods, diffusion on the rows needed, gradient filters, the
 * inner-product layer, the MLP and emb_norm, each with an explicit backward.
 *
 * Neighbourhoods. The targets form S_0; S_k = S_{k-1} plus the kernel
 * neighbours of S_{k-1}. Local indices are ordered so that every S_k is a
 * prefix (cnt[k] rows). X^(p) is needed on S_{o-p} only, and row l of S_{o-p}
 * reads only rows of S_{o-p+1}: the targets' features equal the full-graph
 * ones exactly (spec §19 check 9).
 *
 * Local gauges (manifold mode, §7-8): X^(p-1) is read as (n m) x (W/m), its
 * leading column factor the transported index r: column a (W/m) + b of row j
 * becomes sum_a' R_ij[a, a'] X[j, a' (W/m) + b] before the kernel weights
 * K_c[i, j] apply, and the output column is still (input column) d + c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "marble/marble_internal.h"

#define NONE ((size_t)-1)

enum { B_FEAT, B_V, B_U, B_NRM, B_ZRAW, B_Z, B_D1, B_D2, B_DFEAT, B_DV, B_INVSTD0, B_D3, B_GB };
#define B_LAYER(l, k) (16 + 8 * (l) + (k)) /* k: 0 Y, 2 H, 3 DROP, 4 INVSTD, 5 MEAN */
#define MB_NBUF (16 + 8 * MB_MAX_LAYERS)

typedef struct mb_bufs {
    double *p[MB_NBUF];
    size_t cap[MB_NBUF];
} mb_bufs;

static double *wbuf(mb_work *w, int id, size_t count)
{
    mb_bufs *b = (mb_bufs *)w->feat_pre;
    if (count == 0) count = 1;
    if (b->cap[id] < count) {
        free(b->p[id]);
        b->p[id] = ndyn_malloc_array(count, sizeof(double));
        b->cap[id] = b->p[id] ? count : 0;
    }
    return b->p[id];
}

int mb_work_init(mb_work *w, const ndyn_marble_model *m, const ndyn_marble_data *g)
{
    memset(w, 0, sizeof *w);
    w->n = g->n;
    w->g2l = ndyn_malloc_array(g->n, sizeof(int32_t));
    w->l2g = ndyn_malloc_array(g->n, sizeof(int32_t));
    w->X = ndyn_calloc((size_t)m->par.order + 1, sizeof(double *));
    w->dX = ndyn_calloc((size_t)m->par.order + 1, sizeof(double *));
    w->feat_pre = ndyn_calloc(1, sizeof(mb_bufs));
    if (!w->g2l || !w->l2g || !w->X || !w->dX || !w->feat_pre) {
        mb_work_free(w);
        return NDYN_ENOMEM;
    }
    for (size_t i = 0; i < g->n; i++) w->g2l[i] = -1;
    w->cap_rows = 0;
    /* kernel values interleaved (nnz, d): one stream per row instead of d */
    size_t nnz = (size_t)g->k_ptr[g->n], d = g->d;
    w->kv = ndyn_malloc_array(nnz * d + 1, sizeof(double));
    if (!w->kv) { mb_work_free(w); return NDYN_ENOMEM; }
    for (size_t c = 0; c < d; c++)
        for (size_t q = 0; q < nnz; q++) w->kv[q * d + c] = g->k_val[c * nnz + q];
    if (m->par.diffusion && g->n_eig && !g->heat_fn) {
        /* fhat^T (s, n_eig) = (Psi^T D^1/2 f)^T, cached: f is fixed input */
        size_t ne = g->n_eig, s = g->s;
        w->fhat = ndyn_calloc(ne * s, sizeof(double));
        w->wt = ndyn_malloc_array(2 * ne * s, sizeof(double));
        if (!w->fhat || !w->wt) { mb_work_free(w); return NDYN_ENOMEM; }
        for (size_t i = 0; i < g->n; i++) {
            const double *psi = g->evecs + i * ne;
            for (size_t r = 0; r < s; r++) {
                double v = g->dhalf[i] * g->signal[i * s + r];
                double *fh = w->fhat + r * ne;
                for (size_t k = 0; k < ne; k++) fh[k] += psi[k] * v;
            }
        }
        w->fhat_ready = 1;
    }
    return NDYN_OK;
}

void mb_work_free(mb_work *w)
{
    if (!w) return;
    free(w->g2l); free(w->l2g);
    if (w->X && w->dX)  /* act_size = order + 1 entries once allocated */
        for (size_t p = 0; p < w->act_size; p++) { free(w->X[p]); free(w->dX[p]); }
    free(w->X); free(w->dX);
    free(w->F); free(w->G); free(w->dF); free(w->fhat); free(w->wt);
    if (w->feat_pre) {
        mb_bufs *b = (mb_bufs *)w->feat_pre;
        for (int i = 0; i < MB_NBUF; i++) free(b->p[i]);
        free(b);
    }
    free(w->trow);
    free(w->kv);
    mb_fcache_free(w->fc);
    memset(w, 0, sizeof *w);
}

/* Width of X^(p): s d^p. */
static size_t xwidth(const ndyn_marble_model *m, int p)
{
    size_t w = m->s;
    for (int i = 0; i < p; i++) w *= m->d;
    return w;
}

static int ensure_rows(const ndyn_marble_model *m, mb_work *w, size_t rows)
{
    if (rows <= w->cap_rows) return NDYN_OK;
    size_t o = (size_t)m->par.order;
    w->act_size = o + 1;
    for (size_t p = 0; p <= o; p++) {
        free(w->X[p]); free(w->dX[p]);
        w->X[p] = ndyn_malloc_array(rows * xwidth(m, (int)p), sizeof(double));
        w->dX[p] = ndyn_malloc_array(rows * xwidth(m, (int)p), sizeof(double));
        if (!w->X[p] || !w->dX[p]) { w->cap_rows = 0; return NDYN_ENOMEM; }
    }
    free(w->F); free(w->G); free(w->dF);
    w->F = ndyn_malloc_array(rows * m->s, sizeof(double));
    w->G = ndyn_malloc_array(rows * m->s, sizeof(double));
    w->dF = ndyn_malloc_array(rows * m->s, sizeof(double));
    if (!w->F || !w->G || !w->dF) { w->cap_rows = 0; return NDYN_ENOMEM; }
    w->cap_rows = rows;
    return NDYN_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Build the nested hop sets of the targets. Within each level the nodes are
 * sorted by index, so the sweeps over them walk memory forwards. */
static void hop_sets(const ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                     const int32_t *nodes, size_t mt, int levels)
{
    /* reset the previous map */
    size_t prev = w->cnt[m->par.order];
    for (size_t l = 0; l < prev; l++) w->g2l[w->l2g[l]] = -1;
    size_t L = 0;
    for (size_t i = 0; i < mt; i++) {
        int32_t v = nodes[i];
        if (w->g2l[v] < 0) { w->g2l[v] = (int32_t)L; w->l2g[L++] = v; }
    }
    w->cnt[0] = L;
    size_t lo = 0;
    for (int k = 1; k <= levels; k++) {
        size_t hi = L;
        for (size_t l = lo; l < hi; l++) {
            int32_t v = w->l2g[l];
            if (l + 2 < hi) __builtin_prefetch(g->k_idx + g->k_ptr[w->l2g[l + 2]]);
            for (int64_t q = g->k_ptr[v]; q < g->k_ptr[v + 1]; q++) {
                int32_t j = g->k_idx[q];
                if (w->g2l[j] < 0) { w->g2l[j] = (int32_t)L; w->l2g[L++] = j; }
            }
        }
        lo = hi;
        w->cnt[k] = L;
    }
    for (int k = levels + 1; k <= m->par.order; k++) w->cnt[k] = L;
    size_t a = 0;
    for (int k = 0; k <= levels; k++) {
        size_t b = w->cnt[k];
        qsort(w->l2g + a, b - a, sizeof(int32_t), cmp_i32);
        for (size_t l = a; l < b; l++) w->g2l[w->l2g[l]] = (int32_t)l;
        a = b;
    }
}

/* F = H_t f and G = dF/dt on the first `rows` local rows. */
static int diffuse_rows(const ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                         size_t rows)
{
    size_t s = m->s;
    if (m->par.diffusion && g->heat_fn) {
        double t = m->params[m->off_t];
        if (t < MB_T_MIN) t = MB_T_MIN;
        size_t *r = (size_t *)w->dF;   /* scratch: rows fit in dF's (rows * s) doubles */
        for (size_t l = 0; l < rows; l++) r[l] = (size_t)w->l2g[l];
        return g->heat_fn(g->heat_ctx, t, r, rows, w->F, w->G);
    }
    if (!m->par.diffusion || !w->fhat_ready) {
        for (size_t l = 0; l < rows; l++)
            memcpy(w->F + l * s, g->signal + (size_t)w->l2g[l] * s, s * sizeof(double));
        memset(w->G, 0, rows * s * sizeof(double));
        return NDYN_OK;
    }
    double t = m->params[m->off_t];
    if (t < MB_T_MIN) t = MB_T_MIN;
    size_t ne = g->n_eig, s2 = 2 * s;
    /* WT (ne, 2s): columns r of e^{-lambda t} fhat and s + r of -lambda e^{-lambda t} fhat,
     * so the row loop accumulates 2s independent sums (vectorisable) */
    double *WT = w->wt;
    for (size_t k = 0; k < ne; k++) {
        double e = exp(-g->evals[k] * t);
        for (size_t r = 0; r < s; r++) {
            double a = w->fhat[r * ne + k] * e;
            WT[k * s2 + r] = a;
            WT[k * s2 + s + r] = -g->evals[k] * a;
        }
    }
#pragma omp parallel for schedule(static) if (rows * ne * s > 200000)
    for (size_t l = 0; l < rows; l++) {
        size_t i = (size_t)w->l2g[l];
        const double *psi = g->evecs + i * ne;
        if (l + 2 < rows) {   /* the rows are scattered: fetch two rows ahead */
            const char *nx = (const char *)(g->evecs + (size_t)w->l2g[l + 2] * ne);
            for (size_t b = 0; b < ne * sizeof(double); b += 64) __builtin_prefetch(nx + b);
        }
        double inv = 1.0 / g->dhalf[i];
        double acc[64];
        double *ac = s2 <= 64 ? acc : NULL;
        if (!ac) {
            /* wide signals: plain dot products */
            for (size_t r = 0; r < s2; r++) {
                double a = 0;
                for (size_t k = 0; k < ne; k++) a += psi[k] * WT[k * s2 + r];
                if (r < s) w->F[l * s + r] = a * inv; else w->G[l * s + r - s] = a * inv;
            }
            continue;
        }
        for (size_t r = 0; r < s2; r++) ac[r] = 0;
        for (size_t k = 0; k < ne; k++) {
            double pk = psi[k];
            const double *wk = WT + k * s2;
            for (size_t r = 0; r < s2; r++) ac[r] += pk * wk[r];
        }
        for (size_t r = 0; r < s; r++) {
            w->F[l * s + r] = ac[r] * inv;
            w->G[l * s + r] = ac[s + r] * inv;
        }
    }
    return NDYN_OK;
}

/* X^(p) on rows [0, rows) from X^(p-1). */
static void kernels_forward(const ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                            int p, size_t rows, int global_src)
{
    size_t win = xwidth(m, p - 1), d = m->d, wout = win * d;
    const double *Xi = w->X[p - 1], *KV = w->kv;
    const double *RC = g->local_gauges ? g->conn : NULL;  /* (nnz, s, s) */
    size_t ms = m->s, inner = win / ms;
    const int32_t *map = w->g2l;
    double *Xo = w->X[p];
#pragma omp parallel for schedule(static) if (rows * wout > 20000)
    for (size_t l = 0; l < rows; l++) {
        double *out = Xo + l * wout;
        memset(out, 0, wout * sizeof(double));
        int32_t v = w->l2g[l];
        if (l + 1 < rows) {
            int32_t vn = w->l2g[l + 1];
            __builtin_prefetch(g->k_idx + g->k_ptr[vn]);
            __builtin_prefetch(KV + (size_t)g->k_ptr[vn] * d);
            __builtin_prefetch(KV + (size_t)g->k_ptr[vn] * d + 8);
        }
        for (int64_t q = g->k_ptr[v]; q < g->k_ptr[v + 1]; q++) {
            const double *xj = global_src ? g->signal + (size_t)g->k_idx[q] * win
                                          : Xi + (size_t)map[g->k_idx[q]] * win;
            const double *kq = KV + (size_t)q * d;
            if (RC && g->k_idx[q] != v) {
                /* transport the leading index of row j into frame i */
                const double *R = RC + (size_t)q * ms * ms;
                for (size_t a = 0; a < ms; a++)
                    for (size_t b = 0; b < inner; b++) {
                        double x = 0;
                        for (size_t a2 = 0; a2 < ms; a2++) x += R[a * ms + a2] * xj[a2 * inner + b];
                        double *o = out + (a * inner + b) * d;
                        for (size_t c = 0; c < d; c++) o[c] += kq[c] * x;
                    }
                continue;
            }
            for (size_t r = 0; r < win; r++) {
                double x = xj[r];
                double *o = out + r * d;
                for (size_t c = 0; c < d; c++) o[c] += kq[c] * x;
            }
        }
    }
}

static int kernels_backward(const ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                            int p, size_t rows)
{
    size_t win = xwidth(m, p - 1), d = m->d, wout = win * d;
    const double *dXo = w->dX[p], *KV = w->kv;
    double *dXi = w->dX[p - 1];
    const double *RC = g->local_gauges ? g->conn : NULL;
    size_t ms = m->s, inner = win / ms;
    double *gb = RC ? wbuf(w, B_GB, win) : NULL;   /* one edge's gradient before transport */
    if (RC && !gb) return NDYN_ENOMEM;
    for (size_t l = 0; l < rows; l++) {
        const double *dout = dXo + l * wout;
        int32_t v = w->l2g[l];
        if (l + 1 < rows) {
            int32_t vn = w->l2g[l + 1];
            __builtin_prefetch(g->k_idx + g->k_ptr[vn]);
            __builtin_prefetch(KV + (size_t)g->k_ptr[vn] * d);
        }
        for (int64_t q = g->k_ptr[v]; q < g->k_ptr[v + 1]; q++) {
            double *dxj = dXi + (size_t)w->g2l[g->k_idx[q]] * win;
            const double *kq = KV + (size_t)q * d;
            double *dst = RC && g->k_idx[q] != v ? gb : dxj;
            if (dst == gb) memset(gb, 0, win * sizeof(double));
            for (size_t r = 0; r < win; r++) {
                const double *o = dout + r * d;
                double a = 0;
                for (size_t c = 0; c < d; c++) a += kq[c] * o[c];
                dst[r] += a;
            }
            if (dst == gb) {
                /* back through the transport: R_ij^T on the leading index */
                const double *R = RC + (size_t)q * ms * ms;
                for (size_t a = 0; a < ms; a++)
                    for (size_t a2 = 0; a2 < ms; a2++) {
                        double r = R[a * ms + a2];
                        for (size_t b = 0; b < inner; b++) dxj[a2 * inner + b] += r * gb[a * inner + b];
                    }
            }
        }
    }
    return NDYN_OK;
}

int mb_forward(ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
               const int32_t *nodes, size_t mt, int train, int update_stats, ndyn_rng *rng,
               double *z)
{
    const ndyn_marble_params *P = &m->par;
    int o = P->order;
    size_t s = m->s, E = (size_t)P->out_channels;
    for (size_t i = 0; i < mt; i++)
        if (nodes[i] < 0 || (size_t)nodes[i] >= g->n)
            return ndyn_error(NDYN_EINVAL, "marble: node %d out of range 0..%zu", (int)nodes[i],
                              g->n - 1);
    /* training clamps the diffusion time in place, as the reference */
    if (train && m->params[m->off_t] < MB_T_MIN) m->params[m->off_t] = MB_T_MIN;
    /* without diffusion X0 is the fixed signal: X1 reads it by global index, so
     * the outermost hop level is not needed, nor the backward into X0 */
    int diffusing = P->diffusion && (w->fhat_ready || g->heat_fn);
    w->skip_last = !diffusing;
    if (w->fc) {
        double t = m->params[m->off_t];
        int rc0 = mb_fcache_prepare(w, m, g, t < MB_T_MIN ? MB_T_MIN : t);
        if (rc0) return rc0;
    }
    /* with the feature cache only the targets themselves are needed */
    hop_sets(m, g, w, nodes, mt, w->fc ? 0 : o - w->skip_last);
    int rc = ensure_rows(m, w, w->cnt[o]);
    if (rc) return rc;
    if (w->trow_cap < mt) {
        free(w->trow);
        w->trow = ndyn_malloc_array(mt, sizeof(int32_t));
        w->trow_cap = w->trow ? mt : 0;
        if (!w->trow) return NDYN_ENOMEM;
    }
    for (size_t i = 0; i < mt; i++) w->trow[i] = w->g2l[nodes[i]];
    w->m_cap = mt;
    if (w->fc) {
        double t = m->params[m->off_t];
        if ((rc = mb_fcache_fill(w, m, g, w->cnt[0], t < MB_T_MIN ? MB_T_MIN : t))) return rc;
    } else {
        if ((rc = diffuse_rows(m, g, w, w->cnt[o]))) return rc;
        memcpy(w->X[0], w->F, w->cnt[o] * s * sizeof(double));
        for (int p = 1; p <= o; p++)
            kernels_forward(m, g, w, p, w->cnt[o - p], p == 1 && w->skip_last);
    }

    /* features of the targets */
    size_t fin = m->n_features;
    double *feat = wbuf(w, B_FEAT, mt * fin);
    size_t nb = m->n_blocks, C = m->n_channels;
    double *nrm = wbuf(w, B_NRM, mt * nb);
    double *V = wbuf(w, B_V, mt * C * s);  /* channel vectors (mt, C, s) */
    double *U = wbuf(w, B_U, mt * s);
    if (!feat || !nrm || !V || !U) return NDYN_ENOMEM;
    int p0 = P->include_self ? 0 : 1;
    for (size_t i = 0; i < mt; i++) {
        size_t l = (size_t)w->g2l[nodes[i]];
        double *fr = feat + i * fin;
        size_t col = 0;
        if (P->include_positions) {
            memcpy(fr, g->pos + (size_t)nodes[i] * m->dim, m->dim * sizeof(double));
            col = m->dim;
        }
        double *vi = V + i * C * s;
        size_t vcol = 0;
        for (int p = p0; p <= o; p++) {
            size_t wp = xwidth(m, p);
            const double *x = w->X[p] + l * wp;
            double scale = 1.0;
            if (P->vec_norm) {
                double ss = 0;
                for (size_t c = 0; c < wp; c++) ss += x[c] * x[c];
                double nn = sqrt(ss);
                nrm[i * nb + (size_t)(p - p0)] = nn;
                scale = nn > 0 ? 1.0 / nn : 0.0;
            }
            if (P->inner_product) {
                /* block reshaped (d^p, s) row-major: channel a, component b = col a*s + b */
                memcpy(vi + vcol, x, wp * sizeof(double));
                for (size_t c = 0; c < wp; c++) vi[vcol + c] *= scale;
                vcol += wp;
            } else {
                for (size_t c = 0; c < wp; c++) fr[col + c] = x[c] * scale;
                col += wp;
            }
        }
        if (P->inner_product) {
            double *ui = U + i * s;
            if (s == 1) {
                for (size_t j = 0; j < C; j++) fr[col + j] = fabs(vi[j]);
            } else {
                memset(ui, 0, s * sizeof(double));
                for (size_t j = 0; j < C; j++) {
                    const double *O = m->params + m->off_o + j * s * s;
                    const double *vj = vi + j * s;
                    for (size_t k = 0; k < s; k++) {
                        double a = 0;
                        for (size_t q = 0; q < s; q++) a += O[k * s + q] * vj[q];
                        ui[k] += a;
                    }
                }
                for (size_t j = 0; j < C; j++) {
                    double a = 0;
                    for (size_t k = 0; k < s; k++) a += vi[j * s + k] * ui[k];
                    fr[col + j] = tanh(a);
                }
            }
        }
    }

    /* MLP (PyG-style, nn's kernels): hidden layers Linear -> BatchNorm1d ->
     * ReLU -> Dropout, the last a plain Linear */
    const double *in = feat;
    for (size_t li = 0; li < m->n_layers; li++) {
        const mb_layer *L = &m->layer[li];
        size_t no = L->out, ni = L->in;
        double *Y = wbuf(w, B_LAYER(li, 0), mt * no);
        if (!Y) return NDYN_ENOMEM;
        ndyn_nn_linear_forward(Y, in, m->params + L->w, L->b != NONE ? m->params + L->b : NULL,
                               mt, ni, no);
        if (!L->hidden) { in = Y; break; }
        double *H = wbuf(w, B_LAYER(li, 2), mt * no);
        double *MU = wbuf(w, B_LAYER(li, 5), no);
        double *IS = wbuf(w, B_LAYER(li, 4), no);
        double *DR = wbuf(w, B_LAYER(li, 3), mt * no);
        if (!H || !MU || !IS || !DR) return NDYN_ENOMEM;
        if (L->gamma != NONE) {
            const double *ga = m->params + L->gamma, *be = m->params + L->beta;
            double *rm = m->buffers + L->run_mean, *rv = m->buffers + L->run_var;
            if (train) {
                rc = ndyn_nn_batchnorm_forward_train(H, MU, IS, update_stats ? rm : NULL,
                                                     update_stats ? rv : NULL, Y, ga, be, mt, no,
                                                     MB_BN_MOMENTUM, MB_BN_EPS);
                if (rc) return rc;
            } else {
                ndyn_nn_batchnorm_forward_eval(H, Y, rm, rv, ga, be, mt, no, MB_BN_EPS);
            }
        } else {
            memcpy(H, Y, mt * no * sizeof(double));
        }
        ndyn_nn_relu_forward(H, H, mt * no);
        rc = ndyn_nn_dropout_forward(H, DR, H, mt * no, train ? P->dropout : 0.0, rng);
        if (rc) return rc;
        in = H;
    }
    double *ZR = wbuf(w, B_ZRAW, mt * E);
    if (!ZR) return NDYN_ENOMEM;
    memcpy(ZR, in, mt * E * sizeof(double));
    for (size_t i = 0; i < mt; i++) {
        double sc = 1.0;
        if (P->emb_norm) {
            double ss = 0;
            for (size_t j = 0; j < E; j++) ss += ZR[i * E + j] * ZR[i * E + j];
            sc = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        }
        for (size_t j = 0; j < E; j++) z[i * E + j] = ZR[i * E + j] * sc;
    }
    return NDYN_OK;
}

int mb_backward(const ndyn_marble_model *m, const ndyn_marble_data *g, mb_work *w,
                const double *dz, double *grad)
{
    const ndyn_marble_params *P = &m->par;
    size_t mt = w->m_cap, E = (size_t)P->out_channels, s = m->s;
    int o = P->order;
    size_t maxw = m->n_features;
    for (size_t l = 0; l < m->n_layers; l++) if (m->layer[l].out > maxw) maxw = m->layer[l].out;
    double *D1 = wbuf(w, B_D1, mt * maxw), *D2 = wbuf(w, B_D2, mt * maxw),
           *D3 = wbuf(w, B_D3, mt * maxw);
    if (!D1 || !D2 || !D3) return NDYN_ENOMEM;
    const double *ZR = wbuf(w, B_ZRAW, mt * E);
    /* emb_norm */
    for (size_t i = 0; i < mt; i++) {
        const double *zr = ZR + i * E;
        const double *gz = dz + i * E;
        double *dd = D1 + i * E;
        if (P->emb_norm) {
            double ss = 0;
            for (size_t j = 0; j < E; j++) ss += zr[j] * zr[j];
            double nn = sqrt(ss);
            if (nn == 0) { memset(dd, 0, E * sizeof(double)); continue; }
            double dot = 0;
            for (size_t j = 0; j < E; j++) dot += zr[j] * gz[j];
            for (size_t j = 0; j < E; j++) dd[j] = (gz[j] - zr[j] * dot / ss) / nn;
        } else {
            memcpy(dd, gz, E * sizeof(double));
        }
    }
    /* MLP backward through nn's kernels (which add into their outputs): dcur
     * holds d(output of layer li); t1, t2 are scratch of the same size */
    double *dcur = D1, *t1 = D2, *t2 = D3;
    for (size_t li = m->n_layers; li-- > 0;) {
        const mb_layer *L = &m->layer[li];
        size_t no = L->out, ni = L->in, N = mt * no;
        const double *dy = dcur;
        if (L->hidden) {
            /* dcur is d(H after dropout): through dropout, ReLU (H > 0 after
             * dropout wherever a gradient flows), then BatchNorm (train mode) */
            const double *DR = wbuf(w, B_LAYER(li, 3), N), *H = wbuf(w, B_LAYER(li, 2), N);
            memset(t1, 0, N * sizeof(double));
            ndyn_nn_dropout_backward(t1, dcur, DR, N);
            memset(t2, 0, N * sizeof(double));
            ndyn_nn_relu_backward(t2, t1, H, N);
            dy = t2;
            if (L->gamma != NONE) {
                memset(dcur, 0, N * sizeof(double));
                ndyn_nn_batchnorm_backward_train(dcur, grad + L->gamma, grad + L->beta, t2,
                                                 wbuf(w, B_LAYER(li, 0), N),
                                                 wbuf(w, B_LAYER(li, 5), no),
                                                 wbuf(w, B_LAYER(li, 4), no),
                                                 m->params + L->gamma, mt, no);
                dy = dcur;
            }
        }
        /* Linear: Y = X W^T + b */
        const double *X = li == 0 ? wbuf(w, B_FEAT, mt * m->n_features)
                                  : wbuf(w, B_LAYER(li - 1, 2), mt * ni);
        memset(t1, 0, mt * ni * sizeof(double));
        ndyn_nn_linear_backward(t1, grad + L->w, L->b != NONE ? grad + L->b : NULL, dy, X,
                                m->params + L->w, mt, ni, no);
        double *tmp = dcur; dcur = t1; t1 = tmp;
    }
    /* dcur: d(features) (mt, n_features) */
    const double *feat = wbuf(w, B_FEAT, mt * m->n_features);
    size_t fin = m->n_features, nb = m->n_blocks, C = m->n_channels;
    const double *nrm = wbuf(w, B_NRM, mt * nb);
    const double *V = wbuf(w, B_V, mt * C * s), *U = wbuf(w, B_U, mt * s);
    double *dV = wbuf(w, B_DV, C * s + s);
    if (!dV) return NDYN_ENOMEM;
    for (int p = 0; p <= o; p++)
        memset(w->dX[p], 0, w->cnt[o - p] * xwidth(m, p) * sizeof(double));
    int p0 = P->include_self ? 0 : 1;
    for (size_t i = 0; i < mt; i++) {
        size_t trow = (size_t)w->trow[i];
        const double *df = dcur + i * fin;
        const double *fr = feat + i * fin;
        size_t col = P->include_positions ? m->dim : 0;
        const double *vi = V + i * C * s;
        if (P->inner_product) {
            /* dV = d(channel vectors) */
            double *du = dV + C * s;
            if (s == 1) {
                for (size_t j = 0; j < C; j++)
                    dV[j] = df[col + j] * (vi[j] > 0 ? 1.0 : vi[j] < 0 ? -1.0 : 0.0);
            } else {
                const double *ui = U + i * s;
                memset(du, 0, s * sizeof(double));
                for (size_t j = 0; j < C; j++) {
                    double f = fr[col + j];
                    double gj = df[col + j] * (1 - f * f);
                    for (size_t k = 0; k < s; k++) {
                        dV[j * s + k] = gj * ui[k];
                        du[k] += gj * vi[j * s + k];
                    }
                }
                for (size_t j = 0; j < C; j++) {
                    const double *O = m->params + m->off_o + j * s * s;
                    double *gO = grad + m->off_o + j * s * s;
                    const double *vj = vi + j * s;
                    for (size_t k = 0; k < s; k++)
                        for (size_t q = 0; q < s; q++) {
                            gO[k * s + q] += du[k] * vj[q];
                            dV[j * s + q] += O[k * s + q] * du[k];
                        }
                }
            }
        }
        /* into the blocks (through vec_norm), accumulated at the target's row */
        size_t vcol = 0;
        for (int p = p0; p <= o; p++) {
            size_t wp = xwidth(m, p);
            const double *g_in = P->inner_product ? dV + vcol : df + col;
            vcol += P->inner_product ? wp : 0;
            col += P->inner_product ? 0 : wp;
            double *dst = w->dX[p] + trow * wp;
            if (P->vec_norm) {
                double nn = nrm[i * nb + (size_t)(p - p0)];
                if (nn == 0) continue;
                const double *x = w->X[p] + trow * wp;
                double dot = 0;
                for (size_t c = 0; c < wp; c++) dot += x[c] * g_in[c];
                for (size_t c = 0; c < wp; c++)
                    dst[c] += (g_in[c] - x[c] * dot / (nn * nn)) / nn;
            } else {
                for (size_t c = 0; c < wp; c++) dst[c] += g_in[c];
            }
        }
    }
    if (w->fc) {
        if (P->diffusion) grad[m->off_t] += mb_fcache_dt(w, m, w->cnt[0]);
        return NDYN_OK;
    }
    for (int p = o; p >= (w->skip_last ? 2 : 1); p--) {
        int rc = kernels_backward(m, g, w, p, w->cnt[o - p]);
        if (rc) return rc;
    }
    /* dF = dX[0]; dt = sum dF * G */
    if (P->diffusion && (w->fhat_ready || g->heat_fn)) {
        double gt = 0;
        size_t rows = w->cnt[o];
        for (size_t q = 0; q < rows * s; q++) gt += w->dX[0][q] * w->G[q];
        grad[m->off_t] += gt;
    }
    return NDYN_OK;
}
