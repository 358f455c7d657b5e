/* Co-smoothing by the Neural Latents Benchmark protocol against the ground
 * truth of a simulated switching system with Poisson counts
 * (ndyn_sim_switching: K = 2 tanh-RNN regimes, H = 2, 30 channels, 12 trials
 * x 200 steps). 6 channels (--heldout-frac 0.2) are hidden from the encoder;
 * the model is fitted on trials 3..11 (all channels: the held-out ones train
 * the readout) and scored on trials 0..2, where the encoder sees the 24
 * held-in channels only:
 *  - co-bps of the true rates is the upper reference, the mean-rate model
 *    scores 0, and the fitted model lies strictly between;
 *  - the co-bps reported by ndyn_srnn_infer equals a direct computation from
 *    the definition, for the model and for the truth.
 * 200 + 500 epochs at lr 1e-2. */
#include "test.h"

#include <math.h>

#include "ndyn/sim.h"
#include "ndyn/srnn.h"

enum { NTR = 12, NTEST = 3 };

/* (LL - LL_null) / (spikes ln 2) on held channels of trials 0..n-1, written out */
static double direct_bps(const double *y, const double *rate, size_t n, size_t T, size_t N, const int *held,
                         size_t nh)
{
    double ll = 0, ll0 = 0, spikes = 0;
    for (size_t q = 0; q < nh; q++) {
        size_t j = (size_t)held[q];
        double mean = 0;
        for (size_t r = 0; r < n * T; r++) mean += y[r * N + j];
        mean /= (double)(n * T);
        for (size_t r = 0; r < n * T; r++) {
            double c = y[r * N + j];
            ll += c * log(rate[r * N + j]) - rate[r * N + j];
            ll0 += c * log(mean) - mean;
            spikes += c;
        }
    }
    return (ll - ll0) / spikes / log(2.0);
}

TEST(cosmooth_poisson_ground_truth)
{
    ndyn_sim_switching_params sp;
    ndyn_sim_switching_defaults(&sp);
    sp.trials = NTR;
    sp.steps = 200;
    sp.K = 2;
    sp.H = 2;
    sp.Y = 30;
    sp.emission = NDYN_SIM_EMIT_POISSON;
    sp.seed = 3;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_switching(&sp, &ds));
    if (!ds) return;
    const ndyn_array *y, *rate;
    CHECK_OK(ndyn_dataset_get(ds, "y", &y));
    CHECK_OK(ndyn_dataset_get(ds, "rate", &rate));
    size_t n = y->shape[0], T = y->shape[1], N = y->shape[2];
    size_t Ts[NTR];
    const double *ys[NTR];
    for (size_t i = 0; i < n; i++) Ts[i] = T, ys[i] = (const double *)y->data + i * T * N;
    ndyn_srnn_data d = {n, N, Ts, ys, NULL, 0};
    ndyn_srnn_data dt = d;
    dt.n_trials = NTEST; /* the test trials: not fitted */
    int held[30];
    size_t nh = 0;
    CHECK_OK(ndyn_srnn_heldout_pick(N, 0.2, 131, held, &nh));
    CHECK(nh == 6);
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.K = 2;
    p.H = 2;
    p.emission = NDYN_SRNN_POISSON;
    p.init_epochs = 200;
    p.epochs = 500;
    p.lr = 1e-2;
    p.test_trials = NTEST;
    p.eval_every = 100;
    p.heldout = held;
    p.n_heldout = nh;
    ndyn_srnn_model *m = NULL;
    double t0 = ndyn_time_now();
    CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
    if (!m) {
        ndyn_dataset_free(ds);
        return;
    }
    double tfit = ndyn_time_now() - t0;
    ndyn_srnn_result *r = NULL;
    CHECK_OK(ndyn_srnn_infer(m, &dt, &r));
    if (r) {
        const double *yt = y->data, *rt = rate->data; /* trials 0..2 come first */
        double truth, mean_rate;
        CHECK_OK(ndyn_srnn_cobps(&dt, rt, held, nh, &truth));
        CHECK_CLOSE(truth, direct_bps(yt, rt, NTEST, T, N, held, nh), 1e-12, 1e-12);
        CHECK_CLOSE(r->cobps, direct_bps(yt, r->yhat, NTEST, T, N, held, nh), 1e-12, 1e-12);
        /* the null itself */
        double *mr = malloc(NTEST * T * N * sizeof(double));
        for (size_t j = 0; j < N; j++) {
            double s = 0;
            for (size_t q = 0; q < NTEST * T; q++) s += yt[q * N + j];
            for (size_t q = 0; q < NTEST * T; q++) mr[q * N + j] = s / (double)(NTEST * T);
        }
        CHECK_OK(ndyn_srnn_cobps(&dt, mr, held, nh, &mean_rate));
        free(mr);
        fprintf(stderr, "cosmooth: held-out channels %d..%d (%zu), test co-bps: truth %.4f, SRNN %.4f, mean rate %.2g; "
                        "held-out MSE %.4f; fit %.1f s\n", held[0], held[nh - 1], nh, truth, r->cobps, mean_rate,
                r->cosmooth_mse, tfit);
        CHECK_CLOSE(mean_rate, 0, 1e-12, 0);
        CHECK(truth > 0.05);
        CHECK(r->cobps > 0);
        CHECK(r->cobps < truth);
    }
    ndyn_srnn_result_free(r);
    ndyn_srnn_model_free(m);
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(cosmooth_poisson_ground_truth))
