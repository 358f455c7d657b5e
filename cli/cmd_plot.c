/* ndyn plot embedding|field|distances|states|reconstruction|flow|training:
 * figures from the files the other commands write (docs/FORMATS.md). Every
 * verb reads its arrays by their contract names, checks their shapes, and
 * writes one PNG, SVG or PDF chosen by the extension of --output. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "ndyn/io.h"
#include "ndyn/plot.h"

#define CMD "plot"
#define MAX_NAMES 64

/* ---------------------------------------------------------------- options */

typedef struct plot_opts {
    const char *out;
    long width, height;
    const char *title;
    const char *color;      /* embedding, field: array colouring the points */
    int continuous;         /* embedding: colour values are continuous */
    const char *array;      /* embedding: array of points */
    long dims;              /* embedding: 2 or 3 */
    double azim, elev;
    long max_points;
    char *names[MAX_NAMES]; /* --names a,b,c */
    int n_names;
    char *label_names[MAX_NAMES];
    int n_label_names;
    long trial;
    long from, to;          /* time window, -1: whole */
    long neurons[32];
    int n_neurons;
    const char *labels;     /* states: external labels FILE[:NAME] */
    int split;              /* field: one panel per condition (-1 auto) */
    long max_trials;
    int nfiles;
    char **files;
} plot_opts;

enum {
    OPT_WIDTH = 1, OPT_HEIGHT, OPT_TITLE, OPT_COLOR, OPT_CONTINUOUS, OPT_ARRAY, OPT_DIMS, OPT_VIEW,
    OPT_MAXPTS, OPT_NAMES, OPT_LABEL_NAMES, OPT_TRIAL, OPT_FROM, OPT_TO, OPT_NEURONS, OPT_LABELS,
    OPT_SPLIT, OPT_NOSPLIT, OPT_MAXTRIALS
};

static void help(FILE *f)
{
    fprintf(f,
            "Usage: ndyn plot KIND FILE... -o OUT.{png,svg,pdf} [options]\n"
            "\n"
            "Draw the outputs of ndyn as figures (format from the extension of OUT).\n"
            "\n"
            "Kinds and the arrays they read (docs/FORMATS.md):\n"
            "  embedding FILE       'emb' (n, E) of 'ndyn marble embed' (or --array), coloured by\n"
            "                       'condition', 'label' or --color; PCA when E > --dims\n"
            "  field FILE           'pos', 'vel' (n, D) vectors over positions (PCA plane when D > 2),\n"
            "                       one panel per 'condition'\n"
            "  distances FILE       'dist' (C, C) as a heatmap and its MDS ('mds' or computed)\n"
            "  states FILE          'posterior' (N, T, K) and Viterbi 'states' (N, T) of 'ndyn srnn\n"
            "                       infer' as rasters over time, with behaviour 'labels' beneath\n"
            "  reconstruction FILE... data 'y' against reconstruction 'yhat' (posterior.npz) and\n"
            "                       k-step prediction 'pred' (predict.npz) for chosen neurons\n"
            "  flow FILE            'grid', 'vel' (K, G, 2) per-state flow fields of 'ndyn srnn flow'\n"
            "                       with trajectories 'traj', 'traj_state' overlaid\n"
            "  training FILE        MODEL.history.npz: every curve against 'epoch', 'lr' apart\n"
            "  decoding FILE        METRICS.npz of 'ndyn decode': 'truth' and held-out 'pred' (n, Y)\n"
            "                       for chosen outputs, with their R\xc2\xb2\n"
            "\n"
            "Options:\n"
            "  -o, --output OUT     output figure (required): .png, .svg or .pdf\n"
            "      --width W        figure width in pixels (default: depends on the kind)\n"
            "      --height H       figure height in pixels (default: depends on the kind)\n"
            "      --title TEXT     figure title (default: none)\n"
            "      --names A,B,...  names of the conditions / states (default: file 'names', else numbers)\n"
            "      --label-names A,B,...  states: names of the behavioural labels (default: numbers)\n"
            "  embedding:\n"
            "      --array NAME     array of points (default: emb, else x, else pos)\n"
            "      --color NAME     colour by this array (default: condition, else label, else none)\n"
            "      --continuous     treat the colour array as continuous even if it holds integers\n"
            "      --dims 2|3       2-D scatter, or 3-D scatter seen from --view (default 2)\n"
            "      --view AZ,EL     3-D view azimuth and elevation in degrees (default -60,30)\n"
            "      --max-points N   draw at most N points, evenly subsampled (default 20000)\n"
            "  field:\n"
            "      --max-points N   arrows per panel, evenly subsampled (default 600)\n"
            "      --split / --no-split  one panel per condition (default: split when 2..12)\n"
            "  states, reconstruction, decoding:\n"
            "      --trial I        trial to draw (default 0)\n"
            "      --from T0, --to T1  time window [T0, T1) (decoding: samples) (default: all)\n"
            "      --labels FILE[:NAME]  states: behavioural labels from another file (default:\n"
            "                       'labels' of FILE)\n"
            "      --neurons I,J,.. reconstruction: neurons to draw (default 0,1,2)\n"
            "      --outputs I,J,.. decoding: outputs to draw (default 0,1,2)\n"
            "  flow:\n"
            "      --max-trials N   trajectories drawn per panel (default 8)\n" CLI_COMMON_HELP
            "  -h, --help           this help\n");
}

static void free_opts(plot_opts *o)
{
    for (int i = 0; i < o->n_names; i++) free(o->names[i]);
    for (int i = 0; i < o->n_label_names; i++) free(o->label_names[i]);
}

static int parse_names(const char *s, char **out, int *n, const char *opt)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (*n >= MAX_NAMES) return cli_usage(CMD, "--%s takes at most %d names", opt, MAX_NAMES);
        out[*n] = malloc(len + 1);
        if (!out[*n]) return cli_usage(CMD, "out of memory");
        memcpy(out[*n], p, len);
        out[*n][len] = 0;
        (*n)++;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* ------------------------------------------------------------ array access */

/* A float64 copy of array `name` of ds, or NULL (not an error) when absent. */
static int get_f64(const ndyn_dataset *ds, const char *file, const char *name, int required,
                   ndyn_array **out)
{
    *out = NULL;
    const ndyn_named_array *e = ndyn_dataset_find(ds, name);
    if (!e || !e->array) {
        if (!required) return NDYN_OK;
        const ndyn_array *dummy;
        int rc = ndyn_dataset_get(ds, name, &dummy); /* message listing what exists */
        return ndyn_error_context(rc ? rc : NDYN_ENOTFOUND, "%s: ", file);
    }
    if (e->array->size == 0)
        return ndyn_error(NDYN_EINVAL, "%s: array '%s' is empty", file, name);
    *out = ndyn_array_cast(e->array, NDYN_F64);
    if (!*out) return ndyn_error_context(NDYN_EINVAL, "%s: array '%s': ", file, name);
    return NDYN_OK;
}

/* Integer labels of array `name` (any integer dtype, or floats holding whole
 * numbers): values (n), NULL when absent. */
static int get_int(const ndyn_dataset *ds, const char *file, const char *name, int required, int **vals,
                   size_t *n, ndyn_array **shape_of)
{
    *vals = NULL;
    ndyn_array *a;
    int rc = get_f64(ds, file, name, required, &a);
    if (rc || !a) return rc;
    int *v = ndyn_malloc_array(a->size, sizeof(int));
    if (!v) {
        ndyn_array_free(a);
        return NDYN_ENOMEM;
    }
    const double *d = a->data;
    for (size_t i = 0; i < a->size; i++) {
        if (!isfinite(d[i]) || d[i] != floor(d[i]) || d[i] < -1 || d[i] > 1e6) {
            rc = ndyn_error(NDYN_EINVAL, "%s: '%s'[%zu] = %g is not a label (a whole number >= -1)", file, name, i,
                            d[i]);
            free(v);
            ndyn_array_free(a);
            return rc;
        }
        v[i] = (int)d[i];
    }
    *vals = v;
    *n = a->size;
    if (shape_of) *shape_of = a;
    else ndyn_array_free(a);
    return NDYN_OK;
}

