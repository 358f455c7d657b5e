/* MARBLE against PCA on the rat hippocampus ("buddy", ../shared/data): the
 * decoding protocol of the reference's rat notebooks (examples/rat_hippocampus:
 * decoding.ipynb, sensitivity_analysis.ipynb, rat_utils.py), with the same
 * kNN decoder on MARBLE's latent and on the PCA of the rates.
 *
 *   bench_marble_rat [--protocol ref|all] [--seeds N] [--seed0 S] [--epochs E]
 *                    [--pca D] [--out E] [--lr LR] [--scale X] [--edge zero|reflect]
 *                    [--binarize] [--k K] [--delta DELTA] [--compat-sampling]
 *                    [--diag] [--no-positions] [--pos-scale X] [--val-draws D]
 *
 * --protocol ref (default), as the reference's decoding notebook:
 *   1. split the spike counts at int(0.8 T): first 80 % train, last 20 % test;
 *   2. rates per part: Gaussian kernel, sd 10 bins (elephant's 10 "ms" on
 *      25 ms bins, spec P5), zeros outside the part (elephant convolves without
 *      border correction), times --scale (1000: elephant's rates in Hz for
 *      1-"ms" bins; the scale matters through the MLP's first layer);
 *   3. PCA fitted on the training rates only (--pca, 20 in the notebook),
 *      applied to both parts; pos = z[:-1], vel = diff(z) per part, labels
 *      cut to match;
 *   4. MARBLE trained on the training part only (its own CkNN graph, k 15,
 *      delta 1.5); the test part gets its own graph and is embedded by the
 *      trained model (the notebook's model.transform(data_test));
 *      order 1, hidden [64], out 32, emb_norm, no diffusion,
 *      include_positions, batch 64, SGD momentum 0.9, lr --lr (the saved
 *      reference model's settings print lr 1; the yaml default is 0.01);
 *   5. decoders: kNN regression, k 36, cosine (cebra.KNNDecoder), one for
 *      position and one for the right/left label, fitted on the training
 *      rows, scored on the test rows: R^2 of position, the mean R^2 of
 *      (position, direction) (sklearn r2_score's uniform average), median
 *      |position error|, and the median error of each pass (a run of constant
 *      direction in the test part). The reference's per-pass code indexes only
 *      the first and last row of each pass (prediction[(start, end), 0]); the
 *      true per-pass medians are reported here.
 *   Baseline: the same decoders on the PCA coordinates z of the same rows
 *   (also printed, as a diagnostic: on z and diff(z) side by side, MARBLE's
 *   raw input).
 * --protocol all: what tests/science_marble_rat.c does (rates over the whole
 *   recording with reflected edges, unscaled, PCA on all of it, MARBLE
 *   trained and embedded on all points, decoder split at 80 %).
 *
 * --diag prints, per part, the CkNN graph's components and degrees, the nodes
 * whose gradient kernels have no off-diagonal weight, and the RMS of the
 * three input blocks of the MLP (positions, signal, gradients); per seed, the
 * embedding's mean norm, per-dimension variance and effective rank, the
 * losses of some epochs and the spread of the validation loss once the
 * learning rate has fallen 1000-fold. --no-positions turns include_positions
 * off; --pos-scale multiplies the positions MARBLE is given (not the
 * decoders' input; the graph and the kernels are scale-free).
 *
 * --val-draws D sets MARBLE's validation estimator (0, the default: a new
 * draw of positives and negatives every epoch; D >= 1: the same D draws every
 * epoch, averaged), which picks the best-validation checkpoint.
 *
 * The paper's statistics (spec §18): per seed, a paired two-sided Wilcoxon
 * signed-rank test (scipy's defaults) on the per-test-row |position error|
 * of MARBLE against PCA (statistic, z, p, median of the paired differences;
 * "lower" when the rank sum favours MARBLE and p < 0.05) and on the 11
 * per-pass medians; across the seeds run, signed-rank tests of the per-seed
 * differences (median error, R^2) against 0. A "row |" line per seed gives
 * the docs table's columns.
 *
 * Prints one line per seed and a summary (MARBLE - PCA per seed). MARBLE's
 * seed drives initialisation, the train/val/test node split and the
 * sampling; the decoder and the PCA baseline are deterministic.
 * Data: Grosmark & Buzsaki 2016 (CRCNS hc-11). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "ndyn/core.h"
#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/linalg.h"
#include "ndyn/marble.h"
#include "ndyn/prep.h"

typedef struct {
    double r2_pos, r2_posdir, med, pass_med, pass_mean;
    int n_pass;
    double pass[256];
} scores;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *x, size_t n)
{
    qsort(x, n, sizeof(double), cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Decode position (lab col 0) and direction (col 1) from x (rows, d): train
 * rows [0, ntr), test rows [ntr, n); lab is (n, 2). err_out (n - ntr) or
 * NULL: |position error| of each test row. */
