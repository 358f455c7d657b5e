/* Small single-precision matrix products of the float32 training path, and
 * the emission MLP built on them (forward and backward in row blocks that
 * stay in L1/L2).
 *
 * The SRNN's products are thin: one side is a weight matrix of at most a few
 * thousand entries, the other a long stack of rows (T B of them) or a single
 * time step (B rows). OpenBLAS spends much of such a call packing and, on CPUs
 * it does not recognise, runs older kernels; these loops keep a tile of
 * 4 x 16 outputs in registers (eight 8-wide accumulators) and read the
 * weights from a copy padded to a multiple of 16 columns (srnn_f32_pack),
 * packed once per batch.
 *
 * One generic body (GNU vector extensions) is compiled three times: for
 * AVX-512 (32 vector registers), for AVX2 + FMA, and for the baseline ISA;
 * the variant is chosen at run time from the CPU's features. Other compilers
 * or CPUs get the baseline body only. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "srnn_internal.h"

/* 8- and 16-float vectors passed between inlined helpers: the note that their
 * ABI differs without AVX is moot (nothing here is called across objects by
 * value). GCC ignores this pragma for that note, so CMakeLists.txt also passes
 * -Wno-psabi; the pragma covers builds that compile this file on their own. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#if defined(__GNUC__)
#define AI static inline __attribute__((always_inline))
typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));
#else
#error "src/srnn/gemm_f32.c needs GNU C vector extensions (GCC or Clang)"
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define SRNN_DISPATCH 1
#else
#define SRNN_DISPATCH 0
#endif

enum { NR = 16, MR = 4, KC = 256, NARROW = 4 };

AI v8 ld8(const float *p)
{
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

AI void st8(float *p, v8 v) { memcpy(p, &v, sizeof v); }

AI v16 ld16v(const float *p)
{
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

AI void st16v(float *p, v16 v) { memcpy(p, &v, sizeof v); }

/* out = act(v + bias) masked: act 0 none, 1 relu, 2 keep where mask > 0 */
AI v8 finish8(v8 v, int act, const float *mask)
{
    const v8 zero = {0};
    if (act == 1) v = (v8)((v8i)v & (v > zero));
    if (act == 2) v = (v8)((v8i)v & (ld8(mask) > zero));
    return v;
}

/* One tile: T (mr, 16) = sum_k a(i, k) b(k, 0..15), a(i, k) = a[i ai + k ak],
 * b(k, j) = b[k ldb + j] (16 readable entries per row). Written to
 * c[i csi + j csj] for j < nr: T (+ c when beta) (+ bias[j]), then act. */
AI void tile(const int mr, int K, const float *a, ptrdiff_t ai, ptrdiff_t ak, const float *b, ptrdiff_t ldb,
             float *c, ptrdiff_t csi, ptrdiff_t csj, int nr, int beta, const float *bias, int act,
             const float *mask, ptrdiff_t ldm)
{
    v8 acc[MR][2];
    for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = (v8){0};
    for (int k = 0; k < K; k++) {
        const v8 b0 = ld8(b + (ptrdiff_t)k * ldb), b1 = ld8(b + (ptrdiff_t)k * ldb + 8);
        for (int i = 0; i < mr; i++) {
            const float x = a[i * ai + k * ak];
            const v8 s = {x, x, x, x, x, x, x, x};
            acc[i][0] += s * b0;
            acc[i][1] += s * b1;
        }
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * csi;
        const float *mi = mask ? mask + i * ldm : NULL;
        if (nr == NR && csj == 1) {
            v8 u0 = acc[i][0], u1 = acc[i][1];
            if (beta) u0 += ld8(ci), u1 += ld8(ci + 8);
            if (bias) u0 += ld8(bias), u1 += ld8(bias + 8);
            st8(ci, finish8(u0, act, mi));
            st8(ci + 8, finish8(u1, act, mi ? mi + 8 : NULL));
        } else {
            float t[NR];
            st8(t, acc[i][0]);
            st8(t + 8, acc[i][1]);
            for (int j = 0; j < nr; j++) {
                float v = t[j] + (beta ? ci[j * csj] : 0) + (bias ? bias[j] : 0);
                if (act == 1) v = v > 0 ? v : 0;
                if (act == 2) v = mi[j] > 0 ? v : 0;
                ci[j * csj] = v;
            }
        }
    }
}

/* The AVX-512 body's wide tile: T (mr, 32) in two 16-wide accumulators per row (the same sums,
 * in the same order along k, as two tile() calls), b 32 readable entries per row; c, bias and
 * mask as for tile(), nr <= 32 */
