/* ndyn convert IN OUT: copy arrays between formats (.mat/HDF5/CSV/.npy/.npz
 * in, .npz/.npy/.csv out), the whole file or selected arrays. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ndyn/io.h"

#define CMD "convert"
#define MAX_SELECT 256

static void help(void)
{
    printf("Usage: ndyn convert [options] IN OUT\n"
           "\n"
           "Read IN (.npy, .npz, .mat, .h5/.hdf5/.nwb, .csv) and write its arrays to OUT, chosen by\n"
           "OUT's extension: .npz (every array, text entries as NumPy string arrays), .npy or .csv\n"
           "(exactly one numeric array). IN may name one array as IN:NAME (an .npz member, a MATLAB\n"
           "variable such as D[3].data, an HDF5 dataset path such as gcamp/trace_array).\n"
           "MATLAB arrays keep their MATLAB shape in C order; HDF5 datasets keep the stored\n"
           "(row-major) shape unless --transpose. Missing directories of OUT are created; OUT is\n"
           "written to a temporary file and renamed.\n"
           "\n"
           "Options:\n"
           "  -a, --array NAME     keep only this array (repeat for several; default: all)\n"
           "      --rename NAME    name of the single array in an .npz OUT (default: its own name)\n"
           "  -t, --dtype T        cast numeric arrays to T: float64, float32, int32, int64, ...\n"
           "                       (default: keep each array's dtype)\n"
           "      --transpose      reverse the axes of every array (e.g. column-major writers)\n"
           "  -z, --compress       deflate the members of an .npz OUT (default: stored)\n"
           "  -h, --help           show this help\n"
           CLI_COMMON_HELP
           "\n"
           "Examples:\n"
           "  ndyn convert 'data.mat:D[0].data' trial0.npy\n"
           "  ndyn convert celegans.h5 celegans.npz --array gcamp/trace_array --array behavior/reversal_vec\n");
}

static int parse_dtype(const char *s, ndyn_dtype *t)
{
    for (int i = 0; i < NDYN_DTYPE_COUNT; i++)
        if (!strcmp(s, ndyn_dtype_name((ndyn_dtype)i))) {
            *t = (ndyn_dtype)i;
            return 0;
        }
    return -1;
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reverse the axes of a (new array; NULL with a message on failure). */
static ndyn_array *reverse_axes(const ndyn_array *a)
{
    size_t shape[NDYN_MAX_NDIM], es = ndyn_dtype_size(a->dtype);
    for (int i = 0; i < a->ndim; i++) shape[i] = a->shape[a->ndim - 1 - i];
    ndyn_array *b = ndyn_array_alloc(a->dtype, a->ndim, shape);
    if (!b) return NULL;
    size_t idx[NDYN_MAX_NDIM] = {0};
    /* Walk a in C order; the element (i0..ik) goes to (ik..i0) of b. */
    for (size_t f = 0; f < a->size; f++) {
        size_t o = 0;
        for (int i = 0; i < a->ndim; i++) o = o * shape[i] + idx[a->ndim - 1 - i];
        memcpy((char *)b->data + o * es, (const char *)a->data + f * es, es);
        for (int i = a->ndim - 1; i >= 0; i--) {
            if (++idx[i] < a->shape[i]) break;
            idx[i] = 0;
        }
    }
    return b;
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {{"array", required_argument, 0, 'a'},
                                         {"rename", required_argument, 0, 'r'},
                                         {"dtype", required_argument, 0, 't'},
                                         {"transpose", no_argument, 0, 'T'},
                                         {"compress", no_argument, 0, 'z'},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_COMMON_LONGOPTS,
                                         {0, 0, 0, 0}};
    const char *select[MAX_SELECT], *rename = NULL;
    int nsel = 0, compress = 0, transpose = 0, cast = 0, c, rc = CLI_OK;
    ndyn_dtype to = NDYN_F64;
    while ((c = getopt_long(argc, argv, ":a:t:zqh", opts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'a':
            if (nsel == MAX_SELECT) return cli_usage(CMD, "at most %d --array options", MAX_SELECT);
            select[nsel++] = optarg;
            break;
        case 'r': rename = optarg; break;
        case 't':
            if (parse_dtype(optarg, &to))
                return cli_usage(CMD, "--dtype must be one of float64, float32, int8, int16, "
                                 "int32, int64, uint8, uint16, uint32, uint64, bool; got '%s'",
                                 optarg);
            cast = 1;
            break;
        case 'T': transpose = 1; break;
        case 'z': compress = 1; break;
        case 'h': help(); return CLI_OK;
        case ':': return cli_usage(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage(CMD, "give exactly two arguments, IN and OUT (got %d)", argc - optind);
    const char *in = argv[optind], *out = argv[optind + 1];
    ndyn_dataset *ds = NULL;
    if (is_file(in)) {
        if (ndyn_dataset_load(in, &ds)) return cli_fail(CMD);
    } else {
        /* IN:NAME names one array. */
        if (nsel) return cli_usage(CMD, "give either IN:NAME or --array, not both");
        ndyn_array *a = NULL;
        if (ndyn_load_array(in, &a)) return cli_fail(CMD);
        const char *name = strrchr(in, ':');
        name = name ? name + 1 : in;
        if (!(ds = ndyn_dataset_new()) || ndyn_dataset_add(ds, name, a, in)) {
            ndyn_dataset_free(ds);
            return cli_fail(CMD);
        }
    }
    /* Keep the selected arrays, in the order given. */
    if (nsel) {
        ndyn_dataset *keep = ndyn_dataset_new();
        if (!keep) rc = cli_fail(CMD);
        for (int i = 0; i < nsel && !rc; i++) {
            const ndyn_named_array *it = ndyn_dataset_find(ds, select[i]);
            if (!it) {
                const ndyn_array *dummy;
                ndyn_dataset_get(ds, select[i], &dummy); /* leaves the message listing names */
                fprintf(stderr, "ndyn %s: error: %s; change --array\n", CMD, ndyn_errmsg());
                rc = CLI_FAIL;
                break;
            }
            int r = it->array ? ndyn_dataset_add(keep, it->name, ndyn_array_copy(it->array), it->source)
                              : ndyn_dataset_add_text(keep, it->name, it->text, it->source);
            if (r) rc = cli_fail(CMD);
        }
        ndyn_dataset_free(ds);
        ds = keep;
        if (rc) {
            ndyn_dataset_free(ds);
            return rc;
        }
    }
    if (rename) {
        if (ds->n != 1) {
            size_t n = ds->n;
            ndyn_dataset_free(ds);
            return cli_usage(CMD, "--rename needs exactly one array but there are %zu; pick one "
                             "with --array or IN:NAME", n);
        }
        char *nm = strdup(rename);
        if (!nm || !*rename) {
            free(nm);
            ndyn_dataset_free(ds);
            return cli_usage(CMD, "--rename needs a non-empty name");
        }
        free(ds->items[0].name);
        ds->items[0].name = nm;
    }
    for (size_t i = 0; i < ds->n && !rc; i++) {
        ndyn_named_array *it = &ds->items[i];
        if (!it->array) continue;
        if (transpose && it->array->ndim > 1) {
            ndyn_array *b = reverse_axes(it->array);
            if (!b) {
                rc = cli_fail(CMD);
                break;
            }
            ndyn_array_free(it->array);
            it->array = b;
        }
        if (cast && it->array->dtype != to) {
            ndyn_array *b = ndyn_array_cast(it->array, to);
            if (!b) {
                ndyn_error_context(NDYN_EINVAL, "array '%s' to %s: ", it->name, ndyn_dtype_name(to));
                rc = cli_fail(CMD);
                break;
            }
            ndyn_array_free(it->array);
            it->array = b;
        }
    }
    if (!rc && (ndyn_make_parent_dirs(out) || ndyn_dataset_save(out, ds, compress)))
        rc = cli_fail(CMD);
    if (!rc) {
        size_t nnum = 0;
        for (size_t i = 0; i < ds->n; i++) nnum += ds->items[i].array != NULL;
        printf("wrote %s: %zu array%s", out, nnum, nnum == 1 ? "" : "s");
        if (nnum < ds->n) printf(" and %zu text entr%s", ds->n - nnum, ds->n - nnum == 1 ? "y" : "ies");
        printf(" from %s\n", in);
    }
    ndyn_dataset_free(ds);
    return rc;
}
