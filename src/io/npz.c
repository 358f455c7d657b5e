/* NumPy .npz archives: a zip file of .npy members, stored or deflated.
 *
 * Our own small zip reader and writer on zlib (a general zip library would
 * bring much we do not need and hide the checks below). The reader takes
 * the central directory as the truth and checks every local header against
 * it; it understands the zip64 extra fields and records NumPy's savez writes
 * (force_zip64), data descriptors (bit 3, archives written to a pipe) and
 * archive comments, and rejects anything inconsistent: sizes or offsets that
 * point outside the file, overlapping members, names that differ between
 * the local and central headers, CRC mismatches, inflated data longer or
 * shorter than declared, encryption, multi-disk archives, methods other
 * than stored (0) and deflate (8).
 */
#include "io/io_internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50UL
#define SIG_CENTRAL 0x02014b50UL
#define SIG_EOCD 0x06054b50UL
#define SIG_EOCD64 0x06064b50UL
#define SIG_LOC64 0x07064b50UL
#define SIG_DESCR 0x08074b50UL
#define U32_MAX_ 0xFFFFFFFFULL
#define U16_MAX_ 0xFFFFu
/* Deflate cannot expand data more than 1032:1; a member claiming more is corrupt
 * (and would make us allocate for nothing). */
#define MAX_DEFLATE_RATIO 1032u

typedef struct zentry {
    const unsigned char *name; /* into the central directory; not terminated */
    size_t nlen;
    unsigned method, flags;
    unsigned long crc;
    uint64_t csize, usize, lho;
    uint64_t begin, end; /* byte range of the member (local header .. descriptor) */
} zentry;

static int bad(const char *fmt, const char *detail)
{
    return ndyn_error(NDYN_EFORMAT, fmt, detail);
}

/* The zip64 extra block (id 1) in an extra field of `elen` bytes: fills the
 * fields whose 32-bit value is saturated, in the order the format fixes.
 * Every extra block must be well formed. */
static int parse_extra(const unsigned char *e, size_t elen, uint64_t *usize, uint64_t *csize,
                       uint64_t *lho, int local, int *has_z64)
{
    size_t i = 0;
    *has_z64 = 0;
    while (i < elen) {
        if (elen - i < 4) return bad("corrupt .npz (zip): %s extra field is cut short",
                                     local ? "a local" : "a central");
        unsigned id = io_le16(e + i), sz = io_le16(e + i + 2);
        if (sz > elen - i - 4) return bad("corrupt .npz (zip): %s extra block runs past its "
                                          "field", local ? "a local" : "a central");
        if (id == 1) {
            if ((*has_z64)++) return bad("corrupt .npz (zip): %s header has two zip64 blocks",
                                         local ? "a local" : "a central");
            const unsigned char *z = e + i + 4;
            size_t k = 0;
            /* Local headers carry both sizes when either is saturated. */
            uint64_t *fields[3] = {usize, csize, lho};
            for (int f = 0; f < (local ? 2 : 3); f++) {
                if (*fields[f] != U32_MAX_ && !local) continue;
                if (local && *fields[f] != U32_MAX_) continue;
                if (sz - k < 8) return bad("corrupt .npz (zip): %s zip64 block is too short for "
                                           "its saturated fields", local ? "a local" : "a central");
                *fields[f] = io_le64(z + k);
                k += 8;
            }
        }
        i += 4 + (size_t)sz;
    }
    return NDYN_OK;
}

