/* HDF5 datasets through libhdf5.
 *
 * Order: HDF5 stores arrays row-major, and its dimensions are listed as C
 * sees them; we return exactly that shape. Column-major writers (Julia,
 * MATLAB v7.3, R, Fortran) write their arrays with the dimensions reversed,
 * so an (n_time, n_neurons) Julia matrix appears here as (n_neurons, n_time).
 * With transpose set, the axes are reversed back (the writer's view). The
 * source string of every array says which view it is.
 *
 * Numeric datasets (integers, floats, and enums of integers such as h5py's
 * and HDF5.jl's booleans) become arrays of the matching ndyn dtype; string
 * datasets become text entries; other types are skipped with a warning.
 */
#include "io/io_internal.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- HDF5 error stack */

typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static void quiet_begin(h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_end(const h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    char *buf = data;
    if (n == 0 && e->desc) snprintf(buf, 200, "%s", e->desc);
    return 0;
}

/* The innermost HDF5 error description, for messages. */
static const char *h5_reason(char *buf)
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    if (!buf[0]) snprintf(buf, 200, "unknown HDF5 error");
    return buf;
}

/* ------------------------------------------------------------ one dataset */

typedef struct h5_result {
    ndyn_array *array;
    char *text;
} h5_result;

static int map_type(hid_t ftype, ndyn_dtype *t, hid_t *mtype, const char *name)
{
    H5T_class_t cls = H5Tget_class(ftype);
    size_t size = H5Tget_size(ftype);
    if (cls == H5T_FLOAT) {
        if (size <= 4) {
            *t = NDYN_F32;
            *mtype = H5Tcopy(H5T_NATIVE_FLOAT);
        } else {
            *t = NDYN_F64;
            *mtype = H5Tcopy(H5T_NATIVE_DOUBLE);
        }
        return NDYN_OK;
    }
    if (cls == H5T_INTEGER) {
        int sgn = H5Tget_sign(ftype) == H5T_SGN_2;
        static const ndyn_dtype st[4] = {NDYN_I8, NDYN_I16, NDYN_I32, NDYN_I64};
        static const ndyn_dtype ut[4] = {NDYN_U8, NDYN_U16, NDYN_U32, NDYN_U64};
        int k = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;
        if (k < 0)
            return ndyn_error(NDYN_EUNSUPPORTED, "HDF5 dataset '%s' has %zu-byte integers; ndyn "
                              "reads 1, 2, 4 and 8", name, size);
        *t = sgn ? st[k] : ut[k];
        hid_t nat[2][4] = {{H5T_NATIVE_UINT8, H5T_NATIVE_UINT16, H5T_NATIVE_UINT32,
                            H5T_NATIVE_UINT64},
                           {H5T_NATIVE_INT8, H5T_NATIVE_INT16, H5T_NATIVE_INT32,
                            H5T_NATIVE_INT64}};
        *mtype = H5Tcopy(nat[sgn][k]);
        return NDYN_OK;
    }
    if (cls == H5T_ENUM) {
        hid_t base = H5Tget_super(ftype);
        if (base < 0 || H5Tget_class(base) != H5T_INTEGER) {
            if (base >= 0) H5Tclose(base);
            return ndyn_error(NDYN_EUNSUPPORTED, "HDF5 dataset '%s' is an enum of a non-integer "
                              "type", name);
        }
        int rc = map_type(base, t, mtype, name);
        H5Tclose(base);
        if (rc) return rc;
        H5Tclose(*mtype);
        /* Read the enum as the native enum (its values are integers of the
         * base type); a {FALSE, TRUE} enum is a boolean. */
        *mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
        int n = H5Tget_nmembers(ftype);
        if (n == 2 && H5Tget_size(ftype) == 1) {
            char *m0 = H5Tget_member_name(ftype, 0), *m1 = H5Tget_member_name(ftype, 1);
            long long v0 = 0, v1 = 0;
            signed char b0 = 0, b1 = 0;
            if (H5Tget_member_value(ftype, 0, &b0) >= 0 && H5Tget_member_value(ftype, 1, &b1) >= 0) {
                v0 = b0;
                v1 = b1;
            }
            if (m0 && m1 && !strcmp(m0, "FALSE") && !strcmp(m1, "TRUE") && v0 == 0 && v1 == 1)
                *t = NDYN_BOOL;
            H5free_memory(m0);
            H5free_memory(m1);
        }
        return *mtype < 0 ? ndyn_error(NDYN_EFORMAT, "HDF5 dataset '%s': bad enum type", name)
                          : NDYN_OK;
    }
    static const char *const cls_name[] = {"integer", "float", "time", "string", "bitfield",
                                           "opaque", "compound", "reference", "enum",
                                           "variable-length", "array"};
    return ndyn_error(NDYN_EUNSUPPORTED, "HDF5 dataset '%s' holds %s data; ndyn reads "
                      "numeric datasets", name,
                      cls >= 0 && cls < 11 ? cls_name[cls] : "unknown");
}

