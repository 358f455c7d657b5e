/* ndyn geom: the geometric half of MARBLE (spec/marble.md §2-9, §16).
 *
 * From point clouds (positions n x D with a signal n x s per condition) to
 * the operators the network uses: exact nearest neighbours (KD-tree),
 * farthest-point sampling, proximity graphs (CkNN / kNN / radius),
 * connected components, tangent spaces by local PCA, connections
 * (orthogonal Procrustes), directional-derivative kernels, Laplacians and
 * heat diffusion of scalar and vector signals. Everything is O(n k) memory.
 *
 * Conventions: row-major; node i of the prepared dataset is a row; graphs are
 * stored WITHOUT self-loops (the diagonal terms the reference gets from its
 * self-loops are added explicitly: K_c[i,i], R_ii = I, the diagonal of L).
 * Manifold-mode operators are (n m) x (n m) CSR matrices of m x m blocks
 * (node-major: row i*m + p, ndyn_csr.block = m).
 */
#ifndef NDYN_GEOM_H
#define NDYN_GEOM_H

#include "ndyn/core.h"
#include "ndyn/io.h"
#include "ndyn/linalg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ KD-tree */

typedef struct ndyn_kdtree ndyn_kdtree;

/* Build over X (n, D); X is borrowed and must outlive the tree. */
int ndyn_kdtree_build(const double *X, size_t n, size_t D, ndyn_kdtree **out);
void ndyn_kdtree_free(ndyn_kdtree *t);
/* The k nearest points of query q (D): idx (k) and Euclidean dist (k),
 * ascending (ties by index). `exclude` (or -1) is an index to skip (the
 * query point itself). Exact. Fails if fewer than k candidates exist. */
int ndyn_kdtree_knn(const ndyn_kdtree *t, const double *q, size_t k, int64_t exclude,
                    int64_t *idx, double *dist);
/* kNN of every tree point (excluding itself): idx/dist (n, k). Parallel. */
int ndyn_kdtree_knn_all(const ndyn_kdtree *t, size_t k, int64_t *idx, double *dist);
/* Every point within distance r (<= r) of q: *idx / *dist malloc'ed (caller
 * frees), *cnt entries, unordered. */
int ndyn_kdtree_radius(const ndyn_kdtree *t, const double *q, double r,
                       int64_t **idx, double **dist, size_t *cnt);

/* ------------------------------------------------------------- parameters */

typedef enum { NDYN_GRAPH_CKNN = 0, NDYN_GRAPH_KNN = 1, NDYN_GRAPH_RADIUS = 2 } ndyn_graph_type;

typedef struct ndyn_geom_params {
    ndyn_graph_type graph;   /* default CKNN */
    int k;                   /* neighbours, default 20 */
    double delta;            /* CkNN delta, default 1.0 */
    double radius;           /* radius graph: absolute radius (> 0 required for RADIUS) */
    double spacing;          /* farthest-point sampling fraction of the diameter; 0 = off */
    int local_gauges;        /* 0 flat (identity gauges, d = D), 1 manifold (d = m) */
    double var_explained;    /* manifold-dimension rule, default 0.9 */
    double frac_geodesic_nb; /* tangent neighbourhood size K = k * frac, default 1.5 */
    int dim;                 /* force the manifold dimension (0 = var_explained rule) */
    int n_eigenvectors;      /* 0: no eigendecomposition (Chebyshev diffusion);
                                k > 0: k smallest eigenpairs; -1: full spectrum (n <= 5000) */
    uint64_t seed;           /* FPS start and eigensolver start vectors */
} ndyn_geom_params;

void ndyn_geom_params_default(ndyn_geom_params *p);
/* Validate before any work; message names the bad parameter. */
int ndyn_geom_params_check(const ndyn_geom_params *p);

/* ------------------------------------------------------------ input helpers */

/* From trial time series x (T, D) with trial boundaries: pos = x[:-1],
 * vel = diff(x) per trial, never across a boundary. trial_len (ntrials) sums
 * to T; trials of length < 2 contribute nothing. *pos, *vel malloc'ed
 * (nout, D) each. */
int ndyn_geom_pos_vel(const double *x, size_t T, size_t D, const size_t *trial_len,
                      size_t ntrials, double **pos, double **vel, size_t *nout);

/* ------------------------------------------------------------- the dataset */

/* Seconds per stage; `knn` is 0 (the kNN queries are part of `graph`). */
typedef struct ndyn_geom_timing {
    double sample, knn, graph, components, tangent, connections, kernels, laplacian, eigen;
} ndyn_geom_timing;

