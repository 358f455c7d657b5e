/* ndyn plot end to end: input files in the formats of docs/FORMATS.md are
 * written here, the command draws them, and the PNGs are read back: the
 * colours of categories and of heatmap values must appear where the data put
 * them, and bad inputs must fail with exit status 1 (2 for usage) and a
 * message that names the problem. */
#include "cli_test_util.h"

#include "ndyn/io.h"
#include "ndyn/plot.h"
#include "plot_test_util.h"

/* `ndyn plot ARGS`: exit status, stderr copied to err (may be NULL). */
static int run(const char *args, char *err, size_t nerr)
{
    int st = t_ndyn("plot %s", args);
    if (err) {
        size_t k = strlen(t_err) < nerr ? strlen(t_err) : nerr - 1;
        memcpy(err, t_err, k);
        err[k] = 0;
    }
    return st;
}

static void save(const char *path, size_t n, const char *const *names, ndyn_array **arrays)
{
    CHECK_OK(ndyn_npz_write(path, n, names, (const ndyn_array *const *)arrays, 0));
    for (size_t i = 0; i < n; i++) ndyn_array_free(arrays[i]);
}

/* Centroid x of the pixels of a colour left of x_max; count in *n. */
static double centroid_x(const t_png *p, int x_max, int r, int g, int b, long *n)
{
    double s = 0;
    *n = 0;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < x_max && x < p->w; x++)
            if (t_px_is(p, x, y, r, g, b, 4)) {
                s += x;
                (*n)++;
            }
    return *n ? s / *n : -1;
}

