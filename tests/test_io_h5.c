/* HDF5 reading: a file written here with libhdf5 itself (the reference
 * writer), row-major vs reversed axes, types, strings, errors, and the real
 * C. elegans recording. */
#include "test.h"
#include "io_test_util.h"

#include <hdf5.h>

static void write_ds(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                     const hsize_t *dims, const void *data)
{
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(loc, name, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Pclose(lcpl);
    H5Sclose(sp);
}

static const char *make_file(char *path, size_t n)
{
    t_tmp("ref.h5", path, n);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double m[2][3] = {{0, 1, 2}, {3, 4, 5}};
    write_ds(f, "m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, (hsize_t[]){2, 3}, m);
    int32_t iv[4] = {-7, 0, 9, 2147483647};
    write_ds(f, "g/i", H5T_STD_I32BE, H5T_NATIVE_INT32, 1, (hsize_t[]){4}, iv);
    uint8_t u[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    write_ds(f, "g/sub/u8", H5T_STD_U8LE, H5T_NATIVE_UINT8, 3, (hsize_t[]){2, 2, 2}, u);
    float fb[2] = {1.5f, -2.25f};
    write_ds(f, "f32be", H5T_IEEE_F32BE, H5T_NATIVE_FLOAT, 1, (hsize_t[]){2}, fb);
    /* h5py / HDF5.jl style boolean: enum {FALSE=0, TRUE=1} over int8. */
    hid_t be = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t v0 = 0, v1 = 1;
    H5Tenum_insert(be, "FALSE", &v0);
    H5Tenum_insert(be, "TRUE", &v1);
    int8_t bv[3] = {1, 0, 1};
    write_ds(f, "flags", be, be, 1, (hsize_t[]){3}, bv);
    H5Tclose(be);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 5);
    write_ds(f, "label", st, st, 0, NULL, "hello");
    H5Tclose(st);
    hid_t vs = H5Tcopy(H5T_C_S1);
    H5Tset_size(vs, H5T_VARIABLE);
    const char *w = "world";
    write_ds(f, "note", vs, vs, 0, NULL, &w);
    H5Tclose(vs);
    hid_t ct = H5Tcreate(H5T_COMPOUND, 16);
    H5Tinsert(ct, "re", 0, H5T_NATIVE_DOUBLE);
    H5Tinsert(ct, "im", 8, H5T_NATIVE_DOUBLE);
    double cv[2] = {1, 2};
    write_ds(f, "complex", ct, ct, 1, (hsize_t[]){1}, cv);
    H5Tclose(ct);
    H5Fclose(f);
    return path;
}

TEST(reference_file)
{
    char path[256];
    make_file(path, sizeof path);
    ndyn_array *a = NULL;
    CHECK_OK(ndyn_h5_read(path, "m", 0, &a));
    CHECK(a && a->dtype == NDYN_F64 && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 3);
    for (size_t i = 0; a && i < 6; i++) CHECK(((double *)a->data)[i] == (double)i);
    ndyn_array_free(a);
    /* Reversed axes: (3, 2) with element (j, i) = m[i][j]. */
    CHECK_OK(ndyn_h5_read(path, "/m", 1, &a));
    CHECK(a && a->shape[0] == 3 && a->shape[1] == 2);
    if (a) {
        const double *d = a->data;
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 2; i++) CHECK(d[j * 2 + i] == (double)(i * 3 + j));
    }
    ndyn_array_free(a);
    CHECK_OK(ndyn_h5_read(path, "g/i", 0, &a));
    CHECK(a && a->dtype == NDYN_I32 && ((int32_t *)a->data)[0] == -7 &&
          ((int32_t *)a->data)[3] == 2147483647);
    ndyn_array_free(a);
    CHECK_OK(ndyn_h5_read(path, "g/sub/u8", 1, &a));
    /* u[i][j][k] = 1 + 4i + 2j + k; reversed: out[k][j][i]. */
    CHECK(a && a->dtype == NDYN_U8 && a->ndim == 3);
    if (a) {
        const uint8_t *d = a->data;
        int ok = 1;
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) ok &= d[k * 4 + j * 2 + i] == 1 + 4 * i + 2 * j + k;
        CHECK(ok);
    }
    ndyn_array_free(a);
    CHECK_OK(ndyn_h5_read(path, "f32be", 0, &a));
    CHECK(a && a->dtype == NDYN_F32 && ((float *)a->data)[0] == 1.5f &&
          ((float *)a->data)[1] == -2.25f);
    ndyn_array_free(a);
    CHECK_OK(ndyn_h5_read(path, "flags", 0, &a));
    CHECK(a && a->dtype == NDYN_BOOL && ((uint8_t *)a->data)[0] == 1 && ((uint8_t *)a->data)[1] == 0);
    ndyn_array_free(a);

    /* Errors. */
    CHECK_FAILS(ndyn_h5_read(path, "nope", 0, &a), NDYN_ENOTFOUND);
    CHECK(strstr(ndyn_errmsg(), "nope") && strstr(ndyn_errmsg(), "g/sub/u8"));
    CHECK_FAILS(ndyn_h5_read(path, "g", 0, &a), NDYN_ENOTFOUND); /* a group */
    CHECK_FAILS(ndyn_h5_read(path, "label", 0, &a), NDYN_EUNSUPPORTED);
    CHECK_FAILS(ndyn_h5_read(path, "complex", 0, &a), NDYN_EUNSUPPORTED);
    CHECK(a == NULL);

    /* Everything at once: numeric arrays and texts; the compound is skipped. */
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_h5_read_all(path, &ds));
    CHECK(ds && ds->n == 7);
    const ndyn_named_array *it = ds ? ndyn_dataset_find(ds, "label") : NULL;
    CHECK(it && it->text && strcmp(it->text, "hello") == 0);
    it = ds ? ndyn_dataset_find(ds, "note") : NULL;
    CHECK(it && it->text && strcmp(it->text, "world") == 0);
    it = ds ? ndyn_dataset_find(ds, "m") : NULL;
    CHECK(it && it->array && strstr(it->source, "row-major as stored"));
    CHECK(ds && ndyn_dataset_find(ds, "complex") == NULL);
    ndyn_dataset_free(ds);
    /* Through the generic entry points. */
    CHECK_OK(ndyn_load_array("tmp/ref.h5:g/i", &a));
    CHECK(a && a->size == 4);
    ndyn_array_free(a);
    CHECK_OK(ndyn_dataset_load(path, &ds));
    CHECK(ds && ds->n == 7);
    ndyn_dataset_free(ds);
}

