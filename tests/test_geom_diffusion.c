/* Heat diffusion on prepared datasets against dense matrix exponentials
 * (LAPACK), for the spectral and the Chebyshev paths, scalar and vector. */
#include "test.h"

#include "ndyn/geom.h"

static double *cloud2(size_t n, uint64_t seed)
{
    double *X = malloc(n * 2 * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < 2 * n; i++) X[i] = ndyn_rng_uniform_range(&r, -1, 1);
    return X;
}

/* Dense L_rw = I - D^-1 W with W_ij = 1/||x_i - x_j|| on the graph's edges. */
static double *dense_lrw(const ndyn_geom_data *g)
{
    size_t n = g->n, D = g->D;
    double *L = calloc(n * n, sizeof *L);
    for (size_t i = 0; i < n; i++) {
        double deg = 0;
        for (int64_t p = g->graph.rowptr[i]; p < g->graph.rowptr[i + 1]; p++) {
            size_t j = (size_t)g->graph.col[p];
            double d = 0;
            for (size_t e = 0; e < D; e++) d += (g->pos[i * D + e] - g->pos[j * D + e]) * (g->pos[i * D + e] - g->pos[j * D + e]);
            L[i * n + j] = 1.0 / sqrt(d);
            deg += L[i * n + j];
        }
        for (size_t j = 0; j < n; j++) L[i * n + j] = (i == j) - L[i * n + j] / deg;
    }
    return L;
}

static double *expm_t(const double *L, size_t n, double t)
{
    double *A = malloc(n * n * sizeof *A), *E = malloc(n * n * sizeof *E);
    for (size_t i = 0; i < n * n; i++) A[i] = -t * L[i];
    CHECK_OK(ndyn_expm(n, A, E));
    free(A);
    return E;
}

static ndyn_geom_data *prep2(const double *X, size_t n, int neig)
{
    double *V = malloc(n * 2 * sizeof *V);
    for (size_t i = 0; i < n; i++) { V[2 * i] = -X[2 * i + 1]; V[2 * i + 1] = X[2 * i]; }
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = 10;
    p.n_eigenvectors = neig;
    ndyn_geom_data *g = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(X, V, n, 2, 2, NULL, NULL, NULL, &p, &g));
    free(V);
    return g;
}

