/* Layout: data limits, ticks and the position of every piece of a figure.
 *
 * Each panel's cell is filled from the outside in: title at the top, x label
 * and x tick labels at the bottom, y label and y tick labels on the left,
 * legend and colour bar on the right; the plotting area is what remains.
 * Tick counts follow the room available, and tick labels that would touch
 * are thinned, so no two pieces of text overlap. Every box is recorded
 * (ndyn_plot_figure_boxes) so tests can check exactly that. */
#include "plot_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double pl_ytransform(const ndyn_plot_axes *ax, double y)
{
    return ax->ylog ? log10(y) : y;
}

void pl_data_to_px(const ndyn_plot_axes *ax, double x, double y, double *px, double *py)
{
    const double *a = ax->area, *l = ax->lim;
    *px = a[0] + (x - l[0]) / (l[1] - l[0]) * (a[2] - a[0]);
    *py = a[3] - (y - l[2]) / (l[3] - l[2]) * (a[3] - a[1]);
}

static int add_box(ndyn_plot_figure *f, double x0, double y0, double x1, double y1,
                   ndyn_plot_box_kind kind, int panel)
{
    if (f->nboxes == f->capboxes) {
        size_t cap = f->capboxes ? 2 * f->capboxes : 64;
        ndyn_plot_box *b = realloc(f->boxes, cap * sizeof *b);
        if (!b) return ndyn_error(NDYN_ENOMEM, "out of memory in the layout");
        f->boxes = b;
        f->capboxes = cap;
    }
    ndyn_plot_box *b = &f->boxes[f->nboxes++];
    b->x0 = x0;
    b->y0 = y0;
    b->x1 = x1;
    b->y1 = y1;
    b->kind = kind;
    b->panel = panel;
    return NDYN_OK;
}

static void upd(double v, double *lo, double *hi)
{
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

static void pad_range(double *lo, double *hi, double frac)
{
    if (!(*lo <= *hi)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double r = *hi - *lo;
    if (r <= 0 || r < 1e-12 * fabs(*hi)) {
        double p = fabs(*lo) > 0 ? 0.1 * fabs(*lo) : 0.5;
        *lo -= p;
        *hi += p;
        return;
    }
    *lo -= frac * r;
    *hi += frac * r;
}

/* Auto scale of a quiver mark: the longest arrow ~ 0.9 x the typical spacing
 * of its base points. */
static double quiver_scale(const pl_mark *m)
{
    if (m->scale > 0) return m->scale;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, vmax = 0;
    for (size_t i = 0; i < m->n; i++) {
        upd(m->x[i], &x0, &x1);
        upd(m->y[i], &y0, &y1);
        double l = hypot(m->u[i], m->v[i]);
        if (l > vmax) vmax = l;
    }
    double w = x1 - x0, h = y1 - y0, sp;
    if (w > 0 && h > 0) sp = sqrt(w * h / (double)m->n);
    else sp = (w > h ? w : h) / (double)m->n;
    if (!(sp > 0)) sp = 1;
    return vmax > 0 ? 0.9 * sp / vmax : 1;
}

static void limits_2d(ndyn_plot_axes *ax)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int only_heat = 1;
    for (size_t k = 0; k < ax->nmarks; k++) {
        pl_mark *m = &ax->marks[k];
        if (m->kind == PL_HEATMAP || m->kind == PL_HEATCAT) {
            upd(m->extent[0], &x0, &x1);
            upd(m->extent[1], &x0, &x1);
            upd(m->extent[2], &y0, &y1);
            upd(m->extent[3], &y0, &y1);
            continue;
        }
        only_heat = 0;
        if (m->kind == PL_QUIVER) m->scale_used = quiver_scale(m);
        for (size_t i = 0; i < m->n; i++) {
            upd(m->x[i], &x0, &x1);
            upd(pl_ytransform(ax, m->y[i]), &y0, &y1);
            if (m->kind == PL_QUIVER) {
                upd(m->x[i] + m->scale_used * m->u[i], &x0, &x1);
                upd(m->y[i] + m->scale_used * m->v[i], &y0, &y1);
            }
        }
    }
    double frac = only_heat ? 0 : 0.04;
    pad_range(&x0, &x1, frac);
    pad_range(&y0, &y1, frac);
    if (ax->xlim_set) {
        x0 = ax->xlim[0];
        x1 = ax->xlim[1];
    }
    if (ax->ylim_set) {
        y0 = pl_ytransform(ax, ax->ylim[0]);
        y1 = pl_ytransform(ax, ax->ylim[1]);
    }
    ax->lim[0] = x0;
    ax->lim[1] = x1;
    ax->lim[2] = y0;
    ax->lim[3] = y1;
}

static void limits_3d(ndyn_plot_axes *ax)
{
    double l[6] = {INFINITY, -INFINITY, INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (size_t k = 0; k < ax->nmarks; k++) {
        pl_mark *m = &ax->marks[k];
        for (size_t i = 0; i < m->n; i++) {
            upd(m->x[i], &l[0], &l[1]);
            upd(m->y[i], &l[2], &l[3]);
            upd(m->z[i], &l[4], &l[5]);
        }
    }
    for (int i = 0; i < 3; i++) pad_range(&l[2 * i], &l[2 * i + 1], 0.04);
    memcpy(ax->lim3, l, sizeof l);
    /* screen box of the cube's corners, with room for the axis labels */
    double s0 = INFINITY, s1 = -INFINITY, t0 = INFINITY, t1 = -INFINITY;
    for (int c = 0; c < 8; c++) {
        double sx, sy;
        pl_project3(ax, l[c & 1], l[2 + ((c >> 1) & 1)], l[4 + ((c >> 2) & 1)], &sx, &sy, NULL);
        upd(sx, &s0, &s1);
        upd(sy, &t0, &t1);
    }
    pad_range(&s0, &s1, 0.12);
    pad_range(&t0, &t1, 0.12);
    ax->lim[0] = s0;
    ax->lim[1] = s1;
    ax->lim[2] = t0;
    ax->lim[3] = t1;
}

static double max_label_width(cairo_t *cr, const pl_ticks *t, double fs)
{
    double w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!t->show[i]) continue;
        double tw = pl_text_width(cr, t->label[i], fs, 0);
        if (tw > w) w = tw;
    }
    return w;
}

