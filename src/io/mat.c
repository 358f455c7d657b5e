/* MATLAB .mat files (v4, v5/v7 and v7.3) through libmatio.
 *
 * Naming of entries: a numeric variable is its name; a struct is flattened
 * to "VAR.FIELD" (1x1 struct) or "VAR[i].FIELD" (struct array, i 0-based in
 * MATLAB's linear order, so MATLAB's D(4).data is "D[3].data"); a cell to
 * "VAR{i}"; these nest ("S.trials{2}.spikes"). Char arrays become text
 * entries (rows joined by newlines). Arrays keep their MATLAB shape (at least
 * 2-D: a 1x5 row stays (1, 5)) and are converted from MATLAB's column-major
 * layout to C order, element (i, j) staying (i, j). Numeric classes keep
 * their type (uint8 stays uint8); logical arrays become bool; sparse real
 * matrices become dense float64. Complex data, objects and function handles
 * are skipped with a warning.
 */
#include "io/io_internal.h"

#include <math.h>
#include <matio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

/* matio's log messages land here instead of on stderr. */
static _Thread_local char g_matio_msg[256];

static void matio_log(int level, char *message)
{
    (void)level;
    snprintf(g_matio_msg, sizeof g_matio_msg, "%s", message ? message : "");
}

typedef struct mat_ctx {
    ndyn_dataset *ds;
    const char *path;
} mat_ctx;

/* The ndyn dtype of a MAT storage type that is an integer, else -1. */
static int stored_int_dtype(int stype)
{
    switch (stype) {
    case 1: return NDYN_I8;
    case 2: return NDYN_U8;
    case 3: return NDYN_I16;
    case 4: return NDYN_U16;
    case 5: return NDYN_I32;
    case 6: return NDYN_U32;
    case 12: return NDYN_I64;
    case 13: return NDYN_U64;
    default: return -1;
    }
}

/* MATLAB stores integer-valued doubles compactly (e.g. as uint8); give such
 * arrays the stored integer type, as scipy.io.loadmat does, when every value
 * is integral and fits (it always should). Returns a or its replacement. */
static ndyn_array *narrow_to_stored(ndyn_array *a, const io_mat5_node *node, const char **how)
{
    *how = NULL;
    if (!a || !node || !ndyn_dtype_is_float(a->dtype)) return a;
    int t = stored_int_dtype(node->stype);
    if (t < 0) return a;
    for (size_t i = 0; i < a->size; i++) {
        double v = ndyn_array_get(a, i);
        if (v != floor(v)) return a;
    }
    ndyn_array *b = ndyn_array_cast(a, (ndyn_dtype)t);
    if (!b) {
        ndyn_error_clear();
        return a;
    }
    ndyn_array_free(a);
    *how = ndyn_dtype_name((ndyn_dtype)t);
    return b;
}

static int numeric_dtype(enum matio_classes c, ndyn_dtype *t)
{
    switch (c) {
    case MAT_C_DOUBLE: *t = NDYN_F64; return 1;
    case MAT_C_SINGLE: *t = NDYN_F32; return 1;
    case MAT_C_INT8: *t = NDYN_I8; return 1;
    case MAT_C_UINT8: *t = NDYN_U8; return 1;
    case MAT_C_INT16: *t = NDYN_I16; return 1;
    case MAT_C_UINT16: *t = NDYN_U16; return 1;
    case MAT_C_INT32: *t = NDYN_I32; return 1;
    case MAT_C_UINT32: *t = NDYN_U32; return 1;
    case MAT_C_INT64: *t = NDYN_I64; return 1;
    case MAT_C_UINT64: *t = NDYN_U64; return 1;
    default: return 0;
    }
}

static const char *class_name(enum matio_classes c)
{
    static const char *const n[] = {"empty", "cell", "struct", "object", "char", "sparse",
                                    "double", "single", "int8", "uint8", "int16", "uint16",
                                    "int32", "uint32", "int64", "uint64", "function", "opaque"};
    return (unsigned)c < sizeof n / sizeof n[0] ? n[c] : "unknown";
}