TEST(scalar_diffusion_equals_expm)
{
    size_t n = 250, c = 2;
    double *X = cloud2(n, 1);
    ndyn_geom_data *gs = prep2(X, n, -1), *gc = prep2(X, n, 0);
    if (!gs || !gc) { ndyn_geom_data_free(gs); ndyn_geom_data_free(gc); free(X); return; }
    CHECK(gs->neig == n && gc->neig == 0);
    /* L_sym symmetric, Ψ orthonormal */
    double asym = 0;
    for (size_t i = 0; i < n; i++)
        for (int64_t p = gs->lsym.rowptr[i]; p < gs->lsym.rowptr[i + 1]; p++)
            asym = fmax(asym, fabs(gs->lsym.val[p] - ndyn_csr_get(&gs->lsym, (size_t)gs->lsym.col[p], i)));
    CHECK(asym < 1e-12);
    double oerr = 0;
    for (size_t a = 0; a < n; a += 13)
        for (size_t b = 0; b < n; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += gs->evecs[i * n + a] * gs->evecs[i * n + b];
            oerr = fmax(oerr, fabs(s - (a == b)));
        }
    CHECK(oerr < 1e-10);
    double *L = dense_lrw(gs);
    double *f = malloc(n * c * sizeof *f), *one = malloc(n * sizeof *one);
    for (size_t i = 0; i < n; i++) { f[i * c] = X[2 * i] * X[2 * i]; f[i * c + 1] = sin(3 * X[2 * i + 1]); one[i] = 1; }
    double *Hs = malloc(n * c * sizeof *Hs), *Hc = malloc(n * c * sizeof *Hc), *dHs = malloc(n * c * sizeof *dHs),
           *dHc = malloc(n * c * sizeof *dHc), *Hp = malloc(n * c * sizeof *Hp), *Hm = malloc(n * c * sizeof *Hm),
           *H1 = malloc(n * sizeof *H1);
    const double ts[4] = {1e-9, 0.05, 1.0, 8.0};
    for (int q = 0; q < 4; q++) {
        double t = ts[q];
        double *E = expm_t(L, n, t);
        CHECK_OK(ndyn_geom_scalar_diffusion(gs, t, f, c, Hs, dHs));
        CHECK_OK(ndyn_geom_scalar_diffusion(gc, t, f, c, Hc, dHc));
        double es = 0, ec = 0, e0 = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t r = 0; r < c; r++) {
                double s = 0;
                for (size_t j = 0; j < n; j++) s += E[i * n + j] * f[j * c + r];
                es = fmax(es, fabs(Hs[i * c + r] - s));
                ec = fmax(ec, fabs(Hc[i * c + r] - s));
                e0 = fmax(e0, fabs(Hs[i * c + r] - f[i * c + r]));
            }
        CHECKF(es < 1e-8, "spectral vs expm at t = %g: %g", t, es);
        CHECKF(ec < 1e-8, "Chebyshev vs expm at t = %g: %g", t, ec);
        if (t < 1e-6) CHECKF(e0 < 1e-7, "H_t f -> f as t -> 0: %g", e0);
        /* H_t 1 = 1 */
        CHECK_OK(ndyn_geom_scalar_diffusion(gs, t, one, 1, H1, NULL));
        for (size_t i = 0; i < n; i++) CHECK_CLOSE(H1[i], 1, 1e-10, 0);
        CHECK_OK(ndyn_geom_scalar_diffusion(gc, t, one, 1, H1, NULL));
        for (size_t i = 0; i < n; i++) CHECK_CLOSE(H1[i], 1, 1e-10, 0);
        /* d/dt vs central differences, both paths */
        if (t > 1e-6) {
            double h = 1e-4 * t;
            for (int path = 0; path < 2; path++) {
                ndyn_geom_data *g = path ? gc : gs;
                double *dH = path ? dHc : dHs;
                CHECK_OK(ndyn_geom_scalar_diffusion(g, t + h, f, c, Hp, NULL));
                CHECK_OK(ndyn_geom_scalar_diffusion(g, t - h, f, c, Hm, NULL));
                double err = 0, scale = 0;
                for (size_t i = 0; i < n * c; i++) {
                    double fd = (Hp[i] - Hm[i]) / (2 * h);
                    err = fmax(err, fabs(fd - dH[i]));
                    scale = fmax(scale, fabs(fd));
                }
                CHECKF(err <= 1e-6 * scale, "%s d/dt at t = %g: error %g, scale %g", path ? "Chebyshev" : "spectral", t, err, scale);
            }
        }
        free(E);
    }
    /* cached f^, selected rows = full recomputation */
    ndyn_geom_heat *h;
    CHECK_OK(ndyn_geom_heat_new(gs, f, c, &h));
    size_t rows[4] = {17, 3, 249, 17};
    double Hr[8], dHr[8];
    CHECK_OK(ndyn_geom_heat_apply(h, 0.3, rows, 4, Hr, dHr));
    CHECK_OK(ndyn_geom_scalar_diffusion(gs, 0.3, f, c, Hs, dHs));
    for (size_t q = 0; q < 4; q++)
        for (size_t r = 0; r < c; r++) {
            CHECK_CLOSE(Hr[q * c + r], Hs[rows[q] * c + r], 1e-12, 0);
            CHECK_CLOSE(dHr[q * c + r], dHs[rows[q] * c + r], 1e-12, 0);
        }
    CHECK_FAILS(ndyn_geom_heat_apply(h, -1, rows, 4, Hr, dHr), NDYN_EINVAL);
    size_t badrow = 250;
    CHECK_FAILS(ndyn_geom_heat_apply(h, 1, &badrow, 1, Hr, dHr), NDYN_EINVAL);
    ndyn_geom_heat_free(h);
    free(L); free(f); free(one); free(Hs); free(Hc); free(dHs); free(dHc); free(Hp); free(Hm); free(H1);
    ndyn_geom_data_free(gs); ndyn_geom_data_free(gc);
    free(X);
}

