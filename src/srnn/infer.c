/* What a user reads from a fitted SRNN: posterior state probabilities,
 * Viterbi paths, latent means, reconstructions, per-trial ELBO, state error
 * after Hungarian matching (spec §7); k-step-ahead predictions; samples from
 * the generative model; co-smoothing; per-state flow fields; causal
 * filtering one step at a time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "srnn_internal.h"

static double softplus(double g) { return g > 30 ? g : log1p(exp(g)); }

void ndyn_srnn_result_free(ndyn_srnn_result *r)
{
    if (!r) return;
    free(r->posterior);
    free(r->states);
    free(r->h);
    free(r->yhat);
    free(r->elbo);
    free(r->state_map);
    free(r);
}

/* State error over trials: raw (identity map) and matched (one map for all
 * trials maximising the mean per-trial balanced accuracy). */
static int state_error(const ndyn_srnn_data *d, const size_t *off, const int *states, int K,
                       double *raw, double *matched, int **map_out)
{
    int nl = d->n_labels;
    if (nl <= 0) {
        nl = 0;
        for (size_t i = 0; i < d->n_trials; i++)
            for (size_t t = 0; t < d->T[i]; t++) nl = d->labels[i][t] + 1 > nl ? d->labels[i][t] + 1 : nl;
    }
    int nc = nl > K ? nl : K;
    double *W = ndyn_calloc((size_t)K * nl, sizeof(double));
    size_t *cnt = ndyn_calloc((size_t)nc * nc, sizeof(size_t));
    int *map = ndyn_malloc_array(K, sizeof(int));
    if (!W || !cnt || !map) {
        free(W), free(cnt), free(map);
        return NDYN_ENOMEM;
    }
    double raw_sum = 0;
    size_t used = 0;
    for (size_t i = 0; i < d->n_trials; i++) {
        const int *lb = d->labels[i];
        if (!lb) continue;
        size_t T = d->T[i];
        memset(cnt, 0, (size_t)nc * nc * sizeof(size_t));
        for (size_t t = 0; t < T; t++) cnt[(size_t)lb[t] * nc + states[off[i] + t]]++;
        int ncls = 0;
        for (int c = 0; c < nl; c++) {
            size_t nci = 0;
            for (int s = 0; s < nc; s++) nci += cnt[(size_t)c * nc + s];
            if (nci) ncls++;
        }
        double ba = 0;
        for (int c = 0; c < nl; c++) {
            size_t nci = 0;
            for (int s = 0; s < nc; s++) nci += cnt[(size_t)c * nc + s];
            if (!nci) continue;
            if (c < K) ba += (double)cnt[(size_t)c * nc + c] / nci;
            for (int s = 0; s < K; s++) W[(size_t)s * nl + c] += (double)cnt[(size_t)c * nc + s] / nci / ncls;
        }
        raw_sum += 1 - ba / ncls;
        used++;
    }
    int rc = NDYN_OK;
    if (!used) {
        *raw = *matched = NAN;
        free(map);
        map = NULL;
    } else {
        double tot;
        rc = ndyn_hungarian(W, K, nl, 1, map, &tot);
        *raw = raw_sum / used;
        *matched = 1 - tot / used;
    }
    free(W);
    free(cnt);
    if (rc) {
        free(map);
        return rc;
    }
    *map_out = map;
    return NDYN_OK;
}