static int max_int(const int *v, size_t n)
{
    int m = -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* Names for categories 0..n-1: --names, else a text entry 'names' of the
 * file (one per line or comma-separated), else none. */
static int names_from(const plot_opts *o, const ndyn_dataset *ds, char **buf, const char **names, int n)
{
    for (int i = 0; i < n; i++) names[i] = NULL;
    if (o->n_names) {
        for (int i = 0; i < n && i < o->n_names; i++) names[i] = o->names[i];
        return 0;
    }
    const ndyn_named_array *e = ds ? ndyn_dataset_find(ds, "names") : NULL;
    if (!e || !e->text) return 0;
    *buf = strdup(e->text);
    if (!*buf) return 0;
    /* a NumPy string array arrives as its strings joined by newlines */
    const char *sep = strchr(*buf, '\n') ? "\n" : ",";
    char *save = NULL, *tok = strtok_r(*buf, sep, &save);
    for (int i = 0; tok && i < n; i++, tok = strtok_r(NULL, sep, &save)) names[i] = tok;
    return 0;
}

/* Scores z (n, k) of x (n, d) on its first k principal axes, for drawing;
 * components (k, d) (may be NULL) and the fraction of the variance of each
 * axis, explained (k). Fewer points than axes (n < k) leave the axes past
 * n, along which such data have no variance, at 0. */
static int pca_project(const double *x, size_t n, size_t d, size_t k, double *z, double *components,
                       double *explained)
{
    size_t kf = k < n ? k : n;
    ndyn_pca *p = NULL;
    double *zf = kf < k ? malloc(n * kf * sizeof(double)) : z;
    if (!zf) return ndyn_error(NDYN_ENOMEM, "out of memory");
    int rc = ndyn_pca_fit(x, n, d, kf, &p);
    if (!rc) rc = ndyn_pca_transform(p, x, n, zf);
    if (!rc) {
        for (size_t c = 0; c < k; c++) {
            explained[c] = c < kf ? p->explained_variance_ratio[c] : 0;
            if (components) {
                if (c < kf) memcpy(components + c * d, p->components + c * d, d * sizeof(double));
                else memset(components + c * d, 0, d * sizeof(double));
            }
        }
        if (zf != z)
            for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < k; c++) z[i * k + c] = c < kf ? zf[i * kf + c] : 0;
    }
    if (zf != z) free(zf);
    ndyn_pca_free(p);
    return rc;
}

static int new_figure(const plot_opts *o, int dw, int dh, int rows, int cols, ndyn_plot_figure **f)
{
    int rc = ndyn_plot_figure_new(o->width ? (int)o->width : dw, o->height ? (int)o->height : dh, rows, cols, f);
    if (!rc && o->title) rc = ndyn_plot_figure_set_title(*f, o->title);
    return rc;
}

/* Draw a curve through the finite points of y (stride apart): NaN marks
 * values that do not exist (a validation loss computed every few epochs, a
 * k-step prediction before step k), so the line joins the points around them.
 * A single finite point is drawn as a dot. */
static int line_finite_runs(ndyn_plot_axes *ax, const double *x, const double *y, size_t n,
                            const ndyn_plot_style *s0, size_t stride)
{
    double *xx = malloc(2 * n * sizeof(double));
    if (!xx) return ndyn_error(NDYN_ENOMEM, "out of memory");
    double *yy = xx + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i * stride])) {
            xx[m] = x[i];
            yy[m++] = y[i * stride];
        }
    int rc;
    if (m >= 2) rc = ndyn_plot_line(ax, xx, yy, m, s0);
    else if (m == 1) {
        ndyn_plot_style d = *s0;
        d.size = 2 * s0->size + 3;
        rc = ndyn_plot_scatter(ax, xx, yy, 1, &d);
    } else
        rc = ndyn_error(NDYN_ENONFINITE, "curve '%s' has no finite values", s0->label ? s0->label : "?");
    free(xx);
    return rc;
}

/* ---------------------------------------------------------------- embedding */

static int plot_embedding(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_array *x = NULL, *cval = NULL;
    int *cat = NULL;
    double *pts = NULL, *sub = NULL, *subc = NULL;
    int *subk = NULL;
    char *nbuf = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    const char *an = o->array;
    if (!an) an = ndyn_dataset_find(ds, "emb") ? "emb" : ndyn_dataset_find(ds, "x") ? "x" : "pos";
    if ((rc = get_f64(ds, file, an, 1, &x))) goto fail;
    if (x->ndim == 3) { /* (N, T, E): flatten trials */
        size_t sh[2] = {x->shape[0] * x->shape[1], x->shape[2]};
        ndyn_array_reshape(x, 2, sh);
    }
    if (x->ndim != 2 || x->shape[1] < 2) {
        char b[64];
        rc = ndyn_error(NDYN_ESHAPE, "%s: '%s' has shape %s; need (n, E) with E >= 2", file, an,
                        ndyn_shape_str(x, b, sizeof b));
        goto fail;
    }
    size_t n = x->shape[0], E = x->shape[1], k = (size_t)o->dims;
    if ((rc = ndyn_array_check_finite(x, an))) goto fail;
    if (k > E) {
        rc = ndyn_error(NDYN_EINVAL, "--dims %zu but '%s' has only %zu dimensions", k, an, E);
        goto fail;
    }
    /* colouring */
    const char *cn = o->color;
    if (!cn) cn = ndyn_dataset_find(ds, "condition") ? "condition" : ndyn_dataset_find(ds, "label") ? "label" : NULL;
    int ncat = 0;
    if (cn && strcmp(cn, "none")) {
        const ndyn_named_array *e = ndyn_dataset_find(ds, cn);
        if (!e || !e->array) {
            const ndyn_array *d;
            rc = ndyn_error_context(ndyn_dataset_get(ds, cn, &d), "%s: colour array: ", file);
            goto fail;
        }
        if (e->array->size != n) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: colour array '%s' has %zu values but '%s' has %zu points", file, cn,
                            e->array->size, an, n);
            goto fail;
        }
        int integral = ndyn_dtype_is_int(e->array->dtype) && !o->continuous;
        if (integral) {
            size_t nn;
            if ((rc = get_int(ds, file, cn, 1, &cat, &nn, NULL))) goto fail;
            ncat = max_int(cat, n) + 1;
            if (ncat > 64) { /* too many for a legend: continuous */
                free(cat);
                cat = NULL;
                integral = 0;
            }
        }
        if (!integral) {
            if ((rc = get_f64(ds, file, cn, 1, &cval))) goto fail;
            if ((rc = ndyn_array_check_finite(cval, cn))) goto fail;
        }
    } else cn = NULL;
    /* reduce */
    pts = malloc(n * k * sizeof(double));
    double expl[3] = {0, 0, 0};
    if (!pts) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    int pca = E > k;
    if (pca) {
        if ((rc = pca_project(x->data, n, E, k, pts, NULL, expl))) goto fail;
    } else {
        memcpy(pts, x->data, n * k * sizeof(double));
    }
    /* subsample evenly */
    size_t step = o->max_points > 0 && n > (size_t)o->max_points ? (n + (size_t)o->max_points - 1) / (size_t)o->max_points : 1;
    size_t m = (n + step - 1) / step;
    sub = malloc(m * 3 * sizeof(double));
    subc = malloc(m * sizeof(double));
    subk = malloc(m * sizeof(int));
    if (!sub || !subc || !subk) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0, j = 0; i < n; i += step, j++) {
        for (size_t d = 0; d < k; d++) sub[d * m + j] = pts[i * k + d];
        if (cval) subc[j] = ((double *)cval->data)[i];
        if (cat) subk[j] = cat[i];
    }
    const char *names[MAX_NAMES];
    names_from(o, ds, &nbuf, names, ncat < MAX_NAMES ? ncat : MAX_NAMES);
    if ((rc = new_figure(o, k == 3 ? 760 : 780, 640, 1, 1, &f))) goto fail;
    ndyn_plot_axes *ax;
    if ((rc = ndyn_plot_figure_panel(f, 0, 0, 1, 1, &ax))) goto fail;
    char lab[3][64], title[160];
    for (size_t d = 0; d < k; d++) {
        if (pca) snprintf(lab[d], sizeof lab[d], "PC%zu (%.0f%% of variance)", d + 1, 100 * expl[d]);
        else snprintf(lab[d], sizeof lab[d], "%s %zu", an, d + 1);
    }
    snprintf(title, sizeof title, "%s: %zu points%s%s%s", an, n, step > 1 ? " (subsampled)" : "",
             cn ? ", coloured by " : "", cn ? cn : "");
    if ((rc = ndyn_plot_axes_set_labels(ax, title, lab[0], lab[1]))) goto fail;
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.size = m < 500 ? 7 : m < 5000 ? 4.5 : 3;
    s.alpha = m < 2000 ? 1.0 : 0.7;
    if (cat) {
        s.category = subk;
        s.n_categories = ncat;
        s.category_names = names;
    } else if (cval) {
        s.values = subc;
        s.colorbar = cn;
    }
    if (k == 3) {
        if ((rc = ndyn_plot_axes_set_view3d(ax, o->azim, o->elev))) goto fail;
        if ((rc = ndyn_plot_axes_set_zlabel(ax, lab[2]))) goto fail;
        rc = ndyn_plot_scatter3(ax, sub, sub + m, sub + 2 * m, m, &s);
    } else {
        ndyn_plot_axes_set_equal(ax, pca);
        rc = ndyn_plot_scatter(ax, sub, sub + m, m, &s);
    }
    if (!rc) rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_array_free(x);
    ndyn_array_free(cval);
    free(cat);
    free(pts);
    free(sub);
    free(subc);
    free(subk);
    free(nbuf);
    return rc;
}

/* -------------------------------------------------------------------- field */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void grid_shape(int panels, int *rows, int *cols)
{
    *cols = panels <= 3 ? panels : panels <= 4 ? 2 : panels <= 9 ? 3 : 4;
    *rows = (panels + *cols - 1) / *cols;
}

