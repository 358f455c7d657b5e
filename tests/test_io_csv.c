/* CSV reading and writing: delimiters, headers, quoting, comments, and the
 * errors for missing values, text, NaN/Inf and ragged rows. */
#include "test.h"
#include "io_test_util.h"

static int csv_from(const char *text, ndyn_dataset **ds)
{
    char path[256];
    t_tmp("in.csv", path, sizeof path);
    t_spit(path, text, strlen(text));
    *ds = NULL;
    ndyn_error_clear();
    return ndyn_csv_read(path, ds);
}

static int data_is(const ndyn_dataset *ds, size_t r, size_t c, const double *want)
{
    const ndyn_array *a = NULL;
    if (!ds || ndyn_dataset_get(ds, "data", &a)) return 0;
    if (a->dtype != NDYN_F64 || a->ndim != 2 || a->shape[0] != r || a->shape[1] != c) return 0;
    for (size_t i = 0; i < r * c; i++)
        if (((const double *)a->data)[i] != want[i]) return 0;
    return 1;
}

TEST(formats_accepted)
{
    ndyn_dataset *ds;
    const double w[6] = {1, 2.5, -3, 4e-3, 5, 6};
    CHECK_OK(csv_from("1,2.5,-3\n4e-3,5,6\n", &ds));
    CHECK(data_is(ds, 2, 3, w) && ds->n == 1);
    ndyn_dataset_free(ds);
    CHECK_OK(csv_from("\xEF\xBB\xBF# comment\nx, y ,\"z\"\r\n1, 2.5 ,-3\r\n\r\n4e-3,5,6", &ds));
    CHECK(data_is(ds, 2, 3, w) && ds->n == 4);
    const ndyn_array *y = NULL;
    CHECK_OK(ndyn_dataset_get(ds, "y", &y));
    CHECK(y && y->ndim == 1 && y->shape[0] == 2 && ((double *)y->data)[1] == 5);
    ndyn_dataset_free(ds);
    CHECK_OK(csv_from("a\tb\tc\n1\t2.5\t-3\n0.004\t5\t6\n", &ds));
    CHECK(data_is(ds, 2, 3, w));
    ndyn_dataset_free(ds);
    CHECK_OK(csv_from("1;2.5;-3\n4e-3;5;6\n", &ds));
    CHECK(data_is(ds, 2, 3, w));
    ndyn_dataset_free(ds);
    CHECK_OK(csv_from("  1   2.5 -3\n4e-3 5\t6  \n", &ds));
    CHECK(data_is(ds, 2, 3, w));
    ndyn_dataset_free(ds);
    CHECK_OK(csv_from("\"time, s\",\"say \"\"hi\"\"\",c\n1,2.5,\"-3\"\n4e-3,5,6\n", &ds));
    CHECK(data_is(ds, 2, 3, w));
    CHECK(ds && ndyn_dataset_find(ds, "time, s") && ndyn_dataset_find(ds, "say \"hi\""));
    ndyn_dataset_free(ds);
    /* A single column, no trailing newline. */
    CHECK_OK(csv_from("7\n8", &ds));
    CHECK(data_is(ds, 2, 1, (const double[]){7, 8}));
    ndyn_dataset_free(ds);
}

TEST(errors_name_line_and_column)
{
    ndyn_dataset *ds;
    CHECK(csv_from("a,b\n1,2\n3,nan\n", &ds) == NDYN_ENONFINITE && ds == NULL);
    CHECK(strstr(ndyn_errmsg(), "line 3") && strstr(ndyn_errmsg(), "column 2") &&
          strstr(ndyn_errmsg(), "nan"));
    CHECK(csv_from("1,2\n3,Inf\n", &ds) == NDYN_ENONFINITE);
    CHECK(csv_from("1,2\n-inf,3\n", &ds) == NDYN_ENONFINITE);
    CHECK(csv_from("1,2\n1e999,3\n", &ds) == NDYN_ENONFINITE);
    CHECK(strstr(ndyn_errmsg(), "1e999") != NULL);
    CHECK(csv_from("nan,2\n", &ds) == NDYN_ENONFINITE);
    CHECK(csv_from("1,2\n3,\n", &ds) == NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "missing value") && strstr(ndyn_errmsg(), "line 2"));
    CHECK(csv_from("1,2\n3,abc\n", &ds) == NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "'abc' is not a number"));
    CHECK(csv_from("1,2\n3,4,5\n", &ds) == NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "3 fields, expected 2"));
    CHECK(csv_from("1,2\n3\n", &ds) == NDYN_EFORMAT);
    CHECK(csv_from("x,y\n", &ds) == NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "no data rows"));
    CHECK(csv_from("", &ds) == NDYN_EFORMAT);
    CHECK(csv_from("# only comments\n\n", &ds) == NDYN_EFORMAT);
    CHECK(csv_from("1,\"2\n", &ds) == NDYN_EFORMAT);
    CHECK(csv_from("1,\"2\"x\n", &ds) == NDYN_EFORMAT);
    CHECK(csv_from("1,0x1p3\n", &ds) == 0); /* C hex floats are numbers */
    ndyn_dataset_free(ds);
    char path[256];
    t_tmp("bin.csv", path, sizeof path);
    t_spit(path, "1,2\n\0\0\x01", 7);
    CHECK_FAILS(ndyn_csv_read(path, &ds), NDYN_EFORMAT);
    CHECK(strstr(ndyn_errmsg(), "binary"));
    CHECK_FAILS(ndyn_csv_read("tmp/none.csv", &ds), NDYN_EIO);
}

TEST(write_read_round_trip)
{
    ndyn_array *a = ndyn_array_alloc2(NDYN_F64, 3, 2);
    double v[6] = {0.1, -1e-300, 1.0 / 3.0, 12345678.901234567, -0.0, 5e300};
    memcpy(a->data, v, sizeof v);
    char path[256];
    t_tmp("out.csv", path, sizeof path);
    const char *names[2] = {"x", "y,z"};
    CHECK_OK(ndyn_csv_write(path, a, names));
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_csv_read(path, &ds));
    CHECK(data_is(ds, 3, 2, v)); /* %.17g is exact */
    CHECK(ds && ndyn_dataset_find(ds, "y,z"));
    ndyn_dataset_free(ds);
    /* Integers print as integers; 1-D is a column; 3-D is refused. */
    ndyn_array *i = ndyn_array_alloc1(NDYN_I64, 2);
    ((int64_t *)i->data)[0] = INT64_MIN;
    ((int64_t *)i->data)[1] = 42;
    CHECK_OK(ndyn_csv_write(path, i, NULL));
    size_t len;
    char *txt = (char *)t_slurp(path, &len);
    CHECK(txt && len == strlen("-9223372036854775808\n42\n") &&
          memcmp(txt, "-9223372036854775808\n42\n", len) == 0);
    free(txt);
    ndyn_array *c = ndyn_array_alloc3(NDYN_F64, 2, 2, 2);
    CHECK_FAILS(ndyn_csv_write(path, c, NULL), NDYN_ESHAPE);
    ndyn_array_free(a);
    ndyn_array_free(i);
    ndyn_array_free(c);
}

RUN_TESTS(T(formats_accepted), T(errors_name_line_and_column), T(write_read_round_trip))
