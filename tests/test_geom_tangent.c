/* Tangent spaces, manifold dimension, connections and the connection
 * Laplacian against geometric ground truth. */
#include "test.h"

#include "ndyn/geom.h"

static ndyn_geom_data *prep(const double *X, size_t n, size_t D, int k, int dim)
{
    double *V = calloc(n * D, sizeof *V);
    for (size_t i = 0; i < n; i++) V[i * D] = 1.0;
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = k;
    p.local_gauges = 1;
    p.dim = dim;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, &p, &g));
    free(V);
    return g;
}

static double *sphere(size_t n, uint64_t seed)
{
    double *X = malloc(n * 3 * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        double a = ndyn_rng_normal(&r), b = ndyn_rng_normal(&r), c = ndyn_rng_normal(&r), s = sqrt(a * a + b * b + c * c);
        X[i * 3] = a / s; X[i * 3 + 1] = b / s; X[i * 3 + 2] = c / s;
    }
    return X;
}

/* mean and max |<T_p, normal>| of a sphere sample */
static void sphere_err(ndyn_geom_data *g, double *mean, double *worst)
{
    double w = 0, sum = 0;
    for (size_t i = 0; i < g->n; i++)
        for (int p = 0; p < 2; p++) {
            double dot = 0, nrm = 0;
            for (int e = 0; e < 3; e++) {
                double t = g->frames[(i * 3 + e) * 2 + p];
                dot += t * g->pos[i * 3 + e];
                nrm += t * t;
            }
            CHECK_CLOSE(nrm, 1, 1e-12, 0);
            w = fmax(w, fabs(dot));
            sum += fabs(dot);
        }
    *mean = sum / (2.0 * (double)g->n);
    *worst = w;
}

TEST(sphere_tangents_orthogonal_to_normal)
{
    /* Hop-count neighbourhoods (the reference's rule) are not centred on the
     * point, so the tilt is O(r), r the neighbourhood radius: check a stated
     * tolerance and that the error shrinks as the sample densifies. */
    double mean1, worst1, mean2, worst2;
    double *X1 = sphere(1000, 7);
    ndyn_geom_data *g1 = prep(X1, 1000, 3, 15, 0);
    if (!g1) { free(X1); return; }
    CHECK(g1->m == 2);
    sphere_err(g1, &mean1, &worst1);
    ndyn_geom_data_free(g1);
    free(X1);
    size_t n = 4000;
    double *X = sphere(n, 1);
    ndyn_geom_data *g = prep(X, n, 3, 15, 0);
    if (!g) { free(X); return; }
    CHECK(g->m == 2 && g->d == 2);
    sphere_err(g, &mean2, &worst2);
    CHECKF(mean2 < 0.03 && worst2 < 0.15, "n = %zu: mean |<T, normal>| = %g, max %g", n, mean2, worst2);
    CHECKF(mean2 < 0.7 * mean1, "error does not shrink with density: %g (n = 1000) -> %g (n = 4000)", mean1, mean2);
    /* connections are orthogonal, R_ii = I, R_ji = R_ijᵀ */
    const ndyn_csr *R = &g->conn;
    size_t m = 2;
    double oerr = 0, terr = 0;
    for (size_t i = 0; i < n; i += 7) {
        for (int64_t p = R->rowptr[i * m]; p < R->rowptr[i * m + 1]; p += (int64_t)m) {
            size_t j = (size_t)R->col[p] / m;
            double Rb[4], Rt[4];
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++) {
                    Rb[a * m + b] = ndyn_csr_get(R, i * m + a, j * m + b);
                    Rt[a * m + b] = ndyn_csr_get(R, j * m + b, i * m + a);
                }
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++) {
                    double s = 0;
                    for (size_t c = 0; c < m; c++) s += Rb[a * m + c] * Rb[b * m + c];
                    oerr = fmax(oerr, fabs(s - (a == b)));
                    terr = fmax(terr, fabs(Rb[a * m + b] - Rt[a * m + b]));
                    if (i == j) CHECK(Rb[a * m + b] == (a == b));
                }
        }
    }
    CHECKF(oerr < 1e-12, "R Rᵀ - I = %g", oerr);
    CHECKF(terr < 1e-12, "R_ji - R_ijᵀ = %g", terr);
    ndyn_geom_data_free(g);
    free(X);
}

