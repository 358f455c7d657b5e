/* Exact earth mover's distance: the transportation problem solved by the
 * primal network simplex.
 *
 * Written here rather than taken from a library: the solver behind POT's
 * emd (LEMON's network simplex, C++) is not a C library, and no well-kept C
 * solver for min-cost flow or the transportation problem is packaged in
 * Debian (GLPK would do it as a general LP, but far slower and with an extra
 * dependency).
 *
 * The network: one node per row (supply a_i), one per column (demand b_j), an
 * uncapacitated arc i -> j of cost c_ij for every pair, and a root node with
 * one artificial arc per node (row i -> root at cost 0, root -> column j at
 * a cost M larger than any path of real arcs), which gives the initial
 * feasible spanning tree. Each pivot adds the arc of most negative reduced
 * cost within a block of candidates (block search pivoting, as LEMON), and
 * the leaving arc is chosen by Cunningham's rule (the last blocking arc of
 * the cycle from its apex), which keeps the tree strongly feasible and
 * rules out cycling on degenerate pivots. The tree is stored as parent
 * pointers with child lists; after a pivot the depths and potentials of the
 * re-hung subtree are recomputed from its new parents (not shifted), so no
 * rounding accumulates in the potentials.
 * Rows and columns of zero weight are removed before solving. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/ot_internal.h"

#define NONE ((size_t)-1)

typedef struct {
    size_t ma, mb;        /* active rows, columns */
    size_t n;             /* nodes: ma + mb + 1; root = ma + mb */
    size_t m;             /* real arcs ma * mb */
    const double *c;      /* (ma, mb) shifted costs (>= 0) */
    double big;           /* cost M of the artificial arcs into columns */
    double *flow;         /* (m + n - 1): real arcs, then artificial arc of node x at m + x */
    size_t *parent, *pred, *depth, *stamp, *stack;
    size_t *child, *next_sib, *prev_sib; /* children as doubly linked sibling lists */
    unsigned char *up;    /* pred arc oriented node -> parent */
    double *pot;
    size_t cur_stamp;
} ns_t;

static inline double arc_cost(const ns_t *s, size_t e)
{
    if (e < s->m) return s->c[e];
    return (e - s->m < s->ma) ? 0.0 : s->big;
}

static void unlink_child(ns_t *s, size_t x)
{
    size_t p = s->parent[x];
    if (s->prev_sib[x] != NONE) s->next_sib[s->prev_sib[x]] = s->next_sib[x];
    else s->child[p] = s->next_sib[x];
    if (s->next_sib[x] != NONE) s->prev_sib[s->next_sib[x]] = s->prev_sib[x];
}

static void link_child(ns_t *s, size_t x, size_t p)
{
    s->parent[x] = p;
    s->prev_sib[x] = NONE;
    s->next_sib[x] = s->child[p];
    if (s->child[p] != NONE) s->prev_sib[s->child[p]] = x;
    s->child[p] = x;
}

/* Depth and potential of every node of the subtree rooted at x from its
 * parent's (depth-first over the child lists). */
static void ns_update_subtree(ns_t *s, size_t x)
{
    size_t top = 0;
    s->stack[top++] = x;
    while (top) {
        size_t y = s->stack[--top], p = s->parent[y];
        double c = arc_cost(s, s->pred[y]);
        s->depth[y] = s->depth[p] + 1;
        s->pot[y] = s->up[y] ? s->pot[p] - c : s->pot[p] + c;
        for (size_t ch = s->child[y]; ch != NONE; ch = s->next_sib[ch]) s->stack[top++] = ch;
    }
}

/* Depths and potentials from the parent pointers: pot[v] = pot[u] + c_uv on
 * every tree arc u -> v, pot[root] = 0. */
static void ns_refresh(ns_t *s)
{
    size_t root = s->n - 1;
    s->cur_stamp++;
    s->stamp[root] = s->cur_stamp;
    s->depth[root] = 0;
    s->pot[root] = 0.0;
    for (size_t x = 0; x < root; x++) {
        size_t top = 0, y = x;
        while (s->stamp[y] != s->cur_stamp) {
            s->stack[top++] = y;
            y = s->parent[y];
        }
        while (top) {
            y = s->stack[--top];
            size_t p = s->parent[y];
            double c = arc_cost(s, s->pred[y]);
            s->depth[y] = s->depth[p] + 1;
            s->pot[y] = s->up[y] ? s->pot[p] - c : s->pot[p] + c;
            s->stamp[y] = s->cur_stamp;
        }
    }
}

