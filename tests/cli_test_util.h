/* Running the ndyn executable from tests: exit status, stdout and stderr. */
#ifndef NDYN_CLI_TEST_UTIL_H
#define NDYN_CLI_TEST_UTIL_H

#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char t_out[1 << 16], t_err[1 << 16];

static void t_slurp(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) return;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
}

/* Run `ndyn ARGS` (ARGS printf-style, passed through the shell); returns the
 * exit status (-1 if it did not exit normally) with its stdout in t_out and
 * stderr in t_err. */
static int t_ndyn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int t_ndyn(const char *fmt, ...)
{
    char args[2048], cmd[4096], o[256], e[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    /* per-process names: ctest runs the CLI test programs in parallel in one
     * directory, and they must not read each other's output */
    char on[64], en[64];
    snprintf(on, sizeof on, "cli_stdout_%ld.txt", (long)getpid());
    snprintf(en, sizeof en, "cli_stderr_%ld.txt", (long)getpid());
    t_tmp(on, o, sizeof o);
    t_tmp(en, e, sizeof e);
    snprintf(cmd, sizeof cmd, "'%s' %s >%s 2>%s </dev/null", NDYN_TEST_EXE, args, o, e);
    int st = system(cmd);
    t_slurp(o, t_out, sizeof t_out);
    t_slurp(e, t_err, sizeof t_err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Lines in s (a final line without '\n' counts). */
static inline size_t t_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* A usage error: exit 2, nothing on stdout, stderr names `needle`. */
#define CHECK_USAGE(needle, ...)                                                       \
    do {                                                                               \
        int t_st_ = t_ndyn(__VA_ARGS__);                                               \
        CHECKF(t_st_ == 2, "exit %d, stderr: %s", t_st_, t_err);                      \
        CHECKF(strstr(t_err, needle) != NULL, "stderr lacks '%s': %s", needle, t_err); \
    } while (0)

/* A run-time failure: exit 1, a one-line error on stderr naming `needle`. */
#define CHECK_RUNFAIL(needle, ...)                                                     \
    do {                                                                               \
        int t_st_ = t_ndyn(__VA_ARGS__);                                               \
        CHECKF(t_st_ == 1, "exit %d, stderr: %s", t_st_, t_err);                      \
        CHECKF(strstr(t_err, needle) != NULL, "stderr lacks '%s': %s", needle, t_err); \
        CHECKF(t_lines(t_err) == 1, "stderr is not one line: %s", t_err);              \
    } while (0)

#endif
