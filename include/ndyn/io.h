/* ndyn I/O: .npy, .npz, .mat (libmatio), HDF5 (libhdf5) and CSV readers and
 * writers, and the dataset: a list of named arrays that remembers where each
 * came from.
 *
 * Every reader validates what it reads (magic, header, dtype, shape, sizes,
 * truncation) and fails with a message naming the file and the problem.
 * Writers write to a temporary file in the same directory and rename it, so a
 * crash never leaves a half-written file under the final name. They do not
 * create directories; call ndyn_make_parent_dirs first for that.
 */
#ifndef NDYN_IO_H
#define NDYN_IO_H

#include "ndyn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -------------------------------------------------------------------- .npy */

/* Read a .npy file (format 1.0, 2.0, 3.0; dtypes f4 f8 i1 i2 i4 i8 u1 u2 u4
 * u8 b1, either byte order, C or Fortran order). The result is always
 * native-endian and C-ordered. */
int ndyn_npy_read(const char *path, ndyn_array **out);
int ndyn_npy_read_mem(const void *buf, size_t len, ndyn_array **out);
/* Write a .npy file (format 1.0, or 2.0 if the header needs it), C order,
 * native little-endian. */
int ndyn_npy_write(const char *path, const ndyn_array *a);
/* Serialise to a malloc'ed buffer (*buf, *len); caller frees *buf. */
int ndyn_npy_write_mem(const ndyn_array *a, void **buf, size_t *len);
/* Strings: a NumPy unicode array ('<U<n>', any shape, C order) read as one
 * malloc'ed UTF-8 text with its strings (trailing NULs removed) joined by
 * '\n'; and the reverse, each line of `text` one element of a 1-D '<U'
 * array (invalid UTF-8 becomes U+FFFD). The numeric readers refuse string
 * arrays with NDYN_EUNSUPPORTED; .npz members that hold strings are read as
 * text entries, and text entries are written as such arrays. */
int ndyn_npy_read_text_mem(const void *buf, size_t len, char **text);
int ndyn_npy_write_text_mem(const char *text, void **buf, size_t *len);

/* ----------------------------------------------------------------- dataset */

typedef struct ndyn_named_array {
    char *name;          /* e.g. "pos", "gcamp/trace_array", "D[3].data" */
    char *source;        /* e.g. "x.npz:pos", "d.h5:/gcamp/trace_array (HDF5 row-major as stored)" */
    ndyn_array *array;   /* numeric data; NULL for a text entry */
    char *text;          /* text entry (e.g. a MATLAB char array); NULL otherwise */
} ndyn_named_array;

typedef struct ndyn_dataset {
    size_t n;
    size_t cap;
    ndyn_named_array *items;
    char *path;          /* file it was loaded from, or NULL */
} ndyn_dataset;

ndyn_dataset *ndyn_dataset_new(void);
void ndyn_dataset_free(ndyn_dataset *ds);
/* Add an array; the dataset takes ownership of `a` (also on failure).
 * Replaces an existing entry of the same name. source may be NULL. */
int ndyn_dataset_add(ndyn_dataset *ds, const char *name, ndyn_array *a, const char *source);
int ndyn_dataset_add_text(ndyn_dataset *ds, const char *name, const char *text, const char *source);
/* The entry named `name`, or NULL. */
const ndyn_named_array *ndyn_dataset_find(const ndyn_dataset *ds, const char *name);
/* The numeric array named `name`; on failure NDYN_ENOTFOUND with a message
 * listing the names that exist. The array stays owned by the dataset. */
int ndyn_dataset_get(const ndyn_dataset *ds, const char *name, const ndyn_array **out);
/* Remove an entry and hand its array to the caller (NULL if absent). */
ndyn_array *ndyn_dataset_take(ndyn_dataset *ds, const char *name);

/* Load every array of a file, whatever its format (.npy, .npz, .mat, .h5/
 * .hdf5/.nwb, .csv/.tsv/.txt), chosen by magic bytes then extension. */
int ndyn_dataset_load(const char *path, ndyn_dataset **out);
/* Save as .npz (text entries become NumPy unicode arrays, one string per
 * line) or, with one numeric array, as .npy or .csv. compress: 1 deflate. */
int ndyn_dataset_save(const char *path, const ndyn_dataset *ds, int compress);

/* Load one array named by a spec "FILE", "FILE:NAME" (npz/mat/HDF5 path), or
 * "FILE" when the file holds exactly one array. */
int ndyn_load_array(const char *spec, ndyn_array **out);

/* -------------------------------------------------------------------- .npz */

int ndyn_npz_read(const char *path, ndyn_dataset **out);
int ndyn_npz_read_mem(const void *buf, size_t len, ndyn_dataset **out);
/* Write n arrays under names[i] (".npy" is appended inside the archive).
 * compress: 0 stored, 1 deflated. */
int ndyn_npz_write(const char *path, size_t n, const char *const *names,
                   const ndyn_array *const *arrays, int compress);

/* -------------------------------------------------------------------- .mat */

/* MATLAB v5/v7 (and v7.3, which is HDF5) through libmatio. Numeric arrays
 * become entries by variable name; struct arrays and cells are flattened to
 * "VAR[i].FIELD" and "VAR{i}" (0-based i, linear MATLAB order); char arrays
 * become text entries. MATLAB arrays are column-major: they are returned with
 * the MATLAB shape, converted to C order (element (i,j) stays (i,j)). */
int ndyn_mat_read(const char *path, ndyn_dataset **out);

/* -------------------------------------------------------------------- HDF5 */

/* Read one dataset by path (e.g. "gcamp/trace_array"). HDF5 stores row-major:
 * the array has the shape the file declares as seen from C. With transpose
 * set, the axes are reversed (the view from a column-major writer such as
 * Julia or MATLAB); the source string records which. */
int ndyn_h5_read(const char *path, const char *dataset, int transpose, ndyn_array **out);
/* Every numeric dataset in the file, named by its path without leading '/'. */
int ndyn_h5_read_all(const char *path, ndyn_dataset **out);

/* --------------------------------------------------------------------- CSV */

/* Numbers separated by commas (or tabs/semicolons/whitespace, detected); an
 * optional header line of names. Returns a (rows, cols) float64 array as
 * entry "data" plus one 1-D entry per named column. Missing values or text
 * in a data row are errors naming the line and column. */
int ndyn_csv_read(const char *path, ndyn_dataset **out);
int ndyn_csv_write(const char *path, const ndyn_array *a, const char *const *colnames);

/* ----------------------------------------------------------------- helpers */

/* Create the missing directories above the file `path` ("out/a/" for
 * "out/a/x.npz"), like mkdir -p; fails naming a component that is not a
 * directory or cannot be created. The CLI calls it for every --out. */
int ndyn_make_parent_dirs(const char *path);
/* Write `len` bytes to `path` atomically (temporary file + rename). */
int ndyn_write_file_atomic(const char *path, const void *buf, size_t len);
/* Read a whole file into a malloc'ed buffer, refusing files > max_bytes. */
int ndyn_read_file(const char *path, size_t max_bytes, void **buf, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
