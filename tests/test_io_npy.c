/* .npy reading and writing: NumPy-written fixtures for every dtype x order x
 * byte order x version, round trips, the real recordings, and bad input. */
#include "test.h"
#include "io_test_util.h"

#include <errno.h>
#include <unistd.h>

static const char *const k_codes[NDYN_DTYPE_COUNT] = {"f8", "f4", "i1", "i2", "i4", "i8",
                                                      "u1", "u2", "u4", "u8", "b1"};

/* Fill `a` with values covering its dtype's range (from the RNG's bits). */
static void fill(ndyn_array *a, uint64_t seed)
{
    ndyn_rng r;
    ndyn_rng_init(&r, seed, 0);
    size_t es = ndyn_dtype_size(a->dtype);
    unsigned char *d = a->data;
    for (size_t i = 0; i < a->size; i++) {
        uint64_t x = ndyn_rng_u64(&r);
        if (a->dtype == NDYN_F64) {
            double v = ndyn_rng_normal(&r) * 1e3;
            memcpy(d + i * 8, &v, 8);
        } else if (a->dtype == NDYN_F32) {
            float v = (float)(ndyn_rng_normal(&r) * 1e3);
            memcpy(d + i * 4, &v, 4);
        } else if (a->dtype == NDYN_BOOL) {
            d[i] = (unsigned char)(x & 1);
        } else {
            memcpy(d + i * es, &x, es);
        }
    }
}

/* Independent serialiser for the round trips: our own header text and the
 * data in the requested byte order and memory order. */
static unsigned char *make_npy(const ndyn_array *a, int big, int fortran, int version,
                               const char *quote, size_t *len)
{
    char descr[8];
    size_t es = ndyn_dtype_size(a->dtype);
    snprintf(descr, sizeof descr, "%c%s", es == 1 ? '|' : big ? '>' : '<', k_codes[a->dtype]);
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{%sfortran_order%s: %s, %sshape%s: (", quote, quote,
                     fortran ? "True" : "False", quote, quote);
    for (int i = 0; i < a->ndim; i++) n += snprintf(dict + n, sizeof dict - n, "%zu, ", a->shape[i]);
    n += snprintf(dict + n, sizeof dict - n, "), %sdescr%s: %s%s%s}", quote, quote, quote, descr,
                  quote);
    size_t pre = version == 1 ? 10 : 12, hl = (size_t)n + 1;
    *len = pre + hl + a->size * es;
    unsigned char *b = malloc(*len);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)version;
    b[7] = 0;
    for (size_t k = 0; k < pre - 8; k++) b[8 + k] = (unsigned char)(hl >> (8 * k));
    memcpy(b + pre, dict, (size_t)n);
    b[pre + n] = '\n';
    unsigned char *out = b + pre + hl;
    const unsigned char *src = a->data;
    /* Element with C index flat i goes to position p (Fortran: reversed strides). */
    size_t idx[NDYN_MAX_NDIM] = {0};
    for (size_t i = 0; i < a->size; i++) {
        size_t p = i;
        if (fortran) {
            p = 0;
            for (int k = a->ndim - 1; k >= 0; k--) p = p * a->shape[k] + idx[k];
        }
        for (size_t k = 0; k < es; k++) {
            int little = 1;
            little = *(unsigned char *)&little;
            size_t from = (little != !big) ? es - 1 - k : k;
            out[p * es + k] = src[i * es + from];
        }
        for (int k = a->ndim - 1; k >= 0; k--) {
            if (++idx[k] < a->shape[k]) break;
            idx[k] = 0;
        }
    }
    return b;
}

