/* ndyn srnn fit|select|infer|predict|sample|flow: switching recurrent neural
 * networks (docs/srnn.md). A thin shell over include/ndyn/srnn.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ndyn/io.h"
#include "ndyn/srnn.h"

#define CMD "srnn"

/* ------------------------------------------------------------ trial input */

typedef struct {
    ndyn_dataset *ds;
    ndyn_array **y, **lab; /* per trial, owned */
    size_t n, N, *T;
    const double **yp;
    const int **lp;
    int has_labels, equal;
    ndyn_srnn_data d;
} trials;

static void trials_free(trials *t)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->y) ndyn_array_free(t->y[i]);
        if (t->lab) ndyn_array_free(t->lab[i]);
    }
    free(t->y), free(t->lab), free(t->T), free(t->yp), free(t->lp);
    ndyn_dataset_free(t->ds);
    memset(t, 0, sizeof *t);
}

static int trial_alloc(trials *t, size_t n)
{
    t->n = n;
    t->y = calloc(n, sizeof *t->y);
    t->lab = calloc(n, sizeof *t->lab);
    t->T = calloc(n, sizeof *t->T);
    t->yp = calloc(n, sizeof *t->yp);
    t->lp = calloc(n, sizeof *t->lp);
    if (!t->y || !t->lab || !t->T || !t->yp || !t->lp) return ndyn_error(NDYN_ENOMEM, "out of memory");
    return 0;
}

/* y (N, T, Y) [+ labels|states (N, T)], or y_0, y_1, ... [+ labels_0, ...] */
static int load_trials(const char *path, trials *t)
{
    memset(t, 0, sizeof *t);
    int rc = ndyn_dataset_load(path, &t->ds);
    if (rc) return rc;
    const ndyn_array *y = NULL, *lab = NULL;
    int found = !ndyn_dataset_get(t->ds, "y", &y);
    if (!found && t->ds->n == 1 && t->ds->items[0].array) { /* a plain .npy: its one array is y */
        y = t->ds->items[0].array;
        found = 1;
    }
    ndyn_error_clear();
    if (found) {
        if (y->ndim == 2) {
            if ((rc = trial_alloc(t, 1))) return rc;
            t->T[0] = y->shape[0], t->N = y->shape[1];
        } else if (y->ndim == 3) {
            if ((rc = trial_alloc(t, y->shape[0]))) return rc;
            t->N = y->shape[2];
            for (size_t i = 0; i < t->n; i++) t->T[i] = y->shape[1];
        } else {
            return ndyn_error(NDYN_ESHAPE, "%s: y must be (trials, T, N) or (T, N), got %d dimensions", path, y->ndim);
        }
        ndyn_array *yd = ndyn_array_cast(y, NDYN_F64);
        if (!yd) return NDYN_ENOMEM;
        if (ndyn_dataset_get(t->ds, "labels", &lab)) ndyn_dataset_get(t->ds, "states", &lab);
        ndyn_error_clear();
        ndyn_array *ld = NULL;
        if (lab) {
            if (lab->size != (t->n * t->T[0])) {
                ndyn_array_free(yd);
                return ndyn_error(NDYN_ESHAPE, "%s: labels have %zu entries; need trials x T = %zu", path, lab->size, t->n * t->T[0]);
            }
            ld = ndyn_array_cast(lab, NDYN_I32);
            if (!ld) {
                ndyn_array_free(yd);
                return ndyn_errmsg()[0] ? NDYN_EINVAL : NDYN_ENOMEM;
            }
            t->has_labels = 1;
        }
        for (size_t i = 0; i < t->n; i++) {
            size_t sh[2] = {t->T[i], t->N};
            t->y[i] = ndyn_array_alloc(NDYN_F64, 2, sh);
            if (!t->y[i]) return NDYN_ENOMEM;
            memcpy(t->y[i]->data, (double *)yd->data + i * t->T[i] * t->N, t->T[i] * t->N * sizeof(double));
            if (ld) {
                t->lab[i] = ndyn_array_alloc1(NDYN_I32, t->T[i]);
                if (!t->lab[i]) return NDYN_ENOMEM;
                memcpy(t->lab[i]->data, (int *)ld->data + i * t->T[i], t->T[i] * sizeof(int));
            }
        }
        ndyn_array_free(yd);
        ndyn_array_free(ld);
        t->equal = 1;
    } else {
        size_t n = 0;
        char nm[64];
        for (;; n++) {
            snprintf(nm, sizeof nm, "y_%zu", n);
            if (!ndyn_dataset_find(t->ds, nm)) break;
        }
        ndyn_error_clear();
        if (n == 0) return ndyn_error(NDYN_ENOTFOUND, "%s: no array 'y' (trials, T, N) and no 'y_0', 'y_1', ...", path);
        if ((rc = trial_alloc(t, n))) return rc;
        t->equal = 1;
        int nlab = 0;
        for (size_t i = 0; i < n; i++) {
            snprintf(nm, sizeof nm, "y_%zu", i);
            ndyn_dataset_get(t->ds, nm, &y);
            if (y->ndim != 2) return ndyn_error(NDYN_ESHAPE, "%s: %s must be (T, N)", path, nm);
            if (i && y->shape[1] != t->N)
                return ndyn_error(NDYN_ESHAPE, "%s: %s has %zu channels, y_0 has %zu", path, nm, y->shape[1], t->N);
            t->N = y->shape[1];
            t->T[i] = y->shape[0];
            if (t->T[i] != t->T[0]) t->equal = 0;
            t->y[i] = ndyn_array_cast(y, NDYN_F64);
            if (!t->y[i]) return NDYN_ENOMEM;
            snprintf(nm, sizeof nm, "labels_%zu", i);
            const ndyn_array *l = NULL;
            if (ndyn_dataset_find(t->ds, nm)) ndyn_dataset_get(t->ds, nm, &l);
            ndyn_error_clear();
            if (l) {
                if (l->size != t->T[i]) return ndyn_error(NDYN_ESHAPE, "%s: %s has %zu entries, y_%zu has %zu steps", path, nm, l->size, i, t->T[i]);
                t->lab[i] = ndyn_array_cast(l, NDYN_I32);
                if (!t->lab[i]) return NDYN_EINVAL;
                nlab++;
            }
        }
        if (nlab && nlab != (int)n) return ndyn_error(NDYN_EINVAL, "%s: labels for %d of %zu trials; give labels_i for every trial or none", path, nlab, n);
        t->has_labels = nlab > 0;
    }
    for (size_t i = 0; i < t->n; i++) {
        t->yp[i] = t->y[i]->data;
        t->lp[i] = t->lab[i] ? t->lab[i]->data : NULL;
    }
    t->d.n_trials = t->n;
    t->d.N = t->N;
    t->d.T = t->T;
    t->d.y = t->yp;
    t->d.labels = t->has_labels ? t->lp : NULL;
    t->d.n_labels = 0;
    return ndyn_srnn_check_data(&t->d, NULL);
}