static int decode(const double *x, size_t n, size_t d, const double *lab, size_t ntr, scores *s,
                  double *err_out)
{
    size_t nte = n - ntr;
    double *ytr = malloc(ntr * 2 * sizeof(double)), *yte = malloc(nte * 2 * sizeof(double));
    double *yhat = malloc(nte * 2 * sizeof(double)), *col = malloc(nte * sizeof(double));
    double *err = malloc(nte * sizeof(double));
    int rc = 0;
    memcpy(ytr, lab, ntr * 2 * sizeof(double));
    memcpy(yte, lab + ntr * 2, nte * 2 * sizeof(double));
    /* one decoder per label, as the reference (same neighbours, so one call with two targets) */
    if ((rc = ndyn_knn_regress(x, ytr, ntr, d, 2, x + ntr * d, nte, 36, NDYN_DIST_COSINE, yhat))) goto out;
    double per[2];
    if ((rc = ndyn_metric_r2(yte, yhat, nte, 2, per, &s->r2_posdir))) goto out;
    s->r2_pos = per[0];
    for (size_t i = 0; i < nte; i++) err[i] = fabs(yhat[2 * i] - yte[2 * i]);
    if (err_out) memcpy(err_out, err, nte * sizeof(double));
    memcpy(col, err, nte * sizeof(double));
    s->med = median_of(col, nte);
    /* passes: runs of constant direction label */
    s->n_pass = 0;
    double sum = 0;
    for (size_t a = 0; a < nte && s->n_pass < 256;) {
        size_t b = a + 1;
        while (b < nte && yte[2 * b + 1] == yte[2 * a + 1]) b++;
        memcpy(col, err + a, (b - a) * sizeof(double));
        s->pass[s->n_pass] = median_of(col, b - a);
        sum += s->pass[s->n_pass++];
        a = b;
    }
    s->pass_mean = sum / s->n_pass;
    memcpy(col, s->pass, (size_t)s->n_pass * sizeof(double));
    s->pass_med = median_of(col, (size_t)s->n_pass);
out:
    free(ytr); free(yte); free(yhat); free(col); free(err);
    return rc;
}

static void print_scores(const char *what, const scores *s)
{
    printf("%-14s R2(pos) %.4f  R2(pos,dir) %.4f  median|err| %.4f m  per-pass median %.4f mean %.4f m (%d passes)\n",
           what, s->r2_pos, s->r2_posdir, s->med, s->pass_med, s->pass_mean, s->n_pass);
}


/* --diag: the graph and the features of one part. Components of the CkNN
 * graph, degrees, kernel rows without off-diagonal weight, and the scale of
 * each feature block the MLP sees (positions, the signal, its gradients
 * K_c f), as RMS over nodes and columns. */