TEST(numpy_fixtures_every_dtype_order_endianness_version)
{
    t_expect_list l;
    if (t_expect_load(&l)) {
        CHECKF(0, "cannot read %s/expected.txt", FIX_IO);
        return;
    }
    size_t seen = 0;
    for (size_t i = 0; i < l.n; i++) {
        const t_expect *e = &l.e[i];
        if (strncmp(e->key, "npy/", 4) != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", FIX_IO, e->key);
        ndyn_array *a = NULL;
        CHECK_OK(ndyn_npy_read(path, &a));
        CHECKF(t_expect_match(a, e) == 0, "%s", e->key);
        ndyn_array_free(a);
        /* The in-memory reader gives the same. */
        size_t len = 0;
        unsigned char *b = t_slurp(path, &len);
        CHECK_OK(ndyn_npy_read_mem(b, len, &a));
        CHECKF(t_expect_match(a, e) == 0, "%s (mem)", e->key);
        ndyn_array_free(a);
        free(b);
        seen++;
    }
    /* 8 multi-byte dtypes x 2 byte orders + 3 one-byte, x 2 orders x 3 versions, + 5 shapes. */
    CHECKF(seen == (8 * 2 + 3) * 2 * 3 + 5, "saw %zu fixtures", seen);
    t_expect_free(&l);
}

TEST(writer_matches_numpy_bytes)
{
    /* NumPy's own file for a C-ordered little-endian array must be what we
     * write for the same array (same header text and 64-byte padding). */
    char path[512];
    const char *codes[] = {"f8_C_le_v1", "i4_C_le_v1", "u1_C_na_v1", "b1_C_na_v1", "f4_C_le_v1"};
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/npy/%s.npy", FIX_IO, codes[k]);
        size_t len = 0;
        unsigned char *ref = t_slurp(path, &len);
        ndyn_array *a = NULL;
        CHECK_OK(ndyn_npy_read(path, &a));
        if (!a || !ref) {
            free(ref);
            continue;
        }
        void *buf;
        size_t blen;
        CHECK_OK(ndyn_npy_write_mem(a, &buf, &blen));
        CHECKF(blen == len && memcmp(buf, ref, len) == 0, "%s: ndyn's bytes differ from NumPy's",
               codes[k]);
        CHECK(blen % 64 == (ndyn_array_nbytes(a) % 64));
        free(buf);
        free(ref);
        ndyn_array_free(a);
    }
}

TEST(round_trip_every_dtype_order_endianness_version)
{
    size_t shapes[][3] = {{2, 3, 4}, {1, 1, 7}, {5, 1, 2}};
    for (int t = 0; t < NDYN_DTYPE_COUNT; t++) {
        for (int s = 0; s < 3; s++) {
            ndyn_array *a = ndyn_array_alloc(t, 3, shapes[s]);
            fill(a, 1000 + t * 10 + s);
            /* Through ndyn's writer and reader, file and memory. */
            char path[256];
            t_tmp("rt.npy", path, sizeof path);
            ndyn_array *b = NULL;
            CHECK_OK(ndyn_npy_write(path, a));
            CHECK_OK(ndyn_npy_read(path, &b));
            CHECKF(b && b->dtype == a->dtype && b->ndim == 3 &&
                   memcmp(b->shape, a->shape, sizeof a->shape) == 0 &&
                   memcmp(a->data, b->data, ndyn_array_nbytes(a)) == 0, "dtype %s", k_codes[t]);
            ndyn_array_free(b);
            /* Through the independent serialiser in every layout. */
            for (int big = 0; big < 2; big++)
                for (int fortran = 0; fortran < 2; fortran++)
                    for (int ver = 1; ver <= 3; ver++) {
                        size_t len = 0;
                        unsigned char *buf = make_npy(a, big, fortran, ver,
                                                      (ver == 2) ? "\"" : "'", &len);
                        b = NULL;
                        CHECK_OK(ndyn_npy_read_mem(buf, len, &b));
                        CHECKF(b && b->dtype == a->dtype &&
                               memcmp(b->shape, a->shape, sizeof a->shape) == 0 &&
                               memcmp(a->data, b->data, ndyn_array_nbytes(a)) == 0,
                               "dtype %s big %d fortran %d v%d", k_codes[t], big, fortran, ver);
                        ndyn_array_free(b);
                        free(buf);
                    }
            ndyn_array_free(a);
        }
    }
}

