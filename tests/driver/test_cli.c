/* The m7cc command as a user meets it: exit codes, messages that name the
 * problem, --interpret against the ONNX test data, and no output file left
 * behind after a failure.  argv[1] is the m7cc binary, argv[2] a scratch
 * folder, argv[3] the ONNX node test data folder, argv[4] tests/models. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/common/spawn.h"
#include "runtime/tensor_file.h"

static const char *m7cc, *scratch, *node_data, *models;
static char out_text[1 << 16], err_text[1 << 16];

/* Runs m7cc with the given arguments (NULL-terminated); returns the exit
 * status; what it printed lands in out_text/err_text. */
static int run(const char *const *args) {
    char *argv[32] = {(char *)m7cc};
    for (int i = 0; args[i] && i < 30; i++)
        argv[i + 1] = (char *)args[i];
    SpawnResult r;
    if (spawn_run(argv, scratch, &r))
        return -1;
    snprintf(out_text, sizeof out_text, "%s", r.out);
    snprintf(err_text, sizeof err_text, "%s", r.err);
    spawn_result_free(&r);
    return r.status;
}

static const char *scratch_file(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", scratch, name);
    return buf[k];
}

static const char *node_file(const char *test, const char *file) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", node_data, test, file);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    if (n)
        fwrite(data, 1, n, f);
    fclose(f);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_usage(void) {
    CU_ASSERT_EQUAL(run((const char *[]){NULL}), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "no model given"));
    CU_ASSERT_EQUAL(run((const char *[]){"--help", NULL}), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "usage: m7cc"));
    CU_ASSERT_EQUAL(run((const char *[]){"m.onnx", "--bogus", NULL}), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "--bogus"));
    CU_ASSERT_EQUAL(run((const char *[]){"m.onnx", "--batch", "0", NULL}), 2);
    CU_ASSERT_EQUAL(run((const char *[]){"m.onnx", "--batch", NULL}), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "needs a value"));
    CU_ASSERT_EQUAL(run((const char *[]){"m.onnx", "--machine", "am_bytes=abc", NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "am_bytes"));
}

