/* test_machine.c: the machine description: defaults of MACHINE.md,
 * overrides by name, clear errors, and format round-tripping. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/m7_machine.h"

static void test_defaults(void) {
    M7Machine m;
    m7_machine_default(&m);
    CU_ASSERT_EQUAL(m.cores, 4);
    CU_ASSERT_EQUAL(m.issue_width, 11);
    CU_ASSERT_EQUAL(m.window, 1);
    CU_ASSERT_EQUAL(m.n_vmac, 3);
    CU_ASSERT_EQUAL(m.lat_fma, 6);
    CU_ASSERT_EQUAL(m.lat_vload, 9);
    CU_ASSERT_EQUAL(m.am_bytes, 768 * 1024);
    CU_ASSERT_EQUAL(m.gsm_bytes, 6 * 1024 * 1024);
    CU_ASSERT_EQUAL(m.ddr_bytes, INT64_C(16) << 30);
    CU_ASSERT_DOUBLE_EQUAL(m.ddr_bw, 32.0 / 1.8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m7_machine_peak_flops_per_cycle(&m), 192, 0);
}

static void test_overrides(void) {
    M7Machine m;
    char err[256];
    m7_machine_default(&m);
    CU_ASSERT_EQUAL(m7_machine_apply_list(&m, " cores = 8, am_bytes=512K ,ddr_bw=10.5,", err, sizeof err), 0);
    CU_ASSERT_EQUAL(m.cores, 8);
    CU_ASSERT_EQUAL(m.am_bytes, 512 * 1024);
    CU_ASSERT_DOUBLE_EQUAL(m.ddr_bw, 10.5, 0);
    CU_ASSERT_EQUAL(m7_machine_apply_list(&m, "", err, sizeof err), 0);

    const char *bad[][2] = {
        {"corez=4", "unknown machine key 'corez'"},
        {"cores=four", "not a number"},
        {"cores=2.5", "not an integer"},
        {"cores=0", "out of range"},
        {"lanes=16", "fixed at 32"},
        {"window", "key=value"},
        {"reduce_busy=30", "exceeds lat_reduce"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        M7Machine k;
        m7_machine_default(&k);
        err[0] = 0;
        CU_ASSERT_EQUAL(m7_machine_apply_list(&k, bad[i][0], err, sizeof err), -1);
        CU_ASSERT(strstr(err, bad[i][1]) != NULL);
    }
}

static void test_format_roundtrip(void) {
    M7Machine a, b;
    char buf[2048], err[256];
    m7_machine_default(&a);
    CU_ASSERT_EQUAL(m7_machine_apply_list(&a, "ddr_bw=3.3333333333333335,cores=2,gsm_bytes=1M", err, sizeof err), 0);
    m7_machine_format(&a, buf, sizeof buf);
    CU_ASSERT(strstr(buf, "cores=2,") != NULL);
    m7_machine_default(&b);
    CU_ASSERT_EQUAL(m7_machine_apply_list(&b, buf, err, sizeof err), 0);
    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
}

static void test_file(void) {
    char path[] = "/tmp/m7machineXXXXXX", err[512];
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# a machine with 8 cores\ncores = 8\n\n  lat_fma=4 # faster\n");
    fclose(f);
    M7Machine m;
    m7_machine_default(&m);
    CU_ASSERT_EQUAL(m7_machine_apply_file(&m, path, err, sizeof err), 0);
    CU_ASSERT_EQUAL(m.cores, 8);
    CU_ASSERT_EQUAL(m.lat_fma, 4);
    f = fopen(path, "w");
    fprintf(f, "cores = 8\nwindow = -1\n");
    fclose(f);
    CU_ASSERT_EQUAL(m7_machine_apply_file(&m, path, err, sizeof err), -1);
    CU_ASSERT(strstr(err, ":2:") != NULL && strstr(err, "window") != NULL);
    unlink(path);
    CU_ASSERT_EQUAL(m7_machine_apply_file(&m, path, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "cannot open") != NULL);
}

int main(void) {
    static const TestCase tests[] = {
        {"defaults of MACHINE.md", test_defaults},
        {"overrides and errors", test_overrides},
        {"format round-trips", test_format_roundtrip},
        {"machine files", test_file},
        {NULL, NULL},
    };
    return cunit_run("machine", tests);
}
