/* NumPy .npy files: format versions 1.0, 2.0 and 3.0, dtypes f4 f8 i1 i2 i4
 * i8 u1 u2 u4 u8 b1 in either byte order, C or Fortran order.
 *
 * Layout: "\x93NUMPY", major, minor, header length (2 bytes little-endian in
 * 1.0, 4 bytes in 2.0/3.0), then the header: a Python dict literal
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n' (3.0 allows UTF-8 in it), then the raw
 * data. The reader accepts exactly that grammar (keys in any order, either
 * quote, optional trailing commas, whitespace) and nothing else: no unknown
 * or repeated keys, no expressions, no trailing bytes after the data.
 */
#include "io/io_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Our own headers are < 300 bytes; NumPy writes 2.0 headers only for huge
 * structured dtypes, which ndyn does not read anyway. */
#define NPY_MAX_HEADER (1u << 20)

typedef struct npy_info {
    ndyn_dtype dtype;
    int swap;            /* data in the other byte order than the host */
    int fortran;         /* column-major data */
    int ndim;
    size_t shape[NDYN_MAX_NDIM];
    size_t size;         /* elements */
    size_t nbytes;       /* data bytes */
    size_t data_offset;  /* bytes before the data */
    size_t ulen;         /* unicode string array ('<U<ulen>'): characters per string; 0 numeric */
} npy_info;

/* ------------------------------------------------------------- header dict */

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Where we are, for messages: the next few header characters. */
static const char *near(const cursor *c, char *buf, size_t n)
{
    size_t k = 0;
    for (const char *q = c->p; q < c->end && k + 1 < n && k < 20; q++)
        buf[k++] = (*q >= 32 && *q < 127) ? *q : '?';
    buf[k] = '\0';
    if (k == 0) snprintf(buf, n, "end of header");
    return buf;
}

static int syntax(const cursor *c, const char *what)
{
    char b[32];
    return ndyn_error(NDYN_EFORMAT, "malformed .npy header: expected %s near '%s'", what,
                      near(c, b, sizeof b));
}

/* A Python string literal without escapes; *s points into the header. */
static int parse_string(cursor *c, const char **s, size_t *n)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return syntax(c, "a quoted string");
    char q = *c->p++;
    const char *start = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n' || *c->p == '\0')
            return syntax(c, "a plain string (no escapes or line breaks)");
        c->p++;
    }
    if (c->p >= c->end) return syntax(c, "a closing quote");
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return NDYN_OK;
}

static int parse_bool(cursor *c, int *v)
{
    skip_ws(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        *v = 1;
        c->p += 4;
    } else if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        *v = 0;
        c->p += 5;
    } else {
        return syntax(c, "True or False");
    }
    /* The word must end here ("Trueish" is not a boolean). */
    if (c->p < c->end && (*c->p == '_' || (*c->p >= 'a' && *c->p <= 'z') ||
                          (*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= '0' && *c->p <= '9')))
        return syntax(c, "True or False");
    return NDYN_OK;
}

/* A non-negative decimal integer as Python writes it (no sign, no leading
 * zeros); an 'L' suffix from Python 2 era files is accepted. */
static int parse_dim(cursor *c, size_t *v)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return syntax(c, "a dimension (integer)");
    if (*c->p == '0' && c->p + 1 < c->end && c->p[1] >= '0' && c->p[1] <= '9')
        return syntax(c, "an integer without leading zeros");
    size_t x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');
        if (x > (SIZE_MAX - d) / 10)
            return ndyn_error(NDYN_EFORMAT, "malformed .npy header: a dimension of the shape "
                              "overflows (more than %zu)", (size_t)SIZE_MAX);
        x = x * 10 + d;
        c->p++;
    }
    if (c->p < c->end && *c->p == 'L') c->p++;
    *v = x;
    return NDYN_OK;
}