static int plot_field(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_array *pos = NULL, *vel = NULL;
    int *cond = NULL;
    double *p2 = NULL, *v2 = NULL, *buf = NULL;
    char *nbuf = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    if ((rc = get_f64(ds, file, "pos", 1, &pos)) || (rc = get_f64(ds, file, "vel", 1, &vel))) goto fail;
    char b1[64], b2[64];
    if (pos->ndim != 2 || vel->ndim != 2 || pos->shape[0] != vel->shape[0] || pos->shape[1] != vel->shape[1] ||
        pos->shape[1] < 2) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'pos' %s and 'vel' %s must both be (n, D) with D >= 2", file,
                        ndyn_shape_str(pos, b1, sizeof b1), ndyn_shape_str(vel, b2, sizeof b2));
        goto fail;
    }
    if ((rc = ndyn_array_check_finite(pos, "pos")) || (rc = ndyn_array_check_finite(vel, "vel"))) goto fail;
    size_t n = pos->shape[0], D = pos->shape[1], nc = 0;
    const char *cn = o->color ? o->color : "condition";
    if ((rc = get_int(ds, file, cn, o->color != NULL, &cond, &nc, NULL))) goto fail;
    if (cond && nc != n) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: '%s' has %zu values but 'pos' has %zu points", file, cn, nc, n);
        goto fail;
    }
    int C = cond ? max_int(cond, n) + 1 : 1;
    if (C > MAX_NAMES) {
        rc = ndyn_error(NDYN_EINVAL, "%s: %d conditions; at most %d can be drawn", file, C, MAX_NAMES);
        goto fail;
    }
    p2 = malloc(n * 2 * sizeof(double));
    v2 = malloc(n * 2 * sizeof(double));
    buf = malloc(n * 4 * sizeof(double));
    if (!p2 || !v2 || !buf) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    double expl[2] = {1, 1};
    const double *P = pos->data, *V = vel->data;
    if (D > 2) { /* PCA plane of the positions; velocities projected on the same axes */
        double *W = malloc(2 * D * sizeof(double));
        if (!W) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            goto fail;
        }
        rc = pca_project(P, n, D, 2, p2, W, expl);
        for (size_t i = 0; !rc && i < n; i++)
            for (int a = 0; a < 2; a++) {
                double s = 0;
                for (size_t j = 0; j < D; j++) s += V[i * D + j] * W[a * D + j];
                v2[i * 2 + a] = s;
            }
        free(W);
        if (rc) goto fail;
    } else {
        memcpy(p2, P, n * 2 * sizeof(double));
        memcpy(v2, V, n * 2 * sizeof(double));
    }
    int split = o->split >= 0 ? o->split : (cond && C >= 2 && C <= 12);
    int panels = split ? C : 1, rows, cols;
    grid_shape(panels, &rows, &cols);
    const char *names[MAX_NAMES];
    names_from(o, ds, &nbuf, names, C);
    if ((rc = new_figure(o, cols * 440, rows * 400 + 10, rows, cols, &f))) goto fail;
    /* common limits and arrow scale so panels compare */
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        for (int a = 0; a < 2; a++) {
            if (p2[2 * i + a] < lo[a]) lo[a] = p2[2 * i + a];
            if (p2[2 * i + a] > hi[a]) hi[a] = p2[2 * i + a];
        }
        buf[i] = hypot(v2[2 * i], v2[2 * i + 1]);
    }
    /* arrow scale from the 90th percentile of the speeds, so that a few fast
       points do not shrink every other arrow to nothing */
    qsort(buf, n, sizeof(double), cmp_double);
    double vmax = buf[(size_t)(0.9 * (double)(n - 1))];
    size_t per = (size_t)(o->max_points > 0 ? o->max_points : 600);
    double area = (hi[0] - lo[0]) * (hi[1] - lo[1]);
    double spacing = area > 0 ? sqrt(area / (double)(n / panels < per ? n / panels + 1 : per)) : 1;
    double scale = vmax > 0 ? 0.9 * spacing / vmax : 1;
    for (int pnl = 0; pnl < panels; pnl++) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, pnl / cols, pnl % cols, 1, 1, &ax))) goto fail;
        size_t m = 0, cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += !split || cond[i] == pnl;
        size_t step = cnt > per ? (cnt + per - 1) / per : 1;
        double *bx = buf, *by = buf + n, *bu = buf + 2 * n, *bv = buf + 3 * n;
        int *bk = malloc(n * sizeof(int));
        if (!bk) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0, seen = 0; i < n; i++) {
            if (split && cond[i] != pnl) continue;
            if (seen++ % step) continue;
            bx[m] = p2[2 * i];
            by[m] = p2[2 * i + 1];
            bu[m] = v2[2 * i];
            bv[m] = v2[2 * i + 1];
            bk[m] = cond ? cond[i] : 0;
            m++;
        }
        char title[128], xl[64], yl[64];
        if (split) snprintf(title, sizeof title, "%s", names[pnl] ? names[pnl] : "");
        if (split && !names[pnl]) snprintf(title, sizeof title, "%s %d", cn, pnl);
        if (!split) snprintf(title, sizeof title, "vector field (%zu of %zu arrows)", m, n);
        if (D > 2) {
            snprintf(xl, sizeof xl, "PC1 of pos (%.0f%%)", 100 * expl[0]);
            snprintf(yl, sizeof yl, "PC2 of pos (%.0f%%)", 100 * expl[1]);
        } else {
            snprintf(xl, sizeof xl, "pos 1");
            snprintf(yl, sizeof yl, "pos 2");
        }
        rc = ndyn_plot_axes_set_labels(ax, title, xl, yl);
        if (!rc) rc = ndyn_plot_axes_set_xlim(ax, lo[0] - 0.05 * (hi[0] - lo[0]) - 1e-12, hi[0] + 0.05 * (hi[0] - lo[0]) + 1e-12);
        if (!rc) rc = ndyn_plot_axes_set_ylim(ax, lo[1] - 0.05 * (hi[1] - lo[1]) - 1e-12, hi[1] + 0.05 * (hi[1] - lo[1]) + 1e-12);
        ndyn_plot_axes_set_equal(ax, 1);
        ndyn_plot_style s;
        ndyn_plot_style_default(&s);
        s.size = 1.4;
        s.scale = scale;
        if (cond) {
            s.category = bk;
            s.n_categories = C;
            s.category_names = names;
        }
        if (split) ndyn_plot_axes_set_legend(ax, 0);
        if (!rc && m) rc = ndyn_plot_quiver(ax, bx, by, bu, bv, m, &s);
        free(bk);
        if (rc) goto fail;
    }
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_array_free(pos);
    ndyn_array_free(vel);
    free(cond);
    free(p2);
    free(v2);
    free(buf);
    free(nbuf);
    return rc;
}

/* ---------------------------------------------------------------- distances */

/* Classical MDS of the conditions, coords (C, 2), from dist (C, C) already
 * checked symmetric to a relative 1e-6: the mean of the two halves, with a
 * zero diagonal, goes to ndyn_mds_classical. */
static int mds_plane(const double *dist, size_t C, double *coords)
{
    double *d = malloc(C * C * sizeof(double));
    if (!d) return ndyn_error(NDYN_ENOMEM, "out of memory");
    for (size_t i = 0; i < C; i++)
        for (size_t j = 0; j < C; j++) d[i * C + j] = i == j ? 0 : 0.5 * (dist[i * C + j] + dist[j * C + i]);
    int rc = ndyn_mds_classical(d, C, 2, coords, NULL, NULL);
    free(d);
    return rc;
}