int ndyn_srnn_infer(const ndyn_srnn_model *m, const ndyn_srnn_data *d, ndyn_srnn_result **out)
{
    *out = NULL;
    int rc = ndyn_srnn_check_data(d, &m->p);
    if (rc) return rc;
    if (d->N != m->N) return ndyn_error(NDYN_ESHAPE, "srnn: the data have %zu channels, the model was fitted on %zu", d->N, m->N);
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    size_t n = d->n_trials, K = l.K, H = l.H, N = l.N;
    ndyn_srnn_result *r = ndyn_calloc(1, sizeof *r);
    size_t *off = ndyn_malloc_array(n + 1, sizeof(size_t)), *all = ndyn_malloc_array(n, sizeof(size_t));
    if (!r || !off || !all) {
        free(r), free(off), free(all);
        return NDYN_ENOMEM;
    }
    off[0] = 0;
    for (size_t i = 0; i < n; i++) off[i + 1] = off[i] + d->T[i], all[i] = i;
    size_t tot = off[n];
    r->n_trials = n, r->total_T = tot, r->K = K, r->H = H, r->N = N;
    r->posterior = ndyn_malloc_array(tot * K, sizeof(double));
    r->states = ndyn_malloc_array(tot, sizeof(int));
    r->h = ndyn_malloc_array(tot * H, sizeof(double));
    r->yhat = ndyn_malloc_array(tot * N, sizeof(double));
    r->elbo = ndyn_calloc(n, sizeof(double));
    r->state_error = r->state_error_raw = NAN;
    r->cosmooth_mse = r->cobps = NAN;
    if (!r->posterior || !r->states || !r->h || !r->yhat || !r->elbo) rc = NDYN_ENOMEM;
    srnn_group *g = NULL;
    size_t ng = 0;
    if (!rc) rc = srnn_make_groups(d, all, n, 0, &g, &ng);
    ndyn_rng rng;
    ndyn_rng_init(&rng, m->p.seed, 0x1FE);
    for (size_t gi = 0; !rc && gi < ng; gi++) {
        size_t B = g[gi].B, T = g[gi].T, TB = T * B;
        srnn_ws *w = srnn_ws_alloc(&l, B, T);
        double *y = ndyn_malloc_array(TB * N, sizeof(double)), *eps = ndyn_malloc_array(TB * H, sizeof(double));
        double *el = ndyn_malloc_array(B, sizeof(double));
        if (!w || !y || !eps || !el) rc = NDYN_ENOMEM;
        double J;
        if (!rc) srnn_gather(d, &g[gi], y);
        for (int s = 0; !rc && s < m->p.eval_samples; s++) {
            for (size_t q = 0; q < TB * H; q++) eps[q] = ndyn_rng_normal(&rng);
            rc = srnn_batch(m, &l, w, y, eps, NULL, 0, &J, NULL, el, NULL);
            for (size_t b = 0; !rc && b < B; b++) r->elbo[g[gi].idx[b]] += el[b] / m->p.eval_samples;
        }
        if (!rc) rc = srnn_batch(m, &l, w, y, NULL, NULL, 0, &J, NULL, NULL, NULL);
        if (!rc) {
            const double *gam = srnn_ws_gamma(w), *hh = srnn_ws_h(w), *gg = srnn_ws_g(w);
            for (size_t b = 0; b < B && !rc; b++) {
                size_t i = g[gi].idx[b], o = off[i];
                for (size_t t = 0; t < T; t++) {
                    size_t row = t * B + b;
                    memcpy(r->posterior + (o + t) * K, gam + row * K, K * sizeof(double));
                    memcpy(r->h + (o + t) * H, hh + row * H, H * sizeof(double));
                    for (size_t j = 0; j < N; j++) {
                        double v = gg[row * N + j];
                        r->yhat[(o + t) * N + j] = m->p.emission == NDYN_SRNN_POISSON ? softplus(v) : v;
                    }
                }
                rc = ndyn_srnn_viterbi(srnn_ws_lpi(w), srnn_ws_S(w) + b * T * K * K, srnn_ws_e(w) + b * T * K,
                                       T, (int)K, r->states + o, NULL);
            }
        }
        srnn_ws_free(w);
        free(y);
        free(eps);
        free(el);
    }
    srnn_groups_free(g, ng);
    if (!rc) {
        double se = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t q = 0; q < d->T[i] * N; q++) {
                double u = d->y[i][q] - r->yhat[off[i] * N + q];
                se += u * u;
            }
        r->mse = se / ((double)tot * N);
        double *yy = ndyn_malloc_array(tot * N, sizeof(double));
        if (!yy) rc = NDYN_ENOMEM;
        for (size_t i = 0; !rc && i < n; i++) memcpy(yy + off[i] * N, d->y[i], d->T[i] * N * sizeof(double));
        if (!rc) rc = ndyn_metric_r2(yy, r->yhat, tot, N, NULL, &r->r2);
        free(yy);
    }
    if (!rc && m->n_heldout) {
        /* co-smoothing: the encoder read only the held-in channels */
        double se = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < d->T[i]; t++)
                for (size_t q = 0; q < m->n_heldout; q++) {
                    size_t j = (size_t)m->heldout[q];
                    double u = d->y[i][t * N + j] - r->yhat[(off[i] + t) * N + j];
                    se += u * u;
                }
        r->cosmooth_mse = se / ((double)tot * (double)m->n_heldout);
        if (m->p.emission == NDYN_SRNN_POISSON) {
            rc = ndyn_srnn_cobps(d, r->yhat, m->heldout, m->n_heldout, &r->cobps);
            if (rc == NDYN_EINVAL) { /* no held-out spikes in these trials: no score, not an error */
                ndyn_warn("srnn infer: %s; co-bps left NaN", ndyn_errmsg());
                ndyn_error_clear();
                r->cobps = NAN;
                rc = NDYN_OK;
            }
        }
    }
    if (!rc && d->labels) rc = state_error(d, off, r->states, (int)K, &r->state_error_raw, &r->state_error, &r->state_map);
    free(off);
    free(all);
    if (rc) {
        ndyn_srnn_result_free(r);
        return rc;
    }
    *out = r;
    return NDYN_OK;
}

