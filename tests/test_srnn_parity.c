/* SRNN against an independent PyTorch implementation of the same model and
 * objective (python/srnn_torch.py fixture, autograd in float64): the ELBO and
 * its gradient for every parameter block at the same weights, data and noise. */
#include "test.h"

#include <math.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/srnn.h"
#include "srnn_test_util.h"

TEST(parity_with_pytorch)
{
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(NDYN_TEST_FIXTURES "/srnn/parity.npz", &ds));
    if (!ds) return;
    const ndyn_array *y, *eps, *elbo;
    CHECK_OK(ndyn_dataset_get(ds, "y", &y));
    CHECK_OK(ndyn_dataset_get(ds, "eps", &eps));
    CHECK_OK(ndyn_dataset_get(ds, "elbo", &elbo));
    size_t n = y->shape[0], T = y->shape[1], N = y->shape[2];
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.K = 2;
    p.H = 3;
    ndyn_srnn_model *m = NULL;
    CHECK_OK(ndyn_srnn_model_new(&p, N, &m));
    CHECK(t_srnn_load_blocks(m, ds, t_srnn_blocks, T_SRNN_NBLOCKS) == 0);
    size_t Ts[8];
    const double *ys[8];
    for (size_t i = 0; i < n; i++) Ts[i] = T, ys[i] = (const double *)y->data + i * T * N;
    ndyn_srnn_data d = {n, N, Ts, ys, NULL, 0};
    double J, *g = calloc(m->n_theta, sizeof(double));
    CHECK_OK(ndyn_srnn_objective(m, &d, eps->data, NULL, 0, &J, g));
    CHECK_CLOSE(J, ((double *)elbo->data)[0], 1e-9, 1e-11);
    for (size_t i = 0; i < T_SRNN_NBLOCKS; i++) {
        double rel = t_srnn_grad_diff(m, ds, g, t_srnn_blocks[i], 1);
        if (!(rel >= 0 && rel <= 1e-9)) fprintf(stderr, "  %s: max diff %.3g of the block's scale\n", t_srnn_blocks[i], rel);
        CHECK(rel >= 0 && rel <= 1e-9);
    }
    free(g);
    ndyn_srnn_model_free(m);
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(parity_with_pytorch))