static int cmp_range(const void *a, const void *b)
{
    const zentry *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Locate the end records and the central directory. */
static int find_directory(const unsigned char *p, size_t len, uint64_t *cd_off, uint64_t *cd_size,
                          uint64_t *count)
{
    if (len < 22) {
        if (len >= 4 && io_le32(p) == SIG_LOCAL)
            return ndyn_error(NDYN_EFORMAT, "truncated .npz (zip) file: %zu bytes, no "
                              "end-of-central-directory record", len);
        return ndyn_error(NDYN_EFORMAT, "not an .npz (zip) file: %zu bytes, too short", len);
    }
    /* The end record is the last 22 bytes plus a comment of up to 65535;
     * its comment length must reach exactly to the end of the file. */
    size_t lo = len - 22 > 65535 ? len - 22 - 65535 : 0, eocd = SIZE_MAX;
    for (size_t pos = len - 22 + 1; pos-- > lo;) {
        if (io_le32(p + pos) == SIG_EOCD && pos + 22 + io_le16(p + pos + 20) == len) {
            eocd = pos;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        if (io_le32(p) == SIG_LOCAL)
            return ndyn_error(NDYN_EFORMAT, "truncated or corrupt .npz (zip) file: no valid "
                              "end-of-central-directory record");
        return ndyn_error(NDYN_EFORMAT, "not an .npz (zip) file (no zip signature)");
    }
    const unsigned char *e = p + eocd;
    unsigned disk = io_le16(e + 4), cd_disk = io_le16(e + 6);
    uint64_t n_this = io_le16(e + 8), n_total = io_le16(e + 10);
    uint64_t size = io_le32(e + 12), off = io_le32(e + 16);
    uint64_t cd_end = eocd;
    /* zip64: a locator just before the end record points to the zip64 end record. */
    if (eocd >= 20 && io_le32(p + eocd - 20) == SIG_LOC64) {
        const unsigned char *l = p + eocd - 20;
        uint64_t z = io_le64(l + 8);
        if (io_le32(l + 4) != 0 || io_le32(l + 16) > 1)
            return ndyn_error(NDYN_EUNSUPPORTED, "multi-disk zip archives are not supported");
        if (z > eocd - 20 || eocd - 20 - z < 56)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): the zip64 locator points "
                              "outside the file");
        const unsigned char *r = p + z;
        if (io_le32(r) != SIG_EOCD64)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): no zip64 end record where "
                              "the locator points");
        uint64_t rsize = io_le64(r + 4);
        if (rsize < 44 || rsize != eocd - 20 - z - 12)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): the zip64 end record's size "
                              "does not match its place");
        if (io_le32(r + 16) != 0 || io_le32(r + 20) != 0)
            return ndyn_error(NDYN_EUNSUPPORTED, "multi-disk zip archives are not supported");
        uint64_t n64_this = io_le64(r + 24), n64 = io_le64(r + 32);
        uint64_t size64 = io_le64(r + 40), off64 = io_le64(r + 48);
        /* 32-bit fields must be either saturated or equal to the zip64 ones. */
        if ((n_this != U16_MAX_ && n_this != n64_this) || (n_total != U16_MAX_ && n_total != n64) ||
            (size != U32_MAX_ && size != size64) || (off != U32_MAX_ && off != off64))
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): the end record and the zip64 "
                              "end record disagree");
        n_this = n64_this;
        n_total = n64;
        size = size64;
        off = off64;
        cd_end = z;
    } else {
        if (disk != 0 || cd_disk != 0)
            return ndyn_error(NDYN_EUNSUPPORTED, "multi-disk zip archives are not supported");
        if (n_total == U16_MAX_ || size == U32_MAX_ || off == U32_MAX_)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): the end record needs a zip64 "
                              "record, which is missing");
    }
    if (n_this != n_total)
        return ndyn_error(NDYN_EUNSUPPORTED, "multi-disk zip archives are not supported");
    if (off > cd_end || size != cd_end - off)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): the central directory (offset "
                          "%llu, %llu bytes) does not end where the end record starts (%llu)",
                          (unsigned long long)off, (unsigned long long)size,
                          (unsigned long long)cd_end);
    if (n_total > size / 46)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): %llu members cannot fit in a "
                          "central directory of %llu bytes", (unsigned long long)n_total,
                          (unsigned long long)size);
    *cd_off = off;
    *cd_size = size;
    *count = n_total;
    return NDYN_OK;
}

