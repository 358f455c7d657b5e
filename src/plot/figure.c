/* Figures: the panel grid, the figure title, and saving as PNG, SVG or PDF
 * (chosen by extension) through an in-memory cairo stream written to disk
 * atomically (temporary file + rename, ndyn_write_file_atomic). */
#include "plot_internal.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ndyn/io.h"

int ndyn_plot_figure_new(int width, int height, int nrows, int ncols, ndyn_plot_figure **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_plot_figure_new: out is NULL");
    *out = NULL;
    if (width < 64 || width > 16384 || height < 64 || height > 16384)
        return ndyn_error(NDYN_EINVAL, "figure size %d x %d is out of range; use 64..16384 pixels",
                          width, height);
    if (nrows < 1 || nrows > 16 || ncols < 1 || ncols > 16)
        return ndyn_error(NDYN_EINVAL, "figure grid %d x %d is out of range; use 1..16 rows and columns",
                          nrows, ncols);
    ndyn_plot_figure *f = ndyn_calloc(1, sizeof *f);
    if (!f) return NDYN_ENOMEM;
    f->width = width;
    f->height = height;
    f->nrows = nrows;
    f->ncols = ncols;
    *out = f;
    return NDYN_OK;
}

static void free_axes(ndyn_plot_axes *ax)
{
    if (!ax) return;
    free(ax->title);
    free(ax->xlabel);
    free(ax->ylabel);
    free(ax->zlabel);
    free(ax->cb_label);
    for (int a = 0; a < 2; a++) {
        free(ax->custom_pos[a]);
        if (ax->custom_lab[a])
            for (size_t i = 0; i < ax->n_custom[a]; i++) free(ax->custom_lab[a][i]);
        free(ax->custom_lab[a]);
    }
    for (size_t i = 0; i < ax->nmarks; i++) {
        pl_mark *m = &ax->marks[i];
        free(m->x);
        free(m->y);
        free(m->z);
        free(m->u);
        free(m->v);
        free(m->values);
        free(m->category);
        free(m->text);
    }
    free(ax->marks);
    for (size_t i = 0; i < ax->nleg; i++) free(ax->leg[i].label);
    free(ax->leg);
    free(ax);
}

void ndyn_plot_figure_free(ndyn_plot_figure *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->naxes; i++) free_axes(f->axes[i]);
    free(f->axes);
    free(f->boxes);
    free(f->title);
    free(f);
}

int ndyn_plot_figure_set_title(ndyn_plot_figure *f, const char *title)
{
    if (!f) return ndyn_error(NDYN_EINVAL, "figure is NULL");
    free(f->title);
    f->title = NULL;
    if (title && *title && !(f->title = pl_strdup(title))) return NDYN_ENOMEM;
    f->laid_out = 0;
    return NDYN_OK;
}

void ndyn_plot_figure_set_align(ndyn_plot_figure *f, int align)
{
    if (!f) return;
    f->align = align != 0;
    f->laid_out = 0;
}

int ndyn_plot_figure_panel(ndyn_plot_figure *f, int row, int col, int rowspan, int colspan,
                           ndyn_plot_axes **out)
{
    if (!f || !out) return ndyn_error(NDYN_EINVAL, "ndyn_plot_figure_panel: NULL argument");
    *out = NULL;
    if (row < 0 || col < 0 || rowspan < 1 || colspan < 1 || row + rowspan > f->nrows ||
        col + colspan > f->ncols)
        return ndyn_error(NDYN_EINVAL,
                          "panel rows %d..%d, columns %d..%d do not fit the %d x %d grid of the figure",
                          row, row + rowspan - 1, col, col + colspan - 1, f->nrows, f->ncols);
    if (f->naxes == f->capaxes) {
        size_t cap = f->capaxes ? 2 * f->capaxes : 4;
        ndyn_plot_axes **a = realloc(f->axes, cap * sizeof *a);
        if (!a) return ndyn_error(NDYN_ENOMEM, "out of memory adding a panel");
        f->axes = a;
        f->capaxes = cap;
    }
    ndyn_plot_axes *ax = ndyn_calloc(1, sizeof *ax);
    if (!ax) return NDYN_ENOMEM;
    ax->fig = f;
    ax->index = (int)f->naxes;
    ax->row = row;
    ax->col = col;
    ax->rowspan = rowspan;
    ax->colspan = colspan;
    ax->legend_show = -1;
    f->axes[f->naxes++] = ax;
    f->laid_out = 0;
    *out = ax;
    return NDYN_OK;
}

