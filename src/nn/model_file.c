/* Model files: the store, hyper-parameters, optimiser and schedule state and
 * extra arrays in a versioned .npz with a CRC-32 checksum; reading checks
 * every field. Layout in docs/nn.md. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn/hparams_internal.h"
#include "nn/nn_internal.h"

#define FORMAT_NAME "ndyn-nn-model"

/* ------------------------------------------------------------ text buffer */

typedef struct tbuf {
    char *s;
    size_t n, cap;
    int oom;
} tbuf;

static void tb_printf(tbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void tb_printf(tbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap <= b->n + (size_t)w) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* ------------------------------------------------------------- checksum */

static uLong crc_bytes(uLong crc, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, c, k);
        c += k;
        n -= k;
    }
    return crc;
}

static uLong crc_array(uLong crc, const char *name, const ndyn_array *a)
{
    crc = crc_bytes(crc, name, strlen(name) + 1);
    const char *dt = ndyn_dtype_name(a->dtype);
    crc = crc_bytes(crc, dt, strlen(dt) + 1);
    for (int d = 0; d < a->ndim; d++) {
        uint64_t v = a->shape[d];
        unsigned char le[8];
        for (int k = 0; k < 8; k++) le[k] = (unsigned char)(v >> (8 * k));
        crc = crc_bytes(crc, le, 8);
    }
    return crc_bytes(crc, a->data, ndyn_array_nbytes(a));
}

/* ---------------------------------------------------------------- save */

static void shape_text(tbuf *b, int ndim, const size_t *shape)
{
    if (ndim == 0) {
        tb_printf(b, "-");
        return;
    }
    for (int d = 0; d < ndim; d++) tb_printf(b, "%s%zu", d ? "," : "", shape[d]);
}

static const char *optim_kind_name(int k)
{
    return k == NDYN_NN_SGD ? "sgd" : k == NDYN_NN_ADAM ? "adam" : k == NDYN_NN_ADAMW ? "adamw"
                                                                                   : "?";
}

static const char *sched_kind_name(int k)
{
    return k == NDYN_NN_SCHED_NONE ? "none" : k == NDYN_NN_SCHED_STEP ? "steplr"
                                          : k == NDYN_NN_SCHED_PLATEAU ? "plateau" : "?";
}

