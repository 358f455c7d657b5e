/* ndyn plot: figures as PNG, SVG or PDF (cairo).
 *
 * A figure is a grid of panels ("axes"). Marks (scatter, lines, arrows,
 * heatmaps) are recorded into an axes with copies of their data; nothing is
 * drawn until ndyn_plot_figure_save, which computes data limits, nice ticks
 * and a layout in which no two pieces of text overlap, then renders. The file
 * format follows the extension of the path (.png, .svg, .pdf) and the file is
 * written atomically (temporary file + rename).
 *
 *   ndyn_plot_figure *f;
 *   ndyn_plot_axes *ax;
 *   ndyn_plot_figure_new(800, 600, 1, 1, &f);
 *   ndyn_plot_figure_panel(f, 0, 0, 1, 1, &ax);
 *   ndyn_plot_style s; ndyn_plot_style_default(&s); s.label = "data";
 *   ndyn_plot_scatter(ax, x, y, n, &s);
 *   ndyn_plot_axes_set_labels(ax, "title", "x", "y");
 *   ndyn_plot_figure_save(f, "out.png");
 *   ndyn_plot_figure_free(f);
 *
 * Coordinates: sizes are in pixels for PNG and points (1/72 in) for SVG/PDF;
 * pixel (0, 0) is the top-left corner. Data y grows upwards.
 * Colours: viridis for continuous values, Tableau 10 for categories.
 */
#ifndef NDYN_PLOT_H
#define NDYN_PLOT_H

#include <stddef.h>

#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ colours */

typedef struct ndyn_plot_color {
    double r, g, b, a; /* sRGB and opacity, each in [0, 1] */
} ndyn_plot_color;

#define NDYN_PLOT_N_CATEGORY_COLORS 10

/* viridis at t in [0, 1] (clamped; NaN gives grey). */
ndyn_plot_color ndyn_plot_viridis(double t);
/* Category colour i (Tableau 10, cycling); i < 0 gives grey. */
ndyn_plot_color ndyn_plot_category_color(int i);
ndyn_plot_color ndyn_plot_rgb(double r, double g, double b);

/* ------------------------------------------------------------------ figures */

typedef struct ndyn_plot_figure ndyn_plot_figure;
typedef struct ndyn_plot_axes ndyn_plot_axes;

/* A width x height figure with an nrows x ncols grid of panel cells
 * (width, height in 64..16384; nrows, ncols in 1..16). */
int ndyn_plot_figure_new(int width, int height, int nrows, int ncols, ndyn_plot_figure **out);
void ndyn_plot_figure_free(ndyn_plot_figure *f);
/* Title over the whole figure (NULL removes it). */
int ndyn_plot_figure_set_title(ndyn_plot_figure *f, const char *title);
/* The axes occupying rows row..row+rowspan-1, columns col..col+colspan-1.
 * The axes stays owned by the figure. */
int ndyn_plot_figure_panel(ndyn_plot_figure *f, int row, int col, int rowspan, int colspan,
                           ndyn_plot_axes **out);
/* Align panels stacked in the same columns: their plotting areas get the
 * same left and right edges (e.g. time axes of a raster and of traces). */
void ndyn_plot_figure_set_align(ndyn_plot_figure *f, int align);
/* Lay out and render; the format is chosen by the extension (.png, .svg,
 * .pdf, case-insensitive). Fails on an empty figure (no marks at all), an
 * unknown extension or an unwritable path. */
int ndyn_plot_figure_save(ndyn_plot_figure *f, const char *path);
/* Compute the layout without writing (done by save too). Afterwards the
 * queries below describe where everything lands. */
int ndyn_plot_figure_layout(ndyn_plot_figure *f);

/* ------------------------------------------------------------ layout queries */