typedef struct membuf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} membuf;

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int length)
{
    membuf *b = closure;
    if (b->failed) return CAIRO_STATUS_WRITE_ERROR;
    if (b->len + length > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + length) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return CAIRO_STATUS_NO_MEMORY;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

typedef enum { FMT_PNG, FMT_SVG, FMT_PDF } out_format;

static int format_of(const char *path, out_format *fmt)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return ndyn_error(NDYN_EINVAL, "output '%s' has no extension; end it in .png, .svg or .pdf", path);
    if (!strcasecmp(dot, ".png")) *fmt = FMT_PNG;
    else if (!strcasecmp(dot, ".svg")) *fmt = FMT_SVG;
    else if (!strcasecmp(dot, ".pdf")) *fmt = FMT_PDF;
    else
        return ndyn_error(NDYN_EINVAL, "output '%s': unknown format '%s'; use .png, .svg or .pdf", path,
                          dot);
    return NDYN_OK;
}

int ndyn_plot_figure_layout(ndyn_plot_figure *f)
{
    if (!f) return ndyn_error(NDYN_EINVAL, "figure is NULL");
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 4, 4);
    cairo_t *cr = cairo_create(s);
    int rc = pl_layout(f, cr);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return rc;
}

int ndyn_plot_figure_save(ndyn_plot_figure *f, const char *path)
{
    if (!f || !path || !*path) return ndyn_error(NDYN_EINVAL, "ndyn_plot_figure_save: no figure or path");
    out_format fmt = FMT_PNG;
    int rc = format_of(path, &fmt);
    if (rc) return rc;
    size_t nm = 0;
    for (size_t i = 0; i < f->naxes; i++) nm += f->axes[i]->nmarks;
    if (nm == 0)
        return ndyn_error(NDYN_EINVAL, "figure for '%s' has nothing drawn in it; add marks to a panel first",
                          path);
    rc = ndyn_plot_figure_layout(f);
    if (rc) return ndyn_error_context(rc, "laying out '%s': ", path);

    membuf buf = {0};
    cairo_surface_t *s = NULL;
    if (fmt == FMT_PNG)
        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, f->width, f->height); /* opaque: smaller files */
    else if (fmt == FMT_SVG)
        s = cairo_svg_surface_create_for_stream(membuf_write, &buf, f->width, f->height);
    else
        s = cairo_pdf_surface_create_for_stream(membuf_write, &buf, f->width, f->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        rc = ndyn_error(NDYN_ENOMEM, "cannot create a %d x %d drawing surface for '%s': %s", f->width,
                        f->height, path, cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        free(buf.data);
        return rc;
    }
    cairo_t *cr = cairo_create(s);
    rc = pl_render(f, cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (!rc && st != CAIRO_STATUS_SUCCESS)
        rc = ndyn_error(NDYN_EINTERNAL, "drawing '%s' failed: %s", path, cairo_status_to_string(st));
    if (!rc && fmt == FMT_PNG) {
        st = cairo_surface_write_to_png_stream(s, membuf_write, &buf);
        if (st != CAIRO_STATUS_SUCCESS)
            rc = ndyn_error(NDYN_ENOMEM, "encoding PNG '%s' failed: %s", path, cairo_status_to_string(st));
    }
    cairo_surface_finish(s);
    if (!rc && (st = cairo_surface_status(s)) != CAIRO_STATUS_SUCCESS)
        rc = ndyn_error(NDYN_ENOMEM, "writing '%s' failed: %s", path, cairo_status_to_string(st));
    cairo_surface_destroy(s);
    if (!rc && buf.failed) rc = ndyn_error(NDYN_ENOMEM, "out of memory encoding '%s'", path);
    if (!rc) rc = ndyn_write_file_atomic(path, buf.data, buf.len);
    free(buf.data);
    return rc;
}

int ndyn_plot_figure_boxes(const ndyn_plot_figure *f, const ndyn_plot_box **boxes, size_t *n)
{
    if (!f || !boxes || !n) return ndyn_error(NDYN_EINVAL, "ndyn_plot_figure_boxes: NULL argument");
    if (!f->laid_out)
        return ndyn_error(NDYN_EINVAL, "figure has not been laid out; call ndyn_plot_figure_layout or save");
    *boxes = f->boxes;
    *n = f->nboxes;
    return NDYN_OK;
}

void ndyn_plot_cleanup(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
