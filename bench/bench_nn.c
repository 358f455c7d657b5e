/* Benchmark of the nn engine at MARBLE/SRNN sizes, against PyTorch CPU in
 * the same run (python/bench_nn_torch.py through /usr/bin/python3 when
 * python3-torch is installed).
 *
 *   mlp: 39 -> 32 -> 3, BatchNorm1d + ReLU (the MARBLE default), batch 192,
 *        train mode, forward + backward (+ zero-grad)
 *   rnn: Elman tanh, input 16, hidden 16, 200 steps, batch 16, forward +
 *        BPTT over all steps (+ zero-grad)
 * each in float64 (store + MLP/RNN modules) and float32 (the _f32 kernels).
 * Both sides run on one thread (OpenBLAS and torch set to 1) and report the
 * best of 5 blocks of process CPU time per iteration.
 *
 * Usage: bench_nn [--seconds S] [--no-torch]   (S per case, default 1)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ndyn/nn.h"

enum { MB = 192, MC = 39, MH = 32, MO = 3, RT = 200, RB = 16, RD = 16, RH = 16 };

typedef struct bench_case {
    const char *name;
    void (*fn)(void *);
    void *ctx;
    double ndyn_s, torch_s;
} bench_case;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best of 5 blocks of process CPU time per call: on a shared machine wall
 * time mostly measures the other processes. python/bench_nn_torch.py
 * measures PyTorch the same way. */
static double timeit(void (*fn)(void *), void *ctx, double seconds, long *iters)
{
    for (int i = 0; i < 5; i++) fn(ctx);
    double best = 1e300;
    *iters = 0;
    for (int rep = 0; rep < 5; rep++) {
        long n = 0;
        double t0 = cpu_now(), t;
        do {
            fn(ctx);
            n++;
            t = cpu_now() - t0;
        } while (t < seconds / 5 || n < 3);
        if (t / (double)n < best) best = t / (double)n;
        *iters += n;
    }
    return best;
}

static void fill(double *x, size_t n, uint64_t seed)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n; i++) x[i] = ndyn_rng_normal(&r);
}

static void fillf(float *x, size_t n, uint64_t seed)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n; i++) x[i] = (float)ndyn_rng_normal(&r);
}

/* ---------------------------------------------------------- MLP f64 */

typedef struct mlp64 {
    ndyn_nn_store *s;
    ndyn_nn_mlp mlp;
    ndyn_nn_mlp_cache *c;
    double x[MB * MC], out[MB * MO], g[MB * MO], dx[MB * MC];
} mlp64;

static void mlp64_step(void *p)
{
    mlp64 *m = p;
    ndyn_nn_store_zero_grad(m->s);
    memset(m->dx, 0, sizeof m->dx);
    ndyn_nn_mlp_forward(&m->mlp, m->s, m->c, m->out, m->x, MB, 1, NULL);
    ndyn_nn_mlp_backward(&m->mlp, m->s, m->c, m->dx, m->g, MB);
}

/* ---------------------------------------------------------- MLP f32 */

typedef struct mlp32 {
    float w1[MH * MC], b1[MH], bnw[MH], bnb[MH], rm[MH], rv[MH], w2[MO * MH], b2[MO];
    float dw1[MH * MC], db1[MH], dbnw[MH], dbnb[MH], dw2[MO * MH], db2[MO];
    float x[MB * MC], z1[MB * MH], bn[MB * MH], a1[MB * MH], out[MB * MO], g[MB * MO];
    float mean[MH], rstd[MH], ga[MB * MH], gz[MB * MH], dx[MB * MC];
} mlp32;

