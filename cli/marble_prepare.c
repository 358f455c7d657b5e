/* ndyn marble prepare: point clouds -> graph, gauges, kernels, Laplacians
 * and (optionally) spectra, written as prepared.npz. */
#include "cli.h"
#include "marble_cli.h"

#include <stdlib.h>
#include <string.h>

#include "ndyn/geom.h"
#include "ndyn/io.h"

static const char *CMD = "marble prepare";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ndyn marble prepare --data FILE [--out FILE] [options]\n"
            "\n"
            "Build the graph and the operators MARBLE needs from point clouds: 'pos' (n, D),\n"
            "'vel' (n, s), optional 'condition' (n,) ints 0..C-1, 'label' (n,), 'mask' (n,).\n"
            "Each condition gets its own graph. Prints a summary on stdout.\n"
            "\n"
            "Options:\n"
            "      --data FILE          input (.npz, .mat, .h5, ...) with pos and vel (required)\n"
            "      --out FILE           output prepared dataset (default: prepared.npz)\n"
            "      --graph TYPE         cknn, knn or radius (default: cknn)\n"
            "      --k K                neighbours (default: 20)\n"
            "      --delta X            CkNN delta (default: 1.0)\n"
            "      --radius R           radius of the radius graph (required with --graph radius)\n"
            "      --spacing X          farthest-point sampling, fraction of the diameter (default: 0, off)\n"
            "      --local-gauges       tangent frames, connections, manifold-mode kernels (default: off)\n"
            "      --var-explained X    manifold-dimension rule (default: 0.9)\n"
            "      --dim M              force the manifold dimension (default: 0, by --var-explained)\n"
            "      --eigenvectors K     smallest eigenpairs to store: 0 none (Chebyshev diffusion),\n"
            "                           K > 0 that many, -1 all (small n only) (default: 0)\n"
            "      --seed N             seed of the sampling start and the eigensolver (default: 0)\n"
            CLI_COMMON_HELP
            "  -h, --help               this help\n");
}

static int load_inputs(const char *path, ndyn_array **pos, ndyn_array **vel, ndyn_array **cond,
                       ndyn_array **label, ndyn_array **mask)
{
    ndyn_dataset *ds;
    *pos = *vel = *cond = *label = *mask = NULL;
    int rc = ndyn_dataset_load(path, &ds);
    if (rc) return rc;
    const ndyn_array *a;
    rc = ndyn_dataset_get(ds, "pos", &a);
    if (!rc && a->ndim != 2) rc = ndyn_error(NDYN_ESHAPE, "%s: 'pos' must be 2-D (n, D)", path);
    if (!rc) *pos = ndyn_array_cast(a, NDYN_F64);
    if (!rc) rc = ndyn_dataset_get(ds, "vel", &a);
    if (!rc && a->ndim != 2) rc = ndyn_error(NDYN_ESHAPE, "%s: 'vel' must be 2-D (n, s)", path);
    if (!rc) *vel = ndyn_array_cast(a, NDYN_F64);
    if (!rc && (!*pos || !*vel)) rc = NDYN_ENOMEM;
    if (!rc && (*pos)->shape[0] != (*vel)->shape[0])
        rc = ndyn_error(NDYN_ESHAPE, "%s: 'pos' has %zu rows but 'vel' has %zu; they must match", path,
                        (*pos)->shape[0], (*vel)->shape[0]);
    size_t n = rc ? 0 : (*pos)->shape[0];
    const ndyn_named_array *e;
    if (!rc && (e = ndyn_dataset_find(ds, "condition")) && e->array) {
        if (e->array->size != n) rc = ndyn_error(NDYN_ESHAPE, "%s: 'condition' has %zu entries, expected %zu", path, e->array->size, n);
        else if (!(*cond = ndyn_array_cast(e->array, NDYN_I32))) rc = ndyn_error_context(NDYN_EINVAL, "%s: 'condition': ", path);
    }
    if (!rc && (e = ndyn_dataset_find(ds, "label")) && e->array) {
        if (e->array->size != n) rc = ndyn_error(NDYN_ESHAPE, "%s: 'label' has %zu entries, expected %zu", path, e->array->size, n);
        else if (!(*label = ndyn_array_cast(e->array, NDYN_F64))) rc = NDYN_ENOMEM;
    }
    if (!rc && (e = ndyn_dataset_find(ds, "mask")) && e->array) {
        if (e->array->size != n) rc = ndyn_error(NDYN_ESHAPE, "%s: 'mask' has %zu entries, expected %zu", path, e->array->size, n);
        else if (!(*mask = ndyn_array_cast(e->array, NDYN_U8))) rc = ndyn_error_context(NDYN_EINVAL, "%s: 'mask': ", path);
    }
    ndyn_dataset_free(ds);
    if (rc) {
        ndyn_array_free(*pos); ndyn_array_free(*vel); ndyn_array_free(*cond);
        ndyn_array_free(*label); ndyn_array_free(*mask);
        *pos = *vel = *cond = *label = *mask = NULL;
    }
    return rc;
}