int ndyn_srnn_predict(const ndyn_srnn_model *m, const ndyn_srnn_data *d, int k, double *pred,
                      double *mse, double *r2)
{
    if (k < 1) return ndyn_error(NDYN_EINVAL, "srnn predict: steps k must be >= 1, got %d", k);
    ndyn_srnn_result *r;
    int rc = ndyn_srnn_infer(m, d, &r);
    if (rc) return rc;
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    size_t H = l.H, N = l.N, K = l.K, o = 0, npred = 0;
    double h[4096], f[4096], S[64 * 64], se = 0;
    double *yy = NULL, *pp = NULL;
    size_t tot = r->total_T;
    yy = ndyn_malloc_array(tot * N, sizeof(double));
    pp = ndyn_malloc_array(tot * N, sizeof(double));
    if (!yy || !pp) rc = NDYN_ENOMEM;
    for (size_t i = 0; !rc && i < d->n_trials; i++) {
        size_t T = d->T[i];
        for (size_t t = 0; t < T; t++) {
            double *pr = pred + (o + t) * N;
            if (t < (size_t)k) {
                for (size_t j = 0; j < N; j++) pr[j] = NAN;
                continue;
            }
            memcpy(h, r->h + (o + t - k) * H, H * sizeof(double));
            int z = r->states[o + t - k];
            for (int s = 0; s < k; s++) {
                srnn_log_transition(m, &l, h, S);
                int best = 0;
                for (size_t i2 = 1; i2 < K; i2++)
                    if (S[i2 * K + z] > S[best * K + z]) best = (int)i2;
                z = best;
                srnn_dynamics(m, &l, z, h, f);
                memcpy(h, f, H * sizeof(double));
            }
            rc = srnn_emission(m, &l, h, 1, pr);
            if (rc) break;
            for (size_t j = 0; j < N; j++) {
                if (m->p.emission == NDYN_SRNN_POISSON) pr[j] = softplus(pr[j]);
                double u = d->y[i][t * N + j] - pr[j];
                se += u * u;
                yy[npred * N + j] = d->y[i][t * N + j];
                pp[npred * N + j] = pr[j];
            }
            npred++;
        }
        o += T;
    }
    if (!rc) {
        if (mse) *mse = npred ? se / ((double)npred * N) : NAN;
        if (r2) {
            *r2 = NAN;
            if (npred >= 2) rc = ndyn_metric_r2(yy, pp, npred, N, NULL, r2);
        }
    }
    free(yy);
    free(pp);
    ndyn_srnn_result_free(r);
    return rc;
}

