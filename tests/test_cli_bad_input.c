/* Bad input files through the tool: truncated, corrupt, oversized-header,
 * wrong-magic and shape-overflow .npy; an .npz without the asked-for array;
 * a .mat that is not one; NaN/Inf where numbers are required. Each gives exit
 * status 1 and one line on stderr naming the file and the problem; never a
 * crash or a hang. */
#include "cli_test_util.h"

#include "ndyn/io.h"

static void spit(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(buf, 1, n, f) == n);
    fclose(f);
}

/* A .npy file with header dict `dict` (format 1.0) and `nbytes` zero bytes of data. */
static void npy_file(const char *path, const char *dict, size_t nbytes)
{
    size_t dl = strlen(dict), hl = (10 + dl + 1 + 63) / 64 * 64 - 10;
    unsigned char *b = calloc(10 + hl + nbytes, 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)(hl >> 8);
    memcpy(b + 10, dict, dl);
    memset(b + 10 + dl, ' ', hl - dl - 1);
    b[10 + hl - 1] = '\n';
    spit(path, b, 10 + hl + nbytes);
    free(b);
}

#define GOOD "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"

TEST(bad_npy_files)
{
    mkdir("tmp", 0755);
    npy_file("tmp/good.npy", GOOD, 48);
    CHECK(t_ndyn("info tmp/good.npy") == 0 && strstr(t_out, "(2, 3)"));
    npy_file("tmp/truncated.npy", GOOD, 47);
    CHECK_RUNFAIL("truncated", "info tmp/truncated.npy");
    CHECK(strstr(t_err, "tmp/truncated.npy") != NULL);
    npy_file("tmp/corrupt.npy", "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 3), }", 48);
    CHECK_RUNFAIL("True or False", "info tmp/corrupt.npy");
    npy_file("tmp/trailing.npy", GOOD, 52);
    CHECK_RUNFAIL("unexpected bytes", "convert tmp/trailing.npy tmp/x.npz");
    /* Header length 0xffff in a 100-byte file; then a version-2 length of 2 GiB. */
    unsigned char h[100] = "\x93NUMPY\x01\x00\xff\xff{'descr': '<f8'";
    spit("tmp/oversized.npy", h, sizeof h);
    CHECK_RUNFAIL("header", "info tmp/oversized.npy");
    unsigned char h2[100] = "\x93NUMPY\x02\x00\x00\x00\x00\x80{'descr': '<f8'";
    spit("tmp/oversized2.npy", h2, sizeof h2);
    CHECK_RUNFAIL("header length", "info tmp/oversized2.npy");
    spit("tmp/magic.npy", "\x93NUMPX\x01\x00\x10\x00{}              \n", 26);
    CHECK_RUNFAIL("magic.npy", "info tmp/magic.npy");
    npy_file("tmp/overflow.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': "
             "(4294967296, 4294967296), }", 0);
    CHECK_RUNFAIL("overflow", "info tmp/overflow.npy");
    npy_file("tmp/huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }", 8);
    CHECK_RUNFAIL("truncated", "convert tmp/huge.npy tmp/x.npz");
    spit("tmp/empty.npy", "", 0);
    CHECK_RUNFAIL("empty.npy", "info tmp/empty.npy");
}

TEST(npz_missing_array)
{
    ndyn_array *a = ndyn_array_alloc1(NDYN_F64, 3);
    const char *names[] = {"pos"};
    const ndyn_array *arrs[] = {a};
    CHECK_OK(ndyn_npz_write("tmp/one.npz", 1, names, arrs, 0));
    ndyn_array_free(a);
    CHECK_RUNFAIL("no array named 'vel'", "convert tmp/one.npz:vel tmp/x.npy");
    CHECK(strstr(t_err, "pos") != NULL); /* the names that exist are listed */
    /* A zip cut in half. */
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(ndyn_read_file("tmp/one.npz", 1 << 20, &buf, &len));
    if (buf) spit("tmp/half.npz", buf, len / 2);
    free(buf);
    CHECK_RUNFAIL("half.npz", "info tmp/half.npz");
}

TEST(not_a_mat_file)
{
    const char *text = "this is plain text pretending to be a MATLAB file, but it is not.\n";
    spit("tmp/fake.mat", text, strlen(text));
    CHECK_RUNFAIL("fake.mat", "info tmp/fake.mat");
    unsigned char junk[256];
    memcpy(junk, "MATLAB 5.0 MAT-file", 19);
    for (int i = 19; i < 256; i++) junk[i] = (unsigned char)(i * 37);
    spit("tmp/junk.mat", junk, sizeof junk);
    int st = t_ndyn("info tmp/junk.mat");
    CHECKF(st == 1 || st == 0, "exit %d: %s", st, t_err); /* no crash; garbage may parse as empty */
    CHECK_RUNFAIL("fake.mat", "convert tmp/fake.mat tmp/x.npz");
}

TEST(nonfinite_numbers)
{
    const char *csv = "a,b\n1,2\n3,nan\n";
    spit("tmp/nan.csv", csv, strlen(csv));
    CHECK_RUNFAIL("nan", "info tmp/nan.csv");
    spit("tmp/inf.csv", "1,inf\n", 6);
    CHECK_RUNFAIL("inf", "convert tmp/inf.csv tmp/x.npy");
    CHECK_USAGE("--noise", "simulate lorenz --noise nan");
    CHECK_USAGE("--dt", "simulate vdp --dt inf");
    CHECK_USAGE("--mu-max", "simulate vdp --mu-max -inf");
}

/* fit and select share one option parser; each names itself in its errors */
TEST(srnn_verbs_name_themselves)
{
    CHECK_USAGE("ndyn srnn fit: --precision", "srnn fit --precision f16 --data x --out y");
    CHECK_USAGE("ndyn srnn select: --precision", "srnn select --precision f16 --data x --out y --test-trials 1");
}

RUN_TESTS(T(bad_npy_files), T(npz_missing_array), T(not_a_mat_file), T(nonfinite_numbers),
          T(srnn_verbs_name_themselves))
