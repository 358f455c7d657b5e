/* ndyn marble fit | embed | distance end to end on a small toy dataset:
 * exit codes, the arrays each writes (docs/FORMATS.md), resume. */
#include "test.h"
#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/sim.h"

static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", NDYN_TEST_EXE, args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The four toy fields, 60 points each, saved as raw clouds to path. */
static int save_fields(const char *path)
{
    ndyn_sim_fields_params fp;
    ndyn_sim_fields_defaults(&fp);
    fp.n = 60;
    ndyn_dataset *ds = NULL;
    int rc = ndyn_sim_fields(&fp, &ds);
    if (!rc) rc = ndyn_dataset_save(path, ds, 0);
    ndyn_dataset_free(ds);
    return rc;
}

TEST(fit_embed_distance)
{
    char raw[256], model[256], emb[256], dist[256], hist[256], cmd[2048];
    t_tmp("mcli_raw.npz", raw, sizeof raw);
    t_tmp("mcli_model.npz", model, sizeof model);
    t_tmp("mcli_model.history.npz", hist, sizeof hist);
    t_tmp("mcli_emb.npz", emb, sizeof emb);
    t_tmp("mcli_dist.npz", dist, sizeof dist);
    CHECK_OK(save_fields(raw));
    CHECK(run("marble fit --help") == 0);
    CHECK(run("marble embed --help") == 0);
    CHECK(run("marble distance --help") == 0);
    CHECK(run("marble fit --bogus") == 2);
    CHECK(run("marble fit --data x.npz --order 0") == 2);
    CHECK(run("marble fit --data does-not-exist.npz") == 1);
    snprintf(cmd, sizeof cmd, "marble fit --data %s --out %s --epochs 2 --k 10 --batch-size 32 --hidden 8 --out-channels 2 --seed 3", raw, model);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s --k 10", model, raw, emb);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble distance --emb %s --out %s --clusters 5", emb, dist);
    CHECK(run(cmd) == 0);
    ndyn_dataset *e = NULL, *d = NULL, *h = NULL;
    CHECK_OK(ndyn_npz_read(emb, &e));
    CHECK_OK(ndyn_npz_read(dist, &d));
    CHECK_OK(ndyn_npz_read(hist, &h));
    const ndyn_array *a;
    if (e) {
        CHECK_OK(ndyn_dataset_get(e, "emb", &a));
        if (!ndyn_dataset_get(e, "emb", &a)) CHECK(a->ndim == 2 && a->shape[0] == 240 && a->shape[1] == 2);
        CHECK(ndyn_dataset_get(e, "condition", &a) == 0 && a->dtype == NDYN_I32 && a->size == 240);
        CHECK(ndyn_dataset_get(e, "pos", &a) == 0 && a->size == 480);
    }
    if (d) {
        CHECK(ndyn_dataset_get(d, "dist", &a) == 0 && a->size == 16);
        if (!ndyn_dataset_get(d, "dist", &a)) {
            const double *x = a->data;
            for (int i = 0; i < 4; i++) {
                CHECK(x[i * 4 + i] == 0);
                for (int j = 0; j < 4; j++) CHECK(x[i * 4 + j] == x[j * 4 + i] && x[i * 4 + j] >= 0);
            }
        }
        CHECK(ndyn_dataset_get(d, "mds", &a) == 0 && a->size == 8);
        CHECK(ndyn_dataset_get(d, "gamma", &a) == 0 && a->ndim == 4 && a->size == 4 * 4 * 25);
        CHECK(ndyn_dataset_get(d, "centers", &a) == 0 && a->size == 10);
    }
    if (h) {
        CHECK(ndyn_dataset_get(h, "epoch", &a) == 0 && a->size == 2);
        CHECK(ndyn_dataset_get(h, "train_loss", &a) == 0 && a->size == 2);
        CHECK(ndyn_dataset_get(h, "val_loss", &a) == 0 && a->size == 2);
        CHECK(ndyn_dataset_get(h, "lr", &a) == 0 && a->size == 2);
    }
    ndyn_dataset_free(e); ndyn_dataset_free(d); ndyn_dataset_free(h);
    /* resume to 3 epochs */
    snprintf(cmd, sizeof cmd, "marble fit --data %s --out %s --resume %s --epochs 3 --k 10", raw, model, model);
    CHECK(run(cmd) == 0);
    CHECK_OK(ndyn_npz_read(hist, &h));
    if (h) CHECK(ndyn_dataset_get(h, "epoch", &a) == 0 && a->size == 1 && ((double *)a->data)[0] == 2);
    ndyn_dataset_free(h);
    /* --val-draws: range-checked, recorded in the model file */
    CHECK(run("marble fit --data x.npz --val-draws -1") == 2);
    CHECK(run("marble fit --help | grep -q -- --val-draws") == 0);
    snprintf(cmd, sizeof cmd, "marble fit --data %s --out %s --epochs 2 --k 10 --batch-size 32 --hidden 8 --out-channels 2 --val-draws 3", raw, model);
    CHECK(run(cmd) == 0);
    ndyn_marble_model *mm = NULL;
    CHECK_OK(ndyn_marble_load(model, &mm));
    if (mm) CHECK(ndyn_marble_model_params(mm)->val_draws == 3);
    ndyn_marble_model_free(mm);
    /* exact distances without clusters */
    snprintf(cmd, sizeof cmd, "marble distance --emb %s --out %s", emb, dist);
    CHECK(run(cmd) == 0);
}

