/* ndyn simulate: every system writes the documented arrays and shapes, the
 * file matches the library's simulation, seeds reproduce, missing output
 * directories are created, and bad arguments give exit 2 with a message
 * naming what to change. */
#include "cli_test_util.h"

#include "ndyn/io.h"
#include "ndyn/sim.h"
#include "sim_test_util.h"

static ndyn_dataset *load(const char *path)
{
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(path, &ds));
    return ds;
}

TEST(simulate_switching)
{
    CHECK(t_ndyn("simulate switching --out tmp/sim/sw.npz --trials 3 --steps 50 --seed 4") == 0);
    /* One paragraph on stdout, nothing on stderr. */
    CHECKF(t_lines(t_out) == 1 && strstr(t_out, "Wrote tmp/sim/sw.npz"), "stdout: %s", t_out);
    CHECK(t_err[0] == '\0');
    ndyn_dataset *ds = load("tmp/sim/sw.npz");
    if (!ds) return;
    const ndyn_array *y = t_get(ds, "y", NDYN_F64, 3, (size_t[]){3, 50, 30});
    const ndyn_array *s = t_get(ds, "states", NDYN_I32, 2, (size_t[]){3, 50});
    t_get(ds, "h", NDYN_F64, 3, (size_t[]){3, 50, 2});
    /* The same as the library's simulation with these parameters. */
    ndyn_sim_switching_params p;
    ndyn_sim_switching_defaults(&p);
    p.trials = 3, p.steps = 50, p.seed = 4;
    ndyn_dataset *ref = NULL;
    CHECK_OK(ndyn_sim_switching(&p, &ref));
    if (ref && y && s) {
        const ndyn_array *ry = NULL, *rs = NULL;
        ndyn_dataset_get(ref, "y", &ry);
        ndyn_dataset_get(ref, "states", &rs);
        CHECK(ry && memcmp(ry->data, y->data, ndyn_array_nbytes(y)) == 0);
        CHECK(rs && memcmp(rs->data, s->data, ndyn_array_nbytes(s)) == 0);
    }
    ndyn_dataset_free(ref);
    ndyn_dataset_free(ds);
    /* Seeds: same seed same bytes, another seed other data. */
    CHECK(t_ndyn("simulate switching --out tmp/sim/sw2.npz --trials 3 --steps 50 --seed 4 -q") == 0);
    CHECK(t_ndyn("simulate switching --out tmp/sim/sw3.npz --trials 3 --steps 50 --seed 5") == 0);
    void *a = NULL, *b = NULL, *c = NULL;
    size_t la = 0, lb = 0, lc = 0;
    CHECK_OK(ndyn_read_file("tmp/sim/sw.npz", 1 << 24, &a, &la));
    CHECK_OK(ndyn_read_file("tmp/sim/sw2.npz", 1 << 24, &b, &lb));
    CHECK_OK(ndyn_read_file("tmp/sim/sw3.npz", 1 << 24, &c, &lc));
    CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
    CHECK(a && c && (la != lc || memcmp(a, c, la) != 0));
    free(a);
    free(b);
    free(c);
}

TEST(simulate_switching_poisson)
{
    CHECK(t_ndyn("simulate switching --out tmp/sim/pois.npz --trials 2 --steps 40 --states 2 "
                 "--latent 4 --obs 7 --emission poisson --stay 0.9 --compress "
                 "--emission-hidden 5") == 0);
    CHECK(strstr(t_out, "MLP (5 tanh units)") != NULL);
    ndyn_dataset *ds = load("tmp/sim/pois.npz");
    if (!ds) return;
    const ndyn_array *y = t_get(ds, "y", NDYN_F64, 3, (size_t[]){2, 40, 7});
    t_get(ds, "h", NDYN_F64, 3, (size_t[]){2, 40, 4});
    const ndyn_array *P = t_get(ds, "transition", NDYN_F64, 2, (size_t[]){2, 2});
    t_get(ds, "C1", NDYN_F64, 2, (size_t[]){5, 4});
    t_get(ds, "C", NDYN_F64, 2, (size_t[]){7, 5});
    if (y) {
        int ok = 1;
        for (size_t i = 0; i < y->size; i++) {
            double v = ((double *)y->data)[i];
            ok &= v >= 0 && v == floor(v);
        }
        CHECK(ok);
    }
    if (P) CHECK(((double *)P->data)[0] == 0.9);
    ndyn_dataset_free(ds);
}

