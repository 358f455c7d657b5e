/* Rendering a laid-out figure onto a cairo context: marks clipped to their
 * plotting area, then frames, ticks, labels, colour bars and legends. */
#include "plot_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_color(cairo_t *cr, ndyn_plot_color c, double alpha)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, (c.a > 0 ? c.a : 1) * alpha);
}

static ndyn_plot_color point_color(const pl_mark *m, size_t i)
{
    if (m->category) return ndyn_plot_category_color(m->category[i]);
    if (m->values) {
        double r = m->vmax - m->vmin;
        return ndyn_plot_viridis(r > 0 ? (m->values[i] - m->vmin) / r : 0.5);
    }
    return m->color;
}

static int same_color(ndyn_plot_color a, ndyn_plot_color b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b && a.a == b.a;
}

static void mark_px(const ndyn_plot_axes *ax, const pl_mark *m, size_t i, double *px, double *py,
                    double *depth)
{
    if (m->three_d) {
        double sx, sy;
        pl_project3(ax, m->x[i], m->y[i], m->z[i], &sx, &sy, depth);
        pl_data_to_px(ax, sx, sy, px, py);
    } else {
        pl_data_to_px(ax, m->x[i], pl_ytransform(ax, m->y[i]), px, py);
        if (depth) *depth = 0;
    }
}

typedef struct { double d; size_t i; } depth_idx;

static int cmp_depth(const void *a, const void *b)
{
    double x = ((const depth_idx *)a)->d, y = ((const depth_idx *)b)->d;
    return (x > y) - (x < y);
}

static int draw_scatter(cairo_t *cr, const ndyn_plot_axes *ax, const pl_mark *m)
{
    double r = 0.5 * m->size;
    depth_idx *order = NULL;
    if (m->three_d) { /* far points first */
        order = ndyn_malloc_array(m->n, sizeof *order);
        if (!order) return NDYN_ENOMEM;
        for (size_t i = 0; i < m->n; i++) {
            double px, py;
            mark_px(ax, m, i, &px, &py, &order[i].d);
            order[i].i = i;
        }
        qsort(order, m->n, sizeof *order, cmp_depth);
    }
    int uniform = !m->category && !m->values;
    if (uniform) set_color(cr, m->color, m->alpha);
    for (size_t k = 0; k < m->n; k++) {
        size_t i = order ? order[k].i : k;
        double px, py;
        mark_px(ax, m, i, &px, &py, NULL);
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r, 0, 2 * M_PI);
        if (!uniform) {
            set_color(cr, point_color(m, i), m->alpha);
            cairo_fill(cr);
        }
    }
    if (uniform) cairo_fill(cr);
    free(order);
    return NDYN_OK;
}

static void draw_line(cairo_t *cr, const ndyn_plot_axes *ax, const pl_mark *m)
{
    cairo_set_line_width(cr, m->size);
    if (m->dashed) {
        double d[2] = {6, 4};
        cairo_set_dash(cr, d, 2, 0);
    }
    size_t i = 0;
    while (i + 1 < m->n) {
        ndyn_plot_color c = point_color(m, i);
        double px, py;
        mark_px(ax, m, i, &px, &py, NULL);
        cairo_move_to(cr, px, py);
        size_t j = i;
        while (j + 1 < m->n && same_color(point_color(m, j), c)) {
            mark_px(ax, m, j + 1, &px, &py, NULL);
            cairo_line_to(cr, px, py);
            j++;
        }
        set_color(cr, c, m->alpha);
        cairo_stroke(cr);
        i = j;
    }
    cairo_set_dash(cr, NULL, 0, 0);
}