/* A string dataset with one element (or a 1-D list of strings, joined by
 * newlines) as text. */
static int read_string(hid_t did, hid_t ftype, hid_t space, const char *name, char **out)
{
    char buf[200];
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0 || n > (1 << 20))
        return ndyn_error(NDYN_EUNSUPPORTED, "HDF5 string dataset '%s' is too large", name);
    if (n == 0) {
        *out = strdup("");
        return *out ? NDYN_OK : ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    hid_t mtype = H5Tcopy(H5T_C_S1);
    int rc = NDYN_OK;
    char *res = NULL;
    if (H5Tis_variable_str(ftype) > 0) {
        H5Tset_size(mtype, H5T_VARIABLE);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        char **s = calloc((size_t)n, sizeof *s);
        if (!s || H5Dread(did, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
            rc = s ? ndyn_error(NDYN_EFORMAT, "cannot read HDF5 strings '%s': %s", name,
                                h5_reason(buf))
                   : ndyn_error(NDYN_ENOMEM, "out of memory");
        } else {
            size_t total = 1;
            for (hssize_t i = 0; i < n; i++) total += (s[i] ? strlen(s[i]) : 0) + 1;
            res = malloc(total);
            if (res) {
                size_t k = 0;
                for (hssize_t i = 0; i < n; i++) {
                    if (i) res[k++] = '\n';
                    size_t l = s[i] ? strlen(s[i]) : 0;
                    memcpy(res + k, s[i] ? s[i] : "", l);
                    k += l;
                }
                res[k] = '\0';
            } else {
                rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            }
            H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, s);
        }
        free(s);
    } else {
        size_t sz = H5Tget_size(ftype);
        H5Tset_size(mtype, sz + 1);
        H5Tset_strpad(mtype, H5T_STR_NULLTERM);
        size_t bytes = (sz + 1) * (size_t)n;
        char *raw = malloc(bytes);
        res = malloc(bytes + (size_t)n);
        if (!raw || !res) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        } else if (H5Dread(did, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
            rc = ndyn_error(NDYN_EFORMAT, "cannot read HDF5 strings '%s': %s", name,
                            h5_reason(buf));
        } else {
            size_t k = 0;
            for (hssize_t i = 0; i < n; i++) {
                if (i) res[k++] = '\n';
                const char *e = raw + (size_t)i * (sz + 1);
                size_t l = strnlen(e, sz);
                memcpy(res + k, e, l);
                k += l;
            }
            res[k] = '\0';
        }
        free(raw);
    }
    H5Tclose(mtype);
    if (rc) {
        free(res);
        return rc;
    }
    *out = res;
    return NDYN_OK;
}

