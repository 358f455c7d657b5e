/* Hyper-parameters: an ordered key -> number/integer/string list saved with
 * a model file. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "nn/hparams_internal.h"

ndyn_nn_hparams *ndyn_nn_hparams_new(void)
{
    return ndyn_calloc(1, sizeof(ndyn_nn_hparams));
}

void ndyn_nn_hparams_free(ndyn_nn_hparams *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->items[i].key);
        free(h->items[i].str);
    }
    free(h->items);
    free(h);
}

static int valid_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 100) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static char *dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (d) strcpy(d, s);
    return d;
}

static int slot(ndyn_nn_hparams *h, const char *key, nn_hp_item **out)
{
    if (!h || !key || !valid_key(key))
        return ndyn_error(NDYN_EINVAL, "hyper-parameter key '%s' is invalid; use 1-100 letters, "
                          "digits or '._-'", key ? key : "(null)");
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->items[i].key, key) == 0) {
            free(h->items[i].str);
            h->items[i].str = NULL;
            *out = &h->items[i];
            return NDYN_OK;
        }
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        nn_hp_item *it = realloc(h->items, cap * sizeof *it);
        if (!it) return ndyn_error(NDYN_ENOMEM, "out of memory adding hyper-parameter");
        h->items = it;
        h->cap = cap;
    }
    nn_hp_item *it = &h->items[h->n];
    memset(it, 0, sizeof *it);
    if (!(it->key = dup(key))) return ndyn_error(NDYN_ENOMEM, "out of memory");
    h->n++;
    *out = it;
    return NDYN_OK;
}

int ndyn_nn_hparams_set_num(ndyn_nn_hparams *h, const char *key, double v)
{
    nn_hp_item *it;
    int rc = slot(h, key, &it);
    if (rc) return rc;
    it->type = NN_HP_NUM;
    it->num = v;
    return NDYN_OK;
}

int ndyn_nn_hparams_set_int(ndyn_nn_hparams *h, const char *key, int64_t v)
{
    nn_hp_item *it;
    int rc = slot(h, key, &it);
    if (rc) return rc;
    it->type = NN_HP_INT;
    it->i = v;
    return NDYN_OK;
}

int ndyn_nn_hparams_set_str(ndyn_nn_hparams *h, const char *key, const char *v)
{
    if (!v) return ndyn_error(NDYN_EINVAL, "hyper-parameter '%s': string is NULL", key);
    if (strpbrk(v, "\n\r\t"))
        return ndyn_error(NDYN_EINVAL, "hyper-parameter '%s': strings may not contain newlines "
                          "or tabs", key);
    nn_hp_item *it;
    int rc = slot(h, key, &it);
    if (rc) return rc;
    it->type = NN_HP_STR;
    if (!(it->str = dup(v))) return ndyn_error(NDYN_ENOMEM, "out of memory");
    return NDYN_OK;
}

static const nn_hp_item *find(const ndyn_nn_hparams *h, const char *key)
{
    for (size_t i = 0; h && i < h->n; i++)
        if (strcmp(h->items[i].key, key) == 0) return &h->items[i];
    return NULL;
}

static int missing(const char *key)
{
    return ndyn_error(NDYN_ENOTFOUND, "hyper-parameter '%s' is missing from the model file", key);
}

int ndyn_nn_hparams_get_num(const ndyn_nn_hparams *h, const char *key, double *v)
{
    const nn_hp_item *it = find(h, key);
    if (!it) return missing(key);
    if (it->type == NN_HP_NUM) *v = it->num;
    else if (it->type == NN_HP_INT) *v = (double)it->i;
    else return ndyn_error(NDYN_EFORMAT, "hyper-parameter '%s' is a string, not a number", key);
    return NDYN_OK;
}

int ndyn_nn_hparams_get_int(const ndyn_nn_hparams *h, const char *key, int64_t *v)
{
    const nn_hp_item *it = find(h, key);
    if (!it) return missing(key);
    if (it->type != NN_HP_INT)
        return ndyn_error(NDYN_EFORMAT, "hyper-parameter '%s' is not an integer", key);
    *v = it->i;
    return NDYN_OK;
}

int ndyn_nn_hparams_get_str(const ndyn_nn_hparams *h, const char *key, const char **v)
{
    const nn_hp_item *it = find(h, key);
    if (!it) return missing(key);
    if (it->type != NN_HP_STR)
        return ndyn_error(NDYN_EFORMAT, "hyper-parameter '%s' is not a string", key);
    *v = it->str;
    return NDYN_OK;
}

size_t ndyn_nn_hparams_count(const ndyn_nn_hparams *h)
{
    return h ? h->n : 0;
}

const char *ndyn_nn_hparams_key(const ndyn_nn_hparams *h, size_t i)
{
    return h && i < h->n ? h->items[i].key : NULL;
}

/* Text form: one "key\ttype\tvalue\n" line per item; numbers in
 * "%.17g", which round-trips doubles exactly, integers in decimal. */