/* Read and check one central directory header at p[*pos]. */
static int parse_central(const unsigned char *p, uint64_t *pos, uint64_t cd_end, zentry *z)
{
    uint64_t i = *pos;
    if (cd_end - i < 46 || io_le32(p + i) != SIG_CENTRAL)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): bad central directory header at "
                          "offset %llu", (unsigned long long)i);
    const unsigned char *h = p + i;
    z->flags = io_le16(h + 8);
    z->method = io_le16(h + 10);
    z->crc = io_le32(h + 16);
    z->csize = io_le32(h + 20);
    z->usize = io_le32(h + 24);
    size_t nlen = io_le16(h + 28), elen = io_le16(h + 30), clen = io_le16(h + 32);
    unsigned disk = io_le16(h + 34);
    z->lho = io_le32(h + 42);
    if (cd_end - i - 46 < (uint64_t)nlen + elen + clen)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): a central directory header runs "
                          "past the directory");
    z->name = h + 46;
    z->nlen = nlen;
    if (memchr(z->name, 0, nlen))
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): a member name contains a NUL byte");
    int has64;
    int rc = parse_extra(h + 46 + nlen, elen, &z->usize, &z->csize, &z->lho, 0, &has64);
    if (rc) return rc;
    if (z->usize == U32_MAX_ || z->csize == U32_MAX_ || z->lho == U32_MAX_) {
        if (!has64)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' has saturated "
                              "sizes but no zip64 extra field", (int)(nlen > 64 ? 64 : nlen),
                              (const char *)z->name);
    }
    if (disk != 0 && disk != U16_MAX_)
        return ndyn_error(NDYN_EUNSUPPORTED, "multi-disk zip archives are not supported");
    *pos = i + 46 + nlen + elen + clen;
    return NDYN_OK;
}

/* Check the member's local header against the central one; find its data. */
static int check_local(const unsigned char *p, uint64_t cd_off, zentry *z, uint64_t *data_off)
{
    int nl = (int)(z->nlen > 64 ? 64 : z->nlen);
    const char *nm = (const char *)z->name;
    if (z->lho > cd_off || cd_off - z->lho < 30 || io_le32(p + z->lho) != SIG_LOCAL)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' has no local header "
                          "at offset %llu", nl, nm, (unsigned long long)z->lho);
    const unsigned char *h = p + z->lho;
    unsigned flags = io_le16(h + 6), method = io_le16(h + 8);
    uint64_t crc = io_le32(h + 14), csize = io_le32(h + 18), usize = io_le32(h + 22);
    size_t nlen = io_le16(h + 26), elen = io_le16(h + 28);
    if (cd_off - z->lho - 30 < (uint64_t)nlen + elen)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s': local header runs "
                          "into the central directory", nl, nm);
    if (nlen != z->nlen || memcmp(h + 30, z->name, nlen) != 0)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' has a different name "
                          "in its local header", nl, nm);
    if (method != z->method || (flags & 0x08) != (z->flags & 0x08))
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s': local and central "
                          "headers disagree on method or flags", nl, nm);
    int has64;
    uint64_t dummy = 0;
    int rc = parse_extra(h + 30 + nlen, elen, &usize, &csize, &dummy, 1, &has64);
    if (rc) return rc;
    if (!(flags & 0x08)) {
        if (crc != z->crc || csize != z->csize || usize != z->usize)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s': local and "
                              "central headers disagree on CRC or sizes", nl, nm);
    }
    uint64_t d = z->lho + 30 + nlen + elen;
    if (z->csize > cd_off - d)
        return ndyn_error(NDYN_EFORMAT, "truncated or corrupt .npz (zip): member '%.*s' "
                          "(%llu bytes) runs past the end of the data", nl, nm,
                          (unsigned long long)z->csize);
    uint64_t end = d + z->csize;
    if (flags & 0x08) {
        /* Data descriptor: optional signature, CRC, then sizes of 4 or 8 bytes. */
        const unsigned char *q = p + end;
        uint64_t left = cd_off - end;
        if (left >= 4 && io_le32(q) == SIG_DESCR) {
            q += 4;
            left -= 4;
            end += 4;
        }
        size_t w = has64 ? 8 : 4;
        if (left < 4 + 2 * w)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s': data "
                              "descriptor missing", nl, nm);
        uint64_t dc = io_le32(q), dcs = w == 8 ? io_le64(q + 4) : io_le32(q + 4);
        uint64_t dus = w == 8 ? io_le64(q + 4 + w) : io_le32(q + 4 + w);
        if (dc != z->crc || dcs != z->csize || dus != z->usize)
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s': data "
                              "descriptor disagrees with the central directory", nl, nm);
        end += 4 + 2 * w;
    }
    z->begin = z->lho;
    z->end = end;
    *data_off = d;
    return NDYN_OK;
}

