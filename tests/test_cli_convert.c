/* ndyn convert: arrays survive .mat/.npz/.csv -> .npy/.npz/.csv conversion
 * value for value (against the NumPy/SciPy fixtures' recorded values),
 * selection, dtype casts, transposition, and exit codes for bad use. */
#include "cli_test_util.h"

#include "ndyn/io.h"

#define FIX NDYN_TEST_FIXTURES "/io"

static ndyn_array *load(const char *spec)
{
    ndyn_array *a = NULL;
    CHECK_OK(ndyn_load_array(spec, &a));
    return a;
}

TEST(convert_mat_member_to_npy)
{
    /* mat/struct.mat:D[2].data is uint8 (2, 5) = 20 20 21 21 20 / 20 21 20 20 21. */
    CHECK(t_ndyn("convert '%s/mat/struct.mat:D[2].data' tmp/conv/d2.npy", FIX) == 0);
    CHECK(strstr(t_out, "wrote tmp/conv/d2.npy") != NULL);
    ndyn_array *a = load("tmp/conv/d2.npy");
    if (a) {
        const unsigned char want[10] = {20, 20, 21, 21, 20, 20, 21, 20, 20, 21};
        CHECK(a->dtype == NDYN_U8 && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 5);
        CHECK(a->size == 10 && memcmp(a->data, want, 10) == 0);
    }
    ndyn_array_free(a);
}

TEST(convert_select_cast_transpose)
{
    /* savez.npz:a is float64 (3, 4) = 0, 1/8, 2/8, ... (i*4+j)/8. */
    CHECK(t_ndyn("convert '%s/npz/savez.npz' tmp/conv/sel.npz --array a --array b --dtype float32 "
                 "--compress", FIX) == 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load("tmp/conv/sel.npz", &ds));
    if (ds) {
        CHECK(ds->n == 2);
        const ndyn_array *a = NULL, *b = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "a", &a));
        CHECK_OK(ndyn_dataset_get(ds, "b", &b));
        if (a) {
            CHECK(a->dtype == NDYN_F32 && a->shape[0] == 3 && a->shape[1] == 4);
            for (size_t i = 0; i < 12; i++) CHECK(((float *)a->data)[i] == (float)i / 8);
        }
        /* int32 extremes as float32. */
        if (b) CHECK(b->dtype == NDYN_F32 && ((float *)b->data)[3] == 2147483648.0f);
    }
    ndyn_dataset_free(ds);
    CHECK(t_ndyn("convert '%s/npz/savez.npz:a' tmp/conv/at.csv --transpose", FIX) == 0);
    ndyn_array *t = load("tmp/conv/at.csv");
    if (t) {
        CHECK(t->ndim == 2 && t->shape[0] == 4 && t->shape[1] == 3);
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 3; j++)
                CHECK(((double *)t->data)[i * 3 + j] == (double)(j * 4 + i) / 8);
    }
    ndyn_array_free(t);
    /* CSV back to .npy with a new name inside an .npz. */
    CHECK(t_ndyn("convert tmp/conv/at.csv tmp/conv/at.npz --array data --rename at") == 0);
    t = load("tmp/conv/at.npz:at");
    CHECK(t && t->size == 12);
    ndyn_array_free(t);
}

TEST(convert_whole_mat)
{
    CHECK(t_ndyn("convert '%s/mat/struct.mat' tmp/conv/all.npz", FIX) == 0);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load("tmp/conv/all.npz", &ds));
    if (ds) {
        const ndyn_named_array *c = ndyn_dataset_find(ds, "D[0].condition");
        CHECK(c && c->text && strcmp(c->text, "reach1") == 0);
        const ndyn_array *i64 = NULL;
        CHECK_OK(ndyn_dataset_get(ds, "i64", &i64));
        if (i64) CHECK(i64->dtype == NDYN_I64 && ((int64_t *)i64->data)[1] == 4611686018427387904LL);
    }
    ndyn_dataset_free(ds);
}

TEST(convert_bad_use)
{
    CHECK_USAGE("exactly two arguments", "convert only-one.npz");
    CHECK_USAGE("--dtype must be one of", "convert '%s/npz/savez.npz' tmp/conv/x.npz --dtype f8", FIX);
    CHECK_USAGE("not both", "convert '%s/npz/savez.npz:a' tmp/conv/x.npz --array b", FIX);
    CHECK_USAGE("--rename needs exactly one array", "convert '%s/npz/savez.npz' tmp/conv/x.npz --rename z", FIX);
    CHECK_RUNFAIL("no array named 'zz'", "convert '%s/npz/savez.npz' tmp/conv/x.npz --array zz", FIX);
    CHECK_RUNFAIL("no array named 'zz'", "convert '%s/npz/savez.npz:zz' tmp/conv/x.npy", FIX);
    CHECK_RUNFAIL("holds one array", "convert '%s/npz/savez.npz' tmp/conv/x.npy", FIX);
    CHECK_RUNFAIL("missing.mat", "convert missing.mat tmp/conv/x.npz");
    /* NaN cannot become an integer. */
    CHECK_RUNFAIL("int32", "convert '%s/npy/f8_C_le_v1.npy' tmp/conv/x.npy --dtype int32", FIX);
    CHECK(t_ndyn("convert --help") == 0 && strstr(t_out, "--transpose") && strstr(t_out, "--rename"));
}

RUN_TESTS(T(convert_mat_member_to_npy), T(convert_select_cast_transpose), T(convert_whole_mat),
          T(convert_bad_use))
