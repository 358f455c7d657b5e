/* ndyn prep: turn spike trains, counts or traces into the inputs of the
 * methods (binning, smoothing, transforms, PCA, windows, flows). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ndyn/io.h"
#include "ndyn/prep.h"

static const char *CMD = "prep";

static void help(void)
{
    printf(
        "Usage: ndyn prep --data IN [options] --out OUT.npz\n"
        "\n"
        "Turn recordings into the inputs of the methods. Steps run in this order:\n"
        "load -> window -> bin -> binarize -> smooth (each --smooth in turn) -> rate ->\n"
        "subsample"
        "-> sqrt -> z-score -> PCA -> flow.\n"
        "\n"
        "Input\n"
        "  --data IN            .npy, .npz, .mat, .h5/.hdf5/.nwb or .csv file\n"
        "  --array NAME         array to read (default: the only array; in a .mat\n"
        "                       struct array of trials, e.g. DataHigh's D(i).data, give\n"
        "                       'D.data'; a file with struct field D[i].data uses it by\n"
        "                       default). HDF5 paths as 'gcamp/trace_array'\n"
        "  --layout L           time|channels: whether the first axis of a 2-D trial\n"
        "                       is time (T, D) or channels (D, T) (default: channels\n"
        "                       for .mat struct trials, as DataHigh stores them, else\n"
        "                       time). A 3-D array is (N, T, D) trials\n"
        "  --condition FIELD    struct field naming each trial's condition (default\n"
        "                       'condition' when present): written as trial_condition\n"
        "                       (N,) int32, distinct values numbered in sorted order\n"
        "  --trials SPEC        FILE[:ARRAY] of 0-based row indices where the trials of\n"
        "                       one long recording start\n"
        "  --trial-length T     cut one long recording into trials of T steps (the\n"
        "                       remainder is dropped)\n"
        "  --dt SEC             seconds per input time step (default 0 = unknown;\n"
        "                       needed by every option given in seconds)\n"
        "\n"
        "Processing\n"
        "  --window FROM:TO     keep [FROM, TO) seconds of each trial (relative to its\n"
        "                       start, or to --event)\n"
        "  --event SPEC         FILE[:ARRAY] with one event time (s) per trial\n"
        "  --bin SEC            sum time steps into bins of SEC seconds\n"
        "  --binarize           1 where a value is > 0, else 0 (a bin with several spikes\n"
        "                       counts once, as MARBLE's rat example)\n"
        "  --smooth S           gaussian:SEC (sd) | exp:SEC (time constant, causal) |\n"
        "                       boxcar:SEC | savgol:W,O (window W steps, order O);\n"
        "                       may be repeated, applied in order\n"
        "  --edge E             reflect|zero: values beyond a trial's ends for the\n"
        "                       gaussian/boxcar/exp kernels (default reflect)\n"
        "  --rate               divide by dt: counts per step -> Hz\n"
        "  --subsample STEP     keep every STEP-th time step (default 1)\n"
        "  --sqrt               square root of every value\n"
        "  --zscore             per channel: subtract mean, divide by sd (ddof 0)\n"
        "  --pca D              project on the first D principal components\n"
        "  --fit S              rows that fit z-score and PCA: all (default),\n"
        "                       time:FRAC (first FRAC of all rows in time order) or\n"
        "                       trials:FRAC (a random FRAC of the trials, --seed)\n"
        "  --seed N             seed of --fit trials (default 0)\n"
        "  --flow               also write pos = x[:-1], vel = diff(x) per trial\n"
        "\n"
        "Output\n"
        "  --out OUT.npz        x (N, T, D), or (T, D) for one trial, or (rows, D) with\n"
        "                       offsets (N+1,) int64 when trial lengths differ; dt;\n"
        "                       lengths (N,) int64; pca_components (D, D_in), pca_mean,\n"
        "                       pca_explained_variance(_ratio) with --pca; fit_rows\n"
        "                       (rows,) uint8 with --fit; with --flow pos, vel (n, D),\n"
        "                       trial (n,) int32 and condition (n,) int32 per point\n"
        CLI_COMMON_HELP
        "  -h, --help           this help\n"
        "\n"
        "Example (MARBLE macaque preprocessing of 1-ms spike trains):\n"
        "  ndyn prep --data macaque_reach7_delay_spikes.mat --dt 0.001 \\\n"
        "    --smooth gaussian:0.1 --rate --subsample 20 --smooth savgol:9,2 \\\n"
        "    --pca 5 --flow --out macaque.npz\n");
}

enum { MAX_SMOOTH = 8 };

typedef struct {
    ndyn_smooth_kind kind;
    int savgol;
    double width;
    long w, o;
} smooth_step;

static int parse_smooth(const char *s, smooth_step *st)
{
    memset(st, 0, sizeof *st);
    const char *c = strchr(s, ':');
    if (!c) return cli_usage(CMD, "--smooth expects KIND:ARG (e.g. gaussian:0.05), got '%s'", s);
    size_t kl = (size_t)(c - s);
    const char *arg = c + 1;
    if (kl == 6 && !strncmp(s, "savgol", 6)) {
        st->savgol = 1;
        char *end;
        errno = 0;
        st->w = strtol(arg, &end, 10);
        if (errno || end == arg || *end != ',')
            return cli_usage(CMD, "--smooth savgol expects savgol:WINDOW,ORDER (e.g. savgol:9,2), got '%s'", s);
        const char *o = end + 1;
        st->o = strtol(o, &end, 10);
        if (end == o || *end || st->w < 1 || st->w % 2 == 0 || st->o < 0 || st->o >= st->w)
            return cli_usage(CMD, "--smooth savgol: WINDOW must be odd and ORDER < WINDOW, got '%s'", s);
        return 0;
    }
    if (kl == 8 && !strncmp(s, "gaussian", 8)) st->kind = NDYN_SMOOTH_GAUSSIAN;
    else if (kl == 3 && !strncmp(s, "exp", 3)) st->kind = NDYN_SMOOTH_EXP;
    else if (kl == 6 && !strncmp(s, "boxcar", 6)) st->kind = NDYN_SMOOTH_BOXCAR;
    else return cli_usage(CMD, "--smooth: unknown kernel in '%s'; use gaussian, exp, boxcar or savgol", s);
    return cli_parse_double(CMD, "smooth", arg, 1e-12, 1e9, &st->width);
}

/* Double copy of a numeric array. */
static double *to_double(const ndyn_array *a)
{
    double *x = ndyn_malloc_array(a->size ? a->size : 1, sizeof *x);
    if (!x) return NULL;
    for (size_t i = 0; i < a->size; i++) x[i] = ndyn_array_get(a, i);
    return x;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Load trials from a struct array field VAR[i].FIELD of a dataset. */
static int load_struct_trials(const ndyn_dataset *ds, const char *var, const char *field, int channels_first,
                              double dt, const char *cond_field, ndyn_trials **out, int **cond, size_t *ncond_trials)
{
    char name[512];
    size_t n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "%s[%zu].%s", var, n, field);
        if (!ndyn_dataset_find(ds, name)) break;
    }
    if (n == 0) return ndyn_error(NDYN_ENOTFOUND, "no struct field %s[i].%s in the input", var, field);
    size_t *len = ndyn_malloc_array(n, sizeof *len);
    if (!len) return NDYN_ENOMEM;
    size_t d = 0;
    int rc = NDYN_OK;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s[%zu].%s", var, i, field);
        const ndyn_array *a;
        if ((rc = ndyn_dataset_get(ds, name, &a))) goto fail;
        if (a->ndim > 2 || a->size == 0) {
            rc = ndyn_error(NDYN_ESHAPE, "%s: trial %zu is empty or has more than 2 axes", name, i);
            goto fail;
        }
        size_t r = a->ndim == 2 ? a->shape[0] : (a->ndim == 1 ? a->shape[0] : 1);
        size_t c = a->ndim == 2 ? a->shape[1] : 1;
        size_t T = channels_first ? c : r, D = channels_first ? r : c;
        if (a->ndim < 2) {
            T = a->size;
            D = 1;
        }
        if (i == 0) d = D;
        else if (D != d) {
            rc = ndyn_error(NDYN_ESHAPE, "%s has %zu channels but trial 0 has %zu; all trials need the same channels",
                            name, D, d);
            goto fail;
        }
        len[i] = T;
    }
    if ((rc = ndyn_trials_new(n, len, d, dt, out))) goto fail;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s[%zu].%s", var, i, field);
        const ndyn_array *a;
        ndyn_dataset_get(ds, name, &a);
        double *dst = (*out)->data + (*out)->off[i] * d;
        size_t T = len[i];
        for (size_t t = 0; t < T; t++)
            for (size_t j = 0; j < d; j++)
                dst[t * d + j] = ndyn_array_get(a, (channels_first && a->ndim == 2) ? j * T + t : t * d + j);
    }
    free(len);
    len = NULL;
    /* Conditions. */
    *cond = NULL;
    *ncond_trials = 0;
    snprintf(name, sizeof name, "%s[0].%s", var, cond_field ? cond_field : "condition");
    if (!ndyn_dataset_find(ds, name)) {
        if (cond_field) return ndyn_error(NDYN_ENOTFOUND, "no struct field %s", name);
        return NDYN_OK;
    }
    char **txt = ndyn_calloc(n, sizeof *txt);
    int *cl = ndyn_malloc_array(n, sizeof *cl);
    char **uniq = ndyn_calloc(n, sizeof *uniq);
    if (!txt || !cl || !uniq) {
        free(txt);
        free(cl);
        free(uniq);
        return NDYN_ENOMEM;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(name, sizeof name, "%s[%zu].%s", var, i, cond_field ? cond_field : "condition");
        const ndyn_named_array *e = ndyn_dataset_find(ds, name);
        char buf[64];
        if (!e) rc = ndyn_error(NDYN_ENOTFOUND, "trial %zu has no %s", i, name);
        else if (e->text) txt[i] = strdup(e->text);
        else if (e->array && e->array->size == 1) {
            snprintf(buf, sizeof buf, "%020.6f", ndyn_array_get(e->array, 0) + 1e12);
            txt[i] = strdup(buf);
        } else rc = ndyn_error(NDYN_EFORMAT, "%s is neither text nor a single number", name);
        if (!rc && !txt[i]) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    size_t nu = 0;
    if (!rc) {
        memcpy(uniq, txt, n * sizeof *uniq);
        qsort(uniq, n, sizeof *uniq, cmp_str);
        for (size_t i = 0; i < n; i++)
            if (nu == 0 || strcmp(uniq[nu - 1], uniq[i])) uniq[nu++] = uniq[i];
        for (size_t i = 0; i < n; i++) {
            size_t lo = 0, hi = nu;
            while (lo < hi) {
                size_t m = (lo + hi) / 2;
                if (strcmp(uniq[m], txt[i]) < 0) lo = m + 1;
                else hi = m;
            }
            cl[i] = (int)lo;
        }
        for (size_t u = 0; u < nu && !ndyn_get_quiet(); u++)
            fprintf(stderr, "ndyn prep: condition %zu = %s\n", u, uniq[u]);
    }
    for (size_t i = 0; i < n; i++) free(txt[i]);
    free(txt);
    free(uniq);
    if (rc) {
        free(cl);
        return rc;
    }
    *cond = cl;
    *ncond_trials = n;
    return NDYN_OK;
fail:
    free(len);
    return rc;
}

