/* Cached Chebyshev basis of the heat action (ndyn_cheb_basis_*): rows of
 * exp(-tL)X against a dense matrix exponential (LAPACK-based ndyn_expm), the
 * t-derivative against central differences, agreement with the uncached
 * expansion, lazy growth in either order of t, and the memory bound. */
#include "test.h"

#include "ndyn/linalg.h"

/* L_sym = I - D^-1/2 W D^-1/2 of a random weighted graph (ring plus chords):
 * symmetric, spectrum in [0, 2]. Dense copy in *dense (n, n). */
static void random_lsym(size_t n, uint64_t seed, ndyn_csr *L, double **dense)
{
    double *W = calloc(n * n, sizeof *W);
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        double w = ndyn_rng_uniform_range(&r, 0.5, 2.0);
        W[i * n + j] = W[j * n + i] = w;
        for (int e = 0; e < 2; e++) {
            size_t k = (size_t)ndyn_rng_below(&r, n);
            if (k == i) continue;
            w = ndyn_rng_uniform_range(&r, 0.1, 1.0);
            W[i * n + k] = W[k * n + i] = w;
        }
    }
    double *deg = calloc(n, sizeof *deg);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) deg[i] += W[i * n + j];
    double *A = calloc(n * n, sizeof *A);
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            A[i * n + j] = (i == j) - W[i * n + j] / sqrt(deg[i] * deg[j]);
            nnz += A[i * n + j] != 0;
        }
    CHECK_OK(ndyn_csr_alloc(L, n, n, nnz));
    size_t q = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            if (A[i * n + j] != 0) { L->col[q] = (int32_t)j; L->val[q++] = A[i * n + j]; }
        L->rowptr[i + 1] = (int64_t)q;
    }
    L->nnz = q;
    free(W); free(deg);
    *dense = A;
}

/* exp(-tL) X by the dense exponential. */
static void dense_heat(const double *A, size_t n, double t, const double *X, size_t c, double *Y)
{
    double *M = malloc(n * n * sizeof *M), *E = malloc(n * n * sizeof *E);
    for (size_t i = 0; i < n * n; i++) M[i] = -t * A[i];
    CHECK_OK(ndyn_expm(n, M, E));
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < c; r++) {
            double s = 0;
            for (size_t j = 0; j < n; j++) s += E[i * n + j] * X[j * c + r];
            Y[i * c + r] = s;
        }
    free(M); free(E);
}