static void diag_graph(const char *what, const ndyn_geom_data *g)
{
    size_t n = g->n, dmin = (size_t)-1, dmax = 0, zero = 0, D = g->D, s = g->s;
    size_t *deg = malloc(n * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        deg[i] = (size_t)(g->graph.rowptr[i + 1] - g->graph.rowptr[i]);
        if (deg[i] < dmin) dmin = deg[i];
        if (deg[i] > dmax) dmax = deg[i];
    }
    double *dd = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) dd[i] = (double)deg[i];
    double dmed = median_of(dd, n);
    /* kernel rows: a row with all off-diagonal values zero in every K_c gives a zero gradient */
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        for (int c = 0; c < g->d && !any; c++)
            for (int64_t q = g->K[c].rowptr[i]; q < g->K[c].rowptr[i + 1]; q++)
                if ((size_t)g->K[c].col[q] != i && g->K[c].val[q] != 0) { any = 1; break; }
        zero += !any;
    }
    double rp = 0, rv = 0, rg = 0;
    for (size_t i = 0; i < n * D; i++) rp += g->pos[i] * g->pos[i];
    for (size_t i = 0; i < n * s; i++) rv += g->vel[i] * g->vel[i];
    double *gr = malloc(n * s * sizeof(double));
    for (int c = 0; c < g->d; c++) {
        ndyn_csr_spmm(&g->K[c], g->vel, s, 1.0, 0.0, gr);
        for (size_t i = 0; i < n * s; i++) rg += gr[i] * gr[i];
    }
    printf("diag %s: %zu nodes, %zu components, degree min %zu median %.0f max %zu, %zu nodes with a zero "
           "gradient row; RMS positions %.4g, signal %.4g, gradients %.4g\n",
           what, n, g->n_components, dmin, dmed, dmax, zero, sqrt(rp / (double)(n * D)),
           sqrt(rv / (double)(n * s)), sqrt(rg / (double)(n * s * (size_t)g->d)));
    free(deg); free(dd); free(gr);
}

/* --diag: the embedding of rows [0, n): mean norm, per-dimension variance
 * (min / max), and the participation ratio (sum l)^2 / sum l^2 of the
 * covariance eigenvalues (the effective rank; E if isotropic, 1 if a line). */
static void diag_emb(const double *e, size_t n, size_t E)
{
    double *mu = calloc(E, sizeof(double)), *C = calloc(E * E, sizeof(double));
    double *w = malloc(E * sizeof(double)), *Z = malloc(E * E * sizeof(double)), nrm = 0;
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t j = 0; j < E; j++) { mu[j] += e[i * E + j]; ss += e[i * E + j] * e[i * E + j]; }
        nrm += sqrt(ss);
    }
    for (size_t j = 0; j < E; j++) mu[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < E; a++)
            for (size_t b = 0; b < E; b++)
                C[a * E + b] += (e[i * E + a] - mu[a]) * (e[i * E + b] - mu[b]) / (double)(n - 1);
    double vmin = 1e300, vmax = 0, s1 = 0, s2 = 0;
    for (size_t j = 0; j < E; j++) { vmin = fmin(vmin, C[j * E + j]); vmax = fmax(vmax, C[j * E + j]); }
    if (!ndyn_syevr(E, C, w, Z))
        for (size_t j = 0; j < E; j++) { double l = fmax(w[j], 0); s1 += l; s2 += l * l; }
    printf("               embedding (train rows): mean norm %.4f, per-dim variance %.3g..%.3g, total %.4f, "
           "effective rank %.2f, top eigenvalue share %.3f\n",
           nrm / (double)n, vmin, vmax, s1, s2 > 0 ? s1 * s1 / s2 : 0, s1 > 0 ? fmax(w[E - 1], 0) / s1 : 0);
    free(mu); free(C); free(w); free(Z);
}

typedef struct {
    const char *protocol;
    int seeds, epochs, pca, out, binarize, zero_edge, k, compat, diag, no_pos, val_draws;
    unsigned long seed0;
    double lr, scale, delta, pos_scale;
} options;

