/* Benchmark of MARBLE dataset preparation (ndyn_geom_prepare) on synthetic
 * manifolds: a noisy sphere and a noisy torus in R^3 and a 3-manifold in
 * R^8, at n = 1e4, 1e5, 1e6. Reports time per stage, the heat action
 * exp(-tL)f by Chebyshev at t = 1, and the peak RSS of a fresh process per
 * case (each case runs in a forked child). Baseline measured in the same
 * run: the reference's dense CkNN construction (n x n distances, k-th
 * neighbour per row, ratio test), feasible only for small n.
 *
 * Usage: bench_geom [--min-n N] [--max-n N] [--shape sphere|torus|m3r8|all]
 *                   [--local-gauges] [--eigenvectors K] [--k K] [--no-baseline]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ndyn/geom.h"

static void make_cloud(const char *shape, size_t n, uint64_t seed, double **Xo, double **Vo, size_t *Do)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    size_t D = strcmp(shape, "m3r8") == 0 ? 8 : 3;
    double *X = malloc(n * D * sizeof *X), *V = malloc(n * D * sizeof *V);
    /* noise: 0.1 of the mean sample spacing (volume / n)^(1/m), so the cloud
     * stays a thin shell at every n (a fixed noise level turns a dense sample
     * into a 3-D blob and isolates CkNN nodes) */
    double vol = !strcmp(shape, "sphere") ? 4 * M_PI : !strcmp(shape, "torus") ? 8 * M_PI * M_PI : 2 * M_PI * M_PI;
    double noise = 0.1 * pow(vol / (double)n, !strcmp(shape, "m3r8") ? 1.0 / 3.0 : 0.5);
    double M[8][4];
    for (int a = 0; a < 8; a++) for (int b = 0; b < 4; b++) M[a][b] = ndyn_rng_normal(&r) / 2;
    for (size_t i = 0; i < n; i++) {
        double *x = X + i * D, *v = V + i * D;
        if (!strcmp(shape, "sphere")) {
            double a = ndyn_rng_normal(&r), b = ndyn_rng_normal(&r), c = ndyn_rng_normal(&r), s = sqrt(a * a + b * b + c * c);
            x[0] = a / s; x[1] = b / s; x[2] = c / s;
            v[0] = -x[1]; v[1] = x[0]; v[2] = 0;
        } else if (!strcmp(shape, "torus")) {
            double u = 2 * M_PI * ndyn_rng_uniform(&r), w = 2 * M_PI * ndyn_rng_uniform(&r);
            x[0] = (2 + cos(w)) * cos(u); x[1] = (2 + cos(w)) * sin(u); x[2] = sin(w);
            v[0] = -sin(u); v[1] = cos(u); v[2] = 0;
        } else { /* S^3 in R^4, mapped into R^8 by a random linear map plus a bend */
            double q[4], s = 0;
            for (int a = 0; a < 4; a++) { q[a] = ndyn_rng_normal(&r); s += q[a] * q[a]; }
            s = sqrt(s);
            for (int a = 0; a < 4; a++) q[a] /= s;
            double dq[4] = {-q[1], q[0], -q[3], q[2]}; /* Hopf flow */
            for (size_t a = 0; a < D; a++) {
                x[a] = 0; v[a] = 0;
                for (int b = 0; b < 4; b++) { x[a] += M[a][b] * q[b]; v[a] += M[a][b] * dq[b]; }
            }
            x[7] += 0.3 * q[0] * q[1];
        }
        for (size_t a = 0; a < D; a++) x[a] += noise * ndyn_rng_normal(&r);
    }
    *Xo = X; *Vo = V; *Do = D;
}

/* The reference's construction, O(n^2) memory and time. */
static size_t dense_cknn_edges(const double *X, size_t n, size_t D, int k, double delta)
{
    double *dm = malloc(n * n * sizeof *dm), *row = malloc(n * sizeof *row), *rho = malloc(n * sizeof *rho);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t d = 0; d < D; d++) s += (X[i * D + d] - X[j * D + d]) * (X[i * D + d] - X[j * D + d]);
            dm[i * n + j] = sqrt(s);
        }
    for (size_t i = 0; i < n; i++) {
        /* k + 1 smallest of the row (self included) by insertion */
        size_t kk = (size_t)k, cnt = 0;
        for (size_t j = 0; j < n; j++) {
            double d = dm[i * n + j];
            if (cnt == kk + 1 && d >= row[kk]) continue;
            size_t z = cnt < kk + 1 ? cnt++ : kk;
            while (z > 0 && row[z - 1] > d) { row[z] = row[z - 1]; z--; }
            row[z] = d;
        }
        rho[i] = row[kk];
    }
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) e += i != j && dm[i * n + j] / sqrt(rho[i] * rho[j]) < delta;
    free(dm); free(row); free(rho);
    return e / 2;
}

