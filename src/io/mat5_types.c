/* The storage types of the numeric arrays in a MATLAB v5/v7 file.
 *
 * MATLAB saves an integer-valued double array compactly, as uint8 or int16
 * and so on; libmatio converts such data back to the class type (double)
 * and does not report how it was stored. SciPy reports the stored type
 * (loadmat's default), and so do the shapes and types our data README
 * gives (macaque spike arrays are uint8). To keep integer data integer, this
 * small walker reads the v5 element structure (tags only; zlib for
 * compressed variables) and records, for every numeric leaf, the type its
 * real part is stored with. It mirrors the variable/struct/cell tree so that
 * mat.c can follow it alongside matio's. Any surprise makes it give up
 * quietly (mat.c then keeps matio's class types): it never decides whether
 * a file is valid, matio does.
 */
#include "io/io_internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { MI_INT8 = 1, MI_INT32 = 5, MI_UINT32 = 6, MI_MATRIX = 14, MI_COMPRESSED = 15 };
enum { CLS_CELL = 1, CLS_STRUCT = 2 };
#define MAX_DEPTH 32

typedef struct reader {
    const unsigned char *p;
    size_t len;
    int swap;
} reader;

static uint32_t rd32(const reader *r, size_t pos)
{
    const unsigned char *q = r->p + pos;
    if (r->swap) return (uint32_t)q[3] | (uint32_t)q[2] << 8 | (uint32_t)q[1] << 16 | (uint32_t)q[0] << 24;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

/* A data element tag at pos (within [.., end)): type, payload [*data,
 * *data + *nbytes), next element at *next (8-byte aligned inside matrices). */
static int tag(const reader *r, size_t pos, size_t end, uint32_t *type, size_t *nbytes,
               size_t *data, size_t *next)
{
    if (pos > end || end - pos < 8) return -1;
    uint32_t a = rd32(r, pos);
    if (a >> 16) { /* small element: 2-byte type, 2-byte size, 4 bytes of data */
        *type = a & 0xffff;
        *nbytes = a >> 16;
        if (*nbytes > 4) return -1;
        *data = pos + 4;
        *next = pos + 8;
        return 0;
    }
    *type = a;
    *nbytes = rd32(r, pos + 4);
    *data = pos + 8;
    if (*nbytes > end - *data) return -1;
    size_t padded = (*nbytes + 7) & ~(size_t)7;
    *next = padded > end - *data ? end : *data + padded;
    return 0;
}

static void node_free(io_mat5_node *n)
{
    for (size_t i = 0; i < n->nchild; i++) node_free(&n->child[i]);
    free(n->child);
    n->child = NULL;
    n->nchild = 0;
}

/* Parse the payload of an miMATRIX element [pos, end). */
static int parse_matrix(const reader *r, size_t pos, size_t end, int depth, io_mat5_node *n,
                        char **name)
{
    memset(n, 0, sizeof *n);
    if (name) *name = NULL;
    if (depth > MAX_DEPTH) return -1;
    if (pos == end) return 0; /* empty element, e.g. an empty cell */
    uint32_t type;
    size_t nb, d, next;
    /* Array flags. */
    if (tag(r, pos, end, &type, &nb, &d, &next) || type != MI_UINT32 || nb != 8) return -1;
    uint32_t flags = rd32(r, d);
    n->cls = (int)(flags & 0xff);
    n->complex = (flags >> 11) & 1;
    n->logical = (flags >> 9) & 1;
    pos = next;
    /* Dimensions. */
    if (tag(r, pos, end, &type, &nb, &d, &next) || type != MI_INT32 || nb % 4 || nb == 0) return -1;
    size_t numel = 1;
    for (size_t k = 0; k < nb / 4; k++) {
        uint32_t dim = rd32(r, d + 4 * k);
        if (dim > (uint32_t)INT32_MAX || ndyn_size_mul(numel, dim, &numel)) return -1;
    }
    pos = next;
    /* Name. */
    if (tag(r, pos, end, &type, &nb, &d, &next) || type != MI_INT8) return -1;
    if (name) {
        *name = malloc(nb + 1);
        if (!*name) return -1;
        memcpy(*name, r->p + d, nb);
        (*name)[nb] = '\0';
    }
    pos = next;
    if (n->cls >= 6 && n->cls <= 15) {
        if (numel == 0) return 0;
        if (tag(r, pos, end, &type, &nb, &d, &next)) return -1;
        n->stype = (int)type;
        return 0;
    }
    size_t nchild = 0, nfields = 1;
    if (n->cls == CLS_STRUCT) {
        if (tag(r, pos, end, &type, &nb, &d, &next) || type != MI_INT32 || nb != 4) return -1;
        uint32_t fnl = rd32(r, d);
        pos = next;
        if (fnl == 0) return -1;
        if (tag(r, pos, end, &type, &nb, &d, &next) || type != MI_INT8 || nb % fnl) return -1;
        nfields = nb / fnl;
        pos = next;
    } else if (n->cls != CLS_CELL) {
        return 0; /* char, sparse, objects: nothing to record */
    }
    if (ndyn_size_mul(numel, nfields, &nchild)) return -1;
    /* Each child takes at least 8 bytes: a cheap bound before allocating. */
    if (nchild > (end - pos) / 8) return -1;
    if (nchild == 0) return 0;
    n->child = calloc(nchild, sizeof *n->child);
    if (!n->child) return -1;
    n->nchild = nchild;
    n->nfields = nfields;
    for (size_t k = 0; k < nchild; k++) {
        if (tag(r, pos, end, &type, &nb, &d, &next) || type != MI_MATRIX) return -1;
        if (parse_matrix(r, d, d + nb, depth + 1, &n->child[k], NULL)) return -1;
        pos = next;
    }
    return 0;
}

/* Inflate a zlib stream fully (bounded by deflate's maximum ratio). */
static unsigned char *inflate_all(const unsigned char *src, size_t n, size_t *out_len)
{
    size_t cap = n * 4 + 64, limit = n > SIZE_MAX / 1032 ? SIZE_MAX : n * 1032 + 64, len = 0;
    unsigned char *out = malloc(cap);
    if (!out) return NULL;
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit(&s) != Z_OK) {
        free(out);
        return NULL;
    }
    size_t in_left = n;
    const unsigned char *in = src;
    int zr = Z_OK;
    while (zr != Z_STREAM_END) {
        if (len == cap) {
            if (cap >= limit) break;
            size_t nc = cap > limit / 2 ? limit : cap * 2;
            unsigned char *q = realloc(out, nc);
            if (!q) break;
            out = q;
            cap = nc;
        }
        uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
        uInt co = cap - len > (1u << 30) ? (1u << 30) : (uInt)(cap - len);
        s.next_in = (Bytef *)in;
        s.avail_in = ci;
        s.next_out = out + len;
        s.avail_out = co;
        zr = inflate(&s, Z_NO_FLUSH);
        size_t used = ci - s.avail_in, made = co - s.avail_out;
        in += used;
        in_left -= used;
        len += made;
        if (zr != Z_OK && zr != Z_STREAM_END) break;
        if (!used && !made) break;
    }
    inflateEnd(&s);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *out_len = len;
    return out;
}

