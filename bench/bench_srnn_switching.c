/* SRNN model selection on simulated switching data, swept over noise draws:
 * the protocol of tests/science_srnn_switching.c (ndyn_sim_switching with
 * true-k tanh-RNN regimes, default 2; H = 2, 30 Gaussian channels, `trials` x
 * 200 steps, the first test-trials held out), i.e. ndyn_srnn_choose_k, run
 * for every data seed and training seed asked for. Per run it prints the
 * held-out ELBO per step of the kept fit of each K and of the fresh fit alone
 * (restarts, no warm start), the K of the largest held-out ELBO, the K the
 * gain rule chooses on the kept fits and on the fresh fits (= the selection
 * without warm starts, from the same run: the fresh fits do not depend on the
 * warm ones), the true-K fit's held-out state accuracy after matching (kept
 * and fresh), the training ELBOs of the fresh and warm fits, which was kept,
 * and the balanced accuracy of the labels the kmeans and hmm initialisations
 * start from (on the training trials, before the hmm init's per-trial
 * relabelling). A run passes when the chosen K is the true one and that
 * accuracy is >= 0.95 (issue #6); the last lines give the pass rates of both.
 *
 * Not a timing benchmark: the science test's property measured beyond its one
 * draw. Run it alone, one thread: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1.
 *
 * Usage: bench_srnn_switching [--seeds A-B] [--train-seeds s1,s2,...]
 *   [--true-k K] [--trials n] [--test-trials n] [--restarts R]
 *   [--eval-samples S] [--init kmeans|hmm|random|uniform]
 *   [--init-epochs E1] [--epochs E2] [--lr LR] [--lr-step E] [--lr-gamma G]
 *   [--precision f32|f64] [--cross C] [--kmin K0] [--kmax K1] [--gain-frac F]
 *   [--warm 0|1] [--warm-epochs E]
 * Defaults (the science test's protocol): seeds 0-9, training seed 131, true
 * K 2, 12 trials, 2 held out, hmm init, 300 + 1700 epochs, lr 1e-2 halved
 * every 500 epochs, f32, coef_cross 0.5, 2 restarts, 8 samples, K = 1..4,
 * gain-frac 0.8, warm starts on (850 epochs). --warm 0 skips the warm fits
 * (only the fresh columns then mean anything, and the run is faster). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "ndyn/sim.h"
#include "ndyn/srnn.h"

#define KMAX 6

typedef struct {
    size_t trials, test_trials;
    int lr_step, precision, restarts, eval_samples, init, init_epochs, epochs, kmin, kmax, warm, warm_epochs;
    double lr, cross, lr_gamma, gain_frac;
    int true_k;
} protocol;

/* Balanced accuracy after matching of the K = 2 labels that the kmeans and hmm
 * initialisations start from (as src/srnn/train.c and hmm_init.c compute them
 * on the training trials, before the hmm init's per-trial relabelling by first
 * appearance), against the true states. */
static void init_label_accuracy(const ndyn_srnn_data *d, size_t first, uint64_t seed, double *acc_km,
                                double *acc_hmm)
{
    size_t n = d->n_trials - first, T = d->T[0], N = d->N, tot = n * T;
    int K = d->n_labels;
    double *x = malloc(tot * N * sizeof *x);
    int *lab = malloc(tot * sizeof *lab), *truth = malloc(tot * sizeof *truth);
    for (size_t i = 0; i < n; i++) {
        memcpy(x + i * T * N, d->y[first + i], T * N * sizeof *x);
        memcpy(truth + i * T, d->labels[first + i], T * sizeof *truth);
    }
    *acc_km = *acc_hmm = NAN;
    int map[KMAX];
    ndyn_kmeans_params kp;
    ndyn_kmeans_params_default(&kp, (size_t)K);
    kp.seed = seed;
    if (!ndyn_kmeans(x, tot, N, &kp, NULL, lab, NULL))
        ndyn_match_labels(lab, truth, tot, K, K, NDYN_MATCH_BALANCED, map, acc_km);
    ndyn_hmm_params hp;
    ndyn_hmm_params_default(&hp, (size_t)K);
    hp.cov = NDYN_HMM_COV_DIAG;
    hp.max_iter = 20;
    hp.seed = seed;
    ndyn_hmm *h = NULL;
    int rc = ndyn_hmm_fit(d->y + first, d->T + first, n, N, &hp, &h, NULL, NULL);
    for (size_t i = 0; !rc && i < n; i++) rc = ndyn_hmm_viterbi(h, d->y[first + i], T, lab + i * T, NULL);
    if (!rc) ndyn_match_labels(lab, truth, tot, K, K, NDYN_MATCH_BALANCED, map, acc_hmm);
    ndyn_hmm_free(h);
    free(x);
    free(lab);
    free(truth);
}