TEST(simulate_lorenz_vdp_fields)
{
    CHECK(t_ndyn("simulate lorenz --out tmp/sim/lz.npz --trials 2 --steps 100 --noise 0.1") == 0);
    ndyn_dataset *ds = load("tmp/sim/lz.npz");
    if (ds) {
        t_get(ds, "y", NDYN_F64, 3, (size_t[]){2, 100, 3});
        const ndyn_array *s = t_get(ds, "states", NDYN_I32, 2, (size_t[]){2, 100});
        const ndyn_array *x = t_get(ds, "x", NDYN_F64, 3, (size_t[]){2, 100, 3});
        const ndyn_array *dt = t_get(ds, "dt", NDYN_F64, 0, NULL);
        if (dt) CHECK(((double *)dt->data)[0] == 0.01);
        if (s && x)
            for (size_t i = 0; i < 200; i++)
                CHECK(((int32_t *)s->data)[i] == (((double *)x->data)[3 * i] > 0));
    }
    ndyn_dataset_free(ds);
    CHECK(t_ndyn("simulate vdp --out tmp/sim/vdp.npz --conditions 3 --trials 5 --mu-min 0 "
                 "--mu-max 1") == 0);
    ds = load("tmp/sim/vdp.npz");
    if (ds) {
        const ndyn_array *pos = t_get(ds, "pos", NDYN_F64, 2, (size_t[]){0, 3});
        const ndyn_array *c = t_get(ds, "condition", NDYN_I32, 1, (size_t[]){0});
        const ndyn_array *mu = t_get(ds, "mu", NDYN_F64, 1, (size_t[]){3});
        t_get(ds, "vel", NDYN_F64, 2, (size_t[]){pos ? pos->shape[0] : 0, 3});
        if (mu) CHECK(((double *)mu->data)[1] == 0.5);
        if (c && pos) {
            CHECK(c->shape[0] == pos->shape[0] && pos->shape[0] <= 3 * 5 * 5);
            for (size_t i = 0; i < c->size; i++) CHECK(((int32_t *)c->data)[i] >= 0 && ((int32_t *)c->data)[i] < 3);
        }
    }
    ndyn_dataset_free(ds);
    CHECK(t_ndyn("simulate fields --out tmp/sim/f.npz --points 10") == 0);
    ds = load("tmp/sim/f.npz");
    if (ds) {
        t_get(ds, "pos", NDYN_F64, 2, (size_t[]){40, 2});
        t_get(ds, "vel", NDYN_F64, 2, (size_t[]){40, 2});
        t_get(ds, "condition", NDYN_I32, 1, (size_t[]){40});
        const ndyn_named_array *nm = ndyn_dataset_find(ds, "names");
        CHECK(nm && nm->text && t_lines(nm->text) == 3);
    }
    ndyn_dataset_free(ds);
}

TEST(simulate_creates_directories)
{
    /* As the README's first command does on a fresh clone (out/ missing). */
    system("rm -rf tmp/sim/new");
    CHECK(t_ndyn("simulate fields --out tmp/sim/new/deeper/f.npz --points 3") == 0);
    ndyn_dataset *ds = load("tmp/sim/new/deeper/f.npz");
    CHECK(ds != NULL);
    ndyn_dataset_free(ds);
}

TEST(simulate_help_documents_every_option)
{
    CHECK(t_ndyn("simulate --help") == 0);
    const char *opts[] = {"--out", "--seed", "--noise", "--compress", "--quiet", "--threads",
                          "--trials", "--steps", "--dt", "--substeps", "--burn-in", "--sigma",
                          "--rho", "--beta", "--standardize", "--conditions", "--mu-min",
                          "--mu-max", "--ic-range", "--bound", "--alpha", "--points", "--eps",
                          "--states", "--latent", "--obs", "--stay", "--latent-noise",
                          "--emission", "--base-rate", "--gain", "--emission-hidden", "lorenz", "vdp", "fields",
                          "switching", "default"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        CHECKF(strstr(t_out, opts[i]) != NULL, "--help lacks %s", opts[i]);
    CHECK(t_ndyn("help simulate") == 0 && strstr(t_out, "--latent-noise"));
}

TEST(simulate_bad_arguments)
{
    CHECK_USAGE("give a SYSTEM", "simulate");
    CHECK_USAGE("unknown SYSTEM 'lorentz'", "simulate lorentz");
    CHECK_USAGE("--rho does not apply to switching", "simulate switching --rho 3");
    CHECK_USAGE("--points does not apply to vdp", "simulate vdp --points 3");
    CHECK_USAGE("--trials", "simulate lorenz --trials 0");
    CHECK_USAGE("--trials expects an integer", "simulate lorenz --trials many");
    CHECK_USAGE("--stay", "simulate switching --stay 1.5");
    CHECK_USAGE("--emission must be gaussian or poisson", "simulate switching --emission normal");
    CHECK_USAGE("--emission-hidden", "simulate switching --emission-hidden -1");
    CHECK_USAGE("--noise", "simulate switching --emission poisson --noise 0.3");
    CHECK_USAGE("--noise", "simulate fields --noise nan");
    CHECK_USAGE("unknown option", "simulate vdp --frobnicate");
    CHECK_USAGE("needs a value", "simulate vdp --out");
    CHECK_USAGE("substeps", "simulate lorenz --dt 0.5");
    CHECK_USAGE("mu_min", "simulate vdp --mu-min 1 --mu-max 0");
    CHECK_USAGE("one SYSTEM", "simulate vdp lorenz");
    /* Run-time failures: exit 1, one line. */
    CHECK_RUNFAIL(".npz", "simulate vdp --out tmp/sim/x.npy --conditions 2 --trials 2");
    system("mkdir -p tmp/sim && touch tmp/sim/plainfile");
    CHECK_RUNFAIL("tmp/sim/plainfile/x.npz", "simulate fields --out tmp/sim/plainfile/x.npz");
}

RUN_TESTS(T(simulate_switching), T(simulate_switching_poisson), T(simulate_lorenz_vdp_fields),
          T(simulate_creates_directories), T(simulate_help_documents_every_option),
          T(simulate_bad_arguments))
