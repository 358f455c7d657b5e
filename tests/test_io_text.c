/* Unicode string arrays: NumPy-written '<U'/'>U' .npy read as text (the
 * strings are the script's inputs in python/make_text_fixtures.py), our
 * writer byte-identical to NumPy's np.save, .npz text members both ways, and
 * string arrays refused by the numeric readers. */
#include "test.h"

#include "ndyn/io.h"

static char *fixture_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/io/text/%s", NDYN_TEST_FIXTURES, name);
    void *buf = NULL;
    size_t len = 0;
    char *t = NULL;
    CHECK_OK(ndyn_read_file(path, 1 << 20, &buf, &len));
    if (buf) CHECK_OK(ndyn_npy_read_text_mem(buf, len, &t));
    free(buf);
    return t;
}

TEST(text_from_numpy)
{
    char *t = fixture_text("names.npy");
    CHECK(t && strcmp(t, "linear left\nlinear right\nvortex right\nvortex left") == 0);
    free(t);
    const char *mixed = "caf\xc3\xa9\n\n\xe2\x82\xac\xf0\x9d\x84\x9e\nx";
    t = fixture_text("mixed_le.npy");
    CHECK(t && strcmp(t, mixed) == 0);
    free(t);
    t = fixture_text("mixed_be.npy");
    CHECK(t && strcmp(t, mixed) == 0);
    free(t);
    t = fixture_text("grid.npy");
    CHECK(t && strcmp(t, "a\nbb\nccc\nd") == 0);
    free(t);
}

TEST(text_writer_matches_numpy)
{
    char path[512];
    snprintf(path, sizeof path, "%s/io/text/names.npy", NDYN_TEST_FIXTURES);
    void *want = NULL, *got = NULL;
    size_t wl = 0, gl = 0;
    CHECK_OK(ndyn_read_file(path, 1 << 20, &want, &wl));
    CHECK_OK(ndyn_npy_write_text_mem("linear left\nlinear right\nvortex right\nvortex left",
                                     &got, &gl));
    CHECK(want && got && wl == gl && memcmp(want, got, wl) == 0);
    free(want);
    free(got);
    /* Round trip of non-ASCII text; invalid UTF-8 becomes U+FFFD. */
    const char *mixed = "caf\xc3\xa9\n\n\xe2\x82\xac\xf0\x9d\x84\x9e\nx";
    char *t = NULL;
    CHECK_OK(ndyn_npy_write_text_mem(mixed, &got, &gl));
    CHECK_OK(ndyn_npy_read_text_mem(got, gl, &t));
    CHECK(t && strcmp(t, mixed) == 0);
    free(t);
    free(got);
    CHECK_OK(ndyn_npy_write_text_mem("a\xff" "b", &got, &gl));
    CHECK_OK(ndyn_npy_read_text_mem(got, gl, &t));
    CHECK(t && strcmp(t, "a\xef\xbf\xbd" "b") == 0);
    free(t);
    free(got);
}

TEST(text_in_npz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/io/text/strings.npz", NDYN_TEST_FIXTURES);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(path, &ds));
    if (ds) {
        const ndyn_named_array *l = ndyn_dataset_find(ds, "label");
        CHECK(l && l->text && strcmp(l->text, "reach1") == 0);
        const ndyn_array *x = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "x", &x));
        CHECK(x && x->size == 3 && ((double *)x->data)[2] == 2.0);
        /* Written back (stored and deflated) and read again. */
        for (int compress = 0; compress < 2; compress++) {
            char out[256];
            t_tmp(compress ? "text_z.npz" : "text.npz", out, sizeof out);
            CHECK_OK(ndyn_dataset_save(out, ds, compress));
            ndyn_dataset *b = NULL;
            CHECK_OK(ndyn_npz_read(out, &b));
            const ndyn_named_array *lb = b ? ndyn_dataset_find(b, "label") : NULL;
            CHECK(lb && lb->text && strcmp(lb->text, "reach1") == 0);
            ndyn_dataset_free(b);
        }
    }
    ndyn_dataset_free(ds);
}

TEST(text_refused_as_numbers)
{
    char path[512];
    snprintf(path, sizeof path, "%s/io/text/names.npy", NDYN_TEST_FIXTURES);
    ndyn_array *a = NULL;
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EUNSUPPORTED);
    CHECK(strstr(ndyn_errmsg(), "strings") != NULL);
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(ndyn_read_file(path, 1 << 20, &buf, &len));
    CHECK_FAILS(ndyn_npy_read_mem(buf, len, &a), NDYN_EUNSUPPORTED);
    /* Truncated string data. */
    char *t = NULL;
    CHECK_FAILS(ndyn_npy_read_text_mem(buf, len - 3, &t), NDYN_EFORMAT);
    /* A code point beyond U+10FFFF. */
    unsigned char *b = buf;
    b[len - 1] = 0x7f;
    CHECK_FAILS(ndyn_npy_read_text_mem(buf, len, &t), NDYN_EFORMAT);
    free(buf);
    /* Numbers are not text. */
    ndyn_array *x = ndyn_array_alloc1(NDYN_F64, 2);
    CHECK_OK(ndyn_npy_write_mem(x, &buf, &len));
    CHECK_FAILS(ndyn_npy_read_text_mem(buf, len, &t), NDYN_EINVAL);
    CHECK(t == NULL && a == NULL);
    free(buf);
    ndyn_array_free(x);
}

TEST(text_npy_in_datasets)
{
    /* ndyn_dataset_load takes a string .npy as a text entry named by the stem. */
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(NDYN_TEST_FIXTURES "/io/text/grid.npy", &ds));
    const ndyn_named_array *g = ds ? ndyn_dataset_find(ds, "grid") : NULL;
    CHECK(g && !g->array && g->text && strcmp(g->text, "a\nbb\nccc\nd") == 0);
    ndyn_dataset_free(ds);
    /* Other unsupported .npy files keep their own message. */
    ds = NULL;
    CHECK_FAILS(ndyn_dataset_load(NDYN_TEST_FIXTURES "/io/npy/structured_v3.npy", &ds),
                NDYN_EUNSUPPORTED);
    CHECK(strstr(ndyn_errmsg(), "structured") != NULL && ds == NULL);
}

RUN_TESTS(T(text_npy_in_datasets), T(text_from_numpy), T(text_writer_matches_numpy), T(text_in_npz),
          T(text_refused_as_numbers))