TEST(rows_equal_dense_expm_and_full_expansion)
{
    size_t n = 200, c = 3;
    ndyn_csr L;
    double *A;
    random_lsym(n, 11, &L, &A);
    double *X = malloc(n * c * sizeof *X);
    ndyn_rng r;
    ndyn_rng_init(&r, 5, 0);
    for (size_t i = 0; i < n * c; i++) X[i] = ndyn_rng_normal(&r);
    ndyn_cheb_basis *b = NULL;
    CHECK_OK(ndyn_cheb_basis_new(&L, X, c, (size_t)64 << 20, &b));
    if (!b) { free(A); free(X); ndyn_csr_free(&L); return; }
    size_t rows[6] = {0, 199, 57, 57, 120, 3};
    double *Yd = malloc(n * c * sizeof *Yd), *Yf = malloc(n * c * sizeof *Yf),
           *dYf = malloc(n * c * sizeof *dYf), *Ya = malloc(n * c * sizeof *Ya),
           *dYa = malloc(n * c * sizeof *dYa);
    double Yr[18], dYr[18], Yp[18], Ym[18];
    /* growing, then shrinking t: the basis extends lazily and is reused */
    const double ts[7] = {1e-9, 0.05, 1.0, 8.0, 40.0, 2.5, 0.3};
    size_t grown = 0;
    for (int k = 0; k < 7; k++) {
        double t = ts[k];
        dense_heat(A, n, t, X, c, Yd);
        CHECK_OK(ndyn_expmv_cheb(&L, t, X, c, 0, Yf, dYf));
        CHECK_OK(ndyn_cheb_basis_apply(b, t, 0, rows, 6, Yr, dYr));
        CHECK_OK(ndyn_cheb_basis_apply(b, t, 0, NULL, 0, Ya, dYa));
        double ed = 0, ef = 0, efd = 0, ea = 0;
        for (size_t q = 0; q < 6; q++)
            for (size_t j = 0; j < c; j++) {
                size_t i = rows[q];
                ed = fmax(ed, fabs(Yr[q * c + j] - Yd[i * c + j]));
                ef = fmax(ef, fabs(Yr[q * c + j] - Yf[i * c + j]));
                efd = fmax(efd, fabs(dYr[q * c + j] - dYf[i * c + j]));
            }
        for (size_t i = 0; i < n * c; i++) ea = fmax(ea, fabs(Ya[i] - Yd[i]));
        CHECKF(ed < 1e-10, "rows vs dense expm at t = %g: %.3g", t, ed);
        CHECKF(ea < 1e-10, "all rows vs dense expm at t = %g: %.3g", t, ea);
        CHECKF(ef < 1e-12 && efd < 1e-12, "rows vs uncached expansion at t = %g: %.3g, d/dt %.3g",
               t, ef, efd);
        size_t nt = ndyn_cheb_basis_terms(b);
        CHECK(nt >= (size_t)ndyn_heat_cheb_terms(t, 0) + 1);
        if (k <= 4) { CHECK(nt >= grown); grown = nt; }
        else CHECK(nt == grown);   /* smaller t: nothing recomputed */
        /* d/dt against central differences */
        if (t > 1e-6) {
            double h = 1e-4 * t, err = 0, scale = 0;
            CHECK_OK(ndyn_cheb_basis_apply(b, t + h, 0, rows, 6, Yp, NULL));
            CHECK_OK(ndyn_cheb_basis_apply(b, t - h, 0, rows, 6, Ym, NULL));
            for (size_t q = 0; q < 6 * c; q++) {
                double fd = (Yp[q] - Ym[q]) / (2 * h);
                err = fmax(err, fabs(fd - dYr[q]));
                scale = fmax(scale, fabs(fd));
            }
            CHECKF(err <= 1e-6 * scale, "d/dt at t = %g: error %.3g, scale %.3g", t, err, scale);
        }
    }
    /* a fresh basis asked for a large t first gives the same rows */
    ndyn_cheb_basis *b2 = NULL;
    CHECK_OK(ndyn_cheb_basis_new(&L, X, c, (size_t)64 << 20, &b2));
    double Y2[18];
    CHECK_OK(ndyn_cheb_basis_apply(b2, 40.0, 0, rows, 6, Y2, NULL));
    CHECK_OK(ndyn_cheb_basis_apply(b, 40.0, 0, rows, 6, Yr, NULL));
    for (size_t q = 0; q < 6 * c; q++) CHECK_CLOSE(Y2[q], Yr[q], 1e-14, 1e-13);
    CHECK_FAILS(ndyn_cheb_basis_apply(b, -1, 0, rows, 6, Yr, NULL), NDYN_EINVAL);
    size_t bad = n;
    CHECK_FAILS(ndyn_cheb_basis_apply(b, 1, 0, &bad, 1, Yr, NULL), NDYN_EINVAL);
    ndyn_cheb_basis_free(b2);
    ndyn_cheb_basis_free(b);
    free(A); free(X); free(Yd); free(Yf); free(dYf); free(Ya); free(dYa);
    ndyn_csr_free(&L);
}

TEST(memory_bound)
{
    size_t n = 50, c = 2;
    ndyn_csr L;
    double *A;
    random_lsym(n, 3, &L, &A);
    double *X = calloc(n * c, sizeof *X);
    for (size_t i = 0; i < n; i++) X[i * c] = 1.0, X[i * c + 1] = (double)i / (double)n;
    size_t per = n * c * sizeof(double);
    ndyn_cheb_basis *b = NULL;
    CHECK_FAILS(ndyn_cheb_basis_new(&L, X, c, per, &b), NDYN_ENOMEM);
    CHECK_OK(ndyn_cheb_basis_new(&L, X, c, 30 * per, &b));
    if (!b) { free(A); free(X); ndyn_csr_free(&L); return; }
    CHECK(ndyn_cheb_basis_max_terms(b) == 30);
    int Ksmall = ndyn_heat_cheb_terms(0.5, 0), Kbig = ndyn_heat_cheb_terms(200.0, 0);
    CHECK(Ksmall + 1 <= 30 && Kbig + 1 > 30);
    double Y[100];
    CHECK_OK(ndyn_cheb_basis_apply(b, 0.5, 0, NULL, 0, Y, NULL));
    /* t = 200 needs more terms than the bound: reported, nothing grown past it */
    CHECK_FAILS(ndyn_cheb_basis_apply(b, 200.0, 0, NULL, 0, Y, NULL), NDYN_ENOMEM);
    CHECK(ndyn_cheb_basis_terms(b) <= 30);
    CHECK(ndyn_heat_cheb_terms(-1, 0) == -1);
    CHECK(ndyn_heat_cheb_terms(NAN, 0) == -1);
    ndyn_cheb_basis_free(b);
    free(A); free(X);
    ndyn_csr_free(&L);
}

RUN_TESTS(T(rows_equal_dense_expm_and_full_expansion), T(memory_bound))