static int read_dataset(hid_t did, const char *name, int transpose, int allow_text,
                        h5_result *res)
{
    char buf[200];
    memset(res, 0, sizeof *res);
    hid_t ftype = H5Dget_type(did), space = H5Dget_space(did), mtype = -1;
    int rc = NDYN_OK;
    if (ftype < 0 || space < 0) {
        rc = ndyn_error(NDYN_EFORMAT, "cannot read the type of HDF5 dataset '%s': %s", name,
                        h5_reason(buf));
        goto done;
    }
    H5S_class_t scls = H5Sget_simple_extent_type(space);
    if (scls == H5S_NULL) {
        rc = ndyn_error(NDYN_EUNSUPPORTED, "HDF5 dataset '%s' is empty (null dataspace)", name);
        goto done;
    }
    if (H5Tget_class(ftype) == H5T_STRING) {
        if (!allow_text)
            rc = ndyn_error(NDYN_EUNSUPPORTED, "HDF5 dataset '%s' holds strings, not numbers",
                            name);
        else
            rc = read_string(did, ftype, space, name, &res->text);
        goto done;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > NDYN_MAX_NDIM) {
        rc = ndyn_error(NDYN_EUNSUPPORTED, "HDF5 dataset '%s' has %d dimensions; ndyn reads up "
                        "to %d", name, rank, NDYN_MAX_NDIM);
        goto done;
    }
    hsize_t dims[NDYN_MAX_NDIM];
    H5Sget_simple_extent_dims(space, dims, NULL);
    size_t shape[NDYN_MAX_NDIM];
    for (int i = 0; i < rank; i++) {
        if (dims[i] > SIZE_MAX) {
            rc = ndyn_error(NDYN_ENOMEM, "HDF5 dataset '%s' is too large", name);
            goto done;
        }
        shape[i] = (size_t)dims[i];
    }
    ndyn_dtype t;
    if ((rc = map_type(ftype, &t, &mtype, name))) goto done;
    ndyn_array *a = ndyn_array_alloc(t, rank, shape);
    if (!a) {
        rc = ndyn_error_context(NDYN_ENOMEM, "HDF5 dataset '%s': ", name);
        goto done;
    }
    if (a->size && H5Dread(did, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0) {
        ndyn_array_free(a);
        rc = ndyn_error(NDYN_EFORMAT, "cannot read HDF5 dataset '%s': %s", name, h5_reason(buf));
        goto done;
    }
    if (t == NDYN_BOOL) {
        unsigned char *b = a->data;
        for (size_t i = 0; i < a->size; i++) b[i] = b[i] != 0;
    }
    if (transpose && rank >= 2) {
        ndyn_array *b = io_reverse_axes(a);
        ndyn_array_free(a);
        if (!b) {
            rc = NDYN_ENOMEM;
            goto done;
        }
        a = b;
    }
    res->array = a;
done:
    if (mtype >= 0) H5Tclose(mtype);
    if (ftype >= 0) H5Tclose(ftype);
    if (space >= 0) H5Sclose(space);
    return rc;
}

static char *source_of(const char *path, const char *dsname, int transpose, int rank)
{
    const char *slash = dsname[0] == '/' ? "" : "/";
    if (rank < 2)
        return io_strdup_printf("%s:%s%s (HDF5)", path, slash, dsname);
    return io_strdup_printf("%s:%s%s (HDF5, %s)", path, slash, dsname,
                            transpose ? "axes reversed: the view of a column-major writer"
                                      : "row-major as stored");
}

static int open_file(const char *path, hid_t *fid)
{
    char buf[200];
    FILE *f = fopen(path, "rb");
    if (!f) return ndyn_error(NDYN_EIO, "cannot open '%s'", path);
    fclose(f);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return ndyn_error(NDYN_EFORMAT, "'%s' is not an HDF5 file", path);
    }
    *fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*fid < 0)
        return ndyn_error(NDYN_EFORMAT, "cannot open HDF5 file '%s': %s", path, h5_reason(buf));
    return NDYN_OK;
}

/* ------------------------------------------------------ listing datasets */

typedef struct visit_ctx {
    ndyn_dataset *ds;
    const char *path;
    int rc;
    char names[400];
    size_t nnames, ndatasets;
} visit_ctx;