/* A prepared dataset: all conditions' nodes, sorted by condition, with
 * their operators. Node i has condition[i], pos row i, vel row i. */
typedef struct ndyn_geom_data {
    size_t n;            /* nodes (after sampling), all conditions */
    size_t D;            /* ambient dimension */
    size_t s;            /* signal dimension (world coordinates) */
    int C;               /* number of conditions */
    int32_t *condition;  /* (n) in 0..C-1, ascending */
    size_t *cond_start;  /* (C + 1): condition c is nodes cond_start[c] .. cond_start[c+1] */
    int64_t *index;      /* (n) row of the input arrays each node came from */
    double *pos;         /* (n, D) */
    double *vel;         /* (n, s) */
    double *label;       /* (n) or NULL */
    uint8_t *mask;       /* (n) or NULL */

    ndyn_geom_params params;
    /* Graph: symmetric, no self-loops, values w_ij = 1/||x_i - x_j||; block
     * diagonal over conditions (no edges between conditions). */
    ndyn_csr graph;
    size_t n_components; /* connected components over all conditions (>= C) */

    /* Gauges. m = D and frames == NULL in flat mode. */
    int m;               /* manifold dimension */
    int d;               /* number of kernels: D (flat) or m (manifold) */
    double *frames;      /* (n, D, m): T_i, column p = tangent direction p; NULL in flat mode */
    double *sigma;       /* (n, min(D, K+1)) local singular values; NULL in flat mode */
    ndyn_csr conn;       /* manifold: (n m x n m) block CSR, block (i,j) = R_ij incl. R_ii = I */

    /* Kernels K_c, c = 0..d-1: (n x n) in flat mode, (n m x n m) blocks
     * K_c[i,j] R_ij (diagonal K_c[i,i] I) in manifold mode. Row i:
     * (K_c f)_i = sum_j F~_c[i,j] (f_j - f_i) (spec §7), diagonal stored.
     * All K_c share one pattern (rowptr, col): the graph plus the diagonal,
     * columns sorted; only val differs. */
    ndyn_csr *K;         /* (d) */

    /* Laplacians, symmetric forms (diagonal stored): L_sym = I - D^-1/2 W D^-1/2,
     * and in manifold mode L_c,sym = I - (D^-1/2 x I) W_R (D^-1/2 x I). */
    double *deg;         /* (n) d_i = sum_j w_ij */
    double *dhalf;       /* (n) d_i^{1/2} */
    double *dmhalf;      /* (n) d_i^{-1/2} */
    ndyn_csr lsym;       /* (n x n) */
    ndyn_csr lcsym;      /* (n m x n m), manifold mode only */

    /* Spectra (params.n_eigenvectors != 0): smallest eigenpairs of the
     * symmetric forms, orthonormal, computed per connected block jointly. */
    size_t neig;  double *evals;  double *evecs;   /* (neig), (n, neig) */
    size_t neigc; double *evalsc; double *evecsc;  /* (neigc), (n m, neigc) */

    ndyn_geom_timing timing;  /* seconds per stage of ndyn_geom_prepare */
} ndyn_geom_data;

/* One condition of the input. pos (n, D), vel (n, s) are borrowed. */
typedef struct ndyn_geom_condition {
    const double *pos;
    const double *vel;
    size_t n;
    const double *label;    /* (n) or NULL */
    const uint8_t *mask;    /* (n) or NULL */
    const int64_t *index;   /* (n) original row numbers, or NULL (0..n-1 + offset) */
} ndyn_geom_condition;

/* Build the dataset: per condition, sample (spacing), build its graph and
 * check it; then tangent spaces, connections, kernels, Laplacians and (if
 * asked) spectra over all nodes jointly. All conditions share D and s.
 * Failures: fewer points than k+1, NaN/Inf, duplicate points (zero-length
 * edges), a node without neighbours, a graph with more components than
 * conditions (message names the count and what to change), D != s with
 * local gauges. *out is allocated; free with ndyn_geom_data_free. */
int ndyn_geom_prepare(const ndyn_geom_condition *conds, int C, size_t D, size_t s,
                      const ndyn_geom_params *p, ndyn_geom_data **out);
/* Convenience over a single set of arrays with an optional condition vector
 * (n) in 0..C-1 (NULL: one condition). */
int ndyn_geom_prepare_arrays(const double *pos, const double *vel, size_t n, size_t D,
                             size_t s, const int32_t *condition, const double *label,
                             const uint8_t *mask, const ndyn_geom_params *p,
                             ndyn_geom_data **out);