static int parse_shape(cursor *c, npy_info *info)
{
    if (!accept(c, '(')) {
        skip_ws(c);
        return syntax(c, "a shape tuple '(...)'");
    }
    int n = 0, trailing_comma = 0;
    if (!accept(c, ')')) {
        for (;;) {
            size_t d = 0;
            int rc = parse_dim(c, &d);
            if (rc) return rc;
            if (n == NDYN_MAX_NDIM)
                return ndyn_error(NDYN_EUNSUPPORTED, "the array has more than %d dimensions; "
                                  "ndyn supports up to %d", NDYN_MAX_NDIM, NDYN_MAX_NDIM);
            info->shape[n++] = d;
            trailing_comma = 0;
            if (accept(c, ',')) {
                trailing_comma = 1;
                if (accept(c, ')')) break;
                continue;
            }
            if (accept(c, ')')) break;
            return syntax(c, "',' or ')' in the shape");
        }
        /* (3) is the integer 3 in Python, not a tuple. */
        if (n == 1 && !trailing_comma)
            return ndyn_error(NDYN_EFORMAT, "malformed .npy header: shape '(%zu)' is not a "
                              "tuple; a 1-D shape is written '(%zu,)'", info->shape[0],
                              info->shape[0]);
    }
    info->ndim = n;
    return NDYN_OK;
}

