/* The plotting layer, checked on the pixels of the PNGs it writes: size,
 * where a point, a line and heatmap cells land and in which colour (viridis
 * and Tableau 10 reference colours from their published tables), that no two
 * pieces of text overlap, SVG/PDF output, and clear errors on bad input. */
#include "test.h"

#include "ndyn/io.h"
#include "ndyn/plot.h"
#include "plot_test_util.h"

static ndyn_plot_figure *one_panel(int w, int h, ndyn_plot_axes **ax)
{
    ndyn_plot_figure *f = NULL;
    CHECK_OK(ndyn_plot_figure_new(w, h, 1, 1, &f));
    CHECK_OK(ndyn_plot_figure_panel(f, 0, 0, 1, 1, ax));
    return f;
}

TEST(png_size_and_background)
{
    atexit(ndyn_plot_cleanup); /* fontconfig's caches, for the leak checker */
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(321, 213, &ax);
    double x[2] = {0, 1}, y[2] = {0, 1};
    CHECK_OK(ndyn_plot_scatter(ax, x, y, 2, NULL));
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("size.png", path, sizeof path)));
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    CHECK(p.w == 321 && p.h == 213);
    CHECK(t_px_is(&p, 1, 1, 255, 255, 255, 0));          /* white corner */
    CHECK(t_px_is(&p, 319, 211, 255, 255, 255, 0));
    t_png_free(&p);
    ndyn_plot_figure_free(f);
}

TEST(point_lands_on_expected_pixel)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(400, 300, &ax);
    CHECK_OK(ndyn_plot_axes_set_xlim(ax, 0, 1));
    CHECK_OK(ndyn_plot_axes_set_ylim(ax, 0, 1));
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.color = ndyn_plot_rgb(1, 0, 0);
    s.size = 9;
    double x = 0.25, y = 0.75;
    CHECK_OK(ndyn_plot_scatter(ax, &x, &y, 1, &s));
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("point.png", path, sizeof path)));
    double a0, a1, a2, a3;
    CHECK_OK(ndyn_plot_axes_area(ax, &a0, &a1, &a2, &a3));
    CHECK(a0 > 20 && a2 < 400 && a1 > 0 && a3 < 300 && a2 - a0 > 200 && a3 - a1 > 150);
    /* expected pixel from the area and the limits: a linear map, y upwards */
    double ex = a0 + 0.25 * (a2 - a0), ey = a3 - 0.75 * (a3 - a1);
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    CHECKF(t_px_is(&p, ex, ey, 255, 0, 0, 8), "no red at (%.1f, %.1f)", ex, ey);
    CHECK(t_px_is(&p, ex + 3, ey, 255, 0, 0, 40));
    CHECK(!t_px_is(&p, ex + 12, ey, 255, 0, 0, 60));
    CHECK(!t_px_is(&p, ex, ey + 12, 255, 0, 0, 60));
    /* the red blob is the only red in the image and centred on (ex, ey) */
    long n = 0;
    double sx = 0, sy = 0;
    for (int yy = 0; yy < p.h; yy++)
        for (int xx = 0; xx < p.w; xx++)
            if (t_px_is(&p, xx, yy, 255, 0, 0, 30)) {
                n++;
                sx += xx;
                sy += yy;
            }
    CHECK(n > 20 && n < 120);
    CHECK_CLOSE(sx / n, ex, 1.0, 0);
    CHECK_CLOSE(sy / n, ey, 1.0, 0);
    /* the frame of the area is drawn where the layout says */
    CHECK(t_px_is(&p, a0 - 1, 0.5 * (a1 + a3), 51, 51, 51, 40));
    CHECK(t_px_is(&p, 0.5 * (a0 + a2), a3, 51, 51, 51, 40));
    double qx, qy;
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, 0.25, 0.75, 0, &qx, &qy));
    CHECK_CLOSE(qx, ex, 1e-9, 0);
    CHECK_CLOSE(qy, ey, 1e-9, 0);
    t_png_free(&p);
    ndyn_plot_figure_free(f);
}

