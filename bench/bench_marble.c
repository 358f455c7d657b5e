/* Benchmark of MARBLE training: time per epoch and for the whole fit of
 * ndyn's model next to the PyTorch version of the same model
 * (python/marble_torch.py bench, the reference's per-batch pipeline: whole
 * signal diffused each batch, o-hop subgraph operators sliced, autograd),
 * on the same prepared operators, in the same run.
 *
 *   bench_marble [EPOCHS] [--no-python] [--only vdp|plane] [--eigenvectors K]
 *
 * Datasets: (1) the van der Pol sweep (40 values of mu, 100 initial
 * conditions, spacing 0.03 as the reference example), 64 Laplacian
 * eigenpairs for diffusion; (2) 10^5 points uniform in the plane with a
 * smooth field, diffusion off (no eigenpairs on both sides). Default model:
 * order 2, hidden [32], out 3, BatchNorm, batch 64, SGD(0.01, 0.9).
 * ndyn runs twice: without fit's feature cache (every batch builds its o-hop
 * neighbourhoods, the torch side's pipeline) and with it (the default).
 * --only vdp|plane runs one dataset; --eigenvectors K sets van der Pol's
 * eigenpairs (default 64; 0: Chebyshev heat action, fit's default, then
 * without the torch side, which needs eigenpairs).
 * Threads: both sides use one thread (torch.set_num_threads(1)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"
#include "ndyn/sim.h"

static int write_for_python(const char *path, const ndyn_marble_data *g, int with_eig)
{
    size_t n = g->n, nnz = (size_t)g->k_ptr[n], sp[2] = {n, g->dim}, ss[2] = {n, g->s};
    size_t np1 = n + 1, kv[2] = {g->d, nnz}, ev[2] = {n, g->n_eig}, ne = g->n_eig;
    /* graph = kernel pattern without the diagonal */
    int64_t *aptr = calloc(n + 1, sizeof(int64_t));
    int32_t *aidx = malloc(nnz * sizeof(int32_t));
    int32_t *train = malloc(n * sizeof(int32_t));
    size_t q = 0;
    for (size_t i = 0; i < n; i++) {
        for (int64_t k = g->k_ptr[i]; k < g->k_ptr[i + 1]; k++)
            if ((size_t)g->k_idx[k] != i) aidx[q++] = g->k_idx[k];
        aptr[i + 1] = (int64_t)q;
    }
    size_t ntr = n - n / 5, na = q;
    ndyn_rng r;
    ndyn_rng_init(&r, 0, 1);
    size_t *perm = malloc(n * sizeof(size_t));
    ndyn_rng_permutation(&r, perm, n);
    for (size_t i = 0; i < ntr; i++) train[i] = (int32_t)perm[i];
    free(perm);
    const char *names[11] = {"pos", "signal", "adj_ptr", "adj_idx", "k_ptr", "k_idx", "k_val",
                             "train", "evals", "evecs", "dhalf"};
    ndyn_array *a[11] = {
        ndyn_array_view(NDYN_F64, 2, sp, (void *)g->pos), ndyn_array_view(NDYN_F64, 2, ss, (void *)g->signal),
        ndyn_array_view(NDYN_I64, 1, &np1, aptr), ndyn_array_view(NDYN_I32, 1, &na, aidx),
        ndyn_array_view(NDYN_I64, 1, &np1, (void *)g->k_ptr), ndyn_array_view(NDYN_I32, 1, &nnz, (void *)g->k_idx),
        ndyn_array_view(NDYN_F64, 2, kv, (void *)g->k_val), ndyn_array_view(NDYN_I32, 1, &ntr, train),
        with_eig ? ndyn_array_view(NDYN_F64, 1, &ne, (void *)g->evals) : NULL,
        with_eig ? ndyn_array_view(NDYN_F64, 2, ev, (void *)g->evecs) : NULL,
        with_eig ? ndyn_array_view(NDYN_F64, 1, &n, (void *)g->dhalf) : NULL};
    int rc = ndyn_npz_write(path, with_eig ? 11 : 8, names, (const ndyn_array *const *)a, 0);
    for (int i = 0; i < 11; i++) ndyn_array_free(a[i]);
    free(aptr); free(aidx); free(train);
    return rc;
}