/* Write per-trial blocks of `row` values each: (n, T, row) when all trials
 * have the same length, else name_0, name_1, ... (T_i, row). */
static int add_per_trial(ndyn_dataset *ds, const trials *t, const char *name, ndyn_dtype dt,
                         const void *src, size_t row, int squeeze)
{
    size_t es = ndyn_dtype_size(dt), o = 0;
    if (t->equal) {
        size_t sh[3] = {t->n, t->T[0], row};
        ndyn_array *a = ndyn_array_alloc(dt, squeeze ? 2 : 3, sh);
        if (!a) return NDYN_ENOMEM;
        memcpy(a->data, src, t->n * t->T[0] * row * es);
        return ndyn_dataset_add(ds, name, a, NULL);
    }
    for (size_t i = 0; i < t->n; i++) {
        char nm[96];
        snprintf(nm, sizeof nm, "%s_%zu", name, i);
        size_t sh[2] = {t->T[i], row};
        ndyn_array *a = ndyn_array_alloc(dt, squeeze ? 1 : 2, sh);
        if (!a) return NDYN_ENOMEM;
        memcpy(a->data, (const char *)src + o * row * es, t->T[i] * row * es);
        o += t->T[i];
        int rc = ndyn_dataset_add(ds, name ? nm : nm, a, NULL);
        if (rc) return rc;
    }
    return 0;
}

static int add_scalar(ndyn_dataset *ds, const char *name, double v)
{
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 0, NULL);
    if (!a) return NDYN_ENOMEM;
    ((double *)a->data)[0] = v;
    return ndyn_dataset_add(ds, name, a, NULL);
}

static int add_vec(ndyn_dataset *ds, const char *name, ndyn_dtype dt, const void *src, int nd, const size_t *sh)
{
    ndyn_array *a = ndyn_array_alloc(dt, nd, sh);
    if (!a) return NDYN_ENOMEM;
    memcpy(a->data, src, a->size * ndyn_dtype_size(dt));
    return ndyn_dataset_add(ds, name, a, NULL);
}

/* ------------------------------------------------------------------- fit */

static const char *k_init_names[] = {"kmeans", "hmm", "random", "blocks", "uniform", "labels", "none"};

static void fit_help(void)
{
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    printf("Usage: ndyn srnn fit --data IN --out MODEL.npz [options]\n"
           "\n"
           "Fit a switching recurrent neural network by the exact collapsed ELBO.\n"
           "IN holds y (trials, T, N) or y_0, y_1, ... (T_i, N), and optionally\n"
           "labels (or states) (trials, T) int. Writes MODEL.npz and\n"
           "MODEL.history.npz (epoch, loss, train_elbo, test_elbo, lr, stage).\n"
           "\n"
           "Model:\n"
           "  -K, --states K          discrete states (default %d)\n"
           "  -H, --hidden H          latent size (default %d)\n"
           "      --emission E        gaussian | poisson (default gaussian)\n"
           "      --emission-hidden L widths of the emission MLP, comma-separated (default 32,64)\n"
           "      --sampler-hidden W  width of the inference sampler MLP (default %d)\n"
           "      --transition T      linear | tanh (tanh = reference, caps stickiness; default linear)\n"
           "      --no-base           no learned K x K base log-transition matrix\n"
           "      --causal            forward-only encoder (for online filtering)\n"
           "      --no-h0-prior       no Gaussian prior on h_0 (reference)\n"
           "      --var-h V, --var-y V, --var-q V  initial variances (default %g, %g, %g)\n"
           "      --fixed-variances   keep the three variances fixed at their values\n"
           "      --objective O       elbo (exact collapsed ELBO, default) | compat (the reference's\n"
           "                          Eq. 15 as coded, with its pairwise-term defect; not a bound)\n"
           "      --loss-sum          sum the loss over trials and time as the reference (default:\n"
           "                          per-time-step mean; scale --lr and --coef-cross accordingly)\n"
           "      --compat            reference settings: tanh transitions, no base, no h_0\n"
           "                          prior, fixed variances 1e-4, --objective compat, --loss-sum\n"
           "Training:\n"
           "      --init M            kmeans | hmm | random | blocks | uniform | labels | none\n"
           "                          (default kmeans)\n"
           "      --init-epochs E     epochs with the cross-entropy term (default %d)\n"
           "      --epochs E          epochs of the plain ELBO (default %d)\n"
           "      --coef-cross C      weight of the cross-entropy term (default %g)\n"
           "      --lr LR             Adam learning rate (default %g)\n"
           "      --lr-step S         StepLR step in epochs (default %d)\n"
           "      --lr-gamma G        StepLR factor (default %g)\n"
           "      --clip C            gradient-norm clipping, 0 = none (default 0)\n"
           "      --fresh-optimizer   new Adam state and schedule for stage 2 (default: shared)\n"
           "      --batch-trials B    trials per minibatch, 0 = full batch (default 0)\n"
           "      --restarts R        fits from different seeds, best ELBO kept (default %d)\n"
           "      --test-trials n     hold out the first n trials; they choose among restarts (default 0)\n"
           "      --eval-every E      epochs between history entries (default %d)\n"
           "      --seed S            seed (default %llu)\n"
           "      --precision P       f64 | f32: the networks of the training steps in float32\n"
           "                          (about 2x faster; HMM part, sums and the final ELBO stay\n"
           "                          double) (default f64)\n"
           "Co-smoothing (Neural Latents Benchmark protocol):\n"
           "      --heldout-neurons L channels the encoder never reads (comma-separated 0-based\n"
           "                          indices); the emission still predicts them, so the training\n"
           "                          trials train their readout; `srnn infer` then reports\n"
           "                          cosmooth_mse and, for Poisson models, cobps (default: none)\n"
           "      --heldout-frac F    hold out round(F N) channels drawn with --seed instead\n"
           CLI_COMMON_HELP,
           p.K, p.H, p.sampler_hidden, p.var_h, p.var_y, p.var_q, p.init_epochs, p.epochs, p.coef_cross,
           p.lr, p.lr_step, p.lr_gamma, p.restarts, p.eval_every, (unsigned long long)p.seed);
}