/* Local gauges: a prepared local-gauge dataset and raw data with
 * --local-gauges are accepted; embed refuses data of the other setting. */
TEST(local_gauges)
{
    char raw[256], prep[256], model[256], model2[256], emb[256], cmd[2048];
    t_tmp("mclg_raw.npz", raw, sizeof raw);
    t_tmp("mclg_prep.npz", prep, sizeof prep);
    t_tmp("mclg_model.npz", model, sizeof model);
    t_tmp("mclg_model2.npz", model2, sizeof model2);
    t_tmp("mclg_emb.npz", emb, sizeof emb);
    CHECK_OK(save_fields(raw));
    snprintf(cmd, sizeof cmd, "marble prepare --data %s --k 10 --local-gauges --out %s", raw, prep);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble fit --data %s --out %s --epochs 2 --batch-size 32 --hidden 8 --inner-product --order 1", prep, model);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s", model, prep, emb);
    CHECK(run(cmd) == 0);
    ndyn_dataset *e = NULL;
    CHECK_OK(ndyn_npz_read(emb, &e));
    const ndyn_array *a;
    if (e) {
        CHECK(ndyn_dataset_get(e, "emb", &a) == 0 && a->size == 240 * 3);
        if (!ndyn_dataset_get(e, "emb", &a))
            for (size_t i = 0; i < a->size; i++) CHECK(isfinite(((const double *)a->data)[i]));
    }
    ndyn_dataset_free(e);
    /* raw data: the model file records the geometry (k 10, local gauges), so
     * embed prepares raw clouds the same way without options */
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s", model, raw, emb);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --k 10 --local-gauges --out %s", model, raw, emb);
    CHECK(run(cmd) == 0);
    /* fit on raw data with --local-gauges; a flat model refuses the local-gauge dataset */
    snprintf(cmd, sizeof cmd, "marble fit --data %s --k 10 --local-gauges --out %s --epochs 1 --batch-size 32 --hidden 8", raw, model2);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble fit --data %s --k 10 --out %s --epochs 1 --batch-size 32 --hidden 8", raw, model2);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s", model2, prep, emb);
    CHECK(run(cmd) == 1);
    /* an explicit --local-gauges overrides the flat record and is refused, naming the option */
    snprintf(cmd, sizeof cmd, "%s marble embed --model %s --data %s --local-gauges --out %s 2>&1 | grep -q -- --local-gauges", NDYN_TEST_EXE, model2, raw, emb);
    CHECK(system(cmd) == 0);
    CHECK(run("marble fit --help | grep -q -- --local-gauges") == 0);
}


static const ndyn_array *emb_of(ndyn_dataset *e)
{
    const ndyn_array *a = NULL;
    if (!e || ndyn_dataset_get(e, "emb", &a)) return NULL;
    return a;
}

/* The model file carries the geometry: fit raw van der Pol clouds with
 * --spacing, then embed the raw clouds without geometry options: the same
 * points and the same embedding as embedding the file that 'marble prepare'
 * writes with that spacing. An explicit option overrides the record. */