int nn_hparams_to_text(const ndyn_nn_hparams *h, char **out, size_t *len)
{
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    if (!buf) return ndyn_error(NDYN_ENOMEM, "out of memory");
    for (size_t i = 0; h && i < h->n; i++) {
        const nn_hp_item *it = &h->items[i];
        size_t need = strlen(it->key) + (it->str ? strlen(it->str) : 0) + 64;
        if (n + need > cap) {
            while (n + need > cap) cap *= 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                return ndyn_error(NDYN_ENOMEM, "out of memory");
            }
            buf = b;
        }
        int w;
        if (it->type == NN_HP_NUM) w = snprintf(buf + n, cap - n, "%s\tnum\t%.17g\n", it->key, it->num);
        else if (it->type == NN_HP_INT)
            w = snprintf(buf + n, cap - n, "%s\tint\t%" PRId64 "\n", it->key, it->i);
        else w = snprintf(buf + n, cap - n, "%s\tstr\t%s\n", it->key, it->str);
        n += (size_t)w;
    }
    *out = buf;
    *len = n;
    return NDYN_OK;
}

int nn_hparams_from_text(const char *text, size_t len, ndyn_nn_hparams **out)
{
    *out = NULL;
    ndyn_nn_hparams *h = ndyn_nn_hparams_new();
    if (!h) return NDYN_ENOMEM;
    size_t pos = 0, line = 0;
    int rc = NDYN_OK;
    while (pos < len && !rc) {
        line++;
        const char *e = memchr(text + pos, '\n', len - pos);
        if (!e) {
            rc = ndyn_error(NDYN_EFORMAT, "hparams line %zu is not terminated", line);
            break;
        }
        size_t ll = (size_t)(e - (text + pos));
        char *l = malloc(ll + 1);
        if (!l) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory");
            break;
        }
        memcpy(l, text + pos, ll);
        l[ll] = '\0';
        pos += ll + 1;
        char *t1 = strchr(l, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2 || memchr(l, '\0', ll)) {
            rc = ndyn_error(NDYN_EFORMAT, "hparams line %zu is malformed", line);
        } else {
            *t1 = *t2 = '\0';
            const char *key = l, *type = t1 + 1, *val = t2 + 1;
            char *end;
            if (strcmp(type, "num") == 0) {
                double v = strtod(val, &end);
                rc = (*val && !*end) ? ndyn_nn_hparams_set_num(h, key, v)
                                     : ndyn_error(NDYN_EFORMAT, "hparams line %zu: bad number '%s'",
                                                  line, val);
            } else if (strcmp(type, "int") == 0) {
                long long v = strtoll(val, &end, 10);
                rc = (*val && !*end) ? ndyn_nn_hparams_set_int(h, key, v)
                                     : ndyn_error(NDYN_EFORMAT, "hparams line %zu: bad integer "
                                                  "'%s'", line, val);
            } else if (strcmp(type, "str") == 0) {
                rc = ndyn_nn_hparams_set_str(h, key, val);
            } else {
                rc = ndyn_error(NDYN_EFORMAT, "hparams line %zu: unknown type '%s'", line, type);
            }
            if (rc && rc != NDYN_EFORMAT) rc = NDYN_EFORMAT;
        }
        free(l);
    }
    if (rc) {
        ndyn_nn_hparams_free(h);
        return rc;
    }
    *out = h;
    return NDYN_OK;
}