TEST(heatmap_cells_have_viridis_colours)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(420, 320, &ax);
    /* 3 x 4: minimum top-left, maximum bottom-right, midpoint at (1, 1) */
    double z[12] = {0, 2, 3, 4, 5, 5, 6, 7, 8, 9, 9, 10};
    CHECK_OK(ndyn_plot_heatmap(ax, z, 3, 4, NULL, 0, 0, "value"));
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("heat.png", path, sizeof path)));
    double a0, a1, a2, a3;
    CHECK_OK(ndyn_plot_axes_area(ax, &a0, &a1, &a2, &a3));
    double cw = (a2 - a0) / 4, ch = (a3 - a1) / 3;
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    /* viridis(0) = #440154, viridis(1) = #FDE725, viridis(0.5) = #21918C
       (matplotlib's published table) */
    CHECK(t_px_is(&p, a0 + 0.5 * cw, a1 + 0.5 * ch, 0x44, 0x01, 0x54, 2));
    CHECK(t_px_is(&p, a0 + 3.5 * cw, a1 + 2.5 * ch, 0xfd, 0xe7, 0x25, 2));
    CHECK(t_px_is(&p, a0 + 1.5 * cw, a1 + 1.5 * ch, 0x21, 0x91, 0x8c, 3));
    /* cells are flat: a pixel near the cell's corner has the same colour */
    CHECK(t_px_is(&p, a0 + 0.1 * cw + 2, a1 + 0.1 * ch + 2, 0x44, 0x01, 0x54, 2));
    t_png_free(&p);
    ndyn_plot_figure_free(f);
}

TEST(viridis_and_palette_tables)
{
    ndyn_plot_color c = ndyn_plot_viridis(0);
    CHECK_CLOSE(c.r, 0.267004, 1e-6, 0);
    CHECK_CLOSE(c.b, 0.329415, 1e-6, 0);
    c = ndyn_plot_viridis(1);
    CHECK_CLOSE(c.g, 0.906157, 1e-6, 0);
    c = ndyn_plot_viridis(2); /* clamped */
    CHECK_CLOSE(c.r, 0.993248, 1e-6, 0);
    /* lightness grows monotonically along viridis (Rec. 709 luma as a proxy) */
    double prev = -1;
    int mono = 1;
    for (int i = 0; i <= 100; i++) {
        c = ndyn_plot_viridis(i / 100.0);
        double l = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
        if (l < prev - 1e-9) mono = 0;
        prev = l;
    }
    CHECK(mono);
    c = ndyn_plot_category_color(1); /* tab:orange #ff7f0e */
    CHECK_CLOSE(c.r * 255, 0xff, 1e-9, 0);
    CHECK_CLOSE(c.g * 255, 0x7f, 1e-9, 0);
    CHECK_CLOSE(c.b * 255, 0x0e, 1e-9, 0);
    c = ndyn_plot_category_color(10); /* cycles */
    CHECK_CLOSE(c.r * 255, 0x1f, 1e-9, 0);
}

TEST(line_passes_through_expected_pixels)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(400, 400, &ax);
    CHECK_OK(ndyn_plot_axes_set_xlim(ax, 0, 2));
    CHECK_OK(ndyn_plot_axes_set_ylim(ax, -1, 1));
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.color = ndyn_plot_rgb(0, 0, 1);
    s.size = 3;
    double x[2] = {0, 2}, y[2] = {-1, 1};
    CHECK_OK(ndyn_plot_line(ax, x, y, 2, &s));
    s.color = ndyn_plot_rgb(0, 0.8, 0);
    double xh[3] = {0, 1, 2}, yh[3] = {0.5, 0.5, 0.5};
    CHECK_OK(ndyn_plot_line(ax, xh, yh, 3, &s));
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("line.png", path, sizeof path)));
    double a0, a1, a2, a3;
    CHECK_OK(ndyn_plot_axes_area(ax, &a0, &a1, &a2, &a3));
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    int on = 0, off = 0;
    for (int k = 1; k < 10; k++) {
        double t = k / 10.0;
        double px = a0 + t * (a2 - a0), py = a3 - t * (a3 - a1); /* the diagonal */
        if (k == 5 || k == 7) continue; /* crossing the green line at t = 0.75 */
        int hit = t_px_is(&p, px, py, 0, 0, 255, 40);
        if (!hit) {
            int c[3] = {0, 0, 0};
            t_px(&p, px, py, c);
            fprintf(stderr, "t=%.1f (%.1f, %.1f): %d %d %d\n", t, px, py, c[0], c[1], c[2]);
        }
        on += hit;
        off += t_px_is(&p, px, py - 12, 0, 0, 255, 60);
    }
    CHECK(on == 7);
    CHECK(off == 0);
    double gy = a3 - 0.75 * (a3 - a1);
    CHECK(t_px_is(&p, a0 + 0.2 * (a2 - a0), gy, 0, 204, 0, 20));
    CHECK(t_px_is(&p, a0 + 0.5 * (a2 - a0), gy, 0, 204, 0, 20));
    CHECK(!t_px_is(&p, a0 + 0.5 * (a2 - a0), gy + 8, 0, 204, 0, 60));
    t_png_free(&p);
    ndyn_plot_figure_free(f);
}

