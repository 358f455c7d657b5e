/* Recording marks into an axes: every function validates its input (sizes,
 * NaN/Inf, category ranges), copies the data and adds its legend entries. */
#include "plot_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ndyn_plot_style_default(ndyn_plot_style *s)
{
    memset(s, 0, sizeof *s);
    s->alpha = 1.0;
}

static int add_leg(ndyn_plot_axes *ax, const char *label, ndyn_plot_color c, pl_leg_kind kind,
                   int dashed)
{
    for (size_t i = 0; i < ax->nleg; i++) /* the same entry twice (e.g. one per trial) */
        if (!strcmp(ax->leg[i].label, label) && ax->leg[i].kind == kind && ax->leg[i].color.r == c.r &&
            ax->leg[i].color.g == c.g && ax->leg[i].color.b == c.b)
            return NDYN_OK;
    if (ax->nleg == ax->capleg) {
        size_t cap = ax->capleg ? 2 * ax->capleg : 8;
        pl_legend_entry *l = realloc(ax->leg, cap * sizeof *l);
        if (!l) return ndyn_error(NDYN_ENOMEM, "out of memory adding a legend entry");
        ax->leg = l;
        ax->capleg = cap;
    }
    pl_legend_entry *e = &ax->leg[ax->nleg];
    if (!(e->label = pl_strdup(label))) return NDYN_ENOMEM;
    e->color = c;
    e->kind = kind;
    e->dashed = dashed;
    ax->nleg++;
    return NDYN_OK;
}

int ndyn_plot_axes_legend_entry(ndyn_plot_axes *ax, const char *label, ndyn_plot_color color)
{
    if (!ax || !label || !*label) return ndyn_error(NDYN_EINVAL, "legend entry needs an axes and a label");
    color.a = color.a > 0 ? color.a : 1;
    return add_leg(ax, label, color, PL_LEG_PATCH, 0);
}

static pl_mark *new_mark(ndyn_plot_axes *ax, pl_mark_kind kind)
{
    if (ax->nmarks == ax->capmarks) {
        size_t cap = ax->capmarks ? 2 * ax->capmarks : 8;
        pl_mark *m = realloc(ax->marks, cap * sizeof *m);
        if (!m) {
            ndyn_error(NDYN_ENOMEM, "out of memory adding a mark");
            return NULL;
        }
        ax->marks = m;
        ax->capmarks = cap;
    }
    pl_mark *m = &ax->marks[ax->nmarks];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    return m;
}

static double *dup_d(const double *x, size_t n)
{
    double *d = ndyn_malloc_array(n, sizeof(double));
    if (d) memcpy(d, x, n * sizeof(double));
    return d;
}

static int *dup_i(const int *x, size_t n)
{
    int *d = ndyn_malloc_array(n, sizeof(int));
    if (d) memcpy(d, x, n * sizeof(int));
    return d;
}

static int check_values(const ndyn_plot_style *s, size_t n, const char *what)
{
    if (s->values) {
        int rc = ndyn_check_finite(s->values, n, "colour values");
        if (rc) return ndyn_error_context(rc, "%s: ", what);
        if (!isfinite(s->vmin) || !isfinite(s->vmax) || s->vmin > s->vmax)
            return ndyn_error(NDYN_EINVAL, "%s: colour range [%g, %g] is invalid", what, s->vmin, s->vmax);
    }
    if (s->category) {
        if (s->n_categories < 1)
            return ndyn_error(NDYN_EINVAL, "%s: category colours need n_categories >= 1", what);
        for (size_t i = 0; i < n; i++)
            if (s->category[i] < -1 || s->category[i] >= s->n_categories)
                return ndyn_error(NDYN_EINVAL, "%s: category[%zu] = %d is outside -1..%d", what, i,
                                  s->category[i], s->n_categories - 1);
    }
    if (!(s->alpha >= 0 && s->alpha <= 1))
        return ndyn_error(NDYN_EINVAL, "%s: alpha %g is outside [0, 1]", what, s->alpha);
    if (!(s->size >= 0 && s->size < 1000))
        return ndyn_error(NDYN_EINVAL, "%s: size %g is outside [0, 1000)", what, s->size);
    if (!(s->scale >= 0 && isfinite(s->scale)))
        return ndyn_error(NDYN_EINVAL, "%s: arrow scale %g must be finite and >= 0", what, s->scale);
    return NDYN_OK;
}

