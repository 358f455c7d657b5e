/* ndyn marble embed: latent embedding of every point with a trained model. */
#include "cli.h"
#include "marble_cli.h"

#include <stdlib.h>
#include <string.h>

#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"

static const char *CMD = "marble embed";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ndyn marble embed --model MODEL --data IN --out EMB.npz [options]\n"
            "\n"
            "Embed every point of IN (eval mode) with the model from 'ndyn marble fit'.\n"
            "IN is a prepared dataset or raw point clouds. Raw clouds are prepared with the\n"
            "geometry recorded in MODEL by 'marble fit' (graph, k, delta, spacing, gauges,\n"
            "eigenpairs, seed); a geometry option given here overrides that one field (for\n"
            "models without a record the defaults below apply). Writes emb (n, E),\n"
            "condition (n,) int32, pos (n, D), index (n,) int64 input row of each point,\n"
            "and label (n,) when IN has one.\n"
            "\n"
            "Options:\n"
            "      --model MODEL        trained model (required)\n"
            "      --data IN            prepared dataset or point clouds (required)\n"
            "      --out EMB            output (default: emb.npz)\n"
            MARBLE_GEOM_HELP
            CLI_COMMON_HELP
            "  -h, --help               this help\n");
}

int marble_embed(int argc, char **argv)
{
    enum { O_MODEL = 1, O_DATA, O_OUT };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"data", required_argument, 0, O_DATA},
        {"out", required_argument, 0, O_OUT}, MARBLE_GEOM_LONGOPTS,
        {"help", no_argument, 0, 'h'}, CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    const char *model = NULL, *data = NULL, *out = "emb.npz";
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    int c, rc = 0;
    unsigned gset = 0;
    cli_reset_getopt();
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) { if (rc) return rc; continue; }
        if (marble_geom_option(CMD, c, optarg, &gp, &gset, &rc)) { if (rc) return rc; continue; }
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case O_MODEL: model = optarg; break;
        case O_DATA: data = optarg; break;
        case O_OUT: out = optarg; break;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!model || !data) return cli_usage(CMD, "--model MODEL and --data IN are required");
    ndyn_marble_model *m = NULL;
    ndyn_geom_data *g = NULL;
    ndyn_marble_ops *ops = NULL;
    double *emb = NULL;
    if ((rc = ndyn_marble_load(model, &m))) goto done;
    ndyn_geom_params use = gp;
    int recorded = ndyn_marble_geometry(m, &use);
    if (recorded) marble_geom_override(&use, &gp, gset);
    int raw = 0;
    if ((rc = marble_load_data(data, &use, &g, &raw))) goto done;
    if ((rc = ndyn_marble_ops_from_geom(g, &ops))) goto done;
    size_t n = g->n, E = ndyn_marble_model_out_dim(m);
    emb = ndyn_malloc_array(n * E, sizeof(double));
    if (!emb) { rc = NDYN_ENOMEM; goto done; }
    double t0 = ndyn_time_now();
    if ((rc = ndyn_marble_transform(m, &ops->data, emb))) goto done;
    double t1 = ndyn_time_now();
    size_t se[2] = {n, E}, sp[2] = {n, g->D};
    const char *names[5] = {"emb", "condition", "pos", "index", "label"};
    ndyn_array *a[5] = {ndyn_array_view(NDYN_F64, 2, se, emb),
                        ndyn_array_view(NDYN_I32, 1, &n, g->condition),
                        ndyn_array_view(NDYN_F64, 2, sp, g->pos),
                        ndyn_array_view(NDYN_I64, 1, &n, g->index),
                        g->label ? ndyn_array_view(NDYN_F64, 1, &n, g->label) : NULL};
    size_t na = g->label ? 5 : 4;
    for (size_t i = 0; i < na; i++) if (!a[i]) rc = NDYN_ENOMEM;
    if (!rc) rc = ndyn_npz_write(out, na, names, (const ndyn_array *const *)a, 0);
    for (size_t i = 0; i < 5; i++) ndyn_array_free(a[i]);
    if (!rc) {
        printf("points       %zu (%d condition%s), latent dim %zu\n", n, g->C, g->C == 1 ? "" : "s", E);
        if (raw)
            printf("geometry     %s: k %d, delta %g, spacing %g, eigenvectors %d\n",
                   recorded ? (gset ? "the model's, with options overriding" : "the model's")
                            : "defaults (the model records none)",
                   use.k, use.delta, use.spacing, use.n_eigenvectors);
        printf("time (s)     embed %.3f\n", t1 - t0);
        printf("wrote        %s\n", out);
    }
done:
    free(emb);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
    ndyn_marble_model_free(m);
    return rc ? cli_fail(CMD) : CLI_OK;
}