static void test_bad_model_files(void) {
    CU_ASSERT_EQUAL(run((const char *[]){scratch_file("does-not-exist.onnx"), NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "does-not-exist.onnx"));

    write_bytes(scratch_file("empty.onnx"), "", 0);
    CU_ASSERT_EQUAL(run((const char *[]){scratch_file("empty.onnx"), NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "empty.onnx"));

    unsigned char noise[4096];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof noise; i++) {
        s = s * 1103515245u + 12345u;
        noise[i] = (unsigned char)(s >> 16);
    }
    write_bytes(scratch_file("noise.onnx"), noise, sizeof noise);
    CU_ASSERT_EQUAL(run((const char *[]){scratch_file("noise.onnx"), NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "noise.onnx"));

    /* A real model cut in half. */
    char whole[1 << 16];
    FILE *f = fopen(node_file("test_conv_with_strides_padding", "model.onnx"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(whole, 1, sizeof whole, f);
    fclose(f);
    write_bytes(scratch_file("half.onnx"), whole, n / 2);
    CU_ASSERT_EQUAL(run((const char *[]){scratch_file("half.onnx"), NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "half.onnx"));
}

/* Every unsupported node is listed, not only the first. */
static void test_unsupported_ops_listed(void) {
    CU_ASSERT_EQUAL(run((const char *[]){node_file("test_greater_equal_expanded", "model.onnx"), NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "'Greater'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "'Equal'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "'Or'"));
}

/* The reference executor on ONNX's own test case matches ONNX's expected output. */
static void test_interpret_matches_onnx(void) {
    const char *out = scratch_file("conv_out.pb");
    unlink(out);
    int rc = run((const char *[]){node_file("test_conv_with_strides_padding", "model.onnx"), "--interpret",
                                  "-i", node_file("test_conv_with_strides_padding", "test_data_set_0/input_0.pb"),
                                  "-i", node_file("test_conv_with_strides_padding", "test_data_set_0/input_1.pb"),
                                  "-o", out, NULL});
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    M7Tensor got = {0}, want = {0};
    char err[512], report[512];
    CU_ASSERT_EQUAL_FATAL(m7_tensor_read(out, &got, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(
        m7_tensor_read(node_file("test_conv_with_strides_padding", "test_data_set_0/output_0.pb"), &want, err,
                       sizeof err),
        0);
    int cmp = m7_tensor_compare(&got, &want, 1e-4, 1e-6, report, sizeof report);
    if (cmp)
        fprintf(stderr, "%s\n", report);
    CU_ASSERT_EQUAL(cmp, 0);
    m7_tensor_free(&got);
    m7_tensor_free(&want);
}

/* A wrong input file: a clear message, exit 1, and no output file. */
static void test_interpret_wrong_input(void) {
    const char *out = scratch_file("relu_out.pb");
    unlink(out);
    /* test_conv's weight file handed where the data input belongs. */
    int rc = run((const char *[]){node_file("test_conv_with_strides_padding", "model.onnx"), "--interpret",
                                  "-i", node_file("test_conv_with_strides_padding", "test_data_set_0/input_1.pb"),
                                  "-i", node_file("test_conv_with_strides_padding", "test_data_set_0/input_0.pb"),
                                  "-o", out, NULL});
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "shape"));
    CU_ASSERT_FALSE(exists(out));

    rc = run((const char *[]){node_file("test_conv_with_strides_padding", "model.onnx"), "--interpret", "-i",
                              node_file("test_conv_with_strides_padding", "model.onnx"), "-i",
                              node_file("test_conv_with_strides_padding", "test_data_set_0/input_1.pb"), "-o",
                              out, NULL});
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_FALSE(exists(out));

    rc = run((const char *[]){node_file("test_conv_with_strides_padding", "model.onnx"), "--interpret", "-i",
                              node_file("test_conv_with_strides_padding", "test_data_set_0/input_0.pb"), "-o", out,
                              NULL});
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "2 graph input(s) but 1 -i file(s)"));
    CU_ASSERT_FALSE(exists(out));
}

static const char *model_file(const char *model, const char *file) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", models, model, file);
    return buf[k];
}

/* -o NAME.c writes the program, its header and its weights. */
static void test_compile_to_c(void) {
    const char *c = scratch_file("vgg.c"), *h = scratch_file("vgg.h"), *w = scratch_file("vgg.weights");
    unlink(c);
    unlink(h);
    unlink(w);
    CU_ASSERT_EQUAL(run((const char *[]){model_file("vgg_cifar", "model.onnx"), "-o", c, NULL}), 0);
    CU_ASSERT_TRUE(exists(c));
    CU_ASSERT_TRUE(exists(h));
    CU_ASSERT_TRUE(exists(w));
}

/* Compiles vgg_cifar into scratch/NAME with one extra flag (or none), runs
 * it on the simulator (whose race checks fail a run) against PyTorch. */
static void compile_run_matches(const char *name, const char *flag) {
    const char *exe = scratch_file(name);
    unlink(exe);
    CU_ASSERT_EQUAL_FATAL(run((const char *[]){model_file("vgg_cifar", "model.onnx"), "-o", exe, flag, NULL}), 0);
    char *argv[] = {(char *)exe, "-i", (char *)model_file("vgg_cifar", "input_0.pb"), "--expect",
                    (char *)model_file("vgg_cifar", "output_0.pb"), NULL};
    SpawnResult r;
    CU_ASSERT_EQUAL_FATAL(spawn_run(argv, scratch, &r), 0);
    if (r.status)
        fprintf(stderr, "%s", r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "matches"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "eff"));
    spawn_result_free(&r);
}

/* -o NAME builds an executable that runs on the simulator and matches PyTorch,
 * also when started from another folder than its own. */
static void test_compile_to_executable(void) { compile_run_matches("vgg_exe", NULL); }

/* The backend options that measure what double buffering and weight
 * sharing buy: accepted, visible in --dump-ir, and the program still right. */
static void test_backend_options_off(void) {
    const char *model = model_file("vgg_cifar", "model.onnx");
    CU_ASSERT_EQUAL(run((const char *[]){"--help", NULL}), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "--no-double-buffer"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "--no-weight-sharing"));
    CU_ASSERT_EQUAL(run((const char *[]){model, "--dump-ir", NULL}), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "B (2 slots), GSM"));
    CU_ASSERT_EQUAL(run((const char *[]){model, "--dump-ir", "--no-double-buffer", NULL}), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "B (1 slots), GSM")); /* a conv's one SM input slot */
    CU_ASSERT_PTR_NULL(strstr(out_text, "B (2 slots), GSM"));
    CU_ASSERT_EQUAL(run((const char *[]){model, "--dump-ir", "--no-weight-sharing", NULL}), 0);
    CU_ASSERT_PTR_NULL(strstr(out_text, "weights broadcast"));
    compile_run_matches("vgg_nodb", "--no-double-buffer");
    compile_run_matches("vgg_noshare", "--no-weight-sharing");
}