static int parse_descr(const char *s, size_t n, npy_info *info)
{
    char shown[40];
    snprintf(shown, sizeof shown, "%.*s", (int)(n < 32 ? n : 32), s);
    /* Unicode strings: '<U12' is 12 UCS-4 code points per element. */
    if (n >= 3 && n <= 11 && strchr("<>|=", s[0]) && s[1] == 'U') {
        size_t u = 0;
        for (size_t i = 2; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return ndyn_error(NDYN_EUNSUPPORTED, "unsupported .npy dtype '%s'", shown);
            u = u * 10 + (size_t)(s[i] - '0');
        }
        if (u == 0 || u > (1u << 24))
            return ndyn_error(NDYN_EUNSUPPORTED, "unsupported .npy string dtype '%s' (1 to 2^24 "
                              "characters per string are read)", shown);
        info->dtype = NDYN_U32;
        info->ulen = u;
        info->swap = (s[0] == '<' && !io_host_is_little()) || (s[0] == '>' && io_host_is_little());
        return NDYN_OK;
    }
    if (n < 3 || n > 4 || !strchr("<>|=", s[0]))
        return ndyn_error(NDYN_EUNSUPPORTED, "unsupported .npy dtype '%s'; ndyn reads f4 f8 i1 "
                          "i2 i4 i8 u1 u2 u4 u8 b1 (save with a plain numeric dtype)", shown);
    char kind = s[1];
    unsigned size = 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return ndyn_error(NDYN_EUNSUPPORTED, "unsupported .npy dtype '%s'; ndyn reads f4 f8 "
                              "i1 i2 i4 i8 u1 u2 u4 u8 b1", shown);
        size = size * 10 + (unsigned)(s[i] - '0');
    }
    ndyn_dtype t;
    if (kind == 'f' && size == 4) t = NDYN_F32;
    else if (kind == 'f' && size == 8) t = NDYN_F64;
    else if (kind == 'i' && size == 1) t = NDYN_I8;
    else if (kind == 'i' && size == 2) t = NDYN_I16;
    else if (kind == 'i' && size == 4) t = NDYN_I32;
    else if (kind == 'i' && size == 8) t = NDYN_I64;
    else if (kind == 'u' && size == 1) t = NDYN_U8;
    else if (kind == 'u' && size == 2) t = NDYN_U16;
    else if (kind == 'u' && size == 4) t = NDYN_U32;
    else if (kind == 'u' && size == 8) t = NDYN_U64;
    else if (kind == 'b' && size == 1) t = NDYN_BOOL;
    else
        return ndyn_error(NDYN_EUNSUPPORTED, "unsupported .npy dtype '%s'; ndyn reads f4 f8 i1 "
                          "i2 i4 i8 u1 u2 u4 u8 b1 (convert with arr.astype(...) first)", shown);
    if (size > 1 && s[0] == '|')
        return ndyn_error(NDYN_EFORMAT, "malformed .npy dtype '%s': byte order '|' is only "
                          "valid for 1-byte types", shown);
    info->dtype = t;
    info->swap = size > 1 && ((s[0] == '<' && !io_host_is_little()) ||
                              (s[0] == '>' && io_host_is_little()));
    return NDYN_OK;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t k;
        unsigned long cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            k = 1;
            cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            k = 2;
            cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            k = 3;
            cp = b & 0x07;
        } else {
            return 0;
        }
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Parse the header dict text (hdr, n bytes) into info (dtype, order, shape). */
static int parse_dict(const char *hdr, size_t n, int major, npy_info *info)
{
    if (major >= 3 && !valid_utf8((const unsigned char *)hdr, n))
        return ndyn_error(NDYN_EFORMAT, "malformed .npy header: format 3.0 header is not "
                          "valid UTF-8");
    if (major < 3)
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)hdr[i] >= 0x80)
                return ndyn_error(NDYN_EFORMAT, "malformed .npy header: non-ASCII byte 0x%02x "
                                  "at offset %zu", (unsigned char)hdr[i], i);
    cursor c = {hdr, hdr + n};
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0, rc;
    const char *descr = NULL;
    size_t descr_len = 0;
    if (!accept(&c, '{')) return syntax(&c, "'{' at the start of the header");
    if (!accept(&c, '}')) {
        for (;;) {
            const char *key;
            size_t klen;
            if ((rc = parse_string(&c, &key, &klen))) return rc;
            if (!accept(&c, ':')) return syntax(&c, "':' after a key");
            if (klen == 5 && memcmp(key, "descr", 5) == 0) {
                if (seen_descr++) return ndyn_error(NDYN_EFORMAT, "malformed .npy header: "
                                                    "key 'descr' appears twice");
                skip_ws(&c);
                if (c.p < c.end && *c.p == '[')
                    return ndyn_error(NDYN_EUNSUPPORTED, "structured .npy dtypes (records) "
                                      "are not supported; save each field as its own array");
                if ((rc = parse_string(&c, &descr, &descr_len))) return rc;
            } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
                if (seen_fortran++) return ndyn_error(NDYN_EFORMAT, "malformed .npy header: "
                                                      "key 'fortran_order' appears twice");
                if ((rc = parse_bool(&c, &info->fortran))) return rc;
            } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
                if (seen_shape++) return ndyn_error(NDYN_EFORMAT, "malformed .npy header: "
                                                    "key 'shape' appears twice");
                if ((rc = parse_shape(&c, info))) return rc;
            } else {
                char k[40];
                size_t m = klen < 32 ? klen : 32;
                for (size_t i = 0; i < m; i++)
                    k[i] = (key[i] >= 32 && key[i] < 127) ? key[i] : '?';
                k[m] = '\0';
                return ndyn_error(NDYN_EFORMAT, "malformed .npy header: unknown key '%s' "
                                  "(expected descr, fortran_order, shape)", k);
            }
            if (accept(&c, ',')) {
                if (accept(&c, '}')) break;
                continue;
            }
            if (accept(&c, '}')) break;
            return syntax(&c, "',' or '}'");
        }
    }
    skip_ws(&c);
    if (c.p != c.end) return syntax(&c, "only padding after '}'");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return ndyn_error(NDYN_EFORMAT, "malformed .npy header: key '%s' is missing",
                          !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    /* The dtype is judged once the whole dict parsed. */
    if ((rc = parse_descr(descr, descr_len, info))) return rc;
    size_t es = ndyn_dtype_size(info->dtype) * (info->ulen ? info->ulen : 1), size = 1;
    for (int i = 0; i < info->ndim; i++)
        if (ndyn_size_mul(size, info->shape[i], &size))
            return ndyn_error(NDYN_EFORMAT, "malformed .npy header: the shape's element count "
                              "overflows");
    if (ndyn_size_mul(size, es, &info->nbytes))
        return ndyn_error(NDYN_EFORMAT, "malformed .npy header: the data size overflows");
    info->size = size;
    return NDYN_OK;
}

/* Magic and version from the first bytes; *prefix is 10 or 12, *hdr_len the
 * dict's length. `avail` bytes are readable at p. */
