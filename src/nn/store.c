/* The parameter store: every tensor of a model in one data buffer and one
 * gradient buffer, with named views. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

ndyn_nn_store *ndyn_nn_store_new(void)
{
    return ndyn_calloc(1, sizeof(ndyn_nn_store));
}

void ndyn_nn_store_free(ndyn_nn_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->params[i].name);
    free(s->params);
    free(s->data);
    free(s->grad);
    free(s);
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NN_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return 0;
    }
    return 1;
}

int ndyn_nn_store_add(ndyn_nn_store *s, const char *name, int ndim, const size_t *shape,
                      unsigned flags, int *index)
{
    if (!s || !name) return ndyn_error(NDYN_EINVAL, "store_add: store and name are required");
    if (!valid_name(name))
        return ndyn_error(NDYN_EINVAL, "tensor name '%s' is invalid; use 1-%d letters, digits "
                          "or '._-/'", name, NN_NAME_MAX);
    if (ndim < 0 || ndim > NDYN_NN_MAX_NDIM || (ndim > 0 && !shape))
        return ndyn_error(NDYN_EINVAL, "tensor '%s': ndim %d is out of range 0..%d", name, ndim,
                          NDYN_NN_MAX_NDIM);
    if (flags & ~(NDYN_NN_BUFFER | NDYN_NN_NO_DECAY))
        return ndyn_error(NDYN_EINVAL, "tensor '%s': unknown flags 0x%x", name, flags);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->params[i].name, name) == 0)
            return ndyn_error(NDYN_EINVAL, "tensor '%s' is already in the store; names must be "
                              "unique (use another prefix)", name);
    if (s->n >= (size_t)0x7fffffff) return ndyn_error(NDYN_ENOMEM, "too many tensors in store");
    size_t size = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0)
            return ndyn_error(NDYN_EINVAL, "tensor '%s': dimension %d is 0; every dimension must "
                              "be positive", name, d);
        if (ndyn_size_mul(size, shape[d], &size)) return NDYN_ENOMEM;
    }
    if (size > ((size_t)-1) / sizeof(double) - s->size)
        return ndyn_error(NDYN_ENOMEM, "tensor '%s' makes the store too large", name);
    size_t total = s->size + size;
    if (total > s->cap_elems) {
        size_t cap = s->cap_elems ? s->cap_elems : 256;
        while (cap < total) cap = cap > ((size_t)-1) / 16 ? total : cap * 2;
        double *d = realloc(s->data, cap * sizeof(double));
        if (!d) return ndyn_error(NDYN_ENOMEM, "out of memory growing store to %zu values", cap);
        s->data = d;
        double *g = realloc(s->grad, cap * sizeof(double));
        if (!g) return ndyn_error(NDYN_ENOMEM, "out of memory growing store to %zu values", cap);
        s->grad = g;
        s->cap_elems = cap;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        ndyn_nn_param *p = realloc(s->params, cap * sizeof *p);
        if (!p) return ndyn_error(NDYN_ENOMEM, "out of memory adding tensor '%s'", name);
        s->params = p;
        s->cap = cap;
    }
    ndyn_nn_param *p = &s->params[s->n];
    memset(p, 0, sizeof *p);
    p->name = malloc(strlen(name) + 1);
    if (!p->name) return ndyn_error(NDYN_ENOMEM, "out of memory adding tensor '%s'", name);
    strcpy(p->name, name);
    p->ndim = ndim;
    for (int d = 0; d < ndim; d++) p->shape[d] = shape[d];
    p->size = size;
    p->offset = s->size;
    p->flags = flags;
    memset(s->data + s->size, 0, size * sizeof(double));
    memset(s->grad + s->size, 0, size * sizeof(double));
    s->size = total;
    if (index) *index = (int)s->n;
    s->n++;
    return NDYN_OK;
}

int ndyn_nn_store_find(const ndyn_nn_store *s, const char *name, int *index)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->params[i].name, name) == 0) {
            if (index) *index = (int)i;
            return NDYN_OK;
        }
    char list[512];
    size_t k = 0;
    list[0] = '\0';
    for (size_t i = 0; i < s->n && k + 4 < sizeof list; i++) {
        int w = snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", s->params[i].name);
        if (w < 0) break;
        k += (size_t)w;
    }
    if (k >= sizeof list) strcpy(list + sizeof list - 4, "...");
    return ndyn_error(NDYN_ENOTFOUND, "no tensor '%s' in the store (it has: %s)", name,
                      s->n ? list : "nothing");
}

double *ndyn_nn_store_data(ndyn_nn_store *s, int index)
{
    if (!s || index < 0 || (size_t)index >= s->n) return NULL;
    return s->data + s->params[index].offset;
}

double *ndyn_nn_store_grad(ndyn_nn_store *s, int index)
{
    if (!s || index < 0 || (size_t)index >= s->n) return NULL;
    return s->grad + s->params[index].offset;
}

const ndyn_nn_param *ndyn_nn_store_param(const ndyn_nn_store *s, int index)
{
    if (!s || index < 0 || (size_t)index >= s->n) return NULL;
    return &s->params[index];
}

void ndyn_nn_store_zero_grad(ndyn_nn_store *s)
{
    if (s->size) memset(s->grad, 0, s->size * sizeof(double));
}

size_t ndyn_nn_store_num_trainable(const ndyn_nn_store *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!(s->params[i].flags & NDYN_NN_BUFFER)) n += s->params[i].size;
    return n;
}

double ndyn_nn_store_grad_norm(const ndyn_nn_store *s)
{
    double ss = 0;
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        if (p->flags & NDYN_NN_BUFFER) continue;
        const double *g = s->grad + p->offset;
        for (size_t j = 0; j < p->size; j++) ss += g[j] * g[j];
    }
    return sqrt(ss);
}

int ndyn_nn_store_check_same(const ndyn_nn_store *a, const ndyn_nn_store *b)
{
    if (a->n != b->n)
        return ndyn_error(NDYN_ESHAPE, "stores differ: %zu tensors vs %zu", a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const ndyn_nn_param *p = &a->params[i], *q = &b->params[i];
        if (strcmp(p->name, q->name) != 0)
            return ndyn_error(NDYN_ESHAPE, "stores differ at tensor %zu: '%s' vs '%s'", i,
                              p->name, q->name);
        int same = p->ndim == q->ndim && p->flags == q->flags;
        for (int d = 0; same && d < p->ndim; d++) same = p->shape[d] == q->shape[d];
        if (!same)
            return ndyn_error(NDYN_ESHAPE, "stores differ in the shape or flags of tensor '%s'",
                              p->name);
    }
    return NDYN_OK;
}

void nn_store_truncate(ndyn_nn_store *s, size_t n)
{
    while (s->n > n) {
        s->n--;
        s->size = s->params[s->n].offset;
        free(s->params[s->n].name);
    }
}
