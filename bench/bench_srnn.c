/* SRNN benchmark: seconds per training epoch (full batch, forward + backward
 * + Adam) at the reference's Lorenz size (16 trials x 200 steps x 3, K = 2,
 * H = 3) and at 100 trials x 200 steps x 50 neurons (K = 4, H = 16), next to
 * the PyTorch version of the same model and objective (python/srnn_torch.py,
 * run with /usr/bin/python3 in the same run, same thread count); and the
 * latency of one causal filtering step (N = 100, H = 16, K = 4).
 *
 * ndyn is timed at both precisions: f32 (params.precision, the networks in
 * float32 like the PyTorch baseline's default dtype; the targets are judged on
 * this row) and f64 (everything double). Each row also prints the training
 * loss after the timed epochs (same data, model and objective; different
 * initial weights and noise draws than PyTorch, so the losses agree in size,
 * not digits).
 *
 * Times on a shared machine move by tens of per cent from one second to the
 * next, and noise only ever adds time. So besides the mean over one
 * measurement (first ratio), each side is also measured as the fastest of
 * several: ndyn's per-epoch estimate repeated --reps times, PyTorch's fastest
 * single timed epoch; the second ratio is of these minima (timeit's rule).
 *
 * Usage: bench_srnn [--threads N] [--epochs E] [--torch-epochs E] [--reps R] [--no-torch] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ndyn/srnn.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* wall and CPU seconds per epoch */
static double ndyn_epoch_seconds(size_t n, size_t T, size_t N, int K, int H, int epochs, int prec, double *cpu,
                                 double *loss)
{
    double *y = malloc(n * T * N * sizeof(double));
    size_t *Ts = malloc(n * sizeof(size_t));
    const double **ys = malloc(n * sizeof(double *));
    ndyn_rng r;
    ndyn_rng_init(&r, 1, 0);
    for (size_t i = 0; i < n * T * N; i++) y[i] = ndyn_rng_normal(&r);
    for (size_t i = 0; i < n; i++) Ts[i] = T, ys[i] = y + i * T * N;
    ndyn_srnn_data d = {n, N, Ts, ys, NULL, 0};
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.K = K;
    p.H = H;
    p.init = NDYN_SRNN_INIT_NONE;
    p.init_epochs = 0;
    p.eval_every = 1000000;
    p.eval_samples = 1;
    p.precision = prec;
    /* subtract the fixed costs (model set-up, final evaluation) by timing two lengths */
    double t[2], c[2];
    int E[2] = {epochs / 5 > 0 ? epochs / 5 : 1, epochs};
    for (int k = 0; k < 2; k++) {
        p.epochs = E[k];
        ndyn_srnn_model *m;
        double t0 = ndyn_time_now(), c0 = cpu_now();
        if (ndyn_srnn_fit(&d, &p, &m)) {
            fprintf(stderr, "fit failed: %s\n", ndyn_errmsg());
            exit(1);
        }
        t[k] = ndyn_time_now() - t0;
        c[k] = cpu_now() - c0;
        *loss = m->hist.n ? m->hist.loss[m->hist.n - 1] : NAN;
        ndyn_srnn_model_free(m);
    }
    free(y);
    free(Ts);
    free(ys);
    *cpu = (c[1] - c[0]) / (E[1] - E[0]);
    return (t[1] - t[0]) / (E[1] - E[0]);
}

static double torch_epoch_seconds(size_t n, size_t T, size_t N, int K, int H, int epochs, int threads,
                                  double *cpu, double *cpu_min, double *loss)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/srnn_torch.py %zu %zu %zu %d %d %d %d float32 2>/dev/null",
             NDYN_BENCH_PYTHON_DIR, n, T, N, K, H, epochs, threads);
    FILE *f = popen(cmd, "r");
    if (!f) return NAN;
    char line[256];
    double v = NAN;
    *cpu = *cpu_min = NAN;
    *loss = NAN;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "final_loss=", 11)) *loss = atof(line + 11);
        if (!strncmp(line, "epoch_seconds=", 14)) v = atof(line + 14);
        if (!strncmp(line, "epoch_cpu_seconds=", 18)) *cpu = atof(line + 18);
        if (!strncmp(line, "epoch_min_cpu_seconds=", 22)) *cpu_min = atof(line + 22);
    }
    pclose(f);
    return v;
}

