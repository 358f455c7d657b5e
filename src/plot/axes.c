/* Axes settings (labels, limits, aspect, log scale, 3-D view, custom ticks,
 * legend) and the queries that describe the layout once it is computed. */
#include "plot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int set_str(char **dst, const char *s)
{
    if (!s) return NDYN_OK;
    free(*dst);
    *dst = NULL;
    if (*s && !(*dst = pl_strdup(s))) return NDYN_ENOMEM;
    return NDYN_OK;
}

#define CHECK_AX(ax)                                                        \
    do {                                                                    \
        if (!(ax)) return ndyn_error(NDYN_EINVAL, "%s: axes is NULL", __func__); \
        (ax)->fig->laid_out = 0;                                            \
    } while (0)

int ndyn_plot_axes_set_labels(ndyn_plot_axes *ax, const char *title, const char *xlabel,
                              const char *ylabel)
{
    CHECK_AX(ax);
    int rc = set_str(&ax->title, title);
    if (!rc) rc = set_str(&ax->xlabel, xlabel);
    if (!rc) rc = set_str(&ax->ylabel, ylabel);
    return rc;
}

int ndyn_plot_axes_set_zlabel(ndyn_plot_axes *ax, const char *zlabel)
{
    CHECK_AX(ax);
    return set_str(&ax->zlabel, zlabel);
}

static int set_lim(ndyn_plot_axes *ax, int which, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return ndyn_error(NDYN_EINVAL, "%c limits [%g, %g] are invalid; need finite lo < hi",
                          which ? 'y' : 'x', lo, hi);
    if (which) {
        ax->ylim_set = 1;
        ax->ylim[0] = lo;
        ax->ylim[1] = hi;
    } else {
        ax->xlim_set = 1;
        ax->xlim[0] = lo;
        ax->xlim[1] = hi;
    }
    return NDYN_OK;
}

int ndyn_plot_axes_set_xlim(ndyn_plot_axes *ax, double lo, double hi)
{
    CHECK_AX(ax);
    return set_lim(ax, 0, lo, hi);
}

int ndyn_plot_axes_set_ylim(ndyn_plot_axes *ax, double lo, double hi)
{
    CHECK_AX(ax);
    return set_lim(ax, 1, lo, hi);
}

void ndyn_plot_axes_set_equal(ndyn_plot_axes *ax, int equal)
{
    if (!ax) return;
    ax->equal = equal != 0;
    ax->fig->laid_out = 0;
}

void ndyn_plot_axes_set_ylog(ndyn_plot_axes *ax, int ylog)
{
    if (!ax) return;
    ax->ylog = ylog != 0;
    ax->fig->laid_out = 0;
}

int ndyn_plot_axes_set_view3d(ndyn_plot_axes *ax, double azim_deg, double elev_deg)
{
    CHECK_AX(ax);
    if (!isfinite(azim_deg) || !isfinite(elev_deg) || elev_deg < -90 || elev_deg > 90)
        return ndyn_error(NDYN_EINVAL, "3-D view azimuth %g, elevation %g: need finite values, elevation in -90..90",
                          azim_deg, elev_deg);
    for (size_t i = 0; i < ax->nmarks; i++)
        if (!ax->marks[i].three_d)
            return ndyn_error(NDYN_EINVAL, "axes already holds 2-D marks; set the 3-D view before adding marks");
    ax->view3d = 1;
    ax->azim = azim_deg * M_PI / 180.0;
    ax->elev = elev_deg * M_PI / 180.0;
    return NDYN_OK;
}