static int parse_prefix(const unsigned char *p, size_t avail, size_t *prefix, size_t *hdr_len,
                        int *major)
{
    if (avail < NPY_MAGIC_LEN || memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return ndyn_error(NDYN_EFORMAT, "not a .npy file (the magic bytes \\x93NUMPY are "
                          "missing)");
    if (avail < 10)
        return ndyn_error(NDYN_EFORMAT, "truncated .npy file: %zu bytes, shorter than the "
                          "file header", avail);
    int ma = p[6], mi = p[7];
    if (!((ma == 1 || ma == 2 || ma == 3) && mi == 0))
        return ndyn_error(NDYN_EUNSUPPORTED, ".npy format version %d.%d is not supported "
                          "(ndyn reads 1.0, 2.0, 3.0)", ma, mi);
    if (ma == 1) {
        *prefix = 10;
        *hdr_len = io_le16(p + 8);
    } else {
        if (avail < 12)
            return ndyn_error(NDYN_EFORMAT, "truncated .npy file: %zu bytes, shorter than the "
                              "file header", avail);
        *prefix = 12;
        *hdr_len = io_le32(p + 8);
    }
    *major = ma;
    if (*hdr_len > NPY_MAX_HEADER)
        return ndyn_error(NDYN_EFORMAT, ".npy header length %zu is larger than the %u bytes "
                          "ndyn accepts (corrupt file?)", *hdr_len, NPY_MAX_HEADER);
    return NDYN_OK;
}

/* --------------------------------------------------------------- decoding */

static void byteswap(void *data, size_t n, size_t es)
{
    unsigned char *p = data;
    for (size_t i = 0; i < n; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Allocate the array that will receive the raw data: C-ordered with the
 * shape as stored (reversed for Fortran order). */
static ndyn_array *alloc_raw(const npy_info *info)
{
    size_t shape[NDYN_MAX_NDIM];
    for (int i = 0; i < info->ndim; i++)
        shape[i] = info->fortran ? info->shape[info->ndim - 1 - i] : info->shape[i];
    return ndyn_array_alloc(info->dtype, info->ndim, shape);
}

/* Byte order, bool normalisation and Fortran -> C order on the raw array. */
static int finish(const npy_info *info, ndyn_array *raw, ndyn_array **out)
{
    size_t es = ndyn_dtype_size(info->dtype);
    if (info->swap) byteswap(raw->data, raw->size, es);
    if (info->dtype == NDYN_BOOL) {
        unsigned char *b = raw->data;
        for (size_t i = 0; i < raw->size; i++) b[i] = b[i] != 0;
    }
    if (info->fortran && info->ndim >= 2) {
        ndyn_array *c = io_reverse_axes(raw);
        ndyn_array_free(raw);
        if (!c) return NDYN_ENOMEM;
        raw = c;
    }
    *out = raw;
    return NDYN_OK;
}

static int not_numeric(void)
{
    return ndyn_error(NDYN_EUNSUPPORTED, "the .npy file holds strings (a unicode array), not "
                      "numbers; read it with ndyn_npy_read_text_mem or from an .npz as text");
}

/* The header of a whole .npy file held in memory, p (len bytes): info, with
 * info->data_offset where the data begin. */
static int parse_header_mem(const unsigned char *p, size_t len, npy_info *info)
{
    size_t prefix = 0, hdr_len = 0;
    int major = 0, rc;
    memset(info, 0, sizeof *info);
    if ((rc = parse_prefix(p, len, &prefix, &hdr_len, &major))) return rc;
    if (hdr_len > len - prefix)
        return ndyn_error(NDYN_EFORMAT, "truncated .npy file: the header claims %zu bytes but "
                          "only %zu follow", hdr_len, len - prefix);
    if ((rc = parse_dict((const char *)p + prefix, hdr_len, major, info))) return rc;
    info->data_offset = prefix + hdr_len;
    return NDYN_OK;
}

int ndyn_npy_read_mem(const void *buf, size_t len, ndyn_array **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_npy_read_mem: out is NULL");
    *out = NULL;
    if (!buf && len) return ndyn_error(NDYN_EINVAL, "ndyn_npy_read_mem: buffer is NULL");
    const unsigned char *p = buf;
    npy_info info;
    int rc = parse_header_mem(p, len, &info);
    if (rc) return rc;
    if (info.ulen) return not_numeric();
    size_t have = len - info.data_offset;
    char sh[160];
    if (have != info.nbytes) {
        ndyn_array tmp = {info.dtype, info.ndim, {0}, info.size, NULL, 0};
        memcpy(tmp.shape, info.shape, sizeof info.shape);
        ndyn_shape_str(&tmp, sh, sizeof sh);
        if (have < info.nbytes)
            return ndyn_error(NDYN_EFORMAT, "truncated .npy file: shape %s of %s needs %zu "
                              "bytes of data, only %zu present", sh,
                              ndyn_dtype_name(info.dtype), info.nbytes, have);
        return ndyn_error(NDYN_EFORMAT, "corrupt .npy file: %zu unexpected bytes after the "
                          "data of shape %s", have - info.nbytes, sh);
    }
    ndyn_array *raw = alloc_raw(&info);
    if (!raw) return NDYN_ENOMEM;
    if (info.nbytes) memcpy(raw->data, p + info.data_offset, info.nbytes);
    return finish(&info, raw, out);
}

int ndyn_npy_read(const char *path, ndyn_array **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_npy_read: out is NULL");
    *out = NULL;
    if (!path || !*path) return ndyn_error(NDYN_EINVAL, "empty .npy file name");
    FILE *f = fopen(path, "rb");
    if (!f) return ndyn_error(NDYN_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    int have_st = fstat(fileno(f), &st) == 0;
    int regular = have_st && S_ISREG(st.st_mode);
    if (have_st && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ndyn_error(NDYN_EIO, "'%s' is a directory; give a .npy file", path);
    }
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, f);
    size_t prefix = 0, hdr_len = 0;
    int major = 0, rc;
    char *hdr = NULL;
    ndyn_array *raw = NULL;
    npy_info info;
    memset(&info, 0, sizeof info);
    if ((rc = parse_prefix(pre, got, &prefix, &hdr_len, &major))) goto fail;
    if (regular && (uintmax_t)st.st_size < (uintmax_t)prefix + hdr_len) {
        rc = ndyn_error(NDYN_EFORMAT, "truncated .npy file: the header claims %zu bytes but "
                        "the file has %jd", hdr_len, (intmax_t)st.st_size);
        goto fail;
    }
    hdr = malloc(hdr_len ? hdr_len : 1);
    if (!hdr) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        goto fail;
    }
    /* Part of the header may already be in `pre`. */
    size_t in_pre = got > prefix ? got - prefix : 0;
    if (in_pre > hdr_len) in_pre = hdr_len;
    memcpy(hdr, pre + prefix, in_pre);
    if (fread(hdr + in_pre, 1, hdr_len - in_pre, f) != hdr_len - in_pre) {
        rc = ndyn_error(NDYN_EFORMAT, "truncated .npy file: the header is cut short");
        goto fail;
    }
    if ((rc = parse_dict(hdr, hdr_len, major, &info))) goto fail;
    if (info.ulen) {
        rc = not_numeric();
        goto fail;
    }
    info.data_offset = prefix + hdr_len;
    char sh[160];
    {
        ndyn_array tmp = {info.dtype, info.ndim, {0}, info.size, NULL, 0};
        memcpy(tmp.shape, info.shape, sizeof info.shape);
        ndyn_shape_str(&tmp, sh, sizeof sh);
    }
    if (regular) {
        uintmax_t have = (uintmax_t)st.st_size - info.data_offset;
        if (have < info.nbytes) {
            rc = ndyn_error(NDYN_EFORMAT, "truncated .npy file: shape %s of %s needs %zu bytes "
                            "of data, only %ju present", sh, ndyn_dtype_name(info.dtype),
                            info.nbytes, have);
            goto fail;
        }
        if (have > info.nbytes) {
            rc = ndyn_error(NDYN_EFORMAT, "corrupt .npy file: %ju unexpected bytes after the "
                            "data of shape %s", have - info.nbytes, sh);
            goto fail;
        }
    }
    raw = alloc_raw(&info);
    if (!raw) {
        rc = NDYN_ENOMEM;
        goto fail;
    }
    /* The prefix read may have swallowed the first data bytes of a tiny file. */
    size_t consumed = got > info.data_offset ? got - info.data_offset : 0;
    if (consumed > info.nbytes) consumed = info.nbytes;
    memcpy(raw->data, pre + info.data_offset, consumed);
    if (fread((char *)raw->data + consumed, 1, info.nbytes - consumed, f) !=
        info.nbytes - consumed) {
        rc = ndyn_error(NDYN_EFORMAT, "truncated .npy file: shape %s of %s needs %zu bytes of "
                        "data, fewer present", sh, ndyn_dtype_name(info.dtype), info.nbytes);
        goto fail;
    }
    if (got > info.data_offset + info.nbytes || fgetc(f) != EOF) {
        rc = ndyn_error(NDYN_EFORMAT, "corrupt .npy file: unexpected bytes after the data of "
                        "shape %s", sh);
        goto fail;
    }
    if (ferror(f)) {
        rc = ndyn_error(NDYN_EIO, "reading failed: %s", strerror(errno));
        goto fail;
    }
    fclose(f);
    free(hdr);
    if ((rc = finish(&info, raw, out))) return ndyn_error_context(rc, "reading '%s': ", path);
    return NDYN_OK;
fail:
    fclose(f);
    free(hdr);
    ndyn_array_free(raw);
    return ndyn_error_context(rc, "reading '%s': ", path);
}

/* ---------------------------------------------------------------- writing */

const char *io_npy_descr(ndyn_dtype t)
{
    static const char *const le[NDYN_DTYPE_COUNT] = {"<f8", "<f4", "|i1", "<i2", "<i4", "<i8",
                                                     "|u1", "<u2", "<u4", "<u8", "|b1"};
    static const char *const be[NDYN_DTYPE_COUNT] = {">f8", ">f4", "|i1", ">i2", ">i4", ">i8",
                                                     "|u1", ">u2", ">u4", ">u8", "|b1"};
    if ((unsigned)t >= NDYN_DTYPE_COUNT) return NULL;
    return io_host_is_little() ? le[t] : be[t];
}

static int check_array(const ndyn_array *a)
{
    if (!a) return ndyn_error(NDYN_EINVAL, "no array to write (NULL)");
    if ((unsigned)a->dtype >= NDYN_DTYPE_COUNT)
        return ndyn_error(NDYN_EINVAL, "array has invalid dtype code %d", (int)a->dtype);
    if (a->ndim < 0 || a->ndim > NDYN_MAX_NDIM)
        return ndyn_error(NDYN_EINVAL, "array has %d dimensions; .npy writing supports 0..%d",
                          a->ndim, NDYN_MAX_NDIM);
    size_t s = 1;
    for (int i = 0; i < a->ndim; i++)
        if (ndyn_size_mul(s, a->shape[i], &s)) return NDYN_EINVAL;
    if (s != a->size)
        return ndyn_error(NDYN_EINVAL, "array size %zu does not match its shape (%zu elements)",
                          a->size, s);
    if (!a->data && a->size)
        return ndyn_error(NDYN_EINVAL, "array of %zu elements has no data", a->size);
    return NDYN_OK;
}

int io_npy_header(const ndyn_array *a, unsigned char **hdr, size_t *len)
{
    int rc = check_array(a);
    if (rc) return rc;
    char dict[64 + NDYN_MAX_NDIM * 24];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     io_npy_descr(a->dtype));
    for (int i = 0; i < a->ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, i ? ", %zu" : "%zu", a->shape[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", a->ndim == 1 ? "," : "");
    /* Pad with spaces so that magic + length + dict + '\n' is a multiple of 64,
     * as NumPy does (aligned data). Version 1.0 fits any header we write. */
    size_t prefix = 10, total = prefix + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    size_t hlen = total - prefix;
    unsigned char *h = malloc(total);
    if (!h) return ndyn_error(NDYN_ENOMEM, "out of memory");
    memcpy(h, NPY_MAGIC, NPY_MAGIC_LEN);
    h[6] = 1;
    h[7] = 0;
    h[8] = (unsigned char)(hlen & 0xff);
    h[9] = (unsigned char)(hlen >> 8);
    memcpy(h + prefix, dict, (size_t)n);
    memset(h + prefix + n, ' ', hlen - (size_t)n - 1);
    h[total - 1] = '\n';
    *hdr = h;
    *len = total;
    return NDYN_OK;
}

int ndyn_npy_write_mem(const ndyn_array *a, void **buf, size_t *len)
{
    if (!buf || !len) return ndyn_error(NDYN_EINVAL, "ndyn_npy_write_mem: NULL output");
    *buf = NULL;
    *len = 0;
    unsigned char *h;
    size_t hl;
    int rc = io_npy_header(a, &h, &hl);
    if (rc) return rc;
    size_t nb = ndyn_array_nbytes(a), total;
    if (hl > SIZE_MAX - nb) {
        free(h);
        return ndyn_error(NDYN_ENOMEM, "array too large to serialise");
    }
    total = hl + nb;
    unsigned char *p = realloc(h, total);
    if (!p) {
        free(h);
        return ndyn_error(NDYN_ENOMEM, "out of memory serialising an array of %zu bytes", nb);
    }
    if (nb) memcpy(p + hl, a->data, nb);
    *buf = p;
    *len = total;
    return NDYN_OK;
}

int ndyn_npy_write(const char *path, const ndyn_array *a)
{
    unsigned char *h;
    size_t hl;
    int rc = io_npy_header(a, &h, &hl);
    if (rc) return ndyn_error_context(rc, "writing '%s': ", path ? path : "(null)");
    io_atomic w;
    if ((rc = io_atomic_open(&w, path))) {
        free(h);
        return rc;
    }
    rc = io_atomic_write(&w, h, hl);
    free(h);
    if (!rc) rc = io_atomic_write(&w, a->data, ndyn_array_nbytes(a));
    if (rc) {
        io_atomic_abort(&w);
        return rc;
    }
    return io_atomic_commit(&w);
}

/* ------------------------------------------------------ unicode strings */

int io_npy_is_text(const void *buf, size_t len)
{
    if (!buf) return 0;
    npy_info info;
    int rc = parse_header_mem(buf, len, &info);
    ndyn_error_clear();
    return !rc && info.ulen > 0;
}

/* Append code point cp as UTF-8 to q; returns the bytes written. */
static size_t utf8_put(unsigned long cp, unsigned char *q)
{
    if (cp < 0x80) {
        q[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        q[0] = (unsigned char)(0xC0 | cp >> 6);
        q[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        q[0] = (unsigned char)(0xE0 | cp >> 12);
        q[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        q[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    q[0] = (unsigned char)(0xF0 | cp >> 18);
    q[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    q[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    q[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int ndyn_npy_read_text_mem(const void *buf, size_t len, char **text)
{
    if (!text) return ndyn_error(NDYN_EINVAL, "ndyn_npy_read_text_mem: text is NULL");
    *text = NULL;
    if (!buf && len) return ndyn_error(NDYN_EINVAL, "ndyn_npy_read_text_mem: buffer is NULL");
    static const unsigned char empty[1];
    const unsigned char *p = buf ? buf : empty;
    npy_info info;
    int rc = parse_header_mem(p, len, &info);
    if (rc) return rc;
    if (!info.ulen)
        return ndyn_error(NDYN_EINVAL, "the .npy array holds %s numbers, not strings",
                          ndyn_dtype_name(info.dtype));
    if (info.fortran && info.ndim >= 2)
        return ndyn_error(NDYN_EUNSUPPORTED, "Fortran-ordered string arrays of %d dimensions "
                          "are not supported; save a 1-D array of strings", info.ndim);
    size_t off = info.data_offset, have = len - off;
    if (have != info.nbytes)
        return ndyn_error(NDYN_EFORMAT, "%s .npy string array: %zu bytes of data, %zu expected",
                          have < info.nbytes ? "truncated" : "corrupt", have, info.nbytes);
    /* UTF-8 needs at most 4 bytes per code point, as UCS-4 does; plus a
     * separator per string and the terminator. */
    char *t = malloc(info.nbytes + info.size + 1);
    if (!t) return ndyn_error(NDYN_ENOMEM, "out of memory");
    unsigned char *q = (unsigned char *)t;
    const unsigned char *d = p + off;
    int big = (info.swap != 0) == io_host_is_little(); /* stored big-endian */
    for (size_t e = 0; e < info.size; e++) {
        if (e) *q++ = '\n';
        for (size_t c = 0; c < info.ulen; c++) {
            const unsigned char *b = d + 4 * (e * info.ulen + c);
            unsigned long cp = big ? (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 |
                                         (unsigned long)b[2] << 8 | b[3]
                                   : io_le32(b);
            if (cp == 0) break; /* NumPy pads strings with NUL */
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                free(t);
                return ndyn_error(NDYN_EFORMAT, "corrupt .npy string array: invalid code point "
                                  "0x%lx in string %zu", cp, e);
            }
            q += utf8_put(cp, q);
        }
    }
    *q = '\0';
    *text = t;
    return NDYN_OK;
}

/* Next code point of UTF-8 text s (n bytes left); invalid bytes decode as
 * U+FFFD. Sets *used. */
static unsigned long utf8_get(const unsigned char *s, size_t n, size_t *used)
{
    unsigned char b = s[0];
    size_t k;
    unsigned long cp;
    if (b < 0x80) {
        *used = 1;
        return b;
    } else if ((b & 0xE0) == 0xC0) {
        k = 1, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
        k = 2, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
        k = 3, cp = b & 0x07;
    } else {
        *used = 1;
        return 0xFFFD;
    }
    if (k >= n) {
        *used = 1;
        return 0xFFFD;
    }
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80) {
            *used = 1;
            return 0xFFFD;
        }
        cp = cp << 6 | (s[j] & 0x3F);
    }
    *used = k + 1;
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    return cp;
}

int ndyn_npy_write_text_mem(const char *text, void **buf, size_t *len)
{
    if (!buf || !len) return ndyn_error(NDYN_EINVAL, "ndyn_npy_write_text_mem: NULL output");
    *buf = NULL;
    *len = 0;
    if (!text) return ndyn_error(NDYN_EINVAL, "ndyn_npy_write_text_mem: text is NULL");
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), lines = 1, ulen = 1, cur = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\n') {
            lines++;
            cur = 0;
            i++;
            continue;
        }
        size_t u;
        (void)utf8_get(s + i, n - i, &u);
        i += u;
        if (++cur > ulen) ulen = cur;
    }
    size_t nb;
    if (ndyn_size_mul(lines, ulen, &nb) || ndyn_size_mul(nb, 4, &nb))
        return ndyn_error(NDYN_ENOMEM, "text too large to store as strings");
    char dict[96];
    int dl = snprintf(dict, sizeof dict, "{'descr': '<U%zu', 'fortran_order': False, 'shape': "
                      "(%zu,), }", ulen, lines);
    size_t total = (10 + (size_t)dl + 1 + 63) / 64 * 64, hlen = total - 10;
    if (hlen > 0xFFFF) return ndyn_error(NDYN_EINTERNAL, "string header too long");
    unsigned char *p = ndyn_calloc(1, total + nb);
    if (!p) return NDYN_ENOMEM;
    memcpy(p, NPY_MAGIC, NPY_MAGIC_LEN);
    p[6] = 1;
    p[7] = 0;
    p[8] = (unsigned char)(hlen & 0xff);
    p[9] = (unsigned char)(hlen >> 8);
    memcpy(p + 10, dict, (size_t)dl);
    memset(p + 10 + dl, ' ', hlen - (size_t)dl - 1);
    p[total - 1] = '\n';
    unsigned char *d = p + total;
    size_t line = 0, c = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\n') {
            line++;
            c = 0;
            i++;
            continue;
        }
        size_t u;
        unsigned long cp = utf8_get(s + i, n - i, &u);
        i += u;
        unsigned char *o = d + 4 * (line * ulen + c++);
        o[0] = (unsigned char)cp, o[1] = (unsigned char)(cp >> 8), o[2] = (unsigned char)(cp >> 16),
        o[3] = (unsigned char)(cp >> 24);
    }
    *buf = p;
    *len = total + nb;
    return NDYN_OK;
}
