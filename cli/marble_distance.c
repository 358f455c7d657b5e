/* ndyn marble distance: optimal-transport distances between the latent
 * distributions of the conditions, and their classical MDS. */
#include "cli.h"
#include "marble_cli.h"

#include <stdlib.h>
#include <string.h>

#include "ndyn/analysis.h"
#include "ndyn/io.h"

static const char *CMD = "marble distance";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ndyn marble distance --emb EMB.npz --out DIST.npz [options]\n"
            "\n"
            "Distances between conditions: uniform empirical measures on each condition's\n"
            "latent points, Euclidean cost, exact earth mover's distance (network simplex)\n"
            "for every pair, or entropic Sinkhorn with --sinkhorn. With --clusters K the\n"
            "points are first clustered by k-means (the scalable default of the reference\n"
            "for large sets) and conditions compared as cluster histograms.\n"
            "Writes dist (C, C), mds (C, min(C, 2)) classical MDS of dist, and with\n"
            "--clusters gamma (C, C, K, K) transport plans, centers (K, E), hist (C, K).\n"
            "\n"
            "Options:\n"
            "      --emb EMB            embedding from 'ndyn marble embed' (emb, condition) (required)\n"
            "      --out DIST           output (default: dist.npz)\n"
            "      --clusters K         k-means histograms with K clusters (default: off, exact on points)\n"
            "      --sinkhorn EPS       entropic OT with regularisation EPS (default: off, exact)\n"
            "      --seed N             k-means seed (default: 0)\n"
            CLI_COMMON_HELP
            "  -h, --help               this help\n");
}