static int valid_kind(const char *kind)
{
    if (!kind || !*kind || strlen(kind) > 64) return 0;
    for (const char *c = kind; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return 0;
    return 1;
}

int ndyn_nn_save(const char *path, const char *kind, const ndyn_nn_store *s,
                 const ndyn_nn_hparams *hp, const ndyn_nn_optim *o, const ndyn_nn_sched *sched,
                 const ndyn_dataset *extra)
{
    if (!path || !s) return ndyn_error(NDYN_EINVAL, "save model: path and store are required");
    if (!valid_kind(kind))
        return ndyn_error(NDYN_EINVAL, "save model: kind '%s' must be 1-64 letters, digits or "
                          "'_-.'", kind ? kind : "(null)");
    if (o && o->size != s->size)
        return ndyn_error(NDYN_ESHAPE, "save model: the optimiser was made for a store of %zu "
                          "values, this one has %zu", o->size, s->size);
    if (sched && ndyn_nn_sched_check(sched)) return NDYN_EINVAL;
    size_t nextra = 0;
    if (extra)
        for (size_t i = 0; i < extra->n; i++)
            if (extra->items[i].array) nextra++;
    size_t nomv = o ? (size_t)(o->m != NULL) + (size_t)(o->v != NULL) : 0;
    size_t narr = 2 + s->n * (1 + nomv) + nextra;
    int rc = NDYN_OK;
    tbuf meta = {0};
    char *hptext = NULL;
    size_t hplen = 0;
    const char **names = calloc(narr, sizeof *names);
    char **owned = calloc(narr, sizeof *owned);
    ndyn_array **arrs = calloc(narr, sizeof *arrs);
    ndyn_array *meta_arr = NULL, *hp_arr = NULL;
    if (!names || !owned || !arrs) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory saving model");
        goto done;
    }
    if ((rc = nn_hparams_to_text(hp, &hptext, &hplen))) goto done;

    tb_printf(&meta, "format\t%s\nversion\t%d\nkind\t%s\nndyn\t%s\nntensors\t%zu\n", FORMAT_NAME,
              NDYN_NN_FILE_VERSION, kind, NDYN_VERSION_STRING, s->n);
    size_t k = 2;
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        tb_printf(&meta, "tensor\t%s\t%u\t", p->name, p->flags);
        shape_text(&meta, p->ndim, p->shape);
        tb_printf(&meta, "\n");
    }
    if (o) {
        const ndyn_nn_optim_params *q = &o->p;
        tb_printf(&meta, "optim\t%s\noptim.lr\t%.17g\noptim.initial_lr\t%.17g\n"
                  "optim.momentum\t%.17g\noptim.dampening\t%.17g\noptim.nesterov\t%d\n"
                  "optim.weight_decay\t%.17g\noptim.beta1\t%.17g\noptim.beta2\t%.17g\n"
                  "optim.eps\t%.17g\noptim.t\t%" PRId64 "\noptim.state\t%s%s\n",
                  optim_kind_name(q->kind), q->lr, o->initial_lr, q->momentum, q->dampening,
                  q->nesterov, q->weight_decay, q->beta1, q->beta2, q->eps, o->t,
                  o->m ? "m" : "", o->v ? "v" : "");
    }
    if (sched) {
        tb_printf(&meta, "sched\t%s\nsched.last_epoch\t%" PRId64 "\nsched.step_size\t%" PRId64
                  "\nsched.gamma\t%.17g\nsched.mode_max\t%d\nsched.factor\t%.17g\n"
                  "sched.patience\t%" PRId64 "\nsched.threshold\t%.17g\nsched.threshold_abs\t%d\n"
                  "sched.cooldown\t%" PRId64 "\nsched.min_lr\t%.17g\nsched.eps\t%.17g\n"
                  "sched.best\t%.17g\nsched.num_bad_epochs\t%" PRId64
                  "\nsched.cooldown_counter\t%" PRId64 "\n",
                  sched_kind_name(sched->kind), sched->last_epoch, sched->step_size,
                  sched->gamma, sched->mode_max, sched->factor, sched->patience,
                  sched->threshold, sched->threshold_abs, sched->cooldown, sched->min_lr,
                  sched->eps, sched->best, sched->num_bad_epochs, sched->cooldown_counter);
    }
    tb_printf(&meta, "nextra\t%zu\n", nextra);
    for (size_t i = 0; extra && i < extra->n; i++)
        if (extra->items[i].array) tb_printf(&meta, "extra\t%s\n", extra->items[i].name);

    /* arrays in checksum order: params, optim m, optim v, extras */
    for (int part = 0; part < 3; part++) {
        const double *base = part == 0 ? s->data : part == 1 ? (o ? o->m : NULL)
                                                             : (o ? o->v : NULL);
        if (!base) continue;
        const char *pre = part == 0 ? "param/" : part == 1 ? "optim/m/" : "optim/v/";
        for (size_t i = 0; i < s->n; i++, k++) {
            const ndyn_nn_param *p = &s->params[i];
            owned[k] = malloc(strlen(pre) + strlen(p->name) + 1);
            if (!owned[k]) {
                rc = ndyn_error(NDYN_ENOMEM, "out of memory saving model");
                goto done;
            }
            strcpy(owned[k], pre);
            strcat(owned[k], p->name);
            names[k] = owned[k];
            arrs[k] = ndyn_array_view(NDYN_F64, p->ndim, p->shape, (void *)(base + p->offset));
            if (!arrs[k]) {
                rc = NDYN_ENOMEM;
                goto done;
            }
        }
    }
    for (size_t i = 0; extra && i < extra->n; i++) {
        const ndyn_named_array *it = &extra->items[i];
        if (!it->array) continue;
        owned[k] = malloc(strlen(it->name) + 7);
        if (!owned[k]) {
            rc = ndyn_error(NDYN_ENOMEM, "out of memory saving model");
            goto done;
        }
        strcpy(owned[k], "extra/");
        strcat(owned[k], it->name);
        names[k] = owned[k];
        arrs[k] = ndyn_array_view(it->array->dtype, it->array->ndim, it->array->shape,
                                  it->array->data);
        if (!arrs[k]) {
            rc = NDYN_ENOMEM;
            goto done;
        }
        k++;
    }
    if (meta.oom) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory saving model");
        goto done;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc_bytes(crc, meta.s, meta.n);
    crc = crc_bytes(crc, hptext, hplen);
    for (size_t i = 2; i < k; i++) crc = crc_array(crc, names[i], arrs[i]);
    tb_printf(&meta, "checksum\tcrc32:%08lx\n", (unsigned long)crc);
    if (meta.oom) {
        rc = ndyn_error(NDYN_ENOMEM, "out of memory saving model");
        goto done;
    }
    size_t ml = meta.n, hl = hplen;
    meta_arr = ndyn_array_view(NDYN_U8, 1, &ml, meta.s);
    hp_arr = ndyn_array_view(NDYN_U8, 1, &hl, hptext);
    if (!meta_arr || !hp_arr) {
        rc = NDYN_ENOMEM;
        goto done;
    }
    names[0] = "meta";
    arrs[0] = meta_arr;
    names[1] = "hparams";
    arrs[1] = hp_arr;
    rc = ndyn_npz_write(path, k, names, (const ndyn_array *const *)arrs, 0);
    if (rc) ndyn_error_context(rc, "saving model %s: ", path);
    meta_arr = hp_arr = NULL;   /* freed through arrs below */