/* One data seed, one training seed: ndyn_srnn_choose_k on the data (the first
 * test_trials trials held out). */
static int run_one(const protocol *pc, uint64_t data_seed, uint64_t train_seed, ndyn_srnn_selection **sel,
                   double *secs, double *acc_km, double *acc_hmm)
{
    ndyn_sim_switching_params sp;
    ndyn_sim_switching_defaults(&sp);
    sp.trials = pc->trials;
    sp.steps = 200;
    sp.K = pc->true_k;
    sp.Y = 30;
    sp.seed = data_seed;
    ndyn_dataset *ds = NULL;
    if (ndyn_sim_switching(&sp, &ds)) return 1;
    const ndyn_array *y, *st;
    if (ndyn_dataset_get(ds, "y", &y) || ndyn_dataset_get(ds, "states", &st)) return 1;
    size_t n = y->shape[0], T = y->shape[1], N = y->shape[2];
    size_t *Ts = malloc(n * sizeof *Ts);
    const double **ys = malloc(n * sizeof *ys);
    const int **ls = malloc(n * sizeof *ls);
    for (size_t i = 0; i < n; i++)
        Ts[i] = T, ys[i] = (const double *)y->data + i * T * N, ls[i] = (const int *)st->data + i * T;
    ndyn_srnn_data d = {n, N, Ts, ys, ls, pc->true_k};
    init_label_accuracy(&d, pc->test_trials, train_seed, acc_km, acc_hmm);
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.H = 2;
    p.init = pc->init;
    p.init_epochs = pc->init_epochs;
    p.epochs = pc->epochs;
    p.lr = pc->lr;
    p.lr_step = pc->lr_step;
    p.lr_gamma = pc->lr_gamma;
    p.precision = pc->precision;
    p.coef_cross = pc->cross;
    p.test_trials = (int)pc->test_trials;
    p.eval_every = 100;
    p.eval_samples = pc->eval_samples;
    p.restarts = pc->restarts;
    p.seed = train_seed;
    ndyn_srnn_select_params sel_p;
    ndyn_srnn_select_params_default(&sel_p);
    sel_p.kmin = pc->kmin;
    sel_p.kmax = pc->kmax;
    sel_p.gain_frac = pc->gain_frac;
    sel_p.warm_start = pc->warm;
    sel_p.warm_epochs = pc->warm_epochs;
    sel_p.keep_model = 0;
    double t0 = ndyn_time_now();
    int rc = ndyn_srnn_choose_k(&d, NULL, &p, &sel_p, sel);
    *secs = ndyn_time_now() - t0;
    if (rc)
        fprintf(stderr, "choose K failed (data seed %llu, training seed %llu): %s\n", (unsigned long long)data_seed,
                (unsigned long long)train_seed, ndyn_errmsg());
    free(Ts);
    free(ys);
    free(ls);
    ndyn_dataset_free(ds);
    return rc;
}

