/* ndyn core: status codes and error messages, dense arrays, the seeded random
 * generator, progress reporting and timing.
 *
 * Conventions used by every module:
 *  - Functions that can fail return an int status (NDYN_OK == 0). On failure
 *    they leave a message, readable with ndyn_errmsg(), that says what was wrong
 *    and what to change. The library never prints to stdout and never exits.
 *  - Arrays are dense, contiguous and row-major (C order).
 */
#ifndef NDYN_CORE_H
#define NDYN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NDYN_VERSION_MAJOR 0
#define NDYN_VERSION_MINOR 1
#define NDYN_VERSION_PATCH 0
#define NDYN_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ status */

typedef enum {
    NDYN_OK = 0,
    NDYN_EINVAL = 1,      /* invalid argument or parameter */
    NDYN_ENOMEM = 2,      /* allocation failed, or a size overflows */
    NDYN_EIO = 3,         /* a file could not be opened, read or written */
    NDYN_EFORMAT = 4,     /* a file's contents are malformed or unsupported */
    NDYN_ENOTFOUND = 5,   /* a named array, path or key does not exist */
    NDYN_ENONFINITE = 6,  /* NaN or Inf where finite numbers are required */
    NDYN_ESHAPE = 7,      /* array shapes do not fit together */
    NDYN_ECONVERGE = 8,   /* an iterative method did not converge */
    NDYN_EUNSUPPORTED = 9,/* valid but not supported (dtype, format version) */
    NDYN_EINTERNAL = 10   /* a bug in ndyn: please report it */
} ndyn_status;

/* Record an error: formats the message (printf-style), stores it for this
 * thread and returns `code`, so call sites read `return ndyn_error(...)`. */
int ndyn_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prefix the current message with context ("reading x.npy: " + old message)
 * and return `code`. */