done:
    if (arrs)
        for (size_t i = 0; i < narr; i++) ndyn_array_free(arrs[i]);
    ndyn_array_free(meta_arr);
    ndyn_array_free(hp_arr);
    if (owned)
        for (size_t i = 0; i < narr; i++) free(owned[i]);
    free(owned);
    free(names);
    free(arrs);
    free(meta.s);
    free(hptext);
    return rc;
}

/* ---------------------------------------------------------------- read */

typedef struct file_tensor {
    char *name;
    unsigned flags;
    int ndim;
    size_t shape[NDYN_NN_MAX_NDIM];
    size_t size;
    const ndyn_array *data, *m, *v;
} file_tensor;

struct ndyn_nn_file {
    char *path;
    char *kind;
    ndyn_dataset *ds;        /* everything as read */
    ndyn_nn_hparams *hp;
    ndyn_dataset *extra;
    size_t nt;
    file_tensor *t;
    int has_optim, has_sched, has_m, has_v;
    ndyn_nn_optim optim;     /* scalars only (m, v NULL) */
    ndyn_nn_sched sched;
};

void ndyn_nn_file_free(ndyn_nn_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nt; i++) free(f->t[i].name);
    free(f->t);
    free(f->path);
    free(f->kind);
    ndyn_dataset_free(f->ds);
    ndyn_dataset_free(f->extra);
    ndyn_nn_hparams_free(f->hp);
    free(f);
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int bad(const ndyn_nn_file *f, const char *what)
{
    return ndyn_error(NDYN_EFORMAT, "%s is not a valid ndyn model file: %s", f->path, what);
}

static int parse_f64(const char *v, double *out)
{
    char *end;
    if (!*v) return 0;
    *out = strtod(v, &end);
    return *end == '\0';
}

static int parse_i64(const char *v, int64_t *out)
{
    char *end;
    if (!*v) return 0;
    long long x = strtoll(v, &end, 10);
    *out = x;
    return *end == '\0';
}

static int parse_shape(const char *v, file_tensor *t)
{
    t->ndim = 0;
    t->size = 1;
    if (strcmp(v, "-") == 0) return 1;
    const char *p = v;
    while (*p) {
        if (t->ndim == NDYN_NN_MAX_NDIM) return 0;
        char *end;
        if (*p < '0' || *p > '9') return 0;
        unsigned long long d = strtoull(p, &end, 10);
        if (d == 0 || (*end && *end != ',')) return 0;
        t->shape[t->ndim++] = (size_t)d;
        if (ndyn_size_mul(t->size, (size_t)d, &t->size)) return 0;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) return 0;
    }
    return t->ndim > 0;
}