TEST(shapes_scalar_empty_8d)
{
    ndyn_array *a = ndyn_array_alloc(NDYN_F64, 0, NULL);
    ((double *)a->data)[0] = -1.5;
    void *buf;
    size_t len;
    CHECK_OK(ndyn_npy_write_mem(a, &buf, &len));
    ndyn_array *b = NULL;
    CHECK_OK(ndyn_npy_read_mem(buf, len, &b));
    CHECK(b && b->ndim == 0 && b->size == 1 && ((double *)b->data)[0] == -1.5);
    CHECK(strstr((char *)buf + 10, "'shape': ()") != NULL);
    free(buf);
    ndyn_array_free(a);
    ndyn_array_free(b);

    size_t z[2] = {0, 3};
    a = ndyn_array_alloc(NDYN_I16, 2, z);
    CHECK_OK(ndyn_npy_write_mem(a, &buf, &len));
    CHECK_OK(ndyn_npy_read_mem(buf, len, &b));
    CHECK(b && b->ndim == 2 && b->shape[0] == 0 && b->shape[1] == 3 && b->size == 0);
    free(buf);
    ndyn_array_free(a);
    ndyn_array_free(b);

    size_t s8[8] = {2, 1, 2, 1, 2, 1, 2, 3};
    a = ndyn_array_alloc(NDYN_U16, 8, s8);
    fill(a, 5);
    CHECK_OK(ndyn_npy_write_mem(a, &buf, &len));
    CHECK_OK(ndyn_npy_read_mem(buf, len, &b));
    CHECK(b && b->ndim == 8 && memcmp(a->data, b->data, ndyn_array_nbytes(a)) == 0);
    CHECK(strstr((char *)buf + 10, "(2, 1, 2, 1, 2, 1, 2, 3)") != NULL);
    free(buf);
    ndyn_array_free(a);
    ndyn_array_free(b);

    /* 1-D header uses the tuple comma NumPy requires. */
    a = ndyn_array_alloc1(NDYN_U8, 4);
    CHECK_OK(ndyn_npy_write_mem(a, &buf, &len));
    CHECK(strstr((char *)buf + 10, "'shape': (4,)") != NULL);
    free(buf);
    ndyn_array_free(a);
}

/* A .npy in memory with the given header dict and `data_len` zero bytes. */
static unsigned char *npy_with(const char *dict, int version, size_t data_len, size_t *len)
{
    size_t hl = strlen(dict), pre = version == 1 ? 10 : 12;
    *len = pre + hl + data_len;
    unsigned char *b = calloc(*len ? *len : 1, 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)version;
    for (size_t k = 0; k < pre - 8; k++) b[8 + k] = (unsigned char)(hl >> (8 * k));
    memcpy(b + pre, dict, hl);
    return b;
}

static int read_dict(const char *dict, size_t data_len)
{
    size_t len;
    unsigned char *b = npy_with(dict, 1, data_len, &len);
    ndyn_array *a = NULL;
    ndyn_error_clear();
    int rc = ndyn_npy_read_mem(b, len, &a);
    ndyn_array_free(a);
    free(b);
    return rc;
}

TEST(header_grammar_accepted)
{
    CHECK_OK(read_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", 16));
    CHECK_OK(read_dict("{\"shape\":(2,),\"descr\":\"<f8\",\"fortran_order\":False}", 16));
    CHECK_OK(read_dict("  {  'descr' : '>i4' ,\n 'fortran_order' : True , 'shape' : ( 2 , 2 ) } \n",
                       16));
    CHECK_OK(read_dict("{'descr': '<u8', 'fortran_order': False, 'shape': (2L, 1L), }\n", 16));
    CHECK_OK(read_dict("{'descr': '=f4', 'fortran_order': False, 'shape': (), }\n", 4));
    CHECK_OK(read_dict("{'descr': '<u1', 'fortran_order': False, 'shape': (0, 5), }\n", 0));
}

TEST(header_grammar_rejected)
{
    const char *bad[] = {
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}\n", /* unknown key */
        "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}\n", /* twice */
        "{'descr': '<f8', 'shape': (2,)}\n",                              /* missing key */
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2)}\n",       /* not a tuple */
        "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}\n",     /* negative */
        "{'descr': '<f8', 'fortran_order': False, 'shape': (02,)}\n",     /* leading zero */
        "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}\n",          /* not a bool */
        "{'descr': '<f8', 'fortran_order': Truee, 'shape': (2,)}\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x\n",    /* garbage after */
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,),,}\n",
        "['descr', '<f8']\n",
        "{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}\n",       /* missing comma */
        "{'descr': '<f\\x38', 'fortran_order': False, 'shape': (2,)}\n",  /* escapes */
        "{'descr': '<f8, 'fortran_order': False, 'shape': (2,)}\n",       /* broken quote */
        "{'descr': '|f8', 'fortran_order': False, 'shape': (2,)}\n",      /* no order for f8 */
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)\n",       /* no closing brace */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = read_dict(bad[i], 16);
        CHECKF(rc == NDYN_EFORMAT, "case %zu: rc %d (%s)", i, rc, ndyn_errmsg());
        CHECKF(strstr(ndyn_errmsg(), "header") || strstr(ndyn_errmsg(), "dtype"),
               "case %zu: message '%s'", i, ndyn_errmsg());
    }
    /* A NUL byte inside the header. */
    {
        static const char nul[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\0\n";
        size_t hl = sizeof nul - 1, len = 10 + hl + 16;
        unsigned char *b = calloc(len, 1);
        memcpy(b, "\x93NUMPY\x01\x00", 8);
        b[8] = (unsigned char)hl;
        memcpy(b + 10, nul, hl);
        ndyn_array *a = NULL;
        CHECK_FAILS(ndyn_npy_read_mem(b, len, &a), NDYN_EFORMAT);
        free(b);
    }
    /* Valid but unsupported dtypes and structured arrays. */
    CHECK_FAILS(read_dict("{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}\n", 16),
                NDYN_EUNSUPPORTED);
    CHECK(strstr(ndyn_errmsg(), "c16") != NULL);
    CHECK_FAILS(read_dict("{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}\n", 12),
                NDYN_EUNSUPPORTED);
    CHECK_FAILS(read_dict("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}\n", 8),
                NDYN_EUNSUPPORTED);
    CHECK_FAILS(read_dict("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}\n", 8),
                NDYN_EUNSUPPORTED);
    CHECK_FAILS(read_dict("{'descr': '<f8', 'fortran_order': False, "
                          "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}\n", 8),
                NDYN_EUNSUPPORTED);
    /* NumPy's format 3.0 file with a UTF-8 structured field name. */
    ndyn_array *a = NULL;
    CHECK_FAILS(ndyn_npy_read(FIX_IO "/npy/structured_v3.npy", &a), NDYN_EUNSUPPORTED);
    CHECK(a == NULL);
}

