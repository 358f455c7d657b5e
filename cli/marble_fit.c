/* ndyn marble fit: train MARBLE on a prepared dataset (or raw point clouds),
 * write the model and its training history. */
#include "cli.h"
#include "marble_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ndyn/geom.h"
#include "ndyn/io.h"
#include "ndyn/marble.h"

static const char *CMD = "marble fit";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ndyn marble fit --data IN --out MODEL [options]\n"
            "\n"
            "Train the MARBLE network (unsupervised, contrastive) on IN: a prepared dataset\n"
            "from 'ndyn marble prepare', or raw point clouds (pos, vel, condition) prepared\n"
            "here with the geometry options below. A dataset with local gauges (prepared\n"
            "with --local-gauges) gives a model that works in the tangent frames: signal,\n"
            "vector diffusion, gradient filters and inner products in frame coordinates;\n"
            "embed then accepts only data with the same setting. Writes MODEL (.npz), which\n"
            "also records the geometry (graph, k, delta, spacing, gauges, eigenpairs, seed)\n"
            "for 'marble embed' on raw data, and MODEL.history.npz (epoch, train_loss,\n"
            "val_loss, lr, diffusion_time); prints the test loss of the best-validation model.\n"
            "\n"
            "Options:\n"
            "      --data IN                prepared dataset or point clouds (required)\n"
            "      --out MODEL              model file (default: model.npz)\n"
            "      --resume MODEL0          continue training MODEL0 (its hyper-parameters;\n"
            "                               --epochs sets the new total)\n"
            "      --epochs N               training epochs (default: 100)\n"
            "      --batch-size N           anchors per minibatch (default: 64)\n"
            "      --lr X                   SGD learning rate (default: 0.01)\n"
            "      --momentum X             SGD momentum (default: 0.9)\n"
            "      --order O                order of the gradient filters (default: 2)\n"
            "      --hidden W1,W2,...       hidden widths, or 'none' (default: 32)\n"
            "      --out-channels E         latent dimension (default: 3)\n"
            "      --dropout P              dropout after hidden layers (default: 0)\n"
            "      --no-batch-norm          no BatchNorm after hidden layers (default: on)\n"
            "      --no-bias                Linear layers without bias (default: with)\n"
            "      --inner-product          embedding-agnostic inner-product features (default: off)\n"
            "      --diffusion / --no-diffusion  learnable diffusion layer (default: on)\n"
            "      --include-positions      prepend positions to the features (default: off)\n"
            "      --no-include-self        drop the order-0 features (default: kept)\n"
            "      --vec-norm               L2-normalise each order block (default: off)\n"
            "      --emb-norm               L2-normalise the embedding (default: off)\n"
            "      --compat-sampling        the reference's sampling (positives may be the anchor,\n"
            "                               negatives from any split) (default: ndyn's, no leakage)\n"
            "      --exclude-neighbour-negatives  negatives avoid the anchor's neighbours (default: off)\n"
            "      --seed N                 seed of initialisation, split, sampling (default: 0)\n"
            "      --val-draws D            validation loss that picks the best epoch: 0 draws new\n"
            "                               positives/negatives every epoch (the reference's way);\n"
            "                               D >= 1 scores every epoch on the same D draws and\n"
            "                               averages them, so epochs compare fairly (default: 0)\n"
            MARBLE_GEOM_HELP
            CLI_COMMON_HELP
            "  -h, --help                   this help\n");
}

static int write_history(const char *model_path, const ndyn_marble_history *h)
{
    char path[4096];
    size_t L = strlen(model_path);
    if (L > 4 && !strcmp(model_path + L - 4, ".npz"))
        snprintf(path, sizeof path, "%.*s.history.npz", (int)(L - 4), model_path);
    else
        snprintf(path, sizeof path, "%s.history.npz", model_path);
    /* every array is one curve of length n (docs/FORMATS.md: plotted against epoch) */
    size_t n = h->n;
    const char *names[] = {"epoch", "train_loss", "val_loss", "lr", "diffusion_time"};
    ndyn_array *a[5] = {
        ndyn_array_view(NDYN_F64, 1, &n, h->epoch), ndyn_array_view(NDYN_F64, 1, &n, h->train_loss),
        ndyn_array_view(NDYN_F64, 1, &n, h->val_loss), ndyn_array_view(NDYN_F64, 1, &n, h->lr),
        ndyn_array_view(NDYN_F64, 1, &n, h->diffusion_time)};
    int rc = 0;
    for (int i = 0; i < 5; i++) if (!a[i]) rc = NDYN_ENOMEM;
    if (!rc) rc = ndyn_npz_write(path, 5, names, (const ndyn_array *const *)a, 0);
    for (int i = 0; i < 5; i++) ndyn_array_free(a[i]);
    if (!rc) printf("history      %s\n", path);
    return rc;
}