static void custom_ticks(const ndyn_plot_axes *ax, int a, pl_ticks *t)
{
    t->n = 0;
    double lo = a ? ax->lim[2] : ax->lim[0], hi = a ? ax->lim[3] : ax->lim[1];
    for (size_t i = 0; i < ax->n_custom[a] && t->n < PL_MAX_TICKS; i++) {
        double p = ax->custom_pos[a][i];
        if (p < lo - 1e-9 * (hi - lo) || p > hi + 1e-9 * (hi - lo)) continue;
        t->pos[t->n] = p;
        snprintf(t->label[t->n], sizeof t->label[0], "%s", ax->custom_lab[a][i]);
        t->show[t->n] = 1;
        t->n++;
    }
}

/* Pixel position of tick i along its axis. */
static double tick_px(const ndyn_plot_axes *ax, int a, double v)
{
    double px, py;
    if (a == 0) {
        pl_data_to_px(ax, v, ax->lim[2], &px, &py);
        return px;
    }
    pl_data_to_px(ax, ax->lim[0], v, &px, &py);
    return py;
}

/* Do shown labels of t overlap along the axis? (extent: width for x, height for y) */
static int ticks_crowded(cairo_t *cr, const ndyn_plot_axes *ax, int a, const pl_ticks *t)
{
    double h = pl_text_height(cr, PL_FS_TICK, 0);
    double prev_p = 0, prev_e = 0;
    int have = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!t->show[i]) continue;
        double p = tick_px(ax, a, t->pos[i]);
        double e = a == 0 ? pl_text_width(cr, t->label[i], PL_FS_TICK, 0) : h;
        if (have && fabs(p - prev_p) < 0.5 * (e + prev_e) + (a == 0 ? 10 : 3)) return 1;
        prev_p = p;
        prev_e = e;
        have = 1;
    }
    return 0;
}

/* Ticks of axis a fitted to the current area: automatic with fewer ticks, or
 * custom with every k-th label, until the labels do not touch. */