static int plot_distances(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_array *dist = NULL, *mds = NULL;
    double *coords = NULL;
    char *nbuf = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    if ((rc = get_f64(ds, file, "dist", 1, &dist))) goto fail;
    char b[64];
    if (dist->ndim != 2 || dist->shape[0] != dist->shape[1]) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'dist' has shape %s; need a square (C, C) matrix", file,
                        ndyn_shape_str(dist, b, sizeof b));
        goto fail;
    }
    if ((rc = ndyn_array_check_finite(dist, "dist"))) goto fail;
    size_t C = dist->shape[0];
    if (C > MAX_NAMES) {
        rc = ndyn_error(NDYN_EINVAL, "%s: %zu conditions; at most %d can be drawn", file, C, MAX_NAMES);
        goto fail;
    }
    const double *D = dist->data;
    for (size_t i = 0; i < C; i++)
        for (size_t j = 0; j < C; j++)
            if (fabs(D[i * C + j] - D[j * C + i]) > 1e-6 * (fabs(D[i * C + j]) + 1e-12) + 1e-12) {
                rc = ndyn_error(NDYN_EINVAL, "%s: 'dist' is not symmetric: [%zu,%zu] = %g but [%zu,%zu] = %g", file, i,
                                j, D[i * C + j], j, i, D[j * C + i]);
                goto fail;
            }
    coords = calloc(C * 2, sizeof(double));
    if (!coords) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = get_f64(ds, file, "mds", 0, &mds))) goto fail;
    if (mds) {
        if (mds->ndim != 2 || mds->shape[0] != C || mds->shape[1] < 1) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: 'mds' has shape %s; need (%zu, 2)", file, ndyn_shape_str(mds, b, sizeof b), C);
            goto fail;
        }
        if ((rc = ndyn_array_check_finite(mds, "mds"))) goto fail;
        for (size_t i = 0; i < C; i++) {
            coords[2 * i] = ((double *)mds->data)[i * mds->shape[1]];
            coords[2 * i + 1] = mds->shape[1] > 1 ? ((double *)mds->data)[i * mds->shape[1] + 1] : 0;
        }
    } else if (C >= 2) {
        if ((rc = mds_plane(D, C, coords))) goto fail;
    }
    const char *names[MAX_NAMES];
    char defn[MAX_NAMES][16];
    names_from(o, ds, &nbuf, names, (int)C);
    for (size_t i = 0; i < C; i++)
        if (!names[i]) {
            snprintf(defn[i], sizeof defn[i], "%zu", i);
            names[i] = defn[i];
        }
    if ((rc = new_figure(o, 1100, 500, 1, 2, &f))) goto fail;
    ndyn_plot_axes *ha, *ma;
    if ((rc = ndyn_plot_figure_panel(f, 0, 0, 1, 1, &ha)) || (rc = ndyn_plot_figure_panel(f, 0, 1, 1, 1, &ma)))
        goto fail;
    if ((rc = ndyn_plot_heatmap(ha, D, C, C, NULL, 0, 0, "distance"))) goto fail;
    ndyn_plot_axes_set_equal(ha, 1);
    double tp[MAX_NAMES], tq[MAX_NAMES];
    const char *tl[MAX_NAMES];
    /* at most 24 labelled ticks, evenly spaced over the conditions */
    size_t step = (C + 23) / 24, nt = 0;
    for (size_t i = 0; i < C; i += step, nt++) {
        tp[nt] = i + 0.5;         /* column i */
        tq[nt] = C - i - 0.5;     /* row i (row 0 at the top) */
        tl[nt] = names[i];
    }
    if ((rc = ndyn_plot_axes_set_ticks(ha, 'x', nt, tp, tl)) || (rc = ndyn_plot_axes_set_ticks(ha, 'y', nt, tq, tl)))
        goto fail;
    if ((rc = ndyn_plot_axes_set_labels(ha, "distance between conditions", "condition", "condition"))) goto fail;
    int *cat = malloc(C * sizeof(int));
    double *mx = malloc(C * sizeof(double)), *my = malloc(C * sizeof(double));
    if (!cat || !mx || !my) {
        free(cat), free(mx), free(my);
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    double *ci = malloc(C * sizeof(double));
    if (!ci) {
        free(cat), free(mx), free(my);
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < C; i++) {
        cat[i] = (int)i;
        ci[i] = (double)i;
        mx[i] = coords[2 * i];
        my[i] = coords[2 * i + 1];
    }
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    if (C <= 10) { /* one palette colour and legend entry per condition */
        s.category = cat;
        s.n_categories = (int)C;
        s.category_names = names;
    } else { /* more conditions than palette colours: viridis by condition index */
        s.values = ci;
        s.colorbar = "condition";
    }
    s.size = 12;
    rc = ndyn_plot_scatter(ma, mx, my, C, &s);
    free(cat);
    free(ci);
    free(mx);
    free(my);
    if (rc) goto fail;
    ndyn_plot_axes_set_equal(ma, 1);
    if ((rc = ndyn_plot_axes_set_labels(ma, mds ? "MDS of the distances" : "classical MDS of the distances", "MDS 1",
                                        "MDS 2")))
        goto fail;
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_array_free(dist);
    ndyn_array_free(mds);
    free(coords);
    free(nbuf);
    return rc;
}

/* ------------------------------------------------------------------- states */

/* The channels to draw: --neurons (also spelled --outputs) or the first three of Y. */
static int pick_channels(const plot_opts *o, size_t Y, const char *what, long *ch, int *n)
{
    int m = o->n_neurons;
    if (m) memcpy(ch, o->neurons, sizeof(long) * (size_t)m);
    else
        for (m = 0; m < 3 && (size_t)m < Y; m++) ch[m] = m;
    *n = m;
    for (int i = 0; i < m; i++)
        if ((size_t)ch[i] >= Y)
            return ndyn_error(NDYN_EINVAL, "%s %ld but the data have %zu (0..%zu)", what, ch[i], Y, Y - 1);
    return 0;
}

/* Time window [t0, t1) of a trial of length T from --from/--to. */
static int window(const plot_opts *o, size_t T, size_t *t0, size_t *t1, size_t limit)
{
    *t0 = o->from >= 0 ? (size_t)o->from : 0;
    *t1 = o->to >= 0 ? (size_t)o->to : T;
    if (*t1 > T) *t1 = T;
    if (*t0 + 2 > *t1)
        return ndyn_error(NDYN_EINVAL, "time window [%zu, %zu) of a trial of %zu steps is empty; change --from/--to",
                          *t0, *t1, T);
    if (*t1 - *t0 > limit)
        return ndyn_error(NDYN_EINVAL, "time window of %zu steps is too long to draw; choose at most %zu with --from/--to",
                          *t1 - *t0, limit);
    return NDYN_OK;
}

/* Trial count and length of an (N, T, ...) or (T, ...) array with `extra` trailing axes. */
static int trials_of(const ndyn_array *a, int extra, const char *file, const char *name, size_t *N, size_t *T)
{
    char b[64];
    if (a->ndim == 2 + extra) {
        *N = a->shape[0];
        *T = a->shape[1];
    } else if (a->ndim == 1 + extra) {
        *N = 1;
        *T = a->shape[0];
    } else
        return ndyn_error(NDYN_ESHAPE, "%s: '%s' has shape %s; need (N, T%s) or (T%s)", file, name,
                          ndyn_shape_str(a, b, sizeof b), extra ? ", ..." : "", extra ? ", ..." : "");
    return NDYN_OK;
}