/* One "key\tvalue" line of meta; returns 0 on success. */
static int meta_line(ndyn_nn_file *f, char *key, char *val, size_t *ntensors, int *seen,
                     size_t *nextra_declared, char ***extra_names, size_t *nextra)
{
    ndyn_nn_optim *o = &f->optim;
    ndyn_nn_sched *s = &f->sched;
    double d;
    int64_t i;
#define NUM(field, dst)                                                                  \
    if (strcmp(key, field) == 0) {                                                      \
        if (!parse_f64(val, &d)) return bad(f, "meta field " field " is not a number");   \
        dst = d;                                                                        \
        return 0;                                                                       \
    }
#define INT(field, dst)                                                                  \
    if (strcmp(key, field) == 0) {                                                      \
        if (!parse_i64(val, &i)) return bad(f, "meta field " field " is not an integer"); \
        dst = i;                                                                        \
        return 0;                                                                       \
    }
    if (strcmp(key, "format") == 0) {
        if (seen[0]) return bad(f, "meta field format appears twice");
        if (strcmp(val, FORMAT_NAME) != 0) return bad(f, "its format is not " FORMAT_NAME);
        seen[0] = 1;
        return 0;
    }
    if (strcmp(key, "version") == 0) {
        if (seen[1]) return bad(f, "meta field version appears twice");
        if (!parse_i64(val, &i) || i < 1) return bad(f, "its version is not a positive integer");
        if (i > NDYN_NN_FILE_VERSION)
            return ndyn_error(NDYN_EUNSUPPORTED, "%s is model file version %lld; this ndyn "
                              "reads up to version %d: upgrade ndyn", f->path, (long long)i,
                              NDYN_NN_FILE_VERSION);
        seen[1] = 1;
        return 0;
    }
    if (strcmp(key, "kind") == 0) {
        if (seen[2]) return bad(f, "meta field kind appears twice");
        if (!valid_kind(val)) return bad(f, "its model kind is invalid");
        if (!(f->kind = dupn(val, strlen(val)))) return NDYN_ENOMEM;
        seen[2] = 1;
        return 0;
    }
    if (strcmp(key, "ndyn") == 0) return 0;
    if (strcmp(key, "ntensors") == 0) {
        if (seen[3]) return bad(f, "meta field ntensors appears twice");
        if (!parse_i64(val, &i) || i < 0 || i > 100000) return bad(f, "ntensors is invalid");
        *ntensors = (size_t)i;
        f->t = calloc(*ntensors ? *ntensors : 1, sizeof *f->t);
        if (!f->t) return ndyn_error(NDYN_ENOMEM, "out of memory");
        seen[3] = 1;
        return 0;
    }
    if (strcmp(key, "tensor") == 0) {
        if (!seen[3] || f->nt >= *ntensors) return bad(f, "more tensor lines than ntensors");
        char *t1 = strchr(val, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1 || !t2) return bad(f, "a tensor line is malformed");
        *t1 = *t2 = '\0';
        file_tensor *t = &f->t[f->nt];
        if (!parse_i64(t1 + 1, &i) || i < 0 || i > 3) return bad(f, "a tensor has bad flags");
        t->flags = (unsigned)i;
        if (!parse_shape(t2 + 1, t)) return bad(f, "a tensor has a bad shape");
        for (size_t j = 0; j < f->nt; j++)
            if (strcmp(f->t[j].name, val) == 0) return bad(f, "a tensor name appears twice");
        if (!(t->name = dupn(val, strlen(val)))) return NDYN_ENOMEM;
        f->nt++;
        return 0;
    }
    if (strcmp(key, "optim") == 0) {
        f->has_optim = 1;
        if (strcmp(val, "sgd") == 0) o->p.kind = NDYN_NN_SGD;
        else if (strcmp(val, "adam") == 0) o->p.kind = NDYN_NN_ADAM;
        else if (strcmp(val, "adamw") == 0) o->p.kind = NDYN_NN_ADAMW;
        else return bad(f, "unknown optimiser kind");
        return 0;
    }
    NUM("optim.lr", o->p.lr)
    NUM("optim.initial_lr", o->initial_lr)
    NUM("optim.momentum", o->p.momentum)
    NUM("optim.dampening", o->p.dampening)
    INT("optim.nesterov", o->p.nesterov)
    NUM("optim.weight_decay", o->p.weight_decay)
    NUM("optim.beta1", o->p.beta1)
    NUM("optim.beta2", o->p.beta2)
    NUM("optim.eps", o->p.eps)
    INT("optim.t", o->t)
    if (strcmp(key, "optim.state") == 0) {
        f->has_m = strchr(val, 'm') != NULL;
        f->has_v = strchr(val, 'v') != NULL;
        return 0;
    }
    if (strcmp(key, "sched") == 0) {
        f->has_sched = 1;
        if (strcmp(val, "none") == 0) s->kind = NDYN_NN_SCHED_NONE;
        else if (strcmp(val, "steplr") == 0) s->kind = NDYN_NN_SCHED_STEP;
        else if (strcmp(val, "plateau") == 0) s->kind = NDYN_NN_SCHED_PLATEAU;
        else return bad(f, "unknown schedule kind");
        return 0;
    }
    INT("sched.last_epoch", s->last_epoch)
    INT("sched.step_size", s->step_size)
    NUM("sched.gamma", s->gamma)
    INT("sched.mode_max", s->mode_max)
    NUM("sched.factor", s->factor)
    INT("sched.patience", s->patience)
    NUM("sched.threshold", s->threshold)
    INT("sched.threshold_abs", s->threshold_abs)
    INT("sched.cooldown", s->cooldown)
    NUM("sched.min_lr", s->min_lr)
    NUM("sched.eps", s->eps)
    NUM("sched.best", s->best)
    INT("sched.num_bad_epochs", s->num_bad_epochs)
    INT("sched.cooldown_counter", s->cooldown_counter)
    if (strcmp(key, "nextra") == 0) {
        if (seen[4]) return bad(f, "meta field nextra appears twice");
        if (!parse_i64(val, &i) || i < 0 || i > 100000) return bad(f, "nextra is invalid");
        *nextra_declared = (size_t)i;
        *extra_names = calloc(*nextra_declared ? *nextra_declared : 1, sizeof(char *));
        if (!*extra_names) return NDYN_ENOMEM;
        seen[4] = 1;
        return 0;
    }
    if (strcmp(key, "extra") == 0) {
        if (!seen[4] || *nextra >= *nextra_declared) return bad(f, "more extra lines than nextra");
        if (!((*extra_names)[*nextra] = dupn(val, strlen(val)))) return NDYN_ENOMEM;
        (*nextra)++;
        return 0;
    }
#undef NUM
#undef INT
    return ndyn_error(NDYN_EFORMAT, "%s: unknown meta field '%s' (written by a newer ndyn?)",
                      f->path, key);
}

