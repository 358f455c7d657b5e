/* The dataset container, loading any format by content, saving, "FILE:NAME"
 * specs, and the atomic file helpers. */
#include "test.h"
#include "io_test_util.h"

#include <dirent.h>
#include <unistd.h>

TEST(container)
{
    ndyn_dataset *ds = ndyn_dataset_new();
    CHECK_OK(ndyn_dataset_add(ds, "a", ndyn_array_alloc1(NDYN_F64, 2), "src-a"));
    CHECK_OK(ndyn_dataset_add_text(ds, "t", "hello", NULL));
    CHECK_OK(ndyn_dataset_add(ds, "b", ndyn_array_alloc1(NDYN_I32, 3), NULL));
    CHECK(ds->n == 3);
    /* Replacing keeps one entry of that name. */
    CHECK_OK(ndyn_dataset_add(ds, "a", ndyn_array_alloc1(NDYN_F32, 5), "src-a2"));
    CHECK(ds->n == 3);
    const ndyn_array *a = NULL;
    CHECK_OK(ndyn_dataset_get(ds, "a", &a));
    CHECK(a && a->dtype == NDYN_F32 && a->size == 5);
    CHECK(strcmp(ndyn_dataset_find(ds, "a")->source, "src-a2") == 0);
    CHECK_FAILS(ndyn_dataset_get(ds, "t", &a), NDYN_ENOTFOUND);
    CHECK(strstr(ndyn_errmsg(), "text"));
    CHECK_FAILS(ndyn_dataset_get(ds, "zz", &a), NDYN_ENOTFOUND);
    CHECK(strstr(ndyn_errmsg(), "a, t, b"));
    /* Empty names are refused, and the array is still freed (ASan checks). */
    CHECK_FAILS(ndyn_dataset_add(ds, "", ndyn_array_alloc1(NDYN_F64, 1), NULL), NDYN_EINVAL);
    ndyn_array *taken = ndyn_dataset_take(ds, "a");
    CHECK(taken && taken->size == 5 && ds->n == 2 && !ndyn_dataset_find(ds, "a"));
    CHECK(ndyn_dataset_take(ds, "a") == NULL);
    ndyn_array_free(taken);
    /* Many entries. */
    char nm[32];
    for (int i = 0; i < 100; i++) {
        snprintf(nm, sizeof nm, "x%d", i);
        CHECK_OK(ndyn_dataset_add(ds, nm, ndyn_array_alloc1(NDYN_U8, 1), NULL));
    }
    CHECK(ds->n == 102 && ndyn_dataset_find(ds, "x99"));
    ndyn_dataset_free(ds);
    ndyn_dataset_free(NULL);
}

TEST(load_by_content)
{
    /* Files named against their content are read by their magic bytes. */
    char path[256];
    size_t len;
    unsigned char *b = t_slurp(FIX_IO "/npz/savez.npz", &len);
    t_tmp("really_npz.dat", path, sizeof path);
    t_spit(path, b, len);
    free(b);
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_dataset_load(path, &ds));
    CHECK(ds && ds->n == 6 && ds->path && strcmp(ds->path, path) == 0);
    ndyn_dataset_free(ds);
    CHECK_OK(ndyn_dataset_load(FIX_IO "/npy/f8_C_le_v1.npy", &ds));
    CHECK(ds && ds->n == 1 && strcmp(ds->items[0].name, "f8_C_le_v1") == 0);
    ndyn_dataset_free(ds);
    CHECK_OK(ndyn_dataset_load(FIX_IO "/mat/struct.mat", &ds));
    CHECK(ds && ndyn_dataset_find(ds, "D[2].condition"));
    ndyn_dataset_free(ds);
    t_tmp("x.csv", path, sizeof path);
    t_spit(path, "a,b\n1,2\n", 8);
    CHECK_OK(ndyn_dataset_load(path, &ds));
    CHECK(ds && ndyn_dataset_find(ds, "data") && ndyn_dataset_find(ds, "b"));
    ndyn_dataset_free(ds);
    t_tmp("unknown.bin", path, sizeof path);
    t_spit(path, "\x01\x02\x03", 3);
    CHECK_FAILS(ndyn_dataset_load(path, &ds), NDYN_EUNSUPPORTED);
    CHECK(strstr(ndyn_errmsg(), "unknown.bin") && strstr(ndyn_errmsg(), ".npz"));
    t_tmp("bad.npy", path, sizeof path);
    t_spit(path, "not numpy", 9);
    CHECK_FAILS(ndyn_dataset_load(path, &ds), NDYN_EFORMAT);
    CHECK_FAILS(ndyn_dataset_load("tmp/nothing-here", &ds), NDYN_EIO);
    CHECK_FAILS(ndyn_dataset_load("tmp", &ds), NDYN_EIO);
    CHECK(ds == NULL);
}

