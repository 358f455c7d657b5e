/* A switching nonlinear system with known discrete states: K tanh-RNN
 * regimes (rotations of different speed and direction, contractions onto
 * fixed points) chosen by a sticky Markov chain, emitted to Y dimensions
 * through a random linear map with Gaussian or Poisson noise. */
#include "sim/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define SYS "switching"
#define MAX_ELEMS ((size_t)1 << 32)

void ndyn_sim_switching_defaults(ndyn_sim_switching_params *p)
{
    p->trials = 10;
    p->steps = 500;
    p->K = 3;
    p->H = 2;
    p->Y = 30;
    p->stay = 0.98;
    p->latent_noise = 0.01;
    p->emission = NDYN_SIM_EMIT_GAUSSIAN;
    p->noise = 0.1;
    p->base_rate = 2.0;
    p->gain = 1.0;
    p->emission_hidden = 0;
    p->seed = 1;
}

int ndyn_sim_switching_check(const ndyn_sim_switching_params *p)
{
    if (!p) return ndyn_error(NDYN_EINVAL, SYS ": parameters are NULL");
    int rc;
    if ((rc = sim_check_count(SYS, "trials", p->trials, 1, 10000000))) return rc;
    if ((rc = sim_check_count(SYS, "steps", p->steps, 1, 1000000000))) return rc;
    if (p->K < 1 || p->K > NDYN_SIM_SWITCHING_MAX_K)
        return ndyn_error(NDYN_EINVAL, SYS ": K (states) must be between 1 and %d, got %d",
                          NDYN_SIM_SWITCHING_MAX_K, p->K);
    if ((rc = sim_check_count(SYS, "H (latent dimension)", p->H, 2, 1024))) return rc;
    if ((rc = sim_check_count(SYS, "Y (observed dimension)", p->Y, 1, 100000))) return rc;
    if (!isfinite(p->stay) || p->stay < 0 || p->stay > 1 || (p->K > 1 && p->stay >= 1))
        return ndyn_error(NDYN_EINVAL, SYS ": stay (self-transition probability) must be in "
                          "[0, 1) with K > 1, got %g", p->stay);
    if ((rc = sim_check_nonneg(SYS, "latent_noise", p->latent_noise))) return rc;
    if (p->emission != NDYN_SIM_EMIT_GAUSSIAN && p->emission != NDYN_SIM_EMIT_POISSON)
        return ndyn_error(NDYN_EINVAL, SYS ": emission must be gaussian (0) or poisson (1), got %d",
                          p->emission);
    if ((rc = sim_check_nonneg(SYS, "noise", p->noise))) return rc;
    if ((rc = sim_check_pos(SYS, "base_rate", p->base_rate))) return rc;
    if ((rc = sim_check_nonneg(SYS, "gain", p->gain))) return rc;
    if ((rc = sim_check_count(SYS, "emission_hidden", p->emission_hidden, 0, 4096))) return rc;
    if (p->emission == NDYN_SIM_EMIT_POISSON && (p->base_rate > 1e6 || p->gain > 20))
        return ndyn_error(NDYN_EINVAL, SYS ": Poisson rates would overflow; keep base_rate <= 1e6 "
                          "(now %g) and gain <= 20 (now %g)", p->base_rate, p->gain);
    size_t n, m = p->Y > p->H ? p->Y : p->H;
    if (ndyn_size_mul(p->trials, p->steps, &n) || ndyn_size_mul(n, m, &n) || n > MAX_ELEMS)
        return ndyn_error(NDYN_EINVAL, SYS ": trials x steps x %zu = %zu x %zu x %zu is too large "
                          "(limit 2^32 values); lower trials or steps", m, p->trials, p->steps, m);
    return NDYN_OK;
}

/* Regimes: angle per step (0: contraction onto a fixed point), gain, and the
 * sign of the fixed point. */
static const struct {
    double angle, gain, fixed;
} k_regime[NDYN_SIM_SWITCHING_MAX_K] = {
    {0.15, 1.3, 0},   /* slow counter-clockwise cycle */
    {-0.45, 1.3, 0},  /* fast clockwise cycle */
    {0.0, 0.5, 1},    /* fixed point at (+a, -a, +a, ...) */
    {0.8, 1.3, 0},    /* very fast counter-clockwise cycle */
    {0.0, 0.5, -1},   /* fixed point at (-a, +a, -a, ...) */
    {-0.08, 1.3, 0},  /* very slow clockwise cycle */
};
#define FIXED_AMP 0.4