static void draw_quiver(cairo_t *cr, const ndyn_plot_axes *ax, const pl_mark *m)
{
    cairo_set_line_width(cr, m->size);
    for (size_t i = 0; i < m->n; i++) {
        double x0, y0, x1, y1;
        pl_data_to_px(ax, m->x[i], m->y[i], &x0, &y0);
        pl_data_to_px(ax, m->x[i] + m->scale_used * m->u[i], m->y[i] + m->scale_used * m->v[i], &x1, &y1);
        double dx = x1 - x0, dy = y1 - y0, L = hypot(dx, dy);
        set_color(cr, point_color(m, i), m->alpha);
        if (L < 0.5) continue;
        double ux = dx / L, uy = dy / L;
        double head = 0.35 * L;
        double hmax = 4 + 3 * m->size;
        if (head > hmax) head = hmax;
        cairo_move_to(cr, x0, y0);
        cairo_line_to(cr, x1 - 0.7 * head * ux, y1 - 0.7 * head * uy);
        cairo_stroke(cr);
        cairo_move_to(cr, x1, y1);
        cairo_line_to(cr, x1 - head * ux - 0.45 * head * uy, y1 - head * uy + 0.45 * head * ux);
        cairo_line_to(cr, x1 - head * ux + 0.45 * head * uy, y1 - head * uy - 0.45 * head * ux);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
}

static int draw_heat(cairo_t *cr, const ndyn_plot_axes *ax, const pl_mark *m)
{
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)m->nc, (int)m->nr);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return ndyn_error(NDYN_ENOMEM, "heatmap of %zu x %zu cells: cannot allocate its image", m->nr, m->nc);
    }
    cairo_surface_flush(img);
    unsigned char *data = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    double r = m->vmax - m->vmin;
    for (size_t i = 0; i < m->nr; i++) {
        uint32_t *row = (uint32_t *)(data + (size_t)stride * i);
        for (size_t j = 0; j < m->nc; j++) {
            ndyn_plot_color c;
            if (m->kind == PL_HEATMAP) {
                double v = m->values[i * m->nc + j];
                c = ndyn_plot_viridis(v == v ? (r > 0 ? (v - m->vmin) / r : 0.5) : NAN);
            } else {
                int k = m->category[i * m->nc + j];
                c = k < 0 ? ndyn_plot_rgb(1, 1, 1) : ndyn_plot_category_color(k);
            }
            uint32_t R = (uint32_t)lround(c.r * 255), G = (uint32_t)lround(c.g * 255), B = (uint32_t)lround(c.b * 255);
            row[j] = 0xff000000u | (R << 16) | (G << 8) | B;
        }
    }
    cairo_surface_mark_dirty(img);
    double X0, X1, Yt, Yb;
    pl_data_to_px(ax, m->extent[0], m->extent[3], &X0, &Yt);
    pl_data_to_px(ax, m->extent[1], m->extent[2], &X1, &Yb);
    cairo_save(cr);
    cairo_rectangle(cr, X0, Yt, X1 - X0, Yb - Yt);
    cairo_clip(cr);
    cairo_translate(cr, X0, Yt);
    cairo_scale(cr, (X1 - X0) / (double)m->nc, (Yb - Yt) / (double)m->nr);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    return NDYN_OK;
}

static void draw_text_mark(cairo_t *cr, const ndyn_plot_axes *ax, const pl_mark *m)
{
    double px, py;
    pl_data_to_px(ax, m->x[0], pl_ytransform(ax, m->y[0]), &px, &py);
    double w = pl_text_width(cr, m->text, PL_FS_TEXT, 0), h = pl_text_height(cr, PL_FS_TEXT, 0);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    pl_draw_text(cr, m->text, px - w / 2, py - h / 2, PL_FS_TEXT, 0, 0);
}