static void mlp32_step(void *p)
{
    mlp32 *m = p;
    memset(m->dw1, 0, sizeof m->dw1), memset(m->db1, 0, sizeof m->db1);
    memset(m->dbnw, 0, sizeof m->dbnw), memset(m->dbnb, 0, sizeof m->dbnb);
    memset(m->dw2, 0, sizeof m->dw2), memset(m->db2, 0, sizeof m->db2);
    memset(m->ga, 0, sizeof m->ga), memset(m->gz, 0, sizeof m->gz);
    memset(m->dx, 0, sizeof m->dx);
    ndyn_nn_linear_forward_f32(m->z1, m->x, m->w1, m->b1, MB, MC, MH);
    ndyn_nn_batchnorm_forward_train_f32(m->bn, m->mean, m->rstd, m->rm, m->rv, m->z1, m->bnw,
                                        m->bnb, MB, MH, 0.1f, 1e-5f);
    ndyn_nn_relu_forward_f32(m->a1, m->bn, MB * MH);
    ndyn_nn_linear_forward_f32(m->out, m->a1, m->w2, m->b2, MB, MH, MO);
    ndyn_nn_linear_backward_f32(m->ga, m->dw2, m->db2, m->g, m->a1, m->w2, MB, MH, MO);
    float *gb = m->bn; /* reuse: gradient wrt the BN output */
    memset(gb, 0, sizeof m->bn);
    ndyn_nn_relu_backward_f32(gb, m->ga, m->a1, MB * MH);
    ndyn_nn_batchnorm_backward_train_f32(m->gz, m->dbnw, m->dbnb, gb, m->z1, m->mean, m->rstd,
                                         m->bnw, MB, MH);
    ndyn_nn_linear_backward_f32(m->dx, m->dw1, m->db1, m->gz, m->x, m->w1, MB, MC, MH);
}

/* ---------------------------------------------------------- RNN f64 */

typedef struct rnn64 {
    ndyn_nn_store *s;
    ndyn_nn_rnn rnn;
    ndyn_nn_rnn_cache *c;
    double x[RT * RB * RD], hs[RT * RB * RH], g[RT * RB * RH], dx[RT * RB * RD];
} rnn64;

static void rnn64_step(void *p)
{
    rnn64 *m = p;
    ndyn_nn_store_zero_grad(m->s);
    memset(m->dx, 0, sizeof m->dx);
    ndyn_nn_rnn_apply(&m->rnn, m->s, m->c, m->hs, m->x, NULL, RT, RB);
    ndyn_nn_rnn_apply_backward(&m->rnn, m->s, m->c, m->dx, NULL, m->g, m->hs, m->x, NULL, RT, RB);
}

/* ---------------------------------------------------------- RNN f32 */

typedef struct rnn32 {
    float wih[RH * RD], whh[RH * RH], bih[RH], bhh[RH];
    float dwih[RH * RD], dwhh[RH * RH], dbih[RH], dbhh[RH];
    float x[RT * RB * RD], hs[RT * RB * RH], g[RT * RB * RH], dx[RT * RB * RD];
    float work[(RT + 1) * RB * RH];
} rnn32;

static void rnn32_step(void *p)
{
    rnn32 *m = p;
    memset(m->dwih, 0, sizeof m->dwih), memset(m->dwhh, 0, sizeof m->dwhh);
    memset(m->dbih, 0, sizeof m->dbih), memset(m->dbhh, 0, sizeof m->dbhh);
    memset(m->dx, 0, sizeof m->dx);
    ndyn_nn_rnn_forward_f32(m->hs, m->x, NULL, m->wih, m->whh, m->bih, m->bhh, RT, RB, RD, RH);
    ndyn_nn_rnn_backward_f32(m->dx, NULL, m->dwih, m->dwhh, m->dbih, m->dbhh, m->g, m->hs, m->x,
                             NULL, m->wih, m->whh, RT, RB, RD, RH, m->work);
}

