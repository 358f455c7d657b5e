/* .npz reading and writing: NumPy's savez / savez_compressed files (zip64
 * local headers), data descriptors, comments; round trips stored, deflated
 * and with forced zip64 records; corrupt archives. */
#include "test.h"
#include "io_test_util.h"
#include "io/io_internal.h"

#include <unistd.h>
#include <zlib.h>

static size_t count_numeric(const ndyn_dataset *ds)
{
    size_t n = 0;
    for (size_t i = 0; i < ds->n; i++) n += ds->items[i].array != NULL;
    return n;
}

TEST(numpy_fixtures)
{
    t_expect_list l;
    if (t_expect_load(&l)) {
        CHECKF(0, "cannot read expected.txt");
        return;
    }
    const char *files[] = {"savez", "savez_compressed", "descriptor", "comment"};
    for (int f = 0; f < 4; f++) {
        char path[512], prefix[64];
        snprintf(path, sizeof path, "%s/npz/%s.npz", FIX_IO, files[f]);
        snprintf(prefix, sizeof prefix, "npz/%s.npz:", files[f]);
        ndyn_dataset *ds = NULL;
        CHECK_OK(ndyn_npz_read(path, &ds));
        if (!ds) continue;
        size_t want = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (strncmp(l.e[i].key, prefix, strlen(prefix)) != 0) continue;
            want++;
            const char *name = l.e[i].key + strlen(prefix);
            const ndyn_array *a = NULL;
            CHECK_OK(ndyn_dataset_get(ds, name, &a));
            CHECKF(t_expect_match(a, &l.e[i]) == 0, "%s", l.e[i].key);
            const ndyn_named_array *it = ndyn_dataset_find(ds, name);
            CHECK(it && it->source && strstr(it->source, files[f]) && strstr(it->source, name));
        }
        CHECKF(want > 0 && count_numeric(ds) == want, "%s: %zu arrays, NumPy saw %zu", files[f],
               count_numeric(ds), want);
        /* The same from memory. */
        size_t len;
        unsigned char *b = t_slurp(path, &len);
        ndyn_dataset *dm = NULL;
        CHECK_OK(ndyn_npz_read_mem(b, len, &dm));
        CHECK(dm && count_numeric(dm) == want);
        ndyn_dataset_free(dm);
        free(b);
        ndyn_dataset_free(ds);
    }
    t_expect_free(&l);
}

TEST(missing_array_is_named)
{
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(FIX_IO "/npz/savez.npz", &ds));
    if (!ds) return;
    const ndyn_array *a = NULL;
    CHECK_FAILS(ndyn_dataset_get(ds, "nope", &a), NDYN_ENOTFOUND);
    CHECK(strstr(ndyn_errmsg(), "nope") && strstr(ndyn_errmsg(), "flags") &&
          strstr(ndyn_errmsg(), "big"));
    ndyn_dataset_free(ds);
    ndyn_array *x = NULL;
    CHECK_FAILS(ndyn_load_array(FIX_IO "/npz/savez.npz:nope", &x), NDYN_ENOTFOUND);
    CHECK(x == NULL);
}

static ndyn_array *patterned(ndyn_dtype t, int ndim, const size_t *shape, double seed)
{
    ndyn_array *a = ndyn_array_alloc(t, ndim, shape);
    for (size_t i = 0; i < a->size; i++) {
        double v = t == NDYN_BOOL ? (double)((i * 7 + (size_t)seed) % 3 == 0)
                   : ndyn_dtype_is_float(t) ? (double)i * 0.25 - seed
                                            : (double)((i * 37 + (size_t)seed) % 100);
        ndyn_array_set(a, i, v);
    }
    return a;
}

