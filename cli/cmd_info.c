/* ndyn info FILE...: list the arrays of .npy/.npz/.mat/HDF5/CSV files with
 * dtype and shape (and, with --stats, min/max/mean and NaN/Inf counts). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ndyn/io.h"

#define CMD "info"

static void help(void)
{
    printf("Usage: ndyn info [options] FILE[:NAME]...\n"
           "\n"
           "List the arrays in each FILE (.npy, .npz, .mat v5/v7/v7.3, .h5/.hdf5/.nwb, .csv/.tsv/.txt,\n"
           "recognised by their first bytes, then by extension): name, dtype, shape and where each\n"
           "came from. MATLAB structs and cells appear as VAR[i].FIELD and VAR{i}; HDF5 datasets by\n"
           "path as stored (row-major); text entries (MATLAB char arrays, NumPy string arrays) as\n"
           "'text' with their number of lines. FILE:NAME lists just that array.\n"
           "\n"
           "Options:\n"
           "  -s, --stats          also print min, max, mean and the number of NaN/Inf values\n"
           "      --source         also print each array's source (file:name, HDF5 order)\n"
           "  -h, --help           show this help\n"
           CLI_COMMON_HELP
           "\n"
           "Example: ndyn info out/switching.npz\n");
}

static void stats(const ndyn_array *a)
{
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    size_t bad = 0, good = 0;
    for (size_t i = 0; i < a->size; i++) {
        double v = ndyn_array_get(a, i);
        if (!isfinite(v)) {
            bad++;
            continue;
        }
        good++;
        sum += v;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    if (good)
        printf("  min %.6g  max %.6g  mean %.6g", mn, mx, sum / (double)good);
    if (bad) printf("  %zu NaN/Inf", bad);
}

static int show(const char *path, int with_stats, int with_source)
{
    ndyn_dataset *ds = NULL;
    struct stat st;
    if (stat(path, &st) != 0 && strchr(path, ':')) {
        /* FILE:NAME lists one array. */
        ndyn_array *a = NULL;
        if (ndyn_load_array(path, &a)) return cli_fail(CMD);
        const char *name = strrchr(path, ':') + 1;
        if (!(ds = ndyn_dataset_new()) || ndyn_dataset_add(ds, name, a, path)) {
            ndyn_dataset_free(ds);
            return cli_fail(CMD);
        }
    } else if (ndyn_dataset_load(path, &ds)) {
        return cli_fail(CMD);
    }
    size_t w = 4;
    for (size_t i = 0; i < ds->n; i++)
        if (strlen(ds->items[i].name) > w) w = strlen(ds->items[i].name);
    if (w > 40) w = 40;
    printf("%s: %zu %s\n", path, ds->n, ds->n == 1 ? "entry" : "entries");
    for (size_t i = 0; i < ds->n; i++) {
        const ndyn_named_array *it = &ds->items[i];
        printf("  %-*s  ", (int)w, it->name);
        if (it->array) {
            char sh[160];
            printf("%-8s %s", ndyn_dtype_name(it->array->dtype),
                   ndyn_shape_str(it->array, sh, sizeof sh));
            if (with_stats && it->array->size) stats(it->array);
        } else {
            size_t lines = 1;
            for (const char *p = it->text; *p; p++) lines += *p == '\n';
            printf("%-8s %zu line%s", "text", lines, lines == 1 ? "" : "s");
            if (lines == 1 && strlen(it->text) <= 40) printf(" \"%s\"", it->text);
        }
        if (with_source && it->source) printf("  [%s]", it->source);
        printf("\n");
    }
    ndyn_dataset_free(ds);
    return CLI_OK;
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"stats", no_argument, 0, 's'},
                                         {"source", no_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_COMMON_LONGOPTS,
                                         {0, 0, 0, 0}};
    int with_stats = 0, with_source = 0, c, rc = CLI_OK;
    while ((c = getopt_long(argc, argv, ":sqh", opts, NULL)) != -1) {
        if (cli_common_option(CMD, c, optarg, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 's': with_stats = 1; break;
        case 'S': with_source = 1; break;
        case 'h': help(); return CLI_OK;
        case ':': return cli_usage(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage(CMD, "give at least one FILE to list");
    for (int i = optind; i < argc; i++) {
        int r = show(argv[i], with_stats, with_source);
        if (r) rc = r;
    }
    return rc;
}