static void draw_cube(cairo_t *cr, const ndyn_plot_axes *ax, int labels)
{
    const double *l = ax->lim3;
    if (labels) goto labels;
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    for (int c = 0; c < 8; c++)
        for (int d = 0; d < 3; d++) {
            if (c & (1 << d)) continue;
            int e = c | (1 << d);
            double px0, py0, px1, py1, sx, sy;
            pl_project3(ax, l[c & 1], l[2 + ((c >> 1) & 1)], l[4 + ((c >> 2) & 1)], &sx, &sy, NULL);
            pl_data_to_px(ax, sx, sy, &px0, &py0);
            pl_project3(ax, l[e & 1], l[2 + ((e >> 1) & 1)], l[4 + ((e >> 2) & 1)], &sx, &sy, NULL);
            pl_data_to_px(ax, sx, sy, &px1, &py1);
            cairo_move_to(cr, px0, py0);
            cairo_line_to(cr, px1, py1);
        }
    cairo_stroke(cr);
    return;
labels:;
    /* axis names at the middle of an outer edge of each axis direction */
    const char *names[3] = {ax->xlabel ? ax->xlabel : "x", ax->ylabel ? ax->ylabel : "y",
                            ax->zlabel ? ax->zlabel : "z"};
    double cx, cy;
    pl_data_to_px(ax, 0, 0, &cx, &cy);
    for (int d = 0; d < 3; d++) {
        double best = -INFINITY, bx = 0, by = 0;
        for (int c = 0; c < 8; c++) {
            if (c & (1 << d)) continue;
            double p[3];
            for (int k = 0; k < 3; k++) p[k] = l[2 * k + ((c >> k) & 1)];
            p[d] = 0.5 * (l[2 * d] + l[2 * d + 1]);
            double sx, sy, px, py;
            pl_project3(ax, p[0], p[1], p[2], &sx, &sy, NULL);
            pl_data_to_px(ax, sx, sy, &px, &py);
            /* x, y: the lowest edge on screen; z: the leftmost */
            double score = d < 2 ? py : -px;
            if (score > best) {
                best = score;
                bx = px;
                by = py;
            }
        }
        double ox = bx - cx, oy = by - cy, L = hypot(ox, oy);
        if (L > 0) {
            ox /= L;
            oy /= L;
        }
        double w = pl_text_width(cr, names[d], PL_FS_LABEL, 0), h = pl_text_height(cr, PL_FS_LABEL, 0);
        double tx = bx + ox * (0.5 * w + 8) - w / 2, ty = by + oy * (0.5 * h + 8) - h / 2;
        if (tx + w > ax->cell[2] - 2) tx = ax->cell[2] - 2 - w;
        if (tx < ax->cell[0] + 2) tx = ax->cell[0] + 2;
        if (ty + h > ax->cell[3] - 2) ty = ax->cell[3] - 2 - h;
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        pl_draw_text(cr, names[d], tx, ty, PL_FS_LABEL, 0, 0);
    }
}

static void draw_ticks(cairo_t *cr, const ndyn_plot_axes *ax)
{
    const double *a = ax->area;
    double hT = pl_text_height(cr, PL_FS_TICK, 0);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    for (size_t i = 0; i < ax->xt.n; i++) {
        double px, py;
        pl_data_to_px(ax, ax->xt.pos[i], ax->lim[2], &px, &py);
        px = floor(px) + 0.5;
        cairo_move_to(cr, px, a[3]);
        cairo_line_to(cr, px, a[3] + PL_TICK_LEN);
    }
    for (size_t i = 0; i < ax->yt.n; i++) {
        double px, py;
        pl_data_to_px(ax, ax->lim[0], ax->yt.pos[i], &px, &py);
        py = floor(py) + 0.5;
        cairo_move_to(cr, a[0], py);
        cairo_line_to(cr, a[0] - PL_TICK_LEN, py);
    }
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    for (size_t i = 0; i < ax->xt.n; i++) {
        if (!ax->xt.show[i]) continue;
        double px, py, w = pl_text_width(cr, ax->xt.label[i], PL_FS_TICK, 0);
        pl_data_to_px(ax, ax->xt.pos[i], ax->lim[2], &px, &py);
        pl_draw_text(cr, ax->xt.label[i], px - w / 2, a[3] + PL_TICK_LEN + 3, PL_FS_TICK, 0, 0);
    }
    for (size_t i = 0; i < ax->yt.n; i++) {
        if (!ax->yt.show[i]) continue;
        double px, py, w = pl_text_width(cr, ax->yt.label[i], PL_FS_TICK, 0);
        pl_data_to_px(ax, ax->lim[0], ax->yt.pos[i], &px, &py);
        pl_draw_text(cr, ax->yt.label[i], a[0] - PL_TICK_LEN - 3 - w, py - hT / 2, PL_FS_TICK, 0, 0);
    }
}

