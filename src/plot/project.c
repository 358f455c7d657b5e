/* The 3-D view: the data box is scaled to the cube [-1, 1]^3 and projected
 * orthographically onto the screen plane of a camera at azimuth azim (about
 * the z axis, from +x) and elevation elev. Screen right is
 * (-sin az, cos az, 0), screen up is (-sin el cos az, -sin el sin az, cos el);
 * depth grows towards the camera (cos el cos az, cos el sin az, sin el). */
#include "plot_internal.h"

#include <math.h>

void pl_project3(const ndyn_plot_axes *ax, double x, double y, double z, double *sx, double *sy,
                 double *depth)
{
    const double *l = ax->lim3;
    double p[3] = {x, y, z};
    for (int i = 0; i < 3; i++) {
        double lo = l[2 * i], hi = l[2 * i + 1];
        p[i] = hi > lo ? 2.0 * (p[i] - lo) / (hi - lo) - 1.0 : 0.0;
    }
    double ca = cos(ax->azim), sa = sin(ax->azim), ce = cos(ax->elev), se = sin(ax->elev);
    *sx = -sa * p[0] + ca * p[1];
    *sy = -se * ca * p[0] - se * sa * p[1] + ce * p[2];
    if (depth) *depth = ce * ca * p[0] + ce * sa * p[1] + se * p[2];
}