TEST(not_hdf5)
{
    char path[256];
    t_tmp("fake.h5", path, sizeof path);
    t_spit(path, "\x89HDF\r\n\x1a\n then garbage, not a real superblock", 44);
    ndyn_dataset *ds = NULL;
    ndyn_array *a = NULL;
    CHECK_FAILS(ndyn_h5_read_all(path, &ds), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "fake.h5") != NULL);
    CHECK_FAILS(ndyn_h5_read(path, "x", 0, &a), NDYN_EFORMAT);
    t_spit(path, "plain text", 10);
    CHECK_FAILS(ndyn_h5_read_all(path, &ds), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "not an HDF5 file") != NULL);
    CHECK_FAILS(ndyn_h5_read_all("tmp/none.h5", &ds), NDYN_EIO);
    /* A truncated real file. */
    char ref[256];
    make_file(ref, sizeof ref);
    size_t len;
    unsigned char *b = t_slurp(ref, &len);
    for (size_t cut = 0; cut < len; cut += len / 9 + 1) {
        t_spit(path, b, cut);
        int rc = ndyn_h5_read_all(path, &ds);
        CHECK(rc == NDYN_EFORMAT || (rc == 0 && ds->n < 7));
        ndyn_dataset_free(ds);
        ds = NULL;
    }
    free(b);
}

