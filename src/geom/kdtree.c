/* Exact k-nearest-neighbour and radius queries with a KD-tree.
 * Own code rather than FLANN: FLANN's exact mode (a single KD-tree with
 * unlimited checks) gives no exact tie handling and adds a C++ runtime; this
 * tree is ~200 lines, exact, allocation-free per query and deterministic.
 * Nodes split the coordinate of largest spread at the median; leaves hold
 * up to LEAF points; queries descend the near side first and prune a far
 * side by the squared distance to its bounding box. */
#include "geom_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEAF 12

typedef struct {
    size_t lo, hi;      /* range of the permuted points */
    int left, right;    /* children, -1 for a leaf */
} kd_node;

struct ndyn_kdtree {
    size_t n, D;
    double *Xp;         /* (n, D) points in tree order */
    int64_t *perm;      /* (n) original index of tree point */
    kd_node *nodes;
    double *bbox;       /* (nnodes, 2, D) lower and upper corners */
    size_t nnodes, cap;
};

static void swap_pts(ndyn_kdtree *t, size_t a, size_t b)
{
    if (a == b) return;
    int64_t p = t->perm[a]; t->perm[a] = t->perm[b]; t->perm[b] = p;
    double *xa = t->Xp + a * t->D, *xb = t->Xp + b * t->D;
    for (size_t d = 0; d < t->D; d++) { double v = xa[d]; xa[d] = xb[d]; xb[d] = v; }
}

/* quickselect: put the element of rank k (by coordinate dim) at position k */
static void select_k(ndyn_kdtree *t, size_t lo, size_t hi, size_t k, size_t dim)
{
    size_t D = t->D;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        /* median of three as pivot */
        double a = t->Xp[lo * D + dim], b = t->Xp[mid * D + dim], c = t->Xp[(hi - 1) * D + dim];
        size_t piv = (a < b) ? ((b < c) ? mid : (a < c ? hi - 1 : lo)) : ((a < c) ? lo : (b < c ? hi - 1 : mid));
        swap_pts(t, piv, hi - 1);
        double pv = t->Xp[(hi - 1) * D + dim];
        size_t st = lo;
        for (size_t i = lo; i < hi - 1; i++)
            if (t->Xp[i * D + dim] < pv) swap_pts(t, i, st++);
        swap_pts(t, st, hi - 1);
        if (st == k) return;
        if (k < st) hi = st;
        else lo = st + 1;
    }
}

static int build(ndyn_kdtree *t, size_t lo, size_t hi)
{
    size_t D = t->D;
    int id = (int)t->nnodes++;
    kd_node *nd = &t->nodes[id];
    nd->lo = lo; nd->hi = hi; nd->left = nd->right = -1;
    double *bl = t->bbox + (size_t)id * 2 * D, *bu = bl + D;
    for (size_t d = 0; d < D; d++) { bl[d] = DBL_MAX; bu[d] = -DBL_MAX; }
    for (size_t i = lo; i < hi; i++)
        for (size_t d = 0; d < D; d++) {
            double v = t->Xp[i * D + d];
            if (v < bl[d]) bl[d] = v;
            if (v > bu[d]) bu[d] = v;
        }
    if (hi - lo <= LEAF) return id;
    size_t dim = 0;
    double best = -1;
    for (size_t d = 0; d < D; d++)
        if (bu[d] - bl[d] > best) { best = bu[d] - bl[d]; dim = d; }
    if (best <= 0) return id; /* all points equal: keep as a (big) leaf */
    size_t mid = lo + (hi - lo) / 2;
    select_k(t, lo, hi, mid, dim);
    int l = build(t, lo, mid);
    int r = build(t, mid, hi);
    t->nodes[id].left = l;
    t->nodes[id].right = r;
    return id;
}

