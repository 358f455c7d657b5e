/* The ndyn prep and ndyn decode commands end to end on small synthetic
 * files: shapes and names of what they write (docs/FORMATS.md), results
 * equal to the library steps they stand for, exact decoding of a planted
 * linear target (R² = 1), and exit codes for bad usage and bad input. */
#include <stdlib.h>

#include "cli_test_util.h"

#include "ndyn/io.h"
#include "ndyn/prep.h"

/* `ndyn ARGS`: exit status, stderr in t_err. */
static int run(const char *args) { return t_ndyn("%s", args); }

static double json_number(const char *path, const char *key)
{
    void *buf = NULL;
    size_t len = 0;
    if (ndyn_read_file(path, 1 << 20, &buf, &len)) return NAN;
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    char *s = malloc(len + 1);
    memcpy(s, buf, len);
    s[len] = 0;
    free(buf);
    char *p = strstr(s, pat);
    double v = p ? strtod(p + strlen(pat), NULL) : NAN;
    free(s);
    return v;
}

enum { T = 300, D = 4 };

static void write_inputs(double *x, double *y)
{
    ndyn_rng r;
    ndyn_rng_init(&r, 21, 0);
    for (size_t t = 0; t < T; t++) {
        for (size_t j = 0; j < D; j++) x[t * D + j] = (double)ndyn_rng_poisson(&r, 3.0 + 2.0 * sin(0.05 * t + j));
        y[t * 2] = 2 * x[t * D] - x[t * D + 3] + 1;
        y[t * 2 + 1] = x[t * D + 1] + 0.5 * x[t * D + 2];
    }
    char p[256];
    ndyn_array *a = ndyn_array_view(NDYN_F64, 2, (size_t[]){T, D}, x);
    CHECK_OK(ndyn_npy_write(t_tmp("cli_x.npy", p, sizeof p), a));
    ndyn_array_free(a);
    a = ndyn_array_view(NDYN_F64, 2, (size_t[]){T, 2}, y);
    CHECK_OK(ndyn_npy_write(t_tmp("cli_y.npy", p, sizeof p), a));
    ndyn_array_free(a);
}

TEST(prep_writes_what_the_library_computes)
{
    static double x[T * D], y[T * 2];
    write_inputs(x, y);
    CHECK(run("prep --data tmp/cli_x.npy --dt 0.01 --trial-length 100 --smooth gaussian:0.03 --sqrt --pca 2 "
              "--fit time:0.8 --flow --out tmp/cli_p.npz") == 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read("tmp/cli_p.npz", &ds));
    if (!ds) return;
    const ndyn_array *ax = NULL, *pos = NULL, *vel = NULL, *comp = NULL, *ratio = NULL, *cond = NULL;
    CHECK_OK(ndyn_dataset_get(ds, "x", &ax));
    CHECK_OK(ndyn_dataset_get(ds, "pos", &pos));
    CHECK_OK(ndyn_dataset_get(ds, "vel", &vel));
    CHECK_OK(ndyn_dataset_get(ds, "pca_components", &comp));
    CHECK_OK(ndyn_dataset_get(ds, "pca_explained_variance_ratio", &ratio));
    CHECK_OK(ndyn_dataset_get(ds, "condition", &cond));
    if (!ax || !pos || !vel || !comp || !ratio || !cond) goto out;
    CHECK(ax->ndim == 3 && ax->shape[0] == 3 && ax->shape[1] == 100 && ax->shape[2] == 2);
    CHECK(pos->shape[0] == 3 * 99 && pos->shape[1] == 2 && vel->shape[0] == 3 * 99);
    CHECK(comp->shape[0] == 2 && comp->shape[1] == D && cond->dtype == NDYN_I32);
    /* The same steps through the library. */
    const size_t st[3] = {0, 100, 200};
    ndyn_trials *t = NULL;
    CHECK_OK(ndyn_trials_from_recording(x, T, D, st, 3, 0.01, &t));
    if (!t) goto out;
    CHECK_OK(ndyn_prep_smooth(t, NDYN_SMOOTH_GAUSSIAN, 0.03, NDYN_EDGE_REFLECT));
    CHECK_OK(ndyn_prep_sqrt(t));
    unsigned char fit[T];
    for (size_t i = 0; i < T; i++) fit[i] = i < 240;
    CHECK_OK(ndyn_prep_pca(t, fit, 2, NULL));
    for (size_t i = 0; i < T * 2; i++) CHECK_CLOSE(ndyn_array_get(ax, i), t->data[i], 1e-12, 1e-12);
    /* vel = diff within trials: row 99 of vel is trial 1's first difference. */
    for (size_t j = 0; j < 2; j++)
        CHECK_CLOSE(ndyn_array_get(vel, 99 * 2 + j), t->data[101 * 2 + j] - t->data[100 * 2 + j], 1e-12, 1e-12);
    ndyn_trials_free(t);
out:
    ndyn_dataset_free(ds);
}

TEST(decode_planted_linear_target_exactly)
{
    static double x[T * D], y[T * 2];
    write_inputs(x, y);
    CHECK(run("decode --x tmp/cli_x.npy --target tmp/cli_y.npy --decoder linear --folds 5 --out tmp/cli_m.json") == 0);
    CHECK_CLOSE(json_number("tmp/cli_m.json", "r2"), 1.0, 1e-9, 0);
    CHECK_CLOSE(json_number("tmp/cli_m.json", "n_tested"), T, 0, 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read("tmp/cli_m.npz", &ds));
    if (ds) {
        const ndyn_array *pr = NULL, *tr = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "pred", &pr));
        CHECK_OK(ndyn_dataset_get(ds, "truth", &tr));
        for (size_t i = 0; pr && tr && i < T * 2; i++) {
            CHECK_CLOSE(ndyn_array_get(pr, i), y[i], 1e-8, 1e-8);
            CHECK(ndyn_array_get(tr, i) == y[i]);
        }
        ndyn_dataset_free(ds);
    }
    /* Time split with kNN: only the last 20 % are tested. */
    CHECK(run("decode --x tmp/cli_x.npy --target tmp/cli_y.npy --target-cols 1 --decoder knn --k 3 "
              "--split time:0.8 --out tmp/cli_k.json") == 0);
    CHECK(json_number("tmp/cli_k.json", "n_tested") == 60);
}