TEST(load_array_specs)
{
    ndyn_array *a = NULL;
    CHECK_OK(ndyn_load_array(FIX_IO "/npz/savez.npz:b", &a));
    CHECK(a && a->dtype == NDYN_I32 && a->size == 5);
    ndyn_array_free(a);
    CHECK_OK(ndyn_load_array(FIX_IO "/npy/i2_F_be_v2.npy", &a));
    CHECK(a && a->dtype == NDYN_I16 && a->ndim == 3);
    ndyn_array_free(a);
    /* A file holding several arrays needs a name. */
    CHECK_FAILS(ndyn_load_array(FIX_IO "/npz/savez.npz", &a), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "NAME") && strstr(ndyn_errmsg(), "flags"));
    CHECK_FAILS(ndyn_load_array(FIX_IO "/npz/savez.npz:", &a), NDYN_EINVAL);
    CHECK_FAILS(ndyn_load_array("tmp/none.npz:x", &a), NDYN_EIO);
    /* A CSV table is its "data" even when columns are named. */
    char path[256];
    t_tmp("cols.csv", path, sizeof path);
    t_spit(path, "p,q\n1,2\n3,4\n", 12);
    CHECK_OK(ndyn_load_array(path, &a));
    CHECK(a && a->shape[0] == 2 && a->shape[1] == 2);
    ndyn_array_free(a);
    CHECK_OK(ndyn_load_array("tmp/cols.csv:q", &a));
    CHECK(a && a->ndim == 1 && ((double *)a->data)[1] == 4);
    ndyn_array_free(a);
    /* A file name with a colon in it. */
    t_tmp("odd:name.npz", path, sizeof path);
    ndyn_array *x = ndyn_array_alloc1(NDYN_F64, 3);
    CHECK_OK(ndyn_npz_write(path, 1, (const char *[]){"v"}, (const ndyn_array *[]){x}, 0));
    CHECK_OK(ndyn_load_array("tmp/odd:name.npz:v", &a));
    CHECK(a && a->size == 3);
    ndyn_array_free(a);
    CHECK_OK(ndyn_load_array("tmp/odd:name.npz", &a));
    ndyn_array_free(a);
    ndyn_array_free(x);
}

TEST(save_formats)
{
    ndyn_dataset *ds = ndyn_dataset_new();
    ndyn_array *m = ndyn_array_alloc2(NDYN_F64, 2, 2);
    for (int i = 0; i < 4; i++) ((double *)m->data)[i] = i * 1.5;
    CHECK_OK(ndyn_dataset_add(ds, "m", m, NULL));
    CHECK_OK(ndyn_dataset_add_text(ds, "label", "reach1", NULL));
    char path[256];
    t_tmp("saved.npz", path, sizeof path);
    CHECK_OK(ndyn_dataset_save(path, ds, 1));
    ndyn_dataset *back = NULL;
    CHECK_OK(ndyn_dataset_load(path, &back));
    /* Text entries travel as NumPy unicode arrays and come back as text. */
    const ndyn_named_array *lab = ndyn_dataset_find(back, "label");
    CHECK(lab && !lab->array && lab->text && strcmp(lab->text, "reach1") == 0);
    ndyn_dataset_free(back);
    /* .npy and .csv take exactly one numeric array (texts do not count). */
    t_tmp("saved.npy", path, sizeof path);
    CHECK_OK(ndyn_dataset_save(path, ds, 0));
    t_tmp("saved.csv", path, sizeof path);
    CHECK_OK(ndyn_dataset_save(path, ds, 0));
    CHECK_OK(ndyn_dataset_add(ds, "m2", ndyn_array_alloc1(NDYN_F64, 1), NULL));
    CHECK_FAILS(ndyn_dataset_save(path, ds, 0), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "m2"));
    t_tmp("saved.xyz", path, sizeof path);
    CHECK_FAILS(ndyn_dataset_save(path, ds, 0), NDYN_EINVAL);
    ndyn_dataset_free(ds);
}

