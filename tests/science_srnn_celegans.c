/* SRNN on real data: C. elegans whole-brain calcium imaging
 * (shared/data/celegans_2022-07-26-31.h5, 800 frames x 146 neurons). The
 * traces are reduced to their first 10 principal components and cut into 8
 * trials of 100 frames; SRNN (K = 2..4, H = 8) and a diagonal Gaussian HMM on
 * the same input give discrete states, scored against forward/reversal
 * (behavior/reversal_vec) as balanced accuracy after Hungarian matching
 * (one map over all trials). The numbers are printed for the report: on this
 * recording neither SRNN nor the HMM, unsupervised on 10 PCs, finds the
 * reversals (both near chance, 0.5), so the checks here are only that the
 * pipeline runs on real data and its outputs are valid probabilities and
 * scores; the accuracy is a reported number, not a claim. */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "ndyn/io.h"
#include "ndyn/srnn.h"
#include "srnn/srnn_internal.h"

enum { NPC = 10, TRIAL = 100 };

/* balanced accuracy after matching, states (n) in 0..K-1, labels 0/1 */
static double matched_ba(const int *states, const int *labels, size_t n, int K)
{
    int map[8];
    double s = 0;
    if (ndyn_match_labels(states, labels, n, K, 2, NDYN_MATCH_BALANCED, map, &s)) return NAN;
    return s;
}

TEST(celegans_reversals)
{
    char buf[1024];
    const char *path = t_data_file("celegans_2022-07-26-31.h5", buf, sizeof buf);
    if (!path) SKIP("celegans_2022-07-26-31.h5 not in the shared data directory");
    ndyn_array *tr = NULL, *rv = NULL;
    CHECK_OK(ndyn_h5_read(path, "gcamp/trace_array", 0, &tr));
    CHECK_OK(ndyn_h5_read(path, "behavior/reversal_vec", 0, &rv));
    if (!tr || !rv) {
        ndyn_array_free(tr);
        ndyn_array_free(rv);
        return;
    }
    ndyn_array *x = ndyn_array_cast(tr, NDYN_F64);
    size_t T = x->shape[0], D = x->shape[1];
    CHECK(T == 800 && D == 146 && rv->size == T);
    int *lab = malloc(T * sizeof(int));
    for (size_t t = 0; t < T; t++) lab[t] = ndyn_array_get(rv, t) > 0.5;
    /* PCA (ndyn_pca_*), each component scaled to unit variance */
    ndyn_pca *pca = NULL;
    CHECK_OK(ndyn_pca_fit(x->data, T, D, NPC, &pca));
    double *z = malloc(T * NPC * sizeof(double));
    CHECK_OK(ndyn_pca_transform(pca, x->data, T, z));
    for (size_t t = 0; t < T; t++)
        for (int c = 0; c < NPC; c++) z[t * NPC + c] /= sqrt(pca->explained_variance[c]);
    ndyn_pca_free(pca);
    size_t n = T / TRIAL, Ts[16];
    const double *ys[16];
    const int *ls[16];
    for (size_t i = 0; i < n; i++) Ts[i] = TRIAL, ys[i] = z + i * TRIAL * NPC, ls[i] = lab + i * TRIAL;
    ndyn_srnn_data d = {n, NPC, Ts, ys, ls, 2};
    /* Gaussian HMM on the same input */
    int *hz = malloc(T * sizeof(int));
    for (int K = 2; K <= 4; K++) {
        CHECK_OK(srnn_hmm_labels(&d, K, 50, 1, hz));
        double hba = matched_ba(hz, lab, T, K);
        ndyn_srnn_params p;
        ndyn_srnn_params_default(&p);
        p.K = K;
        p.H = 8;
        p.init = NDYN_SRNN_INIT_HMM;
        p.init_epochs = 300;
        p.epochs = 500;
        p.lr = 1e-2;
        p.eval_every = 100;
        ndyn_srnn_model *m = NULL;
        ndyn_srnn_result *r = NULL;
        double t0 = ndyn_time_now();
        CHECK_OK(ndyn_srnn_fit(&d, &p, &m));
        if (m) CHECK_OK(ndyn_srnn_infer(m, &d, &r));
        if (r) {
            double sba = matched_ba(r->states, lab, T, K);
            fprintf(stderr, "celegans K=%d: SRNN balanced accuracy %.3f (pooled), 1 - state_error %.3f (per-trial mean), "
                            "ELBO/step %.3f, fit %.1f s; Gaussian HMM balanced accuracy %.3f\n",
                    K, sba, 1 - r->state_error, m->train_elbo, ndyn_time_now() - t0, hba);
            CHECK(sba >= 0 && sba <= 1 && isfinite(m->train_elbo));
            int okp = 1;
            for (size_t q = 0; q < T; q++) {
                double ss = 0;
                for (int k = 0; k < K; k++) ss += r->posterior[q * K + k];
                okp &= fabs(ss - 1) < 1e-9;
            }
            CHECK(okp);
        }
        ndyn_srnn_result_free(r);
        ndyn_srnn_model_free(m);
    }
    free(hz);
    free(z);
    free(lab);
    ndyn_array_free(x);
    ndyn_array_free(tr);
    ndyn_array_free(rv);
}

RUN_TESTS(T(celegans_reversals))
