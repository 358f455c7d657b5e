/* The float path's own small products and blocked emission MLP
 * (src/srnn/gemm_f32.c, emission_f32.c) against the same computation through
 * OpenBLAS (cblas_sgemm, the bias filled and the relu applied in separate
 * passes as the BLAS path does), alternated in one process; CPU time per call.
 *
 * Rows: the emission forward + backward at the Lorenz size (3200 rows,
 * 3 -> 32 -> 64 -> 3), at the large size (20000 rows, 16 -> 32 -> 64 -> 50)
 * and at wider hidden layers (the crossover: srnn_emission_own_f32 sends
 * layers over 256 x 512 to BLAS); then the product shapes of one Lorenz
 * epoch (per-step: 16 rows; stacked: 3200 rows).
 *
 * Usage: bench_srnn_kernels [--reps R]   (run with OPENBLAS_NUM_THREADS=1) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ndyn/srnn.h"
#include "srnn/srnn_internal.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void blas_fwd(const float *th, const srnn_layout *l, float **act, size_t n)
{
    for (int i = 0; i < l->L; i++) {
        int din = l->dims[i], dout = l->dims[i + 1];
        for (size_t r = 0; r < n; r++) memcpy(act[i + 1] + r * dout, th + l->emis_b[i], dout * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, dout, din, 1, act[i], din, th + l->emis_W[i], din,
                    1, act[i + 1], dout);
        if (i + 1 < l->L)
            for (size_t q = 0; q < n * dout; q++) act[i + 1][q] = act[i + 1][q] > 0 ? act[i + 1][q] : 0;
    }
}

static void blas_bwd(const float *th, const srnn_layout *l, float **act, size_t n, float *d1, float *d2, float *gr,
                     float *dh, const float *ones)
{
    float *dout = d1, *din = d2;
    for (int i = l->L - 1; i >= 0; i--) {
        int di = l->dims[i], dO = l->dims[i + 1];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dO, di, (int)n, 1, dout, dO, act[i], di, 1,
                    gr + l->emis_W[i], di);
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, dO, 1, dout, dO, ones, 1, 1, gr + l->emis_b[i], 1);
        if (i == 0) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, di, dO, 1, dout, dO, th + l->emis_W[i], di,
                        1, dh, l->H);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, di, dO, 1, dout, dO, th + l->emis_W[i], di,
                        0, din, di);
            for (size_t q = 0; q < n * di; q++) din[q] = act[i][q] > 0 ? din[q] : 0;
            float *t = dout;
            dout = din;
            din = t;
        }
    }
}

static void emission_row(const char *name, int H, int h1, int h2, int N, size_t n, int reps)
{
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.H = H;
    p.emission_hidden[0] = h1;
    p.emission_hidden[1] = h2;
    srnn_layout l;
    srnn_layout_make(&p, (size_t)N, &l);
    int maxd = h1 > h2 ? h1 : h2;
    maxd = maxd > N ? maxd : N;
    float *th = malloc(l.n * sizeof(float)), *gr = calloc(l.n, sizeof(float)), *act[NDYN_SRNN_MAX_LAYERS + 2];
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (size_t q = 0; q < l.n; q++) th[q] = (float)ndyn_rng_uniform_range(&r, -0.3, 0.3);
    for (int i = 0; i <= l.L; i++) act[i] = malloc(n * l.dims[i] * sizeof(float));
    for (size_t q = 0; q < n * H; q++) act[0][q] = (float)ndyn_rng_normal(&r);
    float *d1 = malloc(n * maxd * sizeof(float)), *d2 = malloc(n * maxd * sizeof(float)),
          *dh = calloc(n * H, sizeof(float)), *ones = malloc(n * sizeof(float)), *dg = malloc(n * N * sizeof(float));
    for (size_t q = 0; q < n; q++) ones[q] = 1;
    for (size_t q = 0; q < n * N; q++) dg[q] = (float)ndyn_rng_normal(&r);
    double t[4] = {0};
    for (int rep = 0; rep < reps; rep++) {
        double t0 = cpu_now();
        blas_fwd(th, &l, act, n);
        t[0] += cpu_now() - t0;
        t0 = cpu_now();
        srnn_emission_fwd_f32(th, &l, act, n);
        t[1] += cpu_now() - t0;
        memcpy(d1, dg, n * N * sizeof(float));
        t0 = cpu_now();
        blas_bwd(th, &l, act, n, d1, d2, gr, dh, ones);
        t[2] += cpu_now() - t0;
        t0 = cpu_now();
        srnn_emission_bwd_f32(th, &l, act, n, dg, gr, dh);
        t[3] += cpu_now() - t0;
    }
    for (int k = 0; k < 4; k++) t[k] *= 1e3 / reps;
    printf("%-34s %8.3f %8.3f %5.2fx | %8.3f %8.3f %5.2fx | %5.2fx%s\n", name, t[0], t[1], t[0] / t[1], t[2], t[3],
           t[2] / t[3], (t[0] + t[2]) / (t[1] + t[3]), srnn_emission_own_f32(&l) ? "" : "  (fit uses BLAS)");
    for (int i = 0; i <= l.L; i++) free(act[i]);
    free(th), free(gr), free(d1), free(d2), free(dh), free(ones), free(dg);
}

int main(int argc, char **argv)
{
    int reps = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_srnn_kernels [--reps R]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    printf("emission MLP, CPU ms per call (ratio = BLAS / own)\n");
    printf("%-34s %8s %8s %6s | %8s %8s %6s | %6s\n", "rows, widths", "fwd blas", "own", "", "bwd blas", "own", "",
           "total");
    emission_row("lorenz 3200, 3-32-64-3", 3, 32, 64, 3, 3200, reps);
    emission_row("large 20000, 16-32-64-50", 16, 32, 64, 50, 20000, reps / 20 + 1);
    emission_row("4000, 16-64-128-50", 16, 64, 128, 50, 4000, reps / 10 + 1);
    emission_row("4000, 16-128-256-50", 16, 128, 256, 50, 4000, reps / 20 + 1);
    emission_row("4000, 16-256-512-50", 16, 256, 512, 50, 4000, reps / 50 + 1);
    emission_row("4000, 16-512-512-50", 16, 512, 512, 50, 4000, reps / 50 + 1);

    printf("\nproducts of a Lorenz epoch, CPU us per call: srnn_sgemm (BLAS) vs srnn_sgemm_small\n");
    static const int shapes[][6] = {{0, 1, 16, 3, 3, 1},     {0, 1, 16, 64, 3, 1},  {0, 1, 16, 3, 64, 0},
                                    {0, 0, 16, 3, 64, 1},    {0, 0, 16, 64, 3, 0},  {0, 1, 3200, 3, 3, 1},
                                    {0, 0, 3200, 3, 64, 0},  {1, 0, 3, 3, 3200, 1}, {1, 0, 64, 3, 3200, 1},
                                    {1, 0, 3, 64, 3200, 1},  {1, 0, 4, 3, 3200, 1}};
    size_t big = 3200 * 64 * 2;
    float *A = malloc(big * sizeof(float)), *B = malloc(big * sizeof(float)), *C = calloc(big, sizeof(float));
    for (size_t q = 0; q < big; q++) A[q] = (float)(q % 7) * 0.1f, B[q] = (float)(q % 5) * 0.1f;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ta = shapes[s][0], tb = shapes[s][1], M = shapes[s][2], N = shapes[s][3], K = shapes[s][4];
        float beta = (float)shapes[s][5];
        int lda = ta ? M : K, ldb = tb ? K : N, n = (long)M * N * K < 100000 ? 200 * reps : 3 * reps;
        double tt[2];
        for (int w = 0; w < 2; w++) {
            double t0 = cpu_now();
            for (int q = 0; q < n; q++) {
                if (w) srnn_sgemm_small(ta, tb, M, N, K, 1, A, lda, B, ldb, beta, C, N);
                else srnn_sgemm(ta, tb, M, N, K, 1, A, lda, B, ldb, beta, C, N);
            }
            tt[w] = (cpu_now() - t0) / n * 1e6;
        }
        printf("op %c%c M %5d N %3d K %5d beta %g: %8.3f %8.3f  %5.2fx\n", ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K,
               beta, tt[0], tt[1], tt[0] / tt[1]);
    }
    free(A), free(B), free(C);
    return 0;
}