TEST(bad_magic_version_truncation)
{
    size_t len;
    unsigned char *good = t_slurp(FIX_IO "/npy/f8_C_le_v1.npy", &len);
    CHECK(good != NULL);
    if (!good) return;
    ndyn_array *a = NULL;
    /* Wrong magic. */
    unsigned char *b = malloc(len);
    memcpy(b, good, len);
    b[1] = 'X';
    CHECK_FAILS(ndyn_npy_read_mem(b, len, &a), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "not a .npy") != NULL);
    /* Version 4.0 and 1.1. */
    memcpy(b, good, len);
    b[6] = 4;
    CHECK_FAILS(ndyn_npy_read_mem(b, len, &a), NDYN_EUNSUPPORTED);
    b[6] = 1;
    b[7] = 1;
    CHECK_FAILS(ndyn_npy_read_mem(b, len, &a), NDYN_EUNSUPPORTED);
    /* Every truncation fails cleanly (and never allocates the full array). */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = ndyn_npy_read_mem(good, cut, &a);
        CHECKF(rc == NDYN_EFORMAT && a == NULL, "cut at %zu: rc %d", cut, rc);
    }
    CHECK(strstr(ndyn_errmsg(), "truncated") != NULL);
    /* Trailing bytes after the data. */
    unsigned char *longer = calloc(len + 3, 1);
    memcpy(longer, good, len);
    CHECK_FAILS(ndyn_npy_read_mem(longer, len + 3, &a), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "unexpected bytes") != NULL);
    /* The same through files. */
    char path[256];
    t_tmp("trunc.npy", path, sizeof path);
    t_spit(path, good, len - 1);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "trunc.npy") && strstr(ndyn_errmsg(), "truncated"));
    t_spit(path, good, 40);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    t_spit(path, good, 7);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    t_spit(path, longer, len + 3);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    t_spit(path, "", 0);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    CHECK_FAILS(ndyn_npy_read("tmp/does-not-exist.npy", &a), NDYN_EIO);
    CHECK_FAILS(ndyn_npy_read("tmp", &a), NDYN_EIO);
    free(longer);
    free(b);
    free(good);
}