AI void tile_w(const int mr, int K, const float *a, ptrdiff_t ai, ptrdiff_t ak, const float *b, ptrdiff_t ldb,
               float *c, ptrdiff_t csi, ptrdiff_t csj, int nr, int beta, const float *bias, int act,
               const float *mask, ptrdiff_t ldm)
{
    v16 acc[MR][2];
    for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = (v16){0};
    for (int k = 0; k < K; k++) {
        const v16 b0 = ld16v(b + (ptrdiff_t)k * ldb), b1 = ld16v(b + (ptrdiff_t)k * ldb + 16);
        for (int i = 0; i < mr; i++) {
            const float x = a[i * ai + k * ak];
            const v16 s = {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
            acc[i][0] += s * b0;
            acc[i][1] += s * b1;
        }
    }
    const v16 zero = {0};
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * csi;
        const float *mi = mask ? mask + i * ldm : NULL;
        if (nr == 2 * NR && csj == 1) {
            v16 u0 = acc[i][0], u1 = acc[i][1];
            if (beta) u0 += ld16v(ci), u1 += ld16v(ci + 16);
            if (bias) u0 += ld16v(bias), u1 += ld16v(bias + 16);
            if (act == 1) u0 = (v16)((v16i)u0 & (u0 > zero)), u1 = (v16)((v16i)u1 & (u1 > zero));
            if (act == 2)
                u0 = (v16)((v16i)u0 & (ld16v(mi) > zero)), u1 = (v16)((v16i)u1 & (ld16v(mi + 16) > zero));
            st16v(ci, u0);
            st16v(ci + 16, u1);
        } else {
            float t[2 * NR];
            st16v(t, acc[i][0]);
            st16v(t + 16, acc[i][1]);
            for (int j = 0; j < nr; j++) {
                float v = t[j] + (beta ? ci[j * csj] : 0) + (bias ? bias[j] : 0);
                if (act == 1) v = v > 0 ? v : 0;
                if (act == 2) v = mi[j] > 0 ? v : 0;
                ci[j * csj] = v;
            }
        }
    }
}

/* one tile of either width (wide: tile_w, a compile-time constant in every body) */
AI void tile_any(const int wide, const int mr, int K, const float *a, ptrdiff_t ai, ptrdiff_t ak, const float *b,
                 ptrdiff_t ldb, float *c, ptrdiff_t csi, ptrdiff_t csj, int nr, int beta, const float *bias,
                 int act, const float *mask, ptrdiff_t ldm)
{
    if (wide)
        tile_w(mr, K, a, ai, ak, b, ldb, c, csi, csj, nr, beta, bias, act, mask, ldm);
    else
        tile(mr, K, a, ai, ak, b, ldb, c, csi, csj, nr, beta, bias, act, mask, ldm);
}

/* rows i0.. of a tile column: full MR tiles, then the remainder as 3, 2 or 1 */
AI void tile_rows(const int wide, int M, int K, const float *a, ptrdiff_t ai, ptrdiff_t ak, const float *b,
                  ptrdiff_t ldb, float *c, ptrdiff_t csi, ptrdiff_t csj, int nr, int beta, const float *bias,
                  int act, const float *mask, ptrdiff_t ldm)
{
    int i = 0;
    for (; i + MR <= M; i += MR)
        tile_any(wide, MR, K, a + i * ai, ai, ak, b, ldb, c + i * csi, csi, csj, nr, beta, bias, act,
                 mask ? mask + (ptrdiff_t)i * ldm : NULL, ldm);
    const float *mk = mask ? mask + (ptrdiff_t)i * ldm : NULL;
    switch (M - i) {
    case 3: tile_any(wide, 3, K, a + i * ai, ai, ak, b, ldb, c + i * csi, csi, csj, nr, beta, bias, act, mk, ldm); break;
    case 2: tile_any(wide, 2, K, a + i * ai, ai, ak, b, ldb, c + i * csi, csi, csj, nr, beta, bias, act, mk, ldm); break;
    case 1: tile_any(wide, 1, K, a + i * ai, ai, ak, b, ldb, c + i * csi, csi, csj, nr, beta, bias, act, mk, ldm); break;
    default: break;
    }
}

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define SRNN_HAVE_SHUFFLE 1
#endif
#endif
#ifndef SRNN_HAVE_SHUFFLE
#define SRNN_HAVE_SHUFFLE 0
#endif