static int boxes_intersect(const ndyn_plot_box *a, const ndyn_plot_box *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Every pair of laid-out boxes (except free text inside an area) is disjoint
 * and every box is inside the figure. */
static void check_no_overlap(const ndyn_plot_figure *f, int w, int h)
{
    const ndyn_plot_box *b;
    size_t n;
    CHECK_OK(ndyn_plot_figure_boxes(f, &b, &n));
    CHECK(n > 0);
    int bad = 0, outside = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i].x0 < 0 || b[i].y0 < 0 || b[i].x1 > w || b[i].y1 > h) outside++;
        for (size_t j = i + 1; j < n; j++) {
            if (b[i].kind == NDYN_PLOT_BOX_TEXT || b[j].kind == NDYN_PLOT_BOX_TEXT) continue;
            if (boxes_intersect(&b[i], &b[j])) {
                if (bad < 5)
                    fprintf(stderr, "overlap: kind %d panel %d [%.1f %.1f %.1f %.1f] vs kind %d panel %d [%.1f %.1f %.1f %.1f]\n",
                            b[i].kind, b[i].panel, b[i].x0, b[i].y0, b[i].x1, b[i].y1, b[j].kind,
                            b[j].panel, b[j].x0, b[j].y0, b[j].x1, b[j].y1);
                bad++;
            }
        }
    }
    CHECK(bad == 0);
    CHECK(outside == 0);
}

TEST(multi_panel_text_does_not_overlap)
{
    enum { W = 1000, H = 700 };
    ndyn_plot_figure *f;
    CHECK_OK(ndyn_plot_figure_new(W, H, 2, 3, &f));
    CHECK_OK(ndyn_plot_figure_set_title(f, "A figure with six panels"));
    double x[50], y[50], v[50];
    int cat[50];
    for (int i = 0; i < 50; i++) {
        x[i] = 1234.5 + 1000 * sin(i * 0.3);
        y[i] = 1e-3 * cos(i * 0.17);
        v[i] = i;
        cat[i] = i % 4;
    }
    const char *names[4] = {"condition one", "condition two", "three", "four"};
    for (int k = 0; k < 6; k++) {
        ndyn_plot_axes *ax;
        CHECK_OK(ndyn_plot_figure_panel(f, k / 3, k % 3, 1, 1, &ax));
        CHECK_OK(ndyn_plot_axes_set_labels(ax, "Panel title", "a long x axis label", "y label"));
        ndyn_plot_style s;
        ndyn_plot_style_default(&s);
        if (k % 3 == 0) {
            s.category = cat;
            s.n_categories = 4;
            s.category_names = names;
        } else if (k % 3 == 1) {
            s.values = v;
            s.colorbar = "time (s)";
        } else {
            s.label = "curve";
        }
        if (k % 3 == 2) CHECK_OK(ndyn_plot_line(ax, x, y, 50, &s));
        else CHECK_OK(ndyn_plot_scatter(ax, x, y, 50, &s));
    }
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("panels.png", path, sizeof path)));
    check_no_overlap(f, W, H);
    /* the legend names the categories */
    const ndyn_plot_box *b;
    size_t n, nleg = 0, ncb = 0, ntick = 0, per_panel[6] = {0};
    CHECK_OK(ndyn_plot_figure_boxes(f, &b, &n));
    for (size_t i = 0; i < n; i++) {
        nleg += b[i].kind == NDYN_PLOT_BOX_LEGEND;
        ncb += b[i].kind == NDYN_PLOT_BOX_COLORBAR;
        ntick += b[i].kind == NDYN_PLOT_BOX_XTICK;
        if (b[i].kind == NDYN_PLOT_BOX_XTICK && b[i].panel >= 0 && b[i].panel < 6) per_panel[b[i].panel]++;
    }
    for (int k = 0; k < 6; k++) CHECK(per_panel[k] >= 1);
    CHECK(nleg == 4);
    CHECK(ncb == 2);
    CHECK(ntick >= 10);
    ndyn_plot_figure_free(f);
}