int ndyn_srnn_sample(const ndyn_srnn_model *m, size_t n, size_t T, uint64_t seed, double *y,
                     double *h, int *states)
{
    if (n < 1 || T < 1) return ndyn_error(NDYN_EINVAL, "srnn sample: need n >= 1 trials and T >= 1 steps");
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    const double *th = m->theta;
    size_t H = l.H, N = l.N, K = l.K;
    double vh[4096], v0[4096], S[64 * 64], p[64], f[4096], *g = ndyn_malloc_array(N, sizeof(double));
    if (!g) return NDYN_ENOMEM;
    double vmin_h = m->p.learn_var_h ? m->p.var_min : 0, vmin_y = m->p.learn_var_y ? m->p.var_min : 0;
    for (size_t d = 0; d < H; d++) {
        vh[d] = srnn_var(th[l.logvar_h + d], vmin_h);
        v0[d] = l.n_h0 ? srnn_var(th[l.h0_logvar + d], m->p.var_min) : vh[d];
    }
    double lpi[64];
    srnn_log_pi(m, &l, lpi);
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0x5A3);
    int rc = NDYN_OK;
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t t = 0; t < T && !rc; t++) {
            double *ht = h + (i * T + t) * H;
            int z;
            if (t == 0) {
                for (size_t k = 0; k < K; k++) p[k] = exp(lpi[k]);
                z = (int)ndyn_rng_categorical(&r, p, K);
                for (size_t d = 0; d < H; d++)
                    ht[d] = (l.n_h0 ? th[l.h0_mu + z * H + d] : 0) + sqrt(v0[d]) * ndyn_rng_normal(&r);
            } else {
                const double *hp = ht - H;
                srnn_log_transition(m, &l, hp, S);
                int zp = states[i * T + t - 1];
                for (size_t k = 0; k < K; k++) p[k] = exp(S[k * K + zp]);
                z = (int)ndyn_rng_categorical(&r, p, K);
                srnn_dynamics(m, &l, z, hp, f);
                for (size_t d = 0; d < H; d++) ht[d] = f[d] + sqrt(vh[d]) * ndyn_rng_normal(&r);
            }
            states[i * T + t] = z;
            rc = srnn_emission(m, &l, ht, 1, g);
            double *yt = y + (i * T + t) * N;
            for (size_t j = 0; j < N && !rc; j++) {
                if (m->p.emission == NDYN_SRNN_POISSON)
                    yt[j] = ndyn_rng_poisson(&r, softplus(g[j]) + 1e-8);
                else
                    yt[j] = g[j] + sqrt(srnn_var(th[l.logvar_y + j], vmin_y)) * ndyn_rng_normal(&r);
            }
        }
    free(g);
    return rc;
}

int ndyn_srnn_cobps(const ndyn_srnn_data *d, const double *rates, const int *held, size_t n_held,
                    double *bps)
{
    *bps = NAN;
    size_t n = d->n_trials, N = d->N, tot = 0;
    if (!n_held) return ndyn_error(NDYN_EINVAL, "srnn co-bps: no held-out channels");
    for (size_t q = 0; q < n_held; q++)
        if (held[q] < 0 || (size_t)held[q] >= N)
            return ndyn_error(NDYN_EINVAL, "srnn co-bps: held-out channel %d out of range 0..%zu", held[q], N - 1);
    for (size_t i = 0; i < n; i++) tot += d->T[i];
    if (!tot) return ndyn_error(NDYN_EINVAL, "srnn co-bps: no time steps");
    double ll = 0, ll0 = 0, spikes = 0;
    for (size_t q = 0; q < n_held; q++) {
        size_t j = (size_t)held[q];
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < d->T[i]; t++) sum += d->y[i][t * N + j];
        double mean = sum / (double)tot, lmean = sum > 0 ? log(mean) : 0;
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t t = 0; t < d->T[i]; t++) {
                double y = d->y[i][t * N + j], lam = rates[(o + t) * N + j];
                if (!(y >= 0) || !isfinite(lam) || lam < 0 || (y > 0 && !(lam > 0)))
                    return ndyn_error(NDYN_EINVAL, "srnn co-bps: trial %zu step %zu channel %zu: count %g, rate %g "
                                      "(need count >= 0 and rate > 0 where count > 0)", i, t, j, y, lam);
                ll += (y > 0 ? y * log(lam) : 0) - lam;
                ll0 += (y > 0 ? y * lmean : 0) - mean;
            }
            o += d->T[i];
        }
        spikes += sum;
    }
    if (!(spikes > 0)) return ndyn_error(NDYN_EINVAL, "srnn co-bps: the held-out channels have no spikes in these trials");
    *bps = (ll - ll0) / (spikes * 0.69314718055994531);
    return NDYN_OK;
}

