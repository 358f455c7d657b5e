/* Small helpers shared by the tests of src/sim. */
#ifndef NDYN_SIM_TEST_UTIL_H
#define NDYN_SIM_TEST_UTIL_H

#include "test.h"

#include "ndyn/io.h"

/* The float64/int32 data of array `name`, checking its shape (ndim entries
 * of `shape`; 0 entries are not checked). NULL (and a failed check) if absent. */
static inline const ndyn_array *t_get(const ndyn_dataset *ds, const char *name, ndyn_dtype dt,
                                      int ndim, const size_t *shape)
{
    const ndyn_array *a = NULL;
    CHECK_OK(ndyn_dataset_get(ds, name, &a));
    if (!a) return NULL;
    CHECKF(a->dtype == dt, "%s has dtype %s", name, ndyn_dtype_name(a->dtype));
    CHECKF(a->ndim == ndim, "%s has ndim %d, want %d", name, a->ndim, ndim);
    if (a->dtype != dt || a->ndim != ndim) return NULL;
    for (int i = 0; i < ndim; i++)
        if (shape[i]) CHECKF(a->shape[i] == shape[i], "%s axis %d is %zu, want %zu", name, i,
                             a->shape[i], shape[i]);
    return a;
}

/* 1 when two datasets hold the same names with bit-identical arrays. */
static inline int t_same_dataset(const ndyn_dataset *a, const ndyn_dataset *b)
{
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const ndyn_named_array *x = &a->items[i], *y = ndyn_dataset_find(b, x->name);
        if (!y) return 0;
        if (x->text || y->text) {
            if (!x->text || !y->text || strcmp(x->text, y->text)) return 0;
            continue;
        }
        if (x->array->dtype != y->array->dtype || x->array->size != y->array->size) return 0;
        if (memcmp(x->array->data, y->array->data, ndyn_array_nbytes(x->array))) return 0;
    }
    return 1;
}

/* The seeding contract of a simulator, given a and b simulated with the same
 * parameters (and seed) and c with another seed: a and b bit-identical, a
 * and c not. Frees all three. */
#define T_CHECK_SEEDED(a, b, c)                 \
    do {                                        \
        if ((a) && (b) && (c)) {                \
            CHECK(t_same_dataset((a), (b)));    \
            CHECK(!t_same_dataset((a), (c)));   \
        }                                       \
        ndyn_dataset_free(a);                   \
        ndyn_dataset_free(b);                   \
        ndyn_dataset_free(c);                   \
    } while (0)

#endif
