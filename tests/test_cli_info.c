/* ndyn info: lists names, dtypes and shapes of NumPy/SciPy-written fixtures
 * (values as python/make_io_fixtures.py recorded them), --stats, and exit
 * codes for bad input. */
#include "cli_test_util.h"

#define FIX NDYN_TEST_FIXTURES "/io"

/* The line of t_out that lists `name`, or NULL. */
static const char *line_of(const char *name)
{
    static char line[512];
    for (const char *p = t_out; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
        char first[128];
        if (sscanf(line, " %127s", first) == 1 && strcmp(first, name) == 0) return line;
        if (!e) break;
        p = e + 1;
    }
    return NULL;
}

static void expect(const char *name, const char *dtype, const char *shape)
{
    const char *l = line_of(name);
    CHECKF(l && strstr(l, dtype) && strstr(l, shape), "%s: want %s %s, line '%s'", name, dtype,
           shape, l ? l : "(missing)");
}

TEST(info_npz)
{
    CHECK(t_ndyn("info '%s/npz/savez.npz'", FIX) == 0);
    expect("a", "float64", "(3, 4)");
    expect("b", "int32", "(5,)");
    expect("c", "uint8", "(2, 2)");
    expect("flags", "bool", "(3,)");
    expect("s", "float64", "()");
    expect("big", "float32", "(40, 7)");
    CHECK(strstr(t_out, "6 entries") != NULL);
    /* One array by FILE:NAME. */
    CHECK(t_ndyn("info '%s/npz/savez.npz:big'", FIX) == 0);
    expect("big", "float32", "(40, 7)");
    CHECK(strstr(t_out, "1 entry") != NULL && line_of("a") == NULL);
    CHECK_RUNFAIL("no array named 'nope'", "info '%s/npz/savez.npz:nope'", FIX);
}

TEST(info_mat_npy_text)
{
    CHECK(t_ndyn("info '%s/mat/struct.mat'", FIX) == 0);
    expect("D[1].data", "uint8", "(2, 5)");
    expect("M", "float64", "(2, 3, 4)");
    expect("C{0}", "int16", "(1, 3)");
    expect("D[0].condition", "text", "\"reach1\"");
    CHECK(t_ndyn("info '%s/npy/f4_F_be_v2.npy' '%s/text/names.npy'", FIX, FIX) == 0);
    CHECK(strstr(t_out, "float32") && strstr(t_out, "(2, 3, 4)"));
    expect("names", "text", "4 lines"); /* a NumPy string array */
    /* Several files: the good ones are listed, the status reports the bad one. */
    CHECK(t_ndyn("info '%s/npy/f4_F_be_v2.npy' tmp/none.npy", FIX) == 1);
    CHECK(strstr(t_out, "(2, 3, 4)") && strstr(t_err, "tmp/none.npy"));
    CHECK(t_ndyn("info --stats '%s/npz/savez.npz'", FIX) == 0);
    /* b is (-3, 0, 7, 2^31-1, -2^31). */
    const char *l = line_of("b");
    CHECKF(l && strstr(l, "min -2.14748e+09") && strstr(l, "max 2.14748e+09"), "%s", l ? l : "");
    CHECK(t_ndyn("info --stats '%s/npy/f8_C_le_v1.npy'", FIX) == 0);
    CHECKF(strstr(t_out, "3 NaN/Inf") != NULL, "%s", t_out); /* nan, inf, -inf in the fixture */
}

TEST(info_bad_input)
{
    CHECK_USAGE("FILE", "info");
    CHECK_USAGE("unknown option", "info --bogus x.npz");
    CHECK_RUNFAIL("tmp/none.npz", "info tmp/none.npz");
    FILE *f = fopen("tmp/garbage.npy", "wb");
    if (f) {
        fputs("\x93NUMPY\x01\x00\xff\xff{'descr", f);
        fclose(f);
    }
    CHECK_RUNFAIL("garbage.npy", "info tmp/garbage.npy");
    CHECK(t_ndyn("info --help") == 0 && strstr(t_out, "--stats") && strstr(t_out, "--source"));
}

RUN_TESTS(T(info_npz), T(info_mat_npy_text), T(info_bad_input))