static int count_tmp_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp")) n++;
    if (d) closedir(d);
    return n;
}

TEST(atomic_write_and_read_file)
{
    mkdir("tmp", 0755);
    mkdir("tmp/atomic", 0755);
    CHECK_OK(ndyn_write_file_atomic("tmp/atomic/f.bin", "first", 5));
    CHECK_OK(ndyn_write_file_atomic("tmp/atomic/f.bin", "second!", 7));
    void *buf;
    size_t len;
    CHECK_OK(ndyn_read_file("tmp/atomic/f.bin", 100, &buf, &len));
    CHECK(len == 7 && memcmp(buf, "second!", 7) == 0);
    free(buf);
    CHECK_FAILS(ndyn_read_file("tmp/atomic/f.bin", 6, &buf, &len), NDYN_EINVAL);
    CHECK(strstr(ndyn_errmsg(), "limit"));
    CHECK_OK(ndyn_read_file("tmp/atomic/f.bin", 7, &buf, &len));
    free(buf);
    CHECK_OK(ndyn_write_file_atomic("tmp/atomic/empty", "", 0));
    CHECK_OK(ndyn_read_file("tmp/atomic/empty", 10, &buf, &len));
    CHECK(len == 0);
    free(buf);
    CHECK(count_tmp_leftovers("tmp/atomic") == 0);
    /* Permissions follow the umask like any new file (not mkstemp's 0600). */
    struct stat st;
    CHECK(stat("tmp/atomic/f.bin", &st) == 0 && (st.st_mode & 0444) != 0);
    /* Failures leave nothing behind and keep the old file intact. */
    CHECK_FAILS(ndyn_write_file_atomic("tmp/atomic/no/dir/f.bin", "x", 1), NDYN_EIO);
    CHECK_FAILS(ndyn_write_file_atomic("tmp/atomic/", "x", 1), NDYN_EINVAL);
    mkdir("tmp/atomic/sub", 0755);
    CHECK_FAILS(ndyn_write_file_atomic("tmp/atomic/sub", "x", 1), NDYN_EIO); /* a directory */
    CHECK(count_tmp_leftovers("tmp/atomic") == 0);
    CHECK_FAILS(ndyn_read_file("tmp/atomic/missing", 10, &buf, &len), NDYN_EIO);
    CHECK_FAILS(ndyn_read_file("tmp/atomic", 10, &buf, &len), NDYN_EIO);
    /* An npz written over an existing file replaces it whole. */
    ndyn_array *a = ndyn_array_alloc1(NDYN_F64, 1000);
    CHECK_OK(ndyn_npz_write("tmp/atomic/f.bin", 1, (const char *[]){"a"}, (const ndyn_array *[]){a}, 0));
    ndyn_dataset *ds = NULL;
    CHECK_OK(ndyn_npz_read("tmp/atomic/f.bin", &ds));
    ndyn_dataset_free(ds);
    ndyn_array_free(a);
    CHECK(count_tmp_leftovers("tmp/atomic") == 0);
}

RUN_TESTS(T(container), T(load_by_content), T(load_array_specs), T(save_formats),
          T(atomic_write_and_read_file))