TEST(crowded_custom_ticks_are_thinned)
{
    enum { W = 300, H = 300 };
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(W, H, &ax);
    double z[20 * 20];
    for (int i = 0; i < 400; i++) z[i] = i;
    CHECK_OK(ndyn_plot_heatmap(ax, z, 20, 20, NULL, 0, 0, NULL));
    double pos[20];
    char lab[20][32];
    const char *labs[20];
    for (int i = 0; i < 20; i++) {
        pos[i] = i + 0.5;
        snprintf(lab[i], sizeof lab[i], "condition %d", i);
        labs[i] = lab[i];
    }
    CHECK_OK(ndyn_plot_axes_set_ticks(ax, 'x', 20, pos, labs));
    CHECK_OK(ndyn_plot_axes_set_ticks(ax, 'y', 20, pos, labs));
    CHECK_OK(ndyn_plot_figure_layout(f));
    check_no_overlap(f, W, H);
    ndyn_plot_figure_free(f);
}

TEST(scatter_categories_colour_and_legend)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(400, 300, &ax);
    CHECK_OK(ndyn_plot_axes_set_xlim(ax, 0, 1));
    CHECK_OK(ndyn_plot_axes_set_ylim(ax, 0, 1));
    double x[2] = {0.2, 0.8}, y[2] = {0.5, 0.5};
    int cat[2] = {1, 3};
    const char *names[4] = {"a", "b", "c", "d"};
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.category = cat;
    s.n_categories = 4;
    s.category_names = names;
    s.size = 10;
    CHECK_OK(ndyn_plot_scatter(ax, x, y, 2, &s));
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("cat.png", path, sizeof path)));
    double px, py;
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, 0.2, 0.5, 0, &px, &py));
    CHECK(t_px_is(&p, px, py, 0xff, 0x7f, 0x0e, 3)); /* tab:orange */
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, 0.8, 0.5, 0, &px, &py));
    CHECK(t_px_is(&p, px, py, 0xd6, 0x27, 0x28, 3)); /* tab:red */
    /* the legend is drawn (one orange and one red swatch right of the area) */
    double a0, a1, a2, a3;
    CHECK_OK(ndyn_plot_axes_area(ax, &a0, &a1, &a2, &a3));
    CHECK(t_count_color(&p, (int)a2 + 2, 0, p.w, p.h, 0xff, 0x7f, 0x0e, 3) > 10);
    CHECK(t_count_color(&p, (int)a2 + 2, 0, p.w, p.h, 0xd6, 0x27, 0x28, 3) > 10);
    CHECK(t_count_color(&p, (int)a2 + 2, 0, p.w, p.h, 0x1f, 0x77, 0xb4, 3) == 0); /* "a" absent */
    t_png_free(&p);
    ndyn_plot_figure_free(f);
}