#if SRNN_HAVE_SHUFFLE
typedef float v4 __attribute__((vector_size(16)));

AI v4 fold8(v8 v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7); }

/* the lane sums of a, b, c, d as one 4-vector */
AI v4 sum4(v8 a, v8 b, v8 c, v8 d)
{
    v4 A = fold8(a), B = fold8(b), C = fold8(c), D = fold8(d);
    v4 t0 = __builtin_shufflevector(A, B, 0, 4, 1, 5) + __builtin_shufflevector(A, B, 2, 6, 3, 7);
    v4 t1 = __builtin_shufflevector(C, D, 0, 4, 1, 5) + __builtin_shufflevector(C, D, 2, 6, 3, 7);
    return __builtin_shufflevector(t0, t1, 0, 1, 4, 5) + __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
}
#endif

/* Narrow outputs (N <= NARROW): dot products along K instead, Bt (N, K), for mr rows x n columns;
 * the K % 8 tail in scalar */
AI v8 fold16(v16 v)
{
    v8 lo, hi;
    memcpy(&lo, &v, sizeof lo);
    memcpy(&hi, (const char *)&v + sizeof lo, sizeof hi);
    return lo + hi;
}

/* wide (the AVX-512 body): 16 k at a time while they last, folded into the 8-wide sums */
AI void dots(const int wide, const int mr, const int n, int K, const float *a, int lda, const float *bt, float *c,
             int ldc, int beta, const float *bias, int act, const float *mask, int ldm)
{
    v8 acc[MR][NARROW];
    int k = 0;
    if (wide && K >= 16) {
        v16 w[MR][NARROW];
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < n; j++) w[i][j] = (v16){0};
        for (; k + 16 <= K; k += 16) {
            v16 bv[NARROW];
            for (int j = 0; j < n; j++) bv[j] = ld16v(bt + (ptrdiff_t)j * K + k);
            for (int i = 0; i < mr; i++) {
                const v16 av = ld16v(a + (ptrdiff_t)i * lda + k);
                for (int j = 0; j < n; j++) w[i][j] += av * bv[j];
            }
        }
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < n; j++) acc[i][j] = fold16(w[i][j]);
    } else {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < n; j++) acc[i][j] = (v8){0};
    }
    for (; k + 8 <= K; k += 8) {
        v8 bv[NARROW];
        for (int j = 0; j < n; j++) bv[j] = ld8(bt + (ptrdiff_t)j * K + k);
        for (int i = 0; i < mr; i++) {
            const v8 av = ld8(a + (ptrdiff_t)i * lda + k);
            for (int j = 0; j < n; j++) acc[i][j] += av * bv[j];
        }
    }
    float sum[MR][NARROW];
#if SRNN_HAVE_SHUFFLE
    if (mr == 4) /* the four rows' sums of one column at once */
        for (int j = 0; j < n; j++) {
            v4 r = sum4(acc[0][j], acc[1][j], acc[2][j], acc[3][j]);
            for (int i = 0; i < 4; i++) sum[i][j] = r[i];
        }
    else
#endif
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < n; j++) {
                float t[8];
                st8(t, acc[i][j]);
                sum[i][j] = ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
            }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < n; j++) {
            float v = sum[i][j];
            for (int q = k; q < K; q++) v += a[(ptrdiff_t)i * lda + q] * bt[(ptrdiff_t)j * K + q];
            float *cij = c + (ptrdiff_t)i * ldc + j;
            v += (beta ? *cij : 0) + (bias ? bias[j] : 0);
            if (act == 1) v = v > 0 ? v : 0;
            if (act == 2) v = mask[(ptrdiff_t)i * ldm + j] > 0 ? v : 0;
            *cij = v;
        }
}

AI void dots_n(const int wide, const int n, int M, int K, const float *A, int lda, const float *bt, float *C,
               int ldc, int beta, const float *bias, int act, const float *mask, int ldm)
{
    int i = 0;
    for (; i + MR <= M; i += MR)
        dots(wide, MR, n, K, A + (ptrdiff_t)i * lda, lda, bt, C + (ptrdiff_t)i * ldc, ldc, beta, bias, act,
             mask ? mask + (ptrdiff_t)i * ldm : NULL, ldm);
    for (; i < M; i++)
        dots(wide, 1, n, K, A + (ptrdiff_t)i * lda, lda, bt, C + (ptrdiff_t)i * ldc, ldc, beta, bias, act,
             mask ? mask + (ptrdiff_t)i * ldm : NULL, ldm);
}

