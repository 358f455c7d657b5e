/* ndyn srnn on the command line: fit -> infer -> predict -> sample -> flow on
 * a tiny data set, the arrays of docs/FORMATS.md in the outputs, variable-
 * length trials, select (its arrays, the rule on them, the chosen model
 * against srnn infer), and the exit codes for bad usage (2) and bad data (1). */
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/io.h"
#include "ndyn/core.h"

static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", NDYN_TEST_EXE, args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_data(const char *path, int nan, int ragged)
{
    enum { NT = 3, T = 20, D = 2 };
    ndyn_array *y = ndyn_array_alloc3(NDYN_F64, NT, T, D), *l = ndyn_array_alloc2(NDYN_I32, NT, T);
    double *yd = y->data;
    int *ld = l->data;
    for (int i = 0; i < NT * T; i++) {
        int z = (i % T) / 10;
        ld[i] = z;
        yd[2 * i] = z ? 1 : -1;
        yd[2 * i + 1] = 0.1 * sin(i);
    }
    if (nan) yd[7] = NAN;
    if (ragged) {
        size_t sh0[2] = {20, D}, sh1[2] = {15, D};
        ndyn_array *a = ndyn_array_view(NDYN_F64, 2, sh0, yd), *b = ndyn_array_view(NDYN_F64, 2, sh1, yd + 40);
        const char *names[] = {"y_0", "y_1"};
        const ndyn_array *arrs[] = {a, b};
        ndyn_npz_write(path, 2, names, arrs, 0);
        ndyn_array_free(a);
        ndyn_array_free(b);
    } else {
        const char *names[] = {"y", "labels"};
        const ndyn_array *arrs[] = {y, l};
        ndyn_npz_write(path, 2, names, arrs, 0);
    }
    ndyn_array_free(y);
    ndyn_array_free(l);
}

TEST(cli_pipeline)
{
    char in[256], model[256], hist[256], post[256], pred[256], samp[256], flow[256], args[2048];
    t_tmp("srnn_in.npz", in, sizeof in);
    t_tmp("srnn_cli_model.npz", model, sizeof model);
    t_tmp("srnn_cli_model.history.npz", hist, sizeof hist);
    t_tmp("srnn_post.npz", post, sizeof post);
    t_tmp("srnn_pred.npz", pred, sizeof pred);
    t_tmp("srnn_samp.npz", samp, sizeof samp);
    t_tmp("srnn_flow.npz", flow, sizeof flow);
    write_data(in, 0, 0);
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s -K 2 -H 2 --init-epochs 5 --epochs 5 "
                                "--emission-hidden 4,4 --sampler-hidden 4 --eval-every 5 --test-trials 1", in, model);
    CHECK(run(args) == 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(hist, &ds));
    if (ds) CHECK(ndyn_dataset_find(ds, "test_elbo") != NULL);
    ndyn_dataset_free(ds);
    snprintf(args, sizeof args, "srnn infer -q --model %s --data %s --out %s --cosmooth 1", model, in, post);
    CHECK(run(args) == 0);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(post, &ds));
    if (ds) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "cosmooth_mse", &a));
        if (a) CHECK(ndyn_array_get(a, 0) >= 0);
        CHECK_OK(ndyn_dataset_get(ds, "posterior", &a));
        CHECK(a->ndim == 3 && a->shape[0] == 3 && a->shape[1] == 20 && a->shape[2] == 2);
        CHECK_OK(ndyn_dataset_get(ds, "states", &a));
        CHECK(a->ndim == 2 && a->dtype == NDYN_I32);
        CHECK_OK(ndyn_dataset_get(ds, "h", &a));
        CHECK(a->shape[2] == 2);
        CHECK_OK(ndyn_dataset_get(ds, "yhat", &a));
        CHECK_OK(ndyn_dataset_get(ds, "elbo", &a));
        CHECK(a->size == 3);
        CHECK_OK(ndyn_dataset_get(ds, "state_error", &a));
        CHECK_OK(ndyn_dataset_get(ds, "state_map", &a));
        CHECK(a->size == 2);
    }
    ndyn_dataset_free(ds);
    snprintf(args, sizeof args, "srnn predict -q --model %s --data %s --steps 3 --out %s", model, in, pred);
    CHECK(run(args) == 0);
    snprintf(args, sizeof args, "srnn sample -q --model %s --trials 2 --steps 9 --out %s", model, samp);
    CHECK(run(args) == 0);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(samp, &ds));
    if (ds) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "y", &a));
        CHECK(a->shape[0] == 2 && a->shape[1] == 9 && a->shape[2] == 2);
    }
    ndyn_dataset_free(ds);
    snprintf(args, sizeof args, "srnn flow -q --model %s --data %s --grid 4 --out %s", model, in, flow);
    CHECK(run(args) == 0);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(flow, &ds));
    if (ds) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "vel", &a));
        CHECK(a->shape[0] == 2 && a->shape[1] == 16 && a->shape[2] == 2);
    }
    ndyn_dataset_free(ds);
    /* variable-length trials */
    write_data(in, 0, 1);
    snprintf(args, sizeof args, "srnn infer -q --model %s --data %s --out %s", model, in, post);
    CHECK(run(args) == 0);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(post, &ds));
    if (ds) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "posterior_1", &a));
        CHECK(a->ndim == 2 && a->shape[0] == 15);
    }
    ndyn_dataset_free(ds);
}