int ndyn_srnn_cosmooth(const ndyn_srnn_model *m, const ndyn_srnn_data *d, const int *held_out,
                       size_t n_held, double *mse)
{
    size_t n = d->n_trials, N = d->N;
    for (size_t q = 0; q < n_held; q++)
        if (held_out[q] < 0 || (size_t)held_out[q] >= N)
            return ndyn_error(NDYN_EINVAL, "srnn cosmooth: held-out channel %d out of range 0..%zu", held_out[q], N - 1);
    double **ys = ndyn_calloc(n, sizeof(double *));
    if (!ys) return NDYN_ENOMEM;
    int rc = NDYN_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        ys[i] = ndyn_malloc_array(d->T[i] * N, sizeof(double));
        if (!ys[i]) { rc = NDYN_ENOMEM; break; }
        memcpy(ys[i], d->y[i], d->T[i] * N * sizeof(double));
        for (size_t t = 0; t < d->T[i]; t++)
            for (size_t q = 0; q < n_held; q++) ys[i][t * N + held_out[q]] = 0;
    }
    ndyn_srnn_data dm = *d;
    dm.y = (const double *const *)ys;
    dm.labels = NULL;
    ndyn_srnn_result *r = NULL;
    if (!rc) rc = ndyn_srnn_infer(m, &dm, &r);
    if (!rc) {
        double se = 0;
        size_t o = 0, cnt = 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t t = 0; t < d->T[i]; t++)
                for (size_t q = 0; q < n_held; q++) {
                    double u = d->y[i][t * N + held_out[q]] - r->yhat[(o + t) * N + held_out[q]];
                    se += u * u;
                    cnt++;
                }
            o += d->T[i];
        }
        *mse = cnt ? se / cnt : NAN;
    }
    ndyn_srnn_result_free(r);
    for (size_t i = 0; i < n; i++) free(ys[i]);
    free(ys);
    return rc;
}

void ndyn_srnn_flow_free(ndyn_srnn_flow *f)
{
    if (!f) return;
    free(f->grid), free(f->vel), free(f->traj), free(f->comps), free(f->mean), free(f->traj_state);
    free(f);
}