/* The member's uncompressed bytes into a malloc'ed buffer, CRC checked. */
static int extract(const unsigned char *p, uint64_t off, const zentry *z, unsigned char **out)
{
    int nl = (int)(z->nlen > 64 ? 64 : z->nlen);
    const char *nm = (const char *)z->name;
    *out = NULL;
    if (z->method == 0 && z->csize != z->usize)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): stored member '%.*s' has "
                          "different compressed and uncompressed sizes", nl, nm);
    if (z->method == 8 && z->usize / MAX_DEFLATE_RATIO > z->csize)
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' claims %llu bytes "
                          "from %llu compressed, more than deflate can produce", nl, nm,
                          (unsigned long long)z->usize, (unsigned long long)z->csize);
    if (z->usize > SIZE_MAX - 1)
        return ndyn_error(NDYN_ENOMEM, "member '%.*s' is too large for memory", nl, nm);
    unsigned char *buf = malloc(z->usize ? (size_t)z->usize : 1);
    if (!buf)
        return ndyn_error(NDYN_ENOMEM, "out of memory inflating member '%.*s' (%llu bytes)",
                          nl, nm, (unsigned long long)z->usize);
    if (z->method == 0) {
        memcpy(buf, p + off, (size_t)z->usize);
    } else {
        z_stream s;
        memset(&s, 0, sizeof s);
        if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
            free(buf);
            return ndyn_error(NDYN_ENOMEM, "zlib: cannot initialise inflate");
        }
        const unsigned char *in = p + off;
        uint64_t in_left = z->csize, out_left = z->usize;
        unsigned char *o = buf;
        int zr = Z_OK, overflow = 0;
        unsigned char spare;
        for (;;) {
            uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            /* Give inflate one spare byte beyond the declared size, so that a
             * member inflating to more than declared is noticed. */
            uInt co = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
            s.next_in = (Bytef *)in;
            s.avail_in = ci;
            if (co) {
                s.next_out = o;
                s.avail_out = co;
            } else {
                s.next_out = &spare;
                s.avail_out = 1;
            }
            zr = inflate(&s, Z_NO_FLUSH);
            size_t used_in = ci - s.avail_in;
            in += used_in;
            in_left -= used_in;
            if (co) {
                size_t made = co - s.avail_out;
                o += made;
                out_left -= made;
            } else if (s.avail_out == 0) {
                overflow = 1; /* produced more than declared */
                break;
            }
            if (zr == Z_STREAM_END) break;
            if (zr != Z_OK) break;
            if (used_in == 0 && (co ? co - s.avail_out : 0) == 0 && in_left == 0) {
                zr = Z_BUF_ERROR;
                break;
            }
        }
        inflateEnd(&s);
        if (overflow) {
            free(buf);
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' inflates to "
                              "more than its declared %llu bytes", nl, nm,
                              (unsigned long long)z->usize);
        }
        if (zr != Z_STREAM_END) {
            free(buf);
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s': deflate data "
                              "is %s", nl, nm, zr == Z_BUF_ERROR || zr == Z_OK ? "truncated"
                                                                               : "invalid");
        }
        if (out_left || in_left) {
            free(buf);
            return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' inflates to "
                              "%llu bytes, declared %llu%s", nl, nm,
                              (unsigned long long)(z->usize - out_left),
                              (unsigned long long)z->usize,
                              in_left ? " (with trailing compressed bytes)" : "");
        }
    }
    /* CRC-32 over the whole member, in chunks that fit zlib's uInt. */
    unsigned long crc = crc32(0L, Z_NULL, 0);
    for (uint64_t k = 0; k < z->usize;) {
        uInt c = z->usize - k > (1u << 30) ? (1u << 30) : (uInt)(z->usize - k);
        crc = crc32(crc, buf + k, c);
        k += c;
    }
    if (crc != z->crc) {
        free(buf);
        return ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): member '%.*s' fails its CRC "
                          "check (stored %08lx, computed %08lx)", nl, nm, z->crc, crc);
    }
    *out = buf;
    return NDYN_OK;
}