static int find_name(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

static void select_help(void)
{
    ndyn_srnn_select_params sp;
    ndyn_srnn_select_params_default(&sp);
    printf("Usage: ndyn srnn select --data IN --out SEL.npz --states A-B --test-trials n\n"
           "                        [--model-out MODEL.npz] [options of srnn fit]\n"
           "\n"
           "Choose the number of states K (docs/srnn.md, \"Choosing K\"): fit every K in A..B on\n"
           "all but the first n trials (--restarts fits each, the best training ELBO kept),\n"
           "score each by its ELBO per step on the n held-out trials, and choose the smallest\n"
           "K whose gain over K = A reaches --gain-frac of the largest gain. With warm starts\n"
           "(default) K runs from B down and each K < B is also fitted from the kept (K+1)\n"
           "fit with its least used state removed; the better training ELBO is kept.\n"
           "Writes SEL.npz: K, heldout_elbo, heldout_trial_elbo (K, n; per trial, summed\n"
           "over its steps), train_elbo, fresh_heldout_elbo, fresh_train_elbo,\n"
           "warm_heldout_elbo, warm_train_elbo (NaN: no warm fit), warm (1: warm fit kept),\n"
           "removed (state removed, -1: none), heldout_state_error (NaN without labels),\n"
           "chosen, best (largest held-out ELBO), fresh_chosen (the rule without warm\n"
           "starts); prints a table unless --quiet.\n"
           "\n"
           "      --states A-B        range of K (or one K), 1 <= A <= B <= 64 (default %d-%d)\n"
           "      --test-trials n     held-out trials, the first n (required, >= 1)\n"
           "      --gain-frac F       the rule's fraction of the largest gain, in (0, 1] (default %g)\n"
           "      --no-warm-start     fresh fits only\n"
           "      --warm-epochs E     epochs of a warm fit (default 0: half of --epochs)\n"
           "      --warm-lr LR        starting lr of a warm fit (default 0: the lr of the last\n"
           "                          epoch of a fresh fit's schedule)\n"
           "      --model-out MODEL   write the chosen K's model (an srnn fit model file) and its\n"
           "                          MODEL.history.npz (for a warm fit: its own epochs only)\n"
           "All options of 'ndyn srnn fit' (model and training) apply to every fit, with the\n"
           "defaults of 'ndyn srnn fit --help'; -K is --states.\n"
           CLI_COMMON_HELP,
           sp.kmin, sp.kmax, sp.gain_frac);
}

/* "A-B" or "A" into 1 <= a <= b <= 64 */
static int parse_k_range(const char *s, int *a, int *b)
{
    char *e;
    long x = strtol(s, &e, 10), y = x;
    if (e == s) return -1;
    if (*e == '-') {
        const char *s2 = e + 1;
        y = strtol(s2, &e, 10);
        if (e == s2) return -1;
    }
    if (*e || x < 1 || y < x || y > 64) return -1;
    *a = (int)x, *b = (int)y;
    return 0;
}

/* MODEL.history.npz beside MODEL.npz (or MODEL.history.npz for any other name). */
static void history_path(const char *model, char *buf, size_t n)
{
    size_t L = strlen(model);
    if (L > 4 && !strcmp(model + L - 4, ".npz")) snprintf(buf, n, "%.*s.history.npz", (int)(L - 4), model);
    else snprintf(buf, n, "%s.history.npz", model);
}

static int srnn_write_selection(const ndyn_srnn_selection *s, const char *path)
{
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!ds) return NDYN_ENOMEM;
    size_t n = s->n_k, sh2[2] = {n, s->n_heldout};
    int *Ks = malloc(n * sizeof *Ks);
    int rc = Ks ? 0 : NDYN_ENOMEM;
    for (size_t i = 0; Ks && i < n; i++) Ks[i] = s->kmin + (int)i;
    if (!rc) rc = add_vec(ds, "K", NDYN_I32, Ks, 1, &n);
    if (!rc) rc = add_vec(ds, "heldout_elbo", NDYN_F64, s->heldout_elbo, 1, &n);
    if (!rc) rc = add_vec(ds, "heldout_trial_elbo", NDYN_F64, s->heldout_trial, 2, sh2);
    if (!rc) rc = add_vec(ds, "train_elbo", NDYN_F64, s->train_elbo, 1, &n);
    if (!rc) rc = add_vec(ds, "fresh_heldout_elbo", NDYN_F64, s->fresh_heldout_elbo, 1, &n);
    if (!rc) rc = add_vec(ds, "fresh_train_elbo", NDYN_F64, s->fresh_train_elbo, 1, &n);
    if (!rc) rc = add_vec(ds, "warm_heldout_elbo", NDYN_F64, s->warm_heldout_elbo, 1, &n);
    if (!rc) rc = add_vec(ds, "warm_train_elbo", NDYN_F64, s->warm_train_elbo, 1, &n);
    if (!rc) rc = add_vec(ds, "warm", NDYN_I32, s->warm, 1, &n);
    if (!rc) rc = add_vec(ds, "removed", NDYN_I32, s->removed, 1, &n);
    if (!rc) rc = add_vec(ds, "heldout_state_error", NDYN_F64, s->state_error, 1, &n);
    if (!rc) rc = add_vec(ds, "chosen", NDYN_I32, &s->chosen, 0, NULL);
    if (!rc) rc = add_vec(ds, "best", NDYN_I32, &s->best, 0, NULL);
    if (!rc) rc = add_vec(ds, "fresh_chosen", NDYN_I32, &s->fresh_chosen, 0, NULL);
    if (!rc) rc = ndyn_dataset_save(path, ds, 1);
    free(Ks);
    ndyn_dataset_free(ds);
    return rc;
}