static int get_array(ndyn_nn_file *f, const char *name, ndyn_dtype dt, int ndim,
                     const size_t *shape, const ndyn_array **out)
{
    const ndyn_named_array *it = ndyn_dataset_find(f->ds, name);
    if (!it || !it->array)
        return ndyn_error(NDYN_EFORMAT, "%s: array '%s' listed in the metadata is missing",
                          f->path, name);
    const ndyn_array *a = it->array;
    if (a->dtype != dt)
        return ndyn_error(NDYN_EFORMAT, "%s: array '%s' is %s, expected %s", f->path, name,
                          ndyn_dtype_name(a->dtype), ndyn_dtype_name(dt));
    if (ndim >= 0) {
        int same = a->ndim == ndim;
        for (int d = 0; same && d < ndim; d++) same = a->shape[d] == shape[d];
        if (!same) {
            char b[128];
            return ndyn_error(NDYN_EFORMAT, "%s: array '%s' has shape %s, which differs from "
                              "the metadata", f->path, name, ndyn_shape_str(a, b, sizeof b));
        }
    }
    *out = a;
    return NDYN_OK;
}

static char *joined(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 1);
    if (s) {
        strcpy(s, a);
        strcat(s, b);
    }
    return s;
}

int ndyn_nn_file_read(const char *path, const char *kind, ndyn_nn_file **out)
{
    *out = NULL;
    if (!path) return ndyn_error(NDYN_EINVAL, "read model: path is required");
    ndyn_nn_file *f = ndyn_calloc(1, sizeof *f);
    if (!f) return NDYN_ENOMEM;
    char **extra_names = NULL;
    size_t nextra_declared = 0, nextra = 0;
    int rc;
    if (!(f->path = dupn(path, strlen(path)))) {
        rc = NDYN_ENOMEM;
        goto fail;
    }
    if ((rc = ndyn_npz_read(path, &f->ds))) {
        ndyn_error_context(rc, "reading model: ");
        goto fail;
    }
    const ndyn_array *meta = NULL, *hpa = NULL;
    if ((rc = get_array(f, "meta", NDYN_U8, -1, NULL, &meta)) ||
        (rc = get_array(f, "hparams", NDYN_U8, -1, NULL, &hpa)))
        goto fail;
    if (meta->ndim != 1 || hpa->ndim != 1) {
        rc = bad(f, "meta and hparams must be 1-D uint8 text");
        goto fail;
    }
    /* parse meta */
    const char *mt = meta->data;
    size_t ml = meta->size, pos = 0, ntensors = 0, crc_end = 0;
    int seen[5] = {0}, have_crc = 0;
    unsigned long want_crc = 0;
    ndyn_nn_plateau_init(&f->sched);
    f->sched.kind = NDYN_NN_SCHED_NONE;
    ndyn_nn_optim_params_default(&f->optim.p, NDYN_NN_SGD);
    if (memchr(mt, '\0', ml)) {
        rc = bad(f, "meta contains a NUL byte");
        goto fail;
    }
    while (pos < ml) {
        const char *e = memchr(mt + pos, '\n', ml - pos);
        if (!e) {
            rc = bad(f, "meta ends without a newline (truncated?)");
            goto fail;
        }
        if (have_crc) {
            rc = bad(f, "meta continues after the checksum");
            goto fail;
        }
        char *line = dupn(mt + pos, (size_t)(e - mt) - pos);
        if (!line) {
            rc = NDYN_ENOMEM;
            goto fail;
        }
        size_t start = pos;
        pos = (size_t)(e - mt) + 1;
        char *tab = strchr(line, '\t');
        if (!tab) {
            free(line);
            rc = bad(f, "a meta line has no tab");
            goto fail;
        }
        *tab = '\0';
        if (strcmp(line, "checksum") == 0) {
            char *end;
            if (strncmp(tab + 1, "crc32:", 6) != 0 || strlen(tab + 7) != 8) {
                free(line);
                rc = bad(f, "the checksum line is malformed");
                goto fail;
            }
            want_crc = strtoul(tab + 7, &end, 16);
            if (*end) {
                free(line);
                rc = bad(f, "the checksum is not hexadecimal");
                goto fail;
            }
            have_crc = 1;
            crc_end = start;
            free(line);
            continue;
        }
        rc = meta_line(f, line, tab + 1, &ntensors, seen, &nextra_declared, &extra_names,
                       &nextra);
        free(line);
        if (rc) goto fail;
    }
    if (!seen[0] || !seen[1] || !seen[2] || !seen[3] || !seen[4]) {
        rc = bad(f, "meta lacks format, version, kind, ntensors or nextra");
        goto fail;
    }
    if (!have_crc) {
        rc = bad(f, "it has no checksum");
        goto fail;
    }
    if (f->nt != ntensors || nextra != nextra_declared) {
        rc = bad(f, "the tensor or extra lists are shorter than declared");
        goto fail;
    }
    if (kind && strcmp(kind, f->kind) != 0) {
        rc = ndyn_error(NDYN_EFORMAT, "%s holds a '%s' model, not a '%s' model", path, f->kind,
                        kind);
        goto fail;
    }
    if (f->has_optim && (f->optim.p.kind == NDYN_NN_SGD ? f->has_v || (f->has_m != (f->optim.p.momentum > 0))
                                                        : !(f->has_m && f->has_v))) {
        rc = bad(f, "the optimiser state does not fit its kind");
        goto fail;
    }
    if (f->has_optim && f->optim.t < 0) {
        rc = bad(f, "the optimiser step count is negative");
        goto fail;
    }
    if (f->has_optim && ndyn_nn_optim_params_check(&f->optim.p)) {
        ndyn_error_context(NDYN_EFORMAT, "%s: optimiser: ", path);
        rc = NDYN_EFORMAT;
        goto fail;
    }
    if (f->has_sched && ndyn_nn_sched_check(&f->sched)) {
        ndyn_error_context(NDYN_EFORMAT, "%s: schedule: ", path);
        rc = NDYN_EFORMAT;
        goto fail;
    }
    if ((rc = nn_hparams_from_text(hpa->data, hpa->size, &f->hp))) {
        ndyn_error_context(rc, "%s: ", path);
        goto fail;
    }
    /* arrays, checksum and nothing unexpected */
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc_bytes(crc, mt, crc_end);
    crc = crc_bytes(crc, hpa->data, hpa->size);
    size_t expected = 2;
    for (int part = 0; part < 3; part++) {
        if (part == 1 && !(f->has_optim && f->has_m)) continue;
        if (part == 2 && !(f->has_optim && f->has_v)) continue;
        const char *pre = part == 0 ? "param/" : part == 1 ? "optim/m/" : "optim/v/";
        for (size_t i = 0; i < f->nt; i++) {
            file_tensor *t = &f->t[i];
            char *nm = joined(pre, t->name);
            if (!nm) {
                rc = NDYN_ENOMEM;
                goto fail;
            }
            const ndyn_array *a = NULL;
            rc = get_array(f, nm, NDYN_F64, t->ndim, t->shape, &a);
            if (!rc) crc = crc_array(crc, nm, a);
            free(nm);
            if (rc) goto fail;
            if (part == 0) t->data = a;
            else if (part == 1) t->m = a;
            else t->v = a;
            expected++;
        }
    }
    if (!(f->extra = ndyn_dataset_new())) {
        rc = NDYN_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nextra; i++) {
        char *nm = joined("extra/", extra_names[i]);
        if (!nm) {
            rc = NDYN_ENOMEM;
            goto fail;
        }
        const ndyn_named_array *it = ndyn_dataset_find(f->ds, nm);
        if (!it || !it->array) {
            rc = ndyn_error(NDYN_EFORMAT, "%s: extra array '%s' is missing", path, extra_names[i]);
            free(nm);
            goto fail;
        }
        crc = crc_array(crc, nm, it->array);
        free(nm);
        ndyn_array *cp = ndyn_array_copy(it->array);
        if (!cp || (rc = ndyn_dataset_add(f->extra, extra_names[i], cp, NULL))) {
            rc = rc ? rc : NDYN_ENOMEM;
            goto fail;
        }
        expected++;
    }
    if (f->ds->n != expected) {
        rc = bad(f, "it holds arrays that its metadata does not list");
        goto fail;
    }
    if ((unsigned long)crc != want_crc) {
        rc = ndyn_error(NDYN_EFORMAT, "%s: checksum mismatch (file says %08lx, contents give "
                        "%08lx): the file was modified or is corrupt", path, want_crc,
                        (unsigned long)crc);
        goto fail;
    }
    for (size_t i = 0; i < nextra; i++) free(extra_names[i]);
    free(extra_names);
    *out = f;
    return NDYN_OK;
fail:
    if (extra_names)
        for (size_t i = 0; i < nextra_declared; i++) free(extra_names[i]);
    free(extra_names);
    ndyn_nn_file_free(f);
    return rc ? rc : NDYN_EFORMAT;
}

