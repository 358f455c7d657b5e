/* SRNN against an independent PyTorch implementation of the same model and
 * objective (python/srnn_torch.py fixture, autograd in float64): the ELBO and
 * its gradient for every parameter block at the same weights, data and noise. */
#include "test.h"

#include <math.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/srnn.h"

static const char *blocks[] = {"pi", "trans_W", "trans_b", "trans_B", "dyn_W", "dyn_b", "h0_mu",
                               "h0_logvar", "logvar_h", "logvar_y", "logvar_q", "emis_W0", "emis_b0",
                               "emis_W1", "emis_b1", "emis_W2", "emis_b2", "encf_Wx", "encf_Wh",
                               "encf_b", "encb_Wx", "encb_Wh", "encb_b", "s1_W", "s1_b", "s2_W",
                               "s2_b", "m_Wa", "m_Ws", "m_b"};

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
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        double *v;
        size_t cnt;
        const ndyn_array *a;
        CHECK_OK(ndyn_srnn_param_view(m, blocks[i], &v, &cnt));
        CHECK_OK(ndyn_dataset_get(ds, blocks[i], &a));
        CHECK(a->size == cnt && a->dtype == NDYN_F64);
        if (a->size == cnt) memcpy(v, a->data, cnt * sizeof(double));
    }
    size_t Ts[8];
    const double *ys[8];
    for (size_t i = 0; i < n; i++) Ts[i] = T, ys[i] = (const double *)y->data + i * T * N;
    ndyn_srnn_data d = {n, N, Ts, ys, NULL, 0};
    double J, *g = calloc(m->n_theta, sizeof(double));
    CHECK_OK(ndyn_srnn_objective(m, &d, eps->data, NULL, 0, &J, g));
    CHECK_CLOSE(J, ((double *)elbo->data)[0], 1e-9, 1e-11);
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "grad_%s", blocks[i]);
        double *v;
        size_t cnt;
        const ndyn_array *a;
        ndyn_srnn_param_view(m, blocks[i], &v, &cnt);
        if (ndyn_dataset_get(ds, nm, &a) || a->size != cnt) {
            CHECK(0);
            continue;
        }
        const double *ref = a->data, *mine = g + (v - m->theta);
        double worst = 0, scale = 1;
        for (size_t q = 0; q < cnt; q++) worst = fmax(worst, fabs(ref[q] - mine[q])), scale = fmax(scale, fabs(ref[q]));
        if (worst / scale > 1e-9) fprintf(stderr, "  %s: max abs diff %.3g (scale %.3g)\n", blocks[i], worst, scale);
        CHECK(worst / scale <= 1e-9);
    }
    free(g);
    ndyn_srnn_model_free(m);
    ndyn_dataset_free(ds);
}

RUN_TESTS(T(parity_with_pytorch))
