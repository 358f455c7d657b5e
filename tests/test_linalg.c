/* linalg: CSR construction and products against dense arithmetic, expm
 * against analytic exponentials, Bessel values, Chebyshev and spectral heat
 * action against dense expm, ARPACK against analytic eigenvalues. */
#include "test.h"

#include "ndyn/linalg.h"

static void random_sparse(size_t n, size_t m, double density, uint64_t seed, ndyn_csr *A, double *dense)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    size_t cap = n * m, nnz = 0;
    int64_t *ri = malloc(cap * sizeof *ri), *ci = malloc(cap * sizeof *ci);
    double *v = malloc(cap * sizeof *v);
    memset(dense, 0, n * m * sizeof *dense);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            if (ndyn_rng_uniform(&r) < density) {
                ri[nnz] = (int64_t)i; ci[nnz] = (int64_t)j; v[nnz] = ndyn_rng_normal(&r);
                dense[i * m + j] = v[nnz];
                nnz++;
            }
    CHECK_OK(ndyn_csr_from_triplets(A, n, m, nnz, ri, ci, v));
    free(ri); free(ci); free(v);
}

TEST(csr_ops)
{
    size_t n = 40, m = 30, c = 3;
    double *Ad = malloc(n * m * sizeof *Ad), *back = malloc(n * m * sizeof *back);
    ndyn_csr A, At;
    random_sparse(n, m, 0.2, 1, &A, Ad);
    CHECK_OK(ndyn_csr_check(&A, "A"));
    ndyn_csr_to_dense(&A, back);
    for (size_t i = 0; i < n * m; i++) CHECK(back[i] == Ad[i]);
    double X[90], Y[120], Yd[120];
    for (size_t i = 0; i < m * c; i++) X[i] = sin((double)i);
    for (size_t i = 0; i < n * c; i++) Y[i] = 1.0;
    ndyn_csr_spmm(&A, X, c, 2.0, 0.5, Y);
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < c; r++) {
            double s = 0;
            for (size_t j = 0; j < m; j++) s += Ad[i * m + j] * X[j * c + r];
            Yd[i * c + r] = 2.0 * s + 0.5;
            CHECK_CLOSE(Y[i * c + r], Yd[i * c + r], 1e-12, 1e-12);
        }
    size_t rows[3] = {7, 0, 39};
    double Ys[9];
    ndyn_csr_spmm(&A, X, c, 1.0, 0.0, Y);
    ndyn_csr_spmm_rows(&A, rows, 3, X, c, Ys);
    for (size_t q = 0; q < 3; q++)
        for (size_t r = 0; r < c; r++) CHECK(Ys[q * c + r] == Y[rows[q] * c + r]);
    CHECK_OK(ndyn_csr_transpose(&A, &At));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) CHECK(ndyn_csr_get(&At, j, i) == Ad[i * m + j]);
    /* submatrix with permuted columns */
    size_t sr[2] = {3, 5}, sc[3] = {10, 2, 7};
    ndyn_csr S;
    CHECK_OK(ndyn_csr_submatrix(&A, sr, 2, sc, 3, &S));
    CHECK_OK(ndyn_csr_check(&S, "S"));
    for (size_t a = 0; a < 2; a++)
        for (size_t b = 0; b < 3; b++) CHECK(ndyn_csr_get(&S, a, b) == Ad[sr[a] * m + sc[b]]);
    size_t dup[2] = {1, 1};
    CHECK_FAILS(ndyn_csr_submatrix(&A, sr, 2, dup, 2, &S), NDYN_EINVAL);
    /* duplicates summed */
    int64_t r2[3] = {0, 0, 1}, c2[3] = {1, 1, 0};
    double v2[3] = {1.5, 2.0, -1};
    ndyn_csr B;
    CHECK_OK(ndyn_csr_from_triplets(&B, 2, 2, 3, r2, c2, v2));
    CHECK(B.nnz == 2 && ndyn_csr_get(&B, 0, 1) == 3.5);
    ndyn_csr_free(&A); ndyn_csr_free(&At); ndyn_csr_free(&S); ndyn_csr_free(&B);
    free(Ad); free(back);
}

TEST(expm_analytic)
{
    /* rotation generator: expm([[0, -a], [a, 0]]) = [[cos a, -sin a], [sin a, cos a]] */
    double a = 7.3, A[4] = {0, -a, a, 0}, E[4];
    CHECK_OK(ndyn_expm(2, A, E));
    CHECK_CLOSE(E[0], cos(a), 1e-12, 0);
    CHECK_CLOSE(E[1], -sin(a), 1e-12, 0);
    CHECK_CLOSE(E[2], sin(a), 1e-12, 0);
    /* nilpotent: expm([[1, b], [0, 1]]) = e [[1, b], [0, 1]] */
    double B[4] = {1, 5, 0, 1};
    CHECK_OK(ndyn_expm(2, B, E));
    CHECK_CLOSE(E[1], exp(1.0) * 5, 1e-12, 1e-13);
    CHECK_CLOSE(E[3], exp(1.0), 1e-13, 1e-13);
}

