/* Helpers shared by the tests of the io module: the NumPy-computed
 * expectations in tests/fixtures/io/expected.txt (written by
 * python/make_io_fixtures.py), comparing an array with them, and small file
 * utilities. Include after test.h. */
#ifndef NDYN_IO_TEST_UTIL_H
#define NDYN_IO_TEST_UTIL_H

#include <inttypes.h>
#include <stdint.h>

#include "ndyn/io.h"

#define FIX_IO NDYN_TEST_FIXTURES "/io"

typedef struct t_expect {
    char key[256];    /* "npy/f8_C_le_v1.npy" or "npz/savez.npz:a" */
    char dtype[16];   /* "float64", ..., or "text" */
    int ndim;
    size_t shape[NDYN_MAX_NDIM];
    size_t n;
    char *values;     /* the raw value field (space-separated), or the text */
} t_expect;

typedef struct t_expect_list {
    t_expect *e;
    size_t n;
} t_expect_list;

static inline void t_expect_free(t_expect_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->e[i].values);
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

/* Parse expected.txt; returns 0 on success. */
static inline int t_expect_load(t_expect_list *l)
{
    l->e = NULL;
    l->n = 0;
    FILE *f = fopen(FIX_IO "/expected.txt", "rb");
    if (!f) return -1;
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[0] == '#') continue;
        if (line[len - 1] == '\n') line[--len] = '\0';
        char *f1 = line, *f2 = strchr(f1, '\t');
        if (!f2) continue;
        *f2++ = '\0';
        char *f3 = strchr(f2, '\t');
        if (!f3) continue;
        *f3++ = '\0';
        char *f4 = strchr(f3, '\t');
        if (!f4) continue;
        *f4++ = '\0';
        if (l->n == cap) {
            cap = cap ? cap * 2 : 64;
            l->e = realloc(l->e, cap * sizeof *l->e);
        }
        t_expect *e = &l->e[l->n++];
        memset(e, 0, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", f1);
        snprintf(e->dtype, sizeof e->dtype, "%s", f2);
        e->n = 1;
        for (char *p = f3; *p;) {
            e->shape[e->ndim++] = strtoull(p, &p, 10);
            e->n *= e->shape[e->ndim - 1];
            if (*p == ',') p++;
        }
        e->values = strdup(f4);
    }
    free(line);
    fclose(f);
    return l->n ? 0 : -1;
}

static inline const t_expect *t_expect_find(const t_expect_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].key, key) == 0) return &l->e[i];
    return NULL;
}

/* Unescape Python's unicode_escape for the plain texts we use (\\n, \\\\). */
static inline void t_unescape(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++) {
        if (s[0] == '\\' && s[1] == 'n') {
            out[k++] = '\n';
            s++;
        } else if (s[0] == '\\' && s[1] == '\\') {
            out[k++] = '\\';
            s++;
        } else {
            out[k++] = *s;
        }
    }
    out[k] = '\0';
}

/* Exact comparison of `a` with the expectation: dtype, shape, every value
 * (floats bit for bit: NaN is NaN, -0 is -0). Returns the number of
 * mismatches (and prints the first). */
static inline int t_expect_match(const ndyn_array *a, const t_expect *e)
{
    if (!a) {
        fprintf(stderr, "  %s: no array\n", e->key);
        return 1;
    }
    if (strcmp(ndyn_dtype_name(a->dtype), e->dtype) != 0) {
        fprintf(stderr, "  %s: dtype %s, expected %s\n", e->key, ndyn_dtype_name(a->dtype),
                e->dtype);
        return 1;
    }
    int bad = a->ndim != e->ndim;
    for (int i = 0; !bad && i < a->ndim; i++) bad = a->shape[i] != e->shape[i];
    if (bad) {
        char sh[128];
        fprintf(stderr, "  %s: shape %s, expected ndim %d\n", e->key,
                ndyn_shape_str(a, sh, sizeof sh), e->ndim);
        return 1;
    }
    const char *p = e->values;
    int mism = 0;
    for (size_t i = 0; i < a->size; i++) {
        char *end;
        int ok;
        if (ndyn_dtype_is_float(a->dtype)) {
            double want = strtod(p, &end);
            double got = a->dtype == NDYN_F64 ? ((const double *)a->data)[i]
                                              : (double)((const float *)a->data)[i];
            ok = (isnan(want) && isnan(got)) ||
                 (want == got && signbit(want) == signbit(got));
        } else if (a->dtype == NDYN_U64) {
            uint64_t want = strtoull(p, &end, 10);
            ok = ((const uint64_t *)a->data)[i] == want;
        } else if (a->dtype == NDYN_I64) {
            int64_t want = strtoll(p, &end, 10);
            ok = ((const int64_t *)a->data)[i] == want;
        } else {
            long long want = strtoll(p, &end, 10);
            ok = ndyn_array_get(a, i) == (double)want;
        }
        if (end == p) {
            fprintf(stderr, "  %s: expected.txt has too few values\n", e->key);
            return mism + 1;
        }
        p = end;
        if (!ok && mism++ == 0)
            fprintf(stderr, "  %s: element %zu is %.17g, differs from NumPy's\n", e->key, i,
                    ndyn_array_get(a, i));
    }
    return mism;
}

/* Read a whole file (test side, independent of ndyn_read_file). */
static inline unsigned char *t_slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static inline int t_spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(buf, 1, len, f);
    fclose(f);
    return w == len ? 0 : -1;
}

#endif
