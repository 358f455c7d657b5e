/* Dense row-major arrays of any of ndyn's dtypes. */
#include "ndyn/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t k_size[NDYN_DTYPE_COUNT] = {8, 4, 1, 2, 4, 8, 1, 2, 4, 8, 1};
static const char *const k_name[NDYN_DTYPE_COUNT] = {
    "float64", "float32", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool"};

size_t ndyn_dtype_size(ndyn_dtype t)
{
    return (unsigned)t < NDYN_DTYPE_COUNT ? k_size[t] : 0;
}

const char *ndyn_dtype_name(ndyn_dtype t)
{
    return (unsigned)t < NDYN_DTYPE_COUNT ? k_name[t] : "invalid";
}

int ndyn_dtype_is_float(ndyn_dtype t) { return t == NDYN_F64 || t == NDYN_F32; }

int ndyn_dtype_is_int(ndyn_dtype t)
{
    return (unsigned)t < NDYN_DTYPE_COUNT && !ndyn_dtype_is_float(t);
}

static int shape_size(int ndim, const size_t *shape, ndyn_dtype t, size_t *size, size_t *nbytes)
{
    if (ndim < 0 || ndim > NDYN_MAX_NDIM)
        return ndyn_error(NDYN_EINVAL, "array has %d dimensions; ndyn supports 0 to %d", ndim,
                          NDYN_MAX_NDIM);
    if ((unsigned)t >= NDYN_DTYPE_COUNT)
        return ndyn_error(NDYN_EINVAL, "invalid dtype code %d", (int)t);
    size_t s = 1;
    for (int i = 0; i < ndim; i++)
        if (ndyn_size_mul(s, shape[i], &s)) return NDYN_ENOMEM;
    if (ndyn_size_mul(s, k_size[t], nbytes)) return NDYN_ENOMEM;
    *size = s;
    return NDYN_OK;
}

static ndyn_array *array_header(ndyn_dtype t, int ndim, const size_t *shape, size_t *nbytes)
{
    size_t size;
    if (shape_size(ndim, shape, t, &size, nbytes)) return NULL;
    ndyn_array *a = ndyn_calloc(1, sizeof *a);
    if (!a) return NULL;
    a->dtype = t;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    a->size = size;
    return a;
}

ndyn_array *ndyn_array_alloc(ndyn_dtype t, int ndim, const size_t *shape)
{
    size_t nbytes;
    ndyn_array *a = array_header(t, ndim, shape, &nbytes);
    if (!a) return NULL;
    a->data = calloc(nbytes ? nbytes : 1, 1);
    if (!a->data) {
        free(a);
        ndyn_error(NDYN_ENOMEM, "out of memory allocating an array of %zu bytes", nbytes);
        return NULL;
    }
    a->owner = 1;
    return a;
}

ndyn_array *ndyn_array_alloc1(ndyn_dtype t, size_t n0)
{
    return ndyn_array_alloc(t, 1, &n0);
}

ndyn_array *ndyn_array_alloc2(ndyn_dtype t, size_t n0, size_t n1)
{
    size_t s[2] = {n0, n1};
    return ndyn_array_alloc(t, 2, s);
}

ndyn_array *ndyn_array_alloc3(ndyn_dtype t, size_t n0, size_t n1, size_t n2)
{
    size_t s[3] = {n0, n1, n2};
    return ndyn_array_alloc(t, 3, s);
}

ndyn_array *ndyn_array_view(ndyn_dtype t, int ndim, const size_t *shape, void *data)
{
    size_t nbytes;
    ndyn_array *a = array_header(t, ndim, shape, &nbytes);
    if (!a) return NULL;
    a->data = data;
    a->owner = 0;
    return a;
}

void ndyn_array_free(ndyn_array *a)
{
    if (!a) return;
    if (a->owner) free(a->data);
    free(a);
}

size_t ndyn_array_nbytes(const ndyn_array *a) { return a->size * k_size[a->dtype]; }

ndyn_array *ndyn_array_copy(const ndyn_array *a)
{
    ndyn_array *b = ndyn_array_alloc(a->dtype, a->ndim, a->shape);
    if (b) memcpy(b->data, a->data, ndyn_array_nbytes(a));
    return b;
}

double ndyn_array_get(const ndyn_array *a, size_t i)
{
    const void *d = a->data;
    switch (a->dtype) {
    case NDYN_F64: return ((const double *)d)[i];
    case NDYN_F32: return ((const float *)d)[i];
    case NDYN_I8: return ((const int8_t *)d)[i];
    case NDYN_I16: return ((const int16_t *)d)[i];
    case NDYN_I32: return ((const int32_t *)d)[i];
    case NDYN_I64: return (double)((const int64_t *)d)[i];
    case NDYN_U8: return ((const uint8_t *)d)[i];
    case NDYN_U16: return ((const uint16_t *)d)[i];
    case NDYN_U32: return ((const uint32_t *)d)[i];
    case NDYN_U64: return (double)((const uint64_t *)d)[i];
    case NDYN_BOOL: return ((const uint8_t *)d)[i] != 0;
    default: return NAN;
    }
}

void ndyn_array_set(ndyn_array *a, size_t i, double v)
{
    void *d = a->data;
    switch (a->dtype) {
    case NDYN_F64: ((double *)d)[i] = v; break;
    case NDYN_F32: ((float *)d)[i] = (float)v; break;
    case NDYN_I8: ((int8_t *)d)[i] = (int8_t)v; break;
    case NDYN_I16: ((int16_t *)d)[i] = (int16_t)v; break;
    case NDYN_I32: ((int32_t *)d)[i] = (int32_t)v; break;
    case NDYN_I64: ((int64_t *)d)[i] = (int64_t)v; break;
    case NDYN_U8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case NDYN_U16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case NDYN_U32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    case NDYN_U64: ((uint64_t *)d)[i] = (uint64_t)v; break;
    case NDYN_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default: break;
    }
}

/* Range of values representable exactly enough by each integer dtype. */
static void int_range(ndyn_dtype t, double *lo, double *hi)
{
    switch (t) {
    case NDYN_I8: *lo = -128; *hi = 127; break;
    case NDYN_I16: *lo = -32768; *hi = 32767; break;
    case NDYN_I32: *lo = -2147483648.0; *hi = 2147483647.0; break;
    case NDYN_I64: *lo = -9223372036854775808.0; *hi = 9223372036854774784.0; break;
    case NDYN_U8: *lo = 0; *hi = 255; break;
    case NDYN_U16: *lo = 0; *hi = 65535; break;
    case NDYN_U32: *lo = 0; *hi = 4294967295.0; break;
    case NDYN_U64: *lo = 0; *hi = 18446744073709549568.0; break;
    case NDYN_BOOL: *lo = -INFINITY; *hi = INFINITY; break;
    default: *lo = -INFINITY; *hi = INFINITY; break;
    }
}

ndyn_array *ndyn_array_cast(const ndyn_array *a, ndyn_dtype t)
{
    ndyn_array *b = ndyn_array_alloc(t, a->ndim, a->shape);
    if (!b) return NULL;
    if (t == a->dtype) {
        memcpy(b->data, a->data, ndyn_array_nbytes(a));
        return b;
    }
    /* 64-bit integers copy exactly between themselves without passing
     * through double. */
    if ((a->dtype == NDYN_I64 || a->dtype == NDYN_U64) && (t == NDYN_I64 || t == NDYN_U64)) {
        for (size_t i = 0; i < a->size; i++) {
            uint64_t v = ((const uint64_t *)a->data)[i];
            int neg = a->dtype == NDYN_I64 && (int64_t)v < 0;
            int big = a->dtype == NDYN_U64 && v > (uint64_t)INT64_MAX;
            if ((t == NDYN_U64 && neg) || (t == NDYN_I64 && big)) {
                ndyn_array_free(b);
                ndyn_error(NDYN_EINVAL, "value at index %zu does not fit in %s", i,
                           ndyn_dtype_name(t));
                return NULL;
            }
            ((uint64_t *)b->data)[i] = v;
        }
        return b;
    }
    double lo, hi;
    int_range(t, &lo, &hi);
    int to_int = ndyn_dtype_is_int(t);
    for (size_t i = 0; i < a->size; i++) {
        double v = ndyn_array_get(a, i);
        if (to_int && t != NDYN_BOOL && (!isfinite(v) || v < lo || v > hi)) {
            ndyn_array_free(b);
            ndyn_error(NDYN_EINVAL, "value %g at index %zu cannot be converted to %s", v, i,
                       ndyn_dtype_name(t));
            return NULL;
        }
        ndyn_array_set(b, i, v);
    }
    return b;
}

int ndyn_array_reshape(ndyn_array *a, int ndim, const size_t *shape)
{
    size_t size, nbytes;
    if (shape_size(ndim, shape, a->dtype, &size, &nbytes)) return NDYN_EINVAL;
    if (size != a->size) {
        char buf[128];
        return ndyn_error(NDYN_ESHAPE, "cannot reshape an array of shape %s (%zu elements) to %zu elements",
                          ndyn_shape_str(a, buf, sizeof buf), a->size, size);
    }
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    return NDYN_OK;
}

int ndyn_check_finite(const double *x, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return ndyn_error(NDYN_ENONFINITE,
                              "%s contains %s at flat index %zu; remove or interpolate non-finite values first",
                              what, isnan(x[i]) ? "NaN" : "Inf", i);
    return NDYN_OK;
}

int ndyn_array_check_finite(const ndyn_array *a, const char *what)
{
    if (a->dtype == NDYN_F64) return ndyn_check_finite(a->data, a->size, what);
    if (a->dtype == NDYN_F32) {
        const float *x = a->data;
        for (size_t i = 0; i < a->size; i++)
            if (!isfinite(x[i]))
                return ndyn_error(NDYN_ENONFINITE,
                                  "%s contains %s at flat index %zu; remove or interpolate non-finite values first",
                                  what, isnan(x[i]) ? "NaN" : "Inf", i);
    }
    return NDYN_OK;
}

const char *ndyn_shape_str(const ndyn_array *a, char *buf, size_t bufsize)
{
    size_t used = 0;
    if (bufsize == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, bufsize - used, "(");
    for (int i = 0; i < a->ndim && used < bufsize; i++)
        used += (size_t)snprintf(buf + used, bufsize - used, "%s%zu", i ? ", " : "", a->shape[i]);
    if (a->ndim == 1 && used < bufsize) used += (size_t)snprintf(buf + used, bufsize - used, ",");
    if (used < bufsize) snprintf(buf + used, bufsize - used, ")");
    return buf;
}