TEST(bessel_values)
{
    double s[6];
    CHECK_OK(ndyn_bessel_i_scaled(1.0, 5, s));
    /* e^-t I_k(t): reference values from scipy.special.ive */
    CHECK_CLOSE(s[0], 0.46575960759364043, 1e-15, 1e-14);
    CHECK_CLOSE(s[1], 0.20791041534970844, 1e-15, 1e-14);
    CHECK_CLOSE(s[2], 0.04993877689422356, 1e-15, 1e-13);
    double s50[8];
    CHECK_OK(ndyn_bessel_i_scaled(50.0, 7, s50));
    CHECK_CLOSE(s50[0], 0.0565616266474542, 1e-15, 1e-12);
    CHECK_CLOSE(s50[7], 0.034507164782405585, 1e-15, 1e-12);
    CHECK_OK(ndyn_bessel_i_scaled(0.0, 5, s));
    CHECK(s[0] == 1 && s[1] == 0);
    CHECK_FAILS(ndyn_bessel_i_scaled(-1.0, 5, s), NDYN_EINVAL);
}

/* symmetric normalised Laplacian of a random weighted graph */
static void random_lsym(size_t n, uint64_t seed, ndyn_csr *L, double *Ld)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 1);
    double *W = calloc(n * n, sizeof *W), *deg = calloc(n, sizeof *deg);
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1) % n; /* ring keeps it connected */
        W[i * n + j] = W[j * n + i] = 0.5 + ndyn_rng_uniform(&r);
        for (int e = 0; e < 3; e++) {
            size_t q = (size_t)ndyn_rng_below(&r, n);
            if (q != i) W[i * n + q] = W[q * n + i] = 0.1 + ndyn_rng_uniform(&r);
        }
    }
    for (size_t i = 0; i < n; i++) for (size_t j = 0; j < n; j++) deg[i] += W[i * n + j];
    size_t nnz = 0;
    int64_t *ri = malloc(n * n * sizeof *ri), *ci = malloc(n * n * sizeof *ci);
    double *v = malloc(n * n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x = (i == j) - W[i * n + j] / sqrt(deg[i] * deg[j]);
            Ld[i * n + j] = x;
            if (x != 0) { ri[nnz] = (int64_t)i; ci[nnz] = (int64_t)j; v[nnz++] = x; }
        }
    CHECK_OK(ndyn_csr_from_triplets(L, n, n, nnz, ri, ci, v));
    free(ri); free(ci); free(v); free(W); free(deg);
}

TEST(chebyshev_and_spectral_equal_expm)
{
    size_t n = 120, c = 2;
    double *Ld = malloc(n * n * sizeof *Ld), *E = malloc(n * n * sizeof *E), *A = malloc(n * n * sizeof *A);
    ndyn_csr L;
    random_lsym(n, 3, &L, Ld);
    double *X = malloc(n * c * sizeof *X), *Y = malloc(n * c * sizeof *Y), *dY = malloc(n * c * sizeof *dY);
    double *Ys = malloc(n * c * sizeof *Ys), *dYs = malloc(n * c * sizeof *dYs);
    double *Yp = malloc(n * c * sizeof *Yp), *Ym = malloc(n * c * sizeof *Ym);
    for (size_t i = 0; i < n * c; i++) X[i] = cos(0.3 * (double)i);
    double *w = malloc(n * sizeof *w), *V = malloc(n * n * sizeof *V);
    CHECK_OK(ndyn_eigsh_smallest(&L, n, 0, 1, w, V));
    const double ts[5] = {0.0, 0.01, 0.7, 5.0, 60.0};
    for (int q = 0; q < 5; q++) {
        double t = ts[q];
        for (size_t i = 0; i < n * n; i++) A[i] = -t * Ld[i];
        CHECK_OK(ndyn_expm(n, A, E));
        CHECK_OK(ndyn_expmv_cheb(&L, t, X, c, 0, Y, dY));
        CHECK_OK(ndyn_heat_spectral(n, n, w, V, t, X, c, Ys, dYs));
        double err = 0, errs = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t r = 0; r < c; r++) {
                double s = 0;
                for (size_t j = 0; j < n; j++) s += E[i * n + j] * X[j * c + r];
                err = fmax(err, fabs(Y[i * c + r] - s));
                errs = fmax(errs, fabs(Ys[i * c + r] - s));
            }
        CHECKF(err < 1e-10, "Chebyshev vs expm at t = %g: %g", t, err);
        CHECKF(errs < 1e-10, "spectral vs expm at t = %g: %g", t, errs);
        /* t-derivative vs central differences */
        if (t > 0) {
            double h = 1e-4 * fmax(t, 1e-2);
            CHECK_OK(ndyn_expmv_cheb(&L, t + h, X, c, 0, Yp, NULL));
            CHECK_OK(ndyn_expmv_cheb(&L, t - h, X, c, 0, Ym, NULL));
            double derr = 0, dnorm = 0, serr = 0;
            for (size_t i = 0; i < n * c; i++) {
                double fd = (Yp[i] - Ym[i]) / (2 * h);
                derr = fmax(derr, fabs(dY[i] - fd));
                serr = fmax(serr, fabs(dYs[i] - dY[i]));
                dnorm = fmax(dnorm, fabs(fd));
            }
            CHECKF(derr <= 1e-6 * dnorm + 1e-12, "d/dt vs finite differences at t = %g: %g (scale %g)", t, derr, dnorm);
            CHECKF(serr <= 1e-9 * dnorm + 1e-12, "spectral d/dt vs Chebyshev at t = %g: %g", t, serr);
        }
    }
    CHECK_FAILS(ndyn_expmv_cheb(&L, -1, X, c, 0, Y, dY), NDYN_EINVAL);
    ndyn_csr_free(&L);
    free(Ld); free(E); free(A); free(X); free(Y); free(dY); free(Ys); free(dYs); free(Yp); free(Ym); free(w); free(V);
}