/* Element count of a matvar; 0 on overflow (with *ok = 0). */
static size_t numel(const matvar_t *v, int *ok)
{
    size_t n = 1;
    *ok = 1;
    for (int i = 0; i < v->rank; i++)
        if (ndyn_size_mul(n, v->dims[i], &n)) {
            *ok = 0;
            return 0;
        }
    return n;
}

/* A column-major block of `rank` dims at `data` as a C-ordered array. */
static ndyn_array *from_colmajor(ndyn_dtype t, int rank, const size_t *dims, const void *data)
{
    size_t rev[NDYN_MAX_NDIM];
    for (int i = 0; i < rank; i++) rev[i] = dims[rank - 1 - i];
    ndyn_array *view = ndyn_array_view(t, rank, rev, (void *)data);
    if (!view) return NULL;
    ndyn_array *a;
    if (!data || view->size == 0) {
        a = ndyn_array_alloc(t, rank, dims);
    } else {
        a = io_reverse_axes(view);
    }
    ndyn_array_free(view);
    return a;
}

static int add_array(mat_ctx *c, const char *name, const char *shown, const matvar_t *v,
                     ndyn_array *a, const char *stored_as)
{
    if (!a) return NDYN_ENOMEM;
    char *src = io_strdup_printf("%s:%s (MATLAB %s%s%s%s)", c->path, shown,
                                 v->isLogical ? "logical" : class_name(v->class_type),
                                 stored_as ? " stored as " : "", stored_as ? stored_as : "",
                                 a->ndim >= 2 ? ", column-major converted to C order" : "");
    if (!src) {
        ndyn_array_free(a);
        return NDYN_ENOMEM;
    }
    int rc = ndyn_dataset_add(c->ds, name, a, src);
    free(src);
    return rc;
}

/* Append code point cp as UTF-8. */
static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A char matrix (rows x cols, column-major) as text: rows joined by '\n'. */
static int add_char(mat_ctx *c, const char *name, const char *shown, const matvar_t *v)
{
    int ok;
    size_t n = numel(v, &ok);
    if (!ok) return ndyn_error(NDYN_EFORMAT, "%s: char array '%s' is too large", c->path, shown);
    size_t rows = v->rank >= 1 ? v->dims[0] : 0, cols = rows ? n / rows : 0;
    size_t es = v->data_size > 0 ? (size_t)v->data_size : 1;
    if (n && (!v->data || (es != 1 && es != 2 && es != 4))) {
        ndyn_warn("%s: skipping char array '%s' (unknown encoding)", c->path, shown);
        return NDYN_OK;
    }
    size_t cap;
    if (ndyn_size_mul(n + rows + 1, 4, &cap)) return NDYN_ENOMEM;
    char *t = ndyn_malloc(cap);
    if (!t) return NDYN_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < rows; i++) {
        if (i) t[k++] = '\n';
        for (size_t j = 0; j < cols; j++) {
            size_t idx = j * rows + i;
            unsigned long cp;
            if (es == 1) cp = ((const unsigned char *)v->data)[idx];
            else if (es == 2) cp = ((const uint16_t *)v->data)[idx];
            else cp = ((const uint32_t *)v->data)[idx];
            if (es == 2 && cp >= 0xD800 && cp <= 0xDBFF && j + 1 < cols) {
                unsigned long lo = ((const uint16_t *)v->data)[(j + 1) * rows + i];
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j++;
                }
            }
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
            k += put_utf8(t + k, cp);
        }
    }
    t[k] = '\0';
    char *src = io_strdup_printf("%s:%s (MATLAB char)", c->path, shown);
    int rc = src ? ndyn_dataset_add_text(c->ds, name, t, src) : NDYN_ENOMEM;
    free(src);
    free(t);
    return rc;
}