static int npz_parse(const unsigned char *p, size_t len, const char *path, ndyn_dataset **out)
{
    uint64_t cd_off = 0, cd_size = 0, count = 0;
    int rc = find_directory(p, len, &cd_off, &cd_size, &count);
    if (rc) return rc;
    zentry *zs = calloc(count ? (size_t)count : 1, sizeof *zs);
    ndyn_dataset *ds = ndyn_dataset_new();
    if (!zs || !ds) {
        free(zs);
        ndyn_dataset_free(ds);
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    uint64_t pos = cd_off, cd_end = cd_off + cd_size;
    for (uint64_t k = 0; k < count && !rc; k++) rc = parse_central(p, &pos, cd_end, &zs[k]);
    if (!rc && pos != cd_end)
        rc = ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): the central directory holds more "
                        "than the %llu members the end record declares",
                        (unsigned long long)count);
    uint64_t *data_off = calloc(count ? (size_t)count : 1, sizeof *data_off);
    if (!rc && !data_off) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
    for (uint64_t k = 0; k < count && !rc; k++) {
        zentry *z = &zs[k];
        int nl = (int)(z->nlen > 64 ? 64 : z->nlen);
        if (z->flags & 0x41)
            rc = ndyn_error(NDYN_EUNSUPPORTED, "member '%.*s' is encrypted; ndyn reads only "
                            "unencrypted .npz files", nl, (const char *)z->name);
        else if (z->method != 0 && z->method != 8)
            rc = ndyn_error(NDYN_EUNSUPPORTED, "member '%.*s' uses zip compression method %u; "
                            "ndyn reads stored (0) and deflated (8) members, as NumPy writes",
                            nl, (const char *)z->name, z->method);
        else
            rc = check_local(p, cd_off, z, &data_off[k]);
    }
    /* Members must not overlap (a classic zip-bomb trick). */
    if (!rc && count > 1) {
        zentry *sorted = malloc((size_t)count * sizeof *sorted);
        if (!sorted) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
        } else {
            memcpy(sorted, zs, (size_t)count * sizeof *sorted);
            qsort(sorted, (size_t)count, sizeof *sorted, cmp_range);
            for (uint64_t k = 1; k < count && !rc; k++)
                if (sorted[k].begin < sorted[k - 1].end)
                    rc = ndyn_error(NDYN_EFORMAT, "corrupt .npz (zip): members '%.*s' and "
                                    "'%.*s' overlap", (int)(sorted[k - 1].nlen > 64 ? 64 : sorted[k - 1].nlen),
                                    (const char *)sorted[k - 1].name,
                                    (int)(sorted[k].nlen > 64 ? 64 : sorted[k].nlen),
                                    (const char *)sorted[k].name);
            free(sorted);
        }
    }
    for (uint64_t k = 0; k < count && !rc; k++) {
        zentry *z = &zs[k];
        if (z->nlen && z->name[z->nlen - 1] == '/') continue; /* a directory */
        char *name = malloc(z->nlen + 1);
        if (!name) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            break;
        }
        memcpy(name, z->name, z->nlen);
        name[z->nlen] = '\0';
        if (z->nlen < 4 || strcmp(name + z->nlen - 4, ".npy") != 0) {
            ndyn_warn("%s: skipping member '%s', which is not a .npy array", path, name);
            free(name);
            continue;
        }
        name[z->nlen - 4] = '\0';
        if (!name[0]) {
            free(name);
            rc = ndyn_error(NDYN_EFORMAT, "corrupt .npz: a member is named '.npy' (empty array "
                            "name)");
            break;
        }
        if (ndyn_dataset_find(ds, name)) {
            rc = ndyn_error(NDYN_EFORMAT, "corrupt .npz: array '%s' appears twice", name);
            free(name);
            break;
        }
        unsigned char *raw;
        ndyn_array *a = NULL;
        char *text = NULL;
        rc = extract(p, data_off[k], z, &raw);
        if (!rc) {
            if (io_npy_is_text(raw, (size_t)z->usize))
                rc = ndyn_npy_read_text_mem(raw, (size_t)z->usize, &text);
            else
                rc = ndyn_npy_read_mem(raw, (size_t)z->usize, &a);
            free(raw);
            if (rc) ndyn_error_context(rc, "array '%s': ", name);
        }
        if (!rc) {
            char *src = io_strdup_printf("%s:%s", path, name);
            if (!src) {
                ndyn_array_free(a);
                rc = NDYN_ENOMEM;
            } else if (text) {
                rc = ndyn_dataset_add_text(ds, name, text, src);
            } else {
                rc = ndyn_dataset_add(ds, name, a, src);
            }
            free(src);
        }
        free(text);
        free(name);
    }
    free(zs);
    free(data_off);
    if (rc) {
        ndyn_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NDYN_OK;
}

