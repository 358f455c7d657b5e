/* ndyn decode: how much behaviour a representation carries, measured by
 * cross-validated linear, ridge or kNN decoders. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ndyn/io.h"
#include "ndyn/prep.h"

static const char *CMD = "decode";

static void help(void)
{
    printf(
        "Usage: ndyn decode --x X.npz[:ARRAY] --target Y.npz[:ARRAY] [options] --out METRICS.json\n"
        "\n"
        "Decode a behavioural target from a representation with cross-validation and\n"
        "report R², mean and median absolute error (continuous targets) or accuracy,\n"
        "balanced accuracy and the confusion matrix (class labels).\n"
        "\n"
        "Input\n"
        "  --x SPEC             representation: FILE or FILE:ARRAY (default array 'x'\n"
        "                       when the file has several). (N, T, D) is N trials of T\n"
        "                       steps; (n, D) rows, cut into trials by an 'offsets'\n"
        "                       array of the same file when present (ndyn prep output)\n"
        "  --target SPEC        behaviour: FILE or FILE:ARRAY, (n,), (n, Y) or (N, T, Y)\n"
        "                       with the same rows as --x, or one value per trial\n"
        "  --target-cols LIST   use only these columns of the target (e.g. 0 or 0,1)\n"
        "  --features F         rows (default: one sample per time step) | trial-mean\n"
        "                       | trial-concat (one sample per trial: the mean over\n"
        "                       time, or all steps side by side; equal lengths)\n"
        "\n"
        "Decoder\n"
        "  --decoder D          linear (least squares with bias, default) | ridge\n"
        "                       (penalty chosen by inner 5-fold time-block CV unless\n"
        "                       --lambda) | knn\n"
        "  --lambda L           fixed ridge penalty (default: linear 0, ridge CV)\n"
        "  --k K                kNN neighbours (default 36)\n"
        "  --metric M           kNN distance: cosine (default) | euclidean\n"
        "  --classify           targets are class labels (default when the target\n"
        "                       array has an integer type)\n"
        "  --regress            targets are continuous even if stored as integers\n"
        "\n"
        "Validation\n"
        "  --split S            time:FRAC (first FRAC of samples train, rest test;\n"
        "                       default time:0.8) | blocks:K (K contiguous blocks) |\n"
        "                       trials:K (K folds of whole trials, seeded, stratified\n"
        "                       by class when classifying)\n"
        "  --folds K            K-fold CV: trials:K when the input has trials, else\n"
        "                       blocks:K\n"
        "  --seed N             seed of trial folds (default 0)\n"
        "  --integrate POS      POS = FILE[:ARRAY] true positions (n, Y), same rows as\n"
        "                       the target: the decoded target is a velocity (as\n"
        "                       vel = diff(pos) of ndyn prep --flow); integrate it in\n"
        "                       each trial from the true start position and also report\n"
        "                       position R² over all steps and at the final step\n"
        "                       (MARBLE's macaque optimal linear estimator)\n"
        "\n"
        "Output\n"
        "  --out METRICS.json   metrics; predictions go to the same name with .npz:\n"
        "                       pred, truth (n, Y) (NaN where never tested), fold (n,)\n"
        "                       int32; metrics are also printed on stdout\n"
        CLI_COMMON_HELP
        "  -h, --help           this help\n"
        "\n"
        "Example (MARBLE rat decoder on PCA of smoothed rates):\n"
        "  ndyn prep --data rat_buddy_spikes_25ms.npy --dt 0.025 --smooth gaussian:0.25 \\\n"
        "    --pca 20 --fit time:0.8 --out rat.npz\n"
        "  ndyn decode --x rat.npz --target rat_buddy_position.npy --target-cols 0 \\\n"
        "    --decoder knn --k 36 --metric cosine --split time:0.8 --out rat.json\n");
}

/* Load FILE[:ARRAY]; with no array name and several arrays, take `dflt`. Also
 * returns the file's 'offsets' array (if wanted and present). */