static int srnn_fit_cmd(int argc, char **argv, int select)
{
    const char *cmd = select ? CMD " select" : CMD " fit";
    enum { O_EMIS = 2000, O_EH, O_SH, O_TRANS, O_NOBASE, O_CAUSAL, O_NOH0, O_VH, O_VY, O_VQ, O_FIXV,
           O_COMPAT, O_INIT, O_IEP, O_EP, O_CC, O_LR, O_LRS, O_LRG, O_CLIP, O_FRESH, O_BT, O_RS, O_TT,
           O_EE, O_SEED, O_DATA, O_OUT, O_OBJ, O_LSUM, O_PREC, O_HELD, O_HFRAC, O_GAIN, O_NOWARM, O_WEP, O_WLR,
           O_MOUT };
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'}, {"data", required_argument, 0, O_DATA},
        {"out", required_argument, 0, O_OUT}, {"states", required_argument, 0, 'K'},
        {"hidden", required_argument, 0, 'H'}, {"emission", required_argument, 0, O_EMIS},
        {"emission-hidden", required_argument, 0, O_EH}, {"sampler-hidden", required_argument, 0, O_SH},
        {"transition", required_argument, 0, O_TRANS}, {"no-base", no_argument, 0, O_NOBASE},
        {"causal", no_argument, 0, O_CAUSAL}, {"no-h0-prior", no_argument, 0, O_NOH0},
        {"var-h", required_argument, 0, O_VH}, {"var-y", required_argument, 0, O_VY},
        {"var-q", required_argument, 0, O_VQ}, {"fixed-variances", no_argument, 0, O_FIXV},
        {"compat", no_argument, 0, O_COMPAT}, {"init", required_argument, 0, O_INIT},
        {"init-epochs", required_argument, 0, O_IEP}, {"epochs", required_argument, 0, O_EP},
        {"coef-cross", required_argument, 0, O_CC}, {"lr", required_argument, 0, O_LR},
        {"lr-step", required_argument, 0, O_LRS}, {"lr-gamma", required_argument, 0, O_LRG},
        {"clip", required_argument, 0, O_CLIP}, {"fresh-optimizer", no_argument, 0, O_FRESH},
        {"batch-trials", required_argument, 0, O_BT}, {"restarts", required_argument, 0, O_RS},
        {"test-trials", required_argument, 0, O_TT}, {"eval-every", required_argument, 0, O_EE},
        {"seed", required_argument, 0, O_SEED}, {"objective", required_argument, 0, O_OBJ},
        {"loss-sum", no_argument, 0, O_LSUM}, {"precision", required_argument, 0, O_PREC},
        {"heldout-neurons", required_argument, 0, O_HELD}, {"heldout-frac", required_argument, 0, O_HFRAC},
        {"gain-frac", required_argument, 0, O_GAIN}, {"no-warm-start", no_argument, 0, O_NOWARM},
        {"warm-epochs", required_argument, 0, O_WEP}, {"warm-lr", required_argument, 0, O_WLR},
        {"model-out", required_argument, 0, O_MOUT},
        CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    const char *held_list = NULL;
    double held_frac = 0;
    ndyn_srnn_params p;
    ndyn_srnn_params_default(&p);
    const char *data = NULL, *out = NULL, *model_out = NULL;
    ndyn_srnn_select_params sp;
    ndyn_srnn_select_params_default(&sp);
    int c, rc = 0;
    long v;
    double x;
    while ((c = getopt_long(argc, argv, "hK:H:q", lo, NULL)) != -1) {
        if (cli_common_option(cmd, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'h': select ? select_help() : fit_help(); return CLI_OK;
        case O_DATA: data = optarg; break;
        case O_OUT: out = optarg; break;
        case 'K':
            if (select) {
                if (parse_k_range(optarg, &sp.kmin, &sp.kmax))
                    return cli_usage(cmd, "--states must be K or A-B with 1 <= A <= B <= 64, got '%s'", optarg);
                break;
            }
            if (cli_parse_int(cmd, "states", optarg, 1, 64, &v)) return CLI_USAGE;
            p.K = (int)v;
            break;
        case 'H': if (cli_parse_int(cmd, "hidden", optarg, 1, 4096, &v)) return CLI_USAGE; p.H = (int)v; break;
        case O_EMIS:
            if (!strcmp(optarg, "gaussian")) p.emission = NDYN_SRNN_GAUSSIAN;
            else if (!strcmp(optarg, "poisson")) p.emission = NDYN_SRNN_POISSON;
            else return cli_usage(cmd, "--emission must be gaussian or poisson, got '%s'", optarg);
            break;
        case O_EH: {
            long w[NDYN_SRNN_MAX_LAYERS];
            int n;
            if (cli_parse_int_list(cmd, "emission-hidden", optarg, 1, 65536, w, NDYN_SRNN_MAX_LAYERS, &n)) return CLI_USAGE;
            p.n_emission_hidden = n;
            for (int i = 0; i < n; i++) p.emission_hidden[i] = (int)w[i];
            break;
        }
        case O_SH: if (cli_parse_int(cmd, "sampler-hidden", optarg, 1, 65536, &v)) return CLI_USAGE; p.sampler_hidden = (int)v; break;
        case O_TRANS:
            if (!strcmp(optarg, "linear")) p.transition = NDYN_SRNN_TRANS_LINEAR;
            else if (!strcmp(optarg, "tanh")) p.transition = NDYN_SRNN_TRANS_TANH;
            else return cli_usage(cmd, "--transition must be linear or tanh, got '%s'", optarg);
            break;
        case O_NOBASE: p.trans_base = 0; break;
        case O_CAUSAL: p.causal = 1; break;
        case O_NOH0: p.h0_prior = 0; break;
        case O_VH: if (cli_parse_double(cmd, "var-h", optarg, 1e-12, 1e6, &x)) return CLI_USAGE; p.var_h = x; break;
        case O_VY: if (cli_parse_double(cmd, "var-y", optarg, 1e-12, 1e6, &x)) return CLI_USAGE; p.var_y = x; break;
        case O_VQ: if (cli_parse_double(cmd, "var-q", optarg, 1e-12, 1e6, &x)) return CLI_USAGE; p.var_q = x; break;
        case O_FIXV: p.learn_var_h = p.learn_var_y = p.learn_var_q = 0; break;
        case O_COMPAT:
            p.transition = NDYN_SRNN_TRANS_TANH, p.trans_base = 0, p.h0_prior = 0;
            p.learn_var_h = p.learn_var_y = p.learn_var_q = 0;
            p.var_h = p.var_y = p.var_q = 1e-4;
            p.objective = NDYN_SRNN_OBJ_COMPAT, p.loss_sum = 1;
            break;
        case O_OBJ:
            if (!strcmp(optarg, "elbo")) p.objective = NDYN_SRNN_OBJ_ELBO;
            else if (!strcmp(optarg, "compat")) p.objective = NDYN_SRNN_OBJ_COMPAT;
            else return cli_usage(cmd, "--objective must be elbo or compat, got '%s'", optarg);
            break;
        case O_LSUM: p.loss_sum = 1; break;
        case O_PREC:
            if (!strcmp(optarg, "f64")) p.precision = NDYN_SRNN_F64;
            else if (!strcmp(optarg, "f32")) p.precision = NDYN_SRNN_F32;
            else return cli_usage(cmd, "--precision must be f64 or f32, got '%s'", optarg);
            break;
        case O_INIT: {
            int k = find_name(optarg, k_init_names, 7);
            if (k < 0) return cli_usage(cmd, "--init must be kmeans, hmm, random, blocks, uniform, labels or none, got '%s'", optarg);
            p.init = k;
            break;
        }
        case O_IEP: if (cli_parse_int(cmd, "init-epochs", optarg, 0, 100000000, &v)) return CLI_USAGE; p.init_epochs = (int)v; break;
        case O_EP: if (cli_parse_int(cmd, "epochs", optarg, 0, 100000000, &v)) return CLI_USAGE; p.epochs = (int)v; break;
        case O_CC: if (cli_parse_double(cmd, "coef-cross", optarg, 0, 1e12, &x)) return CLI_USAGE; p.coef_cross = x; break;
        case O_LR: if (cli_parse_double(cmd, "lr", optarg, 1e-12, 10, &x)) return CLI_USAGE; p.lr = x; break;
        case O_LRS: if (cli_parse_int(cmd, "lr-step", optarg, 1, 100000000, &v)) return CLI_USAGE; p.lr_step = (int)v; break;
        case O_LRG: if (cli_parse_double(cmd, "lr-gamma", optarg, 1e-9, 1, &x)) return CLI_USAGE; p.lr_gamma = x; break;
        case O_CLIP: if (cli_parse_double(cmd, "clip", optarg, 0, 1e12, &x)) return CLI_USAGE; p.clip = x; break;
        case O_FRESH: p.fresh_optimizer = 1; break;
        case O_BT: if (cli_parse_int(cmd, "batch-trials", optarg, 0, 100000000, &v)) return CLI_USAGE; p.batch_trials = (int)v; break;
        case O_RS: if (cli_parse_int(cmd, "restarts", optarg, 1, 10000, &v)) return CLI_USAGE; p.restarts = (int)v; break;
        case O_TT: if (cli_parse_int(cmd, "test-trials", optarg, 0, 100000000, &v)) return CLI_USAGE; p.test_trials = (int)v; break;
        case O_EE: if (cli_parse_int(cmd, "eval-every", optarg, 1, 100000000, &v)) return CLI_USAGE; p.eval_every = (int)v; break;
        case O_SEED: if (cli_parse_u64(cmd, "seed", optarg, &p.seed)) return CLI_USAGE; break;
        case O_HELD: held_list = optarg; break;
        case O_HFRAC:
            if (cli_parse_double(cmd, "heldout-frac", optarg, 0, 1, &x)) return CLI_USAGE;
            if (!(x > 0 && x < 1)) return cli_usage(cmd, "--heldout-frac must be in (0, 1), got '%s'", optarg);
            held_frac = x;
            break;
        case O_GAIN:
        case O_NOWARM:
        case O_WEP:
        case O_WLR:
        case O_MOUT:
            if (!select) return cli_usage(cmd, "--gain-frac, --no-warm-start, --warm-epochs, --warm-lr and --model-out are "
                                 "options of 'ndyn srnn select'");
            if (c == O_GAIN) {
                if (cli_parse_double(cmd, "gain-frac", optarg, 0, 1, &x)) return CLI_USAGE;
                if (!(x > 0)) return cli_usage(cmd, "--gain-frac must be in (0, 1], got '%s'", optarg);
                sp.gain_frac = x;
            } else if (c == O_NOWARM) {
                sp.warm_start = 0;
            } else if (c == O_WEP) {
                if (cli_parse_int(cmd, "warm-epochs", optarg, 0, 100000000, &v)) return CLI_USAGE;
                sp.warm_epochs = (int)v;
            } else if (c == O_WLR) {
                if (cli_parse_double(cmd, "warm-lr", optarg, 0, 10, &x)) return CLI_USAGE;
                sp.warm_lr = x;
            } else {
                model_out = optarg;
            }
            break;
        default: return cli_usage(cmd, "unknown option");
        }
    }
    if (optind < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (!data || !out) return cli_usage(cmd, "--data and --out are required");
    if (select && p.test_trials < 1)
        return cli_usage(cmd, "needs held-out trials to score each K: give --test-trials n (n >= 1)");
    if (held_list && held_frac > 0) return cli_usage(cmd, "give --heldout-neurons or --heldout-frac, not both");
    if (ndyn_srnn_check_params(&p)) return cli_fail(cmd);
    trials t;
    if (load_trials(data, &t)) {
        trials_free(&t);
        return cli_fail(cmd);
    }
    int *held = NULL;
    if (held_list || held_frac > 0) {
        held = malloc((t.N ? t.N : 1) * sizeof(int));
        long *ch = malloc((t.N ? t.N : 1) * sizeof(long));
        int nch = 0, bad = !held || !ch;
        if (!bad && held_list) {
            if (cli_parse_int_list(cmd, "heldout-neurons", held_list, 0, (long)t.N - 1, ch, (int)t.N, &nch)) {
                free(ch), free(held), trials_free(&t);
                return CLI_USAGE;
            }
            for (int q = 0; q < nch; q++) held[q] = (int)ch[q];
            p.n_heldout = (size_t)nch;
        } else if (!bad) {
            bad = ndyn_srnn_heldout_pick(t.N, held_frac, p.seed, held, &p.n_heldout) != NDYN_OK;
        }
        free(ch);
        p.heldout = held;
        if (bad) {
            free(held), trials_free(&t);
            return cli_fail(cmd);
        }
    }
    if (select) {
        ndyn_srnn_selection *sel = NULL;
        sp.keep_model = model_out != NULL;
        rc = ndyn_srnn_choose_k(&t.d, NULL, &p, &sp, &sel);
        if (!rc) rc = srnn_write_selection(sel, out);
        char hist[4096] = "";
        if (model_out) history_path(model_out, hist, sizeof hist);
        if (!rc && model_out) rc = ndyn_srnn_save(sel->model, model_out);
        if (!rc && model_out) rc = ndyn_srnn_save_history(sel->model, hist);
        if (!rc && !ndyn_get_quiet()) {
            printf("    K   held-out ELBO/step   training ELBO/step   kept   fresh held-out   warm held-out\n");
            for (size_t i = 0; i < sel->n_k; i++)
                printf("%5d   %18.4f   %18.4f   %5s   %14.4f   %13.4f%s\n", sel->kmin + (int)i, sel->heldout_elbo[i],
                       sel->train_elbo[i], sel->warm[i] ? "warm" : "fresh",
                       sel->fresh_heldout_elbo[i], sel->warm_heldout_elbo[i],
                       sel->kmin + (int)i == sel->chosen ? "   <- chosen" : "");
            printf("chosen K = %d (the smallest K with >= %g of the largest held-out gain over K = %d; largest at "
                   "K = %d); wrote %s%s%s%s%s\n",
                   sel->chosen, sp.gain_frac, sel->kmin, sel->best, out, model_out ? ", " : "",
                   model_out ? model_out : "", model_out ? " and " : "", hist);
        }
        ndyn_srnn_selection_free(sel);
        free(held);
        trials_free(&t);
        return rc ? cli_fail(cmd) : CLI_OK;
    }
    ndyn_srnn_model *m = NULL;
    if (ndyn_srnn_fit(&t.d, &p, &m) || ndyn_srnn_save(m, out)) {
        ndyn_srnn_model_free(m);
        free(held);
        trials_free(&t);
        return cli_fail(cmd);
    }
    free(held);
    p.heldout = NULL;
    char hist[4096];
    history_path(out, hist, sizeof hist);
    rc = ndyn_srnn_save_history(m, hist) ? cli_fail(cmd) : CLI_OK;
    if (!rc && !ndyn_get_quiet())
        fprintf(stderr, "ndyn srnn fit: K=%d H=%d%s, ELBO per step: train %.6g, test %.6g; wrote %s and %s\n",
                p.K, p.H, m->n_heldout ? " (held-out channels hidden from the encoder)" : "", m->train_elbo,
                m->test_elbo, out, hist);
    ndyn_srnn_model_free(m);
    trials_free(&t);
    return rc;
}

/* ---------------------------------------------- infer / predict / flow */

static const char *g_cosmooth = NULL; /* infer --cosmooth LIST */

static int parse_common(const char *cmd, int argc, char **argv, const char *help, const char **model,
                        const char **data, const char **out, long *steps, long *grid, long *trials_n,
                        uint64_t *seed)
{
    enum { O_MODEL = 3000, O_DATA, O_OUT, O_STEPS, O_GRID, O_TRIALS, O_SEED, O_COS };
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'}, {"model", required_argument, 0, O_MODEL},
        {"data", required_argument, 0, O_DATA}, {"out", required_argument, 0, O_OUT},
        {"steps", required_argument, 0, O_STEPS}, {"grid", required_argument, 0, O_GRID},
        {"trials", required_argument, 0, O_TRIALS}, {"seed", required_argument, 0, O_SEED},
        {"cosmooth", required_argument, 0, O_COS}, CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, "hq", lo, NULL)) != -1) {
        if (cli_common_option(cmd, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'h': fputs(help, stdout); return -1;
        case O_MODEL: *model = optarg; break;
        case O_DATA: if (!data) return cli_usage(cmd, "--data is not an option here"); *data = optarg; break;
        case O_OUT: *out = optarg; break;
        case O_STEPS: if (!steps || cli_parse_int(cmd, "steps", optarg, 1, 100000000, steps)) return CLI_USAGE; break;
        case O_GRID: if (!grid || cli_parse_int(cmd, "grid", optarg, 2, 1000, grid)) return CLI_USAGE; break;
        case O_TRIALS: if (!trials_n || cli_parse_int(cmd, "trials", optarg, 1, 100000000, trials_n)) return CLI_USAGE; break;
        case O_SEED: if (!seed || cli_parse_u64(cmd, "seed", optarg, seed)) return CLI_USAGE; break;
        case O_COS:
            if (strcmp(cmd, CMD " infer")) return cli_usage(cmd, "--cosmooth is an option of infer");
            g_cosmooth = optarg;
            break;
        default: return cli_usage(cmd, "unknown option");
        }
    }
    if (optind < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (!*model || (data && !*data) || !*out) return cli_usage(cmd, "--model%s and --out are required", data ? ", --data" : "");
    return 0;
}

static int srnn_infer_cmd(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    int rc = parse_common(CMD " infer", argc, argv,
                          "Usage: ndyn srnn infer --model MODEL.npz --data IN --out OUT.npz\n"
                          "\n"
                          "Posterior state probabilities `posterior` (trials, T, K), Viterbi `states`\n"
                          "(trials, T), latent means `h` (trials, T, H), reconstruction `yhat`\n"
                          "(trials, T, N; autoencoding: q sees y), per-trial `elbo` (trials,) (mean of\n"
                          "the model's eval samples), `mse`, `r2`; with labels in IN also `labels`,\n"
                          "`state_error` (1 - balanced accuracy after Hungarian matching, one map for\n"
                          "all trials), `state_error_raw` (no matching) and `state_map` (K,) state ->\n"
                          "label. Trials of different lengths give name_0, name_1, ... instead.\n"
                          "A model fitted with --heldout-neurons/--heldout-frac (the Neural Latents\n"
                          "Benchmark protocol: its encoder never reads those channels) also gives\n"
                          "`heldout` (the channels), `cosmooth_mse` (MSE of their predicted means) and,\n"
                          "for Poisson models, `cobps`: bits per spike of their predicted rates against\n"
                          "each channel's mean rate in IN, (LL - LL_null) / (spikes ln 2). Use test\n"
                          "trials as IN (trials the model was not fitted on).\n"
                          "      --cosmooth LIST  co-smoothing for a model fitted on all channels: zero these\n"
                          "                       channels (comma-separated indices) at the encoder input\n"
                          "                       and write `cosmooth_mse`, the MSE of their reconstruction\n"
                          "                       (default: off; not with a held-out model)\n"
                          CLI_COMMON_HELP,
                          &model, &data, &out, NULL, NULL, NULL, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    trials t;
    ndyn_srnn_model *m = NULL;
    ndyn_srnn_result *r = NULL;
    ndyn_dataset *ds = NULL;
    rc = ndyn_srnn_load(model, &m);
    if (!rc) rc = load_trials(data, &t);
    else memset(&t, 0, sizeof t);
    if (!rc) rc = ndyn_srnn_infer(m, &t.d, &r);
    if (!rc) rc = (ds = ndyn_dataset_new()) ? 0 : NDYN_ENOMEM;
    if (!rc) rc = add_per_trial(ds, &t, "posterior", NDYN_F64, r->posterior, r->K, 0);
    if (!rc) rc = add_per_trial(ds, &t, "states", NDYN_I32, r->states, 1, 1);
    if (!rc) rc = add_per_trial(ds, &t, "h", NDYN_F64, r->h, r->H, 0);
    if (!rc) rc = add_per_trial(ds, &t, "yhat", NDYN_F64, r->yhat, r->N, 0);
    if (!rc) rc = add_vec(ds, "elbo", NDYN_F64, r->elbo, 1, &r->n_trials);
    if (!rc) rc = add_scalar(ds, "mse", r->mse);
    if (!rc) rc = add_scalar(ds, "r2", r->r2);
    if (!rc && m->n_heldout) {
        rc = add_vec(ds, "heldout", NDYN_I32, m->heldout, 1, &m->n_heldout);
        if (!rc) rc = add_scalar(ds, "cosmooth_mse", r->cosmooth_mse);
        if (!rc && m->p.emission == NDYN_SRNN_POISSON) rc = add_scalar(ds, "cobps", r->cobps);
    }
    if (!rc && g_cosmooth && m->n_heldout) {
        cli_usage(CMD " infer", "--cosmooth is for models fitted on all channels; this one holds out its own (see `heldout`)");
        rc = -1;
    }
    if (!rc && g_cosmooth) {
        long ch[4096];
        int nch = 0;
        if (cli_parse_int_list(CMD " infer", "cosmooth", g_cosmooth, 0, (long)t.N - 1, ch, 4096, &nch)) {
            rc = -1;
        } else {
            int held[4096];
            for (int q = 0; q < nch; q++) held[q] = (int)ch[q];
            double cm = NAN;
            rc = ndyn_srnn_cosmooth(m, &t.d, held, (size_t)nch, &cm);
            if (!rc) rc = add_scalar(ds, "cosmooth_mse", cm);
        }
    }
    if (!rc && t.has_labels) {
        int *lab = malloc(r->total_T * sizeof(int));
        size_t o = 0;
        if (!lab) rc = NDYN_ENOMEM;
        for (size_t i = 0; !rc && i < t.n; i++) memcpy(lab + o, t.lp[i], t.T[i] * sizeof(int)), o += t.T[i];
        if (!rc) rc = add_per_trial(ds, &t, "labels", NDYN_I32, lab, 1, 1);
        free(lab);
        if (!rc) rc = add_scalar(ds, "state_error", r->state_error);
        if (!rc) rc = add_scalar(ds, "state_error_raw", r->state_error_raw);
        if (!rc && r->state_map) rc = add_vec(ds, "state_map", NDYN_I32, r->state_map, 1, &r->K);
    }
    if (!rc) rc = ndyn_dataset_save(out, ds, 1);
    if (!rc && !ndyn_get_quiet()) {
        double me = 0;
        for (size_t i = 0; i < r->n_trials; i++) me += r->elbo[i] / r->n_trials;
        fprintf(stderr, "ndyn srnn infer: %zu trials, mean ELBO per trial %.6g, reconstruction MSE %.4g (R2 %.3f)", r->n_trials, me, r->mse, r->r2);
        if (t.has_labels) fprintf(stderr, ", state error %.4f (unmatched %.4f)", r->state_error, r->state_error_raw);
        if (m->n_heldout) {
            fprintf(stderr, ", co-smoothing on %zu held-out channels: MSE %.4g", m->n_heldout, r->cosmooth_mse);
            if (m->p.emission == NDYN_SRNN_POISSON) fprintf(stderr, ", co-bps %.4f", r->cobps);
        }
        fprintf(stderr, "\n");
    }
    ndyn_dataset_free(ds);
    ndyn_srnn_result_free(r);
    ndyn_srnn_model_free(m);
    trials_free(&t);
    if (rc == -1) return CLI_USAGE;
    return rc ? cli_fail(CMD " infer") : CLI_OK;
}

static int srnn_predict_cmd(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    long k = 1;
    int rc = parse_common(CMD " predict", argc, argv,
                          "Usage: ndyn srnn predict --model MODEL.npz --data IN --steps k --out OUT.npz\n"
                          "\n"
                          "k-step-ahead predictions `pred` (trials, T, N), NaN where t < k: start from\n"
                          "the latent mean at t - k, roll h <- f_z(h) k times with z the transition\n"
                          "model's most likely next state (an honest forecast), decode. Also `k`,\n"
                          "`y` (the data), `mse` and `r2` over the predicted entries.\n"
                          "      --steps k        horizon (default 1)\n" CLI_COMMON_HELP,
                          &model, &data, &out, &k, NULL, NULL, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    trials t;
    ndyn_srnn_model *m = NULL;
    ndyn_dataset *ds = NULL;
    double *pred = NULL, *yy = NULL, mse = NAN, r2 = NAN;
    rc = ndyn_srnn_load(model, &m);
    if (!rc) rc = load_trials(data, &t);
    else memset(&t, 0, sizeof t);
    size_t tot = 0;
    for (size_t i = 0; i < t.n; i++) tot += t.T[i];
    if (!rc) {
        pred = malloc(tot * t.N * sizeof(double));
        yy = malloc(tot * t.N * sizeof(double));
        if (!pred || !yy) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    if (!rc) rc = ndyn_srnn_predict(m, &t.d, (int)k, pred, &mse, &r2);
    if (!rc) {
        size_t o = 0;
        for (size_t i = 0; i < t.n; i++) memcpy(yy + o * t.N, t.yp[i], t.T[i] * t.N * sizeof(double)), o += t.T[i];
        rc = (ds = ndyn_dataset_new()) ? 0 : NDYN_ENOMEM;
    }
    if (!rc) rc = add_per_trial(ds, &t, "pred", NDYN_F64, pred, t.N, 0);
    if (!rc) rc = add_per_trial(ds, &t, "y", NDYN_F64, yy, t.N, 0);
    if (!rc) rc = add_scalar(ds, "k", (double)k);
    if (!rc) rc = add_scalar(ds, "mse", mse);
    if (!rc) rc = add_scalar(ds, "r2", r2);
    if (!rc) rc = ndyn_dataset_save(out, ds, 1);
    if (!rc && !ndyn_get_quiet()) fprintf(stderr, "ndyn srnn predict: %ld-step MSE %.4g, R2 %.3f\n", k, mse, r2);
    ndyn_dataset_free(ds);
    free(pred);
    free(yy);
    ndyn_srnn_model_free(m);
    trials_free(&t);
    return rc ? cli_fail(CMD " predict") : CLI_OK;
}

static int srnn_sample_cmd(int argc, char **argv)
{
    const char *model = NULL, *out = NULL;
    long n = 1, T = 200;
    uint64_t seed = 1;
    int rc = parse_common(CMD " sample", argc, argv,
                          "Usage: ndyn srnn sample --model MODEL.npz --out OUT.npz [--trials n] [--steps T] [--seed S]\n"
                          "\n"
                          "Sample from the generative model: y (n, T, N), h (n, T, H), states (n, T)\n"
                          "as `ndyn simulate switching` writes them. Poisson models draw counts.\n"
                          "      --trials n       trials (default 1)\n"
                          "      --steps T        time steps (default 200)\n"
                          "      --seed S         seed (default 1)\n" CLI_COMMON_HELP,
                          &model, NULL, &out, &T, NULL, &n, &seed);
    if (rc) return rc < 0 ? CLI_OK : rc;
    ndyn_srnn_model *m = NULL;
    rc = ndyn_srnn_load(model, &m);
    ndyn_array *y = NULL, *h = NULL, *st = NULL;
    if (!rc) {
        y = ndyn_array_alloc3(NDYN_F64, n, T, m->N);
        h = ndyn_array_alloc3(NDYN_F64, n, T, m->p.H);
        st = ndyn_array_alloc2(NDYN_I32, n, T);
        if (!y || !h || !st) rc = NDYN_ENOMEM;
    }
    if (!rc) rc = ndyn_srnn_sample(m, n, T, seed, y->data, h->data, st->data);
    ndyn_dataset *ds = rc ? NULL : ndyn_dataset_new();
    if (!rc && !ds) rc = NDYN_ENOMEM;
    if (!rc) {
        rc = ndyn_dataset_add(ds, "y", y, NULL);
        y = NULL;
        if (!rc) rc = ndyn_dataset_add(ds, "h", h, NULL);
        h = NULL;
        if (!rc) rc = ndyn_dataset_add(ds, "states", st, NULL);
        st = NULL;
    }
    if (!rc) rc = ndyn_dataset_save(out, ds, 1);
    ndyn_array_free(y), ndyn_array_free(h), ndyn_array_free(st);
    ndyn_dataset_free(ds);
    ndyn_srnn_model_free(m);
    return rc ? cli_fail(CMD " sample") : CLI_OK;
}

static int srnn_flow_cmd(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    long G = 20;
    int rc = parse_common(CMD " flow", argc, argv,
                          "Usage: ndyn srnn flow --model MODEL.npz --data IN --out OUT.npz [--grid G]\n"
                          "\n"
                          "Per-state one-step flow fields in the plane of the first two principal\n"
                          "components of the latent means of IN: grid (G*G, 2), vel (K, G*G, 2) the\n"
                          "projection of f_k(h) - h at h = mean + grid point (off-plane coordinates at\n"
                          "the mean), traj (trials, T, 2), traj_state (trials, T) Viterbi states,\n"
                          "pca_components (2, H), pca_mean (H,).\n"
                          "      --grid G         points per axis (default 20)\n" CLI_COMMON_HELP,
                          &model, &data, &out, NULL, &G, NULL, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    trials t;
    ndyn_srnn_model *m = NULL;
    ndyn_srnn_flow *f = NULL;
    ndyn_dataset *ds = NULL;
    rc = ndyn_srnn_load(model, &m);
    if (!rc) rc = load_trials(data, &t);
    else memset(&t, 0, sizeof t);
    if (!rc) rc = ndyn_srnn_flow_compute(m, &t.d, (size_t)G, &f);
    if (!rc) rc = (ds = ndyn_dataset_new()) ? 0 : NDYN_ENOMEM;
    if (!rc) {
        size_t sg[2] = {f->G2, 2}, sv[3] = {f->K, f->G2, 2}, sc[2] = {2, f->H};
        rc = add_vec(ds, "grid", NDYN_F64, f->grid, 2, sg);
        if (!rc) rc = add_vec(ds, "vel", NDYN_F64, f->vel, 3, sv);
        if (!rc) rc = add_per_trial(ds, &t, "traj", NDYN_F64, f->traj, 2, 0);
        if (!rc) rc = add_per_trial(ds, &t, "traj_state", NDYN_I32, f->traj_state, 1, 1);
        if (!rc) rc = add_vec(ds, "pca_components", NDYN_F64, f->comps, 2, sc);
        if (!rc) rc = add_vec(ds, "pca_mean", NDYN_F64, f->mean, 1, &f->H);
    }
    if (!rc) rc = ndyn_dataset_save(out, ds, 1);
    ndyn_dataset_free(ds);
    ndyn_srnn_flow_free(f);
    ndyn_srnn_model_free(m);
    trials_free(&t);
    return rc ? cli_fail(CMD " flow") : CLI_OK;
}

int cmd_srnn(int argc, char **argv)
{
    static const char *usage =
        "Usage: ndyn srnn <verb> [options]\n"
        "\n"
        "Switching recurrent neural networks (Zhang & Saxena, NeurIPS 2024), fitted by\n"
        "the exact collapsed ELBO. Verbs:\n"
        "  fit       fit a model to trials y (trials, T, N)\n"
        "  select    choose the number of states K by held-out ELBO\n"
        "  infer     posterior states, Viterbi paths, latents, reconstructions, ELBO,\n"
        "            state error against labels\n"
        "  predict   k-step-ahead predictions\n"
        "  sample    sample trials from the generative model\n"
        "  flow      per-state flow fields in the 2-D PCA plane of the latents\n"
        "Run 'ndyn srnn <verb> --help' for the options of each.\n";
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *v = argv[1];
    if (!strcmp(v, "--help") || !strcmp(v, "-h")) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    cli_reset_getopt();
    if (!strcmp(v, "fit")) return srnn_fit_cmd(argc - 1, argv + 1, 0);
    if (!strcmp(v, "select")) return srnn_fit_cmd(argc - 1, argv + 1, 1);
    if (!strcmp(v, "infer")) return srnn_infer_cmd(argc - 1, argv + 1);
    if (!strcmp(v, "predict")) return srnn_predict_cmd(argc - 1, argv + 1);
    if (!strcmp(v, "sample")) return srnn_sample_cmd(argc - 1, argv + 1);
    if (!strcmp(v, "flow")) return srnn_flow_cmd(argc - 1, argv + 1);
    return cli_usage(CMD, "unknown verb '%s' (fit, select, infer, predict, sample, flow)", v);
}