static void fit_ticks(cairo_t *cr, ndyn_plot_axes *ax, int a, pl_ticks *t)
{
    double len = a == 0 ? ax->area[2] - ax->area[0] : ax->area[3] - ax->area[1];
    double lo = a ? ax->lim[2] : ax->lim[0], hi = a ? ax->lim[3] : ax->lim[1];
    if (ax->custom_ticks[a]) {
        custom_ticks(ax, a, t);
        for (size_t every = 1; every <= t->n; every++) {
            for (size_t i = 0; i < t->n; i++) t->show[i] = i % every == 0;
            if (!ticks_crowded(cr, ax, a, t)) return;
        }
        return;
    }
    long target = (long)(len / (a == 0 ? 80.0 : 42.0));
    if (target > 10) target = 10;
    if (target < 3) target = 3;
    for (; target >= 2; target--) {
        pl_ticks_auto(t, lo, hi, (size_t)target, a == 1 && ax->ylog);
        if (t->n >= 2 && !ticks_crowded(cr, ax, a, t)) return;
    }
    if (t->n < 2) pl_ticks_auto(t, lo, hi, 3, a == 1 && ax->ylog);
    if (!ticks_crowded(cr, ax, a, t)) return;
    /* still crowded with two ticks: keep the first only */
    for (size_t i = 1; i < t->n; i++) t->show[i] = 0;
}

static void legend_size(cairo_t *cr, const ndyn_plot_axes *ax, double *w, double *row_h)
{
    double mw = 0;
    for (size_t i = 0; i < ax->nleg; i++) {
        double tw = pl_text_width(cr, ax->leg[i].label, PL_FS_LEGEND, 0);
        if (tw > mw) mw = tw;
    }
    double more = pl_text_width(cr, "+ 999 more", PL_FS_LEGEND, 0);
    if (ax->nleg > 8 && more > mw) mw = more;
    *w = 8 + 24 + 6 + mw + 8;
    *row_h = pl_text_height(cr, PL_FS_LEGEND, 0) + 5;
}

static void colorbar_ticks(cairo_t *cr, ndyn_plot_axes *ax, double bar_h, double *width)
{
    double lo = ax->cb_vmin, hi = ax->cb_vmax;
    if (!(hi > lo)) {
        lo -= 0.5;
        hi += 0.5;
    }
    long target = (long)(bar_h / 42.0);
    if (target > 8) target = 8;
    if (target < 2) target = 2;
    pl_ticks_auto(&ax->cbt, lo, hi, (size_t)target, 0);
    double w = 14 + PL_TICK_LEN + 3 + max_label_width(cr, &ax->cbt, PL_FS_TICK);
    if (ax->cb_label) w += 6 + pl_text_height(cr, PL_FS_LABEL, 0);
    *width = w;
}