TEST(decode_integrates_velocity_from_true_start)
{
    /* 6 trials x 50 steps of x (3 channels); velocity an exact linear map of
     * x; positions integrate it from a random start per trial. The decoded
     * velocity integrated from the true starts recovers the positions. */
    enum { NT = 6, L = 50, C = 3 };
    static double x[NT * L * C], v[NT * L * 2], p[NT * L * 2];
    ndyn_rng r;
    ndyn_rng_init(&r, 22, 0);
    for (size_t i = 0; i < NT; i++) {
        double s0 = 10 * ndyn_rng_normal(&r), s1 = 10 * ndyn_rng_normal(&r);
        for (size_t t = 0; t < L; t++) {
            size_t q = i * L + t;
            for (size_t j = 0; j < C; j++) x[q * C + j] = ndyn_rng_normal(&r);
            v[q * 2] = x[q * C] - 0.5 * x[q * C + 2] + 0.3;
            v[q * 2 + 1] = 2 * x[q * C + 1] - 0.1;
            p[q * 2] = t ? p[(q - 1) * 2] + v[(q - 1) * 2] : s0;
            p[q * 2 + 1] = t ? p[(q - 1) * 2 + 1] + v[(q - 1) * 2 + 1] : s1;
        }
    }
    char path[256];
    ndyn_array *a = ndyn_array_view(NDYN_F64, 3, (size_t[]){NT, L, C}, x);
    CHECK_OK(ndyn_npy_write(t_tmp("cli_tx.npy", path, sizeof path), a));
    ndyn_array_free(a);
    a = ndyn_array_view(NDYN_F64, 2, (size_t[]){NT * L, 2}, v);
    CHECK_OK(ndyn_npy_write(t_tmp("cli_tv.npy", path, sizeof path), a));
    ndyn_array_free(a);
    a = ndyn_array_view(NDYN_F64, 2, (size_t[]){NT * L, 2}, p);
    CHECK_OK(ndyn_npy_write(t_tmp("cli_tp.npy", path, sizeof path), a));
    ndyn_array_free(a);
    CHECK(run("decode --x tmp/cli_tx.npy --target tmp/cli_tv.npy --decoder linear --folds 3 "
              "--integrate tmp/cli_tp.npy --out tmp/cli_i.json") == 0);
    CHECK_CLOSE(json_number("tmp/cli_i.json", "position_r2"), 1.0, 1e-9, 0);
    CHECK_CLOSE(json_number("tmp/cli_i.json", "final_position_r2"), 1.0, 1e-9, 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read("tmp/cli_i.npz", &ds));
    const ndyn_array *pp = NULL;
    if (ds) CHECK_OK(ndyn_dataset_get(ds, "pos_pred", &pp));
    for (size_t i = 0; pp && i < NT * L * 2; i++) CHECK_CLOSE(ndyn_array_get(pp, i), p[i], 1e-8, 1e-8);
    ndyn_dataset_free(ds);
    /* A time split leaves steps untested: integration refuses. */
    CHECK(run("decode --x tmp/cli_tx.npy --target tmp/cli_tv.npy --split time:0.5 "
              "--integrate tmp/cli_tp.npy --out tmp/cli_i2.json") == 1);
}

TEST(cli_bad_usage_and_input)
{
    static double x[T * D], y[T * 2];
    write_inputs(x, y);
    CHECK(run("prep --data tmp/cli_x.npy") == 2);                               /* no --out */
    CHECK(run("prep --data tmp/cli_x.npy --smooth wavelet:3 --out tmp/z.npz") == 2);
    CHECK(run("prep --data tmp/cli_x.npy --smooth gaussian:0.1 --out tmp/z.npz") == 1); /* no --dt */
    CHECK(run("prep --data tmp/cli_x.npy --dt 0.01 --bin 5 --out tmp/z.npz") == 1);     /* bin > trial */
    CHECK(run("prep --data tmp/missing.npy --out tmp/z.npz") == 1);
    CHECK(run("decode --x tmp/cli_x.npy --target tmp/cli_y.npy --decoder svm --out tmp/z.json") == 2);
    /* Mismatched lengths: 300 rows of x, 240 of the target. */
    ndyn_array *a = ndyn_array_view(NDYN_F64, 2, (size_t[]){240, 2}, y);
    char p[256];
    CHECK_OK(ndyn_npy_write(t_tmp("cli_y240.npy", p, sizeof p), a));
    ndyn_array_free(a);
    CHECK(run("decode --x tmp/cli_x.npy --target tmp/cli_y240.npy --out tmp/z.json") == 1);
    CHECKF(strstr(t_err, "must match") != NULL, "stderr: %s", t_err);
    CHECK(run("prep --help") == 0);
    CHECK(run("decode --help") == 0);
}

RUN_TESTS(T(prep_writes_what_the_library_computes), T(decode_planted_linear_target_exactly),
          T(decode_integrates_velocity_from_true_start), T(cli_bad_usage_and_input))