static void run_case(const char *shape, size_t n, const ndyn_geom_params *p)
{
    double *X, *V;
    size_t D;
    make_cloud(shape, n, 1, &X, &V, &D);
    double t0 = ndyn_time_now();
    ndyn_geom_data *g = NULL;
    if (ndyn_geom_prepare_arrays(X, V, n, D, D, NULL, NULL, NULL, p, &g)) {
        printf("%-7s n=%-8zu FAILED: %s\n", shape, n, ndyn_errmsg());
        fflush(stdout);
        exit(1);
    }
    double tprep = ndyn_time_now() - t0;
    /* one heat action on the signal (Chebyshev unless eigenpairs were asked) */
    double *out = malloc(n * D * sizeof *out), *dout = malloc(n * D * sizeof *dout);
    double t1 = ndyn_time_now();
    int rc = ndyn_geom_scalar_diffusion(g, 1.0, V, D, out, dout);
    double theat = ndyn_time_now() - t1;
    const ndyn_geom_timing *t = &g->timing;
    printf("%-7s n=%-8zu D=%zu m=%d edges=%-9zu prepare %7.2f s [sample %.2f graph %.2f comp %.2f tangent %.2f "
           "conn %.2f kernels %.2f lap %.2f eigen %.2f]  heat(t=1)%s %.2f s  peak RSS %.0f MiB (%.0f B/node/k)\n",
           shape, n, D, g->m, g->graph.nnz / 2, tprep, t->sample, t->graph, t->components, t->tangent,
           t->connections, t->kernels, t->laplacian, t->eigen, rc ? " FAILED" : "", theat,
           (double)ndyn_peak_rss_bytes() / 1048576.0, (double)ndyn_peak_rss_bytes() / (double)n / p->k);
    fflush(stdout);
    ndyn_geom_data_free(g);
    free(out); free(dout); free(X); free(V);
}

static void fork_case(const char *shape, size_t n, const ndyn_geom_params *p)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { run_case(shape, n, p); _exit(0); }
    int st;
    waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
    size_t maxn = 1000000, minn = 10000;
    const char *shape = "all";
    ndyn_geom_params p;
    ndyn_geom_params_default(&p);
    int nobase = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max-n") && i + 1 < argc) maxn = (size_t)atof(argv[++i]);
        else if (!strcmp(argv[i], "--min-n") && i + 1 < argc) minn = (size_t)atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-baseline")) nobase = 1;
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc) shape = argv[++i];
        else if (!strcmp(argv[i], "--local-gauges")) p.local_gauges = 1;
        else if (!strcmp(argv[i], "--eigenvectors") && i + 1 < argc) p.n_eigenvectors = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--k") && i + 1 < argc) p.k = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--min-n N] [--max-n N] [--no-baseline] [--shape sphere|torus|m3r8|all] [--local-gauges] [--eigenvectors K] [--k K]\n", argv[0]); return 2; }
    }
    ndyn_set_quiet(1);
    printf("bench_geom: k=%d delta=%g local_gauges=%d eigenvectors=%d\n", p.k, p.delta, p.local_gauges,
           p.n_eigenvectors);
    /* baseline: dense CkNN of the reference vs the KD-tree graph, same points.
     * Every case runs in a forked child, and the parent never starts OpenMP
     * threads (libgomp does not survive a fork after its pool exists). */
    fflush(stdout);
    pid_t pid = nobase ? -1 : fork();
    if (pid == 0) {
        size_t n = 10000, D;
        double *X, *V;
        make_cloud("sphere", n, 1, &X, &V, &D);
        double t0 = ndyn_time_now();
        size_t e_dense = dense_cknn_edges(X, n, D, p.k, p.delta);
        double td = ndyn_time_now() - t0;
        ndyn_csr G;
        t0 = ndyn_time_now();
        int rc = ndyn_geom_cknn(X, n, D, p.k, p.delta, &G);
        double tk = ndyn_time_now() - t0;
        printf("baseline n=%zu: dense CkNN %.2f s (%zu edges, %.0f MiB of distances) vs KD-tree CkNN %.3f s "
               "(%zu edges): %.0fx\n", n, td, e_dense, n * n * 8.0 / 1048576.0, tk, rc ? 0 : G.nnz / 2, td / tk);
        if (!rc) ndyn_csr_free(&G);
        free(X); free(V);
        fflush(stdout);
        _exit(0);
    }
    int st;
    if (pid > 0) waitpid(pid, &st, 0);
    const char *shapes[3] = {"sphere", "torus", "m3r8"};
    for (size_t n = minn; n <= maxn; n *= 10)
        for (int s = 0; s < 3; s++)
            if (!strcmp(shape, "all") || !strcmp(shape, shapes[s])) fork_case(shapes[s], n, &p);
    return 0;
}