static int layout_axes(ndyn_plot_figure *f, ndyn_plot_axes *ax, cairo_t *cr)
{
    int rc, P = ax->index;
    const double *c = ax->cell;
    double hT = pl_text_height(cr, PL_FS_TICK, 0);
    double hL = pl_text_height(cr, PL_FS_LABEL, 0);
    double hTi = pl_text_height(cr, PL_FS_TITLE, 1);
    int td = ax->view3d;

    if (td) limits_3d(ax);
    else limits_2d(ax);

    double top = c[1] + PL_PAD, bottom = c[3] - PL_PAD, left = c[0] + PL_PAD, right = c[2] - PL_PAD;
    if (ax->title) top += hTi + 8;
    if (!td) {
        if (ax->xlabel) bottom -= hL + 4;
        int xt_shown = !(ax->custom_ticks[0] && ax->n_custom[0] == 0);
        if (xt_shown) bottom -= hT + PL_TICK_LEN + 4;
        if (ax->ylabel) left += hL + 6;
        top += hT / 2; /* the top y tick label reaches above the area */
    }
    int legend = ax->legend_show < 0 ? ax->nleg > 0 : ax->legend_show && ax->nleg > 0;
    double leg_w = 0, leg_rh = 0, cb_w = 0;
    if (legend) {
        legend_size(cr, ax, &leg_w, &leg_rh);
        right -= leg_w + 12;
    }
    if (ax->cbar) {
        colorbar_ticks(cr, ax, bottom - top, &cb_w);
        right -= cb_w + 14;
    }
    /* y ticks need the area's height only */
    double yt_w = 0;
    if (!td) {
        ax->area[1] = top;
        ax->area[3] = bottom;
        ax->area[0] = left;
        ax->area[2] = right > left + 1 ? right : left + 1;
        fit_ticks(cr, ax, 1, &ax->yt);
        yt_w = max_label_width(cr, &ax->yt, PL_FS_TICK);
        if (ax->yt.n) left += yt_w + PL_TICK_LEN + 4;
        /* half of the last x tick label may reach past the area on the right */
        if (!legend && !ax->cbar) right -= 0.5 * pl_text_width(cr, "00000", PL_FS_TICK, 0);
    }
    ax->used_left = left - c[0];
    ax->used_right = c[2] - right;
    if (ax->used_left < ax->min_left) left = c[0] + ax->min_left;
    if (ax->used_right < ax->min_right) right = c[2] - ax->min_right;
    if (right - left < 24 || bottom - top < 24)
        return ndyn_error(NDYN_EINVAL,
                          "panel %d has no room to draw (%.0f x %.0f pixels left after labels); make the "
                          "figure larger or use fewer panels",
                          P, right - left, bottom - top);
    ax->area[0] = round(left);
    ax->area[1] = round(top);
    ax->area[2] = round(right);
    ax->area[3] = round(bottom);
    if (ax->equal || td) {
        /* one data unit has the same length on both axes: widen the automatic
           limits of the axis with more pixels per unit, or, when that axis has
           fixed limits (and always in 3-D), shrink the area */
        double w = ax->area[2] - ax->area[0], h = ax->area[3] - ax->area[1];
        double dx = ax->lim[1] - ax->lim[0], dy = ax->lim[3] - ax->lim[2];
        double sx = w / dx, sy = h / dy;
        int heat = 0;
        for (size_t k = 0; k < ax->nmarks; k++)
            heat |= ax->marks[k].kind == PL_HEATMAP || ax->marks[k].kind == PL_HEATCAT;
        if (sx > sy && !td && !heat && !ax->xlim_set) {
            double nd = w / sy, mid = 0.5 * (ax->lim[0] + ax->lim[1]);
            ax->lim[0] = mid - nd / 2;
            ax->lim[1] = mid + nd / 2;
        } else if (sy > sx && !td && !heat && !ax->ylim_set) {
            double nd = h / sx, mid = 0.5 * (ax->lim[2] + ax->lim[3]);
            ax->lim[2] = mid - nd / 2;
            ax->lim[3] = mid + nd / 2;
        } else if (sx > sy) {
            double nw = round(dx * sy), d = round((w - nw) / 2);
            ax->area[0] += d;
            ax->area[2] = ax->area[0] + nw;
        } else {
            double nh = round(dy * sx), d = round((h - nh) / 2);
            ax->area[1] += d;
            ax->area[3] = ax->area[1] + nh;
        }
    }
    if (!td) {
        pl_ticks t;
        fit_ticks(cr, ax, 1, &t);
        if (max_label_width(cr, &t, PL_FS_TICK) <= yt_w + 0.5) ax->yt = t;
        fit_ticks(cr, ax, 0, &ax->xt);
    } else {
        ax->xt.n = ax->yt.n = 0;
    }
    const double *a = ax->area;
    if ((rc = add_box(f, a[0], a[1], a[2], a[3], NDYN_PLOT_BOX_AREA, P))) return rc;

    /* title, axis labels */
    if (ax->title) {
        double w = pl_text_width(cr, ax->title, PL_FS_TITLE, 1);
        double x0 = 0.5 * (a[0] + a[2]) - w / 2;
        if (x0 + w > c[2] - 2) x0 = c[2] - 2 - w;
        if (x0 < c[0] + 2) x0 = c[0] + 2;
        double y0 = c[1] + PL_PAD;
        ax->title_xy[0] = x0;
        ax->title_xy[1] = y0;
        if ((rc = add_box(f, x0, y0, x0 + w, y0 + hTi, NDYN_PLOT_BOX_TITLE, P))) return rc;
    }
    if (ax->xlabel && !td) {
        double w = pl_text_width(cr, ax->xlabel, PL_FS_LABEL, 0);
        double x0 = 0.5 * (a[0] + a[2]) - w / 2;
        if (x0 < c[0] + 2) x0 = c[0] + 2;
        /* just under the tick labels (the area may have shrunk for equal aspect) */
        int xt_shown = !(ax->custom_ticks[0] && ax->n_custom[0] == 0);
        double y0 = a[3] + (xt_shown ? PL_TICK_LEN + 4 + hT : 0) + 4;
        if (y0 > c[3] - PL_PAD - hL) y0 = c[3] - PL_PAD - hL;
        ax->xlabel_xy[0] = x0;
        ax->xlabel_xy[1] = y0;
        if ((rc = add_box(f, x0, y0, x0 + w, y0 + hL, NDYN_PLOT_BOX_XLABEL, P))) return rc;
    }
    if (ax->ylabel && !td) {
        double w = pl_text_width(cr, ax->ylabel, PL_FS_LABEL, 0);
        double y0 = 0.5 * (a[1] + a[3]) - w / 2;
        if (y0 < c[1] + 2) y0 = c[1] + 2;
        double x0 = a[0] - (ax->yt.n ? max_label_width(cr, &ax->yt, PL_FS_TICK) + PL_TICK_LEN + 4 : 0) - 6 - hL;
        if (x0 < c[0] + PL_PAD) x0 = c[0] + PL_PAD;
        ax->ylabel_xy[0] = x0;
        ax->ylabel_xy[1] = y0;
        if ((rc = add_box(f, x0, y0, x0 + hL, y0 + w, NDYN_PLOT_BOX_YLABEL, P))) return rc;
    }
    /* colour bar and legend, right of the area */
    double xr = a[2] + 14;
    if (ax->cbar) {
        double bw;
        colorbar_ticks(cr, ax, a[3] - a[1], &bw);
        ax->cb_box[0] = xr;
        ax->cb_box[1] = a[1];
        ax->cb_box[2] = xr + 14;
        ax->cb_box[3] = a[3];
        double lw = max_label_width(cr, &ax->cbt, PL_FS_TICK);
        ax->cb_label_xy[0] = xr + 14 + PL_TICK_LEN + 3 + lw + 6;
        if (ax->cb_label) {
            double w = pl_text_width(cr, ax->cb_label, PL_FS_LABEL, 0);
            ax->cb_label_xy[1] = 0.5 * (a[1] + a[3]) - w / 2;
            if (ax->cb_label_xy[1] < c[1] + 2) ax->cb_label_xy[1] = c[1] + 2;
        }
        if ((rc = add_box(f, xr, a[1] - hT / 2, xr + bw, a[3] + hT / 2, NDYN_PLOT_BOX_COLORBAR, P))) return rc;
        xr += bw + 12;
    }
    ax->leg_shown = 0;
    if (legend) {
        double avail = c[3] - PL_PAD - a[1] - 12;
        size_t fit = (size_t)(avail / leg_rh);
        size_t rows = ax->nleg;
        ax->leg_shown = ax->nleg;
        if (rows > fit) {
            ax->leg_shown = fit > 1 ? fit - 1 : 0;
            rows = ax->leg_shown + 1;
        }
        ax->leg_box[0] = xr;
        ax->leg_box[1] = a[1];
        ax->leg_box[2] = xr + leg_w;
        ax->leg_box[3] = a[1] + 12 + rows * leg_rh;
        if ((rc = add_box(f, ax->leg_box[0], ax->leg_box[1], ax->leg_box[2], ax->leg_box[3],
                          NDYN_PLOT_BOX_LEGEND, P)))
            return rc;
    }
    /* tick labels */
    /* x tick labels stay inside the cell and clear of a legend reaching below the area */
    double xr_lim = c[2] - 2;
    if (legend && ax->leg_box[3] > a[3] + PL_TICK_LEN) xr_lim = ax->leg_box[0] - 4;
    for (size_t i = 0; i < ax->xt.n; i++) {
        if (!ax->xt.show[i]) continue;
        double w = pl_text_width(cr, ax->xt.label[i], PL_FS_TICK, 0);
        double px = tick_px(ax, 0, ax->xt.pos[i]);
        double x0 = px - w / 2, y0 = a[3] + PL_TICK_LEN + 3;
        if (x0 + w > xr_lim || x0 < c[0] + 1) {
            ax->xt.show[i] = 0;
            continue;
        }
        if ((rc = add_box(f, x0, y0, x0 + w, y0 + hT, NDYN_PLOT_BOX_XTICK, P))) return rc;
    }
    for (size_t i = 0; i < ax->yt.n; i++) {
        if (!ax->yt.show[i]) continue;
        double w = pl_text_width(cr, ax->yt.label[i], PL_FS_TICK, 0);
        double py = tick_px(ax, 1, ax->yt.pos[i]);
        double x1 = a[0] - PL_TICK_LEN - 3;
        if ((rc = add_box(f, x1 - w, py - hT / 2, x1, py + hT / 2, NDYN_PLOT_BOX_YTICK, P))) return rc;
    }
    /* free text marks */
    for (size_t k = 0; k < ax->nmarks; k++) {
        pl_mark *m = &ax->marks[k];
        if (m->kind != PL_TEXT) continue;
        double px, py, w = pl_text_width(cr, m->text, PL_FS_TEXT, 0), h = pl_text_height(cr, PL_FS_TEXT, 0);
        pl_data_to_px(ax, m->x[0], pl_ytransform(ax, m->y[0]), &px, &py);
        if ((rc = add_box(f, px - w / 2, py - h / 2, px + w / 2, py + h / 2, NDYN_PLOT_BOX_TEXT, P))) return rc;
    }
    ax->laid_out = 1;
    return NDYN_OK;
}