int ndyn_srnn_flow_compute(const ndyn_srnn_model *m, const ndyn_srnn_data *d, size_t G,
                           ndyn_srnn_flow **out)
{
    *out = NULL;
    if (G < 2 || G > 1000) return ndyn_error(NDYN_EINVAL, "srnn flow: grid size %zu must be in 2..1000", G);
    size_t H = m->p.H, K = m->p.K;
    if (H < 2) return ndyn_error(NDYN_EINVAL, "srnn flow: needs a latent size H >= 2 for a 2-D plane (H = %zu)", H);
    ndyn_srnn_result *r;
    int rc = ndyn_srnn_infer(m, d, &r);
    if (rc) return rc;
    srnn_layout l;
    srnn_layout_make(&m->p, m->N, &l);
    size_t tot = r->total_T;
    ndyn_srnn_flow *f = ndyn_calloc(1, sizeof *f);
    if (!f) {
        ndyn_srnn_result_free(r);
        return NDYN_ENOMEM;
    }
    f->G2 = G * G, f->K = K, f->H = H, f->total_T = tot;
    f->grid = ndyn_malloc_array(G * G * 2, sizeof(double));
    f->vel = ndyn_malloc_array(K * G * G * 2, sizeof(double));
    f->traj = ndyn_malloc_array(tot * 2, sizeof(double));
    f->comps = ndyn_malloc_array(2 * H, sizeof(double));
    f->mean = ndyn_calloc(H, sizeof(double));
    f->traj_state = ndyn_malloc_array(tot, sizeof(int));
    if (!f->grid || !f->vel || !f->traj || !f->comps || !f->mean || !f->traj_state) rc = NDYN_ENOMEM;
    /* the plane of the two leading principal axes of the latent means */
    ndyn_pca *pca = NULL;
    if (!rc) rc = ndyn_pca_fit(r->h, tot, H, 2, &pca);
    if (!rc) {
        memcpy(f->mean, pca->mean, H * sizeof(double));
        memcpy(f->comps, pca->components, 2 * H * sizeof(double));
        rc = ndyn_pca_transform(pca, r->h, tot, f->traj);
    }
    ndyn_pca_free(pca);
    if (!rc) {
        double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
        for (size_t t = 0; t < tot; t++) {
            for (int c = 0; c < 2; c++) lo[c] = fmin(lo[c], f->traj[t * 2 + c]), hi[c] = fmax(hi[c], f->traj[t * 2 + c]);
            f->traj_state[t] = r->states[t];
        }
        double hv[4096], fv[4096];
        for (int c = 0; c < 2; c++) {
            double pad = 0.1 * (hi[c] - lo[c]) + 1e-9;
            lo[c] -= pad, hi[c] += pad;
        }
        for (size_t gy = 0; gy < G; gy++)
            for (size_t gx = 0; gx < G; gx++) {
                size_t q = gy * G + gx;
                double px = lo[0] + (hi[0] - lo[0]) * gx / (G - 1), py = lo[1] + (hi[1] - lo[1]) * gy / (G - 1);
                f->grid[q * 2] = px, f->grid[q * 2 + 1] = py;
                for (size_t a = 0; a < H; a++) hv[a] = f->mean[a] + px * f->comps[a] + py * f->comps[H + a];
                for (size_t k = 0; k < K; k++) {
                    srnn_dynamics(m, &l, (int)k, hv, fv);
                    for (int c = 0; c < 2; c++) {
                        double v = 0;
                        for (size_t a = 0; a < H; a++) v += (fv[a] - hv[a]) * f->comps[c * H + a];
                        f->vel[(k * G * G + q) * 2 + c] = v;
                    }
                }
            }
    }
    ndyn_srnn_result_free(r);
    if (rc) {
        ndyn_srnn_flow_free(f);
        return rc;
    }
    *out = f;
    return NDYN_OK;
}

/* ---------------------------------------------------------------- filtering */

struct ndyn_srnn_filter {
    const ndyn_srnn_model *m;
    srnn_layout l;
    size_t t;
    double *u, *hp, *sp, *la, *z1, *a, *s, *h, *e, *vh, *v0, *f;
};

int ndyn_srnn_filter_new(const ndyn_srnn_model *m, ndyn_srnn_filter **out)
{
    *out = NULL;
    if (!m->p.causal)
        return ndyn_error(NDYN_EINVAL, "srnn filter: the model has a backward encoder; refit with --causal for online filtering");
    ndyn_srnn_filter *f = ndyn_calloc(1, sizeof *f);
    if (!f) return NDYN_ENOMEM;
    f->m = m;
    srnn_layout_make(&m->p, m->N, &f->l);
    size_t H = f->l.H, K = f->l.K, S1 = f->l.S1;
    double *buf = ndyn_calloc(9 * H + 2 * K + S1 + K * H, sizeof(double));
    if (!buf) {
        free(f);
        return NDYN_ENOMEM;
    }
    f->u = buf, f->hp = buf + H, f->sp = buf + 2 * H, f->a = buf + 3 * H, f->s = buf + 4 * H;
    f->h = buf + 5 * H, f->vh = buf + 6 * H, f->v0 = buf + 7 * H, f->f = buf + 8 * H;
    f->la = buf + 9 * H, f->e = f->la + K, f->z1 = f->e + K;
    double vmin_h = m->p.learn_var_h ? m->p.var_min : 0;
    for (size_t d = 0; d < H; d++) {
        f->vh[d] = srnn_var(m->theta[f->l.logvar_h + d], vmin_h);
        f->v0[d] = f->l.n_h0 ? srnn_var(m->theta[f->l.h0_logvar + d], m->p.var_min) : 1;
    }
    *out = f;
    return NDYN_OK;
}

void ndyn_srnn_filter_free(ndyn_srnn_filter *f)
{
    if (!f) return;
    free(f->u);
    free(f);
}

