/* Reading rendered PNGs back for the plot tests: pixel colours, and searches
 * for pixels of a given colour. */
#ifndef NDYN_PLOT_TEST_UTIL_H
#define NDYN_PLOT_TEST_UTIL_H

#include <cairo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct t_png {
    cairo_surface_t *s;
    int w, h, stride;
    const unsigned char *data;
} t_png;

/* Load a PNG; returns 0 on success. */
static inline int t_png_load(const char *path, t_png *p)
{
    memset(p, 0, sizeof *p);
    p->s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(p->s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(p->s);
        p->s = NULL;
        return -1;
    }
    cairo_surface_flush(p->s);
    p->w = cairo_image_surface_get_width(p->s);
    p->h = cairo_image_surface_get_height(p->s);
    p->stride = cairo_image_surface_get_stride(p->s);
    p->data = cairo_image_surface_get_data(p->s);
    return 0;
}

static inline void t_png_free(t_png *p)
{
    if (p->s) cairo_surface_destroy(p->s);
    p->s = NULL;
}

/* RGB of pixel (x, y) (rounded coordinates); -1 outside the image. */
static inline int t_px(const t_png *p, double xf, double yf, int rgb[3])
{
    int x = (int)(xf < 0 ? xf - 0.5 : xf + 0.5), y = (int)(yf < 0 ? yf - 0.5 : yf + 0.5);
    if (x < 0 || y < 0 || x >= p->w || y >= p->h) return -1;
    uint32_t v = *(const uint32_t *)(p->data + (size_t)p->stride * y + 4 * (size_t)x);
    rgb[0] = (int)((v >> 16) & 255);
    rgb[1] = (int)((v >> 8) & 255);
    rgb[2] = (int)(v & 255);
    return 0;
}

/* Is pixel (x, y) within tol of (r, g, b) in every channel? */
static inline int t_px_is(const t_png *p, double x, double y, int r, int g, int b, int tol)
{
    int c[3];
    if (t_px(p, x, y, c)) return 0;
    return abs(c[0] - r) <= tol && abs(c[1] - g) <= tol && abs(c[2] - b) <= tol;
}

/* Number of pixels within tol of (r, g, b) in the rectangle [x0, x1) x [y0, y1). */
static inline long t_count_color(const t_png *p, int x0, int y0, int x1, int y1, int r, int g, int b,
                                 int tol)
{
    long n = 0;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < p->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < p->w; x++)
            if (t_px_is(p, x, y, r, g, b, tol)) n++;
    return n;
}

#endif