TEST(embed_raw_reuses_fitted_geometry)
{
    ndyn_sim_vdp_params vp;
    ndyn_sim_vdp_defaults(&vp);
    vp.conditions = 5;
    vp.trials = 60;
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_sim_vdp(&vp, &ds));
    if (!ds) return;
    char raw[256], prep[256], model[256], e1[256], e2[256], e3[256], cmd[2048];
    t_tmp("mgeo_raw.npz", raw, sizeof raw);
    t_tmp("mgeo_prep.npz", prep, sizeof prep);
    t_tmp("mgeo_model.npz", model, sizeof model);
    t_tmp("mgeo_e1.npz", e1, sizeof e1);
    t_tmp("mgeo_e2.npz", e2, sizeof e2);
    t_tmp("mgeo_e3.npz", e3, sizeof e3);
    CHECK_OK(ndyn_dataset_save(raw, ds, 0));
    const ndyn_array *pos = NULL;
    ndyn_dataset_get(ds, "pos", &pos);
    size_t n_raw = pos ? pos->shape[0] : 0;
    ndyn_dataset_free(ds);
    snprintf(cmd, sizeof cmd, "marble fit --data %s --out %s --spacing 0.05 --k 15 --epochs 1 --hidden 8 --seed 2", raw, model);
    CHECK(run(cmd) == 0);
    /* the record, through the library */
    ndyn_marble_model *m = NULL;
    CHECK_OK(ndyn_marble_load(model, &m));
    ndyn_geom_params gp;
    if (m) {
        CHECK(ndyn_marble_geometry(m, &gp) == 1);
        CHECK(gp.spacing == 0.05 && gp.k == 15 && gp.delta == 1.0 && gp.n_eigenvectors == 0 &&
              gp.graph == NDYN_GRAPH_CKNN && gp.local_gauges == 0);
    }
    snprintf(cmd, sizeof cmd, "marble prepare --data %s --out %s --spacing 0.05 --k 15", raw, prep);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s", model, raw, e1);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s", model, prep, e2);
    CHECK(run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "marble embed --model %s --data %s --out %s --spacing 0", model, raw, e3);
    CHECK(run(cmd) == 0);
    ndyn_dataset *d1 = NULL, *d2 = NULL, *d3 = NULL;
    CHECK_OK(ndyn_npz_read(e1, &d1));
    CHECK_OK(ndyn_npz_read(e2, &d2));
    CHECK_OK(ndyn_npz_read(e3, &d3));
    const ndyn_array *a1 = emb_of(d1), *a2 = emb_of(d2), *a3 = emb_of(d3);
    CHECK(a1 && a2 && a3);
    if (a1 && a2 && a3) {
        CHECKF(a1->shape[0] == a2->shape[0] && a1->shape[0] < n_raw,
               "raw embed %zu points, prepared %zu, raw input %zu", a1->shape[0], a2->shape[0], n_raw);
        CHECKF(a3->shape[0] == n_raw, "--spacing 0 overrides: %zu points, want %zu", a3->shape[0], n_raw);
        if (a1->size == a2->size) {
            double err = 0;
            for (size_t i = 0; i < a1->size; i++)
                err = fmax(err, fabs(((double *)a1->data)[i] - ((double *)a2->data)[i]));
            CHECKF(err == 0, "raw vs prepared embedding differ by %.3g", err);
        }
    }
    ndyn_dataset_free(d1); ndyn_dataset_free(d2); ndyn_dataset_free(d3);
    /* a model without a record saves and loads without one */
    if (m) {
        CHECK_OK(ndyn_marble_set_geometry(m, NULL));
        CHECK_OK(ndyn_marble_save(m, model));
        ndyn_marble_model_free(m);
        m = NULL;
        CHECK_OK(ndyn_marble_load(model, &m));
        if (m) CHECK(ndyn_marble_geometry(m, &gp) == 0);
        gp.k = 0;
        if (m) CHECK_FAILS(ndyn_marble_set_geometry(m, &gp), NDYN_EINVAL);
    }
    ndyn_marble_model_free(m);
}

RUN_TESTS(T(fit_embed_distance), T(local_gauges), T(embed_raw_reuses_fitted_geometry))