int ndyn_srnn_filter_step(ndyn_srnn_filter *f, const double *y, double *filt, double *hout)
{
    const ndyn_srnn_model *m = f->m;
    const srnn_layout *l = &f->l;
    const double *th = m->theta;
    int H = l->H, K = l->K, N = l->N, S1 = l->S1;
    for (int q = 0; q < N; q++)
        if (!isfinite(y[q])) return ndyn_error(NDYN_ENONFINITE, "srnn filter: y[%d] is not finite", q);
    /* encoder */
    double *u = f->a; /* new u into scratch, then copy */
    for (int i = 0; i < H; i++) u[i] = th[l->encf_b + i];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, H, N, 1.0, th + l->encf_Wx, N, y, 1, 1.0, u, 1);
    if (f->t) cblas_dgemv(CblasRowMajor, CblasNoTrans, H, H, 1.0, th + l->encf_Wh, H, f->u, 1, 1.0, u, 1);
    for (int i = 0; i < H; i++) f->u[i] = srnn_tanh(u[i]);
    /* sampler mean */
    for (int i = 0; i < S1; i++) f->z1[i] = th[l->s1_b + i];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, S1, H, 1.0, th + l->s1_W, 2 * H, f->u, 1, 1.0, f->z1, 1);
    if (f->t) cblas_dgemv(CblasRowMajor, CblasNoTrans, S1, H, 1.0, th + l->s1_W + H, 2 * H, f->hp, 1, 1.0, f->z1, 1);
    for (int i = 0; i < S1; i++) f->z1[i] = f->z1[i] > 0 ? f->z1[i] : 0;
    for (int i = 0; i < H; i++) f->a[i] = th[l->s2_b + i];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, H, S1, 1.0, th + l->s2_W, S1, f->z1, 1, 1.0, f->a, 1);
    for (int i = 0; i < H; i++) f->s[i] = th[l->m_b + i];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, H, H, 1.0, th + l->m_Wa, H, f->a, 1, 1.0, f->s, 1);
    if (f->t) cblas_dgemv(CblasRowMajor, CblasNoTrans, H, H, 1.0, th + l->m_Ws, H, f->sp, 1, 1.0, f->s, 1);
    for (int i = 0; i < H; i++) f->h[i] = f->s[i] = srnn_tanh(f->s[i]);
    /* evidence (the emission term is common to all states and cancels) and the forward step */
    double S[64 * 64], lpi[64];
    if (f->t == 0) {
        srnn_log_pi(m, l, lpi);
        for (int k = 0; k < K; k++) {
            double q = 0;
            if (l->n_h0)
                for (int d = 0; d < H; d++) {
                    double r = f->h[d] - th[l->h0_mu + k * H + d];
                    q += r * r / f->v0[d];
                }
            f->la[k] = lpi[k] - 0.5 * q;
        }
    } else {
        srnn_log_transition(m, l, f->hp, S);
        double nl[64];
        for (int k = 0; k < K; k++) {
            srnn_dynamics(m, l, k, f->hp, f->f);
            double q = 0;
            for (int d = 0; d < H; d++) {
                double r = f->h[d] - f->f[d];
                q += r * r / f->vh[d];
            }
            double mx = -INFINITY, tmp[64];
            for (int j = 0; j < K; j++) tmp[j] = S[k * K + j] + f->la[j], mx = fmax(mx, tmp[j]);
            double s = 0;
            for (int j = 0; j < K; j++) s += exp(tmp[j] - mx);
            nl[k] = -0.5 * q + mx + log(s);
        }
        memcpy(f->la, nl, K * sizeof(double));
    }
    double mx = -INFINITY, s = 0;
    for (int k = 0; k < K; k++) mx = fmax(mx, f->la[k]);
    for (int k = 0; k < K; k++) s += exp(f->la[k] - mx);
    for (int k = 0; k < K; k++) {
        f->la[k] -= mx + log(s);
        if (filt) filt[k] = exp(f->la[k]);
    }
    memcpy(f->hp, f->h, H * sizeof(double));
    memcpy(f->sp, f->s, H * sizeof(double));
    if (hout) memcpy(hout, f->h, H * sizeof(double));
    f->t++;
    return NDYN_OK;
}