int marble_fit(int argc, char **argv)
{
    enum { O_DATA = 1, O_OUT, O_RESUME, O_EPOCHS, O_BS, O_LR, O_MOM, O_ORDER, O_HIDDEN, O_OUTCH,
           O_DROP, O_NOBN, O_NOBIAS, O_IP, O_DIFF, O_NODIFF, O_POS, O_NOSELF, O_VN, O_EN,
           O_COMPAT, O_EXNEG, O_SEED, O_VALDRAWS };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA}, {"out", required_argument, 0, O_OUT},
        {"resume", required_argument, 0, O_RESUME}, {"epochs", required_argument, 0, O_EPOCHS},
        {"batch-size", required_argument, 0, O_BS}, {"lr", required_argument, 0, O_LR},
        {"momentum", required_argument, 0, O_MOM}, {"order", required_argument, 0, O_ORDER},
        {"hidden", required_argument, 0, O_HIDDEN}, {"out-channels", required_argument, 0, O_OUTCH},
        {"dropout", required_argument, 0, O_DROP}, {"no-batch-norm", no_argument, 0, O_NOBN},
        {"no-bias", no_argument, 0, O_NOBIAS}, {"inner-product", no_argument, 0, O_IP},
        {"diffusion", no_argument, 0, O_DIFF}, {"no-diffusion", no_argument, 0, O_NODIFF},
        {"include-positions", no_argument, 0, O_POS}, {"no-include-self", no_argument, 0, O_NOSELF},
        {"vec-norm", no_argument, 0, O_VN}, {"emb-norm", no_argument, 0, O_EN},
        {"compat-sampling", no_argument, 0, O_COMPAT},
        {"exclude-neighbour-negatives", no_argument, 0, O_EXNEG},
        {"seed", required_argument, 0, O_SEED}, {"val-draws", required_argument, 0, O_VALDRAWS},
        MARBLE_GEOM_LONGOPTS,
        {"help", no_argument, 0, 'h'}, CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    const char *data = NULL, *out = "model.npz", *resume = NULL;
    ndyn_marble_params p;
    ndyn_marble_params_default(&p);
    ndyn_geom_params gp;
    ndyn_geom_params_default(&gp);
    int epochs_set = 0;
    unsigned gset = 0;
    long v, hl[NDYN_MARBLE_MAX_HIDDEN];
    int c, rc = 0, nh;
    cli_reset_getopt();
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) { if (rc) return rc; continue; }
        if (marble_geom_option(CMD, c, optarg, &gp, &gset, &rc)) { if (rc) return rc; continue; }
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case O_DATA: data = optarg; break;
        case O_OUT: out = optarg; break;
        case O_RESUME: resume = optarg; break;
        case O_EPOCHS: if (cli_parse_int(CMD, "epochs", optarg, 0, 10000000, &v)) return CLI_USAGE; p.epochs = (int)v; epochs_set = 1; break;
        case O_BS: if (cli_parse_int(CMD, "batch-size", optarg, 1, 100000000, &v)) return CLI_USAGE; p.batch_size = (int)v; break;
        case O_LR: if (cli_parse_double(CMD, "lr", optarg, 1e-300, 1e6, &p.lr)) return CLI_USAGE; break;
        case O_MOM: if (cli_parse_double(CMD, "momentum", optarg, 0, 0.999999, &p.momentum)) return CLI_USAGE; break;
        case O_ORDER: if (cli_parse_int(CMD, "order", optarg, 1, 6, &v)) return CLI_USAGE; p.order = (int)v; break;
        case O_HIDDEN:
            if (!strcmp(optarg, "none")) { p.n_hidden = 0; break; }
            if (cli_parse_int_list(CMD, "hidden", optarg, 1, 1000000, hl, NDYN_MARBLE_MAX_HIDDEN, &nh)) return CLI_USAGE;
            p.n_hidden = nh;
            for (int i = 0; i < nh; i++) p.hidden[i] = (int)hl[i];
            break;
        case O_OUTCH: if (cli_parse_int(CMD, "out-channels", optarg, 1, 100000, &v)) return CLI_USAGE; p.out_channels = (int)v; break;
        case O_DROP: if (cli_parse_double(CMD, "dropout", optarg, 0, 0.999, &p.dropout)) return CLI_USAGE; break;
        case O_NOBN: p.batch_norm = 0; break;
        case O_NOBIAS: p.bias = 0; break;
        case O_IP: p.inner_product = 1; break;
        case O_DIFF: p.diffusion = 1; break;
        case O_NODIFF: p.diffusion = 0; break;
        case O_POS: p.include_positions = 1; break;
        case O_NOSELF: p.include_self = 0; break;
        case O_VN: p.vec_norm = 1; break;
        case O_EN: p.emb_norm = 1; break;
        case O_COMPAT: p.compat_sampling = 1; break;
        case O_EXNEG: p.exclude_neighbour_negatives = 1; break;
        case O_VALDRAWS: if (cli_parse_int(CMD, "val-draws", optarg, 0, 1000, &v)) return CLI_USAGE; p.val_draws = (int)v; break;
        case O_SEED: if (cli_parse_u64(CMD, "seed", optarg, &p.seed)) return CLI_USAGE; break;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!data) return cli_usage(CMD, "--data IN is required");
    if (ndyn_marble_check_params(&p, NULL)) return cli_fail(CMD);

    double t0 = ndyn_time_now();
    ndyn_geom_data *g = NULL;
    if (marble_load_data(data, &gp, &g, NULL)) return cli_fail(CMD);
    ndyn_marble_ops *ops = NULL;
    ndyn_marble_model *m = NULL;
    ndyn_marble_history h;
    memset(&h, 0, sizeof h);
    if ((rc = ndyn_marble_ops_from_geom(g, &ops))) goto fail;
    if (resume) {
        if ((rc = ndyn_marble_load(resume, &m))) goto fail;
        if (epochs_set) {
            /* only the epoch total changes on resume */
            rc = ndyn_marble_set_epochs(m, p.epochs);
            if (rc) goto fail;
        }
    } else {
        p.local_gauges = ops->data.local_gauges;
        if ((rc = ndyn_marble_model_new(&p, ops->data.s, ops->data.d, ops->data.dim, &m)))
            goto fail;
    }
    if ((rc = ndyn_marble_check_params(ndyn_marble_model_params(m), &ops->data))) goto fail;
    /* the model file records the geometry (raw options or the prepared
     * file's own record) for embedding raw data later */
    if ((rc = ndyn_marble_set_geometry(m, &g->params))) goto fail;
    double t1 = ndyn_time_now();
    if ((rc = ndyn_marble_fit(m, &ops->data, &h))) goto fail;
    double t2 = ndyn_time_now();
    if ((rc = ndyn_marble_save(m, out))) goto fail;
    printf("points       %zu (%d condition%s), signal dim %zu, kernels %zu%s\n", ops->data.n,
           g->C, g->C == 1 ? "" : "s", ops->data.s, ops->data.d,
           ops->data.local_gauges ? " (local gauges)" : "");
    if (h.n)
        printf("epochs       %d (best validation at epoch %d; final train %.5f, val %.5f)\n",
               ndyn_marble_model_epoch(m), h.best_epoch, h.train_loss[h.n - 1], h.val_loss[h.n - 1]);
    printf("test loss    %.5f\n", h.test_loss);
    printf("diffusion t  %.5g\n", ndyn_marble_model_diffusion_time(m));
    printf("time (s)     data %.2f  fit %.2f (%.3f per epoch)\n", t1 - t0, t2 - t1,
           h.n ? (t2 - t1) / (double)h.n : 0.0);
    printf("model        %s\n", out);
    if (h.n && (rc = write_history(out, &h))) goto fail;
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
    return CLI_OK;
fail:
    ndyn_marble_history_free(&h);
    ndyn_marble_model_free(m);
    ndyn_marble_ops_free(ops);
    ndyn_geom_data_free(g);
    return cli_fail(CMD);
}
