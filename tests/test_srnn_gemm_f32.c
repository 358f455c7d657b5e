/* The float path's own small products (src/srnn/gemm_f32.c) and the blocked
 * emission MLP built on them (src/srnn/emission_f32.c) against plain triple
 * loops in double: every transpose/beta form the SRNN kernel uses, with bias,
 * relu and mask, at odd widths (narrow, partial and full 16-column panels,
 * and the AVX-512 body's 32-column ones, full and partial),
 * inner sizes below and above 8, and row counts that are not multiples of the
 * 4-row tiles or the 64-row blocks; the emission forward outputs and every
 * gradient (weights, biases, dJ/dh) for several layer stacks. */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/srnn.h"
#include "srnn/srnn_internal.h"

static void fill(ndyn_rng *r, float *x, size_t n)
{
    for (size_t q = 0; q < n; q++) x[q] = (float)ndyn_rng_uniform_range(r, -1, 1);
}

/* max |a - b| / (1 + max |b|) over n entries */
static double rel_err(const float *a, const double *b, size_t n)
{
    double w = 0, s = 0;
    for (size_t q = 0; q < n; q++) {
        w = fmax(w, fabs((double)a[q] - b[q]));
        s = fmax(s, fabs(b[q]));
    }
    return w / (1 + s);
}

TEST(sgemm_small_all_forms)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 11, 0);
    const int Ms[] = {1, 3, 6, 8, 16, 37, 130}, Ns[] = {1, 3, 4, 5, 7, 8, 16, 17, 32, 50, 64, 96}, Ks[] = {1, 3, 8, 13, 64, 300};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t im = 0; im < sizeof Ms / sizeof *Ms; im++)
                for (size_t in = 0; in < sizeof Ns / sizeof *Ns; in++)
                    for (size_t ik = 0; ik < sizeof Ks / sizeof *Ks; ik++)
                        for (int beta = 0; beta < 2; beta++) {
                            int M = Ms[im], N = Ns[in], K = Ks[ik];
                            int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3; /* padded rows */
                            size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb,
                                   nc = (size_t)M * ldc;
                            float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4);
                            double *ref = malloc(nc * 8);
                            fill(&r, A, na);
                            fill(&r, B, nb);
                            fill(&r, C, nc);
                            for (size_t q = 0; q < nc; q++) ref[q] = C[q];
                            for (int i = 0; i < M; i++)
                                for (int j = 0; j < N; j++) {
                                    double s = beta ? ref[(size_t)i * ldc + j] : 0;
                                    for (int k = 0; k < K; k++)
                                        s += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                                             (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
                                    ref[(size_t)i * ldc + j] = s;
                                }
                            srnn_sgemm_small(ta, tb, M, N, K, 1, A, lda, B, ldb, (float)beta, C, ldc);
                            double e = rel_err(C, ref, nc);
                            double tol = 2e-6 * sqrt((double)K + 1);
                            CHECKF(e <= tol, "ta %d tb %d M %d N %d K %d beta %d: rel err %.3g", ta, tb, M, N, K, beta,
                                   e);
                            free(A), free(B), free(C), free(ref);
                        }
}

TEST(mm_bias_relu_mask)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 12, 0);
    const int Ns[] = {2, 3, 7, 16, 17, 32, 33, 48, 64}, Ks[] = {3, 9, 32};
    for (size_t in = 0; in < sizeof Ns / sizeof *Ns; in++)
        for (size_t ik = 0; ik < 3; ik++)
            for (int act = 0; act < 3; act++) {
                int M = 23, N = Ns[in], K = Ks[ik];
                float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)K * N * 4), *C = malloc((size_t)M * N * 4),
                      *bias = malloc(N * 4), *mask = malloc((size_t)M * N * 4),
                      *Bp = malloc(srnn_f32_packed(N, K) * 4);
                double *ref = malloc((size_t)M * N * 8);
                fill(&r, A, (size_t)M * K);
                fill(&r, B, (size_t)K * N);
                fill(&r, bias, N);
                fill(&r, mask, (size_t)M * N);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) {
                        double s = bias[j];
                        for (int k = 0; k < K; k++) s += (double)A[i * K + k] * B[k * N + j];
                        if (act == 1) s = s > 0 ? s : 0;
                        if (act == 2) s = mask[i * N + j] > 0 ? s : 0;
                        ref[i * N + j] = s;
                    }
                srnn_f32_pack(0, N, K, B, N, Bp);
                srnn_f32_mm(M, N, K, A, K, Bp, bias, 0, act, act == 2 ? mask : NULL, N, C, N);
                double e = rel_err(C, ref, (size_t)M * N);
                CHECKF(e <= 1e-5, "N %d K %d act %d: rel err %.3g", N, K, act, e);
                free(A), free(B), free(C), free(bias), free(mask), free(Bp), free(ref);
            }
}