/* Without eigenpairs, row subsets come from the cached Chebyshev basis: at
 * changing t they equal the dense expm (n = 250) and the full expansion; the
 * memory-bound fallback (a full expansion per t) gives the same rows. */
static void warn_count(const char *msg, void *user) { (void)msg; (*(int *)user)++; }

TEST(chebyshev_rows_from_cached_basis)
{
    size_t n = 250, c = 2;
    double *X = cloud2(n, 2);
    ndyn_geom_data *gc = prep2(X, n, 0);
    if (!gc) { free(X); return; }
    double *L = dense_lrw(gc);
    double *f = malloc(n * c * sizeof *f);
    for (size_t i = 0; i < n; i++) { f[i * c] = cos(2 * X[2 * i]); f[i * c + 1] = X[2 * i] * X[2 * i + 1]; }
    ndyn_geom_heat *h = NULL, *hf = NULL;
    CHECK_OK(ndyn_geom_heat_new(gc, f, c, &h));
    CHECK_OK(ndyn_geom_heat_new(gc, f, c, &hf));
    ndyn_geom_heat_set_basis_bytes(hf, 0);   /* always the full expansion */
    size_t rows[5] = {249, 0, 101, 101, 37};
    double Hr[10], dHr[10], Hq[10], dHq[10], Hp[10], Hm[10];
    double *Hall = malloc(n * c * sizeof *Hall), *dHall = malloc(n * c * sizeof *dHall);
    const double ts[5] = {0.02, 3.0, 0.7, 12.0, 0.7};
    for (int k = 0; k < 5; k++) {
        double t = ts[k];
        double *E = expm_t(L, n, t);
        CHECK_OK(ndyn_geom_heat_apply(h, t, rows, 5, Hr, dHr));
        CHECK_OK(ndyn_geom_heat_apply(hf, t, rows, 5, Hq, dHq));
        CHECK_OK(ndyn_geom_heat_apply(h, t, NULL, n, Hall, dHall));  /* basis exists: all rows from it */
        double ed = 0, ef = 0, efd = 0, ea = 0;
        for (size_t q = 0; q < 5; q++)
            for (size_t r = 0; r < c; r++) {
                double s = 0;
                for (size_t j = 0; j < n; j++) s += E[rows[q] * n + j] * f[j * c + r];
                ed = fmax(ed, fabs(Hr[q * c + r] - s));
                ef = fmax(ef, fabs(Hr[q * c + r] - Hq[q * c + r]));
                efd = fmax(efd, fabs(dHr[q * c + r] - dHq[q * c + r]));
                ea = fmax(ea, fabs(Hall[rows[q] * c + r] - Hr[q * c + r]));
            }
        CHECKF(ed < 1e-10, "cached-basis rows vs dense expm at t = %g: %.3g", t, ed);
        CHECKF(ef < 1e-12 && efd < 1e-12, "cached basis vs full expansion at t = %g: %.3g, d/dt %.3g", t, ef, efd);
        CHECKF(ea < 1e-13, "all rows vs row subset at t = %g: %.3g", t, ea);
        double hh = 1e-4 * t, err = 0, scale = 0;
        CHECK_OK(ndyn_geom_heat_apply(h, t + hh, rows, 5, Hp, NULL));
        CHECK_OK(ndyn_geom_heat_apply(h, t - hh, rows, 5, Hm, NULL));
        for (size_t q = 0; q < 5 * c; q++) {
            double fd = (Hp[q] - Hm[q]) / (2 * hh);
            err = fmax(err, fabs(fd - dHr[q]));
            scale = fmax(scale, fabs(fd));
        }
        CHECKF(err <= 1e-6 * scale, "d/dt at t = %g: error %.3g, scale %.3g", t, err, scale);
        free(E);
    }
    /* a bound too small for t: one warning, the full expansion, same rows */
    int warned = 0;
    ndyn_set_warn_handler(warn_count, &warned);
    ndyn_geom_heat_set_basis_bytes(h, 10 * n * c * sizeof(double));
    CHECK_OK(ndyn_geom_heat_apply(h, 12.0, rows, 5, Hr, dHr));
    CHECK_OK(ndyn_geom_heat_apply(h, 12.5, rows, 5, Hp, NULL));
    CHECK_OK(ndyn_geom_heat_apply(hf, 12.0, rows, 5, Hq, dHq));
    ndyn_set_warn_handler(NULL, NULL);
    CHECK(warned == 1);
    for (size_t q = 0; q < 5 * c; q++) {
        CHECK_CLOSE(Hr[q], Hq[q], 1e-14, 0);
        CHECK_CLOSE(dHr[q], dHq[q], 1e-14, 0);
    }
    ndyn_geom_heat_free(h); ndyn_geom_heat_free(hf);
    free(L); free(f); free(Hall); free(dHall);
    ndyn_geom_data_free(gc);
    free(X);
}