static int plot_states(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_dataset *lds = NULL;
    ndyn_array *post = NULL, *lshape = NULL, *sshape = NULL;
    int *states = NULL, *labels = NULL, *smap = NULL;
    double *heat = NULL;
    int *strip = NULL;
    char *nbuf = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    size_t N = 0, T = 0, K = 0, ns = 0, nl = 0, nm = 0, N2 = 0, T2 = 0;
    if ((rc = get_f64(ds, file, "posterior", 0, &post))) goto fail;
    if ((rc = get_int(ds, file, "states", post == NULL, &states, &ns, &sshape))) goto fail;
    if (post) {
        if ((rc = trials_of(post, 1, file, "posterior", &N, &T))) goto fail;
        K = post->shape[post->ndim - 1];
        if ((rc = ndyn_array_check_finite(post, "posterior"))) goto fail;
    }
    if (states) {
        if ((rc = trials_of(sshape, 0, file, "states", &N2, &T2))) goto fail;
        if (post && (N2 != N || T2 != T)) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: 'states' is %zu x %zu but 'posterior' is %zu x %zu x %zu", file, N2, T2, N, T, K);
            goto fail;
        }
        N = N2;
        T = T2;
        int ks = max_int(states, ns) + 1;
        if ((size_t)ks > K) K = (size_t)ks;
    }
    if (K < 1 || K > MAX_NAMES) {
        rc = ndyn_error(NDYN_EINVAL, "%s: %zu states; need 1..%d", file, K, MAX_NAMES);
        goto fail;
    }
    /* labels: --labels FILE[:NAME], else the file's 'labels' */
    const char *lfile = file;
    char *lspec = NULL;
    const char *lname = "labels";
    if (o->labels) {
        lspec = strdup(o->labels);
        char *colon = lspec ? strrchr(lspec, ':') : NULL;
        if (colon) {
            *colon = 0;
            lname = colon + 1;
        } else lname = NULL;
        lfile = lspec;
        rc = ndyn_dataset_load(lfile, &lds);
        if (!rc && !lname) lname = ndyn_dataset_find(lds, "labels") ? "labels" : "states";
        if (!rc) rc = get_int(lds, lfile, lname, 1, &labels, &nl, &lshape);
    } else {
        rc = get_int(ds, file, "labels", 0, &labels, &nl, &lshape);
    }
    if (rc) {
        free(lspec);
        goto fail;
    }
    if (labels) {
        if ((rc = trials_of(lshape, 0, lfile, lname, &N2, &T2)) || N2 != N || T2 != T) {
            if (!rc) rc = ndyn_error(NDYN_ESHAPE, "%s: labels '%s' are %zu x %zu but the states are %zu x %zu", lfile, lname, N2, T2, N, T);
            free(lspec);
            goto fail;
        }
    }
    free(lspec);
    if ((size_t)o->trial >= N) {
        rc = ndyn_error(NDYN_EINVAL, "--trial %ld but the file has %zu trials", o->trial, N);
        goto fail;
    }
    size_t t0, t1;
    if ((rc = window(o, T, &t0, &t1, 32767))) goto fail;
    size_t W = t1 - t0, tr = (size_t)o->trial;
    int L = labels ? max_int(labels, nl) + 1 : 0;
    if (L > MAX_NAMES) {
        rc = ndyn_error(NDYN_EINVAL, "%d behavioural labels; at most %d can be drawn", L, MAX_NAMES);
        goto fail;
    }
    if ((rc = get_int(ds, file, "state_map", 0, &smap, &nm, NULL))) goto fail;
    if (smap && nm != K) {
        free(smap);
        smap = NULL;
    }
    int rows = (post ? 2 : 0) + (states ? 1 : 0) + (labels ? 1 : 0);
    if ((rc = new_figure(o, 1100, 130 + 110 * rows, rows, 1, &f))) goto fail;
    ndyn_plot_figure_set_align(f, 1);
    int row = 0;
    double ext[4] = {(double)t0, (double)t1, 0, 1};
    const char *snames[MAX_NAMES], *lnames[MAX_NAMES];
    char sbuf[MAX_NAMES][64];
    names_from(o, ds, &nbuf, snames, (int)K);
    for (int i = 0; i < L; i++) lnames[i] = i < o->n_label_names ? o->label_names[i] : NULL;
    char lbuf[MAX_NAMES][32];
    for (int i = 0; i < L; i++)
        if (!lnames[i]) {
            snprintf(lbuf[i], sizeof lbuf[i], "label %d", i);
            lnames[i] = lbuf[i];
        }
    for (size_t k = 0; k < K; k++) {
        const char *base = snames[k];
        char tmp[32];
        if (!base) {
            snprintf(tmp, sizeof tmp, "state %zu", k);
            base = tmp;
        }
        if (smap && smap[k] >= 0 && smap[k] < L) snprintf(sbuf[k], sizeof sbuf[k], "%s (%s)", base, lnames[smap[k]]);
        else snprintf(sbuf[k], sizeof sbuf[k], "%s", base);
        snames[k] = sbuf[k];
    }
    heat = malloc(K * W * sizeof(double));
    strip = malloc(W * sizeof(int));
    if (!heat || !strip) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    if (post) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, row, 0, 2, 1, &ax))) goto fail;
        row += 2;
        const double *P = post->data;
        for (size_t k = 0; k < K; k++)
            for (size_t t = 0; t < W; t++) heat[k * W + t] = P[(tr * T + t0 + t) * K + k];
        double e2[4] = {(double)t0, (double)t1, 0, (double)K};
        if ((rc = ndyn_plot_heatmap(ax, heat, K, W, e2, 0, 1, "posterior probability"))) goto fail;
        double tq[MAX_NAMES];
        const char *tl[MAX_NAMES];
        for (size_t k = 0; k < K && k < 24; k++) {
            tq[k] = K - k - 0.5;
            tl[k] = snames[k];
        }
        if ((rc = ndyn_plot_axes_set_ticks(ax, 'y', K < 24 ? K : 24, tq, tl))) goto fail;
        char title[160];
        int tl_ = snprintf(title, sizeof title, "trial %zu: posterior state probabilities", tr);
        const ndyn_named_array *se = ndyn_dataset_find(ds, "state_error");
        if (se && se->array && se->array->size == 1)
            snprintf(title + tl_, sizeof title - (size_t)tl_, "   (state error %.3f, all trials)",
                     ndyn_array_get(se->array, 0));
        if ((rc = ndyn_plot_axes_set_labels(ax, title, row == rows ? "time step" : "", ""))) goto fail;
    }
    if (states) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, row++, 0, 1, 1, &ax))) goto fail;
        int ncol = (int)K;
        for (size_t t = 0; t < W; t++) {
            int s = states[tr * T + t0 + t];
            strip[t] = s;
        }
        if (smap) { /* colour states by the label they are matched to, so the strips agree */
            ncol = L > (int)K ? L : (int)K;
            for (size_t t = 0; t < W; t++) strip[t] = strip[t] >= 0 && smap[strip[t]] >= 0 ? smap[strip[t]] : strip[t];
        }
        const char *leg[MAX_NAMES];
        for (int i = 0; i < ncol; i++) leg[i] = NULL;
        for (size_t k = 0; k < K; k++) {
            int c = smap && smap[k] >= 0 ? smap[k] : (int)k;
            if (c < ncol) leg[c] = snames[k];
        }
        if ((rc = ndyn_plot_heatmap_categories(ax, strip, 1, W, ext, ncol, leg))) goto fail;
        if ((rc = ndyn_plot_axes_set_ticks(ax, 'y', 0, NULL, NULL))) goto fail;
        if ((rc = ndyn_plot_axes_set_labels(ax, post ? "" : "Viterbi states", row == rows ? "time step" : "", "Viterbi")))
            goto fail;
    }
    if (labels) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, row++, 0, 1, 1, &ax))) goto fail;
        for (size_t t = 0; t < W; t++) strip[t] = labels[tr * T + t0 + t];
        if ((rc = ndyn_plot_heatmap_categories(ax, strip, 1, W, ext, L, lnames))) goto fail;
        if ((rc = ndyn_plot_axes_set_ticks(ax, 'y', 0, NULL, NULL))) goto fail;
        if ((rc = ndyn_plot_axes_set_labels(ax, "", "time step", "behaviour"))) goto fail;
    }
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_dataset_free(lds);
    ndyn_array_free(post);
    ndyn_array_free(lshape);
    ndyn_array_free(sshape);
    free(states);
    free(labels);
    free(smap);
    free(heat);
    free(strip);
    free(nbuf);
    return rc;
}

/* ----------------------------------------------------------- reconstruction */

/* R² over the finite pairs of a and b (stride apart). */
static double r2_finite(const double *y, const double *p, size_t n, size_t stride)
{
    double m = 0, cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p[i * stride])) {
            m += y[i * stride];
            cnt++;
        }
    if (cnt < 2) return NAN;
    m /= cnt;
    double ss = 0, st = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p[i * stride])) {
            double e = y[i * stride] - p[i * stride], d = y[i * stride] - m;
            ss += e * e;
            st += d * d;
        }
    return st > 0 ? 1 - ss / st : NAN;
}