TEST(surface_in_r5_has_dim_2)
{
    size_t n = 1500;
    double *X = malloc(n * 5 * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    for (size_t i = 0; i < n; i++) {
        double u = ndyn_rng_uniform(&r), v = ndyn_rng_uniform(&r);
        X[i * 5] = u; X[i * 5 + 1] = v; X[i * 5 + 2] = 0.3 * sin(2 * u);
        X[i * 5 + 3] = 0.3 * cos(2 * v); X[i * 5 + 4] = 0.3 * u * v;
    }
    ndyn_geom_data *g = prep(X, n, 5, 15, 0);
    if (g) CHECKF(g->m == 2, "estimated dimension %d", g->m);
    ndyn_geom_data_free(g);
    /* a 3-D manifold in R^5 (a solid cube, flat) has dimension 3 */
    for (size_t i = 0; i < n; i++) {
        double u = ndyn_rng_uniform(&r), v = ndyn_rng_uniform(&r), w = ndyn_rng_uniform(&r);
        X[i * 5] = u; X[i * 5 + 1] = v; X[i * 5 + 2] = w; X[i * 5 + 3] = 0.2 * (u + v); X[i * 5 + 4] = 0.2 * (v - w);
    }
    g = prep(X, n, 5, 20, 0);
    if (g) CHECKF(g->m == 3, "estimated dimension %d", g->m);
    ndyn_geom_data_free(g);
    free(X);
}

TEST(flat_plane_connections_are_identity)
{
    /* a tilted plane in R^3: transport maps frame j onto frame i exactly,
     * T_i R_ij = T_j (identity in ambient coordinates), and with equal
     * frames R_ij = I */
    size_t n = 600;
    double *X = malloc(n * 3 * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, 4, 0);
    double e1[3] = {1 / sqrt(2.0), 1 / sqrt(2.0), 0}, e2[3] = {-0.5, 0.5, 1 / sqrt(2.0)};
    for (size_t i = 0; i < n; i++) {
        double u = ndyn_rng_uniform_range(&r, -1, 1), v = ndyn_rng_uniform_range(&r, -1, 1);
        for (int e = 0; e < 3; e++) X[i * 3 + e] = u * e1[e] + v * e2[e];
    }
    ndyn_geom_data *g = prep(X, n, 3, 10, 2);
    if (!g) { free(X); return; }
    size_t m = 2, D = 3;
    double err = 0;
    ndyn_csr Lrw;
    CHECK_OK(ndyn_geom_laplacian_rw(&g->graph, &Lrw));
    double lerr = 0;
    for (size_t i = 0; i < n; i++)
        for (int64_t p = g->conn.rowptr[i * m]; p < g->conn.rowptr[i * m + 1]; p += (int64_t)m) {
            size_t j = (size_t)g->conn.col[p] / m;
            const double *Ti = g->frames + i * D * m, *Tj = g->frames + j * D * m;
            for (size_t e = 0; e < D; e++)
                for (size_t b = 0; b < m; b++) {
                    double s = 0;
                    for (size_t a = 0; a < m; a++) s += Ti[e * m + a] * ndyn_csr_get(&g->conn, i * m + a, j * m + b);
                    err = fmax(err, fabs(s - Tj[e * m + b]));
                }
            /* connection Laplacian, random-walk form: block (i,j) = L_rw[i,j] R_ij */
            double sc = sqrt(g->deg[j] / g->deg[i]);
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++) {
                    double lc = sc * ndyn_csr_get(&g->lcsym, i * m + a, j * m + b);
                    double want = ndyn_csr_get(&Lrw, i, j) * ndyn_csr_get(&g->conn, i * m + a, j * m + b);
                    lerr = fmax(lerr, fabs(lc - want));
                }
        }
    CHECKF(err < 1e-12, "T_i R_ij - T_j = %g", err);
    CHECKF(lerr < 1e-12, "Lc block - L_rw[i,j] R_ij = %g", lerr);
    /* manifold-mode kernels: block (i,j) = K_c[i,j] R_ij, so K_block R_ijᵀ = s I,
     * and the diagonal block is -(sum of the row's scalars) I */
    double kerr = 0;
    for (int c = 0; c < 2; c++) {
        const ndyn_csr *K = &g->K[c];
        for (size_t i = 0; i < n; i += 5) {
            double ssum = 0;
            for (int64_t p = g->conn.rowptr[i * m]; p < g->conn.rowptr[i * m + 1]; p += (int64_t)m) {
                size_t j = (size_t)g->conn.col[p] / m;
                double P[4];
                for (size_t a = 0; a < m; a++)
                    for (size_t b = 0; b < m; b++) {
                        double t = 0;
                        for (size_t q = 0; q < m; q++)
                            t += ndyn_csr_get(K, i * m + a, j * m + q) * ndyn_csr_get(&g->conn, i * m + b, j * m + q);
                        P[a * m + b] = t;
                    }
                kerr = fmax(kerr, fabs(P[1]) + fabs(P[2]) + fabs(P[0] - P[3]));
                if (j != i) ssum += P[0]; /* the diagonal block is checked below */
            }
            CHECK_CLOSE(ndyn_csr_get(K, i * m, i * m) + ssum, 0, 1e-12, 0);
        }
    }
    CHECKF(kerr < 1e-12, "kernel blocks are not scalar multiples of R_ij: %g", kerr);
    ndyn_csr_free(&Lrw);
    ndyn_geom_data_free(g);
    free(X);
}