const char *ndyn_nn_file_kind(const ndyn_nn_file *f)
{
    return f->kind;
}

const ndyn_nn_hparams *ndyn_nn_file_hparams(const ndyn_nn_file *f)
{
    return f->hp;
}

const ndyn_dataset *ndyn_nn_file_extra(const ndyn_nn_file *f)
{
    return f->extra;
}

int ndyn_nn_file_has_optim(const ndyn_nn_file *f)
{
    return f->has_optim;
}

int ndyn_nn_file_has_sched(const ndyn_nn_file *f)
{
    return f->has_sched;
}

static const file_tensor *ftensor(const ndyn_nn_file *f, const char *name)
{
    for (size_t i = 0; i < f->nt; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

/* Every store tensor in the file with the same shape and flags, and no
 * other tensor in the file. */
static int match_store(const ndyn_nn_file *f, const ndyn_nn_store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        const file_tensor *t = ftensor(f, p->name);
        if (!t)
            return ndyn_error(NDYN_ENOTFOUND, "%s has no tensor '%s': the model was built with "
                              "other hyper-parameters or code", f->path, p->name);
        int same = t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++) same = t->shape[d] == p->shape[d];
        if (!same) {
            char a[96] = "", b[96] = "";
            size_t ka = 0, kb = 0;
            for (int d = 0; d < t->ndim && ka < 80; d++)
                ka += (size_t)snprintf(a + ka, sizeof a - ka, "%s%zu", d ? ", " : "", t->shape[d]);
            for (int d = 0; d < p->ndim && kb < 80; d++)
                kb += (size_t)snprintf(b + kb, sizeof b - kb, "%s%zu", d ? ", " : "", p->shape[d]);
            return ndyn_error(NDYN_ESHAPE, "%s: tensor '%s' has shape (%s) in the file but (%s) "
                              "in the model; the hyper-parameters differ", f->path, p->name, a, b);
        }
        if (t->flags != p->flags)
            return ndyn_error(NDYN_ESHAPE, "%s: tensor '%s' has flags %u in the file but %u in the "
                              "model", f->path, p->name, t->flags, p->flags);
    }
    if (f->nt != s->n) {
        for (size_t i = 0; i < f->nt; i++) {

            int found = 0;
            for (size_t j = 0; j < s->n; j++) found |= strcmp(s->params[j].name, f->t[i].name) == 0;

            if (!found)
                return ndyn_error(NDYN_ESHAPE, "%s has tensor '%s', which the model does not "
                                  "have", f->path, f->t[i].name);
        }
    }
    return NDYN_OK;
}