/* Colour range of values: the style's, or the data range. */
static void value_range(const ndyn_plot_style *s, size_t n, double *lo, double *hi)
{
    *lo = s->vmin;
    *hi = s->vmax;
    if (s->vmin == s->vmax) {
        *lo = INFINITY;
        *hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (s->values[i] < *lo) *lo = s->values[i];
            if (s->values[i] > *hi) *hi = s->values[i];
        }
    }
}

/* Common part of scatter, lines and arrows. */
static int add_points(ndyn_plot_axes *ax, pl_mark_kind kind, int three_d, const double *x,
                      const double *y, const double *z, const double *u, const double *v, size_t n,
                      const ndyn_plot_style *sin, const char *what)
{
    if (!ax) return ndyn_error(NDYN_EINVAL, "%s: axes is NULL", what);
    ndyn_plot_style sdef;
    ndyn_plot_style_default(&sdef);
    const ndyn_plot_style *s = sin ? sin : &sdef;
    if (n == 0) return ndyn_error(NDYN_EINVAL, "%s: no points to draw (n = 0)", what);
    if (kind == PL_LINE && n < 2) return ndyn_error(NDYN_EINVAL, "%s: a line needs at least 2 points", what);
    if (!x || !y || (three_d && !z) || (kind == PL_QUIVER && (!u || !v)))
        return ndyn_error(NDYN_EINVAL, "%s: a coordinate array is NULL", what);
    if (three_d && !ax->view3d)
        return ndyn_error(NDYN_EINVAL, "%s: axes has no 3-D view; call ndyn_plot_axes_set_view3d first", what);
    if (!three_d && ax->view3d)
        return ndyn_error(NDYN_EINVAL, "%s: 2-D mark on a 3-D axes; use the 3-D functions", what);
    int rc;
    if ((rc = ndyn_check_finite(x, n, "x")) || (rc = ndyn_check_finite(y, n, "y")) ||
        (three_d && (rc = ndyn_check_finite(z, n, "z"))) ||
        (kind == PL_QUIVER && ((rc = ndyn_check_finite(u, n, "u")) || (rc = ndyn_check_finite(v, n, "v")))))
        return ndyn_error_context(rc, "%s: ", what);
    if (ax->ylog)
        for (size_t i = 0; i < n; i++)
            if (!(y[i] > 0))
                return ndyn_error(NDYN_EINVAL, "%s: y[%zu] = %g cannot be shown on a log axis", what, i, y[i]);
    if ((rc = check_values(s, n, what))) return rc;

    pl_mark *m = new_mark(ax, kind);
    if (!m) return NDYN_ENOMEM;
    m->three_d = three_d;
    m->n = n;
    m->x = dup_d(x, n);
    m->y = dup_d(y, n);
    if (three_d) m->z = dup_d(z, n);
    if (kind == PL_QUIVER) {
        m->u = dup_d(u, n);
        m->v = dup_d(v, n);
    }
    if (s->values) m->values = dup_d(s->values, n);
    if (s->category) m->category = dup_i(s->category, n);
    if (!m->x || !m->y || (three_d && !m->z) || (kind == PL_QUIVER && (!m->u || !m->v)) ||
        (s->values && !m->values) || (s->category && !m->category)) {
        free(m->x), free(m->y), free(m->z), free(m->u), free(m->v), free(m->values), free(m->category);
        return NDYN_ENOMEM;
    }
    ax->nmarks++;
    ax->fig->laid_out = 0;
    m->n_categories = s->n_categories;
    m->color = s->color;
    if (m->color.a <= 0) m->color = ndyn_plot_category_color(ax->next_color++);
    m->alpha = s->alpha;
    m->size = s->size > 0 ? s->size : (kind == PL_SCATTER ? 6.0 : 1.5);
    m->dashed = s->dashed;
    m->scale = s->scale;
    if (s->values) {
        value_range(s, n, &m->vmin, &m->vmax);
        if (s->colorbar) {
            ax->cbar = 1;
            ax->cb_vmin = m->vmin;
            ax->cb_vmax = m->vmax;
            free(ax->cb_label);
            ax->cb_label = pl_strdup(s->colorbar);
        }
    }
    pl_leg_kind lk = kind == PL_SCATTER ? PL_LEG_MARKER : kind == PL_LINE ? PL_LEG_LINE : PL_LEG_ARROW;
    if (s->label && *s->label) {
        ndyn_plot_color c = m->color;
        if (s->values) c = ndyn_plot_viridis(0.5);
        if ((rc = add_leg(ax, s->label, c, lk, m->dashed))) return rc;
    } else if (s->category && s->category_names) {
        for (int k = 0; k < s->n_categories; k++) {
            int present = 0;
            for (size_t i = 0; i < n && !present; i++) present = s->category[i] == k;
            if (!present) continue;
            char buf[32];
            const char *name = s->category_names && s->category_names[k] ? s->category_names[k] : NULL;
            if (!name) {
                snprintf(buf, sizeof buf, "%d", k);
                name = buf;
            }
            if ((rc = add_leg(ax, name, ndyn_plot_category_color(k), lk, 0))) return rc;
        }
    }
    return NDYN_OK;
}

