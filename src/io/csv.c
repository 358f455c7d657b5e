/* CSV (and TSV, semicolon- or whitespace-separated) tables of numbers.
 *
 * Rules: the delimiter is the most frequent of ',', '\t', ';' on the first
 * content line, or runs of blanks when it has none. Blank lines and lines
 * starting with '#' are skipped; a UTF-8 byte-order mark and '\r' line ends
 * are accepted; a field may be wrapped in double quotes ("" inside is a
 * quote). The first content line is a header when any of its fields is not
 * a number. Every data row must have the same number of fields, each a
 * finite number: an empty field, text, NaN or Inf is an error naming the
 * line and column.
 */
#include "io/io_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct field {
    char *s; /* trimmed, unquoted; points into a scratch copy of the line */
} field;

typedef struct line_fields {
    field *f;
    size_t n, cap;
    char *buf;
    size_t bufcap;
} line_fields;

static int push(line_fields *lf, char *s)
{
    if (lf->n == lf->cap) {
        size_t cap = lf->cap ? lf->cap * 2 : 16;
        field *p = realloc(lf->f, cap * sizeof *p);
        if (!p) return ndyn_error(NDYN_ENOMEM, "out of memory");
        lf->f = p;
        lf->cap = cap;
    }
    lf->f[lf->n++].s = s;
    return NDYN_OK;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static char *trim(char *s)
{
    while (is_blank(*s)) s++;
    size_t n = strlen(s);
    while (n && is_blank(s[n - 1])) s[--n] = '\0';
    return s;
}

/* Split line [p, p+n) into fields. delim 0: runs of blanks. */
static int split(const char *p, size_t n, char delim, line_fields *lf, size_t lineno)
{
    lf->n = 0;
    if (n + 1 > lf->bufcap) {
        char *b = realloc(lf->buf, n + 1);
        if (!b) return ndyn_error(NDYN_ENOMEM, "out of memory");
        lf->buf = b;
        lf->bufcap = n + 1;
    }
    memcpy(lf->buf, p, n);
    lf->buf[n] = '\0';
    char *s = lf->buf, *end = lf->buf + n;
    if (!delim) {
        while (s < end) {
            while (s < end && is_blank(*s)) s++;
            if (s >= end) break;
            char *start = s;
            while (s < end && !is_blank(*s)) s++;
            *s++ = '\0';
            if (push(lf, start)) return NDYN_ENOMEM;
        }
        return NDYN_OK;
    }
    for (;;) {
        while (s < end && is_blank(*s)) s++;
        char *start = s;
        int quoted = s < end && *s == '"';
        if (quoted) {
            /* Quoted field: copy in place, "" -> ". */
            char *w = s;
            s++;
            for (;;) {
                if (s >= end)
                    return ndyn_error(NDYN_EFORMAT, "line %zu: unterminated quoted field",
                                      lineno);
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        *w++ = '"';
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                *w++ = *s++;
            }
            *w = '\0';
            while (s < end && is_blank(*s)) s++;
            if (s < end && *s != delim)
                return ndyn_error(NDYN_EFORMAT, "line %zu: text after a closing quote", lineno);
        } else {
            while (s < end && *s != delim) s++;
        }
        int last = s >= end;
        *s = '\0';
        /* A quoted field's text was copied over its opening quote. */
        if (push(lf, quoted ? start : trim(start))) return NDYN_ENOMEM;
        if (last) break;
        s++;
    }
    return NDYN_OK;
}

/* Strictly parse a number; 0 ok, 1 not a number, 2 non-finite. */
static int parse_number(const char *s, double *v)
{
    if (!*s) return 1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end) return 1;
    *v = x;
    return isfinite(x) ? 0 : 2;
}

static char detect_delim(const char *p, size_t n)
{
    size_t c = 0, t = 0, s = 0;
    int inq = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') inq = !inq;
        if (inq) continue;
        if (p[i] == ',') c++;
        else if (p[i] == '\t') t++;
        else if (p[i] == ';') s++;
    }
    if (!c && !t && !s) return 0;
    if (c >= t && c >= s) return ',';
    if (t >= s) return '\t';
    return ';';
}