int ndyn_sim_switching_regime(int k, size_t H, double *W, double *b)
{
    if (k < 0 || k >= NDYN_SIM_SWITCHING_MAX_K || H < 2 || !W || !b)
        return ndyn_error(NDYN_EINVAL, SYS ": regime %d of %d, H = %zu (>= 2 needed)", k,
                          NDYN_SIM_SWITCHING_MAX_K, H);
    memset(W, 0, H * H * sizeof *W);
    memset(b, 0, H * sizeof *b);
    const double a = k_regime[k].angle, g = k_regime[k].gain;
    if (k_regime[k].fixed) {
        /* h* = tanh(g h* + b)  =>  b = atanh(h*) - g h*. */
        for (size_t i = 0; i < H; i++) {
            double hs = k_regime[k].fixed * (i % 2 ? -FIXED_AMP : FIXED_AMP);
            W[i * H + i] = g;
            b[i] = atanh(hs) - g * hs;
        }
        return NDYN_OK;
    }
    for (size_t j = 0; j + 1 < H; j += 2) {
        W[j * H + j] = g * cos(a);
        W[j * H + j + 1] = -g * sin(a);
        W[(j + 1) * H + j] = g * sin(a);
        W[(j + 1) * H + j + 1] = g * cos(a);
    }
    if (H % 2) W[(H - 1) * H + H - 1] = 0.5; /* a left-over coordinate decays */
    return NDYN_OK;
}