TEST(celegans_recording)
{
    char buf[512];
    const char *p = t_data_file("celegans_2022-07-26-31.h5", buf, sizeof buf);
    if (!p) SKIP("../shared/data/celegans_2022-07-26-31.h5 not found (real data absent)");
    ndyn_array *tr = NULL, *rv = NULL, *ev = NULL, *ts = NULL;
    CHECK_OK(ndyn_h5_read(p, "gcamp/trace_array", 0, &tr));
    CHECK(tr && tr->dtype == NDYN_F64 && tr->ndim == 2 && tr->shape[0] == 800 && tr->shape[1] == 146);
    if (tr) CHECK_OK(ndyn_array_check_finite(tr, "trace_array"));
    const char *one_d[] = {"behavior/velocity", "behavior/head_angle", "behavior/angular_velocity",
                           "behavior/worm_curvature"};
    for (int k = 0; k < 4; k++) {
        ndyn_array *a = NULL;
        CHECK_OK(ndyn_h5_read(p, one_d[k], 0, &a));
        CHECKF(a && a->ndim == 1 && a->shape[0] == 800, "%s", one_d[k]);
        ndyn_array_free(a);
    }
    CHECK_OK(ndyn_h5_read(p, "behavior/reversal_vec", 0, &rv));
    CHECK_OK(ndyn_h5_read(p, "behavior/reversal_events", 0, &ev));
    CHECK_OK(ndyn_h5_read(p, "timing/timestamp_confocal", 0, &ts));
    CHECK(rv && rv->ndim == 1 && rv->shape[0] == 800);
    CHECK(ev && ev->ndim == 2 && ev->shape[0] == 2 && ev->shape[1] == 34);
    CHECK(ts && ts->ndim == 1 && ts->shape[0] == 800);
    if (rv && ev) {
        /* reversal_vec is 0/1 with about 23 % ones, and is 1 exactly inside
         * the half-open [start, stop) intervals of reversal_events (row 0
         * starts, row 1 stops): checks the order as read. */
        size_t ones = 0;
        int ok01 = 1;
        for (size_t t = 0; t < 800; t++) {
            double v = ndyn_array_get(rv, t);
            ok01 &= v == 0 || v == 1;
            ones += v == 1;
        }
        CHECK(ok01);
        CHECKF(fabs(ones / 800.0 - 0.23) < 0.01, "%zu reversal frames", ones);
        unsigned char in[800] = {0};
        int okev = 1;
        for (size_t e = 0; e < 34; e++) {
            double s = ndyn_array_get(ev, e), f = ndyn_array_get(ev, 34 + e);
            okev &= s >= 0 && f <= 800 && s < f;
            for (size_t t = (size_t)s; okev && t < (size_t)f; t++) in[t] = 1;
        }
        CHECK(okev);
        size_t agree = 0;
        for (size_t t = 0; t < 800; t++) agree += in[t] == (ndyn_array_get(rv, t) == 1);
        CHECKF(agree == 800, "reversal_vec agrees with reversal_events on %zu of 800 frames",
               agree);
    }
    if (ts) {
        /* 0.6 s per frame. */
        double span = ndyn_array_get(ts, 799) - ndyn_array_get(ts, 0);
        int inc = 1;
        for (size_t t = 1; t < 800; t++) inc &= ndyn_array_get(ts, t) > ndyn_array_get(ts, t - 1);
        CHECK(inc);
        CHECKF(fabs(span / 799 - 0.6) < 0.05, "frame period %g s", span / 799);
    }
    ndyn_array_free(tr);
    ndyn_array_free(rv);
    ndyn_array_free(ev);
    ndyn_array_free(ts);
}

RUN_TESTS(T(reference_file), T(not_hdf5), T(celegans_recording))
