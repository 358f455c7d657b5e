/* The batched collapsed ELBO and its gradient (see objective.c), written once
 * for a real type REAL and included twice by objective.c: as double (the
 * reference path, used by every test and by inference) and as float (the
 * optional float32 training path, ndyn_srnn_params.precision). The networks
 * (encoders, sampler, dynamics, transitions, emission) and their BPTT run in
 * REAL; the per-trial HMM part (evidence e, log transitions S, forward-
 * backward, its seeds and adjoints) is always double.
 *
 * Before including: REAL, SFX(name) (name suffix), GEMM (srnn_gemm or
 * srnn_sgemm), TANHA (in-place tanh of an array), EXPR, LOGR, SQRTR, and
 * REAL_IS_FLOAT (0 or 1). */

/* Pointers into one typed pool (all REAL). */
typedef struct {
    REAL *uf, *ub, *E, *a, *s, *h, *r1, *ly, *F, *Lt, *Am; /* r1: relu of the sampler's first layer */
    REAL *act[NDYN_SRNN_MAX_LAYERS + 2];
    REAL *dh, *d1, *d2, *gL, *dz1, *da, *dps, *dE, *dp;
    REAL *vh, *vq, *sq, *v0, *vy, *ivh, *ivy, *acc; /* acc: (max(H, N)) scratch */
    REAL *ones;              /* (TB) all 1: column sums as GEMV */
    REAL *y, *eps, *th, *gr; /* float path only: converted inputs, theta, gradient, */
    REAL *pk;                /* and the sampler's packed step weights (SRNN_F32_STEP_PACK) */
} SFX(bufs);

static void SFX(carve)(const srnn_ws *w, REAL *p, SFX(bufs) *b)
{
    size_t TB = w->TB, K = w->K, H = w->H, N = w->N, KK = K * K, S1 = w->S1;
    memset(b, 0, sizeof *b);
#define CUT(field, cnt) (b->field = p, p += (cnt))
    CUT(uf, TB * H);
    CUT(ub, TB * H);
    CUT(E, TB * H);
    CUT(a, TB * H);
    CUT(s, TB * H);
    CUT(h, TB * H);
    CUT(r1, TB * S1);
    CUT(ly, TB);
    CUT(F, K * TB * H);
    CUT(Lt, TB * KK);
    CUT(Am, TB * KK);
    b->act[0] = b->h;
    for (int i = 1; i <= w->L; i++) CUT(act[i], TB * (size_t)w->dims[i]);
    CUT(dh, TB * H);
    CUT(d1, TB * (size_t)w->maxd);
    CUT(d2, TB * (size_t)w->maxd);
    CUT(gL, TB * KK);
    CUT(dz1, TB * S1);
    CUT(da, TB * H);
    CUT(dps, TB * H);
    CUT(dE, TB * H);
    CUT(dp, TB * H);
    CUT(vh, H);
    CUT(vq, H);
    CUT(sq, H);
    CUT(v0, H);
    CUT(ivh, H);
    CUT(vy, N);
    CUT(ivy, N);
    CUT(acc, H > N ? H : N);
    CUT(ones, TB);
#if REAL_IS_FLOAT
    CUT(y, TB * N);
    CUT(eps, TB * H);
    CUT(th, w->n_theta);
    CUT(gr, w->n_theta);
    CUT(pk, SRNN_F32_STEP_PACK);
#endif
#undef CUT
}

/* out (rows, n) = bias (n) in every row: the C of a following beta = 1 GEMM
 * (OpenBLAS zeroes C in a separate pass when beta = 0) */
static void SFX(bias_fill)(REAL *out, const REAL *bias, size_t rows, int n)
{
    if (!rows) return;
    memcpy(out, bias, n * sizeof(REAL));
    /* double the filled block: a few long copies instead of one short loop per row */
    for (size_t done = 1; done < rows;) {
        size_t c = done < rows - done ? done : rows - done;
        memcpy(out + done * n, out, c * n * sizeof(REAL));
        done += c;
    }
}

/* out (rows, n) = bias (n) + A (rows, k) W^T, W (n, k) with leading dimension ldw; in float through
 * the own kernels with the bias added as the tiles are stored (no separate fill pass) */
static void SFX(gemm_bias)(REAL *out, const REAL *bias, size_t rows, int n, int k, const REAL *A, int lda,
                           const REAL *Wt, int ldw)
{
#if REAL_IS_FLOAT
    if ((srnn_f32_own & 2) && srnn_f32_packed(n, k) <= SRNN_F32_PACK_MAX) {
        float Bp[SRNN_F32_PACK_MAX];
        srnn_f32_pack(1, n, k, Wt, ldw, Bp);
        srnn_f32_mm((int)rows, n, k, A, lda, Bp, bias, 0, 0, NULL, 0, out, n);
        return;
    }
#endif
    SFX(bias_fill)(out, bias, rows, n);
    GEMM(0, 1, (int)rows, n, k, 1, A, lda, Wt, ldw, 1, out, n);
}

static void SFX(relu)(REAL *x, size_t n)
{
    for (size_t q = 0; q < n; q++) x[q] = x[q] > 0 ? x[q] : 0;
}

/* out (rows, n) = out + bias (n), then act: 0 none, 1 relu, 2 tanh. */
static void SFX(bias_act)(REAL *out, const REAL *bias, size_t rows, int n, int act)
{
    for (size_t r = 0; r < rows; r++) {
        REAL *o = out + r * n;
        for (int j = 0; j < n; j++) o[j] += bias[j];
        if (act == 1)
            for (int j = 0; j < n; j++) o[j] = o[j] > 0 ? o[j] : 0;
    }
    if (act == 2) TANHA(out, rows * (size_t)n);
}