static int prepare(const double *pos, const double *vel, size_t n, size_t D, const options *o,
                   ndyn_geom_data **g, ndyn_marble_ops **ops)
{
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.k = o->k;
    gp.delta = o->delta;
    /* --pos-scale multiplies the positions MARBLE sees; the CkNN graph (distance
     * ratios) and the row-normalised kernels do not change, only the
     * include_positions block of the MLP's input */
    double *ps = malloc(n * D * sizeof(double));
    for (size_t i = 0; i < n * D; i++) ps[i] = pos[i] * o->pos_scale;
    int rc = ndyn_geom_prepare_arrays(ps, vel, n, D, D, NULL, NULL, NULL, &gp, g);
    free(ps);
    if (!rc) rc = ndyn_marble_ops_from_geom(*g, ops);
    return rc;
}

/* Embed every node of g with m, rows back in the caller's order: emb (n, E). */
static int embed(const ndyn_marble_model *m, const ndyn_geom_data *g, const ndyn_marble_ops *ops,
                 size_t E, double *emb)
{
    double *tmp = malloc(g->n * E * sizeof(double));
    int rc = ndyn_marble_transform(m, &ops->data, tmp);
    for (size_t i = 0; !rc && i < g->n; i++)
        memcpy(emb + (size_t)g->index[i] * E, tmp + i * E, E * sizeof(double));
    free(tmp);
    return rc;
}

static void set_params(ndyn_marble_params *p, const options *o, uint64_t seed)
{
    ndyn_marble_params_default(p);
    p->epochs = o->epochs;
    p->seed = seed;
    p->order = 1;
    p->n_hidden = 1;
    p->hidden[0] = 64;
    p->out_channels = o->out;
    p->emb_norm = 1;
    p->diffusion = 0;
    p->include_positions = !o->no_pos;
    p->batch_size = 64;
    p->momentum = 0.9;
    p->lr = o->lr;
    p->compat_sampling = o->compat;
    p->val_draws = o->val_draws;
}