/* ARPACK path (n > 1500): cycle graph, L_sym = I - (S + Sᵀ)/2 with
 * eigenvalues 1 - cos(2 pi j / n). A few extra random chords are avoided to
 * keep the analytic answer. */
TEST(arpack_cycle)
{
    size_t n = 1600, nev = 5;
    int64_t *ri = malloc(3 * n * sizeof *ri), *ci = malloc(3 * n * sizeof *ci);
    double *v = malloc(3 * n * sizeof *v);
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        ri[e] = (int64_t)i; ci[e] = (int64_t)i; v[e++] = 1.0;
        ri[e] = (int64_t)i; ci[e] = (int64_t)((i + 1) % n); v[e++] = -0.5;
        ri[e] = (int64_t)i; ci[e] = (int64_t)((i + n - 1) % n); v[e++] = -0.5;
    }
    ndyn_csr L;
    CHECK_OK(ndyn_csr_from_triplets(&L, n, n, e, ri, ci, v));
    double w[5], *V = malloc(n * nev * sizeof *V), *LV = malloc(n * sizeof *LV);
    double want[5] = {0, 1 - cos(2 * M_PI / (double)n), 1 - cos(2 * M_PI / (double)n), 1 - cos(4 * M_PI / (double)n),
                      1 - cos(4 * M_PI / (double)n)};
    CHECK_OK(ndyn_eigsh_smallest(&L, nev, 1e-13, 3, w, V));
    for (size_t j = 0; j < nev; j++) {
        CHECK_CLOSE(w[j], want[j], 1e-9, 1e-6);
        double x[1600];
        for (size_t i = 0; i < n; i++) x[i] = V[i * nev + j];
        ndyn_csr_spmv(&L, x, LV);
        double res = 0, nrm = 0;
        for (size_t i = 0; i < n; i++) { res = fmax(res, fabs(LV[i] - w[j] * x[i])); nrm += x[i] * x[i]; }
        CHECK(res < 1e-8);
        CHECK_CLOSE(nrm, 1, 1e-10, 0);
    }
    ndyn_csr_free(&L);
    free(ri); free(ci); free(v); free(V); free(LV);
}

TEST(svd_vt_against_normal_equations)
{
    /* A (m, n) random: the rows of Vt are orthonormal, S descending, and each
     * is an eigenvector of A^T A with eigenvalue S^2 (computed directly). */
    enum { M = 7, N = 4 };
    double A[M * N], Acopy[M * N], S[N], Vt[N * N], AtA[N * N] = {0};
    ndyn_rng r;
    ndyn_rng_init(&r, 5, 0);
    for (int i = 0; i < M * N; i++) A[i] = Acopy[i] = ndyn_rng_normal(&r);
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++)
            for (int i = 0; i < M; i++) AtA[a * N + b] += A[i * N + a] * A[i * N + b];
    CHECK_OK(ndyn_svd_vt(M, N, Acopy, S, Vt, "test"));
    for (int c = 0; c < N; c++) {
        if (c) CHECK(S[c] <= S[c - 1]);
        for (int e = 0; e < N; e++) {
            double dot = 0;
            for (int j = 0; j < N; j++) dot += Vt[c * N + j] * Vt[e * N + j];
            CHECK_CLOSE(dot, c == e ? 1.0 : 0.0, 1e-12, 0);
        }
        for (int a = 0; a < N; a++) {
            double av = 0;
            for (int b = 0; b < N; b++) av += AtA[a * N + b] * Vt[c * N + b];
            CHECK_CLOSE(av, S[c] * S[c] * Vt[c * N + a], 1e-10, 0);
        }
    }
    CHECK_FAILS(ndyn_svd_vt(M, N, NULL, S, Vt, "test"), NDYN_EINVAL);
}

RUN_TESTS(T(csr_ops), T(expm_analytic), T(bessel_values), T(chebyshev_and_spectral_equal_expm), T(arpack_cycle),
          T(svd_vt_against_normal_equations))