void io_mat5_vars_free(io_mat5_vars *v)
{
    for (size_t i = 0; i < v->n; i++) {
        node_free(&v->nodes[i]);
        free(v->names[i]);
    }
    free(v->nodes);
    free(v->names);
    memset(v, 0, sizeof *v);
}

static int push_var(io_mat5_vars *v, const reader *r, size_t d, size_t nb)
{
    io_mat5_node node;
    char *name = NULL;
    if (parse_matrix(r, d, d + nb, 0, &node, &name)) {
        node_free(&node);
        free(name);
        return -1;
    }
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        io_mat5_node *nn = realloc(v->nodes, cap * sizeof *nn);
        if (nn) v->nodes = nn;
        char **nm = realloc(v->names, cap * sizeof *nm);
        if (nm) v->names = nm;
        if (!nn || !nm) {
            node_free(&node);
            free(name);
            return -1;
        }
        v->cap = cap;
    }
    v->nodes[v->n] = node;
    v->names[v->n] = name;
    v->n++;
    return 0;
}

int io_mat5_scan(const char *path, io_mat5_vars *out)
{
    memset(out, 0, sizeof *out);
    io_mapped m;
    ndyn_error_clear();
    if (io_map_file(path, &m)) return -1;
    reader r = {m.data, m.len, 0};
    int rc = 0;
    if (m.len < 128 || memcmp(m.data, "MATLAB", 6) != 0) rc = -1;
    else if (m.data[126] == 'I' && m.data[127] == 'M') r.swap = !io_host_is_little();
    else if (m.data[126] == 'M' && m.data[127] == 'I') r.swap = io_host_is_little();
    else rc = -1;
    size_t pos = 128;
    while (!rc && pos + 8 <= m.len) {
        uint32_t type = rd32(&r, pos);
        size_t nb = rd32(&r, pos + 4), d = pos + 8;
        if (nb > m.len - d) {
            rc = -1;
            break;
        }
        if (type == MI_COMPRESSED) {
            size_t ulen;
            unsigned char *u = inflate_all(m.data + d, nb, &ulen);
            if (!u) {
                rc = -1;
                break;
            }
            reader ur = {u, ulen, r.swap};
            uint32_t t2;
            size_t nb2, d2, next2;
            if (tag(&ur, 0, ulen, &t2, &nb2, &d2, &next2) || t2 != MI_MATRIX ||
                push_var(out, &ur, d2, nb2))
                rc = -1;
            free(u);
        } else if (type == MI_MATRIX) {
            if (push_var(out, &r, d, nb)) rc = -1;
        }
        pos = d + nb;
    }
    io_unmap_file(&m);
    ndyn_error_clear();
    if (rc) io_mat5_vars_free(out);
    return rc;
}