typedef enum {
    NDYN_PLOT_BOX_FIGURE_TITLE = 0,
    NDYN_PLOT_BOX_TITLE,        /* panel title */
    NDYN_PLOT_BOX_XLABEL,
    NDYN_PLOT_BOX_YLABEL,
    NDYN_PLOT_BOX_XTICK,        /* one tick label */
    NDYN_PLOT_BOX_YTICK,
    NDYN_PLOT_BOX_LEGEND,       /* the whole legend frame */
    NDYN_PLOT_BOX_COLORBAR,     /* bar, tick labels and label */
    NDYN_PLOT_BOX_AREA,         /* a panel's plotting area */
    NDYN_PLOT_BOX_TEXT          /* free text placed with ndyn_plot_text */
} ndyn_plot_box_kind;

typedef struct ndyn_plot_box {
    double x0, y0, x1, y1;      /* pixels, x0 < x1, y0 < y1 (y0 at the top) */
    ndyn_plot_box_kind kind;
    int panel;                  /* index of the panel in creation order, -1 for the figure */
} ndyn_plot_box;

/* Boxes of every piece of text, legend, colour bar and plotting area from the
 * last layout (owned by the figure, valid until the next layout or free). */
int ndyn_plot_figure_boxes(const ndyn_plot_figure *f, const ndyn_plot_box **boxes, size_t *n);
/* Plotting area of an axes in pixels (after layout). */
int ndyn_plot_axes_area(const ndyn_plot_axes *ax, double *x0, double *y0, double *x1, double *y1);
/* Data limits in effect (after layout): the user's, or computed. */
int ndyn_plot_axes_limits(const ndyn_plot_axes *ax, double *xmin, double *xmax, double *ymin,
                          double *ymax);
/* Pixel of a data point (after layout; for 3-D axes, of the point (x, y, z)
 * through the view's projection — z is ignored in 2-D). */
int ndyn_plot_axes_data_to_px(const ndyn_plot_axes *ax, double x, double y, double z, double *px,
                              double *py);

/* ------------------------------------------------------------ axes settings */

/* Any of the strings may be NULL (left unchanged); "" removes. */
int ndyn_plot_axes_set_labels(ndyn_plot_axes *ax, const char *title, const char *xlabel,
                              const char *ylabel);
int ndyn_plot_axes_set_zlabel(ndyn_plot_axes *ax, const char *zlabel);
/* Fixed limits (lo < hi, finite); otherwise they follow the data with a 4 %
 * margin (heatmaps: exactly their extent). */
int ndyn_plot_axes_set_xlim(ndyn_plot_axes *ax, double lo, double hi);
int ndyn_plot_axes_set_ylim(ndyn_plot_axes *ax, double lo, double hi);
/* One data unit has the same length on both axes. */
void ndyn_plot_axes_set_equal(ndyn_plot_axes *ax, int equal);
/* Logarithmic y axis (every y value drawn must then be > 0). */
void ndyn_plot_axes_set_ylog(ndyn_plot_axes *ax, int ylog);
/* Make this a 3-D axes: orthographic projection of the data box seen from
 * azimuth azim_deg (about z, from the +x axis) and elevation elev_deg
 * (-90..90). Only scatter3 and line3 may then be used. */
int ndyn_plot_axes_set_view3d(ndyn_plot_axes *ax, double azim_deg, double elev_deg);
/* Ticks at given positions with given labels instead of automatic ones
 * (axis 'x' or 'y'; n == 0 hides the tick labels of that axis). */
int ndyn_plot_axes_set_ticks(ndyn_plot_axes *ax, char axis, size_t n, const double *pos,
                             const char *const *labels);
/* Show the legend (default on when some mark has a label): outside, to the
 * right of the plotting area. */
void ndyn_plot_axes_set_legend(ndyn_plot_axes *ax, int show);
/* Add a legend entry that belongs to no mark (a patch of colour). */
int ndyn_plot_axes_legend_entry(ndyn_plot_axes *ax, const char *label, ndyn_plot_color color);

/* -------------------------------------------------------------------- marks */