static void draw_grid(cairo_t *cr, const ndyn_plot_axes *ax)
{
    const double *a = ax->area;
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.91, 0.91, 0.91);
    for (size_t i = 0; i < ax->xt.n; i++) {
        double px, py;
        pl_data_to_px(ax, ax->xt.pos[i], ax->lim[2], &px, &py);
        px = floor(px) + 0.5;
        cairo_move_to(cr, px, a[1]);
        cairo_line_to(cr, px, a[3]);
    }
    for (size_t i = 0; i < ax->yt.n; i++) {
        double px, py;
        pl_data_to_px(ax, ax->lim[0], ax->yt.pos[i], &px, &py);
        py = floor(py) + 0.5;
        cairo_move_to(cr, a[0], py);
        cairo_line_to(cr, a[2], py);
    }
    cairo_stroke(cr);
}

static void draw_colorbar(cairo_t *cr, const ndyn_plot_axes *ax)
{
    const double *b = ax->cb_box;
    double h = b[3] - b[1];
    cairo_pattern_t *g = cairo_pattern_create_linear(0, b[3], 0, b[1]);
    for (int i = 0; i <= 32; i++) {
        ndyn_plot_color c = ndyn_plot_viridis(i / 32.0);
        cairo_pattern_add_color_stop_rgb(g, i / 32.0, c.r, c.g, c.b);
    }
    cairo_rectangle(cr, b[0], b[1], b[2] - b[0], h);
    cairo_set_source(cr, g);
    cairo_fill(cr);
    cairo_pattern_destroy(g);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, b[0] + 0.5, b[1] + 0.5, b[2] - b[0] - 1, h - 1);
    cairo_stroke(cr);
    double lo = ax->cb_vmin, hi = ax->cb_vmax;
    if (!(hi > lo)) {
        lo -= 0.5;
        hi += 0.5;
    }
    double hT = pl_text_height(cr, PL_FS_TICK, 0);
    for (size_t i = 0; i < ax->cbt.n; i++) {
        double py = b[3] - (ax->cbt.pos[i] - lo) / (hi - lo) * h;
        cairo_move_to(cr, b[2], floor(py) + 0.5);
        cairo_line_to(cr, b[2] + PL_TICK_LEN, floor(py) + 0.5);
        cairo_stroke(cr);
        pl_draw_text(cr, ax->cbt.label[i], b[2] + PL_TICK_LEN + 3, py - hT / 2, PL_FS_TICK, 0, 0);
    }
    if (ax->cb_label)
        pl_draw_text(cr, ax->cb_label, ax->cb_label_xy[0], ax->cb_label_xy[1], PL_FS_LABEL, 0, 1);
}

