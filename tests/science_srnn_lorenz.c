/* SRNN on the reference's Lorenz demo data (shared/data/srnn_lorenz.npy,
 * 16 trials x 200 steps x 3, K = 2, H = 3, trial 0 held out as in the
 * reference): the two discrete states must match the two lobes of the
 * attractor (sign of the raw x coordinate) with accuracy >= 0.9 after
 * Hungarian matching, on the held-out trial and on all trials.
 * Modest schedule for a ~60 s test: k-means init, 500 + 1000 epochs at
 * lr 1e-2 (the reference runs 3000 + 1000 at 1e-3). */
#include "test.h"

#include <math.h>

#include "ndyn/io.h"
#include "ndyn/srnn.h"

TEST(lorenz_lobes)
{
    char buf[1024];
    const char *path = t_data_file("srnn_lorenz.npy", buf, sizeof buf);
    if (!path) SKIP("srnn_lorenz.npy not in the shared data directory");
    ndyn_array *a = NULL, *y = NULL;
    CHECK_OK(ndyn_npy_read(path, &a));
    if (!a) return;
    CHECK(a->ndim == 3 && a->shape[0] == 16 && a->shape[1] == 200 && a->shape[2] == 3);
    y = ndyn_array_cast(a, NDYN_F64);
    ndyn_array_free(a);
    if (!y || y->ndim != 3) return;
    size_t n = y->shape[0], T = y->shape[1], N = y->shape[2];
    static int lab[16 * 200];
    size_t Ts[16];
    const double *ys[16];
    const int *ls[16];
    const double *yd = y->data;
    /* the data are (s - mu) / 15 with mu_x = -0.5 (spec §8): raw x > 0 <=> x > 1/30 */
    double zmean = 0;
    for (size_t i = 0; i < n * T; i++) lab[i] = yd[i * 3] > 1.0 / 30, zmean += yd[i * 3 + 2] / (n * T);
    CHECK_CLOSE(zmean, 1.435, 2e-3, 0);
    for (size_t i = 0; i < n; i++) Ts[i] = T, ys[i] = yd + i * T * N, ls[i] = lab + i * T;
    ndyn_srnn_data d = {n, N, Ts, ys, ls, 2};
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.K = 2;
    p.H = 3;
    p.init = NDYN_SRNN_INIT_KMEANS;
    p.init_epochs = 500;
    p.epochs = 1000;
    p.lr = 1e-2;
    p.test_trials = 1;
    p.eval_every = 100;
    ndyn_srnn_model *m = NULL;
    double t0 = ndyn_time_now();
    CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
    if (!m) {
        ndyn_array_free(y);
        return;
    }
    double tfit = ndyn_time_now() - t0;
    ndyn_srnn_data dt = d;
    dt.n_trials = 1;
    ndyn_srnn_result *rt = NULL, *ra = NULL;
    CHECK_OK(ndyn_srnn_infer(m, &dt, &rt));
    CHECK_OK(ndyn_srnn_infer(m, &d, &ra));
    if (rt && ra) {
        fprintf(stderr, "lorenz: fit %.1f s; held-out trial: accuracy %.3f (unmatched %.3f), ELBO/step %.3f; "
                        "all trials: accuracy %.3f, reconstruction MSE %.2e\n",
                tfit, 1 - rt->state_error, 1 - rt->state_error_raw, m->test_elbo, 1 - ra->state_error, ra->mse);
        CHECK(1 - rt->state_error >= 0.9);
        CHECK(1 - ra->state_error >= 0.9);
    }
    ndyn_srnn_result_free(rt);
    ndyn_srnn_result_free(ra);
    ndyn_srnn_model_free(m);
    ndyn_array_free(y);
}

RUN_TESTS(T(lorenz_lobes))
