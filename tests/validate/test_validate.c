/* test_validate.c: the libclang validator (validate/validate.h).
 *
 * data/good_conv.c, a kernel as the code generator writes it, passes cleanly
 * and also runs right on the simulator (it is linked into this program).
 * Each planted bad file marks its problems with `// EXPECT rule` on the line
 * where they must be reported; the report must name exactly those. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/m7sim.h"
#include "validate/validate.h"

static const char *data_dir;

/* Validates data/<name> with limits lim (NULL: defaults); the report is
 * returned in a malloc'ed string. */
static int run(const char *name, const ValidateLimits *lim, char **report) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    size_t len;
    FILE *f = open_memstream(report, &len);
    int rc = validate_c_file(path, lim, f);
    fclose(f);
    return rc;
}

/* Whether report has a line "<name>:<line>:<col>: <sev>: <rule>: ". */
static int reported(const char *report, const char *name, int line, const char *rule) {
    char key[256], tag[80];
    snprintf(key, sizeof key, "/%s:%d:", name, line);
    snprintf(tag, sizeof tag, ": %s: ", rule);
    for (const char *p = strstr(report, key); p; p = strstr(p + 1, key)) {
        const char *eol = strchr(p, '\n'), *r = strstr(p, tag);
        if (r && (!eol || r < eol))
            return 1;
    }
    return 0;
}

static int problem_lines(const char *report) {
    int n = 0;
    for (const char *p = report; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        n += strstr(line, ": error: ") || strstr(line, ": warning: ");
        p += len + (eol != NULL);
    }
    return n;
}

/* The number of the first line of data/<name> that contains text. */
static int line_of(const char *name, const char *text) {
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    FILE *f = fopen(path, "r");
    int n = 1;
    while (f && fgets(line, sizeof line, f) && !strstr(line, text))
        n++;
    if (f)
        fclose(f);
    return n;
}

/* The file's `// EXPECT rule` markers are exactly the report's problems. */
static void check_bad(const char *name) {
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *report;
    int rc = run(name, NULL, &report);
    CU_ASSERT_EQUAL(rc, -1);
    int expected = 0;
    for (int n = 1; fgets(line, sizeof line, f); n++) {
        char *m = strstr(line, "// EXPECT ");
        if (!m)
            continue;
        char rule[64];
        CU_ASSERT_EQUAL_FATAL(sscanf(m + 10, "%63s", rule), 1);
        expected++;
        if (!reported(report, name, n, rule)) {
            fprintf(stderr, "\n%s:%d: expected a '%s' problem; report:\n%s", name, n, rule, report);
            CU_FAIL("expected problem not reported");
        }
    }
    fclose(f);
    CU_ASSERT(expected > 0);
    if (problem_lines(report) != expected) {
        fprintf(stderr, "\n%s: %d problems expected; report:\n%s", name, expected, report);
        CU_FAIL("unexpected problems reported");
    }
    free(report);
}

static void test_good(void) {
    char *report;
    CU_ASSERT_EQUAL(run("good_conv.c", NULL, &report), 0);
    CU_ASSERT_STRING_EQUAL(report, "");
    if (*report)
        fprintf(stderr, "\n%s", report);
    free(report);
}

/* The good file is a real kernel: its result on the simulator is the
 * convolution computed here in the same order (exact FMA rounding). */
static void test_good_runs(void) {
    enum { C = 4, H = 8, W = 8, K = 32 };
    const m7_program *p = &m7_main_program;
    M7Machine m;
    m7_machine_default(&m);
    char err[256];
    M7Sim *s = m7sim_new(&m, p->ddr_bytes, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    float *w = (float *)m7sim_host_ptr(s, M7_DDR(p->weights_ddr_offset), 0, p->weights_bytes);
    float *x = (float *)m7sim_host_ptr(s, M7_DDR(p->inputs[0].ddr_offset), 0, C * H * W * 4);
    float *y = (float *)m7sim_host_ptr(s, M7_DDR(p->outputs[0].ddr_offset), 0, K * H * W * 4);
    CU_ASSERT_FATAL(w && x && y && p->weights_bytes == C * 9 * K * 4);
    srand(7);
    for (int i = 0; i < C * 9 * K; i++)
        w[i] = (float)(rand() % 17 - 8) / 8;
    for (int i = 0; i < C * H * W; i++)
        x[i] = (float)(rand() % 13 - 6) / 4;
    CU_ASSERT_EQUAL_FATAL(m7sim_run(s, p->kernel), 0);
    int bad = 0;
    for (int k = 0; k < K; k++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                float acc = 0;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = i + ky - 1, ix = j + kx - 1;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                acc = fmaf(w[((c * 3 + ky) * 3 + kx) * K + k], x[(c * H + iy) * W + ix], acc);
                        }
                bad += y[(k * H + i) * W + j] != fmaxf(acc, 0);
            }
    CU_ASSERT_EQUAL(bad, 0);
    m7sim_free(s);
}