static int add_array(ndyn_dataset *ds, const char *name, ndyn_dtype t, int ndim, const size_t *shape,
                     const void *src, size_t elem_from_double)
{
    ndyn_array *a = ndyn_array_alloc(t, ndim, shape);
    if (!a) return NDYN_ENOMEM;
    if (elem_from_double) {
        const double *s = src;
        for (size_t i = 0; i < a->size; i++) ndyn_array_set(a, i, s[i]);
    } else {
        memcpy(a->data, src, ndyn_array_nbytes(a));
    }
    return ndyn_dataset_add(ds, name, a, NULL);
}

static int add_trials_array(ndyn_dataset *ds, const char *name, const ndyn_trials *t)
{
    size_t T = ndyn_trials_common_length(t);
    size_t shape[3];
    if (t->n == 1) {
        shape[0] = ndyn_trials_rows(t);
        shape[1] = t->d;
        return add_array(ds, name, NDYN_F64, 2, shape, t->data, 0);
    }
    if (T) {
        shape[0] = t->n;
        shape[1] = T;
        shape[2] = t->d;
        return add_array(ds, name, NDYN_F64, 3, shape, t->data, 0);
    }
    shape[0] = ndyn_trials_rows(t);
    shape[1] = t->d;
    return add_array(ds, name, NDYN_F64, 2, shape, t->data, 0);
}