static double filter_latency_us(void)
{
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    p.K = 4;
    p.H = 16;
    p.causal = 1;
    size_t N = 100;
    ndyn_srnn_model *m;
    ndyn_srnn_model_new(&p, N, &m);
    ndyn_srnn_filter *f;
    ndyn_srnn_filter_new(m, &f);
    double y[100], filt[4], h[16];
    ndyn_rng r;
    ndyn_rng_init(&r, 2, 0);
    int steps = 20000;
    double best = INFINITY;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = ndyn_time_now();
        for (int s = 0; s < steps; s++) {
            y[s % 100] = ndyn_rng_normal(&r);
            ndyn_srnn_filter_step(f, y, filt, h);
        }
        double us = (ndyn_time_now() - t0) / steps * 1e6;
        if (us < best) best = us;
    }
    ndyn_srnn_filter_free(f);
    ndyn_srnn_model_free(m);
    return best;
}

int main(int argc, char **argv)
{
    int threads = 1, epochs = 50, tepochs = 5, torch = 1, reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--torch-epochs") && i + 1 < argc) tepochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch")) torch = 0;
        else {
            fprintf(stderr, "usage: bench_srnn [--threads N] [--epochs E] [--torch-epochs E] [--reps R] [--no-torch]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    ndyn_set_num_threads(threads);
    ndyn_set_quiet(1);
    struct { const char *name; size_t n, T, N; int K, H, ep; double target; } cfg[] = {
        {"lorenz 16x200x3 K=2 H=3", 16, 200, 3, 2, 3, epochs * 4, 50},
        {"100x200x50 K=4 H=16", 100, 200, 50, 4, 16, epochs, 10}};
    printf("SRNN training, seconds per epoch (full batch, forward+backward+Adam), %d thread(s)\n", threads);
    printf("(wall: elapsed time; cpu: process CPU time, the fair measure on a shared machine;\n"
           " ratio = torch / ndyn; min: ndyn's fastest of %d repetitions, torch's fastest of %d epochs;\n"
           " loss: per-step training loss after the timed epochs)\n", reps, tepochs);
    printf("%-30s %10s %10s %7s | %10s %10s %7s | %10s %10s %7s | %6s | %9s %9s\n", "size", "ndyn wall",
           "torch wall", "ratio", "ndyn cpu", "torch cpu", "ratio", "ndyn min", "torch min", "ratio", "target",
           "ndyn loss", "torch loss");
    for (int c = 0; c < 2; c++) {
        double bc = NAN, bm = NAN, bl = NAN;
        double b = torch ? torch_epoch_seconds(cfg[c].n, cfg[c].T, cfg[c].N, cfg[c].K, cfg[c].H, tepochs, threads,
                                               &bc, &bm, &bl)
                         : NAN;
        for (int prec = 1; prec >= 0; prec--) {
            double ac, al, am = INFINITY;
            double a = ndyn_epoch_seconds(cfg[c].n, cfg[c].T, cfg[c].N, cfg[c].K, cfg[c].H, cfg[c].ep, prec, &ac, &al);
            if (ac < am) am = ac;
            for (int rep = 1; rep < reps; rep++) {
                double rc_, rl;
                ndyn_epoch_seconds(cfg[c].n, cfg[c].T, cfg[c].N, cfg[c].K, cfg[c].H, cfg[c].ep, prec, &rc_, &rl);
                if (rc_ < am) am = rc_;
            }
            char name[64];
            snprintf(name, sizeof name, "%s %s", cfg[c].name, prec ? "f32" : "f64");
            char tg[16] = "-";
            if (prec) snprintf(tg, sizeof tg, "%.0fx", cfg[c].target);
            printf("%-30s %10.3e %10.3e %6.1fx | %10.3e %10.3e %6.1fx | %10.3e %10.3e %6.1fx | %6s | %9.4f %9.4f\n",
                   name, a, b, b / a, ac, bc, bc / ac, am, bm, bm / am, tg, al, bl);
            fflush(stdout);
        }
    }
    printf("causal filtering step (N=100, H=16, K=4): %.2f us (target < 50 us)\n", filter_latency_us());
    printf("peak RSS %.1f MiB\n", ndyn_peak_rss_bytes() / 1048576.0);
    return 0;
}