TEST(log_axis_and_quiver)
{
    ndyn_plot_figure *f;
    ndyn_plot_axes *ax, *bx;
    CHECK_OK(ndyn_plot_figure_new(600, 300, 1, 2, &f));
    CHECK_OK(ndyn_plot_figure_panel(f, 0, 0, 1, 1, &ax));
    CHECK_OK(ndyn_plot_figure_panel(f, 0, 1, 1, 1, &bx));
    ndyn_plot_axes_set_ylog(ax, 1);
    CHECK_OK(ndyn_plot_axes_set_ylim(ax, 1, 100));
    CHECK_OK(ndyn_plot_axes_set_xlim(ax, 0, 1));
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.color = ndyn_plot_rgb(1, 0, 0);
    s.size = 8;
    double x = 0.5, y = 10;
    CHECK_OK(ndyn_plot_scatter(ax, &x, &y, 1, &s));
    double ym = -1;
    CHECK_FAILS(ndyn_plot_scatter(ax, &x, &ym, 1, &s), NDYN_EINVAL);
    /* one arrow from (0, 0) pointing along +x, fixed scale */
    CHECK_OK(ndyn_plot_axes_set_xlim(bx, -1, 1));
    CHECK_OK(ndyn_plot_axes_set_ylim(bx, -1, 1));
    double qx = 0, qy = 0, u = 1, v = 0;
    s.color = ndyn_plot_rgb(0, 0, 1);
    s.size = 3;
    s.scale = 0.8;
    CHECK_OK(ndyn_plot_quiver(bx, &qx, &qy, &u, &v, 1, &s));
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("logq.png", path, sizeof path)));
    double a0, a1, a2, a3;
    CHECK_OK(ndyn_plot_axes_area(ax, &a0, &a1, &a2, &a3));
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    CHECK(t_px_is(&p, 0.5 * (a0 + a2), 0.5 * (a1 + a3), 255, 0, 0, 10)); /* 10 is mid-way in log */
    CHECK_OK(ndyn_plot_axes_area(bx, &a0, &a1, &a2, &a3));
    double cx = 0.5 * (a0 + a2), cy = 0.5 * (a1 + a3), W = a2 - a0;
    CHECK(t_px_is(&p, cx + 0.1 * W, cy, 0, 0, 255, 20));  /* shaft */
    CHECK(t_px_is(&p, cx + 0.37 * W, cy, 0, 0, 255, 20)); /* head, tip at 0.4 W */
    CHECK(!t_px_is(&p, cx + 0.44 * W, cy, 0, 0, 255, 80));
    CHECK(!t_px_is(&p, cx - 0.05 * W, cy, 0, 0, 255, 80));
    t_png_free(&p);
    ndyn_plot_figure_free(f);
}

TEST(scatter3_projection)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(400, 400, &ax);
    /* azimuth 0, elevation 0: seen from +x, screen right is +y and up is +z */
    CHECK_OK(ndyn_plot_axes_set_view3d(ax, 0, 0));
    double x[2] = {0, 0}, y[2] = {1, -1}, z[2] = {1, -1};
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.size = 10;
    int cat[2] = {3, 0};
    s.category = cat;
    s.n_categories = 4;
    CHECK_OK(ndyn_plot_scatter3(ax, x, y, z, 2, &s));
    double xx[2] = {0, 1};
    CHECK_FAILS(ndyn_plot_scatter(ax, xx, xx, 2, NULL), NDYN_EINVAL);
    char path[256];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("s3.png", path, sizeof path)));
    double px0, py0, px1, py1;
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, 0, 1, 1, &px0, &py0));
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, 0, -1, -1, &px1, &py1));
    CHECK(px0 > px1 + 100 && py0 < py1 - 100); /* up and to the right */
    double b0, b1, b2, b3;
    CHECK_OK(ndyn_plot_axes_area(ax, &b0, &b1, &b2, &b3));
    CHECK_CLOSE(px0 - 0.5 * (b0 + b2), 0.5 * (b0 + b2) - px1, 1e-6, 0); /* symmetric about the centre */
    CHECK_CLOSE(py0 - 0.5 * (b1 + b3), 0.5 * (b1 + b3) - py1, 1e-6, 0);
    t_png p;
    CHECK(t_png_load(path, &p) == 0);
    CHECK(t_px_is(&p, px0, py0, 0xd6, 0x27, 0x28, 3));
    CHECK(t_px_is(&p, px1, py1, 0x1f, 0x77, 0xb4, 3));
    t_png_free(&p);
    ndyn_plot_figure_free(f);
    /* azimuth 90: seen from +y, screen right is -x */
    f = one_panel(400, 400, &ax);
    CHECK_OK(ndyn_plot_axes_set_view3d(ax, 90, 0));
    double x2[2] = {1, -1}, y2[2] = {0, 0}, z2[2] = {0, 0};
    CHECK_OK(ndyn_plot_scatter3(ax, x2, y2, z2, 2, NULL));
    CHECK_OK(ndyn_plot_figure_layout(f));
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, 1, 0, 0, &px0, &py0));
    CHECK_OK(ndyn_plot_axes_data_to_px(ax, -1, 0, 0, &px1, &py1));
    CHECK(px0 < px1 - 100);
    CHECK_CLOSE(py0, py1, 1e-9, 0);
    ndyn_plot_figure_free(f);
}

