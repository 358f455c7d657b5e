/* The emission MLP of the float32 training path in row blocks: forward
 * through all layers for RB rows at a time (the block's activations stay in
 * L1/L2 from one layer to the next, bias and relu applied as the tile is
 * stored), and backward the same way once dJ/dg is known (it needs the HMM
 * pass, so the forward activations are kept for all rows): per block the
 * weight gradients accumulate from the block's rows, and dJ/d(input) goes
 * through the relu mask into the next layer down without leaving the block.
 * The products are src/srnn/gemm_f32.c's. */
#include <stdlib.h>
#include <string.h>

#include "ndyn/core.h"
#include "srnn_internal.h"

/* 8-float vectors passed between inlined helpers: the note that their ABI
 * differs without AVX is moot (nothing here is called across objects by
 * value), and the build of every variant would repeat it. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

enum { RB = 128 };

/* packed weights: Wf[i] (din, ld(dout)) = W_i^T for the forward, Wb[i] (dout, ld(din)) = W_i for the
 * backward; returns the buffer (caller frees) or NULL */
static float *pack_all(const float *th, const srnn_layout *l, int back, float **Wp)
{
    size_t tot = 0;
    for (int i = 0; i < l->L; i++) {
        int din = l->dims[i], dout = l->dims[i + 1];
        tot += back ? srnn_f32_packed(din, dout) : srnn_f32_packed(dout, din);
    }
    float *buf = ndyn_malloc_array(tot ? tot : 1, sizeof(float)), *p = buf;
    if (!buf) return NULL;
    for (int i = 0; i < l->L; i++) {
        int din = l->dims[i], dout = l->dims[i + 1];
        Wp[i] = p;
        if (back) {
            srnn_f32_pack(0, din, dout, th + l->emis_W[i], din, p);
            p += srnn_f32_packed(din, dout);
        } else {
            srnn_f32_pack(1, dout, din, th + l->emis_W[i], din, p);
            p += srnn_f32_packed(dout, din);
        }
    }
    return buf;
}

int srnn_emission_fwd_f32(const float *th, const srnn_layout *l, float *const *act, size_t n)
{
    float *Wp[NDYN_SRNN_MAX_LAYERS + 1];
    float *buf = pack_all(th, l, 0, Wp);
    if (!buf) return ndyn_error(NDYN_ENOMEM, "srnn: out of memory packing the emission weights");
    for (size_t r0 = 0; r0 < n; r0 += RB) {
        int rb = (int)(n - r0 < RB ? n - r0 : RB);
        for (int i = 0; i < l->L; i++) {
            int din = l->dims[i], dout = l->dims[i + 1];
            srnn_f32_mm(rb, dout, din, act[i] + r0 * din, din, Wp[i], th + l->emis_b[i], 0, i + 1 < l->L ? 1 : 0,
                        NULL, 0, act[i + 1] + r0 * dout, dout);
        }
    }
    free(buf);
    return NDYN_OK;
}

int srnn_emission_bwd_f32(const float *th, const srnn_layout *l, float *const *act, size_t n, const float *dg,
                          float *gr, float *dh)
{
    float *Wp[NDYN_SRNN_MAX_LAYERS + 1];
    int maxd = 1;
    for (int i = 1; i < l->L; i++) maxd = l->dims[i] > maxd ? l->dims[i] : maxd;
    float *buf = pack_all(th, l, 1, Wp);
    float *scr = ndyn_malloc_array(2 * (size_t)RB * maxd, sizeof(float));
    if (!buf || !scr) {
        free(buf);
        free(scr);
        return ndyn_error(NDYN_ENOMEM, "srnn: out of memory in the emission backward");
    }
    const int H = l->H, N = l->N;
    for (size_t r0 = 0; r0 < n; r0 += RB) {
        int rb = (int)(n - r0 < RB ? n - r0 : RB);
        const float *dout = dg + r0 * N;
        float *din = scr, *spare = scr + (size_t)RB * maxd;
        for (int i = l->L - 1; i >= 0; i--) {
            int di = l->dims[i], dO = l->dims[i + 1];
            const float *ai = act[i] + r0 * di;
            srnn_f32_atb(dO, di, rb, dout, dO, ai, di, gr + l->emis_W[i], di);
            float *gb = gr + l->emis_b[i];
            for (int r = 0; r < rb; r++)
                for (int j = 0; j < dO; j++) gb[j] += dout[(size_t)r * dO + j];
            if (i == 0) {
                srnn_f32_mm(rb, di, dO, dout, dO, Wp[0], NULL, 1, 0, NULL, 0, dh + r0 * H, H);
            } else {
                srnn_f32_mm(rb, di, dO, dout, dO, Wp[i], NULL, 0, 2, ai, di, din, di);
                dout = din;
                float *t = din;
                din = spare;
                spare = t;
            }
        }
    }
    free(buf);
    free(scr);
    return NDYN_OK;
}

int srnn_f32_own = 3;

/* Measured against OpenBLAS on one thread (tmp driver, 4000 rows, H 16, N 50): the blocks win 1.5x
 * at hidden widths 64/128, 1.2x at 128/256, break even at 256/512 (the backward alone); wider
 * layers go to BLAS. */
int srnn_emission_own_f32(const srnn_layout *l)
{
    if (!(srnn_f32_own & 1)) return 0;
    for (int i = 0; i < l->L; i++)
        if ((size_t)l->dims[i] * l->dims[i + 1] > 256 * 512) return 0;
    return 1;
}