static int load_spec(const char *spec, const char *dflt, ndyn_array **out, ndyn_array **offsets)
{
    *out = NULL;
    if (offsets) *offsets = NULL;
    int rc = ndyn_load_array(spec, out);
    ndyn_dataset *ds = NULL;
    if (rc) {
        /* Several arrays and no name: fall back on the default name. */
        if (rc != NDYN_EINVAL && rc != NDYN_ENOTFOUND) return rc;
        if (ndyn_dataset_load(spec, &ds)) return rc;
        ndyn_array *a = ndyn_dataset_take(ds, dflt);
        if (!a) {
            ndyn_dataset_free(ds);
            return ndyn_error(NDYN_ENOTFOUND, "%s holds several arrays and none is named '%s'; give FILE:ARRAY", spec,
                              dflt);
        }
        *out = a;
        if (offsets) *offsets = ndyn_dataset_take(ds, "offsets");
        ndyn_dataset_free(ds);
        return NDYN_OK;
    }
    if (offsets) {
        /* FILE:ARRAY of an npz written by ndyn prep: look for its offsets. */
        char *file = strdup(spec);
        if (!file) return NDYN_ENOMEM;
        char *c = strrchr(file, ':');
        if (c) *c = '\0';
        const char *ext = strrchr(file, '.');
        if (ext && !strcmp(ext, ".npz") && !ndyn_npz_read(file, &ds)) {
            *offsets = ndyn_dataset_take(ds, "offsets");
            ndyn_dataset_free(ds);
        }
        ndyn_error_clear();
        free(file);
    }
    return NDYN_OK;
}

/* Whether path names the file of spec (FILE or FILE:ARRAY). */
static int same_file(const char *path, const char *spec)
{
    char a[4096], b[4096];
    if (!realpath(path, a)) return 0;
    char *f = strdup(spec);
    if (!f) return 0;
    int same = 0;
    for (;;) {
        if (realpath(f, b) && !strcmp(a, b)) {
            same = 1;
            break;
        }
        char *c = strrchr(f, ':');
        if (!c) break;
        *c = '\0';
    }
    free(f);
    return same;
}

static void json_array(FILE *f, const double *v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%.10g", i ? ", " : "", v[i]);
    fputc(']', f);
}

