/* The dataset: named arrays (and text entries) with where each came from;
 * loading any supported file into one, saving one as .npz/.npy/.csv, and
 * loading a single array named by "FILE[:NAME]". */
#include "io/io_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

ndyn_dataset *ndyn_dataset_new(void)
{
    return ndyn_calloc(1, sizeof(ndyn_dataset));
}

static void item_clear(ndyn_named_array *it)
{
    free(it->name);
    free(it->source);
    free(it->text);
    ndyn_array_free(it->array);
    memset(it, 0, sizeof *it);
}

void ndyn_dataset_free(ndyn_dataset *ds)
{
    if (!ds) return;
    for (size_t i = 0; i < ds->n; i++) item_clear(&ds->items[i]);
    free(ds->items);
    free(ds->path);
    free(ds);
}

static ndyn_named_array *find_mut(const ndyn_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->n; i++)
        if (strcmp(ds->items[i].name, name) == 0) return &ds->items[i];
    return NULL;
}

const ndyn_named_array *ndyn_dataset_find(const ndyn_dataset *ds, const char *name)
{
    if (!ds || !name) return NULL;
    return find_mut(ds, name);
}

/* A slot for `name`: the existing entry (cleared) or a new one. */
static int slot(ndyn_dataset *ds, const char *name, const char *source, ndyn_named_array **out)
{
    if (!ds) return ndyn_error(NDYN_EINVAL, "dataset is NULL");
    if (!name || !*name) return ndyn_error(NDYN_EINVAL, "an array name must not be empty");
    char *nm = strdup(name), *src = source ? strdup(source) : NULL;
    if (!nm || (source && !src)) {
        free(nm);
        free(src);
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    ndyn_named_array *it = find_mut(ds, name);
    if (it) {
        item_clear(it);
    } else {
        if (ds->n == ds->cap) {
            size_t cap = ds->cap ? ds->cap * 2 : 8;
            ndyn_named_array *p = ndyn_malloc_array(cap, sizeof *p);
            if (!p) {
                free(nm);
                free(src);
                return NDYN_ENOMEM;
            }
            if (ds->n) memcpy(p, ds->items, ds->n * sizeof *p);
            free(ds->items);
            ds->items = p;
            ds->cap = cap;
        }
        it = &ds->items[ds->n++];
        memset(it, 0, sizeof *it);
    }
    it->name = nm;
    it->source = src;
    *out = it;
    return NDYN_OK;
}

int ndyn_dataset_add(ndyn_dataset *ds, const char *name, ndyn_array *a, const char *source)
{
    if (!a) return ndyn_error(NDYN_EINVAL, "no array to add as '%s'", name ? name : "");
    ndyn_named_array *it;
    int rc = slot(ds, name, source, &it);
    if (rc) {
        ndyn_array_free(a);
        return rc;
    }
    it->array = a;
    return NDYN_OK;
}

int ndyn_dataset_add_text(ndyn_dataset *ds, const char *name, const char *text, const char *source)
{
    char *t = strdup(text ? text : "");
    if (!t) return ndyn_error(NDYN_ENOMEM, "out of memory");
    ndyn_named_array *it;
    int rc = slot(ds, name, source, &it);
    if (rc) {
        free(t);
        return rc;
    }
    it->text = t;
    return NDYN_OK;
}

/* "a, b, c" (the first dozen names) into buf, for messages. */
static const char *names_list(const ndyn_dataset *ds, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ds->n && k + 1 < n; i++) {
        if (i == 12) {
            snprintf(buf + k, n - k, ", ... (%zu in all)", ds->n);
            break;
        }
        int w = snprintf(buf + k, n - k, "%s%s", i ? ", " : "", ds->items[i].name);
        if (w < 0) break;
        k += (size_t)w;
        if (k >= n) break;
    }
    if (ds->n == 0) snprintf(buf, n, "none");
    return buf;
}

int ndyn_dataset_get(const ndyn_dataset *ds, const char *name, const ndyn_array **out)
{
    *out = NULL;
    if (!ds || !name) return ndyn_error(NDYN_EINVAL, "ndyn_dataset_get: NULL argument");
    const ndyn_named_array *it = ndyn_dataset_find(ds, name);
    char list[512];
    if (!it)
        return ndyn_error(NDYN_ENOTFOUND, "%s%sno array named '%s'; the names are: %s",
                          ds->path ? ds->path : "", ds->path ? ": " : "", name,
                          names_list(ds, list, sizeof list));
    if (!it->array)
        return ndyn_error(NDYN_ENOTFOUND, "'%s' is a text entry, not a numeric array", name);
    *out = it->array;
    return NDYN_OK;
}

ndyn_array *ndyn_dataset_take(ndyn_dataset *ds, const char *name)
{
    if (!ds || !name) return NULL;
    for (size_t i = 0; i < ds->n; i++) {
        if (strcmp(ds->items[i].name, name) != 0) continue;
        ndyn_array *a = ds->items[i].array;
        ds->items[i].array = NULL;
        item_clear(&ds->items[i]);
        memmove(&ds->items[i], &ds->items[i + 1], (ds->n - i - 1) * sizeof ds->items[0]);
        ds->n--;
        return a;
    }
    return NULL;
}

