/* Continuous k-nearest-neighbour graph (spec §4): edge i != j iff
 * ||x_i - x_j|| < delta sqrt(rho_i rho_j), rho_i the distance to the k-th
 * nearest other point. Every edge satisfies d < delta max(rho_i, rho_j), so
 * the radius query of radius delta rho_i from each node finds every edge
 * from at least its endpoint of larger rho: O(n k delta^m) work, no n x n. */
#include "geom_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Directed lists -> CSR (rows sorted). lists[i] has cnt[i] entries. */
static int lists_to_csr(size_t n, int32_t **lists, const size_t *cnt, ndyn_csr *A)
{
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) nnz += cnt[i];
    int rc = ndyn_csr_alloc(A, n, n, nnz);
    if (rc) return rc;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (cnt[i]) memcpy(A->col + o, lists[i], cnt[i] * sizeof(int32_t));
        qsort(A->col + o, cnt[i], sizeof(int32_t), cmp_i32);
        for (size_t q = 0; q < cnt[i]; q++) A->val[o + q] = 1.0;
        o += cnt[i];
        A->rowptr[i + 1] = (int64_t)o;
    }
    return NDYN_OK;
}

static int check_points(const double *X, size_t n, size_t D, int k)
{
    if (n < 2) return ndyn_error(NDYN_EINVAL, "a graph needs at least 2 points, got %zu", n);
    if (D == 0) return ndyn_error(NDYN_EINVAL, "points have dimension 0");
    if (k < 1) return ndyn_error(NDYN_EINVAL, "k = %d must be >= 1", k);
    if ((size_t)k + 1 > n)
        return ndyn_error(NDYN_EINVAL, "k = %d neighbours need at least %d points, got %zu; lower k", k, k + 1, n);
    if (n > INT32_MAX) return ndyn_error(NDYN_EINVAL, "%zu points exceed the 2^31-1 limit of one graph", n);
    return ndyn_check_finite(X, n * D, "point positions");
}

/* Shared: per-node candidate lists from radius queries filtered by keep(). */
typedef int (*edge_rule)(double d, size_t i, size_t j, const void *ctx);

static int build_from_radius(const ndyn_kdtree *t, const double *X, size_t n, size_t D,
                             const double *radius, edge_rule keep, const void *ctx, ndyn_csr *G)
{
    int32_t **lists = ndyn_calloc(n, sizeof *lists);
    size_t *cnt = ndyn_calloc(n, sizeof *cnt);
    if (!lists || !cnt) { free(lists); free(cnt); return NDYN_ENOMEM; }
    int fail = 0;
    long nl = (long)n;
#pragma omp parallel for schedule(dynamic, 256)
    for (long i = 0; i < nl; i++) {
        int64_t *idx; double *dist; size_t c;
        if (fail) continue;
        if (ndyn_kdtree_radius(t, X + (size_t)i * D, radius[i] * (1 + 1e-12), &idx, &dist, &c)) {
#pragma omp atomic write
            fail = 1;
            continue;
        }
        int32_t *l = malloc((c ? c : 1) * sizeof *l);
        if (!l) {
#pragma omp atomic write
            fail = 1;
            free(idx); free(dist);
            continue;
        }
        size_t m = 0;
        for (size_t q = 0; q < c; q++) {
            size_t j = (size_t)idx[q];
            if (j == (size_t)i) continue;
            double d = ndyn_geom_dist(X + (size_t)i * D, X + j * D, D);
            if (keep(d, (size_t)i, j, ctx)) l[m++] = (int32_t)j;
        }
        lists[i] = l;
        cnt[i] = m;
        free(idx); free(dist);
    }
    int rc = fail ? ndyn_error(NDYN_ENOMEM, "out of memory in graph radius queries") : NDYN_OK;
    ndyn_csr A = {0};
    if (!rc) rc = lists_to_csr(n, lists, cnt, &A);
    for (size_t i = 0; i < n; i++) free(lists[i]);
    free(lists); free(cnt);
    if (!rc) rc = ndyn_geom_symmetrize(&A, X, D, G);
    ndyn_csr_free(&A);
    return rc;
}

typedef struct { const double *rho; double delta; } cknn_ctx;

static int cknn_rule(double d, size_t i, size_t j, const void *vctx)
{
    const cknn_ctx *c = vctx;
    /* the reference's rounding: ratio d / sqrt(rho_i rho_j) < delta */
    return d / sqrt(c->rho[i] * c->rho[j]) < c->delta;
}

static int radius_rule(double d, size_t i, size_t j, const void *ctx)
{
    (void)i; (void)j;
    return d <= *(const double *)ctx; /* d == 0 (duplicates) fails in the symmetrisation */
}

static int dup_check(const int64_t *idx, const double *dist, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        if (dist[i * k] == 0)
            return ndyn_error(NDYN_EINVAL,
                              "points %zu and %lld are identical; remove or merge duplicate points "
                              "(a zero-length edge would get weight 1/0)", i, (long long)idx[i * k]);
    return NDYN_OK;
}

/* The k nearest neighbours of every point of t (self excluded), idx and dist
 * (n, k) allocated here, failing on duplicate points (dup_check). */
