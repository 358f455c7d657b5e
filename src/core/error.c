/* Status codes, per-thread error messages, warnings, checked allocation. */
#include "ndyn/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_CAP 1024

static _Thread_local char g_msg[MSG_CAP];
static int g_quiet = 0;
static ndyn_warn_handler g_warn = NULL;
static void *g_warn_user = NULL;

int ndyn_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, MSG_CAP, fmt, ap);
    va_end(ap);
    return code;
}

int ndyn_error_context(int code, const char *fmt, ...)
{
    char prefix[MSG_CAP], old[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, MSG_CAP, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, MSG_CAP);
    size_t np = strlen(prefix);
    memcpy(g_msg, prefix, np + 1);
    /* Append as much of the old message as fits. */
    size_t room = MSG_CAP - 1 - np, no = strnlen(old, room);
    memcpy(g_msg + np, old, no);
    g_msg[np + no] = '\0';
    return code;
}

const char *ndyn_errmsg(void) { return g_msg[0] ? g_msg : "no error"; }

void ndyn_error_clear(void) { g_msg[0] = '\0'; }

const char *ndyn_status_name(int code)
{
    switch (code) {
    case NDYN_OK: return "success";
    case NDYN_EINVAL: return "invalid argument";
    case NDYN_ENOMEM: return "out of memory";
    case NDYN_EIO: return "input/output error";
    case NDYN_EFORMAT: return "malformed file";
    case NDYN_ENOTFOUND: return "not found";
    case NDYN_ENONFINITE: return "non-finite value";
    case NDYN_ESHAPE: return "shape mismatch";
    case NDYN_ECONVERGE: return "no convergence";
    case NDYN_EUNSUPPORTED: return "unsupported";
    case NDYN_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

void ndyn_set_warn_handler(ndyn_warn_handler h, void *user)
{
    g_warn = h;
    g_warn_user = user;
}

void ndyn_warn(const char *fmt, ...)
{
    char buf[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g_warn) {
        g_warn(buf, g_warn_user);
        return;
    }
    if (!g_quiet) fprintf(stderr, "ndyn: warning: %s\n", buf);
}

void ndyn_set_quiet(int quiet) { g_quiet = quiet; }
int ndyn_get_quiet(void) { return g_quiet; }

int ndyn_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return ndyn_error(NDYN_ENOMEM, "size overflow: %zu x %zu does not fit in memory", a, b);
    *out = a * b;
    return NDYN_OK;
}

void *ndyn_malloc(size_t nbytes)
{
    void *p = malloc(nbytes ? nbytes : 1);
    if (!p) ndyn_error(NDYN_ENOMEM, "out of memory allocating %zu bytes", nbytes);
    return p;
}

void *ndyn_calloc(size_t count, size_t size)
{
    size_t total;
    if (ndyn_size_mul(count, size, &total)) return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) ndyn_error(NDYN_ENOMEM, "out of memory allocating %zu bytes", total);
    return p;
}

void *ndyn_malloc_array(size_t count, size_t size)
{
    size_t total;
    if (ndyn_size_mul(count, size, &total)) return NULL;
    return ndyn_malloc(total);
}
