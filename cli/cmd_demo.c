/* ndyn demo: a short end-to-end run on simulated data with known answers —
 * simulate, fit, infer, predict, draw — ending in a Markdown report that
 * links the figures and states the key numbers. It drives the same
 * subcommands a user would type (cmd_simulate, cmd_srnn, cmd_plot). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ndyn/io.h"

#define CMD "demo"

static void help(void)
{
    printf("Usage: ndyn demo [--out DIR] [options]\n"
           "\n"
           "Run ndyn end to end on simulated data with known ground truth and write the\n"
           "files, figures and a report (DIR/report.md) that links them:\n"
           "  1. simulate the Lorenz attractor, whose lobes are the true states (ndyn simulate lorenz),\n"
           "  2. fit an SRNN (ndyn srnn fit), infer states, reconstruct, predict k steps\n"
           "     ahead and compute per-state flow fields (srnn infer / predict / flow),\n"
           "  3. simulate the four planar vector fields of MARBLE's toy benchmark\n"
           "     (ndyn simulate fields), fit MARBLE, embed, and compute optimal-transport\n"
           "     distances between the fields (ndyn marble fit / embed / distance),\n"
           "  4. draw every figure with ndyn plot and report state accuracy against the\n"
           "     true regimes, reconstruction and prediction error.\n"
           "The numbers are those of this run; nothing is filled in by hand.\n"
           "\n"
           "Options:\n"
           "      --out DIR        output directory, created if missing (default ndyn-demo)\n"
           "      --seed N         seed of the simulations and the fit (default 1)\n"
           "      --epochs E       SRNN epochs after the initial cross-entropy stage\n"
           "                       (default 1000; the initial stage runs E / 2; Adam lr 0.01)\n" CLI_COMMON_HELP
           "  -h, --help           this help\n");
}

/* Run a subcommand with a NULL-terminated list of arguments. */
static int sub(int (*fn)(int, char **), const char *name, ...)
{
    char *args[64];
    int n = 0;
    args[n++] = (char *)name;
    va_list ap;
    va_start(ap, name);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 63) args[n++] = (char *)a;
    va_end(ap);
    args[n] = NULL;
    cli_reset_getopt();
    fflush(stdout);
    int rc = fn(n, args);
    fflush(stdout);
    return rc;
}

static double scalar(const char *file, const char *name)
{
    ndyn_dataset *ds = NULL;
    double v = NAN;
    if (ndyn_dataset_load(file, &ds) == 0) {
        const ndyn_named_array *e = ndyn_dataset_find(ds, name);
        if (e && e->array && e->array->size >= 1) {
            v = 0;
            for (size_t i = 0; i < e->array->size; i++) v += ndyn_array_get(e->array, i);
            v /= (double)e->array->size;
        }
    }
    ndyn_dataset_free(ds);
    return v;
}

/* The files the demo writes, each DIR/name (P[F_...] in cmd_demo). */
enum {
    F_LORENZ, F_SRNN, F_SRNN_HIST, F_POST, F_PRED, F_FLOW,
    F_FIELDS, F_MARBLE, F_MARBLE_HIST, F_EMB, F_DIST, F_FIG_EMB,
    F_FIG_DIST, F_FIG_MTRAIN, F_FIG_TRAIN, F_FIG_STATES, F_FIG_RECON, F_FIG_FLOW,
    F_FIG_FIELDS, F_REPORT,
    F_COUNT
};
static const char *const file_name[F_COUNT] = {
    "lorenz.npz", "srnn.npz", "srnn.history.npz", "posterior.npz", "predict.npz",
    "flow.npz", "fields.npz", "marble.npz", "marble.history.npz", "emb.npz",
    "dist.npz", "embedding.png", "distances.png", "marble_training.png", "training.png",
    "states.png", "reconstruction.png", "flow.png", "fields.png", "report.md"};