int ndyn_sim_switching(const ndyn_sim_switching_params *p, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, SYS ": out is NULL");
    *out = NULL;
    int rc = ndyn_sim_switching_check(p);
    if (rc) return rc;
    const size_t N = p->trials, T = p->steps, H = p->H, Y = p->Y;
    const int K = p->K;
    const int poisson = p->emission == NDYN_SIM_EMIT_POISSON;
    ndyn_array *y = ndyn_array_alloc3(NDYN_F64, N, T, Y);
    ndyn_array *rate = ndyn_array_alloc3(NDYN_F64, N, T, Y);
    ndyn_array *h = ndyn_array_alloc3(NDYN_F64, N, T, H);
    ndyn_array *st = ndyn_array_alloc2(NDYN_I32, N, T);
    ndyn_array *P = ndyn_array_alloc2(NDYN_F64, (size_t)K, (size_t)K);
    ndyn_array *W = ndyn_array_alloc3(NDYN_F64, (size_t)K, H, H);
    ndyn_array *B = ndyn_array_alloc2(NDYN_F64, (size_t)K, H);
    /* Emission input: h (linear) or the hidden layer u = tanh(C1 h + c1) (MLP). */
    const size_t M = p->emission_hidden, E = M ? M : H;
    ndyn_array *Cm = ndyn_array_alloc2(NDYN_F64, Y, E);
    ndyn_array *d = ndyn_array_alloc1(NDYN_F64, Y);
    ndyn_array *C1 = M ? ndyn_array_alloc2(NDYN_F64, M, H) : NULL;
    ndyn_array *c1 = M ? ndyn_array_alloc1(NDYN_F64, M) : NULL;
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!y || !rate || !h || !st || !P || !W || !B || !Cm || !d || !ds || (M && (!C1 || !c1)))
        rc = NDYN_ENOMEM;
    if (!rc) {
        double *Pd = P->data, *Wd = W->data, *Bd = B->data, *Cd = Cm->data, *dd = d->data;
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                Pd[i * K + j] = K == 1 ? 1.0 : i == j ? p->stay : (1.0 - p->stay) / (K - 1);
        for (int k = 0; k < K && !rc; k++)
            rc = ndyn_sim_switching_regime(k, H, Wd + (size_t)k * H * H, Bd + (size_t)k * H);
        ndyn_rng r0;
        ndyn_rng_init(&r0, p->seed, 0);
        if (M) {
            /* Hidden weights of gain 2 so that tanh bends the map visibly. */
            double *C1d = C1->data, *c1d = c1->data;
            const double s1 = 2.0 / sqrt((double)H);
            for (size_t i = 0; i < M * H; i++) C1d[i] = s1 * ndyn_rng_normal(&r0);
            for (size_t i = 0; i < M; i++) c1d[i] = 0.5 * ndyn_rng_normal(&r0);
        }
        const double cs = 1.0 / sqrt((double)E);
        for (size_t i = 0; i < Y * E; i++) Cd[i] = cs * ndyn_rng_normal(&r0);
        for (size_t i = 0; i < Y; i++) dd[i] = poisson ? 0.0 : 0.1 * ndyn_rng_normal(&r0);
    }
    if (!rc) {
        const double *Pd = P->data, *Wd = W->data, *Bd = B->data, *Cd = Cm->data, *dd = d->data;
        const double *C1d = M ? C1->data : NULL, *c1d = M ? c1->data : NULL;
        double *yd = y->data, *rd = rate->data, *hd = h->data; // (N, T, Y), (N, T, Y), (N, T, H)
        int32_t *sd = st->data;                               // (N, T)
        int nomem = 0;
#pragma omp parallel for schedule(dynamic) reduction(| : nomem)
        for (size_t n = 0; n < N; n++) {
            double *u = M ? malloc(M * sizeof *u) : NULL; // hidden layer (M,)
            if (M && !u) {
                nomem = 1;
                continue;
            }
            ndyn_rng r;
            ndyn_rng_init(&r, p->seed, n + 1);
            int z = (int)ndyn_rng_below(&r, (uint64_t)K);
            for (size_t t = 0; t < T; t++) {
                double *ht = hd + (n * T + t) * H;
                if (t == 0) {
                    for (size_t i = 0; i < H; i++) ht[i] = 0.5 * ndyn_rng_normal(&r);
                } else {
                    if (K > 1) z = (int)ndyn_rng_categorical(&r, Pd + (size_t)z * K, (size_t)K);
                    const double *hp = ht - H, *Wk = Wd + (size_t)z * H * H, *bk = Bd + (size_t)z * H;
                    for (size_t i = 0; i < H; i++) {
                        double s = bk[i];
                        for (size_t j = 0; j < H; j++) s += Wk[i * H + j] * hp[j];
                        ht[i] = tanh(s) + (p->latent_noise > 0 ? p->latent_noise * ndyn_rng_normal(&r) : 0.0);
                    }
                }
                sd[n * T + t] = z;
                double *yt = yd + (n * T + t) * Y, *rt = rd + (n * T + t) * Y;
                const double *in = ht;
                if (M) {
                    for (size_t i = 0; i < M; i++) {
                        double s = c1d[i];
                        for (size_t j = 0; j < H; j++) s += C1d[i * H + j] * ht[j];
                        u[i] = tanh(s);
                    }
                    in = u;
                }
                for (size_t i = 0; i < Y; i++) {
                    double a = dd[i];
                    for (size_t j = 0; j < E; j++) a += Cd[i * E + j] * in[j];
                    if (poisson) {
                        rt[i] = p->base_rate * exp(p->gain * a);
                        yt[i] = ndyn_rng_poisson(&r, rt[i]);
                    } else {
                        rt[i] = a;
                        yt[i] = a + (p->noise > 0 ? p->noise * ndyn_rng_normal(&r) : 0.0);
                    }
                }
            }
            free(u);
        }
        if (nomem) rc = ndyn_error(NDYN_ENOMEM, SYS ": out of memory");
    }
    sim_put(ds, "y", y, SYS, &rc);
    sim_put(ds, "states", st, SYS, &rc);
    sim_put(ds, "h", h, SYS, &rc);
    sim_put(ds, "rate", rate, SYS, &rc);
    sim_put(ds, "transition", P, SYS, &rc);
    sim_put(ds, "W", W, SYS, &rc);
    sim_put(ds, "b", B, SYS, &rc);
    sim_put(ds, "C", Cm, SYS, &rc);
    if (M) {
        sim_put(ds, "C1", C1, SYS, &rc);
        sim_put(ds, "c1", c1, SYS, &rc);
    }
    sim_put(ds, "d", d, SYS, &rc);
    if (rc) {
        ndyn_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NDYN_OK;
}