int ndyn_plot_axes_set_ticks(ndyn_plot_axes *ax, char axis, size_t n, const double *pos,
                             const char *const *labels)
{
    CHECK_AX(ax);
    int a = axis == 'x' ? 0 : axis == 'y' ? 1 : -1;
    if (a < 0) return ndyn_error(NDYN_EINVAL, "tick axis '%c' is not 'x' or 'y'", axis);
    if (n > PL_MAX_TICKS)
        return ndyn_error(NDYN_EINVAL, "%zu custom ticks on %c; at most %d", n, axis, PL_MAX_TICKS);
    if (n && (!pos || !labels)) return ndyn_error(NDYN_EINVAL, "custom ticks need positions and labels");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pos[i])) return ndyn_error(NDYN_ENONFINITE, "custom tick %zu on %c is not finite", i, axis);
    free(ax->custom_pos[a]);
    if (ax->custom_lab[a])
        for (size_t i = 0; i < ax->n_custom[a]; i++) free(ax->custom_lab[a][i]);
    free(ax->custom_lab[a]);
    ax->custom_pos[a] = NULL;
    ax->custom_lab[a] = NULL;
    ax->n_custom[a] = 0;
    ax->custom_ticks[a] = 1;
    if (!n) return NDYN_OK;
    ax->custom_pos[a] = ndyn_malloc_array(n, sizeof(double));
    ax->custom_lab[a] = ndyn_calloc(n, sizeof(char *));
    if (!ax->custom_pos[a] || !ax->custom_lab[a]) return NDYN_ENOMEM;
    ax->n_custom[a] = n;
    for (size_t i = 0; i < n; i++) {
        ax->custom_pos[a][i] = pos[i];
        if (!(ax->custom_lab[a][i] = pl_strdup(labels[i] ? labels[i] : ""))) return NDYN_ENOMEM;
    }
    return NDYN_OK;
}

void ndyn_plot_axes_set_legend(ndyn_plot_axes *ax, int show)
{
    if (!ax) return;
    ax->legend_show = show != 0;
    ax->fig->laid_out = 0;
}

int ndyn_plot_axes_area(const ndyn_plot_axes *ax, double *x0, double *y0, double *x1, double *y1)
{
    if (!ax) return ndyn_error(NDYN_EINVAL, "axes is NULL");
    if (!ax->fig->laid_out) return ndyn_error(NDYN_EINVAL, "figure not laid out; call ndyn_plot_figure_layout");
    if (x0) *x0 = ax->area[0];
    if (y0) *y0 = ax->area[1];
    if (x1) *x1 = ax->area[2];
    if (y1) *y1 = ax->area[3];
    return NDYN_OK;
}

int ndyn_plot_axes_limits(const ndyn_plot_axes *ax, double *xmin, double *xmax, double *ymin,
                          double *ymax)
{
    if (!ax) return ndyn_error(NDYN_EINVAL, "axes is NULL");
    if (!ax->fig->laid_out) return ndyn_error(NDYN_EINVAL, "figure not laid out; call ndyn_plot_figure_layout");
    double l2 = ax->lim[2], l3 = ax->lim[3];
    if (ax->ylog) {
        l2 = pow(10.0, l2);
        l3 = pow(10.0, l3);
    }
    if (xmin) *xmin = ax->lim[0];
    if (xmax) *xmax = ax->lim[1];
    if (ymin) *ymin = l2;
    if (ymax) *ymax = l3;
    return NDYN_OK;
}

int ndyn_plot_axes_data_to_px(const ndyn_plot_axes *ax, double x, double y, double z, double *px,
                              double *py)
{
    if (!ax || !px || !py) return ndyn_error(NDYN_EINVAL, "ndyn_plot_axes_data_to_px: NULL argument");
    if (!ax->fig->laid_out) return ndyn_error(NDYN_EINVAL, "figure not laid out; call ndyn_plot_figure_layout");
    if (ax->view3d) {
        double sx, sy;
        pl_project3(ax, x, y, z, &sx, &sy, NULL);
        pl_data_to_px(ax, sx, sy, px, py);
    } else {
        if (ax->ylog && !(y > 0)) return ndyn_error(NDYN_EINVAL, "y = %g on a log axis", y);
        pl_data_to_px(ax, x, pl_ytransform(ax, y), px, py);
    }
    return NDYN_OK;
}