int ndyn_csv_read(const char *path, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_csv_read: out is NULL");
    *out = NULL;
    void *vbuf;
    size_t len;
    int rc = ndyn_read_file(path, SIZE_MAX - 1, &vbuf, &len);
    if (rc) return rc;
    char *buf = vbuf;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ndyn_error(NDYN_EFORMAT, "'%s' contains NUL bytes: a binary file, not CSV text",
                          path);
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    line_fields lf = {0};
    char delim = 0;
    int have_first = 0, header = 0;
    size_t cols = 0, rows = 0, cap = 0, lineno = 0, first_data_line = 0;
    double *vals = NULL;
    char **names = NULL;
    while (pos < len && !rc) {
        const char *p = buf + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n && p[n - 1] == '\r') n--;
        size_t k = 0;
        while (k < n && is_blank(p[k])) k++;
        if (k == n || p[k] == '#') continue;
        if (!have_first) delim = detect_delim(p, n);
        if ((rc = split(p, n, delim, &lf, lineno))) break;
        if (!have_first) {
            have_first = 1;
            cols = lf.n;
            for (size_t j = 0; j < lf.n; j++) {
                double v;
                if (parse_number(lf.f[j].s, &v) == 1 && lf.f[j].s[0]) header = 1;
            }
            if (header) {
                names = calloc(cols, sizeof *names);
                if (!names) {
                    rc = ndyn_error(NDYN_ENOMEM, "out of memory");
                    break;
                }
                for (size_t j = 0; j < cols && !rc; j++) {
                    names[j] = lf.f[j].s[0] ? strdup(lf.f[j].s) : io_strdup_printf("col%zu", j);
                    if (!names[j]) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
                }
                continue;
            }
        }
        if (lf.n != cols) {
            rc = ndyn_error(NDYN_EFORMAT, "%s: line %zu has %zu fields, expected %zu (as on the "
                            "first %s line)", path, lineno, lf.n, cols, header ? "header" : "data");
            break;
        }
        if (!first_data_line) first_data_line = lineno;
        if (rows == cap) {
            size_t ncap = cap ? cap * 2 : 64, bytes;
            if (ndyn_size_mul(ncap, cols ? cols : 1, &bytes) ||
                ndyn_size_mul(bytes, sizeof(double), &bytes)) {
                rc = NDYN_ENOMEM;
                break;
            }
            double *nv = realloc(vals, bytes);
            if (!nv) {
                rc = ndyn_error(NDYN_ENOMEM, "out of memory reading '%s'", path);
                break;
            }
            vals = nv;
            cap = ncap;
        }
        for (size_t j = 0; j < cols; j++) {
            double v = 0;
            const char *s = lf.f[j].s;
            int r = parse_number(s, &v);
            char colname[100];
            if (names) snprintf(colname, sizeof colname, "%zu ('%.60s')", j + 1, names[j]);
            else snprintf(colname, sizeof colname, "%zu", j + 1);
            if (r == 1 && !*s) {
                rc = ndyn_error(NDYN_EFORMAT, "%s: line %zu, column %s: missing value; ndyn "
                                "needs a number in every field (fill or drop missing values)",
                                path, lineno, colname);
                break;
            }
            if (r == 1) {
                rc = ndyn_error(NDYN_EFORMAT, "%s: line %zu, column %s: '%.40s' is not a number",
                                path, lineno, colname, s);
                break;
            }
            if (r == 2) {
                rc = ndyn_error(NDYN_ENONFINITE, "%s: line %zu, column %s: '%.40s' is not a "
                                "finite number; ndyn needs finite values (drop or impute NaN/Inf)",
                                path, lineno, colname, s);
                break;
            }
            vals[rows * cols + j] = v;
        }
        rows++;
    }
    free(lf.f);
    free(lf.buf);
    free(buf);
    ndyn_dataset *ds = NULL;
    if (!rc && rows == 0)
        rc = ndyn_error(NDYN_EFORMAT, "'%s' has no data rows%s", path,
                        header ? " (only a header)" : "");
    if (!rc && cols == 0) rc = ndyn_error(NDYN_EFORMAT, "'%s' has no columns", path);
    if (!rc && !(ds = ndyn_dataset_new())) rc = NDYN_ENOMEM;
    if (!rc) {
        ndyn_array *a = ndyn_array_alloc2(NDYN_F64, rows, cols);
        char *src = io_strdup_printf("%s (%zu rows from line %zu, %s-separated%s)", path, rows,
                                     first_data_line,
                                     delim == ',' ? "comma" : delim == '\t' ? "tab"
                                     : delim == ';' ? "semicolon" : "blank",
                                     header ? ", with header" : "");
        if (!a || !src) rc = NDYN_ENOMEM;
        else memcpy(a->data, vals, rows * cols * sizeof(double));
        if (!rc) rc = ndyn_dataset_add(ds, "data", a, src);
        else ndyn_array_free(a);
        free(src);
    }
    /* One 1-D entry per named column, when the names are usable. */
    for (size_t j = 0; !rc && names && j < cols; j++) {
        int clash = strcmp(names[j], "data") == 0;
        for (size_t i = 0; i < cols && !clash; i++)
            if (i != j && strcmp(names[i], names[j]) == 0) clash = 1;
        if (clash) {
            ndyn_warn("%s: column %zu ('%s') clashes with another name; use 'data' column %zu",
                      path, j + 1, names[j], j);
            continue;
        }
        ndyn_array *c = ndyn_array_alloc1(NDYN_F64, rows);
        char *src = io_strdup_printf("%s: column %zu", path, j + 1);
        if (!c || !src) {
            ndyn_array_free(c);
            free(src);
            rc = NDYN_ENOMEM;
            break;
        }
        double *d = c->data;
        for (size_t i = 0; i < rows; i++) d[i] = vals[i * cols + j];
        rc = ndyn_dataset_add(ds, names[j], c, src);
        free(src);
    }
    for (size_t j = 0; names && j < cols; j++) free(names[j]);
    free(names);
    free(vals);
    if (rc) {
        ndyn_dataset_free(ds);
        return rc;
    }
    if (!(ds->path = strdup(path))) {
        ndyn_dataset_free(ds);
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    *out = ds;
    return NDYN_OK;
}