/* out (n) += column sums of x (rows, n); with a ones vector (rows) as x^T 1 */
static void SFX(colsum_add)(const REAL *x, size_t rows, int n, REAL *out, const REAL *ones)
{
    if (rows && n) GEMV(CblasRowMajor, CblasTrans, (int)rows, n, 1, x, n, ones, 1, 1, out, 1);
}

/* column log-softmax of logits Lt (K, K) (with tanh/base) into S (double),
 * probabilities into A (REAL) and Ad (double); each output skipped when NULL
 * (the column's log only when S is wanted; exp(0) = 1 at the column's maximum
 * is not computed) */
static void SFX(col_logsoftmax)(const double *Lt, int K, double *S, REAL *A, double *Ad)
{
    double ex[64];
    for (int j = 0; j < K; j++) {
        int am = 0;
        for (int i = 1; i < K; i++) am = Lt[i * K + j] > Lt[am * K + j] ? i : am;
        double mx = Lt[am * K + j], s = 0;
        for (int i = 0; i < K; i++) s += ex[i] = i == am ? 1.0 : exp(Lt[i * K + j] - mx);
        double is = 1 / s;
        if (S) {
            double ls = mx + log(s);
            for (int i = 0; i < K; i++) S[i * K + j] = Lt[i * K + j] - ls;
        }
        for (int i = 0; i < K; i++) {
            if (A) A[i * K + j] = (REAL)(ex[i] * is);
            if (Ad) Ad[i * K + j] = ex[i] * is;
        }
    }
}

/* the logits of row r (t >= 1) with the base added, into Ltmp (K, K) */
static void SFX(trans_logits)(const REAL *Lt, const double *base, int KK, double *Ltmp)
{
    for (int q = 0; q < KK; q++) Ltmp[q] = Lt[q];
    if (base)
        for (int q = 0; q < KK; q++) Ltmp[q] += base[q];
}

static void SFX(emission_fwd)(const REAL *th, const srnn_layout *l, REAL *const *act, size_t n)
{
    for (int i = 0; i < l->L; i++) {
        int din = l->dims[i], dout = l->dims[i + 1];
        SFX(bias_fill)(act[i + 1], th + l->emis_b[i], n, dout);
        GEMM(0, 1, (int)n, dout, din, 1, act[i], din, th + l->emis_W[i], din, 1, act[i + 1], dout);
        if (i + 1 < l->L) SFX(relu)(act[i + 1], n * (size_t)dout);
    }
}

/* emission backward through BLAS: dJ/dg in b->d1 (n, N); weight gradients into gr, dJ/dh into b->dh */
static void SFX(emission_bwd)(const REAL *th, const srnn_layout *l, const SFX(bufs) *b, size_t n, REAL *gr)
{
    REAL *dout = b->d1, *din = b->d2;
    const int H = l->H;
    for (int i = l->L - 1; i >= 0; i--) {
        int di = l->dims[i], dO = l->dims[i + 1];
        GEMM(1, 0, dO, di, (int)n, 1, dout, dO, b->act[i], di, 1, gr + l->emis_W[i], di);
        SFX(colsum_add)(dout, n, dO, gr + l->emis_b[i], b->ones);
        if (i == 0) {
            GEMM(0, 0, (int)n, di, dO, 1, dout, dO, th + l->emis_W[i], di, 1, b->dh, H);
        } else {
            GEMM(0, 0, (int)n, di, dO, 1, dout, dO, th + l->emis_W[i], di, 0, din, di);
            const REAL *ai = b->act[i];
            for (size_t q = 0; q < n * (size_t)di; q++) din[q] = ai[q] > 0 ? din[q] : 0;
            REAL *tmp = dout;
            dout = din;
            din = tmp;
        }
    }
}