int cmd_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"x", required_argument, 0, 'x'},        {"target", required_argument, 0, 'y'},
        {"target-cols", required_argument, 0, 'c'}, {"features", required_argument, 0, 'F'},
        {"decoder", required_argument, 0, 'd'},  {"lambda", required_argument, 0, 'l'},
        {"k", required_argument, 0, 'k'},        {"metric", required_argument, 0, 'm'},
        {"classify", no_argument, 0, 'C'},       {"regress", no_argument, 0, 'R'},
        {"split", required_argument, 0, 's'},    {"folds", required_argument, 0, 'f'},
        {"seed", required_argument, 0, 'S'},     {"out", required_argument, 0, 'o'},
        {"integrate", required_argument, 0, 'I'},
        {"help", no_argument, 0, 'h'},           CLI_COMMON_LONGOPTS,
        {0, 0, 0, 0}};
    const char *xspec = NULL, *yspec = NULL, *out = NULL, *integ = NULL;
    long cols[64];
    int ncols = 0, classify = -1, features = 0;
    long k = 36, folds = 0;
    double lambda = NAN, frac = 0.8;
    int split = 0; /* 0 time, 1 blocks, 2 trials, 3 folds (auto) */
    uint64_t seed = 0;
    ndyn_decoder_params p;
    ndyn_decoder_params_default(&p, NDYN_DECODER_LINEAR);
    int c, rc = CLI_OK;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'x': xspec = optarg; break;
        case 'y': yspec = optarg; break;
        case 'c':
            if (cli_parse_int_list(CMD, "target-cols", optarg, 0, 1L << 30, cols, 64, &ncols)) return CLI_USAGE;
            break;
        case 'F':
            if (!strcmp(optarg, "rows")) features = 0;
            else if (!strcmp(optarg, "trial-mean")) features = 1;
            else if (!strcmp(optarg, "trial-concat")) features = 2;
            else return cli_usage(CMD, "--features must be rows, trial-mean or trial-concat, got '%s'", optarg);
            break;
        case 'd':
            if (!strcmp(optarg, "linear")) p.kind = NDYN_DECODER_LINEAR;
            else if (!strcmp(optarg, "ridge")) p.kind = NDYN_DECODER_RIDGE;
            else if (!strcmp(optarg, "knn")) p.kind = NDYN_DECODER_KNN;
            else return cli_usage(CMD, "--decoder must be linear, ridge or knn, got '%s'", optarg);
            break;
        case 'l':
            if (cli_parse_double(CMD, "lambda", optarg, 0, 1e300, &lambda)) return CLI_USAGE;
            break;
        case 'k':
            if (cli_parse_int(CMD, "k", optarg, 1, 1L << 30, &k)) return CLI_USAGE;
            break;
        case 'm':
            if (!strcmp(optarg, "cosine")) p.dist = NDYN_DIST_COSINE;
            else if (!strcmp(optarg, "euclidean")) p.dist = NDYN_DIST_EUCLIDEAN;
            else return cli_usage(CMD, "--metric must be cosine or euclidean, got '%s'", optarg);
            break;
        case 'C': classify = 1; break;
        case 'R': classify = 0; break;
        case 's':
            if (!strncmp(optarg, "time:", 5)) {
                split = 0;
                if (cli_parse_double(CMD, "split", optarg + 5, 1e-9, 1 - 1e-9, &frac)) return CLI_USAGE;
            } else if (!strncmp(optarg, "blocks:", 7) || !strncmp(optarg, "trials:", 7)) {
                split = optarg[0] == 'b' ? 1 : 2;
                if (cli_parse_int(CMD, "split", optarg + 7, 2, 1L << 30, &folds)) return CLI_USAGE;
            } else return cli_usage(CMD, "--split must be time:FRAC, blocks:K or trials:K, got '%s'", optarg);
            break;
        case 'f':
            split = 3;
            if (cli_parse_int(CMD, "folds", optarg, 2, 1L << 30, &folds)) return CLI_USAGE;
            break;
        case 'S':
            if (cli_parse_u64(CMD, "seed", optarg, &seed)) return CLI_USAGE;
            break;
        case 'o': out = optarg; break;
        case 'I': integ = optarg; break;
        case 'h': help(); return CLI_OK;
        default: return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!xspec || !yspec) return cli_usage(CMD, "--x and --target are required");
    if (!out) return cli_usage(CMD, "--out METRICS.json is required");
    p.k = (size_t)k;
    if (p.kind == NDYN_DECODER_LINEAR) p.lambda = isnan(lambda) ? 0.0 : lambda;
    else if (p.kind == NDYN_DECODER_RIDGE) p.lambda = isnan(lambda) ? -1.0 : lambda;

    ndyn_array *xa = NULL, *ya = NULL, *offa = NULL, *pa = NULL;
    ndyn_trials *vt = NULL, *pt = NULL;
    double *posv = NULL, *pr2o = NULL, *fin = NULL, *finh = NULL, pr2 = 0, pr2f = NAN;
    double *x = NULL, *y = NULL, *pred = NULL, *lam = NULL, *tp = NULL, *ty = NULL;
    int *fold = NULL, *tfold = NULL, *strata = NULL, *ti = NULL, *pi = NULL;
    size_t *off = NULL, *cm = NULL;
    char *json = NULL, *npz = NULL;
    size_t jlen = 0;
    int ok = 0;
    {
        size_t L = strlen(out);
        npz = malloc(L + 5);
        if (!npz) goto done;
        strcpy(npz, out);
        if (L > 5 && !strcmp(out + L - 5, ".json")) strcpy(npz + L - 5, ".npz");
        else strcat(npz, ".npz");
        if (same_file(npz, xspec) || same_file(npz, yspec) || same_file(out, xspec) || same_file(out, yspec)) {
            ndyn_error(NDYN_EINVAL, "writing %s and %s would overwrite an input; choose another --out", out, npz);
            goto done;
        }
    }
    if (load_spec(xspec, "x", &xa, &offa)) goto done;
    if (load_spec(yspec, "y", &ya, NULL)) goto done;
    if (ndyn_array_check_finite(xa, "--x")) goto done;
    /* Rows and trials of x. */
    size_t n, d, ntr = 0;
    if (xa->ndim == 3) {
        n = xa->shape[0] * xa->shape[1];
        d = xa->shape[2];
        ntr = xa->shape[0];
        off = ndyn_malloc_array(ntr + 1, sizeof *off);
        if (!off) goto done;
        for (size_t i = 0; i <= ntr; i++) off[i] = i * xa->shape[1];
    } else if (xa->ndim == 2 || xa->ndim == 1) {
        n = xa->shape[0];
        d = xa->ndim == 2 ? xa->shape[1] : 1;
        if (offa && offa->size >= 2 && (size_t)ndyn_array_get(offa, offa->size - 1) == n) {
            ntr = offa->size - 1;
            off = ndyn_malloc_array(ntr + 1, sizeof *off);
            if (!off) goto done;
            for (size_t i = 0; i <= ntr; i++) off[i] = (size_t)ndyn_array_get(offa, i);
            if (ntr == 1) ntr = 0; /* one recording: no trial structure */
        }
    } else {
        ndyn_error(NDYN_ESHAPE, "--x must be 1-D, 2-D or 3-D");
        goto done;
    }
    if (n < 2 || d == 0) {
        ndyn_error(NDYN_EINVAL, "--x has %zu samples of %zu features; need at least 2 samples", n, d);
        goto done;
    }
    x = ndyn_malloc_array(n * d, sizeof *x);
    if (!x) goto done;
    for (size_t i = 0; i < n * d; i++) x[i] = ndyn_array_get(xa, i);
    /* Target rows: n (per row), ntr (per trial), or N*T of a 3-D target. */
    size_t ny = ya->ndim == 0 ? 1 : ya->shape[0], dy_all = 1;
    if (ya->ndim == 3) {
        ny = ya->shape[0] * ya->shape[1];
        dy_all = ya->shape[2];
    } else if (ya->ndim == 2) dy_all = ya->shape[1];
    else if (ya->ndim > 3) {
        ndyn_error(NDYN_ESHAPE, "--target must be 1-D, 2-D or 3-D");
        goto done;
    }
    if (classify < 0) classify = ndyn_dtype_is_int(ya->dtype);
    size_t dy = ncols ? (size_t)ncols : dy_all;
    for (int j = 0; j < ncols; j++)
        if ((size_t)cols[j] >= dy_all) {
            cli_usage(CMD, "--target-cols: column %ld but the target has %zu", cols[j], dy_all);
            rc = CLI_USAGE;
            goto done;
        }
    int per_trial_target = ntr && ny == ntr && ny != n;
    if (!per_trial_target && ny != n) {
        ndyn_error(NDYN_ESHAPE, "--x has %zu samples but --target has %zu rows%s; they must match (mismatched lengths "
                   "between neural data and behaviour)",
                   n, ny, ntr ? " (and there are not as many as trials either)" : "");
        goto done;
    }
    if (classify && dy != 1) {
        cli_usage(CMD, "classification needs one target column (use --target-cols)");
        rc = CLI_USAGE;
        goto done;
    }
    /* Build samples. */
    size_t ns = n, dx = d;
    if (features) {
        if (!ntr) {
            ndyn_error(NDYN_EINVAL, "--features %s needs trials in --x ((N, T, D) or offsets)",
                       features == 1 ? "trial-mean" : "trial-concat");
            goto done;
        }
        size_t T = off[1] - off[0];
        for (size_t i = 0; features == 2 && i < ntr; i++)
            if (off[i + 1] - off[i] != T) {
                ndyn_error(NDYN_ESHAPE, "--features trial-concat needs trials of equal length");
                goto done;
            }
        ns = ntr;
        dx = features == 1 ? d : d * T;
        double *fx = ndyn_calloc(ns * dx, sizeof *fx);
        if (!fx) goto done;
        for (size_t i = 0; i < ntr; i++) {
            size_t L = off[i + 1] - off[i];
            for (size_t r = 0; r < L; r++)
                for (size_t j = 0; j < d; j++) {
                    double v = x[(off[i] + r) * d + j];
                    if (features == 1) fx[i * dx + j] += v / (double)L;
                    else fx[i * dx + r * d + j] = v;
                }
        }
        free(x);
        x = fx;
    }
    if (features && !per_trial_target && ny == n) {
        /* A per-row target with per-trial samples: take each trial's first row. */
        ndyn_error(NDYN_ESHAPE, "--features %s needs one target value per trial (%zu), got %zu rows", features == 1 ?
                   "trial-mean" : "trial-concat", ntr, ny);
        goto done;
    }
    y = ndyn_malloc_array(ns * dy, sizeof *y);
    if (!y) goto done;
    for (size_t s = 0; s < ns; s++) {
        size_t src;
        if (features || !per_trial_target) src = s;
        else {
            size_t i = 0;
            while (off[i + 1] <= s) i++;
            src = i;
        }
        for (size_t j = 0; j < dy; j++) y[s * dy + j] = ndyn_array_get(ya, src * dy_all + (ncols ? (size_t)cols[j] : j));
    }
    if (ndyn_check_finite(y, ns * dy, "--target")) goto done;
    /* Folds. */
    fold = ndyn_malloc_array(ns, sizeof *fold);
    if (!fold) goto done;
    int nf = 1;
    if (split == 3) split = ntr ? 2 : 1;
    if (split == 0) {
        if (ndyn_prep_split_time(ns, frac, fold)) goto done;
    } else if (split == 1) {
        nf = (int)folds;
        if (ndyn_prep_split_blocks(ns, nf, fold)) goto done;
    } else {
        nf = (int)folds;
        if (!ntr) {
            ndyn_error(NDYN_EINVAL, "--split trials:K needs trials in --x ((N, T, D) or offsets)");
            goto done;
        }
        tfold = ndyn_malloc_array(ntr, sizeof *tfold);
        if (!tfold) goto done;
        if (classify) {
            strata = ndyn_malloc_array(ntr, sizeof *strata);
            if (!strata) goto done;
            for (size_t i = 0; i < ntr; i++) strata[i] = (int)y[(features ? i : off[i]) * dy];
        }
        if (ndyn_prep_split_trials(ntr, nf, seed, strata, tfold)) goto done;
        if (features) memcpy(fold, tfold, ntr * sizeof *fold);
        else
            for (size_t i = 0; i < ntr; i++)
                for (size_t r = off[i]; r < off[i + 1]; r++) fold[r] = tfold[i];
    }
    p.classify = classify;
    pred = ndyn_malloc_array(ns * dy, sizeof *pred);
    lam = ndyn_malloc_array((size_t)nf, sizeof *lam);
    if (!pred || !lam) goto done;
    if (ndyn_decode_cv(x, ns, dx, y, dy, fold, nf, &p, pred, lam)) goto done;
    /* Metrics on the tested samples. */
    size_t nt = 0;
    for (size_t s = 0; s < ns; s++) nt += !isnan(pred[s * dy]);
    if (nt < 2) {
        ndyn_error(NDYN_EINVAL, "only %zu samples were tested; use a larger test split", nt);
        goto done;
    }
    tp = ndyn_malloc_array(nt * dy, sizeof *tp);
    ty = ndyn_malloc_array(nt * dy, sizeof *ty);
    if (!tp || !ty) goto done;
    for (size_t s = 0, q = 0; s < ns; s++)
        if (!isnan(pred[s * dy])) {
            memcpy(tp + q * dy, pred + s * dy, dy * sizeof *tp);
            memcpy(ty + q * dy, y + s * dy, dy * sizeof *ty);
            q++;
        }
    if (integ) {
        if (classify || features || !ntr) {
            ndyn_error(NDYN_EINVAL, "--integrate needs continuous per-step targets and trials in --x");
            goto done;
        }
        if (nt != ns) {
            ndyn_error(NDYN_EINVAL, "--integrate needs every step tested (%zu of %zu were); use --folds K", nt, ns);
            goto done;
        }
        if (load_spec(integ, "pos", &pa, NULL)) goto done;
        size_t pr = pa->ndim == 3 ? pa->shape[0] * pa->shape[1] : pa->shape[0];
        if (pr != ns || pa->size != ns * dy) {
            ndyn_error(NDYN_ESHAPE, "--integrate positions have %zu values; need (%zu, %zu) like the target", pa->size,
                       ns, dy);
            goto done;
        }
        posv = ndyn_malloc_array(ns * dy, sizeof *posv);
        pr2o = ndyn_malloc_array(dy, sizeof *pr2o);
        fin = ndyn_malloc_array(ntr * dy, sizeof *fin);
        finh = ndyn_malloc_array(ntr * dy, sizeof *finh);
        size_t *len = ndyn_malloc_array(ntr, sizeof *len);
        if (!posv || !pr2o || !fin || !finh || !len) {
            free(len);
            goto done;
        }
        for (size_t i = 0; i < ns * dy; i++) posv[i] = ndyn_array_get(pa, i);
        for (size_t i = 0; i < ntr; i++) len[i] = off[i + 1] - off[i];
        int r = ndyn_trials_new(ntr, len, dy, 0, &vt);
        free(len);
        if (r) goto done;
        memcpy(vt->data, pred, ns * dy * sizeof *pred);
        double *st = ndyn_malloc_array(ntr * dy, sizeof *st);
        if (!st) goto done;
        for (size_t i = 0; i < ntr; i++) memcpy(st + i * dy, posv + off[i] * dy, dy * sizeof *st);
        r = ndyn_prep_integrate(vt, st, 1.0, &pt);
        free(st);
        if (r) goto done;
        if (ndyn_metric_r2(posv, pt->data, ns, dy, pr2o, &pr2)) goto done;
        for (size_t i = 0; i < ntr; i++) {
            memcpy(fin + i * dy, posv + (off[i + 1] - 1) * dy, dy * sizeof *fin);
            memcpy(finh + i * dy, pt->data + (off[i + 1] - 1) * dy, dy * sizeof *fin);
        }
        if (ntr >= 2 && ndyn_metric_r2(fin, finh, ntr, dy, NULL, &pr2f)) goto done;
    }
    FILE *f = open_memstream(&json, &jlen);
    if (!f) {
        ndyn_error(NDYN_ENOMEM, "out of memory");
        goto done;
    }
    const char *dname = p.kind == NDYN_DECODER_KNN ? "knn" : p.kind == NDYN_DECODER_RIDGE ? "ridge" : "linear";
    fprintf(f, "{\n  \"decoder\": \"%s\",\n  \"task\": \"%s\",\n  \"n_samples\": %zu,\n  \"n_tested\": %zu,\n"
            "  \"n_folds\": %d,\n", dname, classify ? "classification" : "regression", ns, nt, nf);
    if (p.kind == NDYN_DECODER_KNN)
        fprintf(f, "  \"k\": %zu,\n  \"metric\": \"%s\",\n", p.k, p.dist == NDYN_DIST_COSINE ? "cosine" : "euclidean");
    else {
        fprintf(f, "  \"lambda\": ");
        json_array(f, lam, (size_t)nf);
        fprintf(f, ",\n");
    }
    int mrc = 0;
    if (!classify) {
        double *r2 = ndyn_malloc_array(dy, sizeof *r2), *mae = ndyn_malloc_array(dy, sizeof *mae),
               *med = ndyn_malloc_array(dy, sizeof *med), r2m = 0;
        if (!r2 || !mae || !med) mrc = NDYN_ENOMEM;
        if (!mrc) mrc = ndyn_metric_r2(ty, tp, nt, dy, r2, &r2m);
        if (!mrc) mrc = ndyn_metric_abs_error(ty, tp, nt, dy, mae, med);
        if (!mrc) {
            if (integ) {
                fprintf(f, "  \"position_r2\": %.10g,\n  \"position_r2_per_output\": ", pr2);
                json_array(f, pr2o, dy);
                if (isnan(pr2f)) fprintf(f, ",\n  \"final_position_r2\": null,\n");
                else fprintf(f, ",\n  \"final_position_r2\": %.10g,\n", pr2f);
                printf("integrated position R² %.4f (final step %.4f)\n", pr2, pr2f);
            }
            fprintf(f, "  \"r2\": %.10g,\n  \"r2_per_output\": ", r2m);
            json_array(f, r2, dy);
            fprintf(f, ",\n  \"mean_abs_error\": ");
            json_array(f, mae, dy);
            fprintf(f, ",\n  \"median_abs_error\": ");
            json_array(f, med, dy);
            fprintf(f, "\n}\n");
            printf("R² %.4f (per output:", r2m);
            for (size_t j = 0; j < dy; j++) printf(" %.4f", r2[j]);
            printf("), mean |error|");
            for (size_t j = 0; j < dy; j++) printf(" %.4g", mae[j]);
            printf(", median |error|");
            for (size_t j = 0; j < dy; j++) printf(" %.4g", med[j]);
            printf(" over %zu tested samples\n", nt);
        }
        free(r2);
        free(mae);
        free(med);
    } else {
        int ncl = 0;
        ti = ndyn_malloc_array(nt, sizeof *ti);
        pi = ndyn_malloc_array(nt, sizeof *pi);
        if (!ti || !pi) mrc = NDYN_ENOMEM;
        for (size_t i = 0; !mrc && i < ns; i++)
            if ((int)y[i] + 1 > ncl) ncl = (int)y[i] + 1;
        for (size_t q = 0; !mrc && q < nt; q++) {
            ti[q] = (int)ty[q];
            pi[q] = (int)tp[q];
            if (pi[q] + 1 > ncl) ncl = pi[q] + 1;
        }
        double acc = 0, ba = 0;
        if (!mrc) mrc = ndyn_metric_accuracy(ti, pi, nt, &acc);
        if (!mrc) mrc = ndyn_metric_balanced_accuracy(ti, pi, nt, ncl, &ba);
        if (!mrc) {
            cm = ndyn_malloc_array((size_t)ncl * (size_t)ncl, sizeof *cm);
            if (!cm) mrc = NDYN_ENOMEM;
        }
        if (!mrc) mrc = ndyn_metric_confusion(ti, pi, nt, ncl, ncl, cm);
        if (!mrc) {
            fprintf(f, "  \"n_classes\": %d,\n  \"accuracy\": %.10g,\n  \"balanced_accuracy\": %.10g,\n"
                    "  \"confusion\": [", ncl, acc, ba);
            for (int a = 0; a < ncl; a++) {
                fprintf(f, "%s[", a ? ", " : "");
                for (int b = 0; b < ncl; b++) fprintf(f, "%s%zu", b ? ", " : "", cm[(size_t)a * ncl + b]);
                fprintf(f, "]");
            }
            fprintf(f, "]\n}\n");
            printf("accuracy %.4f, balanced accuracy %.4f (%d classes, chance %.4f) over %zu tested samples\n", acc, ba,
                   ncl, 1.0 / ncl, nt);
        }
    }
    fclose(f);
    if (mrc) goto done;
    if (ndyn_write_file_atomic(out, json, jlen)) goto done;
    {
        size_t s2[2] = {ns, dy};
        ndyn_array *ap = ndyn_array_view(NDYN_F64, 2, s2, pred);
        ndyn_array *at = ndyn_array_view(NDYN_F64, 2, s2, y);
        ndyn_array *af = ndyn_array_view(NDYN_I32, 1, s2, fold);
        ndyn_array *aq = pt ? ndyn_array_view(NDYN_F64, 2, s2, pt->data) : NULL;
        const char *names[4] = {"pred", "truth", "fold", "pos_pred"};
        const ndyn_array *arrs[4] = {ap, at, af, aq};
        int r = (!ap || !at || !af || (pt && !aq)) ? NDYN_ENOMEM : ndyn_npz_write(npz, pt ? 4 : 3, names, arrs, 1);
        ndyn_array_free(aq);
        ndyn_array_free(ap);
        ndyn_array_free(at);
        ndyn_array_free(af);
        if (r) goto done;
    }
    if (!ndyn_get_quiet()) fprintf(stderr, "ndyn decode: wrote %s and %s\n", out, npz);
    ok = 1;
done:
    if (!ok && rc != CLI_USAGE) rc = cli_fail(CMD);
    ndyn_array_free(xa);
    ndyn_array_free(ya);
    ndyn_array_free(offa);
    ndyn_array_free(pa);
    ndyn_trials_free(vt);
    ndyn_trials_free(pt);
    free(posv);
    free(pr2o);
    free(fin);
    free(finh);
    free(x);
    free(y);
    free(pred);
    free(lam);
    free(tp);
    free(ty);
    free(fold);
    free(tfold);
    free(strata);
    free(ti);
    free(pi);
    free(off);
    free(cm);
    free(json);
    free(npz);
    return rc;
}
