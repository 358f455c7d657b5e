/* ndyn_make_parent_dirs: mkdir -p of an output file's directories, and
 * clear failures when a component is a file. */
#include "test.h"

#include "ndyn/io.h"

TEST(make_parent_dirs)
{
    system("rm -rf tmp/dirs");
    CHECK_OK(ndyn_make_parent_dirs("tmp/dirs/a/b/c/x.npz"));
    struct stat st;
    CHECK(stat("tmp/dirs/a/b/c", &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(stat("tmp/dirs/a/b/c/x.npz", &st) != 0); /* the file itself is not made */
    CHECK_OK(ndyn_make_parent_dirs("tmp/dirs/a/b/c/x.npz")); /* idempotent */
    CHECK_OK(ndyn_make_parent_dirs("x.npz"));                /* no directory part */
    CHECK_OK(ndyn_write_file_atomic("tmp/dirs/a/file", "x", 1));
    CHECK_FAILS(ndyn_make_parent_dirs("tmp/dirs/a/file/y.npz"), NDYN_EIO);
    CHECK(strstr(ndyn_errmsg(), "tmp/dirs/a/file") != NULL);
    CHECK_FAILS(ndyn_make_parent_dirs(""), NDYN_EINVAL);
}

RUN_TESTS(T(make_parent_dirs))
