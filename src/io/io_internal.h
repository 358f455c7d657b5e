/* Helpers shared by the readers and writers of src/io (not public API). */
#ifndef NDYN_IO_INTERNAL_H
#define NDYN_IO_INTERNAL_H

#include <stdio.h>

#include "ndyn/io.h"

/* ------------------------------------------------------------ atomic files */

/* A file being written under a temporary name in the directory of `path`;
 * io_atomic_commit flushes, fsyncs and renames it over `path`,
 * io_atomic_abort removes it. Exactly one of the two must be called. */
typedef struct io_atomic {
    FILE *f;
    char *path;
    char *tmp;
} io_atomic;

int io_atomic_open(io_atomic *w, const char *path);
/* Write n bytes; fails with NDYN_EIO naming the file. */
int io_atomic_write(io_atomic *w, const void *buf, size_t n);
int io_atomic_commit(io_atomic *w);
void io_atomic_abort(io_atomic *w);

/* A whole input file in memory: mapped read-only when possible, else read.
 * io_unmap_file releases it. */
typedef struct io_mapped {
    const unsigned char *data;
    size_t len;
    void *map;   /* mmap'ed region or NULL */
    void *heap;  /* malloc'ed copy or NULL */
} io_mapped;

int io_map_file(const char *path, io_mapped *m);
void io_unmap_file(io_mapped *m);

/* ------------------------------------------------------------ .npy helpers */

/* The dtype code ('<f8', '|u1', ...) NumPy uses for t in this host's byte order. */
const char *io_npy_descr(ndyn_dtype t);
/* The .npy header (magic, version, length, dict, padding) for `a`, C order,
 * native byte order, format 1.0 or 2.0 if the dict needs it. Into a
 * malloc'ed buffer. */
int io_npy_header(const ndyn_array *a, unsigned char **hdr, size_t *len);
/* Little/big-endian reads. */
static inline unsigned io_le16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static inline unsigned long io_le32(const unsigned char *p)
{
    return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}
static inline unsigned long long io_le64(const unsigned char *p)
{
    return io_le32(p) | (unsigned long long)io_le32(p + 4) << 32;
}
static inline int io_host_is_little(void)
{
    const unsigned one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Reverse the axes of `a` (transpose of a matrix; (i,j,k) -> (k,j,i)).
 * Returns a new array or NULL with a message. */
ndyn_array *io_reverse_axes(const ndyn_array *a);

/* The final path component of `path` (pointer into it). */
const char *io_basename(const char *path);
/* Lower-case extension including the dot (".npz"), into buf; "" if none. */
const char *io_extension(const char *path, char *buf, size_t n);
/* malloc'ed printf. NULL on failure (with a message). */
char *io_strdup_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Storage types of the numeric arrays of a MATLAB v5 file (mat5_types.c):
 * one node per variable, mirroring struct/cell nesting. stype is the MAT
 * data type code (1 int8, 2 uint8, 3 int16, 4 uint16, 5 int32, 6 uint32,
 * 7 single, 9 double, 12 int64, 13 uint64) of a numeric leaf, 0 if unknown. */
typedef struct io_mat5_node {
    int cls, stype, complex, logical;
    size_t nchild, nfields;          /* struct: nchild = numel * nfields */
    struct io_mat5_node *child;
} io_mat5_node;

typedef struct io_mat5_vars {
    size_t n, cap;
    char **names;
    io_mat5_node *nodes;
} io_mat5_vars;

/* 0 on success; nonzero (no message) when the file cannot be walked. */
int io_mat5_scan(const char *path, io_mat5_vars *out);
void io_mat5_vars_free(io_mat5_vars *v);

/* 1 when buf holds a .npy unicode string array (no error message left). */
int io_npy_is_text(const void *buf, size_t len);

/* npz writer with text members and the option to force zip64 records even
 * for small files (as NumPy's savez does; the tests exercise that path).
 * Member i is arrays[i], or, when arrays[i] is NULL, the text texts[i]
 * stored as a unicode string array (texts may be NULL when no member is
 * text). */
int io_npz_write_ex(const char *path, size_t n, const char *const *names,
                    const ndyn_array *const *arrays, const char *const *texts, int compress,
                    int force_zip64);

#endif