/* CPU seconds of this process: the machine may be shared, so both sides are
 * compared by CPU time as well as wall time (both single-threaded). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int python_bench(const char *npz, int epochs, int diffusion, double *epoch_s,
                        double *epoch_cpu, double *loss)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/marble_torch.py bench %s %d 1 %s 2>&1",
             NDYN_BENCH_PYTHON_DIR, npz, epochs, diffusion ? "" : "nodiff");
    FILE *p = popen(cmd, "r");
    if (!p) return 1;
    char line[512];
    *epoch_s = -1;
    *loss = -1;
    while (fgets(line, sizeof line, p)) {
        sscanf(line, "epoch_seconds %lf", epoch_s);
        sscanf(line, "epoch_cpu_seconds %lf", epoch_cpu);
        sscanf(line, "final_loss %lf", loss);
        if (!strstr(line, "seconds") && !strstr(line, "final_loss")) fputs(line, stderr);
    }
    pclose(p);
    return *epoch_s < 0;
}

/* One ndyn fit; per epoch: the training phase only (as the torch side), best over epochs. */
static int ndyn_run(const ndyn_marble_params *p, const ndyn_marble_data *d, double *per_epoch,
                    double *per_epoch_cpu, double *t_fit, double *c_fit, double *loss1,
                    double *loss_end)
{
    ndyn_marble_model *m = NULL;
    if (ndyn_marble_model_new(p, d->s, d->d, d->dim, &m)) return 1;
    ndyn_marble_history h;
    double t0 = ndyn_time_now(), c0 = cpu_now();
    if (ndyn_marble_fit(m, d, &h)) { fprintf(stderr, "%s\n", ndyn_errmsg()); return 1; }
    *t_fit = ndyn_time_now() - t0;
    *c_fit = cpu_now() - c0;
    *per_epoch = *per_epoch_cpu = 1e300;
    for (size_t i = 0; i < h.n; i++) {
        if (h.train_seconds[i] < *per_epoch) *per_epoch = h.train_seconds[i];
        if (h.train_cpu_seconds[i] < *per_epoch_cpu) *per_epoch_cpu = h.train_cpu_seconds[i];
    }
    *loss1 = h.train_loss[0];
    *loss_end = h.train_loss[h.n - 1];
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m);
    return 0;
}

static void bench_one(const char *name, ndyn_geom_data *geo, int diffusion, int epochs,
                      int epochs_py, int use_python)
{
    ndyn_marble_ops *ops = NULL;
    if (ndyn_marble_ops_from_geom(geo, &ops)) { fprintf(stderr, "%s\n", ndyn_errmsg()); return; }
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    p.epochs = epochs;
    p.diffusion = diffusion;
    double per_epoch, per_epoch_cpu, t_fit, c_fit, l1, le;
    /* without fit's feature cache first (every batch builds its o-hop
     * neighbourhoods, as the torch side), then the default */
    size_t cache = ndyn_marble_feature_cache_bytes();
    ndyn_marble_set_feature_cache_bytes(0);
    if (!ndyn_run(&p, &ops->data, &per_epoch, &per_epoch_cpu, &t_fit, &c_fit, &l1, &le))
        printf("%-28s n %7zu  ndyn, no feature cache: %.3f s/epoch wall, %.3f s/epoch CPU; "
               "loss after 1 epoch %.4f, final %.4f\n", name, ops->data.n, per_epoch,
               per_epoch_cpu, l1, le);
    double ref_epoch = per_epoch, ref_cpu = per_epoch_cpu;
    ndyn_marble_set_feature_cache_bytes(cache);
    if (ndyn_run(&p, &ops->data, &per_epoch, &per_epoch_cpu, &t_fit, &c_fit, &l1, &le)) return;
    printf("%-28s n %7zu  ndyn: %.3f s/epoch wall, %.3f s/epoch CPU (train phase, best of %d), "
           "whole fit %.2f s wall / %.2f s CPU incl. cache and validation; loss after 1 epoch "
           "%.4f, final %.4f\n", name, ops->data.n, per_epoch, per_epoch_cpu, epochs, t_fit, c_fit,
           l1, le);
    if (use_python) {
        char path[512];
        snprintf(path, sizeof path, "/tmp/bench_marble_%d.npz", (int)getpid());
        double pe, pc = -1, pl;
        if (!write_for_python(path, &ops->data, diffusion) &&
            !python_bench(path, epochs_py, diffusion, &pe, &pc, &pl)) {
            printf("%-28s          torch: %.3f s/epoch wall, %.3f s/epoch CPU (train only), loss "
                   "after %d epoch(s) %.4f\n", "", pe, pc, epochs_py, pl);
            printf("%-28s          ratio torch/ndyn per epoch: %.1fx wall, %.1fx CPU "
                   "(without the feature cache %.1fx wall, %.1fx CPU)\n", "", pe / per_epoch,
                   pc / per_epoch_cpu, pe / ref_epoch, pc / ref_cpu);
        } else {
            printf("%-28s          torch baseline failed\n", "");
        }
        remove(path);
    }
    ndyn_marble_ops_free(ops);
}

