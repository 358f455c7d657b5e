/* Shared by the SRNN objective tests: the parameter block names, a random
 * problem (data, a perturbed model, fixed noise and soft labels), and the
 * two steps of a check against a PyTorch fixture (weights in, gradients
 * compared block by block). */
#ifndef NDYN_SRNN_TEST_UTIL_H
#define NDYN_SRNN_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/srnn.h"

static const char *const t_srnn_blocks[] = {
    "pi",      "trans_W", "trans_b", "trans_B", "dyn_W",   "dyn_b",    "h0_mu",   "h0_logvar",
    "logvar_h", "logvar_y", "emis_W0", "emis_b0", "emis_W1", "emis_b1", "emis_W2", "emis_b2",
    "encf_Wx", "encf_Wh", "encf_b",  "encb_Wx", "encb_Wh", "encb_b",   "s1_W",    "s1_b",
    "s2_W",    "s2_b",    "m_Wa",    "m_Ws",    "m_b",     "logvar_q"};
#define T_SRNN_NBLOCKS (sizeof t_srnn_blocks / sizeof t_srnn_blocks[0])

enum { T_SRNN_MAXTRIALS = 8 };

typedef struct {
    ndyn_srnn_data d;
    size_t Ts[T_SRNN_MAXTRIALS], tot;      /* tot: time steps over all trials */
    const double *ys[T_SRNN_MAXTRIALS];
    double *y;                             /* (nt, max T, D): every trial drawn at max T */
    double *eps, *P;                       /* (tot, H) noise, (tot, K) soft labels */
    ndyn_srnn_model *m;                    /* parameters moved 0.05 N(0, 1) off their init */
} t_srnn_problem;

/* Draws, in order from one stream of seed: the data (Poisson(2) counts or
 * N(0, 1)), the parameter perturbation, eps, then P (uniform + 0.1,
 * normalised per step). Returns 0 on success; free with t_srnn_problem_free. */
static inline int t_srnn_problem_make(t_srnn_problem *q, const ndyn_srnn_params *p, int nt, const size_t *Ts,
                               int D, int poisson, uint64_t seed)
{
    memset(q, 0, sizeof *q);
    if (nt > T_SRNN_MAXTRIALS) return -1;
    size_t Tmax = 0;
    for (int i = 0; i < nt; i++) {
        q->Ts[i] = Ts[i];
        q->tot += Ts[i];
        if (Ts[i] > Tmax) Tmax = Ts[i];
    }
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    q->y = malloc((size_t)nt * Tmax * D * sizeof(double));
    if (!q->y) return -1;
    for (int i = 0; i < nt; i++) {
        double *yi = q->y + (size_t)i * Tmax * D;
        for (size_t k = 0; k < Tmax * D; k++)
            yi[k] = poisson ? (double)ndyn_rng_poisson(&r, 2.0) : ndyn_rng_normal(&r);
        q->ys[i] = yi;
    }
    q->d = (ndyn_srnn_data){(size_t)nt, (size_t)D, q->Ts, q->ys, NULL, 0};
    if (ndyn_srnn_model_new(p, (size_t)D, &q->m)) return -1;
    ndyn_srnn_model *m = q->m;
    for (size_t i = 0; i < m->n_theta; i++) m->theta[i] += 0.05 * ndyn_rng_normal(&r);
    size_t tot = q->tot, H = (size_t)p->H, K = (size_t)p->K;
    q->eps = malloc(tot * H * sizeof(double));
    q->P = malloc(tot * K * sizeof(double));
    if (!q->eps || !q->P) return -1;
    for (size_t i = 0; i < tot * H; i++) q->eps[i] = ndyn_rng_normal(&r);
    for (size_t t = 0; t < tot; t++) {
        double s = 0;
        for (size_t k = 0; k < K; k++) s += q->P[t * K + k] = ndyn_rng_uniform(&r) + 0.1;
        for (size_t k = 0; k < K; k++) q->P[t * K + k] /= s;
    }
    return 0;
}

static inline void t_srnn_problem_free(t_srnn_problem *q)
{
    free(q->y);
    free(q->eps);
    free(q->P);
    ndyn_srnn_model_free(q->m);
    memset(q, 0, sizeof *q);
}

/* Copies the fixture's float64 arrays named blocks[0..nb) into the model's
 * parameter blocks of those names. Returns how many were missing or of the
 * wrong size or type (0: all copied). */
static inline int t_srnn_load_blocks(ndyn_srnn_model *m, const ndyn_dataset *ds, const char *const *blocks,
                                     size_t nb)
{
    int bad = 0;
    for (size_t i = 0; i < nb; i++) {
        double *v;
        size_t cnt;
        const ndyn_array *a;
        if (ndyn_srnn_param_view(m, blocks[i], &v, &cnt) || ndyn_dataset_get(ds, blocks[i], &a) ||
            a->size != cnt || a->dtype != NDYN_F64) {
            bad++;
            continue;
        }
        memcpy(v, a->data, cnt * sizeof(double));
    }
    return bad;
}

/* The fixture's gradient of one block (array "grad_<block>") against ours,
 * g (n_theta) with g's sign times sign: max |ref - sign g| / max(1, max |ref|).
 * Negative when the fixture lacks the block or its size differs. */
static inline double t_srnn_grad_diff(const ndyn_srnn_model *m, const ndyn_dataset *ds, const double *g,
                                      const char *block, double sign)
{
    char nm[64];
    snprintf(nm, sizeof nm, "grad_%s", block);
    double *v;
    size_t cnt;
    const ndyn_array *a;
    if (ndyn_srnn_param_view(m, block, &v, &cnt) || ndyn_dataset_get(ds, nm, &a) || a->size != cnt) return -1;
    const double *ref = a->data, *mine = g + (v - m->theta);
    double worst = 0, scale = 1;
    for (size_t q = 0; q < cnt; q++) worst = fmax(worst, fabs(ref[q] - sign * mine[q])), scale = fmax(scale, fabs(ref[q]));
    return worst / scale;
}

#endif