static int add_sparse(mat_ctx *c, const char *name, const char *shown, const matvar_t *v)
{
    if (v->isComplex || v->rank != 2 || !v->data || v->data_type != MAT_T_DOUBLE) {
        ndyn_warn("%s: skipping sparse matrix '%s' (only real double sparse matrices are "
                  "read)", c->path, shown);
        return NDYN_OK;
    }
    const mat_sparse_t *s = v->data;
    size_t rows = v->dims[0], cols = v->dims[1];
    ndyn_array *a = ndyn_array_alloc2(NDYN_F64, rows, cols);
    if (!a) return ndyn_error_context(NDYN_ENOMEM, "%s: sparse matrix '%s': ", c->path, shown);
    double *d = a->data;
    const double *val = s->data;
    if (s->njc < cols + 1 && cols) {
        ndyn_array_free(a);
        return ndyn_error(NDYN_EFORMAT, "%s: sparse matrix '%s' is corrupt", c->path, shown);
    }
    for (size_t j = 0; j < cols; j++) {
        for (size_t k = (size_t)s->jc[j]; k < (size_t)s->jc[j + 1]; k++) {
            if (k >= s->nir || k >= s->ndata || s->ir[k] >= rows) {
                ndyn_array_free(a);
                return ndyn_error(NDYN_EFORMAT, "%s: sparse matrix '%s' is corrupt", c->path,
                                  shown);
            }
            d[(size_t)s->ir[k] * cols + j] = val[k];
        }
    }
    return add_array(c, name, shown, v, a, NULL);
}

static int add_var(mat_ctx *c, const char *name, const char *shown, matvar_t *v,
                   const io_mat5_node *node, int depth)
{
    if (!v) return NDYN_OK;
    if (depth > MAX_DEPTH)
        return ndyn_error(NDYN_EFORMAT, "%s: structs/cells nested deeper than %d levels at '%s'",
                          c->path, MAX_DEPTH, shown);
    if (v->rank < 0 || v->rank > NDYN_MAX_NDIM || (v->rank > 0 && !v->dims)) {
        ndyn_warn("%s: skipping '%s': %d dimensions (ndyn reads up to %d)", c->path, shown,
                  v->rank, NDYN_MAX_NDIM);
        return NDYN_OK;
    }
    int ok, rc = NDYN_OK;
    size_t n = numel(v, &ok);
    if (!ok) return ndyn_error(NDYN_EFORMAT, "%s: variable '%s' is too large", c->path, shown);
    ndyn_dtype t;
    if (v->class_type == MAT_C_CHAR) return add_char(c, name, shown, v);
    if (v->class_type == MAT_C_SPARSE) return add_sparse(c, name, shown, v);
    if (numeric_dtype(v->class_type, &t)) {
        if (v->isComplex) {
            ndyn_warn("%s: skipping complex array '%s' (complex data is not supported)",
                      c->path, shown);
            return NDYN_OK;
        }
        if (v->isLogical) {
            if (v->class_type != MAT_C_UINT8 && v->class_type != MAT_C_INT8 && n) {
                ndyn_warn("%s: skipping logical array '%s' stored as %s", c->path, shown,
                          class_name(v->class_type));
                return NDYN_OK;
            }
            t = NDYN_BOOL;
        }
        if (n && (!v->data || (size_t)v->data_size != ndyn_dtype_size(t)))
            return ndyn_error(NDYN_EFORMAT, "%s: variable '%s' has %d-byte elements for class "
                              "%s (corrupt file?)", c->path, shown, v->data_size,
                              class_name(v->class_type));
        ndyn_array *a = from_colmajor(t, v->rank, v->dims, n ? v->data : NULL);
        if (a && t == NDYN_BOOL) {
            unsigned char *b = a->data;
            for (size_t i = 0; i < a->size; i++) b[i] = b[i] != 0;
        }
        const char *stored_as = NULL;
        if (node && node->cls == (int)v->class_type && !node->complex && !v->isLogical)
            a = narrow_to_stored(a, node, &stored_as);
        return add_array(c, name, shown, v, a, stored_as);
    }
    if (v->class_type == MAT_C_STRUCT) {
        unsigned nf = Mat_VarGetNumberOfFields(v);
        char *const *fields = Mat_VarGetStructFieldnames(v);
        /* Follow the storage-type tree only where it matches matio's view. */
        if (node && (node->cls != MAT_C_STRUCT || node->nfields != nf || node->nchild != n * nf))
            node = NULL;
        for (size_t i = 0; i < n && !rc; i++) {
            for (unsigned f = 0; f < nf && !rc; f++) {
                matvar_t *fv = Mat_VarGetStructFieldByIndex(v, f, i);
                if (!fv) continue;
                const char *fname = fields && fields[f] ? fields[f] : "?";
                char *nm = n == 1 ? io_strdup_printf("%s.%s", name, fname)
                                  : io_strdup_printf("%s[%zu].%s", name, i, fname);
                char *sh = n == 1 ? io_strdup_printf("%s.%s", shown, fname)
                                  : io_strdup_printf("%s(%zu).%s", shown, i + 1, fname);
                rc = nm && sh ? add_var(c, nm, sh, fv, node ? &node->child[i * nf + f] : NULL,
                                        depth + 1)
                              : NDYN_ENOMEM;
                free(nm);
                free(sh);
            }
        }
        return rc;
    }
    if (v->class_type == MAT_C_CELL) {
        if (node && (node->cls != MAT_C_CELL || node->nchild != n)) node = NULL;
        for (size_t i = 0; i < n && !rc; i++) {
            if (i > (size_t)INT32_MAX) break;
            matvar_t *cv = Mat_VarGetCell(v, (int)i);
            if (!cv) continue;
            char *nm = io_strdup_printf("%s{%zu}", name, i);
            char *sh = io_strdup_printf("%s{%zu}", shown, i + 1);
            rc = nm && sh ? add_var(c, nm, sh, cv, node ? &node->child[i] : NULL, depth + 1)
                          : NDYN_ENOMEM;
            free(nm);
            free(sh);
        }
        return rc;
    }
    if (v->class_type == MAT_C_EMPTY) {
        size_t z[2] = {0, 0};
        return add_array(c, name, shown, v, ndyn_array_alloc(NDYN_F64, 2, z), NULL);
    }
    ndyn_warn("%s: skipping '%s' of MATLAB class %s (not numeric)", c->path, shown,
              class_name(v->class_type));
    return NDYN_OK;
}