int ndyn_kdtree_build(const double *X, size_t n, size_t D, ndyn_kdtree **out)
{
    *out = NULL;
    if (n == 0 || D == 0) return ndyn_error(NDYN_EINVAL, "KD-tree over %zu points of dimension %zu; need at least one point", n, D);
    int rc = ndyn_check_finite(X, n * D, "point positions");
    if (rc) return rc;
    ndyn_kdtree *t = ndyn_calloc(1, sizeof *t);
    if (!t) return NDYN_ENOMEM;
    t->n = n; t->D = D;
    t->cap = 2 * (n / (LEAF / 2) + 1) + 1;
    t->Xp = ndyn_malloc_array(n * D, sizeof(double));
    t->perm = ndyn_malloc_array(n, sizeof(int64_t));
    t->nodes = ndyn_malloc_array(t->cap, sizeof(kd_node));
    t->bbox = ndyn_malloc_array(t->cap * 2 * D, sizeof(double));
    if (!t->Xp || !t->perm || !t->nodes || !t->bbox) { ndyn_kdtree_free(t); return NDYN_ENOMEM; }
    memcpy(t->Xp, X, n * D * sizeof(double));
    for (size_t i = 0; i < n; i++) t->perm[i] = (int64_t)i;
    build(t, 0, n);
    *out = t;
    return NDYN_OK;
}

void ndyn_kdtree_free(ndyn_kdtree *t)
{
    if (!t) return;
    free(t->Xp); free(t->perm); free(t->nodes); free(t->bbox);
    free(t);
}

static inline double box_d2(const ndyn_kdtree *t, int id, const double *q)
{
    const double *bl = t->bbox + (size_t)id * 2 * t->D, *bu = bl + t->D;
    double s = 0;
    for (size_t d = 0; d < t->D; d++) {
        double v = q[d] < bl[d] ? bl[d] - q[d] : (q[d] > bu[d] ? q[d] - bu[d] : 0.0);
        s += v * v;
    }
    return s;
}

/* max-heap on (d2, idx) of size k */
typedef struct { double d2; int64_t idx; } hent;

static inline int hless(hent a, hent b) { return a.d2 < b.d2 || (a.d2 == b.d2 && a.idx < b.idx); }

static void heap_push(hent *h, size_t *sz, size_t k, hent e)
{
    if (*sz < k) {
        size_t i = (*sz)++;
        h[i] = e;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (hless(h[p], h[i])) { hent tmp = h[p]; h[p] = h[i]; h[i] = tmp; i = p; }
            else break;
        }
    } else if (hless(e, h[0])) {
        h[0] = e;
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < k && hless(h[m], h[l])) m = l;
            if (r < k && hless(h[m], h[r])) m = r;
            if (m == i) break;
            hent tmp = h[m]; h[m] = h[i]; h[i] = tmp; i = m;
        }
    }
}

static void knn_rec(const ndyn_kdtree *t, int id, const double *q, size_t k, int64_t excl,
                    hent *h, size_t *sz)
{
    const kd_node *nd = &t->nodes[id];
    if (nd->left < 0) {
        size_t D = t->D;
        for (size_t i = nd->lo; i < nd->hi; i++) {
            if (t->perm[i] == excl) continue;
            const double *x = t->Xp + i * D;
            double s = 0;
            for (size_t d = 0; d < D; d++) { double v = x[d] - q[d]; s += v * v; }
            if (*sz < k || s <= h[0].d2) heap_push(h, sz, k, (hent){s, t->perm[i]});
        }
        return;
    }
    double dl = box_d2(t, nd->left, q), dr = box_d2(t, nd->right, q);
    int first = dl <= dr ? nd->left : nd->right, second = dl <= dr ? nd->right : nd->left;
    double d1 = dl <= dr ? dl : dr, d2 = dl <= dr ? dr : dl;
    if (*sz < k || d1 <= h[0].d2) knn_rec(t, first, q, k, excl, h, sz);
    if (*sz < k || d2 <= h[0].d2) knn_rec(t, second, q, k, excl, h, sz);
}

static int hent_cmp(const void *a, const void *b)
{
    const hent *x = a, *y = b;
    return hless(*x, *y) ? -1 : (hless(*y, *x) ? 1 : 0);
}

static int knn_one(const ndyn_kdtree *t, const double *q, size_t k, int64_t exclude, int64_t *idx,
                   double *dist, hent *h)
{
    size_t sz = 0;
    knn_rec(t, 0, q, k, exclude, h, &sz);
    if (sz < k) return -1;
    qsort(h, k, sizeof *h, hent_cmp);
    for (size_t j = 0; j < k; j++) { idx[j] = h[j].idx; dist[j] = sqrt(h[j].d2); }
    return 0;
}