/* A model the backend cannot compile leaves no file behind. */
static void test_failed_compile_leaves_nothing(void) {
    const char *c = scratch_file("bad.c"), *exe = scratch_file("bad_exe");
    unlink(c);
    unlink(exe);
    /* AM too small for any tile of the first convolution. */
    CU_ASSERT_EQUAL(run((const char *[]){model_file("vgg_cifar", "model.onnx"), "--machine", "am_bytes=4096",
                                         "-o", c, NULL}),
                    1);
    CU_ASSERT_FALSE(exists(c));
    CU_ASSERT_FALSE(exists(scratch_file("bad.h")));
    CU_ASSERT_FALSE(exists(scratch_file("bad.weights")));
    CU_ASSERT_EQUAL(run((const char *[]){model_file("vgg_cifar", "model.onnx"), "--machine", "am_bytes=4096",
                                         "-o", exe, NULL}),
                    1);
    CU_ASSERT_FALSE(exists(exe));
    CU_ASSERT_FALSE(exists(scratch_file("bad_exe.weights")));
}

/* --validate checks a hand-written kernel file on its own. */
static void test_validate_mode(void) {
    char good[600], bad[600];
    snprintf(good, sizeof good, "%s/../validate/data/good_conv.c", models);
    snprintf(bad, sizeof bad, "%s/../validate/data/bad_float.c", models);
    CU_ASSERT_EQUAL(run((const char *[]){"--validate", good, NULL}), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "clean"));
    CU_ASSERT_EQUAL(run((const char *[]){"--validate", bad, NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "float-op"));
    /* the same file on a machine with a tiny AM breaks the capacity rule */
    CU_ASSERT_EQUAL(run((const char *[]){"--validate", good, "--machine", "am_bytes=4096", NULL}), 1);
    CU_ASSERT_EQUAL(run((const char *[]){"--validate", scratch_file("missing.c"), NULL}), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "missing.c"));
    CU_ASSERT_EQUAL(run((const char *[]){"m.onnx", "--validate", good, NULL}), 2);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: test_cli M7CC SCRATCH_DIR NODE_DATA_DIR MODELS_DIR\n");
        return 2;
    }
    m7cc = argv[1];
    scratch = argv[2];
    node_data = argv[3];
    models = argv[4];
    mkdir(scratch, 0755);
    static const TestCase tests[] = {
        {"usage errors", test_usage},
        {"bad model files", test_bad_model_files},
        {"every unsupported op is listed", test_unsupported_ops_listed},
        {"interpret matches ONNX test data", test_interpret_matches_onnx},
        {"interpret rejects wrong inputs", test_interpret_wrong_input},
        {"compile to C", test_compile_to_c},
        {"compile to an executable", test_compile_to_executable},
        {"a failed compile leaves nothing", test_failed_compile_leaves_nothing},
        {"--no-double-buffer, --no-weight-sharing", test_backend_options_off},
        {"--validate", test_validate_mode},
        {NULL, NULL},
    };
    return cunit_run("cli", tests);
}