int ndyn_mat_read(const char *path, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_mat_read: out is NULL");
    *out = NULL;
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty .mat file name");
    FILE *f = fopen(path, "rb");
    if (!f) return ndyn_error(NDYN_EIO, "cannot open '%s'", path);
    fclose(f);
    Mat_LogInitFunc("ndyn", matio_log);
    g_matio_msg[0] = '\0';
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat)
        return ndyn_error(NDYN_EFORMAT, "'%s' is not a MATLAB .mat file (libmatio cannot open "
                          "it%s%s)", path, g_matio_msg[0] ? ": " : "", g_matio_msg);
    mat_ctx c = {ndyn_dataset_new(), path};
    int rc = c.ds ? NDYN_OK : NDYN_ENOMEM;
    io_mat5_vars types = {0};
    enum mat_ft version = Mat_GetVersion(mat);
    int have_types = version == MAT_FT_MAT5 && io_mat5_scan(path, &types) == 0;
    matvar_t *v;
    size_t nvars = 0;
    while (!rc && (v = Mat_VarReadNext(mat)) != NULL) {
        nvars++;
        const char *nm = v->name && v->name[0] ? v->name : "unnamed";
        const io_mat5_node *node = NULL;
        for (size_t k = 0; have_types && k < types.n && !node; k++)
            if (types.names[k] && strcmp(types.names[k], nm) == 0) node = &types.nodes[k];
        rc = add_var(&c, nm, nm, v, node, 0);
        Mat_VarFree(v);
    }
    Mat_Close(mat);
    io_mat5_vars_free(&types);
    /* matio takes almost any file for a headerless v4 file; one from which
     * no variable can be read is not a .mat file for us. */
    if (!rc && nvars == 0 && version == MAT_FT_MAT4)
        rc = ndyn_error(NDYN_EFORMAT, "'%s' is not a MATLAB .mat file (no variables could be "
                        "read%s%s)", path, g_matio_msg[0] ? ": " : "", g_matio_msg);
    else if (!rc && nvars == 0 && g_matio_msg[0])
        rc = ndyn_error(NDYN_EFORMAT, "cannot read '%s': %s", path, g_matio_msg);
    if (!rc && !(c.ds->path = strdup(path))) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
    if (rc) {
        ndyn_dataset_free(c.ds);
        return rc;
    }
    *out = c.ds;
    return NDYN_OK;
}