static int plot_reconstruction(const plot_opts *o)
{
    if (o->nfiles < 1) return -cli_usage(CMD, "reconstruction needs at least one input file");
    ndyn_dataset *dss[4] = {0};
    ndyn_array *y = NULL, *yhat = NULL, *pred = NULL, *kk = NULL;
    double *tx = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    if (o->nfiles > 4) return -cli_usage(CMD, "reconstruction takes at most 4 files");
    const char *yfile = NULL, *hfile = NULL, *pfile = NULL;
    for (int i = 0; i < o->nfiles && !rc; i++) {
        if ((rc = ndyn_dataset_load(o->files[i], &dss[i]))) break;
        if (!y && ndyn_dataset_find(dss[i], "y")) {
            rc = get_f64(dss[i], o->files[i], "y", 1, &y);
            yfile = o->files[i];
        }
        if (!rc && !yhat && ndyn_dataset_find(dss[i], "yhat")) {
            rc = get_f64(dss[i], o->files[i], "yhat", 1, &yhat);
            hfile = o->files[i];
        }
        if (!rc && !pred && ndyn_dataset_find(dss[i], "pred")) {
            rc = get_f64(dss[i], o->files[i], "pred", 1, &pred);
            pfile = o->files[i];
            if (!rc) rc = get_f64(dss[i], o->files[i], "k", 0, &kk);
        }
    }
    if (rc) goto fail;
    if (!y) {
        rc = ndyn_error(NDYN_ENOTFOUND, "none of the input files holds the data 'y' (give predict.npz or the data file too)");
        goto fail;
    }
    if (!yhat && !pred) {
        rc = ndyn_error(NDYN_ENOTFOUND, "none of the input files holds 'yhat' (posterior.npz of 'ndyn srnn infer') or 'pred' (predict.npz of 'ndyn srnn predict')");
        goto fail;
    }
    size_t N = 0, T = 0, Y = y->shape[y->ndim - 1], N2 = 0, T2 = 0;
    if ((rc = trials_of(y, 1, yfile, "y", &N, &T))) goto fail;
    if ((rc = ndyn_array_check_finite(y, "y"))) goto fail;
    ndyn_array *cmp[2] = {yhat, pred};
    const char *cf[2] = {hfile, pfile}, *cname[2] = {"yhat", "pred"};
    for (int c = 0; c < 2; c++) {
        if (!cmp[c]) continue;
        if ((rc = trials_of(cmp[c], 1, cf[c], cname[c], &N2, &T2))) goto fail;
        if (N2 != N || T2 != T || cmp[c]->shape[cmp[c]->ndim - 1] != Y) {
            char b1[64], b2[64];
            rc = ndyn_error(NDYN_ESHAPE, "'%s' of %s has shape %s but the data 'y' of %s has %s", cname[c], cf[c],
                            ndyn_shape_str(cmp[c], b1, sizeof b1), yfile, ndyn_shape_str(y, b2, sizeof b2));
            goto fail;
        }
        const double *d = cmp[c]->data;
        for (size_t i = 0; i < cmp[c]->size; i++)
            if (isinf(d[i])) {
                rc = ndyn_error(NDYN_ENONFINITE, "'%s' of %s holds an infinite value at %zu", cname[c], cf[c], i);
                goto fail;
            }
    }
    if (yhat) { /* NaN is allowed only in pred (t < k) */
        if ((rc = ndyn_array_check_finite(yhat, "yhat"))) goto fail;
    }
    if ((size_t)o->trial >= N) {
        rc = ndyn_error(NDYN_EINVAL, "--trial %ld but the data have %zu trials", o->trial, N);
        goto fail;
    }
    size_t t0, t1;
    if ((rc = window(o, T, &t0, &t1, 2000000))) goto fail;
    long neurons[32];
    int nn;
    if ((rc = pick_channels(o, Y, "--neurons: neuron", neurons, &nn))) goto fail;
    size_t W = t1 - t0, tr = (size_t)o->trial;
    tx = malloc(W * sizeof(double));
    if (!tx) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t t = 0; t < W; t++) tx[t] = (double)(t0 + t);
    if ((rc = new_figure(o, 1000, 70 + 210 * nn, nn, 1, &f))) goto fail;
    ndyn_plot_figure_set_align(f, 1);
    long kval = kk && kk->size ? (long)((double *)kk->data)[0] : 0;
    char plab[48];
    if (kval > 0) snprintf(plab, sizeof plab, "%ld-step prediction", kval);
    else snprintf(plab, sizeof plab, "k-step prediction");
    for (int i = 0; i < nn; i++) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, i, 0, 1, 1, &ax))) goto fail;
        size_t j = (size_t)neurons[i];
        size_t off = (tr * T + t0) * Y + j;
        const double *yd = (const double *)y->data + off;
        char title[160], ylab[32];
        int len = snprintf(title, sizeof title, "trial %zu, neuron %zu", tr, j);
        if (yhat) len += snprintf(title + len, sizeof title - (size_t)len, "   R\xc2\xb2 reconstruction %.3f",
                                  r2_finite(yd, (const double *)yhat->data + off, W, Y));
        if (pred) snprintf(title + len, sizeof title - (size_t)len, "   R\xc2\xb2 prediction %.3f",
                           r2_finite(yd, (const double *)pred->data + off, W, Y));
        snprintf(ylab, sizeof ylab, "neuron %zu", j);
        if ((rc = ndyn_plot_axes_set_labels(ax, title, i == nn - 1 ? "time step" : "", ylab))) goto fail;
        ndyn_plot_style s;
        ndyn_plot_style_default(&s);
        s.color = ndyn_plot_rgb(0.1, 0.1, 0.1);
        s.size = 1.6;
        s.label = "data";
        if ((rc = line_finite_runs(ax, tx, yd, W, &s, Y))) goto fail;
        if (yhat) {
            s.color = ndyn_plot_category_color(0);
            s.label = "reconstruction";
            s.size = 1.6;
            if ((rc = line_finite_runs(ax, tx, (const double *)yhat->data + off, W, &s, Y))) goto fail;
        }
        if (pred) {
            s.color = ndyn_plot_category_color(1);
            s.label = plab;
            s.dashed = 1;
            rc = line_finite_runs(ax, tx, (const double *)pred->data + off, W, &s, Y);
            if (rc == NDYN_ENONFINITE) { /* window entirely before k */
                ndyn_error_clear();
                rc = 0;
            }
            if (rc) goto fail;
        }
    }
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    for (int i = 0; i < 4; i++) ndyn_dataset_free(dss[i]);
    ndyn_array_free(y);
    ndyn_array_free(yhat);
    ndyn_array_free(pred);
    ndyn_array_free(kk);
    free(tx);
    return rc;
}

/* --------------------------------------------------------------------- flow */

static int plot_flow(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_array *grid = NULL, *vel = NULL, *traj = NULL, *tshape = NULL;
    int *tst = NULL;
    double *buf = NULL;
    int *cbuf = NULL;
    char *nbuf = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    if ((rc = get_f64(ds, file, "grid", 1, &grid)) || (rc = get_f64(ds, file, "vel", 1, &vel))) goto fail;
    char b1[64], b2[64];
    if (grid->ndim != 2 || grid->shape[1] != 2) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'grid' has shape %s; need (G, 2)", file, ndyn_shape_str(grid, b1, sizeof b1));
        goto fail;
    }
    size_t G = grid->shape[0], K;
    if (vel->ndim == 2 && vel->shape[0] == G && vel->shape[1] == 2) {
        size_t sh[3] = {1, G, 2};
        ndyn_array_reshape(vel, 3, sh);
    }
    if (vel->ndim != 3 || vel->shape[1] != G || vel->shape[2] != 2) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'vel' has shape %s but 'grid' %s; need vel (K, G, 2)", file,
                        ndyn_shape_str(vel, b1, sizeof b1), ndyn_shape_str(grid, b2, sizeof b2));
        goto fail;
    }
    K = vel->shape[0];
    if (K > MAX_NAMES) {
        rc = ndyn_error(NDYN_EINVAL, "%s: %zu states; at most %d panels", file, K, MAX_NAMES);
        goto fail;
    }
    if ((rc = ndyn_array_check_finite(grid, "grid")) || (rc = ndyn_array_check_finite(vel, "vel"))) goto fail;
    size_t N = 0, T = 0, nts = 0;
    if ((rc = get_f64(ds, file, "traj", 0, &traj))) goto fail;
    if (traj) {
        if (traj->ndim == 2) {
            size_t sh[3] = {1, traj->shape[0], traj->shape[1]};
            ndyn_array_reshape(traj, 3, sh);
        }
        if (traj->ndim != 3 || traj->shape[2] != 2) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: 'traj' has shape %s; need (N, T, 2)", file, ndyn_shape_str(traj, b1, sizeof b1));
            goto fail;
        }
        if ((rc = ndyn_array_check_finite(traj, "traj"))) goto fail;
        N = traj->shape[0];
        T = traj->shape[1];
        if ((rc = get_int(ds, file, "traj_state", 0, &tst, &nts, &tshape))) goto fail;
        if (tst && nts != N * T) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: 'traj_state' has %zu values but 'traj' has %zu x %zu steps", file, nts, N, T);
            goto fail;
        }
        if (tst && max_int(tst, nts) >= (int)K) {
            rc = ndyn_error(NDYN_EINVAL, "%s: 'traj_state' holds state %d but 'vel' has %zu states", file, max_int(tst, nts), K);
            goto fail;
        }
    }
    int rows, cols;
    grid_shape((int)K, &rows, &cols);
    const char *names[MAX_NAMES];
    names_from(o, ds, &nbuf, names, (int)K);
    /* common limits and arrow scale */
    const double *Gd = grid->data, *Vd = vel->data;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY}, vmax = 0;
    for (size_t g = 0; g < G; g++)
        for (int a = 0; a < 2; a++) {
            if (Gd[2 * g + a] < lo[a]) lo[a] = Gd[2 * g + a];
            if (Gd[2 * g + a] > hi[a]) hi[a] = Gd[2 * g + a];
        }
    {
        double *sp = malloc(K * G * sizeof(double));
        if (!sp) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < K * G; i++) sp[i] = hypot(Vd[2 * i], Vd[2 * i + 1]);
        qsort(sp, K * G, sizeof(double), cmp_double); /* 90th percentile, as for fields */
        vmax = sp[(size_t)(0.9 * (double)(K * G - 1))];
        free(sp);
    }
    if (traj)
        for (size_t i = 0; i < N * T; i++)
            for (int a = 0; a < 2; a++) {
                double v = ((double *)traj->data)[2 * i + a];
                if (v < lo[a]) lo[a] = v;
                if (v > hi[a]) hi[a] = v;
            }
    double area = (hi[0] - lo[0]) * (hi[1] - lo[1]);
    double scale = vmax > 0 && area > 0 ? 0.9 * sqrt(area / (double)G) / vmax : 1;
    /* panel height follows the aspect of the latent plane (equal axes) */
    double aspect = hi[0] > lo[0] ? (hi[1] - lo[1]) / (hi[0] - lo[0]) : 1;
    if (aspect < 0.25) aspect = 0.25;
    if (aspect > 1.5) aspect = 1.5;
    int pw = 560;
    if (aspect < 0.6) { /* a wide plane: one wide panel per row */
        cols = 1;
        rows = (int)K;
        pw = 1000;
    }
    if ((rc = new_figure(o, cols * pw, rows * (int)(130 + (pw - 260) * aspect) + 10, rows, cols, &f))) goto fail;
    buf = malloc((4 * G + 2 * T) * sizeof(double));
    cbuf = malloc((T + G) * sizeof(int));
    if (!buf || !cbuf) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    size_t ntr = N < (size_t)o->max_trials ? N : (size_t)o->max_trials;
    for (size_t k = 0; k < K; k++) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, (int)k / cols, (int)k % cols, 1, 1, &ax))) goto fail;
        char title[96];
        if (names[k]) snprintf(title, sizeof title, "%s", names[k]);
        else snprintf(title, sizeof title, "state %zu", k);
        double px = 0.05 * (hi[0] - lo[0]) + 1e-12, py = 0.05 * (hi[1] - lo[1]) + 1e-12;
        if ((rc = ndyn_plot_axes_set_labels(ax, title, "latent PC1", "latent PC2")) ||
            (rc = ndyn_plot_axes_set_xlim(ax, lo[0] - px, hi[0] + px)) ||
            (rc = ndyn_plot_axes_set_ylim(ax, lo[1] - py, hi[1] + py)))
            goto fail;
        ndyn_plot_axes_set_equal(ax, 1);
        ndyn_plot_style s;
        ndyn_plot_style_default(&s);
        for (size_t n = 0; n < ntr; n++) {
            double *xx = buf + 4 * G, *yy = xx + T;
            const double *td = (const double *)traj->data + n * T * 2;
            for (size_t t = 0; t < T; t++) {
                xx[t] = td[2 * t];
                yy[t] = td[2 * t + 1];
                cbuf[t] = tst ? (tst[n * T + t] == (int)k ? (int)k : -1) : (int)k;
            }
            ndyn_plot_style ls;
            ndyn_plot_style_default(&ls);
            ls.size = 1.0;
            ls.alpha = 0.6;
            ls.category = cbuf;
            ls.n_categories = (int)K;
            if (T >= 2 && (rc = ndyn_plot_line(ax, xx, yy, T, &ls))) goto fail;
        }
        for (size_t g = 0; g < G; g++) {
            buf[g] = Gd[2 * g];
            buf[G + g] = Gd[2 * g + 1];
            buf[2 * G + g] = Vd[(k * G + g) * 2];
            buf[3 * G + g] = Vd[(k * G + g) * 2 + 1];
        }
        s.color = ndyn_plot_category_color((int)k);
        s.size = 1.3;
        s.scale = scale;
        s.label = "flow f(h) \xe2\x88\x92 h of this state";
        if ((rc = ndyn_plot_quiver(ax, buf, buf + G, buf + 2 * G, buf + 3 * G, G, &s))) goto fail;
        if (ntr && tst) {
            if ((rc = ndyn_plot_axes_legend_entry(ax, "trajectory, this state", ndyn_plot_category_color((int)k))) ||
                (rc = ndyn_plot_axes_legend_entry(ax, "trajectory, other states", ndyn_plot_category_color(-1))))
                goto fail;
        }
    }
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_array_free(grid);
    ndyn_array_free(vel);
    ndyn_array_free(traj);
    ndyn_array_free(tshape);
    free(tst);
    free(buf);
    free(cbuf);
    free(nbuf);
    return rc;
}