/* ----------------------------------------------------------------- loading */

typedef enum { FMT_UNKNOWN, FMT_NPY, FMT_NPZ, FMT_MAT, FMT_H5, FMT_CSV } file_format;

static file_format sniff(const char *path, int *err)
{
    *err = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return FMT_UNKNOWN;
    }
    unsigned char b[128];
    size_t n = fread(b, 1, sizeof b, f);
    file_format t = FMT_UNKNOWN;
    static const unsigned char h5sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) t = FMT_NPY;
    else if (n >= 4 && (memcmp(b, "PK\x03\x04", 4) == 0 || memcmp(b, "PK\x05\x06", 4) == 0))
        t = FMT_NPZ;
    else if (n >= 6 && memcmp(b, "MATLAB", 6) == 0) t = FMT_MAT;
    else if (n >= 8 && memcmp(b, h5sig, 8) == 0) t = FMT_H5;
    else {
        /* HDF5 with a user block: the signature sits at 512, 1024, 2048, ... */
        for (long off = 512; off <= (1L << 20) && t == FMT_UNKNOWN; off *= 2) {
            unsigned char s[8];
            if (fseek(f, off, SEEK_SET) != 0 || fread(s, 1, 8, f) != 8) break;
            if (memcmp(s, h5sig, 8) == 0) t = FMT_H5;
        }
    }
    fclose(f);
    if (t != FMT_UNKNOWN) return t;
    char ext[16];
    io_extension(path, ext, sizeof ext);
    if (!strcmp(ext, ".csv") || !strcmp(ext, ".tsv") || !strcmp(ext, ".txt") ||
        !strcmp(ext, ".dat"))
        return FMT_CSV;
    if (!strcmp(ext, ".mat")) return FMT_MAT;
    if (!strcmp(ext, ".npy")) return FMT_NPY;
    if (!strcmp(ext, ".npz")) return FMT_NPZ;
    if (!strcmp(ext, ".h5") || !strcmp(ext, ".hdf5") || !strcmp(ext, ".nwb")) return FMT_H5;
    return FMT_UNKNOWN;
}

/* Entry name of a lone .npy file: its file name without the extension. */
static char *npy_stem(const char *path)
{
    const char *b = io_basename(path);
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    if (n == 0) return strdup("array");
    return strndup(b, n);
}

