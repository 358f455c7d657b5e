/* Private structures of the plot module: the recorded figure, its axes and
 * marks, and the layout results shared by layout.c and render.c. */
#ifndef NDYN_PLOT_INTERNAL_H
#define NDYN_PLOT_INTERNAL_H

#include <cairo.h>

#include "ndyn/plot.h"

/* Font sizes (pixels) and spacing of the layout. */
#define PL_FONT "DejaVu Sans"
#define PL_FS_TICK 12.0
#define PL_FS_LABEL 13.5
#define PL_FS_TITLE 14.5
#define PL_FS_FIGTITLE 17.0
#define PL_FS_LEGEND 12.0
#define PL_FS_TEXT 11.5
#define PL_PAD 10.0
#define PL_TICK_LEN 5.0
#define PL_MAX_TICKS 24

typedef enum {
    PL_SCATTER = 0,
    PL_LINE,
    PL_QUIVER,
    PL_HEATMAP,
    PL_HEATCAT,
    PL_TEXT
} pl_mark_kind;

typedef struct pl_mark {
    pl_mark_kind kind;
    int three_d;
    size_t n;              /* points (scatter, line, quiver) or cells */
    size_t nr, nc;         /* heatmaps */
    double *x, *y, *z;     /* (n), z only in 3-D */
    double *u, *v;         /* quiver (n) */
    double *values;        /* (n) or NULL; heatmap: the cells (nr * nc) */
    int *category;         /* (n) or NULL; categorical heatmap: the cells */
    double extent[4];      /* heatmaps: x0 x1 y0 y1 */
    double vmin, vmax;
    int n_categories;
    ndyn_plot_color color;
    double size, alpha, scale;
    int dashed;
    char *text;
    double scale_used;     /* quiver: after layout */
} pl_mark;

typedef enum { PL_LEG_MARKER = 0, PL_LEG_LINE, PL_LEG_PATCH, PL_LEG_ARROW } pl_leg_kind;

typedef struct pl_legend_entry {
    char *label;
    ndyn_plot_color color;
    pl_leg_kind kind;
    int dashed;
} pl_legend_entry;

typedef struct pl_ticks {
    size_t n;
    double pos[PL_MAX_TICKS];
    char label[PL_MAX_TICKS][40];
    int show[PL_MAX_TICKS];  /* label drawn (thinning of crowded custom labels) */
} pl_ticks;

struct ndyn_plot_axes {
    ndyn_plot_figure *fig;
    int index;
    int row, col, rowspan, colspan;
    char *title, *xlabel, *ylabel, *zlabel;
    int xlim_set, ylim_set;
    double xlim[2], ylim[2];
    int equal, ylog, view3d;
    double azim, elev;           /* radians */
    int custom_ticks[2];         /* x, y */
    size_t n_custom[2];
    double *custom_pos[2];
    char **custom_lab[2];
    int legend_show;             /* -1 auto */
    pl_mark *marks;
    size_t nmarks, capmarks;
    pl_legend_entry *leg;
    size_t nleg, capleg;
    int next_color;
    int cbar;
    double cb_vmin, cb_vmax;
    char *cb_label;

    /* layout results */
    double cell[4];              /* x0 y0 x1 y1 of the panel's cell */
    double area[4];              /* x0 y0 x1 y1 of the plotting area */
    double lim[4];               /* xmin xmax ymin ymax (log10 for log y) */
    double lim3[6];              /* 3-D data box */
    pl_ticks xt, yt;
    double title_xy[2], xlabel_xy[2], ylabel_xy[2];
    double cb_box[4];            /* the bar itself */
    pl_ticks cbt;
    double cb_label_xy[2];
    double leg_box[4];
    size_t leg_shown;            /* entries that fit */
    int laid_out;
    double used_left, used_right; /* margins the layout needed */
    double min_left, min_right;   /* alignment: margins to use at least */
};

struct ndyn_plot_figure {
    int width, height, nrows, ncols;
    char *title;
    double title_xy[2];
    ndyn_plot_axes **axes;
    size_t naxes, capaxes;
    ndyn_plot_box *boxes;
    size_t nboxes, capboxes;
    int laid_out;
    int align;
};

/* text.c: measuring and drawing text with the figure's fonts. */
void pl_font(cairo_t *cr, double size, int bold);
double pl_text_width(cairo_t *cr, const char *s, double size, int bold);
double pl_text_height(cairo_t *cr, double size, int bold);   /* ascent + descent */
double pl_text_ascent(cairo_t *cr, double size, int bold);
/* Draw s with its box's top-left at (x, y); rotated: reads bottom to top and
 * the box (width = text height) has its top-left at (x, y). */
void pl_draw_text(cairo_t *cr, const char *s, double x, double y, double size, int bold,
                  int rotated);
char *pl_strdup(const char *s);

/* ticks.c */
void pl_ticks_auto(pl_ticks *t, double lo, double hi, size_t max_ticks, int log);
void pl_format_tick(double v, double step, char *buf, size_t n);

/* project.c: 3-D orthographic view. */
void pl_project3(const ndyn_plot_axes *ax, double x, double y, double z, double *sx, double *sy,
                 double *depth);

/* layout.c */
int pl_layout(ndyn_plot_figure *f, cairo_t *measure);
void pl_data_to_px(const ndyn_plot_axes *ax, double x, double y, double *px, double *py);
double pl_ytransform(const ndyn_plot_axes *ax, double y);

/* render.c */
int pl_render(ndyn_plot_figure *f, cairo_t *cr);

#endif
