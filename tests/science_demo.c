/* ndyn demo end to end (Release only: it fits an SRNN and a MARBLE model):
 * the report exists, every figure it links is a real, non-blank PNG, and the
 * numbers it prints are the ones stored in the files the run wrote (read here
 * independently), not made up. */
#include "test.h"

#include <sys/wait.h>

#include "ndyn/io.h"
#include "plot_test_util.h"

static double mean_of(const char *file, const char *name)
{
    ndyn_dataset *ds = NULL;
    const ndyn_array *a = NULL;
    double v = NAN;
    if (ndyn_dataset_load(file, &ds) == 0 && ndyn_dataset_get(ds, name, &a) == 0) {
        v = 0;
        for (size_t i = 0; i < a->size; i++) v += ndyn_array_get(a, i);
        v /= (double)a->size;
    }
    ndyn_dataset_free(ds);
    return v;
}

/* The number printed after `label` and " | " in the report's table. */
static double table_value(const char *report, const char *label)
{
    const char *p = strstr(report, label);
    if (!p) return NAN;
    p = strstr(p, " | ");
    return p ? atof(p + 3) : NAN;
}

TEST(demo_report_matches_its_files)
{
    char dir[256], cmd[1024];
    t_tmp("demo", dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s demo --out %s --epochs 150 > %s/stdout.txt 2> %s/stderr.txt", NDYN_TEST_EXE, dir,
             dir, dir);
    mkdir(dir, 0755);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char path[512];
    snprintf(path, sizeof path, "%s/report.md", dir);
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(ndyn_read_file(path, 1 << 20, &buf, &len));
    if (!buf) return;
    char *rep = realloc(buf, len + 1);
    rep[len] = 0;
    /* every linked figure exists, has a plausible size and is not blank */
    const char *figs[] = {"training", "states", "reconstruction", "flow", "fields", "embedding", "distances",
                          "marble_training"};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        char link[128];
        snprintf(link, sizeof link, "](%s.png)", figs[i]);
        CHECKF(strstr(rep, link) != NULL, "report does not link %s.png", figs[i]);
        snprintf(path, sizeof path, "%s/%s.png", dir, figs[i]);
        t_png p;
        CHECKF(t_png_load(path, &p) == 0, "cannot read %s", path);
        if (!p.s) continue;
        CHECK(p.w >= 400 && p.h >= 300);
        long white = t_count_color(&p, 0, 0, p.w, p.h, 255, 255, 255, 0);
        CHECK(white < (long)p.w * p.h * 0.97); /* something was drawn */
        CHECK(white > (long)p.w * p.h * 0.2);  /* and it is a figure, not a flood */
        t_png_free(&p);
    }
    /* the numbers are those of the run's files */
    char post[512], pred[512], dist[512];
    snprintf(post, sizeof post, "%s/posterior.npz", dir);
    snprintf(pred, sizeof pred, "%s/predict.npz", dir);
    snprintf(dist, sizeof dist, "%s/dist.npz", dir);
    double se = mean_of(post, "state_error"), r2 = mean_of(post, "r2"), pr2 = mean_of(pred, "r2");
    CHECK(isfinite(se) && se >= 0 && se <= 1);
    CHECK(isfinite(r2) && isfinite(pr2));
    CHECK_CLOSE(table_value(rep, "state error (1"), se, 5e-4, 0);
    CHECK_CLOSE(table_value(rep, "reconstruction R"), r2, 5e-4, 0);
    CHECK_CLOSE(table_value(rep, "5-step-ahead prediction R"), pr2, 5e-4, 0);
    /* the distance row of "linear left" holds dist[0][1] */
    ndyn_dataset *ds = NULL;
    const ndyn_array *d = NULL;
    CHECK_OK(ndyn_dataset_load(dist, &ds));
    if (ds && ndyn_dataset_get(ds, "dist", &d) == 0 && d->size == 16) {
        const char *row = strstr(rep, "| linear left | 0.000 |");
        CHECK(row != NULL);
        if (row) CHECK_CLOSE(atof(row + strlen("| linear left | 0.000 |")), ndyn_array_get(d, 1), 5e-4, 0);
    }
    ndyn_dataset_free(ds);
    free(rep);
}

RUN_TESTS(T(demo_report_matches_its_files))