void ndyn_geom_data_free(ndyn_geom_data *g);

/* Save to / load from .npz: pos, vel, condition, index, label, mask and the
 * operators under graph/ and op/ (see docs/geom.md). */
int ndyn_geom_save(const char *path, const ndyn_geom_data *g);
int ndyn_geom_load(const char *path, ndyn_geom_data **out);

/* ----------------------------------------------------------------- stages */

/* Farthest-point sampling (spec §3): greedy from `start`; stops at the first
 * pick whose distance to the selected set is < spacing * diameter (that pick
 * excluded). Diameter estimate: the exact maximum over a double sweep is a
 * lower bound; ndyn uses max_i ||x_i - x_far|| from the point farthest from
 * x_start (within a factor 2 of the true diameter; documented in docs/geom.md).
 * *sel malloc'ed sorted indices, *nsel of them. O(n D) per pick, O(n) memory. */
int ndyn_geom_fps(const double *X, size_t n, size_t D, double spacing, size_t start,
                  size_t **sel, size_t *nsel, double *diameter);

/* CkNN graph (spec §4): edge i != j iff ||x_i - x_j|| < delta sqrt(rho_i rho_j),
 * rho_i the distance to the k-th nearest other point. Symmetric CSR with
 * values 1/dist. Exact. */
int ndyn_geom_cknn(const double *X, size_t n, size_t D, int k, double delta, ndyn_csr *G);
/* kNN graph: i ~ j if j is among i's k nearest others or vice versa. */
int ndyn_geom_knn_graph(const double *X, size_t n, size_t D, int k, ndyn_csr *G);
/* Radius graph: i ~ j iff 0 < ||x_i - x_j|| <= r. */
int ndyn_geom_radius_graph(const double *X, size_t n, size_t D, double r, ndyn_csr *G);

/* Connected components of a symmetric graph: comp (n) labels 0..ncomp-1
 * in order of first node. */
int ndyn_geom_components(const ndyn_csr *G, int32_t *comp, size_t *ncomp);

/* Hop-count tangent neighbourhoods and local PCA (spec §6): for each node,
 * itself plus its K nearest nodes in hop count (BFS, ties by order of
 * discovery), centred, SVD. frames (n, D, D) all directions; sigma
 * (n, min(D, K+1)) singular values. */
int ndyn_geom_tangents(const double *X, size_t n, size_t D, const ndyn_csr *G, int K,
                       double *frames, double *sigma);
/* Manifold dimension from singular values (n, r) with the var_explained rule. */
int ndyn_geom_manifold_dim(const double *sigma, size_t n, size_t r, double var_explained,
                           int *m);

/* Connections: for each edge of G plus the diagonal, R_ij = U Vᵀ from the SVD
 * of T_iᵀ T_j; frames (n, D, m). Output: (n m x n m) block CSR. */
int ndyn_geom_connections(const double *frames, size_t n, size_t D, int m,
                          const ndyn_csr *G, ndyn_csr *R);

/* Gradient kernels (spec §7). frames (n, D, m) or NULL for flat mode (m = D,
 * gauges = axes, R ignored). With frames, R is required and the kernels are
 * the (n m x n m) block forms. K is an array of d CSR outputs. */
int ndyn_geom_gradient_kernels(const double *X, size_t n, size_t D, const ndyn_csr *G,
                               const double *frames, int m, const ndyn_csr *R, ndyn_csr *K);

/* Degrees and L_sym (diagonal stored) from a weighted symmetric graph. */
int ndyn_geom_laplacian_sym(const ndyn_csr *G, double *deg, ndyn_csr *Lsym);
/* Random-walk Laplacian L_rw = I - D^-1 W as CSR (tests and compatibility). */
int ndyn_geom_laplacian_rw(const ndyn_csr *G, ndyn_csr *Lrw);
/* Connection Laplacian, symmetric form, from G, deg and R. */
int ndyn_geom_connection_laplacian_sym(const ndyn_csr *G, const double *deg,
                                       const ndyn_csr *R, int m, ndyn_csr *Lcsym);

/* --------------------------------------------------------------- diffusion */

/* Scalar heat diffusion H_t = exp(-t L_rw) of a signal.
 * A cache built once per fixed signal f (n, c): f^ = Ψᵀ D^{1/2} f when the
 * dataset holds eigenpairs, otherwise a copy of D^{1/2} f for the Chebyshev
 * path. Then for any t evaluate selected rows of H_t f and d/dt H_t f. */