/* One pivot with entering real arc e = (u -> v). */
static void ns_pivot(ns_t *s, size_t e)
{
    size_t u = e / s->mb, v = s->ma + e % s->mb;
    size_t x = u, y = v;
    while (x != y) {
        if (s->depth[x] > s->depth[y]) {
            x = s->parent[x];
        } else if (s->depth[y] > s->depth[x]) {
            y = s->parent[y];
        } else {
            x = s->parent[x];
            y = s->parent[y];
        }
    }
    size_t w = x;
    /* Leaving arc: the last blocking arc met when going round the cycle in
     * the direction of the flow change, starting at the apex w: w -> u
     * (down), u -> v, v -> w (up). On the u side an arc pointing up loses
     * flow; on the v side an arc pointing down does. */
    double delta = INFINITY;
    size_t leave = NONE;
    int side_u = 0;
    for (x = u; x != w; x = s->parent[x])
        if (s->up[x] && s->flow[s->pred[x]] < delta) {
            delta = s->flow[s->pred[x]];
            leave = x;
            side_u = 1;
        }
    for (x = v; x != w; x = s->parent[x])
        if (!s->up[x] && s->flow[s->pred[x]] <= delta) {
            delta = s->flow[s->pred[x]];
            leave = x;
            side_u = 0;
        }
    /* leave != NONE: the network has no directed cycle, so some arc of the
     * cycle points against the flow change. */
    if (delta > 0) {
        for (x = u; x != w; x = s->parent[x]) s->flow[s->pred[x]] += s->up[x] ? -delta : delta;
        for (x = v; x != w; x = s->parent[x]) s->flow[s->pred[x]] += s->up[x] ? delta : -delta;
        s->flow[e] += delta;
    }
    /* Re-hang the subtree cut off by the leaving arc from the endpoint of e
     * on its side: reverse the parent pointers from that endpoint to the
     * child end of the leaving arc. */
    size_t x0 = side_u ? u : v, cur = x0, newpar = side_u ? v : u, newpred = e;
    unsigned char newup = side_u ? 1 : 0;
    for (;;) {
        size_t oldpar = s->parent[cur], oldpred = s->pred[cur];
        unsigned char oldup = s->up[cur];
        unlink_child(s, cur);
        link_child(s, cur, newpar);
        s->pred[cur] = newpred;
        s->up[cur] = newup;
        if (cur == leave) break;
        newpar = cur;
        newpred = oldpred;
        newup = (unsigned char)!oldup;
        cur = oldpar;
    }
    ns_update_subtree(s, x0);
}

/* Block search: the arc of most negative reduced cost in the first block
 * (from *next, cyclically) that has one below -tol; NONE when optimal. */
static size_t ns_price(const ns_t *s, size_t *next, size_t block, double tol)
{
    size_t m = s->m, mb = s->mb, ma = s->ma;
    double best = -tol;
    size_t arg = NONE, cnt = 0;
    size_t e = *next;
    size_t i = e / mb, j = e % mb;
    for (size_t k = 0; k < m; k++) {
        double rc = s->c[e] + s->pot[i] - s->pot[ma + j];
        if (rc < best) {
            best = rc;
            arg = e;
        }
        e++;
        if (++j == mb) {
            j = 0;
            if (++i == ma) {
                i = 0;
                e = 0;
            }
        }
        if (++cnt == block) {
            if (arg != NONE) break;
            cnt = 0;
        }
    }
    *next = e;
    return arg;
}