static int run_vdp(int epochs, int use_python, int neig)
{
    ndyn_sim_vdp_params vp;
    ndyn_sim_vdp_defaults(&vp);
    ndyn_dataset *ds = NULL;
    if (ndyn_sim_vdp(&vp, &ds)) { fprintf(stderr, "%s\n", ndyn_errmsg()); return 1; }
    const ndyn_array *pos, *vel, *cond;
    ndyn_dataset_get(ds, "pos", &pos);
    ndyn_dataset_get(ds, "vel", &vel);
    ndyn_dataset_get(ds, "condition", &cond);
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    gp.spacing = 0.03;
    gp.n_eigenvectors = neig;
    ndyn_geom_data *g = NULL;
    double t0 = ndyn_time_now();
    if (ndyn_geom_prepare_arrays(pos->data, vel->data, pos->shape[0], pos->shape[1], pos->shape[1],
                                 cond->data, NULL, NULL, &gp, &g)) {
        fprintf(stderr, "%s\n", ndyn_errmsg());
        return 1;
    }
    printf("van der Pol: %zu points, %d conditions, prepared in %.2f s\n", g->n, g->C,
           ndyn_time_now() - t0);
    char name[64];
    snprintf(name, sizeof name, neig ? "vdp (diffusion, %d eig)" : "vdp (diffusion, Chebyshev)", neig);
    bench_one(name, g, 1, epochs, epochs, use_python && neig > 0);
    ndyn_geom_data_free(g);
    ndyn_dataset_free(ds);
    return 0;
}

static int run_plane(int epochs, int use_python)
{
    size_t n = 100000;
    double *x = malloc(n * 2 * sizeof(double)), *v = malloc(n * 2 * sizeof(double));
    ndyn_rng r;
    ndyn_rng_init(&r, 42, 0);
    for (size_t i = 0; i < n; i++) {
        double a = ndyn_rng_uniform_range(&r, -1, 1), b = ndyn_rng_uniform_range(&r, -1, 1);
        x[2 * i] = a; x[2 * i + 1] = b;
        v[2 * i] = -b + 0.3 * a * a; v[2 * i + 1] = a - 0.2 * b;
    }
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    ndyn_geom_data *g = NULL;
    double t0 = ndyn_time_now();
    if (ndyn_geom_prepare_arrays(x, v, n, 2, 2, NULL, NULL, NULL, &gp, &g)) {
        fprintf(stderr, "%s\n", ndyn_errmsg());
        return 1;
    }
    printf("plane: %zu points prepared in %.2f s\n", g->n, ndyn_time_now() - t0);
    bench_one("1e5 points (no diffusion)", g, 0, epochs > 2 ? 2 : epochs, 1, use_python);
    ndyn_geom_data_free(g);
    free(x); free(v);
    return 0;
}

int main(int argc, char **argv)
{
    int epochs = argc > 1 && argv[1][0] != '-' ? atoi(argv[1]) : 5;
    int use_python = 1;
    const char *only = NULL;
    int neig = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--eigenvectors") && i + 1 < argc) neig = atoi(argv[++i]);
        if (!strcmp(argv[i], "--no-python")) use_python = 0;
        if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    }
    ndyn_set_num_threads(1);
    ndyn_set_quiet(1);
    if ((!only || !strcmp(only, "vdp")) && run_vdp(epochs, use_python, neig)) return 1;
    if ((!only || !strcmp(only, "plane")) && run_plane(epochs, use_python)) return 1;
    printf("peak memory %.1f MiB\n", (double)ndyn_peak_rss_bytes() / 1048576.0);
    return 0;
}