TEST(oversized_header_and_shape_overflow)
{
    ndyn_array *a = NULL;
    /* Header length field far beyond the file. */
    size_t len;
    unsigned char *b = npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}\n", 2, 8,
                                &len);
    b[8] = 0xff;
    b[9] = 0xff;
    b[10] = 0xff;
    b[11] = 0x7f;
    CHECK_FAILS(ndyn_npy_read_mem(b, len, &a), NDYN_EFORMAT);
    free(b);
    /* A real 2 MiB header: over the limit. */
    size_t big = 2u << 20;
    char *dict = malloc(big + 1);
    int n = snprintf(dict, big + 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}");
    memset(dict + n, ' ', big - (size_t)n - 1);
    dict[big - 1] = '\n';
    dict[big] = '\0';
    b = npy_with(dict, 2, 8, &len);
    CHECK_FAILS(ndyn_npy_read_mem(b, len, &a), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "header length") != NULL);
    char path[256];
    t_tmp("bighdr.npy", path, sizeof path);
    t_spit(path, b, len);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    free(b);
    free(dict);
    /* Shapes whose element count or byte count overflows size_t. */
    CHECK(read_dict("{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (4294967296, 4294967296)}\n", 8) == NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "overflow") != NULL);
    CHECK(read_dict("{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (2305843009213693952,)}\n", 8) == NDYN_EFORMAT);
    CHECK(read_dict("{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (18446744073709551616,)}\n", 8) == NDYN_EFORMAT);
    /* Huge but representable: must fail on the size check, not allocate. */
    CHECK(read_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,)}\n", 8) ==
          NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "truncated") != NULL);
    t_tmp("bigshape.npy", path, sizeof path);
    b = npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,)}\n", 1, 8, &len);
    t_spit(path, b, len);
    CHECK_FAILS(ndyn_npy_read(path, &a), NDYN_EFORMAT);
    free(b);
}

TEST(bool_bytes_normalised)
{
    size_t len;
    unsigned char *b = npy_with("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}\n", 1, 3,
                                &len);
    b[len - 3] = 0;
    b[len - 2] = 2;
    b[len - 1] = 255;
    ndyn_array *a = NULL;
    CHECK_OK(ndyn_npy_read_mem(b, len, &a));
    CHECK(a && a->dtype == NDYN_BOOL);
    if (a) {
        const unsigned char *d = a->data;
        CHECK(d[0] == 0 && d[1] == 1 && d[2] == 1);
    }
    ndyn_array_free(a);
    free(b);
}

TEST(writer_errors)
{
    ndyn_array *a = ndyn_array_alloc1(NDYN_F64, 3);
    CHECK_FAILS(ndyn_npy_write("tmp/no/such/dir/x.npy", a), NDYN_EIO);
    CHECK_FAILS(ndyn_npy_write("", a), NDYN_EINVAL);
    CHECK_FAILS(ndyn_npy_write("tmp/x.npy", NULL), NDYN_EINVAL);
    ndyn_array_free(a);
}

TEST(real_recordings)
{
    char buf[512];
    const char *p = t_data_file("rat_buddy_spikes_25ms.npy", buf, sizeof buf);
    if (!p) SKIP("../shared/data/rat_buddy_spikes_25ms.npy not found (real data absent)");
    ndyn_array *a = NULL;
    CHECK_OK(ndyn_npy_read(p, &a));
    CHECK(a && a->dtype == NDYN_U8 && a->ndim == 2 && a->shape[0] == 6577 && a->shape[1] == 48);
    ndyn_array_free(a);

    p = t_data_file("rat_buddy_position.npy", buf, sizeof buf);
    CHECK(p != NULL);
    a = NULL;
    CHECK_OK(ndyn_npy_read(p, &a));
    CHECK(a && a->dtype == NDYN_F64 && a->ndim == 2 && a->shape[0] == 6577 && a->shape[1] == 3);
    if (a) {
        /* Position 0..1.6 m; the direction columns are 0/1. */
        const double *d = a->data;
        int ok = 1;
        for (size_t i = 0; i < a->shape[0]; i++) {
            ok &= d[i * 3] >= -1e-9 && d[i * 3] <= 1.6 + 1e-9;
            ok &= (d[i * 3 + 1] == 0 || d[i * 3 + 1] == 1) && (d[i * 3 + 2] == 0 || d[i * 3 + 2] == 1);
        }
        CHECK(ok);
    }
    ndyn_array_free(a);

    p = t_data_file("srnn_lorenz.npy", buf, sizeof buf);
    CHECK(p != NULL);
    a = NULL;
    CHECK_OK(ndyn_npy_read(p, &a));
    CHECK(a && a->dtype == NDYN_F32 && a->ndim == 3 && a->shape[0] == 16 && a->shape[1] == 200 &&
          a->shape[2] == 3);
    if (a) CHECK_OK(ndyn_array_check_finite(a, "srnn_lorenz"));
    ndyn_array_free(a);
}

RUN_TESTS(T(numpy_fixtures_every_dtype_order_endianness_version), T(writer_matches_numpy_bytes),
          T(round_trip_every_dtype_order_endianness_version), T(shapes_scalar_empty_8d),
          T(header_grammar_accepted), T(header_grammar_rejected), T(bad_magic_version_truncation),
          T(oversized_header_and_shape_overflow), T(bool_bytes_normalised), T(writer_errors),
          T(real_recordings))
