/* Error reporting and option parsing shared by every subcommand. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const char *cmd)
{
    fprintf(stderr, "ndyn %s: error: %s\n", cmd, ndyn_errmsg());
    return CLI_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ndyn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ndyn %s --help'.\n", cmd);
    return CLI_USAGE;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return cli_usage(cmd, "--%s expects an integer, got '%s'", opt, s);
    if (v < lo || v > hi)
        return cli_usage(cmd, "--%s must be between %ld and %ld, got %ld", opt, lo, hi, v);
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v != v)
        return cli_usage(cmd, "--%s expects a number, got '%s'", opt, s);
    if (v < lo || v > hi)
        return cli_usage(cmd, "--%s must be between %g and %g, got %g", opt, lo, hi, v);
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-') return cli_usage(cmd, "--%s expects a non-negative integer, got '%s'", opt, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return cli_usage(cmd, "--%s expects a non-negative integer, got '%s'", opt, s);
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_int_list(const char *cmd, const char *opt, const char *s, long lo, long hi,
                       long *out, int cap, int *n)
{
    *n = 0;
    if (!*s) return 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || (*end && *end != ','))
            return cli_usage(cmd, "--%s expects comma-separated integers, got '%s'", opt, s);
        if (v < lo || v > hi)
            return cli_usage(cmd, "--%s values must be between %ld and %ld, got %ld", opt, lo, hi, v);
        if (*n >= cap) return cli_usage(cmd, "--%s takes at most %d values", opt, cap);
        out[(*n)++] = v;
        if (!*end) break;
        p = end + 1;
    }
    return 0;
}

int cli_common_option(const char *cmd, int c, const char *arg, int *rc)
{
    long v = 0;
    switch (c) {
    case 'q': /* every command's short form of --quiet (CLI_COMMON_SHORTOPTS) */
    case CLI_OPT_QUIET:
        ndyn_set_quiet(1);
        return 1;
    case CLI_OPT_THREADS:
        if (cli_parse_int(cmd, "threads", arg, 1, 1024, &v)) {
            *rc = CLI_USAGE;
            return 1;
        }
        ndyn_set_num_threads((int)v);
        return 1;
    default:
        return 0;
    }
}

void cli_reset_getopt(void)
{
    optind = 0; /* glibc: 0 forces a full re-initialisation */
    opterr = 0;
}