/* The limits are parameters: a smaller machine rejects the good file. */
static void test_limits(void) {
    M7Machine m;
    m7_machine_default(&m);
    m.am_bytes = 4096; /* good_conv declares 6656 and loads 4608 B of weights */
    m.vregs = 40;      /* conv1 keeps 45 vectors and a temporary */
    ValidateLimits lim;
    validate_limits(&lim, &m);
    char *report;
    CU_ASSERT_EQUAL(run("good_conv.c", &lim, &report), -1);
    CU_ASSERT(reported(report, "good_conv.c", line_of("good_conv.c", "#define CONV1_AM_BYTES"), "mem-decl"));
    CU_ASSERT(strstr(report, "vregs: function 'conv1' has up to 46 m7_vec values") != NULL);
    CU_ASSERT(reported(report, "good_conv.c", line_of("good_conv.c", "m7_dma_bcast("), "mem-addr"));
    CU_ASSERT_EQUAL(problem_lines(report), 3);
    free(report);
}

static void test_syntax(void) { check_bad("bad_syntax.c"); }
static void test_unused(void) {
    check_bad("bad_unused.c");
    char *report;
    run("bad_unused.c", NULL, &report);
    CU_ASSERT(strstr(report, ": warning: clang: unused variable 'unused'") != NULL);
    free(report);
}
static void test_libc(void) { check_bad("bad_libc.c"); }
static void test_float(void) { check_bad("bad_float.c"); }
static void test_cast(void) { check_bad("bad_cast.c"); }
static void test_private(void) { check_bad("bad_private.c"); }
static void test_vregs(void) { check_bad("bad_vregs.c"); }
static void test_am_addr(void) { check_bad("bad_am_addr.c"); }
static void test_am_decl(void) { check_bad("bad_am_decl.c"); }
static void test_more(void) { check_bad("bad_more.c"); }

static void test_bad_input(void) {
    char *report;
    CU_ASSERT_EQUAL(run("no_such_file.c", NULL, &report), -1);
    CU_ASSERT(strstr(report, "no_such_file.c: error: io: cannot read the file: No such file") != NULL);
    free(report);

    CU_ASSERT_EQUAL(run(".", NULL, &report), -1);
    CU_ASSERT(strstr(report, "/.: error: io: cannot read the file: not a regular file") != NULL);
    free(report);

    CU_ASSERT_EQUAL(run("no_runtime.c", NULL, &report), -1);
    CU_ASSERT(strstr(report, "no_runtime.c: error: runtime: the file does not include m7rt.h") != NULL);
    free(report);

    ValidateLimits lim;
    validate_limits(&lim, NULL);
    lim.runtime_include = "/nonexistent/runtime";
    CU_ASSERT_EQUAL(run("good_conv.c", &lim, &report), -1);
    CU_ASSERT(strstr(report, "error: runtime: cannot read /nonexistent/runtime/m7rt.h") != NULL);
    free(report);
}

static int copy(const char *from, const char *to, const char *extra) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ch, ok = in && out;
    while (ok && (ch = getc(in)) != EOF)
        putc(ch, out);
    if (out && extra)
        fputs(extra, out);
    if (in)
        fclose(in);
    return out && !fclose(out) && ok;
}

/* A generated file may sit next to its own copy of m7rt.h: an identical
 * copy is the runtime, a different one is refused. */
static void test_runtime_copy(void) {
    char dir[] = "/tmp/m7validateXXXXXX", src[1024], rt[1024], c[128], h[128];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    ValidateLimits lim;
    validate_limits(&lim, NULL);
    snprintf(src, sizeof src, "%s/good_conv.c", data_dir);
    snprintf(rt, sizeof rt, "%s/m7rt.h", lim.runtime_include);
    snprintf(c, sizeof c, "%s/good_conv.c", dir);
    snprintf(h, sizeof h, "%s/m7rt.h", dir);
    CU_ASSERT_FATAL(copy(src, c, NULL) && copy(rt, h, NULL));
    size_t len;
    char *report;
    FILE *f = open_memstream(&report, &len);
    CU_ASSERT_EQUAL(validate_c_file(c, &lim, f), 0);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(report, "");
    free(report);

    CU_ASSERT_FATAL(copy(rt, h, "void m7_vextra(void);\n"));
    f = open_memstream(&report, &len);
    CU_ASSERT_EQUAL(validate_c_file(c, &lim, f), -1);
    fclose(f);
    CU_ASSERT(strstr(report, "error: runtime: the file includes") != NULL);
    CU_ASSERT(strstr(report, "which differs from the runtime's") != NULL);
    free(report);
    remove(c);
    remove(h);
    remove(dir);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    static const TestCase tests[] = {
        {"good kernel passes", test_good},
        {"good kernel runs right", test_good_runs},
        {"machine limits", test_limits},
        {"syntax error", test_syntax},
        {"warning", test_unused},
        {"libc calls", test_libc},
        {"float arithmetic", test_float},
        {"address cast", test_cast},
        {"private members", test_private},
        {"65 live vectors", test_vregs},
        {"AM address", test_am_addr},
        {"declared use", test_am_decl},
        {"other rules", test_more},
        {"bad input", test_bad_input},
        {"copy of m7rt.h", test_runtime_copy},
        {NULL, NULL},
    };
    return cunit_run("validate", tests);
}