TEST(cli_errors)
{
    char in[256], model[256], args[1024];
    t_tmp("srnn_bad.npz", in, sizeof in);
    t_tmp("srnn_bad_model.npz", model, sizeof model);
    write_data(in, 1, 0);
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s --epochs 1 --init-epochs 1", in, model);
    CHECK(run(args) == 1); /* NaN in the data */
    CHECK(run("srnn fit -q --states 0 --data x --out y") == 2);
    CHECK(run("srnn fit -q --data x") == 2);
    CHECK(run("srnn fit -q --precision f16 --data x --out y") == 2);
    CHECK(run("srnn frobnicate") == 2);
    CHECK(run("srnn fit --help") == 0);
    CHECK(run("srnn infer -q --model does/not/exist.npz --data x --out y") == 1);
}

/* Poisson counts (3 trials x 20 steps x 4 channels) */
static void write_counts(const char *path)
{
    ndyn_array *y = ndyn_array_alloc3(NDYN_F64, 3, 20, 4);
    double *yd = y->data;
    ndyn_rng r;
    ndyn_rng_init(&r, 4, 0);
    for (int i = 0; i < 3 * 20; i++)
        for (int j = 0; j < 4; j++) yd[i * 4 + j] = (double)ndyn_rng_poisson(&r, (i % 20) < 10 ? 1.0 + j : 4.0 - j);
    const char *names[] = {"y"};
    const ndyn_array *arrs[] = {y};
    ndyn_npz_write(path, 1, names, arrs, 0);
    ndyn_array_free(y);
}

TEST(cli_heldout)
{
    char in[256], model[256], post[256], args[2048];
    t_tmp("srnn_counts.npz", in, sizeof in);
    t_tmp("srnn_cli_heldout_model.npz", model, sizeof model);
    t_tmp("srnn_cli_heldout_post.npz", post, sizeof post);
    write_counts(in);
    const char *tiny = "-K 2 -H 2 --emission poisson --init-epochs 3 --epochs 3 --emission-hidden 4 --sampler-hidden 4 --eval-every 3";
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-neurons 3,1", in, model, tiny);
    CHECK(run(args) == 0);
    snprintf(args, sizeof args, "srnn infer -q --model %s --data %s --out %s", model, in, post);
    CHECK(run(args) == 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(post, &ds));
    if (ds) {
        const ndyn_array *a = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "heldout", &a));
        if (a) CHECK(a->size == 2 && ndyn_array_get(a, 0) == 1 && ndyn_array_get(a, 1) == 3);
        a = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "cobps", &a));
        if (a) CHECK(isfinite(ndyn_array_get(a, 0)));
        a = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "cosmooth_mse", &a));
        if (a) CHECK(ndyn_array_get(a, 0) >= 0);
    }
    ndyn_dataset_free(ds);
    /* --cosmooth is for models fitted on all channels */
    snprintf(args, sizeof args, "srnn infer -q --model %s --data %s --out %s --cosmooth 0", model, in, post);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-frac 0.5", in, model, tiny);
    CHECK(run(args) == 0);
    /* bad usage (2) and bad lists the library rejects (1) */
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-neurons 4", in, model, tiny);
    CHECK(run(args) == 2); /* channel out of range */
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-neurons 1 --heldout-frac 0.5", in, model, tiny);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-frac 1", in, model, tiny);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-frac abc", in, model, tiny);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-neurons 0,1,2,3", in, model, tiny);
    CHECK(run(args) == 1); /* no channel left for the encoder */
    snprintf(args, sizeof args, "srnn fit -q --data %s --out %s %s --heldout-neurons 2,2", in, model, tiny);
    CHECK(run(args) == 1); /* listed twice */
}