int ndyn_plot_scatter(ndyn_plot_axes *ax, const double *x, const double *y, size_t n,
                      const ndyn_plot_style *s)
{
    return add_points(ax, PL_SCATTER, 0, x, y, NULL, NULL, NULL, n, s, "scatter");
}

int ndyn_plot_line(ndyn_plot_axes *ax, const double *x, const double *y, size_t n,
                   const ndyn_plot_style *s)
{
    return add_points(ax, PL_LINE, 0, x, y, NULL, NULL, NULL, n, s, "line");
}

int ndyn_plot_scatter3(ndyn_plot_axes *ax, const double *x, const double *y, const double *z,
                       size_t n, const ndyn_plot_style *s)
{
    return add_points(ax, PL_SCATTER, 1, x, y, z, NULL, NULL, n, s, "scatter3");
}

int ndyn_plot_line3(ndyn_plot_axes *ax, const double *x, const double *y, const double *z,
                    size_t n, const ndyn_plot_style *s)
{
    return add_points(ax, PL_LINE, 1, x, y, z, NULL, NULL, n, s, "line3");
}

int ndyn_plot_quiver(ndyn_plot_axes *ax, const double *x, const double *y, const double *u,
                     const double *v, size_t n, const ndyn_plot_style *s)
{
    return add_points(ax, PL_QUIVER, 0, x, y, NULL, u, v, n, s, "quiver");
}

static int check_extent(const double *extent, size_t nr, size_t nc, double out[4], const char *what)
{
    if (!extent) {
        out[0] = 0;
        out[1] = (double)nc;
        out[2] = 0;
        out[3] = (double)nr;
        return NDYN_OK;
    }
    for (int i = 0; i < 4; i++)
        if (!isfinite(extent[i])) return ndyn_error(NDYN_ENONFINITE, "%s: extent[%d] is not finite", what, i);
    if (!(extent[0] < extent[1]) || !(extent[2] < extent[3]))
        return ndyn_error(NDYN_EINVAL, "%s: extent {%g, %g, %g, %g} needs x0 < x1 and y0 < y1", what, extent[0],
                          extent[1], extent[2], extent[3]);
    memcpy(out, extent, 4 * sizeof(double));
    return NDYN_OK;
}

int ndyn_plot_heatmap(ndyn_plot_axes *ax, const double *z, size_t nr, size_t nc,
                      const double *extent, double vmin, double vmax, const char *colorbar)
{
    if (!ax || !z) return ndyn_error(NDYN_EINVAL, "heatmap: NULL axes or data");
    if (ax->view3d) return ndyn_error(NDYN_EINVAL, "heatmap: not available on a 3-D axes");
    if (nr == 0 || nc == 0) return ndyn_error(NDYN_EINVAL, "heatmap: empty matrix (%zu x %zu)", nr, nc);
    if (ax->ylog) return ndyn_error(NDYN_EINVAL, "heatmap: not available on a log axis");
    if (nr > 32767 || nc > 32767)
        return ndyn_error(NDYN_EINVAL, "heatmap: %zu x %zu cells; at most 32767 per side (downsample first)",
                          nr, nc);
    size_t n = nr * nc;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isinf(z[i])) return ndyn_error(NDYN_ENONFINITE, "heatmap: cell %zu is infinite", i);
        if (z[i] == z[i]) {
            if (z[i] < lo) lo = z[i];
            if (z[i] > hi) hi = z[i];
        }
    }
    if (!(lo <= hi)) return ndyn_error(NDYN_ENONFINITE, "heatmap: every cell is NaN");
    if (!isfinite(vmin) || !isfinite(vmax) || vmin > vmax)
        return ndyn_error(NDYN_EINVAL, "heatmap: colour range [%g, %g] is invalid", vmin, vmax);
    double ext[4];
    int rc = check_extent(extent, nr, nc, ext, "heatmap");
    if (rc) return rc;
    pl_mark *m = new_mark(ax, PL_HEATMAP);
    if (!m) return NDYN_ENOMEM;
    if (!(m->values = dup_d(z, n))) return NDYN_ENOMEM;
    m->n = n;
    m->nr = nr;
    m->nc = nc;
    memcpy(m->extent, ext, sizeof ext);
    m->vmin = vmin == vmax ? lo : vmin;
    m->vmax = vmin == vmax ? hi : vmax;
    m->alpha = 1;
    ax->nmarks++;
    ax->fig->laid_out = 0;
    if (colorbar) {
        ax->cbar = 1;
        ax->cb_vmin = m->vmin;
        ax->cb_vmax = m->vmax;
        free(ax->cb_label);
        ax->cb_label = pl_strdup(colorbar);
    }
    return NDYN_OK;
}

