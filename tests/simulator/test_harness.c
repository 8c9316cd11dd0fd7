/* test_harness.c: the harness main() of a generated program (m7sim_main),
 * driven with command lines: weights, inputs, outputs, --expect, reports,
 * and a clear failure on each kind of bad input, on the program of
 * prog_tiny.c. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simulator/m7sim.h"
#include "runtime/tensor_file.h"

extern int tiny_bug; /* prog_tiny.c: plants a race when set */
extern char tiny_weights[64];

static char dir[] = "/tmp/m7harnessXXXXXX";
static char path_x[128], path_y[128], path_e[128], path_bad[128], path_json[128], path_trace[128];

static int run(const char *a0, ...) {
    const char *argv[32] = {"tiny"};
    int argc = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    return m7sim_main(argc, (char **)argv, &m7_main_program);
}

static int write_tensor(const char *path, int rank, int64_t d0, int64_t d1, const float *v) {
    M7Tensor t = {0};
    t.name = "x";
    t.elem_type = M7_ELEM_FLOAT;
    t.rank = rank;
    t.dims[0] = d0, t.dims[1] = d1;
    t.numel = d0 * (rank > 1 ? d1 : 1);
    t.f32 = (float *)v;
    char err[256];
    return m7_tensor_write(path, &t, err, sizeof err);
}

static int setup(void) {
    if (!mkdtemp(dir))
        return -1;
    snprintf(tiny_weights, sizeof tiny_weights, "%s/w.bin", dir);
    snprintf(path_x, sizeof path_x, "%s/x.npy", dir);
    snprintf(path_y, sizeof path_y, "%s/y.pb", dir);
    snprintf(path_e, sizeof path_e, "%s/e.pb", dir);
    snprintf(path_bad, sizeof path_bad, "%s/bad.npy", dir);
    snprintf(path_json, sizeof path_json, "%s/r.json", dir);
    snprintf(path_trace, sizeof path_trace, "%s/t.json", dir);
    float w[64], x[64], e[64];
    for (int i = 0; i < 64; i++)
        w[i] = (float)i / 4, x[i] = 2.0f - (float)i, e[i] = x[i] * w[i] + 1; /* exact */
    FILE *f = fopen(tiny_weights, "wb");
    if (!f || fwrite(w, 4, 64, f) != 64 || fclose(f))
        return -1;
    return write_tensor(path_x, 2, 1, 64, x) | write_tensor(path_e, 2, 1, 64, e) |
           write_tensor(path_bad, 2, 2, 32, x);
}

static int teardown(void) {
    const char *all[] = {tiny_weights, path_x, path_y, path_e, path_bad, path_json, path_trace};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        unlink(all[i]);
    rmdir(dir);
    return 0;
}

static void test_run(void) {
    tiny_bug = 0;
    CU_ASSERT_EQUAL(run("-i", path_x, "-o", path_y, "--expect", path_e, "--json", path_json,
                        "--trace", path_trace, "--threads", "1", NULL), 0);
    M7Tensor y;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(m7_tensor_read(path_y, &y, err, sizeof err), 0);
    CU_ASSERT_EQUAL(y.numel, 64);
    CU_ASSERT_EQUAL(y.f32[3], (2.0f - 3) * 0.75f + 1);
    m7_tensor_free(&y);
    FILE *f = fopen(path_json, "r");
    CU_ASSERT_FATAL(f != NULL);
    char buf[4096] = {0};
    CU_ASSERT(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    CU_ASSERT(strstr(buf, "\"name\": \"mul_add\"") != NULL);
    CU_ASSERT(strstr(buf, "\"useful_flops\": 128") != NULL);
    f = fopen(path_trace, "r");
    CU_ASSERT_FATAL(f != NULL);
    memset(buf, 0, sizeof buf);
    CU_ASSERT(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    CU_ASSERT(strstr(buf, "\"traceEvents\"") != NULL && strstr(buf, "DMA ch 2") != NULL);
}

static void test_failures(void) {
    tiny_bug = 0;
    printf("\n");
    /* the outputs differ from --expect: x given as expected */
    CU_ASSERT_EQUAL(run("-i", path_x, "--expect", path_x, "--quiet", NULL), 1);
    /* wrong input shape, missing input, unknown option, bad machine key */
    CU_ASSERT_EQUAL(run("-i", path_bad, NULL), 2);
    CU_ASSERT_EQUAL(run(NULL), 2);
    CU_ASSERT_EQUAL(run("-i", path_x, "--frobnicate", "1", NULL), 2);
    CU_ASSERT_EQUAL(run("-i", path_x, "--machine", "lat_fma=zero", NULL), 2);
    CU_ASSERT_EQUAL(run("-i", path_x, "--weights", "/nonexistent/w.bin", NULL), 2);
    CU_ASSERT_EQUAL(run("-i", path_x, "--weights", path_x, NULL), 2); /* wrong size */
    CU_ASSERT_EQUAL(run("-i", "/nonexistent.npy", NULL), 2);
    /* a planted race: the run stops, exit 1 */
    tiny_bug = 1;
    CU_ASSERT_EQUAL(run("-i", path_x, "--quiet", NULL), 1);
    tiny_bug = 0;
}

int main(void) {
    static const TestCase tests[] = {
        {"weights, inputs, outputs, expect, json, trace", test_run},
        {"bad input and failing runs exit non-zero", test_failures},
        {NULL, NULL},
    };
    if (setup())
        return 1;
    int rc = cunit_run("harness", tests);
    teardown();
    return rc;
}