/* ----------------------------------------------------------------- training */

/* Panel of a curve: 0 losses, 1 ELBO / likelihood, 2 learning rate, 3 anything else. */
static int curve_group(const char *name)
{
    if (!strcmp(name, "lr") || !strncmp(name, "lr_", 3) || strstr(name, "learning_rate")) return 2;
    if (strstr(name, "elbo") || strstr(name, "ELBO") || strstr(name, "likelihood")) return 1;
    if (strstr(name, "loss") || strstr(name, "Loss")) return 0;
    return 3;
}

/* A curve of the history: float 1-D, not epoch, not a one-value summary
 * (test_loss, best_epoch) when the history has more epochs. */
static int is_curve(const ndyn_named_array *e, size_t E)
{
    if (!e->array || !strcmp(e->name, "epoch") || e->array->ndim != 1) return 0;
    if (!ndyn_dtype_is_float(e->array->dtype)) return 0; /* e.g. 'stage' */
    if (e->array->size == 1 && E > 1) return 0;
    return 1;
}

static int plot_training(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_array *ep = NULL, *c = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    if ((rc = get_f64(ds, file, "epoch", 1, &ep))) goto fail;
    if (ep->ndim != 1 || ep->size < 1) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'epoch' must be 1-D and non-empty", file);
        goto fail;
    }
    if ((rc = ndyn_array_check_finite(ep, "epoch"))) goto fail;
    size_t E = ep->size;
    /* which groups have curves */
    int has[4] = {0, 0, 0, 0}, allpos[4] = {1, 1, 1, 1};
    double gmin[4] = {INFINITY, INFINITY, INFINITY, INFINITY}, gmax[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < ds->n; i++) {
        const ndyn_named_array *e = &ds->items[i];
        if (!is_curve(e, E)) continue;
        if (e->array->size != E) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: curve '%s' has %zu values but 'epoch' has %zu", file, e->name,
                            e->array->size, E);
            goto fail;
        }
        int g = curve_group(e->name);
        has[g] = 1;
        for (size_t t = 0; t < E; t++) {
            double v = ndyn_array_get(e->array, t);
            if (!isfinite(v)) continue;
            if (v <= 0) allpos[g] = 0;
            if (v < gmin[g]) gmin[g] = v;
            if (v > gmax[g]) gmax[g] = v;
        }
    }
    int np = has[0] + has[1] + has[2] + has[3];
    if (!np) {
        rc = ndyn_error(NDYN_ENOTFOUND, "%s: no curves beside 'epoch' (expected e.g. train_loss, val_loss, lr)", file);
        goto fail;
    }
    if ((rc = new_figure(o, 860, 60 + 300 * np, np, 1, &f))) goto fail;
    ndyn_plot_figure_set_align(f, 1);
    ndyn_plot_axes *axs[4] = {0};
    static const char *gtitle[4] = {"loss", "evidence lower bound", "learning rate", "other quantities"};
    int row = 0;
    for (int g = 0; g < 4; g++) {
        if (!has[g]) continue;
        if ((rc = ndyn_plot_figure_panel(f, row, 0, 1, 1, &axs[g]))) goto fail;
        row++;
        int ylog = allpos[g] && gmin[g] > 0 && gmax[g] / gmin[g] > (g == 2 ? 5 : 30);
        ndyn_plot_axes_set_ylog(axs[g], ylog);
        if ((rc = ndyn_plot_axes_set_labels(axs[g], gtitle[g], row == np ? "epoch" : "", ylog ? "value (log scale)" : "value")))
            goto fail;
    }
    int color = 0;
    for (size_t i = 0; i < ds->n; i++) {
        const ndyn_named_array *e = &ds->items[i];
        if (!is_curve(e, E)) continue;
        int g = curve_group(e->name);
        ndyn_array_free(c);
        if (!(c = ndyn_array_cast(e->array, NDYN_F64))) {
            rc = ndyn_error_context(NDYN_EINVAL, "%s: curve '%s': ", file, e->name);
            goto fail;
        }
        ndyn_plot_style s;
        ndyn_plot_style_default(&s);
        s.color = ndyn_plot_category_color(color);
        s.size = 2;
        s.label = e->name;
        rc = line_finite_runs(axs[g], ep->data, c->data, E, &s, 1);
        if (!rc) color++; /* skipped curves leave their colour to the next */
        if (rc == NDYN_ENONFINITE) {
            ndyn_warn("%s: curve '%s' has no finite values; not drawn", file, e->name);
            ndyn_error_clear();
            rc = 0;
        }
        if (rc) goto fail;
    }
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_array_free(ep);
    ndyn_array_free(c);
    return rc;
}

/* ----------------------------------------------------------------- decoding */