int ndyn_dataset_load(const char *path, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_dataset_load: out is NULL");
    *out = NULL;
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty input file name");
    int err;
    file_format t = sniff(path, &err);
    if (err) return ndyn_error(NDYN_EIO, "cannot open '%s': %s", path, strerror(err));
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ndyn_error(NDYN_EIO, "'%s' is a directory; give a file", path);
    int rc;
    ndyn_dataset *ds = NULL;
    switch (t) {
    case FMT_NPY: {
        ndyn_array *a = NULL;
        char *text = NULL;
        if ((rc = ndyn_npy_read(path, &a))) {
            /* A NumPy string array becomes a text entry; any other failure
             * keeps the reader's message. */
            if (rc != NDYN_EUNSUPPORTED) return rc;
            char msg[512];
            snprintf(msg, sizeof msg, "%s", ndyn_errmsg());
            void *buf = NULL;
            size_t len = 0;
            if (ndyn_read_file(path, (size_t)1 << 30, &buf, &len) || !io_npy_is_text(buf, len)) {
                free(buf);
                return ndyn_error(rc, "%s", msg);
            }
            rc = ndyn_npy_read_text_mem(buf, len, &text);
            free(buf);
            if (rc) return ndyn_error_context(rc, "reading '%s': ", path);
        }
        char *stem = npy_stem(path);
        ds = ndyn_dataset_new();
        if (!stem || !ds) {
            free(stem);
            free(text);
            ndyn_dataset_free(ds);
            ndyn_array_free(a);
            return ndyn_error(NDYN_ENOMEM, "out of memory");
        }
        rc = text ? ndyn_dataset_add_text(ds, stem, text, path) : ndyn_dataset_add(ds, stem, a, path);
        free(text);
        free(stem);
        if (rc) {
            ndyn_dataset_free(ds);
            return rc;
        }
        break;
    }
    case FMT_NPZ:
        if ((rc = ndyn_npz_read(path, &ds))) return rc;
        break;
    case FMT_MAT:
        if ((rc = ndyn_mat_read(path, &ds))) return rc;
        break;
    case FMT_H5:
        if ((rc = ndyn_h5_read_all(path, &ds))) return rc;
        break;
    case FMT_CSV:
        if ((rc = ndyn_csv_read(path, &ds))) return rc;
        break;
    default:
        return ndyn_error(NDYN_EUNSUPPORTED, "cannot tell the format of '%s' from its contents "
                          "or name; ndyn reads .npy, .npz, .mat, HDF5 (.h5/.hdf5/.nwb) and "
                          "CSV (.csv/.tsv/.txt)", path);
    }
    if (!ds->path && !(ds->path = strdup(path))) {
        ndyn_dataset_free(ds);
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    *out = ds;
    return NDYN_OK;
}

/* ------------------------------------------------------------------ saving */

int ndyn_dataset_save(const char *path, const ndyn_dataset *ds, int compress)
{
    if (!ds) return ndyn_error(NDYN_EINVAL, "ndyn_dataset_save: dataset is NULL");
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty output file name");
    char ext[16];
    io_extension(path, ext, sizeof ext);
    if (!strcmp(ext, ".npy") || !strcmp(ext, ".csv")) {
        const ndyn_named_array *one = NULL;
        size_t numeric = 0;
        for (size_t i = 0; i < ds->n; i++)
            if (ds->items[i].array) {
                numeric++;
                one = &ds->items[i];
            }
        if (numeric != 1) {
            char list[512];
            return ndyn_error(NDYN_EINVAL, "'%s': a %s file holds one array but there are %zu "
                              "(%s); write .npz, or pick one array", path, ext, numeric,
                              names_list(ds, list, sizeof list));
        }
        if (!strcmp(ext, ".npy")) return ndyn_npy_write(path, one->array);
        return ndyn_csv_write(path, one->array, NULL);
    }
    if (strcmp(ext, ".npz") != 0)
        return ndyn_error(NDYN_EINVAL, "cannot save '%s': unknown extension '%s'; use .npz, "
                          ".npy or .csv", path, ext);
    const char **names = ndyn_malloc_array(ds->n ? ds->n : 1, sizeof *names);
    const ndyn_array **arrays = ndyn_malloc_array(ds->n ? ds->n : 1, sizeof *arrays);
    const char **texts = ndyn_malloc_array(ds->n ? ds->n : 1, sizeof *texts);
    int rc = NDYN_OK;
    if (!names || !arrays || !texts) rc = NDYN_ENOMEM;
    for (size_t i = 0; i < ds->n && !rc; i++) {
        names[i] = ds->items[i].name;
        arrays[i] = ds->items[i].array;
        texts[i] = ds->items[i].array ? NULL : ds->items[i].text;
    }
    if (!rc) rc = io_npz_write_ex(path, ds->n, names, arrays, texts, compress, 0);
    free(names);
    free(arrays);
    free(texts);
    return rc;
}

/* ------------------------------------------------------ one array by spec */

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

static int take_one(ndyn_dataset *ds, const char *file, const char *name, ndyn_array **out)
{
    const ndyn_array *a;
    if (name) {
        int rc = ndyn_dataset_get(ds, name, &a);
        if (rc) return rc;
        *out = ndyn_dataset_take(ds, name);
        return NDYN_OK;
    }
    const char *only = NULL;
    size_t numeric = 0;
    for (size_t i = 0; i < ds->n; i++)
        if (ds->items[i].array) {
            numeric++;
            only = ds->items[i].name;
        }
    /* A CSV file's table is "data", whatever its named columns. */
    if (numeric > 1 && ndyn_dataset_find(ds, "data") &&
        sniff(file, &(int){0}) == FMT_CSV)
        only = "data", numeric = 1;
    if (numeric != 1) {
        char list[512];
        return ndyn_error(NDYN_EINVAL, "'%s' holds %zu arrays (%s); name one as '%s:NAME'",
                          file, numeric, names_list(ds, list, sizeof list), file);
    }
    *out = ndyn_dataset_take(ds, only);
    return NDYN_OK;
}

int ndyn_load_array(const char *spec, ndyn_array **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_load_array: out is NULL");
    *out = NULL;
    if (!spec || !*spec) return ndyn_error(NDYN_EINVAL, "empty array spec; give FILE or FILE:NAME");
    char *file = strdup(spec);
    if (!file) return ndyn_error(NDYN_ENOMEM, "out of memory");
    const char *name = NULL;
    if (!is_file(file)) {
        /* FILE:NAME, splitting at the last ':' whose left part is a file. */
        char *c = NULL;
        for (char *p = file + strlen(file); p > file; p--) {
            if (p[-1] != ':') continue;
            p[-1] = '\0';
            if (is_file(file)) {
                c = p - 1;
                break;
            }
            p[-1] = ':';
        }
        if (!c) {
            int rc = ndyn_error(NDYN_EIO, "cannot open '%s': %s", spec,
                                strchr(spec, ':') ? "no such file (also not FILE:NAME of an "
                                "existing file)" : strerror(ENOENT));
            free(file);
            return rc;
        }
        name = c + 1;
        if (!*name) {
            free(file);
            return ndyn_error(NDYN_EINVAL, "'%s': empty array name after ':'", spec);
        }
    }
    int rc, err;
    if (name && sniff(file, &err) == FMT_H5) {
        rc = ndyn_h5_read(file, name, 0, out);
        free(file);
        return rc;
    }
    ndyn_dataset *ds;
    rc = ndyn_dataset_load(file, &ds);
    if (!rc) {
        rc = take_one(ds, file, name, out);
        ndyn_dataset_free(ds);
    }
    free(file);
    return rc;
}
