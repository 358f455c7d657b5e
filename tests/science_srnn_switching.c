/* SRNN against the ground truth of a simulated switching system
 * (ndyn_sim_switching: K = 2 tanh-RNN regimes, a slow counter-clockwise and
 * a fast clockwise limit cycle in H = 2, sticky Markov switching, 30
 * Gaussian channels; 12 trials x 200 steps, the first 2 held out):
 *  - with K = 2 the held-out trials' states match the true states with
 *    accuracy >= 0.95 after Hungarian matching;
 *  - the held-out ELBO chooses the true K among K = 1..4 by the parsimony
 *    rule of docs/srnn.md: the smallest K whose held-out ELBO gain over K = 1
 *    reaches 0.8 of the largest gain.
 * Protocol (docs/srnn.md, "Choosing K"; measured over data seeds 0-9 by
 * bench/bench_srnn_switching, whose defaults are this protocol): hmm
 * initialisation (the kmeans labels are position clusters, at chance against
 * the regimes, and stage 1 then locks the fit into them), 300 + 1700 epochs
 * at lr 1e-2 halved every 500 epochs so that the fits settle, float32
 * training steps to keep the time, 2 restarts per K keeping the better
 * held-out ELBO, held-out ELBO from 8 draws. With the default training seed
 * the sweep passes 10/10 data seeds (9/10 on seeds 10-19), but with training
 * seeds 7 and 8 only 10/20: the K = 2 fit often stops short of its optimum
 * (docs/srnn.md), so this test still depends on its training seed. */
#include "test.h"

#include <math.h>

#include "ndyn/sim.h"
#include "ndyn/srnn.h"

TEST(switching_ground_truth)
{
    ndyn_sim_switching_params sp;
    ndyn_sim_switching_defaults(&sp);
    sp.trials = 12;
    sp.steps = 200;
    sp.K = 2;
    sp.Y = 30;
    sp.seed = 3;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&sp, &ds));
    if (!ds) return;
    const ndyn_array *y, *st;
    CHECK_OK(ndyn_dataset_get(ds, "y", &y));
    CHECK_OK(ndyn_dataset_get(ds, "states", &st));
    size_t n = y->shape[0], T = y->shape[1], N = y->shape[2];
    size_t Ts[12];
    const double *ys[12];
    const int *ls[12];
    for (size_t i = 0; i < n; i++) Ts[i] = T, ys[i] = (const double *)y->data + i * T * N, ls[i] = (const int *)st->data + i * T;
    ndyn_srnn_data d = {n, N, Ts, ys, ls, 2};
    ndyn_srnn_data dt = d;
    dt.n_trials = 2; /* the held-out trials */
    double elbo[5] = {0};
    int bestK = 1;
    for (int K = 1; K <= 4; K++) {
        ndyn_srnn_params p;
        ndyn_srnn_params_default(&p);
        p.K = K;
        p.H = 2;
        p.init = NDYN_SRNN_INIT_HMM;
        p.init_epochs = 300;
        p.epochs = 1700;
        p.lr = 1e-2;
        p.lr_step = 500;
        p.lr_gamma = 0.5;
        p.precision = NDYN_SRNN_F32;
        p.restarts = 2; /* keep the fit with the better held-out ELBO */
        p.test_trials = 2;
        p.eval_every = 100;
        p.eval_samples = 8;
        ndyn_srnn_model *m = NULL;
        double t0 = ndyn_time_now();
        CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
        if (!m) continue;
        ndyn_srnn_result *r = NULL;
        CHECK_OK(ndyn_srnn_infer(m, &dt, &r));
        if (r) {
            /* held-out ELBO per step: the per-trial ELBOs ndyn srnn infer reports */
            elbo[K] = (r->elbo[0] + r->elbo[1]) / (2.0 * (double)T);
            fprintf(stderr, "switching K=%d: held-out ELBO/step %.4f (fit's estimate %.4f), held-out state accuracy %.3f "
                    "(unmatched %.3f), fit %.1f s\n",
                    K, elbo[K], m->test_elbo, 1 - r->state_error, 1 - r->state_error_raw, ndyn_time_now() - t0);
            if (K == 2) CHECK(1 - r->state_error >= 0.95);
        }
        if (elbo[K] > elbo[bestK]) bestK = K;
        ndyn_srnn_result_free(r);
        ndyn_srnn_model_free(m);
    }
    int chosen = bestK;
    for (int K = 1; K < bestK; K++)
        if (elbo[K] - elbo[1] >= 0.8 * (elbo[bestK] - elbo[1])) { chosen = K; break; }
    fprintf(stderr, "switching: largest held-out ELBO at K = %d; the 0.8-gain rule chooses K = %d (true 2)\n", bestK,
            chosen);
    CHECK(chosen == 2);
    /* the states are found: K = 2 gains clearly over one state */
    CHECK(elbo[2] - elbo[1] > 1.0);
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(switching_ground_truth))