static int knn_lists(const ndyn_kdtree *t, size_t n, size_t k, int64_t **idx, double **dist)
{
    *idx = ndyn_malloc_array(n * k, sizeof(int64_t));
    *dist = ndyn_malloc_array(n * k, sizeof(double));
    if (!*idx || !*dist) return NDYN_ENOMEM;
    int rc = ndyn_kdtree_knn_all(t, k, *idx, *dist);
    return rc ? rc : dup_check(*idx, *dist, n, k);
}

int ndyn_geom_cknn(const double *X, size_t n, size_t D, int k, double delta, ndyn_csr *G)
{
    memset(G, 0, sizeof *G);
    int rc = check_points(X, n, D, k);
    if (rc) return rc;
    if (!(delta > 0) || !isfinite(delta)) return ndyn_error(NDYN_EINVAL, "delta = %g must be > 0", delta);
    ndyn_kdtree *t = NULL;
    rc = ndyn_kdtree_build(X, n, D, &t);
    if (rc) return rc;
    size_t K = (size_t)k;
    int64_t *idx = NULL;
    double *dist = NULL;
    double *rho = ndyn_malloc_array(n, sizeof(double));
    double *rad = ndyn_malloc_array(n, sizeof(double));
    if (!rho || !rad) rc = NDYN_ENOMEM;
    if (!rc) rc = knn_lists(t, n, K, &idx, &dist);
    if (!rc) for (size_t i = 0; i < n; i++) { rho[i] = dist[i * K + K - 1]; rad[i] = delta * rho[i]; }
    if (!rc && delta <= 1.0) {
        /* Fast path: with delta <= 1 every edge has d < rho_i at its endpoint
         * of larger rho (sqrt(rho_i rho_j) <= rho_i holds in rounding too, since
         * sqrt(fl(x*x)) == x), so it is in that endpoint's kNN list: no radius
         * queries needed. */
        ndyn_csr A = {0};
        rc = ndyn_csr_alloc(&A, n, n, n * K);
        if (!rc) {
            size_t o = 0;
            for (size_t i = 0; i < n; i++) {
                size_t st = o;
                for (size_t q = 0; q < K; q++) {
                    size_t j = (size_t)idx[i * K + q];
                    if (dist[i * K + q] / sqrt(rho[i] * rho[j]) < delta) A.col[o++] = (int32_t)j;
                }
                qsort(A.col + st, o - st, sizeof(int32_t), cmp_i32);
                for (size_t q = st; q < o; q++) A.val[q] = 1.0;
                A.rowptr[i + 1] = (int64_t)o;
            }
            A.nnz = o;
            rc = ndyn_geom_symmetrize(&A, X, D, G);
        }
        ndyn_csr_free(&A);
    } else if (!rc) {
        free(idx); idx = NULL;
        free(dist); dist = NULL;
        cknn_ctx ctx = {rho, delta};
        rc = build_from_radius(t, X, n, D, rad, cknn_rule, &ctx, G);
    }
    free(idx); free(dist); free(rho); free(rad);
    ndyn_kdtree_free(t);
    return rc;
}

int ndyn_geom_knn_graph(const double *X, size_t n, size_t D, int k, ndyn_csr *G)
{
    memset(G, 0, sizeof *G);
    int rc = check_points(X, n, D, k);
    if (rc) return rc;
    ndyn_kdtree *t = NULL;
    rc = ndyn_kdtree_build(X, n, D, &t);
    if (rc) return rc;
    size_t K = (size_t)k;
    int64_t *idx = NULL;
    double *dist = NULL;
    ndyn_csr A = {0};
    rc = knn_lists(t, n, K, &idx, &dist);
    if (!rc) rc = ndyn_csr_alloc(&A, n, n, n * K);
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            for (size_t q = 0; q < K; q++) { A.col[i * K + q] = (int32_t)idx[i * K + q]; A.val[i * K + q] = 1; }
            qsort(A.col + i * K, K, sizeof(int32_t), cmp_i32);
            A.rowptr[i + 1] = (int64_t)((i + 1) * K);
        }
        rc = ndyn_geom_symmetrize(&A, X, D, G);
    }
    ndyn_csr_free(&A);
    free(idx); free(dist);
    ndyn_kdtree_free(t);
    return rc;
}

int ndyn_geom_radius_graph(const double *X, size_t n, size_t D, double r, ndyn_csr *G)
{
    memset(G, 0, sizeof *G);
    int rc = check_points(X, n, D, 1);
    if (rc) return rc;
    if (!(r > 0) || !isfinite(r)) return ndyn_error(NDYN_EINVAL, "radius = %g must be > 0 (set --radius)", r);
    ndyn_kdtree *t = NULL;
    rc = ndyn_kdtree_build(X, n, D, &t);
    if (rc) return rc;
    double *rad = ndyn_malloc_array(n, sizeof(double));
    if (!rad) rc = NDYN_ENOMEM;
    if (!rc) {
        for (size_t i = 0; i < n; i++) rad[i] = r;
        rc = build_from_radius(t, X, n, D, rad, radius_rule, &r, G);
    }
    free(rad);
    ndyn_kdtree_free(t);
    return rc;
}
