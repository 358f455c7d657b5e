/* Elman RNN sequence kernels, instantiated by rnn.c for REAL = double and
 * float (GEMM = cblas_dgemm / cblas_sgemm, TANH = tanh / tanhf). Not a public
 * header. */

// hs is (T, B, H), x is (T, B, D) or NULL, h0 is (B, H) or NULL
void NN_NAME(ndyn_nn_rnn_forward)(REAL *hs, const REAL *x, const REAL *h0, const REAL *w_ih,
                                 const REAL *w_hh, const REAL *b_ih, const REAL *b_hh,
                                 size_t T, size_t B, size_t D, size_t H)
{
    size_t BH = B * H;
    for (size_t r = 0; r < T * B; r++)
        for (size_t j = 0; j < H; j++)
            hs[r * H + j] = (b_ih ? b_ih[j] : (REAL)0) + (b_hh ? b_hh[j] : (REAL)0);
    /* the input products of all steps at once: hs (T B, H) += x (T B, D) W_ih^T */
    if (x && w_ih && D)
        GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(T * B), (int)H, (int)D, (REAL)1, x,
             (int)D, w_ih, (int)D, (REAL)1, hs, (int)H);
    for (size_t t = 0; t < T; t++) {
        REAL *h = hs + t * BH;
        const REAL *hp = t ? hs + (t - 1) * BH : h0;
        if (hp && w_hh)
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)H, (int)H, (REAL)1, hp,
                 (int)H, w_hh, (int)H, (REAL)1, h, (int)H);
        for (size_t i = 0; i < BH; i++) h[i] = TANH(h[i]);
    }
}

/* BPTT with dpre (T, B, H) the pre-activation gradients and cur (B, H) the
 * gradient carried from step t+1 (may be NULL when T == 1). */
static void NN_NAME(rnn_backward_impl)(REAL *dx, REAL *dh0, REAL *dw_ih, REAL *dw_hh,
                                      REAL *db_ih, REAL *db_hh, const REAL *dhs, const REAL *hs,
                                      const REAL *x, const REAL *h0, const REAL *w_ih,
                                      const REAL *w_hh, size_t T, size_t B, size_t D, size_t H,
                                      REAL *dpre, REAL *cur)
{
    size_t BH = B * H;
    for (size_t tt = T; tt-- > 0;) {
        REAL *dp = dpre + tt * BH;
        const REAL *h = hs + tt * BH, *dh = dhs + tt * BH;
        int carry = cur && w_hh && tt + 1 < T;
        for (size_t i = 0; i < BH; i++)
            dp[i] = (dh[i] + (carry ? cur[i] : (REAL)0)) * ((REAL)1 - h[i] * h[i]);
        if (!w_hh) continue;
        if (tt > 0)
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)H, (int)H, (REAL)1, dp,
                 (int)H, w_hh, (int)H, (REAL)0, cur, (int)H);
        else if (dh0)  /* also when h0 is NULL (a zero state has a gradient too) */
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)H, (int)H, (REAL)1, dp,
                 (int)H, w_hh, (int)H, (REAL)1, dh0, (int)H);
    }
    if (db_ih || db_hh)
        for (size_t r = 0; r < T * B; r++)
            for (size_t j = 0; j < H; j++) {
                if (db_ih) db_ih[j] += dpre[r * H + j];
                if (db_hh) db_hh[j] += dpre[r * H + j];
            }
    if (w_hh && dw_hh) {
        /* dW_hh (H, H) += sum_t dpre_t^T h_{t-1} */
        if (T > 1)
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)H, (int)((T - 1) * B),
                 (REAL)1, dpre + BH, (int)H, hs, (int)H, (REAL)1, dw_hh, (int)H);
        if (h0)
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)H, (int)B, (REAL)1, dpre,
                 (int)H, h0, (int)H, (REAL)1, dw_hh, (int)H);
    }
    if (x && w_ih && D) {
        if (dx)  /* dx (T B, D) += dpre (T B, H) W_ih (H, D) */
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(T * B), (int)D, (int)H,
                 (REAL)1, dpre, (int)H, w_ih, (int)D, (REAL)1, dx, (int)D);
        if (dw_ih)  /* dW_ih (H, D) += dpre^T (H, T B) x (T B, D) */
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)D, (int)(T * B), (REAL)1,
                 dpre, (int)H, x, (int)D, (REAL)1, dw_ih, (int)D);
    }
}

void NN_NAME(ndyn_nn_rnn_backward)(REAL *dx, REAL *dh0, REAL *dw_ih, REAL *dw_hh, REAL *db_ih,
                                  REAL *db_hh, const REAL *dhs, const REAL *hs, const REAL *x,
                                  const REAL *h0, const REAL *w_ih, const REAL *w_hh, size_t T,
                                  size_t B, size_t D, size_t H, REAL *work)
{
    NN_NAME(rnn_backward_impl)(dx, dh0, dw_ih, dw_hh, db_ih, db_hh, dhs, hs, x, h0, w_ih, w_hh,
                               T, B, D, H, work, work + T * B * H);
}