int cmd_prep(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},  {"array", required_argument, 0, 'a'},
        {"layout", required_argument, 0, 'L'}, {"condition", required_argument, 0, 'C'},
        {"trials", required_argument, 0, 't'}, {"trial-length", required_argument, 0, 'T'},
        {"dt", required_argument, 0, 'D'},    {"window", required_argument, 0, 'w'},
        {"event", required_argument, 0, 'e'}, {"bin", required_argument, 0, 'b'},
        {"smooth", required_argument, 0, 's'}, {"edge", required_argument, 0, 'E'},
        {"rate", no_argument, 0, 'r'},        {"binarize", no_argument, 0, 'B'},
        {"subsample", required_argument, 0, 'u'},
        {"sqrt", no_argument, 0, 'Q'},        {"zscore", no_argument, 0, 'z'},
        {"pca", required_argument, 0, 'p'},   {"fit", required_argument, 0, 'f'},
        {"seed", required_argument, 0, 'S'},  {"flow", no_argument, 0, 'F'},
        {"out", required_argument, 0, 'o'},   {"help", no_argument, 0, 'h'},
        CLI_COMMON_LONGOPTS,                  {0, 0, 0, 0}};
    const char *data = NULL, *array = NULL, *out = NULL, *trials_spec = NULL, *event_spec = NULL,
               *cond_field = NULL;
    int do_bin01 = 0;
    int layout = -1, do_rate = 0, do_sqrt = 0, do_z = 0, do_flow = 0, fit_kind = 0, have_window = 0;
    long trial_len = 0, subsample = 1, pca_k = 0;
    double dt = 0, bin = 0, win_from = 0, win_to = 0, fit_frac = 0;
    uint64_t seed = 0;
    ndyn_edge edge = NDYN_EDGE_REFLECT;
    smooth_step smooth[MAX_SMOOTH];
    int nsmooth = 0;
    int c, rc = CLI_OK;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'd': data = optarg; break;
        case 'a': array = optarg; break;
        case 'L':
            if (!strcmp(optarg, "time")) layout = 0;
            else if (!strcmp(optarg, "channels")) layout = 1;
            else return cli_usage(CMD, "--layout must be time or channels, got '%s'", optarg);
            break;
        case 'C': cond_field = optarg; break;
        case 't': trials_spec = optarg; break;
        case 'T':
            if (cli_parse_int(CMD, "trial-length", optarg, 1, 1L << 40, &trial_len)) return CLI_USAGE;
            break;
        case 'D':
            if (cli_parse_double(CMD, "dt", optarg, 0, 1e6, &dt)) return CLI_USAGE;
            break;
        case 'w': {
            char *end;
            win_from = strtod(optarg, &end);
            if (end == optarg || *end != ':') return cli_usage(CMD, "--window expects FROM:TO seconds, got '%s'", optarg);
            const char *b = end + 1;
            win_to = strtod(b, &end);
            if (end == b || *end || !(win_to > win_from))
                return cli_usage(CMD, "--window expects FROM:TO seconds with TO > FROM, got '%s'", optarg);
            have_window = 1;
            break;
        }
        case 'e': event_spec = optarg; break;
        case 'b':
            if (cli_parse_double(CMD, "bin", optarg, 1e-12, 1e9, &bin)) return CLI_USAGE;
            break;
        case 's':
            if (nsmooth >= MAX_SMOOTH) return cli_usage(CMD, "at most %d --smooth steps", MAX_SMOOTH);
            if (parse_smooth(optarg, &smooth[nsmooth])) return CLI_USAGE;
            nsmooth++;
            break;
        case 'E':
            if (!strcmp(optarg, "reflect")) edge = NDYN_EDGE_REFLECT;
            else if (!strcmp(optarg, "zero")) edge = NDYN_EDGE_ZERO;
            else return cli_usage(CMD, "--edge must be reflect or zero, got '%s'", optarg);
            break;
        case 'r': do_rate = 1; break;
        case 'B': do_bin01 = 1; break;
        case 'u':
            if (cli_parse_int(CMD, "subsample", optarg, 1, 1L << 30, &subsample)) return CLI_USAGE;
            break;
        case 'Q': do_sqrt = 1; break;
        case 'z': do_z = 1; break;
        case 'p':
            if (cli_parse_int(CMD, "pca", optarg, 1, 1L << 20, &pca_k)) return CLI_USAGE;
            break;
        case 'f':
            if (!strcmp(optarg, "all")) fit_kind = 0;
            else if (!strncmp(optarg, "time:", 5) || !strncmp(optarg, "trials:", 7)) {
                fit_kind = optarg[1] == 'i' ? 1 : 2;
                if (cli_parse_double(CMD, "fit", strchr(optarg, ':') + 1, 1e-9, 1.0, &fit_frac)) return CLI_USAGE;
            } else return cli_usage(CMD, "--fit must be all, time:FRAC or trials:FRAC, got '%s'", optarg);
            break;
        case 'S':
            if (cli_parse_u64(CMD, "seed", optarg, &seed)) return CLI_USAGE;
            break;
        case 'F': do_flow = 1; break;
        case 'o': out = optarg; break;
        case 'h': help(); return CLI_OK;
        default: return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (!data) return cli_usage(CMD, "--data IN is required");
    if (!out) return cli_usage(CMD, "--out OUT.npz is required");
    if (trials_spec && trial_len) return cli_usage(CMD, "give --trials or --trial-length, not both");
    if (event_spec && !have_window) return cli_usage(CMD, "--event needs --window FROM:TO");

    ndyn_dataset *ds = NULL, *res = NULL;
    ndyn_trials *t = NULL, *t2 = NULL, *pos = NULL, *vel = NULL;
    ndyn_array *arr = NULL, *ev = NULL;
    ndyn_pca *pca = NULL;
    int *cond = NULL, *tf = NULL, *rowint = NULL;
    size_t ncond = 0;
    unsigned char *fit_rows = NULL;
    double *buf = NULL;
    size_t *starts = NULL;
    int ok = 0;

    if (ndyn_dataset_load(data, &ds)) goto done;
    /* Struct-array trials: VAR.FIELD given, or a D[0].data entry by default. */
    char var[256] = "", field[256] = "";
    if (array && strchr(array, '.') && !ndyn_dataset_find(ds, array)) {
        const char *dot = strchr(array, '.');
        snprintf(var, sizeof var, "%.*s", (int)(dot - array), array);
        snprintf(field, sizeof field, "%s", dot + 1);
    } else if (!array && ndyn_dataset_find(ds, "D[0].data")) {
        strcpy(var, "D");
        strcpy(field, "data");
    }
    if (*var) {
        if (trials_spec || trial_len) {
            cli_usage(CMD, "the input already holds trials (%s[i].%s); drop --trials/--trial-length", var, field);
            goto usage;
        }
        if (load_struct_trials(ds, var, field, layout != 0, dt, cond_field, &t, &cond, &ncond)) goto done;
    } else {
        const ndyn_array *a = NULL;
        if (array) {
            if (ndyn_dataset_get(ds, array, &a)) goto done;
        } else {
            size_t nnum = 0;
            for (size_t i = 0; i < ds->n; i++)
                if (ds->items[i].array) {
                    nnum++;
                    a = ds->items[i].array;
                }
            if (nnum != 1) {
                const ndyn_array *x = NULL;
                if (!ndyn_dataset_get(ds, "x", &x)) a = x;
                else {
                    ndyn_error(NDYN_EINVAL, "%s holds %zu arrays; choose one with --array NAME", data, nnum);
                    goto done;
                }
            }
        }
        if (a->ndim < 1 || a->ndim > 3 || a->size == 0) {
            ndyn_error(NDYN_ESHAPE, "the input array must be 1-D, 2-D or 3-D and non-empty");
            goto done;
        }
        buf = to_double(a);
        if (!buf) goto done;
        if (a->ndim == 3) {
            if (trials_spec || trial_len) {
                cli_usage(CMD, "a 3-D input already holds trials; drop --trials/--trial-length");
                goto usage;
            }
            if (ndyn_trials_from_array(buf, a->shape[0], a->shape[1], a->shape[2], dt, &t)) goto done;
        } else {
            size_t T = a->shape[0], D = a->ndim == 2 ? a->shape[1] : 1;
            if (a->ndim == 2 && layout == 1) {
                double *tr = ndyn_malloc_array(a->size, sizeof *tr);
                if (!tr) goto done;
                for (size_t i = 0; i < T; i++)
                    for (size_t j = 0; j < D; j++) tr[j * T + i] = buf[i * D + j];
                free(buf);
                buf = tr;
                size_t tmp = T;
                T = D;
                D = tmp;
            }
            size_t ns = 0;
            if (trials_spec) {
                if (ndyn_load_array(trials_spec, &arr)) goto done;
                ns = arr->size;
                starts = ndyn_malloc_array(ns ? ns : 1, sizeof *starts);
                if (!starts) goto done;
                for (size_t i = 0; i < ns; i++) {
                    double v = ndyn_array_get(arr, i);
                    if (!(v >= 0) || v != floor(v)) {
                        ndyn_error(NDYN_EINVAL, "--trials: start %zu is %g; starts are 0-based row indices", i, v);
                        goto done;
                    }
                    starts[i] = (size_t)v;
                }
            } else if (trial_len) {
                ns = T / (size_t)trial_len;
                if (ns == 0) {
                    ndyn_error(NDYN_EINVAL, "--trial-length %ld is longer than the recording (%zu steps)", trial_len, T);
                    goto done;
                }
                starts = ndyn_malloc_array(ns, sizeof *starts);
                if (!starts) goto done;
                for (size_t i = 0; i < ns; i++) starts[i] = i * (size_t)trial_len;
                T = ns * (size_t)trial_len;
            }
            if (ndyn_trials_from_recording(buf, T, D, starts, ns, dt, &t)) goto done;
        }
    }
    if (ndyn_trials_check(t, data)) goto done;
    if (have_window) {
        double *evt = NULL;
        if (event_spec) {
            if (ndyn_load_array(event_spec, &ev)) goto done;
            if (ev->size != t->n) {
                ndyn_error(NDYN_ESHAPE, "--event has %zu times for %zu trials", ev->size, t->n);
                goto done;
            }
            evt = to_double(ev);
            if (!evt) goto done;
        }
        int r = ndyn_prep_window(t, evt, win_from, win_to, &t2);
        free(evt);
        if (r) goto done;
        ndyn_trials_free(t);
        t = t2;
        t2 = NULL;
    }
    if (bin > 0) {
        if (ndyn_prep_bin_seconds(t, bin, &t2)) goto done;
        ndyn_trials_free(t);
        t = t2;
        t2 = NULL;
    }
    if (do_bin01 && ndyn_prep_binarize(t)) goto done;
    for (int s = 0; s < nsmooth; s++) {
        int r = smooth[s].savgol ? ndyn_prep_savgol(t, (size_t)smooth[s].w, (size_t)smooth[s].o)
                                 : ndyn_prep_smooth(t, smooth[s].kind, smooth[s].width, edge);
        if (r) goto done;
    }
    if (do_rate) {
        if (!(t->dt > 0)) {
            ndyn_error(NDYN_EINVAL, "--rate needs the time step; give --dt");
            goto done;
        }
        if (ndyn_prep_scale(t, 1.0 / t->dt)) goto done;
    }
    if (subsample > 1) {
        if (ndyn_prep_subsample(t, (size_t)subsample, 0, &t2)) goto done;
        ndyn_trials_free(t);
        t = t2;
        t2 = NULL;
    }
    if (do_sqrt && ndyn_prep_sqrt(t)) goto done;
    const size_t rows = ndyn_trials_rows(t);
    if (fit_kind) {
        fit_rows = ndyn_calloc(rows, 1);
        if (!fit_rows) goto done;
        if (fit_kind == 1) {
            size_t m = (size_t)floor(fit_frac * (double)rows);
            if (m < 2) {
                ndyn_error(NDYN_EINVAL, "--fit time:%g keeps %zu rows; need at least 2", fit_frac, m);
                goto done;
            }
            for (size_t r = 0; r < m; r++) fit_rows[r] = 1;
        } else {
            /* A random FRAC of the trials: 1/FRAC folds would be uneven; shuffle instead. */
            size_t m = (size_t)floor(fit_frac * (double)t->n + 0.5);
            if (m < 1) {
                ndyn_error(NDYN_EINVAL, "--fit trials:%g keeps no trial", fit_frac);
                goto done;
            }
            size_t *perm = ndyn_malloc_array(t->n, sizeof *perm);
            if (!perm) goto done;
            ndyn_rng g;
            ndyn_rng_init(&g, seed, 0);
            ndyn_rng_permutation(&g, perm, t->n);
            for (size_t i = 0; i < m; i++)
                for (size_t r = t->off[perm[i]]; r < t->off[perm[i] + 1]; r++) fit_rows[r] = 1;
            free(perm);
        }
    }
    if (do_z && ndyn_prep_zscore(t, fit_rows, NULL, NULL)) goto done;
    const size_t d_in = t->d;
    if (pca_k > 0 && ndyn_prep_pca(t, fit_rows, (size_t)pca_k, &pca)) goto done;
    if (do_flow && ndyn_prep_flow(t, &pos, &vel)) goto done;

    res = ndyn_dataset_new();
    if (!res) goto done;
    if (add_trials_array(res, "x", t)) goto done;
    {
        size_t one = 1, nn = t->n, np1 = t->n + 1;
        double dtv = t->dt;
        if (add_array(res, "dt", NDYN_F64, 0, &one, &dtv, 0)) goto done;
        int64_t *off = ndyn_malloc_array(np1, sizeof *off);
        if (!off) goto done;
        for (size_t i = 0; i <= t->n; i++) off[i] = (int64_t)t->off[i];
        int r = add_array(res, "offsets", NDYN_I64, 1, &np1, off, 0);
        for (size_t i = 0; !r && i < t->n; i++) off[i] = (int64_t)ndyn_trials_len(t, i);
        if (!r) r = add_array(res, "lengths", NDYN_I64, 1, &nn, off, 0);
        free(off);
        if (r) goto done;
        if (cond && add_array(res, "trial_condition", NDYN_I32, 1, &nn, cond, 0)) goto done;
        if (fit_rows) {
            size_t nr = rows;
            if (add_array(res, "fit_rows", NDYN_U8, 1, &nr, fit_rows, 0)) goto done;
        }
    }
    if (pca) {
        size_t s2[2] = {pca->k, d_in}, s1 = pca->k, sd = d_in;
        if (add_array(res, "pca_components", NDYN_F64, 2, s2, pca->components, 0) ||
            add_array(res, "pca_mean", NDYN_F64, 1, &sd, pca->mean, 0) ||
            add_array(res, "pca_explained_variance", NDYN_F64, 1, &s1, pca->explained_variance, 0) ||
            add_array(res, "pca_explained_variance_ratio", NDYN_F64, 1, &s1, pca->explained_variance_ratio, 0))
            goto done;
    }
    if (pos) {
        size_t n = ndyn_trials_rows(pos), s2[2] = {n, pos->d};
        if (add_array(res, "pos", NDYN_F64, 2, s2, pos->data, 0) ||
            add_array(res, "vel", NDYN_F64, 2, s2, vel->data, 0))
            goto done;
        rowint = ndyn_malloc_array(n, sizeof *rowint);
        if (!rowint) goto done;
        for (size_t i = 0; i < pos->n; i++)
            for (size_t r = pos->off[i]; r < pos->off[i + 1]; r++) rowint[r] = (int)i;
        if (add_array(res, "trial", NDYN_I32, 1, &n, rowint, 0)) goto done;
        for (size_t r = 0; r < n; r++) rowint[r] = cond ? cond[rowint[r]] : 0;
        if (add_array(res, "condition", NDYN_I32, 1, &n, rowint, 0)) goto done;
    }
    if (ndyn_dataset_save(out, res, 1)) goto done;
    if (!ndyn_get_quiet()) {
        fprintf(stderr, "ndyn prep: %zu trial(s), %zu time steps, %zu channel(s), dt %g s", t->n, rows, t->d, t->dt);
        if (pca) {
            double ev2 = 0;
            for (size_t k = 0; k < pca->k; k++) ev2 += pca->explained_variance_ratio[k];
            fprintf(stderr, ", PCA %zu -> %zu explains %.1f %%", d_in, pca->k, 100 * ev2);
        }
        fprintf(stderr, " -> %s\n", out);
    }
    ok = 1;
    goto done;
usage:
    rc = CLI_USAGE;
done:
    if (!ok && rc != CLI_USAGE) rc = cli_fail(CMD);
    ndyn_dataset_free(ds);
    ndyn_dataset_free(res);
    ndyn_trials_free(t);
    ndyn_trials_free(t2);
    ndyn_trials_free(pos);
    ndyn_trials_free(vel);
    ndyn_array_free(arr);
    ndyn_array_free(ev);
    ndyn_pca_free(pca);
    free(cond);
    free(tf);
    free(rowint);
    free(fit_rows);
    free(buf);
    free(starts);
    return rc;
}