/* ----------------------------------------------------------------- writing */

static void put_name(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_value(FILE *f, const ndyn_array *a, size_t i)
{
    const void *d = a->data;
    switch (a->dtype) {
    case NDYN_F64: fprintf(f, "%.17g", ((const double *)d)[i]); break;
    case NDYN_F32: fprintf(f, "%.9g", (double)((const float *)d)[i]); break;
    case NDYN_I64: fprintf(f, "%" PRId64, ((const int64_t *)d)[i]); break;
    case NDYN_U64: fprintf(f, "%" PRIu64, ((const uint64_t *)d)[i]); break;
    default: fprintf(f, "%.0f", ndyn_array_get(a, i)); break;
    }
}

int ndyn_csv_write(const char *path, const ndyn_array *a, const char *const *colnames)
{
    if (!a) return ndyn_error(NDYN_EINVAL, "no array to write to '%s'", path ? path : "");
    if (a->ndim > 2) {
        char sh[160];
        return ndyn_error(NDYN_ESHAPE, "cannot write a %d-D array %s as CSV (1-D or 2-D only); "
                          "write .npy or .npz instead", a->ndim, ndyn_shape_str(a, sh, sizeof sh));
    }
    size_t rows = a->ndim == 0 ? 1 : a->shape[0], cols = a->ndim == 2 ? a->shape[1] : 1;
    io_atomic w;
    int rc = io_atomic_open(&w, path);
    if (rc) return rc;
    if (colnames) {
        for (size_t j = 0; j < cols; j++) {
            if (j) fputc(',', w.f);
            put_name(w.f, colnames[j] ? colnames[j] : "");
        }
        fputc('\n', w.f);
    }
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            if (j) fputc(',', w.f);
            put_value(w.f, a, i * cols + j);
        }
        fputc('\n', w.f);
    }
    if (ferror(w.f)) {
        io_atomic_abort(&w);
        return ndyn_error(NDYN_EIO, "writing '%s' failed (disk full?)", path);
    }
    return io_atomic_commit(&w);
}