TEST(cli_select)
{
    char in[256], sel[256], model[256], post[256], args[2048];
    t_tmp("srnn_sel_in.npz", in, sizeof in);
    t_tmp("srnn_sel.npz", sel, sizeof sel);
    t_tmp("srnn_sel_model.npz", model, sizeof model);
    t_tmp("srnn_sel_post.npz", post, sizeof post);
    write_data(in, 0, 0);
    snprintf(args, sizeof args, "srnn select -q --data %s --out %s --model-out %s --states 1-3 --test-trials 1 -H 2 "
                                "--init-epochs 5 --epochs 10 --emission-hidden 4,4 --sampler-hidden 4 --eval-every 5",
             in, sel, model);
    CHECK(run(args) == 0);
    char hist[256];
    t_tmp("srnn_sel_model.history.npz", hist, sizeof hist);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(hist, &ds)); /* the chosen model's history beside it */
    if (ds) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "epoch", &a));
        CHECK(a && a->size >= 1);
    }
    ndyn_dataset_free(ds);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(sel, &ds));
    int chosen = 0;
    double he[3] = {0};
    if (ds) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "K", &a));
        CHECK(a && a->size == 3 && a->dtype == NDYN_I32 && ndyn_array_get(a, 0) == 1 && ndyn_array_get(a, 2) == 3);
        CHECK_OK(ndyn_dataset_get(ds, "heldout_elbo", &a));
        CHECK(a && a->size == 3);
        for (int i = 0; a && i < 3; i++) he[i] = ndyn_array_get(a, i);
        CHECK_OK(ndyn_dataset_get(ds, "heldout_trial_elbo", &a));
        CHECK(a && a->ndim == 2 && a->shape[0] == 3 && a->shape[1] == 1);
        if (a) CHECK_CLOSE(ndyn_array_get(a, 1) / 20.0, he[1], 1e-12, 1e-12);
        const char *names[] = {"train_elbo", "fresh_heldout_elbo", "fresh_train_elbo", "warm_heldout_elbo",
                               "warm_train_elbo", "warm", "removed", "heldout_state_error"};
        for (int i = 0; i < 8; i++) {
            CHECK_OK(ndyn_dataset_get(ds, names[i], &a));
            CHECK(a && a->size == 3);
        }
        CHECK_OK(ndyn_dataset_get(ds, "removed", &a));
        if (a) CHECK(ndyn_array_get(a, 2) == -1 && ndyn_array_get(a, 0) >= 0);
        CHECK_OK(ndyn_dataset_get(ds, "chosen", &a));
        if (a) chosen = (int)ndyn_array_get(a, 0);
        CHECK_OK(ndyn_dataset_get(ds, "best", &a));
        CHECK_OK(ndyn_dataset_get(ds, "fresh_chosen", &a));
    }
    ndyn_dataset_free(ds);
    /* the rule by hand on the written ELBOs */
    int best = 0;
    for (int i = 1; i < 3; i++)
        if (he[i] > he[best]) best = i;
    int want = 0;
    if (he[best] > he[0])
        while (want < best && he[want] - he[0] < 0.8 * (he[best] - he[0])) want++;
    CHECK(chosen == want + 1);
    /* the chosen model scores its held-out trial (trial 0, alone: the noise draws depend on the batch) as
     * srnn infer does */
    char first[256];
    t_tmp("srnn_sel_first.npz", first, sizeof first);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(in, &ds));
    if (ds) {
        const ndyn_array *y;
        CHECK_OK(ndyn_dataset_get(ds, "y", &y));
        size_t sh[3] = {1, y->shape[1], y->shape[2]};
        ndyn_array *v = ndyn_array_view(NDYN_F64, 3, sh, y->data);
        const char *nm[] = {"y"};
        const ndyn_array *arrs[] = {v};
        CHECK_OK(ndyn_npz_write(first, 1, nm, arrs, 0));
        ndyn_array_free(v);
    }
    ndyn_dataset_free(ds);
    snprintf(args, sizeof args, "srnn infer -q --model %s --data %s --out %s", model, first, post);
    CHECK(run(args) == 0);
    ds = NULL;
    CHECK_OK(ndyn_dataset_load(post, &ds));
    if (ds && chosen >= 1) {
        const ndyn_array *a;
        CHECK_OK(ndyn_dataset_get(ds, "posterior", &a));
        if (a) CHECK(a->shape[2] == (size_t)chosen);
        CHECK_OK(ndyn_dataset_get(ds, "elbo", &a));
        if (a) CHECK_CLOSE(ndyn_array_get(a, 0) / 20.0, he[chosen - 1], 1e-9, 1e-12);
    }
    ndyn_dataset_free(ds);
    /* bad usage */
    CHECK(run("srnn select --help") == 0);
    CHECK(run("srnn select -q --data x --out y --states 0-3 --test-trials 1") == 2);
    CHECK(run("srnn select -q --data x --out y --states 3-2 --test-trials 1") == 2);
    CHECK(run("srnn select -q --data x --out y --states 1-65 --test-trials 1") == 2);
    CHECK(run("srnn select -q --data x --out y --states 1-x --test-trials 1") == 2);
    CHECK(run("srnn select -q --data x --out y --states 1-3") == 2); /* no held-out trials */
    CHECK(run("srnn select -q --data x --out y --states 1-3 --test-trials 1 --gain-frac 0") == 2);
    CHECK(run("srnn select -q --data x --out y --states 1-3 --test-trials 1 --gain-frac 1.5") == 2);
    CHECK(run("srnn fit -q --data x --out y --gain-frac 0.5") == 2);
    snprintf(args, sizeof args, "srnn select -q --data %s --out %s --states 1-2 --test-trials 3", in, sel);
    CHECK(run(args) == 1); /* all 3 trials held out */
}

RUN_TESTS(T(cli_pipeline), T(cli_errors), T(cli_heldout), T(cli_select))
