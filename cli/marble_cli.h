/* Verbs of `ndyn marble`, one file each (cli/marble_<verb>.c). */
#ifndef NDYN_MARBLE_CLI_H
#define NDYN_MARBLE_CLI_H

#include "ndyn/geom.h"

int marble_prepare(int argc, char **argv);
int marble_fit(int argc, char **argv);
int marble_embed(int argc, char **argv);
int marble_distance(int argc, char **argv);

/* Geometry options shared by fit and embed for raw input (cli/marble_data.c). */
enum { MARBLE_O_K = 2000, MARBLE_O_DELTA, MARBLE_O_SPACING, MARBLE_O_EIG, MARBLE_O_LG };
#define MARBLE_GEOM_LONGOPTS                                                  \
    {"k", required_argument, 0, MARBLE_O_K},                                  \
    {"delta", required_argument, 0, MARBLE_O_DELTA},                          \
    {"spacing", required_argument, 0, MARBLE_O_SPACING},                      \
    {"eigenvectors", required_argument, 0, MARBLE_O_EIG},                     \
    {"local-gauges", no_argument, 0, MARBLE_O_LG}
#define MARBLE_GEOM_HELP                                                                   \
    "Geometry, used only when --data holds raw point clouds (pos, vel, condition):\n"       \
    "      --k K                CkNN neighbours (default: 20)\n"                            \
    "      --delta X            CkNN delta (default: 1.0)\n"                                \
    "      --spacing X          farthest-point sampling, fraction of the diameter (default: 0)\n" \
    "      --eigenvectors K     Laplacian eigenpairs: 0 Chebyshev diffusion, -1 all (default: 0)\n" \
    "      --local-gauges       tangent frames, connections and manifold-mode kernels; the\n" \
    "                           model then works in the frames (default: off). A prepared\n" \
    "                           dataset keeps the setting it was prepared with\n"
/* Parse one geometry option into p; *set gets the option's MARBLE_SET_* bit. */
enum { MARBLE_SET_K = 1, MARBLE_SET_DELTA = 2, MARBLE_SET_SPACING = 4, MARBLE_SET_EIG = 8,
       MARBLE_SET_LG = 16 };
int marble_geom_option(const char *cmd, int c, const char *arg, ndyn_geom_params *p,
                       unsigned *set, int *rc);
/* base <- the fields of opt whose bit is in set (explicit options win). */
void marble_geom_override(ndyn_geom_params *base, const ndyn_geom_params *opt, unsigned set);
/* A prepared dataset (arrays graph/..., op/...) or raw pos/vel prepared with
 * gp; *raw (may be NULL) tells which. */
int marble_load_data(const char *path, const ndyn_geom_params *gp, ndyn_geom_data **out,
                     int *raw);

#endif