TEST(round_trip_stored_deflated_zip64)
{
    ndyn_array *arr[NDYN_DTYPE_COUNT + 1];
    const char *names[NDYN_DTYPE_COUNT + 1];
    char namebuf[NDYN_DTYPE_COUNT + 1][32];
    for (int t = 0; t < NDYN_DTYPE_COUNT; t++) {
        size_t shape[3] = {3, (size_t)t + 1, 2};
        arr[t] = patterned(t, 3, shape, t);
        snprintf(namebuf[t], sizeof namebuf[t], "%s", ndyn_dtype_name(t));
        names[t] = namebuf[t];
    }
    /* A larger, compressible array and a name with a slash. */
    arr[NDYN_DTYPE_COUNT] = patterned(NDYN_F64, 2, (size_t[]){300, 50}, 1);
    names[NDYN_DTYPE_COUNT] = "group/big";
    size_t n = NDYN_DTYPE_COUNT + 1;
    for (int mode = 0; mode < 4; mode++) {
        int compress = mode & 1, z64 = mode >> 1;
        char path[256];
        t_tmp("rt.npz", path, sizeof path);
        CHECK_OK(io_npz_write_ex(path, n, names, (const ndyn_array *const *)arr, NULL, compress, z64));
        ndyn_dataset *ds = NULL;
        CHECK_OK(ndyn_npz_read(path, &ds));
        if (!ds) continue;
        CHECK(ds->n == n);
        for (size_t i = 0; i < n; i++) {
            const ndyn_array *b = NULL;
            CHECK_OK(ndyn_dataset_get(ds, names[i], &b));
            CHECKF(b && b->dtype == arr[i]->dtype && b->ndim == arr[i]->ndim &&
                   memcmp(b->shape, arr[i]->shape, sizeof b->shape) == 0 &&
                   memcmp(b->data, arr[i]->data, ndyn_array_nbytes(b)) == 0,
                   "mode %d array %s", mode, names[i]);
        }
        ndyn_dataset_free(ds);
        /* Deflate must actually compress the patterned array. */
        size_t len;
        unsigned char *b = t_slurp(path, &len);
        if (compress) CHECKF(len < 300 * 50 * 8 / 2, "deflated archive is %zu bytes", len);
        else CHECK(len > 300 * 50 * 8);
        /* zip64 records present exactly when forced (files this small). */
        int has_loc64 = 0;
        for (size_t k = 0; k + 4 <= len; k++)
            if (memcmp(b + k, "PK\x06\x07", 4) == 0) has_loc64 = 1;
        CHECK(has_loc64 == z64);
        free(b);
    }
    /* Empty archive. */
    char path[256];
    t_tmp("empty.npz", path, sizeof path);
    CHECK_OK(ndyn_npz_write(path, 0, NULL, NULL, 0));
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read(path, &ds));
    CHECK(ds && ds->n == 0);
    ndyn_dataset_free(ds);
    for (size_t i = 0; i < n; i++) ndyn_array_free(arr[i]);
}

TEST(writer_rejects_bad_names)
{
    ndyn_array *a = ndyn_array_alloc1(NDYN_F64, 2);
    const ndyn_array *two[2] = {a, a};
    char path[256];
    t_tmp("bad.npz", path, sizeof path);
    CHECK_FAILS(ndyn_npz_write(path, 2, (const char *[]){"x", "x"}, two, 0), NDYN_EINVAL);
    CHECK_FAILS(ndyn_npz_write(path, 1, (const char *[]){""}, two, 0), NDYN_EINVAL);
    CHECK_FAILS(ndyn_npz_write("tmp/missing-dir/x.npz", 1, (const char *[]){"x"}, two, 0), NDYN_EIO);
    CHECK(access("tmp/missing-dir", F_OK) != 0);
    ndyn_array_free(a);
}

/* NumPy itself must read what ndyn writes (when Debian's python3-numpy is
 * there; the values are checked against formulas computed in Python). */
TEST(numpy_reads_ndyn_files)
{
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
        SKIP("/usr/bin/python3 with numpy not available");
    size_t s[2] = {4, 5};
    ndyn_array *f = ndyn_array_alloc(NDYN_F64, 2, s);
    ndyn_array *i = ndyn_array_alloc(NDYN_I32, 2, s);
    ndyn_array *u = ndyn_array_alloc1(NDYN_U8, 7);
    for (size_t k = 0; k < 20; k++) {
        ((double *)f->data)[k] = (double)k / 3.0 - 2.0;
        ((int32_t *)i->data)[k] = (int32_t)(k * k) - 100;
    }
    for (size_t k = 0; k < 7; k++) ((uint8_t *)u->data)[k] = (uint8_t)(250 + k);
    const ndyn_array *arrs[3] = {f, i, u};
    const char *names[3] = {"f", "i", "u"};
    char cmd[2048];
    for (int mode = 0; mode < 4; mode++) {
        char path[256];
        snprintf(path, sizeof path, "tmp/for_numpy_%d.npz", mode);
        mkdir("tmp", 0755);
        CHECK_OK(io_npz_write_ex(path, 3, names, arrs, NULL, mode & 1, mode >> 1));
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c '\n"
                 "import numpy as np, zipfile, sys\n"
                 "assert zipfile.ZipFile(\"%s\").testzip() is None\n"
                 "d = np.load(\"%s\")\n"
                 "k = np.arange(20).reshape(4, 5)\n"
                 "assert sorted(d.files) == [\"f\", \"i\", \"u\"]\n"
                 "assert d[\"f\"].dtype == np.float64 and (d[\"f\"] == k / 3.0 - 2.0).all()\n"
                 "assert d[\"i\"].dtype == np.int32 and (d[\"i\"] == k * k - 100).all()\n"
                 "assert d[\"u\"].dtype == np.uint8 and list(d[\"u\"]) == [250,251,252,253,254,255,0]\n"
                 "'",
                 path, path);
        /* uint8 250+6 wraps to 0 in C as in NumPy. */
        CHECKF(system(cmd) == 0, "NumPy could not read %s", path);
    }
    /* .npy too. */
    CHECK_OK(ndyn_npy_write("tmp/for_numpy.npy", f));
    CHECK(system("/usr/bin/python3 -c 'import numpy as np; a = np.load(\"tmp/for_numpy.npy\"); "
                 "assert (a == np.arange(20).reshape(4, 5) / 3.0 - 2.0).all()'") == 0);
    ndyn_array_free(f);
    ndyn_array_free(i);
    ndyn_array_free(u);
}

