/* A small test harness: each test program registers TEST functions and runs
 * them from main via RUN_TESTS. Failed checks print file:line and the values,
 * and the program exits 1; a test that needs missing data calls SKIP(...)
 * and, when nothing failed, the program exits 77 (ctest reports "skipped").
 */
#ifndef NDYN_TEST_H
#define NDYN_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ndyn/core.h"

static int t_failures = 0;
static int t_checks = 0;
static int t_skipped = 0;
static const char *t_current = "";

#define CHECK(cond)                                                                    \
    do {                                                                               \
        t_checks++;                                                                    \
        if (!(cond)) {                                                                 \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__,      \
                    t_current, #cond);                                                 \
        }                                                                              \
    } while (0)

/* Like CHECK, with a printf-style explanation. */
#define CHECKF(cond, ...)                                                              \
    do {                                                                               \
        t_checks++;                                                                    \
        if (!(cond)) {                                                                 \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] check failed: %s: ", __FILE__, __LINE__,      \
                    t_current, #cond);                                                 \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
        }                                                                              \
    } while (0)

/* A status call that must succeed; prints ndyn's message otherwise. */
#define CHECK_OK(expr)                                                                 \
    do {                                                                               \
        t_checks++;                                                                    \
        int t_rc_ = (expr);                                                            \
        if (t_rc_ != 0) {                                                              \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] %s returned %d: %s\n", __FILE__, __LINE__,    \
                    t_current, #expr, t_rc_, ndyn_errmsg());                           \
        }                                                                              \
    } while (0)

/* A status call that must fail with `code` and leave a non-empty message. */
#define CHECK_FAILS(expr, code)                                                        \
    do {                                                                               \
        t_checks++;                                                                    \
        ndyn_error_clear();                                                            \
        int t_rc_ = (expr);                                                            \
        if (t_rc_ != (code) || strcmp(ndyn_errmsg(), "no error") == 0) {               \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] %s returned %d (want %d), message: %s\n",     \
                    __FILE__, __LINE__, t_current, #expr, t_rc_, (int)(code),          \
                    ndyn_errmsg());                                                    \
        }                                                                              \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                  \
    do {                                                                               \
        t_checks++;                                                                    \
        double t_a_ = (double)(a), t_b_ = (double)(b);                                 \
        if (!(fabs(t_a_ - t_b_) <= (atol) + (rtol) * fabs(t_b_))) {                    \
            t_failures++;                                                              \
            fprintf(stderr, "%s:%d: [%s] %s = %.17g, %s = %.17g (diff %.3g)\n",        \
                    __FILE__, __LINE__, t_current, #a, t_a_, #b, t_b_,                 \
                    fabs(t_a_ - t_b_));                                                \
        }                                                                              \
    } while (0)

#define SKIP(...)                                                                      \
    do {                                                                               \
        t_skipped++;                                                                   \
        fprintf(stderr, "[%s] skipped: ", t_current);                                  \
        fprintf(stderr, __VA_ARGS__);                                                  \
        fputc('\n', stderr);                                                           \
        return;                                                                        \
    } while (0)

typedef void (*t_fn)(void);
typedef struct { const char *name; t_fn fn; } t_case;

#define TEST(name) static void name(void)
#define T(name) {#name, name}

static inline int t_run(const t_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        t_current = cases[i].name;
        int before = t_failures;
        double t0 = ndyn_time_now();
        cases[i].fn();
        fprintf(stderr, "%-40s %s (%.2fs)\n", cases[i].name,
                t_failures > before ? "FAIL" : "ok", ndyn_time_now() - t0);
    }
    fprintf(stderr, "%d checks, %d failures, %d skipped\n", t_checks, t_failures, t_skipped);
    if (t_failures) return 1;
    if (t_skipped && t_checks == 0) return 77;
    return 0;
}

#define RUN_TESTS(...)                                                                 \
    int main(void)                                                                     \
    {                                                                                  \
        static const t_case t_cases_[] = {__VA_ARGS__};                                \
        ndyn_set_quiet(1);                                                             \
        return t_run(t_cases_, sizeof t_cases_ / sizeof t_cases_[0]);                  \
    }

/* Directory of the shared real recordings (env NDYN_DATA_DIR overrides), or
 * NULL when it does not exist. */
static inline const char *t_data_dir(void)
{
    const char *d = getenv("NDYN_DATA_DIR");
    if (!d || !*d) d = NDYN_TEST_DATA_DIR;
    struct stat st;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return d;
}

/* Path of a file in the shared data directory, or NULL (caller SKIPs). */
static inline const char *t_data_file(const char *name, char *buf, size_t n)
{
    const char *d = t_data_dir();
    if (!d) return NULL;
    snprintf(buf, n, "%s/%s", d, name);
    struct stat st;
    if (stat(buf, &st) != 0) return NULL;
    return buf;
}

/* A scratch path under the test's working directory. */
static inline const char *t_tmp(const char *name, char *buf, size_t n)
{
    mkdir("tmp", 0755);
    snprintf(buf, n, "tmp/%s", name);
    return buf;
}

#endif