int main(int argc, char **argv)
{
    /* defaults: the protocol of tests/science_srnn_switching.c */
    protocol pc = {.trials = 12, .test_trials = 2, .lr_step = 500, .precision = NDYN_SRNN_F32, .warm = 1,
                   .warm_epochs = 0, .restarts = 2, .eval_samples = 8, .init = NDYN_SRNN_INIT_HMM,
                   .init_epochs = 300, .epochs = 1700, .kmin = 1, .kmax = 4, .lr = 1e-2, .cross = 0.5,
                   .lr_gamma = 0.5, .gain_frac = 0.8, .true_k = 2};
    int s0 = 0, s1 = 9;
    uint64_t tseeds[32] = {131};
    int nts = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "option %s needs a value\n", a); return 2; }
        i++;
        if (!strcmp(a, "--seeds")) {
            if (sscanf(v, "%d-%d", &s0, &s1) != 2) s0 = s1 = atoi(v);
        } else if (!strcmp(a, "--train-seeds")) {
            nts = 0;
            for (char *q = (char *)v; *q && nts < 32;) {
                tseeds[nts++] = strtoull(q, &q, 10);
                if (*q == ',') q++;
                else break;
            }
        } else if (!strcmp(a, "--trials")) pc.trials = (size_t)atoi(v);
        else if (!strcmp(a, "--test-trials")) pc.test_trials = (size_t)atoi(v);
        else if (!strcmp(a, "--restarts")) pc.restarts = atoi(v);
        else if (!strcmp(a, "--warm")) pc.warm = atoi(v);
        else if (!strcmp(a, "--warm-epochs")) pc.warm_epochs = atoi(v);
        else if (!strcmp(a, "--lr-step")) pc.lr_step = atoi(v);
        else if (!strcmp(a, "--lr-gamma")) pc.lr_gamma = atof(v);
        else if (!strcmp(a, "--precision")) pc.precision = !strcmp(v, "f32") ? NDYN_SRNN_F32 : NDYN_SRNN_F64;
        else if (!strcmp(a, "--eval-samples")) pc.eval_samples = atoi(v);
        else if (!strcmp(a, "--init-epochs")) pc.init_epochs = atoi(v);
        else if (!strcmp(a, "--epochs")) pc.epochs = atoi(v);
        else if (!strcmp(a, "--lr")) pc.lr = atof(v);
        else if (!strcmp(a, "--cross")) pc.cross = atof(v);
        else if (!strcmp(a, "--kmax")) pc.kmax = atoi(v);
        else if (!strcmp(a, "--kmin")) pc.kmin = atoi(v);
        else if (!strcmp(a, "--gain-frac")) pc.gain_frac = atof(v);
        else if (!strcmp(a, "--true-k")) pc.true_k = atoi(v);
        else if (!strcmp(a, "--init")) {
            if (!strcmp(v, "kmeans")) pc.init = NDYN_SRNN_INIT_KMEANS;
            else if (!strcmp(v, "hmm")) pc.init = NDYN_SRNN_INIT_HMM;
            else if (!strcmp(v, "random")) pc.init = NDYN_SRNN_INIT_RANDOM;
            else if (!strcmp(v, "uniform")) pc.init = NDYN_SRNN_INIT_UNIFORM;
            else { fprintf(stderr, "--init: kmeans, hmm, random or uniform\n"); return 2; }
        } else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    if (pc.true_k < 1 || pc.kmax > KMAX || pc.kmin < 1 || pc.kmin > pc.true_k || pc.kmax < pc.true_k || pc.test_trials < 1 ||
        pc.test_trials >= pc.trials) {
        fprintf(stderr, "need 1 <= --kmin <= --true-k <= --kmax <= %d and 1 <= --test-trials < --trials\n", KMAX);
        return 2;
    }
    ndyn_set_quiet(1);
    printf("# protocol: %zu trials x 200 steps, first %zu held out; init %d, %d + %d epochs, lr %g (x %g every %d), %s, "
           "coef_cross %g, restarts %d (best training ELBO), %d samples; warm starts %s (%d epochs)\n",
           pc.trials, pc.test_trials, pc.init, pc.init_epochs, pc.epochs, pc.lr, pc.lr_gamma, pc.lr_step,
           pc.precision == NDYN_SRNN_F32 ? "f32" : "f64", pc.cross, pc.restarts, pc.eval_samples,
           pc.warm ? "on" : "off", pc.warm_epochs > 0 ? pc.warm_epochs : pc.epochs / 2);
    printf("# test: held-out ELBO per step of the kept fit of each K; fresh: of the fresh fit (restarts only);\n"
           "# max: K of the largest; rule: smallest K whose gain over K = %d is >= %g of the largest gain, on the\n"
           "# kept fits (rule) and on the fresh fits alone (fresh, = without warm starts); acc: held-out state\n"
           "# accuracy of the true-K fit; kept: w = warm fit kept, f = fresh kept (by training ELBO), - = no warm fit\n",
           pc.kmin, pc.gain_frac);
    printf("# data train |");
    for (int K = pc.kmin; K <= pc.kmax; K++) printf("  test K=%d", K);
    printf(" |");
    for (int K = pc.kmin; K <= pc.kmax; K++) printf(" fresh K=%d", K);
    printf(" | max rule fresh | acc K=%d fresh | pass rule fresh |", pc.true_k);
    for (int K = pc.kmin; K <= pc.kmax; K++) printf(" trainF K=%d", K);
    printf(" |");
    for (int K = pc.kmin; K <= pc.kmax; K++) printf(" trainW K=%d", K);
    printf(" | kept | kmeans hmm | secs\n");
    int runs = 0, pass[2] = {0, 0}, passK[2] = {0, 0}, passA[2] = {0, 0};
    double t0 = ndyn_time_now();
    for (int s = s0; s <= s1; s++) {
        for (int j = 0; j < nts; j++) {
            ndyn_srnn_selection *sel = NULL;
            double secs = 0, akm, ahmm;
            if (run_one(&pc, (uint64_t)s, tseeds[j], &sel, &secs, &akm, &ahmm)) return 1;
            int tk = pc.true_k, ti = tk - pc.kmin;
            int ch[2] = {sel->chosen, sel->fresh_chosen};
            double acc[2] = {1 - sel->state_error[ti], 1 - sel->fresh_state_error[ti]};
            int ok[2];
            runs++;
            for (int q = 0; q < 2; q++) {
                ok[q] = ch[q] == tk && acc[q] >= 0.95;
                pass[q] += ok[q];
                passK[q] += ch[q] == tk;
                passA[q] += acc[q] >= 0.95;
            }
            printf("%6d %5llu |", s, (unsigned long long)tseeds[j]);
            for (size_t i = 0; i < sel->n_k; i++) printf(" %9.4f", sel->heldout_elbo[i]);
            printf(" |");
            for (size_t i = 0; i < sel->n_k; i++) printf(" %9.4f", sel->fresh_heldout_elbo[i]);
            printf(" | %3d %4d %5d | %5.3f %5.3f | %4s %5s |", sel->best, ch[0], ch[1], acc[0], acc[1],
                   ok[0] ? "yes" : "no", ok[1] ? "yes" : "no");
            for (size_t i = 0; i < sel->n_k; i++) printf(" %10.4f", sel->fresh_train_elbo[i]);
            printf(" |");
            for (size_t i = 0; i < sel->n_k; i++) printf(" %10.4f", sel->warm_train_elbo[i]);
            printf(" | ");
            for (size_t i = 0; i < sel->n_k; i++) putchar(sel->removed[i] < 0 ? '-' : sel->warm[i] ? 'w' : 'f');
            printf(" | %6.3f %.3f | %5.1f\n", akm, ahmm, secs);
            fflush(stdout);
            ndyn_srnn_selection_free(sel);
        }
    }
    for (int q = 0; q < 2; q++)
        printf("# %s: pass (chosen K = %d and its held-out accuracy >= 0.95) %d / %d runs; K chosen right %d / %d; "
               "accuracy %d / %d\n",
               q ? "fresh fits only (no warm starts)" : "kept fits (warm starts)", pc.true_k, pass[q], runs, passK[q],
               runs, passA[q], runs);
    printf("# %.0f s\n", ndyn_time_now() - t0);
    return 0;
}