int ndyn_error_context(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const char *ndyn_errmsg(void);   /* message of the last error on this thread */
void ndyn_error_clear(void);
const char *ndyn_status_name(int code); /* "invalid argument", ... */

/* Warnings (e.g. "graph has 2 connected components"): passed to a handler,
 * by default written to stderr unless ndyn_set_quiet(1). */
typedef void (*ndyn_warn_handler)(const char *msg, void *user);
void ndyn_set_warn_handler(ndyn_warn_handler h, void *user);
void ndyn_warn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Quiet mode silences warnings on stderr and progress bars. */
void ndyn_set_quiet(int quiet);
int ndyn_get_quiet(void);

/* Size arithmetic that fails on overflow: returns 0 and sets *out, or
 * NDYN_ENOMEM with a message. */
int ndyn_size_mul(size_t a, size_t b, size_t *out);
/* malloc/calloc wrappers that set an error message on failure (return NULL). */
void *ndyn_malloc(size_t nbytes);
void *ndyn_calloc(size_t count, size_t size);
void *ndyn_malloc_array(size_t count, size_t size); /* overflow-checked */

/* ------------------------------------------------------------------ arrays */

typedef enum {
    NDYN_F64 = 0, NDYN_F32, NDYN_I8, NDYN_I16, NDYN_I32, NDYN_I64,
    NDYN_U8, NDYN_U16, NDYN_U32, NDYN_U64, NDYN_BOOL,
    NDYN_DTYPE_COUNT
} ndyn_dtype;

#define NDYN_MAX_NDIM 8

/* A dense, contiguous, row-major array. `owner` says whether ndyn_array_free
 * releases `data`; views (owner == 0) borrow it. */
typedef struct ndyn_array {
    ndyn_dtype dtype;
    int ndim;                       /* 0 (scalar) .. NDYN_MAX_NDIM */
    size_t shape[NDYN_MAX_NDIM];
    size_t size;                    /* product of shape (1 for a scalar) */
    void *data;
    int owner;
} ndyn_array;

size_t ndyn_dtype_size(ndyn_dtype t);          /* bytes per element */
const char *ndyn_dtype_name(ndyn_dtype t);     /* "float64", "int32", ... */
int ndyn_dtype_is_float(ndyn_dtype t);
int ndyn_dtype_is_int(ndyn_dtype t);           /* signed, unsigned or bool */

/* Allocate a zero-filled array; shape may be NULL when ndim == 0. Returns
 * NULL (with a message) on overflow or allocation failure. */
ndyn_array *ndyn_array_alloc(ndyn_dtype t, int ndim, const size_t *shape);
/* Convenience for 1-D/2-D/3-D shapes. */
ndyn_array *ndyn_array_alloc1(ndyn_dtype t, size_t n0);
ndyn_array *ndyn_array_alloc2(ndyn_dtype t, size_t n0, size_t n1);
ndyn_array *ndyn_array_alloc3(ndyn_dtype t, size_t n0, size_t n1, size_t n2);
/* Wrap existing memory (not freed by ndyn_array_free). */
ndyn_array *ndyn_array_view(ndyn_dtype t, int ndim, const size_t *shape, void *data);
void ndyn_array_free(ndyn_array *a);
ndyn_array *ndyn_array_copy(const ndyn_array *a);
/* Convert (copying) to another dtype. Float -> int conversion truncates and
 * fails on NaN/Inf or out-of-range values. */
ndyn_array *ndyn_array_cast(const ndyn_array *a, ndyn_dtype t);
/* Reinterpret with a new shape of equal size (no copy). */
int ndyn_array_reshape(ndyn_array *a, int ndim, const size_t *shape);
/* Element i (flat index) as double, whatever the dtype. */
double ndyn_array_get(const ndyn_array *a, size_t i);
void ndyn_array_set(ndyn_array *a, size_t i, double v);
size_t ndyn_array_nbytes(const ndyn_array *a);
/* Fails with NDYN_ENONFINITE naming `what` and the first bad index. */
int ndyn_array_check_finite(const ndyn_array *a, const char *what);
int ndyn_check_finite(const double *x, size_t n, const char *what);
/* "(3, 4)" into buf. */
const char *ndyn_shape_str(const ndyn_array *a, char *buf, size_t bufsize);

/* ------------------------------------------------------------------ random */

/* xoshiro256** seeded through splitmix64. A (seed, stream) pair names an
 * independent sequence: parallel code draws stream = work-item index, never
 * thread id, so results do not depend on the number of threads. */
typedef struct ndyn_rng {
    uint64_t s[4];
    double spare_normal;
    int has_spare;
} ndyn_rng;

void ndyn_rng_init(ndyn_rng *r, uint64_t seed, uint64_t stream);
uint64_t ndyn_rng_u64(ndyn_rng *r);
double ndyn_rng_uniform(ndyn_rng *r);              /* [0, 1), 53 bits */
double ndyn_rng_uniform_range(ndyn_rng *r, double lo, double hi);
double ndyn_rng_normal(ndyn_rng *r);               /* N(0, 1) */
uint64_t ndyn_rng_below(ndyn_rng *r, uint64_t n);  /* uniform in [0, n), unbiased; n > 0 */
/* Index drawn with probability p[i] / sum(p); p >= 0 with a positive sum. */
size_t ndyn_rng_categorical(ndyn_rng *r, const double *p, size_t n);
void ndyn_rng_shuffle(ndyn_rng *r, size_t *idx, size_t n);   /* Fisher-Yates */
void ndyn_rng_permutation(ndyn_rng *r, size_t *idx, size_t n); /* idx = random perm of 0..n-1 */
double ndyn_rng_poisson(ndyn_rng *r, double lambda);  /* lambda >= 0 */

/* ---------------------------------------------------------------- progress */

/* Progress of a long loop on stderr: label, step/total, rate, time left and
 * a free-form status (e.g. "loss 0.123"). Draws only when stderr is a
 * terminal and quiet mode is off; otherwise every call is a no-op. */
typedef struct ndyn_progress {
    const char *label;
    size_t total;
    double t_start;
    double t_last_draw;
    int active;
} ndyn_progress;

void ndyn_progress_begin(ndyn_progress *p, const char *label, size_t total);
void ndyn_progress_update(ndyn_progress *p, size_t done, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void ndyn_progress_end(ndyn_progress *p);
/* Force progress drawing on/off regardless of the terminal test (tests). */
void ndyn_progress_force(int mode); /* -1 auto (default), 0 never, 1 always */

/* ------------------------------------------------------------------ timing */

double ndyn_time_now(void);          /* monotonic seconds */
size_t ndyn_peak_rss_bytes(void);    /* peak resident set size of the process */
int ndyn_num_threads(void);          /* OpenMP threads in use (1 without OpenMP) */
void ndyn_set_num_threads(int n);    /* n <= 0: default */

#ifdef __cplusplus
}
#endif
#endif