int ndyn_kdtree_knn(const ndyn_kdtree *t, const double *q, size_t k, int64_t exclude, int64_t *idx,
                    double *dist)
{
    size_t avail = t->n - (exclude >= 0 && (size_t)exclude < t->n ? 1 : 0);
    if (k == 0 || k > avail)
        return ndyn_error(NDYN_EINVAL, "asked for k = %zu neighbours among %zu points; lower k below the number of points", k, avail);
    hent *h = ndyn_malloc_array(k, sizeof *h);
    if (!h) return NDYN_ENOMEM;
    int r = knn_one(t, q, k, exclude, idx, dist, h);
    free(h);
    if (r) return ndyn_error(NDYN_EINTERNAL, "KD-tree found fewer than k = %zu neighbours", k);
    return NDYN_OK;
}

int ndyn_kdtree_knn_all(const ndyn_kdtree *t, size_t k, int64_t *idx, double *dist)
{
    if (k == 0 || k + 1 > t->n)
        return ndyn_error(NDYN_EINVAL, "asked for k = %zu neighbours of each of %zu points; need at least k + 1 points (lower k)", k, t->n);
    int bad = 0;
    long n = (long)t->n;
#pragma omp parallel
    {
        hent *h = malloc(k * sizeof *h);
        if (!h) {
#pragma omp atomic write
            bad = 1;
        }
        /* query in tree order (cache-friendly), write by original index */
#pragma omp for schedule(dynamic, 256)
        for (long i = 0; i < n; i++) {
            if (!h) continue;
            int64_t o = t->perm[i];
            if (knn_one(t, t->Xp + (size_t)i * t->D, k, o, idx + (size_t)o * k, dist + (size_t)o * k, h)) {
#pragma omp atomic write
                bad = 2;
            }
        }
        free(h);
    }
    if (bad == 1) return ndyn_error(NDYN_ENOMEM, "out of memory in kNN queries");
    if (bad) return ndyn_error(NDYN_EINTERNAL, "KD-tree found fewer than k neighbours");
    return NDYN_OK;
}

typedef struct { int64_t *idx; double *dist; size_t cnt, cap; int fail; } rbuf;

static void rad_rec(const ndyn_kdtree *t, int id, const double *q, double r2, rbuf *b)
{
    if (b->fail || box_d2(t, id, q) > r2) return;
    const kd_node *nd = &t->nodes[id];
    if (nd->left >= 0) {
        rad_rec(t, nd->left, q, r2, b);
        rad_rec(t, nd->right, q, r2, b);
        return;
    }
    size_t D = t->D;
    for (size_t i = nd->lo; i < nd->hi; i++) {
        const double *x = t->Xp + i * D;
        double s = 0;
        for (size_t d = 0; d < D; d++) { double v = x[d] - q[d]; s += v * v; }
        if (s > r2) continue;
        if (b->cnt == b->cap) {
            size_t nc = b->cap ? 2 * b->cap : 32;
            int64_t *ni = realloc(b->idx, nc * sizeof *ni);
            if (ni) b->idx = ni;
            double *ndd = realloc(b->dist, nc * sizeof *ndd);
            if (ndd) b->dist = ndd;
            if (!ni || !ndd) { b->fail = 1; return; }
            b->cap = nc;
        }
        b->idx[b->cnt] = t->perm[i];
        b->dist[b->cnt] = sqrt(s);
        b->cnt++;
    }
}

int ndyn_kdtree_radius(const ndyn_kdtree *t, const double *q, double r, int64_t **idx,
                       double **dist, size_t *cnt)
{
    *idx = NULL; *dist = NULL; *cnt = 0;
    if (!(r >= 0) || !isfinite(r)) return ndyn_error(NDYN_EINVAL, "radius %g must be finite and >= 0", r);
    rbuf b = {0};
    rad_rec(t, 0, q, r * r, &b);
    if (b.fail) { free(b.idx); free(b.dist); return ndyn_error(NDYN_ENOMEM, "out of memory in a radius query"); }
    *idx = b.idx; *dist = b.dist; *cnt = b.cnt;
    return NDYN_OK;
}
