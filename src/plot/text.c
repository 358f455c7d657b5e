/* Text: the figure's font (DejaVu Sans through cairo's toy font API, which
 * fontconfig resolves to a sans-serif face when DejaVu is absent), measuring
 * boxes for the layout and drawing, horizontally or rotated by 90 degrees. */
#include "plot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pl_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, PL_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double pl_text_width(cairo_t *cr, const char *s, double size, int bold)
{
    cairo_text_extents_t te;
    pl_font(cr, size, bold);
    cairo_text_extents(cr, s ? s : "", &te);
    /* The ink can reach past the advance (italic overhang, last glyph). */
    double w = te.x_advance;
    if (te.x_bearing + te.width > w) w = te.x_bearing + te.width;
    return w;
}

double pl_text_height(cairo_t *cr, double size, int bold)
{
    cairo_font_extents_t fe;
    pl_font(cr, size, bold);
    cairo_font_extents(cr, &fe);
    return fe.ascent + fe.descent;
}

double pl_text_ascent(cairo_t *cr, double size, int bold)
{
    cairo_font_extents_t fe;
    pl_font(cr, size, bold);
    cairo_font_extents(cr, &fe);
    return fe.ascent;
}

void pl_draw_text(cairo_t *cr, const char *s, double x, double y, double size, int bold,
                  int rotated)
{
    if (!s || !*s) return;
    double asc = pl_text_ascent(cr, size, bold);
    cairo_save(cr);
    if (!rotated) {
        cairo_move_to(cr, x, y + asc);
    } else {
        double w = pl_text_width(cr, s, size, bold);
        cairo_translate(cr, x + asc, y + w);
        cairo_rotate(cr, -M_PI / 2);
        cairo_move_to(cr, 0, 0);
    }
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

char *pl_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = ndyn_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
