/* Small helpers of the io module: file names, formatted strings, reversing
 * the axes of an array (row-major <-> column-major views). */
#include "io/io_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *io_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *io_extension(const char *path, char *buf, size_t n)
{
    const char *base = io_basename(path);
    const char *dot = strrchr(base, '.');
    if (n == 0) return buf;
    buf[0] = '\0';
    if (!dot || dot == base) return buf;
    size_t i = 0;
    for (; dot[i] && i + 1 < n; i++) buf[i] = (char)tolower((unsigned char)dot[i]);
    buf[i] = '\0';
    return buf;
}

char *io_strdup_printf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        ndyn_error(NDYN_EINVAL, "bad format string");
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        va_end(ap2);
        ndyn_error(NDYN_ENOMEM, "out of memory");
        return NULL;
    }
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

ndyn_array *io_reverse_axes(const ndyn_array *a)
{
    int nd = a->ndim;
    size_t shape[NDYN_MAX_NDIM];
    for (int i = 0; i < nd; i++) shape[i] = a->shape[nd - 1 - i];
    ndyn_array *b = ndyn_array_alloc(a->dtype, nd, shape);
    if (!b || nd < 2 || a->size == 0) {
        if (b) memcpy(b->data, a->data, ndyn_array_nbytes(a));
        return b;
    }
    size_t es = ndyn_dtype_size(a->dtype);
    /* Source strides in elements (row-major); output element with index
     * (j_0..j_{nd-1}) is input element (j_{nd-1}..j_0). Walk the output in
     * order with an odometer over its index. */
    size_t sstride[NDYN_MAX_NDIM], idx[NDYN_MAX_NDIM] = {0};
    size_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        sstride[i] = s;
        s *= a->shape[i];
    }
    /* Output axis k corresponds to input axis nd-1-k. */
    size_t ostep[NDYN_MAX_NDIM];
    for (int k = 0; k < nd; k++) ostep[k] = sstride[nd - 1 - k];
    const unsigned char *src = a->data;
    unsigned char *dst = b->data;
    size_t off = 0;
    for (size_t o = 0; o < b->size; o++) {
        memcpy(dst + o * es, src + off * es, es);
        for (int k = nd - 1; k >= 0; k--) {
            if (++idx[k] < b->shape[k]) {
                off += ostep[k];
                break;
            }
            off -= ostep[k] * (idx[k] - 1);
            idx[k] = 0;
        }
    }
    return b;
}