int main(int argc, char **argv)
{
    options o = {"ref", 5, 100, 20, 32, 0, 1, 15, 0, 0, 0, 0, 0, 1.0, 1000.0, 1.5, 1.0};
    int explicit_pca = 0, explicit_lr = 0, explicit_scale = 0, explicit_edge = 0;
    static struct option lo[] = {
        {"protocol", required_argument, 0, 'P'}, {"seeds", required_argument, 0, 'n'},
        {"seed0", required_argument, 0, 's'}, {"epochs", required_argument, 0, 'e'},
        {"pca", required_argument, 0, 'p'}, {"out", required_argument, 0, 'o'},
        {"lr", required_argument, 0, 'l'}, {"scale", required_argument, 0, 'x'},
        {"edge", required_argument, 0, 'g'}, {"binarize", no_argument, 0, 'b'},
        {"k", required_argument, 0, 'k'}, {"delta", required_argument, 0, 'd'},
        {"compat-sampling", no_argument, 0, 'c'}, {"diag", no_argument, 0, 'D'}, {"no-positions", no_argument, 0, 'N'},
        {"pos-scale", required_argument, 0, 'S'}, {"val-draws", required_argument, 0, 'V'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'P': o.protocol = optarg; break;
        case 'n': o.seeds = atoi(optarg); break;
        case 's': o.seed0 = strtoul(optarg, NULL, 10); break;
        case 'e': o.epochs = atoi(optarg); break;
        case 'p': o.pca = atoi(optarg); explicit_pca = 1; break;
        case 'o': o.out = atoi(optarg); break;
        case 'l': o.lr = atof(optarg); explicit_lr = 1; break;
        case 'x': o.scale = atof(optarg); explicit_scale = 1; break;
        case 'g': o.zero_edge = strcmp(optarg, "zero") == 0; explicit_edge = 1; break;
        case 'b': o.binarize = 1; break;
        case 'c': o.compat = 1; break;
        case 'D': o.diag = 1; break;
        case 'N': o.no_pos = 1; break;
        case 'S': o.pos_scale = atof(optarg); break;
        case 'V': o.val_draws = atoi(optarg); break;
        case 'k': o.k = atoi(optarg); break;
        case 'd': o.delta = atof(optarg); break;
        default:
            printf("usage: bench_marble_rat [--protocol ref|all] [--seeds N (5)] [--seed0 S (0)]\n"
                   "  [--epochs E (100)] [--pca D (ref 20, all 10)] [--out E (32)]\n"
                   "  [--lr LR (ref 1, all 0.01)] [--scale X (ref 1000, all 1)]\n"
                   "  [--edge zero|reflect (ref zero, all reflect)] [--binarize (count>0 -> 1, as\n"
                   "  the reference's np.where)] [--k K (15)] [--delta DELTA (1.5)]\n"
                   "  [--compat-sampling (the reference's positive/negative sampling)]\n"
                   "  [--diag (graph components, degrees, zero gradient rows, feature scales,\n"
                   "  losses per epoch, embedding variance and effective rank)]\n"
                   "  [--no-positions (include_positions off)] [--pos-scale X (1: positions fed to\n"
                   "  MARBLE times X; graph and kernels unchanged)]\n"
                   "  [--val-draws D (0: a new validation draw every epoch; D >= 1: the same D\n"
                   "  draws every epoch, averaged)]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    int ref = strcmp(o.protocol, "all") != 0;
    if (!ref) {
        if (!explicit_pca) o.pca = 10;
        if (!explicit_lr) o.lr = 0.01;
        if (!explicit_scale) o.scale = 1.0;
        if (!explicit_edge) o.zero_edge = 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    ndyn_set_num_threads(1);
    const char *dir = NDYN_BENCH_DATA_DIR;
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/rat_buddy_spikes_25ms.npy", dir);
    snprintf(p2, sizeof p2, "%s/rat_buddy_position.npy", dir);
    ndyn_array *sp = NULL, *beh = NULL, *spd = NULL;
    if (ndyn_npy_read(p1, &sp) || ndyn_npy_read(p2, &beh)) {
        fprintf(stderr, "bench_marble_rat: %s (the rat data lives in ../shared/data)\n", ndyn_errmsg());
        return 1;
    }
    spd = ndyn_array_cast(sp, NDYN_F64);
    size_t T = spd->shape[0], U = spd->shape[1], D = (size_t)o.pca, E = (size_t)o.out;
    double *x = (double *)spd->data;
    const double *b = (const double *)beh->data;
    if (o.binarize)
        for (size_t i = 0; i < T * U; i++) x[i] = x[i] > 0;
    printf("rat buddy: %zu bins x %zu units; protocol %s, PCA %zu, out %zu, k %d, delta %.2f, lr %g, "
           "rate scale %g, %s edges%s%s, %d epochs, seeds %lu..%lu; positions %s x %g; val draws %d%s\n",
           T, U, ref ? "ref" : "all", D, E, o.k, o.delta, o.lr, o.scale, o.zero_edge ? "zero" : "reflected",
           o.binarize ? ", binarised counts" : "", o.compat ? ", reference sampling" : "", o.epochs, o.seed0, o.seed0 + (unsigned long)o.seeds - 1, o.no_pos ? "off" : "on", o.pos_scale,
           o.val_draws, o.val_draws ? " (fixed)" : " (new every epoch)");

    /* rates: per part (ref) or over the whole recording (all) */
    size_t split = (size_t)((double)T * 0.8), starts[2] = {0, split};
    ndyn_trials *tr = NULL;
    int rc = ndyn_trials_from_recording(x, T, U, ref ? starts : NULL, ref ? 2 : 0, 0.025, &tr);
    if (!rc) rc = ndyn_prep_smooth_steps(tr, NDYN_SMOOTH_GAUSSIAN, 10, o.zero_edge ? NDYN_EDGE_ZERO : NDYN_EDGE_REFLECT);
    for (size_t i = 0; !rc && i < T * U; i++) tr->data[i] *= o.scale;
    ndyn_pca *pca = NULL;
    if (!rc) rc = ndyn_pca_fit(tr->data, ref ? split : T, U, D, &pca);
    double *z = malloc(T * D * sizeof(double));
    if (!rc) rc = ndyn_pca_transform(pca, tr->data, T, z);
    if (rc) { fprintf(stderr, "bench_marble_rat: %s\n", ndyn_errmsg()); return 1; }

    /* parts: [a, e) rows of the recording -> pos/vel/labels of n = e - a - 1 rows */
    size_t pa[2], pe[2], np = ref ? 2 : 1;
    if (ref) { pa[0] = 0; pe[0] = split; pa[1] = split; pe[1] = T; }
    else { pa[0] = 0; pe[0] = T; }
    size_t nrow = 0, off[3] = {0};
    for (size_t q = 0; q < np; q++) { nrow += pe[q] - pa[q] - 1; off[q + 1] = nrow; }
    double *pos = malloc(nrow * D * sizeof(double)), *vel = malloc(nrow * D * sizeof(double));
    double *lab = malloc(nrow * 2 * sizeof(double));
    for (size_t q = 0; q < np; q++)
        for (size_t t = pa[q], r = off[q]; t + 1 < pe[q]; t++, r++) {
            for (size_t j = 0; j < D; j++) {
                pos[r * D + j] = z[t * D + j];
                vel[r * D + j] = z[(t + 1) * D + j] - z[t * D + j];
            }
            lab[2 * r] = b[t * 3];
            lab[2 * r + 1] = b[t * 3 + 1];
        }
    size_t ntr = ref ? off[1] : (size_t)(0.8 * (double)nrow);

    scores base;
    size_t nte = nrow - ntr;
    double *err_p = malloc(nte * sizeof(double)), *err_m = malloc(nte * sizeof(double));
    double *dif = malloc(nte * sizeof(double));
    if (decode(pos, nrow, D, lab, ntr, &base, err_p)) { fprintf(stderr, "%s\n", ndyn_errmsg()); return 1; }
    print_scores("PCA", &base);
    {   /* diagnostic only: the decoders on MARBLE's raw input (PCA coordinates and velocity) */
        double *pv = malloc(nrow * 2 * D * sizeof(double));
        for (size_t r = 0; r < nrow; r++) {
            memcpy(pv + r * 2 * D, pos + r * D, D * sizeof(double));
            memcpy(pv + r * 2 * D + D, vel + r * D, D * sizeof(double));
        }
        scores pvs;
        if (decode(pv, nrow, 2 * D, lab, ntr, &pvs, NULL)) { fprintf(stderr, "%s\n", ndyn_errmsg()); return 1; }
        print_scores("PCA+velocity", &pvs);
        free(pv);
    }

    ndyn_geom_data *g[2] = {NULL, NULL};
    ndyn_marble_ops *ops[2] = {NULL, NULL};
    double t0 = ndyn_time_now();
    for (size_t q = 0; q < np; q++)
        if (prepare(pos + off[q] * D, vel + off[q] * D, off[q + 1] - off[q], D, &o, &g[q], &ops[q])) {
            fprintf(stderr, "bench_marble_rat: %s\n", ndyn_errmsg());
            return 1;
        }
    printf("graphs: %.1f s\n", ndyn_time_now() - t0);
    if (o.diag)
        for (size_t q = 0; q < np; q++) diag_graph(q ? "test part" : (ref ? "train part" : "all"), g[q]);

    double *emb = malloc(nrow * E * sizeof(double));
    double d_r2 = 1e9, d_r2pd = 1e9, d_med = -1e9, d_pass = -1e9;
    double s_r2 = 0, s_r2pd = 0, s_med = 0, s_pass = 0;
    int wins_all = 0, win_r2 = 0, win_med = 0, win_wx = 0;
    double *seed_dmed = malloc((size_t)o.seeds * sizeof(double));
    double *seed_dr2 = malloc((size_t)o.seeds * sizeof(double));
    double *seed_dr2pd = malloc((size_t)o.seeds * sizeof(double));
    for (int si = 0; si < o.seeds; si++) {
        uint64_t seed = o.seed0 + (uint64_t)si;
        ndyn_marble_params p;
        set_params(&p, &o, seed);
        ndyn_marble_model *m = NULL;
        ndyn_marble_history h;
        memset(&h, 0, sizeof h);
        t0 = ndyn_time_now();
        rc = ndyn_marble_model_new(&p, D, D, D, &m);
        if (!rc) rc = ndyn_marble_fit(m, &ops[0]->data, &h);
        for (size_t q = 0; !rc && q < np; q++) rc = embed(m, g[q], ops[q], E, emb + off[q] * E);
        if (rc) { fprintf(stderr, "bench_marble_rat: %s\n", ndyn_errmsg()); return 1; }
        scores s;
        if (decode(emb, nrow, E, lab, ntr, &s, err_m)) { fprintf(stderr, "%s\n", ndyn_errmsg()); return 1; }
        char what[64];
        snprintf(what, sizeof what, "MARBLE seed %lu", (unsigned long)seed);
        print_scores(what, &s);
        int pw = 0;
        for (int i = 0; i < s.n_pass && i < base.n_pass; i++) pw += s.pass[i] < base.pass[i];
        printf("               fit %.1f s, best epoch %d, val %.4f; passes where MARBLE's median error is lower: %d/%d\n",
               ndyn_time_now() - t0, h.best_epoch, h.n ? h.val_loss[h.n - 1] : NAN, pw, s.n_pass);
        /* the paper's statistic: paired signed-rank test on the per-sample
         * |position errors| (MARBLE - PCA, same test rows), and on the
         * per-pass medians */
        ndyn_wilcoxon_result wx, wp;
        for (size_t i = 0; i < nte; i++) dif[i] = err_m[i] - err_p[i];
        double dmed_pair = median_of(dif, nte);
        if (ndyn_wilcoxon(err_m, err_p, nte, NDYN_WILCOXON_AUTO, &wx) ||
            ndyn_wilcoxon(s.pass, base.pass, (size_t)(s.n_pass < base.n_pass ? s.n_pass : base.n_pass),
                          NDYN_WILCOXON_AUTO, &wp)) {
            fprintf(stderr, "bench_marble_rat: %s\n", ndyn_errmsg());
            return 1;
        }
        int lower = wx.r_plus < wx.r_minus && wx.pvalue < 0.05;
        printf("               Wilcoxon per sample (MARBLE - PCA |error|, n %zu): statistic %.1f, z %.3f, "
               "p %.3g, median difference %+.2f mm, MARBLE %s; per pass (n %zu, %s): statistic %.1f, p %.3g\n",
               wx.n_used, wx.statistic, wx.z, wx.pvalue, 1000 * dmed_pair,
               lower ? "lower (p < 0.05)" : wx.r_plus < wx.r_minus ? "lower, not significant" :
               wx.pvalue < 0.05 ? "HIGHER (p < 0.05)" : "higher, not significant",
               wp.n_used, wp.exact ? "exact" : "approx", wp.statistic, wp.pvalue);
        seed_dmed[si] = s.med - base.med;
        seed_dr2[si] = s.r2_pos - base.r2_pos;
        seed_dr2pd[si] = s.r2_posdir - base.r2_posdir;
        win_r2 += s.r2_pos > base.r2_pos;
        win_med += s.med < base.med;
        win_wx += lower;
        printf("row | %lu | %.4f | %.4f | %.4f | %.4f | %d/%d | %+.2f | %.3g | %s | %d |\n",
               (unsigned long)seed, s.r2_pos, s.r2_posdir, s.med, s.pass_med, pw, s.n_pass,
               1000 * dmed_pair, wx.pvalue, lower ? "yes" : "no", h.best_epoch);
        if (o.diag) {
            diag_emb(emb, ntr, E);
            printf("               losses (epoch: train / val):");
            for (size_t ei = 0; ei < h.n; ei++)
                if (ei < 3 || ei % 10 == 9 || ei + 1 == h.n || (int)ei == h.best_epoch)
                    printf(" %zu: %.4f / %.4f (lr %g)", ei, h.train_loss[ei], h.val_loss[ei], h.lr[ei]);
            printf("\n");
            /* sampling noise of the validation loss: epochs whose lr is <= 1e-3 of the
             * initial one barely move the weights, so their spread is the draw's */
            double vs = 0, vs2 = 0, vmin = 1e300, vmax = -1e300;
            size_t nv = 0;
            for (size_t ei = 0; ei < h.n; ei++)
                if (h.lr[ei] <= 1e-3 * o.lr) {
                    vs += h.val_loss[ei]; vs2 += h.val_loss[ei] * h.val_loss[ei]; nv++;
                    vmin = fmin(vmin, h.val_loss[ei]); vmax = fmax(vmax, h.val_loss[ei]);
                }
            if (nv > 1)
                printf("               val loss over the %zu epochs with lr <= 1e-3 lr0: mean %.4f sd %.4f, %.4f..%.4f\n",
                       nv, vs / (double)nv, sqrt(fmax(vs2 / (double)nv - vs * vs / ((double)nv * nv), 0) * nv / (nv - 1)), vmin, vmax);
        }
        double a = s.r2_pos - base.r2_pos, bb = s.r2_posdir - base.r2_posdir;
        double cc = s.med - base.med, dd = s.pass_med - base.pass_med;
        d_r2 = fmin(d_r2, a); d_r2pd = fmin(d_r2pd, bb); d_med = fmax(d_med, cc); d_pass = fmax(d_pass, dd);
        s_r2 += a; s_r2pd += bb; s_med += cc; s_pass += dd;
        wins_all += a > 0 && bb > 0 && cc < 0;
        ndyn_marble_history_free(&h);
        ndyn_marble_model_free(m);
    }
    int n = o.seeds;
    printf("MARBLE - PCA over %d seeds: R2(pos) mean %+.4f worst %+.4f; R2(pos,dir) mean %+.4f worst %+.4f; "
           "median err mean %+.4f worst %+.4f m; per-pass median mean %+.4f worst %+.4f m\n",
           n, s_r2 / n, d_r2, s_r2pd / n, d_r2pd, s_med / n, d_med, s_pass / n, d_pass);
    printf("seeds where MARBLE beats PCA on R2(pos), R2(pos,dir) and median error together: %d/%d\n", wins_all, n);
    printf("seeds where MARBLE is better: (a) R2(pos) %d/%d, (b) median error %d/%d, "
           "(c) per-sample Wilcoxon lower with p < 0.05 %d/%d\n", win_r2, n, win_med, n, win_wx, n);
    {   /* across seeds: signed-rank tests of the per-seed differences against 0 */
        const double *v[3] = {seed_dmed, seed_dr2, seed_dr2pd};
        const char *nm[3] = {"median error", "R2(pos)", "R2(pos,dir)"};
        for (int q = 0; q < 3; q++) {
            ndyn_wilcoxon_result w;
            if (ndyn_wilcoxon(v[q], NULL, (size_t)n, NDYN_WILCOXON_AUTO, &w)) {
                printf("across seeds, %s: %s\n", nm[q], ndyn_errmsg());
                continue;
            }
            printf("across %d seeds, MARBLE - PCA %s: signed-rank statistic %.1f (r+ %.1f, r- %.1f), "
                   "p %.3g (%s)\n", n, nm[q], w.statistic, w.r_plus, w.r_minus, w.pvalue,
                   w.exact ? "exact" : "normal approximation");
        }
    }
    free(seed_dmed); free(seed_dr2); free(seed_dr2pd); free(err_p); free(err_m); free(dif);
    for (size_t q = 0; q < np; q++) { ndyn_marble_ops_free(ops[q]); ndyn_geom_data_free(g[q]); }
    ndyn_pca_free(pca);
    ndyn_trials_free(tr);
    free(z); free(pos); free(vel); free(lab); free(emb);
    ndyn_array_free(sp); ndyn_array_free(spd); ndyn_array_free(beh);
    return 0;
}