static herr_t visit_cb(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    visit_ctx *c = data;
    if (info->type != H5L_TYPE_HARD) return 0;
    hid_t oid = H5Oopen(group, name, H5P_DEFAULT);
    if (oid < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int is_ds = H5Iget_type(oid) == H5I_DATASET;
    H5Oclose(oid);
    if (!is_ds) return 0;
    c->ndatasets++;
    if (!c->ds) {
        /* Only collecting names for a "not found" message. */
        size_t k = strlen(c->names);
        if (k + strlen(name) + 8 < sizeof c->names)
            snprintf(c->names + k, sizeof c->names - k, "%s%s", k ? ", " : "", name);
        else if (!strstr(c->names, "..."))
            snprintf(c->names + k, sizeof c->names - k, ", ...");
        return 0;
    }
    hid_t did = H5Dopen2(group, name, H5P_DEFAULT);
    if (did < 0) {
        char buf[200];
        ndyn_warn("%s: skipping HDF5 dataset '%s': %s", c->path, name, h5_reason(buf));
        return 0;
    }
    h5_result r;
    int rc = read_dataset(did, name, 0, 1, &r);
    H5Dclose(did);
    if (rc == NDYN_EUNSUPPORTED) {
        ndyn_warn("%s: skipping: %s", c->path, ndyn_errmsg());
        return 0;
    }
    if (rc) {
        c->rc = rc;
        return -1;
    }
    char *src = source_of(c->path, name, 0, r.array ? r.array->ndim : 0);
    if (!src) {
        ndyn_array_free(r.array);
        free(r.text);
        c->rc = NDYN_ENOMEM;
        return -1;
    }
    if (r.array) rc = ndyn_dataset_add(c->ds, name, r.array, src);
    else rc = ndyn_dataset_add_text(c->ds, name, r.text, src);
    free(r.text);
    free(src);
    if (rc) {
        c->rc = rc;
        return -1;
    }
    return 0;
}

int ndyn_h5_read(const char *path, const char *dataset, int transpose, ndyn_array **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_h5_read: out is NULL");
    *out = NULL;
    if (!path || !dataset || !*dataset)
        return ndyn_error(NDYN_EINVAL, "ndyn_h5_read: give a file and a dataset path");
    h5_quiet q;
    quiet_begin(&q);
    hid_t fid;
    int rc = open_file(path, &fid);
    if (rc) {
        quiet_end(&q);
        return rc;
    }
    const char *dsname = dataset[0] == '/' ? dataset + 1 : dataset;
    hid_t did = *dsname ? H5Dopen2(fid, dsname, H5P_DEFAULT) : -1;
    if (did < 0) {
        H5Eclear2(H5E_DEFAULT);
        visit_ctx c;
        memset(&c, 0, sizeof c);
        H5Lvisit(fid, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &c);
        H5Eclear2(H5E_DEFAULT);
        rc = ndyn_error(NDYN_ENOTFOUND, "'%s' has no dataset '%s'; its datasets are: %s", path,
                        dataset, c.names[0] ? c.names : "none");
    } else {
        h5_result r;
        rc = read_dataset(did, dsname, transpose, 0, &r);
        H5Dclose(did);
        if (!rc) *out = r.array;
        else ndyn_error_context(rc, "%s: ", path);
    }
    H5Fclose(fid);
    quiet_end(&q);
    return rc;
}

int ndyn_h5_read_all(const char *path, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_h5_read_all: out is NULL");
    *out = NULL;
    h5_quiet q;
    quiet_begin(&q);
    hid_t fid;
    int rc = open_file(path, &fid);
    if (rc) {
        quiet_end(&q);
        return rc;
    }
    visit_ctx c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.ds = ndyn_dataset_new();
    if (!c.ds) rc = NDYN_ENOMEM;
    else if (H5Lvisit(fid, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &c) < 0) {
        char buf[200];
        rc = c.rc ? c.rc : ndyn_error(NDYN_EFORMAT, "cannot list the datasets of '%s': %s",
                                      path, h5_reason(buf));
    }
    H5Eclear2(H5E_DEFAULT);
    H5Fclose(fid);
    quiet_end(&q);
    if (!rc && !(c.ds->path = strdup(path))) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
    if (rc) {
        ndyn_dataset_free(c.ds);
        return rc;
    }
    *out = c.ds;
    return NDYN_OK;
}