int ndyn_plot_heatmap_categories(ndyn_plot_axes *ax, const int *cat, size_t nr, size_t nc,
                                 const double *extent, int n_categories,
                                 const char *const *names)
{
    if (!ax || !cat) return ndyn_error(NDYN_EINVAL, "category raster: NULL axes or data");
    if (ax->view3d) return ndyn_error(NDYN_EINVAL, "category raster: not available on a 3-D axes");
    if (nr == 0 || nc == 0) return ndyn_error(NDYN_EINVAL, "category raster: empty (%zu x %zu)", nr, nc);
    if (nr > 32767 || nc > 32767)
        return ndyn_error(NDYN_EINVAL, "category raster: %zu x %zu cells; at most 32767 per side", nr, nc);
    if (n_categories < 1) return ndyn_error(NDYN_EINVAL, "category raster: n_categories must be >= 1");
    size_t n = nr * nc;
    for (size_t i = 0; i < n; i++)
        if (cat[i] < -1 || cat[i] >= n_categories)
            return ndyn_error(NDYN_EINVAL, "category raster: cell %zu = %d is outside -1..%d", i, cat[i],
                              n_categories - 1);
    double ext[4];
    int rc = check_extent(extent, nr, nc, ext, "category raster");
    if (rc) return rc;
    pl_mark *m = new_mark(ax, PL_HEATCAT);
    if (!m) return NDYN_ENOMEM;
    if (!(m->category = dup_i(cat, n))) return NDYN_ENOMEM;
    m->n = n;
    m->nr = nr;
    m->nc = nc;
    m->n_categories = n_categories;
    memcpy(m->extent, ext, sizeof ext);
    m->alpha = 1;
    ax->nmarks++;
    ax->fig->laid_out = 0;
    for (int k = 0; k < n_categories; k++) {
        int present = 0;
        for (size_t i = 0; i < n && !present; i++) present = cat[i] == k;
        if (!present) continue;
        char buf[32];
        const char *name = names && names[k] ? names[k] : NULL;
        if (!name) {
            snprintf(buf, sizeof buf, "%d", k);
            name = buf;
        }
        if ((rc = add_leg(ax, name, ndyn_plot_category_color(k), PL_LEG_PATCH, 0))) return rc;
    }
    return NDYN_OK;
}

int ndyn_plot_text(ndyn_plot_axes *ax, double x, double y, const char *text)
{
    if (!ax || !text) return ndyn_error(NDYN_EINVAL, "text: NULL axes or text");
    if (ax->view3d) return ndyn_error(NDYN_EINVAL, "text: not available on a 3-D axes");
    if (!isfinite(x) || !isfinite(y)) return ndyn_error(NDYN_ENONFINITE, "text position (%g, %g) is not finite", x, y);
    pl_mark *m = new_mark(ax, PL_TEXT);
    if (!m) return NDYN_ENOMEM;
    m->x = dup_d(&x, 1);
    m->y = dup_d(&y, 1);
    m->text = pl_strdup(text);
    if (!m->x || !m->y || !m->text) {
        free(m->x), free(m->y), free(m->text);
        return NDYN_ENOMEM;
    }
    m->n = 1;
    m->alpha = 1;
    ax->nmarks++;
    ax->fig->laid_out = 0;
    return NDYN_OK;
}