int marble_distance(int argc, char **argv)
{
    enum { O_EMB = 1, O_OUT, O_K, O_SK, O_SEED };
    static const struct option opts[] = {
        {"emb", required_argument, 0, O_EMB}, {"out", required_argument, 0, O_OUT},
        {"clusters", required_argument, 0, O_K}, {"sinkhorn", required_argument, 0, O_SK},
        {"seed", required_argument, 0, O_SEED},
        {"help", no_argument, 0, 'h'}, CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    const char *embp = NULL, *out = "dist.npz";
    long k = 0;
    double eps = 0;
    uint64_t seed = 0;
    int c, rc = 0;
    cli_reset_getopt();
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) { if (rc) return rc; continue; }
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case O_EMB: embp = optarg; break;
        case O_OUT: out = optarg; break;
        case O_K: if (cli_parse_int(CMD, "clusters", optarg, 1, 1000000, &k)) return CLI_USAGE; break;
        case O_SK: if (cli_parse_double(CMD, "sinkhorn", optarg, 1e-300, 1e300, &eps)) return CLI_USAGE; break;
        case O_SEED: if (cli_parse_u64(CMD, "seed", optarg, &seed)) return CLI_USAGE; break;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!embp) return cli_usage(CMD, "--emb EMB.npz is required");
    ndyn_dataset *ds = NULL;
    ndyn_array *emb = NULL, *cond = NULL;
    double *dist = NULL, *mds = NULL, *gamma = NULL, *centers = NULL, *hist = NULL;
    int *ci = NULL;
    if ((rc = ndyn_dataset_load(embp, &ds))) goto done;
    const ndyn_array *a;
    if ((rc = ndyn_dataset_get(ds, "emb", &a))) goto done;
    if (a->ndim != 2) { rc = ndyn_error(NDYN_ESHAPE, "%s: 'emb' must be (n, E)", embp); goto done; }
    if (!(emb = ndyn_array_cast(a, NDYN_F64))) { rc = NDYN_ENOMEM; goto done; }
    size_t n = emb->shape[0], E = emb->shape[1];
    ci = ndyn_malloc_array(n, sizeof(int));
    if (!ci) { rc = NDYN_ENOMEM; goto done; }
    int C = 1;
    const ndyn_named_array *e = ndyn_dataset_find(ds, "condition");
    if (e && e->array) {
        if (e->array->size != n) { rc = ndyn_error(NDYN_ESHAPE, "%s: 'condition' has %zu entries, not %zu", embp, e->array->size, n); goto done; }
        if (!(cond = ndyn_array_cast(e->array, NDYN_I32))) { rc = ndyn_error_context(NDYN_EINVAL, "%s: 'condition': ", embp); goto done; }
        C = 0;
        for (size_t i = 0; i < n; i++) {
            ci[i] = ((const int32_t *)cond->data)[i];
            if (ci[i] < 0) { rc = ndyn_error(NDYN_EINVAL, "%s: condition[%zu] = %d is negative", embp, i, ci[i]); goto done; }
            if (ci[i] + 1 > C) C = ci[i] + 1;
        }
    } else {
        for (size_t i = 0; i < n; i++) ci[i] = 0;
    }
    size_t Cs = (size_t)C, kd = Cs < 2 ? Cs : 2;
    dist = ndyn_malloc_array(Cs * Cs, sizeof(double));
    mds = ndyn_malloc_array(Cs * kd, sizeof(double));
    if (!dist || !mds) { rc = NDYN_ENOMEM; goto done; }
    ndyn_ot_params op;
    ndyn_ot_params_default(&op);
    if (eps > 0) { op.sinkhorn = 1; ndyn_sinkhorn_params_default(&op.sk, eps); }
    double t0 = ndyn_time_now();
    if (k > 0) {
        size_t K = (size_t)k;
        gamma = ndyn_malloc_array(Cs * Cs * K * K, sizeof(double));
        centers = ndyn_malloc_array(K * E, sizeof(double));
        hist = ndyn_malloc_array(Cs * K, sizeof(double));
        if (!gamma || !centers || !hist) { rc = NDYN_ENOMEM; goto done; }
        ndyn_kmeans_params km;
        ndyn_kmeans_params_default(&km, K);
        km.seed = seed;
        rc = ndyn_ot_cluster_distances(emb->data, ci, n, E, C, &km, &op, dist, gamma, centers, NULL, hist);
    } else {
        rc = ndyn_ot_condition_distances(emb->data, ci, n, E, C, &op, dist);
    }
    if (rc) goto done;
    if ((rc = ndyn_mds_classical(dist, Cs, kd, mds, NULL, NULL))) goto done;
    double t1 = ndyn_time_now();
    {
        size_t sd[2] = {Cs, Cs}, sm[2] = {Cs, kd}, sg[4] = {Cs, Cs, (size_t)k, (size_t)k},
               sc[2] = {(size_t)k, E}, sh[2] = {Cs, (size_t)k};
        const char *names[5] = {"dist", "mds", "gamma", "centers", "hist"};
        ndyn_array *arr[5] = {ndyn_array_view(NDYN_F64, 2, sd, dist), ndyn_array_view(NDYN_F64, 2, sm, mds),
                              k ? ndyn_array_view(NDYN_F64, 4, sg, gamma) : NULL,
                              k ? ndyn_array_view(NDYN_F64, 2, sc, centers) : NULL,
                              k ? ndyn_array_view(NDYN_F64, 2, sh, hist) : NULL};
        size_t na = k ? 5 : 2;
        for (size_t i = 0; i < na; i++) if (!arr[i]) rc = NDYN_ENOMEM;
        if (!rc) rc = ndyn_npz_write(out, na, names, (const ndyn_array *const *)arr, 1);
        for (size_t i = 0; i < 5; i++) ndyn_array_free(arr[i]);
    }
    if (!rc) {
        printf("conditions   %d (%zu points, latent dim %zu)\n", C, n, E);
        printf("method       %s%s\n", eps > 0 ? "Sinkhorn" : "exact EMD", k ? " on k-means histograms" : " on points");
        printf("time (s)     %.3f\n", t1 - t0);
        printf("wrote        %s\n", out);
    }
done:
    free(ci); free(dist); free(mds); free(gamma); free(centers); free(hist);
    ndyn_array_free(emb); ndyn_array_free(cond);
    ndyn_dataset_free(ds);
    return rc ? cli_fail(CMD) : CLI_OK;
}