int ndyn_npz_read_mem(const void *buf, size_t len, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_npz_read_mem: out is NULL");
    *out = NULL;
    if (!buf && len) return ndyn_error(NDYN_EINVAL, "ndyn_npz_read_mem: buffer is NULL");
    static const unsigned char empty[1];
    return npz_parse(buf ? buf : empty, len, "(memory)", out);
}

int ndyn_npz_read(const char *path, ndyn_dataset **out)
{
    if (!out) return ndyn_error(NDYN_EINVAL, "ndyn_npz_read: out is NULL");
    *out = NULL;
    io_mapped m;
    int rc = io_map_file(path, &m);
    if (rc) return rc;
    static const unsigned char empty[1];
    rc = npz_parse(m.len ? m.data : empty, m.len, path, out);
    io_unmap_file(&m);
    if (rc) return ndyn_error_context(rc, "reading '%s': ", path);
    if (!(*out)->path && !((*out)->path = strdup(path))) {
        ndyn_dataset_free(*out);
        *out = NULL;
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    return NDYN_OK;
}

/* ---------------------------------------------------------------- writing */

typedef struct zout {
    io_atomic w;
    uint64_t pos;
} zout;

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int zwrite(zout *z, const void *buf, size_t n)
{
    int rc = io_atomic_write(&z->w, buf, n);
    if (!rc) z->pos += n;
    return rc;
}

/* Fixed DOS time stamp (1980-01-01 00:00) so that the same arrays give the
 * same bytes. */
#define DOS_TIME 0u
#define DOS_DATE 33u

static size_t local_header(unsigned char *h, const char *name, size_t nlen, int method, int z64,
                           unsigned long crc, uint64_t csize, uint64_t usize)
{
    put32(h, SIG_LOCAL);
    put16(h + 4, z64 ? 45 : 20);
    put16(h + 6, 0);
    put16(h + 8, (unsigned)method);
    put16(h + 10, DOS_TIME);
    put16(h + 12, DOS_DATE);
    put32(h + 14, crc);
    put32(h + 18, z64 ? U32_MAX_ : csize);
    put32(h + 22, z64 ? U32_MAX_ : usize);
    put16(h + 26, (unsigned)nlen);
    put16(h + 28, z64 ? 20 : 0);
    memcpy(h + 30, name, nlen);
    size_t n = 30 + nlen;
    if (z64) {
        put16(h + n, 1);
        put16(h + n + 2, 16);
        put64(h + n + 4, usize);
        put64(h + n + 12, csize);
        n += 20;
    }
    return n;
}

typedef struct zrec {
    unsigned long crc;
    uint64_t csize, usize, off;
    int method;
} zrec;

/* Member bytes: the .npy header `hdr` (hl bytes, malloc'ed; freed here),
 * then `data` (nb bytes). */
static int write_member(zout *z, const char *zname, unsigned char *hdr, size_t hl,
                        const unsigned char *data, size_t nb, int compress, int force_zip64,
                        zrec *rec)
{
    int rc = NDYN_OK;
    uint64_t usize = (uint64_t)hl + nb;
    unsigned long crc = crc32(0L, hdr, (uInt)hl);
    for (size_t k = 0; k < nb;) {
        uInt c = nb - k > (1u << 30) ? (1u << 30) : (uInt)(nb - k);
        crc = crc32(crc, data + k, c);
        k += c;
    }
    /* Deflate can grow data slightly; beyond 0xF0000000 bytes use zip64. */
    int z64 = force_zip64 || usize > 0xF0000000ULL;
    size_t nlen = strlen(zname);
    unsigned char *lh = malloc(30 + nlen + 20);
    if (!lh) {
        free(hdr);
        return ndyn_error(NDYN_ENOMEM, "out of memory");
    }
    rec->off = z->pos;
    rec->usize = usize;
    rec->crc = crc;
    rec->method = compress ? 8 : 0;
    size_t lhl = local_header(lh, zname, nlen, rec->method, z64, crc, compress ? 0 : usize, usize);
    rc = zwrite(z, lh, lhl);
    if (!rc && !compress) {
        rc = zwrite(z, hdr, hl);
        if (!rc) rc = zwrite(z, data, nb);
        rec->csize = usize;
    } else if (!rc) {
        z_stream s;
        memset(&s, 0, sizeof s);
        if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            rc = ndyn_error(NDYN_ENOMEM, "zlib: cannot initialise deflate");
        } else {
            enum { CHUNK = 1 << 18 };
            unsigned char *ob = malloc(CHUNK);
            uint64_t csize = 0;
            if (!ob) rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            /* Feed the .npy header, then the data in pieces zlib can count. */
            const unsigned char *parts[2] = {hdr, data};
            size_t plen[2] = {hl, nb};
            for (int part = 0; part < 2 && !rc; part++) {
                size_t k = 0;
                do {
                    uInt c = plen[part] - k > (1u << 30) ? (1u << 30) : (uInt)(plen[part] - k);
                    s.next_in = (Bytef *)(parts[part] + k);
                    s.avail_in = c;
                    k += c;
                    int flush = (part == 1 && k == plen[part]) ? Z_FINISH : Z_NO_FLUSH;
                    int zr;
                    do {
                        s.next_out = ob;
                        s.avail_out = CHUNK;
                        zr = deflate(&s, flush);
                        size_t made = CHUNK - s.avail_out;
                        if (made && (rc = zwrite(z, ob, made))) break;
                        csize += made;
                    } while (s.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
                } while (!rc && k < plen[part]);
            }
            deflateEnd(&s);
            free(ob);
            rec->csize = csize;
            if (!rc && !z64 && csize >= U32_MAX_)
                rc = ndyn_error(NDYN_EINTERNAL, "compressed member larger than 4 GiB without "
                                "zip64");
            /* Now that the size is known, rewrite the local header in place. */
            if (!rc) {
                lhl = local_header(lh, zname, nlen, 8, z64, crc, csize, usize);
                if (fseeko(z->w.f, (off_t)rec->off, SEEK_SET) != 0 ||
                    fwrite(lh, 1, lhl, z->w.f) != lhl ||
                    fseeko(z->w.f, (off_t)z->pos, SEEK_SET) != 0)
                    rc = ndyn_error(NDYN_EIO, "cannot update a zip header in '%s'", z->w.path);
            }
        }
    }
    free(lh);
    free(hdr);
    return rc;
}

int io_npz_write_ex(const char *path, size_t n, const char *const *names,
                    const ndyn_array *const *arrays, const char *const *texts, int compress,
                    int force_zip64)
{
    if (n && (!names || !arrays)) return ndyn_error(NDYN_EINVAL, "ndyn_npz_write: NULL names or arrays");
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !names[i][0])
            return ndyn_error(NDYN_EINVAL, "writing '%s': array %zu has an empty name", path, i);
        if (strlen(names[i]) > 60000)
            return ndyn_error(NDYN_EINVAL, "writing '%s': array name of %zu characters is too "
                              "long", path, strlen(names[i]));
        if (!arrays[i] && !(texts && texts[i]))
            return ndyn_error(NDYN_EINVAL, "writing '%s': array '%s' is NULL", path, names[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return ndyn_error(NDYN_EINVAL, "writing '%s': two arrays are named '%s'", path,
                                  names[i]);
    }
    zrec *recs = calloc(n ? n : 1, sizeof *recs);
    if (!recs) return ndyn_error(NDYN_ENOMEM, "out of memory");
    zout z;
    z.pos = 0;
    int rc = io_atomic_open(&z.w, path);
    if (rc) {
        free(recs);
        return rc;
    }
    char *zname = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        free(zname);
        zname = io_strdup_printf("%s.npy", names[i]);
        if (!zname) {
            rc = NDYN_ENOMEM;
            break;
        }
        unsigned char *hdr = NULL;
        size_t hl = 0;
        if (arrays[i]) {
            rc = io_npy_header(arrays[i], &hdr, &hl);
            if (!rc)
                rc = write_member(&z, zname, hdr, hl, arrays[i]->data,
                                  ndyn_array_nbytes(arrays[i]), compress, force_zip64, &recs[i]);
        } else {
            void *b = NULL;
            rc = ndyn_npy_write_text_mem(texts[i], &b, &hl);
            if (!rc)
                rc = write_member(&z, zname, b, hl, NULL, 0, compress, force_zip64, &recs[i]);
        }
        if (rc) ndyn_error_context(rc, "writing '%s', array '%s': ", path, names[i]);
    }
    /* Central directory. */
    uint64_t cd_off = z.pos;
    for (size_t i = 0; i < n && !rc; i++) {
        const zrec *r = &recs[i];
        size_t nlen = strlen(names[i]) + 4;
        int big_u = force_zip64 || r->usize >= U32_MAX_, big_c = force_zip64 || r->csize >= U32_MAX_;
        int big_o = force_zip64 || r->off >= U32_MAX_;
        size_t elen = (big_u || big_c || big_o) ? 4 + 8 * (size_t)(big_u + big_c + big_o) : 0;
        unsigned char *h = malloc(46 + nlen + elen);
        if (!h) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            break;
        }
        int need64 = elen || force_zip64 || r->usize > 0xF0000000ULL;
        put32(h, SIG_CENTRAL);
        put16(h + 4, (3u << 8) | 45u); /* made by: Unix, zip 4.5 */
        put16(h + 6, need64 ? 45 : 20);
        put16(h + 8, 0);
        put16(h + 10, (unsigned)r->method);
        put16(h + 12, DOS_TIME);
        put16(h + 14, DOS_DATE);
        put32(h + 16, r->crc);
        put32(h + 20, big_c ? U32_MAX_ : r->csize);
        put32(h + 24, big_u ? U32_MAX_ : r->usize);
        put16(h + 28, (unsigned)nlen);
        put16(h + 30, (unsigned)elen);
        put16(h + 32, 0);
        put16(h + 34, 0);
        put16(h + 36, 0);
        put32(h + 38, 0100644UL << 16); /* regular file, rw-r--r-- */
        put32(h + 42, big_o ? U32_MAX_ : r->off);
        memcpy(h + 46, names[i], nlen - 4);
        memcpy(h + 46 + nlen - 4, ".npy", 4);
        if (elen) {
            unsigned char *e = h + 46 + nlen;
            put16(e, 1);
            put16(e + 2, (unsigned)(elen - 4));
            size_t k = 4;
            if (big_u) put64(e + k, r->usize), k += 8;
            if (big_c) put64(e + k, r->csize), k += 8;
            if (big_o) put64(e + k, r->off), k += 8;
        }
        rc = zwrite(&z, h, 46 + nlen + elen);
        free(h);
    }
    if (!rc) {
        uint64_t cd_size = z.pos - cd_off;
        int z64 = force_zip64 || n >= U16_MAX_ || cd_off >= U32_MAX_ || cd_size >= U32_MAX_;
        unsigned char e[56 + 20 + 22];
        size_t el = 0;
        if (z64) {
            uint64_t r64 = z.pos;
            put32(e, SIG_EOCD64);
            put64(e + 4, 44);
            put16(e + 12, (3u << 8) | 45u);
            put16(e + 14, 45);
            put32(e + 16, 0);
            put32(e + 20, 0);
            put64(e + 24, n);
            put64(e + 32, n);
            put64(e + 40, cd_size);
            put64(e + 48, cd_off);
            put32(e + 56, SIG_LOC64);
            put32(e + 60, 0);
            put64(e + 64, r64);
            put32(e + 72, 1);
            el = 76;
        }
        unsigned char *q = e + el;
        put32(q, SIG_EOCD);
        put16(q + 4, 0);
        put16(q + 6, 0);
        put16(q + 8, z64 ? U16_MAX_ : (unsigned)n);
        put16(q + 10, z64 ? U16_MAX_ : (unsigned)n);
        put32(q + 12, z64 ? U32_MAX_ : cd_size);
        put32(q + 16, z64 ? U32_MAX_ : cd_off);
        put16(q + 20, 0);
        rc = zwrite(&z, e, el + 22);
    }
    free(zname);
    free(recs);
    if (rc) {
        io_atomic_abort(&z.w);
        return rc;
    }
    return io_atomic_commit(&z.w);
}

int ndyn_npz_write(const char *path, size_t n, const char *const *names,
                   const ndyn_array *const *arrays, int compress)
{
    return io_npz_write_ex(path, n, names, arrays, NULL, compress, 0);
}