/* emission forward and backward against the triple loops, for one layer stack */
static void emission_case(int H, int nh, const int *hidden, int N, size_t n)
{
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.H = H;
    p.n_emission_hidden = nh;
    for (int i = 0; i < nh; i++) p.emission_hidden[i] = hidden[i];
    srnn_layout l;
    srnn_layout_make(&p, (size_t)N, &l);
    ndyn_rng r;
    ndyn_rng_init(&r, 13, (uint64_t)(H * 1000 + N));
    float *th = malloc(l.n * 4), *gr = calloc(l.n, 4), *act[NDYN_SRNN_MAX_LAYERS + 2];
    double *gref = calloc(l.n, 8), *aref[NDYN_SRNN_MAX_LAYERS + 2], *dref[NDYN_SRNN_MAX_LAYERS + 2];
    fill(&r, th, l.n);
    for (int i = 0; i <= l.L; i++) {
        act[i] = malloc(n * l.dims[i] * 4);
        aref[i] = malloc(n * l.dims[i] * 8);
        dref[i] = malloc(n * l.dims[i] * 8);
    }
    fill(&r, act[0], n * H);
    for (size_t q = 0; q < n * H; q++) aref[0][q] = act[0][q];
    for (int i = 0; i < l.L; i++) {
        int di = l.dims[i], dO = l.dims[i + 1];
        const float *W = th + l.emis_W[i], *b = th + l.emis_b[i];
        for (size_t q = 0; q < n; q++)
            for (int j = 0; j < dO; j++) {
                double s = b[j];
                for (int k = 0; k < di; k++) s += aref[i][q * di + k] * W[j * di + k];
                aref[i + 1][q * dO + j] = i + 1 < l.L && s < 0 ? 0 : s;
            }
    }
    CHECK_OK(srnn_emission_fwd_f32(th, &l, act, n));
    for (int i = 1; i <= l.L; i++) {
        double e = rel_err(act[i], aref[i], n * l.dims[i]);
        CHECKF(e <= 1e-5, "H %d N %d n %zu layer %d forward rel err %.3g", H, N, n, i, e);
        /* the backward reads the stored activations: give it the reference ones, so the
         * relu masks agree exactly */
        for (size_t q = 0; q < n * l.dims[i]; q++) act[i][q] = (float)aref[i][q];
        for (size_t q = 0; q < n * l.dims[i]; q++) aref[i][q] = act[i][q];
    }
    float *dg = malloc(n * N * 4), *dh = malloc(n * H * 4);
    fill(&r, dg, n * N);
    fill(&r, dh, n * H);
    for (size_t q = 0; q < n * N; q++) dref[l.L][q] = dg[q];
    for (size_t q = 0; q < n * H; q++) dref[0][q] = dh[q]; /* the backward adds into dh */
    for (int i = l.L - 1; i >= 0; i--) {
        int di = l.dims[i], dO = l.dims[i + 1];
        const float *W = th + l.emis_W[i];
        for (int j = 0; j < dO; j++)
            for (size_t q = 0; q < n; q++) {
                double d = dref[i + 1][q * dO + j];
                gref[l.emis_b[i] + j] += d;
                for (int k = 0; k < di; k++) gref[l.emis_W[i] + (size_t)j * di + k] += d * aref[i][q * di + k];
            }
        for (size_t q = 0; q < n; q++)
            for (int k = 0; k < di; k++) {
                double s = i == 0 ? dref[0][q * di + k] : 0;
                for (int j = 0; j < dO; j++) s += dref[i + 1][q * dO + j] * W[j * di + k];
                dref[i][q * di + k] = i > 0 && aref[i][q * di + k] <= 0 ? 0 : s;
            }
    }
    CHECK_OK(srnn_emission_bwd_f32(th, &l, act, n, dg, gr, dh));
    double e = rel_err(dh, dref[0], n * H);
    CHECKF(e <= 1e-5, "H %d N %d n %zu dJ/dh rel err %.3g", H, N, n, e);
    for (int i = 0; i < l.L; i++) {
        size_t nw = (size_t)l.dims[i + 1] * l.dims[i];
        double ew = rel_err(gr + l.emis_W[i], gref + l.emis_W[i], nw),
               eb = rel_err(gr + l.emis_b[i], gref + l.emis_b[i], (size_t)l.dims[i + 1]);
        double tol = 3e-6 * sqrt((double)n);
        CHECKF(ew <= tol, "H %d N %d n %zu W%d rel err %.3g", H, N, n, i, ew);
        CHECKF(eb <= tol, "H %d N %d n %zu b%d rel err %.3g", H, N, n, i, eb);
    }
    for (int i = 0; i <= l.L; i++) free(act[i]), free(aref[i]), free(dref[i]);
    free(th), free(gr), free(gref), free(dg), free(dh);
}

TEST(emission_blocks_match_loops)
{
    const int lor[] = {32, 64}, odd[] = {17, 5, 40}, wide[] = {33};
    emission_case(3, 2, lor, 3, 3200);  /* the Lorenz size */
    emission_case(3, 2, lor, 3, 131);   /* rows: two full blocks and 3 */
    emission_case(16, 2, lor, 50, 203); /* the large size's widths */
    emission_case(5, 3, odd, 7, 77);
    emission_case(2, 1, wide, 1, 65);
    emission_case(9, 0, NULL, 4, 70); /* no hidden layer: one affine map */
}

/* the same checks on every narrower body this CPU can run (AVX2 + FMA, baseline) */
TEST(narrower_variants)
{
    int best = srnn_f32_isa();
    for (int cap = best - 1; cap >= 0; cap--) {
        srnn_f32_isa_cap = cap;
        CHECK(srnn_f32_isa() == cap);
        sgemm_small_all_forms();
        mm_bias_relu_mask();
        emission_blocks_match_loops();
    }
    srnn_f32_isa_cap = 2;
    if (best == 0) SKIP("this CPU runs the baseline body only");
}

RUN_TESTS(T(sgemm_small_all_forms), T(mm_bias_relu_mask), T(emission_blocks_match_loops), T(narrower_variants))
