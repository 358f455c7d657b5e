/* Exact optimal transport speed: the network simplex against the Hungarian
 * algorithm (ndyn_hungarian, O(n^3)) on the same problem (equal sizes,
 * uniform weights, where EMD = optimal assignment / n), and Sinkhorn at one
 * regularisation, measured in the same run.
 *   bench_ot [max_n]     (default 2000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ndyn/analysis.h"

int main(int argc, char **argv)
{
    size_t nmax = argc > 1 ? (size_t)atol(argv[1]) : 2000;
    enum { D = 5 };
    printf("%6s %12s %12s %8s %14s %10s\n", "n", "emd_s", "hungarian_s", "ratio", "sinkhorn_s", "sk_iters");
    for (size_t n = 250; n <= nmax; n *= 2) {
        ndyn_rng r;
        ndyn_rng_init(&r, 1, n);
        double *x = malloc(n * D * sizeof *x), *y = malloc(n * D * sizeof *y);
        double *c = malloc(n * n * sizeof *c);
        int *map = malloc(n * sizeof *map);
        if (!x || !y || !c || !map) return 1;
        for (size_t i = 0; i < n * D; i++) {
            x[i] = ndyn_rng_normal(&r);
            y[i] = ndyn_rng_normal(&r) + (i % D == 0);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = 0;
                for (size_t a = 0; a < D; a++) s += pow(x[i * D + a] - y[j * D + a], 2);
                c[i * n + j] = sqrt(s);
            }
        double t0 = ndyn_time_now(), emd, h;
        if (ndyn_ot_emd(NULL, n, NULL, n, c, NULL, &emd)) return 1;
        double t1 = ndyn_time_now();
        if (ndyn_hungarian(c, n, n, 0, map, &h)) return 1;
        double t2 = ndyn_time_now();
        ndyn_sinkhorn_params p;
        ndyn_sinkhorn_params_default(&p, 0.05);
        p.tol = 1e-6;
        ndyn_sinkhorn_info info;
        double sk;
        if (ndyn_ot_sinkhorn(NULL, n, NULL, n, c, &p, NULL, &sk, &info)) return 1;
        double t3 = ndyn_time_now();
        if (fabs(emd - h / (double)n) > 1e-9 * emd) {
            fprintf(stderr, "mismatch at n = %zu: %.12g vs %.12g\n", n, emd, h / (double)n);
            return 1;
        }
        printf("%6zu %12.4f %12.4f %8.2f %14.4f %10zu\n", n, t1 - t0, t2 - t1, (t2 - t1) / (t1 - t0), t3 - t2,
               info.iters);
        fflush(stdout);
        free(x);
        free(y);
        free(c);
        free(map);
    }
    printf("ratio = Hungarian time / network simplex time; peak RSS %.1f MB\n",
           (double)ndyn_peak_rss_bytes() / 1048576.0);
    return 0;
}