static int plot_decoding(const plot_opts *o, const char *file, const ndyn_dataset *ds)
{
    ndyn_array *pred = NULL, *truth = NULL;
    double *tx = NULL;
    ndyn_plot_figure *f = NULL;
    int rc = 0;
    if ((rc = get_f64(ds, file, "pred", 1, &pred)) || (rc = get_f64(ds, file, "truth", 1, &truth))) goto fail;
    char b1[64], b2[64];
    size_t n = truth->shape[0], Y = truth->ndim == 2 ? truth->shape[1] : 1;
    if (truth->ndim > 2 || pred->size != truth->size || pred->shape[0] != n) {
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'pred' %s and 'truth' %s must have the same shape (n, Y)", file,
                        ndyn_shape_str(pred, b1, sizeof b1), ndyn_shape_str(truth, b2, sizeof b2));
        goto fail;
    }
    if ((rc = ndyn_array_check_finite(truth, "truth"))) goto fail;
    const double *P = pred->data, *Tr = truth->data;
    for (size_t i = 0; i < pred->size; i++)
        if (isinf(P[i])) {
            rc = ndyn_error(NDYN_ENONFINITE, "%s: 'pred' holds an infinite value at %zu", file, i);
            goto fail;
        }
    size_t t0, t1;
    if ((rc = window(o, n, &t0, &t1, 2000000))) goto fail;
    long outs[32];
    int no;
    if ((rc = pick_channels(o, Y, "--outputs: output", outs, &no))) goto fail;
    size_t W = t1 - t0;
    tx = malloc(W * sizeof(double));
    if (!tx) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t t = 0; t < W; t++) tx[t] = (double)(t0 + t);
    if ((rc = new_figure(o, 1000, 70 + 210 * no, no, 1, &f))) goto fail;
    ndyn_plot_figure_set_align(f, 1);
    for (int i = 0; i < no; i++) {
        ndyn_plot_axes *ax;
        if ((rc = ndyn_plot_figure_panel(f, i, 0, 1, 1, &ax))) goto fail;
        size_t j = (size_t)outs[i];
        char title[128], ylab[32];
        snprintf(title, sizeof title, "output %zu   R\xc2\xb2 %.3f over the held-out samples shown", j,
                 r2_finite(Tr + t0 * Y + j, P + t0 * Y + j, W, Y));
        snprintf(ylab, sizeof ylab, "output %zu", j);
        if ((rc = ndyn_plot_axes_set_labels(ax, title, i == no - 1 ? "sample" : "", ylab))) goto fail;
        ndyn_plot_style s;
        ndyn_plot_style_default(&s);
        s.color = ndyn_plot_rgb(0.1, 0.1, 0.1);
        s.size = 1.6;
        s.label = "truth";
        if ((rc = line_finite_runs(ax, tx, Tr + t0 * Y + j, W, &s, Y))) goto fail;
        s.color = ndyn_plot_category_color(0);
        s.label = "decoded (held out)";
        rc = line_finite_runs(ax, tx, P + t0 * Y + j, W, &s, Y);
        if (rc == NDYN_ENONFINITE) { /* nothing tested in this window */
            ndyn_error_clear();
            rc = 0;
        }
        if (rc) goto fail;
    }
    rc = ndyn_plot_figure_save(f, o->out);
fail:
    ndyn_plot_figure_free(f);
    ndyn_array_free(pred);
    ndyn_array_free(truth);
    free(tx);
    return rc;
}

/* ------------------------------------------------------------------ command */

int cmd_plot(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *kind = argv[1];
    static const char *kinds[] = {"embedding", "field", "distances", "states", "reconstruction", "flow", "training",
                                  "decoding"};
    int ki = -1;
    for (int i = 0; i < 8; i++)
        if (!strcmp(kind, kinds[i])) ki = i;
    if (ki < 0)
        return cli_usage(CMD, "unknown kind '%s'; use embedding, field, distances, states, reconstruction, flow, "
                         "training or decoding", kind);
    plot_opts o;
    memset(&o, 0, sizeof o);
    o.dims = 2;
    o.azim = -60;
    o.elev = 30;
    o.max_points = ki == 1 ? 600 : 20000;
    o.from = o.to = -1;
    o.split = -1;
    o.max_trials = 8;
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'},      {"width", required_argument, 0, OPT_WIDTH},
        {"height", required_argument, 0, OPT_HEIGHT}, {"title", required_argument, 0, OPT_TITLE},
        {"color", required_argument, 0, OPT_COLOR}, {"colour", required_argument, 0, OPT_COLOR},
        {"continuous", no_argument, 0, OPT_CONTINUOUS}, {"array", required_argument, 0, OPT_ARRAY},
        {"dims", required_argument, 0, OPT_DIMS},   {"view", required_argument, 0, OPT_VIEW},
        {"max-points", required_argument, 0, OPT_MAXPTS}, {"names", required_argument, 0, OPT_NAMES},
        {"label-names", required_argument, 0, OPT_LABEL_NAMES}, {"trial", required_argument, 0, OPT_TRIAL},
        {"from", required_argument, 0, OPT_FROM},   {"to", required_argument, 0, OPT_TO},
        {"neurons", required_argument, 0, OPT_NEURONS}, {"outputs", required_argument, 0, OPT_NEURONS},
        {"labels", required_argument, 0, OPT_LABELS},
        {"split", no_argument, 0, OPT_SPLIT},       {"no-split", no_argument, 0, OPT_NOSPLIT},
        {"max-trials", required_argument, 0, OPT_MAXTRIALS}, {"help", no_argument, 0, 'h'},
        CLI_COMMON_LONGOPTS,                        {0, 0, 0, 0}};
    int c, rc = CLI_OK;
    long v;
    char **av = argv + 1;
    int ac = argc - 1;
    while ((c = getopt_long(ac, av, "o:hq", longopts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) goto out;
            continue;
        }
        switch (c) {
        case 'o': o.out = optarg; break;
        case 'h':
            help(stdout);
            goto out;
        case OPT_WIDTH:
            if (cli_parse_int(CMD, "width", optarg, 64, 16384, &o.width)) rc = CLI_USAGE;
            break;
        case OPT_HEIGHT:
            if (cli_parse_int(CMD, "height", optarg, 64, 16384, &o.height)) rc = CLI_USAGE;
            break;
        case OPT_TITLE: o.title = optarg; break;
        case OPT_COLOR: o.color = optarg; break;
        case OPT_CONTINUOUS: o.continuous = 1; break;
        case OPT_ARRAY: o.array = optarg; break;
        case OPT_DIMS:
            if (cli_parse_int(CMD, "dims", optarg, 2, 3, &o.dims)) rc = CLI_USAGE;
            break;
        case OPT_VIEW: {
            char *end;
            o.azim = strtod(optarg, &end);
            if (*end != ',') {
                rc = cli_usage(CMD, "--view expects AZIMUTH,ELEVATION in degrees, got '%s'", optarg);
                break;
            }
            if (cli_parse_double(CMD, "view elevation", end + 1, -90, 90, &o.elev)) rc = CLI_USAGE;
            if (!isfinite(o.azim)) rc = cli_usage(CMD, "--view azimuth must be finite");
            break;
        }
        case OPT_MAXPTS:
            if (cli_parse_int(CMD, "max-points", optarg, 1, 100000000, &o.max_points)) rc = CLI_USAGE;
            break;
        case OPT_NAMES:
            for (int i = 0; i < o.n_names; i++) free(o.names[i]);
            if (parse_names(optarg, o.names, &o.n_names, "names")) rc = CLI_USAGE;
            break;
        case OPT_LABEL_NAMES:
            for (int i = 0; i < o.n_label_names; i++) free(o.label_names[i]);
            if (parse_names(optarg, o.label_names, &o.n_label_names, "label-names")) rc = CLI_USAGE;
            break;
        case OPT_TRIAL:
            if (cli_parse_int(CMD, "trial", optarg, 0, 100000000, &o.trial)) rc = CLI_USAGE;
            break;
        case OPT_FROM:
            if (cli_parse_int(CMD, "from", optarg, 0, 1000000000, &o.from)) rc = CLI_USAGE;
            break;
        case OPT_TO:
            if (cli_parse_int(CMD, "to", optarg, 1, 1000000000, &o.to)) rc = CLI_USAGE;
            break;
        case OPT_NEURONS:
            if (cli_parse_int_list(CMD, "neurons", optarg, 0, 100000000, o.neurons, 32, &o.n_neurons)) rc = CLI_USAGE;
            break;
        case OPT_LABELS: o.labels = optarg; break;
        case OPT_SPLIT: o.split = 1; break;
        case OPT_NOSPLIT: o.split = 0; break;
        case OPT_MAXTRIALS:
            if (cli_parse_int(CMD, "max-trials", optarg, 0, 100000, &v)) rc = CLI_USAGE;
            else o.max_trials = v;
            break;
        default:
            rc = cli_usage(CMD, "unknown option '%s'", av[optind - 1]);
        }
        if (rc) goto out;
    }
    if (!o.out) {
        rc = cli_usage(CMD, "missing --output OUT.png|svg|pdf");
        goto out;
    }
    if (o.from >= 0 && o.to >= 0 && o.to <= o.from) {
        rc = cli_usage(CMD, "--to (%ld) must be greater than --from (%ld)", o.to, o.from);
        goto out;
    }
    o.files = av + optind;
    o.nfiles = ac - optind;
    if (o.nfiles < 1) {
        rc = cli_usage(CMD, "%s: missing input FILE", kind);
        goto out;
    }
    int r;
    if (ki == 4) {
        r = plot_reconstruction(&o);
    } else if (o.nfiles != 1) {
        r = -cli_usage(CMD, "%s takes one input file, got %d", kind, o.nfiles);
    } else {
        /* the single-file kinds, in the order of kinds[] (4, reconstruction, is handled above) */
        static int (*const one_file[])(const plot_opts *, const char *, const ndyn_dataset *) = {
            plot_embedding, plot_field, plot_distances, plot_states, NULL, plot_flow, plot_training, plot_decoding};
        ndyn_dataset *ds = NULL;
        r = ndyn_dataset_load(o.files[0], &ds);
        if (!r) r = one_file[ki](&o, o.files[0], ds);
        ndyn_dataset_free(ds);
    }
    if (r < 0) rc = CLI_USAGE; /* usage errors already reported */
    else if (r) rc = cli_fail(CMD);
out:
    free_opts(&o);
    ndyn_plot_cleanup();
    return rc;
}