/* C (M, N) = beta C + A (M, K) Bp + bias, then act; Bp packed by srnn_f32_pack: (K, ldbp) with ldbp
 * a multiple of 16 >= N and zero padding, or for N <= NARROW, K >= 8 (N, K) */
AI int is_narrow(int N, int K) { return N <= NARROW && K >= 8; }

/* N <= 8 outputs from a short K (< 8): one 8-wide accumulator per row over the packed (K, 16)
 * rows, the first N lanes stored */
AI void mm_tiny(const int K, int M, int N, const float *A, int lda, const float *Bp, int ldbp, const float *bias,
                int beta, int act, const float *mask, int ldm, float *C, int ldc)
{
    v8 bv[8];
    for (int k = 0; k < K; k++) bv[k] = ld8(Bp + (ptrdiff_t)k * ldbp);
    for (int i = 0; i < M; i++) {
        const float *a = A + (ptrdiff_t)i * lda;
        v8 acc = (v8){0};
        for (int k = 0; k < K; k++) {
            const float x = a[k];
            acc += (v8){x, x, x, x, x, x, x, x} * bv[k];
        }
        float t[8], *c = C + (ptrdiff_t)i * ldc;
        st8(t, acc);
        for (int j = 0; j < N; j++) {
            float v = t[j] + (beta ? c[j] : 0) + (bias ? bias[j] : 0);
            if (act == 1) v = v > 0 ? v : 0;
            if (act == 2) v = mask[(ptrdiff_t)i * ldm + j] > 0 ? v : 0;
            c[j] = v;
        }
    }
}

/* The product's three forms, each compiled as its own function per variant (one body holding
 * all three spills registers in the small ones): narrow outputs (dot products), N <= 8 from a
 * short K, and the tiles. wide: 1 in the AVX-512 body (32-column tiles where the packed rows have
 * 32 entries left), 0 in the others. */
AI void mmn_body(const int wide, int M, int N, int K, const float *A, int lda, const float *Bp, int ldbp,
                 const float *bias, int beta, int act, const float *mask, int ldm, float *C, int ldc)
{
    (void)ldbp;
    {
        switch (N) {
        case 1: dots_n(wide, 1, M, K, A, lda, Bp, C, ldc, beta, bias, act, mask, ldm); break;
        case 2: dots_n(wide, 2, M, K, A, lda, Bp, C, ldc, beta, bias, act, mask, ldm); break;
        case 3: dots_n(wide, 3, M, K, A, lda, Bp, C, ldc, beta, bias, act, mask, ldm); break;
        default: dots_n(wide, 4, M, K, A, lda, Bp, C, ldc, beta, bias, act, mask, ldm); break;
        }
    }
}