static int SFX(batch_impl)(const ndyn_srnn_model *m, const srnn_layout *l, srnn_ws *w,
                           const double *yd, const double *epsd, const double *P, double coef,
                           double *Jout, double *J_trial, double *elbo_trial, double *grad)
{
    const ndyn_srnn_params *p = &m->p;
    const int K = l->K, H = l->H, N = l->N, S1 = l->S1, KK = K * K;
    const size_t B = w->B, T = w->T, TB = w->TB;
    const int iB = (int)B;
    SFX(bufs) bf;
    SFX(carve)(w, (REAL *)w->pool[REAL_IS_FLOAT], &bf);
    SFX(bufs) *const W = &bf;
    for (size_t q = 0; q < TB; q++) bf.ones[q] = 1;
#if REAL_IS_FLOAT
    for (size_t q = 0; q < m->n_theta; q++) bf.th[q] = (REAL)m->theta[q];
    if (w->y32_src != yd) { /* the data of a workspace do not change between calls (srnn_batch_f32) */
        for (size_t q = 0; q < TB * (size_t)N; q++) bf.y[q] = (REAL)yd[q];
        w->y32_src = yd;
    }
    if (epsd)
        for (size_t q = 0; q < TB * (size_t)H; q++) bf.eps[q] = (REAL)epsd[q];
    const REAL *th = bf.th, *y = bf.y, *eps = epsd ? bf.eps : NULL;
    REAL *gr = grad ? bf.gr : NULL;
    if (gr) memset(gr, 0, m->n_theta * sizeof(REAL));
#else
    const REAL *th = m->theta, *y = yd, *eps = epsd;
    REAL *gr = grad;
    w->h64 = bf.h;
    w->g64 = bf.act[l->L];
#endif
    const double *thd = m->theta;
    const double vmin_h = p->learn_var_h ? p->var_min : 0, vmin_y = p->learn_var_y ? p->var_min : 0,
                 vmin_q = p->learn_var_q ? p->var_min : 0;
    REAL *vh = W->vh, *vq = W->vq, *sq = W->sq, *v0 = W->v0, *vy = W->vy, *ivh = W->ivh, *ivy = W->ivy;
    for (int d = 0; d < H; d++) {
        double vhd = srnn_var(thd[l->logvar_h + d], vmin_h), vqd = srnn_var(thd[l->logvar_q + d], vmin_q);
        vh[d] = (REAL)vhd;
        vq[d] = (REAL)vqd;
        sq[d] = (REAL)sqrt(vqd);
        v0[d] = (REAL)(l->n_h0 ? srnn_var(thd[l->h0_logvar + d], p->var_min) : 1);
        ivh[d] = (REAL)(1 / vhd);
    }
    /* ---------------- encoders: they read the held-in channels only (held-out ones as 0) */
    const REAL *yenc = y;
    if (m->n_heldout) {
        if (!w->yin[REAL_IS_FLOAT] && !(w->yin[REAL_IS_FLOAT] = ndyn_malloc_array(TB * (size_t)N, sizeof(REAL))))
            return NDYN_ENOMEM;
        REAL *yi = (REAL *)w->yin[REAL_IS_FLOAT];
        memcpy(yi, y, TB * (size_t)N * sizeof(REAL));
        for (size_t r = 0; r < TB; r++)
            for (size_t q = 0; q < m->n_heldout; q++) yi[r * N + m->heldout[q]] = 0;
        yenc = yi;
    }
    const REAL *Wfx = th + l->encf_Wx, *Wfh = th + l->encf_Wh, *bfw = th + l->encf_b;
#if REAL_IS_FLOAT
    /* the recurrent weights packed once for all steps (the sampler's region, not yet in use;
     * the same products as through srnn_sgemm_small, which packs per call) */
    const int encpk = (srnn_f32_own & 2) && srnn_f32_packed(H, H) <= SRNN_F32_PACK_MAX;
    if (encpk) srnn_f32_pack(1, H, H, Wfh, H, W->pk);
#endif
/* out (iB, H) = beta out + x Wr^T (forward, tb 1) or x Wr (backward, tb 0), Wr an encoder's (H, H)
 * recurrent weights; in float with encpk, through pkr: Wr packed in that orientation */
#if REAL_IS_FLOAT
#define ENC_MM(tb, x, Wr, pkr, beta, out)                                                        \
    do {                                                                                         \
        if (encpk)                                                                               \
            srnn_f32_mm(iB, H, H, x, H, pkr, NULL, beta, 0, NULL, 0, out, H);                    \
        else                                                                                     \
            GEMM(0, tb, iB, H, H, 1, x, H, Wr, H, beta, out, H);                                 \
    } while (0)
#else
#define ENC_MM(tb, x, Wr, pkr, beta, out) GEMM(0, tb, iB, H, H, 1, x, H, Wr, H, beta, out, H)
#endif
    SFX(gemm_bias)(W->uf, bfw, TB, H, N, yenc, N, Wfx, N);
    for (size_t t = 0; t < T; t++) {
        REAL *u = W->uf + t * B * H;
        if (t) ENC_MM(1, u - B * H, Wfh, W->pk, 1, u);
        TANHA(u, B * (size_t)H);
    }
    memcpy(W->E, W->uf, TB * H * sizeof(REAL));
    if (l->n_encb) {
        const REAL *Wbx = th + l->encb_Wx, *Wbh = th + l->encb_Wh, *bb = th + l->encb_b;
#if REAL_IS_FLOAT
        if (encpk) srnn_f32_pack(1, H, H, Wbh, H, W->pk + SRNN_F32_PACK_MAX);
#endif
        SFX(gemm_bias)(W->ub, bb, TB, H, N, yenc, N, Wbx, N);
        for (size_t t = T; t-- > 0;) {
            REAL *u = W->ub + t * B * H;
            if (t + 1 < T) ENC_MM(1, u + B * H, Wbh, W->pk + SRNN_F32_PACK_MAX, 1, u);
            TANHA(u, B * (size_t)H);
        }
        for (size_t q = 0; q < TB * H; q++) W->E[q] += W->ub[q];
    }
    /* ---------------- sampler */
    const REAL *W1 = th + l->s1_W, *b1 = th + l->s1_b, *W2 = th + l->s2_W, *b2 = th + l->s2_b;
    const REAL *Wma = th + l->m_Wa, *Wms = th + l->m_Ws, *bm = th + l->m_b;
    /* first layer: the encoder part for all rows at once, the h_{t-1} part per step */
    SFX(gemm_bias)(W->r1, b1, TB, S1, H, W->E, H, W1, 2 * H);
#if REAL_IS_FLOAT
    /* the h_{t-1} part packed once for all steps, the relu applied as its tiles are stored */
    /* which packs fit (the same for the backward pass): the (S1, H) block alone (spk1), and
     * with it the step's other three weights (spk_step) */
    const int PM = SRNN_F32_PACK_MAX;
    const int spk1 = (srnn_f32_own & 2) && srnn_f32_packed(S1, H) <= PM;
    const int spk_step = spk1 && srnn_f32_packed(H, S1) <= PM && srnn_f32_packed(H, H) <= PM / 2;
    float *pW1h = W->pk, *pW2t = W->pk + PM, *pWma = W->pk + 2 * PM, *pWms = pWma + PM / 2;
    if (spk1) srnn_f32_pack(1, S1, H, W1 + H, 2 * H, pW1h);
    /* and the step's other three weights */
    if (spk_step) {
        srnn_f32_pack(1, H, S1, W2, S1, pW2t);
        srnn_f32_pack(1, H, H, Wma, H, pWma);
        srnn_f32_pack(1, H, H, Wms, H, pWms);
    }
#endif
    for (size_t t = 0; t < T; t++) {
        REAL *r1 = W->r1 + t * B * S1, *a = W->a + t * B * H, *s = W->s + t * B * H,
             *h = W->h + t * B * H;
#if REAL_IS_FLOAT
        if (t && spk1) {
            srnn_f32_mm(iB, S1, H, h - B * H, H, pW1h, NULL, 1, 1, NULL, 0, r1, S1);
        } else
#endif
        {
            if (t) GEMM(0, 1, iB, S1, H, 1, h - B * H, H, W1 + H, 2 * H, 1, r1, S1);
            SFX(relu)(r1, B * (size_t)S1);
        }
#if REAL_IS_FLOAT
        if (spk_step) { /* the biases added in the kernel */
            srnn_f32_mm(iB, H, S1, r1, S1, pW2t, b2, 0, 0, NULL, 0, a, H);
            srnn_f32_mm(iB, H, H, a, H, pWma, bm, 0, 0, NULL, 0, s, H);
            if (t) srnn_f32_mm(iB, H, H, s - B * H, H, pWms, NULL, 1, 0, NULL, 0, s, H);
            TANHA(s, B * (size_t)H);
        } else
#endif
        {
            GEMM(0, 1, iB, H, S1, 1, r1, S1, W2, S1, 0, a, H);
            SFX(bias_act)(a, b2, B, H, 0);
            GEMM(0, 1, iB, H, H, 1, a, H, Wma, H, 0, s, H);
            if (t) GEMM(0, 1, iB, H, H, 1, s - B * H, H, Wms, H, 1, s, H);
            SFX(bias_act)(s, bm, B, H, 2);
        }
        for (size_t b = 0; b < B; b++)
            for (int d = 0; d < H; d++) {
                size_t q = b * H + d;
                h[q] = s[q] + (eps ? sq[d] * eps[t * B * H + q] : 0);
            }
    }
    /* ---------------- emission and log p(y | h) */
#if REAL_IS_FLOAT
    if (SRNN_F32_OWN_EMISSION(l)) {
        int rc = srnn_emission_fwd_f32(th, l, W->act, TB);
        if (rc) return rc;
    } else
#endif
        SFX(emission_fwd)(th, l, W->act, TB);
    const REAL *g = W->act[l->L];
    if (p->emission == NDYN_SRNN_GAUSSIAN) {
        double c = 0;
        for (int j = 0; j < N; j++) {
            double vyd = srnn_var(thd[l->logvar_y + j], vmin_y);
            vy[j] = (REAL)vyd;
            ivy[j] = (REAL)(1 / vyd);
            c += LOG2PI + log(vyd);
        }
        for (size_t r = 0; r < TB; r++) {
            REAL s = 0;
#pragma omp simd reduction(+ : s)
            for (int j = 0; j < N; j++) {
                REAL u = y[r * N + j] - g[r * N + j];
                s += u * u * ivy[j];
            }
            W->ly[r] = (REAL)(-0.5 * (c + s));
        }
    } else {
        for (size_t r = 0; r < TB; r++) {
            double s = 0;
            for (int j = 0; j < N; j++) {
                double yy = y[r * N + j], lam = softplus(g[r * N + j]) + 1e-8;
                s += yy * log(lam) - lam - lgamma(yy + 1);
            }
            W->ly[r] = (REAL)s;
        }
    }
    /* ---------------- dynamics: F_k rows t >= 1 */
    size_t R1 = (T - 1) * B; /* rows t >= 1 */
    for (int k = 0; k < K; k++) {
        REAL *F = W->F + (size_t)k * TB * H;
        const REAL *Wk = th + l->dyn_W + (size_t)k * H * H, *bk = th + l->dyn_b + (size_t)k * H;
        SFX(gemm_bias)(F + B * H, bk, R1, H, H, W->h, H, Wk, H);
        TANHA(F + B * H, R1 * H);
    }
    /* ---------------- transitions: logits rows t >= 1 */
    const REAL *Ws = th + l->trans_W, *bs = th + l->trans_b;
    SFX(gemm_bias)(W->Lt + B * KK, bs, R1, KK, H, W->h, H, Ws, H);
    if (p->transition == NDYN_SRNN_TRANS_TANH) TANHA(W->Lt + B * KK, R1 * KK);
    srnn_log_pi(m, l, w->lpi);
    double lvh = 0, lv0 = 0;
    for (int d = 0; d < H; d++) lvh += LOG2PI + log((double)vh[d]), lv0 += LOG2PI + log((double)v0[d]);
    double Ltmp[64 * 64];
    const double *tbase = l->n_trans_B ? thd + l->trans_B : NULL;
    /* S (the log transitions) is read by the compat objective, the cross-entropy adjoint, the
     * log-domain forward-backward and, after an evaluation, Viterbi; the plain ELBO's gradient
     * pass needs the probabilities only and builds a trial's S when its probability-domain
     * forward-backward falls back */
    const int compat = p->objective == NDYN_SRNN_OBJ_COMPAT, want_S = !gr || compat || (P && coef != 0);
    for (size_t t = 0; t < T; t++) /* rows in memory order; e and S are per trial */
        for (size_t b = 0; b < B; b++) {
            double *e = w->e + b * T * K, *S = w->S + b * T * KK;
            size_t r = t * B + b;
            const REAL *ht = W->h + r * H;
            for (int k = 0; k < K; k++) {
                double q = 0;
                if (t == 0) {
                    if (l->n_h0) {
                        const REAL *mu = th + l->h0_mu + (size_t)k * H;
                        REAL qq = 0;
#pragma omp simd reduction(+ : qq)
                        for (int d = 0; d < H; d++) qq += (ht[d] - mu[d]) * (ht[d] - mu[d]) / v0[d];
                        q = -0.5 * (qq + lv0);
                    }
                } else {
                    const REAL *F = W->F + ((size_t)k * TB + r) * H;
                    REAL qq = 0;
#pragma omp simd reduction(+ : qq)
                    for (int d = 0; d < H; d++) qq += (ht[d] - F[d]) * (ht[d] - F[d]) * ivh[d];
                    q = -0.5 * (qq + lvh);
                }
                e[t * K + k] = q + W->ly[r];
            }
            if (t) {
                SFX(trans_logits)(W->Lt + r * KK, tbase, KK, Ltmp);
                SFX(col_logsoftmax)(Ltmp, K, want_S ? S + t * KK : NULL, W->Am + r * KK, w->Ad + (b * T + t) * KK);
            }
        }
    /* ---------------- forward-backward per trial, objective */
    double ent_c = 0;
    for (int d = 0; d < H; d++) ent_c += 0.5 * (LOG2PI + log((double)vq[d]));
    double Jsum = 0;
    /* the plain ELBO assigns every gS entry it reads; compat and the cross-entropy add */
    if (gr && (p->objective == NDYN_SRNN_OBJ_COMPAT || (P && coef != 0))) memset(w->gS, 0, B * T * KK * sizeof(double));
    double glpi[64] = {0};
    for (size_t b = 0; b < B; b++) {
        double *e = w->e + b * T * K, *S = w->S + b * T * KK, *la = w->la + b * T * K,
               *lb = w->lb + b * T * K, *lc = w->lc + b * T, *gam = w->ge + b * T * K,
               *xi = w->xi + b * T * KK;
        double lp;
        int rc = NDYN_OK;
        /* the plain ELBO needs gamma, xi and log p only: the probability-domain pass
         * (falls back to the log domain if it under/overflows); compat and the
         * cross-entropy adjoints need the log-domain alpha, beta */
        if (compat || (P && coef != 0) || srnn_fb_prob(w->lpi, w->Ad + b * T * KK, e, T, K, gam, xi, &lp, w->fbs)) {
            if (!want_S) /* this trial's S, not built above */
                for (size_t t = 1; t < T; t++) {
                    SFX(trans_logits)(W->Lt + (t * B + b) * KK, tbase, KK, Ltmp);
                    SFX(col_logsoftmax)(Ltmp, K, S + t * KK, NULL, NULL);
                }
            rc = ndyn_srnn_forward_backward(w->lpi, S, e, T, K, la, lb, lc, gam, xi, &lp);
            if (rc) return rc;
        }
        for (size_t t = 0; t < T; t++)
            memcpy(w->gamma_tm + (t * B + b) * K, gam + t * K, K * sizeof(double));
        double ent = ent_c * T;
        if (epsd)
            for (size_t t = 0; t < T; t++) {
                const double *u = epsd + (t * B + b) * H;
                double su = 0;
#pragma omp simd reduction(+ : su)
                for (int d = 0; d < H; d++) su += u[d] * u[d];
                ent += 0.5 * su;
            }
        double elbo = lp + ent, ce = 0, cval = 0;
        double *cg = w->cs, *cab = w->cs + T * K, *cbb = w->cs + 2 * T * K, *dl = w->cs + 3 * T * K;
        if (compat) {
            /* The reference's Eq. 15 as coded (spec §5.2): delta_s(i,j) proportional to
             * exp(la_s(i) + S'_s[i,j] + lb_{s+1}(j) + e_{s+1}(j)), S'_0 = identity used as
             * log-probabilities, paired with S_{s+1}[i,j] + e_{s+1}(j). */
            memcpy(cg, gam, T * K * sizeof(double));
            for (int k = 0; k < K; k++) cval += cg[k] * (w->lpi[k] + e[k]);
            /* the reference's log N(h_0; h_0, v_h I) at t = 0, a constant: kept so the value is
             * the reference's, except with a learned v_h, whose gradient it would push to 0 */
            if (!l->n_h0 && !p->learn_var_h) cval += -0.5 * lvh;
            for (size_t s = 0; s + 1 < T; s++) {
                double *X = dl + s * KK, mx = -INFINITY, z = 0;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        double sp = s == 0 ? (i == j ? 1.0 : 0.0) : S[s * KK + i * K + j];
                        X[i * K + j] = la[s * K + i] + sp + lb[(s + 1) * K + j] + e[(s + 1) * K + j];
                        mx = fmax(mx, X[i * K + j]);
                    }
                for (int q = 0; q < KK; q++) z += X[q] = exp(X[q] - mx);
                for (int q = 0; q < KK; q++) X[q] /= z;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++)
                        cval += X[i * K + j] * (S[(s + 1) * KK + i * K + j] + e[(s + 1) * K + j]);
            }
            cval += (ent_c + 0.5 * H) / (double)B; /* per-step entropy (H/2)(1 + log 2 pi v), once per batch */
        }
        if (P && coef != 0) {
            for (size_t t = 0; t < T; t++)
                for (int k = 0; k < K; k++) {
                    double pv = P[(t * B + b) * K + k];
                    if (pv != 0) ce += pv * log(gam[t * K + k] > 1e-300 ? gam[t * K + k] : 1e-300);
                }
        }
        double Jb = (compat ? cval : elbo) + coef * ce;
        if (J_trial) J_trial[b] = Jb;
        if (elbo_trial) elbo_trial[b] = elbo;
        Jsum += Jb;
        if (gr) {
            /* closed-form seeds: ge = gamma (already in place), gS_t[i][j] = xi_{t-1}[j][i], glpi = gamma_0 */
            double *gS = w->gS + b * T * KK;
            double gl[64];
            if (!compat) {
                for (size_t t = 1; t < T; t++)
                    for (int i = 0; i < K; i++)
                        for (int j = 0; j < K; j++) gS[t * KK + i * K + j] = xi[(t - 1) * KK + j * K + i];
                for (int k = 0; k < K; k++) gl[k] = gam[k];
            } else {
                /* direct terms, then through gamma_0 and delta (not detached) into the
                 * recursions' adjoint */
                memset(gam, 0, T * K * sizeof(double));
                memset(cab, 0, 2 * T * K * sizeof(double));
                for (int k = 0; k < K; k++) {
                    double vz = w->lpi[k] + e[k];
                    gam[k] += cg[k];
                    gl[k] = cg[k];
                    cab[k] += cg[k] * vz;
                    cbb[k] += cg[k] * vz;
                }
                for (size_t s = 0; s + 1 < T; s++) {
                    const double *X = dl + s * KK;
                    double Wsum = 0;
                    for (int i = 0; i < K; i++)
                        for (int j = 0; j < K; j++) Wsum += X[i * K + j] * (S[(s + 1) * KK + i * K + j] + e[(s + 1) * K + j]);
                    for (int i = 0; i < K; i++)
                        for (int j = 0; j < K; j++) {
                            double d = X[i * K + j], V = S[(s + 1) * KK + i * K + j] + e[(s + 1) * K + j];
                            gam[(s + 1) * K + j] += d;           /* direct */
                            gS[(s + 1) * KK + i * K + j] += d;
                            double xb = d * (V - Wsum);          /* through delta */
                            cab[s * K + i] += xb;
                            cbb[(s + 1) * K + j] += xb;
                            gam[(s + 1) * K + j] += xb;
                            if (s >= 1) gS[s * KK + i * K + j] += xb;
                        }
                }
                rc = srnn_fb_adjoint(w->lpi, S, e, la, lb, lc, cab, cbb, T, K, gl, gS, gam);
                if (rc) return rc;
            }
            if (P && coef != 0) {
                double *Pb = w->Pb; /* (T, K) */
                for (size_t t = 0; t < T; t++)
                    memcpy(Pb + t * K, P + (t * B + b) * K, K * sizeof(double));
                rc = ndyn_srnn_fb_adjoint_logpost(w->lpi, S, e, la, lb, lc, Pb, T, K, coef, gl, gS, gam);
                if (rc) return rc;
            }
            for (int k = 0; k < K; k++) glpi[k] += gl[k];
        }
    }
    *Jout = Jsum;
    if (!gr) return NDYN_OK;
    const double *ge = w->ge; /* (B, T, K) dJ/de */
    /* pi logits */
    {
        double sg = 0;
        for (int k = 0; k < K; k++) sg += glpi[k];
        for (int k = 0; k < K; k++) gr[l->pi + k] += (REAL)(glpi[k] - exp(w->lpi[k]) * sg);
    }
    /* transitions: gL (rows t >= 1) */
    memset(W->gL, 0, B * KK * sizeof(REAL));
    for (size_t b = 0; b < B; b++)
        for (size_t t = 1; t < T; t++) {
            size_t r = t * B + b;
            const double *gS = w->gS + (b * T + t) * KK;
            const REAL *A = W->Am + r * KK;
            REAL *gL = W->gL + r * KK;
            for (int j = 0; j < K; j++) {
                double cs = 0;
                for (int i = 0; i < K; i++) cs += gS[i * K + j];
                for (int i = 0; i < K; i++) gL[i * K + j] = (REAL)(gS[i * K + j] - A[i * K + j] * cs);
            }
        }
    if (l->n_trans_B) SFX(colsum_add)(W->gL + B * KK, R1, KK, gr + l->trans_B, W->ones);
    if (p->transition == NDYN_SRNN_TRANS_TANH)
        for (size_t q = B * KK; q < TB * KK; q++) W->gL[q] *= 1 - W->Lt[q] * W->Lt[q];
    /* dh rows t < T-1 are first written by the transitions' product (beta 0: the
     * logits at t come from h_{t-1}), the last B rows zeroed */
    if (R1) {
        GEMM(1, 0, KK, H, (int)R1, 1, W->gL + B * KK, KK, W->h, H, 1, gr + l->trans_W, H);
        SFX(colsum_add)(W->gL + B * KK, R1, KK, gr + l->trans_b, W->ones);
        memset(W->dh + R1 * H, 0, B * H * sizeof(REAL));
        GEMM(0, 0, (int)R1, H, KK, 1, W->gL + B * KK, KK, Ws, H, 0, W->dh, H);
    } else {
        memset(W->dh, 0, TB * H * sizeof(REAL));
    }
    /* dynamics: one pass over the rows for all states; dJ/d(pre-activation) G_k
     * overwrites F_k (not needed afterwards) */
    {
        REAL *glvh = W->acc; /* (H) logvar_h gradient accumulated over states and rows */
        memset(glvh, 0, H * sizeof(REAL));
        for (size_t t = 1; t < T; t++)
            for (size_t b = 0; b < B; b++) {
                size_t r = t * B + b;
                const REAL *ht = W->h + r * H;
                REAL *dhr = W->dh + r * H;
                for (int k = 0; k < K; k++) {
                    REAL wk = (REAL)ge[(b * T + t) * K + k];
                    REAL *Fr = W->F + ((size_t)k * TB + r) * H;
                    for (int d = 0; d < H; d++) {
                        REAL res = ht[d] - Fr[d], gg = wk * res * ivh[d];
                        dhr[d] -= gg;
                        glvh[d] += wk * ((REAL)0.5 * res * res * ivh[d] - (REAL)0.5);
                        Fr[d] = gg * (1 - Fr[d] * Fr[d]);
                    }
                }
            }
        for (int k = 0; k < K && R1; k++) {
            const REAL *G = W->F + (size_t)k * TB * H, *Wk = th + l->dyn_W + (size_t)k * H * H;
            GEMM(1, 0, H, H, (int)R1, 1, G + B * H, H, W->h, H, 1, gr + l->dyn_W + (size_t)k * H * H, H);
            SFX(colsum_add)(G + B * H, R1, H, gr + l->dyn_b + (size_t)k * H, W->ones);
            GEMM(0, 0, (int)R1, H, H, 1, G + B * H, H, Wk, H, 1, W->dh, H);
        }
        for (int d = 0; d < H; d++) gr[l->logvar_h + d] += glvh[d] * ivh[d] * (REAL)((double)vh[d] - vmin_h);
    }
    /* h0 prior */
    if (l->n_h0)
        for (size_t b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                REAL wk = (REAL)ge[(b * T) * K + k];
                const REAL *ht = W->h + b * H, *mu = th + l->h0_mu + (size_t)k * H;
                for (int d = 0; d < H; d++) {
                    REAL res = ht[d] - mu[d], gg = wk * res / v0[d];
                    W->dh[b * H + d] -= gg;
                    gr[l->h0_mu + (size_t)k * H + d] += gg;
                    gr[l->h0_logvar + d] += wk * (-(REAL)0.5 / v0[d] + (REAL)0.5 * res * res / (v0[d] * v0[d])) *
                                            (REAL)((double)v0[d] - p->var_min);
                }
            }
    /* emission: dJ/dg with weight sum_k ge_t(k) */
    {
        REAL *dg = W->d1; /* (TB, N) */
        REAL *glvy = W->acc; /* (N) logvar_y gradient */
        if (p->emission == NDYN_SRNN_GAUSSIAN) memset(glvy, 0, N * sizeof(REAL));
        for (size_t t = 0; t < T; t++)
            for (size_t b = 0; b < B; b++) {
                size_t r = t * B + b;
                double wtd = 0;
                for (int k = 0; k < K; k++) wtd += ge[(b * T + t) * K + k];
                REAL wt = (REAL)wtd;
                const REAL *gv = g + r * N, *yy = y + r * N;
                REAL *dgr = dg + r * N;
                if (p->emission == NDYN_SRNN_GAUSSIAN) {
                    for (int j = 0; j < N; j++) {
                        REAL u = yy[j] - gv[j];
                        dgr[j] = wt * u * ivy[j];
                        glvy[j] += wt * ((REAL)0.5 * u * u * ivy[j] - (REAL)0.5);
                    }
                } else {
                    for (int j = 0; j < N; j++) {
                        double lam = softplus(gv[j]) + 1e-8;
                        dgr[j] = (REAL)(wtd * (yy[j] / lam - 1) * sigmoid(gv[j]));
                    }
                }
            }
        if (p->emission == NDYN_SRNN_GAUSSIAN)
            for (int j = 0; j < N; j++) gr[l->logvar_y + j] += glvy[j] * ivy[j] * (REAL)((double)vy[j] - vmin_y);
#if REAL_IS_FLOAT
        if (SRNN_F32_OWN_EMISSION(l)) {
            int rc = srnn_emission_bwd_f32(th, l, W->act, TB, dg, gr, W->dh);
            if (rc) return rc;
        } else
#endif
            SFX(emission_bwd)(th, l, W, TB, gr);
    }
    /* entropy of q: d/dtheta_q [T B sum_d 0.5 log v_q] */
    for (int d = 0; d < H; d++)
        gr[l->logvar_q + d] += (REAL)(0.5 * (p->objective == NDYN_SRNN_OBJ_COMPAT ? 1.0 : (double)TB) *
                                      ((double)vq[d] - vmin_q) / (double)vq[d]);
    /* ---------------- sampler BPTT */
    {
        REAL *carry = W->dp; /* (B, H) */
        memset(carry, 0, B * H * sizeof(REAL));
#if REAL_IS_FLOAT
        /* the step's four weights packed once for all steps, untransposed (W2's products apply
         * the relu mask as their tiles are stored); the forward pass's packs are done with, so
         * the region is reused */
        float *pW2 = W->pk, *pW1b = W->pk + PM, *pWmab = W->pk + 2 * PM, *pWmsb = pWmab + PM / 2;
        if (spk_step) {
            srnn_f32_pack(0, S1, H, W2, S1, pW2);
            srnn_f32_pack(0, H, S1, W1 + H, 2 * H, pW1b);
            srnn_f32_pack(0, H, H, Wma, H, pWmab);
            srnn_f32_pack(0, H, H, Wms, H, pWmsb);
        }
#endif
        for (size_t t = T; t-- > 0;) {
            REAL *dht = W->dh + t * B * H, *s = W->s + t * B * H, *dps = W->dps + t * B * H,
                 *da = W->da + t * B * H, *dz1 = W->dz1 + t * B * S1, *r1 = W->r1 + t * B * S1;
            if (eps)
                for (size_t b = 0; b < B; b++)
                    for (int d = 0; d < H; d++)
                        gr[l->logvar_q + d] += dht[b * H + d] * eps[(t * B + b) * H + d] * (REAL)0.5 / sq[d] *
                                               (REAL)((double)vq[d] - vmin_q);
            for (size_t q = 0; q < B * H; q++) dps[q] = (dht[q] + carry[q]) * (1 - s[q] * s[q]);
#if REAL_IS_FLOAT
            if (spk_step) {
                srnn_f32_mm(iB, H, H, dps, H, pWmab, NULL, 0, 0, NULL, 0, da, H);
                srnn_f32_mm(iB, S1, H, da, H, pW2, NULL, 0, 2, r1, S1, dz1, S1);
                srnn_f32_mm(iB, H, H, dps, H, pWmsb, NULL, 0, 0, NULL, 0, carry, H);
                if (t) srnn_f32_mm(iB, H, S1, dz1, S1, pW1b, NULL, 1, 0, NULL, 0, dht - B * H, H);
                continue;
            }
#endif
            GEMM(0, 0, iB, H, H, 1, dps, H, Wma, H, 0, da, H);
            GEMM(0, 0, iB, S1, H, 1, da, H, W2, S1, 0, dz1, S1);
            for (size_t q = 0; q < B * (size_t)S1; q++) dz1[q] = r1[q] > 0 ? dz1[q] : 0;
            GEMM(0, 0, iB, H, H, 1, dps, H, Wms, H, 0, carry, H);
            if (t) GEMM(0, 0, iB, H, S1, 1, dz1, S1, W1 + H, 2 * H, 1, dht - B * H, H);
        }
        GEMM(1, 0, H, H, (int)TB, 1, W->dps, H, W->a, H, 1, gr + l->m_Wa, H);
        if (R1) GEMM(1, 0, H, H, (int)R1, 1, W->dps + B * H, H, W->s, H, 1, gr + l->m_Ws, H);
        SFX(colsum_add)(W->dps, TB, H, gr + l->m_b, W->ones);
        GEMM(1, 0, H, S1, (int)TB, 1, W->da, H, W->r1, S1, 1, gr + l->s2_W, S1);
        SFX(colsum_add)(W->da, TB, H, gr + l->s2_b, W->ones);
        GEMM(1, 0, S1, H, (int)TB, 1, W->dz1, S1, W->E, H, 1, gr + l->s1_W, 2 * H);
        if (R1) GEMM(1, 0, S1, H, (int)R1, 1, W->dz1 + B * S1, S1, W->h, H, 1, gr + l->s1_W + H, 2 * H);
        SFX(colsum_add)(W->dz1, TB, S1, gr + l->s1_b, W->ones);
        GEMM(0, 0, (int)TB, H, S1, 1, W->dz1, S1, W1, 2 * H, 0, W->dE, H);
    }
    /* ---------------- encoders BPTT */
    {
        REAL *carry = W->dp, *dpre = W->da; /* reuse: (B, H), (TB, H) */
#if REAL_IS_FLOAT
        /* the recurrent weights untransposed, packed once (the sampler is done with the region) */
        if (encpk) srnn_f32_pack(0, H, H, Wfh, H, W->pk);
        if (encpk && l->n_encb) srnn_f32_pack(0, H, H, th + l->encb_Wh, H, W->pk + SRNN_F32_PACK_MAX);
#endif
        memset(carry, 0, B * H * sizeof(REAL));
        for (size_t t = T; t-- > 0;) {
            const REAL *u = W->uf + t * B * H, *dE = W->dE + t * B * H;
            REAL *dpp = dpre + t * B * H;
            for (size_t q = 0; q < B * H; q++) dpp[q] = (dE[q] + carry[q]) * (1 - u[q] * u[q]);
            if (t) ENC_MM(0, dpp, Wfh, W->pk, 0, carry);
        }
        GEMM(1, 0, H, N, (int)TB, 1, dpre, H, yenc, N, 1, gr + l->encf_Wx, N);
        if (R1) GEMM(1, 0, H, H, (int)R1, 1, dpre + B * H, H, W->uf, H, 1, gr + l->encf_Wh, H);
        SFX(colsum_add)(dpre, TB, H, gr + l->encf_b, W->ones);
        if (l->n_encb) {
            const REAL *Wbh = th + l->encb_Wh;
            memset(carry, 0, B * H * sizeof(REAL));
            for (size_t t = 0; t < T; t++) {
                const REAL *u = W->ub + t * B * H, *dE = W->dE + t * B * H;
                REAL *dpp = dpre + t * B * H;
                for (size_t q = 0; q < B * H; q++) dpp[q] = (dE[q] + carry[q]) * (1 - u[q] * u[q]);
                if (t + 1 < T) ENC_MM(0, dpp, Wbh, W->pk + SRNN_F32_PACK_MAX, 0, carry);
            }
            GEMM(1, 0, H, N, (int)TB, 1, dpre, H, yenc, N, 1, gr + l->encb_Wx, N);
            if (R1) GEMM(1, 0, H, H, (int)R1, 1, dpre, H, W->ub + B * H, H, 1, gr + l->encb_Wh, H);
            SFX(colsum_add)(dpre, TB, H, gr + l->encb_b, W->ones);
        }
    }
#undef ENC_MM
#if REAL_IS_FLOAT
    for (size_t q = 0; q < m->n_theta; q++) grad[q] += (double)gr[q];
#endif
    srnn_grad_mask(m, l, grad);
    return NDYN_OK;
}