static long file_size(const char *path, char *head, size_t nh)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    memset(head, 0, nh);
    size_t r = fread(head, 1, nh - 1, fp);
    (void)r;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fclose(fp);
    return n;
}

TEST(svg_and_pdf_output)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(500, 400, &ax);
    CHECK_OK(ndyn_plot_axes_set_labels(ax, "Title", "x", "y"));
    double x[30], y[30];
    for (int i = 0; i < 30; i++) {
        x[i] = i;
        y[i] = sin(i * 0.3);
    }
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.label = "sine";
    CHECK_OK(ndyn_plot_line(ax, x, y, 30, &s));
    char path[256], head[64];
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("fig.svg", path, sizeof path)));
    long n = file_size(path, head, sizeof head);
    CHECK(n > 2000);
    CHECK(strstr(head, "<?xml") == head || strstr(head, "<svg") != NULL);
    CHECK_OK(ndyn_plot_figure_save(f, t_tmp("fig.PDF", path, sizeof path)));
    n = file_size(path, head, sizeof head);
    CHECK(n > 2000);
    CHECK(memcmp(head, "%PDF-", 5) == 0);
    ndyn_plot_figure_free(f);
}

TEST(nice_ticks_properties)
{
    const double cases[][2] = {{0, 1}, {-3.7, 12.1}, {1e-6, 3e-6}, {-1e7, 5e7}, {0.999, 1.001}, {17, 18}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t mt = 3; mt <= 10; mt++) {
            double t[32];
            size_t n = ndyn_plot_nice_ticks(cases[c][0], cases[c][1], mt, t, 32);
            CHECK(n >= 2 && n <= mt);
            double step = t[1] - t[0], lo = cases[c][0], hi = cases[c][1];
            for (size_t i = 0; i < n; i++) {
                CHECK(t[i] >= lo - 1e-9 * (hi - lo) && t[i] <= hi + 1e-9 * (hi - lo));
                if (i) CHECK_CLOSE(t[i] - t[i - 1], step, 1e-9 * step, 0);
            }
            /* step = m 10^k with m in {1, 2, 2.5, 5} */
            double e = floor(log10(step)), m = step / pow(10, e);
            CHECK(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 2.5) < 1e-6 || fabs(m - 5) < 1e-6);
            /* and it is the finest such step: the next finer one gives > mt ticks */
            static const double ladder[] = {1, 2, 2.5, 5};
            int mi = fabs(m - 1) < 1e-6 ? 0 : fabs(m - 2) < 1e-6 ? 1 : fabs(m - 2.5) < 1e-6 ? 2 : 3;
            double finer = mi ? ladder[mi - 1] * pow(10, e) : 5 * pow(10, e - 1);
            double cnt = floor(hi / finer + 1e-9) - ceil(lo / finer - 1e-9) + 1;
            CHECK(cnt > mt);
        }
    }
    double t[4];
    CHECK(ndyn_plot_nice_ticks(1, 1, 5, t, 4) == 0);
    CHECK(ndyn_plot_nice_ticks(NAN, 1, 5, t, 4) == 0);
}