AI void mmt_body(const int wide, int M, int N, int K, const float *A, int lda, const float *Bp, int ldbp,
                 const float *bias, int beta, int act, const float *mask, int ldm, float *C, int ldc)
{
    (void)wide;
    {
        switch (K) {
        case 0: mm_tiny(0, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        case 1: mm_tiny(1, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        case 2: mm_tiny(2, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        case 3: mm_tiny(3, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        case 4: mm_tiny(4, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        case 5: mm_tiny(5, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        case 6: mm_tiny(6, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        default: mm_tiny(7, M, N, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc); break;
        }
    }
}

AI void mm_body(const int wide, int M, int N, int K, const float *A, int lda, const float *Bp, int ldbp,
                const float *bias, int beta, int act, const float *mask, int ldm, float *C, int ldc)
{
    int j = 0;
    if (wide)
        for (; j + 2 * NR <= ldbp; j += 2 * NR) {
            int nr = N - j < 2 * NR ? N - j : 2 * NR;
            tile_rows(1, M, K, A, lda, 1, Bp + j, ldbp, C + j, ldc, 1, nr, beta, bias ? bias + j : NULL, act,
                      mask ? mask + j : NULL, ldm);
        }
    for (; j < N; j += NR) {
        int nr = N - j < NR ? N - j : NR;
        tile_rows(0, M, K, A, lda, 1, Bp + j, ldbp, C + j, ldc, 1, nr, beta, bias ? bias + j : NULL, act,
                  mask ? mask + j : NULL, ldm);
    }
}

/* C (M, N) += A^T B for M, N <= 8: one 8-wide row of B per k (its lanes past N are ignored, and
 * the last rows, where 8 entries would run past B, go scalar), two accumulator sets for even and
 * odd k */
AI void atb_tiny(const int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc)
{
    v8 e[8], o[8];
    for (int i = 0; i < M; i++) e[i] = o[i] = (v8){0};
    int kend = K - 1 - (8 - N + ldb - 1) / ldb; /* rows k < kend + 1 can load 8 entries */
    int k = 0;
    for (; k + 1 <= kend; k += 2) {
        const v8 b0 = ld8(B + (ptrdiff_t)k * ldb), b1 = ld8(B + (ptrdiff_t)(k + 1) * ldb);
        const float *a0 = A + (ptrdiff_t)k * lda, *a1 = a0 + lda;
        for (int i = 0; i < M; i++) {
            const float x0 = a0[i], x1 = a1[i];
            e[i] += (v8){x0, x0, x0, x0, x0, x0, x0, x0} * b0;
            o[i] += (v8){x1, x1, x1, x1, x1, x1, x1, x1} * b1;
        }
    }
    for (int i = 0; i < M; i++) {
        float t[8];
        st8(t, e[i] + o[i]);
        for (int j = 0; j < N; j++) {
            float v = t[j];
            for (int q = k; q < K; q++) v += A[(ptrdiff_t)q * lda + i] * B[(ptrdiff_t)q * ldb + j];
            C[(ptrdiff_t)i * ldc + j] += v;
        }
    }
}

/* C (M, N) += A^T B, A (K, M), B (K, N), K long: the vector runs along the wider of M, N
 * (the narrower one gives C's transposed tiles); a partial panel of 16 is copied per
 * chunk of KC rows into zero-padded scratch */
AI void atb_body(const int wide, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                 int ldc)
{
    if (M <= 8 && N <= 8) {
        switch (M) {
        case 1: atb_tiny(1, N, K, A, lda, B, ldb, C, ldc); break;
        case 2: atb_tiny(2, N, K, A, lda, B, ldb, C, ldc); break;
        case 3: atb_tiny(3, N, K, A, lda, B, ldb, C, ldc); break;
        case 4: atb_tiny(4, N, K, A, lda, B, ldb, C, ldc); break;
        case 5: atb_tiny(5, N, K, A, lda, B, ldb, C, ldc); break;
        case 6: atb_tiny(6, N, K, A, lda, B, ldb, C, ldc); break;
        case 7: atb_tiny(7, N, K, A, lda, B, ldb, C, ldc); break;
        default: atb_tiny(8, N, K, A, lda, B, ldb, C, ldc); break;
        }
        return;
    }
    ptrdiff_t csi = ldc, csj = 1;
    if (N < M && N % NR) { /* C^T (N, M) += B^T A */
        const float *tp = A;
        A = B, B = tp;
        int ti = lda;
        lda = ldb, ldb = ti;
        ti = M, M = N, N = ti;
        csi = 1, csj = ldc;
    }
    float pad[KC * NR];
    int padded = 0;
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC;
        const float *Ak = A + (ptrdiff_t)k0 * lda, *Bk = B + (ptrdiff_t)k0 * ldb;
        int j = 0;
        if (wide) /* full 32-column panels straight from B */
            for (; j + 2 * NR <= N; j += 2 * NR)
                tile_rows(1, M, kc, Ak, 1, lda, Bk + j, ldb, C + j * csj, csi, csj, 2 * NR, 1, NULL, 0, NULL, 0);
        for (; j < N; j += NR) {
            int nr = N - j < NR ? N - j : NR;
            const float *bp = Bk + j;
            ptrdiff_t lb = ldb;
            if (nr < NR) { /* the padding columns were zeroed once; every chunk overwrites the first nr */
                if (!padded) memset(pad, 0, sizeof pad), padded = 1;
                for (int k = 0; k < kc; k++)
                    for (int q = 0; q < nr; q++) pad[k * NR + q] = Bk[(ptrdiff_t)k * ldb + j + q];
                bp = pad, lb = NR;
            }
            tile_rows(0, M, kc, Ak, 1, lda, bp, lb, C + j * csj, csi, csj, nr, 1, NULL, 0, NULL, 0);
        }
    }
}

int srnn_f32_isa_cap = 2;

/* 2 AVX-512, 1 AVX2 + FMA, 0 baseline: the best the CPU has, at most srnn_f32_isa_cap */
int srnn_f32_isa(void)
{
#if SRNN_DISPATCH
    int isa = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 2
              : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")     ? 1
                                                                                    : 0;
#else
    int isa = 0;
#endif
    return isa < srnn_f32_isa_cap ? isa : srnn_f32_isa_cap;
}

#if SRNN_DISPATCH
#define UNPACK(...) __VA_ARGS__
/* the bodies take the wide flag first: 1 for AVX-512 only */
#define VARIANTS(name, params, args)                                                                 \
    __attribute__((target("avx512f,avx512vl,avx2,fma"))) static void name##_avx512 params { name##_body(1, UNPACK args); } \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params { name##_body(0, UNPACK args); }               \
    static void name##_base params { name##_body(0, UNPACK args); }                                                 \
    static void name##_dispatch params                                                                   \
    {                                                                                                    \
        int isa = srnn_f32_isa();                                                                        \
        if (isa == 2)                                                                                    \
            name##_avx512 args;                                                                          \
        else if (isa == 1)                                                                               \
            name##_avx2 args;                                                                            \
        else                                                                                             \
            name##_base args;                                                                            \
    }
#else
#define UNPACK(...) __VA_ARGS__
#define VARIANTS(name, params, args) \
    static void name##_dispatch params { name##_body(0, UNPACK args); }
#endif

#define MM_PARAMS                                                                                    \
    (int M, int N, int K, const float *A, int lda, const float *Bp, int ldbp, const float *bias, int beta, \
     int act, const float *mask, int ldm, float *C, int ldc)
#define MM_ARGS (M, N, K, A, lda, Bp, ldbp, bias, beta, act, mask, ldm, C, ldc)
VARIANTS(mm, MM_PARAMS, MM_ARGS)
VARIANTS(mmn, MM_PARAMS, MM_ARGS)
VARIANTS(mmt, MM_PARAMS, MM_ARGS)

/* the form for the shape, then the variant for the CPU */
static void mm_any MM_PARAMS
{
    if (is_narrow(N, K))
        mmn_dispatch MM_ARGS;
    else if (N <= 8 && K < 8)
        mmt_dispatch MM_ARGS;
    else
        mm_dispatch MM_ARGS;
}
VARIANTS(atb, (int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc),
         (M, N, K, A, lda, B, ldb, C, ldc))

static int ld16(int n) { return (n + NR - 1) / NR * NR; }

size_t srnn_f32_packed(int N, int K) { return is_narrow(N, K) ? (size_t)N * K : (size_t)K * ld16(N); }

void srnn_f32_pack(int trans, int N, int K, const float *B, int ldb, float *Bp)
{
    if (is_narrow(N, K)) { /* (N, K) */
        for (int j = 0; j < N; j++)
            for (int k = 0; k < K; k++) Bp[(size_t)j * K + k] = trans ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
        return;
    }
    int ld = ld16(N);
    for (int k = 0; k < K; k++) {
        float *row = Bp + (size_t)k * ld;
        if (trans)
            for (int j = 0; j < N; j++) row[j] = B[(size_t)j * ldb + k];
        else
            memcpy(row, B + (size_t)k * ldb, N * sizeof(float));
        for (int j = N; j < ld; j++) row[j] = 0;
    }
}

void srnn_f32_mm(int M, int N, int K, const float *A, int lda, const float *Bp, const float *bias, int beta,
                 int act, const float *mask, int ldm, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    mm_any(M, N, K, A, lda, Bp, is_narrow(N, K) ? K : ld16(N), bias, beta, act, mask, ldm, C, ldc);
}

void srnn_f32_atb(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc)
{
    if (M <= 0 || N <= 0 || K <= 0) return;
    atb_dispatch(M, N, K, A, lda, B, ldb, C, ldc);
}

/* Drop-in for srnn_sgemm (alpha 1, beta 0 or 1): the right-hand side packed on the stack when it
 * is small, BLAS otherwise. */

void srnn_sgemm_small(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    int b01 = beta == 0 || beta == 1;
    if (alpha == 1 && b01 && !ta && (K >= 8 || N <= 8) && srnn_f32_packed(N, K) <= SRNN_F32_PACK_MAX) {
        float Bp[SRNN_F32_PACK_MAX];
        srnn_f32_pack(tb, N, K, B, ldb, Bp);
        mm_any(M, N, K, A, lda, Bp, is_narrow(N, K) ? K : ld16(N), NULL, beta != 0, 0, NULL, 0, C, ldc);
        return;
    }
    if (alpha == 1 && b01 && ta && !tb) {
        if (beta == 0)
            for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, N * sizeof(float));
        if (K > 0) atb_dispatch(M, N, K, A, lda, B, ldb, C, ldc);
        return;
    }
    srnn_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