/* Vector diffusion (spec §9) against the dense formula with expm(-t Lc),
 * Lc built here from L_rw and the connections: block (i,j) = L_rw[i,j] R_ij. */
TEST(vector_diffusion_equals_dense)
{
    size_t n = 150, D = 3;
    double *X = malloc(n * D * sizeof *X), *F = malloc(n * D * sizeof *F);
    ndyn_rng r;
    ndyn_rng_init(&r, 3, 0);
    for (size_t i = 0; i < n; i++) {
        double a = ndyn_rng_normal(&r), b = ndyn_rng_normal(&r), c = ndyn_rng_normal(&r), s = sqrt(a * a + b * b + c * c);
        X[i * 3] = a / s; X[i * 3 + 1] = b / s; X[i * 3 + 2] = c / s;
        /* rotation field about z, plus some noise */
        F[i * 3] = -X[i * 3 + 1] + 0.1 * ndyn_rng_normal(&r);
        F[i * 3 + 1] = X[i * 3] + 0.1 * ndyn_rng_normal(&r);
        F[i * 3 + 2] = 0.1 * ndyn_rng_normal(&r);
    }
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = 12; p.local_gauges = 1; p.dim = 2;
    p.n_eigenvectors = -1;
    ndyn_geom_data *gs = NULL, *gc = NULL;
    CHECK_OK(ndyn_geom_prepare_arrays(X, F, n, D, D, NULL, NULL, NULL, &p, &gs));
    p.n_eigenvectors = 0;
    CHECK_OK(ndyn_geom_prepare_arrays(X, F, n, D, D, NULL, NULL, NULL, &p, &gc));
    if (!gs || !gc) { ndyn_geom_data_free(gs); ndyn_geom_data_free(gc); free(X); free(F); return; }
    size_t m = 2, nm = n * m;
    double *L = dense_lrw(gs), *Lc = calloc(nm * nm, sizeof *Lc);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (L[i * n + j] == 0) continue;
            for (size_t a = 0; a < m; a++)
                for (size_t b = 0; b < m; b++)
                    Lc[(i * m + a) * nm + j * m + b] = L[i * n + j] * (i == j ? (double)(a == b) : ndyn_csr_get(&gs->conn, i * m + a, j * m + b));
        }
    double *out = malloc(n * D * sizeof *out), *dout = malloc(n * D * sizeof *dout), *outc = malloc(n * D * sizeof *outc),
           *doutc = malloc(n * D * sizeof *doutc), *op = malloc(n * D * sizeof *op), *om = malloc(n * D * sizeof *om);
    const double ts[3] = {0.01, 0.5, 3.0};
    for (int q = 0; q < 3; q++) {
        double t = ts[q];
        double *E = expm_t(L, n, t), *Ec = expm_t(Lc, nm, t);
        CHECK_OK(ndyn_geom_vector_diffusion(gs, t, F, out, dout));
        CHECK_OK(ndyn_geom_vector_diffusion(gc, t, F, outc, doutc));
        double err = 0, errc = 0;
        for (size_t i = 0; i < n; i++) {
            const double *Ti = gs->frames + i * D * m;
            double u[2] = {0, 0}, a = 0, b = 0;
            for (size_t j = 0; j < n; j++) {
                double nf = sqrt(F[j * 3] * F[j * 3] + F[j * 3 + 1] * F[j * 3 + 1] + F[j * 3 + 2] * F[j * 3 + 2]);
                a += E[i * n + j] * nf;
                b += E[i * n + j];
                const double *Tj = gs->frames + j * D * m;
                for (size_t bb = 0; bb < m; bb++) {
                    double uj = 0;
                    for (size_t e = 0; e < D; e++) uj += Tj[e * m + bb] * F[j * 3 + e];
                    for (size_t aa = 0; aa < m; aa++) u[aa] += Ec[(i * m + aa) * nm + j * m + bb] * uj;
                }
            }
            double nu = sqrt(u[0] * u[0] + u[1] * u[1]);
            for (size_t e = 0; e < D; e++) {
                double want = (Ti[e * m] * u[0] + Ti[e * m + 1] * u[1]) * a / (b * nu);
                err = fmax(err, fabs(out[i * D + e] - want));
                errc = fmax(errc, fabs(outc[i * D + e] - want));
            }
        }
        CHECKF(err < 1e-8, "spectral vector diffusion vs dense at t = %g: %g", t, err);
        CHECKF(errc < 1e-8, "Chebyshev vector diffusion vs dense at t = %g: %g", t, errc);
        double h = 1e-4 * t, derr = 0, dscale = 0, dcmp = 0;
        CHECK_OK(ndyn_geom_vector_diffusion(gs, t + h, F, op, NULL));
        CHECK_OK(ndyn_geom_vector_diffusion(gs, t - h, F, om, NULL));
        for (size_t i = 0; i < n * D; i++) {
            double fd = (op[i] - om[i]) / (2 * h);
            derr = fmax(derr, fabs(fd - dout[i]));
            dscale = fmax(dscale, fabs(fd));
            dcmp = fmax(dcmp, fabs(dout[i] - doutc[i]));
        }
        CHECKF(derr <= 1e-6 * dscale, "vector d/dt at t = %g: %g (scale %g)", t, derr, dscale);
        CHECKF(dcmp <= 1e-8 * dscale, "vector d/dt spectral vs Chebyshev at t = %g: %g", t, dcmp);
        free(E); free(Ec);
    }
    /* a flat-mode dataset has no vector diffusion */
    double *X2 = cloud2(100, 5);
    ndyn_geom_data *gf = prep2(X2, 100, 0);
    if (gf) CHECK_FAILS(ndyn_geom_vector_diffusion(gf, 1, X2, out, NULL), NDYN_EINVAL);
    ndyn_geom_data_free(gf);
    free(X2);
    free(L); free(Lc); free(out); free(dout); free(outc); free(doutc); free(op); free(om);
    ndyn_geom_data_free(gs); ndyn_geom_data_free(gc);
    free(X); free(F);
}