static int layout_pass(ndyn_plot_figure *f, cairo_t *cr);

int pl_layout(ndyn_plot_figure *f, cairo_t *cr)
{
    for (size_t i = 0; i < f->naxes; i++) f->axes[i]->min_left = f->axes[i]->min_right = 0;
    int rc = layout_pass(f, cr);
    if (rc || !f->align) return rc;
    /* second pass: panels over the same columns share the widest margins */
    for (size_t i = 0; i < f->naxes; i++) {
        ndyn_plot_axes *a = f->axes[i];
        for (size_t j = 0; j < f->naxes; j++) {
            ndyn_plot_axes *b = f->axes[j];
            if (a->col != b->col || a->colspan != b->colspan) continue;
            if (b->used_left > a->min_left) a->min_left = b->used_left;
            if (b->used_right > a->min_right) a->min_right = b->used_right;
        }
    }
    return layout_pass(f, cr);
}

static int layout_pass(ndyn_plot_figure *f, cairo_t *cr)
{
    f->nboxes = 0;
    f->laid_out = 0;
    double top = 0;
    if (f->title) {
        double w = pl_text_width(cr, f->title, PL_FS_FIGTITLE, 1);
        double h = pl_text_height(cr, PL_FS_FIGTITLE, 1);
        f->title_xy[0] = 0.5 * (f->width - w);
        if (f->title_xy[0] < 2) f->title_xy[0] = 2;
        f->title_xy[1] = 8;
        int rc = add_box(f, f->title_xy[0], 8, f->title_xy[0] + w, 8 + h, NDYN_PLOT_BOX_FIGURE_TITLE, -1);
        if (rc) return rc;
        top = 8 + h + 4;
    }
    double cw = (double)f->width / f->ncols, ch = (f->height - top) / f->nrows;
    for (size_t i = 0; i < f->naxes; i++) {
        ndyn_plot_axes *ax = f->axes[i];
        ax->cell[0] = ax->col * cw;
        ax->cell[1] = top + ax->row * ch;
        ax->cell[2] = (ax->col + ax->colspan) * cw;
        ax->cell[3] = top + (ax->row + ax->rowspan) * ch;
        int rc = layout_axes(f, ax, cr);
        if (rc) return rc;
    }
    f->laid_out = 1;
    return NDYN_OK;
}