TEST(embedding_categories_where_the_data_are)
{
    atexit(ndyn_plot_cleanup);
    enum { N = 90 };
    ndyn_array *emb = ndyn_array_alloc2(NDYN_F64, N, 2), *cond = ndyn_array_alloc1(NDYN_I32, N);
    double *e = emb->data;
    int *c = cond->data;
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (int i = 0; i < N; i++) { /* condition k is a blob at x = 5 (k - 1) */
        c[i] = i % 3;
        e[2 * i] = 5.0 * (c[i] - 1) + 0.3 * ndyn_rng_normal(&r);
        e[2 * i + 1] = 0.3 * ndyn_rng_normal(&r);
    }
    char in[256], out[256], args[1024], err[4096];
    const char *names[2] = {"emb", "condition"};
    ndyn_array *arrs[2] = {emb, cond};
    save(t_tmp("emb.npz", in, sizeof in), 2, names, arrs);
    snprintf(args, sizeof args, "embedding %s -o %s --names left,middle,right --width 700 --height 500", in,
             t_tmp("emb.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    t_png p;
    CHECK(t_png_load(out, &p) == 0);
    CHECK(p.w == 700 && p.h == 500);
    long nb, no, ng;
    int xmax = p.w - 160; /* left of the legend */
    double xb = centroid_x(&p, xmax, 0x1f, 0x77, 0xb4, &nb);
    double xo = centroid_x(&p, xmax, 0xff, 0x7f, 0x0e, &no);
    double xg = centroid_x(&p, xmax, 0x2c, 0xa0, 0x2c, &ng);
    CHECK(nb > 100 && no > 100 && ng > 100);
    CHECK(xb < xo - 50 && xo < xg - 50); /* condition 0 left, 2 right */
    t_png_free(&p);
    /* 3-D view of 2-D data is refused with a reason */
    snprintf(args, sizeof args, "embedding %s -o %s --dims 3", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECK(strstr(err, "only 2 dimensions") != NULL);
}

TEST(embedding_bad_inputs)
{
    char in[256], out[256], args[1024], err[4096];
    /* condition of the wrong length */
    ndyn_array *emb = ndyn_array_alloc2(NDYN_F64, 10, 2), *cond = ndyn_array_alloc1(NDYN_I32, 9);
    const char *names[2] = {"emb", "condition"};
    ndyn_array *arrs[2] = {emb, cond};
    save(t_tmp("bad1.npz", in, sizeof in), 2, names, arrs);
    snprintf(args, sizeof args, "embedding %s -o %s", in, t_tmp("bad.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "9 values") && strstr(err, "10 points"), "stderr: %s", err);
    /* NaN in the points */
    emb = ndyn_array_alloc2(NDYN_F64, 10, 2);
    ((double *)emb->data)[7] = NAN;
    arrs[0] = emb;
    save(t_tmp("bad2.npz", in, sizeof in), 1, names, arrs);
    snprintf(args, sizeof args, "embedding %s -o %s", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "emb") && (strstr(err, "NaN") || strstr(err, "finite")), "stderr: %s", err);
    /* empty array */
    size_t sh0[2] = {0, 2};
    emb = ndyn_array_alloc(NDYN_F64, 2, sh0);
    arrs[0] = emb;
    save(t_tmp("bad3.npz", in, sizeof in), 1, names, arrs);
    snprintf(args, sizeof args, "embedding %s -o %s", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "empty") != NULL, "stderr: %s", err);
    /* missing array lists what exists */
    snprintf(args, sizeof args, "embedding %s -o %s --array nothere", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "nothere") != NULL, "stderr: %s", err);
    /* usage errors */
    snprintf(args, sizeof args, "embedding %s", in);
    CHECK(run(args, err, sizeof err) == 2);
    CHECK(strstr(err, "--output") != NULL);
    CHECK(run("nosuchkind x.npz -o y.png", err, sizeof err) == 2);
    CHECK(run("embedding -o y.png", err, sizeof err) == 2);
    CHECK(run("--help > /dev/null", NULL, 0) == 0);
}

TEST(distances_heatmap_and_mds)
{
    char in[256], out[256], args[1024], err[4096];
    ndyn_array *d = ndyn_array_alloc2(NDYN_F64, 3, 3);
    double v[9] = {0, 1, 2, 1, 0, 1, 2, 1, 0};
    memcpy(d->data, v, sizeof v);
    const char *names[1] = {"dist"};
    ndyn_array *arrs[1] = {d};
    save(t_tmp("dist.npz", in, sizeof in), 1, names, arrs);
    snprintf(args, sizeof args, "distances %s -o %s --names a,b,c", in, t_tmp("dist.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    t_png p;
    CHECK(t_png_load(out, &p) == 0);
    /* zero diagonal: viridis(0) #440154; the largest distance: viridis(1) #FDE725 */
    long n0 = t_count_color(&p, 0, 0, p.w / 2, p.h, 0x44, 0x01, 0x54, 2);
    long n1 = t_count_color(&p, 0, 0, p.w / 2, p.h, 0xfd, 0xe7, 0x25, 2);
    CHECK(n0 > 3000);
    CHECK(n1 > 2000);
    CHECK_CLOSE((double)n0 / n1, 1.5, 0.2, 0); /* 3 zero cells, 2 maximal ones */
    /* classical MDS puts the three conditions on a line with b in the middle */
    long na, nb, nc;
    double xa = centroid_x(&p, p.w - 80, 0x1f, 0x77, 0xb4, &na);
    double xb = centroid_x(&p, p.w - 80, 0xff, 0x7f, 0x0e, &nb);
    double xc = centroid_x(&p, p.w - 80, 0x2c, 0xa0, 0x2c, &nc);
    CHECK(na > 20 && nb > 20 && nc > 20);
    CHECK(fabs(xb - 0.5 * (xa + xc)) < 3 && fabs(xa - xc) > 100);
    t_png_free(&p);
    /* an asymmetric matrix is refused */
    d = ndyn_array_alloc2(NDYN_F64, 2, 2);
    ((double *)d->data)[1] = 1;
    ((double *)d->data)[2] = 2;
    arrs[0] = d;
    save(t_tmp("dist2.npz", in, sizeof in), 1, names, arrs);
    snprintf(args, sizeof args, "distances %s -o %s", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "not symmetric") != NULL, "stderr: %s", err);
    /* unwritable output */
    arrs[0] = ndyn_array_alloc2(NDYN_F64, 2, 2);
    save(t_tmp("dist3.npz", in, sizeof in), 1, names, arrs);
    snprintf(args, sizeof args, "distances %s -o /proc/nonexistent/x.png", in);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "/proc/nonexistent") != NULL, "stderr: %s", err);
    /* SVG output */
    snprintf(args, sizeof args, "distances %s -o %s", in, t_tmp("dist.svg", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    FILE *f = fopen(out, "r");
    char head[16] = {0};
    CHECK(f && fread(head, 1, 5, f) == 5);
    if (f) fclose(f);
    CHECK(!memcmp(head, "<?xml", 5) || !memcmp(head, "<svg", 4));
}

TEST(states_raster)
{
    enum { N = 1, T = 100, K = 2 };
    ndyn_array *post = ndyn_array_alloc3(NDYN_F64, N, T, K), *st = ndyn_array_alloc2(NDYN_I32, N, T),
               *lab = ndyn_array_alloc2(NDYN_I32, N, T);
    double *P = post->data;
    int *S = st->data, *L = lab->data;
    for (int t = 0; t < T; t++) { /* state 0 for t < 60, then state 1 */
        int s = t >= 60;
        P[t * K + s] = 1;
        S[t] = s;
        L[t] = s;
    }
    char in[256], out[256], args[1024], err[4096];
    const char *names[3] = {"posterior", "states", "labels"};
    ndyn_array *arrs[3] = {post, st, lab};
    save(t_tmp("post.npz", in, sizeof in), 3, names, arrs);
    snprintf(args, sizeof args, "states %s -o %s --label-names run,rest", in, t_tmp("states.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    t_png p;
    CHECK(t_png_load(out, &p) == 0);
    /* posterior raster: one row of viridis(1) and one of viridis(0) at every time */
    long n1 = t_count_color(&p, 0, 0, p.w, p.h, 0xfd, 0xe7, 0x25, 2);
    long n0 = t_count_color(&p, 0, 0, p.w, p.h, 0x44, 0x01, 0x54, 2);
    CHECK(n1 > 5000 && n0 > 5000);
    CHECK_CLOSE((double)n1 / n0, 1.0, 0.1, 0);
    /* strips: blue (state/label 0) for 60 % of the time, orange for 40 % */
    long nb = t_count_color(&p, 0, 0, p.w - 100, p.h, 0x1f, 0x77, 0xb4, 2);
    long no = t_count_color(&p, 0, 0, p.w - 100, p.h, 0xff, 0x7f, 0x0e, 2);
    CHECK(nb > 1000 && no > 1000);
    CHECK_CLOSE((double)nb / no, 1.5, 0.15, 0);
    t_png_free(&p);
    /* labels of another length are refused */
    snprintf(args, sizeof args, "states %s -o %s --trial 3", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "1 trials") != NULL, "stderr: %s", err);
}

TEST(reconstruction_flow_training)
{
    enum { T = 80, Y = 3 };
    char in[256], in2[256], out[256], args[1024], err[4096];
    ndyn_array *y = ndyn_array_alloc3(NDYN_F64, 1, T, Y), *yh = ndyn_array_alloc3(NDYN_F64, 1, T, Y),
               *pr = ndyn_array_alloc3(NDYN_F64, 1, T, Y), *k = ndyn_array_alloc(NDYN_F64, 0, NULL);
    for (int i = 0; i < T * Y; i++) {
        ((double *)y->data)[i] = sin(0.1 * i);
        ((double *)yh->data)[i] = sin(0.1 * i) + 0.01;
        ((double *)pr->data)[i] = i < 5 * Y ? NAN : sin(0.1 * i) - 0.02;
    }
    ((double *)k->data)[0] = 5;
    const char *n1[2] = {"y", "yhat"}, *n2[3] = {"pred", "k", "y"};
    ndyn_array *a1[2] = {y, yh};
    ndyn_array *y2 = ndyn_array_copy(y);
    ndyn_array *a2[3] = {pr, k, y2};
    save(t_tmp("rec1.npz", in, sizeof in), 2, n1, a1);
    save(t_tmp("rec2.npz", in2, sizeof in2), 3, n2, a2);
    snprintf(args, sizeof args, "reconstruction %s %s -o %s --neurons 0,2", in, in2, t_tmp("rec.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    t_png p;
    CHECK(t_png_load(out, &p) == 0);
    CHECK(t_count_color(&p, 0, 0, p.w - 200, p.h, 0x1f, 0x77, 0xb4, 30) > 200);  /* reconstruction */
    CHECK(t_count_color(&p, 0, 0, p.w - 200, p.h, 0xff, 0x7f, 0x0e, 30) > 100);  /* prediction */
    t_png_free(&p);
    snprintf(args, sizeof args, "reconstruction %s -o %s --neurons 7", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "neuron 7") != NULL, "stderr: %s", err);

    /* flow: two states on a 5 x 5 grid, trajectories */
    enum { G = 25, TT = 30 };
    ndyn_array *grid = ndyn_array_alloc2(NDYN_F64, G, 2), *vel = ndyn_array_alloc3(NDYN_F64, 2, G, 2),
               *traj = ndyn_array_alloc3(NDYN_F64, 1, TT, 2), *ts = ndyn_array_alloc2(NDYN_I32, 1, TT);
    for (int g = 0; g < G; g++) {
        double gx = g % 5 - 2, gy = g / 5 - 2;
        ((double *)grid->data)[2 * g] = gx;
        ((double *)grid->data)[2 * g + 1] = gy;
        double *v = vel->data;
        v[2 * g] = -gy; /* state 0 rotates */
        v[2 * g + 1] = gx;
        v[2 * (G + g)] = -gx; /* state 1 contracts */
        v[2 * (G + g) + 1] = -gy;
    }
    for (int t = 0; t < TT; t++) {
        ((double *)traj->data)[2 * t] = 2 * cos(0.2 * t);
        ((double *)traj->data)[2 * t + 1] = 2 * sin(0.2 * t);
        ((int *)ts->data)[t] = t >= 15;
    }
    const char *nf[4] = {"grid", "vel", "traj", "traj_state"};
    ndyn_array *af[4] = {grid, vel, traj, ts};
    save(t_tmp("flow.npz", in, sizeof in), 4, nf, af);
    snprintf(args, sizeof args, "flow %s -o %s", in, t_tmp("flow.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    CHECK(t_png_load(out, &p) == 0);
    CHECK(t_count_color(&p, 0, 0, p.w, p.h, 0x1f, 0x77, 0xb4, 20) > 200);
    CHECK(t_count_color(&p, 0, 0, p.w, p.h, 0xff, 0x7f, 0x0e, 20) > 200);
    t_png_free(&p);

    /* training history with an lr curve on its own panel */
    enum { E = 50 };
    ndyn_array *ep = ndyn_array_alloc1(NDYN_F64, E), *tl = ndyn_array_alloc1(NDYN_F64, E),
               *lr = ndyn_array_alloc1(NDYN_F64, E);
    for (int i = 0; i < E; i++) {
        ((double *)ep->data)[i] = i;
        ((double *)tl->data)[i] = 1.0 / (1 + i);
        ((double *)lr->data)[i] = 1e-3;
    }
    const char *nt[3] = {"epoch", "train_loss", "lr"};
    ndyn_array *at[3] = {ep, tl, lr};
    save(t_tmp("hist.npz", in, sizeof in), 3, nt, at);
    snprintf(args, sizeof args, "training %s -o %s", in, t_tmp("train.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    CHECK(t_png_load(out, &p) == 0);
    CHECK(t_count_color(&p, 0, 0, p.w, p.h, 0x1f, 0x77, 0xb4, 20) > 150); /* train_loss */
    CHECK(t_count_color(&p, 0, 0, p.w, p.h, 0xff, 0x7f, 0x0e, 20) > 150); /* lr */
    t_png_free(&p);
    /* a one-value summary (test_loss) is not a curve; any other name gets its own panel */
    ep = ndyn_array_alloc1(NDYN_F64, E);
    tl = ndyn_array_alloc1(NDYN_F64, E);
    ndyn_array *sm = ndyn_array_alloc1(NDYN_F64, 1), *dt = ndyn_array_alloc1(NDYN_F64, E);
    for (int i = 0; i < E; i++) {
        ((double *)ep->data)[i] = i;
        ((double *)tl->data)[i] = 1.0 / (1 + i);
        ((double *)dt->data)[i] = 0.1 * i;
    }
    const char *ns[4] = {"epoch", "train_loss", "test_loss", "diffusion_time"};
    ndyn_array *as[4] = {ep, tl, sm, dt};
    save(t_tmp("hist3.npz", in, sizeof in), 4, ns, as);
    snprintf(args, sizeof args, "training %s -o %s", in, t_tmp("train3.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    CHECK(t_png_load(out, &p) == 0);
    CHECK(t_count_color(&p, 0, 0, p.w, p.h, 0xff, 0x7f, 0x0e, 20) > 150); /* diffusion_time, second colour */
    CHECK(p.h > 600);                                                    /* two panels */
    t_png_free(&p);
    /* a curve of another length is refused */
    ep = ndyn_array_alloc1(NDYN_F64, E);
    tl = ndyn_array_alloc1(NDYN_F64, E - 1);
    ndyn_array *at2[2] = {ep, tl};
    save(t_tmp("hist2.npz", in, sizeof in), 2, nt, at2);
    snprintf(args, sizeof args, "training %s -o %s", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "49 values") != NULL, "stderr: %s", err);
}

TEST(field_pca_of_3d_positions)
{
    enum { N = 200 };
    ndyn_array *pos = ndyn_array_alloc2(NDYN_F64, N, 3), *vel = ndyn_array_alloc2(NDYN_F64, N, 3),
               *cond = ndyn_array_alloc1(NDYN_I32, N);
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    for (int i = 0; i < N; i++) {
        double *p = (double *)pos->data + 3 * i, *v = (double *)vel->data + 3 * i;
        p[0] = ndyn_rng_normal(&r);
        p[1] = ndyn_rng_normal(&r);
        p[2] = 0.01 * ndyn_rng_normal(&r);
        v[0] = -p[1];
        v[1] = p[0];
        v[2] = 0;
        ((int *)cond->data)[i] = i % 2;
    }
    char in[256], out[256], args[1024], err[4096];
    const char *names[3] = {"pos", "vel", "condition"};
    ndyn_array *arrs[3] = {pos, vel, cond};
    save(t_tmp("field.npz", in, sizeof in), 3, names, arrs);
    snprintf(args, sizeof args, "field %s -o %s", in, t_tmp("field.pdf", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    FILE *f = fopen(out, "rb");
    char head[8] = {0};
    CHECK(f && fread(head, 1, 5, f) == 5);
    if (f) fclose(f);
    CHECK(!memcmp(head, "%PDF-", 5));
    snprintf(args, sizeof args, "field %s -o %s --split", in, t_tmp("field.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    t_png p;
    CHECK(t_png_load(out, &p) == 0);
    /* two panels, one per condition: blue arrows on the left half, orange on the right */
    CHECK(t_count_color(&p, 0, 0, p.w / 2, p.h, 0x1f, 0x77, 0xb4, 30) > 100);
    CHECK(t_count_color(&p, p.w / 2, 0, p.w, p.h, 0x1f, 0x77, 0xb4, 30) == 0);
    CHECK(t_count_color(&p, p.w / 2, 0, p.w, p.h, 0xff, 0x7f, 0x0e, 30) > 100);
    t_png_free(&p);
}

TEST(decoding_truth_and_prediction)
{
    enum { N = 300, Y = 2 };
    ndyn_array *pr = ndyn_array_alloc2(NDYN_F64, N, Y), *tr = ndyn_array_alloc2(NDYN_F64, N, Y);
    for (int i = 0; i < N * Y; i++) {
        ((double *)tr->data)[i] = sin(0.05 * i);
        ((double *)pr->data)[i] = i < 100 * Y ? NAN : sin(0.05 * i) + 0.05; /* first third never tested */
    }
    char in[256], out[256], args[1024], err[4096];
    const char *names[2] = {"pred", "truth"};
    ndyn_array *arrs[2] = {pr, tr};
    save(t_tmp("metrics.npz", in, sizeof in), 2, names, arrs);
    snprintf(args, sizeof args, "decoding %s -o %s --outputs 1", in, t_tmp("decode.png", out, sizeof out));
    CHECK(run(args, err, sizeof err) == 0);
    t_png p;
    CHECK(t_png_load(out, &p) == 0);
    /* the decoded curve (blue) covers the last two thirds of the samples only */
    long left = t_count_color(&p, 0, 0, p.w / 3, p.h, 0x1f, 0x77, 0xb4, 30);
    long right = t_count_color(&p, p.w / 2, 0, p.w - 220, p.h, 0x1f, 0x77, 0xb4, 30);
    CHECK(left < 30 && right > 300);
    t_png_free(&p);
    pr = ndyn_array_alloc2(NDYN_F64, N, Y);
    tr = ndyn_array_alloc2(NDYN_F64, N - 1, Y);
    ndyn_array *arrs2[2] = {pr, tr};
    save(t_tmp("metrics2.npz", in, sizeof in), 2, names, arrs2);
    snprintf(args, sizeof args, "decoding %s -o %s", in, out);
    CHECK(run(args, err, sizeof err) == 1);
    CHECKF(strstr(err, "same shape") != NULL, "stderr: %s", err);
}

RUN_TESTS(T(decoding_truth_and_prediction), T(embedding_categories_where_the_data_are), T(embedding_bad_inputs), T(distances_heatmap_and_mds),
          T(states_raster), T(reconstruction_flow_training), T(field_pca_of_3d_positions))