int ot_emd_solve(const double *wa, size_t na, const double *wb, size_t nb, const double *cost,
                 double *plan, double *total)
{
    int rc = NDYN_OK;
    size_t *ri = ndyn_malloc_array(na, sizeof *ri), *ci = ndyn_malloc_array(nb, sizeof *ci);
    ns_t s;
    memset(&s, 0, sizeof s);
    double *cc = NULL;
    if (!ri || !ci) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < na; i++)
        if (wa[i] > 0) ri[s.ma++] = i;
    for (size_t j = 0; j < nb; j++)
        if (wb[j] > 0) ci[s.mb++] = j;
    s.m = s.ma * s.mb;
    s.n = s.ma + s.mb + 1;
    cc = ndyn_malloc_array(s.m, sizeof *cc);
    s.flow = ndyn_calloc(s.m + s.n, sizeof *s.flow);
    s.parent = ndyn_malloc_array(s.n, sizeof *s.parent);
    s.pred = ndyn_malloc_array(s.n, sizeof *s.pred);
    s.depth = ndyn_malloc_array(s.n, sizeof *s.depth);
    s.stamp = ndyn_calloc(s.n, sizeof *s.stamp);
    s.stack = ndyn_malloc_array(s.n, sizeof *s.stack);
    s.up = ndyn_malloc_array(s.n, 1);
    s.pot = ndyn_malloc_array(s.n, sizeof *s.pot);
    s.child = ndyn_malloc_array(s.n, sizeof *s.child);
    s.next_sib = ndyn_malloc_array(s.n, sizeof *s.next_sib);
    s.prev_sib = ndyn_malloc_array(s.n, sizeof *s.prev_sib);
    if (!s.child || !s.next_sib || !s.prev_sib || !cc || !s.flow || !s.parent || !s.pred || !s.depth || !s.stamp || !s.stack || !s.up ||
        !s.pot) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    /* Costs shifted to >= 0 (every plan moves the same mass, so a constant
     * shift leaves the optimum unchanged). */
    double cmin = INFINITY, cmax = -INFINITY;
    for (size_t i = 0; i < s.ma; i++)
        for (size_t j = 0; j < s.mb; j++) {
            double c = cost[ri[i] * nb + ci[j]];
            cmin = fmin(cmin, c);
            cmax = fmax(cmax, c);
        }
    for (size_t i = 0; i < s.ma; i++)
        for (size_t j = 0; j < s.mb; j++) cc[i * s.mb + j] = cost[ri[i] * nb + ci[j]] - cmin;
    s.c = cc;
    /* M above the cost of any simple path of real arcs (at most n arcs of
     * cost <= range), and a pricing tolerance relative to the cost range, so
     * the solver is invariant to the scale of the costs. */
    double range = cmax - cmin;
    if (!(range > 0)) range = 1.0; /* all costs equal: any plan is optimal */
    s.big = (double)(s.n + 1) * range;
    double tol = 1e-13 * s.big;

    size_t root = s.n - 1;
    s.parent[root] = NONE;
    s.pred[root] = NONE;
    s.up[root] = 0;
    for (size_t x = 0; x <= root; x++) s.child[x] = NONE;
    for (size_t x = 0; x < root; x++) {
        link_child(&s, x, root);
        s.pred[x] = s.m + x;
        if (x < s.ma) {
            s.up[x] = 1;
            s.flow[s.m + x] = wa[ri[x]];
        } else {
            s.up[x] = 0;
            s.flow[s.m + x] = wb[ci[x - s.ma]];
        }
    }
    ns_refresh(&s);

    size_t block = (size_t)ceil(sqrt((double)s.m));
    if (block < 10) block = 10;
    size_t next = 0, e;
    /* A safety net against an endless loop through rounding: far beyond the
     * pivots an exact solve needs. */
    size_t max_pivots = 50 * (s.m + s.n) + 1000, pivots = 0;
    while ((e = ns_price(&s, &next, block, tol)) != NONE) {
        if (++pivots > max_pivots) {
            rc = ndyn_error(NDYN_ECONVERGE, "network simplex: no optimum after %zu pivots on a %zu x %zu "
                            "problem; costs may span too many orders of magnitude", pivots, na, nb);
            goto done;
        }
        ns_pivot(&s, e);
    }
    double mass = 0, art = 0;
    for (size_t x = 0; x < s.ma; x++) mass += wa[ri[x]];
    for (size_t x = 0; x < root; x++) art += s.flow[s.m + x];
    if (art > 1e-9 * mass) {
        rc = ndyn_error(NDYN_EINTERNAL, "network simplex ended with mass %g on artificial arcs", art);
        goto done;
    }
    memset(plan, 0, na * nb * sizeof *plan);
    double t = 0;
    for (size_t i = 0; i < s.ma; i++)
        for (size_t j = 0; j < s.mb; j++) {
            double f = s.flow[i * s.mb + j];
            if (f != 0) {
                plan[ri[i] * nb + ci[j]] = f;
                t += f * cost[ri[i] * nb + ci[j]];
            }
        }
    if (total) *total = t;
done:
    free(ri);
    free(ci);
    free(cc);
    free(s.flow);
    free(s.parent);
    free(s.pred);
    free(s.depth);
    free(s.stamp);
    free(s.stack);
    free(s.up);
    free(s.pot);
    free(s.child);
    free(s.next_sib);
    free(s.prev_sib);
    return rc;
}

int ndyn_ot_emd(const double *a, size_t na, const double *b, size_t nb, const double *cost,
                double *plan, double *total)
{
    double *wa, *wb;
    int rc = ot_prepare_weights(a, na, b, nb, cost, &wa, &wb);
    if (rc) return rc;
    double *p = plan;
    if (!p) {
        p = ndyn_malloc_array(na * nb, sizeof *p);
        if (!p) {
            free(wa);
            free(wb);
            return NDYN_ENOMEM;
        }
    }
    rc = ot_emd_solve(wa, na, wb, nb, cost, p, total);
    if (p != plan) free(p);
    free(wa);
    free(wb);
    return rc;
}