static int read_npz_mem(const unsigned char *b, size_t len)
{
    ndyn_dataset *ds = NULL;
    ndyn_error_clear();
    int rc = ndyn_npz_read_mem(b, len, &ds);
    ndyn_dataset_free(ds);
    return rc;
}

TEST(truncated_and_mutated_archives_fail_cleanly)
{
    const char *files[] = {"savez", "savez_compressed", "descriptor", "comment"};
    for (int f = 0; f < 4; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/npz/%s.npz", FIX_IO, files[f]);
        size_t len;
        unsigned char *b = t_slurp(path, &len);
        CHECK(b != NULL);
        if (!b) continue;
        int bad = 0;
        for (size_t cut = 0; cut < len; cut++) {
            int rc = read_npz_mem(b, cut);
            if (rc != NDYN_EFORMAT) bad++;
        }
        CHECKF(bad == 0, "%s: %d truncations not rejected as malformed", files[f], bad);
        /* Flip every byte in turn: never a crash (the sanitizer build watches);
         * whatever is accepted must still be a well-formed dataset. */
        unsigned char *m = malloc(len);
        for (size_t k = 0; k < len; k++) {
            memcpy(m, b, len);
            m[k] ^= 0x5a;
            ndyn_dataset *ds = NULL;
            int rc = ndyn_npz_read_mem(m, len, &ds);
            if (rc == 0) {
                CHECK(ds != NULL);
                for (size_t i = 0; ds && i < ds->n; i++) CHECK(ds->items[i].array != NULL);
            } else {
                CHECK(ds == NULL && strlen(ndyn_errmsg()) > 10);
            }
            ndyn_dataset_free(ds);
        }
        free(m);
        free(b);
    }
}

static size_t find_sig(const unsigned char *b, size_t len, const char *sig, size_t from)
{
    for (size_t k = from; k + 4 <= len; k++)
        if (memcmp(b + k, sig, 4) == 0) return k;
    return (size_t)-1;
}