static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    if (mkdir(buf, 0755) && errno != EEXIST) return -1;
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    enum { O_OUT = 1, O_SEED, O_EPOCHS };
    static const struct option lo[] = {{"out", required_argument, 0, O_OUT},
                                       {"seed", required_argument, 0, O_SEED},
                                       {"epochs", required_argument, 0, O_EPOCHS},
                                       {"help", no_argument, 0, 'h'},
                                       CLI_COMMON_LONGOPTS,
                                       {0, 0, 0, 0}};
    const char *dir = "ndyn-demo";
    uint64_t seed = 1;
    long epochs = 1000;
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, "h" CLI_COMMON_SHORTOPTS, lo, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'h': help(); return CLI_OK;
        case O_OUT: dir = optarg; break;
        case O_SEED:
            if (cli_parse_u64(CMD, "seed", optarg, &seed)) return CLI_USAGE;
            break;
        case O_EPOCHS:
            if (cli_parse_int(CMD, "epochs", optarg, 1, 1000000, &epochs)) return CLI_USAGE;
            break;
        default: return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (mkdir_p(dir)) {
        ndyn_error(NDYN_EIO, "cannot create the output directory '%s': %s", dir, strerror(errno));
        return cli_fail(CMD);
    }
    char P[F_COUNT][4200], s_seed[32], s_ep[32], s_init[32];
    for (int i = 0; i < F_COUNT; i++) snprintf(P[i], sizeof P[i], "%s/%s", dir, file_name[i]);
    snprintf(s_seed, sizeof s_seed, "%llu", (unsigned long long)seed);
    snprintf(s_ep, sizeof s_ep, "%ld", epochs);
    snprintf(s_init, sizeof s_init, "%ld", (epochs + 1) / 2);
    double t[8];
    t[0] = ndyn_time_now();
    /* 1. data with known regimes */
    if ((rc = sub(cmd_simulate, "simulate", "lorenz", "--out", P[F_LORENZ], "--trials", "8", "--steps", "400",
                  "--standardize",
                  "--noise", "0.02", "--seed", s_seed, NULL)))
        return rc;
    t[1] = ndyn_time_now();
    /* 2. SRNN */
    if ((rc = sub(cmd_srnn, "srnn", "fit", "--data", P[F_LORENZ], "--out", P[F_SRNN], "--states", "2", "--hidden", "3",
                  "--init-epochs", s_init, "--epochs", s_ep, "--lr", "0.01", "--seed", s_seed, NULL)))
        return rc;
    t[2] = ndyn_time_now();
    if ((rc = sub(cmd_srnn, "srnn", "infer", "--model", P[F_SRNN], "--data", P[F_LORENZ], "--out", P[F_POST], NULL)) ||
        (rc = sub(cmd_srnn, "srnn", "predict", "--model", P[F_SRNN], "--data", P[F_LORENZ], "--steps", "5",
                  "--out", P[F_PRED], NULL)) ||
        (rc = sub(cmd_srnn, "srnn", "flow", "--model", P[F_SRNN], "--data", P[F_LORENZ], "--out", P[F_FLOW],
                  "--grid", "15", NULL)))
        return rc;
    t[3] = ndyn_time_now();
    /* 3. MARBLE on its four toy fields */
    static const char *fnames = "linear left,linear right,vortex right,vortex left";
    if ((rc = sub(cmd_simulate, "simulate", "fields", "--out", P[F_FIELDS], "--points", "256",
                  "--seed", s_seed, NULL)) ||
        (rc = sub(cmd_marble, "marble", "fit", "--data", P[F_FIELDS], "--out", P[F_MARBLE], "--epochs", "60", NULL)) ||
        (rc = sub(cmd_marble, "marble", "embed", "--model", P[F_MARBLE], "--data", P[F_FIELDS],
                  "--out", P[F_EMB], NULL)) ||
        (rc = sub(cmd_marble, "marble", "distance", "--emb", P[F_EMB], "--out", P[F_DIST], NULL)))
        return rc;
    t[5] = ndyn_time_now();
    /* 4. figures */
    if ((rc = sub(cmd_plot, "plot", "training", P[F_SRNN_HIST], "-o", P[F_FIG_TRAIN], "-q", NULL)) ||
        (rc = sub(cmd_plot, "plot", "states", P[F_POST], "-o", P[F_FIG_STATES], "--label-names",
                  "lobe x < 0,lobe x > 0", NULL)) ||
        (rc = sub(cmd_plot, "plot", "reconstruction", P[F_POST], P[F_PRED], "-o", P[F_FIG_RECON],
                  "--to", "150", NULL)) ||
        (rc = sub(cmd_plot, "plot", "flow", P[F_FLOW], "-o", P[F_FIG_FLOW], NULL)) ||
        (rc = sub(cmd_plot, "plot", "field", P[F_FIELDS], "-o", P[F_FIG_FIELDS], NULL)) ||
        (rc = sub(cmd_plot, "plot", "embedding", P[F_EMB], "-o", P[F_FIG_EMB], "--names", fnames, NULL)) ||
        (rc = sub(cmd_plot, "plot", "distances", P[F_DIST], "-o", P[F_FIG_DIST], "--names", fnames, NULL)) ||
        (rc = sub(cmd_plot, "plot", "training", P[F_MARBLE_HIST], "-o", P[F_FIG_MTRAIN], "-q", NULL)))
        return rc;
    t[4] = ndyn_time_now();
    /* 5. report */
    double se = scalar(P[F_POST], "state_error"), r2 = scalar(P[F_POST], "r2"), mse = scalar(P[F_POST], "mse");
    double elbo = scalar(P[F_POST], "elbo"), pr2 = scalar(P[F_PRED], "r2"), pmse = scalar(P[F_PRED], "mse");
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        ndyn_error(NDYN_ENOMEM, "out of memory writing the report");
        return cli_fail(CMD);
    }
    fprintf(m,
            "# ndyn demo\n\n"
            "Seed %s. Every number below was computed by this run (`ndyn demo --out %s --seed %s --epochs %ld`).\n\n"
            "## SRNN on the Lorenz attractor\n\n"
            "Data: `ndyn simulate lorenz --standardize --noise 0.02` — 8 trajectories of 400 steps; the "
            "true discrete state of each step is the lobe of the attractor (x > 0), as in the SRNN paper's "
            "Lorenz experiment (`lorenz.npz`). "
            "Model: `ndyn srnn fit --states 2 --hidden 3 --init-epochs %s --epochs %s --lr 0.01` (`srnn.npz`).\n\n"
            "| measure | value |\n|---|---|\n"
            "| state error (1 − balanced accuracy against the true lobes, after matching) | %.3f |\n"
            "| reconstruction R² (posterior means → y) | %.3f |\n"
            "| reconstruction MSE | %.4g |\n"
            "| 5-step-ahead prediction R² | %.3f |\n"
            "| 5-step-ahead prediction MSE | %.4g |\n"
            "| mean ELBO per trial | %.4g |\n\n"
            "![training](training.png)\n\n"
            "Training curves (`ndyn plot training srnn.history.npz`).\n\n"
            "![states](states.png)\n\n"
            "Posterior state probabilities, Viterbi path and the true lobes of trial 0 "
            "(`ndyn plot states posterior.npz`).\n\n"
            "![reconstruction](reconstruction.png)\n\n"
            "Data, reconstruction and 5-step prediction of the three coordinates "
            "(`ndyn plot reconstruction posterior.npz predict.npz`).\n\n"
            "![flow](flow.png)\n\n"
            "Each state's latent flow on a grid in the plane of the latent PCs, with trajectories "
            "(`ndyn plot flow flow.npz`).\n\n"
            "## MARBLE on four planar vector fields\n\n"
            "Data: `ndyn simulate fields --points 256` — the four toy fields of MARBLE's benchmark "
            "(`fields.npz`). Model: `ndyn marble fit --epochs 60` (`marble.npz`), embedding by "
            "`ndyn marble embed` (`emb.npz`), exact optimal-transport distances between the "
            "conditions' latent distributions by `ndyn marble distance` (`dist.npz`).\n\n"
            "![fields](fields.png)\n\n"
            "The input fields (`ndyn plot field fields.npz`).\n\n"
            "![embedding](embedding.png)\n\n"
            "Latent embedding of every point, coloured by field (`ndyn plot embedding emb.npz`).\n\n"
            "![distances](distances.png)\n\n"
            "Distances between the fields and their MDS (`ndyn plot distances dist.npz`). "
            "The matrix:\n\n",
            s_seed, dir, s_seed, epochs, s_init, s_ep, se, r2, mse, pr2, pmse, elbo);
    {
        ndyn_dataset *dd = NULL;
        const ndyn_array *D = NULL;
        static const char *fn[4] = {"linear left", "linear right", "vortex right", "vortex left"};
        if (ndyn_dataset_load(P[F_DIST], &dd) == 0 && ndyn_dataset_get(dd, "dist", &D) == 0 && D->ndim == 2 &&
            D->shape[0] == D->shape[1] && D->shape[0] <= 4) {
            size_t C = D->shape[0];
            fprintf(m, "| |");
            for (size_t j = 0; j < C; j++) fprintf(m, " %s |", fn[j]);
            fprintf(m, "\n|---|");
            for (size_t j = 0; j < C; j++) fprintf(m, "---|");
            fprintf(m, "\n");
            for (size_t i = 0; i < C; i++) {
                fprintf(m, "| %s |", fn[i]);
                for (size_t j = 0; j < C; j++) fprintf(m, " %.3f |", ndyn_array_get(D, i * C + j));
                fprintf(m, "\n");
            }
        } else {
            fprintf(m, "(dist.npz could not be read: %s)\n", ndyn_errmsg());
        }
        ndyn_dataset_free(dd);
    }
    fprintf(m,
            "\n![marble training](marble_training.png)\n\n"
            "MARBLE training curves (`ndyn plot training marble.history.npz`).\n\n"
            "## Time\n\n"
            "| stage | seconds |\n|---|---|\n"
            "| simulate Lorenz | %.1f |\n| SRNN fit | %.1f |\n| SRNN infer, predict, flow | %.1f |\n"
            "| MARBLE simulate, fit, embed, distance | %.1f |\n| figures | %.1f |\n| total | %.1f |\n",
            t[1] - t[0], t[2] - t[1], t[3] - t[2], t[5] - t[3], t[4] - t[5], t[4] - t[0]);
    fclose(m);
    rc = ndyn_write_file_atomic(P[F_REPORT], text, len);
    free(text);
    if (rc) return cli_fail(CMD);
    printf("ndyn demo: SRNN state error %.3f, reconstruction R2 %.3f, 5-step R2 %.3f; MARBLE distances in %s; "
           "%.1f s; report %s\n", se, r2, pr2, P[F_DIST], t[4] - t[0], P[F_REPORT]);
    return CLI_OK;
}