/* Sphere points with a noisy rotation field (local gauges, m = 2). */
static void sphere_field(size_t n, double *X, double *F)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    for (size_t i = 0; i < n; i++) {
        double a = ndyn_rng_normal(&r), b = ndyn_rng_normal(&r), c = ndyn_rng_normal(&r), s = sqrt(a * a + b * b + c * c);
        X[i * 3] = a / s; X[i * 3 + 1] = b / s; X[i * 3 + 2] = c / s;
        F[i * 3] = -X[i * 3 + 1] + 0.2 * ndyn_rng_normal(&r);
        F[i * 3 + 1] = X[i * 3] + 0.2 * ndyn_rng_normal(&r);
        F[i * 3 + 2] = 0.2 * ndyn_rng_normal(&r);
    }
}

static int count_warn;
static void on_warn(const char *msg, void *user) { (void)msg; (void)user; count_warn++; }

/* The cached vector diffusion on row subsets against the full-graph
 * ndyn_geom_vector_diffusion (both paths), t growing and shrinking, world
 * and frame coordinates, and its d/dt against central differences. */
TEST(vector_diffusion_cached_rows)
{
    size_t n = 160, D = 3, m = 2;
    double *X = malloc(n * D * sizeof *X), *F = malloc(n * D * sizeof *F);
    sphere_field(n, X, F);
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    p.k = 12; p.local_gauges = 1; p.dim = 2;
    double ts[] = {0.3, 2.5, 0.05, 9.0, 1.0, 9.0};
    size_t nts = sizeof ts / sizeof ts[0];
    size_t rows[40], nsel = 40;
    ndyn_rng r;
    ndyn_rng_init(&r, 5, 0);
    for (size_t q = 0; q < nsel; q++) rows[q] = (size_t)(ndyn_rng_uniform(&r) * (double)n) % n;
    rows[1] = rows[0];  /* a repeated row */
    double *full = malloc(n * D * sizeof *full), *dfull = malloc(n * D * sizeof *dfull);
    double *o = malloc(n * D * sizeof *o), *d = malloc(n * D * sizeof *d);
    double *op = malloc(n * D * sizeof *op), *om = malloc(n * D * sizeof *om);
    for (int spectral = 0; spectral < 2; spectral++) {
        /* the Chebyshev path three ways: basis (default), small bound (falls
         * back to full expansions past it, with a warning), no basis */
        for (int bound = 0; bound < (spectral ? 1 : 3); bound++) {
            p.n_eigenvectors = spectral ? -1 : 0;
            ndyn_geom_data *g = NULL;
            CHECK_OK(ndyn_geom_prepare_arrays(X, F, n, D, D, NULL, NULL, NULL, &p, &g));
            if (!g) continue;
            CHECK(spectral ? g->neigc > 0 : g->neigc == 0);
            ndyn_geom_vheat *v = NULL;
            CHECK_OK(ndyn_geom_vheat_new(g, F, &v));
            if (!v) { ndyn_geom_data_free(g); continue; }
            /* 20 terms: t <= 2.5 from the basis (K + 1 <= 18), t = 9 past the bound (28) */
            if (bound == 1) ndyn_geom_vheat_set_basis_bytes(v, 20 * n * m * sizeof(double));
            if (bound == 2) ndyn_geom_vheat_set_basis_bytes(v, 0);
            count_warn = 0;
            ndyn_set_warn_handler(on_warn, NULL);
            for (size_t k = 0; k < nts; k++) {
                double t = ts[k];
                CHECK_OK(ndyn_geom_vector_diffusion(g, t, F, full, dfull));
                double scale = 0, dscale = 0;
                for (size_t i = 0; i < n * D; i++) { scale = fmax(scale, fabs(full[i])); dscale = fmax(dscale, fabs(dfull[i])); }
                /* a row subset in world coordinates */
                CHECK_OK(ndyn_geom_vheat_apply(v, t, rows, nsel, o, d));
                double err = 0, derr = 0;
                for (size_t q = 0; q < nsel; q++)
                    for (size_t e = 0; e < D; e++) {
                        err = fmax(err, fabs(o[q * D + e] - full[rows[q] * D + e]));
                        derr = fmax(derr, fabs(d[q * D + e] - dfull[rows[q] * D + e]));
                    }
                CHECKF(err <= 1e-10 * scale, "rows vs full (spectral %d, bound %d) t = %g: %g", spectral, bound, t, err);
                CHECKF(derr <= 1e-10 * dscale, "d/dt rows vs full (spectral %d, bound %d) t = %g: %g", spectral, bound, t, derr);
                /* frame coordinates of the same rows: T_iᵀ of the full result */
                CHECK_OK(ndyn_geom_vheat_apply_frames(v, t, rows, nsel, o, d));
                err = 0; derr = 0;
                for (size_t q = 0; q < nsel; q++) {
                    const double *Ti = g->frames + rows[q] * D * m;
                    for (size_t a = 0; a < m; a++) {
                        double w = 0, dw = 0;
                        for (size_t e = 0; e < D; e++) { w += Ti[e * m + a] * full[rows[q] * D + e]; dw += Ti[e * m + a] * dfull[rows[q] * D + e]; }
                        err = fmax(err, fabs(o[q * m + a] - w));
                        derr = fmax(derr, fabs(d[q * m + a] - dw));
                    }
                }
                CHECKF(err <= 1e-10 * scale, "frame rows vs full t = %g: %g", t, err);
                CHECKF(derr <= 1e-10 * dscale, "frame d/dt vs full t = %g: %g", t, derr);
                /* all rows */
                CHECK_OK(ndyn_geom_vheat_apply(v, t, NULL, n, o, NULL));
                err = 0;
                for (size_t i = 0; i < n * D; i++) err = fmax(err, fabs(o[i] - full[i]));
                CHECKF(err <= 1e-10 * scale, "all rows vs full t = %g: %g", t, err);
                /* d/dt against central differences of the cached rows */
                double h = 1e-4 * t;
                CHECK_OK(ndyn_geom_vheat_apply(v, t, rows, nsel, o, d));
                CHECK_OK(ndyn_geom_vheat_apply(v, t + h, rows, nsel, op, NULL));
                CHECK_OK(ndyn_geom_vheat_apply(v, t - h, rows, nsel, om, NULL));
                double fderr = 0, fdscale = 0;
                for (size_t i = 0; i < nsel * D; i++) {
                    double fd = (op[i] - om[i]) / (2 * h);
                    fderr = fmax(fderr, fabs(fd - d[i]));
                    fdscale = fmax(fdscale, fabs(fd));
                }
                CHECKF(fdscale > 0 && fderr <= 1e-6 * fdscale, "d/dt vs FD t = %g: %g (scale %g)", t, fderr, fdscale);
            }
            ndyn_set_warn_handler(NULL, NULL);
            if (bound == 1) CHECKF(count_warn >= 1, "small basis bound: no fallback warning");
            else CHECKF(count_warn == 0, "unexpected warnings: %d", count_warn);
            /* bad input */
            size_t bad = n;
            CHECK_FAILS(ndyn_geom_vheat_apply(v, 1.0, &bad, 1, o, d), NDYN_EINVAL);
            CHECK_FAILS(ndyn_geom_vheat_apply(v, -1.0, rows, nsel, o, d), NDYN_EINVAL);
            ndyn_geom_vheat_free(v);
            ndyn_geom_data_free(g);
        }
    }
    /* a flat-mode dataset has no vector diffusion */
    double *X2 = cloud2(100, 5);
    ndyn_geom_data *gf = prep2(X2, 100, 0);
    ndyn_geom_vheat *vf = NULL;
    if (gf) CHECK_FAILS(ndyn_geom_vheat_new(gf, X2, &vf), NDYN_EINVAL);
    ndyn_geom_data_free(gf);
    free(X2);
    free(full); free(dfull); free(o); free(d); free(op); free(om); free(X); free(F);
}

RUN_TESTS(T(scalar_diffusion_equals_expm), T(chebyshev_rows_from_cached_basis),
          T(vector_diffusion_equals_dense), T(vector_diffusion_cached_rows))