typedef struct ndyn_geom_heat ndyn_geom_heat;

int ndyn_geom_heat_new(const ndyn_geom_data *g, const double *f, size_t c,
                       ndyn_geom_heat **out);
void ndyn_geom_heat_free(ndyn_geom_heat *h);
/* Hf (nsel, c) = (H_t f)[rows], dHf (nsel, c) = (d/dt H_t f)[rows] (dHf may
 * be NULL). rows == NULL means all n rows in order. Spectral: O(nsel k c).
 * Chebyshev: a row subset builds (once) and reads linalg's cached basis
 * V_k = T_k(L_sym - I) D^{1/2} f, O(nsel K c) per call with K ~ 8 sqrt(t) + 20
 * terms, extended when t grows; all rows use the basis when it exists, else
 * one full expansion (the last full result is cached by t). When t needs
 * more terms than the memory bound allows, every distinct t falls back to a
 * full expansion (one warning). */
int ndyn_geom_heat_apply(ndyn_geom_heat *h, double t, const size_t *rows, size_t nsel,
                         double *Hf, double *dHf);
/* Chebyshev path only: the cached basis with at least `want` terms (built or
 * extended now): term k of point i is V[i * row_stride + k * c .. + c), the
 * s-vector T_k(L_sym - I) D^{1/2} f at i, so (H_t f)_i = D^{-1/2}_i sum_k
 * c_k(t) V_ik with ndyn_cheb_heat_coefficients. Fails past the memory bound. */
int ndyn_geom_heat_basis(ndyn_geom_heat *h, size_t want, const double **V, size_t *row_stride);
/* Memory bound of the cached Chebyshev basis (default
 * NDYN_GEOM_HEAT_BASIS_BYTES; 0: never build it). Drops a basis already built. */
#define NDYN_GEOM_HEAT_BASIS_BYTES ((size_t)1 << 30)
void ndyn_geom_heat_set_basis_bytes(ndyn_geom_heat *h, size_t max_bytes);

/* Vector diffusion (spec §9, local gauges): u_i = T_iᵀ f_i; u <- exp(-t Lc) u;
 * u_i <- u_i (H_t|f|)_i / ((H_t 1)_i ||u_i||); out_i = T_i u_i. f, out, dout
 * are (n, D) in world coordinates; dout = d out / dt (may be NULL). A node
 * with u_i = 0 gets out_i = 0. Uses spectra if present, else Chebyshev. */
int ndyn_geom_vector_diffusion(const ndyn_geom_data *g, double t, const double *f,
                               double *out, double *dout);
/* Cached vector diffusion of one fixed signal f (n, D) (spec §9 vector
 * path): u = Tᵀf, |f| and 1 are fixed, so the connection heat comes from
 * Ψcᵀ (D^{1/2} x I) u (eigenpairs) or a Chebyshev basis of (D^{1/2} x I) u on
 * L_c,sym (built at the first row-subset request, same memory bound and
 * fallback as ndyn_geom_heat), the scalar heats of |f| and 1 from a geom heat
 * cache. Equals ndyn_geom_vector_diffusion row by row, derivative included.
 * Per call O(nsel K m) (Chebyshev) or O(nsel m k) (spectral). f is copied. */
typedef struct ndyn_geom_vheat ndyn_geom_vheat;
int ndyn_geom_vheat_new(const ndyn_geom_data *g, const double *f, ndyn_geom_vheat **out);
void ndyn_geom_vheat_free(ndyn_geom_vheat *v);
/* out, dout (nsel, D) world coordinates (dout may be NULL); rows == NULL: all
 * n rows in order. */
int ndyn_geom_vheat_apply(ndyn_geom_vheat *v, double t, const size_t *rows, size_t nsel,
                          double *out, double *dout);
/* The same in frame coordinates: out, dout (nsel, m) with out_i = T_iᵀ (world out_i). */
int ndyn_geom_vheat_apply_frames(ndyn_geom_vheat *v, double t, const size_t *rows, size_t nsel,
                                 double *out, double *dout);
/* Memory bound of both cached bases (connection and scalar); 0: never build
 * them (full expansion per distinct t). */
void ndyn_geom_vheat_set_basis_bytes(ndyn_geom_vheat *v, size_t max_bytes);
/* Scalar diffusion of all rows, convenience: out = H_t f, f (n, c). */
int ndyn_geom_scalar_diffusion(const ndyn_geom_data *g, double t, const double *f, size_t c,
                               double *out, double *dout);

#ifdef __cplusplus
}
#endif
#endif
