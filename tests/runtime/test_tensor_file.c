/* Tests of runtime/tensor_file.c: every FLOAT/INT64 .pb of the ONNX node test
 * data, files written by numpy/onnx (tests/runtime/make_files.py), round
 * trips, truncated and garbage files, and the comparison rules. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/tensor_file.h"

static const char *data_dir;  /* tests/runtime/data */
static const char *onnx_dir;   /* /usr/share/libonnx-testdata/data/node */
static char tmp_dir[] = "/tmp/m7tf.XXXXXX";

static char *cat(const char *a, const char *b) {
    static char buf[4][1024];
    static int k;
    char *s = buf[k++ & 3], t[1024];
    snprintf(t, sizeof t, "%s/%s", a, b); /* a may be an earlier result */
    memcpy(s, t, sizeof t);
    return s;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

/* Reading must fail with a message naming the file and containing `what`. */
static void expect_fail(const char *path, const char *what) {
    M7Tensor t;
    char err[512] = "";
    int rc = m7_tensor_read(path, &t, err, sizeof err);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    if (what && !strstr(err, what)) {
        fprintf(stderr, "\n  %s: message '%s' lacks '%s'\n", path, err, what);
        CU_FAIL("message lacks expected text");
    }
    CU_ASSERT_PTR_NULL(t.f32); /* nothing left allocated */
}

/* ---- real ONNX test data ------------------------------------------------ */

static void test_onnx_node_data(void) {
    DIR *d = opendir(onnx_dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int ok = 0, refused = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char set[1024];
        snprintf(set, sizeof set, "%s/%s/test_data_set_0", onnx_dir, e->d_name);
        DIR *s = opendir(set);
        if (!s)
            continue;
        struct dirent *f;
        while ((f = readdir(s))) {
            size_t n = strlen(f->d_name);
            if (n < 4 || strcmp(f->d_name + n - 3, ".pb"))
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", set, f->d_name);
            M7Tensor t;
            char err[512];
            if (m7_tensor_read(path, &t, err, sizeof err) == 0) {
                CU_ASSERT(t.elem_type == M7_ELEM_FLOAT || t.elem_type == M7_ELEM_INT64);
                int64_t numel = 1;
                for (int i = 0; i < t.rank; i++)
                    numel *= t.dims[i];
                CU_ASSERT_EQUAL(numel, t.numel);
                CU_ASSERT(t.numel == 0 || t.f32 || t.i64);
                ok++;
                m7_tensor_free(&t);
            } else {
                /* Only other element types and non-tensor protos (sequences,
                 * optionals) may be refused, with a message naming the file. */
                CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
                refused++;
            }
        }
        closedir(s);
    }
    closedir(d);
    printf("\n    read %d files, refused %d ", ok, refused);
    CU_ASSERT(ok > 1000);
}

static void test_known_values(void) {
    const char *base = cat(onnx_dir, "test_conv_with_strides_padding/test_data_set_0");
    M7Tensor x, w, y;
    char err[512];
    CU_ASSERT_FATAL(m7_tensor_read(cat(base, "input_0.pb"), &x, err, sizeof err) == 0);
    CU_ASSERT_FATAL(m7_tensor_read(cat(base, "input_1.pb"), &w, err, sizeof err) == 0);
    CU_ASSERT_FATAL(m7_tensor_read(cat(base, "output_0.pb"), &y, err, sizeof err) == 0);
    CU_ASSERT_STRING_EQUAL(x.name, "x");
    CU_ASSERT_EQUAL(x.rank, 4);
    CU_ASSERT(x.dims[0] == 1 && x.dims[1] == 1 && x.dims[2] == 7 && x.dims[3] == 5);
    for (int i = 0; i < 35; i++)
        CU_ASSERT_EQUAL(x.f32[i], (float)i); /* the spec's example: x = arange(35) */
    for (int i = 0; i < 9; i++)
        CU_ASSERT_EQUAL(w.f32[i], 1.0f);
    /* Output of the spec's example, by hand: the 3x3 sums at stride 2, pad 1. */
    static const float want[12] = {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124};
    CU_ASSERT(y.rank == 4 && y.dims[2] == 4 && y.dims[3] == 3);
    for (int i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(y.f32[i], want[i]);
    m7_tensor_free(&x);
    m7_tensor_free(&w);
    m7_tensor_free(&y);
}

/* ---- files written by numpy / onnx -------------------------------------- */

static void check_formula(const char *file, int elem, int rank, const int64_t *dims,
                          const char *name) {
    M7Tensor t;
    char err[512] = "";
    int rc = m7_tensor_read(cat(data_dir, file), &t, err, sizeof err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(t.elem_type, elem);
    CU_ASSERT_EQUAL(t.rank, rank);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        CU_ASSERT_EQUAL(t.dims[i], dims[i]);
        n *= dims[i];
    }
    CU_ASSERT_EQUAL(t.numel, n);
    CU_ASSERT_STRING_EQUAL(t.name, name);
    for (int64_t i = 0; i < t.numel; i++) {
        if (elem == M7_ELEM_FLOAT) {
            CU_ASSERT_EQUAL(t.f32[i], (float)i / 4.0f - 1.0f);
        } else {
            CU_ASSERT_EQUAL(t.i64[i], i * 3 - 5);
        }
    }
    m7_tensor_free(&t);
}

static void test_numpy_onnx_files(void) {
    check_formula("f32_2x3x4.npy", M7_ELEM_FLOAT, 3, (int64_t[]){2, 3, 4}, "");
    check_formula("i64_5.npy", M7_ELEM_INT64, 1, (int64_t[]){5}, "");
    check_formula("v2_f32_3x2.npy", M7_ELEM_FLOAT, 2, (int64_t[]){3, 2}, "");
    check_formula("typed_f32_2x3.pb", M7_ELEM_FLOAT, 2, (int64_t[]){2, 3}, "typed");
    check_formula("typed_i64_4.pb", M7_ELEM_INT64, 1, (int64_t[]){4}, "ti");
    check_formula("raw_f32_3x1x2.pb", M7_ELEM_FLOAT, 3, (int64_t[]){3, 1, 2}, "raw");
    M7Tensor t;
    char err[512];
    CU_ASSERT_FATAL(m7_tensor_read(cat(data_dir, "scalar.npy"), &t, err, sizeof err) == 0);
    CU_ASSERT(t.rank == 0 && t.numel == 1 && t.f32[0] == 2.5f);
    m7_tensor_free(&t);
}

static void test_unsupported_files(void) {
    expect_fail(cat(data_dir, "bad_f64.npy"), "'<f8'");
    expect_fail(cat(data_dir, "bad_bigendian.npy"), "'>f4'");
    expect_fail(cat(data_dir, "bad_fortran.npy"), "fortran");
    expect_fail(cat(data_dir, "bad_double.pb"), "DOUBLE");
    expect_fail(cat(data_dir, "bad_external.pb"), "EXTERNAL");
    expect_fail(cat(data_dir, "no_such_file.pb"), "cannot open");
}

/* Hand-made wire encodings: unpacked dims and floats, unknown fields of
 * every wire type (which must be skipped), and malformed messages. */
static void test_wire_format(void) {
    const char *p = cat(tmp_dir, "wire.pb");
    static const unsigned char good[] = {
        0x08, 0x02,                   /* dims: 2 (unpacked) */
        0x10, 0x01,                   /* data_type FLOAT */
        0x25, 0x00, 0x00, 0x80, 0x3f, /* float_data 1.0 (unpacked, fixed32) */
        0x98, 0x01, 0x05,             /* field 19 varint (unknown) */
        0x99, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, /* field 19 fixed64 */
        0x9a, 0x01, 0x02, 0xaa, 0xbb, /* field 19 bytes */
        0x9d, 0x01, 1, 2, 3, 4,       /* field 19 fixed32 */
        0x25, 0x00, 0x00, 0x00, 0xc0, /* float_data -2.0 */
    };
    write_bytes(p, good, sizeof good);
    M7Tensor t;
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(m7_tensor_read(p, &t, err, sizeof err), 0);
    CU_ASSERT(t.rank == 1 && t.dims[0] == 2 && t.f32[0] == 1.0f && t.f32[1] == -2.0f);
    m7_tensor_free(&t);

    static const unsigned char group[] = {0x08, 0x01, 0x10, 0x01, 0x9b, 0x01}; /* wire 3 */
    write_bytes(p, group, sizeof group);
    expect_fail(p, "malformed");
    static const unsigned char longvar[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff, 0xff, 0x01};
    write_bytes(p, longvar, sizeof longvar);
    expect_fail(p, "malformed");
    static const unsigned char biglen[] = {0x10, 0x01, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    write_bytes(p, biglen, sizeof biglen);
    expect_fail(p, "malformed");
    static const unsigned char ovf[] = {0x10, 0x01, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                        0x80, 0x40, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                        0x80, 0x40}; /* dims 2^62 x 2^62 */
    write_bytes(p, ovf, sizeof ovf);
    expect_fail(p, "overflow");
    static const unsigned char negdim[] = {0x10, 0x01, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0x01}; /* dims -1 */
    write_bytes(p, negdim, sizeof negdim);
    expect_fail(p, "negative");
    static const unsigned char packed5[] = {0x08, 0x01, 0x10, 0x01, 0x22, 0x05, 0, 0, 0x80, 0x3f, 0};
    write_bytes(p, packed5, sizeof packed5); /* packed floats, 5 bytes */
    expect_fail(p, "malformed");
    static const unsigned char nine[] = {0x10, 0x01, 0x0a, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    write_bytes(p, nine, sizeof nine); /* packed dims, rank 9 */
    expect_fail(p, "8 dimensions");
    static const unsigned char shortdata[] = {0x08, 0x03, 0x10, 0x01, 0x4a, 0x04, 0, 0, 0x80, 0x3f};
    write_bytes(p, shortdata, sizeof shortdata);
    expect_fail(p, "elements");
    static const unsigned char notype[] = {0x08, 0x01};
    write_bytes(p, notype, sizeof notype);
    expect_fail(p, "UNDEFINED");
    write_bytes(p, "", 0);
    expect_fail(p, NULL);
}

static void test_bad_npy(void) {
    const char *p = cat(tmp_dir, "bad.npy");
    const char *hdrs[] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, }",       /* missing ) */
        "{'descr': '<f4', 'fortran_order': False}",                       /* no shape */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",     /* 8 bytes of data */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
        "{'descr': '<f4", /* unterminated string */
    };
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        unsigned char buf[256] = "\x93NUMPY\x01\x00";
        size_t h = strlen(hdrs[i]);
        buf[8] = (unsigned char)h;
        buf[9] = 0;
        memcpy(buf + 10, hdrs[i], h);
        memset(buf + 10 + h, 0, 8); /* two floats of data */
        write_bytes(p, buf, 10 + h + 8);
        expect_fail(p, NULL);
    }
    unsigned char longhdr[] = "\x93NUMPY\x01\x00\xff\x7f{";
    write_bytes(p, longhdr, sizeof longhdr - 1);
    expect_fail(p, "truncated");
    unsigned char v9[] = "\x93NUMPY\x09\x00\x00\x00";
    write_bytes(p, v9, sizeof v9 - 1);
    expect_fail(p, "version");
}

/* A strict prefix of a real file must be refused, or (for a .pb cut at a
 * field boundary after the data) give the same data; random bytes must
 * never crash (ASan checks reads). */
static void test_truncated_and_garbage(void) {
    const char *srcs[] = {cat(data_dir, "f32_2x3x4.npy"), cat(data_dir, "typed_f32_2x3.pb"),
                          cat(onnx_dir, "test_conv_with_strides_padding/test_data_set_0/input_0.pb")};
    const char *p = cat(tmp_dir, "trunc.bin");
    for (int s = 0; s < 3; s++) {
        size_t n = 0;
        unsigned char *buf = slurp(srcs[s], &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        M7Tensor full;
        char err[512], rep[512];
        CU_ASSERT_EQUAL_FATAL(m7_tensor_read(srcs[s], &full, err, sizeof err), 0);
        for (size_t k = 0; k < n; k++) {
            write_bytes(p, buf, k);
            M7Tensor t;
            if (m7_tensor_read(p, &t, err, sizeof err) == 0) {
                CU_ASSERT(s != 0); /* .npy has no optional parts */
                CU_ASSERT_EQUAL(m7_tensor_compare(&t, &full, 0, 0, rep, sizeof rep), 0);
                m7_tensor_free(&t);
            } else {
                CU_ASSERT_PTR_NOT_NULL(strstr(err, p));
            }
        }
        m7_tensor_free(&full);
        free(buf);
    }
    unsigned seed = 12345;
    int accepted = 0;
    for (int iter = 0; iter < 2000; iter++) {
        unsigned char buf[64];
        size_t n = 1 + (size_t)(iter % 64);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[k] = (unsigned char)(seed >> 16);
        }
        if (iter % 3 == 0)
            memcpy(buf, "\x93NUMPY", n < 6 ? n : 6);
        write_bytes(p, buf, n);
        M7Tensor t;
        char err[512];
        if (m7_tensor_read(p, &t, err, sizeof err) == 0) {
            CU_ASSERT(t.numel == 0 || t.f32 || t.i64);
            accepted++;
            m7_tensor_free(&t);
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(err, p));
        }
    }
    printf("\n    random files accepted: %d of 2000 ", accepted);
}