TEST(specific_corruptions)
{
    /* One stored member "x" holding float64 (3,) [1, 2, 3]. */
    ndyn_array *a = ndyn_array_alloc1(NDYN_F64, 3);
    for (int i = 0; i < 3; i++) ((double *)a->data)[i] = i + 1;
    char path[256];
    t_tmp("one.npz", path, sizeof path);
    const ndyn_array *arrs[2] = {a, a};
    CHECK_OK(ndyn_npz_write(path, 1, (const char *[]){"x"}, arrs, 0));
    size_t len;
    unsigned char *good = t_slurp(path, &len);
    unsigned char *b = malloc(len + 64);
    size_t cd = find_sig(good, len, "PK\x01\x02", 0);
    CHECK(cd != (size_t)-1);
    CHECK_OK(read_npz_mem(good, len));

    memcpy(b, good, len); /* data byte changed: CRC */
    b[cd - 1] ^= 0x01;
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT && strstr(ndyn_errmsg(), "CRC"));

    memcpy(b, good, len); /* local name differs */
    b[30] = 'y';
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT && strstr(ndyn_errmsg(), "name"));

    memcpy(b, good, len); /* method 12 (bzip2) in both headers */
    b[8] = 12;
    b[cd + 10] = 12;
    CHECK(read_npz_mem(b, len) == NDYN_EUNSUPPORTED && strstr(ndyn_errmsg(), "method"));

    memcpy(b, good, len); /* encrypted */
    b[6] |= 1;
    b[cd + 8] |= 1;
    CHECK(read_npz_mem(b, len) == NDYN_EUNSUPPORTED && strstr(ndyn_errmsg(), "encrypted"));

    memcpy(b, good, len); /* central size disagrees with local */
    b[cd + 20] ^= 0x10;
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT);

    memcpy(b, good, len); /* local header offset points past the data */
    b[cd + 42] = 0x40;
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT);

    memcpy(b, good, len); /* entry count in the end record too large */
    b[len - 22 + 10] = 9;
    b[len - 22 + 8] = 9;
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT);

    memcpy(b, good, len); /* comment length that does not reach the end */
    b[len - 2] = 5;
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT);

    memcpy(b, good, len); /* multi-disk */
    b[len - 22 + 4] = 1;
    CHECK(read_npz_mem(b, len) == NDYN_EUNSUPPORTED);

    /* Two central entries pointing at the same member: overlap (and a
     * duplicate name if the names were equal). */
    {
        size_t cdlen = (len - 22) - cd;
        unsigned char *d = malloc(len + cdlen);
        memcpy(d, good, len - 22);
        memcpy(d + len - 22, good + cd, cdlen);
        d[len - 22 + 46] = 'y'; /* second central entry named y.npy */
        memcpy(d + len - 22 + cdlen, good + len - 22, 22);
        unsigned char *e = d + len - 22 + cdlen;
        e[8] = e[10] = 2;
        e[12] = (unsigned char)(2 * cdlen);
        e[13] = (unsigned char)((2 * cdlen) >> 8);
        int rc = read_npz_mem(d, len + cdlen);
        CHECKF(rc == NDYN_EFORMAT, "rc %d: %s", rc, ndyn_errmsg());
        free(d);
    }
    /* Not a zip at all. */
    CHECK(read_npz_mem((const unsigned char *)"hello, this is a text file, not a zip archive", 45) ==
          NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "not an .npz") != NULL);
    CHECK(read_npz_mem((const unsigned char *)"", 0) == NDYN_EFORMAT);

    /* A member that is a broken .npy: the message names the array. */
    memcpy(b, good, len);
    {
        size_t npy = find_sig(b, len, "\x93NUM", 0);
        b[npy + 1] = 'X';
        /* fix the CRC so only the .npy is wrong */
        uLong crc = crc32(0, b + npy, (uInt)(cd - npy));
        for (int k = 0; k < 4; k++) b[14 + k] = b[cd + 16 + k] = (unsigned char)(crc >> (8 * k));
        CHECK(read_npz_mem(b, len) == NDYN_EFORMAT && strstr(ndyn_errmsg(), "array 'x'"));
    }
    /* File path appears in messages. */
    t_tmp("corrupt.npz", path, sizeof path);
    t_spit(path, good, len - 5);
    ndyn_dataset *ds = NULL;
    CHECK_FAILS(ndyn_npz_read(path, &ds), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "corrupt.npz") != NULL);
    CHECK_FAILS(ndyn_npz_read("tmp/nonexistent.npz", &ds), NDYN_EIO);
    free(b);
    free(good);
    ndyn_array_free(a);
}

TEST(deflate_size_lies)
{
    /* A deflated member whose declared size is larger or smaller than what
     * inflates: both rejected. */
    ndyn_array *a = patterned(NDYN_F64, 1, (size_t[]){200}, 0);
    char path[256];
    t_tmp("defl.npz", path, sizeof path);
    const ndyn_array *arrs[1] = {a};
    CHECK_OK(ndyn_npz_write(path, 1, (const char *[]){"x"}, arrs, 1));
    size_t len;
    unsigned char *good = t_slurp(path, &len);
    size_t cd = find_sig(good, len, "PK\x01\x02", 0);
    unsigned char *b = malloc(len);
    for (int delta = -1; delta <= 1; delta += 2) {
        memcpy(b, good, len);
        unsigned long us = io_le32(b + 22) + (unsigned long)delta;
        for (int k = 0; k < 4; k++) b[22 + k] = b[cd + 24 + k] = (unsigned char)(us >> (8 * k));
        CHECK(read_npz_mem(b, len) == NDYN_EFORMAT);
        CHECK(strstr(ndyn_errmsg(), "declared") != NULL);
    }
    /* Claiming 4 GB from a few hundred bytes: refused before allocating. */
    memcpy(b, good, len);
    for (int k = 0; k < 4; k++) b[22 + k] = b[cd + 24 + k] = 0xfe;
    CHECK(read_npz_mem(b, len) == NDYN_EFORMAT && strstr(ndyn_errmsg(), "more than deflate"));
    free(b);
    free(good);
    ndyn_array_free(a);
}

RUN_TESTS(T(numpy_fixtures), T(missing_array_is_named), T(round_trip_stored_deflated_zip64),
          T(writer_rejects_bad_names), T(numpy_reads_ndyn_files),
          T(truncated_and_mutated_archives_fail_cleanly), T(specific_corruptions),
          T(deflate_size_lies))