int ndyn_nn_file_load_store(const ndyn_nn_file *f, ndyn_nn_store *s)
{
    int rc = match_store(f, s);
    if (rc) return rc;
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        const file_tensor *t = ftensor(f, p->name);
        memcpy(s->data + p->offset, t->data->data, p->size * sizeof(double));
    }
    return NDYN_OK;
}

int ndyn_nn_file_load_optim(const ndyn_nn_file *f, const ndyn_nn_store *s, ndyn_nn_optim *o)
{
    if (!f->has_optim)
        return ndyn_error(NDYN_ENOTFOUND, "%s holds no optimiser state", f->path);
    if (o->p.kind != f->optim.p.kind)
        return ndyn_error(NDYN_EINVAL, "%s holds a %s optimiser state, not %s", f->path,
                          optim_kind_name(f->optim.p.kind), optim_kind_name(o->p.kind));
    if (o->size != s->size)
        return ndyn_error(NDYN_ESHAPE, "the optimiser was made for another store (%zu values, "
                          "store has %zu)", o->size, s->size);
    if ((f->has_m && !o->m) || (f->has_v && !o->v) || (!f->has_m && o->m))
        return ndyn_error(NDYN_EINVAL, "%s: its optimiser state (momentum %s) does not fit this "
                          "optimiser; make it with the saved hyper-parameters", f->path,
                          f->has_m ? "on" : "off");
    int rc = match_store(f, s);
    if (rc) return rc;
    for (size_t i = 0; i < s->n; i++) {
        const ndyn_nn_param *p = &s->params[i];
        const file_tensor *t = ftensor(f, p->name);
        if (f->has_m) memcpy(o->m + p->offset, t->m->data, p->size * sizeof(double));
        if (f->has_v) memcpy(o->v + p->offset, t->v->data, p->size * sizeof(double));
    }
    o->p = f->optim.p;
    o->initial_lr = f->optim.initial_lr;
    o->t = f->optim.t;
    return NDYN_OK;
}

int ndyn_nn_file_load_sched(const ndyn_nn_file *f, ndyn_nn_sched *sched)
{
    if (!f->has_sched) return ndyn_error(NDYN_ENOTFOUND, "%s holds no schedule", f->path);
    *sched = f->sched;
    return NDYN_OK;
}