/* ---- writing ------------------------------------------------------------- */

static void roundtrip(const char *file, const M7Tensor *t, const char *want_name) {
    char err[512] = "", rep[512];
    const char *p = cat(tmp_dir, file);
    CU_ASSERT_EQUAL_FATAL(m7_tensor_write(p, t, err, sizeof err), 0);
    M7Tensor r;
    CU_ASSERT_EQUAL_FATAL(m7_tensor_read(p, &r, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(r.name, want_name);
    CU_ASSERT_EQUAL(m7_tensor_compare(&r, t, 0, 0, rep, sizeof rep), 0);
    if (t->elem_type == M7_ELEM_FLOAT) { /* bit-exact, NaN payload aside */
        for (int64_t i = 0; i < t->numel; i++) {
            CU_ASSERT(isnan(t->f32[i]) ? isnan(r.f32[i]) : r.f32[i] == t->f32[i]);
        }
    }
    m7_tensor_free(&r);
}

static void test_roundtrip(void) {
    float f[30];
    for (int i = 0; i < 30; i++)
        f[i] = (float)sin(i * 0.7) * 1e3f;
    f[3] = NAN;
    f[4] = -INFINITY;
    f[5] = -0.0f;
    f[6] = 1e-42f; /* denormal */
    int64_t l[3] = {INT64_MIN, -1, INT64_MAX};
    M7Tensor a = {.name = "act", .elem_type = M7_ELEM_FLOAT, .rank = 3,
                  .dims = {2, 3, 5}, .numel = 30, .f32 = f};
    M7Tensor b = {.name = "", .elem_type = M7_ELEM_INT64, .rank = 1, .dims = {3}, .numel = 3,
                  .i64 = l};
    M7Tensor c = {.name = "s", .elem_type = M7_ELEM_FLOAT, .rank = 0, .numel = 1, .f32 = f};
    M7Tensor z = {.name = "z", .elem_type = M7_ELEM_FLOAT, .rank = 2, .dims = {0, 4}, .numel = 0};
    roundtrip("a.pb", &a, "act");
    roundtrip("a.npy", &a, "");
    roundtrip("b.pb", &b, "");
    roundtrip("b.npy", &b, "");
    roundtrip("c.pb", &c, "s");
    roundtrip("c.npy", &c, "");
    roundtrip("z.pb", &z, "z");
    roundtrip("z.npy", &z, "");
    /* Overwriting an existing file works too. */
    roundtrip("a.pb", &a, "act");

    char err[512] = "";
    const char *bad = cat(tmp_dir, "missing_dir/x.pb");
    CU_ASSERT_EQUAL(m7_tensor_write(bad, &a, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, bad));
    M7Tensor inc = a;
    inc.numel = 7;
    CU_ASSERT_EQUAL(m7_tensor_write(cat(tmp_dir, "inc.pb"), &inc, err, sizeof err), -1);
    CU_ASSERT_EQUAL(access(cat(tmp_dir, "inc.pb"), F_OK), -1); /* nothing left */
}

/* Files written here equal, byte for byte, those numpy and onnx wrote. */
static void same_bytes_as(const char *ref_file) {
    char err[512] = "";
    M7Tensor t;
    const char *ref = cat(data_dir, ref_file), *mine = cat(tmp_dir, ref_file);
    CU_ASSERT_EQUAL_FATAL(m7_tensor_read(ref, &t, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(m7_tensor_write(mine, &t, err, sizeof err), 0);
    size_t na = 0, nb = 0;
    unsigned char *a = slurp(ref, &na), *b = slurp(mine, &nb);
    CU_ASSERT(a && b && na == nb && memcmp(a, b, na) == 0);
    if (!(a && b && na == nb && memcmp(a, b, na) == 0))
        fprintf(stderr, "\n  %s differs from %s\n", mine, ref);
    free(a);
    free(b);
    m7_tensor_free(&t);
}

static void test_byte_exact(void) {
    same_bytes_as("f32_2x3x4.npy");
    same_bytes_as("i64_5.npy");
    same_bytes_as("scalar.npy");
    same_bytes_as("raw_f32_3x1x2.pb");
}

/* ---- comparison ---------------------------------------------------------- */

static void test_compare(void) {
    float w[4] = {1.0f, -2.0f, NAN, INFINITY};
    float g[4] = {1.00005f, -2.0f, NAN, INFINITY};
    M7Tensor want = {.elem_type = M7_ELEM_FLOAT, .rank = 2, .dims = {2, 2}, .numel = 4, .f32 = w};
    M7Tensor got = want;
    got.f32 = g;
    char rep[512];
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &want, 1e-4, 0, rep, sizeof rep), 0);
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &want, 1e-6, 0, rep, sizeof rep), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep, "1 of 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rep, "index 0"));
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &want, 0, 1e-4, rep, sizeof rep), 0);
    g[2] = 3.0f; /* NaN wanted, number got */
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &want, 1, 1, rep, sizeof rep), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep, "index 2"));
    g[2] = NAN;
    w[1] = NAN; /* number got, NaN wanted */
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &want, 1, 1, rep, sizeof rep), -1);
    w[1] = -2.0f;
    g[3] = -INFINITY;
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &want, 1, 1, rep, sizeof rep), -1);
    g[3] = INFINITY;
    M7Tensor flat = want;
    flat.rank = 1;
    flat.dims[0] = 4;
    CU_ASSERT_EQUAL(m7_tensor_compare(&got, &flat, 1, 1, rep, sizeof rep), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep, "shape"));
    int64_t iw[2] = {5, 6}, ig[2] = {5, 7};
    M7Tensor a = {.elem_type = M7_ELEM_INT64, .rank = 1, .dims = {2}, .numel = 2, .i64 = iw};
    M7Tensor b = a;
    b.i64 = ig;
    CU_ASSERT_EQUAL(m7_tensor_compare(&b, &a, 0, 0, rep, sizeof rep), -1);
    CU_ASSERT_EQUAL(m7_tensor_compare(&b, &a, 0, 1, rep, sizeof rep), 0);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR ONNX_NODE_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    onnx_dir = argv[2];
    if (!mkdtemp(tmp_dir))
        return 2;
    static const TestCase tests[] = {
        {"all ONNX node test data", test_onnx_node_data},
        {"known values", test_known_values},
        {"numpy and onnx written files", test_numpy_onnx_files},
        {"unsupported files", test_unsupported_files},
        {"wire format", test_wire_format},
        {"bad npy", test_bad_npy},
        {"truncated and garbage", test_truncated_and_garbage},
        {"round trip", test_roundtrip},
        {"byte-exact with numpy/onnx", test_byte_exact},
        {"compare", test_compare},
        {NULL, NULL},
    };
    int rc = cunit_run("tensor_file", tests);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    return system(cmd) != 0 ? 1 : rc;
}