typedef struct ndyn_plot_style {
    ndyn_plot_color color;  /* a == 0: the next category colour of this axes */
    double size;            /* marker diameter (scatter, default 6) or line width
                               (lines and arrows, default 1.5), pixels */
    double alpha;           /* opacity of the mark, default 1 */
    int dashed;             /* lines: dashed */
    const char *label;      /* legend entry, or NULL */
    /* Per-point colouring (scatter, lines, arrows); arrays of the mark's n: */
    const double *values;   /* continuous: viridis between vmin and vmax */
    double vmin, vmax;      /* vmin == vmax: the range of values */
    const char *colorbar;   /* with values: colour-bar label (NULL: no bar) */
    const int *category;    /* categorical: category colour, -1 grey */
    int n_categories;       /* categories in [0, n_categories) */
    const char *const *category_names; /* with label NULL: one legend entry
                                          per category present, named by
                                          this array (NULL entries: "0",
                                          "1", ...); NULL: no entries */
    double scale;           /* arrows: data units per unit of vector; 0: auto,
                               the longest arrow ~ the typical point spacing */
} ndyn_plot_style;

void ndyn_plot_style_default(ndyn_plot_style *s);

/* Markers at (x[i], y[i]); x, y (n). NaN/Inf are errors. */
int ndyn_plot_scatter(ndyn_plot_axes *ax, const double *x, const double *y, size_t n,
                      const ndyn_plot_style *s);
/* Polyline through (x[i], y[i]), n >= 2; with category/values each segment
 * i -> i+1 takes the colour of point i. */
int ndyn_plot_line(ndyn_plot_axes *ax, const double *x, const double *y, size_t n,
                   const ndyn_plot_style *s);
/* 3-D versions (the axes must have a view, ndyn_plot_axes_set_view3d). */
int ndyn_plot_scatter3(ndyn_plot_axes *ax, const double *x, const double *y, const double *z,
                       size_t n, const ndyn_plot_style *s);
int ndyn_plot_line3(ndyn_plot_axes *ax, const double *x, const double *y, const double *z,
                    size_t n, const ndyn_plot_style *s);
/* Arrows from (x[i], y[i]) to (x[i] + scale u[i], y[i] + scale v[i]). */
int ndyn_plot_quiver(ndyn_plot_axes *ax, const double *x, const double *y, const double *u,
                     const double *v, size_t n, const ndyn_plot_style *s);

/* Heatmap of z (nr, nc): cell (i, j) covers x in [x0 + j dx, x0 + (j+1) dx]
 * and y in [y1 - (i+1) dy, y1 - i dy] (row 0 at the top) for extent
 * {x0, x1, y0, y1} (NULL: {0, nc, 0, nr}), coloured by viridis between vmin
 * and vmax (vmin == vmax: the range of z); colorbar (may be NULL): label of a
 * colour bar. NaN cells are drawn grey; all-NaN is an error. */
int ndyn_plot_heatmap(ndyn_plot_axes *ax, const double *z, size_t nr, size_t nc,
                      const double *extent, double vmin, double vmax, const char *colorbar);
/* Categorical raster: cell colours from category colours of cat (nr, nc)
 * (values in [0, n_categories), -1 for none: white); names (may be NULL)
 * puts one legend entry per category present. */
int ndyn_plot_heatmap_categories(ndyn_plot_axes *ax, const int *cat, size_t nr, size_t nc,
                                 const double *extent, int n_categories,
                                 const char *const *names);
/* A text label anchored by its centre at data point (x, y). */
int ndyn_plot_text(ndyn_plot_axes *ax, double x, double y, const char *text);

/* Release the global caches of cairo and fontconfig (font faces, the font
 * configuration). Call once at the end of a program that drew figures, after
 * every figure is freed and while no other thread draws, so that leak
 * checkers see a clean exit; later drawing rebuilds the caches. */
void ndyn_plot_cleanup(void);

/* ------------------------------------------------------------------- helpers */

/* "Nice" tick positions covering [lo, hi]: steps of 1, 2, 2.5 or 5 x 10^k,
 * at most max_ticks of them inside [lo, hi]. Returns the count (0 on bad
 * input); ticks (cap) receives the positions. */
size_t ndyn_plot_nice_ticks(double lo, double hi, size_t max_ticks, double *ticks, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