int marble_prepare(int argc, char **argv)
{
    enum { O_DATA = 1, O_OUT, O_GRAPH, O_K, O_DELTA, O_RADIUS, O_SPACING, O_LG, O_VAR, O_DIM, O_EIG, O_SEED };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA}, {"out", required_argument, 0, O_OUT},
        {"graph", required_argument, 0, O_GRAPH}, {"k", required_argument, 0, O_K},
        {"delta", required_argument, 0, O_DELTA}, {"radius", required_argument, 0, O_RADIUS},
        {"spacing", required_argument, 0, O_SPACING}, {"local-gauges", no_argument, 0, O_LG},
        {"var-explained", required_argument, 0, O_VAR}, {"dim", required_argument, 0, O_DIM},
        {"eigenvectors", required_argument, 0, O_EIG}, {"seed", required_argument, 0, O_SEED},
        {"help", no_argument, 0, 'h'}, CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    const char *data = NULL, *out = "prepared.npz";
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    long v;
    int c, rc = 0;
    cli_reset_getopt();
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) { if (rc) return rc; continue; }
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case O_DATA: data = optarg; break;
        case O_OUT: out = optarg; break;
        case O_GRAPH:
            if (!strcmp(optarg, "cknn")) p.graph = NDYN_GRAPH_CKNN;
            else if (!strcmp(optarg, "knn")) p.graph = NDYN_GRAPH_KNN;
            else if (!strcmp(optarg, "radius")) p.graph = NDYN_GRAPH_RADIUS;
            else return cli_usage(CMD, "--graph must be cknn, knn or radius, got '%s'", optarg);
            break;
        case O_K: if (cli_parse_int(CMD, "k", optarg, 1, 100000, &v)) return CLI_USAGE; p.k = (int)v; break;
        case O_DELTA: if (cli_parse_double(CMD, "delta", optarg, 1e-12, 1e12, &p.delta)) return CLI_USAGE; break;
        case O_RADIUS: if (cli_parse_double(CMD, "radius", optarg, 1e-300, 1e300, &p.radius)) return CLI_USAGE; break;
        case O_SPACING: if (cli_parse_double(CMD, "spacing", optarg, 0, 0.999999, &p.spacing)) return CLI_USAGE; break;
        case O_LG: p.local_gauges = 1; break;
        case O_VAR: if (cli_parse_double(CMD, "var-explained", optarg, 1e-9, 1, &p.var_explained)) return CLI_USAGE; break;
        case O_DIM: if (cli_parse_int(CMD, "dim", optarg, 0, 1000, &v)) return CLI_USAGE; p.dim = (int)v; break;
        case O_EIG: if (cli_parse_int(CMD, "eigenvectors", optarg, -1, 100000, &v)) return CLI_USAGE; p.n_eigenvectors = (int)v; break;
        case O_SEED: if (cli_parse_u64(CMD, "seed", optarg, &p.seed)) return CLI_USAGE; break;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!data) return cli_usage(CMD, "--data FILE is required");
    if (p.graph == NDYN_GRAPH_RADIUS && !(p.radius > 0)) return cli_usage(CMD, "--graph radius needs --radius R");
    if (ndyn_geom_params_check(&p)) return cli_fail(CMD);

    double t0 = ndyn_time_now();
    ndyn_array *pos, *vel, *cond, *label, *mask;
    if (load_inputs(data, &pos, &vel, &cond, &label, &mask)) return cli_fail(CMD);
    double tload = ndyn_time_now() - t0;
    ndyn_geom_data *g = NULL;
    rc = ndyn_geom_prepare_arrays(pos->data, vel->data, pos->shape[0], pos->shape[1], vel->shape[1],
                                  cond ? cond->data : NULL, label ? label->data : NULL,
                                  mask ? mask->data : NULL, &p, &g);
    ndyn_array_free(pos); ndyn_array_free(vel); ndyn_array_free(cond);
    ndyn_array_free(label); ndyn_array_free(mask);
    if (rc) return cli_fail(CMD);
    double t1 = ndyn_time_now();
    rc = ndyn_geom_save(out, g);
    double tsave = ndyn_time_now() - t1;
    if (rc) { ndyn_geom_data_free(g); return cli_fail(CMD); }
    const ndyn_geom_timing *tm = &g->timing;
    printf("nodes        %zu (%d condition%s)\n", g->n, g->C, g->C == 1 ? "" : "s");
    printf("edges        %zu (undirected, no self-loops; mean degree %.1f)\n", g->graph.nnz / 2,
           (double)g->graph.nnz / (double)g->n);
    printf("components   %zu\n", g->n_components);
    printf("manifold dim %d%s, kernels %d\n", g->m, p.local_gauges ? "" : " (flat mode: ambient)", g->d);
    printf("eigenpairs   %zu%s\n", g->neig, g->neig ? "" : " (diffusion by Chebyshev expansion)");
    printf("time (s)     load %.3f  sample %.3f  graph %.3f  components %.3f  tangent %.3f  connections %.3f  "
           "kernels %.3f  laplacian %.3f  eigen %.3f  save %.3f\n",
           tload, tm->sample, tm->graph, tm->components, tm->tangent, tm->connections, tm->kernels,
           tm->laplacian, tm->eigen, tsave);
    printf("peak memory  %.1f MiB\n", (double)ndyn_peak_rss_bytes() / 1048576.0);
    printf("wrote        %s\n", out);
    ndyn_geom_data_free(g);
    return CLI_OK;
}