/* Run the PyTorch baseline; fills torch_s of the matching cases. */
static int run_torch(bench_case *cases, int n, double seconds)
{
    FILE *t = fopen("/usr/bin/python3", "rb");
    if (!t) return 0;
    fclose(t);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import torch' 2>/dev/null && "
             "/usr/bin/python3 %s/bench_nn_torch.py --seconds %g 2>/dev/null",
             NDYN_BENCH_PYTHON_DIR, seconds);
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char line[256];
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        char name[64];
        double s;
        long it;
        if (sscanf(line, "%63s %lf %ld", name, &s, &it) != 3) continue;
        for (int i = 0; i < n; i++)
            if (strcmp(cases[i].name, name) == 0) cases[i].torch_s = s, got++;
    }
    pclose(p);
    return got;
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    int torch = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--no-torch") == 0) torch = 0;
        else {
            fprintf(stderr, "usage: bench_nn [--seconds S] [--no-torch]\n");
            return 2;
        }
    }
    openblas_set_num_threads(1);
    ndyn_set_num_threads(1);
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);

    mlp64 *m64 = calloc(1, sizeof *m64);
    m64->s = ndyn_nn_store_new();
    size_t widths[3] = {MC, MH, MO};
    if (ndyn_nn_mlp_add(m64->s, "mlp", 3, widths, NULL, &m64->mlp) ||
        ndyn_nn_mlp_cache_alloc(&m64->mlp, MB, &m64->c)) {
        fprintf(stderr, "bench_nn: %s\n", ndyn_errmsg());
        return 1;
    }
    ndyn_nn_mlp_init(&m64->mlp, m64->s, &r);
    fill(m64->x, MB * MC, 2);
    fill(m64->g, MB * MO, 3);

    mlp32 *m32 = calloc(1, sizeof *m32);
    fillf(m32->w1, MH * MC, 4), fillf(m32->b1, MH, 5), fillf(m32->w2, MO * MH, 6);
    fillf(m32->b2, MO, 7), fillf(m32->x, MB * MC, 8), fillf(m32->g, MB * MO, 9);
    for (int j = 0; j < MH; j++) m32->bnw[j] = 1, m32->rv[j] = 1;

    rnn64 *r64 = calloc(1, sizeof *r64);
    r64->s = ndyn_nn_store_new();
    if (ndyn_nn_rnn_add(r64->s, "rnn", RD, RH, 1, 1, &r64->rnn) ||
        ndyn_nn_rnn_cache_alloc(&r64->rnn, RT, RB, &r64->c)) {
        fprintf(stderr, "bench_nn: %s\n", ndyn_errmsg());
        return 1;
    }
    ndyn_nn_rnn_init(&r64->rnn, r64->s, &r);
    fill(r64->x, RT * RB * RD, 10);
    fill(r64->g, RT * RB * RH, 11);

    rnn32 *r32 = calloc(1, sizeof *r32);
    fillf(r32->wih, RH * RD, 12), fillf(r32->whh, RH * RH, 13), fillf(r32->bih, RH, 14);
    fillf(r32->bhh, RH, 15), fillf(r32->x, RT * RB * RD, 16), fillf(r32->g, RT * RB * RH, 17);
    for (int i = 0; i < RH * RH; i++) r32->whh[i] *= 0.25f, r32->wih[i] *= 0.25f;

    bench_case cases[4] = {{"mlp_f32", mlp32_step, m32, 0, 0}, {"mlp_f64", mlp64_step, m64, 0, 0},
                           {"rnn_f32", rnn32_step, r32, 0, 0}, {"rnn_f64", rnn64_step, r64, 0, 0}};
    printf("bench_nn: forward+backward, one thread, CPU time (best of 5 blocks), %.2g s per "
           "case\n", seconds);
    printf("  mlp: 39 -> 32 -> 3, BatchNorm1d + ReLU, batch 192, train mode\n");
    printf("  rnn: Elman tanh, D 16, H 16, T 200, batch 16, BPTT\n\n");
    for (int i = 0; i < 4; i++) {
        long it;
        cases[i].ndyn_s = timeit(cases[i].fn, cases[i].ctx, seconds, &it);
    }
    int have_torch = torch ? run_torch(cases, 4, seconds) : 0;
    printf("%-8s %14s %14s %10s\n", "case", "ndyn us/iter", "torch us/iter", "speedup");
    for (int i = 0; i < 4; i++) {
        if (cases[i].torch_s > 0)
            printf("%-8s %14.2f %14.2f %9.1fx\n", cases[i].name, 1e6 * cases[i].ndyn_s,
                   1e6 * cases[i].torch_s, cases[i].torch_s / cases[i].ndyn_s);
        else
            printf("%-8s %14.2f %14s %10s\n", cases[i].name, 1e6 * cases[i].ndyn_s, "-", "-");
    }
    if (!have_torch)
        printf("\n(no PyTorch baseline: /usr/bin/python3 with torch not available%s)\n",
               torch ? "" : " or --no-torch");
    printf("\npeak RSS %.1f MiB (ndyn process)\n", ndyn_peak_rss_bytes() / 1048576.0);
    ndyn_nn_mlp_cache_free(m64->c);
    ndyn_nn_store_free(m64->s);
    ndyn_nn_rnn_cache_free(r64->c);
    ndyn_nn_store_free(r64->s);
    free(m64), free(m32), free(r64), free(r32);
    return 0;
}