TEST(bad_input_gives_clear_errors)
{
    ndyn_plot_axes *ax;
    ndyn_plot_figure *f = one_panel(300, 200, &ax);
    double x[3] = {0, 1, 2}, y[3] = {0, NAN, 2};
    char path[256];
    CHECK_FAILS(ndyn_plot_figure_save(f, t_tmp("empty.png", path, sizeof path)), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "nothing drawn") != NULL);
    CHECK_FAILS(ndyn_plot_scatter(ax, x, y, 0, NULL), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "n = 0") != NULL);
    CHECK_FAILS(ndyn_plot_scatter(ax, x, y, 3, NULL), NDYN_ENONFINITE);
    CHECK(strstr(ndyn_errmsg(), "y") != NULL);
    CHECK_FAILS(ndyn_plot_line(ax, x, x, 1, NULL), NDYN_EINVAL);
    double z[4] = {NAN, NAN, NAN, NAN};
    CHECK_FAILS(ndyn_plot_heatmap(ax, z, 2, 2, NULL, 0, 0, NULL), NDYN_ENONFINITE);
    CHECK_FAILS(ndyn_plot_heatmap(ax, z, 0, 2, NULL, 0, 0, NULL), NDYN_EINVAL);
    z[0] = 1;
    z[1] = INFINITY;
    CHECK_FAILS(ndyn_plot_heatmap(ax, z, 2, 2, NULL, 0, 0, NULL), NDYN_ENONFINITE);
    int cat[3] = {0, 5, 1};
    ndyn_plot_style s;
    ndyn_plot_style_default(&s);
    s.category = cat;
    s.n_categories = 3;
    CHECK_FAILS(ndyn_plot_scatter(ax, x, x, 3, &s), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "category[1] = 5") != NULL);
    CHECK_FAILS(ndyn_plot_axes_set_xlim(ax, 1, 1), NDYN_EINVAL);
    CHECK_FAILS(ndyn_plot_axes_set_ylim(ax, 0, NAN), NDYN_EINVAL);
    CHECK_OK(ndyn_plot_scatter(ax, x, x, 3, NULL));
    CHECK_FAILS(ndyn_plot_figure_save(f, "/nonexistent-dir/sub/x.png"), NDYN_EIO);
    CHECK(strstr(ndyn_errmsg(), "/nonexistent-dir/sub") != NULL);
    CHECK_FAILS(ndyn_plot_figure_save(f, t_tmp("x.jpg", path, sizeof path)), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), ".png, .svg or .pdf") != NULL);
    CHECK_FAILS(ndyn_plot_figure_save(f, t_tmp("noext", path, sizeof path)), NDYN_EINVAL);
    ndyn_plot_axes *bad;
    CHECK_FAILS(ndyn_plot_figure_panel(f, 1, 0, 1, 1, &bad), NDYN_EINVAL);
    ndyn_plot_figure_free(f);
    ndyn_plot_figure *g = NULL;
    CHECK_FAILS(ndyn_plot_figure_new(10, 200, 1, 1, &g), NDYN_EINVAL);
    CHECK(g == NULL);
    /* a panel too small for its labels */
    CHECK_OK(ndyn_plot_figure_new(64, 64, 1, 1, &g));
    CHECK_OK(ndyn_plot_figure_panel(g, 0, 0, 1, 1, &ax));
    CHECK_OK(ndyn_plot_axes_set_labels(ax, "a title", "x label", "y label"));
    CHECK_OK(ndyn_plot_scatter(ax, x, x, 3, NULL));
    CHECK_FAILS(ndyn_plot_figure_save(g, t_tmp("small.png", path, sizeof path)), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "no room") != NULL);
    ndyn_plot_figure_free(g);
}

RUN_TESTS(T(png_size_and_background), T(point_lands_on_expected_pixel),
          T(heatmap_cells_have_viridis_colours), T(viridis_and_palette_tables),
          T(line_passes_through_expected_pixels), T(multi_panel_text_does_not_overlap),
          T(crowded_custom_ticks_are_thinned), T(scatter_categories_colour_and_legend),
          T(log_axis_and_quiver), T(scatter3_projection), T(svg_and_pdf_output),
          T(nice_ticks_properties), T(bad_input_gives_clear_errors))