static void draw_legend(cairo_t *cr, const ndyn_plot_axes *ax)
{
    const double *b = ax->leg_box;
    cairo_rectangle(cr, b[0] + 0.5, b[1] + 0.5, b[2] - b[0] - 1, b[3] - b[1] - 1);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double rh = pl_text_height(cr, PL_FS_LEGEND, 0) + 5, hT = pl_text_height(cr, PL_FS_LEGEND, 0);
    double y = b[1] + 6;
    for (size_t i = 0; i < ax->leg_shown; i++) {
        const pl_legend_entry *e = &ax->leg[i];
        double cy = y + rh / 2, sx = b[0] + 8;
        set_color(cr, e->color, 1);
        switch (e->kind) {
        case PL_LEG_MARKER:
            cairo_arc(cr, sx + 12, cy, 4, 0, 2 * M_PI);
            cairo_fill(cr);
            break;
        case PL_LEG_LINE:
        case PL_LEG_ARROW:
            cairo_set_line_width(cr, 2.5);
            if (e->dashed) {
                double d[2] = {5, 3};
                cairo_set_dash(cr, d, 2, 0);
            }
            cairo_move_to(cr, sx, cy);
            cairo_line_to(cr, sx + 24, cy);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
            if (e->kind == PL_LEG_ARROW) {
                cairo_move_to(cr, sx + 26, cy);
                cairo_line_to(cr, sx + 19, cy - 4);
                cairo_line_to(cr, sx + 19, cy + 4);
                cairo_close_path(cr);
                cairo_fill(cr);
            }
            break;
        case PL_LEG_PATCH:
            cairo_rectangle(cr, sx + 3, cy - 6, 18, 12);
            cairo_fill(cr);
            break;
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        pl_draw_text(cr, e->label, sx + 30, cy - hT / 2, PL_FS_LEGEND, 0, 0);
        y += rh;
    }
    if (ax->leg_shown < ax->nleg) {
        char buf[40];
        snprintf(buf, sizeof buf, "+ %zu more", ax->nleg - ax->leg_shown);
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        pl_draw_text(cr, buf, b[0] + 38, y + rh / 2 - hT / 2, PL_FS_LEGEND, 0, 0);
    }
}

static int render_axes(cairo_t *cr, const ndyn_plot_axes *ax)
{
    const double *a = ax->area;
    int only_heat = ax->nmarks > 0;
    for (size_t k = 0; k < ax->nmarks; k++)
        if (ax->marks[k].kind != PL_HEATMAP && ax->marks[k].kind != PL_HEATCAT) only_heat = 0;
    if (!ax->view3d && !only_heat) draw_grid(cr, ax);
    cairo_save(cr);
    cairo_rectangle(cr, a[0], a[1], a[2] - a[0], a[3] - a[1]);
    cairo_clip(cr);
    if (ax->view3d) draw_cube(cr, ax, 0);
    for (size_t k = 0; k < ax->nmarks; k++) {
        const pl_mark *m = &ax->marks[k];
        int rc = NDYN_OK;
        switch (m->kind) {
        case PL_SCATTER: rc = draw_scatter(cr, ax, m); break;
        case PL_LINE: draw_line(cr, ax, m); break;
        case PL_QUIVER: draw_quiver(cr, ax, m); break;
        case PL_HEATMAP:
        case PL_HEATCAT: rc = draw_heat(cr, ax, m); break;
        case PL_TEXT: draw_text_mark(cr, ax, m); break;
        }
        if (rc) {
            cairo_restore(cr);
            return rc;
        }
    }
    cairo_restore(cr);
    if (ax->view3d) draw_cube(cr, ax, 1);
    if (!ax->view3d) {
        cairo_set_line_width(cr, 1);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_rectangle(cr, a[0] - 0.5, a[1] - 0.5, a[2] - a[0] + 1, a[3] - a[1] + 1);
        cairo_stroke(cr);
        draw_ticks(cr, ax);
    }
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    if (ax->title) pl_draw_text(cr, ax->title, ax->title_xy[0], ax->title_xy[1], PL_FS_TITLE, 1, 0);
    if (!ax->view3d) {
        if (ax->xlabel) pl_draw_text(cr, ax->xlabel, ax->xlabel_xy[0], ax->xlabel_xy[1], PL_FS_LABEL, 0, 0);
        if (ax->ylabel) pl_draw_text(cr, ax->ylabel, ax->ylabel_xy[0], ax->ylabel_xy[1], PL_FS_LABEL, 0, 1);
    }
    if (ax->cbar) draw_colorbar(cr, ax);
    if (ax->leg_shown || ax->nleg) {
        int legend = ax->legend_show < 0 ? ax->nleg > 0 : ax->legend_show && ax->nleg > 0;
        if (legend) draw_legend(cr, ax);
    }
    return NDYN_OK;
}

int pl_render(ndyn_plot_figure *f, cairo_t *cr)
{
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    if (f->title) {
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        pl_draw_text(cr, f->title, f->title_xy[0], f->title_xy[1], PL_FS_FIGTITLE, 1, 0);
    }
    for (size_t i = 0; i < f->naxes; i++) {
        int rc = render_axes(cr, f->axes[i]);
        if (rc) return rc;
    }
    return NDYN_OK;
}