TEST(manifold_dim_rule)
{
    /* two nodes, singular values (3, 1, 0.1) and (1, 1, 1):
     * cumulative p: (0.9, 0.999, 1) and (1/3, 2/3, 1); mean - std */
    double s[6] = {3, 1, 0.1, 1, 1, 1};
    int m;
    CHECK_OK(ndyn_geom_manifold_dim(s, 2, 3, 0.5, &m));
    /* k = 0: c = (9/10.01, 1/3), mean 0.6162, std 0.4 -> 0.216 < 0.5;
     * k = 1: c = (10/10.01, 2/3): mean 0.833, std 0.2355 -> 0.598 >= 0.5 -> m = 2 */
    CHECK(m == 2);
    CHECK_OK(ndyn_geom_manifold_dim(s, 2, 3, 0.99, &m));
    CHECK(m == 3);
    CHECK_FAILS(ndyn_geom_manifold_dim(s, 2, 3, 1.5, &m), NDYN_EINVAL);
}

/* The frames' orientation is fixed by the geometry: rotating and reflecting
 * the points maps every frame by the same orthogonal Q, signs included
 * (without the rule an eigenvector's sign follows the coordinate axes). */
TEST(frames_are_rotation_equivariant)
{
    size_t n = 400;
    double *X = sphere(n, 11), *Y = malloc(n * 3 * sizeof *Y);
    /* Q: a rotation about (1, 2, 2)/3 by 1 radian, then a reflection x -> -x */
    double u[3] = {1.0 / 3, 2.0 / 3, 2.0 / 3}, c = cos(1.0), s = sin(1.0), Q[9];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double cr = 0;
            if (a != b) {
                int k = 3 - a - b;
                double sg = ((a + 1) % 3 == b) ? -1.0 : 1.0;
                cr = sg * u[k];
            }
            Q[a * 3 + b] = (a == 0 ? -1.0 : 1.0) * (c * (a == b) + s * cr + (1 - c) * u[a] * u[b]);
        }
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < 3; a++) {
            double v = 0;
            for (int b = 0; b < 3; b++) v += Q[a * 3 + b] * X[i * 3 + (size_t)b];
            Y[i * 3 + (size_t)a] = v;
        }
    ndyn_geom_data *g1 = prep(X, n, 3, 10, 2), *g2 = prep(Y, n, 3, 10, 2);
    if (g1 && g2) {
        double worst = 0;
        for (size_t i = 0; i < n; i++)
            for (int p = 0; p < 2; p++)
                for (int a = 0; a < 3; a++) {
                    double qt = 0;
                    for (int b = 0; b < 3; b++) qt += Q[a * 3 + b] * g1->frames[(i * 3 + (size_t)b) * 2 + (size_t)p];
                    worst = fmax(worst, fabs(qt - g2->frames[(i * 3 + (size_t)a) * 2 + (size_t)p]));
                }
        CHECKF(worst < 1e-9, "max |Q T - T'| = %.3g", worst);
    }
    ndyn_geom_data_free(g1);
    ndyn_geom_data_free(g2);
    free(X); free(Y);
}

RUN_TESTS(T(sphere_tangents_orthogonal_to_normal), T(surface_in_r5_has_dim_2),
          T(flat_plane_connections_are_identity), T(manifold_dim_rule),
          T(frames_are_rotation_equivariant))
